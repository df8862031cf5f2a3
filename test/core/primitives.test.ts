/**
 * Table-driven laws over every primitive with a domain: adding a record to
 * `src/primitives/table.ts` adds its tests. For each domain case (input shapes, params):
 * - JVP vs Richardson central differences,
 * - VJP vs JVP by the inner-product identity ⟨ȳ, J v⟩ = ⟨Jᵀ ȳ, v⟩,
 * - second order: forward-over-reverse vs a central difference of the gradient, and the
 *   four nestings (fwd∘fwd, rev∘rev, fwd∘rev, rev∘fwd) against each other,
 * - dtype: float32 in, float32 values, tangents and cotangents out,
 * on fast-check inputs from the domain, away from kinks (`test/helpers/arbitraries.ts`).
 * Tolerances are derived in `test/helpers/fd.ts` and `test/helpers/laws.ts`.
 *
 * Every law is then shown to fail on a deliberately broken copy of a primitive record
 * (bound through the same `bind` dispatch): a law that cannot fail proves nothing.
 * Finally the conventions at kinks are tested point by point.
 *
 * Seeds are fixed per test (derived from its name) so a run is reproducible; fast-check
 * prints the seed and the shrunk counterexample of any failure.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  derivative,
  full,
  grad,
  hessian,
  jvp,
  log,
  max,
  maximum,
  minimum,
  pow,
  relu,
  abs,
  sum,
  tensor,
  where,
  vjp,
} from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import * as P from '../../src/primitives/table.js'
import type { AnyPrimitive, DomainCase, JvpRule, Primitive, VjpRule } from '../../src/primitives/types.js'
import { allClose } from '../helpers/allClose.js'
import { KINK_MARGIN, directions, domainInputs, kinkDistance } from '../helpers/arbitraries.js'
import type { Vec } from '../helpers/fd.js'
import type { Fn, LawReport } from '../helpers/laws.js'
import {
  checkAdjoint,
  checkFloat32,
  checkJvpVsFd,
  checkSecondOrderFd,
  checkSecondOrderModes,
  primFn,
  tensorsOf,
} from '../helpers/laws.js'

// -------------------------------------------------------------------------------------
// running a law as a fast-check property
// -------------------------------------------------------------------------------------

/** FNV-1a: a stable seed per test name. */
const seedOf = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h | 0
}

type Law = 'jvp-fd' | 'adjoint' | 'second-fd' | 'second-modes' | 'float32'
const RUNS: Record<Law, number> = { 'jvp-fd': 25, adjoint: 25, 'second-fd': 10, 'second-modes': 10, float32: 5 }

/** The output shape of a primitive for a case (evaluated once at the middle of its ranges). */
const outShape = (prim: AnyPrimitive, dcase: DomainCase<unknown>): ReadonlyArray<number> => {
  const ranges = (prim.domain as NonNullable<AnyPrimitive['domain']>).ranges
  const xs = dcase.shapes.map((s, i) => {
    const [lo, hi] = ranges[Math.min(i, ranges.length - 1)] as readonly [number, number]
    return full(s, (lo + hi) / 2)
  })
  return bind(prim, xs, dcase.params).shape
}

