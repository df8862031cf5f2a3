/**
 * Data-last, curried forms of the tree functions, for `pipe` (see `src/pipeable.ts` for the
 * convention): the tree the pipe carries is the first argument of the data-first form, so
 * `pipe(a, tree.add(b))` is `tree.add(a, b)` and `pipe(params, tree.map(f))` is
 * `tree.map(params, f)`. Functions of the tree alone (`norm`, `leaves`, `paths`, `zerosLike`,
 * `onesLike`) are the same in both forms.
 *
 * Purity: every function here only reorders the arguments of a pure function.
 * @example
 * pipe(grads, scale(-0.1), add(params)) // params - 0.1 · grads
 * pipe(grads, scale(-0.1), add(params)).b // ≈ [params.b.item() - 0.1 * grads.b.item()]
 */
import type { TensorLike } from '../ops/ops.js'
import type { Tensor } from '../tensor/Tensor.js'
import * as T from './Tree.js'
import type { Leaf } from './Tree.js'
import * as V from './vector.js'

export { norm, zerosLike, onesLike } from './vector.js'
export { leaves, paths } from './Tree.js'

/** `pipe(tree, map(f))` is `tree.map(tree, f)`. @example pipe({ w: tensor([1]) }, tree.map((x) => mul(x, 2))) @category combinators @since 0.2.0 */
export const map =
  (f: (leaf: Leaf, path: string) => Leaf) =>
  <A>(tree: A): A =>
    T.map(tree, f)

/** `pipe(a, zipWith(b, f))` is `tree.zipWith(a, b, f)`. @category combinators @since 0.2.0 */
export const zipWith =
  <A>(b: A, f: (x: Leaf, y: Leaf, path: string) => Leaf) =>
  (a: A): A =>
    T.zipWith(a, b, f)

/** `pipe(a, add(b))` is `a + b` leafwise. @category combinators @since 0.2.0 */
export const add =
  <A>(b: A) =>
  (a: A): A =>
    V.add(a, b)

/** `pipe(a, sub(b))` is `a − b` leafwise. @category combinators @since 0.2.0 */
export const sub =
  <A>(b: A) =>
  (a: A): A =>
    V.sub(a, b)

/** `pipe(a, mul(b))` is `a ⊙ b` leafwise. @category combinators @since 0.2.0 */
export const mul =
  <A>(b: A) =>
  (a: A): A =>
    V.mul(a, b)

/** `pipe(tree, scale(s))` is every leaf times `s`. @category combinators @since 0.2.0 */
export const scale =
  (s: TensorLike) =>
  <A>(tree: A): A =>
    V.scale(tree, s)

/** `pipe(x, axpy(a, y))` is `a·x + y`. @example pipe(grads, tree.axpy(-0.1, params)) @category combinators @since 0.2.0 */
export const axpy =
  <A>(a: TensorLike, y: A) =>
  (x: A): A =>
    V.axpy(a, x, y)

/** `pipe(a, dot(b))` is the inner product of two trees. @category combinators @since 0.2.0 */
export const dot =
  <A>(b: A) =>
  (a: A): Tensor =>
    V.dot(a, b)

/** `pipe(tree, fullLike(value))`. @category constructors @since 0.2.0 */
export const fullLike =
  (value: number) =>
  <A>(tree: A): A =>
    V.fullLike(tree, value)
