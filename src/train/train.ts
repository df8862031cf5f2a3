/**
 * Training as an unfolded pure stream of immutable states. One step is the middle of the
 * seven steps: take the next minibatch, predict and compute the loss (2, 3), its gradient
 * with respect to every weight (4), and let the optimizer move the weights (5). `train`
 * unfolds that step from the initial weights (1) into a lazy, infinite `Stream` of frozen
 * `TrainState`s; stopping (6) is left to stream combinators (`untilStep`, `untilLoss`,
 * `untilAccuracy`, `patience` in `stop.ts`, or plain `take`/`takeUntil`), so "stop or go
 * back to 2" is a pipe, not a flag inside a loop:
 * `state_{k+1} = step(state_k)`, `train(config) = [state_1, state_2, ...]`.
 *
 * Keys: the run's key `key` is split once into `[initKey, dataKey, stepKey]`. `init` gets
 * `initKey`; epoch e visits the data in the order `permutation(foldIn(dataKey, e), n)`
 * (see `batches.ts`); the loss of step k gets `foldIn(stepKey, k)` (for dropout). Every
 * random choice is therefore a pure function of `(key, step)`, and a state, which holds the
 * run's key, its step, its weights and its optimizer state, holds everything needed to
 * continue: `resume(state_k, config)` yields exactly `state_{k+1}, state_{k+2}, ...` of the
 * original run, to the last bit (the kernels are deterministic loops).
 *
 * Purity contract: building a stream calls no user function; each iteration starts from
 * the initial state again and recomputes every step, so iterating twice gives equal states
 * (the replay law). Every state is frozen, and nothing a user handed in is mutated. The only
 * per-iteration memory is the current epoch's permutation, which lives inside the iterator.
 */
import { PurediffError } from '../errors.js'
import { jit } from '../staging/index.js'
import { add, cast } from '../ops/index.js'
import { foldIn, isKey, key as keyOf, split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { Tensor, dataOf } from '../tensor/Tensor.js'
import { valueAndGrad } from '../transforms/index.js'
import { assertSameStructure, flatten, keyPaths, unflatten, zipWith } from '../tree/Tree.js'
import type { Leaf } from '../tree/Tree.js'
import { batchOf, batchPlan, epochOrder } from './batches.js'
import type { BatchPlan, Dataset, LastBatch } from './batches.js'
import { fromGenerator } from './Stream.js'
import type { Stream } from './Stream.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Named scalar measurements of one step (from the loss's aux output or `config.metrics`),
 * or added later by combinators such as `withMetric`.
 * @category model
 * @since 0.1.0
 */
export type Metrics = Readonly<Record<string, number>>

/**
 * One state of a training run, after `step` updates.
 * @category model
 * @since 0.1.0
 */
export interface TrainState<P, S> {
  /** Number of optimizer updates applied so far (1 for the first state a run yields). */
  readonly step: number
  /** Completed epochs: ⌊step / stepsPerEpoch⌋. */
  readonly epoch: number
  /** Whether this step used the last batch of an epoch (`step` is a multiple of stepsPerEpoch). */
  readonly epochEnd: boolean
  /** The weights after this step. */
  readonly params: P
  /** The optimizer's state after this step. */
  readonly optState: S
  /** The minibatch loss of this step, at the weights before the update; NaN before any step. */
  readonly loss: number
  readonly metrics: Metrics
  /** The run's key; every random choice is derived from it and the step. */
  readonly key: Key
}

/**
 * The loss of a batch: a scalar, or `[scalar, aux]` where aux is any tree (a record of
 * scalars becomes the state's metrics). `key` is this step's key, for dropout and the like.
 * @category model
 * @since 0.1.0
 */
export type LossFn<P, B> = (params: P, batch: B, key: Key) => Tensor | number | readonly [Tensor | number, unknown]

/**
 * An optax-style pure optimizer (structurally: anything with these two functions).
 * @category model
 * @since 0.1.0
 */
export interface Optimizer<P, S> {
  readonly init: (params: P) => S
  readonly update: (grads: P, state: S, params: P) => readonly [P, S]
}

