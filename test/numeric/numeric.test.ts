/**
 * The numeric twins against closed forms derived by hand (each derivation is written next
 * to its test), their error order, their step and dtype handling.
 *
 * Tolerances. With the defaults (one Richardson level, float64) the step is h ≈ ε^(1/5)·(|x|+1)
 * ≈ 5·10⁻⁴·(|x|+1): rounding contributes about 3ε·|f|/h ≈ 10⁻¹² · |f| and truncation
 * h⁴·|f⁽⁵⁾|/480 ≈ 10⁻¹⁴ · |f⁽⁵⁾| (the c₄ coefficient of the central difference is 1/120, and
 * one extrapolation step divides it by 4). The functions below have |f| and |f⁽⁵⁾| of order
 * 10 at most, so first derivatives are asserted to 1e-10 (about 10× the estimate). Second
 * derivatives use h ≈ ε^(1/6) ≈ 2·10⁻³ and lose ε·|f|/h² ≈ 5·10⁻¹¹·|f|: asserted to 1e-8.
 */
import { describe, expect, it } from 'vitest'
import { Tensor, add, cast, exp, jvp, log, logsumexp, matmul, mul, sin, sum, tanh, tensor } from '../../src/index.js'
import {
  defaultStep,
  epsilonOf,
  numDerivative,
  numGrad,
  numHessian,
  numHvp,
  numJacobian,
  numJvp,
  numValueAndGrad,
  numVjp,
} from '../../src/numeric/index.js'

const vals = (t: Tensor | number): number[] => (typeof t === 'number' ? [t] : Array.from(t.toTypedArray()))
const maxAbsDiff = (a: Tensor | number, b: ReadonlyArray<number>): number => {
  const av = vals(a)
  expect(av.length).toBe(b.length)
  return Math.max(0, ...av.map((v, i) => Math.abs(v - (b[i] as number))))
}

describe('numDerivative', () => {
  it('d/dx sin x = cos x, elementwise on a tensor', () => {
    const xs = [-2, -0.5, 0, 0.3, 1, 3]
    const d = numDerivative((x: Tensor) => sin(x))(tensor(xs))
    expect(maxAbsDiff(d, xs.map(Math.cos))).toBeLessThan(1e-10)
  })
  it('gives a number back for a number: d/dx x·eˣ = (1 + x)eˣ', () => {
    const d = numDerivative((x: number) => mul(x, exp(x)))(0.7)
    expect(typeof d).toBe('number')
    expect(Math.abs(d - 1.7 * Math.exp(0.7))).toBeLessThan(1e-10)
  })
})

