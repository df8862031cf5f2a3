/**
 * Re-iterable, lazy, pure streams: the backbone of "training is an unfolded pure stream of
 * immutable states". A `Stream<A>` is a frozen description of a sequence, a thunk that
 * starts a fresh iterator each time it is iterated, so the sequence is a value: iterating
 * twice yields the same elements (the replay law), two iterators over one stream never
 * interfere, and breaking out of a `for-of` leaves the stream as it was. Mathematically a
 * stream is the anamorphism `unfold(s, next)` of a coalgebra `next: S -> Option<[A, S]>`,
 * i.e. a possibly infinite list; combinators are list functions applied element by element
 * as the consumer pulls.
 *
 * Laziness: building a pipeline calls no user function. Each combinator pulls from its
 * source only when its consumer asks for an element, and never one more than it needs:
 * `take(n)` pulls exactly n elements, `takeUntil(p)` stops right after the first element
 * satisfying `p`, `head` pulls one. Exceptions: `takeWhile` must see the first failing
 * element (n + 1 pulls), `drop(n)` pulls the n elements it drops, and `unfold` computes the
 * next seed together with each element (prefer `iterate` when that step is costly).
 *
 * Purity contract: no combinator mutates an element, and every array this module creates
 * (`toArray`, `chunksOf` chunks, `zip` pairs) is frozen. Per-iteration state (counters,
 * accumulators) lives inside the iterator a stream starts, never in the stream. `tap` and
 * `forEach` are the two documented impure escape hatches (progress display, logging); the
 * functions given to other combinators are expected to be pure. `cache` is the one stream
 * that keeps memory between iterations (memoization: it yields the same elements, computing
 * each once).
 */
import type { Applicative1 } from 'fp-ts/lib/Applicative.js'
import type { Apply1 } from 'fp-ts/lib/Apply.js'
import type { Chain1 } from 'fp-ts/lib/Chain.js'
import type { Foldable1 } from 'fp-ts/lib/Foldable.js'
import type { Functor1 } from 'fp-ts/lib/Functor.js'
import type { FunctorWithIndex1 } from 'fp-ts/lib/FunctorWithIndex.js'
import type { Monad1 } from 'fp-ts/lib/Monad.js'
import type { Monoid } from 'fp-ts/lib/Monoid.js'
import type { Pointed1 } from 'fp-ts/lib/Pointed.js'
import type { Predicate } from 'fp-ts/lib/Predicate.js'
import type { Refinement } from 'fp-ts/lib/Refinement.js'
import type { Unfoldable1 } from 'fp-ts/lib/Unfoldable.js'
import * as O from 'fp-ts/lib/Option.js'
import { PurediffError } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A re-iterable lazy sequence. `[Symbol.iterator]()` starts afresh on every call.
 * @example
 * const s = range(0, 3)
 * [...s] // [0, 1, 2]
 * [...s] // [0, 1, 2] again: a stream is a value, not a cursor
 * @category model
 * @since 0.1.0
 */
export interface Stream<A> extends Iterable<A> {
  readonly _tag: 'Stream'
  readonly [Symbol.iterator]: () => Iterator<A>
}

// Every stream is made here: the thunk is the whole description, and the object is frozen.
const make = <A>(start: () => Iterator<A>): Stream<A> =>
  Object.freeze({ _tag: 'Stream' as const, [Symbol.iterator]: () => start() })

const valueError = (op: string, message: string): PurediffError => new PurediffError('ValueError', message, { op })

const checkCount = (op: string, n: number): void => {
  if (!(n >= 0 && (Number.isInteger(n) || n === Infinity))) {
    throw valueError(op, `expected a non-negative integer (or Infinity), got ${n}`)
  }
}

const checkPositive = (op: string, n: number): void => {
  if (!(n >= 1 && Number.isInteger(n))) throw valueError(op, `expected a positive integer, got ${n}`)
}

/**
 * Whether a value is a `Stream`.
 * @example
 * isStream(range(0, 2)) // true
 * isStream([0, 1]) // false
 * @category model
 * @since 0.1.0
 */
