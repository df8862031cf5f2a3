/**
 * Dense linear-algebra kernels over batches of row-major square matrices: Cholesky
 * factorisation, triangular solves, LU with partial pivoting (solve and log-determinant),
 * the symmetric eigen-decomposition (cyclic Jacobi), Householder QR and the SVD (one-sided
 * Jacobi). Every kernel reads a batch of matrices `[batch, n, n]` (plus right-hand sides
 * `[batch, n, m]`) and computes in float64 whatever the storage dtype, rounding once into
 * its output.
 *
 * The math, per batch entry:
 * - Cholesky: A = L·Lᵀ of the symmetric part (A + Aᵀ)/2, L lower triangular with a positive
 *   diagonal (the column-by-column Cholesky–Banachiewicz recurrence);
 * - triangular solve: op(T)·X = B by forward or back substitution, op(T) = T or Tᵀ, reading
 *   only the named triangle of T;
 * - LU: P·A = L·U (Doolittle with partial pivoting: the largest |a_ik| in column k is the
 *   pivot), then A·X = B by two substitutions; log|det A| = Σ log|u_kk| and
 *   sign det A = (−1)^{swaps} · Π sign u_kk.
 * NOTE singular inputs: a non-positive-definite matrix (a pivot ≤ 0 in Cholesky) gives a
 * factor of NaNs, and an exactly singular matrix (a zero pivot in LU) gives a solution of
 * NaNs, log|det| = −∞ and sign 0 — JAX's convention: a NaN marks the one matrix of a batch
 * that failed, and the others are unaffected.
 *
 * Purity contract: every kernel allocates and fills its own outputs; inputs are read only;
 * the float64 working copies are private scratch.
 */
import type { Data, DType } from '../tensor/Tensor.js'
import { alloc } from '../tensor/Tensor.js'

const f64 = (x: Data): Float64Array => (x instanceof Float64Array ? x : Float64Array.from(x))

// -------------------------------------------------------------------------------------
// Cholesky
// -------------------------------------------------------------------------------------

/** L with L·Lᵀ = (A + Aᵀ)/2 for each of `batch` n×n matrices; NaNs where not positive definite. */
export const choleskyKernel = (a0: Data, batch: number, n: number, dtype: DType): Data => {
  const a = f64(a0)
  const out = alloc(dtype, batch * n * n)
  const l = new Float64Array(n * n)
  for (let b = 0; b < batch; b++) {
    const o = b * n * n
    l.fill(0)
    let ok = true
    for (let j = 0; j < n && ok; j++) {
      for (let i = j; i < n; i++) {
        let s = 0.5 * ((a[o + i * n + j] as number) + (a[o + j * n + i] as number))
        for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number)
        if (i === j) {
          if (!(s > 0)) {
            ok = false
            break
          }
          l[j * n + j] = Math.sqrt(s)
        } else {
          l[i * n + j] = s / (l[j * n + j] as number)
        }
      }
    }
    for (let q = 0; q < n * n; q++) out[o + q] = ok ? (l[q] as number) : NaN
  }
  return out
}

// -------------------------------------------------------------------------------------
// triangular solve
// -------------------------------------------------------------------------------------

/**
 * X with op(T)·X = B, T: [batch, n, n] triangular (only the `lower` or upper triangle is
 * read, diagonal included), B: [batch, n, m]; op(T) = Tᵀ when `transposeA`.
 */
export const triangularSolveKernel = (
  t0: Data, b0: Data, batch: number, n: number, m: number, lower: boolean, transposeA: boolean, dtype: DType,
): Data => {
  const t = f64(t0)
  const bIn = f64(b0)
  const out = alloc(dtype, batch * n * m)
  const x = new Float64Array(n * m)
  // op(T) is lower triangular when exactly one of (lower, transposed) holds
  const forward = lower !== transposeA
  for (let bb = 0; bb < batch; bb++) {
    const to = bb * n * n
    const bo = bb * n * m
    // entry (i, k) of op(T)
    const at = transposeA ? (i: number, k: number) => t[to + k * n + i] as number : (i: number, k: number) => t[to + i * n + k] as number
    for (let step = 0; step < n; step++) {
      const i = forward ? step : n - 1 - step
      const d = at(i, i)
      for (let c = 0; c < m; c++) {
        let s = bIn[bo + i * m + c] as number
        if (forward) for (let k = 0; k < i; k++) s -= at(i, k) * (x[k * m + c] as number)
        else for (let k = i + 1; k < n; k++) s -= at(i, k) * (x[k * m + c] as number)
        x[i * m + c] = s / d
      }
    }
    for (let q = 0; q < n * m; q++) out[bo + q] = x[q] as number
  }
  return out
}

