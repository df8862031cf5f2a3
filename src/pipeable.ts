/**
 * Data-last, curried forms of the ops and of `tree.*`, for `pipe` and `flow` from fp-ts
 * (`purediff/pipeable`, also `pipeable` from the main entry).
 *
 * The convention: the data-first form takes the data first, `mul(x, 2)`; its data-last twin
 * here takes every other argument first and returns a function of the data, so
 * `pipe(x, mul(2))` is `mul(x, 2)` and `pipe(a, sub(b))` is `sub(a, b)` (the data is always
 * the first operand). Ops whose only argument is the data (`exp`, `relu`, `neg`, ...) are the
 * same function in both forms: `pipe(x, exp)`. Ops with optional arguments are always called
 * once: `pipe(x, sum())`, `pipe(x, sum(0, true))`. A data-first op called without its data
 * (`mul(2)` from the main entry inside a pipe) throws a `PurediffError` saying "missing
 * argument" and naming this module.
 *
 * `tree` holds the same forms of the tree functions: `pipe(params, tree.map(f))`,
 * `pipe(grads, tree.scale(-lr), tree.add(params))`.
 *
 * Purity: every function here only reorders the arguments of a pure function.
 * @example
 * pipe(tensor([1, 2]), mul(2), add(1), sum()) // 8
 */
import * as O from './ops/ops.js'
import type { Axis, ReduceOptions, TensorLike } from './ops/ops.js'
import type { Tensor } from './tensor/Tensor.js'
import type { DType, Shape } from './tensor/Tensor.js'

export * as tree from './tree/pipeable.js'

// -------------------------------------------------------------------------------------
// ops of the data alone (the same function in both forms)
// -------------------------------------------------------------------------------------

export {
  neg,
  exp,
  log,
  sin,
  cos,
  tan,
  tanh,
  sigmoid,
  relu,
  abs,
  sqrt,
  log1p,
  expm1,
  sign,
  floor,
  ceil,
  round,
  isFinite,
  stopGradient,
  square,
  reciprocal,
  sinh,
  cosh,
  softplus,
  logSigmoid,
  zerosLike,
  onesLike,
} from './ops/ops.js'

// -------------------------------------------------------------------------------------
// binary ops: `pipe(a, op(b))` is `op(a, b)`
// -------------------------------------------------------------------------------------

type Binary = (a: TensorLike, b: TensorLike) => Tensor
const binary =
  (f: Binary) =>
  (b: TensorLike) =>
  (a: TensorLike): Tensor =>
    f(a, b)

/** `pipe(a, add(b))` is `add(a, b)`. @category binary @since 0.2.0 */
export const add = binary(O.add)
/** `pipe(a, sub(b))` is `a − b`. @example pipe(tensor(5), sub(2)) // 3 @category binary @since 0.2.0 */
export const sub = binary(O.sub)
/** `pipe(a, mul(b))` is `a · b`. @example pipe(tensor([1, 2]), mul(2)) // [2, 4] @category binary @since 0.2.0 */
export const mul = binary(O.mul)
/** `pipe(a, div(b))` is `a / b`. @category binary @since 0.2.0 */
export const div = binary(O.div)
/** `pipe(a, pow(b))` is `a^b`. @category binary @since 0.2.0 */
export const pow = binary(O.pow)
/** @category binary @since 0.2.0 */
export const maximum = binary(O.maximum)
/** @category binary @since 0.2.0 */
export const minimum = binary(O.minimum)
/** `pipe(y, atan2(x))` is `atan2(y, x)`. @category binary @since 0.2.0 */
export const atan2 = binary(O.atan2)
/** @category binary @since 0.2.0 */
export const mulNoNan = binary(O.mulNoNan)
/** @category binary @since 0.2.0 */
export const divNoNan = binary(O.divNoNan)
/** @category comparisons @since 0.2.0 */
export const greater = binary(O.greater)
/** @category comparisons @since 0.2.0 */
export const greaterEqual = binary(O.greaterEqual)
/** @category comparisons @since 0.2.0 */
export const less = binary(O.less)
/** @category comparisons @since 0.2.0 */
export const lessEqual = binary(O.lessEqual)
/** @category comparisons @since 0.2.0 */
export const equal = binary(O.equal)
/** @category comparisons @since 0.2.0 */
export const notEqual = binary(O.notEqual)
/** `pipe(a, matmul(b))` is `a @ b`. @example pipe(eye(2), matmul(tensor([[1], [2]]))) // [[1], [2]] @category linear algebra @since 0.2.0 */
export const matmul = binary(O.matmul)
/** @category linear algebra @since 0.2.0 */
export const dot = binary(O.dot)
/** @category linear algebra @since 0.2.0 */
export const outer = binary(O.outer)

