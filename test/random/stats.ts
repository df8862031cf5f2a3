/**
 * Statistical checks for the random tests, written independently of src/random (nothing
 * here imports it). Each check returns its statistic, its threshold and whether it passes,
 * so a test can assert both that a good sampler passes and that a deliberately broken one
 * fails the very same check.
 *
 * Thresholds:
 * - moments: |estimate − truth| < 5 standard errors (two-sided normal tail 5.7e-7).
 *   SE(mean) = √(σ²/n); SE(sample variance) ≈ √((μ₄ − σ⁴)/n).
 * - Kolmogorov–Smirnov at α = 0.001 with the asymptotic critical value
 *   D_crit = c(α)/√n, c(α) = √(−ln(α/2)/2) = √(ln(2000)/2) = √3.80045 = 1.94947.
 *   (At n = 100 000: D_crit = 0.0061647; at n = 20 000: 0.013785.)
 * - Pearson χ² at α = 0.001: critical values from the χ² table, df 4 → 18.467,
 *   df 6 → 22.458, df 9 → 27.877.
 * Every test that uses them runs on a fixed key, so a pass or a fail is reproducible.
 */

export interface Check {
  readonly statistic: number
  readonly threshold: number
  readonly pass: boolean
}

const check = (statistic: number, threshold: number): Check => ({ statistic, threshold, pass: statistic < threshold })

export const mean = (xs: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i] as number
  return s / xs.length
}

/** Unbiased sample variance (two-pass). */
export const variance = (xs: ArrayLike<number>): number => {
  const m = mean(xs)
  let s = 0
  for (let i = 0; i < xs.length; i++) s += ((xs[i] as number) - m) ** 2
  return s / (xs.length - 1)
}

/** |mean − mu| against 5 SE, SE = √(sigma2/n). */
export const meanCheck = (xs: ArrayLike<number>, mu: number, sigma2: number): Check =>
  check(Math.abs(mean(xs) - mu), 5 * Math.sqrt(sigma2 / xs.length))

/** |s² − sigma2| against 5 SE, SE = √((mu4 − sigma2²)/n), mu4 the fourth central moment. */
export const varianceCheck = (xs: ArrayLike<number>, sigma2: number, mu4: number): Check =>
  check(Math.abs(variance(xs) - sigma2), 5 * Math.sqrt((mu4 - sigma2 * sigma2) / xs.length))

/** Binomial frequency of ones against 5 SE, SE = √(p(1 − p)/n). */
export const frequencyCheck = (ones: number, n: number, p: number): Check =>
  check(Math.abs(ones / n - p), 5 * Math.sqrt((p * (1 - p)) / n))

/** Pearson correlation of two equal-length samples against 5/√n (its SE under independence). */
export const correlationCheck = (xs: ArrayLike<number>, ys: ArrayLike<number>): Check => {
  const mx = mean(xs)
  const my = mean(ys)
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx
    const dy = (ys[i] as number) - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  return check(Math.abs(sxy / Math.sqrt(sxx * syy)), 5 / Math.sqrt(xs.length))
}

/** c(0.001) = √(ln(2000)/2). */
export const KS_C_001 = Math.sqrt(Math.log(2000) / 2)

/** The one-sample Kolmogorov–Smirnov statistic sup |F_n − F| against c(0.001)/√n. */
export const ksCheck = (xs: ArrayLike<number>, cdf: (x: number) => number): Check => {
  const s = Float64Array.from(xs).sort()
  const n = s.length
  let d = 0
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i] as number)
    d = Math.max(d, (i + 1) / n - f, f - i / n)
  }
  return check(d, KS_C_001 / Math.sqrt(n))
}

/** χ² critical values at α = 0.001 by degrees of freedom (standard tables). */
export const CHI2_CRIT_001: Readonly<Record<number, number>> = { 4: 18.467, 6: 22.458, 9: 27.877 }

/** Pearson χ² of counts against equal expected counts, df = k − 1. */
export const chiSquareUniformCheck = (counts: ArrayLike<number>): Check => {
  const k = counts.length
  let total = 0
  for (let i = 0; i < k; i++) total += counts[i] as number
  const e = total / k
  let x2 = 0
  for (let i = 0; i < k; i++) x2 += ((counts[i] as number) - e) ** 2 / e
  const crit = CHI2_CRIT_001[k - 1]
  if (crit === undefined) throw new Error(`no tabulated chi-square critical value for df ${k - 1}`)
  return check(x2, crit)
}

/**
 * Φ(x) from the Abramowitz & Stegun 7.1.26 approximation of erf (|error| ≤ 1.5e-7, so
 * |error of Φ| ≤ 7.5e-8, four orders below any KS threshold used here).
 */
export const normalCdfAS = (x: number): number => {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * z)
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
  const erf = 1 - poly * Math.exp(-z * z)
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2
}

export const uniformCdf =
  (lo: number, hi: number) =>
  (x: number): number =>
    Math.min(1, Math.max(0, (x - lo) / (hi - lo)))
