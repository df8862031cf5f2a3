/**
 * Special functions: accuracy against high-precision references computed here,
 * independently of the kernels, with decimal.js (40–100 significant digits):
 * - erf by its alternating Maclaurin series (the kernel uses the positive-term series and a
 *   continued fraction), erfc in the tail by its asymptotic expansion;
 * - erfinv by Newton's method on that reference erf;
 * - log Γ, ψ and ψ⁽ⁿ⁾ by the recurrence up to x + N ≥ 40 and Stirling/asymptotic series with
 *   Bernoulli numbers derived here from their defining recurrence (the kernel uses Taylor
 *   series at 1, 2 and at ψ's root for small x);
 * - asin, …, atanh, logit and logaddexp by decimal.js's own functions.
 * Errors are measured in ulps of the reference: |got − ref| / ulp(ref), with
 * ulp(r) = 2^{⌊log₂|r|⌋ − 52}. Each function has a documented range and bound, stated in its
 * doc line in `src/ops/special.ts`; the measured maxima are printed by the test names.
 * The checker itself is shown to reject naive formulas (asinh as log(x + √(x²+1)), logit as
 * log p − log1p(−p)), and a few tabulated values are checked exactly.
 *
 * Derivatives are checked by the table-driven laws (`primitives.test.ts`); here, against
 * closed forms: lgamma' = ψ, ψ' = ψ⁽¹⁾, erf' = (2/√π)e^{−x²}, and at the conventions
 * (xlogy at 0, logaddexp at a tie).
 */
import { Decimal } from 'decimal.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  acos,
  acosh,
  asin,
  asinh,
  atan,
  atanh,
  derivative,
  digamma,
  erf,
  erfc,
  erfinv,
  grad,
  hessian,
  lgamma,
  log,
  logaddexp,
  logit,
  polygamma,
  sqrt,
  add,
  mul,
  sub,
  log1p,
  tensor,
  xlog1py,
  xlogy,
} from '../../src/index.js'

const D = Decimal.clone({ precision: 100 })
type Dec = InstanceType<typeof D>

// -------------------------------------------------------------------------------------
// references
// -------------------------------------------------------------------------------------

/**
 * The exact value of a double as a Decimal. NOTE `new Decimal(x)` reads the shortest decimal
 * that rounds to x (1.11 for the double 1.1100000000000000976…), not x itself: references
 * must be computed at exactly the double the kernel sees.
 */
const exact = (x: number): Dec => {
  if (x === 0 || !Number.isFinite(x)) return new D(x)
  let m = Math.abs(x)
  let e = 0
  while (!Number.isInteger(m)) {
    m *= 2
    e--
  }
  return new D(m).mul(new D(2).pow(e)).mul(Math.sign(x))
}

const PI = D.acos(-1)
const SQRT_PI = PI.sqrt()

/** erf by Σ (−1)ⁿ x^{2n+1} / (n! (2n+1)), 100 digits (enough for |x| ≤ 6: the largest term is about 4e15). */
const erfRef = (x: number): Dec => erfRefDec(exact(x))
/** erfc for x ≥ 6 by e^{−x²}/(x√π) Σ (−1)ⁿ (2n−1)!!/(2x²)ⁿ, truncated at its smallest term. */
const erfcTailRef = (x: number): Dec => {
  const X = exact(x)
  const inv = new D(1).div(X.mul(X).mul(2))
  let term = new D(1)
  let sum = new D(1)
  for (let n = 1; n < 2000; n++) {
    const next = term.mul(-(2 * n - 1)).mul(inv)
    if (next.abs().gte(term.abs())) break
    term = next
    sum = sum.add(term)
  }
  return X.mul(X).neg().exp().div(X.mul(SQRT_PI)).mul(sum)
}

