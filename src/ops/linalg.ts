/**
 * Linear algebra: factorisations, solves, determinants, norms, matrix views and `einsum`.
 * Every op takes batches of matrices `[..., n, n]` (leading axes broadcast, as NumPy) and is
 * differentiable to any order: each is a primitive of `src/primitives/linalg.ts` or a
 * composition of primitives.
 *
 * The math, one line per op:
 * - cholesky(A) = L, lower triangular with L·Lᵀ = (A + Aᵀ)/2;
 * - triangularSolve(T, B) = op(T)⁻¹·B by substitution (only one triangle of T is read);
 * - solve(A, B) = A⁻¹·B by LU with partial pivoting (no inverse is formed);
 * - inv(A) = solve(A, I);
 * - slogdet(A) = [sign det A, log|det A|] from the LU pivots; det(A) = sign · exp(log|det|);
 * - logdet(A) = 2 Σᵢ log Lᵢᵢ with L = cholesky(A), for symmetric positive definite A;
 * - trace(A) = Σᵢ Aᵢᵢ; diagonal(A, k) = (A_{i,i+k})ᵢ; diag(v) = the matrix with v on its diagonal;
 * - tril/triu(A, k) = A ⊙ (the triangle's mask);
 * - norm(x, ord) = (Σ|xᵢ|^ord)^{1/ord} for vectors; Frobenius, nuclear, spectral, 1, ∞ for matrices;
 * - eigh(A) = [w, V] with sym(A) = V·diag(w)·Vᵀ; qr(A) = [Q, R]; svd(A) = [U, S, V] through eigh(AᵀA);
 * - einsum(spec, ...xs) = the sum over the contracted letters of the products of entries.
 *
 * NOTE singular and indefinite input follows JAX: `cholesky` of a matrix that is not positive
 * definite is all NaN (so is `logdet`), `solve`/`inv` of an exactly singular matrix is all
 * NaN, and `slogdet` gives sign 0 and log|det| = −∞ (so `det` is 0, with a NaN gradient).
 * Shapes are checked up front: a non-square or mismatched operand is a `PurediffError`.
 *
 * Purity: ops return new tensors and never modify their arguments.
 */
import { bind, liftTo, resultDType } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import * as LA from '../primitives/linalg.js'
import type { Shape } from '../tensor/Tensor.js'
import { Tensor, broadcastShapes, eye, fromData, shapeEq, sizeOf } from '../tensor/Tensor.js'
import type { TensorLike } from './ops.js'
import {
  abs,
  asTensor,
  broadcastTo,
  div,
  exp,
  expandDims,
  gather,
  greater,
  log,
  matmul,
  max,
  maximum,
  min,
  mul,
  pad,
  pow,
  reshape,
  slice as sliceOf,
  sqrt,
  sum,
  transpose,
  where,
} from './ops.js'

type NoParams = Record<string, never>
const none = Object.freeze({}) as NoParams

// -------------------------------------------------------------------------------------
// argument handling
// -------------------------------------------------------------------------------------

const fmt = (s: Shape): string => `[${s.join(', ')}]`

/** A batch of square matrices, checked. */
const square = (x: TensorLike, op: string): Tensor => {
  const t = asTensor(x, op)
  const r = t.rank
  if (r < 2 || t.shape[r - 1] !== t.shape[r - 2]) {
    throw new PurediffError('ShapeError', `expects square matrices [..., n, n], got ${fmt(t.shape)}`, {
      op,
      shapes: [t.shape],
      operands: [t],
    })
  }
  return t
}

/** A at least 2-d, checked. */
const matrices = (x: TensorLike, op: string): Tensor => {
  const t = asTensor(x, op)
  if (t.rank < 2)
    throw new PurediffError('ShapeError', `expects matrices [..., n, m], got ${fmt(t.shape)}`, {
      op,
      shapes: [t.shape],
      operands: [t],
    })
  return t
}

