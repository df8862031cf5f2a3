import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import type { Functor1 } from 'fp-ts/lib/Functor.js'
import type { Monad1 } from 'fp-ts/lib/Monad.js'
import { flow, identity, pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as Str from 'fp-ts/lib/string.js'
import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import * as S from '../../src/train/Stream.js'
import type { Stream } from '../../src/train/Stream.js'

// -------------------------------------------------------------------------------------
// harness: streams are compared by a bounded prefix, read twice on each side, so a stream
// that does not replay (a one-shot iterator) fails the comparison even when its first read
// is right.
// -------------------------------------------------------------------------------------

const K = 24
const prefix = <A>(s: Stream<A>): ReadonlyArray<A> => S.toArray(S.take(K)(s))

const replays = <A>(s: Stream<A>): boolean => isDeepStrictEqual(prefix(s), prefix(s))

const streamEq = <A>(x: Stream<A>, y: Stream<A>): boolean => {
  const x1 = prefix(x)
  const y1 = prefix(y)
  const x2 = prefix(x)
  const y2 = prefix(y)
  return isDeepStrictEqual(x1, y1) && isDeepStrictEqual(x1, x2) && isDeepStrictEqual(y1, y2)
}

// A deliberately broken "stream": one generator object handed out on every iteration.
const oneShot = <A>(it: Iterator<A>): Stream<A> =>
  Object.freeze({ _tag: 'Stream' as const, [Symbol.iterator]: () => it })

// Streams are generated from printable specs so a shrunk counterexample is readable.
type Spec =
  | { readonly kind: 'array'; readonly values: ReadonlyArray<number> }
  | { readonly kind: 'iterate'; readonly start: number; readonly step: number }
  | { readonly kind: 'cycle'; readonly values: ReadonlyArray<number> }

const build = (spec: Spec): Stream<number> => {
  switch (spec.kind) {
    case 'array':
      return S.fromArray(spec.values)
    case 'iterate':
      return S.iterate(spec.start, (x) => x + spec.step)
    case 'cycle':
      return pipe(S.repeat(spec.values), S.chain(S.fromArray))
  }
}

const small = fc.integer({ min: -50, max: 50 })
const arbFinite: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constant('array' as const),
  values: fc.array(small, { maxLength: 30 }),
})
const arbInfinite: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ kind: fc.constant('iterate' as const), start: small, step: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('cycle' as const), values: fc.array(small, { minLength: 1, maxLength: 5 }) }),
)
const arbSpec: fc.Arbitrary<Spec> = fc.oneof(arbFinite, arbInfinite)
const arbFn = fc.func<[number], number>(small)

// Kleisli arrows a -> Stream<b>, also as printable specs. A bounded prefix of a chain is
// only computable when the search for a next element ends: either every arrow returns a
// non-empty stream (`nonEmpty`), or everything is finite (arrows that may return the empty
// stream are finite tables, and are used with finite outer streams only).
type KSpec =
  | { readonly kind: 'table'; readonly table: ReadonlyArray<ReadonlyArray<number>> }
  | { readonly kind: 'count'; readonly scale: number }

const buildK =
  (k: KSpec) =>
  (a: number): Stream<number> => {
    if (k.kind === 'count') return S.iterate(a * k.scale, (x) => x + 1)
    const i = ((a % k.table.length) + k.table.length) % k.table.length
    return S.fromArray(k.table[i] ?? [])
  }

