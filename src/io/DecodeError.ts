/**
 * The one shape of every failure at the data boundary: `PurediffDecodeError`. Whatever reads
 * data from outside (schema and tree decoding, `decodeSafetensors`, `parseCheckpoint`,
 * `io.load*`, `decodeState`, `parseState`, `loadState*`) returns an fp-ts
 * `Either<PurediffDecodeError, A>`, never throws on bad data, and reports every problem as a
 * `{ path, message }` pair: the key path where it was found (in the parameter tree for
 * checkpoints and schemas, in the state document for training states; `''` for the value as
 * a whole) and what was wrong there. `formatError` prints the report, one line per problem.
 *
 * The io-ts codecs (`schema.codec`, `TreeCodec`, `TrainStateCodec`) stay io-ts `Type`s, so
 * they compose with io-ts combinators; their `decode` returns io-ts `Errors`, which
 * `fromIoTsErrors` turns into this shape (`decodeWith(codec)` does both).
 *
 * Messages never embed an untrusted structure: values are described by kind and size
 * (`describe`), so a hostile input cannot make a report huge or overflow the stack.
 *
 * Purity: every error is a frozen record built fresh; nothing here performs I/O.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { at, describe, pathOf } from './report.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What went wrong: the bytes could not be read (`ReadError`), they are not a well-formed
 * document of the expected format (`FormatError`), or the document does not match the
 * expected type or schema (`DecodeError`).
 * @category model
 * @since 0.2.0
 */
export type DecodeErrorKind = 'ReadError' | 'FormatError' | 'DecodeError'

/**
 * One problem: where (`path`, a key path such as `layers[0].w.shape[1]`; `''` for the whole
 * value) and what (`message`, without the path).
 * @category model
 * @since 0.2.0
 */
export interface DecodeIssue {
  readonly path: string
  readonly message: string
}

/**
 * The failure of every decoder and loader at the boundary.
 * - `kind`: `ReadError`, `FormatError` or `DecodeError`;
 * - `source`: the file read, when there was one;
 * - `format`: the format it was read as ('json' or 'safetensors'), when known;
 * - `issues`: every problem, path by path;
 * - `errors`: the same as readable lines (`at 'w.shape[1]': expected ...`);
 * - `message`: the lines on one line, prefixed by the source.
 * @example
 * const r = schema.tensor([2]).decode({ dtype: 'float64', shape: [3], data: [1, 2, 3] })
 * isLeft(r) && isPurediffDecodeError(r.left) // true
 * if (isLeft(r)) console.log(formatError(r.left))
 * @category model
 * @since 0.2.0
 */
export interface PurediffDecodeError {
  readonly _tag: 'PurediffDecodeError'
  readonly kind: DecodeErrorKind
  readonly source: string | undefined
  readonly format: 'json' | 'safetensors' | undefined
  readonly issues: ReadonlyArray<DecodeIssue>
  readonly errors: ReadonlyArray<string>
  readonly message: string
}

