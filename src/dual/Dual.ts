/**
 * Scalar dual numbers: forward-mode automatic differentiation in one screen, for teaching.
 * A dual number is `x + ẋε` with `ε² = 0`. Expanding any polynomial `f(x + ẋε)` by Taylor's
 * theorem leaves only `f(x) + f'(x)·ẋ·ε` (every higher power of ε vanishes), so computing
 * with dual numbers carries the derivative along with the value. Every smooth function is
 * extended the same way: `f(x + ẋε) = f(x) + f'(x)·ẋ·ε` — one rule per function, written
 * beside it as one line of math. Setting `ẋ = 1` ("seeding" a variable) makes the ε part of
 * the result the derivative `df/dx`.
 *
 * Vocabulary (JAX's): the real part is the `primal` (`x`), the ε part is the `tangent`
 * (`xDot`, "x dot", the rate of change of x along the direction being differentiated).
 *
 * This module is the teaching twin of purediff's forward mode (`src/ad/`, `derivative` in
 * `src/transforms/`): same rules, same conventions at kinks (`abs` and `relu` have
 * derivative 0 at 0), on plain numbers instead of tensors, with no levels: nesting dual
 * numbers for higher derivatives is deliberately not supported here.
 *
 * Purity contract: every `Dual` is a frozen `{ primal, tangent }` record; no function here
 * mutates its input or keeps state.
 */
import type { Eq as EqT } from 'fp-ts/lib/Eq.js'
import type { Field as FieldT } from 'fp-ts/lib/Field.js'
import type { Ring as RingT } from 'fp-ts/lib/Ring.js'
import type { Semiring as SemiringT } from 'fp-ts/lib/Semiring.js'
import type { Show as ShowT } from 'fp-ts/lib/Show.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A dual number `primal + tangent·ε` with `ε² = 0` (JAX: `x` and `xDot`).
 * @category model
 * @since 0.1.0
 */
export interface Dual {
  readonly primal: number
  readonly tangent: number
}

/** What the arithmetic accepts: a dual number, or a plain number read as a constant. @category model */
export type DualLike = Dual | number

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The dual number `x + xDot·ε`.
 * @example
 * Show.show(dual(3, 2)) // '3 + 2ε'
 * @category constructors
 * @since 0.1.0
 */
export const dual = (x: number, xDot: number): Dual => Object.freeze({ primal: x, tangent: xDot })

/**
 * A constant: `x + 0ε` (it does not change when the variable does).
 * @example
 * Show.show(constant(5)) // '5 + 0ε'
 * @category constructors
 * @since 0.1.0
 */
export const constant = (x: number): Dual => dual(x, 0)

/**
 * The variable being differentiated: `x + 1ε` (dx/dx = 1).
 * @example
 * Show.show(variable(2)) // '2 + 1ε'
 * @category constructors
 * @since 0.1.0
 */
export const variable = (x: number): Dual => dual(x, 1)

/**
 * `0 + 0ε`.
 * @example
 * Show.show(zero) // '0 + 0ε'
 * @category constructors
 * @since 0.1.0
 */
export const zero: Dual = constant(0)
/**
 * `1 + 0ε`.
 * @example
 * Show.show(one) // '1 + 0ε'
 * @category constructors
 * @since 0.1.0
 */
export const one: Dual = constant(1)
/**
 * `ε` itself, `0 + 1ε`: a nonzero number whose square is zero.
 * @example
 * // ε² = 0
 * Show.show(mul(epsilon, epsilon)) // '0 + 0ε'
 * @category constructors
 * @since 0.1.0
 */
export const epsilon: Dual = dual(0, 1)

/**
 * Read a plain number as a constant; leave a dual number alone.
 * @example
 * Show.show(toDual(3)) // '3 + 0ε'
 * toDual(dual(1, 2)).tangent // 2
 * @category constructors
 * @since 0.1.0
 */
export const toDual = (a: DualLike): Dual => (typeof a === 'number' ? constant(a) : a)

// -------------------------------------------------------------------------------------
// combinators: arithmetic
// -------------------------------------------------------------------------------------

/**
 * Sum. `d (a + b) = da + db`
 * @example
 * Show.show(add(dual(1, 2), dual(3, 4))) // '4 + 6ε'
 * @category combinators
 * @since 0.1.0
 */
