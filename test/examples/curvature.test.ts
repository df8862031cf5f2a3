import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { curvature, main } from '../../examples/curvature.js'
import { mul, sin, type Tensor } from '../../src/index.js'

describe('examples/curvature', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-curvature-'))
  const r = main({ gdSteps: 2000, plot: join(dir, 'c.svg'), log: () => {} })

  it('the curvature of the catenary is 1 / cosh² x', () => {
    for (const [x, k] of r.catenary) expect(Math.abs(k - 1 / Math.cosh(x) ** 2)).toBeLessThan(1e-14)
    // the parabola y = x²/2: y′ = x, y″ = 1, so κ(0) = 1 and κ(1) = 1 / 2^{3/2}
    const parabola = (x: Tensor | number): Tensor => mul(0.5, mul(x, x))
    expect(curvature(parabola)(0)).toBe(1)
    expect(Math.abs(curvature(parabola)(1) - 2 ** -1.5)).toBeLessThan(1e-15)
    // y = sin x at π/2: y′ = 0, y″ = −1, so κ = 1
    expect(Math.abs(curvature(sin)(Math.PI / 2) - 1)).toBeLessThan(1e-15)
  })

  it("Rosenbrock's Hessian at (1, 1) is the closed form, with det 400 and trace 1002", () => {
    // ∂²f/∂x² = 2 − 400(y − x²) + 800x², ∂²f/∂x∂y = −400x, ∂²f/∂y² = 200, at x = y = 1
    const [x, y] = [1, 1]
    expect(r.hessianAtMinimum).toEqual([
      [2 - 400 * (y - x * x) + 800 * x * x, -400 * x],
      [-400 * x, 200],
    ])
    const [l1, l2] = r.eigenvalues
    expect(l1 + l2).toBeCloseTo(1002, 10)
    expect(l1 * l2).toBeCloseTo(400, 8)
    expect(r.conditionNumber).toBeGreaterThan(2500)
    expect(r.hessianVsNumeric).toBeLessThan(1e-6)
  })

  it("Newton's method lands on the minimum while gradient descent is still in the valley", () => {
    expect(r.newtonDistance.findIndex((d) => d < 1e-12)).toBeLessThanOrEqual(7)
    expect(r.newtonDistance[r.newtonDistance.length - 1]).toBe(0)
    expect(r.gdDistance.length).toBe(2001)
    expect(r.gdDistance[2000]).toBeGreaterThan(1e-3)
    expect(r.gdDistance[2000]).toBeLessThan(r.gdDistance[0]!)
  })

  it('the Hessian of logsumexp is diag(p) − p pᵀ and is flat along (1, …, 1)', () => {
    const x = [1, 2, 3, 0.5]
    const z = x.reduce((s, v) => s + Math.exp(v), 0)
    const p = x.map((v) => Math.exp(v) / z)
    r.lseHessian.forEach((row, i) =>
      row.forEach((h, j) => expect(Math.abs(h - ((i === j ? p[i]! : 0) - p[i]! * p[j]!))).toBeLessThan(1e-15)),
    )
    for (const v of r.lseFlat) expect(Math.abs(v)).toBeLessThan(1e-15)
  })

  it('plots both descents on logarithmic axes', () => {
    const svg = readFileSync(r.plotPath, 'utf8')
    expect(svg).toContain('data-series="Newton\'s method (Hessian)"'.replace("'", '&#39;'))
    expect(svg).not.toMatch(/NaN|Infinity/)
  })
})
