/**
 * The building blocks of optimizers, each a pure `GradientTransformation` (g are the
 * incoming updates, t the count of updates so far, starting at 1 inside an update):
 *
 *   scale(s)                 u = s · g
 *   scaleBySchedule(f)       u = f(t − 1) · g                     state { count }
 *   scaleByLearningRate(η)   u = −η · g  (η a number or a schedule of the count)
 *   trace(β, {nesterov})     m = g + β·m₋;  u = m, or g + β·m with Nesterov     state { trace }
 *   scaleByAdam(β₁, β₂, ε)   m = β₁m₋ + (1 − β₁)g;  v = β₂v₋ + (1 − β₂)g²;
 *                            u = m̂ / (√(v̂ + ε_root) + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
 *                                                                 state { count, mu, nu }
 *   scaleByRms(ρ, ε)         v = ρv₋ + (1 − ρ)g²;  u = g / √(v + ε)   state { nu }
 *   scaleByRss(a₀, ε)        s = s₋ + g² (s starts at a₀);  u = g / √(s + ε)  (0 where g = 0)   state { sumOfSquares }
 *   clipByGlobalNorm(c)      u = g · c / max(‖g‖, c)   (‖·‖ the L2 norm over all leaves)
 *   clip(c)                  u = clamp(g, −c, c) entry by entry
 *   addDecayedWeights(λ)     u = g + λ·θ   (needs the params)
 *
 * These are optax's definitions (Kingma & Ba 2015 for Adam; Loshchilov & Hutter 2019 for
 * decoupled weight decay; Tieleman & Hinton for RMSProp; Duchi et al. 2011 for Adagrad).
 * Moment trees start at zero with the params' structure, shapes and dtypes.
 *
 * Purity: every update returns fresh frozen updates and state; nothing is mutated.
 */
import { PurediffError } from '../errors.js'
import { add, div, divNoNan, maximum, minimum, mul, sqrt, square } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor } from '../tensor/Tensor.js'
import type { Tree } from '../tree/Tree.js'
import { fullLike, norm, scale as scaleTree, zerosLike } from '../tree/vector.js'
import type { EmptyState, GradientTransformation } from './GradientTransformation.js'
import { checkNumber, multiMap, result, stateless } from './internal.js'
import type { ScalarOrSchedule, Schedule } from './schedules.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** State of `scaleBySchedule`: the number of updates so far. @category model @since 0.1.0 */
export type ScaleByScheduleState = { readonly count: number }
/** State of `trace`: the momentum buffer (a tree like the params). @category model @since 0.1.0 */
export type TraceState = { readonly trace: Tree }
/** State of `scaleByAdam`: count and first/second moment trees. @category model @since 0.1.0 */
export type ScaleByAdamState = { readonly count: number; readonly mu: Tree; readonly nu: Tree }
/** State of `scaleByRms`: the running mean of squared gradients. @category model @since 0.1.0 */
export type ScaleByRmsState = { readonly nu: Tree }
/** State of `scaleByRss`: the running sum of squared gradients. @category model @since 0.1.0 */
export type ScaleByRssState = { readonly sumOfSquares: Tree }

/** Options of `trace`. @category model @since 0.1.0 */
export interface TraceOptions {
  /** Nesterov's accelerated gradient: the update looks one momentum step ahead. */
  readonly nesterov?: boolean
}

/** Options of `scaleByAdam` (and `adam`). @category model @since 0.1.0 */
export interface AdamOptions {
  /** Decay of the first moment (default 0.9). */
  readonly b1?: number
  /** Decay of the second moment (default 0.999). */
  readonly b2?: number
  /** Added to the denominator outside the square root (default 1e-8). */
  readonly eps?: number
  /** Added inside the square root (default 0). */
  readonly epsRoot?: number
}

const asTree = (x: unknown): Tree => x as Tree

const checkCount = (state: unknown, op: string): number => {
  const c = (state as { count?: unknown } | null)?.count
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
    throw new PurediffError('ValueError', `state.count must be a non-negative integer, got ${String(c)}`, { op })
  }
  return c
}