/**
 * What `config.metrics` sees after each step's gradient evaluation.
 * @category model
 * @since 0.1.0
 */
export interface StepContext<P, B> {
  /** The weights the loss was evaluated at (before the update). */
  readonly params: P
  readonly batch: B
  readonly loss: number
  readonly aux: unknown
  readonly step: number
}

interface ConfigBase<P, B, S> {
  /** `(params, batch, key) => loss` or `[loss, aux]`. */
  readonly loss: LossFn<P, B>
  /** The weights' type is inferred from `init`/`params` and `loss`, never from a generic optimizer. */
  readonly optimizer: Optimizer<NoInfer<P>, S>
  readonly data: Dataset<B>
  readonly batchSize: number
  /** The last partial batch of an epoch: 'keep' (default) or 'drop'; see `batches.ts`. */
  readonly lastBatch?: LastBatch
  /** The run's key (required even with explicit `params`: it orders the batches). */
  readonly key: Key
  /** Per-step metrics; default: the aux output when it is a record of scalars. */
  readonly metrics?: (ctx: StepContext<P, B>) => Metrics
  /**
   * Compile the step with `jit` (default true): the loss and gradient as one program, the
   * optimizer update and the weight update as another. The states are the same, bit for
   * bit (the compiler reorders no sum). A part that cannot be staged (a loss that takes the
   * step key, a value read as a number, a leaf that is not a tensor) runs eagerly instead.
   */
  readonly jit?: boolean
  /**
   * A step whose loss or gradient is NaN or ±Infinity: `'error'` (default) stops the run with
   * a `PurediffError` naming the step; `'skip'` leaves the weights and the optimizer state as
   * they were, still consumes the batch, and counts the skipped steps in
   * `metrics.skippedSteps` (carried by every later state).
   */
  readonly nonFinite?: NonFinite
}

/**
 * What a step with a non-finite loss or gradient does: stop with an error, or skip the update.
 * @category model
 * @since 0.2.0
 */
export type NonFinite = 'error' | 'skip'

/**
 * A training run: a loss, an optimizer, data, a batch size and a key, plus the starting
 * weights: `init`, an initializer `init(key)` or the weights themselves (a record), or
 * equivalently `params` (the weights).
 * @category model
 * @since 0.1.0
 */
export type TrainConfig<P, B, S> = ConfigBase<P, B, S> &
  ({ readonly init: P | ((key: Key) => P); readonly params?: never } | { readonly params: P; readonly init?: never })

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The three independent keys of a run. */
const runKeys = (key: Key): { readonly initKey: Key; readonly dataKey: Key; readonly stepKey: Key } => {
  const [initKey, dataKey, stepKey] = split(key, 3) as readonly [Key, Key, Key]
  return { initKey, dataKey, stepKey }
}

/**
 * The key handed to the loss at step `step` (0-based: the step that produces state step + 1).
 * @example
 * isKey(stepKeyAt(key(0), 5)) // true
 * // each step draws from its own key
 * uniform(stepKeyAt(key(0), 0), []).item() !== uniform(stepKeyAt(key(0), 1), []).item() // true
 * @category utils
 * @since 0.1.0
 */
export const stepKeyAt = (key: Key, step: number): Key => foldIn(runKeys(key).stepKey, step)

const scalarOf = (x: unknown): number | undefined => {
  if (typeof x === 'number') return x
  if (x instanceof Tensor && x.size === 1) return x.item()
  return undefined
}

/** The default metrics: an aux record whose values are all scalars, else none. */
const auxMetrics = (aux: unknown): Metrics => {
  if (typeof aux !== 'object' || aux === null || Array.isArray(aux) || aux instanceof Tensor) return EMPTY
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(aux)) {
    const x = scalarOf(v)
    if (x === undefined) return EMPTY
    out[k] = x
  }
  return Object.freeze(out)
}

const EMPTY: Metrics = Object.freeze({})

/** The key a compiled loss that ignores its key is traced with. */
const UNUSED_KEY: Key = split(keyOf(0), 1)[0] as Key