const arbK = (nonEmpty: boolean): fc.Arbitrary<KSpec> => {
  const table: fc.Arbitrary<KSpec> = fc.record({
    kind: fc.constant('table' as const),
    table: fc.array(fc.array(small, { minLength: nonEmpty ? 1 : 0, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
  })
  const count: fc.Arbitrary<KSpec> = fc.record({
    kind: fc.constant('count' as const),
    scale: fc.integer({ min: -3, max: 3 }),
  })
  return nonEmpty ? fc.oneof(table, count) : table
}

type MapOnly = Pick<Functor1<S.URI>, 'map'>
type MonadCore = Pick<Monad1<S.URI>, 'of' | 'chain'>

const functorLaws = (F: MapOnly) => ({
  identity: fc.property(arbSpec, (spec) => streamEq(F.map(build(spec), identity), build(spec))),
  // map fusion: mapping twice is mapping the composite once
  composition: fc.property(arbSpec, arbFn, arbFn, (spec, f, g) =>
    streamEq(
      F.map(build(spec), (a) => g(f(a))),
      F.map(F.map(build(spec), f), g),
    ),
  ),
})

const monadLaws = (M: MonadCore, outer: fc.Arbitrary<Spec>, nonEmpty: boolean) => ({
  leftIdentity: fc.property(small, arbK(nonEmpty), (a, k) => streamEq(M.chain(M.of(a), buildK(k)), buildK(k)(a))),
  rightIdentity: fc.property(outer, (spec) => streamEq(M.chain(build(spec), M.of), build(spec))),
  associativity: fc.property(outer, arbK(nonEmpty), arbK(nonEmpty), (spec, kf, kg) => {
    const f = buildK(kf)
    const g = buildK(kg)
    return streamEq(
      M.chain(M.chain(build(spec), f), g),
      M.chain(build(spec), (a) => M.chain(f(a), g)),
    )
  }),
})

const takeDropLaw = (take: (n: number) => <A>(s: Stream<A>) => Stream<A>) =>
  fc.property(arbSpec, fc.integer({ min: 0, max: 40 }), (spec, n) =>
    streamEq(pipe(build(spec), take(n), S.concat(pipe(build(spec), S.drop(n)))), build(spec)),
  )

/** A source that counts how many iterations started, how many were closed early or ran out. */
const tracked = <A = number>(values: ReadonlyArray<A> | 'naturals') => {
  const log = { started: 0, pulled: 0, finished: 0 }
  const stream = S.fromGenerator(function* () {
    log.started++
    try {
      if (values === 'naturals') {
        for (let i = 0; ; i++) {
          log.pulled++
          yield i as A
        }
      }
      for (const v of values) {
        log.pulled++
        yield v
      }
    } finally {
      log.finished++
    }
  })
  return { log, stream }
}

// -------------------------------------------------------------------------------------
// the law checkers can fail
// -------------------------------------------------------------------------------------

describe('law checkers catch broken combinators', () => {
  it('replays: a one-shot stream built from a generator object fails, a Stream passes', () => {
    const gen = (function* () {
      yield* [1, 2, 3]
    })()
    expect(replays(oneShot(gen))).toBe(false)
    expect(replays(S.fromArray([1, 2, 3]))).toBe(true)
  })

  it('functor identity fails for a map that returns a one-shot stream', () => {
    const broken: MapOnly = { map: (fa, f) => oneShot(S.map(f)(fa)[Symbol.iterator]()) }
    const laws = functorLaws(broken)
    expect(fc.check(laws.identity, { seed: 1 }).failed).toBe(true)
    expect(fc.check(laws.composition, { seed: 1 }).failed).toBe(true)
  })

  it('functor identity fails for a map that drops the first element', () => {
    const broken: MapOnly = { map: (fa, f) => S.drop(1)(S.map(f)(fa)) }
    expect(fc.check(functorLaws(broken).identity, { seed: 1 }).failed).toBe(true)
  })

  it('monad left identity fails for a chain that keeps only the head of each inner stream', () => {
    const broken: MonadCore = { of: S.of, chain: (fa, f) => S.chain(flow(f, S.take(1)))(fa) }
    expect(fc.check(monadLaws(broken, arbSpec, true).leftIdentity, { seed: 1 }).failed).toBe(true)
  })

  it('monad left identity fails for an `of` that is one-shot', () => {
    // (right identity cannot see it: chain calls `of` afresh for every element)
    const broken: MonadCore = { of: (a) => oneShot([a][Symbol.iterator]()), chain: S.Monad.chain }
    expect(fc.check(monadLaws(broken, arbSpec, true).leftIdentity, { seed: 1 }).failed).toBe(true)
  })

  it('take/drop identity fails for a take that keeps one element too few', () => {
    const brokenTake =
      (n: number) =>
      <A>(s: Stream<A>) =>
        S.take(Math.max(0, n - 1))(s)
    expect(fc.check(takeDropLaw(brokenTake), { seed: 1 }).failed).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// type-class laws
// -------------------------------------------------------------------------------------

describe('fp-ts instances satisfy their laws', () => {
  it('Functor: identity and composition (map fusion)', () => {
    const laws = functorLaws(S.Functor)
    fc.assert(laws.identity)
    fc.assert(laws.composition)
  })

  it('Monad: left identity, right identity, associativity (any outer stream, non-empty arrows)', () => {
    const laws = monadLaws(S.Monad, arbSpec, true)
    fc.assert(laws.leftIdentity)
    fc.assert(laws.rightIdentity)
    fc.assert(laws.associativity)
  })

  it('Monad: the same laws with arrows that may return the empty stream (finite outer streams)', () => {
    const laws = monadLaws(S.Monad, arbFinite, false)
    fc.assert(laws.leftIdentity)
    fc.assert(laws.rightIdentity)
    fc.assert(laws.associativity)
  })

  it('FunctorWithIndex: mapWithIndex ignoring the index is map; the index counts from 0', () => {
    fc.assert(
      fc.property(arbSpec, arbFn, (spec, f) =>
        streamEq(
          S.FunctorWithIndex.mapWithIndex(build(spec), (_, a) => f(a)),
          S.map(f)(build(spec)),
        ),
      ),
    )
    fc.assert(
      fc.property(arbSpec, (spec) =>
        streamEq(
          S.FunctorWithIndex.mapWithIndex(build(spec), (i) => i),
          pipe(S.range(0), S.take(prefix(build(spec)).length)),
        ),
      ),
    )
  })

  describe('Apply/Applicative (cartesian)', () => {
    const arbFns = fc.array(arbFn, { maxLength: 3 })
    const arbVals = fc.array(small, { maxLength: 4 })
    const A = S.Applicative

    it('matches nested loops over arrays, functions outermost', () => {
      fc.assert(
        fc.property(arbFns, arbVals, (fs, xs) => {
          const expected: number[] = []
          for (const f of fs) for (const x of xs) expected.push(f(x))
          return isDeepStrictEqual(S.toArray(A.ap(S.fromArray(fs), S.fromArray(xs))), expected)
        }),
      )
    })

    it('composition, identity, homomorphism, interchange', () => {
      type F = (a: number) => number
      fc.assert(
        fc.property(arbFns, arbFns, arbVals, (bcs, abs, xs) => {
          const fbc = S.fromArray(bcs)
          const fab = S.fromArray(abs)
          const fa = S.fromArray(xs)
          const composed = A.map(fbc, (bc: F) => (ab: F) => (a: number) => bc(ab(a)))
          return streamEq(A.ap(A.ap(composed, fab), fa), A.ap(fbc, A.ap(fab, fa)))
        }),
      )
      fc.assert(
        fc.property(arbSpec, (spec) =>
          streamEq(
            A.ap(
              A.of((a: number) => a),
              build(spec),
            ),
            build(spec),
          ),
        ),
      )
      fc.assert(fc.property(arbFn, small, (f, x) => streamEq(A.ap(A.of(f), A.of(x)), A.of(f(x)))))
      fc.assert(
        fc.property(arbFns, small, (fs, y) =>
          streamEq(
            A.ap(S.fromArray(fs), A.of(y)),
            A.ap(
              A.of((f: (a: number) => number) => f(y)),
              S.fromArray(fs),
            ),
          ),
        ),
      )
    })
  })

  it('Foldable: reduce, foldMap and reduceRight agree with the array folds', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 10 }), (xs) => {
        const s = S.fromArray(xs)
        // string concatenation is not commutative, so a fold in the wrong order is caught
        return (
          S.Foldable.reduce(s, '<', (b, a) => b + a) === xs.reduce((b, a) => b + a, '<') &&
          S.Foldable.foldMap(Str.Monoid)(s, (a) => `[${a}]`) === xs.map((a) => `[${a}]`).join('') &&
          S.Foldable.reduceRight(s, '>', (a, b) => a + b) === xs.reduceRight((b, a) => a + b, '>')
        )
      }),
    )
  })

  it('Unfoldable: unfold builds the Fibonacci numbers below 100', () => {
    const fib = S.Unfoldable.unfold([0, 1] as [number, number], ([a, b]) =>
      a >= 100 ? O.none : O.some([a, [b, a + b]]),
    )
    // by hand: each term is the sum of the two before it
    expect(S.toArray(fib)).toEqual([0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
  })

  it('getMonoid: concat is associative with empty as unit', () => {
    const M = S.getMonoid<number>()
    fc.assert(
      fc.property(arbFinite, arbFinite, arbSpec, (x, y, z) =>
        streamEq(M.concat(M.concat(build(x), build(y)), build(z)), M.concat(build(x), M.concat(build(y), build(z)))),
      ),
    )
    fc.assert(fc.property(arbSpec, (x) => streamEq(M.concat(M.empty, build(x)), build(x))))
    fc.assert(fc.property(arbSpec, (x) => streamEq(M.concat(build(x), M.empty), build(x))))
  })
})

// -------------------------------------------------------------------------------------
// replay law
// -------------------------------------------------------------------------------------

// Filters may never find a next element in an infinite source (a filter that rejects a
// constant stream), so they are checked on finite sources only, marked `finiteOnly`.
const pipelines: ReadonlyArray<readonly [string, (s: Stream<number>) => Stream<unknown>, 'finiteOnly'?]> = [
  ['map', S.map((x: number) => x * 3)],
  ['mapWithIndex', S.mapWithIndex((i: number, x: number) => i - x)],
  ['filter', S.filter((x: number) => x % 3 !== 0), 'finiteOnly'],
  ['filterMap', S.filterMap((x: number) => (x % 2 === 0 ? O.some(x / 2) : O.none)), 'finiteOnly'],
  ['scan', S.scan(0, (b: number, a: number) => b * 2 - a)],
  ['scanLeft', S.scanLeft(1, (b: number, a: number) => b + a)],
  ['take', S.take(7)],
  ['takeWhile', S.takeWhile((x: number) => x < 40)],
  ['takeUntil', S.takeUntil((x: number) => x > 40)],
  ['drop', S.drop(3)],
  ['dropWhile', S.dropWhile((x: number) => x < 5), 'finiteOnly'],
  ['zip', S.zip(S.range(100))],
  ['zipWith', S.zipWith(S.fromArray([1, 2, 3, 4, 5]), (a: number, b: number) => a * b)],
  ['chain', S.chain((x: number) => S.fromArray([x, -x]))],
  ['flatMap into infinite', S.flatMap((x: number) => S.iterate(x, (y) => y + 1))],
  ['ap', (s) => S.ap(s)(S.fromArray([(x: number) => x + 1, (x: number) => x * 2]))],
  ['flatten', (s) => S.flatten(S.map((x: number) => S.of(x))(s))],
  ['tap', S.tap(() => undefined)],
  ['every', S.every(4)],
  ['chunksOf', S.chunksOf(3)],
  ['concat', S.concat(S.fromArray([7, 8]))],
]

describe('replay law: iterating twice gives the same elements', () => {
  it('holds for every constructor', () => {
    const sources: ReadonlyArray<Stream<unknown>> = [
      S.unfold(3, (n) => (n > 0 ? O.some([n, n - 1] as const) : O.none)),
      S.iterate(2, (x) => x * 3),
      S.fromArray([1, 2, 3]),
      S.fromIterable(new Set(['a', 'b'])),
      S.fromGenerator(function* () {
        yield* [4, 5]
      }),
      S.range(-2, 3),
      S.range(5),
      S.repeat('r'),
      S.empty,
      S.of(1),
    ]
    for (const s of sources) {
      expect(replays(s)).toBe(true)
      expect(prefix(s)).toEqual([...S.take(K)(s)])
    }
  })

  for (const [name, f, finiteOnly] of pipelines) {
    it(`holds after ${name}`, () => {
      fc.assert(fc.property(finiteOnly === undefined ? arbSpec : arbFinite, (spec) => replays(f(build(spec)))))
    })
  }

  it('two iterators over one stream, advanced alternately, do not interfere', () => {
    for (const [name, f] of pipelines) {
      const s = f(S.iterate(0, (x) => x + 1))
      const i1 = s[Symbol.iterator]()
      const i2 = s[Symbol.iterator]()
      const a: unknown[] = []
      const b: unknown[] = []
      for (let j = 0; j < 10; j++) {
        a.push(i1.next().value)
        b.push(i2.next().value)
        b.push(i2.next().value)
        a.push(i1.next().value)
      }
      expect(a, name).toEqual(b)
      // past the end of a finite stream both iterators report done (value undefined)
      const expected = S.toArray(S.take(20)(s))
      expect(a, name).toEqual(Array.from({ length: 20 }, (_, j) => expected[j]))
    }
  })
})

// -------------------------------------------------------------------------------------
// laziness
// -------------------------------------------------------------------------------------

describe('laziness: nothing runs until pulled, and no element more than needed', () => {
  it('building a pipeline calls no user function', () => {
    let calls = 0
    const count = <A>(a: A): A => (calls++, a)
    const s = pipe(
      S.iterate(0, (x) => count(x + 1)),
      S.concat(S.unfold(0, (n) => count(O.some([n, n + 1] as const)))),
      S.map(count),
      S.filter((x) => count(x) >= 0),
      S.scan(0, (b, a) => count(b + a)),
      S.tap(count),
      S.chain((x) => count(S.of(x))),
      S.takeUntil((x) => count(x) > 1e9),
      S.every(2),
      S.take(5),
    )
    expect(calls).toBe(0)
    expect(S.isStream(s)).toBe(true)
  })

  it('take(n) of an infinite stream pulls exactly n elements, again on each replay', () => {
    let mapped = 0
    let stepped = 0
    const s = pipe(
      S.iterate(0, (x) => (stepped++, x + 1)),
      S.map((x) => (mapped++, x)),
      S.take(5),
    )
    expect(S.toArray(s)).toEqual([0, 1, 2, 3, 4])
    // the 5 elements are seed, f(seed), ..., f^4(seed): f runs 4 times, map 5 times
    expect(mapped).toBe(5)
    expect(stepped).toBe(4)
    S.toArray(s)
    expect(mapped).toBe(10)
    expect(stepped).toBe(8)
    let pulled = 0
    expect(
      S.toArray(
        pipe(
          S.range(0),
          S.tap(() => pulled++),
          S.take(0),
        ),
      ),
    ).toEqual([])
    expect(pulled).toBe(0)
  })

  it('take(n) closes its source as soon as it has n elements', () => {
    const { log, stream } = tracked('naturals')
    expect(S.toArray(S.take(3)(stream))).toEqual([0, 1, 2])
    expect(log).toEqual({ started: 1, pulled: 3, finished: 1 })
  })

  it('counts for takeUntil, takeWhile, head, nth, find, drop', () => {
    const counted = () => {
      const c = { n: 0 }
      return {
        c,
        s: pipe(
          S.range(0),
          S.tap(() => c.n++),
        ),
      }
    }
    let t = counted()
    // first x with x*x > 10 is 4, at index 4: five pulls
    expect(S.toArray(S.takeUntil((x: number) => x * x > 10)(t.s))).toEqual([0, 1, 2, 3, 4])
    expect(t.c.n).toBe(5)
    t = counted()
    // prefix 0..3 plus the failing 4 must be seen
    expect(S.toArray(S.takeWhile((x: number) => x < 4)(t.s))).toEqual([0, 1, 2, 3])
    expect(t.c.n).toBe(5)
    t = counted()
    expect(S.head(t.s)).toEqual(O.some(0))
    expect(t.c.n).toBe(1)
    t = counted()
    expect(S.nth(6)(t.s)).toEqual(O.some(6))
    expect(t.c.n).toBe(7)
    t = counted()
    expect(S.find((x: number) => x > 2)(t.s)).toEqual(O.some(3))
    expect(t.c.n).toBe(4)
    t = counted()
    expect(S.head(S.drop(3)(t.s))).toEqual(O.some(3))
    expect(t.c.n).toBe(4)
  })

  it('counts for scan, unfold, zip, chain, every, chunksOf, concat', () => {
    let f = 0
    expect(
      S.toArray(
        pipe(
          S.range(1),
          S.scan(0, (b, a: number) => (f++, b + a)),
          S.take(4),
        ),
      ),
    ).toEqual([1, 3, 6, 10])
    expect(f).toBe(4)

    // unfold computes the next seed with each element: n elements, n calls of next
    let next = 0
    const nat = S.unfold(0, (k) => (next++, O.some([k, k + 1] as const)))
    expect(S.toArray(S.take(3)(nat))).toEqual([0, 1, 2])
    expect(next).toBe(3)

    const left = tracked('naturals')
    const right = tracked('naturals')
    expect(S.toArray(pipe(left.stream, S.zip(right.stream), S.take(3)))).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ])
    expect([left.log.pulled, right.log.pulled]).toEqual([3, 3])
    // when self ends first, that is not pulled for an element that will never be paired
    const short = tracked([10, 20])
    const long = tracked('naturals')
    expect(S.toArray(pipe(short.stream, S.zip(long.stream)))).toEqual([
      [10, 0],
      [20, 1],
    ])
    expect(long.log).toEqual({ started: 1, pulled: 2, finished: 1 })

    const outer = tracked('naturals')
    expect(
      S.toArray(
        pipe(
          outer.stream,
          S.chain((x: number) => S.fromArray([x, x])),
          S.take(3),
        ),
      ),
    ).toEqual([0, 0, 1])
    expect(outer.log.pulled).toBe(2)

    const ev = tracked('naturals')
    expect(S.toArray(pipe(ev.stream, S.every(5), S.take(3)))).toEqual([4, 9, 14])
    expect(ev.log.pulled).toBe(15)

    const ch = tracked('naturals')
    expect(S.toArray(pipe(ch.stream, S.chunksOf(4), S.take(2)))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ])
    expect(ch.log.pulled).toBe(8)

    const second = tracked([9])
    expect(S.toArray(pipe(S.fromArray([1, 2, 3]), S.concat(second.stream), S.take(3)))).toEqual([1, 2, 3])
    expect(second.log.started).toBe(0)
  })
})

// -------------------------------------------------------------------------------------
// early return
// -------------------------------------------------------------------------------------

describe('breaking out of a for-of', () => {
  it('closes the source and leaves the stream replayable, after every combinator', () => {
    for (const [name, f] of pipelines) {
      const { log, stream } = tracked('naturals')
      const s = f(stream)
      const full = prefix(s)
      const startedBefore = log.started
      let seen = 0
      for (const _ of s) {
        if (++seen === 2) break
      }
      // every iteration started on the source has been finished (run out or closed)
      expect(log.finished, name).toBe(log.started)
      expect(log.started, name).toBe(startedBefore + 1)
      expect(prefix(s), name).toEqual(full)
    }
  })

  it('closes both sides of a zip and every level of a chain', () => {
    const a = tracked('naturals')
    const b = tracked('naturals')
    for (const _ of pipe(a.stream, S.zip(b.stream))) break
    expect([a.log.finished, b.log.finished]).toEqual([1, 1])

    const outer = tracked('naturals')
    const inner = tracked('naturals')
    for (const _ of pipe(
      outer.stream,
      S.chain(() => inner.stream),
    ))
      break
    expect([outer.log.finished, inner.log.finished]).toEqual([1, 1])
  })

  it('head and find close the source they stop early on', () => {
    const h = tracked('naturals')
    expect(S.head(h.stream)).toEqual(O.some(0))
    expect(h.log.finished).toBe(1)
    const f = tracked('naturals')
    expect(S.find((x: number) => x === 3)(f.stream)).toEqual(O.some(3))
    expect(f.log.finished).toBe(1)
  })
})

// -------------------------------------------------------------------------------------
// semantics against independent array references
// -------------------------------------------------------------------------------------

describe('combinators agree with array references on finite streams', () => {
  const arbXs = fc.array(small, { maxLength: 25 })
  const arbN = fc.integer({ min: 0, max: 30 })
  const arbPos = fc.integer({ min: 1, max: 8 })
  const same = <A>(s: Stream<A>, xs: ReadonlyArray<A>): boolean => isDeepStrictEqual(S.toArray(s), xs)
  const isEven = (x: number) => x % 2 === 0

  it('map, mapWithIndex, filter, filterMap, concat, chain', () => {
    fc.assert(
      fc.property(arbXs, arbXs, arbFn, (xs, ys, f) => {
        const s = S.fromArray(xs)
        return (
          same(
            S.map(f)(s),
            xs.map((x) => f(x)),
          ) &&
          same(
            S.mapWithIndex((i, x: number) => i * 100 + x)(s),
            xs.map((x, i) => i * 100 + x),
          ) &&
          same(S.filter(isEven)(s), xs.filter(isEven)) &&
          same(
            S.filterMap((x: number) => (isEven(x) ? O.some(f(x)) : O.none))(s),
            xs.filter(isEven).map((x) => f(x)),
          ) &&
          same(S.concat(S.fromArray(ys))(s), xs.concat(ys)) &&
          same(
            S.chain((x: number) => S.fromArray(ys.slice(0, Math.abs(x) % 4)))(s),
            xs.flatMap((x) => ys.slice(0, Math.abs(x) % 4)),
          )
        )
      }),
    )
  })

  it('take, drop, takeWhile, takeUntil, dropWhile', () => {
    fc.assert(
      fc.property(arbXs, arbN, (xs, n) => {
        const s = S.fromArray(xs)
        const firstOdd = xs.findIndex((x) => !isEven(x))
        const upTo = firstOdd === -1 ? xs.length : firstOdd
        return (
          same(S.take(n)(s), xs.slice(0, n)) &&
          same(S.drop(n)(s), xs.slice(n)) &&
          same(S.takeWhile(isEven)(s), xs.slice(0, upTo)) &&
          // inclusive: the first odd element is kept
          same(S.takeUntil((x: number) => !isEven(x))(s), xs.slice(0, firstOdd === -1 ? xs.length : firstOdd + 1)) &&
          same(S.dropWhile(isEven)(s), xs.slice(upTo))
        )
      }),
    )
  })

  it('scan (no seed) and scanLeft (seed first) against an explicit loop', () => {
    fc.assert(
      fc.property(arbXs, small, (xs, b0) => {
        const f = (b: number, a: number) => 2 * b - a // not commutative nor associative
        const after: number[] = []
        let b = b0
        for (const x of xs) {
          b = f(b, x)
          after.push(b)
        }
        const s = S.fromArray(xs)
        return (
          same(S.scan(b0, f)(s), after) &&
          same(S.scanLeft(b0, f)(s), [b0, ...after]) &&
          isDeepStrictEqual(S.last(S.scanLeft(b0, f)(s)), O.some(S.reduce(b0, f)(s)))
        )
      }),
    )
  })

  it('every(n): the n-th, 2n-th, ... element and always the last', () => {
    fc.assert(
      fc.property(arbXs, arbPos, (xs, n) =>
        same(
          S.every(n)(S.fromArray(xs)),
          xs.filter((_, i) => (i + 1) % n === 0 || i === xs.length - 1),
        ),
      ),
    )
    fc.assert(fc.property(arbSpec, (spec) => streamEq(S.every(1)(build(spec)), build(spec))))
  })

  it('chunksOf(n): consecutive slices, the last one shorter', () => {
    fc.assert(
      fc.property(arbXs, arbPos, (xs, n) => {
        const expected: number[][] = []
        for (let i = 0; i < xs.length; i += n) expected.push(xs.slice(i, i + n))
        return same(S.chunksOf(n)(S.fromArray(xs)), expected)
      }),
    )
    fc.assert(
      fc.property(arbSpec, arbPos, (spec, n) =>
        streamEq(S.flatten(S.map(S.fromArray)(S.chunksOf(n)(build(spec)))), build(spec)),
      ),
    )
  })

  it('zip and zipWith pair by position up to the shorter length', () => {
    fc.assert(
      fc.property(arbXs, arbXs, (xs, ys) => {
        const pairs: [number, number][] = []
        for (let i = 0; i < Math.min(xs.length, ys.length); i++) pairs.push([xs[i] as number, ys[i] as number])
        return (
          same(S.zip(S.fromArray(ys))(S.fromArray(xs)), pairs) &&
          same(
            S.zipWith(S.fromArray(ys), (a: number, b: number) => a - b)(S.fromArray(xs)),
            pairs.map(([a, b]) => a - b),
          )
        )
      }),
    )
  })

  it('eliminators: head, last, nth, find, reduce, forEach', () => {
    fc.assert(
      fc.property(arbXs, arbN, (xs, n) => {
        const s = S.fromArray(xs)
        const visited: number[] = []
        S.forEach((x: number) => void visited.push(x))(s)
        return (
          isDeepStrictEqual(S.head(s), O.fromNullable(xs[0])) &&
          isDeepStrictEqual(S.last(s), O.fromNullable(xs[xs.length - 1])) &&
          isDeepStrictEqual(S.nth(n)(s), O.fromNullable(xs[n])) &&
          isDeepStrictEqual(S.find((x: number) => x > 10)(s), O.fromNullable(xs.find((x) => x > 10))) &&
          S.reduce(1, (b: number, a: number) => b * 3 + a)(s) === xs.reduce((b, a) => b * 3 + a, 1) &&
          isDeepStrictEqual(visited, xs)
        )
      }),
    )
  })

  it('hand-checked examples of the documented semantics', () => {
    // scan emits the states after each step, not the seed
    expect(
      S.toArray(
        pipe(
          S.fromArray([1, 2, 3]),
          S.scan(0, (b, a: number) => b + a),
        ),
      ),
    ).toEqual([1, 3, 6])
    expect(
      S.toArray(
        pipe(
          S.fromArray([1, 2, 3]),
          S.scanLeft(0, (b, a: number) => b + a),
        ),
      ),
    ).toEqual([0, 1, 3, 6])
    // takeUntil keeps the element that met the condition
    expect(
      S.toArray(
        pipe(
          S.range(1),
          S.takeUntil((x) => x >= 3),
        ),
      ),
    ).toEqual([1, 2, 3])
    expect(
      S.toArray(
        pipe(
          S.range(1, 3),
          S.takeUntil((x) => x >= 9),
        ),
      ),
    ).toEqual([1, 2])
    // every: 1-based multiples, plus the last
    expect(S.toArray(pipe(S.range(1, 11), S.every(3)))).toEqual([3, 6, 9, 10])
    expect(S.toArray(pipe(S.range(1, 11), S.every(5)))).toEqual([5, 10])
    expect(S.toArray(pipe(S.empty, S.every(5)))).toEqual([])
    // range is half-open
    expect(S.toArray(S.range(-1, 2))).toEqual([-1, 0, 1])
    expect(S.toArray(S.range(3, 3))).toEqual([])
    // cartesian ap, functions outermost
    const fs = S.fromArray([(x: number) => x + 1, (x: number) => x * 10])
    expect(S.toArray(pipe(fs, S.ap(S.fromArray([1, 2]))))).toEqual([2, 3, 10, 20])
    expect(
      S.toArray(
        pipe(
          S.range(1, 4),
          S.chain((n) => pipe(S.repeat(n), S.take(n))),
        ),
      ),
    ).toEqual([1, 2, 2, 3, 3, 3])
    expect(S.toArray(pipe(S.range(0, 6), S.take(Infinity)))).toEqual([0, 1, 2, 3, 4, 5])
  })
})

// -------------------------------------------------------------------------------------
// take / drop identities
// -------------------------------------------------------------------------------------

describe('take/drop identities', () => {
  it('concat(take(n)(s), drop(n)(s)) = s', () => {
    fc.assert(takeDropLaw(S.take))
  })

  it('take(m) . take(n) = take(min(m, n)) and drop(m) . drop(n) = drop(m + n)', () => {
    const arbN = fc.integer({ min: 0, max: 30 })
    fc.assert(
      fc.property(
        arbSpec,
        arbN,
        arbN,
        (spec, m, n) =>
          streamEq(pipe(build(spec), S.take(n), S.take(m)), pipe(build(spec), S.take(Math.min(m, n)))) &&
          streamEq(pipe(build(spec), S.drop(n), S.drop(m)), pipe(build(spec), S.drop(m + n))),
      ),
    )
  })
})

// -------------------------------------------------------------------------------------
// stop conditions from scan + takeUntil
// -------------------------------------------------------------------------------------

describe('scan + takeUntil express "stop when no improvement for k steps"', () => {
  interface Patience {
    readonly step: number
    readonly loss: number
    readonly best: number
    readonly bestStep: number
  }
  const patience = (k: number) => (losses: Stream<number>) =>
    pipe(
      losses,
      S.scan<number, Patience>({ step: 0, loss: Infinity, best: Infinity, bestStep: 0 }, (s, loss) => {
        const step = s.step + 1
        return loss < s.best
          ? { step, loss, best: loss, bestStep: step }
          : { step, loss, best: s.best, bestStep: s.bestStep }
      }),
      S.takeUntil((s) => s.step - s.bestStep >= k),
    )

  it('stops at the k-th step without improvement, keeping that state, pulling nothing after it', () => {
    let pulled = 0
    const losses = pipe(
      S.fromArray([5, 4, 4.5, 3, 3.2, 3.1, 3.05]),
      S.concat(S.repeat(2.9)),
      S.tap(() => pulled++),
    )
    const run = S.toArray(patience(3)(losses))
    // by hand: best improves at steps 1 (5), 2 (4), 4 (3); steps 5, 6, 7 do not beat 3, so
    // the third step without improvement is 7, and the 2.9 at step 8 is never computed.
    expect(run.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(run.at(-1)).toEqual({ step: 7, loss: 3.05, best: 3, bestStep: 4 })
    expect(pulled).toBe(7)
    // and it is a value: replaying gives the same run
    expect(S.toArray(patience(3)(losses))).toEqual(run)
  })

  it('runs to the end of a stream that keeps improving', () => {
    const run = S.toArray(patience(2)(S.fromArray([5, 4, 3, 2])))
    expect(run.map((s) => s.best)).toEqual([5, 4, 3, 2])
  })
})

// -------------------------------------------------------------------------------------
// immutability, guards and validation
// -------------------------------------------------------------------------------------

describe('immutability', () => {
  it('streams, arrays, chunks and pairs are frozen', () => {
    expect(Object.isFrozen(S.range(0, 2))).toBe(true)
    expect(Object.isFrozen(S.map((x: number) => x)(S.empty))).toBe(true)
    expect(Object.isFrozen(S.toArray(S.range(0, 3)))).toBe(true)
    for (const chunk of S.chunksOf(2)(S.range(0, 5))) expect(Object.isFrozen(chunk)).toBe(true)
    for (const pair of S.zip(S.range(0))(S.range(0, 3))) expect(Object.isFrozen(pair)).toBe(true)
  })

  it('fromArray snapshots its input; elements pass through untouched', () => {
    const xs = [{ v: 1 }, { v: 2 }]
    const s = S.fromArray(xs)
    xs.push({ v: 3 })
    expect(S.toArray(s)).toEqual([{ v: 1 }, { v: 2 }])
    expect(S.toArray(s)[0]).toBe(xs[0])
    const scanned = S.toArray(S.scan(0, (b, a: { v: number }) => b + a.v)(s))
    expect(scanned).toEqual([1, 3])
    expect(xs).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }])
  })
})

