import { describe, expect, it } from 'vitest'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import {
  Stream,
  add,
  fromTensors,
  grad,
  matmul,
  mean,
  mul,
  square,
  sub,
  sum,
  tensor,
  train,
  untilStep,
} from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { key } from '../../src/random/index.js'
import {
  addDecayedWeights,
  adam,
  applyIfFinite,
  applyUpdates,
  centralize,
  chain,
  clipByBlockRms,
  ema,
  injectHyperparams,
  lbfgs,
  masked,
  multiSteps,
  multiTransform,
  paramEma,
  scale,
  sgd,
} from '../../src/optim/index.js'
import type { LbfgsState } from '../../src/optim/index.js'

const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, digits = 13): void => {
  expect(a.length).toBe(b.length)
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i] as number, digits))
}

type P = { readonly w: Tensor; readonly b: Tensor; readonly head: { readonly w: Tensor } }
const params: P = { w: tensor([1, -2]), b: tensor([0.5]), head: { w: tensor([3]) } }
const g: P = { w: tensor([0.5, -4]), b: tensor([2]), head: { w: tensor([-1]) } }

describe('masked', () => {
  it('applies the inner transformation to masked-in leaves only; the rest pass through', () => {
    const t = masked(scale(10), (path) => path.endsWith('w'))
    const [u] = t.update(g, t.init(params), params)
    expect(flat(u.w)).toEqual([5, -40])
    expect(flat(u.head.w)).toEqual([-10])
    expect(flat(u.b)).toEqual([2])
  })
  it('takes a prefix tree of booleans; the inner state covers only the selected leaves', () => {
    const t = masked(adam(0.1), { w: false, b: true, head: true })
    const s0 = t.init(params)
    expect((s0.inner[0].mu as ReadonlyArray<Tensor>).length).toBe(2)
    const [u] = t.update(g, s0, params)
    close(flat(u.b), [-0.1 * (2 / (2 + 1e-8))])
    expect(flat(u.w)).toEqual([0.5, -4])
  })
  it('names the key path of a mask that does not fit', () => {
    const t = masked(scale(1), { w: true, b: true })
    expect(() => t.init(params)).toThrow(/head/)
  })
})

describe('multiTransform', () => {
  it('routes each leaf by its label (function or tree) to its own transformation and state', () => {
    const t = multiTransform({ fast: sgd(1), slow: sgd(0.01), frozen: scale(0) }, (path) =>
      path.startsWith('head') ? 'frozen' : path === 'b' ? 'slow' : 'fast',
    )
    const [u] = t.update(g, t.init(params), params)
    expect(flat(u.w)).toEqual([-0.5, 4])
    close(flat(u.b), [-0.02])
    expect(Math.abs(flat(u.head.w)[0] as number)).toBe(0)
    const t2 = multiTransform({ a: adam(0.1), s: sgd(0.5) }, { w: 'a', b: 's', head: { w: 's' } })
    const [u2, s2] = t2.update(g, t2.init(params), params)
    close(flat(u2.head.w), [0.5])
    close(flat(u2.w), [-0.1 * (0.5 / (0.5 + 1e-8)), -0.1 * (-4 / (4 + 1e-8))])
    expect(Object.keys(s2.inner).sort()).toEqual(['a', 's'])
  })
  it('rejects an unknown label, naming it and the path', () => {
    const t = multiTransform({ a: sgd(1) }, () => 'b')
    expect(() => t.init(params)).toThrow(/label 'b'/)
  })
})

describe('injectHyperparams', () => {
  it('evaluates schedules at the count; numbers are read from the state and may be changed there', () => {
    const t = injectHyperparams((h: { lr: number; wd: number }) => chain(addDecayedWeights(h.wd), sgd(h.lr)))({
      lr: (k) => 0.1 * (k + 1),
      wd: 0.5,
    })
    const s0 = t.init(params)
    expect(s0.hyperparams).toEqual({ lr: 0.1, wd: 0.5 })
    const [u1, s1] = t.update(g, s0, params)
    close(flat(u1.w), [-0.1 * (0.5 + 0.5 * 1), -0.1 * (-4 + 0.5 * -2)])
    expect(s1.hyperparams.lr).toBeCloseTo(0.2, 15)
    // change wd in the state: the next update uses it
    const s1b = { ...s1, hyperparams: { ...s1.hyperparams, wd: 0 } }
    const [u2] = t.update(g, s1b, params)
    close(flat(u2.w), [-0.2 * 0.5, -0.2 * -4])
  })
})

