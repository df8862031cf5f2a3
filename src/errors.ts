/**
 * One error class for programming errors (shape mismatches, non-scalar outputs to `grad`,
 * escaped tracers, mismatched trees, bad constructor input). Every error carries a tag,
 * the op or transform that raised it, the shapes involved and, where it applies, the key
 * path in the parameter record, so a message alone is enough to find the bug.
 *
 * Data at the boundary (checkpoints, configs) never throws: it is decoded into an fp-ts
 * `Either` by `src/io/`.
 */

/** @category model */
export type ErrorTag =
  'ShapeError' | 'DTypeError' | 'ValueError' | 'TreeError' | 'EscapedTracer' | 'NonScalarOutput' | 'ConcretizationError'

/** @category model */
export interface ErrorDetails {
  readonly op?: string
  readonly shapes?: ReadonlyArray<ReadonlyArray<number>>
  readonly path?: string
  /**
   * The values the failing op was given (its operands), in the order of `shapes`. They are
   * not printed: a transform that knows which of them are leaves of its argument (a
   * parameter record) names their key paths (`keyPathsOf`, `withPath`). Kept off the error
   * object itself, so it serialises and prints as before.
   */
  readonly operands?: ReadonlyArray<unknown>
}

/** The operands an error was raised over (see `ErrorDetails.operands`). */
const operandsByError = new WeakMap<object, ReadonlyArray<unknown>>()

const fmtShape = (s: ReadonlyArray<number>): string => `[${s.join(', ')}]`

/**
 * The error every purediff programming error is thrown as. `message` is the description
 * alone (`hvp: expected a scalar output, got shape [2]`); the tag is a field, and
 * `toString()` and the first line of `stack` show both once
 * (`PurediffError [NonScalarOutput]: hvp: ...`), as Node shows its coded errors.
 * @example
 * const error = (() => {
 *   try {
 *     add(zeros([2]), zeros([3]))
 *   } catch (e) {
 *     return e as PurediffError
 *   }
 * })()
 * error?.tag // 'ShapeError'
 * error?.op // 'add'
 * error?.shapes // [[2], [3]]
 * @category model
 * @since 0.1.0
 */
export class PurediffError extends Error {
  override readonly name = 'PurediffError'
  readonly tag: ErrorTag
  readonly op: string | undefined
  readonly shapes: ReadonlyArray<ReadonlyArray<number>> | undefined
  readonly path: string | undefined
  /** The description alone, without the op, the shapes and the key path. */
  readonly detail: string
  constructor(tag: ErrorTag, message: string, details: ErrorDetails = {}) {
    const parts = [details.op !== undefined ? `${details.op}: ` : '', message]
    if (details.shapes !== undefined && details.shapes.length > 0) {
      parts.push(` (shapes ${details.shapes.map(fmtShape).join(' and ')})`)
    }
    if (details.path !== undefined && details.path !== '') parts.push(` at key path '${details.path}'`)
    const text = parts.join('')
    super(text)
    this.tag = tag
    this.detail = message
    this.op = details.op
    this.shapes = details.shapes
    this.path = details.path
    if (details.operands !== undefined) operandsByError.set(this, details.operands)
    // The stack's first line names the class and the tag once (V8 formats it lazily from `name`).
    const stack = this.stack
    if (typeof stack === 'string') {
      const head = `${this.name}: ${text}`
      const i = stack.indexOf(head)
      if (i >= 0) this.stack = `${stack.slice(0, i)}${this.toString()}${stack.slice(i + head.length)}`
    }
  }

  /** `PurediffError [Tag]: message`. */
  override toString(): string {
    return `${this.name} [${this.tag}]: ${this.message}`
  }
}

/**
 * The error for a call that lacks an argument, e.g. `mul(2)` written for a pipe: it says
 * "missing argument" and points at the data-last form (`pipeable.mul(2)`). @internal
 */
export const missingArgument = (op: string, what = 'an argument'): PurediffError =>
  new PurediffError(
    'ValueError',
    `missing argument (${what}). ${op} takes its data first, ${op}(x, ...); in a pipe, use the data-last form from purediff/pipeable: pipe(x, pipeable.${op}(...))`,
    { op },
  )

/**
 * The same error raised one level up: `prefix` goes before its key path (a layer's `w`
 * becomes `layers[1].w`), and `op` (if given) replaces its op. @internal
 */
export const atPath = (e: PurediffError, prefix: string, op?: string): PurediffError =>
  new PurediffError(e.tag, e.detail, {
    ...((op ?? e.op) !== undefined ? { op: (op ?? e.op) as string } : {}),
    ...(e.shapes !== undefined ? { shapes: e.shapes } : {}),
    path:
      e.path === undefined || e.path === ''
        ? prefix
        : e.path.startsWith('[')
          ? `${prefix}${e.path}`
          : `${prefix}.${e.path}`,
  })

/** The operands of the op that raised `e`, if it recorded them. @internal */
export const operandsOf = (e: PurediffError): ReadonlyArray<unknown> | undefined => operandsByError.get(e)

/**
 * `e`, remembering the operands of the op that raised it (for an error raised by a helper
 * that saw only shapes, such as `broadcastShapes`). Returns `e` itself; nothing user-visible
 * changes. @internal
 */
export const withOperands = (e: unknown, operands: ReadonlyArray<unknown>): unknown => {
  if (e instanceof PurediffError && !operandsByError.has(e)) operandsByError.set(e, operands)
  return e
}

/**
 * The same error naming a key path (`layers[1].w`), for an error raised without one. The
 * stack stays the original's (its frames point at the failing op), and so do the operands.
 * @internal
 */
export const withPath = (e: PurediffError, path: string): PurediffError => {
  const operands = operandsOf(e)
  const out = new PurediffError(e.tag, e.detail, {
    ...(e.op !== undefined ? { op: e.op } : {}),
    ...(e.shapes !== undefined ? { shapes: e.shapes } : {}),
    ...(operands !== undefined ? { operands } : {}),
    path,
  })
  const frames = typeof e.stack === 'string' ? e.stack.indexOf('\n    at ') : -1
  if (frames >= 0) out.stack = `${out.toString()}${(e.stack as string).slice(frames)}`
  return out
}

/** @internal */
export const shapeError = (op: string, message: string, ...shapes: ReadonlyArray<number>[]): PurediffError =>
  new PurediffError('ShapeError', message, { op, shapes })

export { fmtShape }
