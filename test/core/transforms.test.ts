/**
 * The transforms through the public entry (`src/index.ts`): perturbation confusion, nesting
 * in all four combinations, derivative towers to the 9th order, Hessians and
 * Hessian-vector products against closed forms, Jacobians both ways, parameter records in
 * and out, `hasAux`, `stopGradient`, custom rules in every mode, and the contract's
 * failure modes (escaped tracers, shape errors, non-scalar outputs, mismatched trees,
 * frozen values, float32).
 *
 * Every expected value is computed independently of the code under test: by a closed form
 * written out here (with its derivation), by plain JS arithmetic on numbers, or by truncated
 * Taylor-series arithmetic (`test/helpers/taylor.ts`). Tolerances: results that are exact
 * math evaluated two ways in float64 agree to rtol 1e-12 unless a comment says otherwise.
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  Tracer,
  add,
  concat,
  cos,
  cosh,
  customJvp,
  customVjp,
  derivative,
  div,
  exp,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  maximum,
  mean,
  mul,
  neg,
  ones,
  reshape,
  round,
  scalar,
  sigmoid,
  sin,
  softmax,
  sqrt,
  stopGradient,
  sub,
  sum,
  tanh,
  tensor,
  valueAndGrad,
  vjp,
  where,
  zeros,
} from '../../src/index.js'
import { allClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'
import * as S from '../helpers/taylor.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const t = (x: number | ReadonlyArray<unknown>, dtype: 'float64' | 'float32' = 'float64'): Tensor =>
  tensor(x as number[], dtype)
const num = (x: Tensor | number): number => (typeof x === 'number' ? x : x.item())
const close = (actual: unknown, expected: unknown, rtol = 1e-12, atol = 0): void => {
  const r = allClose(actual as Tensor, expected as Tensor, rtol, atol)
  expect(r.ok, r.message).toBe(true)
}
/** Row-major values of a JS matrix-vector product (independent of the library). */
const matVec = (m: number[][], v: number[]): number[] =>
  m.map((row) => row.reduce((s, mij, j) => s + mij * (v[j] as number), 0))
