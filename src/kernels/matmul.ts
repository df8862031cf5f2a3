/**
 * Batched matrix product C[b] = A[b] · B[b] for row-major A: [batch, m, k] and
 * B: [batch, k, n]: `matmulKernel` runs the WebAssembly SIMD kernel (src/kernels/wasm/gemm.ts)
 * when the backend is `'wasm'` and the product is large enough to pay for the copy into the
 * arena (split across the worker pool of src/kernels/wasm/pool.ts when larger still), else
 * `matmulJsKernel`, the reference. `matmulTKernel` takes either operand
 * transposed (Aᵀ·B, A·Bᵀ) without a transpose copy on the WebAssembly path.
 *
 * The JS reference: B is packed into panels of four columns so the inner loop streams
 * both operands contiguously, and a 4×4 block of C lives in sixteen local variables
 * (register tiling) while k runs. Edges fall back to narrower loops.
 *
 * Purity contract: writes only the output array it allocates; the packing buffer is
 * private scratch.
 */
import type { Data, DType } from '../tensor/Tensor.js'
import { alloc } from '../tensor/Tensor.js'
import { useWasm } from './backend.js'
import { transposeKernel } from './layout.js'
import { gemmWasm } from './wasm/gemm.js'
import { gemmThreaded, useThreads } from './wasm/pool.js'

/** The WebAssembly product: across the worker pool when it is large enough, else on this thread. */
const gemmFast = (
  a: Data,
  b: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
  transA: boolean,
  transB: boolean,
): Data | null => {
  const work = batch * m * k * n
  if (!useWasm(work)) return null
  return (
    (useThreads(work) ? gemmThreaded(a, b, batch, m, k, n, dtype, transA, transB) : null) ??
    gemmWasm(a, b, batch, m, k, n, dtype, transA, transB)
  )
}

/** C[b] = A[b] · B[b], A: [batch, m, k], B: [batch, k, n], on the kernels in use. */
export const matmulKernel = (a: Data, b: Data, batch: number, m: number, k: number, n: number, dtype: DType): Data =>
  gemmFast(a, b, batch, m, k, n, dtype, false, false) ?? matmulJsKernel(a, b, batch, m, k, n, dtype)

/**
 * C[b] = op(A[b]) · op(B[b]) with op(A): m×k and op(B): k×n; `transA` means A[b] is stored
 * k×m (C = Aᵀ·B), `transB` that B[b] is stored n×k (C = A·Bᵀ).
 */
export const matmulTKernel = (
  a: Data,
  b: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
  transA: boolean,
  transB: boolean,
): Data => {
  const fast = gemmFast(a, b, batch, m, k, n, dtype, transA, transB)
  if (fast !== null) return fast
  const a1 = transA ? transposeKernel(a, [batch, k, m], [0, 2, 1], dtype) : a
  const b1 = transB ? transposeKernel(b, [batch, n, k], [0, 2, 1], dtype) : b
  return matmulJsKernel(a1, b1, batch, m, k, n, dtype)
}

/** The JS reference kernel (and the fallback wherever WebAssembly SIMD is missing). */
export const matmulJsKernel = (
  a0: Data,
  b0: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
): Data => {
  const out = alloc(dtype, batch * m * n)
  // Read float32 operands through float64 copies: the hot loops then see one array type
  // (monomorphic, so the JIT keeps them tight) and accumulate in float64 either way.
  const a = a0 instanceof Float64Array ? a0 : Float64Array.from(a0)
  const b = b0 instanceof Float64Array ? b0 : Float64Array.from(b0)
  const nPanels = n >> 2
  const packed = new Float64Array(nPanels * k * 4)
  for (let bb = 0; bb < batch; bb++) {
    const ao = bb * m * k
    const bo = bb * k * n
    const oo = bb * m * n
    // pack B's full 4-column panels: packed[(panel * k + p) * 4 + c] = B[p, 4·panel + c]
    for (let panel = 0; panel < nPanels; panel++) {
      const j = panel << 2
      let q = panel * k * 4
      for (let p = 0; p < k; p++) {
        const src = bo + p * n + j
        packed[q] = b[src] as number
        packed[q + 1] = b[src + 1] as number
        packed[q + 2] = b[src + 2] as number
        packed[q + 3] = b[src + 3] as number
        q += 4
      }
    }
    let i = 0
    for (; i + 3 < m; i += 4) {
      const r0 = ao + i * k
      const r1 = r0 + k
      const r2 = r1 + k
      const r3 = r2 + k
      for (let panel = 0; panel < nPanels; panel++) {
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0
        let c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0
        let c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0
        let q = panel * k * 4
        for (let p = 0; p < k; p++) {
          const b0 = packed[q] as number
          const b1 = packed[q + 1] as number
          const b2 = packed[q + 2] as number
          const b3 = packed[q + 3] as number
          q += 4
          const a0 = a[r0 + p] as number
          const a1 = a[r1 + p] as number
          const a2 = a[r2 + p] as number
          const a3 = a[r3 + p] as number
          c00 += a0 * b0
          c01 += a0 * b1
          c02 += a0 * b2
          c03 += a0 * b3
          c10 += a1 * b0
          c11 += a1 * b1
          c12 += a1 * b2
          c13 += a1 * b3
          c20 += a2 * b0
          c21 += a2 * b1
          c22 += a2 * b2
          c23 += a2 * b3
          c30 += a3 * b0
          c31 += a3 * b1
          c32 += a3 * b2
          c33 += a3 * b3
        }
        const j = panel << 2
        let o = oo + i * n + j
        out[o] = c00
        out[o + 1] = c01
        out[o + 2] = c02
        out[o + 3] = c03
        o += n
        out[o] = c10
        out[o + 1] = c11
        out[o + 2] = c12
        out[o + 3] = c13
        o += n
        out[o] = c20
        out[o + 1] = c21
        out[o + 2] = c22
        out[o + 3] = c23
        o += n
        out[o] = c30
        out[o + 1] = c31
        out[o + 2] = c32
        out[o + 3] = c33
      }
      // leftover columns for these four rows
      for (let j = nPanels << 2; j < n; j++) {
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0
        for (let p = 0; p < k; p++) {
          const bv = b[bo + p * n + j] as number
          s0 += (a[r0 + p] as number) * bv
          s1 += (a[r1 + p] as number) * bv
          s2 += (a[r2 + p] as number) * bv
          s3 += (a[r3 + p] as number) * bv
        }
        out[oo + i * n + j] = s0
        out[oo + (i + 1) * n + j] = s1
        out[oo + (i + 2) * n + j] = s2
        out[oo + (i + 3) * n + j] = s3
      }
    }
    // leftover rows
    for (; i < m; i++) {
      const r0 = ao + i * k
      for (let panel = 0; panel < nPanels; panel++) {
        let c0 = 0,
          c1 = 0,
          c2 = 0,
          c3 = 0
        let q = panel * k * 4
        for (let p = 0; p < k; p++) {
          const av = a[r0 + p] as number
          c0 += av * (packed[q] as number)
          c1 += av * (packed[q + 1] as number)
          c2 += av * (packed[q + 2] as number)
          c3 += av * (packed[q + 3] as number)
          q += 4
        }
        const o = oo + i * n + (panel << 2)
        out[o] = c0
        out[o + 1] = c1
        out[o + 2] = c2
        out[o + 3] = c3
      }
      for (let j = nPanels << 2; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) s += (a[r0 + p] as number) * (b[bo + p * n + j] as number)
        out[oo + i * n + j] = s
      }
    }
  }
  return out
}