describe('numGrad / numValueAndGrad', () => {
  // f(w, b) = Σ exp(sin wᵢ)·tanh b  ⇒  ∂f/∂wᵢ = cos wᵢ·exp(sin wᵢ)·tanh b,  ∂f/∂b = (1 − tanh² b)·Σ exp(sin wᵢ)
  const w = [0.3, -1.2, 2.5]
  const b = 0.7
  const f = (p: { readonly w: Tensor; readonly b: number }) => sum(mul(exp(sin(p.w)), tanh(p.b)))
  it('matches the closed form over a record with a tensor and a number leaf', () => {
    const g = numGrad(f)({ w: tensor(w), b })
    expect(Object.keys(g).sort()).toEqual(['b', 'w'])
    expect(typeof g.b).toBe('number')
    expect(g.w).toBeInstanceOf(Tensor)
    expect(
      maxAbsDiff(
        g.w,
        w.map((wi) => Math.cos(wi) * Math.exp(Math.sin(wi)) * Math.tanh(b)),
      ),
    ).toBeLessThan(1e-10)
    const sumE = w.reduce((s, wi) => s + Math.exp(Math.sin(wi)), 0)
    expect(Math.abs(g.b - (1 - Math.tanh(b) ** 2) * sumE)).toBeLessThan(1e-10)
    expect(Object.isFrozen(g)).toBe(true)
  })
  it('passes extra arguments through and returns the value', () => {
    // L(w; X, y) = Σ (X·w − y)²  ⇒  ∇L = 2Xᵀ(Xw − y)
    const X = [
      [1, 2],
      [3, -1],
      [0.5, 0.5],
    ]
    const y = [1, 0, 2]
    const wv = [0.4, -0.3]
    const L = (wt: Tensor, Xt: Tensor, yt: Tensor) => {
      const r = add(matmul(Xt, wt), mul(-1, yt))
      return sum(mul(r, r))
    }
    const [value, g] = numValueAndGrad(L)(tensor(wv), tensor(X), tensor(y))
    const r = X.map(
      (row, i) => (row[0] as number) * (wv[0] as number) + (row[1] as number) * (wv[1] as number) - (y[i] as number),
    )
    const expected = [0, 1].map((j) => 2 * X.reduce((s, row, i) => s + (row[j] as number) * (r[i] as number), 0))
    expect(Math.abs(value.item() - r.reduce((s, ri) => s + ri * ri, 0))).toBe(0)
    // a quadratic: the central difference has no truncation error at all, only rounding
    expect(maxAbsDiff(g, expected)).toBeLessThan(1e-10)
  })
  it('rejects a non-scalar output, naming the op and the shape', () => {
    expect(() => numGrad((x: Tensor) => sin(x))(tensor([1, 2]))).toThrow(/^numGrad: .*\[2\]/)
  })
  it('rejects traced values (it does not compose with transforms)', () => {
    expect(() => jvp((x: Tensor) => numGrad((u: Tensor) => sum(sin(u)))(x), tensor([1]), tensor([1]))).toThrow(
      /traced value/,
    )
  })
})

