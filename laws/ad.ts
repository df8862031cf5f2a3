/**
 * Law suites for derivatives, as fast-check properties over a user's function and an
 * arbitrary of its inputs. Each law is a property `(x, seed) => void` that throws a
 * `LawViolation` (or a `GradCheckError`) naming the key path responsible; the seed draws
 * the random directions, so a shrunk counterexample replays exactly.
 *
 * The laws, with J = ∂f/∂x at x, random directions v, w and cotangent ȳ:
 * - jvpMatchesNumeric / vjpMatchesNumeric / gradsMatchNumeric: `checkGrads` in fwd, rev or
 *   the given modes and order (automatic vs extrapolated central differences);
 * - vjpJvpAdjoint: ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩ (the pullback is the transpose of the pushforward);
 * - forwardEqualsReverse: jacfwd(f)(x) = jacrev(f)(x), element by element;
 * - jvpLinearInTangent: J·(a·v + b·w) = a·J·v + b·J·w;
 * - hessianSymmetric: ⟨w, H·v⟩ = ⟨v, H·w⟩ (H by forward-over-reverse);
 * - chainRule: J_{g∘f} · v = J_g · (J_f · v) and J_{g∘f}ᵀ · ȳ = J_fᵀ · (J_gᵀ · ȳ);
 * - perturbationConfusionFree: for φ(s) = ⟨∇f(x + s·w), v⟩ computed with a `jvp` that closes
 *   over the outer variable s, d/ds [s·φ(s)] at 0 is exactly φ(0) (a confused nesting adds
 *   terms), by forward and by reverse outer derivatives, and d/ds φ(s) at 0 matches a
 *   central difference of φ;
 * - customRuleLaws: a suite of the above for a function built with `customJvp`/`customVjp`.
 *
 * Tolerances. There are two kinds of comparison, and each has its own tolerance, whichever
 * law or suite makes it:
 * - automatic vs numeric derivatives (jvp/vjp/gradsMatchNumeric, the nested-derivative
 *   check of perturbationConfusionFree): `atol`/`rtol` of `CheckGradsOptions`, defaults
 *   `defaultTolerances` (1e-6 in float64, 1e-3 in float32), never tighter than the numeric
 *   side's rounding-noise floor (see `checkGrads`);
 * - two computations that agree up to rounding: two automatic derivatives (vjpJvpAdjoint,
 *   forwardEqualsReverse, jvpLinearInTangent, hessianSymmetric, chainRule, the exactness
 *   checks of perturbationConfusionFree) and a custom function's value against its
 *   reference (customRuleLaws): defaults `adTolerances` (1e-9 in float64, 1e-4 in float32).
 * A law that only compares automatic derivatives takes these as its `atol`/`rtol`
 * (`LawTolerance`). Laws and suites that make both kinds of comparison
 * (perturbationConfusionFree, customRuleLaws, derivativeLaws) take `LawOptions`: `atol`/`rtol`
 * for the numeric comparisons, as in `checkGrads`, and `ad: { atol, rtol }` for the others.
 * Relative tolerances of inner products are relative to the sum of absolute values of their
 * terms (so cancellation cannot make a law flaky). Invalid options throw a `RangeError`
 * when the law is built.
 *
 * Purity: the laws never modify their inputs.
 */
import * as fc from 'fast-check'
import { Tensor, derivative, grad, hvp, jacfwd, jacrev, jvp, mul, tree, vjp } from '../src/index.js'
import type { DType } from '../src/index.js'
import type { CheckGradsOptions } from './checkGrads.js'
import { assertGrads, defaultTolerances } from './checkGrads.js'
import { eqTree } from './eq.js'
import type { Flat } from './flat.js'
import { absDotV, dotV, dtypeOfFlat, elementPath, fromFlat, leafAt, toFlat, unravel } from './flat.js'
import type { Measure, Tol } from './localize.js'
import { fails, localize, tolOf } from './localize.js'
import { numericSide } from './numeric.js'
import { checkTolerance, validateCheckGradsOptions } from './options.js'
import { normals, subSeed } from './prng.js'
import type { LawSuite } from './violation.js'
import { violate } from './violation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Tolerance of comparisons that agree up to rounding (two automatic derivatives, or a value
 * and its reference); defaults `adTolerances`. @category model @since 0.1.0
 */
