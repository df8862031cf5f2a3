/**
 * Step 6 of the seven steps, "stop or go back to 2", as stream combinators over training
 * states: a step budget (`untilStep`), a target loss (`untilLoss` on one step's minibatch
 * loss, `untilEpochLoss` on an epoch's mean loss), a target accuracy on a
 * validation set (`untilAccuracy`), and early stopping (`patience`). Each is a function
 * `Stream<A> -> Stream<A>` for `pipe`, and each keeps the state that met the condition (it is
 * the last one emitted), like `takeUntil`. `everyEpoch` thins a run to the state at the end
 * of each epoch, and `withMetric`/`withMetrics` evaluate functions of the state and record
 * them in its metrics, so expensive evaluations run once per epoch when placed after
 * `everyEpoch`; `withEpochLoss` records the running mean loss of the epoch. `evaluate`
 * averages a per-batch measurement over a whole data set.
 *
 * Laziness: no combinator pulls an element it does not need, so a stop condition never
 * computes a training step past the one that stops the run (`untilStep(n)` pulls exactly
 * the states up to step n). `patience` counts within one iteration: resuming a run starts
 * its count afresh.
 *
 * Purity: the combinators call only the functions given to them; `withMetric` returns new
 * frozen states and leaves the originals untouched.
 */
import { PurediffError } from '../errors.js'
import { Tensor } from '../tensor/Tensor.js'
import type { Dataset } from './batches.js'
import { filter, fromGenerator, map, takeUntil } from './Stream.js'
import type { Stream } from './Stream.js'
import type { Metrics } from './train.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The fields the stop conditions read; every `TrainState` has them. @category model @since 0.1.0 */
export interface Progress {
  readonly step: number
  readonly epoch: number
  readonly epochEnd: boolean
  readonly loss: number
  readonly metrics: Metrics
}

/** A measurement of a state: a metric's name or a function. @category model @since 0.1.0 */
export type Measure<A> = string | ((a: A) => number)

/** Options of `patience`. @category model @since 0.1.0 */
export interface PatienceOptions {
  /** 'min' (default: losses) or 'max' (accuracies). */
  readonly mode?: 'min' | 'max'
  /** An improvement must beat the best value by more than this; default 0. */
  readonly minDelta?: number
}

const valueError = (op: string, message: string): PurediffError => new PurediffError('ValueError', message, { op })