/** softmax in plain JS, max-shifted. */
const jsSoftmax = (z: number[]): number[] => {
  const m = Math.max(...z)
  const e = z.map((zi) => Math.exp(zi - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((ei) => ei / s)
}
/** diag(s) − s·sᵀ: the Hessian of logsumexp at z with s = softmax(z). */
const lseHessian = (s: number[]): number[][] => s.map((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj))

// -------------------------------------------------------------------------------------
// perturbation confusion
// -------------------------------------------------------------------------------------

describe('perturbation confusion (Siskind & Pearlmutter 2008)', () => {
  // d/dx [x · d/dy (x + y)|_{y=1}] at x = 1. The inner derivative is 1 for every x, so the
  // function is x ↦ x and the answer is 1; confusing the two perturbations gives 2.
  const inner = (x: Tensor, d: (f: (y: Tensor) => Tensor) => (y: Tensor) => Tensor): Tensor => d((y) => add(x, y))(t(1))
  const byDerivative =
    (f: (y: Tensor) => Tensor) =>
    (y: Tensor): Tensor =>
      derivative(f)(y)
  const byGrad =
    (f: (y: Tensor) => Tensor) =>
    (y: Tensor): Tensor =>
      grad(f)(y)
  const byJvp =
    (f: (y: Tensor) => Tensor) =>
    (y: Tensor): Tensor =>
      jvp(f, y, t(1))[1]
  const byVjp =
    (f: (y: Tensor) => Tensor) =>
    (y: Tensor): Tensor =>
      vjp(f, y)[1](t(1))

  it('d/dx [x · d/dy (x + y)] = 1 with derivative', () => {
    expect(num(derivative((x: Tensor) => mul(x, inner(x, byDerivative)))(t(1)))).toBe(1)
  })

  it('= 1 with grad', () => {
    expect(num(grad((x: Tensor) => mul(x, inner(x, byGrad)))(t(1)))).toBe(1)
  })

  it('= 1 with every mix of forward and reverse, inside and outside', () => {
    const outers = [byDerivative, byGrad, byJvp, byVjp]
    for (const outer of outers) {
      for (const d of outers) {
        expect(num(outer((x: Tensor) => mul(x, inner(x, d)))(t(1)))).toBe(1)
      }
    }
  })

  it('Siskind & Pearlmutter p. 4: d/dx [x · d/dy (x·y)|_{y=2}] at x = 1 is 2 (the inner is x, so x²)', () => {
    for (const outer of [byDerivative, byGrad]) {
      for (const d of [byDerivative, byGrad]) {
        expect(num(outer((x: Tensor) => mul(x, d((y: Tensor) => mul(x, y))(t(2))))(t(1)))).toBe(2)
      }
    }
  })

  it('Zygote: D(x ↦ x·D(y ↦ x·y)(1))(4) = 8 (again x², so 2x)', () => {
    expect(num(derivative((x: Tensor) => mul(x, derivative((y: Tensor) => mul(x, y))(t(1))))(t(4)))).toBe(8)
  })

  it('nested constant: one(x) = D(y ↦ x + y)(3) is 1 for all x, so D(one)(7) = 0 and D(x ↦ x·one(x))(7) = 1', () => {
    const one = (x: Tensor): Tensor => derivative((y: Tensor) => add(x, y))(t(3))
    expect(num(derivative(one)(t(7)))).toBe(0)
    expect(num(derivative((x: Tensor) => mul(x, one(x)))(t(7)))).toBe(1)
    expect(num(grad((x: Tensor) => mul(x, one(x)))(t(7)))).toBe(1)
  })

  it('ForwardDiff issue 83: ∇ [sum(v) · D(y ↦ y·‖v‖)(1)] = ∇ [sum(v)·‖v‖] = [2] at v = [1]', () => {
    const norm = (v: Tensor) => sqrt(sum(mul(v, v)))
    const lhs = grad((v: Tensor) => mul(sum(v), derivative((y: Tensor) => mul(y, norm(v)))(t(1))))(t([1]))
    const rhs = grad((v: Tensor) => mul(sum(v), norm(v)))(t([1]))
    // sum(v)·‖v‖ = v² for a one-element v: gradient 2v = 2
    expect(Array.from(lhs.toTypedArray())).toEqual([2])
    expect(Array.from(rhs.toTypedArray())).toEqual([2])
  })

  it('HIPS/autograd enclosing scope: x · grad(y ↦ x·y)(2) is x², derivative 2x (both operand orders)', () => {
    const f1 = (x: Tensor) => mul(x, grad((y: Tensor) => mul(x, y))(t(2)))
    const f2 = (x: Tensor) => mul(x, grad((y: Tensor) => mul(y, x))(t(2)))
    for (const f of [f1, f2]) {
      expect(num(grad(f)(t(1.5)))).toBe(3)
      expect(num(derivative(f)(t(1.5)))).toBe(3)
    }
  })

  it('nested optimisation: d/dx max_y (x·y − cosh y) = asinh(x), with the inner max by Newton steps taken with derivatives', () => {
    // g(x) = max_y h(x, y), h = x·y − cosh(y): the maximiser solves h_y = x − sinh(y) = 0, so
    // y* = asinh(x) and, by the envelope theorem, g'(x) = ∂h/∂x at y* = asinh(x). The inner
    // Newton iteration y ← y − h_y/h_yy uses nested derivatives of h in y while the outer
    // transform differentiates in x: any confusion of the two perturbations breaks it.
    type D1 = (f: (y: Tensor) => Tensor) => (y: Tensor) => Tensor
    const maxOver = (x: Tensor, d: D1): Tensor => {
      const h = (y: Tensor) => sub(mul(x, y), cosh(y))
      let y = t(0)
      for (let i = 0; i < 8; i++) y = sub(y, div(d(h)(y), d(d(h))(y)))
      return h(y)
    }
    const x0 = 0.7
    for (const outer of [byDerivative, byGrad]) {
      for (const d of [byDerivative, byGrad, byJvp]) {
        close(outer((x: Tensor) => maxOver(x, d))(t(x0)), Math.asinh(x0), 1e-12)
      }
    }
    // and the inner value is the conjugate of cosh: g(x) = x·asinh(x) − √(1 + x²)
    close(maxOver(t(x0), byDerivative), x0 * Math.asinh(x0) - Math.sqrt(1 + x0 * x0), 1e-14)
  })
})

// -------------------------------------------------------------------------------------
// nesting in all four combinations
// -------------------------------------------------------------------------------------

describe('nesting: fwd∘fwd, rev∘rev, fwd∘rev, rev∘fwd', () => {
  // f(x) = ½ xᵀAx + Σ cos(xᵢ) with A not symmetric: H = (A + Aᵀ)/2 − diag(cos x)
  const A = [
    [1, 2, -1],
    [0.5, -3, 4],
    [2, 0.25, 1.5],
  ]
  const f = (x: Tensor) => add(mul(0.5, sum(mul(x, matmul(t(A), x)))), sum(cos(x)))
  const x0 = [0.3, -1.2, 2.1]
  const H = A.map((row, i) =>
    row.map((aij, j) => (aij + (A[j] as number[])[i]!) / 2 - (i === j ? Math.cos(x0[i]!) : 0)),
  )
  const e = (j: number): Tensor => t([0, 1, 2].map((i) => (i === j ? 1 : 0)))

  it('forward-over-forward', () => {
    const h = [0, 1, 2].map((i) => [0, 1, 2].map((j) => num(jvp((x: Tensor) => jvp(f, x, e(j))[1], t(x0), e(i))[1])))
    close(h, H)
  })
  it('reverse-over-reverse', () => close(jacrev(grad(f))(t(x0)), H))
  it('forward-over-reverse (hessian)', () => {
    close(jacfwd(grad(f))(t(x0)), H)
    close(hessian(f)(t(x0)), H)
  })
  it('reverse-over-forward', () => {
    const rows = [0, 1, 2].map((j) => Array.from(grad((x: Tensor) => jvp(f, x, e(j))[1])(t(x0)).toTypedArray()))
    close(rows, H)
  })
  it('third order, all eight nestings of the two modes agree: ∂³/∂x³ Σ cos = sin', () => {
    // d³/dx³ of (½ xᵀAx + Σ cos xᵢ) along e₀ three times = sin(x₀)
    const fwd = (g: (x: Tensor) => Tensor) => (x: Tensor) => jvp(g, x, e(0))[1]
    const rev = (g: (x: Tensor) => Tensor) => (x: Tensor) => sum(mul(grad(g)(x), e(0)))
    const modes = [fwd, rev]
    for (const a of modes)
      for (const b of modes) for (const c of modes) close(a(b(c(f)))(t(x0)), Math.sin(x0[0]!), 1e-12)
  })
})

// -------------------------------------------------------------------------------------
// derivative towers
// -------------------------------------------------------------------------------------

describe('derivative towers to the 9th order, against truncated Taylor-series arithmetic', () => {
  const N = 9
  /** f, f', …, f⁽ᴺ⁾ at x₀ by nesting `derivative` k times. */
  const towerOf = (
    f: (x: Tensor) => Tensor,
    x0: number,
    nest = (g: (x: Tensor) => Tensor) => (x: Tensor) => derivative(g)(x),
  ): number[] => {
    const out: number[] = []
    let g = f
    for (let k = 0; k <= N; k++) {
      out.push(num(g(t(x0))))
      g = nest(g)
    }
    return out
  }
  // Both sides are float64 evaluations of the same exact numbers by unrelated methods, each
  // step rounding at 2⁻⁵³ relative; for these functions no derivative up to the 9th is a
  // small difference of large terms, and the two agree to ≤ 3e-15 relative (measured), so
  // rtol 1e-10 (the held-out suite's) leaves a margin of 10⁴ while any wrong rule at any
  // level is off by O(1).
  const RTOL = 1e-10

  it('exp: every derivative is exp(x₀) (closed form)', () => {
    close(
      towerOf(exp, 0.3),
      Array.from({ length: N + 1 }, () => Math.exp(0.3)),
      RTOL,
    )
  })

  it('sin: the k-th derivative is sin(x₀ + kπ/2) (closed form)', () => {
    const x0 = 0.8
    close(
      towerOf(sin, x0),
      Array.from({ length: N + 1 }, (_, k) => Math.sin(x0 + (k * Math.PI) / 2)),
      RTOL,
      1e-15,
    )
  })

  it('x ↦ exp(sin x) at 0.5 (Taylor: exp of the sin series)', () => {
    const x0 = 0.5
    close(
      towerOf((x) => exp(sin(x)), x0),
      S.derivatives(S.exp(S.sin(S.variable(x0, N)))),
      RTOL,
    )
  })

  it("tanh at −0.4 (Taylor: τ' = a'(1 − τ²); the DiffSharp tower of order 6, extended to 9)", () => {
    const x0 = -0.4
    close(towerOf(tanh, x0), S.derivatives(S.tanh(S.variable(x0, N))), RTOL)
  })

  it('x ↦ log(1 + x²)·cos(x) at 1.3 (Taylor: log, product, cos)', () => {
    const x0 = 1.3
    const xs = S.variable(x0, N)
    const expected = S.derivatives(S.mul(S.log(S.add(S.constant(1, N), S.mul(xs, xs))), S.cos(xs)))
    close(
      towerOf((x) => mul(log(add(1, mul(x, x))), cos(x)), x0),
      expected,
      RTOL,
    )
  })

  it('polynomials terminate: x³ has derivatives 8, 12, 12, 6, 0, 0, … at 2 (ekmett/ad tower test)', () => {
    expect(towerOf((x) => mul(x, mul(x, x)), 2)).toEqual([8, 12, 12, 6, 0, 0, 0, 0, 0, 0])
  })

  it('the same towers by nested grad (reverse⁹) and by alternating grad and derivative', () => {
    const x0 = 0.5
    const expected = S.derivatives(S.exp(S.sin(S.variable(x0, N))))
    const f = (x: Tensor) => exp(sin(x))
    close(
      towerOf(f, x0, (g) => (x) => grad(g)(x)),
      expected,
      RTOL,
    )
    let flip = 0
    close(
      towerOf(f, x0, (g) => (flip++ % 2 === 0 ? (x: Tensor) => grad(g)(x) : (x: Tensor) => derivative(g)(x))),
      expected,
      RTOL,
    )
  })
})

// -------------------------------------------------------------------------------------
// Hessians, Hessian-vector products, Jacobians
// -------------------------------------------------------------------------------------

describe('Hessians and Hessian-vector products', () => {
  it('hessian(logsumexp) = diag(s) − s·sᵀ with s = softmax(x)', () => {
    for (const z of [
      [1, 2, 3],
      [0.5, -2, 4, 0],
      [1000, 1001, 999],
    ]) {
      close(hessian((x: Tensor) => logsumexp(x))(t(z)), lseHessian(jsSoftmax(z)), 1e-12, 1e-15)
    }
  })

  it('hvp through a softmax cross-entropy equals (diag(s) − s·sᵀ)·v and hessian·v', () => {
    // CE(z) = −Σ yᵢ log softmax(z)ᵢ = logsumexp(z) − ⟨y, z⟩ when Σ y = 1, so its Hessian is
    // that of logsumexp, whatever the labels are
    const z = [2, -1, 0.5, 3]
    const y = [0, 0, 1, 0]
    const v = [0.3, -1, 2, 0.7]
    const viaLogSoftmax = (x: Tensor) => neg(sum(mul(t(y), logSoftmax(x))))
    const viaLogOfSoftmax = (x: Tensor) => neg(sum(mul(t(y), log(softmax(x)))))
    const expected = matVec(lseHessian(jsSoftmax(z)), v)
    for (const ce of [viaLogSoftmax, viaLogOfSoftmax]) {
      close(hvp(ce)(t(z), t(v)), expected, 1e-12, 1e-15)
      close(matmul(hessian(ce)(t(z)), t(v)), expected, 1e-12, 1e-15)
    }
  })

  it('hvp of a batched mean cross-entropy over logits [2, 3] is block-diagonal, 1/B per row', () => {
    const Z = [
      [1, 2, 0],
      [-1, 0.5, 2],
    ]
    const Y = [
      [0, 1, 0],
      [1, 0, 0],
    ]
    const V = [
      [1, -1, 0.5],
      [0.25, 2, -1],
    ]
    const ce = (logits: Tensor) => mean(neg(sum(mul(t(Y), logSoftmax(logits, -1)), -1)))
    const expected = Z.map((row, b) => matVec(lseHessian(jsSoftmax(row)), V[b]!).map((x) => x / 2))
    close(hvp(ce)(t(Z), t(V)), expected, 1e-12, 1e-15)
  })

  it('hessian of simple functions in closed form (JAX / autograd style)', () => {
    // xᵀMx has Hessian M + Mᵀ
    const M = [
      [1, -2, 0.5],
      [3, 0, 1],
      [-1, 4, 2],
    ]
    close(
      hessian((x: Tensor) => sum(mul(x, matmul(t(M), x))))(t([0.1, 0.2, 0.3])),
      M.map((r, i) => r.map((m, j) => m + M[j]![i]!)),
    )
    // Σ sin(xᵢ): diag(−sin x)
    const x0 = [0.4, -1.1]
    close(hessian((x: Tensor) => sum(sin(x)))(t(x0)), [
      [-Math.sin(0.4), 0],
      [0, Math.sin(1.1)],
    ])
    // a number in, a number out
    expect(hessian((x: number) => mul(x, mul(x, x)))(2)).toBe(12)
  })
})

describe('Jacobians: jacfwd = jacrev', () => {
  it('tanh(W·x): both equal diag(1 − tanh²(W·x))·W', () => {
    const W = [
      [1, -0.5, 2],
      [0.3, 0.8, -1],
    ]
    const x0 = [0.2, -0.4, 0.6]
    const z = matVec(W, x0)
    const J = W.map((row, i) => row.map((w) => w * (1 - Math.tanh(z[i]!) ** 2)))
    const f = (x: Tensor) => tanh(matmul(t(W), x))
    close(jacfwd(f)(t(x0)), J)
    close(jacrev(f)(t(x0)), J)
  })

  it('softmax over rows of a [2, 3] matrix: shape [2, 3, 2, 3], block-diagonal diag(s) − s·sᵀ', () => {
    const X = [
      [1, 2, 3],
      [0, -1, 0.5],
    ]
    const f = (x: Tensor) => softmax(x, -1)
    const jf = jacfwd(f)(t(X))
    const jr = jacrev(f)(t(X))
    expect(jf.shape).toEqual([2, 3, 2, 3])
    close(jf, jr, 1e-13, 1e-16)
    const blocks = X.map((row) => lseHessian(jsSoftmax(row)))
    const expected = [0, 1].map((b) =>
      [0, 1, 2].map((i) => [0, 1].map((c) => [0, 1, 2].map((j) => (b === c ? blocks[b]![i]![j]! : 0)))),
    )
    close(jf, expected, 1e-12, 1e-16)
  })

  it('record inputs give a record of blocks, equal both ways', () => {
    const p = {
      w: t([
        [1, 2],
        [3, 4],
      ]),
      b: t([0.5, -0.5]),
    }
    const f = (q: typeof p) => sin(add(matmul(q.w, t([1, -1])), q.b))
    const jf = jacfwd(f)(p)
    const jr = jacrev(f)(p)
    close(jf.w, jr.w)
    close(jf.b, jr.b)
    // d sin(Wu + b)ᵢ / dbⱼ = δᵢⱼ cos(zᵢ) with z = Wu + b = [−1 + 0.5, −1 − 0.5]
    close(jf.b, [
      [Math.cos(-0.5), 0],
      [0, Math.cos(-1.5)],
    ])
    expect(jf.w.shape).toEqual([2, 2, 2])
  })
})

// -------------------------------------------------------------------------------------
// records in and out
// -------------------------------------------------------------------------------------

describe('parameter records in and out', () => {
  // loss = b · Σ w² + k₁ · Σ k₀ : ∂w = 2b·w, ∂b = Σ w², ∂k₀ = k₁·1, ∂k₁ = Σ k₀, unused = 0
  const params = {
    w: t([1, -2]),
    b: 3,
    layers: [
      {
        k: t([
          [1, 2],
          [3, 4],
        ]),
      },
      { k: 0.5 },
    ],
    unused: t([7]),
  }
  type Params = typeof params
  const loss = (p: Params) => add(mul(p.b, sum(mul(p.w, p.w))), mul(p.layers[1]!.k, sum(p.layers[0]!.k)))

  it('grad returns the same nested structure, with numbers for number leaves', () => {
    const g = grad(loss)(params)
    expect(Object.keys(g).sort()).toEqual(['b', 'layers', 'unused', 'w'])
    expect(typeof g.b).toBe('number')
    expect(typeof g.layers[1]!.k).toBe('number')
    close(g.w, [6, -12])
    expect(g.b).toBe(5)
    close(g.layers[0]!.k, [
      [0.5, 0.5],
      [0.5, 0.5],
    ])
    expect(g.layers[1]!.k).toBe(10)
    close(g.unused, [0])
    expect(Object.isFrozen(g)).toBe(true)
    expect(Object.isFrozen(g.layers)).toBe(true)
    expect(Object.isFrozen(g.layers[0])).toBe(true)
  })

  it('valueAndGrad gives the value and the same gradient', () => {
    const [v, g] = valueAndGrad(loss)(params)
    expect(v.item()).toBe(3 * 5 + 0.5 * 10)
    expect(v).not.toBeInstanceOf(Tracer)
    expect(g.b).toBe(5)
  })

  it('vjp: record output, pullback returns the input structure', () => {
    const [y, pb] = vjp((p: { a: Tensor; b: number }) => ({ prod: mul(p.a, p.b), pair: [p.a, sin(p.b)] }), {
      a: t([1, 2]),
      b: 0.5,
    })
    close(y.prod, [0.5, 1])
    const xBar = pb({ prod: t([1, 1]), pair: [t([10, 20]), t(2)] })
    // ∂/∂a: b·ȳ_prod + ȳ_pair0 ; ∂/∂b: ⟨a, ȳ_prod⟩ + cos(b)·ȳ_pair1
    close(xBar.a, [10.5, 20.5])
    expect(typeof xBar.b).toBe('number')
    close(xBar.b, 3 + Math.cos(0.5) * 2)
  })

  it('jvp: record in, record out', () => {
    const [y, yDot] = jvp(
      (p: { u: Tensor; v: Tensor }) => ({ s: add(p.u, p.v), m: [mul(p.u, p.v)] }),
      { u: t(2), v: t(3) },
      { u: t(1), v: t(-1) },
    )
    expect(y.s.item()).toBe(5)
    expect(yDot.s.item()).toBe(0)
    expect(yDot.m[0]!.item()).toBe(3 - 2)
  })

  it('hvp on a record returns the record, numbers for number leaves (regression)', () => {
    // f = a²·b : H = [[2b, 2a], [2a, 0]] ; H·(1, 0) = (2b, 2a) = (6, 4) at a = 2, b = 3
    const r = hvp((p: { a: number; b: number }) => mul(mul(p.a, p.a), p.b))({ a: 2, b: 3 }, { a: 1, b: 0 })
    expect(r).toEqual({ a: 6, b: 4 })
    expect(hvp((x: number) => mul(x, mul(x, x)))(2, 1)).toBe(12)
  })
})

// -------------------------------------------------------------------------------------
// hasAux, stopGradient, custom rules
// -------------------------------------------------------------------------------------

describe('hasAux', () => {
  it('valueAndGrad with hasAux returns [[loss, aux], grad], aux concrete', () => {
    const [[l, aux], g] = valueAndGrad((x: Tensor) => [mul(x, x), { sq: mul(x, x), n: 7 }] as const, { hasAux: true })(
      t(3),
    )
    expect(l.item()).toBe(9)
    expect(aux.sq).not.toBeInstanceOf(Tracer)
    expect(aux.sq.item()).toBe(9)
    expect(aux.n).toBe(7)
    expect(num(g)).toBe(6)
  })

  it('JAX test_grad_and_aux_basic: grad(x ↦ (x³, [x²]), has_aux)(3) = (27, [9])', () => {
    const [g, aux] = grad((x: Tensor) => [mul(x, mul(x, x)), [mul(x, x)]] as const, { hasAux: true })(t(3))
    expect(num(g)).toBe(27)
    expect(aux[0]!.item()).toBe(9)
  })

  it('JAX test_grad_and_aux_nested: the aux of an inner grad stays differentiable by the outer one', () => {
    const f = (x: Tensor) =>
      grad((y: Tensor) => [mul(y, mul(y, y)), [mul(y, mul(y, y))]] as const, { hasAux: true })(x)[1][0]!
    expect(num(grad(f)(t(4)))).toBe(48)
  })

  it('HIPS/autograd test_grad_and_aux: the gradient of the loss part, aux passed through', () => {
    const A = [
      [1, 2, 0, -1],
      [0.5, 0, 3, 2],
      [-2, 1, 1, 0],
      [0, 0, 1, 1],
      [1, 1, 1, 1],
    ]
    const x0 = [0.3, -0.2, 0.5, 1]
    const [g, aux] = grad((x: Tensor) => [sum(matmul(t(A), x)), mul(x, x)] as const, { hasAux: true })(t(x0))
    // ∇ Σ (A x) = Aᵀ·1: column sums
    close(
      g,
      [0, 1, 2, 3].map((j) => A.reduce((s, row) => s + row[j]!, 0)),
    )
    close(
      aux,
      x0.map((x) => x * x),
    )
  })
})

describe('stopGradient', () => {
  it('x · stopGradient(x) differentiates as x · c: derivative x (forward and reverse)', () => {
    expect(num(grad((x: Tensor) => mul(x, stopGradient(x)))(t(3)))).toBe(3)
    expect(num(derivative((x: Tensor) => mul(x, stopGradient(x)))(t(3)))).toBe(3)
  })
  it('blocks every order: d²/dx² [x² · stopGradient(x)] = 2x, not 6x', () => {
    expect(num(grad((x: Tensor) => grad((y: Tensor) => mul(mul(y, y), stopGradient(y)))(x))(t(3)))).toBe(6)
    expect(hessian((x: number) => mul(mul(x, x), stopGradient(x)))(3)).toBe(6)
  })
  it('the value passes through unchanged and its tangent is exactly zero', () => {
    const [y, yDot] = jvp((x: Tensor) => stopGradient(sin(x)), t([0.5, 1]), t([1, 1]))
    close(y, [Math.sin(0.5), Math.sin(1)], 0)
    expect(Array.from(yDot.toTypedArray())).toEqual([0, 0])
  })
})

describe('custom rules', () => {
  // softplus(x) = log(1 + eˣ) with a hand-written rule: d = σ(x)·dx ; second derivative σ(1 − σ)
  const softplus = customJvp(
    (x: Tensor) => log(add(1, exp(x))),
    (x: Tensor, xDot: Tensor) => [log(add(1, exp(x))), mul(sigmoid(x), xDot)] as const,
  )
  const s = (x: number) => 1 / (1 + Math.exp(-x))

  it('customJvp is used in forward and reverse mode and to second order', () => {
    const x0 = 0.7
    close(derivative(softplus)(t(x0)), s(x0))
    close(grad(softplus)(t(x0)), s(x0))
    const d2 = s(x0) * (1 - s(x0))
    close(derivative((x: Tensor) => derivative(softplus)(x))(t(x0)), d2)
    close(grad((x: Tensor) => grad(softplus)(x))(t(x0)), d2)
    close(hessian(softplus)(t(x0)), d2)
  })

  it("customJvp wins over the function's own derivative (straight-through round)", () => {
    const ste = customJvp(
      (x: Tensor) => round(x),
      (x: Tensor, xDot: Tensor) => [round(x), xDot] as const,
    )
    expect(num(ste(t(1.4)))).toBe(1)
    expect(num(grad(ste)(t(1.4)))).toBe(1)
    expect(num(derivative(ste)(t(1.4)))).toBe(1)
  })

  // x³ with residual x and bwd (x, ȳ) ↦ 3x²·ȳ written with ops, so it is differentiable
  const cube = customVjp(
    (x: Tensor) => mul(x, mul(x, x)),
    (x: Tensor) => [mul(x, mul(x, x)), x] as const,
    (x: Tensor, yBar: Tensor) => mul(yBar, mul(3, mul(x, x))),
  )

  it('customVjp is used in reverse and forward mode (transposed) and to second order', () => {
    expect(num(cube(t(3)))).toBe(27)
    expect(num(grad(cube)(t(3)))).toBe(27)
    expect(num(derivative(cube)(t(3)))).toBe(27)
    // 6x = 18 at 3, in all four nestings
    expect(num(grad((x: Tensor) => grad(cube)(x))(t(3)))).toBe(18)
    expect(num(derivative((x: Tensor) => derivative(cube)(x))(t(3)))).toBe(18)
    expect(num(derivative((x: Tensor) => grad(cube)(x))(t(3)))).toBe(18)
    expect(num(grad((x: Tensor) => derivative(cube)(x))(t(3)))).toBe(18)
  })

  it("customVjp wins over the function's own derivative (a halved gradient, in both modes)", () => {
    const halve = customVjp(
      (x: Tensor) => x,
      (x: Tensor) => [x, null] as const,
      (_r: null, yBar: Tensor) => mul(0.5, yBar),
    )
    expect(num(grad(halve)(t(2)))).toBe(0.5)
    expect(num(jvp(halve, t(2), t(1))[1])).toBe(0.5)
  })

  it('custom rules over records', () => {
    type P = { a: Tensor; b: Tensor }
    const prodJ = customJvp(
      (p: P) => mul(p.a, p.b),
      (p: P, d: P) => [mul(p.a, p.b), add(mul(d.a, p.b), mul(p.a, d.b))] as const,
    )
    const prodV = customVjp(
      (p: P) => mul(p.a, p.b),
      (p: P) => [mul(p.a, p.b), p] as const,
      (p: P, yBar: Tensor) => ({ a: mul(yBar, p.b), b: mul(yBar, p.a) }),
    )
    for (const f of [prodJ, prodV]) {
      const g = grad(f)({ a: t(2), b: t(5) })
      expect([num(g.a), num(g.b)]).toEqual([5, 2])
      expect(num(jvp(f, { a: t(2), b: t(5) }, { a: t(1), b: t(0) })[1])).toBe(5)
      // H of a·b is [[0, 1], [1, 0]]: H·(1, 0) = (0, 1)
      const h = hvp(f)({ a: t(2), b: t(5) }, { a: t(1), b: t(0) })
      expect([num(h.a), num(h.b)]).toEqual([0, 1])
    }
  })
})

// -------------------------------------------------------------------------------------
// failure modes
// -------------------------------------------------------------------------------------

describe('escaped tracers', () => {
  it('a tracer used after its transform returned is an error naming the transform', () => {
    for (const [name, leak] of [
      ['grad', (k: (x: Tensor) => void) => grad((x: Tensor) => (k(x), mul(x, x)))(t(2))],
      ['valueAndGrad', (k: (x: Tensor) => void) => valueAndGrad((x: Tensor) => (k(x), mul(x, x)))(t(2))],
      ['jvp', (k: (x: Tensor) => void) => jvp((x: Tensor) => (k(x), mul(x, x)), t(2), t(1))],
      ['vjp', (k: (x: Tensor) => void) => vjp((x: Tensor) => (k(x), mul(x, x)), t(2))],
    ] as const) {
      let leaked: Tensor | undefined
      leak((x) => (leaked = x))
      const e = throwsPurediff(() => sin(leaked!))
      expect(e.tag).toBe('EscapedTracer')
      expect(e.message).toContain(`'${name}'`)
      // also when it meets a live transform's tracer, never a silently wrong number
      const e2 = throwsPurediff(() => grad((y: Tensor) => mul(y, leaked!))(t(1)))
      expect(e2.tag).toBe('EscapedTracer')
      expect(e2.message).toContain(`'${name}'`)
    }
  })

  it("returning an inner transform's tracer out of it is caught", () => {
    const e = throwsPurediff(() =>
      jvp(
        (x: Tensor) => {
          let inner: Tensor | undefined
          jvp((y: Tensor) => ((inner = y), y), x, t(1))
          return inner!
        },
        t(2),
        t(1),
      ),
    )
    expect(e.tag).toBe('EscapedTracer')
  })

  it('reading a tracer as a JS number is an error, not a dropped derivative', () => {
    const e = throwsPurediff(() => grad((x: Tensor) => mul(x, +x))(t(2)))
    expect(e.tag).toBe('ConcretizationError')
    expect(e.message).toContain('grad')
  })
})

describe('error messages', () => {
  it('shape mismatches name the op and both shapes', () => {
    const cases: Array<[string, () => unknown, string, string]> = [
      ['add', () => add(zeros([2, 3]), zeros([4])), '[2, 3]', '[4]'],
      ['sub', () => sub(zeros([2, 3]), zeros([3, 2])), '[2, 3]', '[3, 2]'],
      ['mul', () => mul(zeros([5]), zeros([4])), '[5]', '[4]'],
      ['div', () => div(zeros([2, 1, 3]), zeros([2, 2])), '[2, 1, 3]', '[2, 2]'],
      ['maximum', () => maximum(zeros([3]), zeros([2])), '[3]', '[2]'],
      ['matmul', () => matmul(zeros([2, 3]), zeros([4, 5])), '[2, 3]', '[4, 5]'],
      ['reshape', () => reshape(zeros([3]), [2, 2]), '[3]', '[2, 2]'],
      ['concat', () => concat([zeros([2, 2]), zeros([3, 3])], 0), '[2, 2]', '[3, 3]'],
      ['where', () => where(ones([3]), zeros([2]), 0), '[3]', '[2]'],
    ]
    for (const [op, f, s1, s2] of cases) {
      const e = throwsPurediff(f)
      expect(e.tag, op).toBe('ShapeError')
      expect(e.message).toContain(op)
      expect(e.message).toContain(s1)
      expect(e.message).toContain(s2)
    }
  })

  it('the same errors surface unchanged under a transform', () => {
    const e = throwsPurediff(() => grad((x: Tensor) => sum(add(x, zeros([4]))))(zeros([2, 3])))
    expect(e.message).toContain('add')
    expect(e.message).toContain('[2, 3]')
    expect(e.message).toContain('[4]')
  })

  it('a non-scalar output to grad, valueAndGrad or hessian is an error naming the transform and the shape', () => {
    for (const [name, f] of [
      ['grad', () => grad((x: Tensor) => mul(x, 2))(t([1, 2]))],
      ['valueAndGrad', () => valueAndGrad((x: Tensor) => mul(x, 2))(t([1, 2]))],
      ['hessian', () => hessian((x: Tensor) => mul(x, x))(t([1, 2]))],
    ] as const) {
      const e = throwsPurediff(f)
      expect(e.tag).toBe('NonScalarOutput')
      expect(e.message).toContain(name)
      expect(e.message).toContain('[2]')
    }
  })

  it('mismatched trees name the key path', () => {
    const p = { layers: [{ w: t([1, 2]) }, { w: t([1]) }], b: { c: t(2) } }
    const e1 = throwsPurediff(() =>
      jvp((q: typeof p) => q.b.c, p, { layers: p.layers, b: { d: t(2) } } as unknown as typeof p),
    )
    expect(e1.tag).toBe('TreeError')
    expect(e1.path).toBe('b')
    expect(e1.message).toContain("'b'")
    const e2 = throwsPurediff(() =>
      jvp((q: typeof p) => q.b.c, p, { layers: [p.layers[0]!, { w: t([1, 2]) }], b: p.b }),
    )
    expect(e2.path).toBe('layers[1].w')
    expect(e2.message).toContain('layers[1].w')
    expect(e2.message).toContain('[1]')
    expect(e2.message).toContain('[2]')
    const [, pb] = vjp((x: Tensor) => ({ u: x }), t(1))
    const e3 = throwsPurediff(() => pb({ v: t(1) } as unknown as { u: Tensor }))
    expect(e3.tag).toBe('TreeError')
    expect(e3.message).toContain('u')
  })
})

describe('frozen values', () => {
  it('tensors and their shapes are frozen; writes throw', () => {
    const x = t([
      [1, 2],
      [3, 4],
    ])
    expect(Object.isFrozen(x)).toBe(true)
    expect(Object.isFrozen(x.shape)).toBe(true)
    expect(() => {
      ;(x.shape as number[])[0] = 5
    }).toThrow(TypeError)
    expect(() => {
      ;(x as unknown as { dtype: string }).dtype = 'float32'
    }).toThrow(TypeError)
    expect(x.shape).toEqual([2, 2])
  })

  it('toTypedArray and toArray return copies', () => {
    const x = t([
      [1, 2],
      [3, 4],
    ])
    const a = x.toTypedArray()
    a[0] = 99
    expect(x.toTypedArray()[0]).toBe(1)
    expect(x.toTypedArray()).not.toBe(x.toTypedArray())
    const n = x.toArray() as number[][]
    n[0]![0] = 99
    expect(x.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it('op and transform results are frozen, including the pairs jvp, vjp and valueAndGrad return (regression)', () => {
    expect(Object.isFrozen(add(t([1]), 1))).toBe(true)
    expect(Object.isFrozen(jvp((x: Tensor) => mul(x, x), t(1), t(1)))).toBe(true)
    expect(Object.isFrozen(vjp((x: Tensor) => mul(x, x), t(1)))).toBe(true)
    expect(Object.isFrozen(valueAndGrad((x: Tensor) => mul(x, x))(t(1)))).toBe(true)
    expect(Object.isFrozen(grad((x: Tensor) => [mul(x, x), 1] as const, { hasAux: true })(t(1)))).toBe(true)
    expect(Object.isFrozen(grad((p: { a: Tensor }) => mul(p.a, p.a))({ a: t(1) }))).toBe(true)
  })

  it('transforms never modify their arguments', () => {
    const p = { w: t([1, 2]), n: 3 }
    const before = JSON.stringify({ w: p.w.toArray(), n: p.n })
    grad((q: typeof p) => mul(sum(mul(q.w, q.w)), q.n))(p)
    hvp((q: typeof p) => mul(sum(mul(q.w, q.w)), q.n))(p, { w: t([1, 0]), n: 1 })
    expect(JSON.stringify({ w: p.w.toArray(), n: p.n })).toBe(before)
  })
})

describe('float32 opt-in', () => {
  it('float64 by default, float32 on request, values rounded to float32', () => {
    expect(t([1]).dtype).toBe('float64')
    const x = t([0.1, 1 / 3], 'float32')
    expect(x.dtype).toBe('float32')
    expect(Array.from(x.toTypedArray())).toEqual([Math.fround(0.1), Math.fround(1 / 3)])
    expect(scalar(0.1, 'float32').item()).toBe(Math.fround(0.1))
  })

  it('numbers follow the tensor dtype; mixing float32 with float64 gives float64', () => {
    const x = t([1, 2], 'float32')
    expect(add(x, 1).dtype).toBe('float32')
    expect(mul(2, sin(x)).dtype).toBe('float32')
    expect(add(x, t([1, 1])).dtype).toBe('float64')
  })

  it('every transform keeps float32', () => {
    const x = t([0.5, -1], 'float32')
    const f = (u: Tensor) => sum(mul(u, exp(u)))
    expect(grad(f)(x).dtype).toBe('float32')
    const [y, yDot] = jvp(f, x, t([1, 1], 'float32'))
    expect([y.dtype, yDot.dtype]).toEqual(['float32', 'float32'])
    expect(vjp((u: Tensor) => sin(u), x)[1](t([1, 1], 'float32')).dtype).toBe('float32')
    expect(hessian(f)(x).dtype).toBe('float32')
    expect(hvp(f)(x, t([1, 0], 'float32')).dtype).toBe('float32')
    expect(derivative((u: Tensor) => sin(u))(x).dtype).toBe('float32')
    expect(jacrev((u: Tensor) => tanh(u))(x).dtype).toBe('float32')
    expect(jacfwd((u: Tensor) => tanh(u))(x).dtype).toBe('float32')
    // a float64 tangent for a float32 primal follows the primal
    expect(jvp(f, x, t([1, 1]))[1].dtype).toBe('float32')
    // values agree with float64 to float32 precision: ∇ Σ u·eᵘ = (1 + u)·eᵘ
    close(grad(f)(x), [1.5 * Math.exp(0.5), 0], 1e-6, 1e-7)
  })
})
