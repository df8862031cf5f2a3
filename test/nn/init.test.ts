import { describe, expect, it } from 'vitest'
import { key, split } from '../../src/random/index.js'
import {
  constant,
  fans,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  lecunNormal,
  lecunUniform,
  normal,
  ones,
  uniform,
  varianceScaling,
  zeros,
} from '../../src/nn/index.js'
import type { Initializer } from '../../src/nn/index.js'

// Statistics are computed here in plain JS (two-pass), independently of the library.
const meanOf = (xs: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i] as number
  return s / xs.length
}
const varianceOf = (xs: ArrayLike<number>): number => {
  const m = meanOf(xs)
  let s = 0
  for (let i = 0; i < xs.length; i++) s += ((xs[i] as number) - m) ** 2
  return s / (xs.length - 1)
}
const maxAbs = (xs: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i] as number))
  return m
}

/**
 * Moments of a unit normal truncated to [−2, 2], by composite Simpson integration of
 * z^k e^{−z²/2} (20 000 panels: the integrand is smooth, the error is far below 1e-12).
 */
const truncatedMoments = (() => {
  const n = 20000
  const h = 4 / n
  const integrate = (f: (z: number) => number): number => {
    let s = f(-2) + f(2)
    for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(-2 + i * h)
    return (s * h) / 3
  }
  const w = (z: number): number => Math.exp((-z * z) / 2)
  const z0 = integrate(w)
  return { m2: integrate((z) => z * z * w(z)) / z0, m4: integrate((z) => z ** 4 * w(z)) / z0 }
})()

describe('fans', () => {
  it.each([
    [
      [784, 128],
      [784, 128],
    ],
    [
      [3, 3, 16, 32],
      [144, 288],
    ],
    [[5], [5, 5]],
    [[], [1, 1]],
  ])('fans(%j) = %j', (shape, expected) => {
    expect(fans(shape)).toEqual(expected)
  })
})

describe('variance-scaling initializers: variance matches the formula', () => {
  // shape [in, out] = [200, 300]: fanIn 200, fanOut 300, n = 60 000 draws.
  // Tolerances: 5 standard errors of the estimator (two-sided normal tail 5.7e-7), with
  //   SE(mean) = √(Var/n),  SE(sample variance) = √((μ₄ − Var²)/n), where
  //   uniform U(−L, L): Var = L²/3, μ₄ = L⁴/5, so μ₄ − Var² = (4/5)·Var²;
  //   truncated normal σ·Z, Z ~ N(0,1) on [−2, 2]: Var = σ²·m₂, μ₄ − Var² = σ⁴(m₄ − m₂²)
  //   with m₂, m₄ integrated numerically above.
  // 5 SE of the variance is 1.8% (uniform) and 2.4% (truncated normal): a variance off by
  // the truncation factor m₂ ≈ 0.774 (forgetting to rescale σ) is far outside.
  const fanIn = 200
  const fanOut = 300
  const cases: ReadonlyArray<[string, Initializer, number, 'uniform' | 'truncated']> = [
    ['glorotUniform', glorotUniform, 2 / (fanIn + fanOut), 'uniform'],
    ['glorotNormal', glorotNormal, 2 / (fanIn + fanOut), 'truncated'],
    ['heUniform', heUniform, 2 / fanIn, 'uniform'],
    ['heNormal', heNormal, 2 / fanIn, 'truncated'],
    ['lecunUniform', lecunUniform, 1 / fanIn, 'uniform'],
    ['lecunNormal', lecunNormal, 1 / fanIn, 'truncated'],
  ]
  it.each(cases)('%s', (_name, init, variance, kind) => {
    const w = init(key(11), [fanIn, fanOut])
    expect(w.shape).toEqual([fanIn, fanOut])
    expect(w.dtype).toBe('float64')
    const xs = w.toTypedArray()
    const n = xs.length
    const excessKurtosisTerm =
      kind === 'uniform'
        ? 0.8 * variance * variance
        : (variance / truncatedMoments.m2) ** 2 * (truncatedMoments.m4 - truncatedMoments.m2 ** 2)
    expect(Math.abs(meanOf(xs))).toBeLessThan(5 * Math.sqrt(variance / n))
    expect(Math.abs(varianceOf(xs) - variance)).toBeLessThan(5 * Math.sqrt(excessKurtosisTerm / n))
    // support: U(−L, L) with L = √(3 Var); the truncated normal stays within 2σ = 2√(Var/m₂)
    const bound = kind === 'uniform' ? Math.sqrt(3 * variance) : 2 * Math.sqrt(variance / truncatedMoments.m2)
    expect(maxAbs(xs)).toBeLessThanOrEqual(bound)
    // and the draws reach close to it (a narrower distribution would not)
    expect(maxAbs(xs)).toBeGreaterThan(0.95 * bound)
  })

  it('counts the receptive field of a convolution kernel: heNormal on [3, 3, 16, 32] has variance 2/144', () => {
    const xs = heNormal(key(3), [3, 3, 16, 32]).toTypedArray()
    const variance = 2 / 144
    const se = Math.sqrt(
      ((variance / truncatedMoments.m2) ** 2 * (truncatedMoments.m4 - truncatedMoments.m2 ** 2)) / xs.length,
    )
    expect(Math.abs(varianceOf(xs) - variance)).toBeLessThan(5 * se)
  })

  it("varianceScaling(scale, 'fanOut', 'normal') is an untruncated normal of variance scale/fanOut", () => {
    const xs = varianceScaling(3, 'fanOut', 'normal')(key(5), [100, 600]).toTypedArray()
    const variance = 3 / 600
    // normal: μ₄ − Var² = 2 Var²
    expect(Math.abs(varianceOf(xs) - variance)).toBeLessThan(5 * Math.sqrt((2 * variance * variance) / xs.length))
    // 60 000 normal draws exceed 2σ about 2 700 times
    expect(maxAbs(xs)).toBeGreaterThan(2.5 * Math.sqrt(variance))
  })
})

describe('purity and dtypes', () => {
  it('the same key gives the same tensor; another key another one', () => {
    const a = glorotUniform(key(1), [4, 5]).toArray()
    expect(glorotUniform(key(1), [4, 5]).toArray()).toEqual(a)
    expect(glorotUniform(split(key(1))[0], [4, 5]).toArray()).not.toEqual(a)
  })

  it('honours float32 and empty shapes', () => {
    const w = heNormal(key(1), [8, 4], 'float32')
    expect(w.dtype).toBe('float32')
    expect(heUniform(key(1), [0, 4]).shape).toEqual([0, 4])
  })
})

describe('simple initializers', () => {
  it('zeros, ones and constant ignore the key', () => {
    expect(zeros(key(0), [2]).toArray()).toEqual([0, 0])
    expect(ones(key(0), [2, 1], 'float32').toArray()).toEqual([[1], [1]])
    expect(constant(0.5)(key(9), [3]).toArray()).toEqual([0.5, 0.5, 0.5])
  })

  it('uniform(scale) draws from [0, scale) with mean scale/2 and variance scale²/12', () => {
    const xs = uniform(0.5)(key(2), [50000]).toTypedArray()
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(0.5)
    const variance = 0.25 / 12
    expect(Math.abs(meanOf(xs) - 0.25)).toBeLessThan(5 * Math.sqrt(variance / xs.length))
  })

  it('normal(stddev) has variance stddev²', () => {
    const xs = normal(0.1)(key(4), [50000]).toTypedArray()
    const variance = 0.01
    expect(Math.abs(varianceOf(xs) - variance)).toBeLessThan(5 * Math.sqrt((2 * variance * variance) / xs.length))
  })
})