const erfinvRef = (y: number): Dec => {
  let x = exact(erfinv(y).item())
  // Newton in 100-digit arithmetic from the double result (quadratic convergence)
  for (let i = 0; i < 6; i++) {
    const fx = erfRefDec(x).sub(exact(y))
    x = x.sub(fx.div(x.mul(x).neg().exp().mul(2).div(SQRT_PI)))
  }
  return x
}
/** erf of a Decimal argument (for Newton). */
const erfRefDec = (X: Dec): Dec => {
  const x2 = X.mul(X)
  let term = X
  let sum = X
  for (let n = 1; n < 1000; n++) {
    term = term.mul(x2).neg().div(n)
    const t = term.div(2 * n + 1)
    sum = sum.add(t)
    if (t.abs().lt(new D(10).pow(-60))) break
  }
  return sum.mul(2).div(SQRT_PI)
}

/** B₀..B₂ₘ from Σ_{k=0}^{m} C(m+1, k) B_k = 0. */
const bernoulli = (count: number): Dec[] => {
  const b: Dec[] = [new D(1)]
  for (let m = 1; m <= count; m++) {
    let s = new D(0)
    let c = new D(1) // C(m+1, k)
    for (let k = 0; k < m; k++) {
      s = s.add(c.mul(b[k]!))
      c = c.mul(m + 1 - k).div(k + 1)
    }
    b.push(s.neg().div(m + 1))
  }
  return b
}
const B = bernoulli(44)
const SHIFT_TO = 40

/** log|Γ(x)| for x > 0: shift to x + N ≥ 40, then Stirling with B₂..B₄₄. */
const lgammaRef = (x: number): Dec => {
  let X = exact(x)
  let logProd = new D(0)
  while (X.lt(SHIFT_TO)) {
    logProd = logProd.add(X.ln())
    X = X.add(1)
  }
  let s = X.sub(0.5).mul(X.ln()).sub(X).add(PI.mul(2).ln().div(2))
  for (let k = 1; k <= 22; k++) s = s.add(B[2 * k]!.div(X.pow(2 * k - 1).mul(2 * k * (2 * k - 1))))
  return s.sub(logProd)
}

/** ψ⁽ⁿ⁾(x) for x > 0: (−1)^{n+1} n! Σ_{j<N} (x+j)^{−n−1} plus the asymptotic series at x + N ≥ 40 (n = 0: ψ). */
const polygammaRef = (n: number, x: number): Dec => {
  let X = exact(x)
  let direct = new D(0)
  while (X.lt(SHIFT_TO)) {
    direct = direct.add(n === 0 ? new D(1).div(X).neg() : X.pow(-(n + 1)))
    X = X.add(1)
  }
  if (n === 0) {
    let s = X.ln().sub(new D(0.5).div(X))
    for (let k = 1; k <= 22; k++) s = s.sub(B[2 * k]!.div(X.pow(2 * k).mul(2 * k)))
    return s.add(direct)
  }
  const fact = (m: number): Dec => {
    let f = new D(1)
    for (let i = 2; i <= m; i++) f = f.mul(i)
    return f
  }
  let s = fact(n - 1)
    .div(X.pow(n))
    .add(fact(n).div(X.pow(n + 1).mul(2)))
  for (let k = 1; k <= 22; k++) s = s.add(B[2 * k]!.mul(fact(2 * k + n - 1)).div(fact(2 * k).mul(X.pow(2 * k + n))))
  const sign = n % 2 === 1 ? 1 : -1
  return s.add(direct.mul(fact(n))).mul(sign)
}

// -------------------------------------------------------------------------------------
// ulp measurement
// -------------------------------------------------------------------------------------

const ulpOf = (r: number): number => (r === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(r))) - 52))

/** |got − ref| in ulps of ref (Infinity when got is not finite and ref is). */
const ulps = (got: number, ref: Dec): number => {
  const r = ref.toNumber()
  if (!Number.isFinite(got)) return got === r ? 0 : Infinity
  return exact(got).sub(ref).abs().toNumber() / ulpOf(r)
}

/** n points spread over [lo, hi] (midpoints of a grid, so no endpoint bias). */
const grid = (lo: number, hi: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / n)

