import { describe, expect, it } from 'vitest'
import { tensor } from '../../src/index.js'
import { key, normal, split } from '../../src/random/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import type { GradientTransformation } from '../../src/optim/index.js'
import {
  adabelief,
  adadelta,
  adafactor,
  adamax,
  applyUpdates,
  fromage,
  lamb,
  lars,
  lion,
  nadam,
  noisySgd,
  novograd,
  radam,
  sgdr,
  sm3,
  yogi,
} from '../../src/optim/index.js'

// The first two updates of each optimizer on the params { w: [1, −2], b: 0.5 } with gradients
// g₁ then g₂, against a plain-JS simulation of the update equations as written in the papers
// and optax's docs (a per-coordinate loop over numbers; per-leaf norms over the leaves w and b).
type P = { readonly w: Tensor; readonly b: number }
const params: P = { w: tensor([1, -2]), b: 0.5 }
const g1: P = { w: tensor([0.5, -4]), b: 2 }
const g2: P = { w: tensor([1, 3]), b: -1 }
const THETA = [1, -2, 0.5]
const GS = [
  [0.5, -4, 2],
  [1, 3, -1],
]
const LEAVES = [[0, 1], [2]] // coordinates of w, then b

const flat = (t: P): number[] => [...Array.from(t.w.toTypedArray()), t.b]
const twoSteps = <S>(opt: GradientTransformation<S>): [number[], number[]] => {
  const s0 = opt.init(params)
  const [u1, s1] = opt.update(g1, s0, params)
  const [u2] = opt.update(g2, s1, applyUpdates(params, u1))
  return [flat(u1), flat(u2)]
}
const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, digits = 13): void => {
  expect(a.length).toBe(b.length)
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i] as number, digits))
}
/** Run `step(t, g, θ) → u` twice, with θ updated in between, as the optimizer is. */
const simulate = (step: (t: number, g: number[], theta: number[]) => number[]): [number[], number[]] => {
  const u1 = step(1, GS[0] as number[], THETA)
  const theta1 = THETA.map((v, i) => v + (u1[i] as number))
  return [u1, step(2, GS[1] as number[], theta1)]
}
const leafNorm = (v: number[], leaf: number[]): number => Math.sqrt(leaf.reduce((s, i) => s + (v[i] as number) ** 2, 0))
const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0)

