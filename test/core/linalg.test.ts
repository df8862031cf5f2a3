/**
 * Linear algebra: identities as fast-check laws (L·Lᵀ = A, T·triangularSolve(T, B) = B,
 * A·solve(A, B) = B, A·inv(A) = I, det(AB) = det(A)·det(B), einsum = its explicit loop),
 * each shown to fail on a deliberately broken kernel or lowering; gradients against closed
 * forms computed here in plain JS (Gauss–Jordan inverse); the documented conventions for
 * singular and indefinite input; and the errors.
 *
 * The primitives' derivative laws (JVP vs differences, adjointness, second order, float32)
 * run in `primitives.test.ts` over the table, with domains that avoid the singular sets.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  cholesky,
  det,
  diag,
  diagonal,
  eigh,
  einsum,
  qr,
  svd,
  exp,
  eye,
  index,
  reshape,
  slice,
  fromData,
  grad,
  hessian,
  inv,
  logdet,
  matmul,
  mul,
  norm,
  slogdet,
  solve,
  sum,
  tensor,
  stack,
  trace,
  transpose,
  triangularSolve,
  tril,
  triu,
  vmap,
} from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import * as LA from '../../src/primitives/linalg.js'
import type { AnyPrimitive, RuleOps } from '../../src/primitives/types.js'
import { checkAdjoint, checkJvpVsFd } from '../helpers/laws.js'
import type { Values } from '../helpers/allClose.js'
import { allClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

// -------------------------------------------------------------------------------------
// plain-JS references
// -------------------------------------------------------------------------------------

type M = number[][]
const mm = (a: M, b: M): M =>
  a.map((row) => (b[0] as number[]).map((_, j) => row.reduce((s, v, k) => s + v * (b[k] as number[])[j]!, 0)))
const tr = (a: M): M => (a[0] as number[]).map((_, j) => a.map((row) => row[j] as number))
/** Gauss–Jordan with partial pivoting. */
const invRef = (a0: M): M => {
  const n = a0.length
  const a = a0.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))])
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i
    ;[a[k], a[p]] = [a[p]!, a[k]!]
    const piv = a[k]![k]!
    a[k] = a[k]!.map((v) => v / piv)
    for (let i = 0; i < n; i++) if (i !== k) a[i] = a[i]!.map((v, j) => v - a[i]![k]! * a[k]![j]!)
  }
  return a.map((r) => r.slice(n))
}
/** det by Laplace expansion along the first row (n ≤ 4 here). */
const detRef = (a: M): number =>
  a.length === 1
    ? a[0]![0]!
    : a[0]!.reduce(
        (s, v, j) => s + (j % 2 === 0 ? 1 : -1) * v * detRef(a.slice(1).map((r) => r.filter((_, c) => c !== j))),
        0,
      )

const arr = (t: Tensor): M => t.toArray() as M

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const entries = (n: number, lo = -1, hi = 1) =>
  fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: n, maxLength: n })
const matrixArb = (n: number, m = n): fc.Arbitrary<M> =>
  entries(n * m).map((v) => Array.from({ length: n }, (_, i) => v.slice(i * m, (i + 1) * m)))
/** B·Bᵀ/n + I */
const spdArb = (n: number): fc.Arbitrary<M> =>
  matrixArb(n).map((b) => mm(b, tr(b)).map((r, i) => r.map((v, j) => v / n + (i === j ? 1 : 0))))
/** A + (n + 0.5)·I: diagonally dominant */
const regularArb = (n: number): fc.Arbitrary<M> =>
  matrixArb(n).map((a) => a.map((r, i) => r.map((v, j) => v + (i === j ? n + 0.5 : 0))))
const sizeArb = fc.integer({ min: 1, max: 4 })

const close = (a: Values, b: Values, rtol = 1e-10, atol = 1e-10): boolean => allClose(a, b, rtol, atol).ok
const NUM_RUNS = 40
const run = (p: fc.IProperty<never> | fc.IProperty<[M]> | fc.IProperty<unknown[]>, seed: number) =>
  fc.check(p as fc.IProperty<unknown[]>, { numRuns: NUM_RUNS, seed })

/** A copy of a primitive with its kernel replaced. */
const withImpl = (prim: AnyPrimitive, impl: AnyPrimitive['impl']): AnyPrimitive => ({
  ...prim,
  name: `broken ${prim.name}`,
  impl,
})

// -------------------------------------------------------------------------------------
// identities as laws
// -------------------------------------------------------------------------------------