const worst = (
  xs: ReadonlyArray<number>,
  f: (x: number) => number,
  ref: (x: number) => Dec,
): { ulps: number; at: number } =>
  xs.reduce(
    (w, x) => {
      const u = ulps(f(x), ref(x))
      return u > w.ulps ? { ulps: u, at: x } : w
    },
    { ulps: 0, at: NaN },
  )

const scalarOf =
  (op: (x: Tensor) => Tensor) =>
  (x: number): number =>
    op(tensor(x)).item()

// -------------------------------------------------------------------------------------
// accuracy
// -------------------------------------------------------------------------------------

interface Case {
  readonly name: string
  readonly f: (x: number) => number
  readonly ref: (x: number) => Dec
  readonly xs: ReadonlyArray<number>
  /** the documented bound, in ulps */
  readonly bound: number
}

const CASES: ReadonlyArray<Case> = [
  { name: 'erf on [−6, 6]', f: scalarOf(erf), ref: erfRef, xs: grid(-6, 6, 301), bound: 2 },
  { name: 'erfc on [−6, 6]', f: scalarOf(erfc), ref: (x) => new D(1).sub(erfRef(x)), xs: grid(-6, 6, 301), bound: 4 },
  { name: 'erfc on [6, 26] (tail)', f: scalarOf(erfc), ref: erfcTailRef, xs: grid(6, 26, 101), bound: 4 },
  {
    name: 'erfinv on (−1, 1)',
    f: scalarOf(erfinv),
    ref: erfinvRef,
    xs: [...grid(-0.999, 0.999, 101), 1e-300, 1e-8, 0.9999, 0.999999, 1 - 1e-9, 1 - 1e-12, -(1 - 1e-12)],
    bound: 4,
  },
  {
    name: 'lgamma on (0, 60] away from its zeros 1 and 2',
    f: scalarOf(lgamma),
    ref: lgammaRef,
    xs: [...grid(0.01, 0.9, 25), ...grid(1.1, 1.9, 25), ...grid(2.1, 60, 80), 1e-5, 1e-10],
    bound: 3,
  },
  {
    name: 'digamma on (0, 60]',
    f: scalarOf(digamma),
    ref: (x) => polygammaRef(0, x),
    xs: [...grid(0.01, 60, 240), 1.4616321449683622, 1.4616321449683625, 1.46, 1.47, 1e-6],
    bound: 3,
  },
  {
    name: 'trigamma on (0, 60]',
    f: (x) => polygamma(1, x).item(),
    ref: (x) => polygammaRef(1, x),
    xs: grid(0.01, 60, 150),
    bound: 3,
  },
  {
    name: 'polygamma(3) on (0, 60]',
    f: (x) => polygamma(3, x).item(),
    ref: (x) => polygammaRef(3, x),
    xs: grid(0.01, 60, 150),
    bound: 5,
  },
  { name: 'asin on [−1, 1]', f: scalarOf(asin), ref: (x) => D.asin(exact(x)), xs: grid(-1, 1, 201), bound: 1 },
  { name: 'acos on [−1, 1]', f: scalarOf(acos), ref: (x) => D.acos(exact(x)), xs: grid(-1, 1, 201), bound: 1 },
  { name: 'atan on [−50, 50]', f: scalarOf(atan), ref: (x) => D.atan(exact(x)), xs: grid(-50, 50, 201), bound: 1 },
  {
    name: 'asinh on [−50, 50]',
    f: scalarOf(asinh),
    ref: (x) => D.asinh(exact(x)),
    xs: [...grid(-50, 50, 201), 1e-9, -1e-9],
    bound: 1,
  },
  { name: 'acosh on [1, 50]', f: scalarOf(acosh), ref: (x) => D.acosh(exact(x)), xs: grid(1, 50, 201), bound: 1 },
  {
    name: 'atanh on (−1, 1)',
    f: scalarOf(atanh),
    ref: (x) => D.atanh(exact(x)),
    xs: [...grid(-0.999, 0.999, 201), 1e-9],
    bound: 1,
  },
  {
    name: 'logit on (0, 1)',
    f: scalarOf(logit),
    ref: (p) =>
      exact(p)
        .div(new D(1).sub(exact(p)))
        .ln(),
    xs: [...grid(0.001, 0.999, 301), 0.5 + 1e-9, 0.25, 1e-12],
    bound: 4,
  },
]