/** A and B with broadcast batch axes: A [..., n, n], B [..., n, m] (B may be a vector [n]). */
const systemArgs = (a0: TensorLike, b0: TensorLike, op: string): [Tensor, Tensor, boolean] => {
  const a1 = square(a0, op)
  const b1 = asTensor(b0, op)
  const dt = resultDType([a1, b1])
  const a = liftTo(a1, dt)
  let b = liftTo(b1, dt)
  const n = a.shape[a.rank - 1] as number
  const vector = b.rank === 1
  if (vector) b = reshape(b, [b.shape[0] as number, 1])
  if (b.rank < 2 || b.shape[b.rank - 2] !== n) {
    throw new PurediffError(
      'ShapeError',
      `the right-hand side must be [..., ${n}, m] or [${n}], got ${fmt(b1.shape)}`,
      {
        op,
        shapes: [a1.shape, b1.shape],
        operands: [a1, b1],
      },
    )
  }
  let batch: number[]
  try {
    batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2))
  } catch {
    throw new PurediffError('ShapeError', 'batch axes (all but the last two) do not broadcast', {
      op,
      shapes: [a1.shape, b1.shape],
      operands: [a1, b1],
    })
  }
  const m = b.shape[b.rank - 1] as number
  return [broadcastTo(a, [...batch, n, n]), broadcastTo(b, [...batch, n, m]), vector]
}

const unvector = (y: Tensor, vector: boolean): Tensor => (vector ? reshape(y, y.shape.slice(0, -1)) : y)

// -------------------------------------------------------------------------------------
// factorisations and solves
// -------------------------------------------------------------------------------------

/**
 * The Cholesky factor: lower triangular L with L·Lᵀ = A, for symmetric positive definite A
 * (only the symmetric part (A + Aᵀ)/2 is read). Not positive definite: all NaN (as JAX).
 * @example
 * cholesky(tensor([[4, 2], [2, 2]])) // ≈ [[2, 0], [1, 1]]
 * @category linear algebra
 * @since 0.2.0
 */
export const cholesky = (a: TensorLike): Tensor => bind(LA.cholesky, [square(a, 'cholesky')], none)

/** Options of `triangularSolve`. @category linear algebra @since 0.2.0 */
export interface TriangularSolveOptions {
  /** the matrix is lower triangular (default true); only that triangle is read */
  readonly lower?: boolean
  /** solve Tᵀ·X = B (default false) */
  readonly transposeA?: boolean
}

const checkOptions = (o: object, valid: ReadonlyArray<string>, op: string): void => {
  for (const k of Object.keys(o)) {
    if (!valid.includes(k))
      throw new PurediffError('ValueError', `unknown option '${k}'; valid options: ${valid.join(', ')}`, { op })
  }
}

/**
 * X with T·X = B (or Tᵀ·X = B) for triangular T, by substitution. B is [..., n, m] or a vector [n].
 * @example
 * triangularSolve(tensor([[2, 0], [1, 1]]), tensor([2, 3])) // ≈ [1, 2]
 * @category linear algebra
 * @since 0.2.0
 */
export const triangularSolve = (t: TensorLike, b: TensorLike, options: TriangularSolveOptions = {}): Tensor => {
  checkOptions(options, ['lower', 'transposeA'], 'triangularSolve')
  const [tt, bt, vector] = systemArgs(t, b, 'triangularSolve')
  const params = { lower: options.lower ?? true, transposeA: options.transposeA ?? false }
  return unvector(bind(LA.triangularSolve, [tt, bt], params), vector)
}

/**
 * X with A·X = B, by LU with partial pivoting. B is [..., n, m] or a vector [n].
 * Exactly singular A: all NaN (as JAX).
 * @example
 * solve(tensor([[2, 1], [1, 3]]), tensor([3, 5])) // ≈ [0.8, 1.4]
 * @category linear algebra
 * @since 0.2.0
 */
export const solve = (a: TensorLike, b: TensorLike): Tensor => {
  const [at, bt, vector] = systemArgs(a, b, 'solve')
  return unvector(bind(LA.solve, [at, bt], none), vector)
}

/**
 * The inverse A⁻¹ = solve(A, I). Prefer `solve` for A⁻¹·B.
 * @example
 * inv(tensor([[2, 0], [0, 4]])) // ≈ [[0.5, 0], [0, 0.25]]
 * @category linear algebra
 * @since 0.2.0
 */
export const inv = (a: TensorLike): Tensor => {
  const t = square(a, 'inv')
  const n = t.shape[t.rank - 1] as number
  return bind(LA.solve, [t, broadcastTo(eye(n, t.dtype), t.shape)], none)
}

/**
 * [sign det A, log|det A|] (each of the batch shape). The sign has derivative zero.
 * NOTE a singular A gives sign 0 and log|det A| = −∞.
 * @example
 * slogdet(tensor([[0, 2], [3, 0]])).map(toArray) // ≈ [-1, 1.791759469228055]
 * @category linear algebra
 * @since 0.2.0
 */
