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
  t0: Data,
  b0: Data,
  batch: number,
  n: number,
  m: number,
  lower: boolean,
  transposeA: boolean,
  dtype: DType,
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
    const at = transposeA
      ? (i: number, k: number) => t[to + k * n + i] as number
      : (i: number, k: number) => t[to + i * n + k] as number
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
      if (f !== 0)
        for (let j = k + 1; j < n; j++) lu[i * n + j] = (lu[i * n + j] as number) - f * (lu[k * n + j] as number)
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

// -------------------------------------------------------------------------------------
// symmetric eigen-decomposition (cyclic Jacobi)
// -------------------------------------------------------------------------------------

/**
 * sym(A) = V·diag(w)·Vᵀ for each n×n matrix of a batch, packed as [batch, n + 1, n]: row 0
 * holds w (ascending), rows 1..n hold V (eigenvectors in columns). Cyclic Jacobi rotations
 * (Golub & Van Loan, Algorithm 8.5.3) until the off-diagonal mass is below 1e-32 of the
 * total. NOTE each eigenvector's sign is fixed so that its largest-magnitude entry (the
 * first, at a tie) is positive.
 */
export const eighKernel = (a0: Data, batch: number, n: number, dtype: DType): Data => {
  const a = f64(a0)
  const out = alloc(dtype, batch * (n + 1) * n)
  const m = new Float64Array(n * n)
  const v = new Float64Array(n * n)
  for (let bb = 0; bb < batch; bb++) {
    const o = bb * n * n
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) m[i * n + j] = 0.5 * ((a[o + i * n + j] as number) + (a[o + j * n + i] as number))
    v.fill(0)
    for (let i = 0; i < n; i++) v[i * n + i] = 1
    let total = 0
    for (let q = 0; q < n * n; q++) total += (m[q] as number) ** 2
    for (let sweep = 0; sweep < 100; sweep++) {
      let off = 0
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += (m[i * n + j] as number) ** 2
      if (!(off > 1e-32 * total)) break
      for (let p = 0; p < n - 1; p++) {
        for (let q = p + 1; q < n; q++) {
          const apq = m[p * n + q] as number
          if (apq === 0) continue
          const app = m[p * n + p] as number
          const aqq = m[q * n + q] as number
          const tau = (aqq - app) / (2 * apq)
          const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau))
          const c = 1 / Math.sqrt(1 + t * t)
          const s = t * c
          // M ← Jᵀ·M·J with J the rotation in the (p, q) plane
          for (let k = 0; k < n; k++) {
            const mkp = m[k * n + p] as number
            const mkq = m[k * n + q] as number
            m[k * n + p] = c * mkp - s * mkq
            m[k * n + q] = s * mkp + c * mkq
          }
          for (let k = 0; k < n; k++) {
            const mpk = m[p * n + k] as number
            const mqk = m[q * n + k] as number
            m[p * n + k] = c * mpk - s * mqk
            m[q * n + k] = s * mpk + c * mqk
          }
          for (let k = 0; k < n; k++) {
            const vkp = v[k * n + p] as number
            const vkq = v[k * n + q] as number
            v[k * n + p] = c * vkp - s * vkq
            v[k * n + q] = s * vkp + c * vkq
          }
        }
      }
    }
    const order = Array.from({ length: n }, (_, i) => i).sort(
      (i, j) => (m[i * n + i] as number) - (m[j * n + j] as number),
    )
    const po = bb * (n + 1) * n
    order.forEach((src, col) => {
      out[po + col] = m[src * n + src] as number
      let big = 0
      for (let k = 1; k < n; k++) if (Math.abs(v[k * n + src] as number) > Math.abs(v[big * n + src] as number)) big = k
      const sign = (v[big * n + src] as number) < 0 ? -1 : 1
      for (let k = 0; k < n; k++) out[po + (k + 1) * n + col] = sign * (v[k * n + src] as number)
    })
  }
  return out
}

// -------------------------------------------------------------------------------------
// QR (Householder)
// -------------------------------------------------------------------------------------

/**
 * The reduced QR factorisation A = Q·R of each m×n matrix (m ≥ n) of a batch, packed as
 * [batch, m + n, n]: rows 0..m−1 hold Q (orthonormal columns), rows m..m+n−1 hold R (upper
 * triangular). Householder reflections (Golub & Van Loan, Algorithm 5.2.1), then Q by
 * applying them to the first n columns of I. NOTE signs: R's diagonal is made non-negative
 * (each column of Q and row of R flipped together), which makes the factors unique for a
 * full-rank A.
 */
export const qrKernel = (a0: Data, batch: number, m: number, n: number, dtype: DType): Data => {
  const a = f64(a0)
  const out = alloc(dtype, batch * (m + n) * n)
  const r = new Float64Array(m * n)
  const q = new Float64Array(m * n)
  const vs = new Float64Array(m * n) // Householder vectors, column k in vs[·, k]
  const betas = new Float64Array(n)
  for (let bb = 0; bb < batch; bb++) {
    r.set(a.subarray(bb * m * n, (bb + 1) * m * n))
    vs.fill(0)
    for (let k = 0; k < n; k++) {
      let norm = 0
      for (let i = k; i < m; i++) norm += (r[i * n + k] as number) ** 2
      norm = Math.sqrt(norm)
      const x0 = r[k * n + k] as number
      const alpha = x0 >= 0 ? -norm : norm
      // v = x − alpha·e₁, β = 2/(vᵀv)
      let vv = 0
      for (let i = k; i < m; i++) {
        const vi = i === k ? x0 - alpha : (r[i * n + k] as number)
        vs[i * n + k] = vi
        vv += vi * vi
      }
      const beta = vv === 0 ? 0 : 2 / vv
      betas[k] = beta
      for (let j = k; j < n; j++) {
        let s = 0
        for (let i = k; i < m; i++) s += (vs[i * n + k] as number) * (r[i * n + j] as number)
        s *= beta
        for (let i = k; i < m; i++) r[i * n + j] = (r[i * n + j] as number) - s * (vs[i * n + k] as number)
      }
    }
    // Q = H₀·H₁·…·H_{n−1}·[I; 0], applied from the last reflection
    q.fill(0)
    for (let i = 0; i < n; i++) q[i * n + i] = 1
    for (let k = n - 1; k >= 0; k--) {
      const beta = betas[k] as number
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let i = k; i < m; i++) s += (vs[i * n + k] as number) * (q[i * n + j] as number)
        s *= beta
        for (let i = k; i < m; i++) q[i * n + j] = (q[i * n + j] as number) - s * (vs[i * n + k] as number)
      }
    }
    const po = bb * (m + n) * n
    for (let j = 0; j < n; j++) {
      const sign = (r[j * n + j] as number) < 0 ? -1 : 1
      for (let i = 0; i < m; i++) out[po + i * n + j] = sign * (q[i * n + j] as number)
      for (let c = 0; c < n; c++) out[po + (m + j) * n + c] = c < j ? 0 : sign * (r[j * n + c] as number)
    }
  }
  return out
}
