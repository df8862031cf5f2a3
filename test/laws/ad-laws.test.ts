/**
 * The derivative law suites pass on correct code (a two-layer model over random
 * parameters) and each fails, with a shrunk counterexample and a message naming the key
 * path, on a deliberately broken function:
 * - a customJvp with a wrong tangent in one element → jvpMatchesNumeric, vjpMatchesNumeric;
 * - a customJvp whose tangent is affine, not linear, in xDot (reverse mode transposes only
 *   its linear part) → vjpJvpAdjoint, forwardEqualsReverse, jvpLinearInTangent;
 * - a customVjp whose "gradient" is a rotation field (not the gradient of anything) →
 *   hessianSymmetric;
 * - a function with hidden mutable state → chainRule;
 * - a rule whose derivative is right but not itself differentiable → perturbationConfusionFree
 *   (its nested-derivative check).
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Tensor,
  add,
  cos,
  customJvp,
  customVjp,
  matmul,
  mean,
  mul,
  neg,
  sin,
  square,
  stack,
  stopGradient,
  sub,
  sum,
  tanh,
  tensor,
} from '../../src/index.js'
import {
  arbParams,
  assertSuite,
  chainRule,
  checkSuite,
  customRuleLaws,
  derivativeLaws,
  forwardEqualsReverse,
  hessianSymmetric,
  jvpLinearInTangent,
  jvpMatchesNumeric,
  perturbationConfusionFree,
  vjpJvpAdjoint,
  vjpMatchesNumeric,
} from '../../laws/index.js'

const run = { numRuns: 12, seed: 20240601, includeErrorInReport: true }

/** Run a property expecting failure; return fast-check's report (counterexample + error). */
const failureOf = (prop: fc.IProperty<unknown>): string => {
  const d = fc.check(prop, run)
  expect(d.failed).toBe(true)
  const msg = fc.defaultReportMessage(d) ?? ''
  expect(msg).toContain('Counterexample')
  return msg
}

// -------------------------------------------------------------------------------------
// correct code
// -------------------------------------------------------------------------------------

const X = tensor([
  [0.5, -1, 2],
  [1, 0.3, -0.2],
  [-0.7, 0.8, 0.1],
])
const mlpSpec = { l1: { w: [3, 4], b: [4] }, l2: { w: [4, 1], b: [1] } }
type Mlp = {
  readonly l1: { readonly w: Tensor; readonly b: Tensor }
  readonly l2: { readonly w: Tensor; readonly b: Tensor }
}
const mlp = (p: Mlp): Tensor => mean(square(add(matmul(tanh(add(matmul(X, p.l1.w), p.l1.b)), p.l2.w), p.l2.b)))
const arbMlp = arbParams(mlpSpec)

describe('derivative laws hold on correct code', () => {
  it('every law of derivativeLaws passes on a two-layer model', () => {
    assertSuite(derivativeLaws(mlp, arbMlp, { order: 2 }), { numRuns: 8, seed: 1 })
  })
  it('chainRule holds for a composition of correct functions', () => {
    const f = (p: Mlp) => tanh(add(matmul(X, p.l1.w), p.l1.b))
    const g = (h: Tensor) => sum(mul(sin(h), h))
    fc.assert(chainRule(f, g, arbMlp), run)
  })
  it('customRuleLaws pass for a correct custom rule and its reference', () => {
    const goodSin = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(xDot, cos(x))],
    )
    const suite = customRuleLaws((p: { readonly x: Tensor }) => sum(goodSin(p.x)), arbParams({ x: [3] }), {
      reference: (p) => sum(sin(p.x)),
    })
    expect(Object.keys(suite).sort()).toEqual([
      'jvpMatchesNumeric',
      'valueMatchesReference',
      'vjpJvpAdjoint',
      'vjpMatchesNumeric',
    ])
    assertSuite(suite, run)
  })
})

// -------------------------------------------------------------------------------------
// broken code
// -------------------------------------------------------------------------------------

// wrong by 1.5× in element 2 only, so the failure must name that element
const wrongTangent = customJvp(
  (x: Tensor) => sin(x),
  (x, xDot) => [sin(x), mul(mul(xDot, cos(x)), tensor([1, 1, 1.5, 1]))],
)
// tangent = cos(x)·xDot + 0.1: not linear in xDot; reverse mode transposes only the linear part
const affineTangent = customJvp(
  (x: Tensor) => sin(x),
  (x, xDot) => [sin(x), add(mul(xDot, cos(x)), 0.1)],
)
const withHead = (s: (x: Tensor) => Tensor) => (p: { readonly head: { readonly b: Tensor; readonly w: Tensor } }) =>
  sum(mul(s(p.head.b), p.head.w))
const arbHead = arbParams({ head: { b: [4], w: { shape: [4], min: 0.5, max: 2 } } })

