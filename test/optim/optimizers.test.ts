import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { grad, mul, square, sum, tensor } from '../../src/index.js'
import { Tensor, fromData } from '../../src/tensor/Tensor.js'
import type { DType } from '../../src/tensor/Tensor.js'
import type { GradientTransformation } from '../../src/optim/index.js'
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  applyUpdates,
  chain,
  clip,
  clipByGlobalNorm,
  identity,
  momentum,
  rmsprop,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  scaleBySchedule,
  sgd,
} from '../../src/optim/index.js'

// Params and two gradients with a tensor leaf and a number leaf. Expected updates are
// computed below from closed forms written out by hand, entry by entry, in plain JS.
type P = { readonly w: Tensor; readonly b: number }
const params: P = { w: tensor([1, -2]), b: 0.5 }
const g1: P = { w: tensor([0.5, -4]), b: 2 }
const g2: P = { w: tensor([1, 3]), b: -1 }
const G1 = [0.5, -4, 2] // w then b
const G2 = [1, 3, -1]
const THETA = [1, -2, 0.5]

const flat = (t: P): number[] => [...Array.from(t.w.toTypedArray()), t.b]
const expectClose = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>, digits = 14): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, digits))
}
/** The first two updates of an optimizer on (g1, g2). */
const twoSteps = <S>(opt: GradientTransformation<S>): [number[], number[]] => {
  const s0 = opt.init(params)
  const [u1, s1] = opt.update(g1, s0, params)
  const [u2] = opt.update(g2, s1, applyUpdates(params, u1))
  return [flat(u1), flat(u2)]
}
const deepFrozen = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null) return true
  if (!Object.isFrozen(x)) return false
  return Object.values(x).every(deepFrozen)
}
/** JSON with tensors as { shape, dtype, data }; `revive` rebuilds them. */
const encode = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) =>
    v instanceof Tensor ? { shape: v.shape, dtype: v.dtype, data: Array.from(v.toTypedArray()) } : v,
  )
const revive = (s: string): unknown =>
  JSON.parse(s, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && 'data' in v && 'shape' in v && 'dtype' in v) {
      const o = v as { shape: number[]; dtype: DType; data: number[] }
      return fromData(o.data, o.shape, o.dtype)
    }
    return v
  })

