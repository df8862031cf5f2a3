/**
 * examples/gaussian-process: the gradient of the negative log marginal likelihood that
 * purediff derives through cholesky, triangularSolve and logdet equals the closed form
 * −½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ) (Rasmussen & Williams eq. 5.9), computed here in plain JS with a
 * Gauss–Jordan inverse; the value equals ½ yᵀK⁻¹y + ½ log det K + (n/2) log 2π; and a short
 * run (small mode) lowers the objective and writes the plot with its band.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { data, main, nlml, type Theta } from '../../examples/gaussian-process.js'
import { grad, tensor } from '../../src/index.js'

type M = number[][]
const invert = (a0: M): [M, number] => {
  const n = a0.length
  const a = a0.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))])
  let logDet = 0
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i
    ;[a[k], a[p]] = [a[p]!, a[k]!]
    const piv = a[k]![k]!
    logDet += Math.log(Math.abs(piv))
    a[k] = a[k]!.map((v) => v / piv)
    for (let i = 0; i < n; i++) if (i !== k) a[i] = a[i]!.map((v, j) => v - a[i]![k]! * a[k]![j]!)
  }
  return [a.map((r) => r.slice(n)), logDet]
}

describe('examples/gaussian-process', () => {
  const { x, y } = data(12, 3)
  const xs = Array.from(x.toTypedArray())
  const ys = Array.from(y.toTypedArray())
  const [l, s, sn] = [0.7, 1.3, 0.2]
  const theta: Theta = { logLength: tensor(Math.log(l)), logScale: tensor(Math.log(s)), logNoise: tensor(Math.log(sn)) }
  const n = xs.length
  const kf = xs.map((a) => xs.map((b) => s * s * Math.exp(-((a - b) ** 2) / (2 * l * l))))
  const k = kf.map((r, i) => r.map((v, j) => v + (i === j ? sn * sn : 0)))
  const [kinv, logDet] = invert(k)
  const alpha = kinv.map((r) => r.reduce((acc, v, j) => acc + v * ys[j]!, 0))

  it('the objective equals ½ yᵀK⁻¹y + ½ log det K + (n/2) log 2π', () => {
    const want = 0.5 * ys.reduce((acc, v, i) => acc + v * alpha[i]!, 0) + 0.5 * logDet + (n / 2) * Math.log(2 * Math.PI)
    expect(Math.abs(nlml(theta, x, y).item() - want)).toBeLessThan(1e-11 * Math.abs(want) + 1e-12)
  })

  it('its gradient equals the closed form −½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ)', () => {
    const dK: Record<keyof Theta, M> = {
      logLength: kf.map((r, i) => r.map((v, j) => (v * (xs[i]! - xs[j]!) ** 2) / (l * l))),
      logScale: kf.map((r) => r.map((v) => 2 * v)),
      logNoise: xs.map((_, i) => xs.map((__, j) => (i === j ? 2 * sn * sn : 0))),
    }
    const g = grad((t: Theta) => nlml(t, x, y))(theta)
    for (const key of ['logLength', 'logScale', 'logNoise'] as const) {
      let tr = 0
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) tr += (alpha[i]! * alpha[j]! - kinv[i]![j]!) * dK[key][j]![i]!
      const want = -0.5 * tr
      expect(Math.abs(g[key].item() - want), key).toBeLessThan(1e-9 * (1 + Math.abs(want)))
    }
  })

  it('a short run lowers the objective and plots the fit with its ±2 sd band', () => {
    const dir = mkdtempSync(join(tmpdir(), 'purediff-gp-'))
    const lines: string[] = []
    const r = main({ n: 15, steps: 60, plot: join(dir, 'gp.svg'), log: (q) => lines.push(q) })
    expect(r.loss).toBeLessThan(r.startLoss - 1)
    expect([r.length, r.scale, r.noise].every((v) => Number.isFinite(v) && v > 0)).toBe(true)
    const svg = readFileSync(r.plotPath, 'utf8')
    for (const name of ['observations', 'posterior mean', 'mean + 2 sd', 'mean − 2 sd', 'truth'])
      expect(svg).toContain(name)
    expect(lines.some((q) => q.includes('fitted ℓ'))).toBe(true)
  })
})