type Chol = (a: Tensor) => Tensor
/** L·Lᵀ = A, L lower triangular with a positive diagonal. */
const choleskyLaw = (chol: Chol) =>
  fc.property(sizeArb.chain(spdArb), (a) => {
    const l = chol(tensor(a))
    const lv = arr(l)
    const lower = lv.every((r, i) => r.every((v, j) => (j > i ? v === 0 : j === i ? v > 0 : true)))
    return lower && close(matmul(l, transpose(l)), a)
  })

type Solve = (a: Tensor, b: Tensor) => Tensor
const solveLaw = (solveFn: Solve) =>
  fc.property(
    sizeArb.chain((n) => fc.tuple(regularArb(n), matrixArb(n, 2))),
    ([a, b]) => close(matmul(tensor(a), solveFn(tensor(a), tensor(b))), b),
  )

const triangularLaw = (lower: boolean, transposeA: boolean, f: (t: Tensor, b: Tensor) => Tensor) =>
  fc.property(
    sizeArb.chain((n) => fc.tuple(regularArb(n), matrixArb(n, 2))),
    ([a, b]) => {
      const t = lower ? tril(tensor(a)) : triu(tensor(a))
      const opT = transposeA ? transpose(t) : t
      return close(matmul(opT, f(tensor(a), tensor(b))), b)
    },
  )

const detLaw = (detFn: (a: Tensor) => Tensor) =>
  fc.property(
    sizeArb.chain((n) => fc.tuple(matrixArb(n, n), matrixArb(n, n))),
    ([a, b]) => {
      const lhs = detFn(matmul(tensor(a), tensor(b))).item()
      const rhs = detFn(tensor(a)).item() * detFn(tensor(b)).item()
      return (
        Math.abs(lhs - rhs) <= 1e-10 * (1 + Math.abs(rhs)) &&
        Math.abs(detFn(tensor(a)).item() - detRef(a)) <= 1e-10 * (1 + Math.abs(detRef(a)))
      )
    },
  )

