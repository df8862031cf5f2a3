/**
 * Layers as values: a `Layer<P>` is a pair of pure functions, `init(key) → params` and
 * `apply(params, x, ctx?) → y`, and `sequential` composes a record of layers into one whose
 * parameters are the record of their parameters (typed: `sequential({ conv, head })` has
 * params `{ conv: Conv2dParams, head: DenseParams }`), applied in the record's key order.
 * `ctx` carries what some layers need at apply time: `training` and a `key` (dropout); each
 * layer of a sequential gets `foldIn(key, i)`.
 *
 * `paramCount` counts the scalar entries of a parameter record; `summary` lays out one line
 * per key path with shape, dtype and size, and the total.
 *
 * Purity: `init` reads only its key; `apply` only composes ops. Returned records are frozen.
 */
import { PurediffError } from '../errors.js'
import { foldIn, split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { Tensor } from '../tensor/Tensor.js'
import { flatten, keyPaths } from '../tree/Tree.js'
import type { Activation } from './activations.js'
import type { Conv2dOptions, Conv2dParams, DenseInitOptions, DenseParams } from './layers.js'
import { conv1dInit, conv2d, conv2dInit, dense, denseInit, dropout } from './layers.js'
import type { Conv1dOptions } from './pooling.js'
import { conv1d } from './pooling.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a layer may need at apply time. @category model @since 0.2.0 */
export interface ApplyContext {
  /** Training mode (dropout active); default false. */
  readonly training?: boolean
  /** A key for random layers (dropout). */
  readonly key?: Key
}

/** A layer: its parameter initializer and its pure forward function. @category model @since 0.2.0 */
export interface Layer<P> {
  readonly init: (key: Key) => P
  readonly apply: (params: P, x: Tensor, ctx?: ApplyContext) => Tensor
}

/** Any layer, whatever its params (what `sequential` accepts). @category model @since 0.2.0 */
export interface AnyLayer {
  readonly init: (key: Key) => unknown
  readonly apply: (params: never, x: Tensor, ctx?: ApplyContext) => Tensor
}

/** The parameter type of a layer. @category model @since 0.2.0 */
export type ParamsOf<L> = L extends { readonly init: (key: Key) => infer P } ? P : never

/** The parameters of a sequential model: one entry per named layer. @category model @since 0.2.0 */
export type SequentialParams<Ls extends Readonly<Record<string, AnyLayer>>> = {
  readonly [K in keyof Ls]: ParamsOf<Ls[K]>
}

/** A layer without parameters. @category model @since 0.2.0 */
export type NoParams = Readonly<Record<string, never>>

const NONE: NoParams = Object.freeze({})

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A dense layer `nIn → nOut` as a layer value.
 * @example
 * denseLayer(3, 2).init(random.key(0)).w.shape // [3, 2]
 * @category layers
 * @since 0.2.0
 */
export const denseLayer = (nIn: number, nOut: number, opts: DenseInitOptions = {}): Layer<DenseParams> =>
  Object.freeze({
    init: (key: Key) => denseInit(key, nIn, nOut, opts),
    apply: (p: DenseParams, x: Tensor) => dense(p, x),
  })

/**
 * A 2-D convolution layer (NHWC) with stride, padding, dilation and groups.
 * @example
 * conv2dLayer([3, 3], 4, 8, { padding: 'SAME', groups: 2 }).init(random.key(0)).w.shape // [3, 3, 2, 8]
 * @category layers
 * @since 0.2.0
 */
export const conv2dLayer = (
  kernel: readonly [number, number],
  nIn: number,
  nOut: number,
  opts: Conv2dOptions & DenseInitOptions = {},
): Layer<Conv2dParams> =>
  Object.freeze({
    init: (key: Key) => conv2dInit(key, kernel, nIn, nOut, opts),
    apply: (p: Conv2dParams, x: Tensor) => conv2d(p, x, opts),
  })

/**
 * A 1-D convolution layer ([batch, length, channels]) with stride, padding, dilation and groups.
 * @example
 * conv1dLayer(3, 4, 8, { dilation: 2 }).init(random.key(0)).w.shape // [3, 4, 8]
 * @category layers
 * @since 0.2.0
 */
export const conv1dLayer = (
  kernel: number,
  nIn: number,
  nOut: number,
  opts: Conv1dOptions & DenseInitOptions = {},
): Layer<Conv2dParams> =>
  Object.freeze({
    init: (key: Key) => conv1dInit(key, kernel, nIn, nOut, opts),
    apply: (p: Conv2dParams, x: Tensor) => conv1d(p, x, opts),
  })

/**
 * An elementwise activation as a layer without parameters.
 * @example
 * activation(relu).apply({}, tensor([-1, 2])) // ≈ [0, 2]
 * @category layers
 * @since 0.2.0
 */
export const activation = (f: Activation): Layer<NoParams> =>
  Object.freeze({ init: () => NONE, apply: (_p: NoParams, x: Tensor) => f(x) })

/**
 * Inverted dropout as a layer: active only with `{ training: true, key }`.
 * @example
 * dropoutLayer(0.5).apply({}, tensor([1, 2])) // ≈ [1, 2]
 * @category layers
 * @since 0.2.0
 */
export const dropoutLayer = (rate: number): Layer<NoParams> =>
  Object.freeze({
    init: () => NONE,
    apply: (_p: NoParams, x: Tensor, ctx: ApplyContext = {}) => {
      if (ctx.training === true && ctx.key === undefined) {
        throw new PurediffError(
          'ValueError',
          'dropout in training needs a key: apply(params, x, { training: true, key })',
          { op: 'dropoutLayer' },
        )
      }
      return ctx.training === true ? dropout(ctx.key as Key, rate, x, true) : x
    },
  })

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Compose named layers in order; the params are the record of each layer's params.
 * @example
 * const model = sequential({ hidden: denseLayer(2, 4), act: activation(tanh), out: denseLayer(4, 1) })
 * const p = model.init(random.key(0)) // { hidden: { w, b }, act: {}, out: { w, b } }
 * model.apply(p, tensor([[1, 2]])).shape // [1, 1]
 * @category combinators
 * @since 0.2.0
 */
export const sequential = <Ls extends Readonly<Record<string, AnyLayer>>>(layers: Ls): Layer<SequentialParams<Ls>> => {
  const op = 'sequential'
  const names = Object.keys(layers)
  if (names.length === 0) throw new PurediffError('ValueError', 'expected at least one layer', { op })
  for (const n of names) {
    const l = layers[n] as unknown as { init?: unknown; apply?: unknown }
    if (l === null || typeof l !== 'object' || typeof l.init !== 'function' || typeof l.apply !== 'function') {
      throw new PurediffError('ValueError', `layer '${n}' is not a layer ({ init, apply })`, { op })
    }
  }
  return Object.freeze({
    init: (key: Key): SequentialParams<Ls> => {
      const keys = split(key, names.length)
      return Object.freeze(
        Object.fromEntries(names.map((n, i) => [n, (layers[n] as Layer<unknown>).init(keys[i] as Key)])),
      ) as SequentialParams<Ls>
    },
    apply: (params: SequentialParams<Ls>, x: Tensor, ctx: ApplyContext = {}): Tensor =>
      names.reduce((h, n, i) => {
        if (params === null || typeof params !== 'object' || !(n in params)) {
          throw new PurediffError('TreeError', 'the params have no entry for this layer', { op, path: n })
        }
        const c = ctx.key === undefined ? ctx : { ...ctx, key: foldIn(ctx.key, i) }
        return (layers[n] as Layer<unknown>).apply((params as Record<string, unknown>)[n], h, c)
      }, x),
  })
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The number of scalar parameters in a record (a number leaf counts 1).
 * @example
 * paramCount({ w: zeros([3, 2]), b: zeros([2]), s: 1 }) // ≈ 9
 * @category utils
 * @since 0.2.0
 */
export const paramCount = (params: unknown): number =>
  flatten(params, 'paramCount')[0].reduce<number>((s, l) => s + (typeof l === 'number' ? 1 : l.size), 0)

/**
 * A table of a parameter record: one line per key path with its shape, dtype and size, then the total.
 * @example
 * console.log(summary({ w: zeros([3, 2]), b: zeros([2]) }))
 * // b  [2]     float64  2
 * // w  [3, 2]  float64  6
 * // total 8 parameters
 * @category utils
 * @since 0.2.0
 */
export const summary = (params: unknown): string => {
  const [leaves, def] = flatten(params, 'summary')
  const paths = keyPaths(def)
  const rows = leaves.map((l, i) => [
    paths[i] === '' ? '<root>' : (paths[i] as string),
    typeof l === 'number' ? 'number' : `[${l.shape.join(', ')}]`,
    l instanceof Tensor ? l.dtype : 'float64',
    String(typeof l === 'number' ? 1 : l.size),
  ])
  const widths = [0, 1, 2].map((c) => Math.max(0, ...rows.map((r) => (r[c] as string).length)))
  const lines = rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] as number) : cell)).join('  '))
  const total = paramCount(params)
  return [...lines, `total ${total} parameter${total === 1 ? '' : 's'}`].join('\n')
}