/** The metric counting steps skipped for a non-finite loss or gradient (`nonFinite: 'skip'`). */
const SKIPPED = 'skippedSteps'

/** `the gradient at 'w' holds NaN`, or undefined when every gradient entry is finite. */
const nonFiniteLeaf = (grads: unknown): string | undefined => {
  const [leaves, def] = flatten(grads, 'train')
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i] as Leaf
    const data = typeof l === 'number' ? [l] : dataOf(l.concrete()) // read in place, no copy
    for (let j = 0; j < data.length; j++) {
      const v = data[j] as number
      if (!Number.isFinite(v)) {
        const path = keyPaths(def)[i] as string
        return `the gradient${path === '' ? '' : ` at '${path}'`} holds ${v}`
      }
    }
  }
  return undefined
}

/**
 * `params + updates`, leaf by leaf, keeping each parameter's dtype (an update computed in
 * float64 must not silently turn a float32 weight into float64).
 * @example
 * addUpdates({ w: tensor([1, 2]) }, { w: tensor([0.5, -1]) }).w // [1.5, 1]
 * // a float32 weight stays float32 under a float64 update
 * addUpdates(tensor([1], 'float32'), tensor([0.5])).dtype // 'float32'
 * @category utils
 * @since 0.1.0
 */
export const addUpdates = <P>(params: P, updates: P): P =>
  zipWith(
    params,
    updates,
    (p: Leaf, u: Leaf): Leaf => {
      if (typeof p === 'number') return typeof u === 'number' ? p + u : add(p, u).item()
      const y = add(p, u)
      return y.dtype === p.dtype ? y : cast(y, p.dtype)
    },
    'train.addUpdates',
  )

const checkConfig = <P, B, S>(config: ConfigBase<P, B, S>, op: string): BatchPlan => {
  if (!isKey(config.key))
    throw new PurediffError('ValueError', 'config.key must be a PRNG key (from key(seed))', { op })
  if (typeof config.loss !== 'function') throw new PurediffError('ValueError', 'config.loss must be a function', { op })
  const o = config.optimizer as Partial<Optimizer<P, S>> | undefined
  if (typeof o?.init !== 'function' || typeof o.update !== 'function') {
    throw new PurediffError('ValueError', 'config.optimizer must have init(params) and update(grads, state, params)', {
      op,
    })
  }
  if (typeof config.data?.batch !== 'function') {
    throw new PurediffError('ValueError', 'config.data must be a Dataset { size, batch(indices) } (see fromTensors)', {
      op,
    })
  }
  const nf: unknown = config.nonFinite
  if (nf !== undefined && nf !== 'error' && nf !== 'skip') {
    throw new PurediffError(
      'ValueError',
      `config.nonFinite must be 'error' or 'skip', got ${typeof nf === 'string' ? JSON.stringify(nf) : typeof nf}`,
      { op },
    )
  }
  return batchPlan(config.data.size, config.batchSize, config.lastBatch ?? 'keep')
}

/**
 * `f` compiled with `jit`, or `f` itself from the first call on which staging fails (a
 * value read as a number or validated as one, a leaf that is not a tensor): the results
 * are the same either way.
 */
const jitOrEager = <A extends unknown[], R>(
  f: (...args: A) => R,
): ((...args: A) => R) & { readonly eager: boolean } => {
  const jf = jit(f as (...args: never[]) => unknown) as unknown as (...args: A) => R
  let eager = false
  const run = (...args: A): R => {
    if (eager) return f(...args)
    try {
      return jf(...args)
    } catch (e) {
      // staging failed (or the step is wrong, and then the eager call says so again)
      if (!(e instanceof PurediffError)) throw e
      eager = true
      return f(...args)
    }
  }
  return Object.defineProperty(run, 'eager', { get: () => eager }) as typeof run & { readonly eager: boolean }
}

/**
 * `state` against what `expected` says it must be: the same tree structure (keys, array
 * lengths) and, leaf by leaf, the same shape and dtype. Throws a `TreeError` naming the key
 * path of the first difference. `what` names the part of the state (`params`, `optState`).
 */
