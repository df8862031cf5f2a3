/**
 * The masked matrix product C[b] = Σ_p A[b]_ip ⊙ B[b]_pj, where a term is 0 whenever either
 * factor is 0 (even if the other is ±inf or NaN): the product `mulNoNan` sums. Reverse
 * rules of `matmul` use it so a zero cotangent never meets an infinite operand as 0 · inf.
 *
 * When both operands are finite the masked product equals the plain one, and this kernel
 * calls `matmulKernel` (same values, bit for bit); otherwise it runs the masked triple loop.
 * The choice is made on the data here, inside the kernel, so a staged program holds one
 * data-independent equation.
 *
 * Purity contract: writes only the output array it allocates.
 */
import type { Data, DType } from '../tensor/Tensor.js'
import { alloc } from '../tensor/Tensor.js'
import { matmulKernel } from './matmul.js'

const allFinite = (d: Data): boolean => {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return false
  return true
}

export const matmulNoNanKernel = (
  a: Data,
  b: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
): Data => {
  if (allFinite(a) && allFinite(b)) return matmulKernel(a, b, batch, m, k, n, dtype)
  const out = alloc(dtype, batch * m * n)
  for (let bb = 0; bb < batch; bb++) {
    const ao = bb * m * k
    const bo = bb * k * n
    const oo = bb * m * n
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) {
          const x = a[ao + i * k + p] as number
          const y = b[bo + p * n + j] as number
          if (x !== 0 && y !== 0) s += x * y
        }
        out[oo + i * n + j] = s
      }
    }
  }
  return out
}
