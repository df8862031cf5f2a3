import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { add, div, fromData, matmul, mean, mul, sqrt, square, sub, sum, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import { foldIn, key, split, uniform } from '../../src/random/index.js'
import type { Key } from '../../src/random/index.js'
import {
  batchAt,
  batchPlan,
  batches,
  decodeState,
  encodeState,
  evaluate,
  everyEpoch,
  fromTensors,
  initialState,
  loadState,
  loadStateSync,
  parseState,
  patience,
  resume,
  saveState,
  saveStateSync,
  stepKeyAt,
  stringifyState,
  train,
  trainStep,
  untilAccuracy,
  untilLoss,
  untilStep,
  withEpochLoss,
  withMetric,
  withMetrics,
} from '../../src/train/index.js'
import type { Optimizer, TrainConfig, TrainState } from '../../src/train/index.js'
import * as S from '../../src/train/Stream.js'
import type { Tree } from '../../src/tree/Tree.js'
import * as T from '../../src/tree/Tree.js'

// -------------------------------------------------------------------------------------
// fixtures: optimizers written here from their textbook definitions, so these tests
// exercise the stream, not the optim module.
// -------------------------------------------------------------------------------------

/** Plain gradient descent: update = -lr · g, state {} (an empty record). */
const sgd = <P>(lr: number): Optimizer<P, Readonly<Record<string, never>>> => ({
  init: () => ({}),
  update: (g) => [T.map(g, (x) => (typeof x === 'number' ? -lr * x : mul(-lr, x))), {}],
})

interface AdamState<P> {
  readonly count: number
  readonly m: P
  readonly v: P
}

/** Adam (Kingma & Ba 2015, Algorithm 1) with a number step count, to exercise number leaves. */
const adam = <P>(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): Optimizer<P, AdamState<P>> => ({
  init: (p) => ({ count: 0, m: T.map(p, (x) => mul(0, x)), v: T.map(p, (x) => mul(0, x)) }),
  update: (g, s) => {
    const count = s.count + 1
    const m = T.zipWith(s.m, g, (mi, gi) => add(mul(b1, mi), mul(1 - b1, gi)))
    const v = T.zipWith(s.v, g, (vi, gi) => add(mul(b2, vi), mul(1 - b2, square(gi))))
    const c1 = 1 - b1 ** count
    const c2 = 1 - b2 ** count
    const u = T.zipWith(m, v, (mi, vi) => mul(-lr, div(div(mi, c1), add(sqrt(div(vi, c2)), eps))))
    return [u, { count, m, v }]
  },
})

type Lin = { readonly w: Tensor; readonly b: Tensor }
type XY = { readonly x: Tensor; readonly y: Tensor }

/** A regression problem y = x·wTrue + bTrue + noise with n examples and d features. */
const problem = (n: number, d: number, seed: number, dtype: 'float32' | 'float64' = 'float64'): XY => {
  const [kx, kn] = split(key(seed))
  const x = uniform(kx, [n, d], { minval: -1, maxval: 1, dtype })
  const wTrue = fromData(
    Float64Array.from({ length: d }, (_, i) => i + 1),
    [d, 1],
    dtype,
  )
  const y = add(add(matmul(x, wTrue), 0.5), mul(0.1, uniform(kn, [n, 1], { minval: -1, maxval: 1, dtype })))
  return { x, y }
}

const mseLoss = (p: Lin, b: XY): Tensor => mean(square(sub(add(matmul(b.x, p.w), p.b), b.y)))

/** A loss that uses its step key: a "dropout" mask on the residuals, scaled by 1/keep. */
const noisyLoss = (p: Lin, b: XY, k: Key): [Tensor, { readonly r: Tensor }] => {
  const r = sub(add(matmul(b.x, p.w), p.b), b.y)
  const mask = uniform(k, r.shape, { dtype: r.dtype })
  const kept = mul(
    r,
    div(
      fromData(
        mask.toTypedArray().map((u) => (u < 0.8 ? 1 : 0)),
        r.shape,
        r.dtype,
      ),
      0.8,
    ),
  )
  return [mean(square(kept)), { r: mean(r) }]
}

const zerosLin = (d: number, dtype: 'float32' | 'float64' = 'float64'): Lin => ({
  w: fromData(new Float64Array(d), [d, 1], dtype),
  b: fromData(new Float64Array(1), [1], dtype),
})

const bits = (t: Tensor): number[] => Array.from(t.toTypedArray())

/** Every leaf, as plain arrays of numbers, for bit-exact comparison with Object.is. */
const leafBits = (tree: unknown): number[][] => T.leaves(tree).map((l) => (typeof l === 'number' ? [l] : bits(l)))

const sameBits = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

const sameStates = (
  a: ReadonlyArray<TrainState<unknown, unknown>>,
  b: ReadonlyArray<TrainState<unknown, unknown>>,
): boolean =>
  a.length === b.length &&
  a.every((s, i) => {
    const t = b[i] as TrainState<unknown, unknown>
    return (
      s.step === t.step &&
      s.epoch === t.epoch &&
      s.epochEnd === t.epochEnd &&
      Object.is(s.loss, t.loss) &&
      sameBits(leafBits(s.params).flat(), leafBits(t.params).flat()) &&
      sameBits(leafBits(s.optState).flat(), leafBits(t.optState).flat())
    )
  })

const tmp = mkdtempSync(join(tmpdir(), 'purediff-train-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

// -------------------------------------------------------------------------------------
// batching
// -------------------------------------------------------------------------------------

describe('batches', () => {
  it("'keep' covers every example exactly once per epoch, the last batch holding the remainder", () => {
    const bs = S.toArray(S.take(6)(batches(key(3), 10, 4)))
    expect(bs.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2])
    for (const epoch of [bs.slice(0, 3), bs.slice(3, 6)]) {
      expect(
        epoch
          .flat()
          .slice()
          .sort((a, b) => a - b),
      ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
    // Two epochs of 10! orders agreeing would happen with probability 1/10!; it is a fresh shuffle.
    expect(bs.slice(0, 3).flat()).not.toEqual(bs.slice(3, 6).flat())
  })

  it("'drop' gives full batches only, distinct within an epoch, and skips different examples each epoch", () => {
    const bs = S.toArray(S.take(20)(batches(key(5), 10, 4, 'drop')))
    expect(bs.every((b) => b.length === 4)).toBe(true)
    const skipped = new Set<string>()
    for (let e = 0; e < 10; e++) {
      const seen = [...(bs[2 * e] as number[]), ...(bs[2 * e + 1] as number[])]
      expect(new Set(seen).size).toBe(8)
      skipped.add([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => !seen.includes(i)).join(','))
    }
    expect(skipped.size).toBeGreaterThan(1)
  })

  it('batchAt(step) is the step-th element of the stream, and the stream replays', () => {
    const plan = batchPlan(10, 3)
    expect(plan.stepsPerEpoch).toBe(4)
    const s = batches(key(9), 10, 3)
    const first = S.toArray(S.take(13)(s))
    expect(S.toArray(S.take(13)(s))).toEqual(first)
    first.forEach((b, i) => expect(batchAt(key(9), plan, i)).toEqual(b))
  })

  it('rejects sizes that cannot make an epoch', () => {
    expect(() => batchPlan(3, 4, 'drop')).toThrow(PurediffError)
    // Regression: a batchSize past the data set was silently one smaller batch per epoch.
    expect(() => batchPlan(3, 4, 'keep')).toThrow(
      /batchSize 4 is larger than the data set \(3 examples\); use batchSize: 3/,
    )
    expect(batchPlan(3, 3, 'keep').stepsPerEpoch).toBe(1)
    expect(() => batchPlan(10, 0)).toThrow(/batchSize/)
    expect(() => batchPlan(0, 2)).toThrow(/at least one example/)
  })

  it('fromTensors gathers the same rows from every leaf', () => {
    const data = fromTensors({
      x: tensor([
        [0, 1],
        [2, 3],
        [4, 5],
      ]),
      y: tensor([10, 11, 12]),
    })
    expect(data.size).toBe(3)
    const b = data.batch([2, 0])
    expect(b.x.toArray()).toEqual([
      [4, 5],
      [0, 1],
    ])
    expect(b.y.toArray()).toEqual([12, 10])
    expect(() => fromTensors({ x: tensor([1, 2]), y: tensor([1, 2, 3]) })).toThrow(/leading axis/)
  })
})

// -------------------------------------------------------------------------------------
// the training stream
// -------------------------------------------------------------------------------------

describe('train', () => {
  it('full-batch SGD on least squares follows the hand-computed gradient-descent iterates', () => {
    // L(w, b) = (1/n) Σ (x_i·w + b - y_i)², so ∂L/∂w = (2/n) Xᵀ r, ∂L/∂b = (2/n) Σ r, r = Xw + b - y.
    // The expected run is a plain loop over Float64Arrays, independent of tensors and AD.
    const n = 8
    const d = 2
    const { x, y } = problem(n, d, 1)
    const X = Array.from(x.toTypedArray())
    const Y = Array.from(y.toTypedArray())
    const lr = 0.1
    let w = [0, 0]
    let b0 = 0
    const expected: number[] = []
    for (let k = 0; k < 25; k++) {
      const r = Y.map(
        (yi, i) => (X[2 * i] as number) * (w[0] as number) + (X[2 * i + 1] as number) * (w[1] as number) + b0 - yi,
      )
      expected.push(r.reduce((s, ri) => s + ri * ri, 0) / n)
      const gw0 = (2 / n) * r.reduce((s, ri, i) => s + ri * (X[2 * i] as number), 0)
      const gw1 = (2 / n) * r.reduce((s, ri, i) => s + ri * (X[2 * i + 1] as number), 0)
      const gb = (2 / n) * r.reduce((s, ri) => s + ri, 0)
      w = [(w[0] as number) - lr * gw0, (w[1] as number) - lr * gw1]
      b0 = b0 - lr * gb
    }
    const states = S.toArray(
      untilStep(25)(
        train({
          params: zerosLin(d),
          loss: mseLoss,
          optimizer: sgd<Lin>(lr),
          data: fromTensors({ x, y }),
          batchSize: n,
          key: key(0),
        }),
      ),
    )
    expect(states.map((s) => s.step)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    // Full batch: one step per epoch, so every state ends an epoch.
    expect(states.every((s, i) => s.epochEnd && s.epoch === i + 1)).toBe(true)
    // Summation order differs between the two computations: agreement to ~1e-13 relative, not bits.
    states.forEach((s, i) =>
      expect(Math.abs(s.loss - (expected[i] as number))).toBeLessThan(1e-12 * Math.max(1, expected[i] as number)),
    )
    const last = states[24] as TrainState<Lin, unknown>
    expect(Math.abs((bits(last.params.w)[0] as number) - (w[0] as number))).toBeLessThan(1e-12)
    expect(Math.abs((bits(last.params.b)[0] as number) - b0)).toBeLessThan(1e-12)
    // Loss decreases monotonically for a step size below 1/L on a convex quadratic.
    states.slice(1).forEach((s, i) => expect(s.loss).toBeLessThan((states[i] as TrainState<Lin, unknown>).loss))
  })

  it('states are frozen and count epochs from the batch plan', () => {
    const data = fromTensors(problem(10, 2, 2))
    const states = S.toArray(
      untilStep(7)(
        train({ params: zerosLin(2), loss: mseLoss, optimizer: sgd<Lin>(0.05), data, batchSize: 4, key: key(1) }),
      ),
    )
    // 10 examples in batches of 4 with 'keep': 3 steps per epoch.
    expect(states.map((s) => [s.step, s.epoch, s.epochEnd])).toEqual([
      [1, 0, false],
      [2, 0, false],
      [3, 1, true],
      [4, 1, false],
      [5, 1, false],
      [6, 2, true],
      [7, 2, false],
    ])
    for (const s of states) expect(Object.isFrozen(s)).toBe(true)
    expect(() => {
      ;(states[0] as { step: number }).step = 99
    }).toThrow(TypeError)
  })

  it('jit (the default) and jit: false give the same states, bit for bit; a compiled loss is traced once per batch shape', () => {
    let traces = 0
    const base = {
      init: (k: Key) => ({ w: uniform(k, [3, 1], { minval: -1, maxval: 1 }), b: fromData(new Float64Array(1), [1]) }),
      loss: (p: Lin, b: XY) => {
        traces++
        return mseLoss(p, b)
      },
      data: fromTensors(problem(20, 3, 4)),
      batchSize: 6,
      key: key(42),
    }
    for (const optimizer of [adam<Lin>(0.05), sgd<Lin>(0.1)]) {
      traces = 0
      const compiled = S.toArray(pipe(train({ ...base, optimizer } as TrainConfig<Lin, XY, unknown>), untilStep(12)))
      expect(traces).toBe(2) // batches of 6 and the last batch of 2
      const eager = S.toArray(
        pipe(train({ ...base, optimizer, jit: false } as TrainConfig<Lin, XY, unknown>), untilStep(12)),
      )
      expect(sameStates(compiled, eager)).toBe(true)
      expect(compiled.map((s) => s.loss)).toEqual(eager.map((s) => s.loss))
    }
  })

  it('building the stream calls no user function; iterating twice gives the same states', () => {
    let inits = 0
    let losses = 0
    const config: TrainConfig<Lin, XY, AdamState<Lin>> = {
      init: (k) => {
        inits++
        return { w: uniform(k, [3, 1], { minval: -1, maxval: 1 }), b: fromData(new Float64Array(1), [1]) }
      },
      loss: (p, b) => {
        losses++
        return mseLoss(p, b)
      },
      optimizer: adam<Lin>(0.05),
      data: fromTensors(problem(20, 3, 4)),
      batchSize: 6,
      key: key(42),
      jit: false, // counts eager loss calls (a compiled loss is called once per batch shape, to trace it)
    }
    const run = pipe(train(config), untilStep(9))
    expect([inits, losses]).toEqual([0, 0])
    const a = S.toArray(run)
    expect([inits, losses]).toEqual([1, 9])
    const b = S.toArray(run)
    expect(sameStates(a, b)).toBe(true)
    // And a fresh stream from the same seed is the same run.
    expect(sameStates(a, S.toArray(pipe(train(config), untilStep(9))))).toBe(true)
  })

  it('a different seed gives a different initialization and batch order', () => {
    const base = { loss: mseLoss, optimizer: sgd<Lin>(0.05), data: fromTensors(problem(20, 3, 4)), batchSize: 5 }
    const init = (k: Key): Lin => ({ w: uniform(k, [3, 1]), b: fromData(new Float64Array(1), [1]) })
    const a = S.toArray(untilStep(4)(train({ ...base, init, key: key(1) })))
    const b = S.toArray(untilStep(4)(train({ ...base, init, key: key(2) })))
    expect(a.map((s) => s.loss)).not.toEqual(b.map((s) => s.loss))
  })

  it('hands the loss the step key foldIn(stepKey, k) and records aux scalars as metrics', () => {
    const seen: Key[] = []
    const config: TrainConfig<Lin, XY, Readonly<Record<string, never>>> = {
      params: zerosLin(2),
      loss: (p, b, k) => {
        seen.push(k)
        return noisyLoss(p, b, k)
      },
      optimizer: sgd<Lin>(0.1),
      data: fromTensors(problem(8, 2, 3)),
      batchSize: 4,
      key: key(7),
    }
    const states = S.toArray(untilStep(3)(train(config)))
    expect(seen.map((k) => k.data)).toEqual([0, 1, 2].map((i) => stepKeyAt(key(7), i).data))
    expect(new Set(seen.map((k) => k.data.join())).size).toBe(3)
    expect(states.every((s) => typeof s.metrics['r'] === 'number' && Number.isFinite(s.metrics['r']))).toBe(true)
  })

  it('trainStep composed from initialState is the stream', () => {
    const config: TrainConfig<Lin, XY, AdamState<Lin>> = {
      params: zerosLin(2),
      loss: mseLoss,
      optimizer: adam<Lin>(0.1),
      data: fromTensors(problem(9, 2, 5)),
      batchSize: 4,
      key: key(11),
    }
    const step = trainStep(config)
    const manual: TrainState<Lin, AdamState<Lin>>[] = []
    let s = initialState(config)
    expect([s.step, Number.isNaN(s.loss)]).toEqual([0, true])
    for (let i = 0; i < 7; i++) manual.push((s = step(s)))
    expect(sameStates(manual, S.toArray(untilStep(7)(train(config))))).toBe(true)
  })

  it('rejects a config with both or neither of init and params, or without a key', () => {
    const base = {
      loss: mseLoss,
      optimizer: sgd<Lin>(0.1),
      data: fromTensors(problem(4, 2, 1)),
      batchSize: 2,
      key: key(0),
    }
    expect(() => train({ ...base } as unknown as TrainConfig<Lin, XY, unknown>)).toThrow(/exactly one/)
    expect(() =>
      train({ ...base, params: zerosLin(2), init: () => zerosLin(2) } as unknown as TrainConfig<Lin, XY, unknown>),
    ).toThrow(/exactly one/)
    expect(() => train({ ...base, params: zerosLin(2), key: 3 } as unknown as TrainConfig<Lin, XY, unknown>)).toThrow(
      /key/,
    )
  })
})

// -------------------------------------------------------------------------------------
// resume and checkpoints
// -------------------------------------------------------------------------------------

describe('resume', () => {
  const config = (dtype: 'float32' | 'float64'): TrainConfig<Lin, XY, AdamState<Lin>> => ({
    init: (k) => ({
      w: uniform(k, [3, 1], { minval: -1, maxval: 1, dtype }),
      b: fromData(new Float64Array(1), [1], dtype),
    }),
    loss: noisyLoss,
    optimizer: adam<Lin>(0.03),
    data: fromTensors(problem(23, 3, 8, dtype)),
    batchSize: 5, // 5 steps per epoch with a 3-example remainder
    key: key(2024),
  })

  for (const dtype of ['float64', 'float32'] as const) {
    it(`a state saved mid-epoch, encoded to JSON text and decoded, resumes bit for bit (${dtype})`, () => {
      const cfg = config(dtype)
      const full = S.toArray(untilStep(14)(train(cfg)))
      const mid = full[6] as TrainState<Lin, AdamState<Lin>> // step 7: inside epoch 1
      expect(mid.epochEnd).toBe(false)
      const decoded = parseState(JSON.stringify(encodeState(mid)))
      expect(E.isRight(decoded)).toBe(true)
      if (E.isLeft(decoded)) return
      const d = decoded.right as unknown as TrainState<Lin, AdamState<Lin>>
      expect(d.params.w.dtype).toBe(dtype)
      expect(typeof d.optState.count).toBe('number')
      const continued = S.toArray(untilStep(14)(resume(d, cfg)))
      expect(continued.map((s) => s.step)).toEqual([8, 9, 10, 11, 12, 13, 14])
      expect(sameStates(continued, full.slice(7))).toBe(true)
      expect(
        continued.map((s) => s.loss).every((l, i) => Object.is(l, (full[7 + i] as TrainState<Lin, unknown>).loss)),
      ).toBe(true)
    })
  }

  it('resuming from the initial state is the run; resuming past untilStep yields nothing', () => {
    const cfg = config('float64')
    const s0 = initialState(cfg)
    expect(sameStates(S.toArray(untilStep(6)(resume(s0, cfg))), S.toArray(untilStep(6)(train(cfg))))).toBe(true)
    const s6 = O.toUndefined(S.last(untilStep(6)(train(cfg)))) as TrainState<Lin, AdamState<Lin>>
    expect(S.toArray(untilStep(6)(resume(s6, cfg)))).toEqual([])
  })

  it('saveState/loadState (async and sync) round-trip through a file and resume identically', async () => {
    const cfg = config('float64')
    const full = S.toArray(untilStep(10)(train(cfg)))
    const mid = full[3] as TrainState<Lin, AdamState<Lin>>
    const f1 = join(tmp, 'a.json')
    const f2 = join(tmp, 'b.json')
    await saveState(f1, mid)
    saveStateSync(f2, mid)
    for (const r of [await loadState(f1), loadStateSync(f2)]) {
      expect(E.isRight(r)).toBe(true)
      if (E.isRight(r)) {
        const s = r.right as unknown as TrainState<Lin, AdamState<Lin>>
        expect(sameStates(S.toArray(untilStep(10)(resume(s, cfg))), full.slice(4))).toBe(true)
      }
    }
  })

  it('encoding keeps NaN losses, metrics and -0, and the state codec round-trips exactly', () => {
    const s = Object.freeze({
      step: 3,
      epoch: 1,
      epochEnd: true,
      params: { w: tensor([-0, 1.5e-300, NaN]), n: -0 },
      optState: { count: 3, nested: [[], {}] },
      loss: NaN,
      metrics: { acc: 0.25, bad: Infinity },
      key: foldIn(key(1), 2),
    }) as TrainState<Tree, Tree>
    const text = stringifyState(s)
    const back = parseState(text)
    expect(E.isRight(back)).toBe(true)
    if (E.isLeft(back)) return
    const b = back.right
    expect(Object.is(b.loss, NaN)).toBe(true)
    expect(b.metrics).toEqual({ acc: 0.25, bad: Infinity })
    expect(b.key.data).toEqual(s.key.data)
    // leaves in key order: n, then w
    expect(sameBits(leafBits(b.params).flat(), [-0, -0, 1.5e-300, NaN])).toBe(true)
    expect(b.optState).toEqual({ count: 3, nested: [[], {}] })
    expect(stringifyState(b)).toBe(text)
  })
})

describe('decodeState', () => {
  const good = (): Record<string, unknown> =>
    JSON.parse(
      stringifyState({
        step: 2,
        epoch: 0,
        epochEnd: false,
        params: { w: tensor([1, 2]) },
        optState: {},
        loss: 0.5,
        metrics: {},
        key: key(1),
      } as TrainState<Tree, Tree>),
    )

  it('names the field and the problem for bad input', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...good(), step: -1 }, /step.*non-negative integer/],
      [{ ...good(), key: [1, 2 ** 32] }, /key.*uint32/],
      [{ ...good(), loss: 'nope' }, /loss.*expected a number/],
      [{ ...good(), params: { w: { dtype: 'float64', shape: [3], data: [1, 2] } } }, /params\.w/],
      [{ ...good(), format: 'other' }, /format/],
      [{ ...good(), extra: 1 }, /extra/],
    ]
    for (const [u, re] of cases) {
      const r = decodeState(u)
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(r.left.errors.join('\n')).toMatch(re)
    }
    const bad = parseState('{"format": ')
    expect(E.isLeft(bad) && bad.left.errors[0]).toMatch(/not valid JSON/)
  })

  it('never throws, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const r1 = decodeState(a)
        const r2 = decodeState({ ...good(), params: b })
        return (E.isLeft(r1) || E.isRight(r1)) && (E.isLeft(r2) || E.isRight(r2))
      }),
      { numRuns: 300 },
    )
  })

  it('a missing or corrupt file is a Left naming the file', async () => {
    const missing = await loadState(join(tmp, 'nope.json'))
    expect(E.isLeft(missing) && missing.left.message).toMatch(/nope\.json: cannot read/)
    const f = join(tmp, 'corrupt.json')
    writeFileSync(f, '{"format":"purediff-train-state","version":1}')
    const r = loadStateSync(f)
    expect(E.isLeft(r) && r.left.message).toMatch(/corrupt\.json.*step/)
    expect(E.isLeft(r) && r.left.source).toBe(f)
  })
})

