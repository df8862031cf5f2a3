/**
 * Pooling and 1-D convolution, as compositions of ops (so differentiable to any order):
 *
 *   maxPool2d(x)[n, i, j, c] = max_{di < kh, dj < kw} x̃[n, i·sh + di, j·sw + dj, c]
 *   avgPool2d(x)[n, i, j, c] = (1 / (kh·kw)) Σ_{di, dj} x̃[n, i·sh + di, j·sw + dj, c]
 *   maxPool1d / avgPool1d: the same on [batch, width, channels]
 *   conv1d(x)[n, i, o] = Σ_{dk, c} x̃[n, i·s + dk·d, c] · w[dk, c, o] + b[o]  (conv2d of height 1)
 *
 * Max pooling with non-overlapping windows and no padding (the default) runs the pooling
 * primitive `poolSelect(x, x)` (src/primitives/pool.ts), one pass over x each way; other
 * windows stack strided views and reduce.
 *
 * Layouts follow `conv2d`: channels last (NWC, NHWC), kernels [k, in, out]. The stride
 * defaults to the window (non-overlapping windows, as PyTorch and Keras).
 * NOTE padding: max pooling pads with −∞ (a padded entry never wins); average pooling pads
 * with zeros and divides by the full window kh·kw (PyTorch's `count_include_pad = True`). Ties
 * in a max window share the derivative equally (the `max` reduction's convention).
 *
 * Purity: only ops are composed; no state.
 */
import { PurediffError } from '../errors.js'
import { add, asTensor, gather, max, mean, pad, reshape, slice, stack } from '../ops/ops.js'
import { bind } from '../ad/trace.js'
import { poolSelect } from '../primitives/pool.js'
import type { TensorLike } from '../ops/ops.js'
import { fromData } from '../tensor/Tensor.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { Conv2dParams, Padding } from './layers.js'
import { conv2d } from './layers.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of the 2-d pooling ops. @category model @since 0.2.0 */
export interface Pool2dOptions {
  /** default: the window */
  readonly stride?: number | readonly [number, number]
  /** 'VALID' (default), 'SAME' or [[top, bottom], [left, right]] */
  readonly padding?: Padding
}

/** Padding of a 1-d op: 'VALID', 'SAME' or [before, after]. @category model @since 0.2.0 */
export type Padding1d = 'VALID' | 'SAME' | readonly [number, number]

/** Options of the 1-d pooling ops. @category model @since 0.2.0 */
export interface Pool1dOptions {
  /** default: the window */
  readonly stride?: number
  readonly padding?: Padding1d
}

/** Options of `conv1d`. @category model @since 0.2.0 */
export interface Conv1dOptions {
  readonly stride?: number
  readonly padding?: Padding1d
  readonly dilation?: number
  readonly groups?: number
}

/** The parameters of a 1-D convolution: kernel [k, in, out] and bias [out]. @category model @since 0.2.0 */
export type Conv1dParams = { readonly w: Tensor; readonly b: Tensor }

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkKeys = (o: object, valid: ReadonlyArray<string>, op: string): void => {
  for (const k of Object.keys(o)) {
    if (!valid.includes(k))
      throw new PurediffError('ValueError', `unknown option '${k}'; valid options: ${valid.join(', ')}`, { op })
  }
}

const positive = (v: unknown, what: string, op: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new PurediffError('ValueError', `${what} must be a positive integer, got ${String(v)}`, { op })
  return v
}

/** [before, after, out] of one axis (as conv2d's). */
const padOf = (
  n: number,
  k: number,
  s: number,
  padding: 'VALID' | 'SAME' | readonly [number, number],
  op: string,
): [number, number, number] => {
  if (padding === 'VALID') return [0, 0, Math.floor((n - k) / s) + 1]
  if (padding === 'SAME') {
    const out = Math.ceil(n / s)
    const total = Math.max((out - 1) * s + k - n, 0)
    return [Math.floor(total / 2), total - Math.floor(total / 2), out]
  }
  if (typeof padding === 'string') {
    throw new PurediffError(
      'ValueError',
      `unknown padding '${String(padding)}'; valid paddings: 'VALID', 'SAME' or explicit [before, after] pairs`,
      { op },
    )
  }
  const [lo, hi] = padding
  if (![lo, hi].every((v) => Number.isInteger(v) && v >= 0))
    throw new PurediffError('ValueError', `padding [${lo}, ${hi}] must be non-negative integers`, { op })
  return [lo, hi, Math.floor((n + lo + hi - k) / s) + 1]
}