const checkSchedule = (s: unknown, name: string, op: string): ScalarOrSchedule => {
  if (typeof s === 'function') return s as Schedule
  return checkNumber(s, name, op)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Multiply the updates by a constant.
 * @example
 * const opt = chain(scaleByAdam(), scale(-1e-3)) // adam
 * // Adam's first step moves each weight by the learning rate, against the gradient
 * opt.update(tensor([2, -3]), opt.init(tensor([0, 0])))[0] // ≈ [(-1e-3 * 2) / (2 + 1e-8), (1e-3 * 3) / (3 + 1e-8)]
 * @category constructors
 * @since 0.1.0
 */
export const scale = (s: number): GradientTransformation<EmptyState> => {
  checkNumber(s, 'the scale', 'scale')
  return stateless((g) => scaleTree(g, s))
}

/**
 * Multiply the updates by `schedule(step)`, step = number of earlier updates.
 * @example
 * const t = scaleBySchedule((step) => 1 / (step + 1))
 * const [u0, s1] = t.update(tensor([4]), t.init(tensor([0])))
 * u0 // [4]
 * t.update(tensor([4]), s1)[0] // [2]
 * @category constructors
 * @since 0.1.0
 */
export const scaleBySchedule = (schedule: Schedule): GradientTransformation<ScaleByScheduleState> => {
  const op = 'scaleBySchedule'
  if (typeof schedule !== 'function')
    throw new PurediffError('ValueError', 'expected a schedule (step) => number', { op })
  return Object.freeze({
    init: <P>(_params: P): ScaleByScheduleState => Object.freeze({ count: 0 }),
    update: <P>(grads: P, state: ScaleByScheduleState): readonly [P, ScaleByScheduleState] => {
      const count = checkCount(state, op)
      const s = checkNumber(schedule(count), `the schedule's value at step ${count}`, op)
      return result(scaleTree(grads, s), Object.freeze({ count: count + 1 }))
    },
  })
}

/**
 * Multiply by −η: the descent direction scaled by a learning rate (a number or a schedule).
 * @example
 * const t = scaleByLearningRate(0.1)
 * t.update(tensor([2]), t.init(tensor([0])))[0] // ≈ [-0.2]
 * @category constructors
 * @since 0.1.0
 */
export function scaleByLearningRate(learningRate: number): GradientTransformation<EmptyState>
export function scaleByLearningRate(learningRate: Schedule): GradientTransformation<ScaleByScheduleState>
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
): GradientTransformation<EmptyState | ScaleByScheduleState>
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
): GradientTransformation<EmptyState | ScaleByScheduleState> {
  const lr = checkSchedule(learningRate, 'the learning rate', 'scaleByLearningRate')
  if (typeof lr === 'number') return scale(-lr) as GradientTransformation<EmptyState | ScaleByScheduleState>
  return scaleBySchedule((step) => -lr(step)) as GradientTransformation<EmptyState | ScaleByScheduleState>
}

/**
 * Momentum: accumulate m = g + β·m₋ and emit m (or g + β·m with `nesterov`).
 * @example
 * const t = trace(0.9)
 * const [u1, s1] = t.update(tensor([1]), t.init(tensor([0])))
 * u1 // [1]
 * // m = g + 0.9 · m₋ = 1 + 0.9
 * t.update(tensor([1]), s1)[0] // ≈ [1.9]
 * @category constructors
 * @since 0.1.0
 */