describe('multiSteps', () => {
  it('accumulates k gradients, then one inner update on their mean; zeros in between', () => {
    const t = multiSteps(adam(0.1), 3)
    let s = t.init(params)
    const gs = [g, { ...g, w: tensor([1.5, 2]) }, { ...g, w: tensor([1, -1]) }]
    const us: P[] = []
    for (const gi of gs) {
      const [u, s1] = t.update(gi, s, params)
      us.push(u)
      s = s1
    }
    expect(flat(us[0]!.w)).toEqual([0, 0])
    expect(flat(us[1]!.w)).toEqual([0, 0])
    // mean of w-gradients: [1, −1]; Adam's first step is −η m̂/(√v̂ + ε) = −η g/(|g| + ε)
    close(flat(us[2]!.w), [-0.1 / (1 + 1e-8), 0.1 / (1 + 1e-8)])
    expect(s.gradientStep).toBe(1)
    expect(s.miniStep).toBe(0)
  })
})

describe('applyIfFinite', () => {
  it('skips non-finite updates (zeros, inner state kept), counts them, applies after too many in a row', () => {
    const bad: P = { ...g, b: tensor([NaN]) }
    const t = applyIfFinite(adam(0.1), 1)
    const s0 = t.init(params)
    const [u1, s1] = t.update(bad, s0, params)
    expect(flat(u1.w)).toEqual([0, 0])
    expect(s1).toMatchObject({ notFiniteCount: 1, lastFinite: false, totalNotFinite: 1 })
    expect(s1.inner).toBe(s0.inner)
    // a finite update after a skipped one is Adam's first step (its state was kept at zero)
    const [u2, s2] = t.update(g, s1, params)
    close(flat(u2.w), [-0.1 * (0.5 / (0.5 + 1e-8)), -0.1 * (-4 / (4 + 1e-8))])
    expect(s2).toMatchObject({ notFiniteCount: 0, lastFinite: true, totalNotFinite: 1 })
    // with a stateless inner transformation: the second bad update in a row exceeds 1 and is applied
    const t2 = applyIfFinite(sgd(1), 1)
    const [, r1] = t2.update(bad, t2.init(params), params)
    const [v2, r2] = t2.update(bad, r1, params)
    expect(Number.isNaN(flat(v2.b)[0])).toBe(true)
    expect(r2).toMatchObject({ notFiniteCount: 2, totalNotFinite: 2 })
  })
})

describe('ema, paramEma, clipByBlockRms, centralize', () => {
  it('ema: debiased running mean of the updates', () => {
    const t = ema(0.5)
    const [u1, s1] = t.update(tensor([2]), t.init(tensor([0])))
    const [u2] = t.update(tensor([4]), s1)
    // m₁ = 1, m̂₁ = 1/0.5 = 2; m₂ = 0.5 + 2 = 2.5, m̂₂ = 2.5/0.75
    close(flat(u1), [2])
    close(flat(u2), [2.5 / 0.75])
    const [v1] = ema(0.5, { debias: false }).update(tensor([2]), t.init(tensor([0])))
    close(flat(v1), [1])
  })
  it('paramEma: averages the updated params', () => {
    const t = paramEma(sgd(1), 0.9)
    const p0 = tensor([1])
    const [u1, s1] = t.update(tensor([1]), t.init(p0), p0)
    const p1 = applyUpdates(p0, u1)
    const [, s2] = t.update(tensor([1]), s1, p1)
    // θ₁ = 0, θ₂ = −1: θ̄₁ = 0.9 · 1 + 0.1 · 0 = 0.9, θ̄₂ = 0.81 − 0.1 = 0.71
    close(flat(s1.ema as Tensor), [0.9])
    close(flat(s2.ema as Tensor), [0.71])
  })
  it('clipByBlockRms: each leaf to RMS ≤ d', () => {
    const t = clipByBlockRms(1)
    const [u] = t.update(g, t.init(params))
    const rms = Math.sqrt((0.25 + 16) / 2)
    close(flat(u.w), [0.5 / rms, -4 / rms])
    close(flat(u.b), [1])
    close(flat(u.head.w), [-1])
  })
  it('centralize: subtract the mean over all axes but the first, for rank ≥ 2', () => {
    const t = centralize()
    const x = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [0, 0],
        [2, 6],
      ],
    ])
    const [u] = t.update(x, t.init(x))
    close(flat(u), [1 - 2.5, 2 - 2.5, 3 - 2.5, 4 - 2.5, -2, -2, 0, 4])
    const [v] = t.update(tensor([1, 2]), t.init(tensor([0, 0])))
    expect(flat(v)).toEqual([1, 2])
  })
})

