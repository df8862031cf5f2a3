/**
 * Normalization layers, features on the last axis (channels-last):
 *
 *   layerNorm   y = (x − μ)/√(σ² + ε) · γ + β,  μ, σ² over the last axis        (Ba et al. 2016)
 *   rmsNorm     y = x/√(mean(x²) + ε) · γ,      over the last axis               (Zhang & Sennrich 2019)
 *   groupNorm   μ, σ² over every axis but the batch within each of G channel groups (Wu & He 2018)
 *   batchNorm   μ, σ² over every axis but the last, in training; in evaluation the running
 *               averages m ← βm + (1 − β)μ, v ← βv + (1 − β)σ² kept in explicit state  (Ioffe & Szegedy 2015)
 *
 * σ² is the biased (population) variance, as in flax. `batchNorm` is stateful: its `apply`
 * takes the state and returns `[y, state′]`; the running statistics carry no gradient.
 *
 * Purity: layers compose ops; the state is a frozen record returned anew by every apply.
 */
import { PurediffError } from '../errors.js'
import { add, div, mean, mul, reshape, sqrt, square, stopGradient, sub } from '../ops/ops.js'
import type { Key } from '../random/index.js'
import { Tensor, full } from '../tensor/Tensor.js'
import type { DType } from '../tensor/Tensor.js'
import type { Layer } from './Layer.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Scale γ and offset β of a normalization layer. @category model @since 0.2.0 */
export type NormParams = { readonly scale: Tensor; readonly bias: Tensor }
/** Scale γ of an RMS normalization. @category model @since 0.2.0 */
export type RmsNormParams = { readonly scale: Tensor }
/** The running statistics of a batch normalization. @category model @since 0.2.0 */
export type BatchNormState = { readonly mean: Tensor; readonly var: Tensor }

/** Options of the normalization layers. @category model @since 0.2.0 */
export interface NormOptions {
  /** Added to the variance (default 1e-5; 1e-6 for rmsNorm). */
  readonly eps?: number
  readonly dtype?: DType
}