describe('numJvp / numVjp / numJacobian', () => {
  // f(x) = A·x + sin(x) (elementwise, A square)  ⇒  J = A + diag(cos x)
  const A = [
    [1, 2, 0],
    [-1, 0.5, 3],
    [2, 1, -2],
  ]
  const x = [0.2, -0.7, 1.1]
  const J = A.map((row, i) => row.map((a, j) => a + (i === j ? Math.cos(x[i] as number) : 0)))
  const f = (u: Tensor) => add(matmul(tensor(A), u), sin(u))
  it("numJvp gives [f(x), J·v] with f(x)'s structure (tree outputs too)", () => {
    const v = [1, -2, 0.5]
    const [y, yDot] = numJvp((u: Tensor) => ({ out: f(u), s: sum(u) }), tensor(x), tensor(v))
    const Jv = J.map((row) => row.reduce((s, a, j) => s + a * (v[j] as number), 0))
    expect(maxAbsDiff(yDot.out, Jv)).toBeLessThan(1e-10)
    // d/dt Σ(x + tv) = Σv exactly: a linear function has no truncation error
    expect(Math.abs(yDot.s.item() - v.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12)
    expect(maxAbsDiff(y.out, f(tensor(x)).toTypedArray() as unknown as number[])).toBe(0)
  })
  it("numVjp's pullback is Jᵀ·ȳ", () => {
    const yBar = [0.3, -1, 2]
    const [, pb] = numVjp(f, tensor(x))
    const JtY = [0, 1, 2].map((j) => J.reduce((s, row, i) => s + (row[j] as number) * (yBar[i] as number), 0))
    expect(maxAbsDiff(pb(tensor(yBar)), JtY)).toBeLessThan(1e-10)
  })
  it('numJacobian has shape [...out, ...in] and entries J[i][j]', () => {
    const jac = numJacobian(f)(tensor(x))
    expect(jac.shape).toEqual([3, 3])
    expect(maxAbsDiff(jac, J.flat())).toBeLessThan(1e-10)
  })
  it('numJacobian over a tree: one block per leaf', () => {
    // y = a·[1, 2] + b²  ⇒  ∂y/∂a = [1, 2] (shape [2]), ∂y/∂b = [[2b], [2b]] (shape [2, 1])
    const jac = numJacobian((p: { a: number; b: Tensor }) => add(mul(p.a, tensor([1, 2])), mul(p.b, p.b)))({
      a: 0.5,
      b: tensor([1.5]),
    })
    expect(jac.a).toBeInstanceOf(Tensor)
    expect((jac.a as unknown as Tensor).shape).toEqual([2])
    expect(jac.b.shape).toEqual([2, 1])
    expect(maxAbsDiff(jac.a, [1, 2])).toBeLessThan(1e-10)
    expect(maxAbsDiff(jac.b, [3, 3])).toBeLessThan(1e-10)
  })
})

describe('numHessian / numHvp', () => {
  it('Hessian of Σ xᵢ²·sin xᵢ is diagonal with (2 − x²)sin x + 4x cos x', () => {
    // (x² sin x)'' = 2 sin x + 4x cos x − x² sin x
    const xs = [0.3, -1.2, 2.5]
    const H = numHessian((u: Tensor) => sum(mul(mul(u, u), sin(u))))(tensor(xs))
    expect(H.shape).toEqual([3, 3])
    const expected = xs.flatMap((xi, i) =>
      xs.map((_, j) => (i === j ? (2 - xi * xi) * Math.sin(xi) + 4 * xi * Math.cos(xi) : 0)),
    )
    expect(maxAbsDiff(H, expected)).toBeLessThan(1e-8)
  })
  it('Hessian of logsumexp is diag(p) − p·pᵀ with p = softmax(x)', () => {
    const xs = [0.5, -1, 2, 0]
    const z = xs.reduce((s, v) => s + Math.exp(v), 0)
    const p = xs.map((v) => Math.exp(v) / z)
    const H = numHessian((u: Tensor) => logsumexp(u))(tensor(xs))
    const expected = p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj))
    expect(maxAbsDiff(H, expected)).toBeLessThan(1e-8)
  })
  it('a number in gives a number out: d²/dx² log x = −1/x²', () => {
    const h = numHessian((u: number) => log(u))(1.5)
    expect(typeof h).toBe('number')
    expect(Math.abs(h + 1 / 2.25)).toBeLessThan(1e-8)
  })
  it('numHvp over a record: f = a²·b + b³ ⇒ H = [[2b, 2a], [2a, 6b]]', () => {
    const a = 0.8
    const b = -1.3
    const v = { a: 0.5, b: tensor(2) }
    const hv = numHvp((q: { a: number; b: Tensor }) => add(mul(mul(q.a, q.a), q.b), mul(mul(q.b, q.b), q.b)))(
      { a, b: tensor(b) },
      v,
    )
    expect(typeof hv.a).toBe('number')
    expect(Math.abs(hv.a - (2 * b * 0.5 + 2 * a * 2))).toBeLessThan(1e-8)
    expect(Math.abs(hv.b.item() - (2 * a * 0.5 + 6 * b * 2))).toBeLessThan(1e-8)
  })
})

