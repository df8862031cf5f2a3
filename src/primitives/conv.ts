/**
 * `conv2d`, the 2-D convolution (cross-correlation) of x [n, h, w, c] (NHWC) with a kernel
 * k [kh, kw, c, o] (HWIO), with window strides s, tap dilations d, input dilations l and
 * explicit paddings [lo, hi] per spatial axis (a negative padding crops):
 *
 *   y[n, i, j, o] = Σ_{a, b, c} x̂[n, i·s + a·d − lo, …, c] · k[a, b, c, o]
 *
 * with x̂ x dilated by l (zeros between its rows and columns) and zero outside. The kernel
 * is an im2col copy feeding the matrix product (src/kernels/conv.ts).
 *
 * The set of such convolutions is closed under transposition (as JAX's
 * `conv_general_dilated`), so both reverse rules are convolutions again, not slices:
 * - x̄ = conv(ȳ, flip(k)ᵀ) with stride l, input dilation s, tap dilation d and leading
 *   padding (kh − 1)·d − lo: the transposed convolution;
 * - k̄ = conv(xᵀ, ȳᵀ) with the batch and channel axes of x swapped ([c, h, w, n]) and ȳ
 *   read as a kernel [ho, wo, n, o]: stride d, tap dilation s, input dilation l, leading
 *   padding lo; its output [c, kh, kw, o] is transposed back to [kh, kw, c, o].
 * Trailing paddings are chosen so the output has exactly the input's (or the kernel's)
 * extent; they may be negative where the forward windows did not reach the input's end.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import { conv2dKernel } from '../kernels/conv.js'
import type { ConvGeometry } from '../kernels/conv.js'
import type { Shape, Tensor } from '../tensor/Tensor.js'
import { alloc, dataOf, wrap } from '../tensor/Tensor.js'
import type { ConvParams, Primitive, RuleOps } from './types.js'

export type { ConvParams }

/** The output extent along one axis. */
const outExtent = (n: number, k: number, s: number, d: number, l: number, lo: number, hi: number): number =>
  Math.floor(((n - 1) * l + 1 + lo + hi - ((k - 1) * d + 1)) / s) + 1

/** The output shape of conv2d(x, k) with params p. */
export const convShape = (x: Shape, k: Shape, p: ConvParams): number[] => [
  x[0] as number,
  outExtent(
    x[1] as number,
    k[0] as number,
    p.stride[0],
    p.dilation[0],
    p.lhsDilation[0],
    p.padding[0][0],
    p.padding[0][1],
  ),
  outExtent(
    x[2] as number,
    k[1] as number,
    p.stride[1],
    p.dilation[1],
    p.lhsDilation[1],
    p.padding[1][0],
    p.padding[1][1],
  ),
  k[3] as number,
]

const geometry = (x: Shape, k: Shape, p: ConvParams): ConvGeometry => {
  const [, ho, wo] = convShape(x, k, p) as [number, number, number, number]
  return {
    n: x[0] as number,
    h: x[1] as number,
    w: x[2] as number,
    c: x[3] as number,
    kh: k[0] as number,
    kw: k[1] as number,
    o: k[3] as number,
    ho,
    wo,
    sh: p.stride[0],
    sw: p.stride[1],
    dh: p.dilation[0],
    dw: p.dilation[1],
    lh: p.lhsDilation[0],
    lw: p.lhsDilation[1],
    top: p.padding[0][0],
    left: p.padding[1][0],
  }
}

/** k [kh, kw, c, o] flipped along both spatial axes, with in and out swapped: [kh, kw, o, c]. */
const flipSwap = (k: Tensor, R: RuleOps): Tensor => {
  const rev = (n: number) => Int32Array.from({ length: n }, (_, i) => n - 1 - i)
  const flipped = R.gather(R.gather(k, rev(k.shape[0] as number), 0), rev(k.shape[1] as number), 1)
  return R.transpose(flipped, [0, 1, 3, 2])
}

/** The convolution whose transpose is the input cotangent: x̄ [n, h, w, c] from ȳ and k. */
const inputCotangent = (yBar: Tensor, x: Shape, k: Tensor, p: ConvParams, R: RuleOps): Tensor => {
  const axis = (ax: 0 | 1) => {
    const n = x[ax + 1] as number
    const kk = k.shape[ax] as number
    const m = yBar.shape[ax + 1] as number
    const d = p.dilation[ax]
    const l = p.lhsDilation[ax]
    const s = p.stride[ax]
    const lo = (kk - 1) * d - p.padding[ax][0]
    const hi = (n - 1) * l + (kk - 1) * d + 1 - ((m - 1) * s + 1) - lo
    return [lo, hi] as const
  }
  return R.conv2d(yBar, flipSwap(k, R), {
    stride: p.lhsDilation,
    padding: [axis(0), axis(1)],
    dilation: p.dilation,
    lhsDilation: p.stride,
  })
}