/** @category model @since 0.2.0 */
export interface DecodeErrorContext {
  readonly source?: string | undefined
  readonly format?: 'json' | 'safetensors' | undefined
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** At most this many lines are kept in `errors` and `message` (all issues stay in `issues`). */
const MAX_LINES = 100

/** The readable line of one issue. */
const lineOf = (i: DecodeIssue): string => at(i.path, i.message)

/**
 * Build a decode error from issues (duplicates dropped, order kept).
 * @example
 * const e = decodeError('FormatError', [{ path: '', message: 'the file is empty' }], { source: 'a.json' })
 * e.kind // 'FormatError'
 * e.source // 'a.json'
 * // a repeated issue is kept once
 * decodeError('FormatError', [{ path: 'w', message: 'NaN' }, { path: 'w', message: 'NaN' }]).issues.length // 1
 * @category constructors
 * @since 0.2.0
 */
export const decodeError = (
  kind: DecodeErrorKind,
  issues: ReadonlyArray<DecodeIssue>,
  context: DecodeErrorContext = {},
): PurediffDecodeError => {
  const seen = new Set<string>()
  const kept: DecodeIssue[] = []
  for (const i of issues) {
    const line = lineOf(i)
    if (seen.has(line)) continue
    seen.add(line)
    kept.push(Object.freeze({ path: i.path, message: i.message }))
  }
  if (kept.length === 0) kept.push(Object.freeze({ path: '', message: 'invalid value' }))
  const lines = kept.slice(0, MAX_LINES).map(lineOf)
  if (kept.length > MAX_LINES) lines.push(`... and ${kept.length - MAX_LINES} more problems`)
  const source = context.source
  const joined = lines.join('; ')
  return Object.freeze({
    _tag: 'PurediffDecodeError' as const,
    kind,
    source,
    format: context.format,
    issues: Object.freeze(kept),
    errors: Object.freeze(lines),
    message: source === undefined ? joined : `${source}: ${joined}`,
  })
}

/**
 * A decode error from plain messages, each about the value as a whole (path `''`).
 * @category constructors
 * @since 0.2.0
 */
export const decodeErrorOf = (
  kind: DecodeErrorKind,
  messages: ReadonlyArray<string>,
  context: DecodeErrorContext = {},
): PurediffDecodeError =>
  decodeError(
    kind,
    messages.map((message) => ({ path: '', message })),
    context,
  )

/** `prefix` and `path` joined as key paths (`optState` + `[0].count`, `params` + `w`). */
export const joinPath = (prefix: string, path: string): string =>
  prefix === '' ? path : path === '' ? prefix : path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`

/**
 * The issues of io-ts errors: each names the key path of its context and what was wrong.
 * Paths are prefixed with `prefix` (the place of the decoded value in a larger document).
 * @category constructors
 * @since 0.2.0
 */
export const issuesOf = (errors: t.Errors, prefix = ''): ReadonlyArray<DecodeIssue> =>
  errors.map((e) => {
    const path = pathOf(e.context)
    let message: string
    if (e.message !== undefined) {
      // Messages from `failAt` already start with their path; keep it once, as a field.
      const head = `at '${path}': `
      message = path !== '' && e.message.startsWith(head) ? e.message.slice(head.length) : e.message
    } else {
      const last = e.context[e.context.length - 1]
      message = `expected ${last === undefined ? 'a valid value' : last.type.name}, got ${describe(e.value)}`
    }
    return { path: joinPath(prefix, path), message }
  })

/**
 * io-ts errors as a `PurediffDecodeError` (kind `DecodeError` unless given).
 * @example
 * E.mapLeft(fromIoTsErrors)(TreeCodec.decode({ w: { dtype: 'float64', shape: [2, -3], data: [] } })) // Left: issues path by path
 * isLeft(TreeCodec.decode({ w: { dtype: 'float64', shape: [2, -3], data: [] } })) // true
 * @category constructors
 * @since 0.2.0
 */
export const fromIoTsErrors = (
  errors: t.Errors,
  kind: DecodeErrorKind = 'DecodeError',
  context: DecodeErrorContext = {},
): PurediffDecodeError => decodeError(kind, issuesOf(errors), context)

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Whether a value is a `PurediffDecodeError`.
 * @example
 * const r = loadSync('out/no-such-file.json')
 * isLeft(r) && isPurediffDecodeError(r.left) // true
 * isPurediffDecodeError(new Error('x')) // false
 * @category utils
 * @since 0.2.0
 */
export const isPurediffDecodeError = (u: unknown): u is PurediffDecodeError =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'PurediffDecodeError'

/**
 * The report of a decode error: a heading with the kind, the source and the count, then one
 * line per problem, each naming its key path.
 * @example
 * formatError(decodeError('DecodeError', [{ path: 'w.shape[1]', message: 'expected 3, got 2' }], { source: 'ckpt.json' }))
 * formatError(decodeError('DecodeError', [{ path: 'w.shape[1]', message: 'expected 3, got 2' }], { source: 'ckpt.json' })).includes("at 'w.shape[1]': expected 3, got 2") // true
 * // "DecodeError in ckpt.json: 1 problem\n  at 'w.shape[1]': expected 3, got 2"
 * @category utils
 * @since 0.2.0
 */
export const formatError = (e: PurediffDecodeError): string => {
  const n = e.issues.length
  const head = `${e.kind}${e.source === undefined ? '' : ` in ${e.source}`}: ${n} problem${n === 1 ? '' : 's'}`
  return [head, ...e.errors.map((l) => `  ${l}`)].join('\n')
}

/**
 * Decode with an io-ts codec and report failures as a `PurediffDecodeError`.
 * @example
 * decodeWith(TreeCodec)({ w: { dtype: 'float64', shape: [1], data: [1] } }) // Right({ w })
 * isRight(decodeWith(TreeCodec)({ w: { dtype: 'float64', shape: [1], data: [1] } })) // true
 * @category utils
 * @since 0.1.0
 */
export const decodeWith =
  <A, O>(codec: t.Type<A, O, unknown>) =>
  (u: unknown): E.Either<PurediffDecodeError, A> =>
    E.mapLeft((errors: t.Errors) => fromIoTsErrors(errors))(codec.decode(u))