// -------------------------------------------------------------------------------------
// LU with partial pivoting
// -------------------------------------------------------------------------------------

interface LU {
  /** L (unit diagonal, below) and U (on and above) packed in one n×n array */
  readonly lu: Float64Array
  /** row i of P·A is row perm[i] of A */
  readonly perm: Int32Array
  /** (−1)^{row swaps} */
  readonly parity: number
  /** false when a pivot is exactly zero */
  readonly regular: boolean
}

/** P·A = L·U of the n×n matrix at offset `o` of `a`. */
const luFactor = (a: Float64Array, o: number, n: number): LU => {
  const lu = a.slice(o, o + n * n)
  const perm = Int32Array.from({ length: n }, (_, i) => i)
  let parity = 1
  let regular = true
  for (let k = 0; k < n; k++) {
    let p = k
    let best = Math.abs(lu[k * n + k] as number)
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k] as number)
      if (v > best) {
        best = v
        p = i
      }
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const tmp = lu[k * n + j] as number
        lu[k * n + j] = lu[p * n + j] as number
        lu[p * n + j] = tmp
      }
      const tp = perm[k] as number
      perm[k] = perm[p] as number
      perm[p] = tp
      parity = -parity
    }
    const piv = lu[k * n + k] as number
    if (piv === 0 || !Number.isFinite(piv)) {
      regular = false
      continue
    }
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] as number) / piv
      lu[i * n + k] = f
      if (f !== 0) for (let j = k + 1; j < n; j++) lu[i * n + j] = (lu[i * n + j] as number) - f * (lu[k * n + j] as number)
    }
  }
  return { lu, perm, parity, regular }
}

/** X with A·X = B for A: [batch, n, n], B: [batch, n, m] (LU with partial pivoting; NaNs where A is singular). */
export const solveKernel = (a0: Data, b0: Data, batch: number, n: number, m: number, dtype: DType): Data => {
  const a = f64(a0)
  const bIn = f64(b0)
  const out = alloc(dtype, batch * n * m)
  const x = new Float64Array(n * m)
  for (let bb = 0; bb < batch; bb++) {
    const { lu, perm, regular } = luFactor(a, bb * n * n, n)
    const bo = bb * n * m
    if (!regular) {
      for (let q = 0; q < n * m; q++) out[bo + q] = NaN
      continue
    }
    for (let c = 0; c < m; c++) {
      // L·z = P·b (unit lower), then U·x = z
      for (let i = 0; i < n; i++) {
        let s = bIn[bo + (perm[i] as number) * m + c] as number
        for (let k = 0; k < i; k++) s -= (lu[i * n + k] as number) * (x[k * m + c] as number)
        x[i * m + c] = s
      }
      for (let i = n - 1; i >= 0; i--) {
        let s = x[i * m + c] as number
        for (let k = i + 1; k < n; k++) s -= (lu[i * n + k] as number) * (x[k * m + c] as number)
        x[i * m + c] = s / (lu[i * n + i] as number)
      }
    }
    for (let q = 0; q < n * m; q++) out[bo + q] = x[q] as number
  }
  return out
}

/** log|det A| for each n×n matrix of a batch (−∞ where singular). */
export const logAbsDetKernel = (a0: Data, batch: number, n: number, dtype: DType): Data => {
  const a = f64(a0)
  const out = alloc(dtype, batch)
  for (let bb = 0; bb < batch; bb++) {
    const { lu, regular } = luFactor(a, bb * n * n, n)
    let s = 0
    for (let k = 0; k < n && regular; k++) s += Math.log(Math.abs(lu[k * n + k] as number))
    out[bb] = regular ? s : -Infinity
  }
  return out
}

/** sign det A ∈ {−1, 0, 1} for each n×n matrix of a batch. */
export const detSignKernel = (a0: Data, batch: number, n: number, dtype: DType): Data => {
  const a = f64(a0)
  const out = alloc(dtype, batch)
  for (let bb = 0; bb < batch; bb++) {
    const { lu, parity, regular } = luFactor(a, bb * n * n, n)
    let s = parity
    for (let k = 0; k < n; k++) s *= Math.sign(lu[k * n + k] as number)
    out[bb] = regular ? s : 0
  }
  return out
}
