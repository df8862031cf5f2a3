/**
 * A bounded fuzz test of every loader: valid JSON checkpoints, safetensors checkpoints and
 * training states are mutated (bytes flipped, inserted, deleted, truncated, spans duplicated,
 * number literals swapped for overflowing ones, brackets piled up, header length rewritten)
 * and each load must return `Right` or a `Left` holding a `PurediffDecodeError` with a short
 * report: never throw. The count is fixed (seeded, 3 000 mutants in all, a few hundred
 * through real files) and nothing is timed.
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodeSafetensors,
  encodeSafetensors,
  isPurediffDecodeError,
  load,
  loadSync,
  parseCheckpoint,
  schema,
  stringifyCheckpoint,
} from '../../src/io/index.js'
import { loadProgram } from '../../src/io/checkpoint.js'
import { tensor } from '../../src/tensor/Tensor.js'
import { loadStateSync, parseState } from '../../src/train/index.js'
import { tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

const tree = {
  layers: [
    {
      w: tensor([
        [1, -2],
        [3.5, NaN],
      ]),
      b: tensor([0, -0], 'float32'),
    },
  ],
  lr: 0.1,
  mask: tensor([Infinity, 1], 'float32'),
  'odd key': tensor(2),
}
const net = schema.record({
  layers: schema.tuple(
    schema.record({ w: schema.tensor([2, 2], { allowNaN: true }), b: schema.tensor([2], { dtype: 'float32' }) }),
  ),
  lr: schema.number(),
  mask: schema.tensor([2], { dtype: 'float32' }),
  'odd key': schema.tensor([]),
})
const enc = new TextEncoder()
const seeds: Record<string, Uint8Array> = {
  json: enc.encode(stringifyCheckpoint(tree, { step: '3' })),
  safetensors: encodeSafetensors(
    {
      b: tensor([1, 2]),
      w: tensor(
        [
          [1, 2],
          [3, 4],
        ],
        'float32',
      ),
      'l[0].x': tensor(5),
    },
    { step: '3' },
  ),
  state: enc.encode(
    JSON.stringify({
      format: 'purediff-train-state',
      version: 1,
      step: 2,
      epoch: 0,
      epochEnd: false,
      loss: 0.5,
      metrics: { acc: 'NaN' },
      key: [1, 2],
      params: { w: { dtype: 'float64', shape: [2], data: [1, '-0'] } },
      optState: [{ count: 2, mu: { w: { dtype: 'float64', shape: [2], data: [0, 0] } } }, {}],
    }),
  ),
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: ReadonlyArray<number> }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'text'; readonly at: number; readonly text: string }
  | { readonly kind: 'length'; readonly value: bigint }

const TEXTS = [
  '1e400',
  '-1e400',
  '"NaN"',
  'null',
  '[',
  ']',
  '{',
  '}',
  '"dtype"',
  ',',
  ':',
  '"\\ud800"',
  '[[[[[[[[',
  '"__metadata__"',
  '"shape":[',
  '-0',
  '9007199254740993',
  '"F16"',
  '"data_offsets":[0,',
  '['.repeat(600),
]

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('text' as const), at: fc.nat(), text: fc.constantFrom(...TEXTS) }),
  fc.record({
    kind: fc.constant('length' as const),
    value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 400n })),
  }),
)

const mutate = (src: Uint8Array, ms: ReadonlyArray<Mutation>): Uint8Array => {
  let b = src
  for (const m of ms) {
    const at = b.length === 0 ? 0 : ('at' in m ? m.at : 0) % (b.length + 1)
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) {
          b = b.slice()
          b[at % b.length] = m.byte
        }
        break
      case 'insert':
        b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)])
        break
      case 'delete':
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.length)])
        break
      case 'truncate':
        b = b.slice(0, at)
        break
      case 'duplicate':
        b = new Uint8Array([
          ...b.subarray(0, at + m.length),
          ...b.subarray(at, at + m.length),
          ...b.subarray(at + m.length),
        ])
        break
      case 'text':
        b = new Uint8Array([...b.subarray(0, at), ...enc.encode(m.text), ...b.subarray(at)])
        break
      case 'length':
        if (b.length >= 8) {
          b = b.slice()
          new DataView(b.buffer).setBigUint64(0, m.value, true)
        }
        break
    }
  }
  return b
}

const seen = { right: 0, left: 0 }

/** Right, or a Left holding a PurediffDecodeError whose report is short: anything else fails. */
const wellBehaved = (r: unknown): void => {
  const e = r as E.Either<unknown, unknown>
  expect(E.isLeft(e) || E.isRight(e)).toBe(true)
  seen[E.isLeft(e) ? 'left' : 'right']++
  if (E.isLeft(e)) {
    expect(isPurediffDecodeError(e.left)).toBe(true)
    const err = e.left as { message: string; issues: ReadonlyArray<unknown> }
    expect(err.issues.length).toBeGreaterThan(0)
    expect(err.message.length).toBeLessThan(100 * 500)
  }
}

