/**
 * The linear-algebra primitives: `cholesky`, `triangularSolve`, `solve`, `logAbsDet` and the
 * non-differentiable `detSign`. Each takes batches of square matrices `[..., n, n]` (and
 * right-hand sides `[..., n, m]` with the same batch axes: the public ops in
 * `src/ops/linalg.ts` broadcast them first). Everything else (`inv`, `det`, `slogdet`,
 * `logdet`, `trace`, ...) is composed from these and the core primitives.
 *
 * The rules are the classical matrix differentials (Giles, "An extended collection of
 * matrix derivative results for forward and reverse mode AD", 2008; Murray, "Differentiation
 * of the Cholesky decomposition", 2016), written with `triangularSolve`, `solve` and
 * `matmul`, so they are differentiable again, to any order. No rule forms an explicit
 * inverse except `logAbsDet`'s cotangent, which *is* A⁻ᵀ (formed by a solve).
 *
 * Notation: ⊙ elementwise product, sym(M) = (M + Mᵀ)/2, tril/triu the lower/upper triangle
 * (diagonal included), Φ(M) = the lower triangle of M with its diagonal halved.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import {
  choleskyKernel,
  detSignKernel,
  eighKernel,
  logAbsDetKernel,
  qrKernel,
  solveKernel,
  triangularSolveKernel,
} from '../kernels/linalg.js'
import type { ConcreteTensor, DType, Tensor } from '../tensor/Tensor.js'
import { dataOf, fromData, wrap } from '../tensor/Tensor.js'
import type { BatchRule, DomainCase, Primitive, RuleOps } from './types.js'

type NoParams = Record<string, never>
const none: NoParams = Object.freeze({})

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** Batch size, n and (for a right-hand side) m of `[..., n, n]` and `[..., n, m]`. */
const dims = (a: ConcreteTensor): [number, number, number[]] => {
  const r = a.shape.length
  const n = a.shape[r - 1] as number
  const batchShape = a.shape.slice(0, r - 2)
  return [batchShape.reduce((s, d) => s * d, 1), n, batchShape]
}

/** Swap the last two axes. */
export const mT = (x: Tensor, R: RuleOps): Tensor => {
  const r = x.shape.length
  return R.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2])
}

/** sym(M) = (M + Mᵀ)/2 */
const sym = (x: Tensor, R: RuleOps): Tensor => R.mul(0.5, R.add(x, mT(x, R)))

type MaskKind = 'lower' | 'upper' | 'phi' | 'eye' | 'off' | 'strictLower'
/** A constant n×n mask: tril, triu, Φ's weights (1 below the diagonal, ½ on it) or the identity. */
export const mask = (n: number, kind: MaskKind, dtype: DType): Tensor => {
  const m = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      m[i * n + j] =
        kind === 'lower'
          ? j <= i
            ? 1
            : 0
          : kind === 'upper'
            ? j >= i
              ? 1
              : 0
            : kind === 'phi'
              ? j < i
                ? 1
                : j === i
                  ? 0.5
                  : 0
              : kind === 'off'
                ? j === i
                  ? 0
                  : 1
                : kind === 'strictLower'
                  ? j < i
                    ? 1
                    : 0
                  : j === i
                    ? 1
                    : 0
    }
  }
  return fromData(m, [n, n], dtype)
}

const lastOf = (x: Tensor): number => x.shape[x.shape.length - 1] as number

// vmap of a linear-algebra primitive: every input takes the batch axis first (unbatched ones
// are broadcast), which the primitive already maps over as a leading batch axis.
const leadingBatch: BatchRule<any> = (xs, dims, p, R, self) => {
  const i = dims.findIndex((d) => d !== null)
  const size = xs[i]!.shape[dims[i] as number] as number
  const first = xs.map((x, k) => {
    const d = dims[k] ?? null
    if (d === null) return R.broadcastTo(x, [size, ...x.shape])
    return d === 0 ? x : R.transpose(x, [d, ...Array.from({ length: x.rank }, (_, j) => j).filter((j) => j !== d)])
  })
  return [self(first, p), 0]
}

// -------------------------------------------------------------------------------------
// domains: points that avoid the singular sets
// -------------------------------------------------------------------------------------

