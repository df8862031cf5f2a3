/**
 * Readable, path-by-path reports for io-ts decoding. Every failure raised by `src/io/`
 * carries a message that already names the key path where it happened (`layers[0].w.shape[1]`),
 * so io-ts's own `PathReporter` prints useful lines too; `formatErrors` is the same report
 * without the io-ts type names, and it fills in a path for failures that come from plain
 * io-ts combinators (which carry no message).
 *
 * Purity: these are pure functions of io-ts contexts; nothing here is mutated after it is built.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const IDENT = /^[A-Za-z_$][\w$]*$/

/**
 * Append one key to a key path, the way `src/tree/` writes paths: `a.b`, `a[0]`, `a["x y"]`.
 * @example
 * joinKey('layers', 0) // 'layers[0]'
 * joinKey('layers[0]', 'w') // 'layers[0].w'
 * joinKey('head', 'x y') // 'head["x y"]'
 * @category utils
 * @since 0.1.0
 */
export const joinKey = (path: string, key: string | number): string =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : IDENT.test(key)
      ? path === ''
        ? key
        : `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`

/**
 * The key path an io-ts context points at. Entries whose parent value is an array are
 * written as indices; the root entry (key `''`) contributes nothing.
 * @example
 * // `errors`: io-ts errors of { w: a tensor whose shape is [2, -3] }
 * pathOf(errors[0].context) // 'w.shape[1]'
 * @category utils
 * @since 0.1.0
 */
export const pathOf = (c: t.Context): string => {
  let path = ''
  for (let i = 1; i < c.length; i++) {
    const entry = c[i] as t.ContextEntry
    const parent = (c[i - 1] as t.ContextEntry).actual
    if (entry.key === '') continue
    path =
      Array.isArray(parent) && /^(0|[1-9]\d*)$/.test(entry.key)
        ? joinKey(path, Number(entry.key))
        : joinKey(path, entry.key)
  }
  return path
}

/** `at 'path': message`, or just the message at the root. @internal */
export const at = (path: string, message: string): string => (path === '' ? message : `at '${path}': ${message}`)

/** A one-line description of an offending value, never longer than a line. @internal */
export const describe = (u: unknown): string => {
  if (u === null) return 'null'
  if (u === undefined) return 'undefined'
  if (typeof u === 'number') return Number.isNaN(u) ? 'NaN' : Object.is(u, -0) ? '-0' : String(u)
  if (typeof u === 'string') {
    const s = JSON.stringify(u)
    return s.length > 40 ? `the string ${s.slice(0, 37)}..."` : `the string ${s}`
  }
  if (typeof u === 'boolean') return `the boolean ${u}`
  if (Array.isArray(u)) return `an array of length ${u.length}`
  if (typeof u === 'function') return 'a function'
  if (typeof u === 'object') return 'an object'
  return typeof u
}

/**
 * A name from untrusted data, quoted as JSON and cut to at most 60 characters, so a report
 * stays short whatever the input holds. @internal
 */
export const quote = (s: string): string => {
  const q = JSON.stringify(s.length > 60 ? s.slice(0, 57) : s)
  return s.length > 60 ? `${q.slice(0, -1)}..."` : q
}

/** A failure whose message names the key path of `c`. @internal */
export const failAt = <A>(u: unknown, c: t.Context, message: string): t.Validation<A> =>
  E.left([{ value: u, context: c, message: at(pathOf(c), message) }])

/** A child context, as io-ts combinators build them. @internal */
export const child = (c: t.Context, key: string, type: t.Decoder<unknown, unknown>, actual: unknown): t.Context => [
  ...c,
  { key, type, actual },
]

/**
 * Readable lines for io-ts errors: each names the key path and what was wrong. Duplicate
 * lines are dropped; order is kept.
 * @example
 * formatErrors(errors) // ["at 'w.shape[1]': expected a non-negative integer, got -3"]
 * formatErrors(errors).length // 1
 * formatErrors(errors)[0]?.startsWith("at 'w.shape[1]'") // true
 * @category utils
 * @since 0.1.0
 */
export const formatErrors = (errors: t.Errors): ReadonlyArray<string> => {
  const lines = errors.map((e) => {
    if (e.message !== undefined) return e.message
    const last = e.context[e.context.length - 1]
    const expected = last === undefined ? 'a valid value' : last.type.name
    return at(pathOf(e.context), `expected ${expected}, got ${describe(e.value)}`)
  })
  return Object.freeze([...new Set(lines)])
}
