import { describe, expect, it } from 'vitest'
import { grad, log as logOf, mean, polygamma, square, sum, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import {
  ball,
  beta,
  categorical,
  cauchy,
  dirichlet,
  exponential,
  gamma,
  gammaReparam,
  gumbel,
  key,
  laplace,
  logistic,
  multivariateNormal,
  normalReparam,
  orthogonal,
  poisson,
  studentT,
  uniformSphere,
} from '../../src/random/index.js'
import { ksCheck, meanCheck, normalCdfAS, uniformCdf, variance, varianceCheck } from './stats.js'
import type { Check } from './stats.js'

// Each sampler passes moment checks (5 standard errors) and a Kolmogorov–Smirnov or Pearson
// χ² test at α = 0.001 against a CDF or pmf written here from its textbook formula, and each
// check is shown to reject a deliberately broken sampler (a scale off by 5-10 %, a shift, or
// the wrong family). Keys are fixed, so every pass and fail is reproducible.
const N = 20_000
const values = (t: Tensor): Float64Array => Float64Array.from(t.toTypedArray())

/** χ² critical values at α = 0.001 (standard tables), by degrees of freedom. */
const CHI2_001: Readonly<Record<number, number>> = {
  4: 18.467,
  5: 20.515,
  6: 22.458,
  7: 24.322,
  8: 26.124,
  9: 27.877,
  10: 29.588,
}
/** Pearson χ² of counts in bins against expected probabilities (summing to 1), df = bins − 1. */
const chiSquare = (counts: ArrayLike<number>, probs: ArrayLike<number>): Check => {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i] as number
  let x2 = 0
  for (let i = 0; i < counts.length; i++) {
    const e = total * (probs[i] as number)
    x2 += ((counts[i] as number) - e) ** 2 / e
  }
  const crit = CHI2_001[counts.length - 1]
  if (crit === undefined) throw new Error(`no critical value for df ${counts.length - 1}`)
  return { statistic: x2, threshold: crit, pass: x2 < crit }
}
const both = (cs: Check[]): boolean => cs.every((c) => c.pass)

