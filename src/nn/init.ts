/**
 * Initializers: pure functions `(key, shape, dtype?) => tensor` giving the first weights
 * of a model (step 1 of the seven). The same key always gives the same tensor.
 *
 * Fans. A dense weight is laid out `[in, out]` (so `x · w` maps inputs to outputs), a
 * convolution kernel `[kh, kw, in, out]`; any leading axes are a receptive field:
 *   rank 0: fanIn = fanOut = 1;      rank 1: fanIn = fanOut = shape[0];
 *   rank 2: fanIn = shape[0], fanOut = shape[1];
 *   rank r ≥ 3: R = shape[0] · … · shape[r−3], fanIn = R · shape[r−2], fanOut = R · shape[r−1].
 *
 * Variance scaling. Each named initializer draws i.i.d. entries with mean 0 and variance
 * `scale / n`, where n is fanIn, fanOut or (fanIn + fanOut)/2:
 *   glorotUniform / glorotNormal  scale 1, n = (fanIn + fanOut)/2: Var = 2/(fanIn + fanOut)   (Glorot & Bengio 2010)
 *   heUniform / heNormal          scale 2, n = fanIn:               Var = 2/fanIn              (He et al. 2015)
 *   lecunUniform / lecunNormal    scale 1, n = fanIn:               Var = 1/fanIn              (LeCun et al. 1998)
 * A uniform draw is U(−L, L) with L = √(3 · Var), since Var U(−L, L) = L²/3. A normal draw
 * is, as in JAX and Keras, a normal truncated at ±2 standard deviations whose σ is divided
 * by the standard deviation of a unit normal truncated to [−2, 2],
 *   s₂ = √(1 − 4φ(2)/(Φ(2) − Φ(−2))) ≈ 0.87962566,
 * so the variance is exactly `scale / n` and no entry exceeds 2σ/s₂ in magnitude.
 *
 * This module is the canonical set: io's parameter schemas resolve their `init` names here.
 *
 * Purity: an initializer reads only its key, shape and dtype, and returns a fresh frozen
 * tensor.
 */
import { PurediffError } from '../errors.js'
import {
  normal as normalDraw,
  orthogonal as orthogonalDraw,
  truncatedNormal,
  uniform as uniformDraw,
} from '../random/index.js'
import type { Key } from '../random/index.js'
import { normalCdf } from '../random/special.js'
import { fromData, full, sizeOf } from '../tensor/Tensor.js'
import type { ConcreteTensor, DType, Shape } from '../tensor/Tensor.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An initializer: a tensor of the given shape and dtype (float64 by default) from a key.
 * @category model
 * @since 0.1.0
 */
export type Initializer = (key: Key, shape: Shape, dtype?: DType) => ConcreteTensor

/** Which fan the variance is divided by. @category model @since 0.1.0 */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg'

/** The distribution a variance-scaling initializer draws from. @category model @since 0.1.0 */
export type Distribution = 'uniform' | 'truncatedNormal' | 'normal'

/** s₂: the standard deviation of a unit normal truncated to [−2, 2] (see the header). */
const TRUNCATED_STD = (() => {
  const phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI)
  const mass = normalCdf(2) - normalCdf(-2)
  return Math.sqrt(1 - (4 * phi2) / mass)
})()

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
  if (r === 0) return Object.freeze([1, 1] as const)
  if (r === 1) return Object.freeze([shape[0] as number, shape[0] as number] as const)
  const receptive = sizeOf(shape.slice(0, r - 2))
  return Object.freeze([receptive * (shape[r - 2] as number), receptive * (shape[r - 1] as number)] as const)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The general variance-scaling initializer: entries of variance `scale / n` (n chosen by
 * `mode`) from `distribution`. Every named initializer below is one of these.
 * @example
 * const init = varianceScaling(2, 'fanIn', 'truncatedNormal') // heNormal
 * init(key(0), [2, 3]).shape // [2, 3]
 * @category constructors
 * @since 0.1.0
 */
export const varianceScaling =
  (scale: number, mode: FanMode, distribution: Distribution, name = 'varianceScaling'): Initializer =>
  (key, shape, dtype = 'float64') => {
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new PurediffError('ValueError', `scale must be a positive finite number, got ${scale}`, { op: name })
    }
    // nothing to draw (and a fan could be 0)
    if (sizeOf(shape) === 0) return full(shape, 0, dtype)
    const [fanIn, fanOut] = fans(shape)
    const n = mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2
    const variance = scale / n
    if (distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance)
      return uniformDraw(key, shape, { minval: -limit, maxval: limit, dtype })
    }
    if (distribution === 'normal') return normalDraw(key, shape, { std: Math.sqrt(variance), dtype })
    return truncatedNormal(key, shape, -2, 2, { std: Math.sqrt(variance) / TRUNCATED_STD, dtype })
  }

/**
 * Glorot (Xavier) uniform: U(−L, L), L = √(6/(fanIn + fanOut)).
 * @example
 * // variance 2/(fanIn + fanOut) = 2/300, bound √(6/300) (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = glorotUniform(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (2 / 300) - 1) <= 0.05 // true
 * max(abs(w)).item() <= Math.sqrt(6 / 300) // true
 * @category constructors
 * @since 0.1.0
 */
