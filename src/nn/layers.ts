/**
 * Layers as pure functions of a parameter record and an input, next to pure initializers
 * of that record: the model of the seven steps is `apply(params, x)`, its first weights
 * `init(key)`. There are no layer objects and no hidden state.
 *
 *   dense:   y = x · w + b, with x [..., in], w [in, out], b [out]
 *   conv2d:  y[n, i, j, o] = Σ_{di, dj, c} x̃[n, i·sh + di, j·sw + dj, c] · w[di, dj, c, o] + b[o]
 *            (NHWC input, HWIO kernel, x̃ the zero-padded input; a cross-correlation, as in
 *            every deep-learning library), computed by the conv2d primitive (an im2col copy
 *            feeding the matrix product; src/primitives/conv.ts);
 *            with dilation (dh, dw) the taps are at i·sh + di·dh, and with g groups each
 *            group of in/g channels has its own kernel slice and out/g outputs
 *   mlp:     dense layers with an activation between them (none after the last: logits)
 *   dropout: inverted dropout, y = x · m / (1 − rate), m ~ Bernoulli(1 − rate), so E[y] = x
 *
 * Purity: layers only compose ops; initializers read only their key. Every parameter
 * record returned is frozen.
 */
import { PurediffError, atPath } from '../errors.js'
import { add, asTensor, concat, div, matmul, mul, slice, where } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { bernoulli, split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { Tensor } from '../tensor/Tensor.js'
import { bind, liftTo, resultDType } from '../ad/trace.js'
import { conv2d as convPrimitive } from '../primitives/conv.js'
import type { ConvParams } from '../primitives/conv.js'
import type { ConcreteTensor, DType } from '../tensor/Tensor.js'
import type { Activation } from './activations.js'
import { relu } from './activations.js'
import type { Initializer } from './init.js'
import { glorotUniform, heUniform, zeros } from './init.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The parameters of a dense layer: weight [in, out] and bias [out]. @category model @since 0.1.0 */
export type DenseParams = { readonly w: Tensor; readonly b: Tensor }

/** The parameters of an MLP: one dense layer per pair of consecutive sizes. @category model @since 0.1.0 */
export type MlpParams = { readonly layers: ReadonlyArray<DenseParams> }

/** Options of `denseInit`. @category model @since 0.1.0 */
export interface DenseInitOptions {
  /** Weight initializer (default `glorotUniform`). */
  readonly init?: Initializer
  /** Bias initializer (default `zeros`). */
  readonly biasInit?: Initializer
  readonly dtype?: DType
}

/** Options of `mlp`. @category model @since 0.1.0 */
export interface MlpOptions {
  /** Between layers (default `relu`); the last layer has none. */
  readonly activation?: Activation
  /** Weight initializer (default `heUniform` with relu, `glorotUniform` with any other activation). */
  readonly init?: Initializer
  /** Bias initializer (default `zeros`). */
  readonly biasInit?: Initializer
  readonly dtype?: DType
}

/** A multilayer perceptron: its sizes, an initializer and the model. @category model @since 0.1.0 */
export interface Mlp {
  readonly sizes: ReadonlyArray<number>
  /** Fresh parameters from a key (one split per layer). */
  readonly init: (key: Key) => MlpParams
  /** The logits for a batch `x` of shape [..., sizes[0]]. */
  readonly apply: (params: MlpParams, x: Tensor) => Tensor
}

/** The parameters of a 2-D convolution: kernel [kh, kw, in, out] and bias [out]. @category model @since 0.1.0 */
export type Conv2dParams = { readonly w: Tensor; readonly b: Tensor }

/** Padding of `conv2d`: 'VALID' (none), 'SAME' (output extent ⌈in/stride⌉) or explicit [[top, bottom], [left, right]]. @category model @since 0.1.0 */
export type Padding = 'VALID' | 'SAME' | readonly [readonly [number, number], readonly [number, number]]

/** Options of `conv2d`. @category model @since 0.1.0 */
export interface Conv2dOptions {
  /** A stride for both axes or [rows, columns] (default 1). */
  readonly stride?: number | readonly [number, number]
  /** Default 'VALID'. */
  readonly padding?: Padding
  /** Spacing between kernel taps, for both axes or [rows, columns] (default 1; since 0.2.0). */
  readonly dilation?: number | readonly [number, number]
  /** Channel groups: `in` and `out` split into this many groups, each convolved with its own kernel slice w [kh, kw, in/groups, out] (default 1; since 0.2.0). */
  readonly groups?: number
}

const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups'] as const

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkSize = (n: unknown, name: string, op: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new PurediffError('ValueError', `${name} must be a positive integer, got ${String(n)}`, { op })
  }
  return n
}