/** One law over one case of one primitive, as a fast-check property. */
const lawProperty = (
  law: Law,
  prim: AnyPrimitive,
  dcase: DomainCase<unknown>,
): fc.IProperty<[Vec[], Vec[], Vec[], Vec[]]> => {
  const domain = prim.domain as NonNullable<AnyPrimitive['domain']>
  const shapes = dcase.shapes
  const yShape = outShape(prim, dcase)
  const f: Fn = primFn(prim as Primitive<unknown>, dcase.params)
  // inputs the primitive does not differentiate (where's mask) get zero tangents: the laws
  // concern the differentiable inputs, and the function is piecewise constant in the others.
  // Their values are rounded to integers so that the discrete cases all occur (a mask drawn
  // from [−1, 1] would otherwise never be exactly 0, and where's second branch never taken).
  const live = shapes.map((_, i) => ruleAt(prim.jvp, i) !== null)
  const mask = (ds: Vec[]): Vec[] => ds.map((d, i) => (live[i] ? d : new Float64Array(d.length)))
  const discrete = (xs: Vec[]): Vec[] => xs.map((x, i) => (live[i] ? x : x.map(Math.round)))
  return fc.property(
    domainInputs(domain, dcase),
    directions(shapes),
    directions(shapes),
    directions([yShape]),
    (xv0, vv0, uv0, [yb]) => {
      const xv = discrete(xv0)
      const vv = mask(vv0)
      const uv = mask(uv0)
      const xs = tensorsOf(xv, shapes)
      const vs = tensorsOf(vv, shapes)
      const us = tensorsOf(uv, shapes)
      const yBar = tensorsOf([yb as Vec], [yShape])[0] as Tensor
      const report: LawReport =
        law === 'jvp-fd'
          ? checkJvpVsFd(f, xs, vs)
          : law === 'adjoint'
            ? checkAdjoint(f, xs, vs, yBar)
            : law === 'second-fd'
              ? checkSecondOrderFd(f, xs, vs, yBar)
              : law === 'second-modes'
                ? checkSecondOrderModes(f, xs, vs, us, yBar)
                : checkFloat32(f, xv, vv, () => yb as Vec, shapes)
      if (!report.ok) throw new Error(`${prim.name} ${law}: ${report.message}`)
    },
  )
}

const ruleAt = (rules: AnyPrimitive['jvp'], i: number): unknown =>
  typeof rules === 'function' ? rules(i) : (rules[i] ?? null)

const params = (law: Law, name: string) => ({ numRuns: RUNS[law], seed: seedOf(name) })

const shapesLabel = (dcase: DomainCase<unknown>): string =>
  dcase.shapes.map((s) => `[${s.join(',')}]`).join(' ') +
  (Object.keys(dcase.params as object).length > 0 ? ` ${JSON.stringify(dcase.params)}` : '')

// -------------------------------------------------------------------------------------
// the table
// -------------------------------------------------------------------------------------

const tabled: AnyPrimitive[] = Object.values(P.primitives).filter((p: AnyPrimitive) => p.domain !== null)

describe('the primitive table', () => {
  it('has a domain for every differentiable primitive, and a kink convention wherever it declares kinks', () => {
    // a primitive with some non-null rule must be sampled by the laws (except cast, whose
    // laws are dtype changes, tested in transforms.test.ts)
    const rules = (p: AnyPrimitive): Array<unknown> =>
      typeof p.jvp === 'function' ? [p.jvp(0)] : [...(p.jvp as ReadonlyArray<unknown>)]
    const untested = Object.values(P.primitives).filter(
      (p: AnyPrimitive) => p.domain === null && rules(p).some((r) => r !== null) && p.name !== 'cast',
    )
    expect(untested.map((p: AnyPrimitive) => p.name)).toEqual([])
    for (const p of tabled) if (p.domain?.kinks !== undefined) expect(p.kinks, p.name).toBeTypeOf('string')
    expect(tabled.length).toBeGreaterThanOrEqual(30)
  })

  it('the max reduction reports its near-ties, so the laws redraw them (regression: its domain had no kink distance)', () => {
    const d = P.max.domain as NonNullable<typeof P.max.domain>
    // groups are the reduced values of one output element: the gap between the two largest
    const near = kinkDistance(d, { shapes: [[4]], params: { axes: [0] } }, [Float64Array.of(1, 1.01, 0, -1)])
    expect(near).toBeCloseTo(0.01, 12)
    expect(near).toBeLessThan(KINK_MARGIN)
    const rows = kinkDistance(d, { shapes: [[2, 3]], params: { axes: [1] } }, [Float64Array.of(0, 2, 1, 5, 5.02, -1)])
    expect(rows).toBeCloseTo(0.02, 12)
    const cols = kinkDistance(d, { shapes: [[3, 2]], params: { axes: [0] } }, [Float64Array.of(0, 3, 1, 0, 2, 1)])
    expect(cols).toBeCloseTo(1, 12)
  })
})