export const isStream = (u: unknown): u is Stream<unknown> =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'Stream' && Symbol.iterator in u

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A stream from a thunk that returns a fresh iterator on every call (a generator function).
 * Passing a thunk that hands out the same iterator twice (a generator object made once) is
 * the classic one-shot bug; it is reported as a `ValueError` on the second iteration rather
 * than replaying as an empty stream.
 * @example
 * const s = fromGenerator(function* () { yield 1; yield 2 })
 * toArray(s) // [1, 2]
 * @category constructors
 * @since 0.1.0
 */
export const fromGenerator = <A>(start: () => Iterator<A>): Stream<A> => {
  // Identity-only memo of iterators handed out, to detect a thunk that is not fresh.
  const seen = new WeakSet<object>()
  return make(() => {
    const it = start()
    if (seen.has(it)) {
      throw valueError(
        'fromGenerator',
        'the thunk returned an iterator it had returned before; pass a generator function, not a generator object, so each iteration starts afresh',
      )
    }
    seen.add(it)
    return it
  })
}

/**
 * The stream `seed -> next`: each call `next(s)` gives `some([a, s'])` (emit `a`, continue
 * from `s'`) or `none` (stop). `next` is called once per emitted element, plus once for the
 * `none` that ends a finite stream; the seed after element k is computed with element k.
 * @example
 * unfold(1, (n) => (n > 100 ? none : some([n, n * 2] as const))) // 1, 2, 4, ..., 64
 * pipe(unfold(1, (n) => (n > 100 ? none : some([n, n * 2] as const))), toArray) // [1, 2, 4, 8, 16, 32, 64]
 * @category constructors
 * @since 0.1.0
 */
export const unfold = <S, A>(seed: S, next: (s: S) => O.Option<readonly [A, S]>): Stream<A> =>
  make(function* () {
    let s = seed
    while (true) {
      const o = next(s)
      if (O.isNone(o)) return
      yield o.value[0]
      s = o.value[1]
    }
  })

/**
 * The infinite stream `seed, f(seed), f(f(seed)), ...` (the seed is the first element).
 * `f` is applied only when the next element is demanded: taking n elements calls it n - 1
 * times, which makes `iterate` the natural shape of a training loop.
 * @example
 * pipe(iterate(1, (x) => x * 2), take(4), toArray) // [1, 2, 4, 8]
 * @category constructors
 * @since 0.1.0
 */
export const iterate = <A>(seed: A, f: (a: A) => A): Stream<A> =>
  make(function* () {
    let a = seed
    while (true) {
      yield a
      a = f(a)
    }
  })

/**
 * The elements of an array. The array is copied once (unless already frozen), so later
 * writes to the caller's array do not change the stream.
 * @example
 * toArray(fromArray([1, 2, 3])) // [1, 2, 3]
 * @category constructors
 * @since 0.1.0
 */
export const fromArray = <A>(as: ReadonlyArray<A>): Stream<A> => {
  const snapshot = Object.isFrozen(as) ? as : Object.freeze(as.slice())
  return make(() => snapshot[Symbol.iterator]())
}

/**
 * A stream over any re-iterable collection (array, string, Set, Map, another Stream). An
 * iterator (an object with `next`, such as a generator object) is one-shot and is refused:
 * wrap its generator function with `fromGenerator` instead. Arrays are snapshotted as in
 * `fromArray`; other collections are re-iterated on every iteration, so they must not change.
 * @example
 * toArray(fromIterable(new Set([1, 2]))) // [1, 2]
 * @category constructors
 * @since 0.1.0
 */
export const fromIterable = <A>(it: Iterable<A>): Stream<A> => {
  if (isStream(it)) return it as Stream<A>
  if (Array.isArray(it)) return fromArray(it as ReadonlyArray<A>)
  if (typeof (it as { next?: unknown }).next === 'function') {
    throw valueError(
      'fromIterable',
      'an iterator can be iterated only once; build the stream with fromGenerator(function* () { ... }) so it replays',
    )
  }
  return make(() => it[Symbol.iterator]())
}

/**
 * The integers `start, start + 1, ...` below `end` (half-open `[start, end)`, like Python's
 * `range` and NumPy's `arange`, and unlike fp-ts `ReadonlyArray.range`, which includes
 * `end`). Without `end` the stream is infinite.
 * @example
 * toArray(range(2, 5)) // [2, 3, 4]
 * pipe(range(0), take(2), toArray) // [0, 1]
 * @category constructors
 * @since 0.1.0
 */