describe('linear-algebra identities (fast-check)', () => {
  it('cholesky: L·Lᵀ = A, L lower triangular with positive diagonal; fails for a broken kernel', () => {
    expect(run(choleskyLaw(cholesky), 1).failed).toBe(false)
    // broken: returns the factor transposed (upper triangular: Lᵀ·L ≠ A)
    const upper = withImpl(LA.cholesky as AnyPrimitive, (xs, p) =>
      transpose(LA.cholesky.impl(xs, p as Record<string, never>)).concrete(),
    )
    expect(
      run(
        choleskyLaw((a) => bind(upper, [a], {})),
        1,
      ).failed,
    ).toBe(true)
  })

  it('triangularSolve: op(T)·X = B for each triangle and transpose option; fails for a kernel that ignores transposeA', () => {
    for (const lower of [true, false]) {
      for (const transposeA of [false, true]) {
        expect(
          run(
            triangularLaw(lower, transposeA, (t, b) => triangularSolve(t, b, { lower, transposeA })),
            2,
          ).failed,
        ).toBe(false)
      }
    }
    const ignoring = withImpl(LA.triangularSolve as AnyPrimitive, (xs, p) =>
      LA.triangularSolve.impl(xs, { ...(p as LA.TriangularSolveParams), transposeA: false }),
    )
    const f = (t: Tensor, b: Tensor) => bind(ignoring, [t, b], { lower: true, transposeA: true })
    expect(run(triangularLaw(true, true, f), 2).failed).toBe(true)
  })

  it('solve: A·solve(A, B) = B (batched too); fails for a kernel without pivoting order (rows of B not permuted)', () => {
    expect(run(solveLaw(solve), 3).failed).toBe(false)
    // batched: two systems at once, against each alone
    const a = tensor([
      [
        [2, 1],
        [1, 3],
      ],
      [
        [0, 1],
        [1, 0],
      ],
    ])
    const b = tensor([
      [[1], [2]],
      [[3], [4]],
    ])
    expect(close(matmul(a, solve(a, b)), b)).toBe(true)
    // broken: forgets to apply the LU row permutation to B (solves with P·A instead of A)
    const broken = withImpl(LA.solve as AnyPrimitive, ([aa, bb], p) => {
      const av = aa!.toArray() as M
      // reverse the rows of A: a wrong (fixed) permutation
      return LA.solve.impl([tensor([...av].reverse()), bb!], p as Record<string, never>)
    })
    expect(
      run(
        solveLaw((x, y) => bind(broken, [x, y], {})),
        3,
      ).failed,
    ).toBe(true)
  })

  it('inv: A·inv(A) = I and inv matches Gauss–Jordan', () => {
    const law = fc.property(
      sizeArb.chain(regularArb),
      (a) => close(matmul(tensor(a), inv(tensor(a))), eye(a.length)) && close(inv(tensor(a)), invRef(a)),
    )
    expect(run(law, 4).failed).toBe(false)
  })

  it('det(AB) = det(A)·det(B) and det = Laplace expansion; fails for a kernel that drops the sign of the permutation', () => {
    expect(run(detLaw(det), 5).failed).toBe(false)
    const unsigned = withImpl(LA.detSign as AnyPrimitive, (xs, p) => {
      const sgn = LA.detSign.impl(xs, p as Record<string, never>)
      return fromData(Array.from(sgn.toTypedArray(), Math.abs), sgn.shape)
    })
    const brokenDet = (x: Tensor) => mul(bind(unsigned, [x], {}), exp(bind(LA.logAbsDet, [x], {})))
    expect(run(detLaw(brokenDet), 5).failed).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// einsum against its explicit loop
// -------------------------------------------------------------------------------------

/** The defining loop: every assignment of the letters, the product of entries, summed into the output. */
const einsumLoop = (spec: string, xs: ReadonlyArray<Tensor>): { data: number[]; shape: number[] } => {
  const [lhs, out] = spec.split('->') as [string, string]
  const ins = lhs.split(',')
  const ext = new Map<string, number>()
  ins.forEach((s, i) => [...s].forEach((l, ax) => ext.set(l, xs[i]!.shape[ax]!)))
  const letters = [...ext.keys()]
  const shape = [...out].map((l) => ext.get(l)!)
  const data = new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0)
  const vals = xs.map((x) => Array.from(x.toTypedArray()))
  const idx = new Map<string, number>()
  const flatAt = (s: string, shp: ReadonlyArray<number>) => [...s].reduce((f, l, ax) => f * shp[ax]! + idx.get(l)!, 0)
  const visit = (k: number): void => {
    if (k === letters.length) {
      const prod = ins.reduce((p, s, i) => p * vals[i]![flatAt(s, xs[i]!.shape)]!, 1)
      data[flatAt(out, shape)]! += prod
      return
    }
    for (let v = 0; v < ext.get(letters[k]!)!; v++) {
      idx.set(letters[k]!, v)
      visit(k + 1)
    }
  }
  visit(0)
  return { data, shape }
}

const EINSUM_CASES: ReadonlyArray<[string, number[][]]> = [
  [
    'ij,jk->ik',
    [
      [2, 3],
      [3, 4],
    ],
  ],
  ['ij->ji', [[2, 3]]],
  ['ii->i', [[3, 3]]],
  ['ii->', [[3, 3]]],
  ['ij->', [[2, 3]]],
  ['i,i->', [[4], [4]]],
  ['i,j->ij', [[2], [3]]],
  [
    'bij,bjk->bik',
    [
      [2, 2, 3],
      [2, 3, 2],
    ],
  ],
  [
    'ij,ij->ij',
    [
      [2, 3],
      [2, 3],
    ],
  ],
  [
    'ijk,jl,lk->i',
    [
      [2, 3, 2],
      [3, 2],
      [2, 2],
    ],
  ],
  ['iij->ji', [[2, 2, 3]]],
  [
    'ab,bc,cd->da',
    [
      [2, 3],
      [3, 2],
      [2, 3],
    ],
  ],
  [
    'ij,kj->ik',
    [
      [2, 3],
      [4, 3],
    ],
  ],
]

const einsumLaw = (impl: (spec: string, xs: Tensor[]) => Tensor) =>
  fc.property(
    fc.constantFrom(...EINSUM_CASES).chain(([spec, shapes]) =>
      fc.tuple(
        fc.constant(spec),
        fc.tuple(
          ...shapes.map((s) =>
            entries(
              s.reduce((a, b) => a * b, 1),
              -2,
              2,
            ).map((v) => fromData(v, s) as Tensor),
          ),
        ),
      ),
    ),
    ([spec, xs]) => {
      const want = einsumLoop(spec, xs)
      const got = impl(spec, xs)
      return got.shape.join() === want.shape.join() && close(Array.from(got.toTypedArray()), want.data, 1e-12, 1e-12)
    },
  )

describe('einsum', () => {
  it('equals its explicit loop on every case; fails for a lowering that transposes its output', () => {
    expect(
      run(
        einsumLaw((spec, xs) => einsum(spec, ...xs)),
        6,
      ).failed,
    ).toBe(false)
    const broken = (spec: string, xs: Tensor[]) => {
      const y = einsum(spec, ...xs)
      return y.rank === 2 ? transpose(y) : y
    }
    expect(run(einsumLaw(broken), 6).failed).toBe(true)
  })

  it('implicit output, ellipsis and the usual shorthands', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const b = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ])
    expect(close(einsum('ij,jk', a, b), matmul(a, b))).toBe(true)
    expect(
      einsum(
        'ii',
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ).item(),
    ).toBe(5)
    expect(close(einsum('ji', a), transpose(a))).toBe(true) // implicit output is sorted: 'ij'
    const ab = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ])
    expect(close(einsum('...ij,...jk->...ik', ab, ab), matmul(ab, ab))).toBe(true)
    expect(close(einsum('...ij->...ji', ab), transpose(ab, [0, 2, 1]))).toBe(true)
  })

  it('is differentiable: grad of einsum equals grad of the matmul it lowers to', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const b = tensor([
      [1, -1],
      [0, 2],
      [3, 1],
    ])
    const g1 = grad((x: Tensor) => sum(mul(einsum('ij,jk->ik', x, b), einsum('ij,jk->ik', x, b))))(a)
    const g2 = grad((x: Tensor) => sum(mul(matmul(x, b), matmul(x, b))))(a)
    expect(close(g1, g2, 1e-14, 1e-14)).toBe(true)
  })

  it('misused subscripts give errors that say what is wrong', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const b = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ])
    expect(throwsPurediff(() => einsum('ij,jk->il', a, b)).message).toMatch(/output index 'l' appears in no input/)
    expect(throwsPurediff(() => einsum('ij,jk', a)).message).toMatch(/2 input subscripts for 1 operands/)
    expect(throwsPurediff(() => einsum('ijk,jk', a, b)).message).toMatch(/operand 0 has rank 2 but 'ijk' names 3 axes/)
    expect(throwsPurediff(() => einsum('ij,ik->jk', a, b)).message).toMatch(
      /index 'i' has extent 2 in one place and 3 in another/,
    )
    expect(throwsPurediff(() => einsum('i1,jk', a, b)).message).toMatch(/'1' in operand 0/)
    expect(throwsPurediff(() => einsum('ij->ii', a)).message).toMatch(/output index is repeated/)
    expect(throwsPurediff(() => einsum('ij->i->j', a)).message).toMatch(/more than one '->'/)
  })
})

