/**
 * Training checkpoints: a `TrainState` as JSON and back, built on the io codecs
 * (`TreeCodec` for the weights and the optimizer state, `encodeNumber`/`decodeNumber` for
 * the loss and metrics, so NaN, ±Infinity and -0 survive). A state holds everything a run
 * needs to continue (see `train.ts`), so `resume(decoded, config)` yields the same states,
 * bit for bit, as the run that was saved: JSON numbers round-trip float64 exactly, float32
 * tensors keep their dtype, and number leaves stay numbers (an Adam step count must not come
 * back as a tensor, or the bias correction could round differently).
 *
 * The document is `{ format: 'purediff-train-state', version: 1, step, epoch, epochEnd,
 * loss, metrics, key: [hi, lo], params, optState }`. safetensors is not offered for whole
 * states: it turns number leaves into tensors and drops empty records, which would break
 * the bit-identical continuation.
 *
 * Errors: `decodeState`, `parseState` and `loadState` never throw on bad data; they return
 * an fp-ts `Either` whose left side is a `PurediffDecodeError` (the boundary's one error
 * shape) listing every problem with its key path in the state (`optState[0].count`). All of them take
 * optional `StateSchemas` (e.g. io parameter schemas for the weights and the optimizer
 * state), so shapes, dtypes and the optimizer state's structure are checked while loading.
 * `encodeState` throws a `PurediffError` (naming the key path) only for a state holding
 * something that is not a tree (a programming error, e.g. an optimizer state with a string
 * in it). Writes are atomic (temporary file + rename), so a crash never leaves half a
 * checkpoint.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import {
  TreeCodec,
  decodeError,
  decodeNumber,
  encodeNumber,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../io/index.js'
import type { DecodeIssue, JSONNumber, PurediffDecodeError, TreeJSON } from '../io/index.js'
import { issuesOf } from '../io/DecodeError.js'
import { parseJSON } from '../io/json.js'
import { removeStaleTemps, removeStaleTempsSync } from '../io/checkpoint.js'
import { describe, failAt } from '../io/report.js'
import { isKey, keyFromData } from '../random/index.js'
import type { Key } from '../random/index.js'
import type { Tree } from '../tree/Tree.js'
import type { Metrics, TrainState } from './train.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A training state as plain JSON.
 * @category model
 * @since 0.1.0
 */
export interface TrainStateJSON {
  readonly format: 'purediff-train-state'
  readonly version: 1
  readonly step: number
  readonly epoch: number
  readonly epochEnd: boolean
  readonly loss: JSONNumber
  readonly metrics: Readonly<Record<string, JSONNumber>>
  readonly key: readonly [number, number]
  readonly params: TreeJSON
  readonly optState: TreeJSON
}

/**
 * Decoders for the weights and the optimizer state, e.g. io parameter schemas
 * (`schema.record({...})` has a `codec`), to check shapes and dtypes while loading.
 * @category model
 * @since 0.1.0
 */
export interface StateSchemas<P, S> {
  readonly params?: { readonly codec: t.Decoder<unknown, P> }
  readonly optState?: { readonly codec: t.Decoder<unknown, S> }
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/** A float64 number, with NaN, ±Infinity and -0 spelled as strings in JSON. */
const NumberCodec = new t.Type<number, JSONNumber, unknown>(
  'number (or "NaN", "Infinity", "-Infinity", "-0")',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const x = decodeNumber(u)
    return x === undefined ? failAt(u, c, `expected a number, got ${describe(u)}`) : t.success(x)
  },
  encodeNumber,
)

const Count = new t.Type<number, number, unknown>(
  'non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) =>
    typeof u === 'number' && Number.isSafeInteger(u) && u >= 0
      ? t.success(u)
      : failAt(u, c, `expected a non-negative integer, got ${describe(u)}`),
  (n) => n,
)

