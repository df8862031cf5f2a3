/**
 * Special functions in float64, as scalar functions and elementwise kernels: the error
 * function and its complement and inverse, log Γ, the digamma and polygamma functions, and
 * the inverse trigonometric and hyperbolic functions (JavaScript's `Math`, fdlibm-derived in
 * V8, within 1 ulp).
 *
 * Math:
 * - erf(x) = (2/√π) e^{-x²} Σ_{n≥0} 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), a series of positive terms
 *   (no cancellation), for erf when |x| < 1 and for erfc = 1 − erf when x < ½ (there
 *   erfc > 0.47, so the subtraction costs under an ulp);
 * - erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + 2/(x + …))))) for x ≥ ½, the
 *   Laplace continued fraction, evaluated backwards from a depth chosen by x (100 to 1000),
 *   and erf = 1 − erfc for x ≥ 1;
 * - e^{-x²} is computed as e^{-h²}·e^{-(x-h)(x+h)} with h = x rounded to 16 fractional bits,
 *   so h² is exact and rounding in x² does not grow with x;
 * - erfinv(y): M. Giles' single-precision polynomial ("Approximating the erfinv function",
 *   GPU Computing Gems, 2011) as a start, then Halley steps on erf(x) = y (on erfc(x) = 1 − y
 *   for |y| > ½, where 1 − y is exact);
 * - log Γ(1 + z) = −γz + Σ_{k≥2} ζ(k)(−z)^k/k and log Γ(2 + z) = (1 − γ)z +
 *   Σ_{k≥2} (ζ(k) − 1)(−z)^k/k for |z| ≤ ½ (Abramowitz & Stegun 6.1.33); the recurrence
 *   Γ(x + 1) = x Γ(x) maps (0, 12) onto those; Stirling's series with 8 Bernoulli terms for
 *   x ≥ 12; reflection Γ(x)Γ(1 − x) = π / sin(πx) for x < 0. ζ(k) − 1 by Euler–Maclaurin;
 * - ψ(x) = ψ(x + m) − Σ_{j<m} 1/(x + j) up to x + m ≥ 10, then ψ(x) ~ log x − 1/(2x) −
 *   Σ B₂ₖ/(2k x^{2k}); reflection ψ(1 − x) − ψ(x) = π cot(πx) for x < 0;
 * - ψ⁽ⁿ⁾(x) = (−1)^{n+1} n! Σ_{j≥0} 1/(x + j)^{n+1} (n ≥ 1): the first terms summed up to
 *   x + m ≥ 15 + n, then the asymptotic series (−1)^{n+1}[(n−1)!/x^n + n!/(2x^{n+1}) +
 *   Σ B₂ₖ (2k+n−1)!/((2k)! x^{2k+n})] (A&S 6.4.11).
 * NOTE poles: log Γ is +∞ at 0, −1, −2, …; ψ and ψ⁽ⁿ⁾ are NaN there (the sign of the
 * infinity depends on the side). erfinv(±1) = ±∞, NaN outside [−1, 1].
 *
 * Purity contract: pure functions of numbers; the kernels write only the output array they
 * are handed (freshly allocated by the caller).
 */
import type { Data } from '../tensor/Tensor.js'

const SQRT_PI = 1.7724538509055159
const EULER_GAMMA = 0.5772156649015329
const LOG_SQRT_2PI = 0.9189385332046728
const LOG_PI = 1.1447298858494002

// -------------------------------------------------------------------------------------
// erf, erfc, erfinv
// -------------------------------------------------------------------------------------

/** e^{-x²} without the error of rounding x² first. */
const expNegSquare = (x: number): number => {
  const h = Math.round(x * 65536) / 65536
  return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h))
}

/** erf by the positive-term series; accurate for |x| < 3 (about 20–50 terms). */
const erfSeries = (x: number): number => {
  const x2 = 2 * x * x
  let term = x
  let sum = x
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1)
    sum += term
    if (term < sum * 1e-17) break
  }
  return (2 / SQRT_PI) * expNegSquare(x) * sum
}

/**
 * erfc for x ≥ ½ by the continued fraction, deep enough that its truncation error is below
 * 1e-17 relative (measured against 30-digit references: depth 100 suffices from x = 1.5,
 * 250 from 1, 400 from 0.75, 1000 from 0.5).
 */
const erfcContinuedFraction = (x: number): number => {
  const depth = x >= 1.5 ? 100 : x >= 1 ? 250 : x >= 0.75 ? 400 : 1000
  let t = x
  for (let n = depth; n >= 1; n--) t = x + n / 2 / t
  return expNegSquare(x) / (SQRT_PI * t)
}

/**
 * The complementary error function erfc(x) = 1 − erf(x), with small relative error in the
 * upper tail (erfc(26) ≈ 5.7e-296 is still accurate; it underflows to 0 near x = 27.3).
 */
export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return NaN
  if (x < 0) return 2 - erfc(-x)
  if (x < 0.5) return 1 - erfSeries(x)
  if (x > 27.3) return 0
  return erfcContinuedFraction(x)
}

