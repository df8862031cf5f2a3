/**
 * The usual optimizers, each a `chain` of the building blocks in `transforms.ts` ending in
 * `scaleByLearningRate(η)` (so the updates already point downhill and `applyUpdates` adds
 * them). Learning rates are numbers or schedules of the update count.
 *
 *   sgd(η)                        θ′ = θ − η g
 *   momentum(η, β, {nesterov})    m = g + β m₋;  θ′ = θ − η m   (Nesterov: θ′ = θ − η (g + β m))
 *   adam(η, {b1, b2, eps})        θ′ = θ − η m̂ / (√v̂ + ε)
 *   adamw(η, {…, weightDecay})    θ′ = θ − η (m̂ / (√v̂ + ε) + λ θ)   (decoupled weight decay)
 *   rmsprop(η, {decay, eps})      θ′ = θ − η g / √(v + ε)
 *   adagrad(η, {a₀, eps})         θ′ = θ − η g / √(Σg² + ε)
 *
 * Purity: these are values (frozen records of two pure functions); building one has no
 * effect, and the same optimizer may drive any number of runs.
 */
import type { EmptyState, GradientTransformation } from './GradientTransformation.js'
import { chain } from './GradientTransformation.js'
import type { ScalarOrSchedule } from './schedules.js'
import type {
  AdamOptions,
  ScaleByAdamState,
  ScaleByRmsState,
  ScaleByRssState,
  ScaleByScheduleState,
  TraceState,
} from './transforms.js'
import { addDecayedWeights, scaleByAdam, scaleByLearningRate, scaleByRms, scaleByRss, trace } from './transforms.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** State of a learning-rate scaling: empty for a number, `{ count }` for a schedule. @category model @since 0.1.0 */
export type LearningRateState = EmptyState | ScaleByScheduleState

/** Options of `adamw`. @category model @since 0.1.0 */
export interface AdamWOptions extends AdamOptions {
  /** λ, the decoupled weight decay (default 1e-4, as optax). */
  readonly weightDecay?: number
}

/** Options of `rmsprop`. @category model @since 0.1.0 */
export interface RmspropOptions {
  /** ρ, the decay of the running mean of g² (default 0.9). */
  readonly decay?: number
  /** Added under the square root (default 1e-8). */
  readonly eps?: number
  /** The running mean's initial value (default 0). */
  readonly initialScale?: number
}

/** Options of `adagrad`. @category model @since 0.1.0 */
export interface AdagradOptions {
  /** The sum of squares' initial value (default 0.1). */
  readonly initialAccumulatorValue?: number
  /** Added under the square root (default 1e-7). */
  readonly eps?: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Plain gradient descent: updates −η g.
 * @example
 * const opt = sgd(0.1)
 * const [updates, state1] = opt.update(grads, opt.init(params), params)
 * // −η g
 * updates.b // ≈ mul(grads.b, -0.1)
 * @category optimizers
 * @since 0.1.0
 */
export const sgd = (learningRate: ScalarOrSchedule): GradientTransformation<LearningRateState> =>
  scaleByLearningRate(learningRate)

/**
 * Gradient descent with heavy-ball momentum β (default 0.9), or Nesterov's variant.
 * @example
 * const opt = momentum(0.01, 0.9, { nesterov: true })
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.1.0
 */
export const momentum = (
  learningRate: ScalarOrSchedule,
  beta = 0.9,
  opts: { readonly nesterov?: boolean } = {},
): GradientTransformation<readonly [TraceState, LearningRateState]> =>
  chain(trace(beta, opts), scaleByLearningRate(learningRate))

/**
 * Adam (Kingma & Ba): b1 = 0.9, b2 = 0.999, eps = 1e-8 by default.
 * @example
 * const opt = adam(1e-3)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.1.0
 */
export const adam = (
  learningRate: ScalarOrSchedule,
  opts: AdamOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, LearningRateState]> =>
  chain(scaleByAdam(opts), scaleByLearningRate(learningRate))

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay λ (default 1e-4) added to
 * the Adam direction before the learning rate. Needs the params in `update`.
 * @example
 * const opt = adamw(1e-3, { weightDecay: 1e-2 })
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.1.0
 */
export const adamw = (
  learningRate: ScalarOrSchedule,
  opts: AdamWOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, EmptyState, LearningRateState]> => {
  const { weightDecay = 1e-4, ...adamOpts } = opts
  return chain(scaleByAdam(adamOpts), addDecayedWeights(weightDecay), scaleByLearningRate(learningRate))
}

/**
 * RMSProp (Tieleman & Hinton): divide by the root of a running mean of g².
 * @example
 * // −η · g / √(ν + ε) with ν = 0.1 · 1² after one step
 * const opt = rmsprop(0.1)
 * opt.update(tensor([1]), opt.init(tensor([0])))[0] // ≈ [-0.1 / Math.sqrt(0.1 + 1e-8)]
 * @category optimizers
 * @since 0.1.0
 */
export const rmsprop = (
  learningRate: ScalarOrSchedule,
  opts: RmspropOptions = {},
): GradientTransformation<readonly [ScaleByRmsState, LearningRateState]> =>
  chain(scaleByRms(opts), scaleByLearningRate(learningRate))

/**
 * Adagrad (Duchi et al.): divide by the root of the sum of all g² so far.
 * @example
 * // −η · g / √(s + ε) with s = 0.1 (initial) + 3²
 * const opt = adagrad(0.1)
 * opt.update(tensor([3]), opt.init(tensor([0])))[0] // ≈ [(-0.1 * 3) / Math.sqrt(9.1 + 1e-7)]
 * @category optimizers
 * @since 0.1.0
 */
export const adagrad = (
  learningRate: ScalarOrSchedule,
  opts: AdagradOptions = {},
): GradientTransformation<readonly [ScaleByRssState, LearningRateState]> =>
  chain(scaleByRss(opts), scaleByLearningRate(learningRate))
