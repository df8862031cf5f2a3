import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main, TRUTH } from '../../examples/quadratic.js'

/** Least squares by the normal equations, solved by Gaussian elimination with pivoting. */
const leastSquares = (t: ReadonlyArray<number>, h: ReadonlyArray<number>): [number, number, number] => {
  const rows = t.map((ti) => [ti * ti, ti, 1])
  const A = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[i]! * r[j]!, 0)))
  const v = [0, 1, 2].map((i) => rows.reduce((s, r, k) => s + r[i]! * h[k]!, 0))
  for (let col = 0; col < 3; col++) {
    let piv = col
    for (let r = col + 1; r < 3; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r
    ;[A[col], A[piv]] = [A[piv]!, A[col]!]
    ;[v[col], v[piv]] = [v[piv]!, v[col]!]
    for (let r = col + 1; r < 3; r++) {
      const f = A[r]![col]! / A[col]![col]!
      for (let c = col; c < 3; c++) A[r]![c]! -= f * A[col]![c]!
      v[r]! -= f * v[col]!
    }
  }
  const x = [0, 0, 0]
  for (let r = 2; r >= 0; r--) {
    let s = v[r]!
    for (let c = r + 1; c < 3; c++) s -= A[r]![c]! * x[c]!
    x[r] = s / A[r]![r]!
  }
  return x as [number, number, number]
}

describe('examples/quadratic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-quadratic-'))
  const lines: string[] = []
  const result = main({ plot: join(dir, 'fit.svg'), log: (l) => lines.push(l) })

  it('gradient descent converges to the least-squares parabola', () => {
    const [a, b, c] = leastSquares(result.t, result.h)
    // The run stops when the loss no longer improves in float64, i.e. when the loss is
    // within a few ulps of its minimum; for a quadratic loss whose smallest curvature is
    // 0.17 that leaves the coefficients within about √(1e-17 / 0.17) ≈ 1e-8 of the optimum.
    expect(Math.abs(result.fit.a - a)).toBeLessThan(1e-6 * Math.abs(a))
    expect(Math.abs(result.fit.b - b)).toBeLessThan(1e-6 * Math.abs(b))
    expect(Math.abs(result.fit.c - c)).toBeLessThan(1e-6 * Math.abs(c))
    const residual =
      result.t.reduce((s, ti, k) => s + (a * ti * ti + b * ti + c - result.h[k]!) ** 2, 0) / result.t.length
    expect(Math.abs(result.loss - residual)).toBeLessThan(1e-12 * residual)
    // patience stopped it, well inside the budget
    expect(result.steps).toBeLessThan(5000)
  })

  it('recovers gravity from 41 noisy heights', () => {
    expect(result.t.length).toBe(41)
    // noise σ = 0.25 m: the standard error of g is 2σ·√((XᵀX)⁻¹)ₐₐ = 0.17 m/s², so 0.5 is about 3 of them
    expect(Math.abs(result.g - TRUTH.g)).toBeLessThan(0.5)
    expect(lines.some((l) => /^estimated g = \d+\.\d{3} m\/s²/.test(l))).toBe(true)
  })

  it('plots every measurement as a dot beside the fitted and true curves', () => {
    const svg = readFileSync(result.plotPath, 'utf8')
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.match(/<circle /g)!.length).toBe(41 + 1) // the measurements and their legend dot
    expect(svg).toContain('data-series="truth"')
    expect(svg).not.toMatch(/NaN|Infinity/)
  })

  it('is a pure function of its seed', () => {
    const again = main({ plot: join(dir, 'again.svg'), log: () => {} })
    expect(again.h).toEqual(result.h)
    expect(again.fit).toEqual(result.fit)
    const other = main({ plot: join(dir, 'other.svg'), seed: 7, log: () => {} })
    expect(other.h).not.toEqual(result.h)
  })
})
