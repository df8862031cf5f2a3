/**
 * Laws of the teaching dual numbers (`src/dual/`):
 * - ring laws with fast-check, on well-scaled finite values, each compared either exactly
 *   (when IEEE arithmetic makes the law exact) or within a rounding bound derived below;
 * - every elementary function's tangent against a central difference of its own primal;
 * - the chain rule;
 * - and, for every law, a deliberately broken rule that the same check rejects;
 * - agreement with purediff's tensor forward mode (`derivative` in `src/transforms/`).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Dual } from '../../src/dual/index.js'
import * as D from '../../src/dual/index.js'
import * as ops from '../../src/ops/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { derivative } from '../../src/transforms/index.js'

// -------------------------------------------------------------------------------------
// arbitraries and tolerances
// -------------------------------------------------------------------------------------

// Well-scaled: 0 or a magnitude in [1e-3, 1e3]. A product of three such values lies in
// [1e-9, 1e9] (or is 0), so no intermediate overflows or underflows and the relative
// rounding model below applies to every operation.
const wellScaled: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.tuple(fc.boolean(), fc.double({ min: 1e-3, max: 1e3, noNaN: true })).map(([neg, m]) => (neg ? -m : m)),
)
const dualArb: fc.Arbitrary<Dual> = fc.tuple(wellScaled, wellScaled).map(([x, xDot]) => D.dual(x, xDot))

const u = Number.EPSILON / 2 // unit roundoff of float64: |fl(a ∘ b) − a ∘ b| ≤ u·|a ∘ b|
// Higham's γ_k: k roundings along one path multiply a value by at most (1 + γ_k).
const gamma = (k: number): number => (k * u) / (1 - k * u)

/**
 * Rounding bound for two evaluations of the same exact value through +, −, ·, / with at
 * most `k` roundings on any path: each side is within γ_k·M of the exact value, where M is
 * the value of the expression evaluated on absolute values (Higham, "Accuracy and Stability
 * of Numerical Algorithms", §3.1 and §3.5), separately for the primal and the tangent. So
 * the two sides differ by at most 2·γ_k·M; M itself is computed in floating point from
 * nonnegative terms (relative error ≤ γ_k), hence the extra factor (1 + γ_k).
 */
const closeUpToRounding =
  (k: number, m: Magnitude) =>
  (left: Dual, right: Dual): boolean => {
    const tol = (mag: number) => 2 * gamma(k) * mag * (1 + gamma(k))
    const primalEq = D.eqWithin(0, tol(m.primal))
    const tangentEq = D.eqWithin(0, tol(m.tangent))
    return (
      primalEq.equals(D.constant(left.primal), D.constant(right.primal)) &&
      tangentEq.equals(D.constant(left.tangent), D.constant(right.tangent))
    )
  }

// Magnitudes M, by hand: dual arithmetic on |primal| and |tangent| (all terms nonnegative,
// so nothing cancels). Written out here so the bound does not rest on the code under test.
interface Magnitude {
  readonly primal: number
  readonly tangent: number
}
const mAbs = (a: Dual): Magnitude => ({ primal: Math.abs(a.primal), tangent: Math.abs(a.tangent) })
const mAdd = (a: Magnitude, b: Magnitude): Magnitude => ({
  primal: a.primal + b.primal,
  tangent: a.tangent + b.tangent,
})
const mMul = (a: Magnitude, b: Magnitude): Magnitude => ({
  primal: a.primal * b.primal,
  tangent: a.primal * b.tangent + a.tangent * b.primal,
})
// |1/b| and |d(1/b)| = |b'|/b²
const mRecip = (b: Magnitude): Magnitude => ({ primal: 1 / b.primal, tangent: b.tangent / (b.primal * b.primal) })

// -------------------------------------------------------------------------------------
// ring laws, over an arithmetic that may be broken on purpose
// -------------------------------------------------------------------------------------

