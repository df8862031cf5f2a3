/**
 * Max pooling over non-overlapping kh × kw windows of x [n, h, w, c] (NHWC, h and w
 * multiples of the window), as two linear maps weighted by where each window's maximum is:
 *
 *   wₚ(x) = [x_p = max of p's window] / (number of entries equal to that max)
 *   select(x, z)[n, i, j, c] = Σ_{p in window (i, j)} wₚ(x) · z_p          [n, h/kh, w/kw, c]
 *   scatter(x, u)[p]         = wₚ(x) · u[window of p]                      [n, h, w, c]
 *
 * `scatter` is the transpose of `select` (for fixed x). Ties share equally (the `max`
 * reduction's convention); a window holding NaN selects NaN.
 *
 * Purity contract: each kernel writes only the output array it allocates.
 */
import type { Data, DType } from '../tensor/Tensor.js'
import { alloc } from '../tensor/Tensor.js'

/** The extents of a pooling: input [n, h, w, c] and window [kh, kw]. */
export interface PoolGeometry {
  readonly n: number
  readonly h: number
  readonly w: number
  readonly c: number
  readonly kh: number
  readonly kw: number
}

/** The maximum of one channel over the window at `p0` (NaN if any entry is NaN). */
const windowMax = (x: Data, p0: number, kh: number, kw: number, c: number, rowStep: number): number => {
  let m = -Infinity
  for (let a = 0; a < kh; a++) {
    const row = p0 + a * rowStep
    for (let t = 0; t < kw; t++) {
      const v = x[row + t * c] as number
      if (v > m) m = v
      else if (v !== v) return NaN
    }
  }
  return m
}

/** select(x, z): each window's z entries at the maximum of x, averaged over ties. */
export const poolSelectKernel = (x: Data, z: Data, g: PoolGeometry, dtype: DType): Data => {
  const { n, h, w, c, kh, kw } = g
  const ho = h / kh
  const wo = w / kw
  const out = alloc(dtype, n * ho * wo * c)
  const rowStep = w * c
  let o = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const base = ((b * h + i * kh) * w + j * kw) * c
        for (let ch = 0; ch < c; ch++) {
          const p0 = base + ch
          const m = windowMax(x, p0, kh, kw, c, rowStep)
          let s = 0
          let k = 0
          for (let a = 0; a < kh; a++) {
            const row = p0 + a * rowStep
            for (let t = 0; t < kw; t++) {
              const p = row + t * c
              if (x[p] === m) {
                s += z[p] as number
                k++
              }
            }
          }
          // a NaN maximum matches nothing: 0 / 0 = NaN
          out[o++] = k === 1 ? s : s / k
        }
      }
    }
  }
  return out
}

/** scatter(x, u): u of each window placed at the maximum of x, shared over ties. */
export const poolScatterKernel = (x: Data, u: Data, g: PoolGeometry, dtype: DType): Data => {
  const { n, h, w, c, kh, kw } = g
  const ho = h / kh
  const wo = w / kw
  const out = alloc(dtype, n * h * w * c)
  const rowStep = w * c
  let o = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const base = ((b * h + i * kh) * w + j * kw) * c
        for (let ch = 0; ch < c; ch++) {
          const p0 = base + ch
          const m = windowMax(x, p0, kh, kw, c, rowStep)
          const uo = u[o++] as number
          if (m !== m) {
            // a NaN maximum spreads NaN over its window
            for (let a = 0; a < kh; a++) for (let t = 0; t < kw; t++) out[p0 + a * rowStep + t * c] = NaN
            continue
          }
          let k = 0
          for (let a = 0; a < kh; a++) for (let t = 0; t < kw; t++) if (x[p0 + a * rowStep + t * c] === m) k++
          const v = k === 1 ? uo : uo / k
          for (let a = 0; a < kh; a++) {
            for (let t = 0; t < kw; t++) {
              const p = p0 + a * rowStep + t * c
              if (x[p] === m) out[p] = v
            }
          }
        }
      }
    }
  }
  return out
}