export const glorotUniform: Initializer = varianceScaling(1, 'fanAvg', 'uniform', 'glorotUniform')
/**
 * Glorot normal: truncated normal (±2σ), variance 2/(fanIn + fanOut).
 * @example
 * // variance 2/(fanIn + fanOut) = 2/300 (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = glorotNormal(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (2 / 300) - 1) <= 0.05 // true
 * @category constructors
 * @since 0.1.0
 */
export const glorotNormal: Initializer = varianceScaling(1, 'fanAvg', 'truncatedNormal', 'glorotNormal')
/**
 * He (Kaiming) uniform: U(−L, L), L = √(6/fanIn); suits relu layers.
 * @example
 * // variance 2/fanIn = 2/200, bound √(6/200) (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = heUniform(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (2 / 200) - 1) <= 0.05 // true
 * max(abs(w)).item() <= Math.sqrt(6 / 200) // true
 * @category constructors
 * @since 0.1.0
 */
export const heUniform: Initializer = varianceScaling(2, 'fanIn', 'uniform', 'heUniform')
/**
 * He normal: truncated normal (±2σ), variance 2/fanIn.
 * @example
 * // variance 2/fanIn = 2/200 (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = heNormal(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (2 / 200) - 1) <= 0.05 // true
 * @category constructors
 * @since 0.1.0
 */
export const heNormal: Initializer = varianceScaling(2, 'fanIn', 'truncatedNormal', 'heNormal')
/**
 * LeCun uniform: U(−L, L), L = √(3/fanIn).
 * @example
 * // variance 1/fanIn = 1/200, bound √(3/200) (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = lecunUniform(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (1 / 200) - 1) <= 0.05 // true
 * max(abs(w)).item() <= Math.sqrt(3 / 200) // true
 * @category constructors
 * @since 0.1.0
 */
export const lecunUniform: Initializer = varianceScaling(1, 'fanIn', 'uniform', 'lecunUniform')
/**
 * LeCun normal: truncated normal (±2σ), variance 1/fanIn; suits selu/tanh layers.
 * @example
 * // variance 1/fanIn = 1/200 (5 %: 5 to 8 standard
 * // errors of the sample variance of 20 000 draws)
 * const w = lecunNormal(key(0), [200, 100])
 * w.shape // [200, 100]
 * Math.abs(variance(w).item() / (1 / 200) - 1) <= 0.05 // true
 * @category constructors
 * @since 0.1.0
 */
export const lecunNormal: Initializer = varianceScaling(1, 'fanIn', 'truncatedNormal', 'lecunNormal')

/**
 * U[0, scale), as JAX's `initializers.uniform(scale)`.
 * @example
 * max(abs(uniform(0.01)(key(0), [3, 4]))).item() <= 0.01 // true
 * @category constructors
 * @since 0.1.0
 */
export const uniform =
  (scale = 1e-2): Initializer =>
  (key, shape, dtype = 'float64') =>
    uniformDraw(key, shape, { minval: 0, maxval: scale, dtype })

/**
 * N(0, stddev²), untruncated, as JAX's `initializers.normal(stddev)`.
 * @example
 * // variance 0.1² = 0.01 (5 %: 5 standard errors of the sample variance of 20 000 normal draws)
 * Math.abs(variance(normal(0.1)(key(0), [200, 100])).item() / 0.01 - 1) <= 0.05 // true
 * @category constructors
 * @since 0.1.0
 */
export const normal =
  (stddev = 1e-2): Initializer =>
  (key, shape, dtype = 'float64') =>
    normalDraw(key, shape, { std: stddev, dtype })

/**
 * Every entry `value` (the key is not used).
 * @example
 * constant(3)(key(0), [2]) // [3, 3]
 * @category constructors
 * @since 0.1.0
 */
export const constant =
  (value: number): Initializer =>
  (_key, shape, dtype = 'float64') =>
    full(shape, value, dtype)

/**
 * All zeros (the key is not used); the usual bias initializer.
 * @example
 * zeros(key(0), [2]) // [0, 0]
 * @category constructors
 * @since 0.1.0
 */
export const zeros: Initializer = constant(0)
/**
 * All ones (the key is not used).
 * @example
 * ones(key(0), [2]) // [1, 1]
 * @category constructors
 * @since 0.1.0
 */
export const ones: Initializer = constant(1)

/**
 * Orthogonal initializer (Saxe et al. 2014): a Haar-random matrix with orthonormal rows or
 * columns, shaped [fan, last] from the shape (leading axes flattened), times `scale`.
 * @example
 * orthogonal()(random.key(0), [4, 4]).shape // [4, 4]
 * @category constructors
 * @since 0.2.0
 */
export const orthogonal =
  (scale = 1): Initializer =>
  (key, shape, dtype = 'float64') => {
    if (shape.length < 2)
      throw new PurediffError('ValueError', `orthogonal needs a shape of rank ≥ 2, got [${shape.join(', ')}]`, {
        op: 'orthogonal',
      })
    const cols = shape[shape.length - 1] as number
    const rows = sizeOf(shape) / cols
    const q = orthogonalDraw(key, rows, cols, { scale, dtype })
    return wrapShape(q, shape)
  }

const wrapShape = (q: ConcreteTensor, shape: Shape): ConcreteTensor => fromData(q.toTypedArray(), shape, q.dtype)