const checkLike = (state: unknown, expected: unknown, what: string, hint: string): void => {
  const op = 'resume'
  const [ls, ds] = flatten(state, op)
  const [le, de] = flatten(expected, op)
  try {
    assertSameStructure(ds, de, op)
  } catch (e) {
    if (e instanceof PurediffError) {
      throw new PurediffError(
        'TreeError',
        `the state's ${what} does not match ${hint}: ${e.message.replace(/^resume: /, '')}`,
        { op },
      )
    }
    throw e
  }
  const paths = keyPaths(ds)
  for (let i = 0; i < ls.length; i++) {
    const a = ls[i] as Leaf
    const b = le[i] as Leaf
    const sa = typeof a === 'number' ? 'a number' : `${a.dtype} [${a.shape.join(', ')}]`
    const sb = typeof b === 'number' ? 'a number' : `${b.dtype} [${b.shape.join(', ')}]`
    if (sa !== sb) {
      const path = paths[i] as string
      throw new PurediffError(
        'TreeError',
        `the state's ${what} does not match ${hint}: it holds ${sa} where ${sb} is expected`,
        {
          op,
          path: path === '' ? what : `${what}.${path}`.replace('.[', '['),
        },
      )
    }
  }
}

/** Give number leaves of `like` back as numbers (a compiled program returns scalars as tensors). */
const likeKinds = <T>(like: T, out: T): T => {
  const [ls, def] = flatten(like, 'train')
  const [os, odef] = flatten(out, 'train')
  if (
    ls.length !== os.length ||
    JSON.stringify(odef).replace(/"number"/g, '"tensor"') !== JSON.stringify(def).replace(/"number"/g, '"tensor"')
  )
    return out
  return unflatten<T>(
    odef,
    os.map((o, i) => (typeof ls[i] === 'number' && o instanceof Tensor && o.size === 1 ? o.item() : o)),
  )
}

const freezeState = <P, S>(s: TrainState<P, S>): TrainState<P, S> => Object.freeze(s)

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Step 1: the state before any update (step 0, loss NaN): the initial weights, from
 * `config.init(initKey)` or `config.params`, and the optimizer's initial state.
 * @example
 * initialState({ init: model.init, loss, optimizer: adam(1e-3), data, batchSize: 32, key: key(0) }).step // 0
 * @category constructors
 * @since 0.1.0
 */
export const initialState = <P, B, S>(config: TrainConfig<P, B, S>): TrainState<P, S> => {
  checkConfig(config, 'initialState')
  const init: unknown = config.init
  const params =
    init === undefined
      ? (config.params as P)
      : typeof init === 'function'
        ? (init as (key: Key) => P)(runKeys(config.key).initKey)
        : (init as P)
  flatten(params, 'initialState')
  return freezeState({
    step: 0,
    epoch: 0,
    epochEnd: false,
    params,
    optState: config.optimizer.init(params),
    loss: NaN,
    metrics: EMPTY,
    key: config.key,
  })
}

/**
 * The pure step function of a run: from the state after k updates to the state after
 * k + 1, taking batch k of the deterministic order (steps 2 to 5). `order(epoch)` may be
 * supplied to reuse an epoch's permutation; it defaults to recomputing it.
 * @example
 * const next = trainStep(config)
 * const s1 = next(state)
 * s1.step // 1
 * // one SGD step on a batch of 16 lowers the loss on all 64 examples
 * loss(s1.params).item() <= loss(state.params).item() // true
 * // it is pure: the same state gives the same next state
 * next(state).loss === s1.loss // true
 * @category constructors
 * @since 0.1.0
 */
export const trainStep = <P, B, S>(config: ConfigBase<P, B, S>): ((state: TrainState<P, S>) => TrainState<P, S>) => {
  const plan = checkConfig(config, 'trainStep')
  return makeStep(config, plan, (k, e) => epochOrder(k, plan.n, e))
}

