/**
 * The numeric side of the checks (internal): directional derivatives by Richardson-
 * extrapolated central differences (`numJvp` from `src/numeric`), with a step chosen from
 * the length of the displacement, and the rounding-noise floor of the result.
 *
 * The step. Along a direction v the numeric side evaluates f(x ± h·v). What decides its
 * truncation error is how far x moves, not the largest element of h·v, so the step is set
 * by the length of the displacement: h = eps·(1 + ‖x‖₂)/‖v‖₂ (rounded down to a power of
 * two, as `src/numeric` does), i.e. x moves by eps·(1 + ‖x‖₂) in Euclidean length, a
 * relative step eps with both lengths in the same norm. For one parameter this is the usual
 * eps·(1 + |x|); it does not depend on how the parameters are rotated or how many there
 * are; and for n parameters of similar size each moves by about eps·(rms(x) + 1/√n), the
 * usual relative step on average. (The earlier rule, h = eps·(1 + ‖x‖∞)/‖v‖∞, moved x by
 * eps·(1 + ‖x‖∞)·‖v‖₂/‖v‖∞ ≈ eps·(1 + ‖x‖∞)·√n/4 whatever the size of x: about 0.2 for a
 * 100 000-parameter MLP with small weights, 5 to 6 times the new step and enough
 * truncation error to fail correct second derivatives.)
 *
 * Along the unit vector v/‖v‖₂ this is a one-dimensional central difference with relative
 * step eps, whose error with k Richardson levels is a truncation term ~ eps^(2k+2) plus a
 * rounding term ~ ε/eps (ε the machine epsilon of the evaluation, lengths in units of
 * 1 + ‖x‖₂). The default eps = ε^(1/(2k+3)) balances them (≈ 7.4e-4 for float64 with k = 1,
 * total relative error ~ ε^((2k+2)/(2k+3)) ≈ 3e-13), which is also the step that leaves
 * about equal margins on both sides of a 1e-6 tolerance (truncation stays below it for
 * length scales of f down to ~0.02·(1 + ‖x‖₂), rounding for |f|/|f′| up to
 * ~3e5·(1 + ‖x‖₂)).
 *
 * The noise floor. Each evaluation of f carries a rounding error of about c·ε·|f| (c = 4: f
 * is assumed accurate to a few roundings of its value). A central difference divides the
 * difference of two such values by 2h, so its noise is up to c·ε·|f|/h, and Richardson
 * extrapolation amplifies it by R = Σ|wᵢ|·2ⁱ (wᵢ its weights on the steps h/2ⁱ; R = 3 for
 * one level). Below noise = R·c·ε·|f|/h (|f| of the output compared, or Σ|ȳᵢ·fᵢ| for an
 * inner product) the numeric derivative cannot tell a right value from a wrong one, so a
 * comparison is never held to a tighter tolerance than that. For ordinary functions it is
 * ~1e-12 and never matters; it matters when |f| is huge next to its derivative (a loss of
 * 1e8, say). A function computed with heavy cancellation (rounding relative to intermediate
 * values far larger than |f|) can be noisier than this floor; raise eps or the tolerances.
 *
 * Purity: only evaluates f.
 */
import { epsilonOf, numJvp } from '../src/numeric/index.js'
import type { Flat } from './flat.js'
import { dtypeOfFlat, fromFlat, toFlat } from './flat.js'

/** Roundings of f's value the noise floor allows for (see the module header). */
export const NOISE_ULPS = 4

/** How much Richardson extrapolation with `levels` levels amplifies the rounding noise of D(h): Σ|wᵢ|·2ⁱ. */
export const richardsonNoiseGain = (levels: number): number => {
  // the extrapolation is linear in the rows D(h/2ⁱ): run it on the unit rows to get the weights
  const rows: number[][] = []
  for (let i = 0; i <= levels; i++) rows.push(Array.from({ length: levels + 1 }, (_, j) => (i === j ? 1 : 0)))
  for (let j = 1; j <= levels; j++) {
    const c = 4 ** j
    for (let i = levels; i >= j; i--) {
      const hi = rows[i] as number[]
      const lo = rows[i - 1] as number[]
      rows[i] = hi.map((h, e) => (c * h - (lo[e] as number)) / (c - 1))
    }
  }
  return (rows[levels] as number[]).reduce((s, w, i) => s + Math.abs(w) * 2 ** i, 0)
}