const KeyCodec = new t.Type<Key, readonly [number, number], unknown>(
  'Key',
  isKey,
  (u, c) => {
    if (isKey(u)) return t.success(keyFromData(u.data))
    const ok =
      Array.isArray(u) &&
      u.length === 2 &&
      u.every((w: unknown) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < 2 ** 32)
    return ok
      ? t.success(keyFromData(u as unknown as readonly [number, number]))
      : failAt(u, c, `expected a key: two uint32 words [hi, lo], got ${describe(u)}`)
  },
  (k) => Object.freeze([k.data[0], k.data[1]] as const),
)

const fieldCodecs = {
  format: t.literal('purediff-train-state'),
  version: t.literal(1),
  step: Count,
  epoch: Count,
  epochEnd: t.boolean,
  loss: NumberCodec,
  metrics: t.record(t.string, NumberCodec),
  key: KeyCodec,
  params: TreeCodec,
  optState: TreeCodec,
}
const Fields = t.strict(fieldCodecs)

/**
 * The codec of a training state whose weights and optimizer state are trees.
 * @example
 * TrainStateCodec.decode(JSON.parse(text)) // Right(state) or Left(errors)
 * isRight(TrainStateCodec.decode(JSON.parse(text))) // true
 * @category instances
 * @since 0.1.0
 */
export const TrainStateCodec: t.Type<TrainState<Tree, Tree>, TrainStateJSON, unknown> = new t.Type<
  TrainState<Tree, Tree>,
  TrainStateJSON,
  unknown
>(
  'TrainState',
  (u): u is TrainState<Tree, Tree> => {
    if (typeof u !== 'object' || u === null) return false
    const s = u as Record<string, unknown>
    return (
      Count.is(s['step']) &&
      Count.is(s['epoch']) &&
      typeof s['epochEnd'] === 'boolean' &&
      typeof s['loss'] === 'number' &&
      isKey(s['key']) &&
      TreeCodec.is(s['params']) &&
      TreeCodec.is(s['optState'])
    )
  },
  (u, c) => {
    // A misspelt field would otherwise be dropped silently, as t.strict does.
    if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
      const extra = Object.keys(u).filter((k) => !Object.prototype.hasOwnProperty.call(fieldCodecs, k))
      if (extra.length > 0)
        return failAt(
          u,
          c,
          `unexpected field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} in a train state`,
        )
    }
    return pipe(
      Fields.validate(u, c),
      E.map((f) =>
        Object.freeze({
          step: f.step,
          epoch: f.epoch,
          epochEnd: f.epochEnd,
          params: f.params,
          optState: f.optState,
          loss: f.loss,
          metrics: Object.freeze({ ...f.metrics }) as Metrics,
          key: f.key,
        }),
      ),
    )
  },
  (s) =>
    Object.freeze({
      format: 'purediff-train-state' as const,
      version: 1 as const,
      step: s.step,
      epoch: s.epoch,
      epochEnd: s.epochEnd,
      loss: encodeNumber(s.loss),
      metrics: Object.freeze(Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [k, encodeNumber(v)]))),
      key: KeyCodec.encode(s.key),
      params: TreeCodec.encode(s.params),
      optState: TreeCodec.encode(s.optState),
    }),
)

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A training state as plain JSON (`JSON.stringify` it, or use `saveState`). Throws a
 * `PurediffError` naming the key path if the weights or optimizer state are not trees.
 * @example
 * const json = encodeState(state)
 * json.step // 0
 * json.format // 'purediff-train-state'
 * @category constructors
 * @since 0.1.0
 */
export const encodeState = <P, S>(state: TrainState<P, S>): TrainStateJSON =>
  TrainStateCodec.encode(state as unknown as TrainState<Tree, Tree>)

/**
 * Decode a training state from parsed JSON (see `TrainStateJSON`); never throws. With
 * schemas, the weights and optimizer state are also decoded against them.
 * @example
 * pipe(decodeState(JSON.parse(text)), E.map((s) => resume(s, config)))
 * isRight(decodeState(JSON.parse(text))) // true
 * @category constructors
 * @since 0.1.0
 */
