/**
 * More optimizers, each with its rescaling transformation, following optax's definitions
 * (g the incoming updates, t the update count from 1, m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ);
 * every moment starts at zero unless said otherwise):
 *
 *   lion      (Chen et al. 2023)     u = sign((1 − β₁)g + β₁m₋);  m = β₂m₋ + (1 − β₂)g
 *   adamax    (Kingma & Ba 2015)     m = β₁m₋ + (1 − β₁)g;  v = max(β₂v₋, |g| + ε);  u = m̂ / v
 *   nadam     (Dozat 2016)           u = (β₁m/(1 − β₁ᵗ⁺¹) + (1 − β₁)g/(1 − β₁ᵗ)) / (√(v̂ + ε_root) + ε)
 *   radam     (Liu et al. 2020)      ρ∞ = 2/(1 − β₂) − 1, ρ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ);
 *                                    u = r m̂/(√(v̂ + ε_root) + ε) with r = √((ρ−4)(ρ−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ)) if ρ ≥ 5, else u = m̂
 *   adabelief (Zhuang et al. 2020)   m = β₁m₋ + (1 − β₁)g;  s = β₂s₋ + (1 − β₂)(g − m)² + ε_root;  u = m̂/(√ŝ + ε)
 *   yogi      (Zaheer et al. 2018)   m = β₁m₋ + (1 − β₁)g;  v = v₋ − (1 − β₂) sign(v₋ − g²) g²;  u = m/(√v + ε)
 *                                    (m and v start at 1e-6, as optax; no bias correction)
 *   lamb      (You et al. 2020)      u = trust(adam(g) + λθ),  trust(x) = x · ‖θ‖/‖x‖ per leaf (1 if a norm is 0)
 *   lars      (You et al. 2017)      u = momentum(−η · trust_c(g + λθ)),  trust_c(x) = x · c‖θ‖/‖x‖
 *   adafactor (Shazeer & Stern 2018) ρₜ = 1 − t^(−0.8); V = ρₜV₋ + (1 − ρₜ)(g² + ε₁), factored into row and
 *                                    column means for matrices; u = g/√V̂, clipped to block RMS ≤ d,
 *                                    scaled by max(RMS(θ), ε₂) and η
 *   novograd  (Ginsburg et al. 2019) per leaf ν = β₂ν₋ + (1 − β₂)‖g‖² (ν₁ = ‖g‖²);
 *                                    m = β₁m₋ + g/(√ν + ε) + λθ  (m₁ without β₁m₋);  u = m
 *   sm3       (Anil et al. 2019)     per axis i a vector μᵢ; a = g² + minᵢ μᵢ (broadcast); μᵢ = max of a over the
 *                                    other axes; m = β m₋ + (1 − β) g/√a;  u = m
 *   fromage   (Bernstein et al. 2020) u = −η/√(1 + η²) · trust(g) + (1/√(1 + η²) − 1)θ
 *   adadelta  (Zeiler 2012)          E[g²] = ρE₋ + (1 − ρ)g²;  u = g √(E[Δ²]₋ + ε)/√(E[g²] + ε);
 *                                    E[Δ²] = ρE[Δ²]₋ + (1 − ρ)u²
 *   noisySgd  (Neelakantan et al. 2015) u = −η(g + N(0, η₀/tᵞ))
 *
 * Purity: every update returns fresh frozen updates and state. The noise of `noisySgd` comes
 * only from the key carried in its state.
 */
import { PurediffError } from '../errors.js'
import {
  abs,
  add,
  div,
  greater,
  max as maxOp,
  maximum,
  mean,
  minimum,
  mul,
  reshape,
  sign,
  sqrt,
  square,
  sub,
  sum,
  where,
} from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { key as makeKey, normal, split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { ConcreteTensor, Tensor, full } from '../tensor/Tensor.js'
import type { Tree } from '../tree/Tree.js'
import { flatten, unflatten } from '../tree/Tree.js'
import { fullLike, zerosLike } from '../tree/vector.js'
import type { EmptyState, GradientTransformation } from './GradientTransformation.js'
import { chain } from './GradientTransformation.js'
import { checkNumber, multiMap, result, stateless } from './internal.js'
import type { LearningRateState } from './optimizers.js'
import type { ScalarOrSchedule } from './schedules.js'
import type { AdamOptions, ScaleByAdamState, TraceState } from './transforms.js'
import { addDecayedWeights, scale, scaleByAdam, scaleByLearningRate, trace } from './transforms.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** State of a transformation with a count and one moment tree. @category model @since 0.2.0 */
export type CountMuState = { readonly count: number; readonly mu: Tree }
/** State of `scaleByLion`: the momentum tree. @category model @since 0.2.0 */
export type ScaleByLionState = { readonly mu: Tree }
/** State of `scaleByYogi`: first and second moment trees. @category model @since 0.2.0 */
export type ScaleByYogiState = { readonly mu: Tree; readonly nu: Tree }
/** State of `scaleByAdadelta`: running means of g² and of the squared updates. @category model @since 0.2.0 */
export type ScaleByAdadeltaState = { readonly eG: Tree; readonly eX: Tree }
/** State of `scaleByNovograd`: count, momentum tree and one second moment per leaf. @category model @since 0.2.0 */
export type ScaleByNovogradState = { readonly count: number; readonly mu: Tree; readonly nu: Tree }
/** State of `scaleBySm3`: one accumulator vector per axis of each leaf, and the momentum tree. @category model @since 0.2.0 */
export type ScaleBySm3State = { readonly mu: Tree; readonly nu: Tree }
/** State of `scaleByFactoredRms`: count and the row, column and full second moments. @category model @since 0.2.0 */
export type ScaleByFactoredRmsState = {
  readonly count: number
  readonly vRow: Tree
  readonly vCol: Tree
  readonly v: Tree
}
/** State of `addNoise`: the count and the key of the next draw. @category model @since 0.2.0 */
export type AddNoiseState = { readonly count: number; readonly key: Key }

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const asTree = (x: unknown): Tree => x as Tree

const countOf = (state: unknown, op: string): number => {
  const c = (state as { count?: unknown } | null)?.count
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
    throw new PurediffError('ValueError', `state.count must be a non-negative integer, got ${String(c)}`, { op })
  }
  return c
}