export const add = (a: DualLike, b: DualLike): Dual => {
  const x = toDual(a)
  const y = toDual(b)
  return dual(x.primal + y.primal, x.tangent + y.tangent)
}

/**
 * Difference. `d (a − b) = da − db`
 * @example
 * Show.show(sub(dual(1, 2), dual(3, 4))) // '-2 - 2ε'
 * @category combinators
 * @since 0.1.0
 */
export const sub = (a: DualLike, b: DualLike): Dual => {
  const x = toDual(a)
  const y = toDual(b)
  return dual(x.primal - y.primal, x.tangent - y.tangent)
}

/**
 * Negation. `d (−a) = −da`
 * @example
 * Show.show(neg(dual(1, 2))) // '-1 - 2ε'
 * @category combinators
 * @since 0.1.0
 */
export const neg = (a: DualLike): Dual => {
  const x = toDual(a)
  return dual(-x.primal, -x.tangent)
}

/**
 * Product (Leibniz's rule; the `da·db·ε²` term vanishes). `d (a·b) = b·da + a·db`
 * @example
 * // d x² = 2x at x = 3
 * Show.show(mul(dual(3, 1), dual(3, 1))) // '9 + 6ε'
 * @category combinators
 * @since 0.1.0
 */
export const mul = (a: DualLike, b: DualLike): Dual => {
  const x = toDual(a)
  const y = toDual(b)
  return dual(x.primal * y.primal, x.primal * y.tangent + x.tangent * y.primal)
}

/**
 * Reciprocal. `d (1/a) = −da / a²`
 *
 * NOTE: a dual number with primal 0 has no inverse (`ε · anything` has primal 0, never 1);
 * as with plain numbers the result is then `±Infinity` or `NaN`, not an error.
 * @example
 * Show.show(recip(dual(2, 1))) // '0.5 - 0.25ε'
 * @category combinators
 * @since 0.1.0
 */
export const recip = (a: DualLike): Dual => {
  const x = toDual(a)
  const y = 1 / x.primal
  return dual(y, -x.tangent * y * y)
}

/**
 * Quotient. `d (a/b) = (da − (a/b)·db) / b`
 *
 * NOTE: as for `recip`, a divisor with primal 0 gives `±Infinity` or `NaN`.
 * @example
 * Show.show(div(dual(1, 1), dual(2, 0))) // '0.5 + 0.5ε'
 * @category combinators
 * @since 0.1.0
 */
export const div = (a: DualLike, b: DualLike): Dual => {
  const x = toDual(a)
  const y = toDual(b)
  const q = x.primal / y.primal
  return dual(q, (x.tangent - q * y.tangent) / y.primal)
}

/**
 * Power with a dual base and a constant or dual exponent.
 * `d (a^p) = p·a^(p−1)·da` for a number `p`;
 * `d (a^b) = b·a^(b−1)·da + log(a)·a^b·db` for a dual `b`.
 *
 * NOTE: `a^0` has derivative 0 in `a` everywhere (also at `a = 0`, where `0·0^(−1)` would
 * be `NaN`). The `log(a)·a^b·db` term is taken as 0 at `a = 0`, `b > 0` (its limit), and
 * it is skipped when `db = 0`, so a negative base with a constant exponent is fine.
 * @example
 * Show.show(pow(variable(2), 3)) // '8 + 12ε'
 * pow(constant(2), variable(3)) // 8 + 8·log(2)ε
 * @category combinators
 * @since 0.1.0
 */
export const pow = (a: DualLike, b: DualLike): Dual => {
  const x = toDual(a)
  const p = toDual(b)
  const y = Math.pow(x.primal, p.primal)
  const dBase = p.primal === 0 ? 0 : p.primal * Math.pow(x.primal, p.primal - 1)
  const dExponent = x.primal === 0 && p.primal > 0 ? 0 : Math.log(x.primal) * y
  return dual(y, scale(dBase, x.tangent) + scale(dExponent, p.tangent))
}

// -------------------------------------------------------------------------------------
// combinators: elementary functions
// -------------------------------------------------------------------------------------

