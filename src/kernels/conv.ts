/**
 * 2-D convolution (cross-correlation) of NHWC inputs with HWIO kernels, as an im2col copy
 * feeding the matrix-product kernel (`matmulKernel`, which runs the WebAssembly SIMD product
 * when the backend is `'wasm'`):
 *
 *   y[n, i, j, o] = Σ_{a, b, c} x̂[n, i·sh + a·dh − top, j·sw + b·dw − left, c] · w[a, b, c, o]
 *
 * where x̂ is x dilated by (lh, lw) (x̂[q] = x[q / l] when l divides q, else 0: the input
 * dilation of a transposed convolution) and read as 0 outside its extent. `top` and `left`
 * may be negative (a crop); the output extent is given by the caller. The patch matrix has
 * one row per output position and one column per tap (a, b, c), in the row-major order of
 * w flattened to [kh·kw·in, out], so y = cols · w is one product.
 *
 * Purity contract: the patch matrix and the output are arrays this kernel allocates;
 * inputs are read only.
 */
import type { Data, DType } from '../tensor/Tensor.js'
import { alloc } from '../tensor/Tensor.js'
import { matmulKernel } from './matmul.js'

/** The geometry of one convolution: input, kernel and output extents, and the index maps' parameters. */
export interface ConvGeometry {
  /** batch, height, width, input channels */
  readonly n: number
  readonly h: number
  readonly w: number
  readonly c: number
  /** kernel height and width, output channels */
  readonly kh: number
  readonly kw: number
  readonly o: number
  /** output height and width */
  readonly ho: number
  readonly wo: number
  /** window strides, kernel (tap) dilations, input dilations, leading paddings */
  readonly sh: number
  readonly sw: number
  readonly dh: number
  readonly dw: number
  readonly lh: number
  readonly lw: number
  readonly top: number
  readonly left: number
}

/** For each output index i and tap a: the source index along the axis, or −1 (a zero). */
const taps = (out: number, k: number, s: number, d: number, l: number, lo: number, extent: number): Int32Array => {
  const src = new Int32Array(out * k)
  for (let i = 0; i < out; i++) {
    for (let a = 0; a < k; a++) {
      const q = i * s + a * d - lo
      src[i * k + a] = q >= 0 && q % l === 0 && q / l < extent ? q / l : -1
    }
  }
  return src
}

/** The patch matrix [n·ho·wo, kh·kw·c] of x [n, h, w, c]. */
export const im2colKernel = (x: Data, g: ConvGeometry, dtype: DType): Data => {
  const { n, h, w, c, kh, kw, ho, wo } = g
  const row = kh * kw * c
  const cols = alloc(dtype, n * ho * wo * row)
  const rows = taps(ho, kh, g.sh, g.dh, g.lh, g.top, h)
  const cs = taps(wo, kw, g.sw, g.dw, g.lw, g.left, w)
  let o = 0
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        for (let a = 0; a < kh; a++) {
          const r = rows[i * kh + a] as number
          for (let t = 0; t < kw; t++) {
            const q = cs[j * kw + t] as number
            // a zero tap leaves the freshly allocated zeros in place
            if (r >= 0 && q >= 0) {
              const src = xb + (r * w + q) * c
              for (let e = 0; e < c; e++) cols[o + e] = x[src + e] as number
            }
            o += c
          }
        }
      }
    }
  }
  return cols
}

/** y [n, ho, wo, o] = conv(x [n, h, w, c], k [kh, kw, c, o]) on the kernels in use. */
export const conv2dKernel = (x: Data, k: Data, g: ConvGeometry, dtype: DType): Data => {
  const m = g.n * g.ho * g.wo
  const depth = g.kh * g.kw * g.c
  // a 1×1 kernel with unit strides, no padding and no dilation: x is its own patch matrix
  const identity =
    g.kh === 1 &&
    g.kw === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.lh === 1 &&
    g.lw === 1 &&
    g.top === 0 &&
    g.left === 0 &&
    g.ho === g.h &&
    g.wo === g.w
  const cols = identity ? x : im2colKernel(x, g, dtype)
  return matmulKernel(cols, k, 1, m, depth, g.o, dtype)
}