/** 1 − βᵗ without cancellation for β near 1. */
const oneMinusPow = (b: number, t: number): number => (b === 0 ? 1 : -Math.expm1(t * Math.log(b)))

const beta = (x: unknown, name: string, op: string, fallback: number): number =>
  checkNumber(x ?? fallback, name, op, { min: 0, max: 1, maxExclusive: true })

const needParams = <P>(params: P | undefined, op: string): P => {
  if (params === undefined)
    throw new PurediffError('ValueError', 'needs the params: call update(grads, state, params)', { op })
  return params
}

/** The Euclidean norm of one leaf. */
const leafNorm = (x: TensorLike): Tensor => sqrt(sum(square(x)))

/** x · ‖θ‖/‖x‖ (times c), and x itself where either norm is 0 (optax's safe trust ratio). */
const trustScale = (x: TensorLike, p: TensorLike, c: number, minNorm: number, eps: number): Tensor => {
  const pn = maximum(leafNorm(p), minNorm)
  const un = maximum(leafNorm(x), minNorm)
  const zero = greater(mul(pn, un), 0)
  const ratio = where(zero, div(mul(c, pn), add(where(zero, un, 1), eps)), 1)
  return mul(x, ratio)
}

// -------------------------------------------------------------------------------------
// transformations
// -------------------------------------------------------------------------------------

/** Options of `lion`. @category model @since 0.2.0 */
export interface LionOptions {
  readonly b1?: number
  readonly b2?: number
  /** Decoupled weight decay λ (default 1e-3, as optax). */
  readonly weightDecay?: number
}

/**
 * Lion's direction: the sign of an interpolation of the gradient and the momentum.
 * @example
 * const t = scaleByLion()
 * t.update(tensor([2, -3, 0]), t.init(tensor([0, 0, 0])))[0] // ≈ [1, -1, 0]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByLion = (
  opts: { readonly b1?: number; readonly b2?: number } = {},
): GradientTransformation<ScaleByLionState> => {
  const op = 'scaleByLion'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.99)
  return Object.freeze({
    init: <P>(params: P): ScaleByLionState => Object.freeze({ mu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByLionState): readonly [P, ScaleByLionState] => {
      const [u, mu] = multiMap(op, [grads, state.mu], 2, ([g, m]) => [
        sign(add(mul(1 - b1, g as TensorLike), mul(b1, m as TensorLike))),
        add(mul(b2, m as TensorLike), mul(1 - b2, g as TensorLike)),
      ])
      return result(u as P, Object.freeze({ mu: asTree(mu) }))
    },
  })
}

/**
 * Adamax's rescaling: the bias-corrected first moment over an infinity-norm second moment.
 * @example
 * const t = scaleByAdamax()
 * t.update(tensor([2]), t.init(tensor([0])))[0] // ≈ [2 / (2 + 1e-8)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByAdamax = (
  opts: { readonly b1?: number; readonly b2?: number; readonly eps?: number } = {},
): GradientTransformation<ScaleByAdamState> => {
  const op = 'scaleByAdamax'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.999)
  const eps = checkNumber(opts.eps ?? 1e-8, 'eps', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByAdamState =>
      Object.freeze({ count: 0, mu: asTree(zerosLike(params)), nu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdamState): readonly [P, ScaleByAdamState] => {
      const count = countOf(state, op) + 1
      const c1 = oneMinusPow(b1, count)
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, v0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const v = maximum(mul(b2, v0 as TensorLike), add(abs(g as TensorLike), eps))
        return [div(div(m, c1), v), m, v]
      })
      return result(u as P, Object.freeze({ count, mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/**
 * Adam with Nesterov momentum (NAdam's rescaling, optax's `scale_by_adam(nesterov=True)`).
 * @example
 * const t = scaleByNadam()
 * t.update(tensor([1]), t.init(tensor([0])))[0] // ≈ [(0.9 * 0.1 / (1 - 0.81) + 1) / (1 + 1e-8)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByNadam = (opts: AdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const op = 'scaleByNadam'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.999)
  const eps = checkNumber(opts.eps ?? 1e-8, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 0, 'epsRoot', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByAdamState =>
      Object.freeze({ count: 0, mu: asTree(zerosLike(params)), nu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdamState): readonly [P, ScaleByAdamState] => {
      const t = countOf(state, op) + 1
      const c1 = oneMinusPow(b1, t)
      const c1Next = oneMinusPow(b1, t + 1)
      const c2 = oneMinusPow(b2, t)
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, v0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const v = add(mul(b2, v0 as TensorLike), mul(1 - b2, square(g as TensorLike)))
        const mHat = add(mul(b1 / c1Next, m), mul((1 - b1) / c1, g as TensorLike))
        return [div(mHat, add(sqrt(add(div(v, c2), epsRoot)), eps)), m, v]
      })
      return result(u as P, Object.freeze({ count: t, mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/** Options of `radam`. @category model @since 0.2.0 */
export interface RadamOptions extends AdamOptions {
  /** ρ below which the update is the bias-corrected momentum alone (default 5). */
  readonly threshold?: number
}