describe('continuous samplers against their CDFs', () => {
  it('exponential(rate 2): mean ½, variance ¼ (μ₄ = 9/16), KS against 1 − e^(−2x)', () => {
    const x = values(exponential(key(100), [N], { rate: 2 }))
    const cdf = (v: number): number => 1 - Math.exp(-2 * v)
    expect(both([meanCheck(x, 0.5, 0.25), varianceCheck(x, 0.25, 9 / 16), ksCheck(x, cdf)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.05),
        cdf,
      ).pass,
    ).toBe(false)
    expect(
      meanCheck(
        x.map((v) => v * 1.05),
        0.5,
        0.25,
      ).pass,
    ).toBe(false)
  })
  it('laplace(1, 2): mean 1, variance 2b² = 8 (μ₄ = 24b⁴), KS', () => {
    const x = values(laplace(key(101), [N], { loc: 1, scale: 2 }))
    const cdf = (v: number): number => (v < 1 ? 0.5 * Math.exp((v - 1) / 2) : 1 - 0.5 * Math.exp(-(v - 1) / 2))
    expect(both([meanCheck(x, 1, 8), varianceCheck(x, 8, 24 * 16), ksCheck(x, cdf)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v + 0.1),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('logistic(0, 1): variance π²/3, KS against 1/(1 + e^(−x))', () => {
    const x = values(logistic(key(102), [N]))
    const cdf = (v: number): number => 1 / (1 + Math.exp(-v))
    // μ₄ of the standard logistic = 7π⁴/15
    expect(
      both([
        meanCheck(x, 0, Math.PI ** 2 / 3),
        varianceCheck(x, Math.PI ** 2 / 3, (7 * Math.PI ** 4) / 15),
        ksCheck(x, cdf),
      ]),
    ).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.1),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('cauchy(0, 1): KS against ½ + atan(x)/π (no moments); a normal sample fails it', () => {
    const x = values(cauchy(key(103), [N]))
    const cdf = (v: number): number => 0.5 + Math.atan(v) / Math.PI
    expect(ksCheck(x, cdf).pass).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.1),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('gumbel(0, 1): mean γ (Euler), variance π²/6, KS against exp(−e^(−x))', () => {
    const x = values(gumbel(key(104), [N]))
    const cdf = (v: number): number => Math.exp(-Math.exp(-v))
    // μ₄ = 27π⁴/60 · (1/6)²·... use the excess kurtosis 12/5: μ₄ = (3 + 12/5)·σ⁴
    const s2 = Math.PI ** 2 / 6
    expect(both([meanCheck(x, 0.5772156649015329, s2), varianceCheck(x, s2, 5.4 * s2 * s2), ksCheck(x, cdf)])).toBe(
      true,
    )
    expect(
      ksCheck(
        x.map((v) => v + 0.05),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('gamma(3): mean 3, variance 3 (μ₄ = 3α(α + 2) = 45), KS against 1 − e^(−x)(1 + x + x²/2)', () => {
    const x = values(gamma(key(105), 3, [N]))
    const cdf = (v: number): number => (v <= 0 ? 0 : 1 - Math.exp(-v) * (1 + v + (v * v) / 2))
    expect(both([meanCheck(x, 3, 3), varianceCheck(x, 3, 45), ksCheck(x, cdf)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.05),
        cdf,
      ).pass,
    ).toBe(false)
    // the wrong shape with the right mean: Gamma(3) has the mean of 3·Exp(1) but not its CDF
    expect(
      ksCheck(
        values(exponential(key(106), [N])).map((v) => 3 * v),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('gamma(½) (the α < 1 path, scale 2): a χ²₁, so KS against 2Φ(√x) − 1', () => {
    const x = values(gamma(key(107), 0.5, [N], { scale: 2 }))
    const cdf = (v: number): number => (v <= 0 ? 0 : 2 * normalCdfAS(Math.sqrt(v)) - 1)
    expect(both([meanCheck(x, 1, 2), ksCheck(x, cdf)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.1),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('beta(2, 3): mean 2/5, variance 1/25, KS against I_x(2, 3) = Σ_{j≥2} C(4, j) x^j (1 − x)^(4−j)', () => {
    const x = values(beta(key(108), 2, 3, [N]))
    const cdf = (v: number): number => 6 * v * v * (1 - v) ** 2 + 4 * v ** 3 * (1 - v) + v ** 4
    expect(both([meanCheck(x, 0.4, 0.04), ksCheck(x, cdf)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => Math.min(1, v * 1.05)),
        cdf,
      ).pass,
    ).toBe(false)
  })
  it('dirichlet([1, 2, 3]): rows sum to 1; the marginals are Beta(αᵢ, 6 − αᵢ)', () => {
    const t = dirichlet(key(109), [1, 2, 3], [N])
    expect(t.shape).toEqual([N, 3])
    const v = values(t)
    const col = (c: number): Float64Array => Float64Array.from({ length: N }, (_, i) => v[3 * i + c] as number)
    for (let i = 0; i < N; i += 997)
      expect((v[3 * i] as number) + (v[3 * i + 1] as number) + (v[3 * i + 2] as number)).toBeCloseTo(1, 14)
    // Beta(1, 5): 1 − (1 − x)⁵;  Beta(3, 3): I_x(3, 3) = Σ_{j≥3} C(5, j) x^j (1 − x)^(5−j)
    const cdf0 = (x: number): number => 1 - (1 - x) ** 5
    const cdf2 = (x: number): number => 10 * x ** 3 * (1 - x) ** 2 + 5 * x ** 4 * (1 - x) + x ** 5
    expect(both([ksCheck(col(0), cdf0), ksCheck(col(2), cdf2), meanCheck(col(1), 1 / 3, (2 * 4) / (36 * 7))])).toBe(
      true,
    )
    expect(ksCheck(col(1), cdf2).pass).toBe(false)
  })
  it('studentT(3): variance 3, KS against ½ + (1/π)(t/√3/(1 + t²/3) + atan(t/√3))', () => {
    const x = values(studentT(key(110), 3, [N]))
    const cdf = (v: number): number => {
      const u = v / Math.sqrt(3)
      return 0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI
    }
    expect(both([ksCheck(x, cdf), meanCheck(x, 0, 3)])).toBe(true)
    expect(
      ksCheck(
        x.map((v) => v * 1.1),
        cdf,
      ).pass,
    ).toBe(false)
    expect(ksCheck(values(studentT(key(111), 30, [N])), cdf).pass).toBe(false)
  })
})

/** Counts of integer draws in bins [edges[i], edges[i+1]), the last bin open. */
const binCounts = (x: ArrayLike<number>, edges: number[]): number[] => {
  const c = new Array<number>(edges.length).fill(0)
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number
    let b = 0
    while (b + 1 < edges.length && v >= (edges[b + 1] as number)) b++
    c[b] = (c[b] as number) + 1
  }
  return c
}
/** Poisson(λ) probabilities of the same bins, from the pmf in logs. */
const poissonBins = (lam: number, edges: number[]): number[] => {
  const pmf = (k: number): number => {
    let lf = 0
    for (let j = 2; j <= k; j++) lf += Math.log(j)
    return Math.exp(-lam + k * Math.log(lam) - lf)
  }
  const top = Math.ceil(lam * 3 + 50)
  const p = new Array<number>(edges.length).fill(0)
  for (let k = 0; k <= top; k++) {
    let b = 0
    while (b + 1 < edges.length && k >= (edges[b + 1] as number)) b++
    p[b] = (p[b] as number) + pmf(k)
  }
  return p
}

describe('discrete samplers', () => {
  it('poisson(3) (the counting path): mean and variance 3, χ² over 0..9 and ≥ 10', () => {
    const x = values(poisson(key(120), 3, [N]))
    expect(x.every((v) => Number.isInteger(v) && v >= 0)).toBe(true)
    const edges = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expect(both([meanCheck(x, 3, 3), chiSquare(binCounts(x, edges), poissonBins(3, edges))])).toBe(true)
    expect(chiSquare(binCounts(values(poisson(key(121), 3.3, [N])), edges), poissonBins(3, edges)).pass).toBe(false)
  })
  it('poisson(50) (transformed rejection): mean and variance 50, χ² over 7 bins', () => {
    const x = values(poisson(key(122), 50, [N]))
    const edges = [0, 40, 45, 50, 55, 60, 65]
    expect(
      both([
        meanCheck(x, 50, 50),
        varianceCheck(x, 50, 50 + 3 * 2500),
        chiSquare(binCounts(x, edges), poissonBins(50, edges)),
      ]),
    ).toBe(true)
    // a normal approximation rounded to integers has the right moments but not the pmf's shape near the mean
    expect(
      chiSquare(
        binCounts(
          x.map((v) => v + 1),
          edges,
        ),
        poissonBins(50, edges),
      ).pass,
    ).toBe(false)
  })
  it('categorical: frequencies are softmax(logits) (χ², df 4); −∞ never drawn', () => {
    const logits = [1, 0, -1, 2, 0.5, -Infinity]
    const rowsN = N
    const t = categorical(key(123), tensor(Array.from({ length: rowsN }, () => logits)))
    expect(t.shape).toEqual([rowsN])
    const v = values(t)
    const counts = [0, 0, 0, 0, 0, 0]
    v.forEach((c) => (counts[c] = (counts[c] as number) + 1))
    expect(counts[5]).toBe(0)
    const z = logits.slice(0, 5).reduce((s, l) => s + Math.exp(l), 0)
    const probs = logits.slice(0, 5).map((l) => Math.exp(l) / z)
    expect(chiSquare(counts.slice(0, 5), probs).pass).toBe(true)
    // a sampler of softmax(logits / 1.1) fails
    const z2 = logits.slice(0, 5).reduce((s, l) => s + Math.exp(l / 1.1), 0)
    const t2 = values(categorical(key(124), tensor(Array.from({ length: rowsN }, () => logits.map((l) => l / 1.1)))))
    const c2 = [0, 0, 0, 0, 0]
    t2.forEach((c) => (c2[c] = (c2[c] as number) + 1))
    expect(chiSquare(c2, probs).pass).toBe(false)
    expect(
      chiSquare(
        c2,
        logits.slice(0, 5).map((l) => Math.exp(l / 1.1) / z2),
      ).pass,
    ).toBe(true)
  })
})

describe('multivariate and geometric samplers', () => {
  it('multivariateNormal: means, covariances (5 SE) and KS of a projection aᵀx ~ N(aᵀμ, aᵀΣa)', () => {
    const mu = [1, -2, 0.5]
    const cov = [
      [2, 0.6, -0.4],
      [0.6, 1, 0.3],
      [-0.4, 0.3, 0.5],
    ]
    const x = values(multivariateNormal(key(130), mu, cov, [N]))
    const cols = [0, 1, 2].map((c) => Float64Array.from({ length: N }, (_, i) => x[3 * i + c] as number))
    for (let i = 0; i < 3; i++)
      expect(meanCheck(cols[i] as Float64Array, mu[i] as number, cov[i]?.[i] as number).pass).toBe(true)
    // cov(x₀, x₁): the sample mean of (x₀ − μ₀)(x₁ − μ₁), variance Σ₀₀Σ₁₁ + Σ₀₁²
    const c1 = cols[1] as Float64Array
    const prod = (cols[0] as Float64Array).map((v, i) => (v - 1) * ((c1[i] as number) + 2))
    expect(meanCheck(prod, 0.6, 2 * 1 + 0.36).pass).toBe(true)
    const a = [1, -1, 2]
    const proj = Float64Array.from({ length: N }, (_, i) =>
      a.reduce((s, ai, j) => s + ai * (x[3 * i + j] as number), 0),
    )
    const m = a.reduce((s, ai, j) => s + ai * (mu[j] as number), 0)
    const v = a.reduce((s, ai, i) => s + a.reduce((t, aj, j) => t + ai * aj * (cov[i]?.[j] as number), 0), 0)
    expect(ksCheck(proj, (t) => normalCdfAS((t - m) / Math.sqrt(v))).pass).toBe(true)
    // the right marginal variances without the correlations fail the projection test
    const indep = values(
      multivariateNormal(
        key(131),
        mu,
        [
          [2, 0, 0],
          [0, 1, 0],
          [0, 0, 0.5],
        ],
        [N],
      ),
    )
    const projI = Float64Array.from({ length: N }, (_, i) =>
      a.reduce((s, ai, j) => s + ai * (indep[3 * i + j] as number), 0),
    )
    expect(ksCheck(projI, (t) => normalCdfAS((t - m) / Math.sqrt(v))).pass).toBe(false)
    expect(() =>
      multivariateNormal(
        key(0),
        [0, 0],
        [
          [1, 2],
          [2, 1],
        ],
      ),
    ).toThrow(/positive definite/)
  })
  it('uniformSphere(3): unit norm; each coordinate uniform on [−1, 1] (Archimedes)', () => {
    const x = values(uniformSphere(key(132), 3, [N]))
    for (let i = 0; i < N; i += 499)
      expect(Math.hypot(x[3 * i] as number, x[3 * i + 1] as number, x[3 * i + 2] as number)).toBeCloseTo(1, 14)
    const z = Float64Array.from({ length: N }, (_, i) => x[3 * i + 2] as number)
    expect(ksCheck(z, uniformCdf(-1, 1)).pass).toBe(true)
    // normalizing uniform cube points is not uniform on the sphere
    const cube = values(ball(key(133), 1, [3 * N])).map((v) => v)
    const bad = Float64Array.from({ length: N }, (_, i) => {
      const p = [cube[3 * i] as number, cube[3 * i + 1] as number, cube[3 * i + 2] as number]
      return (p[2] as number) / Math.hypot(...p)
    })
    expect(ksCheck(bad, uniformCdf(-1, 1)).pass).toBe(false)
  })
  it('ball(3): the radius has CDF r³; ball(1) is uniform on [−1, 1]', () => {
    const x = values(ball(key(134), 3, [N]))
    const r = Float64Array.from({ length: N }, (_, i) =>
      Math.hypot(x[3 * i] as number, x[3 * i + 1] as number, x[3 * i + 2] as number),
    )
    expect(ksCheck(r, (v) => Math.min(1, Math.max(0, v)) ** 3).pass).toBe(true)
    expect(ksCheck(r, (v) => Math.min(1, Math.max(0, v)) ** 2).pass).toBe(false)
    expect(ksCheck(values(ball(key(135), 1, [N])), uniformCdf(-1, 1)).pass).toBe(true)
  })
  it('orthogonal: QᵀQ = I (and QQᵀ = I for wide matrices); an entry of a Haar 3×3 is uniform on [−1, 1]', () => {
    const q = values(orthogonal(key(136), 5, 3))
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        let d = 0
        for (let r = 0; r < 5; r++) d += (q[r * 3 + a] as number) * (q[r * 3 + b] as number)
        expect(d).toBeCloseTo(a === b ? 1 : 0, 13)
      }
    const w = values(orthogonal(key(137), 2, 4))
    expect(
      (w[0] as number) * (w[4] as number) +
        (w[1] as number) * (w[5] as number) +
        (w[2] as number) * (w[6] as number) +
        (w[3] as number) * (w[7] as number),
    ).toBeCloseTo(0, 13)
    const entries = Float64Array.from({ length: 5000 }, (_, i) => values(orthogonal(key(1000 + i), 3))[0] as number)
    expect(ksCheck(entries, uniformCdf(-1, 1)).pass).toBe(true)
    // a biased sampler (the entry folded to its absolute value) fails the same check
    expect(
      ksCheck(
        entries.map((v) => Math.abs(v)),
        uniformCdf(-1, 1),
      ).pass,
    ).toBe(false)
  })
})

describe('reparameterized gradients against the analytic expectation gradient', () => {
  it('normal: d/dσ E[(μ + σz)²] = 2σ and d/dμ = 2μ, estimated within 5 SE', () => {
    const n = N
    const f = (p: { mu: Tensor; s: Tensor }): Tensor => mean(square(normalReparam(key(140), p.mu, p.s, [n])))
    const g = grad(f)({ mu: tensor(0.5), s: tensor(1.5) })
    // per-sample gradients 2σz² (variance 4σ²·2) and 2(μ + σz) (variance 4σ²)
    expect(Math.abs(g.s.item() - 3)).toBeLessThan(5 * Math.sqrt((4 * 2.25 * 2) / n))
    expect(Math.abs(g.mu.item() - 1)).toBeLessThan(5 * Math.sqrt((4 * 2.25) / n))
  })
  it('gamma (implicit): d/dα E[z] = 1 and d/dα E[log z] = ψ′(α), within 5 SE', () => {
    const n = 10_000
    for (const a of [0.7, 3]) {
      const alpha = tensor(new Array<number>(n).fill(a))
      const gz = values(grad((al: Tensor) => sum(gammaReparam(key(141), al)))(alpha))
      // per-sample dz/dα; its variance estimated from the sample
      expect(Math.abs(gz.reduce((s, v) => s + v, 0) / n - 1)).toBeLessThan(5 * Math.sqrt(variance(gz) / n))
      const gl = values(grad((al: Tensor) => sum(logOf(gammaReparam(key(142), al))))(alpha))
      const trigamma = polygamma(1, a).item()
      expect(Math.abs(gl.reduce((s, v) => s + v, 0) / n - trigamma)).toBeLessThan(5 * Math.sqrt(variance(gl) / n))
      // a gradient off by 10 % fails the same check
      expect(Math.abs((1.1 * gz.reduce((s, v) => s + v, 0)) / n - 1)).toBeGreaterThan(5 * Math.sqrt(variance(gz) / n))
    }
  })
})
