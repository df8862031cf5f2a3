/**
 * Equality for laws. Floating-point laws hold up to rounding, so the `Eq` instances here
 * are tolerance-aware: a and b are equal when |a − b| ≤ atol + rtol·max(|a|, |b|), with NaN
 * equal to NaN and an infinity equal only to itself. (Such an Eq is reflexive and symmetric
 * but not transitive; the laws only ever compare two sides of one equation.) `deepEqual` is
 * the exact structural equality the codec and optimizer laws need: numbers by `Object.is`
 * (so NaN = NaN and −0 ≠ 0), tensors by shape, dtype and every bit of every element.
 *
 * Purity: all comparisons are pure.
 */
import type { Eq } from 'fp-ts/lib/Eq.js'
import { Tensor, tree } from '../src/index.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/** Numbers equal within atol + rtol·max(|a|, |b|). @category instances @since 0.1.0 */
export const eqNumber = (atol = 1e-9, rtol = 1e-9): Eq<number> => ({
  equals: (a, b) => {
    if (Object.is(a, b) || a === b) return true
    if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(a) || !Number.isFinite(b)) return false
    return Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b))
  },
})

/** Tensors of the same shape whose elements are equal within tolerance. @category instances @since 0.1.0 */
export const eqTensor = (atol = 1e-9, rtol = 1e-9): Eq<Tensor> => {
  const n = eqNumber(atol, rtol)
  return {
    equals: (a, b) => {
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false
      const av = a.toTypedArray()
      const bv = b.toTypedArray()
      return av.every((x, i) => n.equals(x, bv[i] as number))
    },
  }
}

/** Trees of the same structure whose leaves (numbers or tensors) are equal within tolerance. @category instances @since 0.1.0 */
export const eqTree = <T = unknown>(atol = 1e-9, rtol = 1e-9): Eq<T> => {
  const n = eqNumber(atol, rtol)
  const t = eqTensor(atol, rtol)
  return {
    equals: (a, b) => {
      const [la, da] = tree.flatten(a)
      const [lb, db] = tree.flatten(b)
      try {
        tree.assertSameStructure(da, db, 'eqTree')
      } catch {
        return false
      }
      return la.every((x, i) => {
        const y = lb[i]
        if (typeof x === 'number' && typeof y === 'number') return n.equals(x, y)
        const tx = typeof x === 'number' ? null : x
        const ty = typeof y === 'number' || y === undefined ? null : y
        if (tx !== null && ty !== null) return t.equals(tx, ty)
        // a number against a one-element tensor
        const xv = typeof x === 'number' ? x : x.size === 1 ? x.item() : NaN
        const yv = typeof y === 'number' ? y : y !== undefined && y.size === 1 ? y.item() : NaN
        return n.equals(xv, yv)
      })
    },
  }
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const isPlainRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor) && !ArrayBuffer.isView(x)

/**
 * Exact structural equality: numbers by `Object.is`, tensors by shape, dtype and bits,
 * typed arrays element by element, arrays and plain records recursively (same keys).
 * @category utils
 * @since 0.1.0
 */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b)
  if (a instanceof Tensor || b instanceof Tensor) {
    if (!(a instanceof Tensor && b instanceof Tensor)) return false
    return a.dtype === b.dtype && deepEqual(a.shape, b.shape) && deepEqual(a.toTypedArray(), b.toTypedArray())
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) || a.constructor !== b.constructor) return false
    const x = a as unknown as ArrayLike<unknown>
    const y = b as unknown as ArrayLike<unknown>
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false
    return true
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false
    return a.every((x, i) => deepEqual(x, b[i]))
  }
  if (isPlainRecord(a) && isPlainRecord(b)) {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return deepEqual(ka, kb) && ka.every((k) => deepEqual(a[k], b[k]))
  }
  return Object.is(a, b)
}

/**
 * A deep copy of a value made of numbers, strings, booleans, tensors (copied to plain
 * arrays with their shape and dtype), typed arrays, arrays and plain records: what a value
 * looked like at a moment, to compare against later with `deepEqual`.
 * @category utils
 * @since 0.1.0
 */
export const snapshot = (x: unknown): unknown => {
  if (x instanceof Tensor)
    return { tensor: true, shape: [...x.shape], dtype: x.dtype, data: Array.from(x.toTypedArray()) }
  if (ArrayBuffer.isView(x))
    return { typedArray: x.constructor.name, data: Array.from(x as unknown as ArrayLike<number>) }
  if (Array.isArray(x)) return x.map(snapshot)
  if (isPlainRecord(x)) return Object.fromEntries(Object.keys(x).map((k) => [k, snapshot(x[k])]))
  return x
}