for (const prim of tabled) {
  describe(`primitive ${prim.name}`, () => {
    ;(prim.domain as NonNullable<AnyPrimitive['domain']>).cases.forEach((dcase) => {
      const label = shapesLabel(dcase)
      for (const law of ['jvp-fd', 'adjoint', 'second-fd', 'second-modes', 'float32'] as const) {
        const name = `${prim.name} ${law} ${label}`
        it(`${law}: ${label}`, () => {
          fc.assert(lawProperty(law, prim, dcase), params(law, name))
        })
      }
    })
  })
}

// -------------------------------------------------------------------------------------
// each law fails on a broken rule
// -------------------------------------------------------------------------------------

type NoParams = Record<string, never>
const sinCase: DomainCase<unknown> = { shapes: [[3]], params: {} }

/** A copy of `sin` with some rules replaced (same kernel, same domain). */
const brokenSin = (rules: { jvp?: JvpRule<NoParams>; vjp?: VjpRule<NoParams> }): AnyPrimitive => ({
  ...P.sin,
  name: 'brokenSin',
  jvp: [rules.jvp ?? ((P.sin.jvp as ReadonlyArray<JvpRule<NoParams>>)[0] as JvpRule<NoParams>)],
  vjp: [rules.vjp ?? ((P.sin.vjp as ReadonlyArray<VjpRule<NoParams>>)[0] as VjpRule<NoParams>)],
})

const fails = (law: Law, prim: AnyPrimitive, dcase = sinCase): boolean =>
  fc.check(lawProperty(law, prim, dcase), { numRuns: 10, seed: seedOf(`broken ${prim.name} ${law}`) }).failed

const holds = (law: Law, prim: AnyPrimitive, dcase = sinCase): boolean => !fails(law, prim, dcase)

