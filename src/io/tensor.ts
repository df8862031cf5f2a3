/**
 * The tensor codec: an io-ts `Type<ConcreteTensor, TensorJSON, unknown>` between tensors and
 * plain JSON `{ dtype, shape, data }`, with `data` the row-major values. JSON has no NaN,
 * no ±Infinity and no -0 (`JSON.stringify(-0)` is `"0"`), so those four values are written
 * as the strings `'NaN'`, `'Infinity'`, `'-Infinity'` and `'-0'`; every other value is a
 * JSON number. Finite values are written with JavaScript's shortest round-trip decimal of
 * the float64 value, so float64 data round-trips bit-exactly, and float32 data does too:
 * a float32 value widened to float64 is written as the shortest decimal that reparses to
 * that same float64, and narrowing it back is exact. (NaN payloads are not kept: every NaN
 * comes back as the canonical NaN.)
 *
 * Decoding never throws: it returns `Left` with one message per problem, each naming the
 * key path (`w.shape[1]`, `w.data[7]`). It checks that the dtype is known, the shape is a list
 * of non-negative integers, the data fills the shape exactly, every datum is a number or one
 * of the four strings, and that finite float32 data does not overflow float32. `tensorCodec`
 * adds constraints (an exact shape, a dtype, no NaN, no ±Infinity) used by parameter schemas.
 *
 * float32 overflow, deliberately different in memory and in JSON: the constructors round
 * to float32 as IEEE 754, `Float32Array` and NumPy do, so `tensor([1e40], 'float32')` holds
 * Infinity (NumPy's `np.float32(1e40)` is `inf` too, with a warning). The decoder instead
 * rejects a finite JSON number that rounds to ±Infinity in float32 ("1e+40 overflows
 * float32"): the encoder never writes one (a float32 Infinity is written as 'Infinity'),
 * so such a value comes from a file written elsewhere or edited, and turning it silently
 * into Infinity would hide that. Values that round to the largest finite float32 (such as
 * the usual printed FLT_MAX, 3.4028235e38) are accepted.
 *
 * Purity: decoding allocates a fresh array for each tensor and wraps it; encoding copies
 * values out. Every returned record and array is frozen.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { fmtShape } from '../errors.js'
import { ConcreteTensor, Tensor, alloc, dataOf, sizeOf, wrap } from '../tensor/Tensor.js'
import type { DType, Shape } from '../tensor/Tensor.js'
import { child, describe, failAt } from './report.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One value in JSON: a finite number, or a string for the values JSON cannot hold.
 * @category model
 * @since 0.1.0
 */
export type JSONNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0'

/**
 * A tensor as plain JSON.
 * @category model
 * @since 0.1.0
 */
export interface TensorJSON {
  readonly dtype: DType
  readonly shape: ReadonlyArray<number>
  readonly data: ReadonlyArray<JSONNumber>
}

/**
 * Constraints a decoded tensor must meet (all optional).
 * @category model
 * @since 0.1.0
 */
export interface TensorConstraints {
  /** The exact shape. */
  readonly shape?: Shape
  /** The dtype. */
  readonly dtype?: DType
  /** May the data hold NaN? Default `true` for `tensorCodec`. */
  readonly allowNaN?: boolean
  /** May the data hold ±Infinity? Default `true`. */
  readonly allowInfinity?: boolean
  /** Why NaN or ±Infinity is forbidden, appended to the message (e.g. "the schema sets allowNaN: false"). */
  readonly reason?: string
}

// -------------------------------------------------------------------------------------
// utils (numbers)
// -------------------------------------------------------------------------------------

/**
 * A number as JSON: NaN, ±Infinity and -0 become strings, everything else stays a number.
 * @example
 * encodeNumber(2) // 2
 * encodeNumber(NaN) // 'NaN'
 * encodeNumber(-0) // '-0'
 * @category utils
 * @since 0.1.0
 */