describe('first steps against hand-computed values (η = 0.1)', () => {
  it('sgd: u = −η g', () => {
    const [u1, u2] = twoSteps(sgd(0.1))
    expectClose(
      u1,
      G1.map((g) => -0.1 * g),
    )
    expectClose(
      u2,
      G2.map((g) => -0.1 * g),
    )
  })

  it('sgd with a schedule uses η(0) for the first update and η(1) for the second', () => {
    const [u1, u2] = twoSteps(sgd((step) => (step === 0 ? 0.5 : 0.25)))
    expect(u1).toEqual(G1.map((g) => -0.5 * g))
    expect(u2).toEqual(G2.map((g) => -0.25 * g))
  })

  it('momentum (β = 0.9): m₁ = g₁, m₂ = g₂ + β g₁; u = −η m', () => {
    // w[0]: m₁ = 0.5, u₁ = −0.05; m₂ = 1 + 0.45 = 1.45, u₂ = −0.145
    // w[1]: m₁ = −4, u₁ = 0.4;   m₂ = 3 − 3.6 = −0.6, u₂ = 0.06
    // b:    m₁ = 2, u₁ = −0.2;   m₂ = −1 + 1.8 = 0.8, u₂ = −0.08
    const [u1, u2] = twoSteps(momentum(0.1, 0.9))
    expectClose(u1, [-0.05, 0.4, -0.2])
    expectClose(u2, [-0.145, 0.06, -0.08])
  })

  it('Nesterov momentum: u = −η (g + β m)', () => {
    // u₁ = −η (g₁ + β g₁) = −0.19 g₁: [−0.095, 0.76, −0.38]
    // u₂ = −η (g₂ + β m₂), m₂ as above: w[0] −0.1(1 + 1.305) = −0.2305,
    //      w[1] −0.1(3 − 0.54) = −0.246, b −0.1(−1 + 0.72) = 0.028
    const [u1, u2] = twoSteps(momentum(0.1, 0.9, { nesterov: true }))
    expectClose(u1, [-0.095, 0.76, -0.38])
    expectClose(u2, [-0.2305, -0.246, 0.028])
  })

  it('adam: bias correction makes the first steps closed-form', () => {
    // With m₀ = v₀ = 0: m₁ = (1 − β₁) g₁ and 1 − β₁¹ = 1 − β₁, so m̂₁ = g₁; likewise v̂₁ = g₁².
    // Hence u₁ = −η g₁ / (|g₁| + ε) ≈ −η sign(g₁).
    // m₂ = β₁(1 − β₁) g₁ + (1 − β₁) g₂ = (1 − β₁)(β₁ g₁ + g₂) and 1 − β₁² = (1 − β₁)(1 + β₁), so
    // m̂₂ = (β₁ g₁ + g₂)/(1 + β₁); likewise v̂₂ = (β₂ g₁² + g₂²)/(1 + β₂); u₂ = −η m̂₂/(√v̂₂ + ε).
    const b1 = 0.9
    const b2 = 0.999
    const eps = 1e-8
    const [u1, u2] = twoSteps(adam(0.1))
    expectClose(
      u1,
      G1.map((g) => (-0.1 * g) / (Math.abs(g) + eps)),
    )
    expectClose(
      u2,
      G2.map((g, i) => {
        const h = G1[i] as number
        const mHat = (b1 * h + g) / (1 + b1)
        const vHat = (b2 * h * h + g * g) / (1 + b2)
        return (-0.1 * mHat) / (Math.sqrt(vHat) + eps)
      }),
    )
    // e.g. w[0]: m̂₂ = 1.45/1.9 = 0.76316, v̂₂ = 1.24975/1.999 = 0.62519, u₂ = −0.1 · 0.96519
    expect(u2[0]).toBeCloseTo(-0.096519, 5)
  })

  it('adamw adds λθ to the Adam direction before the learning rate', () => {
    // u₁ = −η (g₁/(|g₁| + ε) + λ θ₀), λ = 0.01
    const [u1] = twoSteps(adamw(0.1, { weightDecay: 0.01 }))
    expectClose(
      u1,
      G1.map((g, i) => -0.1 * (g / (Math.abs(g) + 1e-8) + 0.01 * (THETA[i] as number))),
    )
  })

  it('rmsprop (ρ = 0.9, ε = 1e-8 under the root): ν₁ = 0.1 g₁², ν₂ = 0.09 g₁² + 0.1 g₂²', () => {
    const [u1, u2] = twoSteps(rmsprop(0.1))
    expectClose(
      u1,
      G1.map((g) => (-0.1 * g) / Math.sqrt(0.1 * g * g + 1e-8)),
    )
    expectClose(
      u2,
      G2.map((g, i) => (-0.1 * g) / Math.sqrt(0.09 * (G1[i] as number) ** 2 + 0.1 * g * g + 1e-8)),
    )
  })

  it('adagrad (a₀ = 0.1, ε = 1e-7): s₁ = 0.1 + g₁², s₂ = s₁ + g₂²', () => {
    const [u1, u2] = twoSteps(adagrad(0.1))
    expectClose(
      u1,
      G1.map((g) => (-0.1 * g) / Math.sqrt(0.1 + g * g + 1e-7)),
    )
    expectClose(
      u2,
      G2.map((g, i) => (-0.1 * g) / Math.sqrt(0.1 + (G1[i] as number) ** 2 + g * g + 1e-7)),
    )
  })
})