/**
 * RAdam's rescaling: Adam with its variance rectified, plain momentum while ρₜ < threshold.
 * @example
 * const t = scaleByRadam()
 * t.update(tensor([3]), t.init(tensor([0])))[0] // ≈ [3]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByRadam = (opts: RadamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const op = 'scaleByRadam'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.999)
  const eps = checkNumber(opts.eps ?? 1e-8, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 0, 'epsRoot', op, { min: 0 })
  const threshold = checkNumber(opts.threshold ?? 5, 'threshold', op)
  const roInf = 2 / (1 - b2) - 1
  return Object.freeze({
    init: <P>(params: P): ScaleByAdamState =>
      Object.freeze({ count: 0, mu: asTree(zerosLike(params)), nu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdamState): readonly [P, ScaleByAdamState] => {
      const t = countOf(state, op) + 1
      const c1 = oneMinusPow(b1, t)
      const c2 = oneMinusPow(b2, t)
      const b2t = b2 ** t
      const ro = roInf - (2 * t * b2t) / c2
      const rectified = ro >= threshold
      const r = rectified ? Math.sqrt(((ro - 4) * (ro - 2) * roInf) / ((roInf - 4) * (roInf - 2) * ro)) : 1
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, v0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const v = add(mul(b2, v0 as TensorLike), mul(1 - b2, square(g as TensorLike)))
        const mHat = div(m, c1)
        return [rectified ? div(mul(r, mHat), add(sqrt(add(div(v, c2), epsRoot)), eps)) : mHat, m, v]
      })
      return result(u as P, Object.freeze({ count: t, mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/**
 * AdaBelief's rescaling: Adam with the second moment of g − m (the "belief" in the gradient).
 * @example
 * const t = scaleByBelief()
 * t.update(tensor([1]), t.init(tensor([0])))[0] // ≈ [1 / (Math.sqrt(0.81 + 1e-16 / 0.001) + 1e-16)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByBelief = (opts: AdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const op = 'scaleByBelief'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.999)
  const eps = checkNumber(opts.eps ?? 1e-16, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 1e-16, 'epsRoot', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByAdamState =>
      Object.freeze({ count: 0, mu: asTree(zerosLike(params)), nu: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdamState): readonly [P, ScaleByAdamState] => {
      const t = countOf(state, op) + 1
      const c1 = oneMinusPow(b1, t)
      const c2 = oneMinusPow(b2, t)
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, s0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const s = add(add(mul(b2, s0 as TensorLike), mul(1 - b2, square(sub(g as TensorLike, m)))), epsRoot)
        return [div(div(m, c1), add(sqrt(div(s, c2)), eps)), m, s]
      })
      return result(u as P, Object.freeze({ count: t, mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/** Options of `yogi`. @category model @since 0.2.0 */
export interface YogiOptions {
  readonly b1?: number
  readonly b2?: number
  /** Added to √v (default 1e-3). */
  readonly eps?: number
  /** Added under the root (default 0). */
  readonly epsRoot?: number
  /** The moments' starting value (default 1e-6). */
  readonly initialAccumulatorValue?: number
}

/**
 * Yogi's rescaling: an additive (sign-controlled) second-moment update instead of Adam's average.
 * @example
 * const t = scaleByYogi()
 * t.update(tensor([1]), t.init(tensor([0])))[0].shape // [1]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByYogi = (opts: YogiOptions = {}): GradientTransformation<ScaleByYogiState> => {
  const op = 'scaleByYogi'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.999)
  const eps = checkNumber(opts.eps ?? 1e-3, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 0, 'epsRoot', op, { min: 0 })
  const a0 = checkNumber(opts.initialAccumulatorValue ?? 1e-6, 'initialAccumulatorValue', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByYogiState =>
      Object.freeze({ mu: asTree(fullLike(params, a0)), nu: asTree(fullLike(params, a0)) }),
    update: <P>(grads: P, state: ScaleByYogiState): readonly [P, ScaleByYogiState] => {
      const [u, mu, nu] = multiMap(op, [grads, state.mu, state.nu], 3, ([g, m0, v0]) => {
        const m = add(mul(b1, m0 as TensorLike), mul(1 - b1, g as TensorLike))
        const g2 = square(g as TensorLike)
        const v = sub(v0 as TensorLike, mul(mul(1 - b2, sign(sub(v0 as TensorLike, g2))), g2))
        return [div(m, add(sqrt(add(v, epsRoot)), eps)), m, v]
      })
      return result(u as P, Object.freeze({ mu: asTree(mu), nu: asTree(nu) }))
    },
  })
}

/** Options of `scaleByTrustRatio`. @category model @since 0.2.0 */
export interface TrustRatioOptions {
  /** Norms are floored at this value (default 0). */
  readonly minNorm?: number
  /** c in c‖θ‖/‖u‖ (default 1). */
  readonly trustCoefficient?: number
  /** Added to ‖u‖ (default 0). */
  readonly eps?: number
}