/** The error function. */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return NaN
  if (x < 0) return -erf(-x)
  return x < 1 ? erfSeries(x) : x > 6 ? 1 : 1 - erfcContinuedFraction(x)
}

/** Giles' single-precision erfinv (relative error about 1e-7): the starting point. */
const erfinvGiles = (y: number): number => {
  let w = -Math.log((1 - y) * (1 + y))
  let p: number
  if (w < 5) {
    w -= 2.5
    p = 2.81022636e-8
    p = 3.43273939e-7 + p * w
    p = -3.5233877e-6 + p * w
    p = -4.39150654e-6 + p * w
    p = 0.00021858087 + p * w
    p = -0.00125372503 + p * w
    p = -0.00417768164 + p * w
    p = 0.246640727 + p * w
    p = 1.50140941 + p * w
  } else {
    w = Math.sqrt(w) - 3
    p = -0.000200214257
    p = 0.000100950558 + p * w
    p = 0.00134934322 + p * w
    p = -0.00367342844 + p * w
    p = 0.00573950773 + p * w
    p = -0.0076224613 + p * w
    p = 0.00943887047 + p * w
    p = 1.00167406 + p * w
    p = 2.83297682 + p * w
  }
  return p * y
}

/** The inverse error function on [−1, 1]. */
export const erfinv = (y: number): number => {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN
  if (y === 1) return Infinity
  if (y === -1) return -Infinity
  if (y === 0) return y
  if (y < 0) return -erfinv(-y)
  let x = erfinvGiles(y)
  const tail = y > 0.5
  const q = 1 - y // exact for y ≥ ½
  for (let i = 0; i < 60; i++) {
    // Halley on f(x) = erf(x) − y (or q − erfc(x)): f' = (2/√π)e^{-x²}, f''/f' = −2x
    const e = tail ? q - erfc(x) : erf(x) - y
    const d = (2 / SQRT_PI) * expNegSquare(x)
    if (e === 0 || d === 0) break
    const u = e / d
    const step = u / (1 + x * u)
    x -= step
    if (Math.abs(step) <= 1e-17 * Math.abs(x)) break
  }
  return x
}

// -------------------------------------------------------------------------------------
// ζ, log Γ
// -------------------------------------------------------------------------------------

/** ζ(k) − 1 = Σ_{n≥2} n^{-k} by Euler–Maclaurin at N = 30 (error below 1e-19 relative for k ≥ 2). */
const zetaMinusOne = (k: number): number => {
  const N = 30
  let s = 0
  for (let n = N - 1; n >= 2; n--) s += Math.pow(n, -k)
  const f = Math.pow(N, -k)
  const rising = (j: number): number => {
    let r = 1
    for (let i = 0; i < j; i++) r *= k + i
    return r
  }
  const tail =
    (N * f) / (k - 1) +
    f / 2 +
    (rising(1) * f) / (12 * N) -
    (rising(3) * f) / (720 * N ** 3) +
    (rising(5) * f) / (30240 * N ** 5) -
    (rising(7) * f) / (1209600 * N ** 7)
  return s + tail
}
const TERMS = 64
/** ζ(k) − 1 for k = 0..TERMS (entries 0, 1 unused) */
const ZETA1 = Float64Array.from({ length: TERMS + 1 }, (_, k) => (k < 2 ? 0 : zetaMinusOne(k)))

/** log Γ(1 + z), |z| ≤ ½ */
const lgamma1p = (z: number): number => {
  let s = 0
  for (let k = TERMS; k >= 2; k--) s += ((1 + (ZETA1[k] as number)) * Math.pow(-z, k)) / k
  return -EULER_GAMMA * z + s
}
/** log Γ(2 + z), |z| ≤ ½ */
const lgamma2p = (z: number): number => {
  let s = 0
  for (let k = TERMS; k >= 2; k--) s += ((ZETA1[k] as number) * Math.pow(-z, k)) / k
  return (1 - EULER_GAMMA) * z + s
}

/** B₂ₖ for k = 1..9 */
const B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798] as const

/** sin(πx) with the argument reduced exactly first. */
const sinPi = (x: number): number => {
  const r = x - 2 * Math.round(x / 2) // in [−1, 1], exact
  return Math.sin(Math.PI * r)
}

/** log|Γ(x)|. */
export const lgamma = (x: number): number => {
  if (Number.isNaN(x)) return NaN
  if (x === Infinity) return Infinity
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity
    return LOG_PI - Math.log(Math.abs(sinPi(x))) - lgamma(1 - x)
  }
  if (x < 0.5) return lgamma1p(x) - Math.log(x)
  if (x < 1.5) return lgamma1p(x - 1)
  if (x < 2.5) return lgamma2p(x - 2)
  if (x < 12) {
    let p = 1
    let y = x
    while (y >= 2.5) {
      y -= 1
      p *= y
    }
    return lgamma2p(y - 2) + Math.log(p)
  }
  let s = 0
  const x2 = x * x
  let xp = x
  for (let k = 1; k <= 8; k++) {
    s += (B2K[k - 1] as number) / (2 * k * (2 * k - 1) * xp)
    xp *= x2
  }
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + s
}

