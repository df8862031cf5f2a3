import { describe, expect, it } from 'vitest'
import { grad, matmul, mean, mul, square, sub, sum, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import type { GradientTransformation } from '../../src/optim/index.js'
import { adam, applyUpdates, cosineDecay, momentum, sgd } from '../../src/optim/index.js'

const EPS = 2 ** -52

/** Run `steps` optimizer steps on `loss` from `x0`, returning every iterate (x0 first). */
const descend = <S>(
  opt: GradientTransformation<S>,
  loss: (x: Tensor) => Tensor,
  x0: Tensor,
  steps: number,
): Tensor[] => {
  const g = grad(loss)
  const xs = [x0]
  let x = x0
  let s = opt.init(x)
  for (let k = 0; k < steps; k++) {
    const [u, s1] = opt.update(g(x), s, x)
    x = applyUpdates(x, u)
    s = s1
    xs.push(x)
  }
  return xs
}

describe('gradient descent on f(x) = ½ Σ aᵢ xᵢ²: x_k = (1 − η aᵢ)^k x₀', () => {
  it('is exact when every quantity is a dyadic rational (bit-for-bit equality)', () => {
    // η = 1/4 and a = [2, 1, 1/2, 3] give factors 1/2, 3/4, 7/8, 1/4. Every iterate
    // x₀·pᵏ/qᵏ with p ≤ 7, q ≤ 8 needs at most 3k + 3 significand bits: for k ≤ 16 that is
    // < 53, so the gradient a·x, the update −η·g and the sum x + u are all exact, and the
    // closed form (computed with exact BigInt powers) must match bit for bit.
    const a = tensor([2, 1, 0.5, 3])
    const x0 = [3, -1, 2, 5]
    const factors: ReadonlyArray<readonly [bigint, bigint]> = [
      [1n, 2n],
      [3n, 4n],
      [7n, 8n],
      [1n, 4n],
    ]
    const loss = (x: Tensor): Tensor => mul(0.5, sum(mul(a, square(x))))
    const xs = descend(sgd(0.25), loss, tensor(x0), 16)
    xs.forEach((x, k) => {
      const K = BigInt(k)
      const expected = x0.map((v, i) => {
        const [p, q] = factors[i] as readonly [bigint, bigint]
        return (v * Number(p ** K)) / Number(q ** K)
      })
      expect(Array.from(x.toTypedArray())).toEqual(expected)
    })
  })

  it('matches (1 − ηa)^k x₀ to rounding for a non-dyadic step', () => {
    // η = 0.1, a = [3, 0.7]. Per step the iterate picks up at most ~2ε relative error
    // (a·x, η·g and x + u each round once; |u| ≤ 0.3|x|, |x′| ≥ 0.7|x|), and the closed form
    // r^k x₀ with r = fl(1 − fl(η)·a) carries ≤ 2kε from r plus a few ε from pow and the
    // product. So |x_k − r^k x₀| ≤ (4k + 3) ε |x_k|.
    const eta = 0.1
    const a = [3, 0.7]
    const x0 = [1.7, -2.3]
    const loss = (x: Tensor): Tensor => mul(0.5, sum(mul(tensor(a), square(x))))
    const steps = 60
    const xs = descend(sgd(eta), loss, tensor(x0), steps)
    xs.forEach((x, k) => {
      Array.from(x.toTypedArray()).forEach((v, i) => {
        const expected = (1 - eta * (a[i] as number)) ** k * (x0[i] as number)
        expect(Math.abs(v - expected)).toBeLessThanOrEqual((4 * k + 3) * EPS * Math.abs(expected))
      })
    })
  })
})

describe('least squares: minimise ½ mean((A x − b)²) and compare with the normal equations', () => {
  // A = [1, t, t²] on 20 points t ∈ [−1, 1], b = sin 3t + 0.1 cos 7t (deterministic data).
  const n = 20
  const ts = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1))
  const rows = ts.map((t) => [1, t, t * t])
  const bs = ts.map((t) => Math.sin(3 * t) + 0.1 * Math.cos(7 * t))
  const A = tensor(rows)
  const b = tensor(bs)
  const loss = (x: Tensor): Tensor => mul(0.5, mean(square(sub(matmul(A, x), b))))

  /** (AᵀA) x = Aᵀb by Gaussian elimination with partial pivoting, in plain JS. */
  const normalEquations = (): number[] => {
    const M = [0, 1, 2].map((i) =>
      [0, 1, 2].map((j) => rows.reduce((s, r) => s + (r[i] as number) * (r[j] as number), 0)),
    )
    const v = [0, 1, 2].map((i) => rows.reduce((s, r, k) => s + (r[i] as number) * (bs[k] as number), 0))
    const m = M.map((r, i) => [...r, v[i] as number])
    for (let c = 0; c < 3; c++) {
      let p = c
      for (let r = c + 1; r < 3; r++) if (Math.abs(m[r]?.[c] as number) > Math.abs(m[p]?.[c] as number)) p = r
      ;[m[c], m[p]] = [m[p] as number[], m[c] as number[]]
      for (let r = c + 1; r < 3; r++) {
        const f = (m[r]?.[c] as number) / (m[c]?.[c] as number)
        for (let j = c; j < 4; j++) (m[r] as number[])[j] = (m[r]?.[j] as number) - f * (m[c]?.[j] as number)
      }
    }
    const x = [0, 0, 0]
    for (let r = 2; r >= 0; r--) {
      let s = m[r]?.[3] as number
      for (let j = r + 1; j < 3; j++) s -= (m[r]?.[j] as number) * (x[j] as number)
      x[r] = s / (m[r]?.[r] as number)
    }
    return x
  }
  const xStar = normalEquations()
  const maxErr = (x: Tensor): number =>
    Math.max(...Array.from(x.toTypedArray()).map((v, i) => Math.abs(v - (xStar[i] as number))))

  it('sgd converges to the normal-equations solution', () => {
    // The Hessian AᵀA/n has eigenvalues ≈ 0.094, 0.368, 1.150; with η = 0.8 the error
    // contracts by at most max|1 − ηλ| ≈ 0.925 per step, so after 500 steps it is below
    // 0.925^500·‖x₀ − x*‖ ≈ 1e-17. What remains is rounding in the gradient, amplified by
    // the condition number (≈ 12): 1e-12 is far above that and far below any real error.
    const x = descend(sgd(0.8), loss, tensor([0, 0, 0]), 500).at(-1) as Tensor
    expect(maxErr(x)).toBeLessThan(1e-12)
  })

  it('Nesterov momentum converges to it too', () => {
    // With β = 0.5, η = 0.5 the error contracts by ≈ 0.90 per step on this problem (measured:
    // 7.2e-3 at step 25, 2.8e-6 at step 100), so 400 steps leave rounding only.
    const x = descend(momentum(0.5, 0.5, { nesterov: true }), loss, tensor([0, 0, 0]), 400).at(-1) as Tensor
    expect(maxErr(x)).toBeLessThan(1e-12)
  })

  it('adam with a cosine-annealed learning rate converges to it', () => {
    // Adam has no contraction guarantee, so this is a regression check with a measured
    // margin: with η annealed from 0.05 to 0 over 600 steps the error was 2.5e-5 at step 200,
    // 3.9e-10 at step 400 and 8e-14 at step 600. 1e-10 asks for the same convergence with
    // three orders of magnitude to spare, and is far below the 0.9 size of the solution.
    const x = descend(adam(cosineDecay(0.05, 600)), loss, tensor([0, 0, 0]), 600).at(-1) as Tensor
    expect(maxErr(x)).toBeLessThan(1e-10)
  })
})