/**
 * Scale each leaf's update by its trust ratio c‖θ‖/‖u‖ (unchanged where a norm is 0); needs the params.
 * @example
 * const t = scaleByTrustRatio()
 * t.update(tensor([3, 4]), t.init(tensor([0, 1])), tensor([0, 1]))[0] // ≈ [0.6, 0.8]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByTrustRatio = (opts: TrustRatioOptions = {}): GradientTransformation<EmptyState> => {
  const op = 'scaleByTrustRatio'
  const minNorm = checkNumber(opts.minNorm ?? 0, 'minNorm', op, { min: 0 })
  const c = checkNumber(opts.trustCoefficient ?? 1, 'trustCoefficient', op, { min: 0 })
  const eps = checkNumber(opts.eps ?? 0, 'eps', op, { min: 0 })
  return stateless((g, params) => {
    const p = needParams(params, op)
    return multiMap(op, [g, p], 1, ([x, q]) => [
      trustScale(x as TensorLike, q as TensorLike, c, minNorm, eps),
    ])[0] as typeof g
  })
}

/**
 * AdaDelta's rescaling: g · √(E[Δ²] + ε)/√(E[g²] + ε), a unit-correct step without a learning rate.
 * @example
 * const t = scaleByAdadelta()
 * t.update(tensor([1]), t.init(tensor([0])))[0] // ≈ [Math.sqrt(1e-6) / Math.sqrt(0.1 + 1e-6)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByAdadelta = (
  opts: { readonly rho?: number; readonly eps?: number } = {},
): GradientTransformation<ScaleByAdadeltaState> => {
  const op = 'scaleByAdadelta'
  const rho = beta(opts.rho, 'rho', op, 0.9)
  const eps = checkNumber(opts.eps ?? 1e-6, 'eps', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ScaleByAdadeltaState =>
      Object.freeze({ eG: asTree(zerosLike(params)), eX: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: ScaleByAdadeltaState): readonly [P, ScaleByAdadeltaState] => {
      const [u, eG, eX] = multiMap(op, [grads, state.eG, state.eX], 3, ([g, a0, x0]) => {
        const a = add(mul(rho, a0 as TensorLike), mul(1 - rho, square(g as TensorLike)))
        const up = mul(div(sqrt(add(x0 as TensorLike, eps)), sqrt(add(a, eps))), g as TensorLike)
        return [up, a, add(mul(rho, x0 as TensorLike), mul(1 - rho, square(up)))]
      })
      return result(u as P, Object.freeze({ eG: asTree(eG), eX: asTree(eX) }))
    },
  })
}

/** Options of `novograd`. @category model @since 0.2.0 */
export interface NovogradOptions {
  readonly b1?: number
  /** Decay of the per-leaf second moment (default 0.25). */
  readonly b2?: number
  readonly eps?: number
  readonly epsRoot?: number
  readonly weightDecay?: number
}

/**
 * NovoGrad's rescaling: each leaf normalized by a running mean of its squared norm, plus weight decay, then momentum.
 * @example
 * const t = scaleByNovograd()
 * t.update(tensor([3, 4]), t.init(tensor([0, 0])), tensor([0, 0]))[0] // ≈ [3 / (5 + 1e-6), 4 / (5 + 1e-6)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByNovograd = (opts: NovogradOptions = {}): GradientTransformation<ScaleByNovogradState> => {
  const op = 'scaleByNovograd'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = beta(opts.b2, 'b2', op, 0.25)
  const eps = checkNumber(opts.eps ?? 1e-6, 'eps', op, { min: 0 })
  const epsRoot = checkNumber(opts.epsRoot ?? 0, 'epsRoot', op, { min: 0 })
  const wd = checkNumber(opts.weightDecay ?? 0, 'weightDecay', op)
  return Object.freeze({
    init: <P>(params: P): ScaleByNovogradState => {
      const [leaves, def] = flatten(params, op)
      return Object.freeze({
        count: 0,
        mu: asTree(zerosLike(params)),
        nu: unflatten<Tree>(
          def,
          leaves.map(() => 0),
        ),
      })
    },
    update: <P>(grads: P, state: ScaleByNovogradState, params?: P): readonly [P, ScaleByNovogradState] => {
      const count = countOf(state, op)
      const p = wd === 0 ? grads : needParams(params, op)
      const [gl, def] = flatten(grads, op)
      const [ml] = flatten(state.mu, op)
      const [vl] = flatten(state.nu, op)
      const [pl] = flatten(p, op)
      if (ml.length !== gl.length || vl.length !== gl.length || pl.length !== gl.length) {
        throw new PurediffError('TreeError', 'the state does not match the gradients', { op })
      }
      const mus: TensorLike[] = []
      const nus: TensorLike[] = []
      gl.forEach((g, i) => {
        const sq = sum(square(g))
        const nu = count === 0 ? sq : add(mul(b2, vl[i] as TensorLike), mul(1 - b2, sq))
        let step = div(g, add(sqrt(add(nu, epsRoot)), eps))
        if (wd !== 0) step = add(step, mul(wd, pl[i] as TensorLike))
        const m = count === 0 ? step : add(mul(b1, ml[i] as TensorLike), step)
        mus.push(settleLike(m, g))
        nus.push(settleLike(nu, 0))
      })
      const mu = unflatten<P>(def, mus)
      return result(mu, Object.freeze({ count: count + 1, mu: asTree(mu), nu: unflatten<Tree>(def, nus) }))
    },
  })
}

/** A concrete scalar result becomes a number where the reference leaf is a number. */
const settleLike = (x: TensorLike, like: unknown): TensorLike =>
  typeof like === 'number' && x instanceof ConcreteTensor && x.size === 1 ? x.item() : x

/**
 * SM3's rescaling: memory-efficient adaptivity with one accumulator vector per axis (a cover
 * of the entries by rows, columns, ...), then momentum β.
 * @example
 * const t = scaleBySm3()
 * t.update(tensor([[1, 2]]), t.init(tensor([[0, 0]])))[0] // ≈ [[0.1, 0.1]]
 * @category transformations
 * @since 0.2.0
 */