/** Apply `f` to each n×n matrix of a flat batch. */
const perMatrix = (x: Float64Array, n: number, f: (m: Float64Array) => Float64Array): Float64Array => {
  const out = new Float64Array(x.length)
  for (let o = 0; o < x.length; o += n * n) out.set(f(x.subarray(o, o + n * n)), o)
  return out
}
const nOf = (c: DomainCase<unknown>, i: number): number => {
  const s = c.shapes[i] as ReadonlyArray<number>
  return s[s.length - 1] as number
}
/** A = B·Bᵀ/n + I: symmetric, eigenvalues in [1, 1 + n] for entries of B in [−1, 1]. */
const spd = (b: Float64Array, n: number): Float64Array => {
  const a = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0
      for (let k = 0; k < n; k++) s += ((b[i * n + k] as number) * (b[j * n + k] as number)) / n
      a[i * n + j] = s
    }
  }
  return a
}
/** The diagonal moved to ±(1 + |d|): a triangle whose solve is well conditioned. */
const firmDiagonal = (t: Float64Array, n: number): Float64Array => {
  const a = t.slice()
  for (let i = 0; i < n; i++) a[i * n + i] = (i % 2 === 0 ? 1 : -1) * (1 + Math.abs(t[i * n + i] as number))
  return a
}
/** B + diag(0, 4, 8, …): eigenvalues of its symmetric part at least 1 apart for |Bᵢⱼ| ≤ ½, n ≤ 3. */
const spread = (t: Float64Array, n: number): Float64Array => {
  const a = t.slice()
  for (let i = 0; i < n; i++) a[i * n + i] = (t[i * n + i] as number) + 4 * i
  return a
}
/** A + (n + 0.5)·I with its first row negated when a₀₀ < 0: diagonally dominant, either sign of det. */
const dominant = (t: Float64Array, n: number): Float64Array => {
  const a = t.slice()
  for (let i = 0; i < n; i++) a[i * n + i] = (t[i * n + i] as number) + n + 0.5
  if ((t[0] as number) < 0) for (let j = 0; j < n; j++) a[j] = -(a[j] as number)
  return a
}

// -------------------------------------------------------------------------------------
// primitives
// -------------------------------------------------------------------------------------

// L = chol(sym(A)) ; dL = L·Φ(L⁻¹·sym(dA)·L⁻ᵀ) ; Ā = sym(L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹).
// NOTE only the symmetric part of A matters (the kernel factors (A + Aᵀ)/2, as JAX's
// `symmetrize_input`), so the cotangent is symmetric. A matrix that is not positive definite
// gives a factor of NaNs.
export const cholesky: Primitive<NoParams> = {
  name: 'cholesky',
  arity: 1,
  abstract: ([a]) => ({ shape: a!.shape, dtype: a!.dtype }),
  impl: ([a]) => {
    const [batch, n] = dims(a!)
    return wrap(choleskyKernel(dataOf(a!), batch, n, a!.dtype), a!.shape)
  },
  jvp: [
    (aDot, _x, l, _p, R) => {
      const y = R.triangularSolve(l, sym(aDot, R), true, false) // L⁻¹·S
      const z = R.triangularSolve(l, mT(y, R), true, false) // L⁻¹·S·L⁻ᵀ (S symmetric)
      return R.matmul(l, R.mul(z, mask(lastOf(l), 'phi', l.dtype)))
    },
  ],
  vjp: [
    (yBar, _x, l, _p, R) => {
      const m = R.mul(R.matmul(mT(l, R), yBar), mask(lastOf(l), 'phi', l.dtype)) // Φ(Lᵀ·L̄)
      const w = R.triangularSolve(l, m, true, true) // L⁻ᵀ·M
      return sym(mT(R.triangularSolve(l, mT(w, R), true, true), R), R) // sym(W·L⁻¹)
    },
  ],
  batch: leadingBatch,
  domain: {
    ranges: [[-1, 1]],
    cases: [
      { shapes: [[1, 1]], params: none },
      { shapes: [[3, 3]], params: none },
      { shapes: [[2, 3, 3]], params: none },
    ],
    point: ([b], c) => [perMatrix(b!, nOf(c, 0), (m) => spd(m, nOf(c, 0)))],
  },
  kinks: 'defined on symmetric positive definite matrices; elsewhere the factor is NaN',
  broadcasts: false,
}