// -------------------------------------------------------------------------------------
// gradients against closed forms
// -------------------------------------------------------------------------------------

describe('gradients against closed forms', () => {
  const a: M = [
    [3, 1, -1],
    [0.5, -2, 1],
    [1, 1, 4],
  ] // det < 0
  const spd: M = [
    [4, 1, 0.5],
    [1, 3, -1],
    [0.5, -1, 2],
  ]

  it('∂ log|det A| / ∂A = A⁻ᵀ (also for det < 0), and ∂ det A / ∂A = det(A)·A⁻ᵀ', () => {
    const [s] = slogdet(tensor(a))
    expect(s.item()).toBe(-1)
    expect(close(grad((x: Tensor) => slogdet(x)[1])(tensor(a)), tr(invRef(a)), 1e-12, 1e-12)).toBe(true)
    const d = detRef(a)
    expect(
      close(
        grad(det)(tensor(a)),
        tr(invRef(a)).map((r) => r.map((v) => d * v)),
        1e-12,
        1e-12,
      ),
    ).toBe(true)
  })

  it('∂ logdet A / ∂A = A⁻¹ for symmetric positive definite A (through Cholesky)', () => {
    expect(close(logdet(tensor(spd)), Math.log(detRef(spd)), 1e-14)).toBe(true)
    expect(close(grad(logdet)(tensor(spd)), invRef(spd), 1e-12, 1e-12)).toBe(true)
  })

  it('∂ Σ W ⊙ A⁻¹ / ∂A = −A⁻ᵀ·W·A⁻ᵀ', () => {
    const w: M = [
      [1, 2, 0],
      [0, -1, 1],
      [3, 0, 1],
    ]
    const ai = invRef(a)
    const want = mm(mm(tr(ai), w), tr(ai)).map((r) => r.map((v) => -v))
    expect(close(grad((x: Tensor) => sum(mul(tensor(w), inv(x))))(tensor(a)), want, 1e-12, 1e-12)).toBe(true)
  })

  it('second order: the Hessian of log|det A| along H is −tr(A⁻¹·H·A⁻¹·H)', () => {
    const h: M = [
      [0.1, 0, 0.2],
      [0, -0.3, 0],
      [0.5, 0, 0.1],
    ]
    const ai = invRef(a)
    const p = mm(ai, h)
    const want = -p.reduce((s, _, i) => s + p[i]!.reduce((t, v, k) => t + v * p[k]![i]!, 0), 0)
    const hess = hessian((x: Tensor) => slogdet(x)[1])(tensor(a))
    const hv = Array.from(hess.toTypedArray())
    const flatH = h.flat()
    let got = 0
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) got += flatH[i]! * hv[i * 9 + j]! * flatH[j]!
    expect(Math.abs(got - want)).toBeLessThan(1e-12)
  })

  it('trace, diagonal, tril, triu: gradients are the masks they read', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    expect(arr(grad((y: Tensor) => trace(y))(x))).toEqual([
      [1, 0],
      [0, 1],
    ])
    expect(arr(grad((y: Tensor) => sum(tril(y)))(x))).toEqual([
      [1, 0],
      [1, 1],
    ])
    expect(arr(grad((y: Tensor) => sum(triu(y, 1)))(x))).toEqual([
      [0, 1],
      [0, 0],
    ])
    expect(arr(grad((y: Tensor) => sum(mul(diagonal(y, -1), 5)))(x))).toEqual([
      [0, 0],
      [5, 0],
    ])
  })
})

