/**
 * Trees as flat float64 vectors, for the checks: a law compares inner products and
 * elements, so it reads every leaf into one vector, and builds directions back into trees
 * of the same structure, leaf dtypes and number leaves. Element key paths name one scalar
 * of a leaf the way a user indexes it: `head.w[0][2]`.
 *
 * Purity: vectors are fresh copies; rebuilt trees are frozen.
 */
import { Tensor, fromData, tree } from '../src/index.js'
import type { DType, Shape, TreeDef } from '../src/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One leaf of a flattened tree. @category model @since 0.1.0 */
export interface LeafInfo {
  readonly path: string
  readonly kind: 'tensor' | 'number'
  readonly shape: Shape
  readonly dtype: DType
  readonly offset: number
  readonly size: number
}

/** A tree as a float64 vector plus its structure. @category model @since 0.1.0 */
export interface Flat {
  readonly def: TreeDef
  readonly leaves: ReadonlyArray<LeafInfo>
  readonly values: Float64Array
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Read a tree into a vector (leaves in `flatten` order). @category constructors @since 0.1.0 */
export const toFlat = (t: unknown, op = 'laws'): Flat => {
  const [leaves, def] = tree.flatten(t, op)
  const paths = tree.keyPaths(def)
  const infos: LeafInfo[] = []
  let offset = 0
  leaves.forEach((l, i) => {
    const info: LeafInfo =
      typeof l === 'number'
        ? { path: paths[i] as string, kind: 'number', shape: [], dtype: 'float64', offset, size: 1 }
        : { path: paths[i] as string, kind: 'tensor', shape: l.shape, dtype: l.dtype, offset, size: l.size }
    infos.push(info)
    offset += info.size
  })
  const values = new Float64Array(offset)
  leaves.forEach((l, i) => {
    const info = infos[i] as LeafInfo
    if (typeof l === 'number') values[info.offset] = l
    else values.set((l as Tensor).toTypedArray(), info.offset)
  })
  return { def, leaves: infos, values }
}

/** A tree with `like`'s structure, dtypes and number leaves, holding `values`. @category constructors @since 0.1.0 */
export const fromFlat = <T>(like: Flat, values: ArrayLike<number>): T =>
  tree.unflatten<T>(
    like.def,
    like.leaves.map((info) =>
      info.kind === 'number'
        ? (values[info.offset] as number)
        : fromData(
            Array.prototype.slice.call(values, info.offset, info.offset + info.size) as number[],
            info.shape,
            info.dtype,
          ),
    ),
  )

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The leaf holding flat element `j`. @category utils @since 0.1.0 */
export const leafAt = (fl: Flat, j: number): LeafInfo => {
  for (const l of fl.leaves) if (j >= l.offset && j < l.offset + l.size) return l
  throw new RangeError(`element ${j} is outside the tree (${fl.values.length} elements)`)
}

/** Multi-index of flat position `k` within a shape (row-major). @category utils @since 0.1.0 */
export const unravel = (shape: Shape, k: number): number[] => {
  const idx = new Array<number>(shape.length)
  let r = k
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a] as number
    idx[a] = r % d
    r = Math.floor(r / d)
  }
  return idx
}

/** The key path of flat element `j`: the leaf's path plus its index, e.g. `head.b[1]`. @category utils @since 0.1.0 */
export const elementPath = (fl: Flat, j: number): string => {
  const l = leafAt(fl, j)
  const idx = unravel(l.shape, j - l.offset)
    .map((i) => `[${i}]`)
    .join('')
  const p = `${l.path}${idx}`
  return p === '' ? '<root>' : p
}

/** Σ aᵢbᵢ. @category utils @since 0.1.0 */
export const dotV = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

/** Σ |aᵢbᵢ|: the scale an inner product's rounding error is relative to. @category utils @since 0.1.0 */
export const absDotV = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) * (b[i] as number))
  return s
}

/** The lowest precision among a tree's leaves. @category utils @since 0.1.0 */
export const dtypeOfFlat = (...fls: ReadonlyArray<Flat>): DType =>
  fls.some((f) => f.leaves.some((l) => l.dtype === 'float32')) ? 'float32' : 'float64'