interface Arith {
  readonly add: (a: Dual, b: Dual) => Dual
  readonly sub: (a: Dual, b: Dual) => Dual
  readonly mul: (a: Dual, b: Dual) => Dual
  readonly div: (a: Dual, b: Dual) => Dual
  readonly neg: (a: Dual) => Dual
  readonly recip: (a: Dual) => Dual
  readonly zero: Dual
  readonly one: Dual
}

// The instance under test: the fp-ts Field (its add, mul, sub, div, zero, one) plus neg, recip.
const good: Arith = {
  add: D.Field.add,
  sub: D.Field.sub,
  mul: D.Field.mul,
  div: D.Field.div,
  zero: D.Field.zero,
  one: D.Field.one,
  neg: D.neg,
  recip: D.recip,
}

// Deliberately broken rules, each a plausible slip.
const d = D.dual
const broken = {
  // d(a + b) = da − db
  addSwapped: { ...good, add: (a: Dual, b: Dual) => d(a.primal + b.primal, a.tangent - b.tangent) },
  // d(a·b) = a·db (forgot the b·da term)
  oneSidedMul: { ...good, mul: (a: Dual, b: Dual) => d(a.primal * b.primal, a.primal * b.tangent) },
  // d(a·b) = (b·da + a·db) / 2
  halvedMul: {
    ...good,
    mul: (a: Dual, b: Dual) => d(a.primal * b.primal, (a.primal * b.tangent + a.tangent * b.primal) / 2),
  },
  // d(a·b) = |b|·da + a·db (a sign slip)
  absMul: {
    ...good,
    mul: (a: Dual, b: Dual) => d(a.primal * b.primal, a.primal * b.tangent + a.tangent * Math.abs(b.primal)),
  },
  // ε² = 1 instead of 0: split-complex numbers. Commutative, associative and distributive,
  // so only the ε² law tells it apart.
  splitComplexMul: {
    ...good,
    mul: (a: Dual, b: Dual) =>
      d(a.primal * b.primal + a.tangent * b.tangent, a.primal * b.tangent + a.tangent * b.primal),
  },
  // d(1/a) = +da/a²
  recipSign: { ...good, recip: (a: Dual) => d(1 / a.primal, a.tangent / (a.primal * a.primal)) },
  // d(−a) = da
  negKeepsTangent: { ...good, neg: (a: Dual) => d(-a.primal, a.tangent) },
  // d(a/b) = (da + (a/b)·db)/b
  quotientSign: {
    ...good,
    div: (a: Dual, b: Dual) => {
      const q = a.primal / b.primal
      return d(q, (a.tangent + q * b.tangent) / b.primal)
    },
  },
} satisfies Record<string, Arith>

type Law = (A: Arith) => fc.IPropertyWithHooks<[Dual, Dual, Dual]>
const law =
  (pred: (A: Arith, a: Dual, b: Dual, c: Dual) => boolean): Law =>
  (A) =>
    fc.property(dualArb, dualArb, dualArb, (a, b, c) => pred(A, a, b, c))

const boundedAwayFromZero = (a: Dual): boolean => Math.abs(a.primal) >= 1e-3