export function decodeState(u: unknown): E.Either<PurediffDecodeError, TrainState<Tree, Tree>>
export function decodeState<P, S>(
  u: unknown,
  schemas: StateSchemas<P, S>,
): E.Either<PurediffDecodeError, TrainState<P, S>>
export function decodeState(
  u: unknown,
  schemas: StateSchemas<unknown, unknown> = {},
): E.Either<PurediffDecodeError, TrainState<unknown, unknown>> {
  return E.mapLeft((issues: ReadonlyArray<DecodeIssue>) => decodeError('DecodeError', issues, { format: 'json' }))(
    decodeStateIssues(u, schemas),
  )
}

const decodeStateIssues = (
  u: unknown,
  schemas: StateSchemas<unknown, unknown>,
): E.Either<ReadonlyArray<DecodeIssue>, TrainState<unknown, unknown>> => {
  let r: t.Validation<TrainState<Tree, Tree>>
  try {
    r = TrainStateCodec.decode(u)
  } catch (e) {
    // Defensive: a getter that throws on a hostile object must not escape as an exception.
    return E.left([
      {
        path: '',
        message: `could not read the value: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`,
      },
    ])
  }
  if (E.isLeft(r)) return E.left(issuesOf(r.left))
  const s = r.right
  const issues: DecodeIssue[] = []
  let params: unknown = s.params
  let optState: unknown = s.optState
  if (schemas.params !== undefined) {
    const d = schemas.params.codec.decode(s.params)
    if (E.isLeft(d)) issues.push(...issuesOf(d.left, 'params'))
    else params = d.right
  }
  if (schemas.optState !== undefined) {
    const d = schemas.optState.codec.decode(s.optState)
    if (E.isLeft(d)) issues.push(...issuesOf(d.left, 'optState'))
    else optState = d.right
  }
  if (issues.length > 0) return E.left(issues)
  return E.right(Object.freeze({ ...s, params, optState }))
}

/**
 * A training state as JSON text.
 * @example
 * JSON.parse(stringifyState(state)).format // 'purediff-train-state'
 * JSON.parse(stringifyState(state)).params.b.data // [0.05]
 * @category constructors
 * @since 0.1.0
 */
export const stringifyState = <P, S>(state: TrainState<P, S>): string => JSON.stringify(encodeState(state))

/**
 * Parse and decode JSON text; never throws. With schemas (as for `decodeState`), the weights
 * and optimizer state are also decoded against them.
 * @example
 * isRight(parseState(stringifyState(state))) // true
 * isLeft(parseState('{')) // true
 * @category constructors
 * @since 0.1.0
 */
export function parseState(text: string): E.Either<PurediffDecodeError, TrainState<Tree, Tree>>
export function parseState<P, S>(
  text: string,
  schemas: StateSchemas<P, S>,
): E.Either<PurediffDecodeError, TrainState<P, S>>
export function parseState(
  text: string,
  schemas: StateSchemas<unknown, unknown> = {},
): E.Either<PurediffDecodeError, TrainState<unknown, unknown>> {
  return parseIn(text, schemas, undefined)
}

/** Parse and decode; a problem with the text is a `FormatError`, with the state a `DecodeError`. */
const parseIn = (
  text: string,
  schemas: StateSchemas<unknown, unknown>,
  source: string | undefined,
): E.Either<PurediffDecodeError, TrainState<unknown, unknown>> => {
  const doc = parseJSON(text)
  if (E.isLeft(doc)) return E.left(decodeError('FormatError', doc.left, { source, format: 'json' }))
  return E.mapLeft((issues: ReadonlyArray<DecodeIssue>) =>
    decodeError('DecodeError', issues, { source, format: 'json' }),
  )(decodeStateIssues(doc.right, schemas))
}

