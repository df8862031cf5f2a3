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
  Tensor, add, cos, customJvp, customVjp, matmul, mean, mul, sin, square, stopGradient, sub, sum, tanh, tensor,
} from '../../src/index.js'
import { checkGrads, defaultTolerances, formatFailure } from '../../laws/index.js'
import type { GradCheckFailure } from '../../laws/index.js'

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

const X = tensor([[0.5, -1, 2], [1, 0.3, -0.2], [-0.7, 0.8, 0.1], [0.2, -0.4, 1.5]])
const Y = tensor([[1], [-0.5], [0.25], [0]])
const predict = (p: Mlp, x: Tensor): Tensor => add(matmul(tanh(add(matmul(x, p.l1.w), p.l1.b)), p.l2.w), p.l2.b)
const loss = (p: Mlp): Tensor => mean(square(sub(predict(p, X), Y)))

const params = (dtype: 'float64' | 'float32' = 'float64'): Mlp => ({
  l1: {
    w: tensor([[0.1, 0.2, -0.3, 0.4, 0.05], [0.5, -0.6, 0.7, 0.1, -0.2], [-0.2, 0.3, 0.1, -0.5, 0.3]], dtype),
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
    const flat = customJvp((x: Tensor) => sin(x), (x, xDot) => [sin(x), mul(xDot, stopGradient(cos(x)))])
    const f = modelWith(flat)
    expect(E.isRight(checkGrads(f, head, { order: 1 }))).toBe(true)
    const fl = left(checkGrads(f, head, { order: 2 }))
    expect(fl.order).toBe(2)
    expect(fl.via).toHaveLength(1)
    expect(fl.path.startsWith('head.b[')).toBe(true)
    expect(formatFailure(fl)).toContain('order 2')
  })
  it('tolerances mean what they say: a 1e-8 relative error passes the defaults and fails rtol 1e-10', () => {
    const slightly = customJvp((x: Tensor) => sin(x), (x, xDot) => [sin(x), mul(mul(xDot, cos(x)), 1 + 1e-8)])
    const f = modelWith(slightly)
    expect(E.isRight(checkGrads(f, head))).toBe(true)
    const fl = left(checkGrads(f, head, { atol: 0, rtol: 1e-10 }))
    expect(fl.rtol).toBe(1e-10)
  })
})
