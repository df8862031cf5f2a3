/**
 * Regressions for training misuse and conventions: `init` as a record, `untilLoss` (one
 * minibatch) vs `untilEpochLoss` (an epoch's mean), `Stream.cache` and its laws, non-finite
 * losses (stop by default, or skip and count), `resume` under another model or optimizer,
 * a batch size past the data set, a loss over an empty batch, and an escaped tracer read.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { PurediffError, add, grad, log, matmul, mean, mul, square, sub, sum, tensor, zeros } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { adam, sgd } from '../../src/optim/index.js'
import { key } from '../../src/random/index.js'
import { fromTensors, resume, train, untilEpochLoss, untilLoss, untilStep } from '../../src/train/index.js'
import type { TrainState } from '../../src/train/index.js'
import * as S from '../../src/train/Stream.js'
import { throwsPurediff } from '../helpers/errors.js'

type Lin = { readonly w: Tensor; readonly b: Tensor }
type XY = { readonly x: Tensor; readonly y: Tensor }
const lin0: Lin = { w: zeros([2, 1]), b: zeros([1]) }
const data = fromTensors({
  x: tensor([
    [1, 0],
    [0, 1],
    [1, 1],
    [2, 1],
  ]),
  y: tensor([[1], [2], [3], [4]]),
})
const loss = (p: Lin, b: XY): Tensor => mean(square(sub(add(matmul(b.x, p.w), p.b), b.y)))
const base = { loss, optimizer: sgd(0.1), data, batchSize: 2, key: key(0) }

describe('train({ init: record })', () => {
  it('accepts the weights as init (typed as Lin) and runs as { params } does', () => {
    const a = train({ ...base, init: lin0 })
    const b = train({ ...base, params: lin0 })
    const c = train({ ...base, init: () => lin0 })
    type Weights<R> = R extends S.Stream<TrainState<infer P, infer _S>> ? P : never
    expectTypeOf<Weights<typeof a>>().toEqualTypeOf<Lin>()
    expectTypeOf<Weights<typeof b>>().toEqualTypeOf<Lin>()
    const la = S.toArray(untilStep(5)(a)).map((s) => s.loss)
    expect(la).toEqual(S.toArray(untilStep(5)(b)).map((s) => s.loss))
    expect(la).toEqual(S.toArray(untilStep(5)(c)).map((s) => s.loss))
  })
})

describe('untilLoss (one minibatch) and untilEpochLoss (an epoch mean)', () => {
  // Batches of 1 on data where one example is fitted at once and the others are not.
  const easy = fromTensors({
    x: tensor([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]),
    y: tensor([[0], [5], [-5], [3]]),
  })
  const cfg = { loss, optimizer: sgd(0.05), data: easy, batchSize: 1, key: key(3), params: lin0 }
  it('untilLoss stops on the first small minibatch loss; untilEpochLoss at the first epoch whose mean is small', () => {
    const target = 4
    const byBatch = S.toArray(pipe(train(cfg), untilLoss(target), untilStep(400)))
    const byEpoch = S.toArray(pipe(train(cfg), untilEpochLoss(target), untilStep(400)))
    const stopB = byBatch[byBatch.length - 1] as TrainState<Lin, unknown>
    const stopE = byEpoch[byEpoch.length - 1] as TrainState<Lin, unknown>
    expect(stopB.loss).toBeLessThanOrEqual(target)
    expect(stopB.step).toBeLessThan(stopE.step)
    expect(stopE.epochEnd).toBe(true)
    // The epoch mean, recomputed from the losses of the epoch's four steps.
    const epoch = byEpoch.slice(-4).map((s) => s.loss)
    const m = epoch.reduce((x, y) => x + y, 0) / 4
    expect(stopE.metrics['epochLoss']).toBeCloseTo(m, 12)
    expect(m).toBeLessThanOrEqual(target)
    // no earlier epoch end had a mean under the target
    for (let e = 0; e + 4 < byEpoch.length; e += 4) {
      const mean4 = byEpoch.slice(e, e + 4).reduce((x, s) => x + s.loss, 0) / 4
      expect(mean4).toBeGreaterThan(target)
    }
  })
})

/** The laws of a caching combinator, as checks that throw when one fails. */
const cacheLaws = (cache: <A>(s: S.Stream<A>) => S.Stream<A>): void => {
  fc.assert(
    fc.property(fc.array(fc.integer(), { maxLength: 20 }), fc.nat(25), (xs, k) => {
      let computed = 0
      const src = S.map((x: number) => {
        computed++
        return x * 2
      })(S.fromArray(xs))
      const c = cache(src)
      expect(computed).toBe(0) // building pulls nothing
      // laziness: k pulls compute at most k elements
      S.toArray(S.take(k)(c))
      expect(computed).toBe(Math.min(k, xs.length))
      // same elements as the source, twice, each computed once
      expect(S.toArray(c)).toEqual(xs.map((x) => x * 2))
      expect(S.toArray(c)).toEqual(xs.map((x) => x * 2))
      expect(computed).toBe(xs.length)
      // interleaved iterators each see the whole sequence
      const i1 = c[Symbol.iterator]()
      const i2 = c[Symbol.iterator]()
      const a: number[] = []
      const b: number[] = []
      for (let r1 = i1.next(), r2 = i2.next(); r1.done !== true || r2.done !== true; r1 = i1.next(), r2 = i2.next()) {
        if (r1.done !== true) a.push(r1.value)
        if (r2.done !== true) b.push(r2.value)
      }
      expect(a).toEqual(xs.map((x) => x * 2))
      expect(b).toEqual(a)
      // idempotent
      expect(S.toArray(cache(c))).toEqual(a)
    }),
    { numRuns: 100, seed: 5 },
  )
}