export const range = (start: number, end: number = Infinity): Stream<number> => {
  if (!Number.isFinite(start)) throw valueError('range', `start must be a finite number, got ${start}`)
  if (Number.isNaN(end)) throw valueError('range', 'end must be a number, got NaN')
  return make(function* () {
    for (let i = start; i < end; i++) yield i
  })
}

/**
 * The infinite stream `a, a, a, ...`.
 * @example
 * pipe(repeat('x'), take(3), toArray) // ['x', 'x', 'x']
 * pipe(repeat('x'), take(3), toArray).join(' ') // 'x x x'
 * @category constructors
 * @since 0.1.0
 */
export const repeat = <A>(a: A): Stream<A> =>
  make(function* () {
    while (true) yield a
  })

/**
 * The stream with no elements.
 * @example
 * toArray(empty) // []
 * @category constructors
 * @since 0.1.0
 */
export const empty: Stream<never> = make(function* () {})

/**
 * The stream with one element.
 * @example
 * toArray(of(7)) // [7]
 * @category constructors
 * @since 0.1.0
 */
export const of = <A>(a: A): Stream<A> =>
  make(function* () {
    yield a
  })

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Apply `f` to every element, as it is pulled.
 * @example
 * pipe(range(0, 3), map((x) => x * 10), toArray) // [0, 10, 20]
 * @category combinators
 * @since 0.1.0
 */
export const map =
  <A, B>(f: (a: A) => B) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      for (const a of self) yield f(a)
    })

/**
 * Apply `f` to every element and its 0-based index.
 * @example
 * pipe(fromArray(['a', 'b']), mapWithIndex((i, s) => `${i}${s}`), toArray).join(' ') // '0a 1b'
 * @category combinators
 * @since 0.1.0
 */
export const mapWithIndex =
  <A, B>(f: (i: number, a: A) => B) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      let i = 0
      for (const a of self) yield f(i++, a)
    })

/**
 * Keep the elements satisfying a predicate. On an infinite stream where no further element
 * satisfies it, pulling the next element never returns.
 * @example
 * pipe(range(0, 6), filter((x) => x % 2 === 0), toArray) // [0, 2, 4]
 * @category combinators
 * @since 0.1.0
 */
export function filter<A, B extends A>(refinement: Refinement<A, B>): (self: Stream<A>) => Stream<B>
export function filter<A>(predicate: Predicate<A>): <B extends A>(self: Stream<B>) => Stream<B>
export function filter<A>(predicate: Predicate<A>): (self: Stream<A>) => Stream<A>
export function filter<A>(predicate: Predicate<A>): (self: Stream<A>) => Stream<A> {
  return (self) =>
    make(function* () {
      for (const a of self) if (predicate(a)) yield a
    })
}

/**
 * Map and keep the `some` results.
 * @example
 * pipe(range(0, 5), filterMap((x) => (x % 2 ? some(x * 10) : none)), toArray) // [10, 30]
 * @category combinators
 * @since 0.1.0
 */
export const filterMap =
  <A, B>(f: (a: A) => O.Option<B>) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      for (const a of self) {
        const o = f(a)
        if (O.isSome(o)) yield o.value
      }
    })

/**
 * Running fold that emits the accumulator AFTER each element, without the seed (RxJS
 * `scan`; the optax view of training: the states after step 1, 2, ...). The output has the
 * input's length and `f` is called once per pulled element.
 * @example
 * pipe(fromArray([1, 2, 3]), scan(0, (b, a) => b + a), toArray) // [1, 3, 6]
 * @category combinators
 * @since 0.1.0
 */
export const scan =
  <A, B>(b: B, f: (b: B, a: A) => B) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      let acc = b
      for (const a of self) {
        acc = f(acc, a)
        yield acc
      }
    })

/**
 * Running fold that emits the seed first, then the accumulator after each element (fp-ts
 * `ReadonlyArray.scanLeft`, Haskell `scanl`): one more element than the input.
 * @example
 * pipe(fromArray([1, 2, 3]), scanLeft(0, (b, a) => b + a), toArray) // [0, 1, 3, 6]
 * @category combinators
 * @since 0.1.0
 */
