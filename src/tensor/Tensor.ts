/**
 * Immutable n-dimensional arrays. A `Tensor` is a shape, a dtype and row-major data in a
 * typed array that no caller can reach: the backing array lives in a private field, every
 * accessor returns a copy, and every tensor (and its shape) is frozen. There is no
 * `dispose`, `tidy` or reference counting; ordinary garbage collection reclaims tensors.
 *
 * `Tensor` is the abstract type users see. Concrete tensors (`ConcreteTensor`) hold data;
 * the AD layer adds tracers (dual tensors and tape nodes) as further subclasses, so a model
 * written against `Tensor` runs unchanged under every transform.
 *
 * Purity contract: nothing here mutates a value after construction. `dataOf` exposes the
 * backing array to kernels only; it is not exported from the package.
 */
import { PurediffError, fmtShape } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** @category model */
export type DType = 'float64' | 'float32'
/** @category model */
export type Data = Float64Array | Float32Array
/** @category model */
export type Shape = ReadonlyArray<number>
/** Nested arrays of numbers, as `toArray` returns and `tensor` accepts. @category model */
export type NestedArray = number | ReadonlyArray<NestedArray>

/**
 * The abstract tensor: what every op accepts and returns.
 * @example
 * const t = tensor([[1, 2], [3, 4]])
 * t.shape // [2, 2]
 * t.dtype // 'float64'
 * t instanceof Tensor // true
 * @category model
 * @since 0.1.0
 */
export abstract class Tensor {
  abstract readonly shape: Shape
  abstract readonly dtype: DType
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape)
  }
  /** Number of axes. */
  get rank(): number {
    return this.shape.length
  }
  /** The concrete value behind this tensor (a tracer's primal, recursively). */
  abstract concrete(): ConcreteTensor
  /** A plain nested-array copy of the values. */
  toArray(): NestedArray {
    return this.concrete().toArray()
  }
  /** A copy of the row-major values. */
  toTypedArray(): Data {
    return this.concrete().toTypedArray()
  }
  /** The single value of a one-element tensor; throws otherwise. */
  item(): number {
    return this.concrete().item()
  }
  toString(): string {
    return this.concrete().toString()
  }
  [Symbol.toPrimitive](hint: string): string | number {
    if (hint === 'string') return this.toString()
    return this.item()
  }
  /** How Node's console shows a tensor: its values, shape and dtype. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }
}

let readData: (t: ConcreteTensor) => Data

/** The shape of every rank-0 tensor (shared: a frozen array is never written). */
const RANK0: Shape = Object.freeze([])

/**
 * A tensor that holds its values.
 *
 * A rank-0 tensor made from a number (`scalar`, a scalar kernel result) keeps the number and
 * allocates no typed array: the eager path over scalars then costs one small object per
 * value. A kernel that asks for its data (`dataOf`) gets a one-element array made on first
 * request and kept (a cache no user can see; the value never changes).
 * @example
 * tensor([1, 2]) instanceof ConcreteTensor // true
 * tensor([1, 2]).toTypedArray() instanceof Float64Array // true
 * @category model
 * @since 0.1.0
 */
