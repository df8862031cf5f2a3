/**
 * Schedules: pure functions from the update count (0 for the first update) to a number,
 * used as learning rates or as scales (`scaleBySchedule`). They follow optax:
 *
 *   constant(v)(t)                  = v
 *   linear(a, b, T, {begin})(t)     = a + (b − a) · clamp((t − begin)/T, 0, 1)
 *   exponentialDecay(v, T, r)(t)    = v · r^((t − begin)/T)   (exponent floored with `staircase`;
 *                                     v before `begin`; clamped at `endValue` if given)
 *   cosineDecay(v, T, {α, p})(t)    = v · ((1 − α) · c^p + α),  c = ½(1 + cos(π · min(t, T)/T))
 *   warmupCosineDecay(v₀, peak, W, T, {end, p})(t)
 *                                   = linear from v₀ to peak over t ∈ [0, W], then
 *                                     end + (peak − end) · c^p with c the cosine above over T − W steps
 *   piecewiseConstant(v, {b: s, ...})(t) = v · Π_{b ≤ t} s_b   (each scale applies from its boundary on)
 *   sgdr([c₁, c₂, ...])(t)          = warmupCosineDecay(cᵢ)(t − Bᵢ₋₁), cycle i covering [Bᵢ₋₁, Bᵢ), Bᵢ = Σ_{j≤i} decaySteps_j
 *                                     (warm restarts, Loshchilov & Hutter 2017; the last cycle holds its end value)
 *
 * Purity: a schedule is a plain function of its argument; nothing is captured mutably.
 */
import { PurediffError } from '../errors.js'
import { checkNumber } from './internal.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A schedule: the value to use at update `step` (0, 1, 2, ...).
 * @category model
 * @since 0.1.0
 */
export type Schedule = (step: number) => number

/**
 * A hyperparameter that may vary with the step: a number or a schedule.
 * @category model
 * @since 0.1.0
 */
export type ScalarOrSchedule = number | Schedule

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkStep = (step: unknown, op: string): number => {
  if (typeof step !== 'number' || Number.isNaN(step)) {
    throw new PurediffError('ValueError', `the step must be a number, got ${String(step)}`, { op })
  }
  return step
}

const checkSteps = (n: unknown, name: string, op: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new PurediffError('ValueError', `${name} must be a non-negative integer, got ${String(n)}`, { op })
  }
  return n
}

/**
 * The value of a number-or-schedule at a step.
 * @example
 * valueAt(0.1, 5) // 0.1
 * valueAt((step) => 1 / (step + 1), 3) // 0.25
 * @category utils
 * @since 0.1.0
 */
export const valueAt = (s: ScalarOrSchedule, step: number): number => (typeof s === 'number' ? s : s(step))

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The same value at every step.
 * @example
 * constant(0.01)(0) // 0.01
 * constant(0.01)(1000) // 0.01
 * @category constructors
 * @since 0.1.0
 */
export const constant = (value: number): Schedule => {
  checkNumber(value, 'value', 'constant')
  return (step) => {
    checkStep(step, 'constant')
    return value
  }
}

/**
 * From `initValue` to `endValue` linearly over `transitionSteps` steps starting at
 * `transitionBegin`, constant before and after.
 * @example
 * linear(0, 1e-3, 100)(50) // 5e-4
 * @category constructors
 * @since 0.1.0
 */
export const linear = (
  initValue: number,
  endValue: number,
  transitionSteps: number,
  opts: { readonly transitionBegin?: number } = {},
): Schedule => {
  const op = 'linear'
  checkNumber(initValue, 'initValue', op)
  checkNumber(endValue, 'endValue', op)
  checkSteps(transitionSteps, 'transitionSteps', op)
  const begin = checkSteps(opts.transitionBegin ?? 0, 'transitionBegin', op)
  return (step) => {
    checkStep(step, op)
    if (transitionSteps === 0) return step < begin ? initValue : endValue
    const frac = Math.min(Math.max((step - begin) / transitionSteps, 0), 1)
    return initValue + (endValue - initValue) * frac
  }
}

