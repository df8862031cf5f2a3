/**
 * Embeddings, attention and pooling:
 *
 *   embedding            y[..., :] = E[ids[...], :]                    (a row gather, differentiable in E)
 *   dotProductAttention  softmax(q kᵀ/√d + M) v, M = 0 where kept and the dtype's lowest value where masked
 *                        (Vaswani et al. 2017); `causal` keeps key j ≤ query i (aligned at the end when
 *                        there are more keys than queries)
 *   multiHeadAttention   concat_h attention(x_q W_qʰ, x_kv W_kʰ, x_kv W_vʰ) W_o, each projection with a bias
 *   maxPool, avgPool     `maxPool2d` / `avgPool2d` (pooling.ts) as layers without parameters
 *
 * A fully masked row gets uniform weights (never NaN), as in JAX.
 *
 * Purity: layers compose ops; initializers read only their keys.
 */
import { PurediffError } from '../errors.js'
import { gather, matmul, mul, notEqual, reshape, softmax, transpose, where } from '../ops/ops.js'
import { normal, split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { Tensor, fromData } from '../tensor/Tensor.js'
import type { DType, NestedArray } from '../tensor/Tensor.js'
import type { Labels } from './losses.js'
import type { DenseParams } from './layers.js'
import { dense, denseInit } from './layers.js'
import type { Layer, NoParams } from './Layer.js'
import type { Pool2dOptions } from './pooling.js'
import { avgPool2d, maxPool2d } from './pooling.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The table of an embedding: [vocabulary, features]. @category model @since 0.2.0 */
export type EmbeddingParams = { readonly table: Tensor }

/** An embedding layer: integer ids (any shape) to feature vectors. @category model @since 0.2.0 */
export interface Embedding {
  readonly init: (key: Key) => EmbeddingParams
  /** `ids`: integers as a tensor, a typed array or (nested) arrays. */
  readonly apply: (params: EmbeddingParams, ids: Labels | ReadonlyArray<NestedArray>) => Tensor
}

/** Options of `dotProductAttention`. @category model @since 0.2.0 */
export interface AttentionOptions {
  /** Nonzero where a query may attend to a key; broadcast against [..., queries, keys]. */
  readonly mask?: Tensor
  /** Keep only keys at or before each query's position. */
  readonly causal?: boolean
  /** Multiplies the logits (default 1/√d, d the query depth). */
  readonly scale?: number
}

/** The parameters of multi-head attention: four dense projections. @category model @since 0.2.0 */
export type MultiHeadAttentionParams = {
  readonly query: DenseParams
  readonly key: DenseParams
  readonly value: DenseParams
  readonly out: DenseParams
}

/** A multi-head attention layer; `kv` defaults to `x` (self-attention). @category model @since 0.2.0 */
export interface MultiHeadAttention {
  readonly init: (key: Key) => MultiHeadAttentionParams
  readonly apply: (
    params: MultiHeadAttentionParams,
    x: Tensor,
    opts?: AttentionOptions & { readonly kv?: Tensor },
  ) => Tensor
}

// -------------------------------------------------------------------------------------
// embedding and attention
// -------------------------------------------------------------------------------------

const checkPositive = (n: unknown, name: string, op: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw new PurediffError('ValueError', `${name} must be a positive integer, got ${String(n)}`, { op })
  return n
}

/**
 * An embedding table [vocab, features] (entries N(0, 1/features), as flax) and its lookup.
 * @example
 * const emb = embedding(10, 4)
 * emb.apply(emb.init(random.key(0)), [[1, 2, 3]]).shape // [1, 3, 4]
 * @category layers
 * @since 0.2.0
 */
export const embedding = (
  vocab: number,
  features: number,
  opts: { readonly dtype?: DType; readonly std?: number } = {},
): Embedding => {
  const op = 'embedding'
  checkPositive(vocab, 'vocab', op)
  checkPositive(features, 'features', op)
  return Object.freeze({
    init: (key: Key) =>
      Object.freeze({
        table: normal(key, [vocab, features], {
          std: opts.std ?? 1 / Math.sqrt(features),
          dtype: opts.dtype ?? 'float64',
        }),
      }),
    apply: (p: EmbeddingParams, ids: Labels | ReadonlyArray<NestedArray>) => {
      const idx =
        ids instanceof Tensor
          ? ids
          : Array.isArray(ids)
            ? nestedIds(ids)
            : fromData(Array.from(ids as ArrayLike<number>), [(ids as ArrayLike<number>).length])
      return gather(p.table, idx, 0)
    },
  })
}

/** A nested array of ids as a tensor of their shape. */
const nestedIds = (ids: ReadonlyArray<unknown>): Tensor => {
  const shape: number[] = []
  let cur: unknown = ids
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return fromData((ids as unknown[]).flat(Infinity) as number[], shape)
}

/** The lowest finite value of a dtype: the logit of a masked entry. */
const lowest = (dtype: DType): number => (dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE)

/**
 * Scaled dot-product attention of q [..., Tq, d] over k [..., Tk, d] and v [..., Tk, dv],
 * with an optional mask and causal flag.
 * @example
 * dotProductAttention(tensor([[1, 0]]), tensor([[1, 0], [0, 1]]), tensor([[1], [3]])) // ≈ [[1 + 2 / (1 + Math.exp(1 / Math.SQRT2))]]
 * @category layers
 * @since 0.2.0
 */
export const dotProductAttention = (q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor => {
  const op = 'dotProductAttention'
  if (
    !(q instanceof Tensor) ||
    !(k instanceof Tensor) ||
    !(v instanceof Tensor) ||
    q.rank < 2 ||
    k.rank < 2 ||
    v.rank < 2
  ) {
    throw new PurediffError('ShapeError', 'expected q [..., Tq, d], k [..., Tk, d] and v [..., Tk, dv]', { op })
  }
  const d = q.shape[q.rank - 1] as number
  const tq = q.shape[q.rank - 2] as number
  const tk = k.shape[k.rank - 2] as number
  if (k.shape[k.rank - 1] !== d || v.shape[v.rank - 2] !== tk) {
    throw new PurediffError('ShapeError', 'q and k must share their depth and k and v their length', {
      op,
      shapes: [q.shape, k.shape, v.shape],
    })
  }
  const perm = Array.from({ length: k.rank }, (_, i) => i)
  perm[k.rank - 1] = k.rank - 2
  perm[k.rank - 2] = k.rank - 1
  let logits = mul(matmul(q, transpose(k, perm)), opts.scale ?? 1 / Math.sqrt(d))
  let keep: Tensor | null = opts.mask === undefined ? null : notEqual(opts.mask, 0)
  if (opts.causal === true) {
    const data = new Float64Array(tq * tk)
    for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) data[i * tk + j] = j <= i + (tk - tq) ? 1 : 0
    const c = fromData(data, [tq, tk])
    keep = keep === null ? c : mul(keep, c)
  }
  if (keep !== null) logits = where(keep, logits, lowest(logits.dtype))
  return matmul(softmax(logits, -1), v)
}

/**
 * Multi-head attention: `heads` heads of depth features/heads (or qkvFeatures/heads), dense
 * projections with biases, an output projection back to `features`.
 * @example
 * const mha = multiHeadAttention(8, 2)
 * mha.apply(mha.init(random.key(0)), ones([1, 5, 8]), { causal: true }).shape // [1, 5, 8]
 * @category layers
 * @since 0.2.0
 */
export const multiHeadAttention = (
  features: number,
  heads: number,
  opts: { readonly qkvFeatures?: number; readonly dtype?: DType } = {},
): MultiHeadAttention => {
  const op = 'multiHeadAttention'
  checkPositive(features, 'features', op)
  checkPositive(heads, 'heads', op)
  const inner = checkPositive(opts.qkvFeatures ?? features, 'qkvFeatures', op)
  if (inner % heads !== 0)
    throw new PurediffError('ValueError', `heads (${heads}) must divide the projection width (${inner})`, { op })
  const depth = inner / heads
  const dtype = opts.dtype ?? 'float64'
  /** [..., T, H·D] → [..., H, T, D] */
  const splitHeads = (x: Tensor): Tensor => {
    const lead = x.shape.slice(0, -2)
    const t = x.shape[x.rank - 2] as number
    const r = reshape(x, [...lead, t, heads, depth])
    const n = lead.length
    return transpose(r, [...lead.map((_, i) => i), n + 1, n, n + 2])
  }
  const mergeHeads = (x: Tensor): Tensor => {
    const n = x.rank - 3
    const lead = x.shape.slice(0, n)
    const t = x.shape[n + 1] as number
    return reshape(transpose(x, [...lead.map((_, i) => i), n + 1, n, n + 2]), [...lead, t, inner])
  }
  return Object.freeze({
    init: (key: Key) => {
      const [kq, kk, kv, ko] = split(key, 4)
      return Object.freeze({
        query: denseInit(kq, features, inner, { dtype }),
        key: denseInit(kk, features, inner, { dtype }),
        value: denseInit(kv, features, inner, { dtype }),
        out: denseInit(ko, inner, features, { dtype }),
      })
    },
    apply: (p: MultiHeadAttentionParams, x: Tensor, o: AttentionOptions & { readonly kv?: Tensor } = {}) => {
      if (!(x instanceof Tensor) || x.rank < 2 || x.shape[x.rank - 1] !== features) {
        throw new PurediffError('ShapeError', `expected x [..., T, ${features}]`, {
          op,
          shapes: [x instanceof Tensor ? x.shape : []],
        })
      }
      const src = o.kv ?? x
      const { kv: _kv, ...attn } = o
      const h = dotProductAttention(
        splitHeads(dense(p.query, x)),
        splitHeads(dense(p.key, src)),
        splitHeads(dense(p.value, src)),
        attn,
      )
      return dense(p.out, mergeHeads(h))
    },
  })
}

// -------------------------------------------------------------------------------------
// pooling layers
// -------------------------------------------------------------------------------------

/**
 * Max pooling over windows of x [batch, height, width, channels] (`maxPool2d`) as a layer without parameters.
 * @example
 * maxPool([2, 2]).apply({}, reshape(arange(16), [1, 4, 4, 1])).shape // [1, 2, 2, 1]
 * @category layers
 * @since 0.2.0
 */
export const maxPool = (window: number | readonly [number, number], opts: Pool2dOptions = {}): Layer<NoParams> =>
  Object.freeze({
    init: () => Object.freeze({}) as NoParams,
    apply: (_p: NoParams, x: Tensor) => maxPool2d(x, window, opts),
  })

/**
 * Average pooling over windows of x [batch, height, width, channels] (`avgPool2d`, padding counted) as a layer.
 * @example
 * avgPool([2, 2]).apply({}, ones([1, 4, 4, 3])).shape // [1, 2, 2, 3]
 * @category layers
 * @since 0.2.0
 */
export const avgPool = (window: number | readonly [number, number], opts: Pool2dOptions = {}): Layer<NoParams> =>
  Object.freeze({
    init: () => Object.freeze({}) as NoParams,
    apply: (_p: NoParams, x: Tensor) => avgPool2d(x, window, opts),
  })