export class ConcreteTensor extends Tensor {
  readonly shape: Shape
  readonly dtype: DType
  #data: Data | null
  readonly #value: number
  static {
    readData = (t) => {
      const d = t.#data
      if (d !== null) return d
      const made = t.dtype === 'float32' ? new Float32Array(1) : new Float64Array(1)
      made[0] = t.#value
      t.#data = made
      return made
    }
  }
  /**
   * @internal use `tensor`, `fromData`, `scalar` or a kernel; `data` must be freshly allocated,
   * or the buffer of another tensor (reshape shares it): no buffer is written after
   * construction. A number makes a rank-0 tensor of `dtype` (rounded to float32 where asked).
   */
  constructor(data: Data | number, shape: Shape, dtype: DType = 'float64') {
    super()
    if (typeof data === 'number') {
      this.#data = null
      this.dtype = dtype
      this.#value = dtype === 'float32' ? Math.fround(data) : data
      this.shape = RANK0
    } else {
      this.#data = data
      this.#value = 0
      this.shape = shape.length === 0 ? RANK0 : Object.isFrozen(shape) ? shape : Object.freeze(shape.slice())
      this.dtype = data instanceof Float32Array ? 'float32' : 'float64'
    }
    Object.freeze(this)
  }
  override get size(): number {
    return this.#data === null ? 1 : this.#data.length
  }
  override get rank(): number {
    return this.shape.length
  }
  /** @internal the value of a number-backed rank-0 tensor, or undefined (kernels' scalar fast path) */
  get scalarValue(): number | undefined {
    return this.#data === null
      ? this.#value
      : this.#data.length === 1 && this.shape.length === 0
        ? this.#data[0]
        : undefined
  }
  override concrete(): ConcreteTensor {
    return this
  }
  override toArray(): NestedArray {
    if (this.#data === null) return this.#value
    const d = this.#data
    if (this.shape.length === 0) return d[0] as number
    if (d.length === 0) {
      // an empty tensor: nest empty arrays only as far as the first zero extent
      const zeroAt = this.shape.indexOf(0)
      const build0 = (axis: number): NestedArray[] =>
        axis === zeroAt ? [] : Array.from({ length: this.shape[axis] as number }, () => build0(axis + 1))
      if (sizeOf(this.shape.slice(0, zeroAt)) > 1e6) return []
      return build0(0)
    }
    const build = (axis: number, offset: number): NestedArray[] => {
      const n = this.shape[axis] as number
      const stride = sizeOf(this.shape.slice(axis + 1))
      const out: NestedArray[] = new Array(n)
      for (let i = 0; i < n; i++) {
        out[i] = axis === this.shape.length - 1 ? (d[offset + i] as number) : build(axis + 1, offset + i * stride)
      }
      return out
    }
    return build(0, 0)
  }
  override toTypedArray(): Data {
    return this.#data === null ? readData(this).slice() : this.#data.slice()
  }
  override item(): number {
    if (this.#data === null) return this.#value
    if (this.#data.length !== 1) {
      throw new PurediffError('ValueError', `item() needs a one-element tensor`, { op: 'item', shapes: [this.shape] })
    }
    return this.#data[0] as number
  }
  override toString(): string {
    const fmt = (v: NestedArray): string => (typeof v === 'number' ? String(v) : `[${v.map(fmt).join(', ')}]`)
    const body = fmt(this.toArray())
    return `Tensor(${body}, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** @internal kernels only: the backing array of a concrete tensor. Never hand it to users. */
export const dataOf = (t: ConcreteTensor): Data => readData(t)

/** @internal wrap a freshly allocated array without copying. */
export const wrap = (data: Data, shape: Shape): ConcreteTensor => new ConcreteTensor(data, shape)

/**
 * Product of a shape's extents.
 * @example
 * sizeOf([2, 3, 4]) // 24
 * sizeOf([]) // 1
 * @category utils
 */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Allocate an output array of a dtype. @internal */
export const alloc = (dtype: DType, n: number): Data =>
  dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)

/** Validate a dtype argument. @internal */
export const checkDType = (dtype: unknown, op: string): DType => {
  if (dtype === 'float64' || dtype === 'float32') return dtype
  throw new PurediffError(
    'DTypeError',
    `unknown dtype ${typeof dtype === 'string' ? JSON.stringify(dtype.slice(0, 40)) : show(dtype)}; expected 'float64' or 'float32'`,
    {
      op,
    },
  )
}

const MAX_SIZE = 2 ** 31 - 1
/** An extent as the caller wrote it, for error messages. */
const show = (d: unknown): string =>
  typeof d === 'number'
    ? Object.is(d, -0)
      ? '-0'
      : String(d)
    : typeof d === 'string'
      ? JSON.stringify(d)
      : typeof d === 'bigint'
        ? `${d}n`
        : d === null || d === undefined || typeof d === 'boolean'
          ? String(d)
          : Array.isArray(d)
            ? 'an array'
            : typeof d === 'object'
              ? 'an object'
              : `a ${typeof d}`
const showShape = (shape: ArrayLike<unknown>): string => `[${Array.from(shape, show).join(', ')}]`

/** A count argument (`eye(n)`, `linspace(..., n)`): a non-negative integer an axis can hold. */
const checkCount = (n: unknown, op: string, name: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new PurediffError('ValueError', `${name} must be a non-negative integer, got ${show(n)}`, { op })
  }
  if (n > MAX_SIZE)
    throw new PurediffError('ValueError', `${name} = ${n} is larger than an axis holds (${MAX_SIZE}, 2^31 - 1)`, { op })
  return n
}

/** A number argument; `finite` refuses NaN and ±Infinity. */
const checkNumber = (x: unknown, op: string, name: string, finite: boolean): number => {
  if (typeof x !== 'number') throw new PurediffError('ValueError', `${name} must be a number, got ${show(x)}`, { op })
  if (finite && !Number.isFinite(x))
    throw new PurediffError('ValueError', `${name} must be finite, got ${show(x)}`, { op })
  return x
}

/**
 * Validate a shape: non-negative integers, at most 2^31 − 1 elements in all (kernels index
 * elements with 32-bit integers, e.g. broadcast plans are `Int32Array`s), and no extent
 * larger than that. Every failure is a `PurediffError` that shows the offending shape as
 * given (a string extent quoted: `["2"]`), never a bare `RangeError` from allocation.
 * @internal
 */
export const checkShape = (shape: unknown, op: string): number[] => {
  if (!Array.isArray(shape)) {
    throw new PurediffError('ValueError', `shape must be an array of non-negative integers, got ${show(shape)}`, { op })
  }
  let n = 1
  let largest = 0
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new PurediffError(
        'ValueError',
        `shape must be an array of non-negative integers, got ${showShape(shape)}`,
        { op },
      )
    }
    n *= d
    largest = Math.max(largest, d)
  }
  if (n > MAX_SIZE) {
    throw new PurediffError(
      'ValueError',
      `shape ${showShape(shape)} has ${n} elements; a tensor holds at most ${MAX_SIZE} (2^31 - 1)`,
      { op },
    )
  }
  if (largest > MAX_SIZE) {
    throw new PurediffError(
      'ValueError',
      `shape ${showShape(shape)} has an axis of length ${largest}; an axis holds at most ${MAX_SIZE} (2^31 - 1)`,
      { op },
    )
  }
  return shape.slice() as number[]
}

const inferShape = (data: unknown, path: string, op: string): number[] => {
  if (typeof data === 'number') return []
  if (Array.isArray(data)) {
    if (data.length === 0) return [0]
    const inner = inferShape(data[0], `${path}[0]`, op)
    return [data.length, ...inner]
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return [(data as unknown as ArrayLike<number>).length]
  throw new PurediffError(
    'ValueError',
    `expected a number or nested arrays of numbers, got ${data === null ? 'null' : typeof data} at data${path}`,
    { op },
  )
}

const fill = (
  data: unknown,
  shape: number[],
  axis: number,
  out: Data,
  offset: number,
  path: string,
  op: string,
): void => {
  if (axis === shape.length) {
    if (typeof data !== 'number') {
      throw new PurediffError(
        'ValueError',
        `ragged or non-numeric data: expected a number at data${path}, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`,
        { op },
      )
    }
    out[offset] = data
    return
  }
  const n = shape[axis] as number
  const isTyped = ArrayBuffer.isView(data) && !(data instanceof DataView)
  if (!Array.isArray(data) && !isTyped) {
    throw new PurediffError(
      'ValueError',
      `ragged data: expected an array of length ${n} at data${path}, got ${data === null ? 'null' : typeof data}`,
      { op },
    )
  }
  const arr = data as ArrayLike<unknown>
  if (arr.length !== n) {
    throw new PurediffError(
      'ValueError',
      `ragged data: expected length ${n} at data${path}, got length ${arr.length}`,
      { op },
    )
  }
  const stride = sizeOf(shape.slice(axis + 1))
  for (let i = 0; i < n; i++) fill(arr[i], shape, axis + 1, out, offset + i * stride, `${path}[${i}]`, op)
}

/**
 * A tensor from a number or nested arrays (float64 unless asked otherwise). Ragged arrays,
 * non-numbers and unknown dtypes are errors that say where the problem is.
 * @example
 * tensor([[1, 2], [3, 4]]).shape // [2, 2]
 * @category constructors
 * @since 0.1.0
 */
export const tensor = (data: NestedArray | ArrayLike<number>, dtype: DType = 'float64'): ConcreteTensor => {
  const dt = checkDType(dtype, 'tensor')
  if (data instanceof Tensor) return castTo(data.concrete(), dt)
  try {
    const shape = inferShape(data, '', 'tensor')
    const out = alloc(dt, sizeOf(shape))
    fill(data, shape, 0, out, 0, '', 'tensor')
    return wrap(out, shape)
  } catch (e) {
    // nesting so deep (or cyclic) that it exhausts the stack is bad input, not a crash
    if (e instanceof RangeError) {
      throw new PurediffError('ValueError', `data is nested too deeply or is cyclic (${e.message})`, { op: 'tensor' })
    }
    throw e
  }
}

/**
 * A tensor from flat row-major values and a shape (the values are copied).
 * @example
 * fromData([1, 2, 3, 4, 5, 6], [2, 3]) // [[1, 2, 3], [4, 5, 6]]
 * @category constructors
 * @since 0.1.0
 */
export const fromData = (data: ArrayLike<number>, shape: Shape, dtype: DType = 'float64'): ConcreteTensor => {
  const dt = checkDType(dtype, 'fromData')
  const sh = checkShape(shape, 'fromData')
  const n = sizeOf(sh)
  if (data.length !== n) {
    throw new PurediffError('ShapeError', `${data.length} values do not fill shape ${fmtShape(sh)} (${n} elements)`, {
      op: 'fromData',
    })
  }
  const out = alloc(dt, n)
  for (let i = 0; i < n; i++) {
    const v = data[i]
    if (typeof v !== 'number') {
      throw new PurediffError('ValueError', `non-numeric value at index ${i}`, { op: 'fromData' })
    }
    out[i] = v
  }
  return wrap(out, sh)
}

/**
 * A scalar (rank-0) tensor.
 * @example
 * scalar(2).shape // []
 * scalar(2).item() // 2
 * @category constructors
 * @since 0.1.0
 */
export const scalar = (x: number, dtype: DType = 'float64'): ConcreteTensor => {
  if (typeof x !== 'number')
    throw new PurediffError('ValueError', `expected a number, got ${typeof x}`, { op: 'scalar' })
  return new ConcreteTensor(x, RANK0, checkDType(dtype, 'scalar'))
}

/** @internal a rank-0 tensor from a number, no checks and no typed array (kernels' scalar path). */
export const scalarOf = (x: number, dtype: DType): ConcreteTensor => new ConcreteTensor(x, RANK0, dtype)

/**
 * A tensor filled with one value.
 * @example
 * full([2], 7) // [7, 7]
 * @category constructors
 * @since 0.1.0
 */
export const full = (shape: Shape, value: number, dtype: DType = 'float64'): ConcreteTensor => {
  const sh = checkShape(shape, 'full')
  checkNumber(value, 'full', 'value', false)
  const out = alloc(checkDType(dtype, 'full'), sizeOf(sh))
  if (value !== 0) out.fill(value)
  return wrap(out, sh)
}

/**
 * Zeros of a shape.
 * @example
 * zeros([2, 2]) // [[0, 0], [0, 0]]
 * @category constructors
 * @since 0.1.0
 */
export const zeros = (shape: Shape, dtype: DType = 'float64'): ConcreteTensor => full(shape, 0, dtype)
/**
 * Ones of a shape.
 * @example
 * ones([3]) // [1, 1, 1]
 * @category constructors
 * @since 0.1.0
 */
export const ones = (shape: Shape, dtype: DType = 'float64'): ConcreteTensor => full(shape, 1, dtype)

/**
 * `[start, start + step, ...)` below `stop`, as a rank-1 tensor.
 * @example
 * arange(3) // [0, 1, 2]
 * arange(0, 5, 2) // [0, 2, 4]
 * @category constructors
 * @since 0.1.0
 */
export const arange = (start: number, stop?: number, step = 1, dtype: DType = 'float64'): ConcreteTensor => {
  const [a, b] = stop === undefined ? [0, start] : [start, stop]
  checkNumber(a, 'arange', 'start', true)
  checkNumber(b, 'arange', 'stop', true)
  checkNumber(step, 'arange', 'step', true)
  if (step === 0) throw new PurediffError('ValueError', 'step must be nonzero', { op: 'arange' })
  const n = Math.max(0, Math.ceil((b - a) / step))
  if (n > MAX_SIZE) {
    throw new PurediffError(
      'ValueError',
      `arange(${a}, ${b}, ${step}) has ${n} elements; a tensor holds at most ${MAX_SIZE} (2^31 - 1)`,
      { op: 'arange' },
    )
  }
  const out = alloc(checkDType(dtype, 'arange'), n)
  for (let i = 0; i < n; i++) out[i] = a + i * step
  return wrap(out, [n])
}

/**
 * `n` evenly spaced values from `start` to `stop` inclusive.
 * @example
 * linspace(0, 1, 5) // [0, 0.25, 0.5, 0.75, 1]
 * @category constructors
 * @since 0.1.0
 */
export const linspace = (start: number, stop: number, n: number, dtype: DType = 'float64'): ConcreteTensor => {
  checkNumber(start, 'linspace', 'start', true)
  checkNumber(stop, 'linspace', 'stop', true)
  checkCount(n, 'linspace', 'n')
  const out = alloc(checkDType(dtype, 'linspace'), n)
  for (let i = 0; i < n; i++) out[i] = n === 1 ? start : start + ((stop - start) * i) / (n - 1)
  return wrap(out, [n])
}

/**
 * The identity matrix.
 * @example
 * eye(2) // [[1, 0], [0, 1]]
 * @category constructors
 * @since 0.1.0
 */
export const eye = (n: number, dtype: DType = 'float64'): ConcreteTensor => {
  checkCount(n, 'eye', 'n')
  checkShape([n, n], 'eye')
  const out = alloc(checkDType(dtype, 'eye'), n * n)
  for (let i = 0; i < n; i++) out[i * n + i] = 1
  return wrap(out, [n, n])
}

/** A copy in another dtype (float64 → float32 rounds). @category combinators @since 0.1.0 */
export const castTo = (t: ConcreteTensor, dtype: DType): ConcreteTensor => {
  if (t.dtype === dtype) return t
  const out = alloc(dtype, t.size)
  out.set(dataOf(t))
  return wrap(out, t.shape)
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Is this a tensor (concrete or traced)?
 * @example
 * isTensor(tensor(1)) // true
 * isTensor(1) // false
 * @category utils
 */
export const isTensor = (x: unknown): x is Tensor => x instanceof Tensor

/**
 * A plain JS copy: a number for a scalar or a number, nested arrays otherwise.
 * @example
 * toArray(tensor([[1, 2]])) // [[1, 2]]
 * toArray(scalar(5)) // 5
 * @category utils
 * @since 0.1.0
 */
export const toArray = (t: Tensor | number): NestedArray => {
  if (typeof t === 'number') return t
  if (t instanceof Tensor) return t.toArray()
  const kind = (t as { kind?: unknown } | null)?.kind
  throw new PurediffError(
    'ValueError',
    kind === 'purediff/key'
      ? 'expected a Tensor or a number, got a PRNG key (its words are key.data; draw numbers from it with random.uniform or random.normal)'
      : `expected a Tensor or a number, got ${show(t)}`,
    { op: 'toArray' },
  )
}

/** Row-major strides of a shape. @category utils */
export const stridesOf = (shape: Shape): number[] => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i] as number
  }
  return s
}

/** Are two shapes equal? @category utils */
export const shapeEq = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * NumPy broadcasting of two shapes, or an error that names the op and both shapes.
 * @example
 * broadcastShapes('add', [2, 1], [3]) // [2, 3]
 * @category utils
 */
export const broadcastShapes = (op: string, a: Shape, b: Shape): number[] => {
  const n = Math.max(a.length, b.length)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1
    const db = b[b.length - n + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new PurediffError('ShapeError', `shapes do not broadcast (axis ${i - n} has ${da} vs ${db})`, {
        op,
        shapes: [a, b],
      })
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/** Result dtype of combining dtypes: float64 wins. @category utils */
export const promoteDTypes = (...ds: DType[]): DType =>
  ds.includes('float64') || ds.length === 0 ? 'float64' : 'float32'