// -------------------------------------------------------------------------------------
// stop conditions
// -------------------------------------------------------------------------------------

/** Synthetic progress records, for testing the combinators without training. */
const fake = (losses: ReadonlyArray<number>, perEpoch = 2) =>
  S.fromArray(
    losses.map((loss, i) =>
      Object.freeze({
        step: i + 1,
        epoch: Math.floor((i + 1) / perEpoch),
        epochEnd: (i + 1) % perEpoch === 0,
        loss,
        metrics: Object.freeze({ acc: 1 - loss }) as Readonly<Record<string, number>>,
        params: i + 1,
      }),
    ),
  )

describe('stop conditions', () => {
  it('untilStep pulls exactly the states up to n (no extra training step)', () => {
    let calls = 0
    const cfg = {
      params: zerosLin(2),
      loss: (p: Lin, b: XY) => {
        calls++
        return mseLoss(p, b)
      },
      optimizer: sgd<Lin>(0.1),
      data: fromTensors(problem(8, 2, 1)),
      batchSize: 8,
      key: key(0),
      jit: false, // counts eager loss calls
    }
    expect(S.toArray(untilStep(5)(train(cfg))).length).toBe(5)
    expect(calls).toBe(5)
    expect(S.toArray(untilStep(0)(train(cfg)))).toEqual([])
    expect(() => untilStep(-1)).toThrow(PurediffError)
  })

  it('untilLoss keeps the first state at or below the target and stops', () => {
    expect(S.toArray(untilLoss(0.3)(fake([0.9, 0.5, 0.3, 0.1]))).map((s) => s.step)).toEqual([1, 2, 3])
    expect(S.toArray(untilLoss(0)(fake([0.9, 0.5]))).length).toBe(2)
  })

  it('patience stops after k states without improvement (min and max modes)', () => {
    // best 0.5 at step 2; steps 3, 4, 5 do not beat it -> stop at step 5 with k = 3
    const losses = [0.9, 0.5, 0.6, 0.5, 0.7, 0.1]
    expect(S.toArray(patience(3, (s: { loss: number }) => s.loss)(fake(losses))).map((s) => s.step)).toEqual([
      1, 2, 3, 4, 5,
    ])
    // acc = 1 - loss: the same run under 'max' on the metric name
    expect(S.toArray(patience(3, 'acc', { mode: 'max' })(fake(losses))).map((s) => s.step)).toEqual([1, 2, 3, 4, 5])
    // minDelta 0.45: 0.9 -> 0.5 is not enough; nothing improves after step 1 -> stop at 1 + 2
    expect(S.toArray(patience(2, 'acc', { mode: 'max', minDelta: 0.45 })(fake(losses))).map((s) => s.step)).toEqual([
      1, 2, 3,
    ])
    expect(() => S.toArray(patience(2, 'missing')(fake(losses)))).toThrow(/no metric "missing"/)
  })

  it('everyEpoch keeps the epoch ends; withMetric and untilAccuracy record and stop', () => {
    const losses = [0.9, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05]
    expect(S.toArray(everyEpoch(fake(losses))).map((s) => s.step)).toEqual([2, 4, 6, 8])
    let evaluations = 0
    const evalFn = (p: number): number => {
      evaluations++
      return p / 10 // "accuracy" from the params (here the step)
    }
    const out = S.toArray(untilAccuracy(0.5, evalFn, 'val')(everyEpoch(fake(losses))))
    expect(out.map((s) => [s.step, s.metrics['val']])).toEqual([
      [2, 0.2],
      [4, 0.4],
      [6, 0.6],
    ])
    expect(evaluations).toBe(3)
    const w = S.toArray(withMetric('double', (s: { loss: number }) => 2 * s.loss)(fake([0.25])))
    expect(w[0]?.metrics).toEqual({ acc: 0.75, double: 0.5 })
    expect(Object.isFrozen(w[0]) && Object.isFrozen(w[0]?.metrics)).toBe(true)
  })

  it('withMetrics merges a record of measurements; withEpochLoss is the running mean of each epoch', () => {
    const w = S.toArray(withMetrics((s: { loss: number }) => ({ half: s.loss / 2, acc: 0 }))(fake([0.5])))
    // a name already present (acc) is overwritten, others are kept
    expect(w[0]?.metrics).toEqual({ acc: 0, half: 0.25 })
    expect(Object.isFrozen(w[0]) && Object.isFrozen(w[0]?.metrics)).toBe(true)
    // three steps per epoch: the mean restarts after each epoch end
    const losses = [3, 6, 9, 1, 2, 6, 10]
    const e = S.toArray(withEpochLoss()(fake(losses, 3)))
    expect(e.map((s) => s.metrics['epochLoss'])).toEqual([3, 4.5, 6, 1, 1.5, 3, 10])
    // the per-epoch means, computed by hand from the losses: (3+6+9)/3 and (1+2+6)/3
    expect(S.toArray(everyEpoch(withEpochLoss('mean')(fake(losses, 3)))).map((s) => s.metrics['mean'])).toEqual([6, 3])
    // the source states are untouched
    expect(S.toArray(fake(losses, 3))[0]?.metrics).toEqual({ acc: -2 })
    // replay: iterating the combined stream twice gives the same values
    const twice = withEpochLoss()(fake(losses, 3))
    expect(S.toArray(twice).map((s) => s.metrics['epochLoss'])).toEqual(
      S.toArray(twice).map((s) => s.metrics['epochLoss']),
    )
  })

  it('a real run stops on a target loss long before the step budget', () => {
    const cfg = {
      params: zerosLin(2),
      loss: mseLoss,
      optimizer: adam<Lin>(0.1),
      data: fromTensors(problem(40, 2, 6)),
      batchSize: 40,
      key: key(0),
    }
    const run = S.toArray(pipe(train(cfg), untilLoss(0.01), untilStep(2000)))
    const last = run[run.length - 1] as TrainState<Lin, unknown>
    expect(last.loss).toBeLessThanOrEqual(0.01)
    expect(last.step).toBeLessThan(2000)
    // The noise has variance 0.1² / 3 ≈ 0.0033, so a loss of 0.01 means w ≈ [1, 2], b ≈ 0.5.
    expect(bits(last.params.w).map((v) => Math.round(v))).toEqual([1, 2])
  })
})