export interface TriangularSolveParams {
  /** T is lower triangular (else upper); the other triangle is never read */
  readonly lower: boolean
  /** solve Tᵀ·X = B instead of T·X = B */
  readonly transposeA: boolean
}

/** op(M) = Mᵀ when transposed, else M. */
const op = (x: Tensor, transposeA: boolean, R: RuleOps): Tensor => (transposeA ? mT(x, R) : x)

// X = op(T)⁻¹·B ; dX = op(T)⁻¹·(dB − op(dT)·X) ; B̄ = op(T)⁻ᵀ·Ȳ, T̄ = tri(−op(B̄·Xᵀ)).
// NOTE T's other triangle is not read, so its cotangent there is zero (tri masks it).
export const triangularSolve: Primitive<TriangularSolveParams> = {
  name: 'triangularSolve',
  arity: 2,
  abstract: ([, b]) => ({ shape: b!.shape, dtype: b!.dtype }),
  impl: ([t, b], { lower, transposeA }) => {
    const [batch, n] = dims(t!)
    const m = lastOf(b!)
    return wrap(triangularSolveKernel(dataOf(t!), dataOf(b!), batch, n, m, lower, transposeA, t!.dtype), b!.shape)
  },
  jvp: [
    (tDot, [t], y, { lower, transposeA }, R) => {
      const dT = R.mul(tDot, mask(lastOf(t!), lower ? 'lower' : 'upper', t!.dtype))
      return R.neg(R.triangularSolve(t!, R.matmul(op(dT, transposeA, R), y), lower, transposeA))
    },
    (bDot, [t], _y, { lower, transposeA }, R) => R.triangularSolve(t!, bDot, lower, transposeA),
  ],
  vjp: [
    (yBar, [t], y, { lower, transposeA }, R) => {
      const bBar = R.triangularSolve(t!, yBar, lower, !transposeA)
      const g = transposeA ? R.matmul(y, mT(bBar, R)) : R.matmul(bBar, mT(y, R))
      return R.neg(R.mul(g, mask(lastOf(t!), lower ? 'lower' : 'upper', t!.dtype)))
    },
    (yBar, [t], _y, { lower, transposeA }, R) => R.triangularSolve(t!, yBar, lower, !transposeA),
  ],
  batch: leadingBatch,
  domain: {
    ranges: [
      [-1, 1],
      [-2, 2],
    ],
    cases: [
      {
        shapes: [
          [3, 3],
          [3, 2],
        ],
        params: { lower: true, transposeA: false },
      },
      {
        shapes: [
          [3, 3],
          [3, 2],
        ],
        params: { lower: true, transposeA: true },
      },
      {
        shapes: [
          [3, 3],
          [3, 1],
        ],
        params: { lower: false, transposeA: false },
      },
      {
        shapes: [
          [2, 3, 3],
          [2, 3, 2],
        ],
        params: { lower: false, transposeA: true },
      },
    ],
    point: ([t, b], c) => [perMatrix(t!, nOf(c, 0), (m) => firmDiagonal(m, nOf(c, 0))), b!],
  },
  broadcasts: false,
}

// X = A⁻¹·B ; dX = A⁻¹·(dB − dA·X) ; B̄ = A⁻ᵀ·Ȳ, Ā = −B̄·Xᵀ.
// NOTE a singular A (a zero pivot) gives NaNs, as JAX; no explicit inverse is formed.
export const solve: Primitive<NoParams> = {
  name: 'solve',
  arity: 2,
  abstract: ([, b]) => ({ shape: b!.shape, dtype: b!.dtype }),
  impl: ([a, b]) => {
    const [batch, n] = dims(a!)
    return wrap(solveKernel(dataOf(a!), dataOf(b!), batch, n, lastOf(b!), a!.dtype), b!.shape)
  },
  jvp: [(aDot, [a], y, _p, R) => R.neg(R.solve(a!, R.matmul(aDot, y))), (bDot, [a], _y, _p, R) => R.solve(a!, bDot)],
  vjp: [
    (yBar, [a], y, _p, R) => R.neg(R.matmul(R.solve(mT(a!, R), yBar), mT(y, R))),
    (yBar, [a], _y, _p, R) => R.solve(mT(a!, R), yBar),
  ],
  batch: leadingBatch,
  domain: {
    ranges: [
      [-1, 1],
      [-2, 2],
    ],
    cases: [
      {
        shapes: [
          [1, 1],
          [1, 2],
        ],
        params: none,
      },
      {
        shapes: [
          [3, 3],
          [3, 2],
        ],
        params: none,
      },
      {
        shapes: [
          [2, 3, 3],
          [2, 3, 1],
        ],
        params: none,
      },
    ],
    point: ([a, b], c) => [perMatrix(a!, nOf(c, 0), (m) => dominant(m, nOf(c, 0))), b!],
  },
  kinks: 'defined on invertible matrices; a singular one gives NaNs',
  broadcasts: false,
}

