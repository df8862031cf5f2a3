/**
 * Regressions found by probing the contract from outside the package. Each expected value is
 * derived in a comment (closed forms, or the limit definition of a derivative at a point
 * where the function is constant along a direction).
 */
import { describe, expect, it } from 'vitest'
import { throwsPurediff } from '../helpers/errors.js'
import {
  add,
  atan2,
  derivative,
  div,
  gather,
  grad,
  greater,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  log,
  matmul,
  mul,
  pow,
  scalar,
  slice,
  sqrt,
  stack,
  sum,
  tensor,
  where,
  zeros,
  type Tensor,
} from '../../src/index.js'

const num = (x: Tensor | number): number => (typeof x === 'number' ? x : x.item())
/** Exactly zero, of either sign (neg(0) is −0 in IEEE arithmetic; both are the number 0). */
const zero = (x: Tensor | number): void => expect(num(x) === 0, `expected 0, got ${num(x)}`).toBe(true)

describe('where stays NaN-free under every nesting', () => {
  // At y = 0 the mask selects the constant 0, so f ≡ 0 near 0 and every derivative is 0.
  const masked =
    (branch: (y: Tensor) => Tensor) =>
    (y: Tensor | number): Tensor =>
      where(greater(y, 0), branch(y as Tensor), 0)
  const branches: Record<string, (y: Tensor) => Tensor> = {
    '1/√y': (y) => div(1, sqrt(y)),
    'log √y': (y) => log(sqrt(y)),
    'log log y': (y) => log(log(y)),
    '√(log y + 10)': (y) => sqrt(add(log(y), 10)),
    'log y': (y) => log(y),
  }
  for (const [name, branch] of Object.entries(branches)) {
    const f = masked(branch)
    it(`second order, all four nestings, for ${name}`, () => {
      const g = (y: Tensor | number) => grad(f)(y)
      zero(grad(g)(scalar(0))) // rev∘rev
      zero(derivative(g)(0)) // fwd∘rev
      zero(grad((y: Tensor) => derivative(f)(y))(scalar(0))) // rev∘fwd
      zero(derivative(derivative(f))(0)) // fwd∘fwd
      zero(hessian(f)(scalar(0)))
    })
    it(`third order with two or three reverse levels, for ${name}`, () => {
      const g1 = (y: Tensor) => grad(f)(y)
      const g2 = (y: Tensor) => grad(g1)(y)
      zero(grad(g2)(scalar(0)))
      zero(grad((y: Tensor) => derivative(g1)(y))(scalar(0)))
    })
  }

  it('away from the mask the nested derivatives are unchanged: d³/dy³ log y = 2/y³', () => {
    const f = masked((y) => log(y))
    const g2 = (y: Tensor) => grad((u: Tensor) => grad(f)(u))(y)
    expect(num(grad(g2)(scalar(2)))).toBeCloseTo(2 / 8, 14)
  })

  it('in tensor form: the Hessian of Σ where(x > 0, √(log x + 10), 0) · Σ x² by rev∘rev matches fwd∘fwd', () => {
    const f = (x: Tensor) => mul(sum(where(greater(x, 0), sqrt(add(log(x), 10)), 0)), sum(mul(x, x)))
    const x = tensor([2, 0])
    const byRev = jacrev((u: Tensor) => grad(f)(u))(x).toTypedArray()
    const byFwd = jacfwd((u: Tensor) => jacfwd(f)(u))(x).toTypedArray()
    expect(Array.from(byRev).every(Number.isFinite)).toBe(true)
    byRev.forEach((v, i) =>
      expect(Math.abs(v - byFwd[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(byFwd[i]!))),
    )
    // ∂²f/∂x₁² at x₁ = 0: only Σx² depends on x₁ there, so it is 2·Σ where(...) = 2√(log 2 + 10)
    expect(byRev[3]).toBeCloseTo(2 * Math.sqrt(Math.log(2) + 10), 12)
  })

  it('a matmul or atan2 in the unselected branch contributes an exact zero', () => {
    expect(
      grad((W: Tensor) => sum(where(tensor([[0]]), matmul(log(tensor([[0]])), W), 0)))(tensor([[2]])).toArray(),
    ).toEqual([[0]])
    zero(grad((w: Tensor) => where(scalar(0), atan2(log(scalar(0)), w), 0))(scalar(1)))
    zero(grad((w: Tensor) => where(scalar(0), atan2(w, log(scalar(0))), 0))(scalar(1)))
  })

  it('matmul with an infinite operand: masked rows drop out and the other rows give the usual gradient, batched', () => {
    // y = A·W with A [2, 3, 2] (batch 2); row 1 of batch 0 holds -inf and is masked away.
    // loss = Σ over unmasked rows of (A·W), so ∂loss/∂W[p, j] = Σ_unmasked A[b, i, p] for every j.
    const A = [
      [
        [1, 2],
        [-Infinity, 3],
        [0.5, -1],
      ],
      [
        [2, 0],
        [1, 1],
        [-2, 4],
      ],
    ]
    const mask = tensor([
      [[1], [0], [1]],
      [[1], [1], [1]],
    ])
    const W = tensor([
      [0.3, -0.2, 1],
      [0.7, 0.1, -1],
    ])
    const gW = grad((w: Tensor) => sum(where(mask, matmul(tensor(A), w), 0)))(W).toArray() as number[][]
    const colSums = [0, 1].map((p) =>
      A.flatMap((batch, b) => batch.filter((_, i) => !(b === 0 && i === 1)).map((row) => row[p]!)).reduce(
        (s, v) => s + v,
        0,
      ),
    )
    expect(gW).toEqual([0, 1].map((p) => [colSums[p], colSums[p], colSums[p]]))
    // and the gradient with respect to A is finite: W's row sums at the unmasked rows, 0 at the masked one
    const gA = grad((a: Tensor) => sum(where(mask, matmul(a, W), 0)))(tensor(A)).toArray() as number[][][]
    const wRowSums = [0.3 - 0.2 + 1, 0.7 + 0.1 - 1]
    expect(gA[0]![1]).toEqual([0, 0])
    expect(gA[1]![2]![0]).toBeCloseTo(wRowSums[0]!, 15)
    expect(gA[1]![2]![1]).toBeCloseTo(wRowSums[1]!, 15)
  })
})

describe('pow at exponent 0: the mixed second derivative survives the b = 0 convention', () => {
  // f = aᵇ: ∂f/∂a = b·aᵇ⁻¹, so ∂²f/∂b∂a = aᵇ⁻¹ + b·log(a)·aᵇ⁻¹ = 1/a at b = 0;
  // ∂²f/∂a² = b(b−1)aᵇ⁻² = 0 and ∂²f/∂b² = log²(a)·aᵇ = log²a at b = 0.
  it('∂/∂b ∂/∂a aᵇ at b = 0 is 1/a, in every nesting', () => {
    for (const a of [2, 0.5, 3]) {
      expect(num(derivative((b: Tensor | number) => derivative((u: Tensor | number) => pow(u, b))(a))(0))).toBeCloseTo(
        1 / a,
        14,
      )
      expect(num(grad((b: Tensor) => grad((u: Tensor) => pow(u, b))(scalar(a)))(scalar(0)))).toBeCloseTo(1 / a, 14)
    }
  })
  it('the Hessian of aᵇ at (2, 0) is symmetric and exact', () => {
    const h = hessian((v: Tensor) => pow(gather(v, 0), gather(v, 1)))(tensor([2, 0])).toArray() as number[][]
    expect(h[0]![0]).toBe(0)
    expect(h[0]![1]).toBeCloseTo(0.5, 15)
    expect(h[1]![0]).toBeCloseTo(0.5, 15)
    expect(h[1]![1]).toBeCloseTo(Math.log(2) ** 2, 15)
  })
  it('the conventions at 0 still hold: ∇ pow at (0, 0) and (0, 2) is [0, 0]', () => {
    const g = (a: number, b: number) => grad((v: Tensor) => pow(gather(v, 0), gather(v, 1)))(tensor([a, b])).toArray()
    expect(g(0, 0)).toEqual([0, 0])
    expect(g(0, 2)).toEqual([0, 0])
  })
})

describe('Jacobians of empty tensors have the shape [...out, ...in]', () => {
  it('empty inputs and outputs, both modes', () => {
    expect(jacfwd((x: Tensor) => sum(x))(zeros([0])).shape).toEqual([0])
    expect(jacrev((x: Tensor) => sum(x))(zeros([0])).shape).toEqual([0])
    expect(jacrev((x: Tensor) => slice(x, [0], [0]))(zeros([3])).shape).toEqual([0, 3])
    expect(jacfwd((x: Tensor) => slice(x, [0], [0]))(zeros([3])).shape).toEqual([0, 3])
    expect(jacfwd((x: Tensor) => mul(sum(x), tensor([1, 2])))(zeros([0, 3])).shape).toEqual([2, 0, 3])
    expect(jacrev((x: Tensor) => mul(sum(x), tensor([1, 2])))(zeros([0, 3])).shape).toEqual([2, 0, 3])
    expect(hessian((x: Tensor) => sum(x))(zeros([0])).shape).toEqual([0, 0])
  })
})

describe('errors name the transform the user called', () => {
  it('escaped tracers from derivative, hessian, jacrev and jacfwd', () => {
    let leak: Tensor | undefined
    const keep = (x: Tensor | number): Tensor => {
      leak = x as Tensor
      return mul(x, x)
    }
    const cases: Array<[string, () => unknown]> = [
      ['derivative', () => derivative(keep)(2)],
      ['hessian', () => hessian((x: Tensor) => sum(keep(x)))(tensor([1, 2]))],
      ['jacrev', () => jacrev(keep)(tensor([1, 2]))],
      ['jacfwd', () => jacfwd(keep)(tensor([1, 2]))],
    ]
    for (const [name, run] of cases) {
      run()
      const e = throwsPurediff(() => mul(leak!, 2))
      expect(e.tag).toBe('EscapedTracer')
      expect(e.message).toContain(`'${name}'`)
    }
  })

  it('hvp reports its own name for a mismatched v and a non-scalar f', () => {
    expect(
      throwsPurediff(() => hvp((x: Tensor) => sum(mul(x, x)))(tensor([1, 2]), tensor([1, 2, 3]))).toString(),
    ).toMatch(/^PurediffError \[ShapeError\]: hvp: .*\[2\].*\[3\]/)
    expect(throwsPurediff(() => hvp((x: Tensor) => mul(x, x))(tensor([1, 2]), tensor([1, 2]))).toString()).toMatch(
      /^PurediffError \[NonScalarOutput\]: hvp:/,
    )
  })

  it('a JS number operation on a traced value names derivative', () => {
    expect(throwsPurediff(() => derivative((x: number) => x * x)(3)).toString()).toMatch(
      /^PurediffError \[ConcretizationError\]: derivative:/,
    )
  })
})

describe('ops', () => {
  it('stack: numbers take the dtype of the tensors they meet', () => {
    expect(stack([scalar(1, 'float32'), 2]).dtype).toBe('float32')
    expect(stack([1, 2]).dtype).toBe('float64')
  })
  it('matmul: a batch mismatch names both operand shapes', () => {
    expect(throwsPurediff(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1]))).message).toContain(
      '(shapes [2, 2, 3] and [3, 3, 1])',
    )
  })
  it('gather: a fractional index is reported as such', () => {
    expect(throwsPurediff(() => gather(tensor([1, 2]), [1.5])).message).toContain('index 1.5 is not an integer')
    expect(throwsPurediff(() => gather(tensor([1, 2]), [2])).message).toContain(
      'index 2 is out of range for an axis of extent 2',
    )
  })
})