/**
 * Extend a scalar function to dual numbers from its value `f` and its derivative `df`
 * (`df` also receives `y = f(x)`, for rules that reuse it): `f(x + ẋε) = f(x) + f'(x)·ẋ·ε`.
 * Every elementary function below is one `lift`.
 *
 * NOTE: a zero tangent stays zero even where `f'` is infinite (`sqrt` at 0), so a constant
 * stays a constant instead of turning into `0·∞ = NaN` (JAX's symbolic zeros do the same).
 * @example
 * const cube = lift((x) => x ** 3, (x) => 3 * x ** 2)
 * Show.show(cube(variable(2))) // '8 + 12ε'
 * @category combinators
 * @since 0.1.0
 */
export const lift =
  (f: (x: number) => number, df: (x: number, y: number) => number) =>
  (a: DualLike): Dual => {
    const x = toDual(a)
    const y = f(x.primal)
    return dual(y, scale(df(x.primal, y), x.tangent))
  }

const scale = (d: number, xDot: number): number => (xDot === 0 ? 0 : d * xDot)

/**
 * `d eˣ = eˣ · dx`
 * @example
 * exp(variable(0)).tangent // 1
 * exp(variable(1)).tangent // ≈ Math.E
 * @category combinators
 * @since 0.1.0
 */
export const exp: (x: DualLike) => Dual = lift(Math.exp, (_x, y) => y)

/**
 * `d log(x) = dx / x` (natural log; `NaN` for x < 0, `-Infinity` at 0)
 * @example
 * log(variable(2)).tangent // 0.5
 * @category combinators
 * @since 0.1.0
 */
export const log: (x: DualLike) => Dual = lift(Math.log, (x) => 1 / x)

/**
 * `d sin(x) = cos(x) · dx`
 * @example
 * sin(variable(0)).tangent // 1
 * sin(variable(1)).tangent // ≈ Math.cos(1)
 * @category combinators
 * @since 0.1.0
 */
export const sin: (x: DualLike) => Dual = lift(Math.sin, Math.cos)

/**
 * `d cos(x) = −sin(x) · dx`
 * @example
 * cos(variable(Math.PI / 2)).tangent // ≈ -1
 * @category combinators
 * @since 0.1.0
 */
export const cos: (x: DualLike) => Dual = lift(Math.cos, (x) => -Math.sin(x))

/**
 * `d tan(x) = (1 + tan²(x)) · dx`
 * @example
 * // 1 + tan²(π/4) = 2
 * tan(variable(Math.PI / 4)).tangent // ≈ 2
 * @category combinators
 * @since 0.1.0
 */
export const tan: (x: DualLike) => Dual = lift(Math.tan, (_x, y) => 1 + y * y)

/**
 * `d tanh(x) = (1 − tanh²(x)) · dx`
 * @example
 * tanh(variable(0)).tangent // 1
 * @category combinators
 * @since 0.1.0
 */
export const tanh: (x: DualLike) => Dual = lift(Math.tanh, (_x, y) => 1 - y * y)

// exp of a non-positive argument only, so neither branch overflows for large |x|.
const sigmoidNumber = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const e = Math.exp(x)
  return e / (1 + e)
}

/**
 * `σ(x) = 1 / (1 + e⁻ˣ)`; `d σ(x) = σ(x)·(1 − σ(x)) · dx`
 * @example
 * sigmoid(variable(0)).primal // 0.5
 * sigmoid(variable(0)).tangent // 0.25
 * @category combinators
 * @since 0.1.0
 */
export const sigmoid: (x: DualLike) => Dual = lift(sigmoidNumber, (_x, y) => y * (1 - y))

/**
 * `d √x = dx / (2√x)`
 *
 * NOTE: the slope is infinite at 0: `sqrt(variable(0))` has tangent `Infinity`
 * (`sqrt(constant(0))` keeps tangent 0, see `lift`).
 * @example
 * sqrt(variable(4)).tangent // 0.25
 * @category combinators
 * @since 0.1.0
 */
export const sqrt: (x: DualLike) => Dual = lift(Math.sqrt, (_x, y) => 1 / (2 * y))

/**
 * `d |x| = sign(x) · dx`
 *
 * NOTE: at the kink x = 0 the derivative is 0 (sign(0) = 0, the midpoint of the one-sided
 * slopes −1 and 1), the convention purediff's `abs` uses.
 * @example
 * abs(variable(-3)).tangent // -1
 * abs(variable(0)).tangent // 0
 * @category combinators
 * @since 0.1.0
 */
export const abs: (x: DualLike) => Dual = lift(Math.abs, (x) => (x > 0 ? 1 : x < 0 ? -1 : 0))