/** tr over the last two axes: Σᵢ Mᵢᵢ */
const traceOf = (m: Tensor, R: RuleOps): Tensor => {
  const r = m.shape.length
  return R.sum(R.mul(m, mask(lastOf(m), 'eye', m.dtype)), [r - 2, r - 1])
}
/** x with two axes of extent 1 appended (a batch of scalars against a batch of matrices). */
const asMatrices = (x: Tensor, R: RuleOps): Tensor => R.reshape(x, [...x.shape, 1, 1])

// y = log|det A| ; dy = tr(A⁻¹·dA) ; Ā = ȳ·A⁻ᵀ.
// NOTE a singular A gives −∞ and a NaN derivative; the sign of det A is `detSign`, piecewise
// constant (derivative zero).
export const logAbsDet: Primitive<NoParams> = {
  name: 'logAbsDet',
  arity: 1,
  abstract: ([a]) => ({ shape: a!.shape.slice(0, -2), dtype: a!.dtype }),
  impl: ([a]) => {
    const [batch, n, batchShape] = dims(a!)
    return wrap(logAbsDetKernel(dataOf(a!), batch, n, a!.dtype), batchShape)
  },
  jvp: [(aDot, [a], _y, _p, R) => traceOf(R.solve(a!, aDot), R)],
  vjp: [
    (yBar, [a], _y, _p, R) => {
      const n = lastOf(a!)
      const eye = R.broadcastTo(mask(n, 'eye', a!.dtype), a!.shape)
      return R.mul(asMatrices(yBar, R), R.solve(mT(a!, R), eye))
    },
  ],
  batch: leadingBatch,
  domain: {
    ranges: [[-1, 1]],
    cases: [
      { shapes: [[1, 1]], params: none },
      { shapes: [[3, 3]], params: none },
      { shapes: [[2, 2, 2]], params: none },
    ],
    point: ([a], c) => [perMatrix(a!, nOf(c, 0), (m) => dominant(m, nOf(c, 0)))],
  },
  kinks: 'defined on invertible matrices; a singular one gives −∞ and a NaN derivative',
  broadcasts: false,
}

/** sign det A ∈ {−1, 0, 1}: piecewise constant, so its derivative is zero. */
export const detSign: Primitive<NoParams> = {
  name: 'detSign',
  arity: 1,
  abstract: ([a]) => ({ shape: a!.shape.slice(0, -2), dtype: a!.dtype }),
  impl: ([a]) => {
    const [batch, n, batchShape] = dims(a!)
    return wrap(detSignKernel(dataOf(a!), batch, n, a!.dtype), batchShape)
  },
  jvp: [null],
  vjp: [null],
  batch: leadingBatch,
  domain: null,
  kinks: 'the sign of a determinant is piecewise constant: its derivative is zero',
  broadcasts: false,
}