describe('Stream.cache', () => {
  it('satisfies its laws', () => cacheLaws(S.cache))

  it('the laws fail on broken caches (one sharing an iterator without keeping, one recomputing)', () => {
    const shared = <A>(s: S.Stream<A>): S.Stream<A> => {
      const it = s[Symbol.iterator]()
      return S.fromGenerator(() => ({ next: () => it.next() }))
    }
    const recompute = <A>(s: S.Stream<A>): S.Stream<A> => S.fromGenerator(() => s[Symbol.iterator]())
    expect(() => cacheLaws(shared)).toThrow()
    expect(() => cacheLaws(recompute)).toThrow()
  })

  it('keeps a training run: the second iteration recomputes no step', () => {
    let losses = 0
    // jit: false, so that every step runs the loss's JS body (a jitted step runs it once, to trace)
    const counted = { ...base, params: lin0, jit: false, loss: (p: Lin, b: XY) => (losses++, loss(p, b)) }
    const run = pipe(train(counted), untilStep(6), S.cache)
    const first = S.toArray(run)
    expect(losses).toBe(6)
    expect(S.toArray(run)).toEqual(first)
    expect(O.isSome(S.last(run))).toBe(true)
    expect(losses).toBe(6)
    // without cache the replay law recomputes
    const plain = pipe(train(counted), untilStep(6))
    S.toArray(plain)
    S.toArray(plain)
    expect(losses).toBe(18)
  })

  it('after a throw, the next pull restarts the source and keeps what was kept', () => {
    let fail = true
    const src = S.map((x: number) => {
      if (x === 2 && fail) {
        fail = false
        throw new Error('boom')
      }
      return x
    })(S.fromArray([0, 1, 2, 3]))
    const c = S.cache(src)
    expect(() => S.toArray(c)).toThrow('boom')
    expect(S.toArray(c)).toEqual([0, 1, 2, 3])
  })
})

describe('non-finite losses', () => {
  // log of a prediction that goes negative: NaN at some step
  const bad = (p: Lin, b: XY): Tensor => mean(log(add(matmul(b.x, p.w), p.b)))
  const cfg = { ...base, loss: bad, params: { w: tensor([[0.5], [0.5]]), b: tensor([0.1]) }, optimizer: sgd(1) }

  it('stop the run with a PurediffError naming the step, by default', () => {
    const e = throwsPurediff(() => S.toArray(untilStep(50)(train(cfg))))
    expect(e.message).toMatch(
      /^train: the (loss is (NaN|-?Infinity)|gradient at '\w+' holds (NaN|-?Infinity)) at step \d+ \(epoch \d+\); the weights were not updated.*nonFinite: 'skip'/,
    )
  })

  it("nonFinite: 'skip' leaves the weights and optimizer state, consumes the batch, and counts", () => {
    const states = S.toArray(untilStep(20)(train({ ...cfg, nonFinite: 'skip' })))
    expect(states).toHaveLength(20)
    let count = 0
    for (let i = 0; i < states.length; i++) {
      const s = states[i] as TrainState<Lin, unknown>
      const prev = i === 0 ? undefined : (states[i - 1] as TrainState<Lin, unknown>)
      if (!Number.isFinite(s.loss)) {
        count++
        if (prev !== undefined) {
          expect(s.params).toBe(prev.params)
          expect(s.optState).toBe(prev.optState)
        }
      }
      if (count > 0) expect(s.metrics['skippedSteps']).toBe(count)
      for (const v of [...s.params.w.toTypedArray(), ...s.params.b.toTypedArray()])
        expect(Number.isFinite(v)).toBe(true)
    }
    expect(count).toBeGreaterThan(0)
  })

  it('a bad option value is an error', () => {
    expect(throwsPurediff(() => train({ ...cfg, nonFinite: 'ignore' as never })).message).toMatch(
      /nonFinite must be 'error' or 'skip', got "ignore"/,
    )
  })
})

