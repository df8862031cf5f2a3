/**
 * Optimizers as pure gradient transformations (optax's design): a transformation is a pair
 *   init(params) → state,    update(grads, state, params?) → [updates, state′]
 * of pure functions. `updates` has the structure of `grads` and is added to the params by
 * `applyUpdates` (θ′ = θ + u), so a descent step carries its own minus sign. Transformations
 * compose with `chain` (updates flow left to right; the state is the tuple of states),
 * which is how every optimizer here is built: adam = chain(scaleByAdam(), scaleByLearningRate(η)).
 *
 * State is frozen plain data: records and arrays of tensors and numbers (a `count`, moment
 * trees with the params' structure), so it can be encoded as JSON (tensors as nested
 * arrays), saved and resumed. `update` never mutates its arguments; it returns new state.
 *
 * Purity: nothing here reads a clock, a global or a random source; the same inputs give
 * bit-identical outputs.
 */
import { PurediffError } from '../errors.js'
import { add, cast } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { Tensor } from '../tensor/Tensor.js'
import { multiMap, stateless } from './internal.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A pure gradient transformation with state `S`.
 * @category model
 * @since 0.1.0
 */
export interface GradientTransformation<S> {
  /** The initial state for these params. */
  init<P>(params: P): S
  /** Updates (a tree like `grads`) and the next state; `params` is needed by some (weight decay). */
  update<P>(grads: P, state: S, params?: P): readonly [P, S]
}

/** The state type of a transformation. @category model @since 0.1.0 */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never

/** The state of a stateless transformation: a frozen empty record. @category model @since 0.1.0 */
export type EmptyState = Readonly<Record<string, never>>

/** The state of `chain(t₁, …, tₙ)`: the tuple of the members' states. @category model @since 0.1.0 */
export type ChainState<Ts extends ReadonlyArray<GradientTransformation<unknown>>> = {
  readonly [K in keyof Ts]: StateOf<Ts[K]>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The transformation that passes gradients through unchanged.
 * @example
 * const t = identity()
 * t.update(tensor([1, 2]), t.init(tensor([0, 0])))[0] // [1, 2]
 * @category constructors
 * @since 0.1.0
 */
export const identity = (): GradientTransformation<EmptyState> => stateless((g) => g)

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Compose transformations: the updates of each feed the next, left to right. The state is
 * the frozen tuple of the members' states.
 * @example
 * const opt = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3))
 * // [3, 4] is clipped to [0.6, 0.8]; Adam's first step is g / (|g| + ε); then −η
 * opt.update(tensor([3, 4]), opt.init(tensor([0, 0])))[0] // ≈ [(-1e-3 * 0.6) / (0.6 + 1e-8), (-1e-3 * 0.8) / (0.8 + 1e-8)]
 * @category combinators
 * @since 0.1.0
 */
export const chain = <Ts extends ReadonlyArray<GradientTransformation<unknown>>>(
  ...ts: Ts
): GradientTransformation<ChainState<Ts>> => {
  ts.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.init !== 'function' || typeof t.update !== 'function') {
      throw new PurediffError('ValueError', `argument ${i} is not a gradient transformation ({ init, update })`, {
        op: 'chain',
      })
    }
  })
  return Object.freeze({
    init: <P>(params: P): ChainState<Ts> => Object.freeze(ts.map((t) => t.init(params))) as unknown as ChainState<Ts>,
    update: <P>(grads: P, state: ChainState<Ts>, params?: P): readonly [P, ChainState<Ts>] => {
      const states = state as unknown as ReadonlyArray<unknown>
      if (!Array.isArray(states) || states.length !== ts.length) {
        throw new PurediffError(
          'ValueError',
          `the state of a chain of ${ts.length} must be an array of ${ts.length} states`,
          {
            op: 'chain',
          },
        )
      }
      let u = grads
      const next: unknown[] = []
      ts.forEach((t, i) => {
        const [ui, si] = t.update(u, states[i], params)
        u = ui
        next.push(si)
      })
      return Object.freeze([u, Object.freeze(next) as unknown as ChainState<Ts>] as const)
    },
  })
}

/**
 * θ + u, leaf by leaf (same structure and shapes); each result keeps its parameter's dtype.
 * @example
 * const [updates, state1] = opt.update(grads, state0, params)
 * const params1 = applyUpdates(params, updates)
 * // `opt` is sgd(0.1): θ − 0.1 g
 * params1.b // ≈ sub(params.b, mul(grads.b, 0.1))
 * @category combinators
 * @since 0.1.0
 */
export const applyUpdates = <P>(params: P, updates: P): P => {
  const [out] = multiMap('applyUpdates', [params, updates], 1, ([p, u]) => {
    const s = add(p as TensorLike, u as TensorLike)
    return [p instanceof Tensor && s.dtype !== p.dtype ? cast(s, p.dtype) : s]
  })
  return out as P
}