describe('one-shot guards', () => {
  it('fromGenerator refuses a thunk that hands out the same iterator twice', () => {
    const gen = (function* () {
      yield 1
    })()
    const s = S.fromGenerator(() => gen)
    expect(S.toArray(s)).toEqual([1])
    expect(() => S.toArray(s)).toThrow(PurediffError)
    expect(() => S.toArray(s)).toThrow(/generator function/)
  })

  it('fromIterable refuses iterators and accepts re-iterable collections', () => {
    const gen = (function* () {
      yield 1
    })()
    expect(() => S.fromIterable(gen)).toThrow(PurediffError)
    expect(() => S.fromIterable([1, 2][Symbol.iterator]())).toThrow(/only once/)
    const set = S.fromIterable(new Set([1, 2]))
    expect([S.toArray(set), S.toArray(set)]).toEqual([
      [1, 2],
      [1, 2],
    ])
    const s = S.range(0, 2)
    expect(S.fromIterable(s)).toBe(s)
    expect(S.isStream([1])).toBe(false)
  })
})

describe('argument validation', () => {
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ['take', () => S.take(-1)],
    ['take', () => S.take(1.5)],
    ['drop', () => S.drop(Number.NaN)],
    ['every', () => S.every(0)],
    ['every', () => S.every(Infinity)],
    ['chunksOf', () => S.chunksOf(2.5)],
    ['nth', () => S.nth(-1)],
    ['range', () => S.range(Infinity)],
    ['range', () => S.range(0, Number.NaN)],
  ]
  for (const [op, thunk] of cases) {
    it(`${op} rejects a bad count eagerly with a ValueError naming ${op}`, () => {
      let caught: unknown
      try {
        thunk()
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(PurediffError)
      expect((caught as PurediffError).tag).toBe('ValueError')
      expect((caught as PurediffError).op).toBe(op)
    })
  }
})