// Exact laws: IEEE + and · are commutative, x + 0 = x, x·1 = x, x + (−x) = +0 and
// x − y = x + (−y) hold bit for bit, so these use the exact Eq.
// Rounded laws: k counts roundings along the longest path of either side, e.g. the tangent
// of (a·b)·c is ((a'·b + a·b')·c) + (a·b)·c': a'·b, +, ·c, + is 4 roundings.
const laws: ReadonlyArray<readonly [string, Law, keyof typeof broken]> = [
  ['a + b = b + a', law((A, a, b) => D.Eq.equals(A.add(a, b), A.add(b, a))), 'addSwapped'],
  [
    '(a + b) + c = a + (b + c)',
    law((A, a, b, c) =>
      closeUpToRounding(2, mAdd(mAdd(mAbs(a), mAbs(b)), mAbs(c)))(A.add(A.add(a, b), c), A.add(a, A.add(b, c))),
    ),
    'addSwapped',
  ],
  ['0 + a = a', law((A, a) => D.Eq.equals(A.add(A.zero, a), a)), 'addSwapped'],
  ['a + (−a) = 0', law((A, a) => D.Eq.equals(A.add(a, A.neg(a)), A.zero)), 'addSwapped'],
  ['a − b = a + (−b)', law((A, a, b) => D.Eq.equals(A.sub(a, b), A.add(a, A.neg(b)))), 'negKeepsTangent'],
  ['a · b = b · a', law((A, a, b) => D.Eq.equals(A.mul(a, b), A.mul(b, a))), 'oneSidedMul'],
  [
    '(a · b) · c = a · (b · c)',
    law((A, a, b, c) =>
      closeUpToRounding(4, mMul(mMul(mAbs(a), mAbs(b)), mAbs(c)))(A.mul(A.mul(a, b), c), A.mul(a, A.mul(b, c))),
    ),
    'halvedMul',
  ],
  ['1 · a = a', law((A, a) => D.Eq.equals(A.mul(A.one, a), a)), 'halvedMul'],
  [
    // tangent of a·(b + c): b'+c' (1), a·(…) (2), + a'·(b + c) (3)
    'a · (b + c) = a · b + a · c',
    law((A, a, b, c) =>
      closeUpToRounding(3, mMul(mAbs(a), mAdd(mAbs(b), mAbs(c))))(
        A.mul(a, A.add(b, c)),
        A.add(A.mul(a, b), A.mul(a, c)),
      ),
    ),
    'absMul',
  ],
  [
    // exact value 1 + 0ε; the tangent path −a'·y·y (y = fl(1/a): 3 roundings), ·a, + is 5,
    // and y enters twice, so 6 factors (1 + δ).
    'a · a⁻¹ = 1 when |primal(a)| ≥ 1e-3',
    law((A, a) => {
      fc.pre(boundedAwayFromZero(a))
      return closeUpToRounding(6, mMul(mAbs(a), mRecip(mAbs(a))))(A.mul(a, A.recip(a)), A.one)
    }),
    'recipSign',
  ],
  [
    // the a·b⁻¹ side has the longer path (6, as above); a/b has 4
    'a / b = a · b⁻¹ when |primal(b)| ≥ 1e-3',
    law((A, a, b) => {
      fc.pre(boundedAwayFromZero(b))
      return closeUpToRounding(6, mMul(mAbs(a), mRecip(mAbs(b))))(A.div(a, b), A.mul(a, A.recip(b)))
    }),
    'quotientSign',
  ],
  ['ε · ε = 0', law((A) => D.Eq.equals(A.mul(D.epsilon, D.epsilon), A.zero)), 'splitComplexMul'],
  // ε² = 0 in general: (a·ε)·(b·ε) = 0 for every a, b
  ['(aε)(bε) = 0', law((A, a, b) => D.Eq.equals(A.mul(d(0, a.primal), d(0, b.primal)), A.zero)), 'splitComplexMul'],
]

