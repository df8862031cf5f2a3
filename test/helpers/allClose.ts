/**
 * Elementwise closeness with a report of the worst element, for tests. The rule is NumPy's
 * `allclose`: |actual − expected| ≤ atol + rtol·|expected| for every element. NaN matches
 * only NaN and ±inf only the same infinity (a NaN where a number was expected is always a
 * failure, never "close"). Shapes must agree exactly when both sides carry one.
 *
 * The report names the worst element (the largest ratio of error to allowed error) with its
 * multi-index, both values and the tolerance, so a failing law says where and by how much.
 */
import { Tensor } from '../../src/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Something with values: a tensor, a number, nested arrays, or a flat typed array. */
export type Values = Tensor | number | ReadonlyArray<unknown> | Float64Array | Float32Array

/** The outcome of a comparison. */
export interface CloseReport {
  readonly ok: boolean
  /** the element with the largest error relative to its tolerance (null when empty) */
  readonly worst: {
    readonly index: ReadonlyArray<number>
    readonly actual: number
    readonly expected: number
    readonly error: number
    readonly allowed: number
  } | null
  readonly message: string
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Flat values and shape of anything comparable (shape null: a flat array of unknown shape). */
export const valuesOf = (x: Values): [number[], ReadonlyArray<number> | null] => {
  if (x instanceof Tensor) return [Array.from(x.toTypedArray()), x.shape]
  if (typeof x === 'number') return [[x], []]
  if (x instanceof Float64Array || x instanceof Float32Array) return [Array.from(x), null]
  const shape: number[] = []
  let probe: unknown = x
  while (Array.isArray(probe)) {
    shape.push(probe.length)
    probe = probe[0]
  }
  const out: number[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (v instanceof Tensor) out.push(...Array.from(v.toTypedArray()))
    else if (typeof v === 'number') out.push(v)
    else throw new Error(`allClose: not a number: ${String(v)}`)
  }
  walk(x)
  return [out, shape]
}

const unravel = (i: number, shape: ReadonlyArray<number> | null): number[] => {
  if (shape === null || shape.length === 0) return shape === null ? [i] : []
  const idx = new Array<number>(shape.length)
  let r = i
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] as number
    idx[k] = r % d
    r = Math.floor(r / d)
  }
  return idx
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toPrecision(17) : String(x))

// -------------------------------------------------------------------------------------
// comparison
// -------------------------------------------------------------------------------------

/**
 * Compare elementwise: |actual − expected| ≤ atol + rtol·|expected|.
 * @example
 * const r = allClose(tensor([1, 2]), [1, 2 + 1e-12], 1e-10, 0) // r.ok === true
 */
export const allClose = (actual: Values, expected: Values, rtol: number, atol = 0): CloseReport => {
  const [a, sa] = valuesOf(actual)
  const [e, se] = valuesOf(expected)
  if (sa !== null && se !== null && (sa.length !== se.length || sa.some((d, i) => d !== se[i]))) {
    return { ok: false, worst: null, message: `shape [${sa.join(', ')}] differs from the expected [${se.join(', ')}]` }
  }
  if (a.length !== e.length) {
    return { ok: false, worst: null, message: `${a.length} values differ in number from the expected ${e.length}` }
  }
  let worst: CloseReport['worst'] = null
  let worstRatio = -1
  let ok = true
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number
    const ei = e[i] as number
    let error: number
    let allowed: number
    if (Number.isNaN(ei) || Number.isNaN(ai)) {
      error = Number.isNaN(ei) && Number.isNaN(ai) ? 0 : Infinity
      allowed = 0
    } else if (!Number.isFinite(ei) || !Number.isFinite(ai)) {
      error = ai === ei ? 0 : Infinity
      allowed = 0
    } else {
      error = Math.abs(ai - ei)
      allowed = atol + rtol * Math.abs(ei)
    }
    const pass = error <= allowed
    if (!pass) ok = false
    const ratio = error === 0 ? 0 : allowed === 0 ? Infinity : error / allowed
    if (ratio > worstRatio) {
      worstRatio = ratio
      worst = { index: unravel(i, sa ?? se), actual: ai, expected: ei, error, allowed }
    }
  }
  const where = worst === null ? '' : `[${worst.index.join(', ')}]`
  const message =
    worst === null
      ? 'no elements'
      : `${ok ? 'close' : 'NOT close'}: worst element ${where}: actual ${fmt(worst.actual)}, expected ${fmt(worst.expected)}, ` +
        `|error| ${worst.error.toExponential(3)} vs allowed ${worst.allowed.toExponential(3)} (rtol ${rtol}, atol ${atol})`
  return { ok, worst, message }
}

/** Largest |value| (0 for none; NaN-safe: NaN counts as 0 here, and is caught by `allClose`). */
export const maxAbs = (x: Values): number => valuesOf(x)[0].reduce((m, v) => (Math.abs(v) > m ? Math.abs(v) : m), 0)

/** Throw with the report's message unless close (for use inside fast-check properties). */
export const assertClose = (actual: Values, expected: Values, rtol: number, atol = 0, what = ''): void => {
  const r = allClose(actual, expected, rtol, atol)
  if (!r.ok) throw new Error(`${what === '' ? '' : `${what}: `}${r.message}`)
}