// -------------------------------------------------------------------------------------
// ops with further arguments
// -------------------------------------------------------------------------------------

type Reduce = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions) => Tensor
const reduce =
  (f: Reduce) =>
  (axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions) =>
  (x: TensorLike): Tensor =>
    f(x, axis, keepDims)

/** `pipe(x, sum())` sums everything; `sum(axis, keepDims)` as the data-first form. @example pipe(tensor([1, 2]), sum()) // 3 @category reductions @since 0.2.0 */
export const sum = reduce(O.sum)
/** @category reductions @since 0.2.0 */
export const mean = reduce(O.mean)
/** @category reductions @since 0.2.0 */
export const max = reduce(O.max)
/** @category reductions @since 0.2.0 */
export const min = reduce(O.min)
/** @category reductions @since 0.2.0 */
export const prod = reduce(O.prod)
/** @category reductions @since 0.2.0 */
export const logsumexp = reduce(O.logsumexp)
/** @category reductions @since 0.2.0 */
export const variance = reduce(O.variance)

/** @category reductions @since 0.2.0 */
export const softmax = (axis?: number) => (x: TensorLike): Tensor => O.softmax(x, axis)
/** @category reductions @since 0.2.0 */
export const logSoftmax = (axis?: number) => (x: TensorLike): Tensor => O.logSoftmax(x, axis)
/** @category reductions @since 0.2.0 */
export const argmax = (axis?: number) => (x: TensorLike): Tensor => O.argmax(x, axis)
/** @category elementwise @since 0.2.0 */
export const leakyRelu = (alpha?: number) => (x: TensorLike): Tensor => O.leakyRelu(x, alpha)
/** `pipe(x, clip(lo, hi))`. @category elementwise @since 0.2.0 */
export const clip = (lo: TensorLike, hi: TensorLike) => (x: TensorLike): Tensor => O.clip(x, lo, hi)
/** `pipe(a, where(cond, b))` is `where(cond, a, b)`: a where cond holds, else b. @category elementwise @since 0.2.0 */
export const where = (cond: TensorLike, b: TensorLike) => (a: TensorLike): Tensor => O.where(cond, a, b)
/** @category shapes @since 0.2.0 */
export const reshape = (shape: Shape) => (x: TensorLike): Tensor => O.reshape(x, shape)
/** @category shapes @since 0.2.0 */
export const transpose = (perm?: ReadonlyArray<number>) => (x: TensorLike): Tensor => O.transpose(x, perm)
/** @category shapes @since 0.2.0 */
export const broadcastTo = (shape: Shape) => (x: TensorLike): Tensor => O.broadcastTo(x, shape)
/** @category shapes @since 0.2.0 */
export const unbroadcast = (shape: Shape) => (x: TensorLike): Tensor => O.unbroadcast(x, shape)
/** @category shapes @since 0.2.0 */
export const expandDims = (axis?: number) => (x: TensorLike): Tensor => O.expandDims(x, axis)
/** @category shapes @since 0.2.0 */
export const squeeze = (axis?: Axis) => (x: TensorLike): Tensor => O.squeeze(x, axis)
/** @category shapes @since 0.2.0 */
export const slice = (begin: ReadonlyArray<number> | number, size?: ReadonlyArray<number> | number) => (x: TensorLike): Tensor => O.slice(x, begin, size)
/** @category shapes @since 0.2.0 */
export const pad = (pads: ReadonlyArray<readonly [number, number]>) => (x: TensorLike): Tensor => O.pad(x, pads)
/** `pipe(x, gather(indices, axis))`. @category shapes @since 0.2.0 */
export const gather = (indices: ReadonlyArray<number> | Tensor | number, axis?: number) => (x: TensorLike): Tensor => O.gather(x, indices, axis)
/** @category shapes @since 0.2.0 */
export const take = gather
/** @category shapes @since 0.2.0 */
export const cast = (dtype: DType) => (x: TensorLike): Tensor => O.cast(x, dtype)
/** `pipe(xs, concat(axis))`: the data is the list. @category shapes @since 0.2.0 */
export const concat = (axis?: number) => (xs: ReadonlyArray<TensorLike>): Tensor => O.concat(xs, axis)
/** `pipe(xs, stack(axis))`: the data is the list. @category shapes @since 0.2.0 */
export const stack = (axis?: number) => (xs: ReadonlyArray<TensorLike>): Tensor => O.stack(xs, axis)