/**
 * Save a training state to `file` as JSON, atomically.
 * @example
 * await saveState('out/step-1000.json', state)
 * const loaded = await loadState('out/step-1000.json')
 * isRight(loaded) && loaded.right.step === state.step // true
 * @category constructors
 * @since 0.1.0
 */
export const saveState = async <P, S>(file: string, state: TrainState<P, S>): Promise<void> =>
  writeFileAtomic(file, [new TextEncoder().encode(stringifyState(state))])

/**
 * The synchronous twin of `saveState`.
 * @example
 * saveStateSync('out/state.json', state)
 * const r = loadStateSync('out/state.json')
 * isRight(r) && r.right.step === state.step // true
 * @category constructors
 * @since 0.1.0
 */
export const saveStateSync = <P, S>(file: string, state: TrainState<P, S>): void =>
  writeFileAtomicSync(file, [new TextEncoder().encode(stringifyState(state))])

const readFailed = (file: string, e: unknown): E.Either<PurediffDecodeError, never> =>
  E.left(
    decodeError(
      'ReadError',
      [{ path: '', message: `cannot read the file: ${e instanceof Error ? e.message : String(e)}` }],
      { source: file, format: 'json' },
    ),
  )

/**
 * Load a training state saved by `saveState`; never throws (a missing or malformed file is
 * a `Left` listing the problems, each prefixed with the file name). With schemas (the same
 * `StateSchemas` as `decodeState` takes), the weights and the optimizer state are decoded
 * against them while loading, so a file whose optimizer state has the wrong structure (say,
 * one state where a `chain` of two expects a pair) is a `Left` naming the key path now,
 * rather than an exception from `resume` later.
 * @example
 * const params = schema.record({ w: schema.tensor([3, 1]), b: schema.tensor([1]) })
 * const optState = schema.tuple(schema.record({ count: schema.number(), mu: params, nu: params }), schema.record({})) // adam(η)
 * const r = await loadState('out/step-1000.json', { params, optState })
 * if (isRight(r)) pipe(resume(r.right, config), untilStep(2000), last)
 * // a state saved from an SGD run does not have adam's optimizer state: a Left, before resume
 * await saveState('out/sgd.json', state)
 * const mismatch = await loadState('out/sgd.json', { params, optState })
 * isLeft(mismatch) // true
 * @category constructors
 * @since 0.1.0
 */
export function loadState(file: string): Promise<E.Either<PurediffDecodeError, TrainState<Tree, Tree>>>
export function loadState<P, S>(
  file: string,
  schemas: StateSchemas<P, S>,
): Promise<E.Either<PurediffDecodeError, TrainState<P, S>>>
export async function loadState(
  file: string,
  schemas: StateSchemas<unknown, unknown> = {},
): Promise<E.Either<PurediffDecodeError, TrainState<unknown, unknown>>> {
  await removeStaleTemps(file)
  let text: string
  try {
    text = await fsp.readFile(file, 'utf8')
  } catch (e) {
    return readFailed(file, e)
  }
  return parseIn(text, schemas, file)
}

/**
 * The synchronous twin of `loadState` (the same schema options).
 * @example
 * saveStateSync('out/state.json', state)
 * isRight(loadStateSync('out/state.json')) // true
 * isLeft(loadStateSync('out/no-such-file.json')) // true
 * @category constructors
 * @since 0.1.0
 */
export function loadStateSync(file: string): E.Either<PurediffDecodeError, TrainState<Tree, Tree>>
export function loadStateSync<P, S>(
  file: string,
  schemas: StateSchemas<P, S>,
): E.Either<PurediffDecodeError, TrainState<P, S>>
export function loadStateSync(
  file: string,
  schemas: StateSchemas<unknown, unknown> = {},
): E.Either<PurediffDecodeError, TrainState<unknown, unknown>> {
  removeStaleTempsSync(file)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    return readFailed(file, e)
  }
  return parseIn(text, schemas, file)
}