/**
 * Pool x [batch, ...spatial, channels] over windows `ks` with strides `ss` and paddings; the
 * windows' entries are stacked on a new last axis and reduced.
 */
const pool = (
  x: Tensor,
  ks: ReadonlyArray<number>,
  ss: ReadonlyArray<number>,
  pads: ReadonlyArray<'VALID' | 'SAME' | readonly [number, number]>,
  kind: 'max' | 'avg',
  op: string,
): Tensor => {
  const spatial = x.shape.slice(1, -1)
  const plans = spatial.map((n, i) => padOf(n, ks[i] as number, ss[i] as number, pads[i] as 'VALID', op))
  if (plans.some(([, , out]) => out < 1))
    throw new PurediffError('ShapeError', 'the window does not fit the (padded) input', { op, shapes: [x.shape] })
  const widths = [[0, 0], ...plans.map(([lo, hi]) => [lo, hi]), [0, 0]] as Array<[number, number]>
  let xp = widths.some(([lo, hi]) => lo + hi > 0) ? pad(x, widths) : x
  if (kind === 'max' && xp !== x) {
    // −∞ where padded, 0 inside: a padded entry never wins the max
    const shape = xp.shape
    const fill = new Float64Array(xp.size)
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1))
    for (let q = 0; q < fill.length; q++) {
      for (let ax = 1; ax < shape.length - 1; ax++) {
        const i = Math.floor(q / (strides[ax] as number)) % (shape[ax] as number)
        const [lo] = widths[ax] as [number, number]
        if (i < lo || i >= lo + (x.shape[ax] as number)) fill[q] = -Infinity
      }
    }
    xp = add(xp, fromData(fill, shape, x.dtype))
  }
  // every window offset, as a strided view [batch, ...out, channels]
  const views: Tensor[] = []
  const offsets = (ax: number, acc: Tensor): void => {
    if (ax === spatial.length) {
      views.push(acc)
      return
    }
    const out = (plans[ax] as [number, number, number])[2]
    for (let d = 0; d < (ks[ax] as number); d++) {
      offsets(
        ax + 1,
        gather(
          acc,
          Array.from({ length: out }, (_, i) => d + i * (ss[ax] as number)),
          ax + 1,
        ),
      )
    }
  }
  offsets(0, xp)
  const windows = stack(views, -1)
  return kind === 'max' ? max(windows, -1) : mean(windows, -1)
}

const pool2d =
  (kind: 'max' | 'avg', op: string) =>
  (x: TensorLike, window: number | readonly [number, number], options: Pool2dOptions = {}): Tensor => {
    checkKeys(options, ['stride', 'padding'], op)
    const t = asTensor(x, op)
    if (t.rank !== 4)
      throw new PurediffError('ShapeError', 'expected x [batch, height, width, channels]', { op, shapes: [t.shape] })
    const ks = (typeof window === 'number' ? [window, window] : [...window]).map((k) => positive(k, 'the window', op))
    const s0 = options.stride ?? (ks as [number, number])
    const ss = (typeof s0 === 'number' ? [s0, s0] : [...s0]).map((s) => positive(s, 'the stride', op))
    const p = options.padding ?? 'VALID'
    const pads = typeof p === 'string' ? [p, p] : [p[0], p[1]]
    const [kh, kw] = ks as [number, number]
    if (kind === 'max' && p === 'VALID' && ss[0] === kh && ss[1] === kw) {
      // non-overlapping windows: one pass of the pooling primitive (max = poolSelect(x, x)),
      // after dropping the rows and columns no window covers
      const [n, h, w, c] = t.shape as [number, number, number, number]
      const [ho, wo] = [Math.floor(h / kh), Math.floor(w / kw)]
      if (ho < 1 || wo < 1)
        throw new PurediffError('ShapeError', 'the window does not fit the (padded) input', { op, shapes: [t.shape] })
      const xc = ho * kh === h && wo * kw === w ? t : slice(t, [0, 0, 0, 0], [n, ho * kh, wo * kw, c])
      return bind(poolSelect, [xc, xc], { window: [kh, kw] })
    }
    return pool(t, ks, ss, pads as Array<'VALID'>, kind, op)
  }