// -------------------------------------------------------------------------------------
// conventions and errors
// -------------------------------------------------------------------------------------

describe('singular and indefinite input (documented: NaN, as JAX)', () => {
  it('cholesky of an indefinite matrix is all NaN; only that matrix of a batch', () => {
    const l = cholesky(
      tensor([
        [
          [1, 2],
          [2, 1],
        ],
        [
          [4, 2],
          [2, 2],
        ],
      ]),
    )
    const v = l.toArray() as number[][][]
    expect(v[0]!.flat().every(Number.isNaN)).toBe(true)
    expect(v[1]).toEqual([
      [2, 0],
      [1, 1],
    ])
    expect(
      Number.isNaN(
        logdet(
          tensor([
            [1, 2],
            [2, 1],
          ]),
        ).item(),
      ),
    ).toBe(true)
  })

  it('solve and inv of an exactly singular matrix are NaN; slogdet gives [0, −∞] and det 0', () => {
    const s = tensor([
      [1, 2],
      [2, 4],
    ])
    expect(Array.from(solve(s, tensor([1, 1])).toTypedArray()).every(Number.isNaN)).toBe(true)
    expect(Array.from(inv(s).toTypedArray()).every(Number.isNaN)).toBe(true)
    const [sign, l] = slogdet(s)
    expect(sign.item()).toBe(0)
    expect(l.item()).toBe(-Infinity)
    expect(det(s).item()).toBe(0)
  })

  it('norm of a zero vector has gradient 0 (not NaN)', () => {
    expect(arr(grad((x: Tensor) => norm(x))(tensor([0, 0])) as unknown as Tensor)).toEqual([0, 0])
  })
})

describe('norm', () => {
  it('vector and matrix orders against direct formulas', () => {
    const v = tensor([3, -4, 1])
    expect(norm(v).item()).toBeCloseTo(Math.sqrt(26), 14)
    expect(norm(v, { ord: 1 }).item()).toBe(8)
    expect(norm(v, { ord: Infinity }).item()).toBe(4)
    expect(norm(v, { ord: -Infinity }).item()).toBe(1)
    expect(norm(v, { ord: 3 }).item()).toBeCloseTo(Math.cbrt(27 + 64 + 1), 13)
    const m = tensor([
      [1, -2],
      [3, 4],
    ])
    expect(norm(m, { ord: 'fro' }).item()).toBeCloseTo(Math.sqrt(30), 14)
    expect(norm(m, { ord: 1 }).item()).toBe(6)
    expect(norm(m, { ord: Infinity }).item()).toBe(7)
    expect(norm(m, { ord: -1 }).item()).toBe(4)
    expect(arr(norm(m, { axis: 1 }) as Tensor)).toEqual([Math.sqrt(5), 5])
  })
  it('rejects unknown options and orders', () => {
    expect(throwsPurediff(() => norm(tensor([1]), { order: 2 } as never)).message).toMatch(
      /unknown option 'order'; valid options: ord, axis, keepDims/,
    )
    expect(throwsPurediff(() => norm(tensor([[1]]), { ord: 3, axis: [0, 1] })).message).toMatch(/matrix ord/)
    expect(throwsPurediff(() => norm(tensor([1]), { ord: -2 })).message).toMatch(/vector ord/)
  })
})