/**
 * `relu(x) = max(x, 0)`; `d relu(x) = [x > 0] · dx`
 *
 * NOTE: at the kink x = 0 the derivative is 0 (the left slope), as purediff's `relu`.
 * @example
 * relu(variable(2)).tangent // 1
 * relu(variable(0)).tangent // 0
 * @category combinators
 * @since 0.1.0
 */
export const relu: (x: DualLike) => Dual = lift(
  (x) => (x > 0 ? x : 0),
  (x) => (x > 0 ? 1 : 0),
)

/**
 * `d log(1 + x) = dx / (1 + x)` (accurate for small x)
 * @example
 * log1p(variable(0)).tangent // 1
 * @category combinators
 * @since 0.1.0
 */
export const log1p: (x: DualLike) => Dual = lift(Math.log1p, (x) => 1 / (1 + x))

/**
 * `d (eˣ − 1) = eˣ · dx` (accurate for small x)
 * @example
 * expm1(variable(0)).tangent // 1
 * @category combinators
 * @since 0.1.0
 */
export const expm1: (x: DualLike) => Dual = lift(Math.expm1, (_x, y) => y + 1)

/**
 * `d atan(x) = dx / (1 + x²)`
 * @example
 * atan(variable(1)).tangent // 0.5
 * @category combinators
 * @since 0.1.0
 */
export const atan: (x: DualLike) => Dual = lift(Math.atan, (x) => 1 / (1 + x * x))

/**
 * `d asin(x) = dx / √(1 − x²)` (for |x| < 1; infinite slope at ±1)
 * @example
 * // 1/√(1 − 0.6²) = 1/0.8
 * asin(variable(0.6)).tangent // ≈ 1.25
 * @category combinators
 * @since 0.1.0
 */
export const asin: (x: DualLike) => Dual = lift(Math.asin, (x) => 1 / Math.sqrt(1 - x * x))

/**
 * `d acos(x) = −dx / √(1 − x²)` (for |x| < 1; infinite slope at ±1)
 * @example
 * acos(variable(0.6)).tangent // ≈ -1.25
 * @category combinators
 * @since 0.1.0
 */
export const acos: (x: DualLike) => Dual = lift(Math.acos, (x) => -1 / Math.sqrt(1 - x * x))

/**
 * `d sinh(x) = cosh(x) · dx`
 * @example
 * sinh(variable(0)).tangent // 1
 * @category combinators
 * @since 0.1.0
 */
export const sinh: (x: DualLike) => Dual = lift(Math.sinh, Math.cosh)

/**
 * `d cosh(x) = sinh(x) · dx`
 * @example
 * cosh(variable(0)).tangent // 0
 * cosh(variable(1)).tangent // ≈ Math.sinh(1)
 * @category combinators
 * @since 0.1.0
 */
export const cosh: (x: DualLike) => Dual = lift(Math.cosh, Math.sinh)

// -------------------------------------------------------------------------------------
// combinators: differentiation
// -------------------------------------------------------------------------------------

/**
 * The derivative of a scalar function: seed the variable with tangent 1, read the tangent.
 * A function that returns a plain number is constant, so its derivative is 0.
 * @example
 * derivative((x) => mul(x, x))(3) // 6
 * derivative((x) => sub(pow(x, 3), mul(2, x)))(2) // 3·2² − 2 = 10
 * @category combinators
 * @since 0.1.0
 */
export const derivative =
  (f: (x: Dual) => DualLike) =>
  (x: number): number =>
    toDual(f(variable(x))).tangent

/**
 * Value and derivative together from one evaluation: `[f(x), f'(x)]`.
 * @example
 * diff(sin)(0) // [0, 1]
 * @category combinators
 * @since 0.1.0
 */
export const diff =
  (f: (x: Dual) => DualLike) =>
  (x: number): readonly [number, number] => {
    const y = toDual(f(variable(x)))
    return Object.freeze([y.primal, y.tangent] as const)
  }

/**
 * Jacobian-vector product of a scalar function: `[f(x), f'(x)·xDot]` (JAX's `jvp`, on numbers).
 * @example
 * jvp(exp, 0, 3) // [1, 3]
 * @category combinators
 * @since 0.1.0
 */
