import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import {
  constant,
  cosineDecay,
  exponentialDecay,
  linear,
  piecewiseConstant,
  valueAt,
  warmupCosineDecay,
} from '../../src/optim/index.js'

// Expected values are worked out by hand from each schedule's definition (written next to
// each case); comparisons allow 1e-15 absolute for values ≤ 1 (a few ulps).
const close = (a: number, b: number): void => expect(a).toBeCloseTo(b, 15)

describe('schedules at chosen steps', () => {
  it('constant', () => {
    expect([0, 1, 1e6].map(constant(0.3))).toEqual([0.3, 0.3, 0.3])
    expect(valueAt(0.7, 12)).toBe(0.7)
    expect(valueAt((s) => s * 2, 12)).toBe(24)
  })

  it('linear: a + (b − a)·clamp((t − begin)/T, 0, 1)', () => {
    const s = linear(1, 0.5, 10, { transitionBegin: 5 })
    // t = 0..5 → 1; t = 10 → 1 − 0.5·0.5 = 0.75; t = 15 and later → 0.5
    expect([0, 5, 10, 15, 100].map(s)).toEqual([1, 1, 0.75, 0.5, 0.5])
  })

  it('exponentialDecay: v·r^((t − begin)/T), staircase, end value', () => {
    const s = exponentialDecay(0.1, 1000, 0.5)
    // t = 2000: 0.1 · 0.5² = 0.025; t = 500: 0.1 · 0.5^½ = 0.1/√2
    close(s(2000), 0.025)
    close(s(500), 0.1 / Math.SQRT2)
    expect(s(0)).toBe(0.1)
    const stairs = exponentialDecay(0.1, 1000, 0.5, { staircase: true })
    // floor(1999/1000) = 1 → 0.05
    close(stairs(1999), 0.05)
    const delayed = exponentialDecay(0.1, 1000, 0.5, { transitionBegin: 100, endValue: 0.03 })
    // before 100: 0.1; t = 1100: 0.05; t = 5100: 0.1/32 = 0.003125 < 0.03 → floored at 0.03
    expect(delayed(50)).toBe(0.1)
    close(delayed(1100), 0.05)
    expect(delayed(5100)).toBe(0.03)
  })

  it('cosineDecay: v·((1 − α)·½(1 + cos(π min(t, T)/T)) + α)', () => {
    const s = cosineDecay(2, 100)
    // t = 0 → 2; t = 50: cos(π/2) = 0 → 1; t = 25: ½(1 + √2/2)·2 = 1 + √2/2; t ≥ 100 → 0
    close(s(0), 2)
    close(s(50), 1)
    close(s(25), 1 + Math.SQRT1_2)
    close(s(100), 0)
    close(s(500), 0)
    const withAlpha = cosineDecay(1, 100, { alpha: 0.1, exponent: 2 })
    // t = 50: 0.9 · (½)² + 0.1 = 0.325
    close(withAlpha(50), 0.325)
    close(withAlpha(100), 0.1)
  })

  it('warmupCosineDecay: linear warmup then cosine over the remaining steps', () => {
    const s = warmupCosineDecay(0, 1, 10, 110, { endValue: 0.2 })
    // warmup: t = 5 → 0.5; peak at t = 10 → 1; cosine over 100 steps from 1 to 0.2:
    // t = 60 → 0.2 + 0.8·½ = 0.6; t = 110 and later → 0.2
    close(s(0), 0)
    close(s(5), 0.5)
    close(s(10), 1)
    close(s(60), 0.6)
    close(s(110), 0.2)
    close(s(1000), 0.2)
  })

  it('piecewiseConstant: each scale applies from its boundary on', () => {
    const s = piecewiseConstant(1, { 100: 0.5, 200: 0.1 })
    // t < 100 → 1; 100 ≤ t < 200 → 0.5; t ≥ 200 → 0.05
    expect([0, 99, 100, 199].map(s)).toEqual([1, 1, 0.5, 0.5])
    close(s(200), 0.05)
    const fromPairs = piecewiseConstant(1, [
      [200, 0.1],
      [100, 0.5],
    ])
    expect([0, 150, 250].map(fromPairs)).toEqual([0, 150, 250].map(s))
  })

  it('rejects bad arguments', () => {
    expect(() => cosineDecay(1, 0)).toThrow(PurediffError)
    expect(() => warmupCosineDecay(0, 1, 10, 10)).toThrow('must exceed warmupSteps')
    expect(() => exponentialDecay(1, -1, 0.5)).toThrow('transitionSteps')
    expect(() => constant(0.1)(Number.NaN)).toThrow('step')
  })
})