export const slogdet = (a: TensorLike): [Tensor, Tensor] => {
  const t = square(a, 'slogdet')
  return [bind(LA.detSign, [t], none), bind(LA.logAbsDet, [t], none)]
}

/**
 * det A = sign · exp(log|det A|). Its gradient is det(A)·A⁻ᵀ (NaN at a singular A).
 * @example
 * det(tensor([[1, 2], [3, 4]])) // ≈ -2
 * @category linear algebra
 * @since 0.2.0
 */
export const det = (a: TensorLike): Tensor => {
  const [s, l] = slogdet(square(a, 'det'))
  return mul(s, exp(l))
}

/**
 * log det A of a symmetric positive definite A, through Cholesky: 2 Σ log Lᵢᵢ.
 * Not positive definite: NaN.
 * @example
 * logdet(tensor([[4, 2], [2, 2]])) // ≈ 1.3862943611198906
 * @category linear algebra
 * @since 0.2.0
 */
export const logdet = (a: TensorLike): Tensor => mul(2, sum(log(diagonal(cholesky(square(a, 'logdet')))), -1))

/**
 * The symmetric eigen-decomposition [w, V]: sym(A) = V·diag(w)·Vᵀ, eigenvalues w ascending,
 * orthonormal eigenvectors in the columns of V (cyclic Jacobi).
 * NOTE each eigenvector's largest-magnitude entry is positive (a deterministic sign). The
 * eigenvectors' derivative needs distinct eigenvalues; at a repeated eigenvalue, a function
 * of the eigenvalues alone still has its exact, finite gradient (as JAX), while derivatives
 * through V are ±∞/NaN there.
 * @example
 * eigh(tensor([[2, 1], [1, 2]]))[0] // ≈ [1, 3]
 * @category linear algebra
 * @since 0.2.0
 */
export const eigh = (a: TensorLike): [Tensor, Tensor] => {
  const t = square(a, 'eigh')
  const n = t.shape[t.rank - 1] as number
  const lead = t.shape.slice(0, -2)
  const packed = bind(LA.eigh, [t], none)
  const w = reshape(sliceOf(packed, [...lead.map(() => 0), 0, 0], [...lead, 1, n]), [...lead, n])
  const v = sliceOf(packed, [...lead.map(() => 0), 1, 0], [...lead, n, n])
  return [w, v]
}

/**
 * The reduced QR factorisation [Q, R]: A = Q·R with Q [..., m, n] orthonormal columns and R
 * [..., n, n] upper triangular, for m ≥ n (Householder).
 * NOTE R's diagonal is non-negative (unique factors for full column rank); the derivative
 * needs full column rank.
 * @example
 * qr(tensor([[3, 1], [4, 2]]))[1] // ≈ [[5, 2.2], [0, 0.4]]
 * @category linear algebra
 * @since 0.2.0
 */
export const qr = (a: TensorLike): [Tensor, Tensor] => {
  const t = matrices(a, 'qr')
  const r = t.rank
  const m = t.shape[r - 2] as number
  const n = t.shape[r - 1] as number
  if (m < n)
    throw new PurediffError(
      'ShapeError',
      `needs m ≥ n (a tall or square matrix), got ${fmt(t.shape)}; factor the transpose`,
      { op: 'qr', shapes: [t.shape] },
    )
  const lead = t.shape.slice(0, -2)
  const packed = bind(LA.qr, [t], none)
  const zeros = lead.map(() => 0)
  return [sliceOf(packed, [...zeros, 0, 0], [...lead, m, n]), sliceOf(packed, [...zeros, m, 0], [...lead, n, n])]
}

/**
 * The reduced singular value decomposition [U, S, V]: A = U·diag(S)·Vᵀ, S descending,
 * U [..., m, k], V [..., n, k], k = min(m, n). Composed from `eigh` of AᵀA (or AAᵀ when
 * m < n), so it is differentiable to any order wherever the singular values are distinct and
 * positive.
 * NOTE accuracy: computing through AᵀA squares the condition number, so a singular value σ
 * carries an absolute error of about ε·σ_max²/σ (well-conditioned matrices lose nothing
 * visible; for rank-deficient ones use a tolerance). Signs follow `eigh`'s convention for V.
 * @example
 * svd(tensor([[3, 0], [0, -2]]))[1] // ≈ [3, 2]
 * @category linear algebra
 * @since 0.2.0
 */
