/**
 * Locating a disagreement. The laws compare two numbers that are both linear in a direction
 * v (an automatic and a numeric derivative, or two automatic ones), so the error along v is
 * the sum of the errors of v's pieces. `localize` restricts v to each leaf, keeps the leaf
 * with the worst error-to-tolerance ratio, bisects its elements the same way, and measures
 * the last element alone along its basis vector: O(log n) measurements to name the key path
 * of the parameter element responsible.
 *
 * Purity: every measurement gets a fresh direction vector.
 */
import type { Flat } from './flat.js'
import { elementPath } from './flat.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Two values to compare and the magnitude their rounding is relative to. @category model @since 0.1.0 */
export interface Measure {
  readonly expected: number
  readonly actual: number
  readonly scale: number
}

/** A tolerance: |actual − expected| ≤ atol + rtol·scale. @category model @since 0.1.0 */
export interface Tol {
  readonly atol: number
  readonly rtol: number
}

/** Where `localize` found the disagreement. @category model @since 0.1.0 */
export interface Located {
  readonly path: string
  readonly index: number
  readonly direction: 'basis' | 'random'
  readonly dir: Float64Array
  readonly m: Measure
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** atol + rtol·scale. @category utils @since 0.1.0 */
export const tolOf = (m: Measure, t: Tol): number => t.atol + t.rtol * m.scale

/** error / tolerance; NaN or an infinite disagreement counts as infinitely bad (equal values, NaN included, as 0). @category utils @since 0.1.0 */
export const ratioOf = (expected: number, actual: number, tol: number): number => {
  if (Object.is(expected, actual) || expected === actual) return 0
  const err = Math.abs(actual - expected)
  return Number.isFinite(err) ? err / tol : Infinity
}

/** Whether a measure is outside its tolerance. @category utils @since 0.1.0 */
export const fails = (m: Measure, t: Tol): boolean => ratioOf(m.expected, m.actual, tolOf(m, t)) > 1

const restrict = (v: Float64Array, lo: number, hi: number): Float64Array => {
  const out = new Float64Array(v.length)
  out.set(v.subarray(lo, hi), lo)
  return out
}

/** The basis vector e_j of length n. @category utils @since 0.1.0 */
export const basis = (n: number, j: number): Float64Array => {
  const out = new Float64Array(n)
  out[j] = 1
  return out
}

/**
 * Find the input element responsible for a disagreement of `measure` along `v` (see the
 * module header).
 * @category utils
 * @since 0.1.0
 */
export const localize = (xf: Flat, v: Float64Array, measure: (dir: Float64Array) => Measure, t: Tol): Located => {
  const score = (dir: Float64Array) => {
    const m = measure(dir)
    return { m, dir, r: ratioOf(m.expected, m.actual, tolOf(m, t)) }
  }
  let best: { lo: number; hi: number; s: ReturnType<typeof score> } | null = null
  for (const leaf of xf.leaves) {
    if (leaf.size === 0) continue
    const s = score(restrict(v, leaf.offset, leaf.offset + leaf.size))
    if (best === null || s.r > best.s.r) best = { lo: leaf.offset, hi: leaf.offset + leaf.size, s }
  }
  if (best === null) throw new RangeError('localize: the input has no elements')
  let lastFailing = best.s.r > 1 ? best : null
  while (best.hi - best.lo > 1) {
    const mid: number = (best.lo + best.hi) >> 1
    const a = score(restrict(v, best.lo, mid))
    const b = score(restrict(v, mid, best.hi))
    best = a.r >= b.r ? { lo: best.lo, hi: mid, s: a } : { lo: mid, hi: best.hi, s: b }
    if (best.s.r > 1) lastFailing = best
  }
  const e = score(basis(v.length, best.lo))
  if (e.r > 1 || lastFailing === null) return { path: elementPath(xf, best.lo), index: best.lo, direction: 'basis', dir: e.dir, m: e.m }
  // the element alone is within tolerance (errors of several elements added up): report
  // the smallest random piece that still fails, under the path of its first element
  return { path: elementPath(xf, lastFailing.lo), index: lastFailing.lo, direction: 'random', dir: lastFailing.s.dir, m: lastFailing.s.m }
}