describe('clipping', () => {
  const g = { a: tensor([3]), b: 4 } // global norm 5
  it('clipByGlobalNorm rescales to the bound and keeps the direction; trees inside pass unchanged', () => {
    const [u] = clipByGlobalNorm(1).update(g, clipByGlobalNorm(1).init(g))
    expectClose([...Array.from(u.a.toTypedArray()), u.b], [0.6, 0.8], 15)
    const [same] = clipByGlobalNorm(5).update(g, {})
    expect([same.a.toArray(), same.b]).toEqual([[3], 4])
    const [inside] = clipByGlobalNorm(10).update(g, {})
    expect([inside.a.toArray(), inside.b]).toEqual([[3], 4])
  })

  it('clip clamps each entry', () => {
    const [u] = clip(2).update({ a: tensor([-3, 1, 5]) }, {})
    expect(u.a.toArray()).toEqual([-2, 1, 2])
  })
})

describe('chain', () => {
  const g = { a: tensor([3]), b: 4 }
  it('applies its members left to right', () => {
    // scale then clip: norm 10 → clipped to 1: [0.6, 0.8]; clip then scale: norm 1 → 2: [1.2, 1.6]
    const [u1] = chain(scale(2), clipByGlobalNorm(1)).update(g, [{}, {}])
    const [u2] = chain(clipByGlobalNorm(1), scale(2)).update(g, [{}, {}])
    expectClose([u1.a.item(), u1.b], [0.6, 0.8], 15)
    expectClose([u2.a.item(), u2.b], [1.2, 1.6], 15)
  })

  it("holds the tuple of its members' states and advances each", () => {
    const opt = chain(
      identity(),
      scaleBySchedule(() => 2),
      scaleByAdam(),
    )
    const s0 = opt.init(g)
    expect(s0[1]).toEqual({ count: 0 })
    expect(s0[2].count).toBe(0)
    const [, s1] = opt.update(g, s0)
    const [u2, s2] = opt.update(g, s1)
    expect(s2[1]).toEqual({ count: 2 })
    expect(s2[2].count).toBe(2)
    // Adam of a constant gradient c (here 2g) has m̂ = c and v̂ = c² at every step: u = c/(|c| + ε)
    expectClose([u2.a.item(), u2.b], [6 / (6 + 1e-8), 8 / (8 + 1e-8)], 14)
  })

  it('scaleByLearningRate is −η', () => {
    const [u] = scaleByLearningRate(0.5).update(g, {})
    expect([u.a.item(), u.b]).toEqual([-1.5, -2])
  })
})