export const jvp = (f: (x: Dual) => DualLike, x: number, xDot: number): readonly [number, number] => {
  const y = toDual(f(dual(x, xDot)))
  return Object.freeze([y.primal, y.tangent] as const)
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * `(Dual, +, ·, 0, 1)`: dual numbers form a commutative semiring (laws tested, up to
 * floating-point rounding, in `test/dual/`).
 * @example
 * // (2 + ε)(3 + 0ε) = 6 + 3ε
 * Show.show(Semiring.mul(dual(2, 1), dual(3, 0))) // '6 + 3ε'
 * @category instances
 * @since 0.1.0
 */
export const Semiring: SemiringT<Dual> = {
  add: (x, y) => add(x, y),
  zero,
  mul: (x, y) => mul(x, y),
  one,
}

/**
 * Dual numbers form a commutative ring: every element has an additive inverse.
 * @example
 * Show.show(Ring.sub(dual(2, 1), dual(3, 1))) // '-1 + 0ε'
 * @category instances
 * @since 0.1.0
 */
export const Ring: RingT<Dual> = { ...Semiring, sub: (x, y) => sub(x, y) }

/**
 * fp-ts's `Field`, with a caveat: dual numbers are NOT a field. `a + bε` is invertible
 * exactly when `a ≠ 0` (its inverse is `1/a − (b/a²)ε`); `ε` and its multiples have no
 * inverse, since `ε · (c + dε) = cε` never equals 1. (Dual numbers are the local ring
 * ℝ[ε]/(ε²), whose only non-invertible elements are the multiples of ε.) `div` by such an
 * element gives `±Infinity`/`NaN`, as number division by 0 does.
 *
 * `degree` and `mod` describe Euclidean division; in a field every nonzero divisor divides
 * exactly, so, like fp-ts's `Field<number>`, `degree` is constantly 1 and `mod` is
 * constantly `zero` (the remainder of exact division). This is honest for every divisor
 * with nonzero primal, which is the only case where `div` is meaningful.
 * @example
 * // 1/(2 + ε) = 1/2 − ε/4
 * Show.show(Field.div(one, dual(2, 1))) // '0.5 - 0.25ε'
 * @category instances
 * @since 0.1.0
 */
export const Field: FieldT<Dual> = {
  ...Ring,
  degree: () => 1,
  div: (x, y) => div(x, y),
  mod: () => zero,
}

// SameValueZero on numbers: like ===, but NaN equals NaN, so equality stays reflexive.
const sameValueZero = (a: number, b: number): boolean => a === b || (a !== a && b !== b)

/**
 * Exact equality of both parts (SameValueZero: `0` equals `-0`, and `NaN` equals `NaN`
 * so that the relation is reflexive).
 * @example
 * Eq.equals(dual(1, 2), dual(1, 2)) // true
 * Eq.equals(dual(NaN, 0), dual(NaN, 0)) // true
 * Eq.equals(dual(1, 2), dual(1, 3)) // false
 * @category instances
 * @since 0.1.0
 */
export const Eq: EqT<Dual> = {
  equals: (x, y) => sameValueZero(x.primal, y.primal) && sameValueZero(x.tangent, y.tangent),
}

/**
 * Equality up to rounding, part by part: `|a − b| ≤ atol + rtol · max(|a|, |b|)` for the
 * primals and for the tangents (symmetric, unlike NumPy's `isclose`). Equal values,
 * including equal infinities and two `NaN`s, are always equal.
 *
 * NOTE: a tolerance relation is reflexive and symmetric but not transitive, so this is an
 * `Eq` for checking computed results, not a lawful equivalence.
 * @example
 * eqWithin(1e-12, 0).equals(dual(0.1 + 0.2, 1), dual(0.3, 1)) // true
 * @category instances
 * @since 0.1.0
 */
export const eqWithin = (rtol: number, atol: number): EqT<Dual> => {
  const close = (a: number, b: number): boolean =>
    sameValueZero(a, b) || Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b))
  return { equals: (x, y) => close(x.primal, y.primal) && close(x.tangent, y.tangent) }
}

/**
 * Shows `a + bε` as `"3 + 2ε"` (and `"3 - 2ε"` for a negative tangent).
 * @example
 * Show.show(dual(3, -2)) // '3 - 2ε'
 * @category instances
 * @since 0.1.0
 */
export const Show: ShowT<Dual> = {
  show: (x) =>
    x.tangent < 0 ? `${String(x.primal)} - ${String(-x.tangent)}ε` : `${String(x.primal)} + ${String(x.tangent)}ε`,
}