export const scaleBySm3 = (
  opts: { readonly b1?: number; readonly b2?: number } = {},
): GradientTransformation<ScaleBySm3State> => {
  const op = 'scaleBySm3'
  const b1 = beta(opts.b1, 'b1', op, 0.9)
  const b2 = checkNumber(opts.b2 ?? 1, 'b2', op, { min: 0, max: 1 })
  const c0 = b2 === 1 ? 1 : 1 - b2
  return Object.freeze({
    init: <P>(params: P): ScaleBySm3State => {
      const [leaves, def] = flatten(params, op)
      const mu = leaves.map((l) => {
        const shape = typeof l === 'number' ? [] : l.shape
        const dtype = l instanceof Tensor ? l.dtype : 'float64'
        return Object.freeze(shape.length === 0 ? [full([], 0, dtype)] : shape.map((s) => full([s], 0, dtype)))
      })
      return Object.freeze({
        mu: asTree(
          unflatten(
            def,
            mu.map((m) => m as unknown as Tensor),
          ),
        ),
        nu: asTree(zerosLike(params)),
      })
    },
    update: <P>(grads: P, state: ScaleBySm3State): readonly [P, ScaleBySm3State] => {
      const [gl, def] = flatten(grads, op)
      const [nl] = flatten(state.nu, op)
      const muList = accumulatorsOf(state.mu, gl.length, op)
      const ups: TensorLike[] = []
      const nus: TensorLike[] = []
      const mus: Tensor[][] = []
      gl.forEach((g, i) => {
        const shape = typeof g === 'number' ? [] : g.shape
        const acc = muList[i] as ReadonlyArray<Tensor>
        const rank = shape.length
        // the smallest of the per-axis accumulators covering each entry (broadcast back to the entry)
        let prev: TensorLike = rank === 0 ? reshape(acc[0] as Tensor, []) : (acc[0] as Tensor)
        if (rank > 0) {
          prev = reshape(
            acc[0] as Tensor,
            shape.map((s, k) => (k === 0 ? s : 1)),
          )
          for (let a = 1; a < rank; a++)
            prev = minimum(
              prev,
              reshape(
                acc[a] as Tensor,
                shape.map((s, k) => (k === a ? s : 1)),
              ),
            )
        }
        const a = add(mul(c0, square(g)), mul(b2, prev))
        const inv = where(greater(a, 0), div(1, sqrt(where(greater(a, 0), a, 1))), 0)
        const up = mul(inv, g)
        const m = add(mul(b1, nl[i] as TensorLike), mul(1 - b1, up))
        ups.push(settleLike(m, g))
        nus.push(settleLike(m, g))
        mus.push(
          rank === 0
            ? [reshape(a, [])]
            : shape.map((_, k) =>
                maxOp(
                  a,
                  Array.from({ length: rank }, (_, j) => j).filter((j) => j !== k),
                ),
              ),
        )
      })
      const u = unflatten<P>(def, ups)
      return result(
        u,
        Object.freeze({
          mu: asTree(
            unflatten(
              def,
              mus.map((m) => Object.freeze(m) as unknown as Tensor),
            ),
          ),
          nu: asTree(unflatten(def, nus)),
        }),
      )
    },
  })
}

/** The per-leaf accumulator lists of SM3's state, in leaf order. */
const accumulatorsOf = (mu: Tree, n: number, op: string): ReadonlyArray<ReadonlyArray<Tensor>> => {
  const [leaves, def] = flatten(mu, op)
  // mu holds, per parameter leaf, an array of 1-D tensors: regroup by the number of axes
  const groups: Tensor[][] = []
  const walk = (d: typeof def, at: { i: number }): void => {
    if (d.kind === 'array' && d.children.every((c) => c.kind === 'tensor')) {
      groups.push(d.children.map(() => leaves[at.i++] as Tensor))
      return
    }
    if (d.kind === 'array' || d.kind === 'record') d.children.forEach((c) => walk(c, at))
    else throw new PurediffError('TreeError', 'expected the accumulators of scaleBySm3.init', { op })
  }
  walk(def, { i: 0 })
  if (groups.length !== n) throw new PurediffError('TreeError', 'the state does not match the gradients', { op })
  return groups
}

/** Options of `scaleByFactoredRms`. @category model @since 0.2.0 */
export interface FactoredRmsOptions {
  /** Factor the second moment of matrices (default true). */
  readonly factored?: boolean
  /** ρₜ = 1 − (t − offset)^(−decayRate) (default 0.8). */
  readonly decayRate?: number
  readonly stepOffset?: number
  /** Factor only when the second-largest axis has at least this many entries (default 128). */
  readonly minDimSizeToFactor?: number
  /** Added to g² (default 1e-30). */
  readonly eps?: number
}

/** The two largest axes [d1, d0] (second largest, largest) when a leaf is factored, else null. */
const factoredDims = (
  shape: ReadonlyArray<number>,
  factored: boolean,
  minDim: number,
): readonly [number, number] | null => {
  if (!factored || shape.length < 2) return null
  // a stable argsort, as numpy's
  const sorted = shape.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const d1 = sorted[sorted.length - 2] as readonly [number, number]
  const d0 = sorted[sorted.length - 1] as readonly [number, number]
  if (d1[0] < minDim) return null
  return [d1[1], d0[1]]
}