describe('state and purity', () => {
  const opts: ReadonlyArray<[string, GradientTransformation<unknown>]> = [
    ['sgd', sgd(0.1)],
    ['momentum', momentum(0.1, 0.9, { nesterov: true })],
    ['adam', adam(0.1)],
    ['adamw', adamw(0.1, { weightDecay: 0.1 })],
    ['rmsprop', rmsprop(0.1)],
    ['adagrad', adagrad(0.1)],
    [
      'clip+adam+schedule',
      chain(
        clipByGlobalNorm(1),
        adam((s) => 0.1 / (1 + s)),
      ),
    ],
  ]

  it.each(opts)('%s: params, grads and state are unchanged by update; results are deeply frozen', (_n, opt) => {
    const s0 = opt.init(params)
    const before = encode([params, g1, s0])
    const [u, s1] = opt.update(g1, s0, params)
    const p1 = applyUpdates(params, u)
    expect(encode([params, g1, s0])).toBe(before)
    for (const x of [s0, u, s1, p1]) expect(deepFrozen(x)).toBe(true)
  })

  it.each(opts)('%s: deterministic, and resumable from a JSON-encoded state', (_n, opt) => {
    // run 3 steps; separately run 1 step, encode the state and params to JSON, decode, run 2 more
    const run = (p0: P, s0: unknown, gs: ReadonlyArray<P>): [P, unknown] =>
      gs.reduce<[P, unknown]>(
        ([p, s], g) => {
          const [u, s1] = opt.update(g, s, p)
          return [applyUpdates(p, u), s1]
        },
        [p0, s0],
      )
    const gs = [g1, g2, g1]
    const [pA, sA] = run(params, opt.init(params), gs)
    const [pB] = run(params, opt.init(params), gs)
    expect(encode(pB)).toBe(encode(pA))
    const [p1, s1] = run(params, opt.init(params), gs.slice(0, 1))
    const [pR, sR] = revive(encode([p1, s1])) as [P, unknown]
    const [pC, sC] = run(pR, sR, gs.slice(1))
    expect(encode([pC, sC])).toBe(encode([pA, sA]))
  })

  it('number leaves stay numbers in updates, state and params', () => {
    const opt = adam(0.1)
    const [u, s] = opt.update(g1, opt.init(params), params)
    expect(typeof u.b).toBe('number')
    expect(typeof (s[0].mu as { b: unknown }).b).toBe('number')
    expect(typeof applyUpdates(params, u).b).toBe('number')
  })

  it('float32 params stay float32, as does the state', () => {
    const p = { w: tensor([1, 2], 'float32') }
    const opt = adam(0.1)
    const s0 = opt.init(p)
    const [u, s1] = opt.update({ w: tensor([0.5, -1], 'float32') }, s0, p)
    expect(applyUpdates(p, u).w.dtype).toBe('float32')
    expect((s1[0].nu as { w: Tensor }).w.dtype).toBe('float32')
    // float64 updates on float32 params are cast back to the params' dtype
    expect(applyUpdates(p, { w: tensor([0.1, 0.1]) }).w.dtype).toBe('float32')
  })

  it('is differentiable: the gradient of the loss after one sgd step (meta-gradient)', () => {
    // f(θ) = ½ a θ², θ₁ = θ − η a θ = (1 − ηa) θ, f(θ₁) = ½ a (1 − ηa)² θ², so d f(θ₁)/dθ = a (1 − ηa)² θ.
    const a = 3
    const eta = 0.1
    const f = (t: Tensor): Tensor => mul(0.5 * a, sum(square(t)))
    const opt = sgd(eta)
    const after = (t: Tensor): Tensor => {
      const [u] = opt.update(grad(f)(t), opt.init(t), t)
      return f(applyUpdates(t, u))
    }
    expect(grad(after)(tensor(2)).item()).toBeCloseTo(a * (1 - eta * a) ** 2 * 2, 14)
  })
})

describe('errors', () => {
  const expectError = (f: () => unknown, tag: string, fragments: ReadonlyArray<string>): void => {
    try {
      f()
    } catch (e) {
      expect(e).toBeInstanceOf(PurediffError)
      expect((e as PurediffError).tag).toBe(tag)
      for (const s of fragments) expect((e as PurediffError).message).toContain(s)
      return
    }
    throw new Error('expected a PurediffError')
  }

  it('grads that do not match the state name the key path', () => {
    const opt = adam(0.1)
    const s = opt.init(params)
    expectError(() => opt.update({ w: tensor([1, 2]) } as unknown as P, s, params), 'TreeError', [
      'scaleByAdam',
      'record keys differ',
      ': b',
    ])
    expectError(() => opt.update({ w: tensor([1, 2, 3]), b: 1 }, s, params), 'ShapeError', ["'w'", '[3] and [2]'])
  })

  it('weight decay needs the params; hyperparameters are checked', () => {
    expectError(() => addDecayedWeights(0.1).update(g1, {}), 'ValueError', ['addDecayedWeights', 'needs the params'])
    expectError(() => adam(0.1, { b1: 1 }), 'ValueError', ['b1'])
    expectError(() => clipByGlobalNorm(0), 'ValueError', ['maxNorm'])
    expectError(() => sgd(Number.NaN), 'ValueError', ['learning rate'])
  })
})