export const svd = (a: TensorLike): [Tensor, Tensor, Tensor] => {
  const t = matrices(a, 'svd')
  const r = t.rank
  const m = t.shape[r - 2] as number
  const n = t.shape[r - 1] as number
  const swap = (x: Tensor): Tensor => transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2])
  if (m < n) {
    const [u, s, v] = svd(swap(t))
    return [v, s, u]
  }
  const [w, v0] = eigh(matmul(swap(t), t))
  // descending order
  const rev = Array.from({ length: n }, (_, i) => n - 1 - i)
  const s = sqrt(maximum(gather(w, rev, -1), 0))
  const v = gather(v0, rev, -1)
  const u = div(matmul(t, v), expandDims(s, -2))
  return [u, s, v]
}

// -------------------------------------------------------------------------------------
// views: diagonal, triangles, trace
// -------------------------------------------------------------------------------------

/**
 * The k-th diagonal of the last two axes, (A_{i,i+k})ᵢ: shape [..., len].
 * @example
 * diagonal(tensor([[1, 2], [3, 4]])) // ≈ [1, 4]
 * @category linear algebra
 * @since 0.2.0
 */
export const diagonal = (a: TensorLike, k = 0): Tensor => {
  const t = matrices(a, 'diagonal')
  if (!Number.isInteger(k)) throw new PurediffError('ValueError', `offset ${k} is not an integer`, { op: 'diagonal' })
  const r = t.rank
  const n = t.shape[r - 2] as number
  const m = t.shape[r - 1] as number
  const idx: number[] = []
  for (let i = Math.max(0, -k); i < n && i + k < m; i++) idx.push(i * m + i + k)
  const flat = reshape(t, [...t.shape.slice(0, -2), n * m])
  return gather(flat, idx, -1)
}

/**
 * A vector [..., n] as a diagonal matrix (on the k-th diagonal); a matrix gives its diagonal (NumPy's `diag`).
 * @example
 * diag(tensor([1, 2])) // ≈ [[1, 0], [0, 2]]
 * @category linear algebra
 * @since 0.2.0
 */
export const diag = (v: TensorLike, k = 0): Tensor => {
  const t = asTensor(v, 'diag')
  if (t.rank === 2) return diagonal(t, k)
  if (t.rank !== 1)
    throw new PurediffError('ShapeError', `expects a vector or a matrix, got ${fmt(t.shape)}`, {
      op: 'diag',
      shapes: [t.shape],
    })
  if (!Number.isInteger(k)) throw new PurediffError('ValueError', `offset ${k} is not an integer`, { op: 'diag' })
  const n = t.shape[0] as number
  const d = mul(expandDims(t, -1), eye(n, t.dtype))
  return k === 0
    ? d
    : pad(
        d,
        k > 0
          ? [
              [0, k],
              [k, 0],
            ]
          : [
              [-k, 0],
              [0, -k],
            ],
      )
}

const triMask = (n: number, m: number, k: number, lower: boolean, x: Tensor): Tensor => {
  const out = new Float64Array(n * m)
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = (lower ? j - i <= k : j - i >= k) ? 1 : 0
  return fromData(out, [n, m], x.dtype)
}

/**
 * The lower triangle (entries with j − i ≤ k), zeros above.
 * @example
 * tril(tensor([[1, 2], [3, 4]])) // ≈ [[1, 0], [3, 4]]
 * @category linear algebra
 * @since 0.2.0
 */
export const tril = (a: TensorLike, k = 0): Tensor => {
  const t = matrices(a, 'tril')
  return mul(t, triMask(t.shape[t.rank - 2] as number, t.shape[t.rank - 1] as number, k, true, t))
}

/**
 * The upper triangle (entries with j − i ≥ k), zeros below.
 * @example
 * triu(tensor([[1, 2], [3, 4]])) // ≈ [[1, 2], [0, 4]]
 * @category linear algebra
 * @since 0.2.0
 */
export const triu = (a: TensorLike, k = 0): Tensor => {
  const t = matrices(a, 'triu')
  return mul(t, triMask(t.shape[t.rank - 2] as number, t.shape[t.rank - 1] as number, k, false, t))
}

/**
 * Σᵢ Aᵢᵢ over the last two axes.
 * @example
 * trace(tensor([[1, 2], [3, 4]])) // ≈ 5
 * @category linear algebra
 * @since 0.2.0
 */