const checkTensor = (x: unknown, name: string, op: string): Tensor => {
  if (x instanceof Tensor) return x
  throw new PurediffError(
    'ValueError',
    `${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`,
    name.startsWith('p.') ? { op, path: name.slice(2) } : { op },
  )
}

// -------------------------------------------------------------------------------------
// dense
// -------------------------------------------------------------------------------------

/**
 * A dense (fully connected) layer: x · w + b for x of shape [..., in].
 * @example
 * dense({ w: zeros([3, 2]), b: ones([2]) }, tensor([[1, 2, 3]])) // [[1, 1]]
 * @category layers
 * @since 0.1.0
 */
export const dense = (p: DenseParams, x: Tensor): Tensor => {
  const w = checkTensor(p.w, 'p.w', 'dense')
  const b = checkTensor(p.b, 'p.b', 'dense')
  const xt = checkTensor(x, 'x', 'dense')
  if (
    w.rank !== 2 ||
    b.rank !== 1 ||
    b.shape[0] !== w.shape[1] ||
    xt.rank < 1 ||
    xt.shape[xt.rank - 1] !== w.shape[0]
  ) {
    // The parameter to blame: w when it is not a matrix or does not take x's last axis, else b.
    const path = w.rank !== 2 || xt.rank < 1 || xt.shape[xt.rank - 1] !== w.shape[0] ? 'w' : 'b'
    throw new PurediffError('ShapeError', 'expected x [..., in], w [in, out] and b [out]', {
      op: 'dense',
      shapes: [xt.shape, w.shape, b.shape],
      path,
    })
  }
  return add(matmul(xt, w), b)
}

/**
 * Parameters of a dense layer from `nIn` to `nOut` units (weight by `init`, default
 * `glorotUniform`; bias by `biasInit`, default zeros).
 * @example
 * denseInit(key(0), 784, 128, { init: heUniform }).w.shape // [784, 128]
 * @category layers
 * @since 0.1.0
 */
export const denseInit = (key: Key, nIn: number, nOut: number, opts: DenseInitOptions = {}): DenseParams => {
  checkSize(nIn, 'nIn', 'denseInit')
  checkSize(nOut, 'nOut', 'denseInit')
  const [kw, kb] = split(key)
  const dtype = opts.dtype ?? 'float64'
  const w = (opts.init ?? glorotUniform)(kw, [nIn, nOut], dtype)
  const b = (opts.biasInit ?? zeros)(kb, [nOut], dtype)
  return Object.freeze({ w, b })
}

// -------------------------------------------------------------------------------------
// mlp
// -------------------------------------------------------------------------------------

/**
 * A multilayer perceptron with layer sizes `sizes` (input first, output last).
 * @example
 * const model = mlp([784, 128, 10])
 * const params = model.init(key(0))
 * const logits = model.apply(params, images) // [batch, 10]
 * logits.shape // [2, 10]
 * @category layers
 * @since 0.1.0
 */