describe('derivative laws fail on broken code, naming the key path', () => {
  it('jvpMatchesNumeric catches a wrong tangent at head.b[2]', () => {
    const msg = failureOf(jvpMatchesNumeric(withHead(wrongTangent), arbHead))
    expect(msg).toContain("key path 'head.b[2]'")
    expect(msg).toMatch(/expected: .*\n.*actual: /s)
    expect(msg).toContain('tolerance')
  })
  it('vjpMatchesNumeric catches the same wrong rule (transposed) in rev mode', () => {
    const msg = failureOf(vjpMatchesNumeric(withHead(wrongTangent), arbHead))
    expect(msg).toContain('reverse-mode')
    expect(msg).toContain("key path 'head.b[2]'")
  })
  it('vjpJvpAdjoint catches a tangent that is not linear in xDot', () => {
    const msg = failureOf(vjpJvpAdjoint(withHead(affineTangent), arbHead))
    expect(msg).toContain('vjpJvpAdjoint')
    // the offset appears along every direction (even one that moves only head.w), so any
    // element may be blamed; the message still names one
    expect(msg).toMatch(/input key path 'head\.[bw]\[\d\]'/)
  })
  it('forwardEqualsReverse catches it too, naming the input element', () => {
    const msg = failureOf(forwardEqualsReverse(withHead(affineTangent), arbHead))
    expect(msg).toContain('forwardEqualsReverse')
    expect(msg).toMatch(/input key path 'head\.b\[\d\]'/)
  })
  it('jvpLinearInTangent catches it, naming the output element', () => {
    const f = (p: { readonly x: Tensor }) => affineTangent(p.x)
    const msg = failureOf(jvpLinearInTangent(f, arbParams({ x: [4] })))
    expect(msg).toContain('jvpLinearInTangent')
    expect(msg).toMatch(/output key path '\[\d\]'/)
  })
  it('hessianSymmetric catches a "gradient" that is a rotation field', () => {
    // f(x) = x₀·x₁ with the pullback ȳ·(x₁, −x₀): its Jacobian [[0, 1], [−1, 0]] is not symmetric
    const twisted = customVjp(
      (x: Tensor) => mul(sum(mul(x, tensor([1, 0]))), sum(mul(x, tensor([0, 1])))),
      (x) => [mul(sum(mul(x, tensor([1, 0]))), sum(mul(x, tensor([0, 1])))), x] as const,
      (x, yBar) => mul(yBar, stack([sum(mul(x, tensor([0, 1]))), neg(sum(mul(x, tensor([1, 0]))))])),
    )
    const msg = failureOf(hessianSymmetric((p: { readonly x: Tensor }) => twisted(p.x), arbParams({ x: [2] })))
    expect(msg).toContain('hessianSymmetric')
    expect(msg).toMatch(/input key path 'x\[[01]\]'/)
  })
  it('chainRule catches a function with hidden mutable state', () => {
    let calls = 0
    const f = (p: { readonly x: Tensor }) => tanh(p.x)
    const leaky = (y: Tensor) => mul(y, ++calls) // a different function at every call
    const msg = failureOf(chainRule(f, leaky, arbParams({ x: [3] })))
    expect(msg).toContain('chainRule')
  })
  it('perturbationConfusionFree catches a nested derivative that is wrong', () => {
    const flat = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(xDot, stopGradient(cos(x)))],
    )
    const msg = failureOf(perturbationConfusionFree(withHead(flat), arbHead))
    expect(msg).toContain('perturbationConfusionFree')
    expect(msg).toContain('nested')
  })
  it('customRuleLaws report each failing law by name', () => {
    const r = checkSuite(
      customRuleLaws((p: { readonly x: Tensor }) => sum(wrongTangent(p.x)), arbParams({ x: [4] }), {
        reference: (p) => sum(sin(p.x)),
      }),
      run,
    )
    expect(r._tag).toBe('Left')
    if (r._tag === 'Left') {
      expect(Object.keys(r.left).sort()).toEqual(['jvpMatchesNumeric', 'vjpMatchesNumeric'])
      expect(r.left['jvpMatchesNumeric']).toContain("key path 'x[2]'")
    }
  })
  it('shrinks counterexamples: the reported parameters are the shrunk ones', () => {
    const d = fc.check(jvpMatchesNumeric(withHead(wrongTangent), arbHead), run)
    expect(d.failed).toBe(true)
    expect(d.numShrinks).toBeGreaterThan(0)
    expect(sub).toBeDefined()
  })
})

// -------------------------------------------------------------------------------------
// tolerances: numeric comparisons take atol/rtol, rounding-level ones take ad (module header)
// -------------------------------------------------------------------------------------

