/**
 * Test helpers for io: exact structural equality of trees (NaN equals NaN, -0 differs from
 * 0, dtypes and shapes must agree), fast-check arbitraries of tensors and trees, and
 * temporary directories under `os.tmpdir()`.
 */
import * as fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tensor, fromData } from '../../src/tensor/Tensor.js'
import type { ConcreteTensor } from '../../src/tensor/Tensor.js'
import type { DType } from '../../src/tensor/Tensor.js'
import type { Tree } from '../../src/tree/Tree.js'

/** Where two trees first differ, or undefined if they are identical (bit-exact values, NaN = NaN). */
export const treeDiff = (a: unknown, b: unknown, path = ''): string | undefined => {
  if (a instanceof Tensor || b instanceof Tensor) {
    if (!(a instanceof Tensor && b instanceof Tensor)) return `${path}: tensor vs non-tensor`
    if (a.dtype !== b.dtype) return `${path}: dtype ${a.dtype} vs ${b.dtype}`
    if (a.shape.join() !== b.shape.join()) return `${path}: shape [${a.shape}] vs [${b.shape}]`
    const x = a.toTypedArray()
    const y = b.toTypedArray()
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${path}.data[${i}]: ${x[i]} vs ${y[i]}`
    return undefined
  }
  if (typeof a === 'number' || typeof b === 'number')
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b))) return `${path}: array vs non-array`
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`
    for (let i = 0; i < a.length; i++) {
      const d = treeDiff(a[i], b[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys [${ka}] vs [${kb}]`
    for (const k of ka) {
      const d = treeDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
      if (d !== undefined) return d
    }
    return undefined
  }
  return `${path}: ${String(a)} vs ${String(b)}`
}

/** Every array and record in the tree (not the tensors) is frozen. */
export const deepFrozen = (t: unknown): boolean => {
  if (t instanceof Tensor || typeof t !== 'object' || t === null) return true
  if (!Object.isFrozen(t)) return false
  return Object.values(t).every(deepFrozen)
}

/** Values of a dtype including NaN, ±Infinity and -0 (fast-check's defaults include them). */
export const value = (dtype: DType): fc.Arbitrary<number> => (dtype === 'float32' ? fc.float() : fc.double())

export const arbShape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 })

/** Tensors of either dtype, rank 0 to 3, values including the specials. */
export const arbTensor: fc.Arbitrary<ConcreteTensor> = fc
  .tuple(fc.constantFrom<DType>('float64', 'float32'), arbShape)
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1)
    return fc.array(value(dtype), { minLength: n, maxLength: n }).map((xs) => fromData(xs, shape, dtype))
  })

/** Record keys, including ones that are not identifiers, `__proto__`, and the tensor field names. */
export const arbKey = fc.oneof(
  fc.constantFrom('w', 'b', 'layers', 'a b', '0', '__proto__', 'x.y', '["q"]', 'é', '', 'dtype', 'shape', 'data'),
  fc.string({ maxLength: 5 }),
)

const record = (v: fc.Arbitrary<Tree>, minKeys = 0): fc.Arbitrary<Tree> =>
  fc
    .uniqueArray(fc.tuple(arbKey, v), { selector: ([k]) => k, minLength: minKeys, maxLength: 4 })
    .map((es) => Object.fromEntries(es))

/** Any tree: tensors and numbers (with specials) in arrays and records, empty ones included. */
export const arbTree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbTensor,
    fc.double(),
    fc.array(tie('tree'), { maxLength: 3 }),
    record(tie('tree')),
  ),
})).tree

/**
 * Trees safetensors stores exactly: tensor leaves only, no empty arrays or records, and no
 * top-level key `__metadata__` (reserved).
 */
export const arbTensorTree: fc.Arbitrary<Tree> = fc
  .letrec<{ tree: Tree; node: Tree }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, arbTensor, tie('node')),
    node: fc.oneof(fc.array(tie('tree'), { minLength: 1, maxLength: 3 }), record(tie('tree'), 1)),
  }))
  .tree.filter(
    (t) =>
      !(
        typeof t === 'object' &&
        !(t instanceof Tensor) &&
        !Array.isArray(t) &&
        Object.prototype.hasOwnProperty.call(t, '__metadata__')
      ),
  )

/** A fresh directory under the system temporary directory, and a function that removes it. */
export const tempDir = (): { dir: string; path: (name: string) => string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-io-'))
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