export const trace = (a: TensorLike): Tensor => sum(diagonal(matrices(a, 'trace')), -1)

// -------------------------------------------------------------------------------------
// norms
// -------------------------------------------------------------------------------------

/** Options of `norm`. @category linear algebra @since 0.2.0 */
export interface NormOptions {
  /**
   * vectors: any p > 0, Infinity, -Infinity (default 2); matrices (two axes): 'fro' (default),
   * 'nuc' (Σσ), 2 (σ_max), -2 (σ_min), 1, -1, Infinity, -Infinity
   */
  readonly ord?: number | 'fro' | 'nuc'
  /** one axis (a vector norm) or two axes (a matrix norm); default: the vector norm of all entries, or the matrix norm of a 2-d input */
  readonly axis?: number | readonly [number, number]
  readonly keepDims?: boolean
}

/** √s with √0 = 0 and derivative 0 there (not NaN): the double-where trick. */
const safeSqrt = (s: Tensor): Tensor => {
  const pos = greater(s, 0)
  return where(pos, sqrt(where(pos, s, 1)), 0)
}

/**
 * Vector and matrix norms.
 * NOTE the 2-norm (and Frobenius norm) of a zero vector has gradient 0 (a subgradient), not NaN.
 * @example
 * norm(tensor([3, 4])) // ≈ 5
 * norm(tensor([[1, -2], [3, 4]]), { ord: 1 }) // ≈ 6
 * @category linear algebra
 * @since 0.2.0
 */
export const norm = (x: TensorLike, options: NormOptions = {}): Tensor => {
  checkOptions(options, ['ord', 'axis', 'keepDims'], 'norm')
  const t = asTensor(x, 'norm')
  const keep = options.keepDims ?? false
  const axisOpt = options.axis
  const matrixNorm = Array.isArray(axisOpt) || (axisOpt === undefined && t.rank === 2 && options.ord !== undefined)
  if (!matrixNorm) {
    const ord = options.ord ?? 2
    if ((ord === 'fro' || ord === 'nuc') && axisOpt !== undefined)
      throw new PurediffError('ValueError', `ord '${ord}' needs two axes`, { op: 'norm' })
    const axes = axisOpt === undefined ? undefined : [axisOpt as number]
    const a = abs(t)
    if (ord === 2 || ord === 'fro') return safeSqrt(sum(mul(t, t), axes, keep))
    if (ord === Infinity) return max(a, axes, keep)
    if (ord === -Infinity) return min(a, axes, keep)
    if (ord === 1) return sum(a, axes, keep)
    if (typeof ord !== 'number' || !(ord > 0)) {
      throw new PurediffError('ValueError', `vector ord must be a positive number or ±Infinity, got ${String(ord)}`, {
        op: 'norm',
      })
    }
    const s = sum(pow(a, ord), axes, keep)
    return where(greater(s, 0), pow(where(greater(s, 0), s, 1), 1 / ord), 0)
  }
  const [r0, c0] = (axisOpt ?? [-2, -1]) as readonly [number, number]
  const rank = t.rank
  const r = r0 < 0 ? r0 + rank : r0
  const c = c0 < 0 ? c0 + rank : c0
  if (!(r >= 0 && r < rank && c >= 0 && c < rank && r !== c)) {
    throw new PurediffError('ValueError', `matrix norm axes [${r0}, ${c0}] are not two distinct axes of rank ${rank}`, {
      op: 'norm',
      shapes: [t.shape],
    })
  }
  const ord = options.ord ?? 'fro'
  const a = abs(t)
  const reduce2 = (inner: number, outer: number, f: typeof max): Tensor => {
    const s = sum(a, inner, true)
    const y = f(s, outer, true)
    return keep
      ? y
      : reshape(
          y,
          t.shape.filter((_, i) => i !== r && i !== c),
        )
  }
  if (ord === 'fro') return safeSqrt(sum(mul(t, t), [r, c], keep))
  if (ord === 2 || ord === -2 || ord === 'nuc') {
    // singular values of the [r, c] matrices, moved to the last two axes
    const rest = t.shape.map((_, i) => i).filter((i) => i !== r && i !== c)
    const s = svd(transpose(t, [...rest, r, c]))[1]
    const y = ord === 'nuc' ? sum(s, -1) : ord === 2 ? max(s, -1) : min(s, -1)
    return keep
      ? reshape(
          y,
          t.shape.map((d, i) => (i === r || i === c ? 1 : d)),
        )
      : y
  }
  if (ord === 1) return reduce2(r, c, max)
  if (ord === -1) return reduce2(r, c, min)
  if (ord === Infinity) return reduce2(c, r, max)
  if (ord === -Infinity) return reduce2(c, r, min)
  throw new PurediffError(
    'ValueError',
    `matrix ord must be 'fro', 'nuc', 2, -2, 1, -1, Infinity or -Infinity, got ${String(ord)}`,
    { op: 'norm' },
  )
}