describe('tolerance semantics are the same in every law and suite', () => {
  const failing = (s: ReturnType<typeof derivativeLaws>): string[] => {
    const r = checkSuite(s, run)
    return r._tag === 'Left' ? Object.keys(r.left).sort() : []
  }
  // tangent = cos(x)·xDot + 1e-7: within 1e-6 of central differences, but 1e-7 away from
  // linear, so the laws between automatic derivatives (default 1e-9) see it
  const slightlyAffine = customJvp(
    (x: Tensor) => sin(x),
    (x, xDot) => [sin(x), add(mul(xDot, cos(x)), 1e-7)],
  )
  const g = (p: { readonly x: Tensor }) => sum(slightlyAffine(p.x))
  const arbX = arbParams({ x: [3] })
  const adLaws = ['forwardEqualsReverse', 'jvpLinearInTangent', 'vjpJvpAdjoint']
  it('derivativeLaws: ad sets the tolerance of the laws between automatic derivatives', () => {
    expect(failing(derivativeLaws(g, arbX))).toEqual(adLaws)
    expect(failing(derivativeLaws(g, arbX, { ad: { atol: 1e-5, rtol: 1e-5 } }))).toEqual([])
  })
  it('derivativeLaws: atol/rtol (numeric comparisons) do not loosen the laws between automatic derivatives', () => {
    expect(failing(derivativeLaws(g, arbX, { atol: 1e-3, rtol: 1e-3 }))).toEqual(adLaws)
  })
  it('customRuleLaws: vjpJvpAdjoint takes ad, not the numeric atol/rtol', () => {
    expect(failing(customRuleLaws(g, arbX, { atol: 1e-3, rtol: 1e-3 }))).toEqual(['vjpJvpAdjoint'])
    expect(failing(customRuleLaws(g, arbX, { ad: { atol: 1e-5, rtol: 1e-5 } }))).toEqual([])
  })
  it('customRuleLaws: the value is compared with the ad tolerance of its dtype (float32 rounding passes, a 1e-3 error does not)', () => {
    const goodSin = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(xDot, cos(x))],
    )
    const arb32 = arbParams({ x: [4] }, { dtype: 'float32' })
    // sin x = 2·sin(x/2)·cos(x/2): equal up to a few float32 roundings
    const reference = (p: { readonly x: Tensor }) => sum(mul(mul(2, sin(mul(p.x, 0.5))), cos(mul(p.x, 0.5))))
    const custom = (p: { readonly x: Tensor }) => sum(goodSin(p.x))
    expect(failing(customRuleLaws(custom, arb32, { reference }))).toEqual([])
    const off = (p: { readonly x: Tensor }) => add(sum(goodSin(p.x)), 1e-3)
    expect(failing(customRuleLaws(off, arb32, { reference }))).toEqual(['valueMatchesReference'])
    // and ad: { atol: 0, rtol: 0 } asks for bit-for-bit equality, of the value and of the
    // two automatic derivatives alike
    expect(failing(customRuleLaws(custom, arb32, { reference, ad: { atol: 0, rtol: 0 } }))).toEqual([
      'valueMatchesReference',
      'vjpJvpAdjoint',
    ])
  })
  it('perturbationConfusionFree: the exactness checks take ad, the nested-vs-numeric check atol/rtol', () => {
    // a function with hidden state that drifts by 1e-8 relative at each call: φ inside the
    // outer derivative is not the φ(0) computed before it, which the exactness checks see
    let calls = 0
    const drifting = (p: { readonly x: Tensor }) => mul(sum(sin(p.x)), 1 + 1e-8 * ++calls)
    expect(failureOf(perturbationConfusionFree(drifting, arbX))).toContain('d/ds [s·φ(s)] at s = 0 must equal φ(0)')
    // a loose numeric tolerance does not loosen the exactness checks
    expect(failureOf(perturbationConfusionFree(drifting, arbX, { atol: 1e-3, rtol: 1e-3 }))).toContain(
      'd/ds [s·φ(s)] at s = 0 must equal φ(0)',
    )
    // a loose ad tolerance does, and then the numeric check (1e-6 by default) sees the drift
    expect(failureOf(perturbationConfusionFree(drifting, arbX, { ad: { atol: 1e-3, rtol: 1e-3 } }))).toContain(
      'disagrees with a central difference',
    )
    expect(
      fc.check(
        perturbationConfusionFree(drifting, arbX, { atol: 1e-3, rtol: 1e-3, ad: { atol: 1e-3, rtol: 1e-3 } }),
        run,
      ).failed,
    ).toBe(false)
  })
  it('invalid tolerances are errors when a law is built, naming the law and the option', () => {
    expect(() => vjpJvpAdjoint(g, arbX, { atol: -1 })).toThrow(
      'vjpJvpAdjoint: atol must be a finite number ≥ 0, got -1',
    )
    expect(() => hessianSymmetric(g, arbX, { rtol: NaN })).toThrow(RangeError)
    expect(() => derivativeLaws(g, arbX, { ad: { rtol: -1 } })).toThrow('derivativeLaws: ad: rtol must be')
    expect(() => jvpMatchesNumeric(g, arbX, { directions: 0 })).toThrow(
      'jvpMatchesNumeric: directions must be a positive integer, got 0',
    )
    expect(() => customRuleLaws(g, arbX, { atol: NaN })).toThrow(RangeError)
  })
})