const makeStep = <P, B, S>(
  config: ConfigBase<P, B, S>,
  plan: BatchPlan,
  order: (dataKey: Key, epoch: number) => ReadonlyArray<number>,
): ((state: TrainState<P, S>) => TrainState<P, S>) => {
  // Normalize `loss` to `[loss, aux]` once, so one valueAndGrad serves both shapes of loss.
  const withAux = (p: P, batch: B, k: Key): readonly [Tensor | number, unknown] => {
    const out = config.loss(p, batch, k)
    return Array.isArray(out) ? (out as readonly [Tensor | number, unknown]) : [out as Tensor | number, EMPTY]
  }
  const eagerLossAndGrad = valueAndGrad(withAux, { hasAux: true })
  const useJit = config.jit !== false
  // a loss that takes the step key draws random numbers from its values: it runs eagerly
  const compiledLoss =
    useJit && config.loss.length < 3 ? jitOrEager((p: P, batch: B) => eagerLossAndGrad(p, batch, UNUSED_KEY)) : null
  const lossAndGrad = (p: P, batch: B, k: Key) =>
    compiledLoss !== null ? compiledLoss(p, batch) : eagerLossAndGrad(p, batch, k)
  const update = (grads: P, optState: S, params: P): readonly [P, S] => {
    const [updates, next] = config.optimizer.update(grads, optState, params)
    return [addUpdates(params, updates), next]
  }
  const compiledUpdate = useJit ? jitOrEager(update) : null
  const nonFinite = config.nonFinite ?? 'error'
  return (s) => {
    const { dataKey, stepKey } = runKeys(s.key)
    const epochIndex = Math.floor(s.step / plan.stepsPerEpoch)
    const indices = batchOf(plan, order(dataKey, epochIndex), s.step - epochIndex * plan.stepsPerEpoch)
    const batch = config.data.batch(indices)
    // 2. predict, 3. loss, 4. gradient: one reverse pass gives the loss and d loss / d params.
    const [[lossT, aux], grads] = lossAndGrad(s.params, batch, foldIn(stepKey, s.step))
    const loss = lossT.item()
    const step = s.step + 1
    const skippedBefore = s.metrics[SKIPPED] ?? 0
    const bad = !Number.isFinite(loss) ? `the loss is ${loss}` : nonFiniteLeaf(grads)
    if (bad !== undefined) {
      if (nonFinite === 'error') {
        throw new PurediffError(
          'ValueError',
          `${bad} at step ${step} (epoch ${epochIndex}); the weights were not updated. Check the learning rate and the data, or pass nonFinite: 'skip' to skip such steps`,
          { op: 'train' },
        )
      }
      // 'skip': the batch is consumed, the weights and the optimizer state stay.
      return freezeState({
        step,
        epoch: Math.floor(step / plan.stepsPerEpoch),
        epochEnd: step % plan.stepsPerEpoch === 0,
        params: s.params,
        optState: s.optState,
        loss,
        metrics: Object.freeze({ [SKIPPED]: skippedBefore + 1 }),
        key: s.key,
      })
    }
    // 5. step: the optimizer turns gradients into updates; the weights move by them.
    const [params0, optState0] =
      compiledUpdate !== null ? compiledUpdate(grads, s.optState, s.params) : update(grads, s.optState, s.params)
    // a compiled update returns scalars as tensors; an eager one (the fallback) returns the optimizer's own leaves
    const compiled = compiledUpdate !== null && !compiledUpdate.eager
    const params = compiled ? likeKinds(s.params, params0) : params0
    const optState = compiled ? likeKinds(s.optState, optState0) : optState0
    const measured =
      config.metrics !== undefined
        ? Object.freeze({ ...config.metrics({ params: s.params, batch, loss, aux, step }) })
        : auxMetrics(aux)
    const metrics = skippedBefore > 0 ? Object.freeze({ ...measured, [SKIPPED]: skippedBefore }) : measured
    return freezeState({
      step,
      epoch: Math.floor(step / plan.stepsPerEpoch),
      epochEnd: step % plan.stepsPerEpoch === 0,
      params,
      optState,
      loss,
      metrics,
      key: s.key,
    })
  }
}

