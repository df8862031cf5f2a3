/**
 * Reference cases transcribed from other projects' own test suites: micrograd
 * (`test/test_engine.py`), TensorFlow.js (`tfjs-core/src/ops/*_test.ts` gradient cases),
 * JAX (`tests/api_test.py`), HIPS/autograd (`tests/test_wrappers.py`, `test_graphs.py`,
 * `test_core.py`, `test_scalar_ops.py`), DiffSharp (`TestDerivatives.Nested.fs`) and
 * ekmett/ad (`tests/Regression.hs`, `tests/AdditionalTests.hs`), run through the public
 * contract names in float64.
 *
 * Only the cases are taken from those suites, never their expected digits: every expected
 * value is recomputed here independently, by a closed form derived in a comment (plain JS
 * arithmetic on numbers, nothing from the library), so a wrong transcription cannot hide a
 * wrong derivative. Tolerance: rtol 1e-10 (atol 0 unless a comment says why): the closed
 * forms are a handful of float64 operations, so both sides agree to ~1e-15.
 *
 * Cases at kinks and singular points (where conventions differ between projects) are
 * collected apart at the end, with the convention purediff follows and what the source
 * project does.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  abs,
  add,
  atan2,
  concat,
  cos,
  derivative,
  div,
  exp,
  expm1,
  gather,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  log,
  log1p,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  mul,
  neg,
  pow,
  relu,
  reshape,
  sigmoid,
  sin,
  slice,
  softmax,
  softplus,
  sqrt,
  stack,
  sub,
  sum,
  tan,
  tanh,
  tensor,
  transpose,
  valueAndGrad,
  vjp,
  where,
  greater,
  clip,
} from '../../src/index.js'
import { allClose } from '../helpers/allClose.js'
import * as S from '../helpers/taylor.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const RTOL = 1e-10
const t = (x: number | ReadonlyArray<unknown>): Tensor => tensor(x as number[])
const num = (x: Tensor | number): number => (typeof x === 'number' ? x : x.item())
const ref = (actual: unknown, expected: unknown, atol = 0): void => {
  const r = allClose(actual as Tensor, expected as Tensor, RTOL, atol)
  expect(r.ok, r.message).toBe(true)
}
/** reverse-mode gradient of a function of several tensors (a list tree), with a cotangent */
const grads =
  (f: (...xs: Tensor[]) => Tensor) =>
  (xs: Tensor[], dy: Tensor): Tensor[] =>
    vjp((ys: Tensor[]) => f(...ys), xs)[1](dy)
const sumRows = (m: number[][]): number[] => m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0))
const matMulJs = (a: number[][], b: number[][]): number[][] =>
  a.map((r) => b[0]!.map((_, j) => r.reduce((s, aik, k) => s + aik * b[k]![j]!, 0)))