const pow2 = (h: number): number => 2 ** Math.floor(Math.log2(h))

const infNorm = (v: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number))
  return m
}

const twoNorm = (v: ArrayLike<number>): number => {
  // scaled, so huge or tiny directions neither overflow nor underflow
  const s = infNorm(v)
  if (s === 0) return 0
  let acc = 0
  for (let i = 0; i < v.length; i++) acc += ((v[i] as number) / s) ** 2
  return s * Math.sqrt(acc)
}

/** The epsilon `numJvp` evaluates f with: float64's, unless f returns float32 from float64 copies of its inputs. */
const evaluationEpsilon = (g: (x: unknown) => unknown, xf: Flat, yf: Flat): number => {
  if (dtypeOfFlat(xf, yf) === 'float64') return epsilonOf('float64')
  const promoted: Flat = { ...xf, leaves: xf.leaves.map((l) => ({ ...l, dtype: 'float64' as const })) }
  return epsilonOf(dtypeOfFlat(toFlat(g(fromFlat(promoted, xf.values)), 'checkGrads')))
}

/** One numeric directional derivative: its values (flat, like f(x)) and the step used. */
export interface Directional {
  readonly values: Float64Array
  readonly h: number
}

/** The numeric side of one check of g at x. */
export interface NumericSide {
  /** the relative step eps (the displacement is eps·(1 + ‖x‖₂)) */
  readonly eps: number
  /** d/dt g(x + t·dir) at 0 */
  readonly directional: (dir: Float64Array) => Directional
  /** the noise floor of Σ|wᵢ|·|yᵢ| (y = g(x)) estimated with step h */
  readonly noise: (h: number, weightedAbsValue: number) => number
}

/**
 * The numeric side for g at x (`xf`, `yf` its flat input and output).
 * @param eps the relative step (default ε^(1/(2k+3)) of the evaluation dtype)
 * @param richardson Richardson levels (default 1)
 */
export const numericSide = (
  g: (x: unknown) => unknown,
  x: unknown,
  xf: Flat,
  yf: Flat,
  eps: number | undefined,
  richardson: number | undefined,
): NumericSide => {
  const levels = richardson ?? 1
  const machine = evaluationEpsilon(g, xf, yf)
  const base = eps ?? machine ** (1 / (2 * levels + 3))
  const xInf = infNorm(xf.values)
  const xScale = 1 + twoNorm(xf.values)
  const gain = richardsonNoiseGain(levels)
  return {
    eps: base,
    directional: (dir) => {
      // the tangent as numJvp and jvp see it (rounded to the leaves' dtypes)
      const tangent = fromFlat(xf, dir)
      const v = toFlat(tangent, 'checkGrads').values
      const vInf = infNorm(v)
      if (vInf === 0) return { values: new Float64Array(yf.values.length), h: Infinity }
      // numJvp steps by h = pow2(step·(1 + ‖x‖∞)/‖v‖∞): with step = eps·(1 + ‖x‖₂)/(1 + ‖x‖∞)·‖v‖∞/‖v‖₂
      // that is pow2(eps·(1 + ‖x‖₂)/‖v‖₂), computed here by the same expression to know h exactly
      const step = (((base * xScale) / (1 + xInf)) * vInf) / twoNorm(v)
      const h = pow2((step * (1 + xInf)) / vInf)
      const values = toFlat(numJvp(g, x, tangent, { step, richardson: levels })[1], 'checkGrads').values
      return { values, h }
    },
    noise: (h, weightedAbsValue) => {
      // no floor without a finite value to round (a NaN or infinite output fails on its own)
      const floor = (gain * NOISE_ULPS * machine * weightedAbsValue) / h
      return Number.isFinite(floor) ? floor : 0
    },
  }
}