export const scanLeft =
  <A, B>(b: B, f: (b: B, a: A) => B) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      let acc = b
      yield acc
      for (const a of self) {
        acc = f(acc, a)
        yield acc
      }
    })

/**
 * The first `n` elements (all of them if there are fewer). Pulls exactly `min(n, length)`
 * elements from its source, never the one after, and closes the source when done, so
 * `take(n)` of an infinite stream terminates. `n` is a non-negative integer or `Infinity`.
 * @example
 * pipe(range(0), take(3), toArray) // [0, 1, 2]
 * @category combinators
 * @since 0.1.0
 */
export const take = (n: number): (<A>(self: Stream<A>) => Stream<A>) => {
  checkCount('take', n)
  return (self) =>
    make(function* () {
      if (n === 0) return
      let i = 0
      for (const a of self) {
        yield a
        if (++i >= n) return
      }
    })
}

/**
 * The longest prefix whose elements satisfy `p`. It has to pull the first failing element
 * to know the prefix has ended (k + 1 pulls for a prefix of k); that element is not emitted.
 * @example
 * pipe(range(0), takeWhile((x) => x < 3), toArray) // [0, 1, 2]
 * @category combinators
 * @since 0.1.0
 */
export function takeWhile<A, B extends A>(refinement: Refinement<A, B>): (self: Stream<A>) => Stream<B>
export function takeWhile<A>(predicate: Predicate<A>): <B extends A>(self: Stream<B>) => Stream<B>
export function takeWhile<A>(predicate: Predicate<A>): (self: Stream<A>) => Stream<A>
export function takeWhile<A>(predicate: Predicate<A>): (self: Stream<A>) => Stream<A> {
  return (self) =>
    make(function* () {
      for (const a of self) {
        if (!predicate(a)) return
        yield a
      }
    })
}

/**
 * Elements up to AND INCLUDING the first one satisfying `p`, then stop: the shape of a stop
 * condition, which keeps the state that reached the target. Pulls exactly `k + 1` elements
 * when element k (0-based) is the first to satisfy `p`; a stream in which none does is
 * passed through whole.
 * @example
 * pipe(range(0), takeUntil((x) => x * x > 10), toArray) // [0, 1, 2, 3, 4]
 * @category combinators
 * @since 0.1.0
 */
export const takeUntil =
  <A>(p: Predicate<A>) =>
  (self: Stream<A>): Stream<A> =>
    make(function* () {
      for (const a of self) {
        yield a
        if (p(a)) return
      }
    })

/**
 * Skip the first `n` elements (pulling them). `n` is a non-negative integer or `Infinity`.
 * @example
 * pipe(range(0, 5), drop(2), toArray) // [2, 3, 4]
 * @category combinators
 * @since 0.1.0
 */
export const drop = (n: number): (<A>(self: Stream<A>) => Stream<A>) => {
  checkCount('drop', n)
  return (self) =>
    make(function* () {
      let i = 0
      for (const a of self) {
        if (i < n) i++
        else yield a
      }
    })
}

/**
 * Skip the longest prefix whose elements satisfy `p`.
 * @example
 * pipe(fromArray([1, 2, 5, 1]), dropWhile((x) => x < 3), toArray) // [5, 1]
 * @category combinators
 * @since 0.1.0
 */
export const dropWhile =
  <A>(p: Predicate<A>) =>
  (self: Stream<A>): Stream<A> =>
    make(function* () {
      let dropping = true
      for (const a of self) {
        if (dropping && p(a)) continue
        dropping = false
        yield a
      }
    })

/**
 * Pair elements by position with `f`, stopping at the end of the shorter stream. Each step
 * pulls one element from `self`, then one from `that` (not pulled if `self` has ended);
 * both sources are closed when the zipped iteration stops early.
 * @example
 * pipe(range(0), zipWith(fromArray(['a', 'b']), (i, s) => `${s}${i}`), toArray).join(' ') // 'a0 b1'
 * @category combinators
 * @since 0.1.0
 */