/**
 * Adafactor's rescaling: g over the root of a second moment that is factored into row and
 * column means for large matrices (memory O(n + m) instead of O(nm)).
 * @example
 * const t = scaleByFactoredRms()
 * t.update(tensor([2, -3]), t.init(tensor([0, 0])))[0] // ≈ [1, -1]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByFactoredRms = (opts: FactoredRmsOptions = {}): GradientTransformation<ScaleByFactoredRmsState> => {
  const op = 'scaleByFactoredRms'
  const factored = opts.factored ?? true
  const decayRate = checkNumber(opts.decayRate ?? 0.8, 'decayRate', op)
  const stepOffset = checkNumber(opts.stepOffset ?? 0, 'stepOffset', op, { min: 0 })
  const minDim = checkNumber(opts.minDimSizeToFactor ?? 128, 'minDimSizeToFactor', op, { min: 0 })
  const eps = checkNumber(opts.eps ?? 1e-30, 'eps', op, { min: 0 })
  const shapeOf = (l: unknown): ReadonlyArray<number> => (l instanceof Tensor ? l.shape : [])
  const dtypeOf = (l: unknown): 'float64' | 'float32' => (l instanceof Tensor ? l.dtype : 'float64')
  return Object.freeze({
    init: <P>(params: P): ScaleByFactoredRmsState => {
      const [leaves, def] = flatten(params, op)
      const rows: Tensor[] = []
      const cols: Tensor[] = []
      const vs: Tensor[] = []
      for (const l of leaves) {
        const s = shapeOf(l)
        const dt = dtypeOf(l)
        const dims = factoredDims(s, factored, minDim)
        if (dims === null) {
          rows.push(full([1], 0, dt))
          cols.push(full([1], 0, dt))
          vs.push(full(s, 0, dt))
        } else {
          const [d1, d0] = dims
          rows.push(
            full(
              s.filter((_, i) => i !== d0),
              0,
              dt,
            ),
          )
          cols.push(
            full(
              s.filter((_, i) => i !== d1),
              0,
              dt,
            ),
          )
          vs.push(full([1], 0, dt))
        }
      }
      return Object.freeze({
        count: 0,
        vRow: unflatten<Tree>(def, rows),
        vCol: unflatten<Tree>(def, cols),
        v: unflatten<Tree>(def, vs),
      })
    },
    update: <P>(grads: P, state: ScaleByFactoredRmsState): readonly [P, ScaleByFactoredRmsState] => {
      const count = countOf(state, op)
      const t = count - stepOffset + 1
      const rho = 1 - t ** -decayRate
      const [gl, def] = flatten(grads, op)
      const [rl] = flatten(state.vRow, op)
      const [cl] = flatten(state.vCol, op)
      const [vl] = flatten(state.v, op)
      const ys: TensorLike[] = []
      const rows: TensorLike[] = []
      const cols: TensorLike[] = []
      const vs: TensorLike[] = []
      gl.forEach((g, i) => {
        const s = shapeOf(g)
        const g2 = add(square(g), eps)
        const dims = factoredDims(s, factored, minDim)
        if (dims === null) {
          const v = add(mul(rho, vl[i] as TensorLike), mul(1 - rho, g2))
          ys.push(settleLike(div(g, sqrt(v)), g))
          rows.push(rl[i] as TensorLike)
          cols.push(cl[i] as TensorLike)
          vs.push(settleLike(v, g))
          return
        }
        const [d1, d0] = dims
        const row = add(mul(rho, rl[i] as TensorLike), mul(1 - rho, mean(g2, d0)))
        const col = add(mul(rho, cl[i] as TensorLike), mul(1 - rho, mean(g2, d1)))
        const reducedD1 = d1 > d0 ? d1 - 1 : d1
        const rowFactor = div(1, sqrt(div(row, mean(row, reducedD1, true))))
        const colFactor = div(1, sqrt(col))
        const expand = (x: Tensor, axis: number): Tensor =>
          reshape(
            x,
            s.map((n, k) => (k === axis ? 1 : n)),
          )
        ys.push(mul(mul(g, expand(rowFactor, d0)), expand(colFactor, d1)))
        rows.push(row)
        cols.push(col)
        vs.push(vl[i] as TensorLike)
      })
      return result(
        unflatten<P>(def, ys),
        Object.freeze({
          count: count + 1,
          vRow: unflatten<Tree>(def, rows),
          vCol: unflatten<Tree>(def, cols),
          v: unflatten<Tree>(def, vs),
        }),
      )
    },
  })
}

/**
 * Multiply each leaf's update by max(RMS(θ), minScale) (Adafactor's relative step size); needs the params.
 * @example
 * const t = scaleByParamBlockRms()
 * t.update(tensor([1, 1]), t.init(tensor([3, 4])), tensor([3, 4]))[0] // ≈ [Math.sqrt(12.5), Math.sqrt(12.5)]
 * @category transformations
 * @since 0.2.0
 */
export const scaleByParamBlockRms = (minScale = 1e-3): GradientTransformation<EmptyState> => {
  const op = 'scaleByParamBlockRms'
  checkNumber(minScale, 'minScale', op, { min: 0 })
  return stateless(
    (g, params) =>
      multiMap(op, [g, needParams(params, op)], 1, ([x, p]) => [
        mul(x as TensorLike, maximum(sqrt(mean(square(p as TensorLike))), minScale)),
      ])[0] as typeof g,
  )
}

/**
 * Add Gaussian noise of variance η₀/tᵞ to the updates (t the update count); the key lives in the state.
 * @example
 * const t = addNoise(0.01, 0.55, random.key(0))
 * t.update(tensor([0, 0]), t.init(tensor([0, 0])))[0].shape // [2]
 * @category transformations
 * @since 0.2.0
 */
export const addNoise = (eta: number, gamma: number, seed: Key | number = 0): GradientTransformation<AddNoiseState> => {
  const op = 'addNoise'
  checkNumber(eta, 'eta', op, { min: 0 })
  checkNumber(gamma, 'gamma', op, { min: 0 })
  const k0 = typeof seed === 'number' ? makeKey(seed) : seed
  return Object.freeze({
    init: <P>(_params: P): AddNoiseState => Object.freeze({ count: 0, key: k0 }),
    update: <P>(grads: P, state: AddNoiseState): readonly [P, AddNoiseState] => {
      const t = countOf(state, op) + 1
      const std = Math.sqrt(eta / t ** gamma)
      const [gl, def] = flatten(grads, op)
      const keys = split(state.key, gl.length + 1)
      const out = gl.map((g, i) => {
        const dtype = g instanceof Tensor ? g.dtype : 'float64'
        const z = normal(keys[i + 1] as Key, typeof g === 'number' ? [] : g.shape, { dtype })
        return settleLike(add(g, mul(std, z)), g)
      })
      return result(unflatten<P>(def, out), Object.freeze({ count: t, key: keys[0] as Key }))
    },
  })
}

// -------------------------------------------------------------------------------------
// optimizers
// -------------------------------------------------------------------------------------

/**
 * Lion: the sign of interpolated momentum, with decoupled weight decay (default 1e-3); use a
 * learning rate 3-10x smaller than Adam's.
 * @example
 * const opt = lion(1e-4)
 * opt.update(tensor([1, -1]), opt.init(tensor([0, 0])), tensor([0, 0]))[0] // ≈ [-1e-4, 1e-4]
 * @category optimizers
 * @since 0.2.0
 */