const pool1d =
  (kind: 'max' | 'avg', op: string) =>
  (x: TensorLike, window: number, options: Pool1dOptions = {}): Tensor => {
    checkKeys(options, ['stride', 'padding'], op)
    const t = asTensor(x, op)
    if (t.rank !== 3)
      throw new PurediffError('ShapeError', 'expected x [batch, width, channels]', { op, shapes: [t.shape] })
    const k = positive(window, 'the window', op)
    const s = positive(options.stride ?? k, 'the stride', op)
    return pool(t, [k], [s], [options.padding ?? 'VALID'], kind, op)
  }

// -------------------------------------------------------------------------------------
// layers
// -------------------------------------------------------------------------------------

/**
 * Max pooling over windows of x [batch, height, width, channels].
 * @example
 * maxPool2d(reshape(arange(16), [1, 4, 4, 1]), 2) // ≈ [[[[5], [7]], [[13], [15]]]]
 * @category layers
 * @since 0.2.0
 */
export const maxPool2d = pool2d('max', 'maxPool2d')

/**
 * Average pooling over windows of x [batch, height, width, channels].
 * @example
 * avgPool2d(reshape(arange(16), [1, 4, 4, 1]), 2) // ≈ [[[[2.5], [4.5]], [[10.5], [12.5]]]]
 * @category layers
 * @since 0.2.0
 */
export const avgPool2d = pool2d('avg', 'avgPool2d')

/**
 * Max pooling over windows of x [batch, width, channels].
 * @example
 * maxPool1d(reshape(tensor([1, 3, 2, 5, 4]), [1, 5, 1]), 2, { stride: 1 }) // ≈ [[[3], [3], [5], [5]]]
 * @category layers
 * @since 0.2.0
 */
export const maxPool1d = pool1d('max', 'maxPool1d')

/**
 * Average pooling over windows of x [batch, width, channels].
 * @example
 * avgPool1d(reshape(tensor([1, 3, 2, 6]), [1, 4, 1]), 2) // ≈ [[[2], [4]]]
 * @category layers
 * @since 0.2.0
 */
export const avgPool1d = pool1d('avg', 'avgPool1d')

/**
 * A 1-D convolution (cross-correlation) of x [batch, width, in] with w [k, in/groups, out]
 * plus b [out]: `conv2d` on a height-1 image.
 * @example
 * conv1d({ w: reshape(tensor([1, -1]), [2, 1, 1]), b: tensor([0]) }, reshape(tensor([1, 4, 9]), [1, 3, 1])) // ≈ [[[-3], [-5]]]
 * @category layers
 * @since 0.2.0
 */
export const conv1d = (p: Conv1dParams, x: TensorLike, options: Conv1dOptions = {}): Tensor => {
  const op = 'conv1d'
  checkKeys(options, ['stride', 'padding', 'dilation', 'groups'], op)
  const t = asTensor(x, op)
  if (t.rank !== 3 || p.w.rank !== 3)
    throw new PurediffError('ShapeError', 'expected x [batch, width, in] and w [k, in/groups, out]', {
      op,
      shapes: [t.shape, p.w.shape],
    })
  const padding = options.padding ?? 'VALID'
  if (typeof padding === 'string' && padding !== 'VALID' && padding !== 'SAME') {
    throw new PurediffError(
      'ValueError',
      `unknown padding '${padding}'; valid paddings: 'VALID', 'SAME' or [before, after]`,
      { op },
    )
  }
  const x4 = reshape(t, [t.shape[0] as number, 1, t.shape[1] as number, t.shape[2] as number])
  const w4 = reshape(p.w, [1, ...p.w.shape])
  const y = conv2d({ w: w4, b: p.b } as Conv2dParams, x4, {
    stride: [1, options.stride ?? 1],
    dilation: [1, options.dilation ?? 1],
    groups: options.groups ?? 1,
    padding: typeof padding === 'string' ? padding : [[0, 0], padding],
  })
  return reshape(y, [y.shape[0] as number, y.shape[2] as number, y.shape[3] as number])
}