describe('shape errors', () => {
  it('name the op and the shapes', () => {
    expect(throwsPurediff(() => cholesky(tensor([[1, 2, 3]]))).message).toMatch(/cholesky: expects square matrices/)
    expect(throwsPurediff(() => solve(eye(2), tensor([1, 2, 3]))).message).toMatch(/solve: the right-hand side must be/)
    expect(throwsPurediff(() => triangularSolve(eye(2), tensor([1, 2]), { upper: true } as never)).message).toMatch(
      /unknown option 'upper'/,
    )
    expect(throwsPurediff(() => solve(tensor([[[1]], [[1]]]), tensor([[[1]], [[1]], [[1]]]))).message).toMatch(
      /batch axes/,
    )
  })
  it('diag builds and reads diagonals (NumPy semantics)', () => {
    expect(arr(diag(tensor([1, 2]), -1))).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [0, 2, 0],
    ])
    expect(
      arr(
        diag(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          1,
        ) as Tensor,
      ),
    ).toEqual([2] as unknown as M)
  })
})

describe('vmap over the linear-algebra ops', () => {
  const spds = [
    [
      [4, 1],
      [1, 3],
    ],
    [
      [2, -0.5],
      [-0.5, 1],
    ],
    [
      [9, 3],
      [3, 5],
    ],
  ]
  it('vmap(cholesky), vmap(logdet) and vmap(det) equal a loop (batch axis 0 and 2)', () => {
    const batch = tensor(spds)
    expect(close(vmap(cholesky)(batch), stack(spds.map((a) => cholesky(tensor(a)))), 0, 0)).toBe(true)
    expect(
      close(
        vmap(logdet)(batch),
        spds.map((a) => logdet(tensor(a)).item()),
        0,
        0,
      ),
    ).toBe(true)
    const last = transpose(batch, [1, 2, 0]) // batch axis last
    expect(
      close(
        vmap(det, { inAxes: 2 })(last),
        spds.map((a) => det(tensor(a)).item()),
        1e-15,
        0,
      ),
    ).toBe(true)
  })
  it('vmap(solve) with A shared and B batched, and per-example gradients of slogdet', () => {
    const a = tensor([
      [3, 1],
      [1, 2],
    ])
    const bs = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ])
    const got = vmap((b: Tensor) => solve(a, b), { inAxes: 0 })(bs)
    expect(
      close(
        got,
        stack(
          [0, 1, 2].map((i) =>
            solve(
              a,
              tensor(
                [
                  [1, 2],
                  [3, 4],
                  [5, 6],
                ][i]!,
              ),
            ),
          ),
        ),
        1e-15,
        1e-15,
      ),
    ).toBe(true)
    const g = vmap(grad((x: Tensor) => slogdet(x)[1]))(tensor(spds))
    expect(
      close(
        g,
        spds.map((m) => tr(invRef(m))),
        1e-12,
        1e-12,
      ),
    ).toBe(true)
  })
})

describe('eigh', () => {
  /** sym(B) + diag(0, 3, 6, ...) (distinct eigenvalues) */
  const symArb = (n: number): fc.Arbitrary<M> =>
    matrixArb(n).map((b) => b.map((r, i) => r.map((v, j) => (v + b[j]![i]!) / 2 + (i === j ? 3 * i : 0))))
  type Eigh = (a: Tensor) => [Tensor, Tensor]
  const eighLaw = (f: Eigh) =>
    fc.property(sizeArb.chain(symArb), (a) => {
      const [w, v] = f(tensor(a))
      const wv = w.toArray() as number[]
      const ascending = wv.every((x, i) => i === 0 || x >= wv[i - 1]!)
      const av = matmul(tensor(a), v)
      const vw = mul(v, w) // column k scaled by w_k
      return ascending && close(av, vw, 1e-10, 1e-10) && close(matmul(transpose(v), v), eye(a.length), 1e-12, 1e-12)
    })
  it('A·V = V·diag(w), VᵀV = I, w ascending; fails for a kernel that returns Vᵀ', () => {
    expect(run(eighLaw(eigh), 7).failed).toBe(false)
    const transposed = withImpl(LA.eigh as AnyPrimitive, (xs, p) => {
      const y = LA.eigh.impl(xs, p as Record<string, never>)
      const rows = y.toArray() as number[][]
      const v = tr(rows.slice(1))
      return tensor([rows[0]!, ...v]).concrete()
    })
    expect(
      run(
        eighLaw((a) => {
          const y = bind(transposed, [a], {})
          const n = a.shape[0]!
          return [reshape(slice(y, [0, 0], [1, n]), [n]), slice(y, [1, 0], [n, n])]
        }),
        7,
      ).failed,
    ).toBe(true)
  })
  it('∂w_k/∂A = v_k·v_kᵀ (closed form) and second order by the table laws', () => {
    const a: M = [
      [2, 1, 0],
      [1, 3, 1],
      [0, 1, 5],
    ]
    const [, v] = eigh(tensor(a))
    const vv = v.toArray() as number[][]
    for (let k = 0; k < 3; k++) {
      const g = grad((x: Tensor) => index(eigh(x)[0], k))(tensor(a))
      const want = vv.map((r) => vv.map((q) => r[k]! * q[k]!))
      expect(close(g, want, 1e-12, 1e-12)).toBe(true)
    }
  })
  it('repeated eigenvalues: the eigenvalues keep a finite, exact gradient (convention)', () => {
    const g = grad((x: Tensor) => sum(mul(eigh(x)[0], eigh(x)[0])))(eye(3))
    // d Σ w² / dA = 2A at A = I
    expect(
      close(
        g,
        [
          [2, 0, 0],
          [0, 2, 0],
          [0, 0, 2],
        ],
        1e-12,
        1e-12,
      ),
    ).toBe(true)
    // eigenvector signs: the largest entry of each column is positive
    const [, v] = eigh(
      tensor([
        [0, 1],
        [1, 0],
      ]),
    )
    expect((v.toArray() as number[][]).map((r) => r.map((x) => Math.sign(x)))).toEqual([
      [1, 1],
      [-1, 1],
    ])
  })
})