const measureOf = <A extends Progress>(m: Measure<A>, op: string): ((a: A) => number) => {
  if (typeof m === 'function') return m
  return (a) => {
    const v = a.metrics[m]
    if (typeof v !== 'number') {
      throw valueError(
        op,
        `the state at step ${a.step} has no metric ${JSON.stringify(m)} (it has ${Object.keys(a.metrics).join(', ') || 'none'}); add it with withMetric`,
      )
    }
    return v
  }
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * The states up to and including step `n`. Stops without computing step n + 1, and yields
 * nothing when the stream starts past step n (a resumed run that is already done).
 * @example
 * pipe(train(config), untilStep(100), last) // some(state at step 100)
 * pipe(train(config), untilStep(100), last, O.map((s) => s.step), O.toUndefined) // 100
 * @category combinators
 * @since 0.1.0
 */
export const untilStep = (n: number): (<A extends { readonly step: number }>(self: Stream<A>) => Stream<A>) => {
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw valueError('untilStep', `expected a non-negative integer step, got ${n}`)
  return (self) =>
    fromGenerator(function* () {
      for (const a of self) {
        if (a.step > n) return
        yield a
        if (a.step >= n) return
      }
    })
}

/**
 * The states up to and including the first whose loss is at most `target`. NOTE: this is
 * the loss of one step's minibatch (noisy: one lucky batch can stop a run); with full-batch
 * training it is the training loss. To stop on the mean loss of a whole epoch, use
 * `untilEpochLoss`.
 * @example
 * pipe(train(config), untilLoss(1e-3), untilStep(10_000), last)
 * // the run stops at the first state whose minibatch loss is at most 1e-3
 * pipe(train(config), untilLoss(1e-3), untilStep(10_000), last, O.map((s) => s.loss <= 1e-3), O.toUndefined) // true
 * @category combinators
 * @since 0.1.0
 */
export const untilLoss =
  (target: number) =>
  <A extends { readonly loss: number }>(self: Stream<A>): Stream<A> =>
    takeUntil((a: A) => a.loss <= target)(self)

/**
 * The states up to and including the end of the first epoch whose mean step loss is at most
 * `target`: each state gets the running mean of its epoch's losses as `metrics[name]`
 * (default `'epochLoss'`, as `withEpochLoss`), and the run stops only at an epoch's last
 * step. The epoch-mean twin of `untilLoss` (which reads a single minibatch's loss).
 * @example
 * pipe(train(config), untilEpochLoss(1e-3), untilStep(10_000), last)
 * // the run ends at an epoch's last step, where the epoch's mean loss is at most 1e-3
 * const end = pipe(train(config), untilEpochLoss(1e-3), untilStep(10_000), last, O.toUndefined)!
 * end.epochEnd && (end.metrics.epochLoss as number) <= 1e-3 && end.step % 4 === 0
 * @category combinators
 * @since 0.2.0
 */
export const untilEpochLoss = (target: number, name = 'epochLoss') => {
  if (typeof target !== 'number' || Number.isNaN(target))
    throw valueError('untilEpochLoss', `expected a target loss, got ${String(target)}`)
  return <A extends Progress>(self: Stream<A>): Stream<A> =>
    takeUntil((a: A) => a.epochEnd && (a.metrics[name] as number) <= target)(withEpochLoss(name)(self))
}

/**
 * Add the measurements `f(state)` (a record of numbers) to each state's metrics (new frozen
 * states; a name already present is overwritten).
 * @example
 * const run = pipe(train(config), everyEpoch, withMetrics((s) => ({ valLoss: valLoss(s.params), updates: s.step })))
 * const first = pipe(run, Stream.head, O.toUndefined)!
 * first.metrics.updates // 4
 * first.metrics.valLoss === valLoss(first.params)
 * @category combinators
 * @since 0.1.0
 */
export const withMetrics =
  <A extends Progress>(f: (a: A) => Metrics) =>
  (self: Stream<A>): Stream<A> =>
    map((a: A): A => Object.freeze({ ...a, metrics: Object.freeze({ ...a.metrics, ...f(a) }) }))(self)

/**
 * Record `f(state)` in each state's metrics under `name` (new frozen states).
 * @example
 * const run = pipe(train(config), everyEpoch, withMetric('valLoss', (s) => valLoss(s.params)))
 * const [e1, e2] = pipe(run, Stream.take(2), Stream.toArray)
 * // the full-batch loss falls from the first epoch to the second
 * e2!.metrics.valLoss! <= e1!.metrics.valLoss!
 * @category combinators
 * @since 0.1.0
 */
export const withMetric = <A extends Progress>(name: string, f: (a: A) => number): ((self: Stream<A>) => Stream<A>) =>
  withMetrics((a: A) => ({ [name]: f(a) }))

/**
 * Evaluate `evaluate(params)` (an accuracy on a validation set) on every state that passes,
 * record it as `metrics[name]` (default `'accuracy'`), and stop after the first state where
 * it reaches `target`. Place it after `everyEpoch` (or `every(k)`) to evaluate less often.
 * @example
 * // an "accuracy" of a regression: the share of the 64 targets predicted within 0.1
 * const within = (p: Params) => mean(lessEqual(abs(sub(predict(p, x), y)), 0.1)).item()
 * const end = pipe(train(config), everyEpoch, untilAccuracy(0.95, within), untilStep(5000), last, O.toUndefined)!
 * 0.95 <= (end.metrics.accuracy as number) && end.step < 5000
 * @category combinators
 * @since 0.1.0
 */
export const untilAccuracy =
  <P>(target: number, evaluate: (params: P) => number, name = 'accuracy') =>
  <A extends Progress & { readonly params: P }>(self: Stream<A>): Stream<A> =>
    takeUntil((a: A) => (a.metrics[name] as number) >= target)(withMetric<A>(name, (a) => evaluate(a.params))(self))

/**
 * Early stopping: stop after `k` consecutive states that do not improve on the best value
 * of `metric` seen so far (the k-th of them is the last emitted). `mode: 'max'` for
 * accuracies; `minDelta` is the smallest change that counts as an improvement. A NaN never
 * improves.
 * @example
 * pipe(train(config), everyEpoch, withMetric('valLoss', valLoss), patience(3, 'valLoss'))
 * // a metric that never improves on its first value stops the run after 3 more states
 * pipe(train(config), everyEpoch, withMetric('flat', () => 1), patience(3, 'flat'), Stream.toArray).length // 4
 * @category combinators
 * @since 0.1.0
 */
export const patience = <A extends Progress>(
  k: number,
  metric: Measure<A>,
  options: PatienceOptions = {},
): ((self: Stream<A>) => Stream<A>) => {
  if (!(Number.isSafeInteger(k) && k >= 1))
    throw valueError('patience', `expected a positive integer patience, got ${k}`)
  const mode = options.mode ?? 'min'
  const minDelta = options.minDelta ?? 0
  if (mode !== 'min' && mode !== 'max') throw valueError('patience', `mode must be 'min' or 'max', got ${String(mode)}`)
  if (!(minDelta >= 0)) throw valueError('patience', `minDelta must be a non-negative number, got ${minDelta}`)
  const measure = measureOf(metric, 'patience')
  const sign = mode === 'min' ? 1 : -1
  return (self) =>
    fromGenerator(function* () {
      let best = Infinity // in "smaller is better" units: sign · value
      let bad = 0
      for (const a of self) {
        const v = sign * measure(a)
        if (v < best - minDelta) {
          best = v
          bad = 0
        } else bad++
        yield a
        if (bad >= k) return
      }
    })
}

/**
 * Only the states at the end of an epoch (after its last batch).
 * @example
 * pipe(train(config), everyEpoch, Stream.take(10)) // ten epochs
 * // 64 examples in batches of 16: an epoch is 4 steps
 * pipe(train(config), everyEpoch, Stream.take(3), Stream.toArray).map((s) => s.step) // [4, 8, 12]
 * @category combinators
 * @since 0.1.0
 */
export const everyEpoch = <A extends { readonly epochEnd: boolean }>(self: Stream<A>): Stream<A> =>
  filter((a: A) => a.epochEnd)(self)

/**
 * Record in each state's metrics (under `name`, default `'epochLoss'`) the mean of the step
 * losses of its epoch so far, so at the end of an epoch it is that epoch's mean training
 * loss (each step counts once, whatever its batch size). A stream that starts mid-epoch (a
 * resumed run) averages from its first state.
 * @example
 * pipe(train(config), withEpochLoss(), everyEpoch) // one state per epoch, metrics.epochLoss
 * // the first epoch's epochLoss is the mean of its 4 step losses
 * const first = pipe(train(config), withEpochLoss(), Stream.take(6), Stream.toArray).filter((s) => s.step >= 1 && s.step <= 4)
 * first[3]?.metrics.epochLoss // ≈ first.reduce((t, s) => t + s.loss, 0) / 4
 * @category combinators
 * @since 0.1.0
 */
export const withEpochLoss =
  (name = 'epochLoss') =>
  <A extends Progress>(self: Stream<A>): Stream<A> =>
    fromGenerator(function* () {
      let sum = 0
      let count = 0
      for (const a of self) {
        sum += a.loss
        count++
        yield Object.freeze({ ...a, metrics: Object.freeze({ ...a.metrics, [name]: sum / count }) })
        if (a.epochEnd) {
          sum = 0
          count = 0
        }
      }
    })

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The mean of a per-example measurement over a whole data set, in batches of `batchSize`
 * taken in order: `f(params, batch)` returns the batch's mean (a number or scalar tensor),
 * and batches are weighted by their size. Use it for a validation accuracy or loss.
 * @example
 * const valAccuracy = evaluate((p, b) => accuracy(model.apply(p, b.x), b.y), fromTensors(validation), 1000)
 * valAccuracy(state.params) // 0.97...
 * @category utils
 * @since 0.1.0
 */
export const evaluate =
  <P, B>(f: (params: P, batch: B) => Tensor | number, data: Dataset<B>, batchSize = data.size) =>
  (params: P): number => {
    if (!(Number.isSafeInteger(batchSize) && batchSize >= 1))
      throw valueError('evaluate', `batchSize must be a positive integer, got ${batchSize}`)
    let total = 0
    for (let start = 0; start < data.size; start += batchSize) {
      const end = Math.min(start + batchSize, data.size)
      const idx = Array.from({ length: end - start }, (_, i) => start + i)
      const v = f(params, data.batch(idx))
      const x = typeof v === 'number' ? v : v instanceof Tensor && v.size === 1 ? v.item() : undefined
      if (x === undefined) throw valueError('evaluate', 'the measurement must return a number or a scalar tensor')
      total += x * (end - start)
    }
    return total / data.size
  }
