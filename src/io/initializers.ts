/**
 * The `init` option of parameter schemas: an initializer name, resolved to the canonical
 * initializers of `src/nn/init.ts` (fans for a weight laid out `[in, out]`: fanIn = shape[0],
 * fanOut = shape[1]; leading axes of a rank ≥ 3 kernel are a receptive field that multiplies
 * both; Glorot and He as variance scaling, normal variants truncated at ±2σ with the JAX
 * correction, so the variance is exactly 2/(fanIn + fanOut) or 2/fanIn), or any
 * `Initializer` function, e.g. `constant(0.1)` from `nn`, or the two below, which take the
 * parameters the schema API documents: `uniformInit(min, max)` and `normalInit(std, mean)`.
 *
 * Purity: every initializer is a function of its key; the same key gives the same tensor.
 */
import { PurediffError } from '../errors.js'
import { glorotNormal, glorotUniform, heNormal, heUniform, lecunNormal, lecunUniform, ones, zeros } from '../nn/init.js'
import type { Initializer } from '../nn/init.js'
import { normal, uniform } from '../random/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Initializers that take no parameters, by name.
 * @category model
 * @since 0.1.0
 */
export type InitName =
  'zeros' | 'ones' | 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal'

/**
 * What a schema accepts as `init`: a name or an initializer function.
 * @category model
 * @since 0.1.0
 */
export type Init = InitName | Initializer

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Uniform on [min, max).
 * @example
 * schema.tensor([10], { init: uniformInit(-0.1, 0.1) })
 * max(abs(schema.tensor([10], { init: uniformInit(-0.1, 0.1) }).init(key(0)))).item() <= 0.1 // true
 * @category constructors
 * @since 0.1.0
 */
export const uniformInit =
  (min: number, max: number): Initializer =>
  (key, shape, dtype = 'float64') =>
    uniform(key, shape, { minval: min, maxval: max, dtype })

/**
 * Normal with standard deviation `std` and mean `mean` (default 0), not truncated.
 * @example
 * schema.tensor([10], { init: normalInit(0.02) })
 * schema.tensor([10], { init: normalInit(0.02) }).init(key(0)).shape // [10]
 * @category constructors
 * @since 0.1.0
 */
export const normalInit =
  (std: number, mean = 0): Initializer =>
  (key, shape, dtype = 'float64') =>
    normal(key, shape, { mean, std, dtype })

const NAMED: Readonly<Record<InitName, Initializer>> = Object.freeze({
  zeros,
  ones,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunUniform,
  lecunNormal,
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The initializer an `init` option stands for; an unknown name is a `ValueError`.
 * @example
 * initializer('glorotUniform') === nn.glorotUniform
 * @category utils
 * @since 0.1.0
 */
export const initializer = (init: Init): Initializer => {
  if (typeof init === 'function') return init
  if (typeof init !== 'string' || !Object.prototype.hasOwnProperty.call(NAMED, init)) {
    throw new PurediffError(
      'ValueError',
      `unknown initializer ${JSON.stringify(init)}; expected one of ${Object.keys(NAMED).join(', ')} or a function`,
      { op: 'schema.tensor' },
    )
  }
  return NAMED[init]
}