describe('resume checks the model and the optimizer state', () => {
  const run3 = S.toArray(untilStep(3)(train({ ...base, params: lin0, optimizer: adam(0.1) })))
  const s3 = run3[2] as (typeof run3)[number]

  it('the same model and optimizer resume', () => {
    const next = S.toArray(untilStep(4)(resume(s3, { ...base, params: lin0, optimizer: adam(0.1) })))
    expect(next.map((s) => s.step)).toEqual([4])
  })

  it('a state of another model is a TreeError naming the key path', () => {
    const e = throwsPurediff(() =>
      resume(s3, { ...base, params: { w: zeros([3, 1]), b: zeros([1]) }, optimizer: adam(0.1) }),
    )
    expect(e.tag).toBe('TreeError')
    expect(e.path).toBe('params.w')
    expect(e.message).toMatch(
      /the state's params does not match the model's weights.*float64 \[2, 1\] where float64 \[3, 1\] is expected/,
    )
    const e2 = throwsPurediff(() =>
      resume(s3, {
        ...base,
        init: () => ({ w: zeros([2, 1]), c: zeros([1]) }) as unknown as Lin,
        optimizer: adam(0.1),
      }),
    )
    expect(e2.tag).toBe('TreeError')
    expect(e2.message).toMatch(/params does not match/)
  })

  it('an Adam state resumed under sgd (and the reverse) is a TreeError', () => {
    const e = throwsPurediff(() => resume(s3, { ...base, optimizer: sgd(0.1) } as never))
    expect(e.tag).toBe('TreeError')
    expect(e.message).toMatch(/the state's optState does not match the state config\.optimizer keeps/)
    const sgdState = S.toArray(untilStep(1)(train({ ...base, params: lin0 })))[0] as TrainState<Lin, unknown>
    expect(throwsPurediff(() => resume(sgdState, { ...base, optimizer: adam(0.1) } as never)).tag).toBe('TreeError')
  })
})

describe('batch sizes and empty batches', () => {
  it('a batchSize larger than the data set is an error naming both', () => {
    expect(throwsPurediff(() => train({ ...base, params: lin0, batchSize: 5 })).message).toMatch(
      /batchSize 5 is larger than the data set \(4 examples\)/,
    )
  })

  it('a loss over an empty batch is an error, not NaN', () => {
    expect(throwsPurediff(() => nn.mse(zeros([0, 1]), zeros([0, 1]))).message).toMatch(
      /^mse: pred is empty: a loss over an empty batch is undefined/,
    )
    expect(throwsPurediff(() => nn.softmaxCrossEntropy(zeros([0, 3]), [])).message).toMatch(/logits is empty/)
    expect(throwsPurediff(() => nn.binaryCrossEntropyWithLogits(zeros([0]), zeros([0]))).message).toMatch(
      /logits is empty/,
    )
  })
})

describe('an escaped tracer', () => {
  it('cannot be read: toTypedArray, toArray and item are EscapedTracer errors naming the transform', () => {
    let leak: Tensor | undefined
    grad((x: Tensor) => {
      leak = mul(x, 2)
      return sum(leak)
    })(tensor([1, 2]))
    const t = leak as Tensor
    for (const read of [() => t.toTypedArray(), () => t.toArray(), () => sum(t).item()]) {
      const e = throwsPurediff(read)
      expect(e.tag).toBe('EscapedTracer')
      expect(e.message).toContain("'grad'")
    }
    expect(String(t)).toMatch(/^Tracer<grad>/) // printing for debugging still works
  })
})

it('PurediffError is what every case above throws', () => {
  expect(new PurediffError('ValueError', 'x')).toBeInstanceOf(Error)
})