// -------------------------------------------------------------------------------------
// digamma, polygamma
// -------------------------------------------------------------------------------------

/** ψ(x) ~ log x − 1/(2x) − Σ B₂ₖ/(2k x^{2k}), for x ≥ 10 */
const digammaAsymptotic = (y: number): number => {
  const inv2 = 1 / (y * y)
  let s = 0
  let p = inv2
  for (let k = 1; k <= 7; k++) {
    s += ((B2K[k - 1] as number) / (2 * k)) * p
    p *= inv2
  }
  return Math.log(y) - 0.5 / y - s
}

/** ψ(x) = Γ'(x)/Γ(x). */
export const digamma = (x: number): number => {
  if (Number.isNaN(x) || x === -Infinity) return NaN
  if (x === Infinity) return Infinity
  if (x <= 0) {
    if (Number.isInteger(x)) return NaN
    const r = x - Math.round(x) // cot(πx) = cot(πr), r ∈ [−½, ½] exact
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * r)
  }
  if (x >= 10) return digammaAsymptotic(x)
  if (x < ROOT_LO) return digamma(x + 1) - 1 / x
  // down to [x₀ − ½, x₀ + ½], then the Taylor series at the positive root x₀
  let up = 0
  let y = x
  while (y >= ROOT_HI) {
    y -= 1
    up += 1 / y
  }
  const d = y - PSI_ROOT - PSI_ROOT_LO
  let s = 0
  for (let k = PSI_TAYLOR.length - 1; k >= 1; k--) s = (s + (PSI_TAYLOR[k] as number)) * d
  return s + up
}

/**
 * The positive root x₀ of ψ as a double-double (hi + lo), so that ψ is accurate in relative
 * terms near it: x₀ = 1.46163214496836234126265954232572132846819620400644635...
 * (OEIS A030169).
 */
const PSI_ROOT = 1.4616321449683622
const PSI_ROOT_LO = 9.549995429965697e-17
const ROOT_LO = PSI_ROOT - 0.5
const ROOT_HI = PSI_ROOT + 0.5
const factorial = (n: number): number => {
  let f = 1
  for (let i = 2; i <= n; i++) f *= i
  return f
}

/** ψ⁽ⁿ⁾(x), the n-th derivative of ψ (n = 0 is ψ itself). NaN at the poles, and for x < −10⁶ when n ≥ 1. */
export const polygamma = (n: number, x: number): number => {
  if (n === 0) return digamma(x)
  if (Number.isNaN(x) || x < -1e6 || (x <= 0 && Number.isInteger(x))) return NaN
  if (x === Infinity) return 0
  const sign = n % 2 === 1 ? 1 : -1 // (−1)^{n+1}
  const lo = 15 + n
  let direct = 0
  let y = x
  while (y < lo) {
    direct += Math.pow(y, -(n + 1))
    y += 1
  }
  // asymptotic series at y, times (−1)^{n+1}
  const nf = factorial(n)
  let s = factorial(n - 1) / Math.pow(y, n) + nf / (2 * Math.pow(y, n + 1))
  // term k: B₂ₖ (2k+n−1)! / ((2k)! y^{2k+n})
  let ratio = factorial(n + 1) / 2 // (2k+n−1)!/(2k)! at k = 1
  let yp = Math.pow(y, n + 2)
  for (let k = 1; k <= 9; k++) {
    s += ((B2K[k - 1] as number) * ratio) / yp
    // (2k+n+1)!/(2k+2)! = (2k+n−1)!/(2k)! · (2k+n)(2k+n+1)/((2k+1)(2k+2))
    ratio *= ((2 * k + n) * (2 * k + n + 1)) / ((2 * k + 1) * (2 * k + 2))
    yp *= y * y
  }
  return sign * (nf * direct + s)
}

/** ψ⁽ᵏ⁾(x₀)/k! for k = 0..40 (entry 0 is ψ(x₀) = 0): the Taylor coefficients at the root */
const PSI_TAYLOR: Float64Array = Float64Array.from({ length: 41 }, (_, k) =>
  k === 0 ? 0 : polygamma(k, PSI_ROOT) / factorial(k),
)

// -------------------------------------------------------------------------------------
// elementwise kernels
// -------------------------------------------------------------------------------------

/** out[i] = f(x[i]) */
export const mapKernel =
  (f: (v: number) => number) =>
  (x: Data, out: Data): void => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number)
  }

export const erfKernel = mapKernel(erf)
export const erfcKernel = mapKernel(erfc)
export const erfinvKernel = mapKernel(erfinv)
export const lgammaKernel = mapKernel(lgamma)
export const asinKernel = mapKernel(Math.asin)
export const acosKernel = mapKernel(Math.acos)
export const atanKernel = mapKernel(Math.atan)
export const asinhKernel = mapKernel(Math.asinh)
export const acoshKernel = mapKernel(Math.acosh)
export const atanhKernel = mapKernel(Math.atanh)
/** ψ⁽ⁿ⁾ elementwise */
export const polygammaKernel = (n: number) => mapKernel((v) => polygamma(n, v))
