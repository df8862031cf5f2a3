/**
 * Scalar dual numbers `x + ẋε` (`ε² = 0`) for teaching forward-mode differentiation:
 * constructors, arithmetic, elementary functions with their one-line rules,
 * `derivative`/`diff`/`jvp`, and fp-ts instances (`Semiring`, `Ring`, `Field`, `Eq`, `Show`).
 * See `Dual.ts` for the math and the conventions at kinks.
 */
export * from './Dual.js'