export const mlp = (sizes: ReadonlyArray<number>, opts: MlpOptions = {}): Mlp => {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new PurediffError('ValueError', 'sizes must list at least an input and an output size', { op: 'mlp' })
  }
  sizes.forEach((n, i) => checkSize(n, `sizes[${i}]`, 'mlp'))
  const activation = opts.activation ?? relu
  const init = opts.init ?? (activation === relu ? heUniform : glorotUniform)
  const layerOpts: DenseInitOptions = {
    init,
    ...(opts.biasInit !== undefined ? { biasInit: opts.biasInit } : {}),
    ...(opts.dtype !== undefined ? { dtype: opts.dtype } : {}),
  }
  const nLayers = sizes.length - 1
  const frozenSizes = Object.freeze([...sizes])
  return Object.freeze({
    sizes: frozenSizes,
    init: (key: Key): MlpParams => {
      const keys = split(key, nLayers)
      const layers = keys.map((k, i) => denseInit(k, sizes[i] as number, sizes[i + 1] as number, layerOpts))
      return Object.freeze({ layers: Object.freeze(layers) })
    },
    apply: (params: MlpParams, x: Tensor): Tensor => {
      if (
        params === null ||
        typeof params !== 'object' ||
        !Array.isArray(params.layers) ||
        params.layers.length !== nLayers
      ) {
        throw new PurediffError('ValueError', `params must be { layers } with ${nLayers} dense layers`, {
          op: 'mlp.apply',
        })
      }
      let h = x
      params.layers.forEach((p, i) => {
        try {
          h = dense(p, h)
        } catch (e) {
          // Name the layer's parameter: layers[1].w, not just w.
          throw e instanceof PurediffError ? atPath(e, `layers[${i}]`, 'mlp.apply') : e
        }
        if (i < nLayers - 1) h = activation(h)
      })
      return h
    },
  })
}

// -------------------------------------------------------------------------------------
// conv2d
// -------------------------------------------------------------------------------------

const pairOf = (s: number | readonly [number, number]): readonly [number, number] =>
  typeof s === 'number' ? [s, s] : s

/** Padding [before, after] of one spatial axis and its output extent. */
const padAxis = (n: number, k: number, s: number, padding: Padding, axis: 0 | 1): [number, number, number] => {
  if (padding === 'VALID') return [0, 0, Math.floor((n - k) / s) + 1]
  if (padding === 'SAME') {
    const out = Math.ceil(n / s)
    const total = Math.max((out - 1) * s + k - n, 0)
    return [Math.floor(total / 2), total - Math.floor(total / 2), out]
  }
  const [lo, hi] = padding[axis]
  return [lo, hi, Math.floor((n + lo + hi - k) / s) + 1]
}

/**
 * A 2-D convolution (cross-correlation) of x [batch, height, width, in] with a kernel
 * w [kh, kw, in, out], plus a bias b [out].
 * @example
 * conv2d({ w: ones([3, 3, 1, 4]), b: zeros([4]) }, ones([2, 8, 8, 1]), { stride: 1, padding: 'SAME' }).shape // [2, 8, 8, 4]
 * @category layers
 * @since 0.1.0
 */
