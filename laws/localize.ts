/**
 * Locating a disagreement. The laws compare two numbers that are both linear in a direction
 * v (an automatic and a numeric derivative, or two automatic ones), so the error along v is
 * the sum of the errors of v's pieces. `localize` restricts v to each leaf, keeps the leaf
 * with the worst error-to-tolerance ratio, bisects its elements the same way, and measures
 * the last element alone along its basis vector: O(log n) measurements to name the key path
 * of the parameter element responsible.
 *
 * What it reports is always a measurement that fails (error > tolerance): the basis vector
 * of that element if it fails alone; otherwise the smallest piece of v that still fails
 * (errors of several elements added up); and if no piece fails on its own (the error is
 * spread over several leaves, each within tolerance), the whole of v, under the path of the
 * element the bisection ends at (the largest contributor it found).
 *
 * Purity: every measurement gets a fresh direction vector.
 */
import type { Flat } from './flat.js'
import { elementPath } from './flat.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Two values to compare, the magnitude their rounding is relative to, and (for a numeric
 * side) the rounding-noise floor below which the two cannot be told apart.
 * @category model
 * @since 0.1.0
 */
export interface Measure {
  readonly expected: number
  readonly actual: number
  readonly scale: number
  /** the numeric side's rounding-noise floor (see `checkGrads`); 0 or absent for two automatic values */
  readonly noise?: number
}

/** A tolerance: |actual − expected| ≤ max(atol + rtol·scale, noise). @category model @since 0.1.0 */
export interface Tol {
  readonly atol: number
  readonly rtol: number
}

/** Where `localize` found the disagreement. @category model @since 0.1.0 */
export interface Located {
  readonly path: string
  readonly index: number
  /** `basis`: along e[index]; `random`: along a piece of the random direction (or all of it) */
  readonly direction: 'basis' | 'random'
  /** how many elements the direction moves: 1 for a basis vector, n for the whole direction */
  readonly span: number
  readonly dir: Float64Array
  readonly m: Measure
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The tolerance a measure asks for: atol + rtol·scale. @category utils @since 0.1.0 */
export const requestedTolOf = (m: Measure, t: Tol): number => t.atol + t.rtol * m.scale

/**
 * The tolerance a measure is held to: atol + rtol·scale, or the numeric side's noise floor
 * if that is larger (below it, central differences cannot tell right from wrong).
 * @category utils
 * @since 0.1.0
 */
export const tolOf = (m: Measure, t: Tol): number => Math.max(requestedTolOf(m, t), m.noise ?? 0)

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
 * module header). When `measure(v)` fails, the measurement returned fails too.
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
  if (e.r > 1)
    return { path: elementPath(xf, best.lo), index: best.lo, direction: 'basis', span: 1, dir: e.dir, m: e.m }
  // the element alone is within tolerance (errors of several elements added up): report
  // the smallest random piece that still fails, under the path of its first element
  if (lastFailing !== null) {
    const { lo, hi, s } = lastFailing
    return { path: elementPath(xf, lo), index: lo, direction: 'random', span: hi - lo, dir: s.dir, m: s.m }
  }
  // no piece fails alone (each leaf is within tolerance, together they are not): the whole
  // direction, under the path of the element the bisection ended at
  const whole = score(Float64Array.from(v))
  return {
    path: elementPath(xf, best.lo),
    index: best.lo,
    direction: 'random',
    span: v.length,
    dir: whole.dir,
    m: whole.m,
  }
}