export const zipWith =
  <A, B, C>(that: Stream<B>, f: (a: A, b: B) => C) =>
  (self: Stream<A>): Stream<C> =>
    make(function* () {
      const ia = self[Symbol.iterator]()
      let aOpen = true
      let bOpen = false
      try {
        const ib = that[Symbol.iterator]()
        bOpen = true
        try {
          while (true) {
            const ra = ia.next()
            if (ra.done === true) {
              aOpen = false
              return
            }
            const rb = ib.next()
            if (rb.done === true) {
              bOpen = false
              return
            }
            yield f(ra.value, rb.value)
          }
        } finally {
          // An exhausted iterator needs no return(); one left mid-way must be closed (for-of semantics).
          if (bOpen) ib.return?.()
        }
      } finally {
        if (aOpen) ia.return?.()
      }
    })

/**
 * Pair elements by position into frozen tuples `[a, b]`; see `zipWith`.
 * @example
 * pipe(range(0), zip(fromArray(['a', 'b'])), toArray) // [[0, 'a'], [1, 'b']]
 * pipe(range(0), zip(fromArray(['a', 'b'])), toArray).map(([i, s]) => `${i}${s}`).join(' ') // '0a 1b'
 * @category combinators
 * @since 0.1.0
 */
export const zip = <B>(that: Stream<B>): (<A>(self: Stream<A>) => Stream<readonly [A, B]>) =>
  zipWith(that, (a, b) => Object.freeze([a, b] as const))

/**
 * Replace every element by a stream and concatenate them in order (the list monad's bind).
 * An infinite inner stream is never left, so later outer elements are never reached.
 * @example
 * pipe(range(1, 4), chain((n) => pipe(repeat(n), take(n))), toArray) // [1, 2, 2, 3, 3, 3]
 * @category combinators
 * @since 0.1.0
 */
export const chain =
  <A, B>(f: (a: A) => Stream<B>) =>
  (self: Stream<A>): Stream<B> =>
    make(function* () {
      for (const a of self) yield* f(a)
    })

/**
 * Alias of `chain` (data-last).
 * @example
 * pipe(fromArray([1, 2]), flatMap((x) => fromArray([x, -x])), toArray) // [1, -1, 2, -2]
 * @category combinators
 * @since 0.1.0
 */
export const flatMap: <A, B>(f: (a: A) => Stream<B>) => (self: Stream<A>) => Stream<B> = chain

/**
 * Concatenate a stream of streams.
 * @example
 * toArray(flatten(fromArray([of(1), empty, fromArray([2, 3])]))) // [1, 2, 3]
 * @category combinators
 * @since 0.1.0
 */
export const flatten = <A>(self: Stream<Stream<A>>): Stream<A> => chain((s: Stream<A>) => s)(self)

/**
 * Cartesian application: every function applied to every value, functions outermost (as
 * fp-ts `ReadonlyArray.ap`, and consistent with `chain`). For position-wise pairing use
 * `zipWith`.
 * @example
 * pipe(fromArray([(x: number) => x + 1, (x: number) => x * 10]), ap(fromArray([1, 2])), toArray) // [2, 3, 10, 20]
 * @category combinators
 * @since 0.1.0
 */
export const ap =
  <A>(fa: Stream<A>) =>
  <B>(fab: Stream<(a: A) => B>): Stream<B> =>
    chain((f: (a: A) => B) => map(f)(fa))(fab)

/**
 * Run a side effect on every element as it is pulled, passing the element through. This is
 * the one impure escape hatch inside a pipeline (progress bars, logging); the effect runs
 * once per pull, so again on every replay, and never for elements nobody pulls.
 * @example
 * pipe(range(0), tap((x) => console.log('step', x)), take(2), toArray) // [0, 1] (and logs step 0, step 1)
 * @category combinators
 * @since 0.1.0
 */
export const tap =
  <A>(f: (a: A) => void) =>
  (self: Stream<A>): Stream<A> =>
    make(function* () {
      for (const a of self) {
        f(a)
        yield a
      }
    })

/**
 * Every n-th element (1-based: the n-th, 2n-th, ...), and ALWAYS the last element of a
 * finite stream, so a progress log sampled with `every(100)` still shows the final state.
 * Emitting the n-th element pulls no element beyond it; an element that is not a multiple
 * of n is held until the next pull reveals whether it was the last. `every(1)` is the
 * identity.
 * @example
 * pipe(range(1, 11), every(3), toArray) // [3, 6, 9, 10]
 * @category combinators
 * @since 0.1.0
 */