export const conv2d = (p: Conv2dParams, x: Tensor, opts: Conv2dOptions = {}): Tensor => {
  const op = 'conv2d'
  for (const k of Object.keys(opts)) {
    if (!(CONV2D_OPTIONS as ReadonlyArray<string>).includes(k)) {
      throw new PurediffError('ValueError', `unknown option '${k}'; valid options: ${CONV2D_OPTIONS.join(', ')}`, {
        op,
      })
    }
  }
  const w = checkTensor(p.w, 'p.w', op)
  const b = checkTensor(p.b, 'p.b', op)
  const xt = checkTensor(x, 'x', op)
  const groups = opts.groups ?? 1
  if (!Number.isInteger(groups) || groups < 1)
    throw new PurediffError('ValueError', `groups must be a positive integer, got ${String(groups)}`, { op })
  if (
    xt.rank !== 4 ||
    w.rank !== 4 ||
    b.rank !== 1 ||
    xt.shape[3] !== (w.shape[2] as number) * groups ||
    b.shape[0] !== w.shape[3]
  ) {
    const path = xt.rank === 4 && w.rank === 4 && xt.shape[3] === (w.shape[2] as number) * groups ? 'b' : 'w'
    throw new PurediffError(
      'ShapeError',
      `expected x [batch, height, width, in], w [kh, kw, in/groups, out] and b [out] (groups = ${groups})`,
      {
        op,
        shapes: [xt.shape, w.shape, b.shape],
        path,
      },
    )
  }
  if ((w.shape[3] as number) % groups !== 0) {
    throw new PurediffError('ShapeError', `out = ${w.shape[3]} is not divisible by groups = ${groups}`, {
      op,
      shapes: [w.shape],
    })
  }
  const [sh, sw] = pairOf(opts.stride ?? 1)
  const [dh, dw] = pairOf(opts.dilation ?? 1)
  const padding = opts.padding ?? 'VALID'
  if (typeof padding === 'string' && padding !== 'VALID' && padding !== 'SAME') {
    throw new PurediffError(
      'ValueError',
      `unknown padding '${padding}'; valid paddings: 'VALID', 'SAME' or [[top, bottom], [left, right]]`,
      { op },
    )
  }
  if (![sh, sw].every((s) => Number.isInteger(s) && s >= 1)) {
    throw new PurediffError('ValueError', `strides must be positive integers, got [${sh}, ${sw}]`, { op })
  }
  if (![dh, dw].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new PurediffError('ValueError', `dilations must be positive integers, got [${dh}, ${dw}]`, { op })
  }
  const [n, h, wd] = xt.shape as [number, number, number, number]
  const [kh, kw, cg, cout] = w.shape as [number, number, number, number]
  // a dilated kernel spans (k − 1)·d + 1 entries
  const [top, bottom, ho] = padAxis(h, (kh - 1) * dh + 1, sh, padding, 0)
  const [left, right, wo] = padAxis(wd, (kw - 1) * dw + 1, sw, padding, 1)
  if ([top, bottom, left, right].some((v) => !Number.isInteger(v) || v < 0) || ho < 1 || wo < 1) {
    throw new PurediffError('ShapeError', 'the kernel does not fit the (padded) input', {
      op,
      shapes: [xt.shape, w.shape],
    })
  }
  const params: ConvParams = {
    stride: [sh, sw],
    padding: [
      [top, bottom],
      [left, right],
    ],
    dilation: [dh, dw],
    lhsDilation: [1, 1],
  }
  // one conv2d primitive (an im2col copy feeding the matrix product); its reverse rules are
  // transposed convolutions
  const dt = resultDType([xt, w])
  const [xc, wc] = [liftTo(xt, dt), liftTo(w, dt)]
  if (groups === 1) return add(bind(convPrimitive, [xc, wc], params), b)
  // group g sees input channels [g·cg, (g+1)·cg) and writes outputs [g·og, (g+1)·og)
  const og = cout / groups
  const outs: Tensor[] = []
  for (let g = 0; g < groups; g++) {
    const xg = slice(xc, [0, 0, 0, g * cg], [n, h, wd, cg])
    const wg = slice(wc, [0, 0, 0, g * og], [kh, kw, cg, og])
    outs.push(bind(convPrimitive, [xg, wg], params))
  }
  return add(concat(outs, 3), b)
}

/**
 * Parameters of a conv2d layer: kernel [kh, kw, nIn, nOut] (default `heUniform`, whose fans
 * count the receptive field) and a zero bias.
 * @example
 * const p = conv2dInit(key(0), [3, 3], 2, 4)
 * p.w.shape // [3, 3, 2, 4]
 * p.b // [0, 0, 0, 0]
 * @category layers
 * @since 0.1.0
 */