export const lion = (
  learningRate: ScalarOrSchedule,
  opts: LionOptions = {},
): GradientTransformation<readonly [ScaleByLionState, EmptyState, LearningRateState]> => {
  const { weightDecay = 1e-3, ...rest } = opts
  return chain(scaleByLion(rest), addDecayedWeights(weightDecay), scaleByLearningRate(learningRate))
}

/**
 * Adamax: Adam with an infinity-norm second moment.
 * @example
 * const opt = adamax(2e-3)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const adamax = (
  learningRate: ScalarOrSchedule,
  opts: { readonly b1?: number; readonly b2?: number; readonly eps?: number } = {},
): GradientTransformation<readonly [ScaleByAdamState, LearningRateState]> =>
  chain(scaleByAdamax(opts), scaleByLearningRate(learningRate))

/**
 * NAdam: Adam with Nesterov momentum.
 * @example
 * const opt = nadam(1e-3)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const nadam = (
  learningRate: ScalarOrSchedule,
  opts: AdamOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, LearningRateState]> =>
  chain(scaleByNadam(opts), scaleByLearningRate(learningRate))

/**
 * RAdam: Adam with a rectified variance (plain momentum for the first few steps).
 * @example
 * const opt = radam(1e-3)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const radam = (
  learningRate: ScalarOrSchedule,
  opts: RadamOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, LearningRateState]> =>
  chain(scaleByRadam(opts), scaleByLearningRate(learningRate))

/**
 * AdaBelief: steps scaled by the belief in the observed gradient.
 * @example
 * const opt = adabelief(1e-3)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const adabelief = (
  learningRate: ScalarOrSchedule,
  opts: AdamOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, LearningRateState]> =>
  chain(scaleByBelief(opts), scaleByLearningRate(learningRate))

/**
 * Yogi: Adam with an additive second-moment update (moments start at 1e-6, as optax).
 * @example
 * const opt = yogi(1e-2)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const yogi = (
  learningRate: ScalarOrSchedule,
  opts: YogiOptions = {},
): GradientTransformation<readonly [ScaleByYogiState, LearningRateState]> =>
  chain(scaleByYogi(opts), scaleByLearningRate(learningRate))

/** Options of `lamb`. @category model @since 0.2.0 */
export interface LambOptions extends AdamOptions {
  readonly weightDecay?: number
}

/**
 * LAMB: Adam (ε = 1e-6) plus weight decay, rescaled per leaf by the trust ratio ‖θ‖/‖u‖.
 * @example
 * const opt = lamb(1e-3, { weightDecay: 1e-2 })
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const lamb = (
  learningRate: ScalarOrSchedule,
  opts: LambOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, EmptyState, EmptyState, LearningRateState]> => {
  const { weightDecay = 0, eps = 1e-6, ...rest } = opts
  return chain(
    scaleByAdam({ ...rest, eps }),
    addDecayedWeights(weightDecay),
    scaleByTrustRatio(),
    scaleByLearningRate(learningRate),
  )
}

/** Options of `lars`. @category model @since 0.2.0 */
export interface LarsOptions {
  readonly weightDecay?: number
  /** c of the trust ratio c‖θ‖/‖u‖ (default 1e-3). */
  readonly trustCoefficient?: number
  readonly eps?: number
  /** Momentum β (default 0.9). */
  readonly momentum?: number
  readonly nesterov?: boolean
}

/**
 * LARS: weight decay, a per-leaf trust ratio c‖θ‖/‖u‖, the learning rate, then momentum.
 * @example
 * lars(1, { weightDecay: 1e-4 })
 * @category optimizers
 * @since 0.2.0
 */
export const lars = (
  learningRate: ScalarOrSchedule,
  opts: LarsOptions = {},
): GradientTransformation<readonly [EmptyState, EmptyState, LearningRateState, TraceState]> =>
  chain(
    addDecayedWeights(opts.weightDecay ?? 0),
    scaleByTrustRatio({ trustCoefficient: opts.trustCoefficient ?? 1e-3, eps: opts.eps ?? 0 }),
    scaleByLearningRate(learningRate),
    trace(opts.momentum ?? 0.9, { nesterov: opts.nesterov === true }),
  )

/** Options of `adafactor`. @category model @since 0.2.0 */
export interface AdafactorOptions extends FactoredRmsOptions {
  /** Block-RMS clipping threshold d (default 1; null for none). */
  readonly clippingThreshold?: number | null
  /** Scale updates by max(RMS(θ), 1e-3) (default true). */
  readonly multiplyByParameterScale?: boolean
  /** An EMA of the updates with this decay (default none). */
  readonly momentum?: number
  /** Decoupled weight decay (default none). */
  readonly weightDecayRate?: number
}

