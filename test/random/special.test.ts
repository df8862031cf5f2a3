import { describe, expect, it } from 'vitest'
import { erf, erfc, normalCdf, normalQuantile } from '../../src/random/special.js'
import { normalCdfAS } from './stats.js'

// Reference values were computed with mpmath 1.3 at 50 significant digits (mpmath.erfc,
// mpmath.ncdf, and Φ⁻¹ by mpmath.findroot on ncdf(x) − p with p the given double), then
// rounded to double. Measured agreement is within 1.5e-15 relative everywhere; the
// tolerance 1e-14 leaves room for a different libm's exp/log (each within 1 ulp) feeding a
// series or continued fraction of up to ~100 steps.
const TOL = 1e-14
const rel = (a: number, b: number): number => (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b))

describe('erfc', () => {
  it.each([
    [0.1, 0.887537083981715],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2, 0.004677734981047266],
    [2.9, 4.109787809945886e-5],
    [3.5, 7.430983723414128e-7],
    [5, 1.537459794428035e-12],
    [8, 1.1224297172982926e-29],
    [15, 7.212994172451207e-100],
    [26, 5.663192408856143e-296],
  ])('erfc(%d) to 1e-14 relative', (x, v) => {
    expect(rel(erfc(x), v)).toBeLessThan(TOL)
  })

  it.each([
    [0.3, 0.3286267594591274],
    [1.2, 0.9103139782296353],
    [2.5, 0.999593047982555],
    [4, 0.9999999845827421],
  ])('erf(%d) to 1e-14 relative, and erfc(-x) = 2 - erfc(x)', (x, v) => {
    expect(rel(erf(x), v)).toBeLessThan(TOL)
    expect(rel(erf(-x), -v)).toBeLessThan(TOL)
    expect(erfc(-x)).toBe(2 - erfc(x))
  })

  it('edge values', () => {
    expect(erfc(0)).toBe(1)
    expect(erfc(30)).toBe(0)
    expect(Number.isNaN(erfc(Number.NaN))).toBe(true)
  })
})

describe('normalCdf', () => {
  it.each([
    [-8, 6.220960574271784e-16],
    [-3, 0.0013498980316300946],
    [-1, 0.15865525393145705],
    [0, 0.5],
    [0.5, 0.6914624612740131],
    [2, 0.9772498680518208],
  ])('Φ(%d) to 1e-14 relative', (x, v) => {
    expect(rel(normalCdf(x), v)).toBeLessThan(TOL)
  })

  it('agrees with the independent Abramowitz-Stegun approximation to its stated 7.5e-8', () => {
    for (let x = -6; x <= 6; x += 0.01) expect(Math.abs(normalCdf(x) - normalCdfAS(x))).toBeLessThan(7.5e-8)
  })
})

describe('normalQuantile (Acklam + one Halley step)', () => {
  it.each([
    [1e-300, -37.0470962993612],
    [1e-20, -9.262340089798407],
    [1e-10, -6.361340902404057],
    [1e-5, -4.264890793922825],
    [0.001, -3.0902323061678136],
    [0.02, -2.053748910631823],
    [0.1, -1.2815515655446004],
    [0.3, -0.5244005127080408],
    [0.7, 0.5244005127080407],
    [0.975, 1.9599639845400538],
    [0.999, 3.090232306167813],
  ])('Φ⁻¹(%d) to 1e-14 relative', (p, v) => {
    expect(rel(normalQuantile(p), v)).toBeLessThan(TOL)
  })

  it('the smallest tail probabilities the normal sampler can ask for give finite values', () => {
    // float64: (1 − |u|)/2 ≥ 2^-53; float32: ≥ 2^-25 (see distributions.ts).
    expect(rel(normalQuantile(2 ** -53), -8.209536151601387)).toBeLessThan(TOL)
    expect(rel(normalQuantile(2 ** -25), -5.419983174916868)).toBeLessThan(TOL)
  })

  it('edge values', () => {
    expect(normalQuantile(0.5)).toBe(0)
    expect(normalQuantile(0)).toBe(-Infinity)
    expect(normalQuantile(1)).toBe(Infinity)
    expect(Number.isFinite(normalQuantile(Number.MIN_VALUE))).toBe(true)
  })
})
