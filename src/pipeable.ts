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
import * as A from './ops/array.js'
import * as L from './ops/linalg.js'
import * as O from './ops/ops.js'
import type { Axis, ReduceOptions, TensorLike } from './ops/ops.js'
import * as Sp from './ops/special.js'
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
export const softmax =
  (axis?: number) =>
  (x: TensorLike): Tensor =>
    O.softmax(x, axis)
/** @category reductions @since 0.2.0 */
export const logSoftmax =
  (axis?: number) =>
  (x: TensorLike): Tensor =>
    O.logSoftmax(x, axis)
/** @category reductions @since 0.2.0 */
export const argmax =
  (axis?: number) =>
  (x: TensorLike): Tensor =>
    O.argmax(x, axis)
/** @category reductions @since 0.2.0 */
export const argmin =
  (axis?: number) =>
  (x: TensorLike): Tensor =>
    O.argmin(x, axis)
/** @category elementwise @since 0.2.0 */
export const leakyRelu =
  (alpha?: number) =>
  (x: TensorLike): Tensor =>
    O.leakyRelu(x, alpha)
/** `pipe(x, clip(lo, hi))`. @category elementwise @since 0.2.0 */
export const clip =
  (lo: TensorLike, hi: TensorLike) =>
  (x: TensorLike): Tensor =>
    O.clip(x, lo, hi)
/** `pipe(a, where(cond, b))` is `where(cond, a, b)`: a where cond holds, else b. @category elementwise @since 0.2.0 */
export const where =
  (cond: TensorLike, b: TensorLike) =>
  (a: TensorLike): Tensor =>
    O.where(cond, a, b)
/** @category shapes @since 0.2.0 */
export const reshape =
  (shape: Shape) =>
  (x: TensorLike): Tensor =>
    O.reshape(x, shape)
/** @category shapes @since 0.2.0 */
export const transpose =
  (perm?: ReadonlyArray<number>) =>
  (x: TensorLike): Tensor =>
    O.transpose(x, perm)
/** @category shapes @since 0.2.0 */
export const broadcastTo =
  (shape: Shape) =>
  (x: TensorLike): Tensor =>
    O.broadcastTo(x, shape)
/** @category shapes @since 0.2.0 */
export const unbroadcast =
  (shape: Shape) =>
  (x: TensorLike): Tensor =>
    O.unbroadcast(x, shape)
/** @category shapes @since 0.2.0 */
export const expandDims =
  (axis?: number) =>
  (x: TensorLike): Tensor =>
    O.expandDims(x, axis)
/** @category shapes @since 0.2.0 */
export const squeeze =
  (axis?: Axis) =>
  (x: TensorLike): Tensor =>
    O.squeeze(x, axis)
/** @category shapes @since 0.2.0 */
export const slice =
  (begin: ReadonlyArray<number> | number, size?: ReadonlyArray<number> | number) =>
  (x: TensorLike): Tensor =>
    O.slice(x, begin, size)
/** @category shapes @since 0.2.0 */
export const pad =
  (pads: ReadonlyArray<readonly [number, number]>) =>
  (x: TensorLike): Tensor =>
    O.pad(x, pads)
/** `pipe(x, gather(indices, axis))`. @category shapes @since 0.2.0 */
export const gather =
  (indices: ReadonlyArray<number> | Tensor | number, axis?: number) =>
  (x: TensorLike): Tensor =>
    O.gather(x, indices, axis)
/** @category shapes @since 0.2.0 */
export const take = gather
/** @category shapes @since 0.2.0 */
export const cast =
  (dtype: DType) =>
  (x: TensorLike): Tensor =>
    O.cast(x, dtype)
/** `pipe(xs, concat(axis))`: the data is the list. @category shapes @since 0.2.0 */
export const concat =
  (axis?: number) =>
  (xs: ReadonlyArray<TensorLike>): Tensor =>
    O.concat(xs, axis)
