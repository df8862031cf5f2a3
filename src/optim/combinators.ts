/**
 * Combinators over gradient transformations (optax's `masked`, `multi_transform`,
 * `inject_hyperparams`, `MultiSteps`, `apply_if_finite`, `ema`, `clip_by_block_rms`,
 * `centralize`), plus parameter averaging:
 *
 *   masked(t, mask)             t sees only the leaves whose mask is true; the others pass through unchanged
 *   multiTransform(ts, labels)  each leaf goes to the transformation named by its label
 *   injectHyperparams(f)(h)     the hyperparameters h (numbers or schedules of the count) live in the state:
 *                               u = f(h(t)).update(g); numbers can be changed in the state between updates
 *   multiSteps(t, k)            accumulate k gradients, then one update of t on their mean (zeros in between)
 *   applyIfFinite(t, n)         updates with a NaN or ±∞ are replaced by zeros (and t's state kept), counted;
 *                               after n consecutive ones they are applied anyway
 *   ema(β, {debias})            u = m/(1 − βᵗ),  m = βm₋ + (1 − β)g   (an average of the updates)
 *   paramEma(t, β)              t's updates, and in the state the average θ̄ = βθ̄₋ + (1 − β)θ′ of the new params
 *   clipByBlockRms(d)           u = g / max(1, RMS(g)/d) per leaf
 *   centralize()                u = g − mean(g over every axis but the first), for leaves of rank ≥ 2
 *
 * Masks and labels are given either as a function of the key path (`(path, leaf) => ...`) or
 * as a tree with the params' structure whose leaves are booleans (labels: strings); a
 * boolean or string at an inner node applies to the whole subtree (an optax "prefix" tree).
 * The selected leaves reach the inner transformation as an array, in key-path order.
 *
 * Purity: every update returns fresh frozen updates and state.
 */
import { PurediffError } from '../errors.js'
import { add, isFinite as isFiniteOp, mean, mul, sub } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor, Tensor } from '../tensor/Tensor.js'
import type { Leaf, Tree } from '../tree/Tree.js'
import { flatten, keyPaths, unflatten } from '../tree/Tree.js'
import { zerosLike } from '../tree/vector.js'
import type { EmaState } from './adaptive.js'
import { clipByBlockRmsT, emaT } from './adaptive.js'
import type { EmptyState, GradientTransformation } from './GradientTransformation.js'
import { checkNumber, multiMap, result, stateless } from './internal.js'
import type { Schedule } from './schedules.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A per-leaf choice: a function of the key path and leaf, or a (prefix) tree of values. @category model @since 0.2.0 */
export type LeafSpec<V> =
  ((path: string, leaf: Leaf) => V) | V | { readonly [key: string]: LeafSpec<V> } | ReadonlyArray<LeafSpec<V>>

/** State of `masked`: the inner state. @category model @since 0.2.0 */
export type MaskedState<S> = { readonly inner: S }
/** State of `multiTransform`: one inner state per label. @category model @since 0.2.0 */
export type MultiTransformState = { readonly inner: Readonly<Record<string, unknown>> }
/** State of `injectHyperparams`. @category model @since 0.2.0 */
export type InjectHyperparamsState<S> = {
  readonly count: number
  readonly hyperparams: Readonly<Record<string, number>>
  readonly inner: S
}
/** State of `multiSteps`. @category model @since 0.2.0 */
export type MultiStepsState<S> = {
  readonly miniStep: number
  readonly gradientStep: number
  readonly acc: Tree
  readonly inner: S
}
/** State of `applyIfFinite`. @category model @since 0.2.0 */
export type ApplyIfFiniteState<S> = {
  readonly notFiniteCount: number
  readonly lastFinite: boolean
  readonly totalNotFinite: number
  readonly inner: S
}
/** State of `paramEma`: the inner state, the count and the averaged params. @category model @since 0.2.0 */
export type ParamEmaState<S> = { readonly inner: S; readonly count: number; readonly ema: Tree }

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const isTransformation = (t: unknown): t is GradientTransformation<unknown> =>
  t !== null &&
  typeof t === 'object' &&
  typeof (t as { init?: unknown }).init === 'function' &&
  typeof (t as { update?: unknown }).update === 'function'