describe('accuracy against high-precision references (ulps)', () => {
  for (const c of CASES) {
    it(`${c.name}: within ${c.bound} ulp`, () => {
      const w = worst(c.xs, c.f, c.ref)
      expect(w.ulps, `${c.name}: ${w.ulps.toFixed(2)} ulp at x = ${w.at}`).toBeLessThanOrEqual(c.bound)
    })
  }

  it('near the zeros of lgamma (x = 1, 2) the error is absolute, within 3e-16', () => {
    for (const x of [...grid(0.9, 1.1, 21), ...grid(1.9, 2.1, 21)]) {
      expect(Math.abs(exact(lgamma(x).item()).sub(lgammaRef(x)).toNumber())).toBeLessThanOrEqual(3e-16)
    }
  })

  it('logaddexp within 2 ulp, also where a naive log(eᵃ + eᵇ) overflows', () => {
    const pairs: Array<[number, number]> = [
      [1, 2],
      [-3, 0.5],
      [10, 10],
      [800, 799],
      [-800, -801],
      [0, -40],
      [1e-3, 2e-3],
    ]
    for (const [a, b] of pairs) {
      const ref = D.max(exact(a), exact(b)).add(
        D.exp(D.min(exact(a), exact(b)).sub(D.max(exact(a), exact(b))))
          .add(1)
          .ln(),
      )
      expect(ulps(logaddexp(a, b).item(), ref)).toBeLessThanOrEqual(2)
    }
  })

  it('tabulated values: lgamma(½) = log √π, ψ(1) = −γ, ψ⁽¹⁾(1) = π²/6, erf(1) (A&S table 7.1)', () => {
    expect(ulps(lgamma(0.5).item(), SQRT_PI.ln())).toBeLessThanOrEqual(3)
    expect(ulps(digamma(1).item(), new D('-0.57721566490153286060651209008240243104215933593992'))).toBeLessThanOrEqual(
      3,
    )
    expect(ulps(polygamma(1, 1).item(), PI.pow(2).div(6))).toBeLessThanOrEqual(3)
    expect(
      ulps(erf(1).item(), new D('0.842700792949714869341220635082609259296066997966302908459937')),
    ).toBeLessThanOrEqual(2)
  })

  it('the ulp checker rejects naive formulas (asinh as log(x + √(x²+1)), logit as log p − log1p(−p))', () => {
    const naiveAsinh = (x: number) => log(add(x, sqrt(add(mul(x, x), 1)))).item()
    expect(worst(grid(-50, -1, 50), naiveAsinh, (x) => D.asinh(exact(x))).ulps).toBeGreaterThan(100)
    const naiveLogit = (p: number) => sub(log(p), log1p(-p)).item()
    expect(
      worst([0.5 + 1e-9, 0.5 - 1e-7], naiveLogit, (p) =>
        exact(p)
          .div(new D(1).sub(exact(p)))
          .ln(),
      ).ulps,
    ).toBeGreaterThan(100)
  })
})

// -------------------------------------------------------------------------------------
// derivatives and conventions
// -------------------------------------------------------------------------------------