describe('first two steps against the update equations (η = 0.1)', () => {
  it('lion: u = −η(sign((1 − β₁)g + β₁m) + λθ), m = β₂m + (1 − β₂)g', () => {
    const [b1, b2, wd] = [0.9, 0.99, 1e-3]
    let m = [0, 0, 0]
    const ref = simulate((_t, g, th) => {
      const u = g.map((gi, i) => -0.1 * (sign((1 - b1) * gi + b1 * (m[i] as number)) + wd * (th[i] as number)))
      m = m.map((mi, i) => b2 * mi + (1 - b2) * (g[i] as number))
      return u
    })
    close(twoSteps(lion(0.1)).flat(), ref.flat())
  })

  it('adamax: m̂/max(β₂v, |g| + ε)', () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8]
    let m = [0, 0, 0]
    let v = [0, 0, 0]
    const ref = simulate((t, g) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      v = v.map((vi, i) => Math.max(b2 * vi, Math.abs(g[i] as number) + eps))
      return m.map((mi, i) => (-0.1 * mi) / (1 - b1 ** t) / (v[i] as number))
    })
    close(twoSteps(adamax(0.1)).flat(), ref.flat())
  })

  it('nadam: (β₁m/(1 − β₁ᵗ⁺¹) + (1 − β₁)g/(1 − β₁ᵗ)) / (√v̂ + ε)', () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8]
    let m = [0, 0, 0]
    let v = [0, 0, 0]
    const ref = simulate((t, g) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      v = v.map((vi, i) => b2 * vi + (1 - b2) * (g[i] as number) ** 2)
      return m.map((mi, i) => {
        const mHat = (b1 * mi) / (1 - b1 ** (t + 1)) + ((1 - b1) * (g[i] as number)) / (1 - b1 ** t)
        return (-0.1 * mHat) / (Math.sqrt((v[i] as number) / (1 - b2 ** t)) + eps)
      })
    })
    close(twoSteps(nadam(0.1)).flat(), ref.flat())
  })

  it('radam: ρ₁ = 1 and ρ₂ < 5, so the first steps are the bias-corrected momentum; rectified once ρ ≥ 5', () => {
    const b1 = 0.9
    let m = [0, 0, 0]
    const ref = simulate((t, g) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      return m.map((mi) => (-0.1 * mi) / (1 - b1 ** t))
    })
    close(twoSteps(radam(0.1)).flat(), ref.flat())
    // ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ) with ρ∞ = 2/(1 − β₂) − 1: with β₂ = 0.5, ρ∞ = 3 < 5, never rectified;
    // with β₂ = 0.999 ρ reaches 5 at t = 6 (ρ₅ ≈ 4.996, ρ₆ ≈ 5.995), where r multiplies Adam's step
    const rho = (t: number, b2: number): number => 2 / (1 - b2) - 1 - (2 * t * b2 ** t) / (1 - b2 ** t)
    expect(rho(5, 0.999)).toBeLessThan(5)
    expect(rho(6, 0.999)).toBeGreaterThan(5)
    const opt = radam(0.1)
    let s = opt.init(params)
    let p = params
    const gs = [g1, g2, g1, g2, g1, g2]
    let mm = [0, 0, 0]
    let vv = [0, 0, 0]
    let last: number[] = []
    gs.forEach((g, k) => {
      const [u, s1] = opt.update(g, s, p)
      s = s1
      p = applyUpdates(p, u)
      last = flat(u)
      const gv = flat(g)
      mm = mm.map((mi, i) => 0.9 * mi + 0.1 * (gv[i] as number))
      vv = vv.map((vi, i) => 0.999 * vi + 0.001 * (gv[i] as number) ** 2)
      if (k === 5) {
        const t = 6
        const ri = rho(t, 0.999)
        const rInf = 2 / 0.001 - 1
        const r = Math.sqrt(((ri - 4) * (ri - 2) * rInf) / ((rInf - 4) * (rInf - 2) * ri))
        close(
          last,
          mm.map(
            (mi, i) => (-0.1 * r * (mi / (1 - 0.9 ** t))) / (Math.sqrt((vv[i] as number) / (1 - 0.999 ** t)) + 1e-8),
          ),
          12,
        )
      }
    })
  })

  it('adabelief: s = β₂s + (1 − β₂)(g − m)² + ε_root, u = m̂/(√ŝ + ε)', () => {
    const [b1, b2, eps, er] = [0.9, 0.999, 1e-16, 1e-16]
    let m = [0, 0, 0]
    let s = [0, 0, 0]
    const ref = simulate((t, g) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      s = s.map((si, i) => b2 * si + (1 - b2) * ((g[i] as number) - (m[i] as number)) ** 2 + er)
      return m.map((mi, i) => (-0.1 * (mi / (1 - b1 ** t))) / (Math.sqrt((s[i] as number) / (1 - b2 ** t)) + eps))
    })
    close(twoSteps(adabelief(0.1)).flat(), ref.flat())
  })

  it('yogi: v = v − (1 − β₂) sign(v − g²) g², m and v from 1e-6, u = m/(√v + ε)', () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-3]
    let m = [1e-6, 1e-6, 1e-6]
    let v = [1e-6, 1e-6, 1e-6]
    const ref = simulate((_t, g) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      v = v.map((vi, i) => vi - (1 - b2) * sign(vi - (g[i] as number) ** 2) * (g[i] as number) ** 2)
      return m.map((mi, i) => (-0.1 * mi) / (Math.sqrt(v[i] as number) + eps))
    })
    close(twoSteps(yogi(0.1)).flat(), ref.flat())
  })

  it('lamb: the Adam direction (ε = 1e-6) plus λθ, times ‖θ‖/‖·‖ per leaf', () => {
    const [b1, b2, eps, wd] = [0.9, 0.999, 1e-6, 0.01]
    let m = [0, 0, 0]
    let v = [0, 0, 0]
    const ref = simulate((t, g, th) => {
      m = m.map((mi, i) => b1 * mi + (1 - b1) * (g[i] as number))
      v = v.map((vi, i) => b2 * vi + (1 - b2) * (g[i] as number) ** 2)
      const a = m.map(
        (mi, i) => mi / (1 - b1 ** t) / (Math.sqrt((v[i] as number) / (1 - b2 ** t)) + eps) + wd * (th[i] as number),
      )
      const u = [0, 0, 0]
      for (const leaf of LEAVES) {
        const ratio = leafNorm(th, leaf) / leafNorm(a, leaf)
        for (const i of leaf) u[i] = -0.1 * (a[i] as number) * ratio
      }
      return u
    })
    close(twoSteps(lamb(0.1, { weightDecay: wd })).flat(), ref.flat())
  })

  it('lars: trust ratio c‖θ‖/‖g + λθ‖ per leaf, the learning rate, then momentum', () => {
    const [c, wd, beta] = [1e-3, 0.01, 0.9]
    let m = [0, 0, 0]
    const ref = simulate((_t, g, th) => {
      const a = g.map((gi, i) => gi + wd * (th[i] as number))
      const step = [0, 0, 0]
      for (const leaf of LEAVES) {
        const ratio = (c * leafNorm(th, leaf)) / leafNorm(a, leaf)
        for (const i of leaf) step[i] = -0.1 * (a[i] as number) * ratio
      }
      m = m.map((mi, i) => (step[i] as number) + beta * mi)
      return m
    })
    close(twoSteps(lars(0.1, { weightDecay: wd })).flat(), ref.flat())
  })

  it('adafactor (unfactored leaves): ρₜ = 1 − t^−0.8, u = −η · clip(g/√V) · max(RMS θ, 1e-3)', () => {
    let v = [0, 0, 0]
    const ref = simulate((t, g, th) => {
      const rho = 1 - t ** -0.8
      v = v.map((vi, i) => rho * vi + (1 - rho) * ((g[i] as number) ** 2 + 1e-30))
      const y = g.map((gi, i) => gi / Math.sqrt(v[i] as number))
      const u = [0, 0, 0]
      for (const leaf of LEAVES) {
        const rms = Math.sqrt(leaf.reduce((s, i) => s + (y[i] as number) ** 2, 0) / leaf.length)
        const prms = Math.sqrt(leaf.reduce((s, i) => s + (th[i] as number) ** 2, 0) / leaf.length)
        for (const i of leaf) u[i] = ((-0.1 * (y[i] as number)) / Math.max(1, rms)) * Math.max(prms, 1e-3)
      }
      return u
    })
    close(twoSteps(adafactor(0.1)).flat(), ref.flat())
  })

  it('adafactor factors a matrix: V ≈ (row ⊗ col)/mean(row), one step checked', () => {
    const g = [
      [1, -2, 3],
      [0.5, 4, -1],
    ]
    const th = tensor([
      [1, 1, 1],
      [1, 1, 1],
    ])
    const opt = adafactor(0.1, { minDimSizeToFactor: 2, multiplyByParameterScale: false, clippingThreshold: null })
    const [u] = opt.update(tensor(g), opt.init(th), th)
    // t = 1: ρ = 0, so row = mean over columns of g², col = mean over rows of g²
    const g2 = g.map((r) => r.map((x) => x * x + 1e-30))
    const row = g2.map((r) => r.reduce((a, b) => a + b, 0) / 3)
    const col = [0, 1, 2].map((j) => ((g2[0]?.[j] as number) + (g2[1]?.[j] as number)) / 2)
    const rowMean = (row[0]! + row[1]!) / 2
    const expected = g.map((r, i) =>
      r.map((x, j) => (-0.1 * x) / Math.sqrt(((row[i] as number) / rowMean) * (col[j] as number))),
    )
    close(Array.from(u.toTypedArray()), expected.flat())
  })

  it('novograd: ν = ‖g‖² per leaf (then β₂ν + (1 − β₂)‖g‖²), m = g/(√ν + ε) (+ β₁m)', () => {
    const [b1, b2, eps] = [0.9, 0.25, 1e-6]
    let m = [0, 0, 0]
    let nu = [0, 0]
    const ref = simulate((t, g) => {
      LEAVES.forEach((leaf, k) => {
        const sq = leafNorm(g, leaf) ** 2
        nu[k] = t === 1 ? sq : b2 * (nu[k] as number) + (1 - b2) * sq
        for (const i of leaf)
          m[i] = (t === 1 ? 0 : b1 * (m[i] as number)) + (g[i] as number) / (Math.sqrt(nu[k] as number) + eps)
      })
      return m.map((mi) => -0.1 * mi)
    })
    nu = [0, 0]
    m = [0, 0, 0]
    close(twoSteps(novograd(0.1)).flat(), ref.flat())
  })

  it('sm3 on a vector (one cover set per entry): a = g² + a₋, m = βm + (1 − β)g/√a', () => {
    let a = [0, 0, 0]
    let m = [0, 0, 0]
    const ref = simulate((_t, g) => {
      a = a.map((ai, i) => ai + (g[i] as number) ** 2)
      m = m.map((mi, i) => 0.9 * mi + 0.1 * ((g[i] as number) / Math.sqrt(a[i] as number)))
      return m.map((mi) => -0.1 * mi)
    })
    close(twoSteps(sm3(0.1)).flat(), ref.flat())
  })

  it('sm3 on a matrix: accumulators are row and column maxima, the entry takes the smaller', () => {
    const G = [
      [
        [1, 2],
        [3, 0.5],
      ],
      [
        [-1, 1],
        [2, 2],
      ],
    ]
    const opt = sm3(1, 0)
    const th = tensor([
      [0, 0],
      [0, 0],
    ])
    let s = opt.init(th)
    let row = [0, 0]
    let col = [0, 0]
    for (const g of G) {
      const [u, s1] = opt.update(tensor(g), s, th)
      s = s1
      const acc = g.map((r, i) => r.map((x, j) => x * x + Math.min(row[i] as number, col[j] as number)))
      row = acc.map((r) => Math.max(...r))
      col = [0, 1].map((j) => Math.max(acc[0]?.[j] as number, acc[1]?.[j] as number))
      close(
        Array.from(u.toTypedArray()),
        g.flatMap((r, i) => r.map((x, j) => -x / Math.sqrt(acc[i]?.[j] as number))),
      )
    }
  })

  it('fromage: u = −η/√(1 + η²) · g‖θ‖/‖g‖ + (1/√(1 + η²) − 1)θ per leaf', () => {
    const lr = 0.1
    const mult = 1 / Math.sqrt(1 + lr * lr)
    const ref = simulate((_t, g, th) => {
      const u = [0, 0, 0]
      for (const leaf of LEAVES) {
        const ratio = leafNorm(th, leaf) / leafNorm(g, leaf)
        for (const i of leaf) u[i] = -lr * mult * (g[i] as number) * ratio + (mult - 1) * (th[i] as number)
      }
      return u
    })
    close(twoSteps(fromage(lr)).flat(), ref.flat())
  })

  it('adadelta: u = g √(E[Δ²] + ε)/√(E[g²] + ε)', () => {
    const [rho, eps] = [0.9, 1e-6]
    let eg = [0, 0, 0]
    let ex = [0, 0, 0]
    const ref = simulate((_t, g) => {
      eg = eg.map((e, i) => rho * e + (1 - rho) * (g[i] as number) ** 2)
      const d = g.map((gi, i) => (gi * Math.sqrt((ex[i] as number) + eps)) / Math.sqrt((eg[i] as number) + eps))
      ex = ex.map((e, i) => rho * e + (1 - rho) * (d[i] as number) ** 2)
      return d.map((x) => -0.1 * x)
    })
    close(twoSteps(adadelta(0.1)).flat(), ref.flat())
  })

  it('noisySgd: u = −η(g + √(η₀/tᵞ) z), z from split(key, leaves + 1)', () => {
    const [u1, u2] = twoSteps(noisySgd(0.1, { key: key(5) }))
    // the noise of step t: split the carried key into [next, k_b, k_w] (leaves in order b, w)
    let k = key(5)
    const noise = (t: number): number[] => {
      const ks = split(k, 3)
      k = ks[0] as typeof k
      const zb = normal(ks[1] as typeof k, []).item()
      const zw = Array.from(normal(ks[2] as typeof k, [2]).toTypedArray())
      return [...zw, zb].map((z) => Math.sqrt(0.01 / t ** 0.55) * z)
    }
    const n1 = noise(1)
    const n2 = noise(2)
    close(
      u1,
      (GS[0] as number[]).map((g, i) => -0.1 * (g + (n1[i] as number))),
    )
    close(
      u2,
      (GS[1] as number[]).map((g, i) => -0.1 * (g + (n2[i] as number))),
    )
  })
})

describe('sgdr', () => {
  it('restarts each cycle at its boundary with its own warmup and cosine', () => {
    const s = sgdr([
      { initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 10 },
      { initValue: 0.1, peakValue: 0.5, warmupSteps: 0, decaySteps: 6, endValue: 0.05 },
    ])
    // cycle 1: linear 0 → 1 over 2 steps, then ½(1 + cos(π (t − 2)/8))
    expect(s(1)).toBeCloseTo(0.5, 15)
    expect(s(6)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 4) / 8)), 15)
    // cycle 2 starts at 10: 0.05 + 0.45 · ½(1 + cos(π (t − 10)/6)), held at 0.05 from 16 on
    expect(s(10)).toBeCloseTo(0.5, 15)
    expect(s(13)).toBeCloseTo(0.05 + 0.45 * 0.5 * (1 + Math.cos(Math.PI / 2)), 15)
    expect(s(100)).toBeCloseTo(0.05, 15)
  })
})
