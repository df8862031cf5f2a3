/**
 * How a law reports that it does not hold: a `LawViolation` error naming the law, the key
 * path responsible, expected and actual values and the tolerance. Properties throw it, so
 * fast-check prints the message under the shrunk counterexample. Also here: law suites
 * (named properties) and the runners that assert or check all of them.
 *
 * Purity: the runners only run properties; nothing is stored between runs.
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a violated law found. @category model @since 0.1.0 */
export interface Violation {
  readonly law: string
  readonly message: string
  /** key path of the element responsible (input or output, as `where` says) */
  readonly path?: string
  readonly where?: 'input' | 'output' | 'state' | 'value'
  readonly expected?: number | string
  readonly actual?: number | string
  readonly tolerance?: number
  readonly details?: ReadonlyArray<string>
}

const fmt = (x: number | string): string =>
  typeof x === 'string' ? x : Number.isFinite(x) ? x.toPrecision(8) : String(x)

/** A readable, multi-line description of a violation. @category utils @since 0.1.0 */
export const formatViolation = (v: Violation): string =>
  [
    `${v.law}: ${v.message}${v.path !== undefined ? ` at ${v.where ?? 'input'} key path '${v.path}'` : ''}`,
    ...(v.expected !== undefined ? [`  expected:  ${fmt(v.expected)}`] : []),
    ...(v.actual !== undefined ? [`  actual:    ${fmt(v.actual)}`] : []),
    ...(v.tolerance !== undefined && typeof v.expected === 'number' && typeof v.actual === 'number'
      ? [`  error:     ${fmt(Math.abs(v.actual - v.expected))} > tolerance ${fmt(v.tolerance)}`]
      : []),
    ...(v.details ?? []).map((d) => `  ${d}`),
  ].join('\n')

/** The error a law's property throws when the law does not hold. @category model @since 0.1.0 */
export class LawViolation extends Error {
  override readonly name = 'LawViolation'
  constructor(readonly violation: Violation) {
    super(formatViolation(violation))
  }
}

/** Throw a `LawViolation`. @category constructors @since 0.1.0 */
export const violate = (v: Violation): never => {
  throw new LawViolation(v)
}

/**
 * A law suite: named fast-check properties (e.g. `{ identity, composition }`).
 * @category model
 * @since 0.1.0
 */
export type LawSuite = { readonly [law: string]: fc.IProperty<unknown> }

// -------------------------------------------------------------------------------------
// runners
// -------------------------------------------------------------------------------------

/**
 * Run every law of a suite with `fc.check`; `Left` holds the report of each failing law
 * (fast-check's message: the shrunk counterexample, the seed and the violation, which is
 * included in the report unless `includeErrorInReport: false` is passed).
 * @category utils
 * @since 0.1.0
 */
export const checkSuite = (
  suite: LawSuite,
  params: fc.Parameters<unknown> = {},
): Either<Readonly<Record<string, string>>, ReadonlyArray<string>> => {
  const failures: Record<string, string> = {}
  for (const [name, prop] of Object.entries(suite)) {
    const details = fc.check(prop, { includeErrorInReport: true, ...params })
    if (details.failed) failures[name] = fc.defaultReportMessage(details) ?? `${name} failed`
  }
  return Object.keys(failures).length > 0 ? E.left(Object.freeze(failures)) : E.right(Object.freeze(Object.keys(suite)))
}

/**
 * Assert every law of a suite (`fc.assert`), naming the failing law in the error.
 * @category utils
 * @since 0.1.0
 */
export const assertSuite = (suite: LawSuite, params: fc.Parameters<unknown> = {}): void => {
  const r = checkSuite(suite, params)
  if (E.isLeft(r)) {
    throw new Error(
      Object.entries(r.left)
        .map(([law, msg]) => `law '${law}' failed:\n${msg}`)
        .join('\n\n'),
    )
  }
}