describe('lbfgs', () => {
  // f(θ) = ½ θᵀAθ − bᵀθ with A = [[3, 1], [1, 2]], b = [1, −1]: minimum at A⁻¹b = [0.6, −0.8]
  const A = tensor([
    [3, 1],
    [1, 2],
  ])
  const bv = tensor([1, -1])
  const f = (p: Tensor): Tensor => sub(mul(0.5, sum(mul(p, matmul(A, p)))), sum(mul(bv, p)))
  const fJs = (x: number[]): number => 0.5 * (3 * x[0]! ** 2 + 2 * x[0]! * x[1]! + 2 * x[1]! ** 2) - (x[0]! - x[1]!)
  const gJs = (x: number[]): number[] => [3 * x[0]! + x[1]! - 1, x[0]! + 2 * x[1]! + 1]

  it('the first step satisfies the strong Wolfe conditions (checked in plain JS); then converges', () => {
    const opt = lbfgs(f)
    let p: Tensor = tensor([2, 2])
    let s: LbfgsState = opt.init(p)
    const x0 = flat(p)
    const g0 = gJs(x0)
    const [u, s1] = opt.update(grad(f)(p), s, p)
    const d = flat(u)
    const x1 = x0.map((v, i) => v + (d[i] as number))
    const slope0 = g0[0]! * d[0]! + g0[1]! * d[1]!
    expect(slope0).toBeLessThan(0)
    expect(fJs(x1)).toBeLessThanOrEqual(fJs(x0) + 1e-4 * slope0)
    const g1 = gJs(x1)
    expect(Math.abs(g1[0]! * d[0]! + g1[1]! * d[1]!)).toBeLessThanOrEqual(0.9 * Math.abs(slope0))
    expect(s1.linesearchOk).toBe(true)
    // first direction: −g, scaled to length 1/‖g‖ at α₀ (here the first trial is accepted or zoomed)
    const gn = Math.hypot(...g0)
    expect(d[0]! / d[1]!).toBeCloseTo(g0[0]! / g0[1]!, 12)
    expect(s1.stepSize).toBeGreaterThan(0)
    expect(gn).toBeGreaterThan(1)
    p = add(p, u)
    s = s1
    for (let k = 0; k < 10; k++) {
      const [uk, sk] = opt.update(grad(f)(p), s, p)
      p = add(p, uk)
      s = sk
    }
    close(flat(p), [0.6, -0.8], 10)
  })

  it('zooms when the first trial step overshoots, and the accepted step meets both conditions', () => {
    // on f(θ) = 50 θ² the unit step from θ = 0.001 (‖g‖ = 0.1 < 1, so α₀ = 1) overshoots by far
    const h = (p: Tensor): Tensor => mul(50, sum(square(p)))
    const opt = lbfgs(h)
    const p = tensor([0.001])
    const [u, s] = opt.update(grad(h)(p), opt.init(p), p)
    const x1 = 0.001 + flat(u)[0]!
    const slope0 = 100 * 0.001 * flat(u)[0]!
    expect(50 * x1 * x1).toBeLessThanOrEqual(50 * 1e-6 + 1e-4 * slope0)
    expect(Math.abs(100 * x1 * flat(u)[0]!)).toBeLessThanOrEqual(0.9 * Math.abs(slope0))
    expect(s.stepSize).toBeLessThan(1)
    expect(s.evaluations).toBeGreaterThan(2)
  })

  it('drives a training stream to the least-squares solution (full batch)', () => {
    const X = tensor([
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ])
    const Y = tensor([1, 3, 5, 7.5])
    const loss = (p: { readonly w: Tensor }): Tensor => mean(square(sub(matmul(X, p.w), Y)))
    const run = train({
      params: { w: tensor([0, 0]) },
      loss: (p: { readonly w: Tensor }) => loss(p),
      optimizer: lbfgs(loss),
      data: fromTensors({ x: X }),
      batchSize: 4,
      key: key(0),
    })
    const final = pipe(run, untilStep(15), Stream.last)
    if (O.isNone(final)) throw new Error('no state')
    // normal equations XᵀX w = Xᵀy: [[4, 6], [6, 14]] w = [16.5, 35.5] → w = [0.9, 2.15]
    close(flat(final.value.params.w), [0.9, 2.15], 10)
  })
})
