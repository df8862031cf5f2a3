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

// The 2 × 2 window (the common one) with its four entries in locals: one read each.

/** The maximum of four values, NaN if any is NaN. */
const max4 = (a: number, b: number, c: number, d: number): number => {
  if (a !== a || b !== b || c !== c || d !== d) return NaN
  const m1 = a > b ? a : b
  const m2 = c > d ? c : d
  return m1 > m2 ? m1 : m2
}

const select2x2 = (
  x: Data,
  z: Data,
  out: Data,
  n: number,
  ho: number,
  wo: number,
  c: number,
  rowStep: number,
): Data => {
  let o = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const p0 = (b * ho * 2 + i * 2) * rowStep + j * 2 * c
        for (let ch = 0; ch < c; ch++) {
          const q0 = p0 + ch
          const q1 = q0 + c
          const q2 = q0 + rowStep
          const q3 = q2 + c
          const v0 = x[q0] as number
          const v1 = x[q1] as number
          const v2 = x[q2] as number
          const v3 = x[q3] as number
          const m = max4(v0, v1, v2, v3)
          let s = 0
          let k = 0
          if (v0 === m) {
            s += z[q0] as number
            k++
          }
          if (v1 === m) {
            s += z[q1] as number
            k++
          }
          if (v2 === m) {
            s += z[q2] as number
            k++
          }
          if (v3 === m) {
            s += z[q3] as number
            k++
          }
          // a NaN maximum matches nothing: 0 / 0 = NaN
          out[o++] = k === 1 ? s : s / k
        }
      }
    }
  }
  return out
}

const scatter2x2 = (
  x: Data,
  u: Data,
  out: Data,
  n: number,
  ho: number,
  wo: number,
  c: number,
  rowStep: number,
): Data => {
  let o = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const p0 = (b * ho * 2 + i * 2) * rowStep + j * 2 * c
        for (let ch = 0; ch < c; ch++) {
          const q0 = p0 + ch
          const q1 = q0 + c
          const q2 = q0 + rowStep
          const q3 = q2 + c
          const v0 = x[q0] as number
          const v1 = x[q1] as number
          const v2 = x[q2] as number
          const v3 = x[q3] as number
          const m = max4(v0, v1, v2, v3)
          const uo = u[o++] as number
          const k = (v0 === m ? 1 : 0) + (v1 === m ? 1 : 0) + (v2 === m ? 1 : 0) + (v3 === m ? 1 : 0)
          // a NaN maximum (k = 0) spreads NaN over its window
          const v = k === 1 ? uo : k === 0 ? NaN : uo / k
          if (v0 === m || k === 0) out[q0] = v
          if (v1 === m || k === 0) out[q1] = v
          if (v2 === m || k === 0) out[q2] = v
          if (v3 === m || k === 0) out[q3] = v
        }
      }
    }
  }
  return out
}

/** select(x, z): each window's z entries at the maximum of x, averaged over ties. */
export const poolSelectKernel = (x: Data, z: Data, g: PoolGeometry, dtype: DType): Data => {
  const { n, h, w, c, kh, kw } = g
  const ho = h / kh
  const wo = w / kw
  const out = alloc(dtype, n * ho * wo * c)
  const rowStep = w * c
  if (kh === 2 && kw === 2) return select2x2(x, z, out, n, ho, wo, c, rowStep)
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
  if (kh === 2 && kw === 2) return scatter2x2(x, u, out, n, ho, wo, c, rowStep)
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