const checkTransformation = (t: unknown, name: string, op: string): GradientTransformation<unknown> => {
  if (!isTransformation(t))
    throw new PurediffError('ValueError', `${name} is not a gradient transformation ({ init, update })`, { op })
  return t
}

/** The value of a leaf spec at each leaf of `tree`, in flatten order. */
const resolveSpec = <V>(
  spec: LeafSpec<V>,
  tree: unknown,
  isValue: (x: unknown) => x is V,
  what: string,
  op: string,
): V[] => {
  const [leaves, def] = flatten(tree, op)
  const paths = keyPaths(def)
  if (typeof spec === 'function') {
    return paths.map((p, i) => {
      const v = (spec as (path: string, leaf: Leaf) => unknown)(p, leaves[i] as Leaf)
      if (!isValue(v)) throw new PurediffError('ValueError', `the ${what} function gave ${String(v)}`, { op, path: p })
      return v
    })
  }
  const out: V[] = []
  const go = (s: unknown, d: typeof def, path: string): void => {
    if (isValue(s)) {
      // a value at an inner node covers its whole subtree
      for (let i = 0; i < countLeaves(d); i++) out.push(s)
      return
    }
    if (d.kind === 'array' && Array.isArray(s) && s.length === d.children.length) {
      d.children.forEach((c, i) => go(s[i], c, `${path}[${i}]`))
      return
    }
    if (d.kind === 'record' && s !== null && typeof s === 'object' && !Array.isArray(s)) {
      d.keys.forEach((k, i) => {
        if (!(k in s))
          throw new PurediffError('TreeError', `the ${what} has no entry for this key`, {
            op,
            path: path === '' ? k : `${path}.${k}`,
          })
        go((s as Record<string, unknown>)[k], d.children[i] as typeof def, path === '' ? k : `${path}.${k}`)
      })
      return
    }
    throw new PurediffError('TreeError', `the ${what} does not match the params' structure here`, {
      op,
      path: path === '' ? '<root>' : path,
    })
  }
  go(spec, def, '')
  return out
}

const countLeaves = (d: ReturnType<typeof flatten>[1]): number =>
  d.kind === 'tensor' || d.kind === 'number' ? 1 : d.children.reduce((s, c) => s + countLeaves(c), 0)

const isBool = (x: unknown): x is boolean => typeof x === 'boolean'
const isLabel = (x: unknown): x is string => typeof x === 'string'

const countOf = (state: unknown, key: string, op: string): number => {
  const c = (state as Record<string, unknown> | null)?.[key]
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
    throw new PurediffError('ValueError', `state.${key} must be a non-negative integer, got ${String(c)}`, { op })
  }
  return c
}

/** Leaves at the given indices, as a frozen array. */
const pick = (leaves: ReadonlyArray<Leaf>, idx: ReadonlyArray<number>): ReadonlyArray<Leaf> =>
  Object.freeze(idx.map((i) => leaves[i] as Leaf))

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Apply `inner` only to the leaves whose mask is true; the other updates pass through unchanged.
 * @example
 * // no weight decay on biases
 * const opt = chain(masked(addDecayedWeights(1e-2), (path) => !path.endsWith('b')), sgd(0.1))
 * const p = { w: tensor([1]), b: tensor([1]) }
 * opt.update({ w: tensor([0]), b: tensor([0]) }, opt.init(p), p)[0].w // ≈ [-1e-3]
 * @category combinators
 * @since 0.2.0
 */
export const masked = <S>(
  inner: GradientTransformation<S>,
  mask: LeafSpec<boolean>,
): GradientTransformation<MaskedState<S>> => {
  const op = 'masked'
  checkTransformation(inner, 'inner', op)
  const selected = (tree: unknown): number[] =>
    resolveSpec(mask, tree, isBool, 'mask', op).flatMap((m, i) => (m ? [i] : []))
  return Object.freeze({
    init: <P>(params: P): MaskedState<S> =>
      Object.freeze({ inner: inner.init(pick(flatten(params, op)[0], selected(params))) }),
    update: <P>(grads: P, state: MaskedState<S>, params?: P): readonly [P, MaskedState<S>] => {
      const [gl, def] = flatten(grads, op)
      const idx = selected(params ?? grads)
      const sub = params === undefined ? undefined : pick(flatten(params, op)[0], idx)
      const [u, s] = inner.update(pick(gl, idx), state.inner, sub)
      const out = [...gl]
      ;(u as ReadonlyArray<Leaf>).forEach((l, j) => (out[idx[j] as number] = l))
      return result(unflatten<P>(def, out), Object.freeze({ inner: s }))
    },
  })
}