/** Run the loader's read program over bytes in memory (the same decoder `load` runs). */
const loadBytes = (name: string, bytes: Uint8Array, withSchema: boolean): unknown => {
  const program = loadProgram(name, bytes.length, withSchema ? { schema: net } : {})
  let step = program.next()
  while (step.done !== true)
    step = program.next(bytes.slice(step.value.position, step.value.position + step.value.length))
  return step.value
}

const dec = new TextDecoder()
const arbCase = (seed: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc.array(arbMutation, { minLength: 1, maxLength: 4 }).map((ms) => mutate(seed, ms))

describe('fuzz: mutated checkpoints never make a loader throw', () => {
  it('JSON checkpoints (800 mutants, each decoded four ways)', () => {
    fc.assert(
      fc.property(arbCase(seeds['json'] as Uint8Array), (bytes) => {
        wellBehaved(parseCheckpoint(dec.decode(bytes)))
        wellBehaved(loadBytes('c.json', bytes, false))
        wellBehaved(loadBytes('c.json', bytes, true))
        wellBehaved(loadBytes('c', bytes, false)) // format sniffed
      }),
      { numRuns: 800, seed: 7 },
    )
  })

  it('safetensors checkpoints (1200 mutants, each decoded five ways)', () => {
    fc.assert(
      fc.property(arbCase(seeds['safetensors'] as Uint8Array), (bytes) => {
        wellBehaved(decodeSafetensors(bytes))
        wellBehaved(loadBytes('c.safetensors', bytes, false))
        wellBehaved(loadBytes('c.safetensors', bytes, true))
        const flat = loadProgram('c.safetensors', bytes.length, { flat: true })
        let step = flat.next()
        while (step.done !== true)
          step = flat.next(bytes.slice(step.value.position, step.value.position + step.value.length))
        wellBehaved(step.value)
      }),
      { numRuns: 1200, seed: 11 },
    )
  })

  it('training states (700 mutants)', () => {
    fc.assert(
      fc.property(arbCase(seeds['state'] as Uint8Array), (bytes) => {
        wellBehaved(parseState(dec.decode(bytes)))
      }),
      { numRuns: 700, seed: 13 },
    )
  })

  it('through real files: load, loadSync and loadStateSync (300 mutants)', async () => {
    const kinds = ['json', 'safetensors', 'state'] as const
    const samples = fc.sample(
      fc.tuple(fc.constantFrom(...kinds), fc.array(arbMutation, { minLength: 1, maxLength: 4 })),
      { numRuns: 300, seed: 17 },
    )
    let i = 0
    for (const [kind, ms] of samples) {
      const bytes = mutate(seeds[kind] as Uint8Array, ms)
      const f = tmp.path(`m${i++}.${kind === 'safetensors' ? 'safetensors' : 'json'}`)
      writeFileSync(f, bytes)
      if (kind === 'state') wellBehaved(loadStateSync(f))
      else {
        wellBehaved(loadSync(f))
        wellBehaved(await load(f, { schema: net }))
      }
    }
    expect(i).toBe(300)
  })

  it('the mutants reach both sides: some still load, most are refused', () => {
    expect(seen.right).toBeGreaterThan(20)
    expect(seen.left).toBeGreaterThan(3000)
  })

  it('the harness can fail: a naive loader (JSON.parse without a guard) is caught throwing', () => {
    const naive = (bytes: Uint8Array): unknown => E.right(JSON.parse(dec.decode(bytes)) as unknown)
    const r = fc.check(
      fc.property(arbCase(seeds['json'] as Uint8Array), (bytes) => wellBehaved(naive(bytes))),
      { numRuns: 200, seed: 7 },
    )
    expect(r.failed).toBe(true)
  })

  it('the seeds themselves load (the fuzz starts from valid files)', () => {
    expect(E.isRight(parseCheckpoint(dec.decode(seeds['json'])))).toBe(true)
    expect(E.isRight(loadBytes('c.json', seeds['json'] as Uint8Array, true) as E.Either<unknown, unknown>)).toBe(true)
    expect(E.isRight(decodeSafetensors(seeds['safetensors'] as Uint8Array))).toBe(true)
    expect(E.isRight(parseState(dec.decode(seeds['state'])))).toBe(true)
  })
})
