/**
 * Training checkpoints against schemas: `loadState`/`loadStateSync` (and `parseState`) take
 * the same schema options as `decodeState`, so a file whose weights or optimizer state have
 * the wrong structure is a `Left` naming the key path at load time, not a throw from deep
 * inside `resume` later.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeError, formatError, schema } from '../../src/io/index.js'
import { mean, square, sub, add, matmul, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import { adam } from '../../src/optim/index.js'
import { key } from '../../src/random/index.js'
import {
  decodeState,
  fromTensors,
  loadState,
  loadStateSync,
  parseState,
  resume,
  saveStateSync,
  train,
  untilStep,
} from '../../src/train/index.js'
import type { TrainConfig, TrainState } from '../../src/train/index.js'
import * as S from '../../src/train/Stream.js'

const tmp = mkdtempSync(join(tmpdir(), 'purediff-train-ckpt-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

type Lin = { readonly w: Tensor; readonly b: Tensor }
type XY = { readonly x: Tensor; readonly y: Tensor }

const params = schema.record({ w: schema.tensor([2, 1]), b: schema.tensor([1]) })
// adam(η) = chain(scaleByAdam(), scaleByLearningRate(η)): a pair of states.
const optState = schema.tuple(schema.record({ count: schema.number(), mu: params, nu: params }), schema.record({}))
const schemas = { params, optState }

const data: XY = {
  x: tensor([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]),
  y: tensor([[1], [2], [3], [4]]),
}
const config = (): TrainConfig<Lin, XY, unknown> => ({
  params: params.init(key(0)),
  loss: (p, b) => mean(square(sub(add(matmul(b.x, p.w), p.b), b.y))),
  optimizer: adam(0.01) as never,
  data: fromTensors(data),
  batchSize: 2,
  key: key(1),
})

const states = S.toArray(untilStep(4)(train(config())))
const mid = states[1] as TrainState<Lin, unknown>

/** The saved JSON document of `mid`, edited. */
const edited = (name: string, f: (doc: Record<string, unknown>) => void): string => {
  const file = join(tmp, name)
  saveStateSync(file, mid)
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  f(doc)
  writeFileSync(file, JSON.stringify(doc))
  return file
}

describe('loadState with schemas', () => {
  it('a good file loads against the schemas (async and sync) and resumes identically', async () => {
    const file = edited('good.json', () => undefined)
    for (const r of [
      await loadState(file, schemas),
      loadStateSync(file, schemas),
      parseState(readFileSync(file, 'utf8'), schemas),
    ]) {
      if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
      expect(r.right.optState[0].count).toBe(2)
      const again = S.toArray(untilStep(4)(resume(r.right as TrainState<Lin, unknown>, config())))
      expect(again.map((s) => s.loss)).toEqual(states.slice(2).map((s) => s.loss))
    }
  })

  it('an optState of the wrong structure is a Left naming the key path at load time', async () => {
    // The chain's pair of states replaced by its first member alone: without a schema this
    // loads, and `resume` refuses it (it checks the state against optimizer.init).
    const file = edited('bad-opt.json', (doc) => {
      doc['optState'] = (doc['optState'] as unknown[])[0]
    })
    const plain = loadStateSync(file)
    expect(E.isRight(plain)).toBe(true)
    if (E.isRight(plain))
      expect(() => S.toArray(untilStep(4)(resume(plain.right as TrainState<Lin, unknown>, config())))).toThrow(
        /^resume: the state's optState does not match the state config\.optimizer keeps/,
      )
    const expected = decodeError(
      'DecodeError',
      [{ path: 'optState', message: 'expected an array of length 2, got an object' }],
      { source: file, format: 'json' },
    )
    expect(expected.message).toBe(`${file}: at 'optState': expected an array of length 2, got an object`)
    expect(await loadState(file, schemas)).toEqual(E.left(expected))
    expect(loadStateSync(file, schemas)).toEqual(E.left(expected))
    expect(loadStateSync(file, { optState })).toEqual(E.left(expected))
  })

  it('reports every problem in params and optState, each with its key path', () => {
    const file = edited('bad-both.json', (doc) => {
      const p = doc['params'] as Record<string, { shape: number[]; data: unknown[] }>
      ;(p['w'] as { shape: number[]; data: unknown[] }).shape = [1, 2]
      const o = doc['optState'] as Array<Record<string, unknown>>
      delete (o[0] as Record<string, unknown>)['nu']
      ;(o[0] as Record<string, unknown>)['count'] = 'NaN'
    })
    const r = loadStateSync(file, schemas)
    expect(E.isLeft(r) && r.left.issues).toEqual([
      { path: 'params.w.shape', message: 'expected shape [2, 1], got [1, 2]' },
      { path: 'optState[0].count', message: 'NaN is not allowed here (the schema sets allowNaN: false)' },
      { path: 'optState[0].nu', message: 'missing key "nu"' },
    ])
    expect(E.isLeft(r) && formatError(r.left)).toBe(
      [
        `DecodeError in ${file}: 3 problems`,
        `  at 'params.w.shape': expected shape [2, 1], got [1, 2]`,
        `  at 'optState[0].count': NaN is not allowed here (the schema sets allowNaN: false)`,
        `  at 'optState[0].nu': missing key "nu"`,
      ].join('\n'),
    )
    // decodeState gives the same issues, without the file name.
    const d = decodeState(JSON.parse(readFileSync(file, 'utf8')), schemas)
    expect(E.isLeft(d) && d.left.issues).toEqual(E.isLeft(r) && r.left.issues)
    expect(E.isLeft(d) && d.left.source).toBe(undefined)
  })

  it('without schemas nothing changes: a missing file is still a Left naming it', async () => {
    const r = await loadState(join(tmp, 'nope.json'), schemas)
    expect(E.isLeft(r) && r.left.kind).toBe('ReadError')
    expect(E.isLeft(r) && r.left.message).toMatch(/nope\.json: cannot read the file/)
  })
})
