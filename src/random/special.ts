/**
 * The special functions the samplers need, in float64: the complementary error function,
 * the standard normal CDF Φ and its inverse Φ⁻¹ (the probit). `normal` and
 * `truncatedNormal` are inverse-CDF samplers, so their accuracy is the accuracy of Φ⁻¹.
 *
 * Math (erf and erfc are implemented in src/kernels/special.ts, re-exported here):
 * - erf(x) = (2/√π) e^{-x²} Σ_{n≥0} 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), a series of positive terms
 *   (no cancellation), used for erf when |x| < 3 and for erfc = 1 − erf when x < 1.5 (there
 *   erfc > 0.033, so the subtraction costs at most a few ulps of relative error);
 * - erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + 2/(x + …))))) for x ≥ 1.5, the
 *   Laplace continued fraction, evaluated backwards from depth 100 (at x = 1.5 that depth
 *   already agrees with a 40-digit reference to 2e-16; deeper in the tail it converges faster);
 * - e^{-x²} is computed as e^{-h²}·e^{-(x-h)(x+h)} with h = x rounded to 16 fractional bits,
 *   so h² is exact and rounding in x² does not grow with x;
 * - Φ(x) = erfc(−x/√2)/2; Φ⁻¹(p) starts from P. J. Acklam's rational approximation
 *   (relative error below 1.15e-9) and takes one Halley step on Φ(x) − p, which leaves an
 *   error set by the accuracy of Φ (about 1e-15 relative in the tails).
 *
 * Purity contract: pure functions of numbers; no state.
 */

import { erf, erfc } from '../kernels/special.js'

const SQRT_2PI = 2.5066282746310002
const SQRT1_2 = Math.SQRT1_2

// erf and erfc live with the other special-function kernels (src/kernels/special.ts)
export { erf, erfc }

/** The standard normal CDF Φ(x) = P(Z ≤ x), accurate in relative terms in the lower tail. @internal */
export const normalCdf = (x: number): number => erfc(-x * SQRT1_2) / 2

// Acklam's coefficients (central region |p − ½| ≤ ½ − 0.02425, and tails).
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
] as const
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
] as const
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const
const P_LOW = 0.02425

/** Acklam's approximation for 0 < p ≤ ½ (x ≤ 0). */
const acklamLower = (p: number): number => {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (
      (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
    )
  }
  const q = p - 0.5
  const r = q * q
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  )
}

/**
 * The probit Φ⁻¹(p) for 0 < p < 1 (−∞ at 0, +∞ at 1). For p > ½ it returns −Φ⁻¹(1 − p),
 * so callers that know a small tail probability should pass it directly (as the samplers do)
 * rather than 1 minus it.
 * @internal
 */
export const normalQuantile = (p: number): number => {
  if (Number.isNaN(p)) return NaN
  if (p <= 0) return -Infinity
  if (p >= 1) return Infinity
  if (p > 0.5) return -normalQuantile(1 - p)
  const x = acklamLower(p)
  // Halley's step on f(x) = Φ(x) − p, f' = φ(x), f'' = −x φ(x).
  const density = Math.exp(-0.5 * x * x) / SQRT_2PI
  const e = normalCdf(x) - p
  if (density === 0 || e === 0) return x
  const u = e / density
  return x - u / (1 + (x * u) / 2)
}
