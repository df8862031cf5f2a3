/**
 * Initializers for parameter schemas: pure functions `(key, shape, dtype) => tensor`.
 *
 * Fans follow the JAX/Keras convention for a weight laid out `[in, out]` (inputs on the
 * second-to-last axis, outputs on the last, any leading axes a receptive field):
 *   rank 0: fanIn = fanOut = 1;  rank 1: fanIn = fanOut = shape[0];
 *   rank 2: fanIn = shape[0], fanOut = shape[1];
 *   rank r ≥ 3: with R = shape[0] · ... · shape[r-3], fanIn = R · shape[r-2], fanOut = R · shape[r-1].
 * The variance-scaling family draws with variance `scale / n`, where n is fanIn (He),
 * or (fanIn + fanOut) / 2 (Glorot):
 *   glorotUniform: U(-L, L), L = √(6 / (fanIn + fanOut))            (Glorot & Bengio 2010)
 *   glorotNormal:  truncated normal on ±2σ with variance 2 / (fanIn + fanOut)
 *   heUniform:     U(-L, L), L = √(6 / fanIn)                        (He et al. 2015)
 *   heNormal:      truncated normal on ±2σ with variance 2 / fanIn
 * The normal variants are JAX's (`jax.nn.initializers.glorot_normal`, `he_normal`): a normal
 * truncated at two standard deviations, with σ divided by 0.87962566103423978 (the standard
 * deviation of a unit normal truncated to [-2, 2]) so the variance is exactly `scale / n`.
 *
 * Purity: every initializer is a function of its key; the same key gives the same tensor.
 */
import { PurediffError } from '../errors.js'
import { full, sizeOf, zeros } from '../tensor/Tensor.js'
import type { ConcreteTensor, DType, Shape } from '../tensor/Tensor.js'
import { normal, truncatedNormal, uniform } from '../random/index.js'
import type { Key } from '../random/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An initializer: a tensor of a shape and dtype from a PRNG key.
 * @category model
 * @since 0.1.0
 */
export type Initializer = (key: Key, shape: Shape, dtype: DType) => ConcreteTensor

/**
 * Initializers that take no parameters, by name.
 * @category model
 * @since 0.1.0
 */
export type InitName = 'zeros' | 'ones' | 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal'

/**
 * What a schema accepts as `init`: a name or an initializer.
 * @category model
 * @since 0.1.0
 */
export type Init = InitName | Initializer

/** Standard deviation of a unit normal truncated to [-2, 2] (JAX's constant). */
const TRUNCATED_STD = 0.87962566103423978

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * `[fanIn, fanOut]` of a weight shape (see the module header).
 * @example
 * fans([784, 128]) // [784, 128]
 * fans([3, 3, 16, 32]) // [144, 288]
 * @category utils
 * @since 0.1.0
 */
export const fans = (shape: Shape): readonly [number, number] => {
  const r = shape.length
  if (r === 0) return [1, 1]
  if (r === 1) return [shape[0] as number, shape[0] as number]
  const receptive = sizeOf(shape.slice(0, r - 2))
  return [receptive * (shape[r - 2] as number), receptive * (shape[r - 1] as number)]
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** All zeros (the key is not used). @category constructors @since 0.1.0 */
export const zerosInit: Initializer = (_key, shape, dtype) => zeros(shape, dtype)

/** All ones (the key is not used). @category constructors @since 0.1.0 */
export const onesInit: Initializer = (_key, shape, dtype) => full(shape, 1, dtype)

/**
 * Every entry `value` (the key is not used).
 * @example
 * schema.tensor([10], { init: constant(0.1) })
 * @category constructors
 * @since 0.1.0
 */
export const constant =
  (value: number): Initializer =>
  (_key, shape, dtype) =>
    full(shape, value, dtype)

/**
 * Uniform on [min, max).
 * @category constructors
 * @since 0.1.0
 */
export const uniformInit =
  (min: number, max: number): Initializer =>
  (key, shape, dtype) =>
    uniform(key, shape, { minval: min, maxval: max, dtype })

/**
 * Normal with standard deviation `std` and mean `mean` (default 0), not truncated.
 * @category constructors
 * @since 0.1.0
 */
export const normalInit =
  (std: number, mean = 0): Initializer =>
  (key, shape, dtype) =>
    normal(key, shape, { mean, std, dtype })

const varianceScaling =
  (scale: number, mode: 'fanIn' | 'fanAvg', distribution: 'uniform' | 'truncatedNormal', name: string): Initializer =>
  (key, shape, dtype) => {
    // Nothing to draw: avoid dividing by a zero fan.
    if (sizeOf(shape) === 0) return zeros(shape, dtype)
    const [fanIn, fanOut] = fans(shape)
    const n = mode === 'fanIn' ? fanIn : (fanIn + fanOut) / 2
    if (!(n > 0)) throw new PurediffError('ValueError', `fan is ${n}`, { op: name, shapes: [shape] })
    const variance = scale / n
    if (distribution === 'uniform') {
      // U(-L, L) has variance L²/3.
      const limit = Math.sqrt(3 * variance)
      return uniform(key, shape, { minval: -limit, maxval: limit, dtype })
    }
    return truncatedNormal(key, shape, -2, 2, { std: Math.sqrt(variance) / TRUNCATED_STD, dtype })
  }

/** Glorot (Xavier) uniform: U(-L, L), L = √(6 / (fanIn + fanOut)). @category constructors @since 0.1.0 */
export const glorotUniform: Initializer = varianceScaling(1, 'fanAvg', 'uniform', 'glorotUniform')
/** Glorot (Xavier) normal, truncated at ±2σ, variance 2 / (fanIn + fanOut). @category constructors @since 0.1.0 */
export const glorotNormal: Initializer = varianceScaling(1, 'fanAvg', 'truncatedNormal', 'glorotNormal')
/** He (Kaiming) uniform: U(-L, L), L = √(6 / fanIn). @category constructors @since 0.1.0 */
export const heUniform: Initializer = varianceScaling(2, 'fanIn', 'uniform', 'heUniform')
/** He (Kaiming) normal, truncated at ±2σ, variance 2 / fanIn. @category constructors @since 0.1.0 */
export const heNormal: Initializer = varianceScaling(2, 'fanIn', 'truncatedNormal', 'heNormal')

const NAMED: Readonly<Record<InitName, Initializer>> = Object.freeze({
  zeros: zerosInit,
  ones: onesInit,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
})

/**
 * The initializer an `init` option stands for.
 * @category utils
 * @since 0.1.0
 */
export const initializer = (init: Init): Initializer => {
  if (typeof init === 'function') return init
  const f = (NAMED as Readonly<Record<string, Initializer>>)[init]
  if (f === undefined || !Object.prototype.hasOwnProperty.call(NAMED, init)) {
    throw new PurediffError('ValueError', `unknown initializer ${JSON.stringify(init)}; expected one of ${Object.keys(NAMED).join(', ')} or a function`, {
      op: 'schema.tensor',
    })
  }
  return f
}
