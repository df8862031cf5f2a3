/**
 * Validation of the laws' options (internal). Every option is checked before anything
 * runs, and a bad one is a `RangeError` naming the option and the value, e.g.
 * `checkGrads: directions must be a positive integer, got 0`.
 *
 * Purity: only reads its arguments.
 */

const show = (v: unknown): string => {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === undefined || v === null)
    return String(v)
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

const bad = (op: string, name: string, what: string, v: unknown): never => {
  throw new RangeError(`${op}: ${name} must be ${what}, got ${show(v)}`)
}

/** A finite number ≥ 0 (a tolerance), or undefined. */
export const checkTolerance = (op: string, name: string, v: unknown): void => {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
    bad(op, name, 'a finite number ≥ 0', v)
}

/** The options `checkGrads` takes (and the laws that pass them on). */
interface Checkable {
  readonly order?: unknown
  readonly modes?: unknown
  readonly eps?: unknown
  readonly atol?: unknown
  readonly rtol?: unknown
  readonly seed?: unknown
  readonly directions?: unknown
  readonly richardson?: unknown
}

/** Throw a RangeError for the first invalid option of `checkGrads` (see its docs for the ranges). */
export const validateCheckGradsOptions = (op: string, o: Checkable): void => {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${op}: options must be an object, got ${show(o)}`)
  const { order, modes, eps, atol, rtol, seed, directions, richardson } = o
  if (order !== undefined && !(Number.isInteger(order) && (order as number) >= 1))
    bad(op, 'order', 'a positive integer', order)
  if (
    modes !== undefined &&
    !(Array.isArray(modes) && modes.length > 0 && modes.every((m) => m === 'fwd' || m === 'rev'))
  ) {
    bad(op, 'modes', "a non-empty array of 'fwd' and 'rev'", modes)
  }
  if (eps !== undefined && !(typeof eps === 'number' && eps > 0 && eps < 1)) bad(op, 'eps', 'a number in (0, 1)', eps)
  checkTolerance(op, 'atol', atol)
  checkTolerance(op, 'rtol', rtol)
  if (seed !== undefined && !Number.isSafeInteger(seed)) bad(op, 'seed', 'an integer', seed)
  if (directions !== undefined && !(Number.isSafeInteger(directions) && (directions as number) >= 1))
    bad(op, 'directions', 'a positive integer', directions)
  if (
    richardson !== undefined &&
    !(Number.isInteger(richardson) && (richardson as number) >= 0 && (richardson as number) <= 8)
  ) {
    bad(op, 'richardson', 'an integer in [0, 8]', richardson)
  }
}