export const trace = (decay = 0.9, opts: TraceOptions = {}): GradientTransformation<TraceState> => {
  const op = 'trace'
  checkNumber(decay, 'decay', op, { min: 0 })
  const nesterov = opts.nesterov === true
  return Object.freeze({
    init: <P>(params: P): TraceState => Object.freeze({ trace: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: TraceState): readonly [P, TraceState] => {
      const [u, m] = multiMap(op, [grads, state.trace], 2, ([g, m0]) => {
        const m1 = add(g as TensorLike, mul(decay, m0 as TensorLike))
        return [nesterov ? add(g as TensorLike, mul(decay, m1)) : m1, m1]
      })
      return result(u as P, Object.freeze({ trace: asTree(m) }))
    },
  })
}

/**
 * Adam's rescaling: bias-corrected first moment over the root of the bias-corrected
 * second moment.
 * @example
 * // the first step is g / (|g| + ε): m̂ = g and v̂ = g² after bias correction
 * const t = scaleByAdam()
 * t.update(tensor([2, -3]), t.init(tensor([0, 0])))[0] // ≈ [2 / (2 + 1e-8), -3 / (3 + 1e-8)]
 * @category constructors
 * @since 0.1.0
 */
export const scaleByAdam = (opts: AdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const op = 'scaleByAdam'
  const b1 = checkNumber(opts.b1 ?? 0.9, 'b1', op, { min: 0, max: 1, maxExclusive: true })
  const b2 = checkNumber(opts.b2 ?? 0.999, 'b2', op, { min: 0, max: 1, maxExclusive: true })
  const eps = checkNumber(opts.eps ?? 1e-8, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 0, 'epsRoot', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByAdamState =>
      Object.freeze({ count: 0, mu: asTree(zerosLike(params)), nu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdamState): readonly [P, ScaleByAdamState] => {
      const count = checkCount(state, op) + 1
      // 1 − βᵗ as −expm1(t·log β): the direct form loses digits to cancellation when β ≈ 1
      // (1 − 0.999² keeps only ~13 of 16)
      const c1 = -Math.expm1(count * Math.log(b1))
      const c2 = -Math.expm1(count * Math.log(b2))
      // m̂/(√(v̂ + ε_root) + ε) with the bias corrections folded into scalars when ε_root = 0:
      // (m/c₁)/(√v/√c₂ + ε) = (m / (√v + ε√c₂)) · (√c₂/c₁), four tensor ops instead of six
      const rc2 = Math.sqrt(c2)
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, v0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const v = add(mul(b2, v0 as TensorLike), mul(1 - b2, square(g as TensorLike)))
        const u =
          epsRoot === 0
            ? mul(div(m, add(sqrt(v), eps * rc2)), rc2 / c1)
            : div(div(m, c1), add(sqrt(add(div(v, c2), epsRoot)), eps))
        return [u, m, v]
      })
      return result(u as P, Object.freeze({ count, mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/**
 * RMSProp's rescaling: divide by the root of a running mean of squared gradients.
 * @example
 * // ν = 0.9 · 0 + 0.1 · 1²; u = g / √(ν + ε)
 * const t = scaleByRms()
 * t.update(tensor([1]), t.init(tensor([0])))[0] // ≈ [1 / Math.sqrt(0.1 + 1e-8)]
 * @category constructors
 * @since 0.1.0
 */
export const scaleByRms = (
  opts: { readonly decay?: number; readonly eps?: number; readonly initialScale?: number } = {},
): GradientTransformation<ScaleByRmsState> => {
  const op = 'scaleByRms'
  const decay = checkNumber(opts.decay ?? 0.9, 'decay', op, { min: 0, max: 1 })
  const eps = checkNumber(opts.eps ?? 1e-8, 'eps', op, { min: 0 })
  const initialScale = checkNumber(opts.initialScale ?? 0, 'initialScale', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByRmsState => Object.freeze({ nu: asTree(fullLike(params, initialScale)) }),
    update: <P>(grads: P, state: ScaleByRmsState): readonly [P, ScaleByRmsState] => {
      const [u, nu] = multiMap(op, [grads, state.nu], 2, ([g, v0]) => {
        const v = add(mul(decay, v0 as TensorLike), mul(1 - decay, square(g as TensorLike)))
        return [divNoNan(g as TensorLike, sqrt(add(v, eps))), v]
      })
      return result(u as P, Object.freeze({ nu: asTree(nu) }))
    },
  })
}

/**
 * Adagrad's rescaling: divide by the root of the sum of all squared gradients so far.
 * @example
 * // s = 0.1 (initial) + 3²; u = g / √(s + ε)
 * const t = scaleByRss()
 * t.update(tensor([3]), t.init(tensor([0])))[0] // ≈ [3 / Math.sqrt(9.1 + 1e-7)]
 * @category constructors
 * @since 0.1.0
 */
export const scaleByRss = (
  opts: { readonly initialAccumulatorValue?: number; readonly eps?: number } = {},
): GradientTransformation<ScaleByRssState> => {
  const op = 'scaleByRss'
  const a0 = checkNumber(opts.initialAccumulatorValue ?? 0.1, 'initialAccumulatorValue', op, { min: 0 })
  const eps = checkNumber(opts.eps ?? 1e-7, 'eps', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByRssState => Object.freeze({ sumOfSquares: asTree(fullLike(params, a0)) }),
    update: <P>(grads: P, state: ScaleByRssState): readonly [P, ScaleByRssState] => {
      const [u, s] = multiMap(op, [grads, state.sumOfSquares], 2, ([g, s0]) => {
        const s1 = add(s0 as TensorLike, square(g as TensorLike))
        // a zero gradient with a zero accumulator (a₀ = ε = 0) gives 0, not 0/0
        return [divNoNan(g as TensorLike, sqrt(add(s1, eps))), s1]
      })
      return result(u as P, Object.freeze({ sumOfSquares: asTree(s) }))
    },
  })
}

/**
 * Rescale the whole update tree so its global L2 norm is at most `maxNorm` (directions are
 * kept; trees within the bound pass unchanged).
 * @example
 * chain(clipByGlobalNorm(1), adam(1e-3))
 * // the tree [3, 4] has norm 5: it is scaled to norm 1
 * const t = clipByGlobalNorm(1)
 * t.update(tensor([3, 4]), t.init(tensor([0, 0])))[0] // ≈ [0.6, 0.8]
 * @category constructors
 * @since 0.1.0
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<EmptyState> => {
  const op = 'clipByGlobalNorm'
  const c = checkNumber(maxNorm, 'maxNorm', op, { min: 0 })
  if (c === 0) throw new PurediffError('ValueError', 'maxNorm must be positive', { op })
  // c / max(‖g‖, c) is 1 inside the ball and c/‖g‖ outside; never a division by zero
  return stateless((g) => {
    const f = div(c, maximum(norm(g), c))
    if (!(f instanceof ConcreteTensor)) return scaleTree(g, f)
    // a concrete factor as a number, so number leaves stay numbers; inside the ball it is
    // exactly 1 and the tree passes through as it is
    const k = f.item()
    return k === 1 ? g : scaleTree(g, k)
  })
}

/**
 * Clamp every entry of the updates to [−maxDelta, maxDelta].
 * @example
 * const t = clip(1)
 * t.update(tensor([-3, 0.5, 2]), t.init(tensor([0, 0, 0])))[0] // [-1, 0.5, 1]
 * @category constructors
 * @since 0.1.0
 */
export const clip = (maxDelta: number): GradientTransformation<EmptyState> => {
  const op = 'clip'
  const c = checkNumber(maxDelta, 'maxDelta', op, { min: 0 })
  return stateless((g) => multiMap(op, [g], 1, ([x]) => [minimum(maximum(x as TensorLike, -c), c)])[0] as typeof g)
}

/**
 * Add λ·θ to the updates (decoupled weight decay when placed before the learning rate).
 * @example
 * // u + λθ = 1 + 0.1 · 5
 * const t = addDecayedWeights(0.1)
 * t.update(tensor([1]), t.init(tensor([5])), tensor([5]))[0] // ≈ [1.5]
 * @category constructors
 * @since 0.1.0
 */
export const addDecayedWeights = (weightDecay: number): GradientTransformation<EmptyState> => {
  const op = 'addDecayedWeights'
  const wd = checkNumber(weightDecay, 'weightDecay', op)
  return stateless((g, params) => {
    if (params === undefined) {
      throw new PurediffError('ValueError', 'needs the params: call update(grads, state, params)', { op })
    }
    return multiMap(op, [g, params], 1, ([x, p]) => [add(x as TensorLike, mul(wd, p as TensorLike))])[0] as typeof g
  })
}