export interface LawTolerance {
  readonly atol?: number
  readonly rtol?: number
}

/**
 * Options of the laws and suites that make both kinds of comparison (see the module header):
 * `CheckGradsOptions` for the comparisons with numeric derivatives, `ad` for those that
 * agree up to rounding.
 * @category model
 * @since 0.1.0
 */
export interface LawOptions extends CheckGradsOptions {
  /** tolerance of the comparisons between automatic derivatives (and of values against a reference); default `adTolerances` */
  readonly ad?: LawTolerance
}

const validateTolerance = (law: string, o: LawTolerance): void => {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${law}: options must be an object, got ${String(o)}`)
  checkTolerance(law, 'atol', o.atol)
  checkTolerance(law, 'rtol', o.rtol)
}

const validateLawOptions = (law: string, o: LawOptions): void => {
  validateCheckGradsOptions(law, o)
  if (o.ad !== undefined) validateTolerance(`${law}: ad`, o.ad)
}

/** `CheckGradsOptions` without `ad` (what `checkGrads` gets). */
const numericPart = (o: LawOptions): CheckGradsOptions => {
  const { ad: _ad, ...rest } = o
  return rest
}

/** Default tolerances of the comparisons that agree up to rounding (two automatic derivatives, a value and its reference). @category model @since 0.1.0 */
export const adTolerances: Readonly<Record<DType, Tol>> = Object.freeze({
  float64: Object.freeze({ atol: 1e-9, rtol: 1e-9 }),
  float32: Object.freeze({ atol: 1e-4, rtol: 1e-4 }),
})

const arbSeed = fc.nat()

const tolFor = (o: LawTolerance, ...fls: ReadonlyArray<Flat>): Tol => {
  const d = adTolerances[dtypeOfFlat(...fls)]
  return { atol: o.atol ?? d.atol, rtol: o.rtol ?? d.rtol }
}

const flatOf = (t: unknown): Flat => toFlat(t, 'laws')

/** Compare two flat vectors element by element; throw naming the first element past tolerance. */
const compareElements = (
  law: string,
  message: string,
  where: 'input' | 'output',
  like: Flat,
  expected: Float64Array,
  actual: Float64Array,
  scale: (i: number) => number,
  t: Tol,
  details: ReadonlyArray<string>,
): void => {
  for (let i = 0; i < expected.length; i++) {
    const m: Measure = { expected: expected[i] as number, actual: actual[i] as number, scale: scale(i) }
    if (fails(m, t))
      violate({
        law,
        message,
        path: elementPath(like, i),
        where,
        expected: m.expected,
        actual: m.actual,
        tolerance: tolOf(m, t),
        details,
      })
  }
}

const cotangentFor = (yf: Flat, seed: number): Float64Array =>
  yf.values.length === 1 ? Float64Array.of(1) : normals(seed, yf.values.length)

// -------------------------------------------------------------------------------------
// laws against numeric derivatives
// -------------------------------------------------------------------------------------

/**
 * Forward mode agrees with central differences: `checkGrads` with `modes: ['fwd']`.
 * @example
 * fc.assert(jvpMatchesNumeric(model, arbParams({ w: [3, 2], b: [2] })))
 * @category laws
 * @since 0.1.0
 */
export const jvpMatchesNumeric = <X, Y>(f: (x: X) => Y, arb: fc.Arbitrary<X>, o: CheckGradsOptions = {}) => {
  validateCheckGradsOptions('jvpMatchesNumeric', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    assertGrads(f, x, { ...o, modes: ['fwd'], seed })
  })
}

/** Reverse mode agrees with central differences: `checkGrads` with `modes: ['rev']`. @category laws @since 0.1.0 */
export const vjpMatchesNumeric = <X, Y>(f: (x: X) => Y, arb: fc.Arbitrary<X>, o: CheckGradsOptions = {}) => {
  validateCheckGradsOptions('vjpMatchesNumeric', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    assertGrads(f, x, { ...o, modes: ['rev'], seed })
  })
}

/** `checkGrads` with the given modes and order (default both modes, order 1). @category laws @since 0.1.0 */
export const gradsMatchNumeric = <X, Y>(f: (x: X) => Y, arb: fc.Arbitrary<X>, o: CheckGradsOptions = {}) => {
  validateCheckGradsOptions('gradsMatchNumeric', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    assertGrads(f, x, { ...o, seed })
  })
}

// -------------------------------------------------------------------------------------
// laws between automatic derivatives
// -------------------------------------------------------------------------------------

/**
 * ⟨ȳ, jvp(f, x, v)⟩ = ⟨vjp(f, x)(ȳ), v⟩ for random v and ȳ; a violation names the input
 * element whose row of Jᵀ disagrees with its column of J.
 * @category laws
 * @since 0.1.0
 */
export const vjpJvpAdjoint = <X, Y>(f: (x: X) => Y, arb: fc.Arbitrary<X>, o: LawTolerance = {}) => {
  validateTolerance('vjpJvpAdjoint', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    const xf = flatOf(x)
    if (xf.values.length === 0) return
    const [y, pullback] = vjp(f, x)
    const yf = flatOf(y)
    if (yf.values.length === 0) return
    const t = tolFor(o, xf, yf)
    const u = cotangentFor(yf, subSeed(seed, 1))
    const xBar = flatOf(pullback(fromFlat(yf, u))).values
    const measure = (dir: Float64Array): Measure => {
      const jv = flatOf(jvp(f, x, fromFlat(xf, dir))[1]).values
      return { expected: dotV(u, jv), actual: dotV(xBar, dir), scale: Math.max(absDotV(u, jv), absDotV(xBar, dir)) }
    }
    const v = normals(seed, xf.values.length)
    if (fails(measure(v), t)) {
      const loc = localize(xf, v, measure, t)
      violate({
        law: 'vjpJvpAdjoint',
        message: '⟨ȳ, J·v⟩ ≠ ⟨Jᵀ·ȳ, v⟩: the pullback is not the transpose of the pushforward',
        path: loc.path,
        expected: loc.m.expected,
        actual: loc.m.actual,
        tolerance: tolOf(loc.m, t),
        details: [
          `expected = ⟨ȳ, jvp(f, x, v)⟩, actual = ⟨vjp(f, x)(ȳ), v⟩ along ${loc.direction === 'basis' ? `e[${loc.path}]` : 'a random direction'}`,
        ],
      })
    }
  })
}

/**
 * jacfwd(f)(x) = jacrev(f)(x) element by element, for `f` returning one tensor or number;
 * a violation names the input element and the output index.
 * @category laws
 * @since 0.1.0
 */
export const forwardEqualsReverse = <X>(f: (x: X) => Tensor | number, arb: fc.Arbitrary<X>, o: LawTolerance = {}) => {
  validateTolerance('forwardEqualsReverse', o)
  return fc.property(arb, (x) => {
    const xf = flatOf(x)
    const y = f(x)
    const yShape = typeof y === 'number' ? [] : y.shape
    const jf = flatOf(jacfwd(f)(x))
    const jr = flatOf(jacrev(f)(x))
    const t = tolFor(o, xf, flatOf(y))
    for (const leaf of jf.leaves) {
      const xl = xf.leaves.find((l) => l.path === leaf.path) ?? leafAt(xf, 0)
      for (let k = 0; k < leaf.size; k++) {
        const a = jf.values[leaf.offset + k] as number
        const b = jr.values[leaf.offset + k] as number
        const m: Measure = { expected: a, actual: b, scale: Math.max(Math.abs(a), Math.abs(b)) }
        if (fails(m, t)) {
          const j = k % xl.size
          const out = unravel(yShape, Math.floor(k / xl.size))
          violate({
            law: 'forwardEqualsReverse',
            message: `∂y${out.map((i) => `[${i}]`).join('')}/∂x differs between jacfwd and jacrev`,
            path: elementPath(xf, xl.offset + j),
            expected: a,
            actual: b,
            tolerance: tolOf(m, t),
            details: ['expected = jacfwd (forward mode), actual = jacrev (reverse mode)'],
          })
        }
      }
    }
  })
}

/**
 * jvp(f, x, a·v + b·w) = a·jvp(f, x, v) + b·jvp(f, x, w): the tangent map is linear.
 * @category laws
 * @since 0.1.0
 */
export const jvpLinearInTangent = <X, Y>(f: (x: X) => Y, arb: fc.Arbitrary<X>, o: LawTolerance = {}) => {
  validateTolerance('jvpLinearInTangent', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    const xf = flatOf(x)
    const n = xf.values.length
    const [a, b] = normals(subSeed(seed, 2), 2) as unknown as [number, number]
    const v = normals(seed, n)
    const w = normals(subSeed(seed, 1), n)
    const mix = v.map((vi, i) => a * vi + b * (w[i] as number))
    const tan = (d: Float64Array) => flatOf(jvp(f, x, fromFlat(xf, d))[1])
    const jm = tan(mix)
    const jv = tan(v).values
    const jw = tan(w).values
    const combo = jv.map((p, i) => a * p + b * (jw[i] as number))
    const t = tolFor(o, xf, jm)
    compareElements(
      'jvpLinearInTangent',
      'J·(a·v + b·w) ≠ a·J·v + b·J·w: the tangent is not linear in the tangent input',
      'output',
      jm,
      combo,
      jm.values,
      (i) => Math.abs(a * (jv[i] as number)) + Math.abs(b * (jw[i] as number)),
      t,
      [`a = ${a}, b = ${b}; expected = a·jvp(v) + b·jvp(w), actual = jvp(a·v + b·w)`],
    )
  })
}

/**
 * ⟨w, H·v⟩ = ⟨v, H·w⟩ for a scalar `f` (H·v by `hvp`, forward-over-reverse); a violation
 * names the input element where H·v and Hᵀ·v differ.
 * @category laws
 * @since 0.1.0
 */
export const hessianSymmetric = <X>(f: (x: X) => Tensor | number, arb: fc.Arbitrary<X>, o: LawTolerance = {}) => {
  validateTolerance('hessianSymmetric', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    const xf = flatOf(x)
    const n = xf.values.length
    if (n === 0) return
    const v = normals(seed, n)
    const Hv = flatOf(hvp(f)(x, fromFlat<X>(xf, v))).values
    const t = tolFor(o, xf)
    const measure = (dir: Float64Array): Measure => {
      const Hd = flatOf(hvp(f)(x, fromFlat<X>(xf, dir))).values
      return { expected: dotV(v, Hd), actual: dotV(dir, Hv), scale: Math.max(absDotV(v, Hd), absDotV(dir, Hv)) }
    }
    const w = normals(subSeed(seed, 1), n)
    if (fails(measure(w), t)) {
      const loc = localize(xf, w, measure, t)
      violate({
        law: 'hessianSymmetric',
        message: 'the Hessian is not symmetric: (H·v) and (Hᵀ·v) differ',
        path: loc.path,
        expected: loc.m.expected,
        actual: loc.m.actual,
        tolerance: tolOf(loc.m, t),
        details: ['expected = ⟨v, H·e⟩, actual = ⟨e, H·v⟩ with H·u = hvp(f)(x, u)'],
      })
    }
  })
}

/**
 * The chain rule for `g ∘ f`: forward, jvp(g∘f, x, v) = jvp(g, f(x), jvp(f, x, v)); reverse,
 * vjp(g∘f, x)(ȳ) = vjp(f, x)(vjp(g, f(x))(ȳ)), element by element (a reverse violation
 * names the input key path).
 * @category laws
 * @since 0.1.0
 */
export const chainRule = <X, Y, Z>(f: (x: X) => Y, g: (y: Y) => Z, arb: fc.Arbitrary<X>, o: LawTolerance = {}) => {
  validateTolerance('chainRule', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    const h = (u: X): Z => g(f(u))
    const xf = flatOf(x)
    const v = fromFlat<X>(xf, normals(seed, xf.values.length))
    const [y, yDot] = jvp(f, x, v)
    const whole = flatOf(jvp(h, x, v)[1])
    const composed = flatOf(jvp(g, y, yDot)[1])
    const t = tolFor(o, xf, whole)
    compareElements(
      'chainRule',
      'forward: jvp(g∘f) ≠ jvp(g) ∘ jvp(f)',
      'output',
      whole,
      composed.values,
      whole.values,
      (i) => Math.max(Math.abs(whole.values[i] as number), Math.abs(composed.values[i] as number)),
      t,
      ['expected = jvp(g, f(x), jvp(f, x, v)), actual = jvp(g∘f, x, v)'],
    )
    const [z, pbH] = vjp(h, x)
    const zf = flatOf(z)
    const zBar = fromFlat<Z>(zf, cotangentFor(zf, subSeed(seed, 1)))
    const [, pbG] = vjp(g, f(x))
    const [, pbF] = vjp(f, x)
    const direct = flatOf(pbH(zBar)).values
    const chained = flatOf(pbF(pbG(zBar))).values
    compareElements(
      'chainRule',
      'reverse: vjp(g∘f) ≠ vjp(f) ∘ vjp(g)',
      'input',
      xf,
      chained,
      direct,
      (i) => Math.max(Math.abs(direct[i] as number), Math.abs(chained[i] as number)),
      t,
      ['expected = vjp(f, x)(vjp(g, f(x))(ȳ)), actual = vjp(g∘f, x)(ȳ)'],
    )
  })
}

/**
 * Nested derivatives that close over an outer variable are not confused (Siskind and
 * Pearlmutter's perturbation confusion): see the module header. The exactness checks use
 * `ad` (default `adTolerances`), the nested-vs-numeric check `atol`/`rtol` (default
 * `defaultTolerances`, never below the numeric side's noise floor) and `eps`/`richardson`.
 * @category laws
 * @since 0.1.0
 */
export const perturbationConfusionFree = <X>(
  f: (x: X) => Tensor | number,
  arb: fc.Arbitrary<X>,
  o: LawOptions = {},
) => {
  validateLawOptions('perturbationConfusionFree', o)
  return fc.property(arb, arbSeed, (x, seed) => {
    const xf = flatOf(x)
    const n = xf.values.length
    if (n === 0) return
    const v = fromFlat<X>(xf, normals(seed, n))
    const w = fromFlat<X>(xf, normals(subSeed(seed, 1), n))
    // φ(s) = D_v f(x + s·w): the inner jvp closes over the outer variable s
    const phi = (s: Tensor | number): Tensor => {
      const d = jvp(f, tree.axpy(s, w, x), v)[1]
      return typeof d === 'number' ? (mul(d, 1) as Tensor) : d
    }
    const phiAt0 = phi(0)
    const phi0 = phiAt0.item()
    const t = tolFor(o.ad ?? {}, xf)
    const exact = (label: string, got: number): void => {
      const m: Measure = { expected: phi0, actual: got, scale: Math.abs(phi0) }
      if (fails(m, t)) {
        violate({
          law: 'perturbationConfusionFree',
          message: `${label}: d/ds [s·φ(s)] at s = 0 must equal φ(0) = D_v f(x)`,
          expected: phi0,
          actual: got,
          tolerance: tolOf(m, t),
          details: [
            'φ(s) = jvp(f, x + s·w, v)[1]; a nested derivative that mixes up the outer s with the inner perturbation adds spurious terms',
          ],
        })
      }
    }
    exact('forward over forward', toNumber(derivative((s: number) => mul(s, phi(s)))(0)))
    exact('reverse over forward', toNumber(grad((s: number) => mul(s, phi(s)))(0)))
    // the nested second derivative D²f[w, v] against a central difference of φ
    const nested = toNumber(derivative((s: number) => phi(s))(0))
    const yf = flatOf(phiAt0)
    const num = numericSide((s) => phi(s as number), 0, flatOf(0), yf, o.eps, o.richardson)
    const { values, h } = num.directional(Float64Array.of(1))
    const numeric = values[0] as number
    const d = defaultTolerances[dtypeOfFlat(xf, yf)]
    const nt: Tol = { atol: o.atol ?? d.atol, rtol: o.rtol ?? d.rtol }
    const m: Measure = {
      expected: numeric,
      actual: nested,
      scale: Math.abs(numeric),
      noise: num.noise(h, Math.abs(phi0)),
    }
    if (fails(m, nt)) {
      violate({
        law: 'perturbationConfusionFree',
        message: 'nested d/ds φ(s) at 0 disagrees with a central difference of φ',
        expected: numeric,
        actual: nested,
        tolerance: tolOf(m, nt),
        details: ['φ(s) = jvp(f, x + s·w, v)[1]; expected = central difference of φ at 0, actual = derivative(φ)(0)'],
      })
    }
  })
}

const toNumber = (t: Tensor | number): number => (typeof t === 'number' ? t : t.item())

// -------------------------------------------------------------------------------------
// suites
// -------------------------------------------------------------------------------------

/** Options of `customRuleLaws`. @category model @since 0.1.0 */
export interface CustomRuleOptions<X> extends LawOptions {
  /** the plain function the rule stands for: the custom function must give the same values (within `ad`) */
  readonly reference?: (x: X) => Tensor
}

/**
 * The laws a function with a custom rule (`customJvp` / `customVjp`) must obey: its value
 * matches the reference (when given, within the `ad` tolerance), its forward and reverse
 * derivatives match central differences (up to `order`, within `atol`/`rtol`), and its
 * pullback is the transpose of its pushforward (within `ad`).
 * @category laws
 * @since 0.1.0
 */
export const customRuleLaws = <X>(
  custom: (x: X) => Tensor,
  arb: fc.Arbitrary<X>,
  o: CustomRuleOptions<X> = {},
): LawSuite => {
  const { reference, ad = {}, ...check } = o
  validateLawOptions('customRuleLaws', o)
  const suite: Record<string, fc.IProperty<unknown>> = {
    jvpMatchesNumeric: jvpMatchesNumeric(custom, arb, check),
    vjpMatchesNumeric: vjpMatchesNumeric(custom, arb, check),
    vjpJvpAdjoint: vjpJvpAdjoint(custom, arb, ad),
  }
  if (reference !== undefined) {
    suite['valueMatchesReference'] = fc.property(arb, (x) => {
      const a = custom(x)
      const b = reference(x)
      const t = tolFor(ad, flatOf(a), flatOf(b))
      if (!eqTree<Tensor>(t.atol, t.rtol).equals(a, b)) {
        violate({
          law: 'valueMatchesReference',
          message: 'the custom function does not compute the reference value',
          where: 'value',
          expected: String(b),
          actual: String(a),
          details: [`elements compared within atol ${t.atol} + rtol ${t.rtol}·max(|a|, |b|) (the ad tolerance)`],
        })
      }
    })
  }
  return Object.freeze(suite)
}

/**
 * Every derivative law for a scalar-valued function: numeric agreement in both modes (at
 * `order`, within `atol`/`rtol`), adjointness, forward = reverse, linearity, Hessian symmetry
 * (within `ad`) and freedom from perturbation confusion (both).
 * @category laws
 * @since 0.1.0
 */
export const derivativeLaws = <X>(f: (x: X) => Tensor | number, arb: fc.Arbitrary<X>, o: LawOptions = {}): LawSuite => {
  validateLawOptions('derivativeLaws', o)
  const ad = o.ad ?? {}
  return Object.freeze({
    gradsMatchNumeric: gradsMatchNumeric(f, arb, numericPart(o)),
    vjpJvpAdjoint: vjpJvpAdjoint(f, arb, ad),
    forwardEqualsReverse: forwardEqualsReverse(f, arb, ad),
    jvpLinearInTangent: jvpLinearInTangent(f, arb, ad),
    hessianSymmetric: hessianSymmetric(f, arb, ad),
    perturbationConfusionFree: perturbationConfusionFree(f, arb, o),
  })
}