export const encodeNumber = (x: number): JSONNumber =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : Object.is(x, -0) ? '-0' : x

/**
 * The number a JSON value stands for, or `undefined` if it is neither a number nor one of
 * the four strings. A JavaScript NaN or ±Infinity (possible in memory, never in JSON text)
 * is accepted as itself.
 * @example
 * decodeNumber(1.5) // 1.5
 * decodeNumber('-Infinity') === -Infinity // true
 * Number.isNaN(decodeNumber('NaN')) // true
 * decodeNumber('x') === undefined // true
 * @category utils
 * @since 0.1.0
 */
export const decodeNumber = (u: unknown): number | undefined => {
  if (typeof u === 'number') return u
  switch (u) {
    case 'NaN':
      return NaN
    case 'Infinity':
      return Infinity
    case '-Infinity':
      return -Infinity
    case '-0':
      return -0
    default:
      return undefined
  }
}

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && !ArrayBuffer.isView(u) && !(u instanceof Tensor)

/** The four strings that stand for NaN, ±Infinity and -0 in JSON. */
const SPECIAL_SPELLINGS: ReadonlySet<unknown> = new Set(['NaN', 'Infinity', '-Infinity', '-0'])

/**
 * Is this JSON value meant as a tensor? An object whose `dtype` is a string other than the
 * four special-number spellings ('NaN', 'Infinity', '-Infinity', '-0'). A record can have a
 * key named `dtype`, but its value is a tree, so in JSON it is an object, an array, a number
 * or one of those four strings: never any other string. So `{ dtype: 'NaN' }` is the record
 * `{ dtype: NaN }`, while `{ dtype: 'int8', ... }` is a tensor with an unknown dtype (and is
 * reported as such). Reading `dtype` may throw (a hostile getter); callers catch that.
 * @internal
 */
export const isTensorJSON = (u: unknown): u is Readonly<Record<string, unknown>> => {
  if (!isPlainObject(u)) return false
  const d = u['dtype']
  return typeof d === 'string' && !SPECIAL_SPELLINGS.has(d)
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

const shapeEq = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** At most this many bad data values are listed one by one; the rest are counted. */
const MAX_DATA_ERRORS = 8

const TENSOR_KEYS = ['dtype', 'shape', 'data'] as const

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Check a concrete tensor against constraints; returns problem descriptions (relative
 * sub-keys and messages).
 */
const violations = (x: ConcreteTensor, k: TensorConstraints): Array<[string | undefined, string]> => {
  const out: Array<[string | undefined, string]> = []
  if (k.dtype !== undefined && x.dtype !== k.dtype) out.push(['dtype', `expected dtype ${k.dtype}, got ${x.dtype}`])
  if (k.shape !== undefined && !shapeEq(x.shape, k.shape)) {
    out.push(['shape', `expected shape ${fmtShape(k.shape)}, got ${fmtShape(x.shape)}`])
  }
  if (k.allowNaN === false || k.allowInfinity === false) {
    const d = dataOf(x)
    let bad = 0
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as number
      const msg = nonFiniteProblem(v, k)
      if (msg === undefined) continue
      if (bad < MAX_DATA_ERRORS) out.push([`data[${i}]`, msg])
      bad++
    }
    if (bad > MAX_DATA_ERRORS) out.push(['data', `${bad - MAX_DATA_ERRORS} more values are not allowed`])
  }
  return out
}

const nonFiniteProblem = (v: number, k: TensorConstraints): string | undefined => {
  const why = k.reason === undefined ? '' : ` (${k.reason})`
  if (Number.isNaN(v) && k.allowNaN === false) return `NaN is not allowed here${why}`
  if ((v === Infinity || v === -Infinity) && k.allowInfinity === false) return `${v} is not allowed here${why}`
  return undefined
}