describe('ring laws (fast-check, well-scaled finite values)', () => {
  for (const [name, prop, breaker] of laws) {
    it(`${name} holds`, () => {
      fc.assert(prop(good))
    })
    it(`${name} rejects the broken rule '${breaker}'`, () => {
      expect(fc.check(prop(broken[breaker])).failed).toBe(true)
    })
  }

  it('Field: degree is 1 and a = (a / b)·b + (a mod b) when |primal(b)| ≥ 1e-3', () => {
    fc.assert(
      fc.property(dualArb, dualArb, (a, b) => {
        fc.pre(boundedAwayFromZero(b))
        expect(D.Field.degree(b)).toBe(1)
        expect(D.Eq.equals(D.Field.mod(a, b), D.zero)).toBe(true)
        // a/b: 4 roundings on the tangent path; ·b: 2 more; + zero is exact
        const m = mMul(mMul(mAbs(a), mRecip(mAbs(b))), mAbs(b))
        return closeUpToRounding(6, m)(D.Field.add(D.Field.mul(D.Field.div(a, b), b), D.Field.mod(a, b)), a)
      }),
    )
  })

  it('Ring: the instances agree with the plain functions', () => {
    fc.assert(
      fc.property(dualArb, dualArb, (a, b) => {
        expect(D.Ring.add(a, b)).toEqual(D.add(a, b))
        expect(D.Ring.sub(a, b)).toEqual(D.sub(a, b))
        expect(D.Semiring.mul(a, b)).toEqual(D.mul(a, b))
      }),
    )
  })

  it('an element with zero primal has no inverse: ε · x never equals 1', () => {
    // ε·(c + dε) = cε: the primal is 0 whatever x is.
    fc.assert(fc.property(dualArb, (x) => D.mul(D.epsilon, x).primal === 0))
    expect(Number.isFinite(D.recip(D.epsilon).primal)).toBe(false)
  })
})

// -------------------------------------------------------------------------------------
// elementary functions against central differences
// -------------------------------------------------------------------------------------

/**
 * Central difference of the primal at x: (f(x + h) − f(x − h)) / (x_+ − x_−), dividing by the
 * realised step so the rounding of x ± h does not count as error.
 *
 * Error budget with h = 1e-5 (float64, u ≈ 1.1e-16):
 * - truncation: h²/6 · |f'''| ≈ 1.7e-11·|f'''|;
 * - rounding: f(x ± h) each within 1 ulp (2u relative), divided by 2h: ≈ 2.2e-11·|f|.
 * Each domain below keeps |f'''| ≤ 100·S and |f| ≤ 10·S, with S = max(1, |f'(x)|) (checked
 * when the domains were chosen, by sampling f' and f''' on a grid), so the error is at most
 * about 1.7e-9 + 2.2e-10 ≈ 2e-9 of S. The tolerance 1e-7·S leaves a margin of 50, and is
 * still tight enough to reject a rule that is off by 1e-5 relative (tested below).
 */
const h = 1e-5
const rtolFd = 1e-7
const centralDifference = (f: (x: number) => number, x: number): number => {
  const xp = x + h
  const xm = x - h
  return (f(xp) - f(xm)) / (xp - xm)
}
const agreesWithFd = (ad: number, fd: number): boolean => Math.abs(ad - fd) <= rtolFd * Math.max(1, Math.abs(ad))

type Fn = (x: Dual) => Dual
const primalOf = (f: Fn) => (x: number) => f(D.constant(x)).primal

const tangentMatchesFd = (f: Fn, lo: number, hi: number) =>
  fc.property(fc.double({ min: lo, max: hi, noNaN: true }), (x) =>
    agreesWithFd(f(D.variable(x)).tangent, centralDifference(primalOf(f), x)),
  )

const unaryTable: ReadonlyArray<readonly [string, Fn, number, number]> = [
  ['exp', D.exp, -5, 5],
  ['log', D.log, 0.2, 50],
  ['sin', D.sin, -10, 10],
  ['cos', D.cos, -10, 10],
  ['tan', D.tan, -1.2, 1.2],
  ['tanh', D.tanh, -5, 5],
  ['sigmoid', D.sigmoid, -10, 10],
  ['sqrt', D.sqrt, 0.1, 100],
  ['abs (x > 0)', D.abs, 0.01, 10],
  ['abs (x < 0)', D.abs, -10, -0.01],
  ['relu (x > 0)', D.relu, 0.01, 10],
  ['relu (x < 0)', D.relu, -10, -0.01],
  ['log1p', D.log1p, -0.8, 50],
  ['expm1', D.expm1, -5, 5],
  ['atan', D.atan, -10, 10],
  ['asin', D.asin, -0.9, 0.9],
  ['acos', D.acos, -0.9, 0.9],
  ['sinh', D.sinh, -5, 5],
  ['cosh', D.cosh, -5, 5],
  ['neg', D.neg, -10, 10],
  ['recip (x > 0)', D.recip, 0.25, 10],
  ['recip (x < 0)', D.recip, -10, -0.25],
  ['x^2.5', (x) => D.pow(x, 2.5), 0.5, 4],
  ['x^-3', (x) => D.pow(x, -3), 0.5, 4],
  ['x^3 (negative base)', (x) => D.pow(x, 3), -4, -0.5],
  ['2^x', (x) => D.pow(2, x), -3, 3],
  ['x^x', (x) => D.pow(x, x), 0.5, 3],
]

