/**
 * Validation of transform options: an option a transform does not know is an error, never
 * silently ignored (a misspelt `hasAux` or an `argnums` given to a transform without one
 * would otherwise change nothing and mislead).
 */
import { PurediffError } from '../errors.js'

/** Throw a `ValueError` naming `op` when `options` is not a record or holds a key outside `allowed`. */
export const checkOptions = (op: string, options: unknown, allowed: ReadonlyArray<string>): void => {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PurediffError(
      'ValueError',
      `options must be a record, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
      { op },
    )
  }
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) {
    throw new PurediffError(
      'ValueError',
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ${allowed.length === 0 ? 'it takes no options' : `known: ${allowed.join(', ')}`}`,
      { op },
    )
  }
}