export const conv2dInit = (
  key: Key,
  kernel: readonly [number, number],
  nIn: number,
  nOut: number,
  opts: DenseInitOptions & { readonly groups?: number } = {},
): Conv2dParams => {
  const op = 'conv2dInit'
  checkSize(kernel[0], 'kernel[0]', op)
  checkSize(kernel[1], 'kernel[1]', op)
  checkSize(nIn, 'nIn', op)
  checkSize(nOut, 'nOut', op)
  // with groups (since 0.2.0) the kernel is [kh, kw, nIn/groups, nOut]
  const g = checkSize(opts.groups ?? 1, 'groups', op)
  if (nIn % g !== 0 || nOut % g !== 0)
    throw new PurediffError('ValueError', `groups ${g} must divide nIn ${nIn} and nOut ${nOut}`, { op })
  const [kw, kb] = split(key)
  const dtype = opts.dtype ?? 'float64'
  const w = (opts.init ?? heUniform)(kw, [kernel[0], kernel[1], nIn / g, nOut], dtype)
  const b = (opts.biasInit ?? zeros)(kb, [nOut], dtype)
  return Object.freeze({ w, b })
}

/**
 * Parameters of a conv1d layer: kernel [k, nIn/groups, nOut] (default `heUniform`) and a zero bias.
 * @example
 * conv1dInit(random.key(0), 3, 4, 8).w.shape // [3, 4, 8]
 * @category layers
 * @since 0.2.0
 */
export const conv1dInit = (
  key: Key,
  kernel: number,
  nIn: number,
  nOut: number,
  opts: DenseInitOptions & { readonly groups?: number } = {},
): Conv2dParams => {
  const op = 'conv1dInit'
  checkSize(kernel, 'kernel', op)
  checkSize(nIn, 'nIn', op)
  checkSize(nOut, 'nOut', op)
  const g = checkSize(opts.groups ?? 1, 'groups', op)
  if (nIn % g !== 0 || nOut % g !== 0)
    throw new PurediffError('ValueError', `groups ${g} must divide nIn ${nIn} and nOut ${nOut}`, { op })
  const [kw, kb] = split(key)
  const dtype = opts.dtype ?? 'float64'
  return Object.freeze({
    w: (opts.init ?? heUniform)(kw, [kernel, nIn / g, nOut], dtype),
    b: (opts.biasInit ?? zeros)(kb, [nOut], dtype),
  })
}

// -------------------------------------------------------------------------------------
// dropout
// -------------------------------------------------------------------------------------

/**
 * Inverted dropout: while training, each entry is zeroed with probability `rate` and the
 * others are divided by 1 − rate, so the expectation is unchanged; otherwise (or with rate
 * 0) the identity. The mask comes only from `key`.
 * @example
 * dropout(foldIn(key(0), step), 0.5, h, true)
 * // each entry is 0 or 1 / (1 − 0.5) = 2
 * dropout(foldIn(key(0), step), 0.5, h, true).toArray().flat().every((v) => v === 0 || v === 2) // true
 * // not training: the identity
 * dropout(foldIn(key(0), step), 0.5, h, false) // [[1, 1, 1], [1, 1, 1]]
 * @category layers
 * @since 0.1.0
 */
export const dropout = (key: Key, rate: number, x: TensorLike, training: boolean): Tensor => {
  const op = 'dropout'
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new PurediffError('ValueError', `rate must be in [0, 1], got ${String(rate)}`, { op })
  }
  const xt = asTensor(x, op)
  if (!training || rate === 0) return xt
  if (rate === 1) return mul(xt, 0)
  const keep: ConcreteTensor = bernoulli(key, 1 - rate, xt.shape, { dtype: xt.dtype })
  // dropped entries are exactly 0 (even where x is ±inf), and carry no gradient
  return where(keep, div(xt, 1 - rate), 0)
}