/**
 * A transformation per label: each leaf's label (a string) names the transformation that updates it.
 * @example
 * const opt = multiTransform({ fast: sgd(0.1), slow: sgd(0.01) }, { w: 'fast', b: 'slow' })
 * const p = { w: tensor([0]), b: tensor([0]) }
 * opt.update({ w: tensor([1]), b: tensor([1]) }, opt.init(p), p)[0].b // ≈ [-0.01]
 * @category combinators
 * @since 0.2.0
 */
export const multiTransform = (
  transforms: Readonly<Record<string, GradientTransformation<unknown>>>,
  labels: LeafSpec<string>,
): GradientTransformation<MultiTransformState> => {
  const op = 'multiTransform'
  const names = Object.keys(transforms).sort()
  names.forEach((n) => checkTransformation(transforms[n], `transforms.${n}`, op))
  const groups = (tree: unknown): Record<string, number[]> => {
    const ls = resolveSpec(labels, tree, isLabel, 'labels', op)
    const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
    ls.forEach((l, i) => {
      const g = out[l]
      if (g === undefined)
        throw new PurediffError('ValueError', `label '${l}' names no transformation (have ${names.join(', ')})`, {
          op,
          path: keyPaths(flatten(tree, op)[1])[i] as string,
        })
      g.push(i)
    })
    return out
  }
  return Object.freeze({
    init: <P>(params: P): MultiTransformState => {
      const [pl] = flatten(params, op)
      const gs = groups(params)
      return Object.freeze({
        inner: Object.freeze(
          Object.fromEntries(
            names.map((n) => [n, (transforms[n] as GradientTransformation<unknown>).init(pick(pl, gs[n] as number[]))]),
          ),
        ),
      })
    },
    update: <P>(grads: P, state: MultiTransformState, params?: P): readonly [P, MultiTransformState] => {
      const [gl, def] = flatten(grads, op)
      const gs = groups(params ?? grads)
      const pl = params === undefined ? undefined : flatten(params, op)[0]
      const out = [...gl]
      const next: Record<string, unknown> = {}
      for (const n of names) {
        const idx = gs[n] as number[]
        const [u, s] = (transforms[n] as GradientTransformation<unknown>).update(
          pick(gl, idx),
          state.inner[n],
          pl === undefined ? undefined : pick(pl, idx),
        )
        ;(u as ReadonlyArray<Leaf>).forEach((l, j) => (out[idx[j] as number] = l))
        next[n] = s
      }
      return result(unflatten<P>(def, out), Object.freeze({ inner: Object.freeze(next) }))
    },
  })
}

/**
 * Keep a transformation's hyperparameters in its state: `injectHyperparams(f)(h)` builds
 * f(values) at every update, schedules evaluated at the count, numbers read from the state
 * (so a training loop may change them, e.g. to reduce the learning rate on a plateau).
 * @example
 * const opt = injectHyperparams((h) => sgd(h.learningRate))({ learningRate: (t) => 0.1 / (t + 1) })
 * const s0 = opt.init(tensor([0]))
 * s0.hyperparams.learningRate // ≈ 0.1
 * @category combinators
 * @since 0.2.0
 */
export const injectHyperparams =
  <H extends Readonly<Record<string, number>>, S>(factory: (h: H) => GradientTransformation<S>) =>
  (hyperparams: { readonly [K in keyof H]: number | Schedule }): GradientTransformation<InjectHyperparamsState<S>> => {
    const op = 'injectHyperparams'
    if (typeof factory !== 'function')
      throw new PurediffError('ValueError', 'expected a factory (hyperparams) => transformation', { op })
    const keys = Object.keys(hyperparams).sort()
    const valuesAt = (count: number, stored: Readonly<Record<string, number>> | null): H => {
      const out: Record<string, number> = {}
      for (const k of keys) {
        const h = (hyperparams as Record<string, number | Schedule>)[k]
        const v = typeof h === 'function' ? h(count) : stored !== null ? stored[k] : h
        out[k] = checkNumber(v, `hyperparameter ${k}`, op)
      }
      return Object.freeze(out) as H
    }
    return Object.freeze({
      init: <P>(params: P): InjectHyperparamsState<S> => {
        const h = valuesAt(0, null)
        return Object.freeze({
          count: 0,
          hyperparams: h,
          inner: checkTransformation(factory(h), "the factory's result", op).init(params) as S,
        })
      },
      update: <P>(grads: P, state: InjectHyperparamsState<S>, params?: P): readonly [P, InjectHyperparamsState<S>] => {
        const count = countOf(state, 'count', op)
        const h = valuesAt(count, state.hyperparams)
        const [u, inner] = factory(h).update(grads, state.inner, params)
        return result(u, Object.freeze({ count: count + 1, hyperparams: valuesAt(count + 1, h), inner }))
      },
    })
  }

