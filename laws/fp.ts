/**
 * Type-class laws for fp-ts instances, with an `Eq` that may be tolerance-aware (floating
 * point makes many algebraic laws hold only up to rounding; see `eqNumber`).
 *
 * - Functor: map(fa, id) = fa; map(fa, g ∘ f) = map(map(fa, f), g).
 * - Monad: chain(of(a), f) = f(a); chain(m, of) = m; chain(chain(m, f), g) =
 *   chain(m, a ↦ chain(f(a), g)); plus the Functor laws for its map.
 * - Semiring: + and · associative, + commutative, zero and one identities, · distributes over
 *   + on both sides, zero annihilates. Ring: also a − a = zero and a + (zero − a) = zero.
 *
 * Instances are typed structurally at one element type, so an fp-ts `Functor1<'Option'>`
 * is passed as is (TypeScript instantiates its generic `map`).
 *
 * Purity: the laws only call the instance's functions.
 */
import * as fc from 'fast-check'
import type { Eq } from 'fp-ts/lib/Eq.js'
import type { Ring } from 'fp-ts/lib/Ring.js'
import type { Semiring } from 'fp-ts/lib/Semiring.js'
import type { LawSuite } from './violation.js'
import { violate } from './violation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A Functor at element type A (`FA` is F<A>). @category model @since 0.1.0 */
export interface FunctorLike<A, FA> {
  readonly map: (fa: FA, f: (a: A) => A) => FA
}

/** A Monad at element type A. @category model @since 0.1.0 */
export interface MonadLike<A, FA> extends FunctorLike<A, FA> {
  readonly of: (a: A) => FA
  readonly chain: (fa: FA, f: (a: A) => FA) => FA
}

const check = <T>(law: string, eq: Eq<T>, left: T, right: T, show: (t: T) => string = fc.stringify): void => {
  if (!eq.equals(left, right))
    violate({ law, message: 'the two sides differ', where: 'value', expected: show(left), actual: show(right) })
}

/** Named functions on numbers, for Functor and Monad laws (printable in counterexamples). @category constructors @since 0.1.0 */
export const arbNumberEndo: fc.Arbitrary<(a: number) => number> = fc.constantFrom(
  Object.assign((a: number) => a + 1, { toString: () => 'a => a + 1' }),
  Object.assign((a: number) => 2 * a, { toString: () => 'a => 2 * a' }),
  Object.assign((a: number) => a * a, { toString: () => 'a => a * a' }),
  Object.assign((a: number) => -a, { toString: () => 'a => -a' }),
  Object.assign((a: number) => Math.sin(a), { toString: () => 'a => Math.sin(a)' }),
)

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

/**
 * Functor laws: identity and composition.
 * @example
 * // finite values: arbNumberEndo squares and takes sines, and NaN ≠ NaN under N.Eq
 * assertSuite(functorLaws(O.Functor, fc.option(fc.double({ min: -10, max: 10, noNaN: true })).map(O.fromNullable), O.getEq(N.Eq), arbNumberEndo))
 * @category laws
 * @since 0.1.0
 */
export const functorLaws = <A, FA>(
  F: FunctorLike<NoInfer<A>, NoInfer<FA>>,
  arb: fc.Arbitrary<FA>,
  eq: Eq<FA>,
  fn: fc.Arbitrary<(a: A) => A>,
): LawSuite =>
  Object.freeze({
    identity: fc.property(arb, (fa) =>
      check(
        'functor identity',
        eq,
        fa,
        F.map(fa, (a) => a),
      ),
    ),
    composition: fc.property(arb, fn, fn, (fa, f, g) =>
      check(
        'functor composition',
        eq,
        F.map(F.map(fa, f), g),
        F.map(fa, (a) => g(f(a))),
      ),
    ),
  })

/**
 * Monad laws (left identity, right identity, associativity) plus the Functor laws.
 * `kleisli` draws functions A → F<A>.
 * @category laws
 * @since 0.1.0
 */
export const monadLaws = <A, FA>(
  M: MonadLike<NoInfer<A>, NoInfer<FA>>,
  arbA: fc.Arbitrary<A>,
  arb: fc.Arbitrary<FA>,
  eq: Eq<FA>,
  kleisli: fc.Arbitrary<(a: A) => FA>,
  fn: fc.Arbitrary<(a: A) => A>,
): LawSuite =>
  Object.freeze({
    ...functorLaws(M, arb, eq, fn),
    leftIdentity: fc.property(arbA, kleisli, (a, f) => check('monad left identity', eq, f(a), M.chain(M.of(a), f))),
    rightIdentity: fc.property(arb, (m) => check('monad right identity', eq, m, M.chain(m, M.of))),
    associativity: fc.property(arb, kleisli, kleisli, (m, f, g) =>
      check(
        'monad associativity',
        eq,
        M.chain(M.chain(m, f), g),
        M.chain(m, (a) => M.chain(f(a), g)),
      ),
    ),
  })

/**
 * Semiring laws with a (tolerance-aware) Eq.
 * @category laws
 * @since 0.1.0
 */
export const semiringLaws = <A>(S: Semiring<A>, arb: fc.Arbitrary<A>, eq: Eq<A>): LawSuite =>
  Object.freeze({
    addAssociative: fc.property(arb, arb, arb, (a, b, c) =>
      check('(a + b) + c = a + (b + c)', eq, S.add(S.add(a, b), c), S.add(a, S.add(b, c))),
    ),
    addCommutative: fc.property(arb, arb, (a, b) => check('a + b = b + a', eq, S.add(a, b), S.add(b, a))),
    addIdentity: fc.property(arb, (a) => {
      check('zero + a = a', eq, a, S.add(S.zero, a))
      check('a + zero = a', eq, a, S.add(a, S.zero))
    }),
    mulAssociative: fc.property(arb, arb, arb, (a, b, c) =>
      check('(a · b) · c = a · (b · c)', eq, S.mul(S.mul(a, b), c), S.mul(a, S.mul(b, c))),
    ),
    mulIdentity: fc.property(arb, (a) => {
      check('one · a = a', eq, a, S.mul(S.one, a))
      check('a · one = a', eq, a, S.mul(a, S.one))
    }),
    leftDistributive: fc.property(arb, arb, arb, (a, b, c) =>
      check('a · (b + c) = a·b + a·c', eq, S.mul(a, S.add(b, c)), S.add(S.mul(a, b), S.mul(a, c))),
    ),
    rightDistributive: fc.property(arb, arb, arb, (a, b, c) =>
      check('(a + b) · c = a·c + b·c', eq, S.mul(S.add(a, b), c), S.add(S.mul(a, c), S.mul(b, c))),
    ),
    annihilation: fc.property(arb, (a) => {
      check('zero · a = zero', eq, S.zero, S.mul(S.zero, a))
      check('a · zero = zero', eq, S.zero, S.mul(a, S.zero))
    }),
  })

/**
 * Ring laws: the Semiring laws plus additive inverses.
 * @category laws
 * @since 0.1.0
 */
export const ringLaws = <A>(R: Ring<A>, arb: fc.Arbitrary<A>, eq: Eq<A>): LawSuite =>
  Object.freeze({
    ...semiringLaws(R, arb, eq),
    additiveInverse: fc.property(arb, (a) => {
      check('a − a = zero', eq, R.zero, R.sub(a, a))
      check('a + (zero − a) = zero', eq, R.zero, R.add(a, R.sub(R.zero, a)))
    }),
  })