/**
 * Continue a run from any of its states: the lazy, infinite stream of the states after
 * `state`, identical (bit for bit) to the rest of the original run when `config` is the
 * run's config (its `key` is ignored: the state carries the weights and the key). The state
 * is checked first: its weights must have the structure, shapes and dtypes of the model's
 * (`config.init` run on the run's init key, or `config.params`, when given), and its
 * optimizer state those of `config.optimizer.init(state.params)`; a mismatch is a
 * `TreeError` naming the key path (a checkpoint of another model, or an Adam state resumed
 * under `sgd`).
 * @example
 * const s100 = pipe(train(config), untilStep(100), last)
 * pipe(resume(s100.value, config), untilStep(200)) // = the original run's steps 101..200
 * @category constructors
 * @since 0.1.0
 */
export const resume = <P, B, S>(
  state: TrainState<P, S>,
  config: ConfigBase<P, B, S> & { readonly init?: P | ((key: Key) => P); readonly params?: P },
): Stream<TrainState<P, S>> => {
  checkConfig({ ...config, key: state.key }, 'resume')
  // The weights must be the model's (when the config says what the model is), and the
  // optimizer state must be what this optimizer keeps for them: not an Adam state under sgd.
  const init: unknown = config.init
  const model =
    init !== undefined
      ? typeof init === 'function'
        ? (init as (key: Key) => P)(runKeys(state.key).initKey)
        : (init as P)
      : config.params
  if (model !== undefined) checkLike(state.params, model, 'params', "the model's weights (config.init / config.params)")
  checkLike(
    state.optState,
    config.optimizer.init(state.params),
    'optState',
    'the state config.optimizer keeps (optimizer.init(params))',
  )
  return resumeUnchecked(state, config)
}

/** `resume` without the structure checks (for `train`, whose state is built from the config). */
const resumeUnchecked = <P, B, S>(state: TrainState<P, S>, config: ConfigBase<P, B, S>): Stream<TrainState<P, S>> => {
  const plan = checkConfig({ ...config, key: state.key }, 'resume')
  if (!(Number.isSafeInteger(state.step) && state.step >= 0)) {
    throw new PurediffError('ValueError', `state.step must be a non-negative integer, got ${String(state.step)}`, {
      op: 'resume',
    })
  }
  return fromGenerator(function* () {
    // The one piece of per-iteration memory: the current epoch's permutation.
    let cached: { epoch: number; order: ReadonlyArray<number> } | undefined
    const order = (dataKey: Key, epoch: number): ReadonlyArray<number> => {
      if (cached === undefined || cached.epoch !== epoch) cached = { epoch, order: epochOrder(dataKey, plan.n, epoch) }
      return cached.order
    }
    const step = makeStep(config, plan, order)
    let s = state
    for (;;) {
      s = step(s)
      yield s
    }
  })
}

/**
 * The seven steps as a stream: the states after 1, 2, 3, ... updates, starting from
 * `init(initKey)` (or `params`). Infinite and lazy: bound it with a stop condition.
 * Iterating twice recomputes the same run.
 * @example
 * const run = pipe(
 *   train({ init: model.init, loss, optimizer: adam(1e-3), data: fromTensors({ x, y }), batchSize: 64, key: key(0) }),
 *   untilStep(1000),
 * )
 * const final = last(run)
 * pipe(final, O.map((s) => s.step), O.toUndefined) // 1000
 * @category constructors
 * @since 0.1.0
 */
export const train = <P, B, S>(config: TrainConfig<P, B, S>): Stream<TrainState<P, S>> => {
  checkConfig(config, 'train')
  if ((config.init === undefined) === (config.params === undefined)) {
    throw new PurediffError('ValueError', 'give exactly one of config.init (a function of a key) and config.params', {
      op: 'train',
    })
  }
  return fromGenerator(function* () {
    // Step 1 (initialize) runs when iteration starts, not when the stream is built.
    yield* resumeUnchecked(initialState(config), config)
  })
}