export const every = (n: number): (<A>(self: Stream<A>) => Stream<A>) => {
  checkPositive('every', n)
  return <A>(self: Stream<A>) =>
    make(function* () {
      let i = 0
      let held: O.Option<A> = O.none
      for (const a of self) {
        if (++i % n === 0) {
          held = O.none
          yield a
        } else {
          held = O.some(a)
        }
      }
      if (O.isSome(held)) yield held.value
    })
}

/**
 * Consecutive frozen chunks of `n` elements; the last chunk holds the remainder (never
 * empty). Emitting a chunk pulls exactly its elements.
 * @example
 * pipe(range(0, 5), chunksOf(2), toArray) // [[0, 1], [2, 3], [4]]
 * @category combinators
 * @since 0.1.0
 */
export const chunksOf = (n: number): (<A>(self: Stream<A>) => Stream<ReadonlyArray<A>>) => {
  checkPositive('chunksOf', n)
  return <A>(self: Stream<A>) =>
    make(function* () {
      let chunk: A[] = []
      for (const a of self) {
        chunk.push(a)
        if (chunk.length === n) {
          // The chunk leaves this iterator frozen; a fresh buffer is started for the next one.
          yield Object.freeze(chunk)
          chunk = []
        }
      }
      if (chunk.length > 0) yield Object.freeze(chunk)
    })
}

/**
 * `self` followed by `that` (data-last, as fp-ts `concat(second)(first)`).
 * @example
 * pipe(range(0, 2), concat(of(9)), toArray) // [0, 1, 9]
 * @category combinators
 * @since 0.1.0
 */
export const concat =
  <B>(that: Stream<B>) =>
  <A>(self: Stream<A>): Stream<A | B> =>
    make(function* (): Generator<A | B> {
      yield* self
      yield* that
    })

/**
 * The same stream, computed at most once: the first iteration pulls from `self` and keeps
 * every element it pulled; later (or concurrent) iterations replay the kept elements and pull
 * further only past them. Use it to keep the states of a training run instead of recomputing
 * them on every iteration (`toArray` keeps a finite prefix as an array instead).
 *
 * Laws (tested): `toArray(cache(s)) = toArray(s)`; each element of `s` is computed at most once
 * however many times and however interleaved `cache(s)` is iterated; `cache` pulls no element
 * before a consumer asks for it; `cache(cache(s))` behaves as `cache(s)`.
 *
 * NOTE: this is the one combinator whose stream holds memory (the kept elements, shared by
 * every iteration): it grows with the longest prefix pulled so far, so bound an infinite
 * stream first (`pipe(train(config), untilStep(1000), cache)`). If `self` throws, nothing
 * is kept for that element and the next pull restarts `self`, skipping what is kept.
 * @example
 * const run = pipe(train(config), untilStep(100), cache)
 * last(run) // computes the 100 steps
 * toArray(run) // the same 100 states, not recomputed
 * @category combinators
 * @since 0.2.0
 */
export const cache = <A>(self: Stream<A>): Stream<A> => {
  const kept: A[] = []
  let source: Iterator<A> | undefined
  let done = false
  const pull = (i: number): IteratorResult<A, undefined> => {
    while (kept.length <= i && !done) {
      if (source === undefined) {
        // (Re)start the source, skipping what is already kept (after a throw, or the first time).
        source = self[Symbol.iterator]()
        for (let k = 0; k < kept.length; k++) if (source.next().done === true) done = true
        if (done) break
      }
      let r: IteratorResult<A>
      try {
        r = source.next()
      } catch (e) {
        source = undefined
        throw e
      }
      if (r.done === true) done = true
      else kept.push(r.value)
    }
    return i < kept.length ? { done: false, value: kept[i] as A } : { done: true, value: undefined }
  }
  return make(() => {
    let i = 0
    return { next: () => pull(i++) }
  })
}

// -------------------------------------------------------------------------------------
// eliminators
// -------------------------------------------------------------------------------------

/**
 * All elements, in a frozen array. Does not return on an infinite stream: bound it first.
 * @example
 * pipe(range(0), take(3), toArray) // [0, 1, 2]
 * @category eliminators
 * @since 0.1.0
 */
export const toArray = <A>(self: Stream<A>): ReadonlyArray<A> => Object.freeze(Array.from(self))