/** Options of `exponentialDecay`. @category model @since 0.1.0 */
export interface ExponentialDecayOptions {
  /** Steps before decay starts (the value is `initValue` until then). */
  readonly transitionBegin?: number
  /** Decay in whole transitions (a step function) instead of continuously. */
  readonly staircase?: boolean
  /** A floor (when decaying) or ceiling (when growing) for the value. */
  readonly endValue?: number
}

/**
 * initValue · decayRate^((step − transitionBegin) / transitionSteps).
 * @example
 * exponentialDecay(0.1, 1000, 0.5)(2000) // 0.025
 * @category constructors
 * @since 0.1.0
 */
export const exponentialDecay = (
  initValue: number,
  transitionSteps: number,
  decayRate: number,
  opts: ExponentialDecayOptions = {},
): Schedule => {
  const op = 'exponentialDecay'
  checkNumber(initValue, 'initValue', op)
  checkSteps(transitionSteps, 'transitionSteps', op)
  checkNumber(decayRate, 'decayRate', op, { min: 0 })
  const begin = checkSteps(opts.transitionBegin ?? 0, 'transitionBegin', op)
  const end = opts.endValue === undefined ? undefined : checkNumber(opts.endValue, 'endValue', op)
  return (step) => {
    checkStep(step, op)
    if (transitionSteps === 0 || step <= begin) return initValue
    const p0 = (step - begin) / transitionSteps
    const p = opts.staircase === true ? Math.floor(p0) : p0
    const v = initValue * decayRate ** p
    if (end === undefined) return v
    return decayRate < 1 ? Math.max(v, end) : Math.min(v, end)
  }
}

/** Options of `cosineDecay`. @category model @since 0.1.0 */
export interface CosineDecayOptions {
  /** The final value as a fraction of the initial one (default 0). */
  readonly alpha?: number
  /** Power of the cosine factor (default 1). */
  readonly exponent?: number
}

/**
 * Half a cosine from `initValue` down to `alpha · initValue` over `decaySteps`, then flat
 * (Loshchilov & Hutter's SGDR without restarts).
 * @example
 * cosineDecay(1, 100)(50) // 0.5
 * @category constructors
 * @since 0.1.0
 */
export const cosineDecay = (initValue: number, decaySteps: number, opts: CosineDecayOptions = {}): Schedule => {
  const op = 'cosineDecay'
  checkNumber(initValue, 'initValue', op)
  checkSteps(decaySteps, 'decaySteps', op)
  if (decaySteps === 0) throw new PurediffError('ValueError', 'decaySteps must be positive', { op })
  const alpha = checkNumber(opts.alpha ?? 0, 'alpha', op)
  const exponent = checkNumber(opts.exponent ?? 1, 'exponent', op)
  return (step) => {
    checkStep(step, op)
    const c = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(step, 0), decaySteps)) / decaySteps))
    return initValue * ((1 - alpha) * c ** exponent + alpha)
  }
}

/** Options of `warmupCosineDecay`. @category model @since 0.1.0 */
export interface WarmupCosineDecayOptions {
  /** The value after `decaySteps` (default 0). */
  readonly endValue?: number
  /** Power of the cosine factor (default 1). */
  readonly exponent?: number
}

/**
 * A linear warmup from `initValue` to `peakValue` over `warmupSteps`, then a cosine decay
 * to `endValue`; `decaySteps` counts the whole schedule, warmup included (as optax).
 * @example
 * const s = warmupCosineDecay(0, 1e-3, 100, 1000) // peaks at step 100, reaches 0 at step 1000
 * s(0) // 0
 * s(50) // ≈ 5e-4
 * s(100) // ≈ 1e-3
 * s(1000) // ≈ 0
 * @category constructors
 * @since 0.1.0
 */