/** A batch normalization layer: stateful, with training and evaluation modes. @category model @since 0.2.0 */
export interface BatchNorm {
  readonly init: (key: Key) => NormParams
  readonly initState: () => BatchNormState
  /** `[y, state′]`: batch statistics (and updated running ones) in training, running ones otherwise. */
  readonly apply: (
    params: NormParams,
    state: BatchNormState,
    x: Tensor,
    opts: { readonly training: boolean },
  ) => readonly [Tensor, BatchNormState]
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkFeatures = (x: Tensor, features: number, op: string): void => {
  if (!(x instanceof Tensor) || x.rank < 1 || x.shape[x.rank - 1] !== features) {
    throw new PurediffError('ShapeError', `expected an input whose last axis has ${features} features`, {
      op,
      shapes: [x instanceof Tensor ? x.shape : []],
    })
  }
}

const checkPositive = (n: unknown, name: string, op: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw new PurediffError('ValueError', `${name} must be a positive integer, got ${String(n)}`, { op })
  return n
}

const epsOf = (eps: unknown, fallback: number, op: string): number => {
  const e = eps ?? fallback
  if (typeof e !== 'number' || !(e >= 0) || !Number.isFinite(e))
    throw new PurediffError('ValueError', `eps must be a finite number ≥ 0, got ${String(e)}`, { op })
  return e
}

/** 1/√x. */
const rsqrtLike = (x: Tensor): Tensor => div(1, sqrt(x))

const normParams = (features: number, dtype: DType): NormParams =>
  Object.freeze({ scale: full([features], 1, dtype), bias: full([features], 0, dtype) })

/** (x − μ)/√(σ² + ε) over `axes`, μ and σ² with kept dims. */
const standardize = (x: Tensor, axes: number[], eps: number): Tensor => {
  const mu = mean(x, axes, true)
  const xc = sub(x, mu)
  const v = mean(square(xc), axes, true)
  return mul(xc, rsqrtLike(add(v, eps)))
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Layer normalization over the last axis, with a learned scale (ones) and offset (zeros).
 * @example
 * const ln = layerNorm(2)
 * ln.apply(ln.init(random.key(0)), tensor([[1, 3]]), {}) // ≈ [[-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)]]
 * @category layers
 * @since 0.2.0
 */
export const layerNorm = (features: number, opts: NormOptions = {}): Layer<NormParams> => {
  const op = 'layerNorm'
  checkPositive(features, 'features', op)
  const eps = epsOf(opts.eps, 1e-5, op)
  return Object.freeze({
    init: () => normParams(features, opts.dtype ?? 'float64'),
    apply: (p: NormParams, x: Tensor) => {
      checkFeatures(x, features, op)
      return add(mul(standardize(x, [x.rank - 1], eps), p.scale), p.bias)
    },
  })
}

/**
 * RMS normalization over the last axis: x/√(mean(x²) + ε) · γ (no centering, no offset).
 * @example
 * const rn = rmsNorm(2, { eps: 0 })
 * rn.apply(rn.init(random.key(0)), tensor([[3, 4]]), {}) // ≈ [[3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]]
 * @category layers
 * @since 0.2.0
 */
export const rmsNorm = (features: number, opts: NormOptions = {}): Layer<RmsNormParams> => {
  const op = 'rmsNorm'
  checkPositive(features, 'features', op)
  const eps = epsOf(opts.eps, 1e-6, op)
  return Object.freeze({
    init: () => Object.freeze({ scale: full([features], 1, opts.dtype ?? 'float64') }),
    apply: (p: RmsNormParams, x: Tensor) => {
      checkFeatures(x, features, op)
      return mul(mul(x, rsqrtLike(add(mean(square(x), -1, true), eps))), p.scale)
    },
  })
}

/**
 * Group normalization of x [batch, ..., channels]: statistics per example over the spatial
 * axes and the channels of each of `groups` groups.
 * @example
 * const gn = groupNorm(2, 4)
 * gn.apply(gn.init(random.key(0)), tensor([[1, 3, 10, 20]]), {}).shape // [1, 4]
 * @category layers
 * @since 0.2.0
 */
export const groupNorm = (groups: number, channels: number, opts: NormOptions = {}): Layer<NormParams> => {
  const op = 'groupNorm'
  checkPositive(groups, 'groups', op)
  checkPositive(channels, 'channels', op)
  if (channels % groups !== 0)
    throw new PurediffError('ValueError', `groups (${groups}) must divide channels (${channels})`, { op })
  const eps = epsOf(opts.eps, 1e-5, op)
  return Object.freeze({
    init: () => normParams(channels, opts.dtype ?? 'float64'),
    apply: (p: NormParams, x: Tensor) => {
      checkFeatures(x, channels, op)
      if (x.rank < 2)
        throw new PurediffError('ShapeError', 'expected x [batch, ..., channels]', { op, shapes: [x.shape] })
      const grouped = reshape(x, [...x.shape.slice(0, -1), groups, channels / groups])
      // every axis but the batch (0) and the group (rank − 2)
      const axes = Array.from({ length: grouped.rank }, (_, i) => i).filter((i) => i !== 0 && i !== grouped.rank - 2)
      const y = reshape(standardize(grouped, axes, eps), x.shape)
      return add(mul(y, p.scale), p.bias)
    },
  })
}

/**
 * Batch normalization over every axis but the last, with running statistics as explicit state.
 * @example
 * const bn = batchNorm(1)
 * const [y, s] = bn.apply(bn.init(random.key(0)), bn.initState(), tensor([[1], [3]]), { training: true })
 * s.mean // ≈ [0.02]
 * @category layers
 * @since 0.2.0
 */
export const batchNorm = (features: number, opts: NormOptions & { readonly momentum?: number } = {}): BatchNorm => {
  const op = 'batchNorm'
  checkPositive(features, 'features', op)
  const eps = epsOf(opts.eps, 1e-5, op)
  const momentum = opts.momentum ?? 0.99
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))
    throw new PurediffError('ValueError', `momentum must be in [0, 1], got ${String(momentum)}`, { op })
  const dtype = opts.dtype ?? 'float64'
  return Object.freeze({
    init: () => normParams(features, dtype),
    initState: () => Object.freeze({ mean: full([features], 0, dtype), var: full([features], 1, dtype) }),
    apply: (p: NormParams, state: BatchNormState, x: Tensor, o: { readonly training: boolean }) => {
      checkFeatures(x, features, op)
      if (o === undefined || typeof o.training !== 'boolean')
        throw new PurediffError('ValueError', 'say the mode: apply(params, state, x, { training: true | false })', {
          op,
        })
      if (!o.training) {
        const y = mul(div(sub(x, state.mean), sqrt(add(state.var, eps))), p.scale)
        return Object.freeze([add(y, p.bias), state] as const)
      }
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i)
      if (axes.length === 0)
        throw new PurediffError('ShapeError', 'training needs a batch axis: x [batch, ..., features]', {
          op,
          shapes: [x.shape],
        })
      const mu = mean(x, axes)
      const v = mean(square(sub(x, mu)), axes)
      const y = add(mul(mul(sub(x, mu), rsqrtLike(add(v, eps))), p.scale), p.bias)
      // the running averages are statistics, not part of the computation being differentiated
      const next = Object.freeze({
        mean: stopGradient(add(mul(momentum, state.mean), mul(1 - momentum, mu))),
        var: stopGradient(add(mul(momentum, state.var), mul(1 - momentum, v))),
      })
      return Object.freeze([y, next] as const)
    },
  })
}