/**
 * The first element, pulling only it.
 * @example
 * head(range(5)) // some(5)
 * O.toUndefined(head(range(5))) // 5
 * @category eliminators
 * @since 0.1.0
 */
export const head = <A>(self: Stream<A>): O.Option<A> => {
  for (const a of self) return O.some(a)
  return O.none
}

/**
 * The last element of a finite stream (the final training state).
 * @example
 * last(range(0, 4)) // some(3)
 * O.toUndefined(last(range(0, 4))) // 3
 * @category eliminators
 * @since 0.1.0
 */
export const last = <A>(self: Stream<A>): O.Option<A> => {
  let out: O.Option<A> = O.none
  for (const a of self) out = O.some(a)
  return out
}

/**
 * The element at 0-based index `n`, pulling `n + 1` elements.
 * @example
 * pipe(range(10), nth(2)) // some(12)
 * pipe(range(10), nth(2), O.toUndefined) // 12
 * @category eliminators
 * @since 0.1.0
 */
export const nth = (n: number): (<A>(self: Stream<A>) => O.Option<A>) => {
  if (!(n >= 0 && Number.isInteger(n))) throw valueError('nth', `expected a non-negative integer index, got ${n}`)
  return (self) => head(drop(n)(self))
}

/**
 * Left fold of a finite stream.
 * @example
 * pipe(range(1, 5), reduce(0, (b, a) => b + a)) // 10
 * @category eliminators
 * @since 0.1.0
 */
export const reduce =
  <A, B>(b: B, f: (b: B, a: A) => B) =>
  (self: Stream<A>): B => {
    let acc = b
    for (const a of self) acc = f(acc, a)
    return acc
  }

/**
 * Map every element of a finite stream into a monoid and combine.
 * @example
 * const Sum = { concat: (x: number, y: number) => x + y, empty: 0 }
 * pipe(fromArray([1, 2, 3]), foldMap(Sum)((x) => x * x)) // 14
 * @category eliminators
 * @since 0.1.0
 */
export const foldMap =
  <M>(M: Monoid<M>) =>
  <A>(f: (a: A) => M) =>
  (self: Stream<A>): M =>
    reduce(M.empty, (m: M, a: A) => M.concat(m, f(a)))(self)

/**
 * Right fold of a finite stream.
 * @example
 * pipe(fromArray(['a', 'b', 'c']), reduceRight('', (a, b) => b + a)) // 'cba'
 * @category eliminators
 * @since 0.1.0
 */
export const reduceRight =
  <A, B>(b: B, f: (a: A, b: B) => B) =>
  (self: Stream<A>): B =>
    toArray(self).reduceRight((acc: B, a: A) => f(a, acc), b)

/**
 * The first element satisfying a predicate, pulling up to it.
 * @example
 * pipe(range(0), find((x) => x * x > 50)) // some(8)
 * pipe(range(0), find((x) => x * x > 50), O.toUndefined) // 8
 * @category eliminators
 * @since 0.1.0
 */
export function find<A, B extends A>(refinement: Refinement<A, B>): (self: Stream<A>) => O.Option<B>
export function find<A>(predicate: Predicate<A>): <B extends A>(self: Stream<B>) => O.Option<B>
export function find<A>(predicate: Predicate<A>): (self: Stream<A>) => O.Option<A>
export function find<A>(predicate: Predicate<A>): (self: Stream<A>) => O.Option<A> {
  return (self) => {
    for (const a of self) if (predicate(a)) return O.some(a)
    return O.none
  }
}

/**
 * Run an effect on every element of a finite stream: the impure sink at the end of a
 * program (print, save a checkpoint). Everything before it stays pure.
 * @example
 * pipe(range(0, 3), forEach((x) => console.log(x)))
 * const seen: number[] = []
 * pipe(range(0, 3), forEach((x) => seen.push(x)))
 * seen // [0, 1, 2]
 * @category eliminators
 * @since 0.1.0
 */
export const forEach =
  <A>(f: (a: A) => void) =>
  (self: Stream<A>): void => {
    for (const a of self) f(a)
  }

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * @example
 * URI // 'purediff/Stream'
 * @category instances
 * @since 0.1.0
 */
export const URI = 'purediff/Stream'
/** @category instances @since 0.1.0 */
export type URI = typeof URI

