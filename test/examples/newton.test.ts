import { describe, expect, it } from 'vitest'
import { converge, halley, main, newton } from '../../examples/newton.js'
import { mul, sub, type Tensor } from '../../src/index.js'
import { iterate } from '../../src/train/Stream.js'

describe('examples/newton', () => {
  const lines: string[] = []
  const r = main({ log: (l) => lines.push(l) })

  it('finds √2 to the last bit, with quadratic convergence (e_{k+1} ≈ e_k² / 2√2)', () => {
    expect(Math.abs(r.sqrt2.root - Math.SQRT2)).toBeLessThanOrEqual(Number.EPSILON * Math.SQRT2)
    const e = r.sqrt2.iterates.map((x) => Math.abs(x - Math.SQRT2))
    // f″ / 2f′ at √2 is 2 / (4√2) = 1 / (2√2) ≈ 0.354; the ratio tends to it as e → 0
    const c = 1 / (2 * Math.SQRT2)
    expect(e[3]! / e[2]! ** 2).toBeCloseTo(c, 2)
    expect(e[4]! / e[3]! ** 2).toBeCloseTo(c, 2)
  })

  it("Halley's method (second derivative by nesting) converges cubically, in fewer steps", () => {
    expect(Math.abs(r.sqrt2Halley.root - Math.SQRT2)).toBeLessThanOrEqual(Number.EPSILON * Math.SQRT2)
    expect(r.sqrt2Halley.iterates.length).toBeLessThan(r.sqrt2.iterates.length)
    // for x² − 2 (f‴ = 0) the cubic constant is f″² / (4 f′²) = 4 / 32 = 1/8
    const e = r.sqrt2Halley.iterates.map((x) => Math.abs(x - Math.SQRT2))
    expect(e[2]! / e[1]! ** 3).toBeCloseTo(1 / 8, 1)
  })

  it("solves cos x = x and Kepler's equation to rounding, checked with Math.cos and Math.sin", () => {
    expect(Math.abs(Math.cos(r.dottie.root) - r.dottie.root)).toBeLessThanOrEqual(2 * Number.EPSILON)
    const { root: E, eccentricity: e, meanAnomaly: M } = r.kepler
    expect(Math.abs(E - e * Math.sin(E) - M)).toBeLessThanOrEqual(4 * Number.EPSILON)
  })

  it('minimises x⁴ − 3x³ + 2 by Newton on its derivative: the minimum is at 9/4', () => {
    expect(Math.abs(r.minimum.root - 9 / 4)).toBeLessThanOrEqual(Number.EPSILON * 2.25)
    // f″(9/4) = 12x² − 18x = 20.25 > 0: a minimum, not a maximum
    expect(12 * r.minimum.root ** 2 - 18 * r.minimum.root).toBeGreaterThan(0)
  })

  it('the iterates are a replayable stream and converge stops pulling at agreement', () => {
    const f = (x: Tensor | number): Tensor => sub(mul(x, x), 2)
    const s = newton(f)(1)
    expect([...converge()(s)]).toEqual([...converge()(s)])
    let pulls = 0
    const counted = iterate(1, (x) => {
      pulls++
      return x === 1 ? 0.5 : x // reaches a fixed point at 0.5 after one step
    })
    expect(converge(10)(counted)).toEqual([1, 0.5, 0.5])
    expect(pulls).toBe(2)
    // a budget of 2 steps keeps 3 iterates
    expect(converge(2)(halley(f)(100)).length).toBe(3)
  })

  it('prints every iterate', () => {
    expect(lines.filter((l) => /^\s+x\d+\s+= /.test(l)).length).toBe(
      [r.sqrt2, r.sqrt2Halley, r.dottie, r.kepler, r.minimum].reduce((s, p) => s + p.iterates.length, 0),
    )
  })
})