/**
 * Adafactor: factored second moments, block-RMS clipping, relative step sizes.
 * @example
 * const opt = adafactor(1e-2)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const adafactor = (
  learningRate: ScalarOrSchedule,
  opts: AdafactorOptions = {},
): GradientTransformation<ReadonlyArray<unknown>> => {
  const { clippingThreshold = 1, multiplyByParameterScale = true, momentum: m, weightDecayRate, ...rms } = opts
  const parts: Array<GradientTransformation<unknown>> = [scaleByFactoredRms(rms) as GradientTransformation<unknown>]
  if (clippingThreshold !== null) parts.push(clipByBlockRmsT(clippingThreshold) as GradientTransformation<unknown>)
  parts.push(
    scaleByLearningRate(learningRate) as GradientTransformation<unknown>,
    scale(-1) as GradientTransformation<unknown>,
  )
  if (multiplyByParameterScale) parts.push(scaleByParamBlockRms() as GradientTransformation<unknown>)
  if (m !== undefined) parts.push(emaT(m) as GradientTransformation<unknown>)
  if (weightDecayRate !== undefined) parts.push(addDecayedWeights(weightDecayRate) as GradientTransformation<unknown>)
  parts.push(scale(-1) as GradientTransformation<unknown>)
  return chain(...parts) as GradientTransformation<ReadonlyArray<unknown>>
}

/**
 * NovoGrad: per-leaf normalized gradients with momentum (β₂ = 0.25 by default).
 * @example
 * const opt = novograd(1e-2)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const novograd = (
  learningRate: ScalarOrSchedule,
  opts: NovogradOptions = {},
): GradientTransformation<readonly [ScaleByNovogradState, LearningRateState]> =>
  chain(scaleByNovograd(opts), scaleByLearningRate(learningRate))

/**
 * SM3: memory-efficient adaptive steps with momentum (default 0.9).
 * @example
 * const opt = sm3(0.1)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const sm3 = (
  learningRate: number,
  momentumDecay = 0.9,
): GradientTransformation<readonly [ScaleBySm3State, EmptyState]> =>
  chain(scaleBySm3({ b1: momentumDecay }), scale(-checkNumber(learningRate, 'learningRate', 'sm3')))

/**
 * Fromage: steps of relative size η/√(1 + η²) per leaf, with the matching shrinkage of θ.
 * @example
 * const opt = fromage(0.01)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const fromage = (
  learningRate: number,
  minNorm = 1e-6,
): GradientTransformation<readonly [EmptyState, EmptyState, EmptyState]> => {
  const lr = checkNumber(learningRate, 'learningRate', 'fromage', { min: 0 })
  const mult = 1 / Math.sqrt(1 + lr * lr)
  return chain(scaleByTrustRatio({ minNorm }), scale(-lr * mult), addDecayedWeights(mult - 1))
}

/**
 * AdaDelta (learning rate 1 recovers Zeiler's method), with optional weight decay added to the gradient first.
 * @example
 * const opt = adadelta(1)
 * // one step from `params` along `grads` lowers the loss
 * const [u] = opt.update(grads, opt.init(params), params)
 * loss(addUpdates(params, u)).item() < loss(params).item() // true
 * @category optimizers
 * @since 0.2.0
 */
export const adadelta = (
  learningRate: ScalarOrSchedule = 1,
  opts: { readonly rho?: number; readonly eps?: number; readonly weightDecay?: number } = {},
): GradientTransformation<readonly [EmptyState, ScaleByAdadeltaState, LearningRateState]> =>
  chain(addDecayedWeights(opts.weightDecay ?? 0), scaleByAdadelta(opts), scaleByLearningRate(learningRate))

/**
 * Noisy SGD: gradient plus annealed Gaussian noise N(0, η₀/tᵞ), then −η (defaults η₀ = 0.01, γ = 0.55).
 * @example
 * noisySgd(0.1, { key: random.key(1) })
 * @category optimizers
 * @since 0.2.0
 */
export const noisySgd = (
  learningRate: ScalarOrSchedule,
  opts: { readonly eta?: number; readonly gamma?: number; readonly key?: Key | number } = {},
): GradientTransformation<readonly [AddNoiseState, LearningRateState]> =>
  chain(addNoise(opts.eta ?? 0.01, opts.gamma ?? 0.55, opts.key ?? 0), scaleByLearningRate(learningRate))

// -------------------------------------------------------------------------------------
// shared with combinators.ts (defined here to keep adafactor's chain in one file)
// -------------------------------------------------------------------------------------

/**
 * u / max(1, RMS(u)/threshold), per leaf.
 * @example
 * // RMS([3, 4]) = √12.5 > 1, so the leaf is divided by it
 * const t = clipByBlockRmsT(1)
 * t.update(tensor([3, 4]), t.init(tensor([0, 0])))[0] // ≈ [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]
 * @internal
 */
export const clipByBlockRmsT = (threshold: number): GradientTransformation<EmptyState> => {
  const op = 'clipByBlockRms'
  const d = checkNumber(threshold, 'threshold', op, { min: 0 })
  if (d === 0) throw new PurediffError('ValueError', 'threshold must be positive', { op })
  return stateless(
    (g) =>
      multiMap(op, [g], 1, ([x]) => [
        div(x as TensorLike, maximum(1, div(sqrt(mean(square(x as TensorLike))), d))),
      ])[0] as typeof g,
  )
}

/** State of `ema`: count and the running average of the updates. @category model @since 0.2.0 */
export type EmaState = { readonly count: number; readonly ema: Tree }

/**
 * m = β m₋ + (1 − β) u; emits m̂ = m/(1 − βᵗ) when debiased.
 * @example
 * const t = emaT(0.9)
 * // m = 0.1 · 2, debiased by 1 − 0.9
 * const [u1, s1] = t.update(tensor([2]), t.init(tensor([0])))
 * u1 // ≈ [2]
 * // m = 0.9 · 0.2 + 0.1 · 0, debiased by 1 − 0.9²
 * t.update(tensor([0]), s1)[0] // ≈ [0.18 / 0.19]
 * @internal
 */
export const emaT = (decay: number, debias = true): GradientTransformation<EmaState> => {
  const op = 'ema'
  const b = checkNumber(decay, 'decay', op, { min: 0, max: 1 })
  return Object.freeze({
    init: <P>(params: P): EmaState => Object.freeze({ count: 0, ema: asTree(zerosLike(params)) }),
    update: <P>(grads: P, state: EmaState): readonly [P, EmaState] => {
      const t = countOf(state, op) + 1
      const c = debias ? oneMinusPow(b, t) : 1
      const [u, m] = multiMap(op, [grads, state.ema], 2, ([g, m0]) => {
        const m1 = add(mul(b, m0 as TensorLike), mul(1 - b, g as TensorLike))
        return [c === 1 ? m1 : div(m1, c), m1]
      })
      return result(u as P, Object.freeze({ count: t, ema: asTree(m) }))
    },
  })
}
