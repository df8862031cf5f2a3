/**
 * Special functions, elementwise and differentiable to any order: the error function family,
 * log Γ and the polygamma functions (primitives, `src/primitives/special.ts`), the inverse
 * trigonometric and hyperbolic functions (primitives), and the compositions `logaddexp`,
 * `xlogy`, `xlog1py` and `logit`.
 *
 * The math of the compositions, one line each:
 * - logaddexp(a, b) = max(a, b) + log1p(e^{−|a−b|}), each side of a = b with its own exact
 *   formula (so every derivative is right, also at a tie);
 * - xlogy(x, y) = x·log y, with 0 wherever x = 0 (also at y = 0); xlog1py(x, y) = x·log1p(y);
 * - logit(p) = log(p / (1 − p)), as log1p((2p − 1)/(1 − p)) for p ≥ ¼ (no cancellation near ½).
 *
 * Accuracy (measured in `test/core/special.test.ts` against 40-digit references computed
 * there with decimal.js): see each op's doc line.
 *
 * Purity: ops return new tensors and never modify their arguments.
 */
import { bind, liftTo, resultDType } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import * as SP from '../primitives/special.js'
import type { Primitive } from '../primitives/types.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { TensorLike } from './ops.js'
import { add, asTensor, div, exp, greater, less, log, log1p, mul, mulNoNan, notEqual, sub, where } from './ops.js'

type NoParams = Record<string, never>
const none = Object.freeze({}) as NoParams

const unary =
  (prim: Primitive<NoParams>) =>
  (x: TensorLike): Tensor =>
    bind(prim, [asTensor(x, prim.name)], none)

/**
 * The error function (2/√π)∫₀ˣ e^{−t²} dt; within 2 ulp on [−6, 6].
 * @example
 * erf(0.5) // ≈ 0.5204998778130465
 * @category special functions
 * @since 0.2.0
 */
export const erf = unary(SP.erf)
/**
 * 1 − erf(x), accurate in the upper tail (relative error within 4 ulp on [−6, 26]).
 * @example
 * erfc(3) // ≈ 2.209049699858544e-5
 * @category special functions
 * @since 0.2.0
 */
export const erfc = unary(SP.erfc)
/**
 * The inverse of erf on [−1, 1] (±∞ at ±1, NaN outside); within 4 ulp on [−1 + 1e-12, 1 − 1e-12].
 * @example
 * erfinv(0.5) // ≈ 0.4769362762044699
 * @category special functions
 * @since 0.2.0
 */
export const erfinv = unary(SP.erfinv)
/**
 * log|Γ(x)| (+∞ at the poles 0, −1, …); within 3 ulp for x > 0 (absolute 3e-16 near the zeros at 1 and 2).
 * @example
 * lgamma(0.5) // ≈ 0.5723649429247001
 * @category special functions
 * @since 0.2.0
 */
export const lgamma = unary(SP.lgamma)
/**
 * sin⁻¹ x on [−1, 1].
 * @example
 * asin(1) // ≈ 1.5707963267948966
 * @category special functions
 * @since 0.2.0
 */
export const asin = unary(SP.asin)
/**
 * cos⁻¹ x on [−1, 1].
 * @example
 * acos(0) // ≈ 1.5707963267948966
 * @category special functions
 * @since 0.2.0
 */
export const acos = unary(SP.acos)
/**
 * tan⁻¹ x.
 * @example
 * atan(1) // ≈ 0.7853981633974483
 * @category special functions
 * @since 0.2.0
 */
export const atan = unary(SP.atan)
/**
 * sinh⁻¹ x.
 * @example
 * asinh(0) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const asinh = unary(SP.asinh)
/**
 * cosh⁻¹ x for x ≥ 1.
 * @example
 * acosh(1) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const acosh = unary(SP.acosh)
/**
 * tanh⁻¹ x on (−1, 1).
 * @example
 * atanh(0) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const atanh = unary(SP.atanh)

/**
 * ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (n = 0: ψ; NaN at the poles 0, −1, …);
 * within 3 ulp for n = 1 and 5 ulp for n = 3 on (0, 60].
 * @example
 * polygamma(1, 1) // ≈ 1.6449340668482264
 * @category special functions
 * @since 0.2.0
 */
export const polygamma = (n: number, x: TensorLike): Tensor => {
  if (!Number.isInteger(n) || n < 0)
    throw new PurediffError('ValueError', `the order must be a non-negative integer, got ${n}`, { op: 'polygamma' })
  return bind(SP.polygamma, [asTensor(x, 'polygamma')], { n })
}

/**
 * ψ(x) = d log Γ(x)/dx; within 3 ulp for x > 0 (relative, also near its root x₀ ≈ 1.4616).
 * @example
 * digamma(1) // ≈ -0.5772156649015329
 * @category special functions
 * @since 0.2.0
 */
export const digamma = (x: TensorLike): Tensor => polygamma(0, x)

const pair = (a0: TensorLike, b0: TensorLike, op: string): [Tensor, Tensor] => {
  const a = asTensor(a0, op)
  const b = asTensor(b0, op)
  const dt = resultDType([a, b])
  return [liftTo(a, dt), liftTo(b, dt)]
}

/**
 * log(eᵃ + eᵇ) without overflow.
 * NOTE at a = b the formula max + log1p(e^{min − max}) is still exact and smooth on either
 * side, so the derivative there is ½ to each argument (and the second derivative ¼); a = b = ±∞
 * gives ±∞.
 * @example
 * logaddexp(1000, 1000) // ≈ 1000.6931471805599
 * @category special functions
 * @since 0.2.0
 */
export const logaddexp = (a0: TensorLike, b0: TensorLike): Tensor => {
  const [a, b] = pair(a0, b0, 'logaddexp')
  const aBig = greater(a, b)
  const big = where(aBig, a, b)
  const small = where(aBig, b, a)
  // small − big ≤ 0; it is NaN only when a = b = ±∞, where the answer is a itself
  const d = sub(small, big)
  const nan = notEqual(d, d)
  return where(nan, a, add(big, log1p(exp(where(nan, 0, d)))))
}

/**
 * x·log(y), with 0 wherever x = 0 (even at y = 0), as JAX's `xlogy`.
 * @example
 * xlogy(0, 0) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const xlogy = (x0: TensorLike, y0: TensorLike): Tensor => {
  const [x, y] = pair(x0, y0, 'xlogy')
  return mulNoNan(x, log(y))
}

/**
 * x·log(1 + y), with 0 wherever x = 0 (even at y = −1).
 * @example
 * xlog1py(0, -1) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const xlog1py = (x0: TensorLike, y0: TensorLike): Tensor => {
  const [x, y] = pair(x0, y0, 'xlog1py')
  return mulNoNan(x, log1p(y))
}

/**
 * log(p / (1 − p)), the inverse of sigmoid; within 4 ulp on (0, 1).
 * @example
 * logit(0.5) // ≈ 0
 * @category special functions
 * @since 0.2.0
 */
export const logit = (p0: TensorLike): Tensor => {
  const p = asTensor(p0, 'logit')
  const q = sub(1, p)
  const small = less(p, 0.25)
  // both branches are exact formulas of the same function; where keeps NaN out of the other
  const lo = log(div(where(small, p, 0.5), where(small, q, 0.5)))
  const hi = log1p(div(sub(mul(2, p), 1), where(small, 0.5, q)))
  return where(small, lo, hi)
}