describe('qr and svd', () => {
  const tallArb = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }))
    .chain(([n, extra]) => matrixArb(n + extra, n))
  type Qr = (a: Tensor) => [Tensor, Tensor]
  const qrLaw = (f: Qr) =>
    fc.property(tallArb, (a) => {
      const [q, r] = f(tensor(a))
      const n = a[0]!.length
      const rv = r.toArray() as M
      const upper = rv.every((row, i) => row.every((v, j) => j >= i || v === 0)) && rv.every((row, i) => row[i]! >= 0)
      return upper && close(matmul(q, r), a, 1e-10, 1e-10) && close(matmul(transpose(q), q), eye(n), 1e-10, 1e-10)
    })
  it('Q·R = A, QᵀQ = I, R upper triangular with a non-negative diagonal; fails for a kernel that drops the sign fix', () => {
    expect(run(qrLaw(qr), 8).failed).toBe(false)
    const unsigned = withImpl(LA.qr as AnyPrimitive, (xs, p) => {
      const y = LA.qr.impl(xs, p as Record<string, never>).toArray() as M
      return tensor(y.map((row) => row.map((v, j) => (j === 0 ? -v : v)))).concrete() // flip the first column of Q and of R
    })
    const brokenQr: Qr = (a) => {
      const y = bind(unsigned, [a], {})
      const [m, n] = a.shape as [number, number]
      return [slice(y, [0, 0], [m, n]), slice(y, [m, 0], [n, n])]
    }
    expect(run(qrLaw(brokenQr), 8).failed).toBe(true)
  })
  it('the gradient of a loss through qr matches finite differences (table laws cover all orders); qr rejects wide matrices', () => {
    expect(throwsPurediff(() => qr(tensor([[1, 2, 3]]))).message).toMatch(/needs m ≥ n/)
  })

  type Svd = (a: Tensor) => [Tensor, Tensor, Tensor]
  const anyArb = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .chain(([m, n]) => matrixArb(m, n).map((a) => a.map((r, i) => r.map((v, j) => v + (i === j ? 2 * (i + 1) : 0)))))
  const svdLaw = (f: Svd) =>
    fc.property(anyArb, (a) => {
      const [u, s, v] = f(tensor(a))
      const sv = s.toArray() as number[]
      const descending = sv.every((x, i) => x >= 0 && (i === 0 || x <= sv[i - 1]!))
      const k = sv.length
      return (
        descending &&
        close(matmul(mul(u, s), transpose(v)), a, 1e-9, 1e-9) &&
        close(matmul(transpose(u), u), eye(k), 1e-9, 1e-9) &&
        close(matmul(transpose(v), v), eye(k), 1e-9, 1e-9)
      )
    })
  it('U·diag(S)·Vᵀ = A with orthonormal U, V and S descending (tall and wide); fails when S is left ascending', () => {
    expect(run(svdLaw(svd), 9).failed).toBe(false)
    const ascending: Svd = (a) => {
      const [u, s, v] = svd(a)
      return [u, reshape(tensor([...(s.toArray() as number[])].reverse()), s.shape), v]
    }
    expect(run(svdLaw(ascending), 9).failed).toBe(true)
  })
  it('∂σ_k/∂A = u_k·v_kᵀ (closed form); norms 2, −2 and nuclear from S', () => {
    const a: M = [
      [3, 1],
      [1, 2],
      [0, 1],
    ]
    const [u, s, v] = svd(tensor(a))
    const uu = u.toArray() as M
    const vv = v.toArray() as M
    for (let k = 0; k < 2; k++) {
      const g = grad((x: Tensor) => index(svd(x)[1], k))(tensor(a))
      expect(
        close(
          g,
          uu.map((r) => vv.map((q) => r[k]! * q[k]!)),
          1e-10,
          1e-10,
        ),
      ).toBe(true)
    }
    const sv = s.toArray() as number[]
    expect(norm(tensor(a), { ord: 2 }).item()).toBeCloseTo(sv[0]!, 12)
    expect(norm(tensor(a), { ord: -2 }).item()).toBeCloseTo(sv[1]!, 12)
    expect(norm(tensor(a), { ord: 'nuc' }).item()).toBeCloseTo(sv[0]! + sv[1]!, 12)
    // σ₁² + σ₂² = ‖A‖_F²
    expect(sv[0]! ** 2 + sv[1]! ** 2).toBeCloseTo(16, 12)
  })
})