// -------------------------------------------------------------------------------------
// einsum
// -------------------------------------------------------------------------------------

const einsumError = (spec: string, why: string, shapes: ReadonlyArray<Shape> = []): PurediffError =>
  new PurediffError('ValueError', `'${spec}': ${why}`, { op: 'einsum', shapes })

/** An operand while contracting: a tensor and one letter per axis. */
interface Term {
  readonly t: Tensor
  readonly letters: string[]
}

/**
 * Einstein summation, NumPy subscripts: `'ij,jk->ik'`, `'ii->i'`, `'bij,bjk->bik'`,
 * `'...ij,...jk->...ik'`; without `->` the output is the letters used once, sorted.
 * Lowered onto sums, diagonals, transposes and matmuls (pairwise, left to right).
 * @example
 * const a = tensor([[1, 2], [3, 4]])
 * einsum('ij,jk->ik', a, a) // ≈ [[7, 10], [15, 22]]
 * einsum('ii', a) // ≈ 5
 * @category linear algebra
 * @since 0.2.0
 */
export const einsum = (spec: string, ...operands: ReadonlyArray<TensorLike>): Tensor => {
  if (typeof spec !== 'string')
    throw new PurediffError('ValueError', 'the first argument must be a subscript string', { op: 'einsum' })
  const ts0 = operands.map((x) => asTensor(x, 'einsum'))
  const dt = resultDType(ts0)
  const ts = ts0.map((t) => liftTo(t, dt))
  const shapes = ts.map((t) => t.shape)
  const compact = spec.replace(/\s+/g, '')
  const parts = compact.split('->')
  if (parts.length > 2) throw einsumError(spec, "more than one '->'", shapes)
  const inputs = (parts[0] as string).split(',')
  if (inputs.length !== ts.length)
    throw einsumError(spec, `${inputs.length} input subscripts for ${ts.length} operands`, shapes)
  // expand '...' into reserved placeholder letters (uppercase Greek), right-aligned
  let ellipsisRank = -1
  const parseTerm = (s: string, rank: number | null, which: string): string[] => {
    const dots = s.split('...')
    if (dots.length > 2) throw einsumError(spec, `more than one '...' in ${which}`, shapes)
    for (const ch of s.replace('...', '')) {
      if (!/[a-zA-Z]/.test(ch))
        throw einsumError(spec, `'${ch}' in ${which} is not a letter (subscripts are a-z, A-Z and '...')`, shapes)
    }
    if (dots.length === 1) return [...s]
    const named = s.length - 3
    const er = rank === null ? Math.max(ellipsisRank, 0) : rank - named
    if (rank !== null) {
      if (er < 0) throw einsumError(spec, `${which} names more axes than its rank ${rank}`, shapes)
      if (ellipsisRank >= 0 && er !== ellipsisRank)
        throw einsumError(spec, "'...' stands for different numbers of axes in different operands", shapes)
      ellipsisRank = er
    }
    const fill = Array.from({ length: er }, (_, i) => String.fromCharCode(0x391 + i))
    return [...(dots[0] as string), ...fill, ...(dots[1] as string)]
  }
  const terms: Term[] = inputs.map((s, i) => {
    const t = ts[i] as Tensor
    const letters = parseTerm(s, t.rank, `operand ${i} ('${s}')`)
    if (letters.length !== t.rank)
      throw einsumError(spec, `operand ${i} has rank ${t.rank} but '${s}' names ${letters.length} axes`, shapes)
    return { t, letters }
  })
  // extents must agree
  const extent = new Map<string, number>()
  terms.forEach(({ t, letters }) =>
    letters.forEach((l, ax) => {
      const d = t.shape[ax] as number
      const prev = extent.get(l)
      if (prev !== undefined && prev !== d)
        throw einsumError(spec, `index '${l}' has extent ${prev} in one place and ${d} in another`, shapes)
      extent.set(l, d)
    }),
  )
  const counts = new Map<string, number>()
  terms.forEach(({ letters }) => letters.forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1)))
  let output: string[]
  if (parts.length === 2) {
    output = parseTerm(parts[1] as string, null, `the output ('${parts[1]}')`)
    for (const l of output) {
      if (!extent.has(l)) throw einsumError(spec, `output index '${l}' appears in no input`, shapes)
    }
    if (new Set(output).size !== output.length) throw einsumError(spec, 'an output index is repeated', shapes)
  } else {
    const ell = [...extent.keys()].filter((l) => l.charCodeAt(0) >= 0x391).sort()
    output = [
      ...ell,
      ...[...counts.entries()]
        .filter(([l, c]) => c === 1 && l.charCodeAt(0) < 0x391)
        .map(([l]) => l)
        .sort(),
    ]
  }
  // 1. within each operand: take diagonals of repeated letters, sum letters used nowhere else
  const reduced = terms.map((term, i) => {
    let cur = takeDiagonals(term)
    const elsewhere = new Set([...output, ...terms.filter((_, j) => j !== i).flatMap((o) => o.letters)])
    const lone = cur.letters.map((l, ax) => (elsewhere.has(l) ? -1 : ax)).filter((ax) => ax >= 0)
    if (lone.length > 0) cur = { t: sum(cur.t, lone), letters: cur.letters.filter((_, ax) => !lone.includes(ax)) }
    return cur
  })
  // 2. contract pairwise, left to right
  let acc = reduced[0] as Term
  for (let i = 1; i < reduced.length; i++) {
    const later = new Set([...output, ...reduced.slice(i + 1).flatMap((o) => o.letters)])
    acc = contract(acc, reduced[i] as Term, later)
  }
  // 3. sum what is left over, then order as the output
  const extra = acc.letters.map((l, ax) => (output.includes(l) ? -1 : ax)).filter((ax) => ax >= 0)
  if (extra.length > 0) acc = { t: sum(acc.t, extra), letters: acc.letters.filter((_, ax) => !extra.includes(ax)) }
  const perm = output.map((l) => acc.letters.indexOf(l))
  return perm.every((p, i) => p === i) ? acc.t : transpose(acc.t, perm)
}