/** `pipe(xs, stack(axis))`: the data is the list. @category shapes @since 0.2.0 */
export const stack =
  (axis?: number) =>
  (xs: ReadonlyArray<TensorLike>): Tensor =>
    O.stack(xs, axis)

// -------------------------------------------------------------------------------------
// linear algebra, special functions and array ops
// -------------------------------------------------------------------------------------

/** The data-last form of `f(x, ...args)`: `dataLast(f)(...args)(x)`. */
const dataLast =
  <X, Args extends unknown[], R>(f: (x: X, ...args: Args) => R) =>
  (...args: Args) =>
  (x: X): R =>
    f(x, ...args)

export { cholesky, det, eigh, inv, logdet, qr, slogdet, svd, trace } from './ops/linalg.js'
export { acos, acosh, asin, asinh, atan, atanh, digamma, erf, erfc, erfinv, lgamma, logit } from './ops/special.js'

/** `pipe(a, solve(b))` is `solve(a, b)` (x with a·x = b). @category linear algebra @since 0.2.0 */
export const solve = binary(L.solve)
/** `pipe(t, triangularSolve(b, options))`. @category linear algebra @since 0.2.0 */
export const triangularSolve = dataLast(L.triangularSolve)
/** @category linear algebra @since 0.2.0 */
export const diagonal = dataLast(L.diagonal)
/** @category linear algebra @since 0.2.0 */
export const diag = dataLast(L.diag)
/** @category linear algebra @since 0.2.0 */
export const tril = dataLast(L.tril)
/** @category linear algebra @since 0.2.0 */
export const triu = dataLast(L.triu)
/** `pipe(x, norm())` or `norm({ ord, axis })`. @category linear algebra @since 0.2.0 */
export const norm = dataLast(L.norm)
/** `pipe(operands, einsum(spec))`: the data is the list of operands. @category linear algebra @since 0.2.0 */
export const einsum =
  (spec: string) =>
  (operands: ReadonlyArray<TensorLike>): Tensor =>
    L.einsum(spec, ...operands)

/** @category special functions @since 0.2.0 */
export const logaddexp = binary(Sp.logaddexp)
/** `pipe(x, xlogy(y))` is `x · log y`. @category special functions @since 0.2.0 */
export const xlogy = binary(Sp.xlogy)
/** @category special functions @since 0.2.0 */
export const xlog1py = binary(Sp.xlog1py)
/** `pipe(x, polygamma(n))` is `polygamma(n, x)`. @category special functions @since 0.2.0 */
export const polygamma =
  (n: number) =>
  (x: TensorLike): Tensor =>
    Sp.polygamma(n, x)

/** @category array ops @since 0.2.0 */
export const cumsum = dataLast(A.cumsum)
/** @category array ops @since 0.2.0 */
export const cumprod = dataLast(A.cumprod)
/** @category array ops @since 0.2.0 */
export const cummax = dataLast(A.cummax)
/** @category array ops @since 0.2.0 */
export const sort = dataLast(A.sort)
/** @category array ops @since 0.2.0 */
export const argsort = dataLast(A.argsort)
/** @category array ops @since 0.2.0 */
export const topK = dataLast(A.topK)
/** @category array ops @since 0.2.0 */
export const flip = dataLast(A.flip)
/** @category array ops @since 0.2.0 */
export const roll = dataLast(A.roll)
/** @category array ops @since 0.2.0 */
export const tile = dataLast(A.tile)
/** @category array ops @since 0.2.0 */
export const repeat = dataLast(A.repeat)
/** @category array ops @since 0.2.0 */
export const split = dataLast(A.split)
/** `pipe(x, index(i, j))` is `index(x, i, j)`. @category array ops @since 0.2.0 */
export const index =
  (...idx: ReadonlyArray<number>) =>
  (x: TensorLike): Tensor =>
    A.index(x, ...idx)
/** `pipe(x, at(idx))` is `at(x, idx)` (then `.set(v)`, `.add(v)`, ...). @category array ops @since 0.2.0 */
export const at = dataLast(A.at)