const validateTensor = (
  u: unknown,
  c: t.Context,
  k: TensorConstraints,
  self: t.Decoder<unknown, unknown>,
): t.Validation<ConcreteTensor> => {
  const errors: t.ValidationError[] = []
  const fail = (sub: string | undefined, actual: unknown, msg: string): void => {
    const ctx = sub === undefined ? c : subContext(c, sub, self, actual)
    const r = failAt<never>(actual, ctx, msg)
    if (E.isLeft(r)) errors.push(...r.left)
  }
  // An in-memory tensor decodes to its concrete value, checked against the constraints.
  if (u instanceof Tensor) {
    const x = u.concrete()
    for (const [sub, msg] of violations(x, k)) fail(sub, x, msg)
    return errors.length > 0 ? E.left(errors) : E.right(x)
  }
  if (!isPlainObject(u)) {
    return failAt(u, c, `expected a tensor { dtype, shape, data }, got ${describe(u)}`)
  }
  for (const key of Object.keys(u)) {
    if (!(TENSOR_KEYS as ReadonlyArray<string>).includes(key))
      fail(key, u[key], `unexpected key ${JSON.stringify(key)} in a tensor (expected dtype, shape, data)`)
  }
  for (const key of TENSOR_KEYS) if (!has(u, key)) fail(undefined, u, `missing key '${key}' in a tensor`)
  if (errors.length > 0) return E.left(errors)

  const dtype = u['dtype']
  let dt: DType | undefined
  if (dtype === 'float64' || dtype === 'float32') {
    dt = dtype
    if (k.dtype !== undefined && dt !== k.dtype) fail('dtype', dtype, `expected dtype ${k.dtype}, got ${dt}`)
  } else {
    fail(
      'dtype',
      dtype,
      `unknown dtype ${typeof dtype === 'string' ? JSON.stringify(dtype) : describe(dtype)}; expected 'float64' or 'float32'`,
    )
  }

  const shape = u['shape']
  let sh: number[] | undefined
  if (!Array.isArray(shape)) {
    fail('shape', shape, `expected a shape (an array of non-negative integers), got ${describe(shape)}`)
  } else {
    let ok = true
    shape.forEach((d: unknown, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        ok = false
        fail(`shape[${i}]`, d, `expected a non-negative integer, got ${describe(d)}`)
      }
    })
    if (ok) {
      sh = shape.slice() as number[]
      if (k.shape !== undefined && !shapeEq(sh, k.shape)) {
        fail('shape', shape, `expected shape ${fmtShape(k.shape)}, got ${fmtShape(sh)}`)
      }
    }
  }

  const data = u['data']
  const isList = Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))
  if (!isList) {
    fail('data', data, `expected an array of numbers, got ${describe(data)}`)
    return E.left(errors)
  }
  const list = data as ArrayLike<unknown>
  if (sh === undefined || dt === undefined) return E.left(errors)
  const n = sizeOf(sh)
  if (list.length !== n) {
    fail('data', data, `${list.length} values do not fill shape ${fmtShape(sh)} (${n} elements)`)
    return E.left(errors)
  }
  if (errors.length > 0) return E.left(errors)

  const out = alloc(dt, n)
  let bad = 0
  for (let i = 0; i < n; i++) {
    const raw = list[i]
    const v = decodeNumber(raw)
    let msg: string | undefined
    if (v === undefined) msg = `expected a number or one of 'NaN', 'Infinity', '-Infinity', '-0', got ${describe(raw)}`
    else if (dt === 'float32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) msg = `${v} overflows float32`
    else msg = nonFiniteProblem(v, k)
    if (msg !== undefined) {
      if (bad < MAX_DATA_ERRORS) fail(`data[${i}]`, raw, msg)
      bad++
      continue
    }
    out[i] = v as number
  }
  if (bad > MAX_DATA_ERRORS) fail('data', data, `and ${bad - MAX_DATA_ERRORS} more bad values`)
  return errors.length > 0 ? E.left(errors) : E.right(wrap(out, sh))
}