/**
 * Gradient accumulation: k calls add their gradients up; the k-th applies `inner` to their
 * mean. The other calls give zero updates (and leave `inner`'s state as it was).
 * @example
 * const opt = multiSteps(sgd(1), 2)
 * const s1 = opt.update(tensor([1]), opt.init(tensor([0])))[1]
 * opt.update(tensor([3]), s1)[0] // ≈ [-2]
 * @category combinators
 * @since 0.2.0
 */
export const multiSteps = <S>(
  inner: GradientTransformation<S>,
  everyK: number,
): GradientTransformation<MultiStepsState<S>> => {
  const op = 'multiSteps'
  checkTransformation(inner, 'inner', op)
  if (!Number.isInteger(everyK) || everyK < 1)
    throw new PurediffError('ValueError', `everyK must be a positive integer, got ${String(everyK)}`, { op })
  return Object.freeze({
    init: <P>(params: P): MultiStepsState<S> =>
      Object.freeze({ miniStep: 0, gradientStep: 0, acc: zerosLike(params) as Tree, inner: inner.init(params) }),
    update: <P>(grads: P, state: MultiStepsState<S>, params?: P): readonly [P, MultiStepsState<S>] => {
      const mini = countOf(state, 'miniStep', op)
      const gstep = countOf(state, 'gradientStep', op)
      const [acc] = multiMap(op, [grads, state.acc], 1, ([g, a]) => [add(a as TensorLike, g as TensorLike)])
      if (mini + 1 < everyK) {
        return result(
          zerosLike(grads),
          Object.freeze({ miniStep: mini + 1, gradientStep: gstep, acc: acc as Tree, inner: state.inner }),
        )
      }
      const [avg] = multiMap(op, [acc], 1, ([a]) => [mul(a as TensorLike, 1 / everyK)])
      const [u, s] = inner.update(avg as P, state.inner, params)
      return result(u, Object.freeze({ miniStep: 0, gradientStep: gstep + 1, acc: zerosLike(state.acc), inner: s }))
    },
  })
}

const allFinite = (tree: unknown, op: string): boolean =>
  flatten(tree, op)[0].every((l) => {
    if (typeof l === 'number') return Number.isFinite(l)
    if (!(l instanceof ConcreteTensor))
      throw new PurediffError(
        'ValueError',
        'needs concrete updates to test them for finiteness (not inside a transform)',
        { op },
      )
    const f = isFiniteOp(l)
    return (f as ConcreteTensor).toTypedArray().every((v) => v !== 0)
  })

/**
 * Skip updates with a NaN or ±∞ (zeros instead, `inner`'s state kept) and count them; after
 * `maxConsecutiveErrors` in a row the next one is applied anyway.
 * @example
 * const opt = applyIfFinite(sgd(0.1), 3)
 * const [u, s] = opt.update(tensor([NaN]), opt.init(tensor([0])))
 * s.totalNotFinite // ≈ 1
 * @category combinators
 * @since 0.2.0
 */