const transposeJs = (a: number[][]): number[][] => a[0]!.map((_, j) => a.map((r) => r[j]!))
const jsSoftmax = (z: number[]): number[] => {
  const m = Math.max(...z)
  const e = z.map((zi) => Math.exp(zi - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((ei) => ei / s)
}
const sigma = (x: number): number => 1 / (1 + Math.exp(-x))

// -------------------------------------------------------------------------------------
// micrograd
// -------------------------------------------------------------------------------------

describe('micrograd test_engine.py', () => {
  it('test_sanity_check: y(−4) = −20, dy/dx = 46', () => {
    // z = 3x + 2 = −10 < 0, so relu(z) = 0 and relu(z²) = z² near x = −4:
    // y = z² + z·x + z·x², dy/dx = 6z + (3x + z) + (3x² + 2xz)
    const x0 = -4
    const z = 3 * x0 + 2
    const f = (x: Tensor) => {
      const zz = add(add(mul(2, x), 2), x)
      const q = add(relu(zz), mul(zz, x))
      const h = relu(mul(zz, zz))
      return add(add(h, q), mul(q, x))
    }
    const [y, g] = valueAndGrad(f)(t(x0))
    ref(y, z * z + z * x0 + z * x0 * x0)
    ref(g, 6 * z + 3 * x0 + z + 3 * x0 * x0 + 2 * x0 * z)
  })

  it('test_more_ops: g(a, b) at (−4, 2) and both partials', () => {
    // Unrolled: c = 3a + 4b + 3, d = 12ab + 12b³ + 4 relu(a + b) + relu(b − a), e = c − d,
    // g = e²/2 + 10/e². At (−4, 2): a + b < 0 (that relu is off), b − a > 0 (on), so
    // ∂e/∂a = 3 − (12b − 1), ∂e/∂b = 4 − (12a + 36b² + 1), and dg/de = e − 20/e³.
    const [a0, b0] = [-4, 2]
    const f = ([a, b]: Tensor[]) => {
      let c = add(a!, b!)
      let d = add(mul(a!, b!), pow(b!, 3))
      c = add(add(c, c), 1)
      c = add(add(add(c, 1), c), neg(a!))
      d = add(add(d, mul(d, 2)), relu(add(b!, a!)))
      d = add(add(d, mul(3, d)), relu(sub(b!, a!)))
      const e = sub(c, d)
      const ff = pow(e, 2)
      let g = div(ff, 2)
      g = add(g, div(10, ff))
      return g
    }
    const c = 3 * a0 + 4 * b0 + 3
    const d = 12 * a0 * b0 + 12 * b0 ** 3 + 4 * Math.max(a0 + b0, 0) + Math.max(b0 - a0, 0)
    const e = c - d
    const dge = e - 20 / e ** 3
    const [v, [ga, gb]] = valueAndGrad(f)([t(a0), t(b0)])
    ref(v, (e * e) / 2 + 10 / (e * e))
    ref(ga, (3 - (12 * b0 - 1)) * dge)
    ref(gb, (4 - (12 * a0 + 36 * b0 * b0 + 1)) * dge)
  })

  it('test_unary_tensor_fns: tanh and exp at −1, 0.123, 2 (value and gradient)', () => {
    for (const x0 of [-1, 0.123, 2]) {
      const [vt, gt] = valueAndGrad(tanh)(t(x0))
      ref(vt, Math.tanh(x0))
      ref(gt, 1 - Math.tanh(x0) ** 2)
      const [ve, ge] = valueAndGrad(exp)(t(x0))
      ref(ve, Math.exp(x0))
      ref(ge, Math.exp(x0))
    }
  })
})

// -------------------------------------------------------------------------------------
// TensorFlow.js
// -------------------------------------------------------------------------------------

describe('TensorFlow.js gradient tests', () => {
  // For c = op(a, b) with broadcasting, the cotangent of an input is the elementwise
  // partial times dy, summed over the axes that input was broadcast along.

  it('add: scalar + 1D broadcast', () => {
    const [da, db] = grads(add)([t(2), t([3, 4, 5])], t([7, 8, 9]))
    expect(da!.shape).toEqual([])
    ref(da, 7 + 8 + 9)
    ref(db, [7, 8, 9])
  })

  it('add: [2, 1] + [2, 2] broadcast', () => {
    const [da, db] = grads(add)(
      [
        t([[2], [3]]),
        t([
          [4, 5],
          [6, 7],
        ]),
      ],
      t([
        [5, 4],
        [3, 2],
      ]),
    )
    ref(da, [[5 + 4], [3 + 2]])
    ref(db, [
      [5, 4],
      [3, 2],
    ])
  })

  it('add: [2, 3] + [3] broadcast', () => {
    const dy = [
      [1, 2, 3],
      [4, 5, 6],
    ]
    const [da, db] = grads(add)(
      [
        t([
          [0, 0, 0],
          [0, 0, 0],
        ]),
        t([1, 1, 1]),
      ],
      t(dy),
    )
    ref(da, dy)
    ref(db, sumRows(dy))
  })

  it('sub: [2, 3] − [3] broadcast', () => {
    const dy = [
      [1, -2, 3],
      [0.5, 5, -6],
    ]
    const [da, db] = grads(sub)(
      [
        t([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        t([1, 1, 1]),
      ],
      t(dy),
    )
    ref(da, dy)
    ref(
      db,
      sumRows(dy).map((x) => -x),
    )
  })

  it('mul: [2, 3] · [3] broadcast', () => {
    const a = [
      [1, 2, 3],
      [4, 5, 6],
    ]
    const b = [0.5, -1, 2]
    const dy = [
      [1, 1, 1],
      [2, -1, 0.25],
    ]
    const [da, db] = grads(mul)([t(a), t(b)], t(dy))
    ref(
      da,
      dy.map((r) => r.map((d, j) => d * b[j]!)),
    )
    ref(db, sumRows(dy.map((r, i) => r.map((d, j) => d * a[i]![j]!))))
  })

  it('mul: scalar · [2, 2]', () => {
    const b = [
      [1, 2],
      [3, 4],
    ]
    const dy = [
      [5, 6],
      [7, 8],
    ]
    const [da, db] = grads(mul)([t(2), t(b)], t(dy))
    ref(da, 5 * 1 + 6 * 2 + 7 * 3 + 8 * 4)
    ref(
      db,
      dy.map((r) => r.map((d) => 2 * d)),
    )
  })

  it('div: [2, 2] / scalar', () => {
    // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
    const a = [
      [2, 3],
      [4, 5],
    ]
    const dy = [
      [6, 7],
      [8, 9],
    ]
    const [da, db] = grads(div)([t(a), t(2)], t(dy))
    ref(
      da,
      dy.map((r) => r.map((d) => d / 2)),
    )
    ref(db, -(6 * 2 + 7 * 3 + 8 * 4 + 9 * 5) / 4)
  })

  it('div: [2, 1] / [2, 2] broadcast', () => {
    const a = [3, 4]
    const b = [
      [2, 3],
      [4, 5],
    ]
    const dy = [
      [6, 7],
      [8, 9],
    ]
    const [da, db] = grads(div)([t([[3], [4]]), t(b)], t(dy))
    ref(da, [[6 / 2 + 7 / 3], [8 / 4 + 9 / 5]])
    ref(
      db,
      b.map((r, i) => r.map((bij, j) => (-dy[i]![j]! * a[i]!) / (bij * bij))),
    )
  })

  it('div: scalar / 1D broadcast', () => {
    const b = [3, 4, 5]
    const dy = [6, 7, 8]
    const [da, db] = grads(div)([t(2), t(b)], t(dy))
    ref(da, 6 / 3 + 7 / 4 + 8 / 5)
    ref(
      db,
      b.map((bi, i) => (-dy[i]! * 2) / (bi * bi)),
    )
  })

  it('atan2: [2, 1] and [2, 2] broadcast', () => {
    // ∂atan2(a, b)/∂a = b/(a² + b²), ∂/∂b = −a/(a² + b²)
    const a = [3, 4]
    const b = [
      [2, 3],
      [4, 5],
    ]
    const dy = [
      [6, 7],
      [8, 9],
    ]
    const [da, db] = grads(atan2)([t([[3], [4]]), t(b)], t(dy))
    ref(
      da,
      a.map((ai, i) => [b[i]!.reduce((s, bij, j) => s + (dy[i]![j]! * bij) / (ai * ai + bij * bij), 0)]),
    )
    ref(
      db,
      b.map((r, i) => r.map((bij, j) => (-dy[i]![j]! * a[i]!) / (a[i]! ** 2 + bij * bij))),
    )
  })

  it('matmul: A[2, 3]·B[3, 2] gives dA = dy·Bᵀ, dB = Aᵀ·dy', () => {
    const A = [
      [1, 2, 3],
      [10, 20, 30],
    ]
    const B = [
      [2, 3],
      [4, 1],
      [2, 3],
    ]
    const dy = [
      [1, 10],
      [20, 30],
    ]
    const [da, db] = grads(matmul)([t(A), t(B)], t(dy))
    ref(da, matMulJs(dy, transposeJs(B)))
    ref(db, matMulJs(transposeJs(A), dy))
  })

  it('matmul: vector · matrix (rank-1 operand promoted and squeezed)', () => {
    const v = [1, -2, 0.5]
    const M = [
      [1, 2],
      [3, 4],
      [5, 6],
    ]
    const dy = [1, 3]
    const [dv, dM] = grads(matmul)([t(v), t(M)], t(dy))
    ref(
      dv,
      M.map((r) => r[0]! * dy[0]! + r[1]! * dy[1]!),
    )
    ref(
      dM,
      v.map((vi) => dy.map((d) => vi * d)),
    )
  })

  it('matmul with a transposed operand: A·Bᵀ', () => {
    const A = [
      [1, 2],
      [3, 4],
    ]
    const B = [
      [0.5, -1],
      [2, 1],
      [1, 1],
    ]
    const dy = [
      [1, 0, 2],
      [-1, 1, 0.5],
    ]
    const [da, db] = grads((a: Tensor, b: Tensor) => matmul(a, transpose(b)))([t(A), t(B)], t(dy))
    ref(da, matMulJs(dy, B))
    ref(db, matMulJs(transposeJs(dy), A))
  })

  it('softmax 1D gradient: dx = (dy − ⟨dy, y⟩)·y', () => {
    const x = [10, 0, -1]
    const dy = [1, 2, 3]
    const y = jsSoftmax(x)
    const s = dy.reduce((acc, d, i) => acc + d * y[i]!, 0)
    ref(
      grads((u: Tensor) => softmax(u))([t(x)], t(dy))[0],
      y.map((yi, i) => (dy[i]! - s) * yi),
    )
  })

  it('softmax 2D gradient along the last axis', () => {
    const X = [
      [10, 0, -1],
      [5, 4, 3],
    ]
    const dY = [
      [3, 2, 1],
      [1, 2, 3],
    ]
    const expected = X.map((row, r) => {
      const y = jsSoftmax(row)
      const s = dY[r]!.reduce((acc, d, i) => acc + d * y[i]!, 0)
      return y.map((yi, i) => (dY[r]![i]! - s) * yi)
    })
    ref(grads((x: Tensor) => softmax(x))([t(X)], t(dY))[0], expected)
  })

  it('logSoftmax 1D gradient: dx = dy − Σdy · softmax(x)', () => {
    const x = [1, 2, 10]
    const dy = [1, 2, 3]
    const y = jsSoftmax(x)
    ref(
      grads((u: Tensor) => logSoftmax(u))([t(x)], t(dy))[0],
      y.map((yi, i) => dy[i]! - 6 * yi),
    )
  })

  it('sum gradient over all axes, over axis 0 and over axis 1 (with keepDims)', () => {
    const x = t([
      [1, 2, 3],
      [4, 5, 6],
    ])
    ref(grad((u: Tensor) => mul(3, sum(u)))(x), [
      [3, 3, 3],
      [3, 3, 3],
    ])
    ref(grads((u: Tensor) => sum(u, 0))([x], t([10, 20, 30]))[0], [
      [10, 20, 30],
      [10, 20, 30],
    ])
    ref(grads((u: Tensor) => sum(u, 1, true))([x], t([[10], [20]]))[0], [
      [10, 10, 10],
      [20, 20, 20],
    ])
  })

  it('mean gradient over an axis divides by its extent', () => {
    const x = t([
      [1, 2, 3],
      [4, 5, 6],
    ])
    ref(grads((u: Tensor) => mean(u, 1))([x], t([3, 6]))[0], [
      [1, 1, 1],
      [2, 2, 2],
    ])
    ref(grad((u: Tensor) => mean(u))(x), [
      [1 / 6, 1 / 6, 1 / 6],
      [1 / 6, 1 / 6, 1 / 6],
    ])
  })

  it("max gradient over axis 1 routes dy to each row's maximum", () => {
    const x = t([
      [0, 20, 10],
      [-10, -30, -20],
    ])
    ref(grads((u: Tensor) => max(u, 1))([x], t([-1, 5]))[0], [
      [0, -1, 0],
      [5, 0, 0],
    ])
    ref(grads((u: Tensor) => max(u, 0))([x], t([1, 2, 3]))[0], [
      [1, 2, 3],
      [0, 0, 0],
    ])
  })

  it('unary gradients: sqrt, exp, log, sigmoid, tanh, sin, cos, tan, log1p, expm1', () => {
    const xs = [0.5, 1.5, 3]
    const dy = [1, -2, 0.5]
    const cases: Array<[(x: Tensor) => Tensor, (x: number) => number]> = [
      [sqrt, (x) => 0.5 / Math.sqrt(x)],
      [exp, Math.exp],
      [log, (x) => 1 / x],
      [sigmoid, (x) => sigma(x) * (1 - sigma(x))],
      [tanh, (x) => 1 - Math.tanh(x) ** 2],
      [sin, Math.cos],
      [cos, (x) => -Math.sin(x)],
      [tan, (x) => 1 / Math.cos(x) ** 2],
      [log1p, (x) => 1 / (1 + x)],
      [expm1, Math.exp],
    ]
    for (const [f, df] of cases)
      ref(
        grads(f)([t(xs)], t(dy))[0],
        xs.map((x, i) => dy[i]! * df(x)),
      )
  })

  it('pow gradient for positive bases: ∂a = b·a^(b−1)·dy, ∂b = log(a)·a^b·dy', () => {
    const a = [0.5, 2, 3]
    const b = [3, 2, -1]
    const dy = [1, 2, 3]
    const [da, db] = grads(pow)([t(a), t(b)], t(dy))
    ref(
      da,
      a.map((ai, i) => dy[i]! * b[i]! * ai ** (b[i]! - 1)),
    )
    ref(
      db,
      a.map((ai, i) => dy[i]! * Math.log(ai) * ai ** b[i]!),
    )
  })

  it('layout gradients: transpose, reshape, slice, concat, gather', () => {
    ref(
      grads((x: Tensor) => transpose(x))(
        [
          t([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ],
        t([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      )[0],
      [
        [1, 3, 5],
        [2, 4, 6],
      ],
    )
    ref(
      grads((x: Tensor) => reshape(x, [3, 2]))(
        [
          t([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ],
        t([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      )[0],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    )
    ref(
      grads((x: Tensor) => slice(x, [0, 1], [2, 2]))(
        [
          t([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ],
        t([
          [7, 8],
          [9, 10],
        ]),
      )[0],
      [
        [0, 7, 8],
        [0, 9, 10],
      ],
    )
    const [g1, g2] = grads((a: Tensor, b: Tensor) => concat([a, b], 1))(
      [
        t([[1], [2]]),
        t([
          [3, 4],
          [5, 6],
        ]),
      ],
      t([
        [10, 20, 30],
        [40, 50, 60],
      ]),
    )
    ref(g1, [[10], [40]])
    ref(g2, [
      [20, 30],
      [50, 60],
    ])
    // gather with a repeated index accumulates: x[0] is taken twice
    ref(grads((x: Tensor) => gather(x, [0, 3, 0]))([t([1, 2, 3, 4])], t([1, 2, 3]))[0], [4, 0, 0, 2])
  })
})

// -------------------------------------------------------------------------------------
// JAX
// -------------------------------------------------------------------------------------

describe('JAX api_test.py', () => {
  it('grad of logsumexp is softmax, also for large inputs', () => {
    for (const z of [
      [1, 2, 3],
      [1000, 1001, 999.5],
      [-50, 0, 50],
    ])
      ref(grad((x: Tensor) => logsumexp(x))(t(z)), jsSoftmax(z))
  })

  it('jvp of logsumexp along v is ⟨softmax(z), v⟩', () => {
    const z = [0.5, -1, 2]
    const v = [1, 2, -0.5]
    const s = jsSoftmax(z)
    ref(
      jvp((x: Tensor) => logsumexp(x), t(z), t(v))[1],
      s.reduce((a, si, i) => a + si * v[i]!, 0),
    )
  })

  it('jvp(sin, 3, 2) = (sin 3, 2·cos 3)', () => {
    const [y, yDot] = jvp(sin, t(3), t(2))
    ref(y, Math.sin(3))
    ref(yDot, 2 * Math.cos(3))
  })

  it('vjp of (x, y) ↦ sin(x)·y gives (cos(x)·y·g, sin(x)·g)', () => {
    const [x0, y0, g] = [0.7, 1.8, 2.5]
    const [out, pb] = vjp(([x, y]: Tensor[]) => mul(sin(x!), y!), [t(x0), t(y0)])
    ref(out, Math.sin(x0) * y0)
    const [gx, gy] = pb(t(g))
    ref(gx, Math.cos(x0) * y0 * g)
    ref(gy, Math.sin(x0) * g)
  })

  it('test_hessian: hessian of x·(A·x) is A + Aᵀ', () => {
    const A = [
      [0.5, -1, 2, 0],
      [1, 1, 0, 3],
      [-2, 0.25, 1, 1],
      [0, 1, -1, 2],
    ]
    ref(
      hessian((x: Tensor) => sum(mul(x, matmul(t(A), x))))(t([0.1, -0.2, 0.3, 0.4])),
      A.map((r, i) => r.map((a, j) => a + A[j]![i]!)),
    )
  })

  it('hessian of Σ x³ is diag(6x)', () => {
    ref(hessian((x: Tensor) => sum(pow(x, 3)))(t([1, 2])), [
      [6, 0],
      [0, 12],
    ])
  })

  it('jacfwd = jacrev for x ↦ [x₀·x₁, sin(x₀), x₁²] (Jacobian in closed form)', () => {
    const f = (x: Tensor) =>
      stack([mul(gather(x, 0), gather(x, 1)), sin(gather(x, 0)), mul(gather(x, 1), gather(x, 1))])
    const [a, b] = [0.4, -1.5]
    const J = [
      [b, a],
      [Math.cos(a), 0],
      [0, 2 * b],
    ]
    ref(jacfwd(f)(t([a, b])), J)
    ref(jacrev(f)(t([a, b])), J)
  })

  it('grad of a pytree: {a: x, b: [y, z]} ↦ a·y + sin(z)', () => {
    const g = grad((p: { a: Tensor; b: [Tensor, Tensor] }) => add(mul(p.a, p.b[0]), sin(p.b[1])))({
      a: t(2),
      b: [t(3), t(0.5)],
    })
    ref(g.a, 3)
    ref(g.b[0], 2)
    ref(g.b[1], Math.cos(0.5))
  })

  it('grad of where(x > 0, x, 0) is the step (away from 0)', () => {
    ref(grad((x: Tensor) => sum(where(greater(x, 0), x, 0)))(t([-1, 2, 0.5])), [0, 1, 1])
  })

  it('jvp/vjp consistency on a composite: ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩ = closed form', () => {
    // f(x) = tanh(W·x), J = diag(1 − tanh²(Wx))·W
    const W = [
      [1, 2, -1],
      [0.5, -0.5, 1],
    ]
    const x0 = [0.1, 0.2, -0.3]
    const v = [1, -1, 2]
    const yb = [0.3, -2]
    const z = matMulJs(
      W,
      x0.map((x) => [x]),
    ).map((r) => r[0]!)
    const Jv = W.map((r, i) => (1 - Math.tanh(z[i]!) ** 2) * r.reduce((s, w, j) => s + w * v[j]!, 0))
    const expected = yb.reduce((s, y, i) => s + y * Jv[i]!, 0)
    const f = (x: Tensor) => tanh(matmul(t(W), x))
    ref(sum(mul(t(yb), jvp(f, t(x0), t(v))[1])), expected)
    ref(sum(mul(vjp(f, t(x0))[1](t(yb)), t(v))), expected)
  })
})

// -------------------------------------------------------------------------------------
// HIPS/autograd
// -------------------------------------------------------------------------------------

describe('HIPS/autograd tests', () => {
  it('test_grad_fanout: sin(sin x + sin x) and its second derivative (Taylor)', () => {
    const x0 = 0.9
    const f = (x: Tensor) => sin(add(sin(x), sin(x)))
    const xs = S.variable(x0, 2)
    const d = S.derivatives(S.sin(S.add(S.sin(xs), S.sin(xs))))
    ref(grad(f)(t(x0)), d[1])
    ref(grad(grad(f))(t(x0)), d[2])
  })

  it('test_third_derivative: grad∘grad∘grad of sin(sin x + sin x) (Taylor)', () => {
    const x0 = 0.35
    const f = (x: Tensor) => sin(add(sin(x), sin(x)))
    const xs = S.variable(x0, 3)
    ref(grad(grad(grad(f)))(t(x0)), S.derivatives(S.sin(S.add(S.sin(xs), S.sin(xs))))[3])
  })

  it('test_grad_identity and test_grad_const: d x = 1, d² x = 0, d 1 = 0', () => {
    expect(num(grad((x: Tensor) => x)(t(2)))).toBe(1)
    expect(num(grad(grad((x: Tensor) => x))(t(2)))).toBe(0)
    expect(num(grad((_x: Tensor) => t(1))(t(2)))).toBe(0)
  })

  it('test_return_both: value_and_grad of 3·x^3.2 at 1.7', () => {
    const [v, g] = valueAndGrad((x: Tensor) => mul(3, pow(x, 3.2)))(t(1.7))
    ref(v, 3 * 1.7 ** 3.2)
    ref(g, 9.6 * 1.7 ** 2.2)
  })

  it('test_value_and_grad: Σ sin²(x) has gradient sin(2x)', () => {
    const x0 = [0.3, -1.2, 2, 0.05, -0.7]
    const [v, g] = valueAndGrad((x: Tensor) => sum(pow(sin(x), 2)))(t(x0))
    ref(
      v,
      x0.reduce((s, x) => s + Math.sin(x) ** 2, 0),
    )
    ref(
      g,
      x0.map((x) => Math.sin(2 * x)),
    )
  })

  it('test_hessian_vector_product: Σ sin(a) has H·v = −sin(a)·v', () => {
    const a = [0.1, 0.5, -2, 1.3, 3]
    const v = [1, -1, 0.5, 2, -0.25]
    ref(
      hvp((x: Tensor) => sum(sin(x)))(t(a), t(v)),
      a.map((ai, i) => -Math.sin(ai) * v[i]!),
    )
  })

  it('test_hessian_matrix_product: the same on a [2, 3] input', () => {
    const a = [
      [0.1, 0.5, -2],
      [1.3, 3, -0.4],
    ]
    const v = [
      [1, -1, 0.5],
      [2, -0.25, 1],
    ]
    ref(
      hvp((x: Tensor) => sum(sin(x)))(t(a), t(v)),
      a.map((r, i) => r.map((ai, j) => -Math.sin(ai) * v[i]![j]!)),
    )
  })

  it('test_vector_jacobian_product: roll(sin(a), 1) pulls V back to cos(a)·roll(V, −1)', () => {
    // y_i = sin(a_{i−1 mod n}) ⇒ (Jᵀ V)_j = cos(a_j)·V_{j+1 mod n}
    const a = [0.2, -0.4, 1.1, 2.5, -3]
    const V = [1, 2, -1, 0.5, 3]
    const roll = (x: Tensor) => gather(x, [4, 0, 1, 2, 3])
    ref(
      vjp((x: Tensor) => roll(sin(x)), t(a))[1](t(V)),
      a.map((aj, j) => Math.cos(aj) * V[(j + 1) % 5]!),
    )
  })

  it('test_core check_binary_func at (0.7, 1.8): add, sub, mul, div, pow', () => {
    const [x, y] = [0.7, 1.8]
    const cases: Array<[(a: Tensor, b: Tensor) => Tensor, number, number]> = [
      [add, 1, 1],
      [sub, 1, -1],
      [mul, y, x],
      [div, 1 / y, -x / (y * y)],
      [pow, y * x ** (y - 1), Math.log(x) * x ** y],
    ]
    for (const [f, dx, dy] of cases) {
      const [gx, gy] = grad(([a, b]: Tensor[]) => f(a!, b!))([t(x), t(y)])
      ref(gx, dx)
      ref(gy, dy)
    }
  })

  it('test_scalar_ops: 3·f(x) for abs, sin, exp, log, neg, cos, tan, tanh (first and second derivatives)', () => {
    const x0 = 1.1
    const cases: Array<[(x: Tensor) => Tensor, number, number]> = [
      [abs, 3, 0],
      [sin, 3 * Math.cos(x0), -3 * Math.sin(x0)],
      [exp, 3 * Math.exp(x0), 3 * Math.exp(x0)],
      [log, 3 / x0, -3 / (x0 * x0)],
      [neg, -3, 0],
      [cos, -3 * Math.sin(x0), -3 * Math.cos(x0)],
      // tan' = sec², tan'' = 2·tan·sec²
      [tan, 3 / Math.cos(x0) ** 2, (6 * Math.tan(x0)) / Math.cos(x0) ** 2],
      // tanh' = 1 − tanh², tanh'' = −2·tanh·(1 − tanh²)
      [tanh, 3 * (1 - Math.tanh(x0) ** 2), -6 * Math.tanh(x0) * (1 - Math.tanh(x0) ** 2)],
    ]
    for (const [f, d1, d2] of cases) {
      const g = (x: Tensor) => mul(3, f(x))
      ref(grad(g)(t(x0)), d1)
      ref(grad(grad(g))(t(x0)), d2)
    }
  })
})

// -------------------------------------------------------------------------------------
// DiffSharp
// -------------------------------------------------------------------------------------

describe('DiffSharp TestDerivatives.Nested.fs', () => {
  const rosenbrock = (x: Tensor) => {
    const a = gather(x, 0)
    const b = gather(x, 1)
    return add(pow(sub(1, a), 2), mul(100, pow(sub(b, pow(a, 2)), 2)))
  }
  // analytical Hessian: [[2 + 1200x² − 400y, −400x], [−400x, 200]]
  const rosenH = (x: number, y: number) => [
    [2 + 1200 * x * x - 400 * y, -400 * x],
    [-400 * x, 200],
  ]

  it('TestDerivativesNestedHessian: Hessian-vector product by rev-on-fwd and vector-Hessian by rev-on-rev', () => {
    const [x, y] = [0.3, -1.2]
    const v = [0.7, 2]
    const expected = rosenH(x, y).map((r) => r[0]! * v[0]! + r[1]! * v[1]!)
    // rev-on-fwd: ∇ₓ ⟨∇f, v⟩ via jvp inside vjp
    const hv = vjp((u: Tensor) => jvp(rosenbrock, u, t(v))[1], t([x, y]))[1](t(1))
    ref(hv, expected)
    // rev-on-rev: the pullback of the gradient along v
    const vh = vjp((u: Tensor) => grad(rosenbrock)(u), t([x, y]))[1](t(v))
    ref(vh, expected)
    ref(hessian(rosenbrock)(t([x, y])), rosenH(x, y))
  })

  it('TestDerivativesNestedTanh: six nested derivatives of tanh against the sech formulas', () => {
    const x0 = 0.37
    const th = Math.tanh(x0)
    const s = 1 / Math.cosh(x0)
    const expected = [
      s * s,
      -2 * th * s * s,
      4 * th * th * s * s - 2 * s ** 4,
      16 * th * s ** 4 - 8 * th ** 3 * s * s,
      8 * s * s * (2 * th ** 4 + 2 * s ** 4 - 11 * th * th * s * s),
      -16 * th * s * s * (2 * th ** 4 + 17 * s ** 4 - 26 * th * th * s * s),
    ]
    let f = (x: Tensor): Tensor => tanh(x)
    for (const e of expected) {
      const g = f
      f = (x: Tensor) => derivative(g)(x)
      ref(f(t(x0)), e)
    }
  })

  it('TestDerivativesNestedPerturbationConfusion: d/dx [x · d/dy (x·y)|_{y=2}] at 1 is 2', () => {
    expect(num(derivative((x: Tensor) => mul(x, derivative((y: Tensor) => mul(x, y))(t(2))))(t(1)))).toBe(2)
  })

  it('the Rosenbrock gradient in closed form (DiffSharp optimisation tests)', () => {
    const [x, y] = [-0.5, 0.8]
    ref(grad(rosenbrock)(t([x, y])), [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
  })

  it('fwd-on-fwd-on-rev: third derivative of a gradient (the charged-particle pattern), by Taylor', () => {
    // d³/dw³ of the gradient component ∂/∂x [exp(w·x) · x] at x = 1: g(w) = exp(w)(1 + w)·…
    // computed as derivative(derivative(v ↦ grad(x ↦ exp(v·x)·x)(1))) at w
    const w0 = 0.4
    const inner = (w: Tensor) => grad((x: Tensor) => mul(exp(mul(w, x)), x))(t(1))
    // ∂/∂x [e^{wx}·x] at x = 1 is e^w·(w + 1): its series in w
    const ws = S.variable(w0, 3)
    const series = S.mul(S.exp(ws), S.add(ws, S.constant(1, 3)))
    ref(derivative((w: Tensor) => derivative(inner)(w))(t(w0)), S.derivatives(series)[2])
  })
})

// -------------------------------------------------------------------------------------
// ekmett/ad
// -------------------------------------------------------------------------------------

describe('ekmett/ad tests', () => {
  it("diff p for p(x) = 12 + 7x + 5x² + 2x³ on −2 … 2 (p' = 7 + 10x + 6x²)", () => {
    const p = (x: Tensor) => add(add(add(12, mul(7, x)), mul(5, pow(x, 2))), mul(2, pow(x, 3)))
    for (const x of [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]) ref(derivative(p)(t(x)), 7 + 10 * x + 6 * x * x)
  })

  it('diff sqrt at 0.25, 1, 4 is 1/(2√x)', () => {
    for (const x of [0.25, 1, 4]) ref(derivative(sqrt)(t(x)), 1 / (2 * Math.sqrt(x)))
  })

  it('diff sin, cos, tan at 0 are 1, 0, 1; diff exp at 0, 1 and log at 1', () => {
    // (cos'(0) = −sin 0 = −0, equal to 0 under the comparison)
    ref(
      [sin, cos, tan].map((f) => num(derivative(f)(t(0)))),
      [1, 0, 1],
    )
    ref(derivative(exp)(t(0)), 1)
    ref(derivative(exp)(t(1)), Math.E)
    ref(derivative(log)(t(1)), 1)
  })

  it('grad of x·y + z at [1, 2, 3] is [2, 1, 1]', () => {
    ref(grad((v: Tensor) => add(mul(gather(v, 0), gather(v, 1)), gather(v, 2)))(t([1, 2, 3])), [2, 1, 1])
  })

  it('grad of √(x·y) at [2, 8] is [1, 0.25]', () => {
    ref(grad((v: Tensor) => sqrt(mul(gather(v, 0), gather(v, 1))))(t([2, 8])), [1, 0.25])
  })

  it('jacobian of [y, x, x·y] at [2, 1] is [[0, 1], [1, 0], [1, 2]] (forward and reverse)', () => {
    const g = (v: Tensor) => stack([gather(v, 1), gather(v, 0), mul(gather(v, 0), gather(v, 1))])
    ref(jacfwd(g)(t([2, 1])), [
      [0, 1],
      [1, 0],
      [1, 2],
    ])
    ref(jacrev(g)(t([2, 1])), [
      [0, 1],
      [1, 0],
      [1, 2],
    ])
  })

  it('hessians of x·y + z, x + y, x·y and x^y', () => {
    const at = (v: Tensor, i: number) => gather(v, i)
    ref(hessian((v: Tensor) => add(mul(at(v, 0), at(v, 1)), at(v, 2)))(t([1, 2, 3])), [
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 0],
    ])
    ref(hessian((v: Tensor) => add(at(v, 0), at(v, 1)))(t([1, 2])), [
      [0, 0],
      [0, 0],
    ])
    ref(hessian((v: Tensor) => mul(at(v, 0), at(v, 1)))(t([1, 2])), [
      [0, 1],
      [1, 0],
    ])
    // x^y at (1, 2): ∂xx = y(y−1)x^(y−2) = 2, ∂xy = x^(y−1)(1 + y·log x) = 1, ∂yy = log²x·x^y = 0
    ref(hessian((v: Tensor) => pow(at(v, 0), at(v, 1)))(t([1, 2])), [
      [2, 1],
      [1, 0],
    ])
  })

  it('issue 97: a 5000-term sum (a long tape) has derivative 5000', () => {
    const f = (x: Tensor) => {
      let acc = x
      for (let i = 1; i < 5000; i++) acc = add(acc, x)
      return acc
    }
    expect(num(derivative(f)(t(0)))).toBe(5000)
    expect(num(grad(f)(t(0)))).toBe(5000)
  })

  it('issue 104: √x·√y and √(x·y) at [1, 1] have gradient [0.5, 0.5]', () => {
    const at = (v: Tensor, i: number) => gather(v, i)
    ref(grad((v: Tensor) => mul(sqrt(at(v, 0)), sqrt(at(v, 1))))(t([1, 1])), [0.5, 0.5])
    ref(grad((v: Tensor) => sqrt(mul(at(v, 0), at(v, 1))))(t([1, 1])), [0.5, 0.5])
  })

  it('issue 108: log1p and expm1 near 0 keep full precision in value and derivative', () => {
    // log1p(x) = x − x²/2 + x³/3 − … and expm1(x) = x + x²/2 + x³/6 + …: three terms are exact
    // to float64 for |x| ≤ 1e-15; the derivatives are 1/(1 + x) and eˣ
    for (const x of [-1e-15, -1e-20, 1e-20, 1e-15]) {
      const [v1, d1] = jvp(log1p, t(x), t(1))
      ref(v1, x - (x * x) / 2 + (x * x * x) / 3)
      ref(d1, 1 / (1 + x))
      const [v2, d2] = jvp(expm1, t(x), t(1))
      ref(v2, x + (x * x) / 2 + (x * x * x) / 6)
      ref(d2, Math.exp(x))
    }
    ref(jvp(log1p, t(1), t(1))[0], Math.LN2)
    ref(jvp(expm1, t(1), t(1))[1], Math.E)
  })

  it('issue 108: log1pexp (softplus) from −1000 to 1000, value and derivative σ(x)', () => {
    for (const x of [-1000, -100, -1, 0, 1, 100, 1000]) {
      const [v, d] = jvp(softplus, t(x), t(1))
      // log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), exact in float64 at both ends
      ref(v, Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))))
      ref(d, sigma(x))
    }
  })

  it('AdditionalTests mode coverage: diff (x² + x) at 1 = 3; grad (x² + y) at [1, 2] = [2, 1]; jacobian [x + y, x·y] = [[1, 1], [2, 1]]', () => {
    ref(derivative((x: Tensor) => add(mul(x, x), x))(t(1)), 3)
    ref(grad((v: Tensor) => add(mul(gather(v, 0), gather(v, 0)), gather(v, 1)))(t([1, 2])), [2, 1])
    const g2 = (v: Tensor) => stack([add(gather(v, 0), gather(v, 1)), mul(gather(v, 0), gather(v, 1))])
    ref(jacfwd(g2)(t([1, 2])), [
      [1, 1],
      [2, 1],
    ])
    ref(jacrev(g2)(t([1, 2])), [
      [1, 1],
      [2, 1],
    ])
    // jacobianT is the transpose
    ref(transpose(jacrev(g2)(t([1, 2]))), [
      [1, 2],
      [1, 1],
    ])
  })

  it('AdditionalTests tower coverage: diffs x³ at 2 = [8, 12, 12, 6]; diffs0 id at 0 = [0, 1, 0, 0]', () => {
    const tower = (f: (x: Tensor) => Tensor, x0: number, n: number) => {
      const out: number[] = []
      let g = f
      for (let k = 0; k < n; k++) {
        out.push(num(g(t(x0))))
        const h = g
        g = (x: Tensor) => derivative(h)(x)
      }
      return out
    }
    expect(tower((x) => pow(x, 3), 2, 4)).toEqual([8, 12, 12, 6])
    expect(tower((x) => x, 0, 4)).toEqual([0, 1, 0, 0])
  })

  it('AdditionalTests du / duF / diffF: directional derivatives of x·y and [x + y, x·y] at (1, 2) along (1, 0); diffF (x ↦ [x², x + 1]) at 2', () => {
    const at = (v: Tensor, i: number) => gather(v, i)
    ref(jvp((v: Tensor) => mul(at(v, 0), at(v, 1)), t([1, 2]), t([1, 0]))[1], 2)
    ref(jvp((v: Tensor) => stack([add(at(v, 0), at(v, 1)), mul(at(v, 0), at(v, 1))]), t([1, 2]), t([1, 0]))[1], [1, 2])
    const [y, yDot] = jvp((x: Tensor) => stack([mul(x, x), add(x, 1)]), t(2), t(1))
    ref(y, [4, 3])
    ref(yDot, [4, 1])
  })

  it('AdditionalTests properties: grad (3a + 2b) = [3, 2] and jacobian [a + b, a − b] = [[1, 1], [1, −1]] everywhere', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        (a, b) => {
          const g = grad((v: Tensor) => add(mul(3, gather(v, 0)), mul(2, gather(v, 1))))(t([a, b]))
          const j = jacrev((v: Tensor) => stack([add(gather(v, 0), gather(v, 1)), sub(gather(v, 0), gather(v, 1))]))(
            t([a, b]),
          )
          return (
            allClose(g, [3, 2], RTOL).ok &&
            allClose(
              j,
              [
                [1, 1],
                [1, -1],
              ],
              RTOL,
            ).ok
          )
        },
      ),
      { numRuns: 20, seed: 108 },
    )
  })
})

// -------------------------------------------------------------------------------------
// Siskind–Pearlmutter perturbation confusion (the held-out suite's classic)
// -------------------------------------------------------------------------------------

describe('Siskind & Pearlmutter perturbation confusion', () => {
  it('d/dx [x · d/dy (x + y)|_{y=1}] at x = 1 is 1 (derivative, grad, mixed)', () => {
    const inner = (x: Tensor) => derivative((y: Tensor) => add(x, y))(t(1))
    const innerRev = (x: Tensor) => grad((y: Tensor) => add(x, y))(t(1))
    expect(num(derivative((x: Tensor) => mul(x, inner(x)))(t(1)))).toBe(1)
    expect(num(grad((x: Tensor) => mul(x, innerRev(x)))(t(1)))).toBe(1)
    expect(num(grad((x: Tensor) => mul(x, inner(x)))(t(1)))).toBe(1)
    expect(num(derivative((x: Tensor) => mul(x, innerRev(x)))(t(1)))).toBe(1)
  })
})

// -------------------------------------------------------------------------------------
// at kinks and singular points (reported apart)
// -------------------------------------------------------------------------------------

describe('at kinks and singular points (conventions; reported apart)', () => {
  it("micrograd-style relu at 0: relu'(0) = 0 (as PyTorch and JAX)", () => {
    ref(grad((x: Tensor) => sum(relu(x)))(t([-1, 0, 2])), [0, 0, 1])
  })

  it("ekmett diff abs at −1, 0, 1 is −1, 0, 1 (abs'(0) = 0, as ekmett/ad)", () => {
    expect([-1, 0, 1].map((x) => num(derivative(abs)(t(x))))).toEqual([-1, 0, 1])
  })

  it('ekmett diff sqrt at 0 is +inf and at −1 NaN; diff log at 0 is +inf (singular, same as ekmett/ad)', () => {
    expect(num(derivative(sqrt)(t(0)))).toBe(Infinity)
    expect(Number.isNaN(num(derivative(sqrt)(t(-1))))).toBe(true)
    expect(num(derivative(log)(t(0)))).toBe(Infinity)
  })

  it('ekmett issue 104 at the boundary: ∇(√x·√y) and ∇√(x·y) at [1, 0] are both [0, inf] (ekmett/ad gives [NaN, inf] for the second)', () => {
    // The true partials: f(x, 0) = 0 for every x, so ∂f/∂x = 0 exactly; ∂f/∂y = lim √(h)/h = inf.
    // ekmett/ad computes ∂/∂x √(xy) as y · 1/(2√(xy)) = 0 · inf = NaN; purediff's reverse rules
    // multiply a partial into a cotangent with mulNoNan (0 · inf = 0) and give the true 0.
    const at = (v: Tensor, i: number) => gather(v, i)
    const outside = grad((v: Tensor) => mul(sqrt(at(v, 0)), sqrt(at(v, 1))))(t([1, 0])).toTypedArray()
    expect(Array.from(outside)).toEqual([0, Infinity])
    const inside = grad((v: Tensor) => sqrt(mul(at(v, 0), at(v, 1))))(t([1, 0])).toTypedArray()
    expect(Array.from(inside)).toEqual([0, Infinity])
  })

  it('ekmett grad (x^y) at [0, 2]: purediff gives [0, 0] (JAX convention: d/dy aᵇ = 0 at a = 0); ekmett/ad gives [0, NaN]', () => {
    ref(grad((v: Tensor) => pow(gather(v, 0), gather(v, 1)))(t([0, 2])), [0, 0])
  })

  it('TensorFlow.js max with ties: purediff splits dy equally among tied maxima (JAX); tfjs gives each tie the full dy', () => {
    ref(
      grads((u: Tensor) => max(u, 1))(
        [
          t([
            [3, 3, 1],
            [2, 5, 5],
          ]),
        ],
        t([2, 4]),
      )[0],
      [
        [1, 1, 0],
        [0, 2, 2],
      ],
    )
  })

  it('maximum at a tie: each argument gets half (JAX); clip at its bounds is half as well', () => {
    const [ga, gb] = grad(([a, b]: Tensor[]) => maximum(a!, b!))([t(1), t(1)])
    ref(ga, 0.5)
    ref(gb, 0.5)
    ref(grad((x: Tensor) => sum(clip(x, 0, 1)))(t([0, 0.5, 1, 2])), [0.5, 1, 0.5, 0])
  })

  it('where does not leak NaN: ∇ Σ where(c, log x, 0) at x = [1, 0], c = [1, 0] is exactly [1, 0]', () => {
    expect(Array.from(grad((x: Tensor) => sum(where(t([1, 0]), log(x), 0)))(t([1, 0])).toTypedArray())).toEqual([1, 0])
  })
})
