/**
 * `checkGrads` self-tests: it returns Right for a correct two-layer model at orders 1 and 2
 * in both modes (float64 and float32), and Left, naming the key path, mode, order,
 * expected, actual and tolerance, for deliberately broken rules: a `customJvp` with a wrong
 * tangent (fwd), a `customVjp` with a wrong cotangent (rev), a rule whose first derivative is
 * right but whose second is wrong (order 2 only), and a broken rule inside a tensor-valued
 * function (random output cotangents).
 *
 * Expected values in failures are derived by hand: each broken rule is wrong in one element
 * by a known factor, so the numeric derivative there is the closed form and the AD value is
 * that closed form times the factor.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  ConcreteTensor,
  Tensor,
  add,
  cos,
  customJvp,
  customVjp,
  jvp,
  matmul,
  mean,
  mul,
  random,
  sin,
  square,
  stack,
  stopGradient,
  sub,
  sum,
  tanh,
  tensor,
} from '../../src/index.js'
import { checkGrads, defaultTolerances, formatFailure } from '../../laws/index.js'
import type { CheckGradsOptions, GradCheckFailure } from '../../laws/index.js'

// -------------------------------------------------------------------------------------
// a correct two-layer model
// -------------------------------------------------------------------------------------

interface Layer {
  readonly w: Tensor
  readonly b: Tensor
}
interface Mlp {
  readonly l1: Layer
  readonly l2: Layer
}

const X = tensor([
  [0.5, -1, 2],
  [1, 0.3, -0.2],
  [-0.7, 0.8, 0.1],
  [0.2, -0.4, 1.5],
])
const Y = tensor([[1], [-0.5], [0.25], [0]])
const predict = (p: Mlp, x: Tensor): Tensor => add(matmul(tanh(add(matmul(x, p.l1.w), p.l1.b)), p.l2.w), p.l2.b)
const loss = (p: Mlp): Tensor => mean(square(sub(predict(p, X), Y)))

const params = (dtype: 'float64' | 'float32' = 'float64'): Mlp => ({
  l1: {
    w: tensor(
      [
        [0.1, 0.2, -0.3, 0.4, 0.05],
        [0.5, -0.6, 0.7, 0.1, -0.2],
        [-0.2, 0.3, 0.1, -0.5, 0.3],
      ],
      dtype,
    ),
    b: tensor([0.1, -0.1, 0.2, 0, 0.05], dtype),
  },
  l2: { w: tensor([[1], [-1], [0.5], [0.2], [-0.3]], dtype), b: tensor([0.3], dtype) },
})

const left = (r: ReturnType<typeof checkGrads>): GradCheckFailure => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

describe('checkGrads on a correct two-layer model', () => {
  it.each([1, 2])('returns Right at order %i in both modes (float64)', (order) => {
    const r = checkGrads(loss, params(), { order })
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) {
      expect(r.right.checks).toBeGreaterThan(0)
      expect(r.right.maxErrorRatio).toBeLessThanOrEqual(1)
      expect(r.right.modes).toEqual(['fwd', 'rev'])
      expect(r.right.dtype).toBe('float64')
      expect(r.right.atol).toBe(defaultTolerances.float64.atol)
      // the numeric side is far more accurate than the tolerance: a real margin, not a near miss
      expect(r.right.maxErrorRatio).toBeLessThan(0.01)
    }
  })
  it('checks more at order 2 (fwd-over-fwd, rev-over-fwd, fwd-over-rev, rev-over-rev)', () => {
    const r1 = checkGrads(loss, params(), { order: 1 })
    const r2 = checkGrads(loss, params(), { order: 2 })
    expect(E.isRight(r1) && E.isRight(r2) && r2.right.checks > r1.right.checks).toBe(true)
  })
  it('returns Right for a float32 model with float32 tolerances', () => {
    const r = checkGrads(loss, params('float32'), { order: 2 })
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) {
      expect(r.right.dtype).toBe('float32')
      expect(r.right.rtol).toBe(defaultTolerances.float32.rtol)
    }
  })
  it('handles a tensor-valued function (random output cotangents) and a number leaf', () => {
    const f = (p: { readonly w: Tensor; readonly s: number }) => mul(tanh(matmul(X, p.w)), p.s)
    const r = checkGrads(f, { w: tensor([[0.3], [-0.2], [0.9]]), s: 1.7 }, { order: 2 })
    expect(E.isRight(r)).toBe(true)
  })
  it('is deterministic for a seed', () => {
    expect(checkGrads(loss, params(), { seed: 7 })).toEqual(checkGrads(loss, params(), { seed: 7 }))
  })
})

// -------------------------------------------------------------------------------------
// broken rules
// -------------------------------------------------------------------------------------

// sin with a tangent 1.5× too large in element 1 only
const factor = tensor([1, 1.5, 1])
const badJvpSin = customJvp(
  (x: Tensor) => sin(x),
  (x, xDot) => [sin(x), mul(mul(xDot, cos(x)), factor)],
)
// sin with a cotangent 1.5× too large in element 1 only
const badVjpSin = customVjp(
  (x: Tensor) => sin(x),
  (x) => [sin(x), x] as const,
  (x, yBar) => mul(mul(yBar, cos(x)), factor),
)

// f(head) = Σ wᵢ·s(bᵢ): ∂f/∂b₁ = w₁·cos(b₁) for the true sine
const w = [1, 2, 3]
const b = [0.1, 0.2, 0.3]
const head = { head: { w: tensor(w), b: tensor(b) } }
const modelWith = (s: (x: Tensor) => Tensor) => (p: typeof head) => sum(mul(s(p.head.b), p.head.w))
const trueD = (w[1] as number) * Math.cos(b[1] as number)

const expectNamed = (f: GradCheckFailure, mode: 'fwd' | 'rev'): void => {
  expect(f.mode).toBe(mode)
  expect(f.order).toBe(1)
  expect(f.path).toBe('head.b[1]')
  expect(f.direction).toBe('basis')
  // numeric side: the true derivative (extrapolated central differences are good to ~1e-12)
  expect(Math.abs(f.expected - trueD)).toBeLessThan(1e-9)
  // AD side: the broken rule's value
  expect(Math.abs(f.actual - 1.5 * trueD)).toBeLessThan(1e-12)
  // fwd compares elements: scale |expected|; rev compares inner products: scale is the larger
  // of Σ|ȳᵢ(Jv)ᵢ| and Σ|x̄ⱼvⱼ|, which along a basis vector is max(|expected|, |actual|)
  const scale = mode === 'fwd' ? Math.abs(f.expected) : Math.max(Math.abs(f.expected), Math.abs(f.actual))
  expect(Math.abs(f.tolerance - (f.atol + f.rtol * scale))).toBeLessThan(1e-18)
  expect(f.error).toBeGreaterThan(f.tolerance)
  const msg = formatFailure(f)
  expect(msg).toContain("key path 'head.b[1]'")
  expect(msg).toContain('expected:')
  expect(msg).toContain('actual:')
  expect(msg).toContain('tolerance')
  expect(msg).toContain(mode === 'fwd' ? 'forward-mode' : 'reverse-mode')
}

describe('checkGrads on broken rules', () => {
  it('catches a customJvp with a wrong tangent in fwd mode, naming head.b[1]', () => {
    expectNamed(left(checkGrads(modelWith(badJvpSin), head, { modes: ['fwd'] })), 'fwd')
  })
  it('catches a customVjp with a wrong cotangent in rev mode, naming head.b[1]', () => {
    expectNamed(left(checkGrads(modelWith(badVjpSin), head, { modes: ['rev'] })), 'rev')
  })
  it('with both modes, the first failing mode is reported (fwd is checked first, as JAX)', () => {
    expect(left(checkGrads(modelWith(badJvpSin), head)).mode).toBe('fwd')
  })
  it('catches a wrong cotangent through a tensor-valued output with random cotangents', () => {
    const f = (p: { readonly x: Tensor }) => mul(badVjpSin(p.x), tensor([[1], [2]]))
    const fl = left(checkGrads(f, { x: tensor([0.4, -0.3, 1.1]) }, { modes: ['rev'] }))
    expect(fl.mode).toBe('rev')
    expect(fl.path).toBe('x[1]')
    expect(fl.output).toBe('⟨ȳ, ·⟩')
  })
  it('a first derivative that is right but not differentiable passes order 1 and fails order 2', () => {
    // d sin = stopGradient(cos x)·dx: correct value, but its own derivative is lost (0 instead of −sin x)
    const flat = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(xDot, stopGradient(cos(x)))],
    )
    const f = modelWith(flat)
    expect(E.isRight(checkGrads(f, head, { order: 1 }))).toBe(true)
    const fl = left(checkGrads(f, head, { order: 2 }))
    expect(fl.order).toBe(2)
    expect(fl.via).toHaveLength(1)
    expect(fl.path.startsWith('head.b[')).toBe(true)
    expect(formatFailure(fl)).toContain('order 2')
  })
  it('tolerances mean what they say: a 1e-8 relative error passes the defaults and fails rtol 1e-10', () => {
    const slightly = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(mul(xDot, cos(x)), 1 + 1e-8)],
    )
    const f = modelWith(slightly)
    expect(E.isRight(checkGrads(f, head))).toBe(true)
    const fl = left(checkGrads(f, head, { atol: 0, rtol: 1e-10 }))
    expect(fl.rtol).toBe(1e-10)
  })
})

// -------------------------------------------------------------------------------------
// regressions (outside audit)
// -------------------------------------------------------------------------------------

describe('the numeric step is set by the length of the displacement, not by ‖v‖∞', () => {
  // the cause of false failures on large models: with h = eps·(1 + ‖x‖∞)/‖v‖∞ a random
  // direction in n dimensions moved x by h·‖v‖₂ ≈ eps·(1 + ‖x‖∞)·√n/4 whatever the size
  // of x (≈ 50 times the step at n = 40 000). Now x moves by eps·(1 + ‖x‖₂): record every
  // concrete point f is evaluated at and measure how far it is from x.
  it('no evaluation of f is further than eps·(1 + ‖x‖₂) from x, whatever the dimension', () => {
    const n = 40_000
    // small parameters (‖x‖₂ ≈ 2.2), as in a freshly initialized layer
    const x0 = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 0.015)
    const xNorm = Math.sqrt(x0.reduce((s, v) => s + v * v, 0))
    let farthest = 0
    const f = (p: { readonly w: Tensor }) => {
      if (p.w instanceof ConcreteTensor) {
        const v = p.w.toTypedArray()
        let d2 = 0
        for (let i = 0; i < n; i++) d2 += ((v[i] as number) - (x0[i] as number)) ** 2
        farthest = Math.max(farthest, Math.sqrt(d2))
      }
      return sum(tanh(p.w))
    }
    const r = checkGrads(f, { w: tensor(Array.from(x0)) }, { modes: ['fwd'], directions: 1 })
    expect(E.isRight(r)).toBe(true)
    const eps = 2 ** (-52 / 5) // the default, ε^(1/(2k+3)) with k = 1
    const bound = eps * (1 + xNorm)
    expect(farthest).toBeGreaterThan(bound / 2) // h is a power of two in (bound/2, bound]
    expect(farthest).toBeLessThanOrEqual(bound * (1 + 1e-12))
  })

  // a two-layer tanh network with 25 418 parameters (784 → 32 → 10, as the first layer of
  // an MNIST model, on 16 rows): the failure mode of the 1024 × 784 → 128 model of the audit
  // (many dimensions, order 2, fwd over rev on l1.w) at a tenth of the cost. Before the
  // fix, seeds 1–5 were Left with a 'fwd' via ['rev'] failure on l1.w.
  const k = random.split(random.key(42), 5)
  const Xbig = random.uniform(k[0] as random.Key, [16, 784])
  const Ybig = random.uniform(k[1] as random.Key, [16, 10])
  const big: Mlp = {
    l1: {
      w: random.normal(k[2] as random.Key, [784, 32], { std: 0.1 }),
      b: random.normal(k[3] as random.Key, [32], { std: 0.1 }),
    },
    l2: { w: random.normal(k[4] as random.Key, [32, 10]), b: random.normal(random.key(7), [10]) },
  }
  const bigLoss = (p: Mlp): Tensor =>
    sum(square(sub(add(matmul(tanh(add(matmul(Xbig, p.l1.w), p.l1.b)), p.l2.w), p.l2.b), Ybig)))
  it.each([1, 2, 3, 4])('a correct 25 418-parameter model passes at order 2 with a wide margin (seed %i)', (seed) => {
    const r = checkGrads(bigLoss, big, { order: 2, seed })
    if (E.isLeft(r)) throw new Error(formatFailure(r.left))
    expect(r.right.checks).toBeGreaterThan(50_000)
    // measured: at most 0.0066 over seeds 0–9; before the fix 9 of those 10 seeds were
    // Left, the first failing comparison at 2.7–14 times its tolerance
    expect(r.right.maxErrorRatio).toBeLessThan(0.05)
  })
})

describe('the tolerance has a floor for the rounding noise of the numeric side', () => {
  const w = { w: tensor([0.5, -1.2, 2]) }
  const offset = (q: { readonly w: Tensor }) => add(1e8, sum(mul(q.w, 3)))
  it('a linear function with a value near 1e8 passes (the floor decides, and the report says so)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = checkGrads(offset, w, { seed })
      if (E.isLeft(r)) throw new Error(formatFailure(r.left))
      expect(r.right.noiseLimited).toBeGreaterThan(0)
      expect(r.right.maxNoiseRatio).toBeGreaterThan(1)
      expect(r.right.maxErrorRatio).toBeLessThanOrEqual(1)
    }
  })
  it('an ordinary function is never noise-limited: the floor is far below the tolerance', () => {
    const r = checkGrads(loss, params(), { order: 2 })
    expect(E.isRight(r) && r.right.noiseLimited === 0 && r.right.maxNoiseRatio < 1e-3).toBe(true)
  })
  it('a rule wrong by 1% is still caught next to a value of 1e8, and the failure shows the floor', () => {
    const slightlyOff = customJvp(
      (x: Tensor) => mul(x, 3),
      (_x, xDot) => [mul(_x, 3), mul(xDot, 3.03)],
    )
    const f = (q: { readonly w: Tensor }) => add(1e8, sum(slightlyOff(q.w)))
    for (const mode of ['fwd', 'rev'] as const) {
      const fl = left(checkGrads(f, w, { modes: [mode] }))
      expect(fl.error).toBeGreaterThan(fl.tolerance)
      expect(fl.direction).toBe('basis')
      // along a basis vector the scale is at most max(|expected|, |actual|) ≈ 3.03, so
      // atol + rtol·scale < 5e-6: here the floor (≈ 1.4e-4) is the tolerance
      expect(fl.noise).toBeGreaterThan(fl.atol + fl.rtol * 3.03)
      expect(fl.tolerance).toBe(fl.noise)
      expect(formatFailure(fl)).toContain("the numeric side's rounding-noise floor")
      expect(formatFailure(fl)).toContain('noise:')
    }
  })
})

describe('a failure always reports numbers that are outside its tolerance', () => {
  // sin with a cotangent (1 + 1.4e-6) too large, applied to 16 scalar leaves: each leaf alone
  // is within tolerance, the sum along a random direction often is not. Before the fix,
  // localize then reported the e_j measurement of one element anyway (68 of 75 failures
  // printed an error below their tolerance).
  const bad = customVjp(
    (x: Tensor) => sin(x),
    (x: Tensor) => [sin(x), x] as const,
    (x: Tensor, yBar: Tensor) => mul(mul(yBar, cos(x)), 1 + 1.4e-6),
  )
  const keys = Array.from({ length: 16 }, (_, i) => `p${i}`)
  const x = Object.fromEntries(keys.map((k, i) => [k, tensor(0.1 * i - 0.5)])) as Record<string, Tensor>
  const f = (p: Record<string, Tensor>) => sum(stack(keys.map((k) => bad(p[k] as Tensor))))
  it('every Left over 40 seeds in both modes has error > tolerance, and the numbers replay', () => {
    const lefts: GradCheckFailure[] = []
    for (let seed = 0; seed < 40; seed++) {
      for (const mode of ['fwd', 'rev'] as const) {
        const r = checkGrads(f, x, { modes: [mode], seed })
        if (E.isLeft(r)) lefts.push(r.left)
      }
    }
    expect(lefts.length).toBeGreaterThan(10)
    for (const fl of lefts) {
      expect(fl.error).toBeGreaterThan(fl.tolerance)
      expect(fl.error).toBe(Math.abs(fl.actual - fl.expected))
      // the AD number is the derivative along the reported tangent
      if (fl.mode === 'fwd') expect(jvp(f, x, fl.tangent as typeof x)[1].item()).toBeCloseTo(fl.actual, 12)
    }
    // the spread-out case is reported along the whole random direction
    const whole = lefts.filter((fl) => fl.direction === 'random' && fl.span === keys.length)
    expect(whole.length).toBeGreaterThan(0)
    expect(formatFailure(whole[0] as GradCheckFailure)).toContain('over all 16 elements')
  })
})

describe('options are validated', () => {
  const f = modelWith(sin)
  it.each([
    ['order', '0', { order: 0 }],
    ['order', '1.5', { order: 1.5 }],
    ['modes', '[]', { modes: [] }],
    ['modes', '["FWD"]', { modes: ['FWD'] }],
    ['modes', '"fwd"', { modes: 'fwd' }],
    ['directions', '0', { directions: 0 }],
    ['directions', '-1', { directions: -1 }],
    ['directions', '1.5', { directions: 1.5 }],
    ['atol', '-0.000001', { atol: -1e-6 }],
    ['atol', 'NaN', { atol: NaN }],
    ['rtol', '-1', { rtol: -1 }],
    ['rtol', 'NaN', { rtol: NaN }],
    ['rtol', 'Infinity', { rtol: Infinity }],
    ['seed', '1.5', { seed: 1.5 }],
    ['seed', 'NaN', { seed: NaN }],
    ['eps', '0', { eps: 0 }],
    ['eps', '-0.001', { eps: -1e-3 }],
    ['eps', 'NaN', { eps: NaN }],
    ['eps', '2', { eps: 2 }],
    ['richardson', '-1', { richardson: -1 }],
    ['richardson', '9', { richardson: 9 }],
  ])('%s = %s throws a RangeError naming the option and the value', (name, shown, o) => {
    expect(() => checkGrads(f, head, o as CheckGradsOptions)).toThrow(RangeError)
    expect(() => checkGrads(f, head, o as CheckGradsOptions)).toThrow(`checkGrads: ${name} must be`)
    expect(() => checkGrads(f, head, o as CheckGradsOptions)).toThrow(`got ${shown}`)
  })
  it('a wrong rule is not passed by a negative or NaN tolerance: it is an error', () => {
    expect(() => checkGrads(modelWith(badJvpSin), head, { atol: -1, rtol: -1 })).toThrow(RangeError)
    expect(() => checkGrads(modelWith(badJvpSin), head, { atol: NaN })).toThrow(RangeError)
  })
  it('valid edge values are accepted', () => {
    expect(
      E.isRight(
        checkGrads(f, head, { atol: 0, rtol: 1e-6, seed: -3, directions: 1, richardson: 0, modes: ['rev', 'rev'] }),
      ),
    ).toBe(true)
  })
})