describe('derivatives against closed forms', () => {
  it("lgamma' = ψ, ψ' = ψ⁽¹⁾, ψ'' = ψ⁽²⁾ (forward and reverse), erf' = (2/√π)e^{−x²}, erfinv' = (√π/2)e^{erfinv²}", () => {
    for (const x of [0.3, 1, 2.5, 7]) {
      expect(derivative((t: Tensor) => lgamma(t))(tensor(x)).item()).toBe(digamma(x).item())
      expect(grad((t: Tensor) => digamma(t))(tensor(x)).item()).toBe(polygamma(1, x).item())
      expect(hessian((t: Tensor) => digamma(t))(tensor(x)).item()).toBeCloseTo(polygamma(2, x).item(), 12)
    }
    expect(grad((t: Tensor) => erf(t))(tensor(0.7)).item()).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-0.49), 15)
    const y = erfinv(0.3).item()
    expect(grad((t: Tensor) => erfinv(t))(tensor(0.3)).item()).toBeCloseTo(
      (Math.sqrt(Math.PI) / 2) * Math.exp(y * y),
      14,
    )
    expect(grad((t: Tensor) => asin(t))(tensor(0.6)).item()).toBeCloseTo(1 / 0.8, 14)
    expect(grad((t: Tensor) => acosh(t))(tensor(2)).item()).toBeCloseTo(1 / Math.sqrt(3), 14)
  })

  it('xlogy and xlog1py are 0 at x = 0 with finite gradients; their y-gradient there is 0', () => {
    expect(xlogy(0, 0).item()).toBe(0)
    expect(xlog1py(0, -1).item()).toBe(0)
    const [gx, gy] = grad(([x, y]: Tensor[]) => xlogy(x!, y!))([tensor(0), tensor(2)])
    expect(gx!.item()).toBeCloseTo(Math.log(2), 15)
    expect(gy!.item()).toBe(0)
    const [, gy0] = grad(([x, y]: Tensor[]) => xlogy(x!, y!))([tensor(0), tensor(0)])
    expect(gy0!.item()).toBe(0)
    const [gx1] = grad(([x, y]: Tensor[]) => xlog1py(x!, y!))([tensor(3), tensor(0.5)])
    expect(gx1!.item()).toBeCloseTo(Math.log1p(0.5), 15)
  })

  it('logaddexp at a tie: gradient ½ to each side, second derivative ¼; −∞ with −∞ gives −∞', () => {
    const g = grad(([a, b]: Tensor[]) => logaddexp(a!, b!))([tensor(1), tensor(1)])
    expect(g.map((t) => t.item())).toEqual([0.5, 0.5])
    expect(hessian((a: Tensor) => logaddexp(a, 1))(tensor(1)).item()).toBe(0.25)
    expect(logaddexp(-Infinity, -Infinity).item()).toBe(-Infinity)
    expect(logaddexp(Infinity, 3).item()).toBe(Infinity)
    expect(logaddexp(1000, 1000).item()).toBeCloseTo(1000 + Math.LN2, 12)
  })

  it("logit' = 1/(p(1 − p)) on both of its formulas (p < ¼ and p ≥ ¼)", () => {
    for (const p of [0.1, 0.25, 0.5, 0.9])
      expect(grad((t: Tensor) => logit(t))(tensor(p)).item()).toBeCloseTo(1 / (p * (1 - p)), 12)
  })

  it('the documented poles and domains', () => {
    expect(lgamma(0).item()).toBe(Infinity)
    expect(lgamma(-2).item()).toBe(Infinity)
    expect(Number.isNaN(digamma(-1).item())).toBe(true)
    expect(erfinv(1).item()).toBe(Infinity)
    expect(Number.isNaN(erfinv(1.5).item())).toBe(true)
    // reflection for negative x: lgamma(−0.5) = log(2√π)
    expect(lgamma(-0.5).item()).toBeCloseTo(Math.log(2 * Math.sqrt(Math.PI)), 14)
    // ψ(½) = −γ − 2 log 2 (A&S 6.3.3) and ψ(x + 1) = ψ(x) + 1/x give ψ(−½) = ψ(½) + 2
    expect(digamma(-0.5).item()).toBeCloseTo(-0.5772156649015329 - 2 * Math.log(2) + 2, 13)
  })
})