/** Context for `sub` (e.g. `shape[1]`, `data[7]`): one entry per key so paths print as `shape[1]`. */
const subContext = (c: t.Context, sub: string, self: t.Decoder<unknown, unknown>, actual: unknown): t.Context => {
  const m = /^(\w+)(?:\[(\d+)\])?$/.exec(sub)
  if (m === null) return child(c, sub, self, actual)
  const head = m[1] as string
  if (m[2] === undefined) return child(c, head, self, actual)
  // The parent entry holds an array so `pathOf` prints the next key as an index.
  return child(child(c, head, self, []), m[2], self, actual)
}

/**
 * Encode a tensor (a tracer encodes its concrete value) as frozen `TensorJSON`.
 * @example
 * const j = encodeTensor(tensor([[1, 2]]))
 * j.dtype // 'float64'
 * j.shape // [1, 2]
 * j.data // [1, 2]
 * @category constructors
 * @since 0.1.0
 */
export const encodeTensor = (x: Tensor): TensorJSON => {
  const ct = x.concrete()
  const d = dataOf(ct)
  const data = new Array<JSONNumber>(d.length)
  for (let i = 0; i < d.length; i++) data[i] = encodeNumber(d[i] as number)
  return Object.freeze({ dtype: ct.dtype, shape: Object.freeze(ct.shape.slice()), data: Object.freeze(data) })
}

const describeConstraints = (k: TensorConstraints): string => {
  const parts: string[] = []
  if (k.dtype !== undefined) parts.push(k.dtype)
  if (k.shape !== undefined) parts.push(fmtShape(k.shape))
  if (k.allowNaN === false) parts.push('no NaN')
  if (k.allowInfinity === false) parts.push('no Infinity')
  return parts.length === 0 ? 'Tensor' : `Tensor<${parts.join(', ')}>`
}

/**
 * A tensor codec with constraints: an exact shape, a dtype, and whether NaN and ±Infinity
 * are allowed (both allowed unless said otherwise). A failed constraint is a `Left` naming
 * the key path and the offending index.
 * @example
 * tensorCodec({ shape: [2], allowNaN: false }).decode({ dtype: 'float64', shape: [2], data: [1, 'NaN'] })
 * isLeft(tensorCodec({ shape: [2], allowNaN: false }).decode({ dtype: 'float64', shape: [2], data: [1, 'NaN'] })) // true
 * // Left: "at 'data[1]': NaN is not allowed here"
 * @category constructors
 * @since 0.1.0
 */
export const tensorCodec = <A extends Tensor = ConcreteTensor>(
  k: TensorConstraints = {},
): t.Type<A, TensorJSON, unknown> => {
  const type: t.Type<A, TensorJSON, unknown> = new t.Type<A, TensorJSON, unknown>(
    describeConstraints(k),
    (u): u is A => u instanceof ConcreteTensor && violations(u, k).length === 0,
    (u, c) => {
      try {
        return validateTensor(u, c, k, type) as t.Validation<A>
      } catch (e) {
        // Exotic in-memory inputs (throwing getters, broken Tensor subclasses) must not crash a decoder.
        return failAt(u, c, `could not read the value: ${e instanceof Error ? e.message : String(e)}`)
      }
    },
    encodeTensor,
  )
  return type
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The tensor codec: `{ dtype, shape, data }` JSON ↔ `ConcreteTensor`; NaN, ±Infinity and -0
 * survive as strings. Decoding also accepts a tensor (and returns its concrete value).
 * @example
 * TensorCodec.encode(tensor([NaN, 1])) // { dtype: 'float64', shape: [2], data: ['NaN', 1] }
 * TensorCodec.encode(tensor([NaN, 1])).data[0] // 'NaN'
 * @category instances
 * @since 0.1.0
 */
export const TensorCodec: t.Type<ConcreteTensor, TensorJSON, unknown> = tensorCodec()