declare module 'fp-ts/HKT.js' {
  interface URItoKind<A> {
    readonly 'purediff/Stream': Stream<A>
  }
}

const _map: Functor1<URI>['map'] = (fa, f) => map(f)(fa)
const _mapWithIndex: FunctorWithIndex1<URI, number>['mapWithIndex'] = (fa, f) => mapWithIndex(f)(fa)
const _ap: Apply1<URI>['ap'] = (fab, fa) => ap(fa)(fab)
const _chain: Chain1<URI>['chain'] = (fa, f) => chain(f)(fa)
const _reduce: Foldable1<URI>['reduce'] = (fa, b, f) => reduce(b, f)(fa)
const _foldMap: Foldable1<URI>['foldMap'] = (M) => (fa, f) => foldMap(M)(f)(fa)
const _reduceRight: Foldable1<URI>['reduceRight'] = (fa, b, f) => reduceRight(b, f)(fa)

/**
 * @example
 * toArray(Functor.map(fromArray([1, 2]), (x) => x * 10)) // [10, 20]
 * @category instances
 * @since 0.1.0
 */
export const Functor: Functor1<URI> = { URI, map: _map }

/**
 * @example
 * toArray(FunctorWithIndex.mapWithIndex(fromArray([5, 5]), (i, x) => i + x)) // [5, 6]
 * @category instances
 * @since 0.1.0
 */
export const FunctorWithIndex: FunctorWithIndex1<URI, number> = { URI, map: _map, mapWithIndex: _mapWithIndex }

/**
 * @example
 * toArray(Pointed.of(3)) // [3]
 * @category instances
 * @since 0.1.0
 */
export const Pointed: Pointed1<URI> = { URI, of }

/**
 * Cartesian `ap` (see `ap`). A zip-based ("ZipList") Apply was rejected: it cannot agree with
 * `chain`, which the Monad laws require of `ap`.
 * @example
 * // every function with every value, functions outermost
 * const fs = fromArray([(x: number) => x + 1, (x: number) => x * 10])
 * toArray(Apply.ap(fs, fromArray([1, 2]))) // [2, 3, 10, 20]
 * @category instances
 * @since 0.1.0
 */
export const Apply: Apply1<URI> = { URI, map: _map, ap: _ap }

/**
 * @example
 * toArray(Applicative.ap(Applicative.of((x: number) => -x), fromArray([1, 2]))) // [-1, -2]
 * @category instances
 * @since 0.1.0
 */
export const Applicative: Applicative1<URI> = { URI, map: _map, ap: _ap, of }

/**
 * @example
 * toArray(Chain.chain(fromArray([1, 2]), (x) => fromArray([x, x]))) // [1, 1, 2, 2]
 * @category instances
 * @since 0.1.0
 */
export const Chain: Chain1<URI> = { URI, map: _map, ap: _ap, chain: _chain }

/**
 * @example
 * toArray(Monad.chain(Monad.of(3), (n) => range(0, n))) // [0, 1, 2]
 * @category instances
 * @since 0.1.0
 */
export const Monad: Monad1<URI> = { URI, map: _map, ap: _ap, of, chain: _chain }

/**
 * Folds assume a finite stream.
 * @example
 * Foldable.reduce(fromArray([1, 2, 3]), 0, (b, a) => b + a) // 6
 * @category instances
 * @since 0.1.0
 */
export const Foldable: Foldable1<URI> = { URI, reduce: _reduce, foldMap: _foldMap, reduceRight: _reduceRight }

/**
 * @example
 * toArray(Unfoldable.unfold(1, (n) => (n <= 3 ? some([n, n + 1] as const) : none))) // [1, 2, 3]
 * @category instances
 * @since 0.1.0
 */
export const Unfoldable: Unfoldable1<URI> = { URI, unfold }

/**
 * Streams under concatenation, with `empty` as the unit.
 * @example
 * const M = getMonoid<number>()
 * toArray(M.concat(fromArray([1]), fromArray([2, 3]))) // [1, 2, 3]
 * toArray(M.empty) // []
 * @category instances
 * @since 0.1.0
 */
export const getMonoid = <A>(): Monoid<Stream<A>> => ({
  concat: (x, y) => concat(y)(x),
  empty,
})