describe('evaluate', () => {
  it('is the size-weighted mean over batches, i.e. the mean over the whole set', () => {
    const values = [3, 1, 4, 1, 5, 9, 2]
    const data = fromTensors({ v: tensor(values) })
    const meanOf = (_: unknown, b: { v: Tensor }): Tensor => mean(b.v)
    const exact = values.reduce((a, b) => a + b, 0) / values.length
    for (const bs of [1, 2, 3, 7, 100]) expect(evaluate(meanOf, data, bs)(null)).toBeCloseTo(exact, 14)
    expect(() => evaluate(() => tensor([1, 2]), data, 3)(null)).toThrow(/scalar/)
    // also a number result
    expect(evaluate((_: unknown, b: { v: Tensor }) => sum(b.v).item() / b.v.size, data, 2)(null)).toBeCloseTo(exact, 14)
  })
})

describe('dtype', () => {
  it('float32 weights stay float32 through the updates', () => {
    const cfg = {
      params: zerosLin(2, 'float32'),
      loss: mseLoss,
      optimizer: sgd<Lin>(0.1),
      data: fromTensors(problem(8, 2, 1, 'float32')),
      batchSize: 4,
      key: key(0),
    }
    const s = O.toUndefined(S.last(untilStep(3)(train(cfg)))) as TrainState<Lin, unknown>
    expect([s.params.w.dtype, s.params.b.dtype]).toEqual(['float32', 'float32'])
  })
})