/** Replace each repeated letter of a term by one axis holding the diagonal. */
const takeDiagonals = (term: Term): Term => {
  let { t, letters } = term
  for (;;) {
    const dup = letters.findIndex((l, i) => letters.indexOf(l) !== i)
    if (dup < 0) return { t, letters }
    const first = letters.indexOf(letters[dup] as string)
    // move the two axes last, take the diagonal (which lands last)
    const rest = letters.map((_, i) => i).filter((i) => i !== first && i !== dup)
    t = diagonal(transpose(t, [...rest, first, dup]))
    letters = [...rest.map((i) => letters[i] as string), letters[first] as string]
  }
}

/** Contract two terms over the letters they share that are not needed later (a batched matmul). */
const contract = (a: Term, b: Term, later: ReadonlySet<string>): Term => {
  const inB = new Set(b.letters)
  const inA = new Set(a.letters)
  const batch = a.letters.filter((l) => inB.has(l) && later.has(l))
  const summed = a.letters.filter((l) => inB.has(l) && !later.has(l))
  const aOnly = a.letters.filter((l) => !inB.has(l))
  const bOnly = b.letters.filter((l) => !inA.has(l))
  const ext = (t: Term, l: string): number => t.t.shape[t.letters.indexOf(l)] as number
  const size = (t: Term, ls: ReadonlyArray<string>): number => sizeOf(ls.map((l) => ext(t, l)))
  const at = transpose(
    a.t,
    [...batch, ...aOnly, ...summed].map((l) => a.letters.indexOf(l)),
  )
  const bt = transpose(
    b.t,
    [...batch, ...summed, ...bOnly].map((l) => b.letters.indexOf(l)),
  )
  const bs = batch.map((l) => ext(a, l))
  const a3 = reshape(at, [...bs, size(a, aOnly), size(a, summed)])
  const b3 = reshape(bt, [...bs, size(b, summed), size(b, bOnly)])
  const y = matmul(a3, b3)
  const shape = [...bs, ...aOnly.map((l) => ext(a, l)), ...bOnly.map((l) => ext(b, l))]
  return { t: shapeEq(y.shape, shape) ? y : reshape(y, shape), letters: [...batch, ...aOnly, ...bOnly] }
}