export const warmupCosineDecay = (
  initValue: number,
  peakValue: number,
  warmupSteps: number,
  decaySteps: number,
  opts: WarmupCosineDecayOptions = {},
): Schedule => {
  const op = 'warmupCosineDecay'
  checkNumber(initValue, 'initValue', op)
  checkNumber(peakValue, 'peakValue', op)
  checkSteps(warmupSteps, 'warmupSteps', op)
  checkSteps(decaySteps, 'decaySteps', op)
  if (decaySteps <= warmupSteps) {
    throw new PurediffError('ValueError', `decaySteps (${decaySteps}) must exceed warmupSteps (${warmupSteps})`, { op })
  }
  const end = checkNumber(opts.endValue ?? 0, 'endValue', op)
  const exponent = checkNumber(opts.exponent ?? 1, 'exponent', op)
  const cosineSteps = decaySteps - warmupSteps
  return (step) => {
    checkStep(step, op)
    if (step < warmupSteps) return initValue + ((peakValue - initValue) * Math.max(step, 0)) / warmupSteps
    const t = Math.min(step - warmupSteps, cosineSteps)
    const c = 0.5 * (1 + Math.cos((Math.PI * t) / cosineSteps))
    return end + (peakValue - end) * c ** exponent
  }
}

/**
 * `initValue`, multiplied by each scale from its boundary on: `{ 100: 0.1, 200: 0.1 }` gives
 * v for steps < 100, v/10 from 100, v/100 from 200. Boundaries may also be given as
 * `[boundary, scale]` pairs.
 * @example
 * piecewiseConstant(0.1, { 1000: 0.1 })(1000) // 0.01
 * @category constructors
 * @since 0.1.0
 */
export const piecewiseConstant = (
  initValue: number,
  boundariesAndScales: Readonly<Record<number, number>> | ReadonlyArray<readonly [number, number]>,
): Schedule => {
  const op = 'piecewiseConstant'
  checkNumber(initValue, 'initValue', op)
  const pairs: Array<readonly [number, number]> = Array.isArray(boundariesAndScales)
    ? [...(boundariesAndScales as ReadonlyArray<readonly [number, number]>)]
    : Object.entries(boundariesAndScales).map(([b, s]) => [Number(b), s] as const)
  for (const [b, s] of pairs) {
    checkSteps(b, 'a boundary', op)
    checkNumber(s, `the scale at boundary ${b}`, op)
  }
  const sorted = Object.freeze(pairs.sort((a, b) => a[0] - b[0]))
  return (step) => {
    checkStep(step, op)
    let v = initValue
    for (const [b, s] of sorted) if (step >= b) v *= s
    return v
  }
}

/** One cycle of `sgdr`: the arguments of `warmupCosineDecay`. @category model @since 0.2.0 */
export interface SgdrCycle extends WarmupCosineDecayOptions {
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  readonly decaySteps: number
}

/**
 * SGDR, cosine decay with warm restarts: warmup-cosine cycles one after the other, each
 * restarting its own count at its boundary (optax's `sgdr_schedule`).
 * @example
 * const s = sgdr([{ initValue: 0, peakValue: 1, warmupSteps: 0, decaySteps: 10 }, { initValue: 0, peakValue: 0.5, warmupSteps: 0, decaySteps: 10 }])
 * s(10) // ≈ 0.5
 * @category constructors
 * @since 0.2.0
 */
export const sgdr = (cycles: ReadonlyArray<SgdrCycle>): Schedule => {
  const op = 'sgdr'
  if (!Array.isArray(cycles) || cycles.length === 0)
    throw new PurediffError('ValueError', 'expected a non-empty array of cycles', { op })
  const parts = cycles.map((c) => {
    const { initValue, peakValue, warmupSteps, decaySteps, ...rest } = c
    return warmupCosineDecay(initValue, peakValue, warmupSteps, decaySteps, rest)
  })
  const starts: number[] = []
  cycles.reduce((b, c) => {
    starts.push(b)
    return b + c.decaySteps
  }, 0)
  return (step) => {
    checkStep(step, op)
    let i = 0
    while (i + 1 < starts.length && step >= (starts[i + 1] as number)) i++
    return (parts[i] as Schedule)(step - (starts[i] as number))
  }
}
