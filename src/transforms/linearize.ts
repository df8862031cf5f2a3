/**
 * `linearize` and `linearTranspose`, as JAX's.
 *
 * `linearize(f, x)` evaluates `f` once at `x` and returns `[f(x), jvpFn]` where `jvpFn(v) =
 * J(x)·v` reuses that evaluation: no call of `jvpFn` runs `f` again. It is built from the
 * reverse tape: the pullback `ȳ ↦ Jᵀȳ` is linear in `ȳ`, so its own pullback (recorded once,
 * at ȳ = 0) is the transpose of the transpose, `v ↦ J·v`. Each `jvpFn` call is one sweep of
 * that recorded linear map (the primal values it needs were stored by the first pass).
 *
 * `linearTranspose(f, x)` transposes a function `f` that is linear in its argument: the
 * result maps a cotangent like `f(x)` to a cotangent like `x` (`⟨ȳ, f(v)⟩ = ⟨fᵀ(ȳ), v⟩`). `x`
 * only fixes the structure, shapes and dtypes (its values do not matter for a linear `f`).
 *
 * Purity: `f` is called once per call of `linearize`; results are frozen.
 */
import { zerosLike } from '../ops/ops.js'
import { map } from '../tree/Tree.js'
import { checkOptions } from './options.js'
import { vjp } from './transforms.js'

/**
 * The value of `f` at `x` and its linearization `v ↦ J(x)·v`, evaluating `f` once.
 * @example
 * const [y, push] = linearize((x: Tensor) => sin(x), tensor([0]))
 * push(tensor([2])) // ≈ [2]
 * @category transforms
 * @since 0.2.0
 */
export const linearize = <X, Y>(f: (x: X) => Y, x: X, options?: Record<string, never>): [Y, (v: X) => Y] => {
  checkOptions('linearize', options, [])
  const [y, pullback] = vjp(f, x)
  // pullback is linear in ȳ: its pullback (recorded once, at ȳ = 0) is v ↦ J·v
  const zero = map(y, (l) => (typeof l === 'number' ? 0 : zerosLike(l)))
  const [, push] = vjp(pullback, zero)
  return Object.freeze([y, (v: X) => push(v)]) as [Y, (v: X) => Y]
}

/**
 * The transpose of a linear function: `linearTranspose(f, x)(ȳ)` is `Jᵀ·ȳ` (a tree like `x`),
 * for `ȳ` a tree like `f(x)`.
 * @example
 * linearTranspose((v: Tensor) => matmul(tensor([[1, 2], [3, 4]]), v), zeros([2]))(tensor([1, 0])) // ≈ [1, 2]
 * @category transforms
 * @since 0.2.0
 */
export const linearTranspose = <X, Y>(f: (x: X) => Y, x: X, options?: Record<string, never>): ((yBar: Y) => X) => {
  checkOptions('linearTranspose', options, [])
  const [, pullback] = vjp(
    f,
    map(x, (l) => (typeof l === 'number' ? 0 : zerosLike(l))),
  )
  return (yBar: Y) => pullback(yBar)
}