/** w (row 0) and V (rows 1..n) of eigh's packed output [..., n + 1, n]. */
const unpackEigh = (y: Tensor, R: RuleOps): [Tensor, Tensor] => {
  const r = y.shape.length
  const n = lastOf(y)
  const lead = y.shape.slice(0, r - 2)
  const w = R.slice(y, [...lead.map(() => 0), 0, 0], [...lead, 1, n]) // [..., 1, n]
  const v = R.slice(y, [...lead.map(() => 0), 1, 0], [...lead, n, n])
  return [w, v]
}
/** F_ij = 1/(w_j − w_i) off the diagonal, 0 on it (w as a row [..., 1, n]). */
const gaps = (w: Tensor, R: RuleOps): Tensor => {
  const n = lastOf(w)
  const diff = R.sub(w, mT(w, R)) // [..., n, n]: w_j − w_i
  return R.div(mask(n, 'off', w.dtype), R.add(diff, mask(n, 'eye', w.dtype)))
}
/** Pack w [..., 1, n] and V [..., n, n] as [..., n + 1, n] (by padding, so it stays linear). */
const packEigh = (w: Tensor, v: Tensor, R: RuleOps): Tensor => {
  const r = v.shape.length
  const n = lastOf(v)
  const shape = [...v.shape.slice(0, r - 2), n + 1, n]
  const zeros = v.shape.slice(0, r - 2).map(() => 0)
  return R.add(R.pad(w, [...zeros, 0, 0], shape), R.pad(v, [...zeros, 1, 0], shape))
}

// sym(A) = V·diag(w)·Vᵀ ; with P = Vᵀ·sym(dA)·V: dw = diag(P), dV = V·(F ⊙ P), F_ij = 1/(w_j − w_i) ;
// Ā = sym(V·(diag(w̄) + F ⊙ Vᵀ·V̄)·Vᵀ).  Output packed as [..., n + 1, n]: w in row 0, V below.
// NOTE eigenvalues ascend; each eigenvector's largest entry is positive. The derivative of V
// is defined where the eigenvalues are distinct; at a repeated eigenvalue F is infinite, but
// it multiplies V̄ with mulNoNan, so a loss of the eigenvalues alone keeps an exact, finite
// gradient there (as JAX), while eigenvector derivatives are ±∞/NaN.
export const eigh: Primitive<NoParams> = {
  name: 'eigh',
  arity: 1,
  // packed [..., n + 1, n]: w in row 0, V below
  abstract: ([a]) => ({
    shape: [
      ...a!.shape.slice(0, -2),
      (a!.shape[a!.shape.length - 1] as number) + 1,
      a!.shape[a!.shape.length - 1] as number,
    ],
    dtype: a!.dtype,
  }),
  impl: ([a]) => {
    const [batch, n, batchShape] = dims(a!)
    return wrap(eighKernel(dataOf(a!), batch, n, a!.dtype), [...batchShape, n + 1, n])
  },
  jvp: [
    (aDot, _x, y, _p, R) => {
      const [w, v] = unpackEigh(y, R)
      const p = R.matmul(mT(v, R), R.matmul(sym(aDot, R), v))
      const n = lastOf(v)
      const r = p.shape.length
      const dw = R.reshape(R.sum(R.mul(p, mask(n, 'eye', p.dtype)), [r - 2]), w.shape)
      const dv = R.matmul(v, R.mulNoNan(gaps(w, R), p))
      return packEigh(dw, dv, R)
    },
  ],
  vjp: [
    (yBar, _x, y, _p, R) => {
      const [w, v] = unpackEigh(y, R)
      const [wBar, vBar] = unpackEigh(yBar, R)
      const n = lastOf(v)
      const inner = R.add(R.mul(wBar, mask(n, 'eye', w.dtype)), R.mulNoNan(gaps(w, R), R.matmul(mT(v, R), vBar)))
      return sym(R.matmul(v, R.matmul(inner, mT(v, R))), R)
    },
  ],
  batch: leadingBatch,
  domain: {
    ranges: [[-0.5, 0.5]],
    cases: [
      { shapes: [[1, 1]], params: none },
      { shapes: [[3, 3]], params: none },
      { shapes: [[2, 2, 2]], params: none },
    ],
    // sym(B) + diag(0, 4, 8, ...): by Weyl's inequality the eigenvalues stay ≥ 1 apart
    point: ([b], c) => [perMatrix(b!, nOf(c, 0), (m) => spread(m, nOf(c, 0)))],
  },
  kinks: 'eigenvector derivatives are defined where the eigenvalues are distinct',
  broadcasts: false,
}