/** The convolution whose transpose is the kernel cotangent: k̄ [kh, kw, c, o] from x and ȳ. */
const kernelCotangent = (yBar: Tensor, x: Tensor, k: Shape, p: ConvParams, R: RuleOps): Tensor => {
  const axis = (ax: 0 | 1) => {
    const n = x.shape[ax + 1] as number
    const kk = k[ax] as number
    const m = yBar.shape[ax + 1] as number
    const d = p.dilation[ax]
    const l = p.lhsDilation[ax]
    const s = p.stride[ax]
    const lo = p.padding[ax][0]
    const hi = (kk - 1) * d + (m - 1) * s + 1 - ((n - 1) * l + 1) - lo
    return [lo, hi] as const
  }
  const z = R.conv2d(R.transpose(x, [3, 1, 2, 0]), R.transpose(yBar, [1, 2, 0, 3]), {
    stride: p.dilation,
    padding: [axis(0), axis(1)],
    dilation: p.stride,
    lhsDilation: p.lhsDilation,
  })
  return R.transpose(z, [1, 2, 0, 3])
}

/** x with axis `d` moved to the front. */
const front = (x: Tensor, d: number, R: RuleOps): Tensor =>
  d === 0 ? x : R.transpose(x, [d, ...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== d)])

// y is bilinear in (x, k): dy = conv(dx, k) + conv(x, dk); x̄ and k̄ are the transposed
// convolutions above (see the module header).
// NOTE the reverse rules are plain convolutions: a zero cotangent meeting an infinite input
// gives NaN (0 · inf), as in the forward product.
export const conv2d: Primitive<ConvParams> = {
  name: 'conv2d',
  arity: 2,
  abstract: ([x, k], p) => ({ shape: convShape(x!.shape, k!.shape, p), dtype: x!.dtype }),
  impl: ([x, k], p) => {
    const g = geometry(x!.shape, k!.shape, p)
    return wrap(conv2dKernel(dataOf(x!), dataOf(k!), g, x!.dtype), [g.n, g.ho, g.wo, g.o])
  },
  jvp: [(xDot, [, k], _y, p, R) => R.conv2d(xDot, k!, p), (kDot, [x], _y, p, R) => R.conv2d(x!, kDot, p)],
  vjp: [
    (yBar, [x, k], _y, p, R) => inputCotangent(yBar, x!.shape, k!, p, R),
    (yBar, [x, k], _y, p, R) => kernelCotangent(yBar, x!, k!.shape, p, R),
  ],
  // vmap: a batched x folds its batch into the images' batch; a batched kernel into the
  // output channels; both batched, into a block-diagonal kernel over batch × channels (one
  // call, at B times the work of a grouped convolution).
  batch: ([x, k], [dx, dk], p, R, self) => {
    const bx = dx ?? null
    const bk = dk ?? null
    if (bk === null) {
      const xf = front(x!, bx as number, R)
      const [b, n, ...rest] = xf.shape as [number, number, ...number[]]
      const y = self([R.reshape(xf, [b * n, ...rest]), k!], p)
      return [R.reshape(y, [b, n, ...y.shape.slice(1)]), 0]
    }
    const kf = front(k!, bk, R)
    const [b, kh, kw, c, o] = kf.shape as [number, number, number, number, number]
    if (bx === null) {
      const kk = R.reshape(R.transpose(kf, [1, 2, 3, 0, 4]), [kh, kw, c, b * o])
      const y = self([x!, kk], p)
      return [R.reshape(y, [...y.shape.slice(0, 3), b, o]), 3]
    }
    const xf = front(x!, bx, R)
    const [, n, h, w] = xf.shape as [number, number, number, number, number]
    const xx = R.reshape(R.transpose(xf, [1, 2, 3, 0, 4]), [n, h, w, b * c])
    const eye = alloc(k!.dtype, b * b)
    for (let i = 0; i < b; i++) eye[i * b + i] = 1
    const blocks = R.mul(
      R.reshape(R.transpose(kf, [1, 2, 0, 3, 4]), [kh, kw, b, c, 1, o]),
      wrap(eye, [1, 1, b, 1, b, 1]),
    )
    const y = self([xx, R.reshape(blocks, [kh, kw, b * c, b * o])], p)
    return [R.reshape(y, [...y.shape.slice(0, 3), b, o]), 3]
  },
  domain: {
    ranges: [
      [-2, 2],
      [-2, 2],
    ],
    cases: [
      {
        shapes: [
          [1, 4, 4, 2],
          [2, 2, 2, 3],
        ],
        params: {
          stride: [1, 1],
          padding: [
            [0, 0],
            [0, 0],
          ],
          dilation: [1, 1],
          lhsDilation: [1, 1],
        },
      },
      {
        // strided, padded unevenly (the last window stops short of the input's end)
        shapes: [
          [2, 5, 4, 1],
          [3, 2, 1, 2],
        ],
        params: {
          stride: [2, 2],
          padding: [
            [1, 1],
            [0, 1],
          ],
          dilation: [1, 1],
          lhsDilation: [1, 1],
        },
      },
      {
        // dilated taps, a dilated input (a transposed convolution) and a crop
        shapes: [
          [1, 3, 4, 2],
          [2, 2, 2, 1],
        ],
        params: {
          stride: [1, 2],
          padding: [
            [1, -1],
            [2, 1],
          ],
          dilation: [2, 1],
          lhsDilation: [2, 1],
        },
      },
    ],
  },
  broadcasts: false,
}

/** The convolution primitives, appended to the primitive table. */
export const convPrimitives = { conv2d } as const