// Off by 1e-5 relative plus 1e-6 absolute, always in the same direction: the error exceeds
// 1e-7·max(1, |f'|) at every point, so a checker with the tolerance above must reject it.
const slightlyOff =
  (f: Fn): Fn =>
  (x) => {
    const y = f(x)
    return D.dual(y.primal, y.tangent + 1e-5 * Math.abs(y.tangent) + 1e-6)
  }

describe('elementary functions: tangent = central difference of the primal', () => {
  for (const [name, f, lo, hi] of unaryTable) {
    it(`${name} on [${lo}, ${hi}]`, () => {
      fc.assert(tangentMatchesFd(f, lo, hi))
    })
    it(`${name}: the checker rejects a rule off by 1e-5`, () => {
      expect(fc.check(tangentMatchesFd(slightlyOff(f), lo, hi)).failed).toBe(true)
    })
  }

  it('the checker rejects the broken rule d sin(x) = −cos(x)·dx', () => {
    const brokenSin = D.lift(Math.sin, (x) => -Math.cos(x))
    expect(fc.check(tangentMatchesFd(brokenSin, -10, 10)).failed).toBe(true)
  })

  // Binary ops along a random direction (xDot, yDot): the tangent of g(x + xDot·ε, y + yDot·ε)
  // is the directional derivative, compared with a central difference along that direction.
  // Rounding x ± h·xDot moves each point by at most u·|x|, which adds at most
  // u·max(|x|, |y|)·(|∂g/∂x| + |∂g/∂y|)/h to the difference: below 2.2e-9 on these domains
  // (mul: 10·u·20/h; div: partials ≤ 2 and 16; pow: partials ≤ 10), and |g'''| along the
  // direction and |g| stay below 25·S and 10·S, so the budget above holds.
  const binaryTable: ReadonlyArray<readonly [string, (a: Dual, b: Dual) => Dual, number, number]> = [
    ['add', D.add, -10, 10],
    ['sub', D.sub, -10, 10],
    ['mul', D.mul, -10, 10],
    ['div', D.div, 0.5, 4],
    ['pow (dual ^ dual)', D.pow, 0.5, 2.5],
  ]
  const directionalMatchesFd = (g: (a: Dual, b: Dual) => Dual, lo: number, hi: number) =>
    fc.property(
      fc.double({ min: lo, max: hi, noNaN: true }),
      fc.double({ min: lo, max: hi, noNaN: true }),
      fc.double({ min: -1, max: 1, noNaN: true }),
      fc.double({ min: -1, max: 1, noNaN: true }),
      (x, y, xDot, yDot) => {
        const ad = g(D.dual(x, xDot), D.dual(y, yDot)).tangent
        const phi = (s: number) => g(D.constant(x + s * xDot), D.constant(y + s * yDot)).primal
        const fd = (phi(h) - phi(-h)) / (2 * h)
        return agreesWithFd(ad, fd)
      },
    )
  for (const [name, g, lo, hi] of binaryTable) {
    it(`${name}: directional derivative on [${lo}, ${hi}]²`, () => {
      fc.assert(directionalMatchesFd(g, lo, hi))
    })
  }
  it('div: the checker rejects the broken quotient rule', () => {
    expect(fc.check(directionalMatchesFd(broken.quotientSign.div, 0.5, 4)).failed).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// chain rule
// -------------------------------------------------------------------------------------

describe('chain rule', () => {
  // Smooth everywhere on [-1, 1] and with inner values in [-1.6, 2.8], where every outer
  // function below is smooth too.
  const fns: ReadonlyArray<readonly [string, Fn]> = [
    ['sin', D.sin],
    ['cos', D.cos],
    ['tanh', D.tanh],
    ['sigmoid', D.sigmoid],
    ['atan', D.atan],
    ['exp', D.exp],
    ['expm1', D.expm1],
    ['sinh', D.sinh],
    ['cosh', D.cosh],
  ]
  const fnArb = fc.constantFrom(...fns)
  const xArb = fc.double({ min: -1, max: 1, noNaN: true })

  // (f ∘ g)'(x) = f'(g(x)) · g'(x), each side from separate derivative calls. The dual
  // evaluation multiplies f'(g(x)) by the incoming tangent g'(x)·1: one rounding per side
  // beyond the shared factors, so a relative tolerance of γ_2 covers the difference.
  const chainRule = (outer: ReadonlyArray<readonly [string, Fn]>) =>
    fc.property(fc.constantFrom(...outer), fnArb, xArb, ([, f], [, g], x) => {
      const left = D.derivative((t) => f(g(t)))(x)
      const right = D.derivative(f)(g(D.constant(x)).primal) * D.derivative(g)(x)
      return D.eqWithin(gamma(2), 0).equals(D.constant(left), D.constant(right))
    })

  it("(f ∘ g)' = (f' ∘ g) · g'", () => {
    fc.assert(chainRule(fns))
  })

  it('f ∘ g matches a central difference', () => {
    // The composite's |f'''| and |f| stay below 100·S on this domain (inner values are
    // bounded by 2.8, so the worst term is like exp(e^x)); the budget above applies.
    fc.assert(
      fc.property(fnArb, fnArb, xArb, ([, f], [, g], x) => {
        const composite: Fn = (t) => f(g(t))
        return agreesWithFd(composite(D.variable(x)).tangent, centralDifference(primalOf(composite), x))
      }),
    )
  })

  it('rejects a rule that ignores the incoming tangent', () => {
    // sin' applied as cos(x) instead of cos(x)·xDot: right for a variable, wrong inside a composite.
    const forgetfulSin: Fn = (x) => D.dual(Math.sin(x.primal), Math.cos(x.primal))
    expect(fc.check(chainRule([['forgetfulSin', forgetfulSin]])).failed).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// worked examples (expected values derived by hand)
// -------------------------------------------------------------------------------------

describe('derivative, diff and jvp', () => {
  const close = (a: number, b: number, rtol: number) => Math.abs(a - b) <= rtol * Math.abs(b)

  it('d/dx (x³ − 2x) = 3x² − 2, so 10 at x = 2', () => {
    expect(D.derivative((x) => D.sub(D.pow(x, 3), D.mul(2, x)))(2)).toBe(10)
  })

  it('d/dx sin(x)·eˣ = eˣ·(sin x + cos x)', () => {
    for (const x of [-2, -0.5, 0, 0.7, 3]) {
      const got = D.derivative((t) => D.mul(D.sin(t), D.exp(t)))(x)
      // a handful of roundings on each side: 8 ulps relative
      expect(close(got, Math.exp(x) * (Math.sin(x) + Math.cos(x)), 8 * Number.EPSILON)).toBe(true)
    }
  })

  it('d/dx xˣ = xˣ·(log x + 1), 4·(log 2 + 1) at x = 2', () => {
    const got = D.derivative((x) => D.pow(x, x))(2)
    expect(close(got, 4 * (Math.log(2) + 1), 8 * Number.EPSILON)).toBe(true)
  })

  it('a constant function has derivative 0, also when it returns a plain number', () => {
    expect(D.derivative(() => 3)(1)).toBe(0)
    expect(D.derivative(() => D.constant(3))(1)).toBe(0)
  })

  it('diff gives value and derivative; jvp scales the derivative by xDot', () => {
    expect(D.diff(D.sin)(0)).toEqual([0, 1])
    expect(D.jvp(D.exp, 0, 3)).toEqual([1, 3])
    expect(D.jvp((x) => D.mul(x, x), 3, 0.5)).toEqual([9, 3])
  })
})

describe('conventions at kinks and edges', () => {
  it('abs and relu have derivative 0 at 0 (NOTE in Dual.ts)', () => {
    expect(D.derivative(D.abs)(0)).toBe(0)
    expect(D.derivative(D.relu)(0)).toBe(0)
    expect(D.derivative(D.abs)(-2)).toBe(-1)
    expect(D.derivative(D.relu)(2)).toBe(1)
  })

  it('sqrt at 0: infinite slope for a variable, tangent 0 for a constant', () => {
    expect(D.derivative(D.sqrt)(0)).toBe(Infinity)
    expect(D.sqrt(D.constant(0))).toEqual(D.constant(0))
  })

  it('pow edges: x⁰ has slope 0 at 0, 0^y has slope 0 in y > 0, negative base with integer exponent', () => {
    expect(D.derivative((x) => D.pow(x, 0))(0)).toBe(0)
    expect(D.derivative((y) => D.pow(0, y))(2)).toBe(0)
    expect(D.pow(D.variable(-2), 3)).toEqual(D.dual(-8, 12))
  })

  it('sigmoid stays finite for large |x|', () => {
    expect(D.sigmoid(D.variable(-800))).toEqual(D.dual(0, 0))
    expect(D.sigmoid(D.variable(800))).toEqual(D.dual(1, 0))
  })

  it('division by an element with zero primal is not finite, as for numbers', () => {
    const q = D.div(D.one, D.epsilon)
    expect(Number.isFinite(q.primal) && Number.isFinite(q.tangent)).toBe(false)
  })
})

// -------------------------------------------------------------------------------------
// Eq, Show, purity
// -------------------------------------------------------------------------------------

describe('Eq and Show', () => {
  const anyDual = fc.tuple(fc.double(), fc.double()).map(([x, xDot]) => D.dual(x, xDot))

  it('exact Eq is reflexive (NaN included) and symmetric', () => {
    fc.assert(fc.property(anyDual, (a) => D.Eq.equals(a, a)))
    fc.assert(fc.property(anyDual, anyDual, (a, b) => D.Eq.equals(a, b) === D.Eq.equals(b, a)))
    expect(D.Eq.equals(D.dual(0, 1), D.dual(-0, 1))).toBe(true)
    expect(D.Eq.equals(D.dual(1, 1), D.dual(1, 1 + Number.EPSILON))).toBe(false)
  })

  it('eqWithin is reflexive and symmetric, and resolves its tolerance', () => {
    const E = D.eqWithin(1e-9, 1e-12)
    fc.assert(fc.property(anyDual, (a) => E.equals(a, a)))
    fc.assert(fc.property(anyDual, anyDual, (a, b) => E.equals(a, b) === E.equals(b, a)))
    expect(E.equals(D.dual(1, 2), D.dual(1 + 0.5e-9, 2))).toBe(true)
    expect(E.equals(D.dual(1, 2), D.dual(1 + 2e-9, 2))).toBe(false)
    expect(E.equals(D.dual(1, 2), D.dual(1, 2 + 5e-9))).toBe(false)
    expect(E.equals(D.dual(0, 0), D.dual(0.5e-12, 0))).toBe(true)
  })

  it('eqWithin is not transitive (documented)', () => {
    const E = D.eqWithin(0, 1)
    expect(E.equals(D.constant(0), D.constant(1)) && E.equals(D.constant(1), D.constant(2))).toBe(true)
    expect(E.equals(D.constant(0), D.constant(2))).toBe(false)
  })

  it('Show writes a + bε', () => {
    expect(D.Show.show(D.dual(3, 2))).toBe('3 + 2ε')
    expect(D.Show.show(D.dual(3, -2))).toBe('3 - 2ε')
    expect(D.Show.show(D.constant(0.5))).toBe('0.5 + 0ε')
  })
})

describe('purity', () => {
  it('every dual number and every returned tuple is frozen', () => {
    const x = D.variable(1.5)
    const results = [x, D.add(x, 1), D.mul(x, x), D.div(x, 2), D.pow(x, x), D.sin(x), D.recip(x), D.epsilon]
    for (const r of results) expect(Object.isFrozen(r)).toBe(true)
    expect(Object.isFrozen(D.diff(D.sin)(1))).toBe(true)
    expect(Object.isFrozen(D.jvp(D.sin, 1, 1))).toBe(true)
  })

  it('operations leave their inputs unchanged', () => {
    const a = D.dual(2, 3)
    D.mul(a, D.exp(a))
    expect(a).toEqual({ primal: 2, tangent: 3 })
  })
})

// -------------------------------------------------------------------------------------
// agreement with purediff's own forward mode
// -------------------------------------------------------------------------------------

describe("agreement with purediff's derivative (src/transforms)", () => {
  type Scalar = Tensor | number
  const num = (t: Scalar): number => (typeof t === 'number' ? t : t.item())
  // The same function written twice: with the teaching Dual, and with purediff's ops.
  const pairs: ReadonlyArray<readonly [string, (x: Dual) => Dual, (x: Scalar) => Scalar, ReadonlyArray<number>]> = [
    [
      'sin(x)·exp(x)',
      (x) => D.mul(D.sin(x), D.exp(x)),
      (x) => ops.mul(ops.sin(x), ops.exp(x)),
      [-2, -0.3, 0.5, 1, 2.5],
    ],
    [
      'x³ − 2x',
      (x) => D.sub(D.pow(x, 3), D.mul(2, x)),
      (x) => ops.sub(ops.pow(x, 3), ops.mul(2, x)),
      [-3, -1.5, 0, 1.5, 4],
    ],
    [
      'sigmoid(tanh(x))·sqrt(x)',
      (x) => D.mul(D.sigmoid(D.tanh(x)), D.sqrt(x)),
      (x) => ops.mul(ops.sigmoid(ops.tanh(x)), ops.sqrt(x)),
      [0.1, 0.5, 2, 7],
    ],
    [
      'log1p(x²) / (1 + eˣ − 1)',
      (x) => D.div(D.log1p(D.mul(x, x)), D.add(1, D.expm1(x))),
      (x) => ops.div(ops.log1p(ops.mul(x, x)), ops.add(1, ops.expm1(x))),
      [-1.5, 0.3, 2],
    ],
    [
      'abs(x) + relu(x) (kink at 0)',
      (x) => D.add(D.abs(x), D.relu(x)),
      (x) => ops.add(ops.abs(x), ops.relu(x)),
      [-2, 0, 3],
    ],
  ]

  // Both compute the same chain of float64 rules, possibly in a different order (e.g.
  // 1 − y² against (1 − y)(1 + y)). At these points no step cancels by more than a factor
  // of about 10, so each side is within ~100 roundings (≈ 1e-14) of the exact derivative;
  // 1e-12 relative leaves a margin of 100 and still catches any wrong rule.
  for (const [name, fDual, fOps, points] of pairs) {
    it(`${name}: Dual derivative = derivative at 1e-12 relative`, () => {
      for (const x of points) {
        const mine = D.derivative(fDual)(x)
        const theirs = num(derivative(fOps)(x))
        expect(Math.abs(mine - theirs)).toBeLessThanOrEqual(1e-12 * Math.abs(theirs))
      }
    })
  }
})