/** Q (rows 0..m−1) and R (rows m..) of qr's packed output [..., m + n, n]. */
const unpackQr = (y: Tensor, R: RuleOps): [Tensor, Tensor] => {
  const r = y.shape.length
  const n = lastOf(y)
  const m = (y.shape[r - 2] as number) - n
  const lead = y.shape.slice(0, r - 2)
  const zeros = lead.map(() => 0)
  return [R.slice(y, [...zeros, 0, 0], [...lead, m, n]), R.slice(y, [...zeros, m, 0], [...lead, n, n])]
}
const packQr = (q: Tensor, r: Tensor, R: RuleOps): Tensor => {
  const k = q.shape.length
  const [m, n] = [q.shape[k - 2] as number, lastOf(q)]
  const lead = q.shape.slice(0, k - 2)
  const zeros = lead.map(() => 0)
  const shape = [...lead, m + n, n]
  return R.add(R.pad(q, [...zeros, 0, 0], shape), R.pad(r, [...zeros, m, 0], shape))
}

// A = Q·R (reduced, m ≥ n) ; with X = dA·R⁻¹, C = Qᵀ·X, Ω = tril(C, −1) − tril(C, −1)ᵀ:
// dQ = Q·(Ω − C) + X, dR = (C − Ω)·R ; Ā = (Q̄ + Q·H)·R⁻ᵀ with G = R̄·Rᵀ − Qᵀ·Q̄, H = G − tril(G − Gᵀ, −1).
// NOTE R's diagonal is non-negative; the derivative needs full column rank (R invertible).
export const qr: Primitive<NoParams> = {
  name: 'qr',
  arity: 1,
  // packed [..., m + n, n]: Q above, R below
  abstract: ([a]) => {
    const r = a!.shape.length
    const [m, n] = [a!.shape[r - 2] as number, a!.shape[r - 1] as number]
    return { shape: [...a!.shape.slice(0, -2), m + n, n], dtype: a!.dtype }
  },
  impl: ([a]) => {
    const r = a!.shape.length
    const m = a!.shape[r - 2] as number
    const n = lastOf(a!)
    const batchShape = a!.shape.slice(0, r - 2)
    const batch = batchShape.reduce((s, d) => s * d, 1)
    return wrap(qrKernel(dataOf(a!), batch, m, n, a!.dtype), [...batchShape, m + n, n])
  },
  jvp: [
    (aDot, _x, y, _p, R) => {
      const [q, r] = unpackQr(y, R)
      const n = lastOf(r)
      const x = mT(R.triangularSolve(r, mT(aDot, R), false, true), R) // dA·R⁻¹
      const c = R.matmul(mT(q, R), x)
      const low = R.mul(c, mask(n, 'strictLower', c.dtype))
      const omega = R.sub(low, mT(low, R))
      return packQr(R.add(R.matmul(q, R.sub(omega, c)), x), R.matmul(R.sub(c, omega), r), R)
    },
  ],
  vjp: [
    (yBar, _x, y, _p, R) => {
      const [q, r] = unpackQr(y, R)
      const [qBar, rBar] = unpackQr(yBar, R)
      const n = lastOf(r)
      const g = R.sub(R.matmul(rBar, mT(r, R)), R.matmul(mT(q, R), qBar))
      const h = R.sub(g, R.mul(R.sub(g, mT(g, R)), mask(n, 'strictLower', g.dtype)))
      const b = R.add(qBar, R.matmul(q, h))
      return mT(R.triangularSolve(r, mT(b, R), false, false), R) // B·R⁻ᵀ
    },
  ],
  batch: leadingBatch,
  domain: {
    ranges: [[-1, 1]],
    cases: [
      { shapes: [[3, 2]], params: none },
      { shapes: [[3, 3]], params: none },
      { shapes: [[2, 4, 2]], params: none },
    ],
    // A + 3·[I; 0]: full column rank, R's diagonal far from 0
    point: ([a], c) => {
      const s = c.shapes[0] as ReadonlyArray<number>
      const [m, n] = [s[s.length - 2] as number, s[s.length - 1] as number]
      const out = a!.slice()
      for (let o = 0; o < out.length; o += m * n)
        for (let i = 0; i < n; i++) out[o + i * n + i] = (out[o + i * n + i] as number) + 3
      return [out]
    },
  },
  kinks: 'defined for full column rank (R invertible)',
  broadcasts: false,
}

/** The linear-algebra primitives, appended to the primitive table. */
export const linalgPrimitives = { cholesky, triangularSolve, solve, logAbsDet, detSign, eigh, qr } as const