describe('error order and step', () => {
  // With a fixed, large step, the truncation term dominates, so halving h divides the error
  // by 2^p: p = 2 for plain central differences, p = 4 after one Richardson level, 6 after two.
  // f = exp at 0.5: every derivative is e^0.5, so the leading coefficients are all nonzero.
  const err = (step: number, richardson: number): number =>
    Math.abs(numDerivative((x: number) => exp(x), { step, richardson })(0.5) - Math.exp(0.5))
  it.each([
    [0, 2],
    [1, 4],
    [2, 6],
  ])('richardson = %i has error order h^%i', (levels, p) => {
    // steps are relative: h = step·(|x| + 1) = step·1.5, then rounded down to a power of two,
    // so pick steps whose h are exact powers of two (2⁻³ / 1.5 and 2⁻⁴ / 1.5)
    const ratio = err(2 ** -3 / 1.5, levels) / err(2 ** -4 / 1.5, levels)
    // the next term of the expansion perturbs the ratio by O(h²) ≈ 1.5% at these steps
    expect(Math.log2(ratio)).toBeGreaterThan(p - 0.1)
    expect(Math.log2(ratio)).toBeLessThan(p + 0.1)
  })
  it('the default steps are ε^(1/(p+d)): ∛ε for plain central differences', () => {
    const rel = (a: number, b: number) => Math.abs(a - b) / b
    expect(rel(defaultStep('float64', 1, 0), Math.cbrt(2 ** -52))).toBeLessThan(1e-14)
    expect(rel(defaultStep('float64', 1, 1), 2 ** (-52 / 5))).toBeLessThan(1e-14)
    expect(rel(defaultStep('float64', 2, 1), 2 ** (-52 / 6))).toBeLessThan(1e-14)
    expect(defaultStep('float32', 1, 1)).toBeGreaterThan(defaultStep('float64', 1, 1))
    expect(epsilonOf('float32')).toBe(2 ** -23)
  })
  it('extrapolation beats plain central differences at their own best steps', () => {
    const d = (richardson: number) =>
      Math.abs(numDerivative((x: number) => exp(x), { richardson })(0.5) - Math.exp(0.5))
    // plain: ε^(2/3) ≈ 4e-11 at best; one level: ε^(4/5) ≈ 3e-13
    expect(d(1)).toBeLessThan(d(0))
    expect(d(1)).toBeLessThan(1e-11)
  })
  it('rejects bad options', () => {
    expect(() => numDerivative((x: number) => exp(x), { step: -1 })(0)).toThrow(/step/)
    expect(() => numDerivative((x: number) => exp(x), { richardson: 1.5 })(0)).toThrow(/richardson/)
  })
})

describe('dtypes', () => {
  const xs = [0.3, -1.2, 2.5]
  const exact = xs.map(Math.cos)
  const f = (u: Tensor) => sum(sin(u))
  it('a float32 input gives a float32 gradient, computed on float64 copies by default', () => {
    const g = numGrad(f)(tensor(xs, 'float32'))
    expect(g.dtype).toBe('float32')
    // evaluated in float64 the estimate is good to ~1e-12; the only error left is the
    // final rounding to float32 (half an ulp, ≤ 2⁻²⁴ relative) and the float32 rounding of x
    // itself (|Δx| ≤ 2⁻²⁴·|x|, moving cos x by at most that much times |sin x| ≤ 1)
    const x32 = Array.from(Float32Array.from(xs))
    expect(maxAbsDiff(g, x32.map(Math.cos))).toBeLessThan(2 ** -23)
  })
  it('with float64: false the model runs in float32 and the step grows to match', () => {
    const g = numGrad(f, { float64: false })(tensor(xs, 'float32'))
    expect(g.dtype).toBe('float32')
    // float32 rounding: 3ε₃₂·|f|/h with h ≈ ε₃₂^(1/5)·(|x|+1) ≈ 0.04·(|x|+1): about 1e-5·|f|
    const e = maxAbsDiff(g, exact)
    expect(e).toBeLessThan(1e-4)
    // and it is measurably worse than the promoted evaluation
    expect(e).toBeGreaterThan(maxAbsDiff(numGrad(f)(tensor(xs, 'float32')), exact))
  })
  it('a model that casts to float32 on purpose gets the float32 step', () => {
    const f32 = (u: Tensor) => sum(sin(cast(u, 'float32')))
    const auto = maxAbsDiff(numGrad(f32)(tensor(xs)), exact)
    const forced = maxAbsDiff(numGrad(f32, { step: defaultStep('float64') })(tensor(xs)), exact)
    // float32 rounding of f (|f| ≲ 3, ε₃₂ = 1.2e-7) over the float32 step h ≈ 0.04·(|x|+1)
    // leaves about 3ε₃₂·|f|/h ≲ 1e-5; the float64 step (5e-4·(|x|+1)) would leave ~1e-3
    expect(auto).toBeLessThan(1e-5)
    expect(auto).toBeLessThan(forced)
  })
})
