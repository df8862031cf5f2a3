/**
 * Codec laws and fp-ts type-class laws: they pass on correct instances (purediff's tensor
 * codec, an io-ts record codec, fp-ts's Option Functor/Monad, the number Field as a Ring,
 * the teaching dual numbers' Ring) and fail on broken ones (a codec that loses the sign of
 * zero or truncates data, a decoder that rejects valid input, a Functor that maps twice, a
 * Monad whose `of` is not neutral, a "semiring" whose addition is subtraction).
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as N from 'fp-ts/lib/number.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Semiring } from 'fp-ts/lib/Semiring.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { fromData } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import * as D from '../../src/dual/index.js'
import { tensorCodec } from '../../src/io/index.js'
import {
  arbNumberEndo,
  arbTensor,
  assertSuite,
  checkSuite,
  codecLaws,
  eqNumber,
  functorLaws,
  monadLaws,
  ringLaws,
  semiringLaws,
} from '../../laws/index.js'
import type { CodecLike, LawSuite } from '../../laws/index.js'

const run = { numRuns: 60, seed: 7, includeErrorInReport: true }
const failures = (s: LawSuite): Record<string, string> => {
  const r = checkSuite(s, run)
  return E.isLeft(r) ? { ...r.left } : {}
}

describe('codecLaws', () => {
  it('pass for the tensor codec on tensors with NaN, ±Infinity and −0', () => {
    const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1.5)
    const arb = fc.tuple(arbTensor({ shape: [3] }), special).map(([tt, s]) => {
      const v = Array.from(tt.toTypedArray())
      v[1] = s
      return fromData(v, [3]) as Tensor
    })
    assertSuite(codecLaws(tensorCodec<Tensor>(), arb), run)
  })
  it('pass for an io-ts record codec', () => {
    const C = t.type({ name: t.string, n: t.number })
    assertSuite(codecLaws(C, fc.record({ name: fc.string(), n: fc.double({ noNaN: true }) })), run)
  })
  it('fail for a codec that loses the sign of zero (decodeEncode)', () => {
    const lossy: CodecLike<number, string> = {
      encode: (a) => String(a),
      decode: (s) => (Number.isNaN(Number(s)) && s !== 'NaN' ? E.left('not a number') : E.right(Number(s))),
    }
    const f = failures(codecLaws(lossy, fc.constantFrom(0, -0, 1)))
    expect(Object.keys(f)).toEqual(['decodeEncode'])
    expect(f['decodeEncode']).toContain('decode(encode(a)) ≠ a')
    expect(f['decodeEncode']).toContain('Counterexample: [-0]')
  })
  it('fail for a codec that truncates data, and for a decoder that rejects valid input', () => {
    const truncating: CodecLike<number[], number[]> = { encode: (a) => a.slice(0, 2), decode: (o) => E.right(o) }
    expect(Object.keys(failures(codecLaws(truncating, fc.array(fc.integer()))))).toEqual(['decodeEncode'])
    const picky: CodecLike<number, number> = {
      encode: (a) => a,
      decode: (o) => (o > 5 ? E.left(new Error('too big')) : E.right(o)),
    }
    const f = failures(codecLaws(picky, fc.integer({ min: 0, max: 10 })))
    expect(f['encodeDecode']).toContain('decode rejected a valid input')
    expect(f['encodeDecode']).toContain('too big')
  })
})

describe('fp-ts laws', () => {
  const arbOpt = fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: null }).map(O.fromNullable)
  const eqOpt = O.getEq(eqNumber(1e-12, 1e-12))
  const kleisli = fc.constantFrom(
    Object.assign((a: number) => (a > 0 ? O.some(a / 2) : O.none), { toString: () => 'a => a > 0 ? some(a/2) : none' }),
    Object.assign((a: number) => O.some(a + 1), { toString: () => 'a => some(a + 1)' }),
  )
  const arbA = fc.double({ min: -10, max: 10, noNaN: true })
  it('Option is a Functor and a Monad', () => {
    assertSuite(functorLaws(O.Functor, arbOpt, eqOpt, arbNumberEndo), run)
    assertSuite(monadLaws(O.Monad, arbA, arbOpt, eqOpt, kleisli, arbNumberEndo), run)
  })
  it('a Functor that applies f twice fails composition (and identity holds)', () => {
    const twice = { map: (fa: O.Option<number>, f: (a: number) => number) => O.map((a: number) => f(f(a)))(fa) }
    const f = failures(functorLaws(twice, arbOpt, eqOpt, arbNumberEndo))
    expect(Object.keys(f)).toEqual(['composition'])
    expect(f['composition']).toContain('functor composition')
  })
  it('a Monad whose of is none fails both identities', () => {
    const broken = { ...O.Monad, of: (_a: number) => O.none as O.Option<number> }
    const f = failures(monadLaws(broken, arbA, arbOpt, eqOpt, kleisli, arbNumberEndo))
    expect(Object.keys(f).sort()).toEqual(['leftIdentity', 'rightIdentity'])
  })
  // values in [−100, 100]: sums and products of three stay ≤ 1e6, where one rounding is
  // ≤ 1e6·2⁻⁵³ ≈ 1.1e-10 and a law's two sides differ by a few roundings: 1e-9 absolute and
  // 1e-12 relative cover it
  const arbNum = fc.double({ min: -100, max: 100, noNaN: true })
  const eqN = eqNumber(1e-9, 1e-12)
  it('numbers form a Ring up to rounding (with a tolerance-aware Eq)', () => {
    assertSuite(ringLaws(N.Field, arbNum, eqN), run)
  })
  it('the teaching dual numbers form a Ring up to rounding', () => {
    const arbDual = fc.tuple(arbNum, arbNum).map(([a, b]) => D.dual(a, b))
    const eqDual = {
      equals: (x: D.Dual, y: D.Dual) => eqN.equals(x.primal, y.primal) && eqN.equals(x.tangent, y.tangent),
    }
    assertSuite(ringLaws(D.Ring, arbDual, eqDual), run)
  })
  it('exact equality would reject the number Ring: the tolerance is needed, not decoration', () => {
    const f = failures(semiringLaws(N.Field, arbNum, N.Eq))
    expect(Object.keys(f).length).toBeGreaterThan(0)
  })
  it('a "semiring" whose addition is subtraction fails', () => {
    const bad: Semiring<number> = { ...N.Field, add: (a, b) => a - b }
    const f = failures(semiringLaws(bad, arbNum, eqN))
    expect(Object.keys(f)).toEqual(expect.arrayContaining(['addAssociative', 'addCommutative', 'addIdentity']))
  })
})