export const applyIfFinite = <S>(
  inner: GradientTransformation<S>,
  maxConsecutiveErrors: number,
): GradientTransformation<ApplyIfFiniteState<S>> => {
  const op = 'applyIfFinite'
  checkTransformation(inner, 'inner', op)
  checkNumber(maxConsecutiveErrors, 'maxConsecutiveErrors', op, { min: 0 })
  return Object.freeze({
    init: <P>(params: P): ApplyIfFiniteState<S> =>
      Object.freeze({ notFiniteCount: 0, lastFinite: true, totalNotFinite: 0, inner: inner.init(params) }),
    update: <P>(grads: P, state: ApplyIfFiniteState<S>, params?: P): readonly [P, ApplyIfFiniteState<S>] => {
      const [u, s] = inner.update(grads, state.inner, params)
      const finite = allFinite(u, op)
      const run = finite ? 0 : countOf(state, 'notFiniteCount', op) + 1
      const total = countOf(state, 'totalNotFinite', op) + (finite ? 0 : 1)
      const apply = finite || run > maxConsecutiveErrors
      return result(
        apply ? u : zerosLike(grads),
        Object.freeze({
          notFiniteCount: run,
          lastFinite: finite,
          totalNotFinite: total,
          inner: apply ? s : state.inner,
        }),
      )
    },
  })
}

/**
 * An exponential moving average of the updates, debiased by 1 − βᵗ by default (optax's `ema`).
 * @example
 * const t = ema(0.9)
 * t.update(tensor([2]), t.init(tensor([0])))[0] // ≈ [2]
 * @category combinators
 * @since 0.2.0
 */
export const ema = (decay: number, opts: { readonly debias?: boolean } = {}): GradientTransformation<EmaState> =>
  emaT(decay, opts.debias ?? true)

/**
 * Parameter averaging (Polyak–Ruppert, exponential): `inner`'s updates unchanged, and in the
 * state the average θ̄ = βθ̄₋ + (1 − β)θ′ of the updated params (θ̄ starts at the initial
 * params), for evaluation; needs the params.
 * @example
 * const opt = paramEma(sgd(1), 0.5)
 * const p = tensor([0])
 * opt.update(tensor([-2]), opt.init(p), p)[1].ema // ≈ [1]
 * @category combinators
 * @since 0.2.0
 */
export const paramEma = <S>(
  inner: GradientTransformation<S>,
  decay: number,
): GradientTransformation<ParamEmaState<S>> => {
  const op = 'paramEma'
  checkTransformation(inner, 'inner', op)
  const b = checkNumber(decay, 'decay', op, { min: 0, max: 1 })
  return Object.freeze({
    init: <P>(params: P): ParamEmaState<S> =>
      Object.freeze({ inner: inner.init(params), count: 0, ema: params as Tree }),
    update: <P>(grads: P, state: ParamEmaState<S>, params?: P): readonly [P, ParamEmaState<S>] => {
      if (params === undefined)
        throw new PurediffError('ValueError', 'needs the params: call update(grads, state, params)', { op })
      const [u, s] = inner.update(grads, state.inner, params)
      const [avg] = multiMap(op, [state.ema, params, u], 1, ([m, p, du]) => [
        add(mul(b, m as TensorLike), mul(1 - b, add(p as TensorLike, du as TensorLike))),
      ])
      return result(u, Object.freeze({ inner: s, count: countOf(state, 'count', op) + 1, ema: avg as Tree }))
    },
  })
}

/**
 * Clip each leaf to a root-mean-square of at most `threshold`: u = g / max(1, RMS(g)/threshold).
 * @example
 * const t = clipByBlockRms(1)
 * t.update(tensor([3, 4]), t.init(tensor([0, 0])))[0] // ≈ [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]
 * @category combinators
 * @since 0.2.0
 */
export const clipByBlockRms = (threshold: number): GradientTransformation<EmptyState> => clipByBlockRmsT(threshold)

/**
 * Gradient centralization (Yong et al. 2020): subtract from each leaf of rank ≥ 2 its mean
 * over every axis but the first; vectors and scalars pass unchanged.
 * @example
 * const t = centralize()
 * t.update(tensor([[1, 3], [2, 6]]), t.init(tensor([[0, 0], [0, 0]])))[0] // ≈ [[-1, 1], [-2, 2]]
 * @category combinators
 * @since 0.2.0
 */
export const centralize = (): GradientTransformation<EmptyState> =>
  stateless(
    (g) =>
      multiMap('centralize', [g], 1, ([x]) => {
        if (!(x instanceof Tensor) || x.rank < 2) return [x as TensorLike]
        return [
          sub(
            x,
            mean(
              x,
              Array.from({ length: x.rank - 1 }, (_, i) => i + 1),
              true,
            ),
          ),
        ]
      })[0] as typeof g,
  )