describe('the derivative laws catch broken linear-algebra rules', () => {
  // the table-driven laws (primitives.test.ts) run these checks on the real records; here
  // they are shown to reject a deliberately broken rule at the same kind of input
  const spd = tensor([
    [4, 1, 0.5],
    [1, 3, -1],
    [0.5, -1, 2],
  ])
  const dir = tensor([
    [0.3, -0.2, 0.1],
    [0.7, 0.4, -0.5],
    [-0.1, 0.2, 0.6],
  ])
  const yBar = tensor([
    [1, 0.5, -0.3],
    [0.2, -1, 0.4],
    [0.9, 0.1, 0.3],
  ])
  const f = (prim: AnyPrimitive) => (xs: Tensor[]) => bind(prim, xs, {})
  it('cholesky: the unbroken rules pass; a VJP without Φ’s halved diagonal fails adjointness', () => {
    expect(checkAdjoint(f(LA.cholesky as AnyPrimitive), [spd], [dir], yBar).ok).toBe(true)
    expect(checkJvpVsFd(f(LA.cholesky as AnyPrimitive), [spd], [dir]).ok).toBe(true)
    const wrongVjp: AnyPrimitive = {
      ...LA.cholesky,
      name: 'brokenCholesky',
      vjp: [
        (yb: Tensor, _x: ReadonlyArray<Tensor>, l: Tensor, _p: unknown, R: RuleOps) => {
          const lower = tril(matmul(transpose(l), yb)) // Φ without the ½ on the diagonal
          const w = R.triangularSolve(l, lower, true, true)
          const v = transpose(R.triangularSolve(l, transpose(w), true, true))
          return mul(0.5, R.add(v, transpose(v)))
        },
      ],
    }
    expect(checkAdjoint(f(wrongVjp), [spd], [dir], yBar).ok).toBe(false)
  })
  it('solve: a JVP with the wrong sign fails against finite differences', () => {
    const b = tensor([
      [1, 2],
      [0, -1],
      [3, 1],
    ])
    const g = (prim: AnyPrimitive) => (xs: Tensor[]) => bind(prim, xs, {})
    expect(
      checkJvpVsFd(
        g(LA.solve as AnyPrimitive),
        [spd, b],
        [
          dir,
          tensor([
            [0.1, 0],
            [0.2, 0.3],
            [0, -0.4],
          ]),
        ],
      ).ok,
    ).toBe(true)
    const wrongJvp: AnyPrimitive = {
      ...LA.solve,
      name: 'brokenSolve',
      jvp: [
        (aDot: Tensor, [a]: ReadonlyArray<Tensor>, y: Tensor, _p: unknown, R: RuleOps) =>
          R.solve(a!, R.matmul(aDot, y)),
        (LA.solve.jvp as ReadonlyArray<unknown>)[1] as never,
      ],
    }
    expect(
      checkJvpVsFd(
        g(wrongJvp),
        [spd, b],
        [
          dir,
          tensor([
            [0.1, 0],
            [0.2, 0.3],
            [0, -0.4],
          ]),
        ],
      ).ok,
    ).toBe(false)
  })
})