describe('every law fails on a deliberately broken rule', () => {
  // d sin = −cos · dx: wrong sign in the forward rule (the reverse rule is left correct)
  const wrongJvp = brokenSin({ jvp: (xDot, [x], _y, _p, R) => R.neg(R.mul(xDot, R.cos(x!))) })
  // reverse rule scaled by 2: not the transpose of the (correct) forward rule
  const wrongVjp = brokenSin({ vjp: (yBar, [x], _y, _p, R) => R.mul(2, R.mulNoNan(yBar, R.cos(x!))) })
  // first-order exact, but cos is taken of the concrete value, so outer levels see a
  // constant: the rule's own derivative (−sin) is lost
  const frozenVjp = brokenSin({ vjp: (yBar, [x], _y, _p, R) => R.mulNoNan(yBar, R.cos(x!.concrete())) })
  const frozenJvp = brokenSin({ jvp: (xDot, [x], _y, _p, R) => R.mul(xDot, R.cos(x!.concrete())) })

  it('the unbroken sin passes every law (the checkers are not trivially failing)', () => {
    for (const law of ['jvp-fd', 'adjoint', 'second-fd', 'second-modes', 'float32'] as const)
      expect(holds(law, P.sin as AnyPrimitive), law).toBe(true)
  })

  it('jvp vs central differences rejects a forward rule with the wrong sign', () => {
    expect(fails('jvp-fd', wrongJvp)).toBe(true)
  })

  it('adjointness rejects a reverse rule that is not the transpose of the forward rule', () => {
    expect(holds('jvp-fd', wrongVjp)).toBe(true) // forward mode is still right
    expect(fails('adjoint', wrongVjp)).toBe(true)
  })

  it('adjointness also rejects a wrong forward rule paired with a correct reverse rule', () => {
    expect(fails('adjoint', wrongJvp)).toBe(true)
  })

  it('second order (forward-over-reverse vs differences of the gradient) rejects a rule that is right only to first order', () => {
    expect(holds('jvp-fd', frozenVjp)).toBe(true)
    expect(holds('adjoint', frozenVjp)).toBe(true)
    expect(fails('second-fd', frozenVjp)).toBe(true)
  })

  it('second order (the four nestings agree) rejects first-order-only rules in either mode', () => {
    expect(fails('second-modes', frozenVjp)).toBe(true)
    expect(holds('adjoint', frozenJvp)).toBe(true)
    expect(fails('second-modes', frozenJvp)).toBe(true)
  })

  it('the dtype law rejects a kernel that computes float32 inputs in float64', () => {
    const widening: AnyPrimitive = {
      ...P.exp,
      name: 'wideningExp',
      impl: ([x]: ReadonlyArray<Tensor>) => P.exp.impl([tensor(x!.concrete().toArray(), 'float64')], {}),
    }
    expect(holds('jvp-fd', widening)).toBe(true)
    expect(fails('float32', widening)).toBe(true)
  })

  it('the where NaN-safety check fails on a where whose reverse rule does not mask the cotangent', () => {
    const leaky: AnyPrimitive = { ...P.where, name: 'leakyWhere', vjp: [null, (yBar) => yBar, (yBar) => yBar] }
    const c = tensor([1, 0])
    const g = grad((x: Tensor) => sum(bind(leaky, [c, log(x), tensor(0)], {})))(tensor([1, 0]))
    expect(allClose(g, [1, 0], 0, 0).ok).toBe(false)
    const good = grad((x: Tensor) => sum(bind(P.where, [c, log(x), tensor(0)], {})))(tensor([1, 0]))
    expect(allClose(good, [1, 0], 0, 0).ok).toBe(true)
  })

  it('the laws also catch a broken broadcasting rule (mul whose db forgets the a factor)', () => {
    const brokenMul: AnyPrimitive = {
      ...P.mul,
      name: 'brokenMul',
      vjp: [(P.mul.vjp as ReadonlyArray<VjpRule<NoParams>>)[0] as VjpRule<NoParams>, (yBar) => yBar],
    }
    const bcase: DomainCase<unknown> = { shapes: [[2, 3], [3]], params: {} }
    expect(holds('jvp-fd', brokenMul, bcase)).toBe(true)
    expect(fails('adjoint', brokenMul, bcase)).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// conventions at kinks
// -------------------------------------------------------------------------------------

const t = (x: number | number[] | number[][]): Tensor => tensor(x)
const arr = (x: unknown): unknown => (x as Tensor).toArray()

describe('conventions at kinks', () => {
  it("relu'(0) = 0 in forward and reverse mode, and its second derivative is 0", () => {
    expect(derivative(relu)(0)).toBe(0)
    expect(grad(relu)(0)).toBe(0)
    expect((grad((x: Tensor) => grad(relu)(x) as Tensor)(t(0)) as Tensor).item()).toBe(0)
    expect(arr(grad((x: Tensor) => sum(relu(x)))(t([-1, 0, 2])))).toEqual([0, 0, 1])
  })

  it("abs'(0) = 0 in forward and reverse mode", () => {
    expect(derivative(abs)(0)).toBe(0)
    expect(grad(abs)(0)).toBe(0)
    expect(arr(grad((x: Tensor) => sum(abs(x)))(t([-2, 0, 3])))).toEqual([-1, 0, 1])
  })

  it('maximum and minimum split a tie half and half (forward and reverse)', () => {
    const gMax = grad(([a, b]: Tensor[]) => maximum(a!, b!))([t(1), t(1)])
    expect(gMax.map((g) => g.item())).toEqual([0.5, 0.5])
    const gMin = grad(([a, b]: Tensor[]) => minimum(a!, b!))([t(2), t(2)])
    expect(gMin.map((g) => g.item())).toEqual([0.5, 0.5])
    // forward: d maximum(x, x)/dx = 1/2 + 1/2 = 1 ; along (1, 0) only half
    expect(derivative((x: Tensor) => maximum(x, x))(t(1)).item()).toBe(1)
    const [, tDot] = jvp(([a, b]: Tensor[]) => maximum(a!, b!), [t(1), t(1)], [t(1), t(0)])
    expect(tDot.item()).toBe(0.5)
    // broadcast tie: a scalar tied with two of three entries collects both halves
    // (a = 2 against b = [2, 1, 2]: two ties worth 1/2 each plus one clear win worth 1)
    const [ga, gb] = grad(([a, b]: Tensor[]) => sum(maximum(a!, b!)))([t(2), t([2, 1, 2])])
    expect(ga!.item()).toBe(2)
    expect(arr(gb)).toEqual([0.5, 0, 0.5])
  })

  it('the max reduction shares the derivative equally among ties', () => {
    expect(arr(grad((x: Tensor) => max(x))(t([1, 3, 3, 2])))).toEqual([0, 0.5, 0.5, 0])
    const third = arr(grad((x: Tensor) => max(x))(t([5, 5, 5]))) as number[]
    expect(third).toEqual([1 / 3, 1 / 3, 1 / 3])
    expect(
      arr(
        grad((x: Tensor) => sum(max(x, 1)))(
          t([
            [1, 1],
            [2, 0],
          ]),
        ),
      ),
    ).toEqual([
      [0.5, 0.5],
      [1, 0],
    ])
    // forward mode uses the same weights: tangent (1, 0, 0) on a three-way tie gives 1/3
    const [, d] = jvp((x: Tensor) => max(x), t([5, 5, 5]), t([1, 0, 0]))
    expect(d.item()).toBe(1 / 3)
  })

  it('pow(0, 0) and pow(0, 2) have finite derivatives in both arguments', () => {
    // d/da aᵇ = b·aᵇ⁻¹ is 0 at b = 0 by convention; d/db aᵇ = log(a)·aᵇ is 0 at a = 0
    const g00 = grad(([a, b]: Tensor[]) => pow(a!, b!))([t(0), t(0)]).map((g) => g.item())
    expect(g00).toEqual([0, 0])
    const g02 = grad(([a, b]: Tensor[]) => pow(a!, b!))([t(0), t(2)]).map((g) => g.item())
    expect(g02).toEqual([0, 0])
    const h = hessian((x: Tensor) => pow(x, 2))(t(0))
    expect(h.item()).toBe(2)
    const [, d] = jvp(([a, b]: Tensor[]) => pow(a!, b!), [t(0), t(0)], [t(1), t(1)])
    expect(Number.isFinite(d.item())).toBe(true)
    expect(d.item()).toBe(0)
  })

  it('where leaks no NaN from the unselected branch: grad is exactly [1, 0], the hessian has no NaN', () => {
    const c = t([1, 0])
    const f = (x: Tensor) => sum(where(c, log(x), 0))
    const g = grad(f)(t([1, 0]))
    expect(Array.from(g.toTypedArray())).toEqual([1, 0])
    const h = hessian(f)(t([1, 0]))
    const hv = Array.from(h.toTypedArray())
    expect(hv.some(Number.isNaN)).toBe(false)
    // d²/dx² log x = −1/x² = −1 at x = 1; every other entry is zero
    expect(
      allClose(
        h,
        [
          [-1, 0],
          [0, 0],
        ],
        0,
        0,
      ).ok,
    ).toBe(true)
    // forward mode and the pullback agree
    const [, d] = jvp(f, t([1, 0]), t([1, 1]))
    expect(d.item()).toBe(1)
    const [, pb] = vjp((x: Tensor) => where(c, log(x), 0), t([1, 0]))
    expect(Array.from(pb(t([1, 1])).toTypedArray())).toEqual([1, 0])
  })
})
