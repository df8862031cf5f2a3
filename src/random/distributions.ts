/**
 * Samplers: functions from a PRNG key (and a shape) to a tensor of random values. They are
 * pure: the same key and arguments give the same tensor, bit for bit, on every run.
 *
 * Math:
 * - uniform: as in JAX, a float in [0, 1) is the top mantissa bits of random words read as
 *   1.m − 1, i.e. k · 2⁻⁵² with k the top 52 bits of a 64-bit word (two uint32 words per
 *   value) for float64, and k · 2⁻²³ with k the top 23 bits of one word for float32; then
 *   u · (maxval − minval) + minval, evaluated in the output dtype (float32 arithmetic is
 *   emulated exactly with Math.fround). Rounding can push that affine map onto maxval; such
 *   a value is replaced by the largest float below maxval, so the range is really [min, max).
 * - normal: inverse CDF, JAX's construction √2 · erfinv(u) with u uniform on
 *   [−1 + ulp, 1), computed as ±Φ⁻¹((1 − |u|)/2) so the tail probability keeps its
 *   precision. Since (1 − |u|)/2 ≥ 2⁻⁵³ (float64) or 2⁻²⁵ (float32), Φ⁻¹ is never asked for
 *   log 0: the most extreme outputs are about ±8.21 (float64) and ±5.42 (float32).
 * - truncatedNormal: inverse CDF on [Φ(lower), Φ(upper)] (in upper-tail probabilities when
 *   lower ≥ 0, so far tails keep their precision), at the midpoints of the uniform grid so
 *   an infinite bound never yields ±∞; results are clamped to [lower, upper].
 * - bernoulli: u < p with u uniform in [0, 1), so P(1) = p exactly up to the grid of u.
 * - randint, permutation, choice: bounded integers by rejection: a word w is accepted when it
 *   lies below the largest multiple of the range, and w mod range is returned, so each value
 *   is exactly equally likely (no modulo bias). Ranges above 2³² use 53-bit numbers built
 *   from two words. Words come from a counter-based stream: block b is
 *   `randomBits(foldIn(key, b), blockSize)`.
 *
 * Purity contract: every sampler allocates its output and fills only that array; keys and
 * tensors given to it are never modified; returned index arrays are frozen.
 */
import { PurediffError } from '../errors.js'
import { type ConcreteTensor, type Data, type DType, alloc, checkShape, sizeOf, wrap } from '../tensor/Tensor.js'
import { type Key, assertKey, bitsOf, foldIn } from './Key.js'
import { normalCdf, normalQuantile } from './special.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of `uniform`. @category model */
export interface UniformOptions {
  readonly minval?: number
  readonly maxval?: number
  readonly dtype?: DType
}

/** Options of `normal` and `truncatedNormal`. @category model */
export interface NormalOptions {
  readonly mean?: number
  readonly std?: number
  readonly dtype?: DType
}

/** Options of `bernoulli` and `randint`. @category model */
export interface DTypeOptions {
  readonly dtype?: DType
}

const TWO32 = 4294967296
const TWO53 = 9007199254740992
/** Largest number of values a sampler draws at once (two words each must fit one hash call). */
const MAX_VALUES = 2147483647

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fail = (op: string, message: string, shape?: ReadonlyArray<number>): never => {
  throw new PurediffError('ValueError', message, shape === undefined ? { op } : { op, shapes: [shape] })
}

const checkDType = (dtype: unknown, op: string): DType => {
  if (dtype === 'float64' || dtype === 'float32') return dtype
  throw new PurediffError('DTypeError', `unknown dtype ${JSON.stringify(dtype)}; expected 'float64' or 'float32'`, {
    op,
  })
}

const checkFinite = (x: unknown, name: string, op: string): number => {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(op, `${name} must be a finite number, got ${String(x)}`)
  return x as number
}

const sizeFor = (shape: unknown, op: string): [number[], number] => {
  const sh = checkShape(shape, op)
  const n = sizeOf(sh)
  if (n > MAX_VALUES) fail(op, `too many values (${n}); at most ${MAX_VALUES} per call`, sh)
  return [sh, n]
}

/** The largest float64 below x (x finite and not the most negative float). */
const below64 = (x: number): number => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  if (x === 0) return -Number.MIN_VALUE
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n)
  return view.getFloat64(0)
}

/** The largest float32 below x, for x a float32 value. */
const below32 = (x: number): number => {
  const view = new DataView(new ArrayBuffer(4))
  view.setFloat32(0, x)
  const bits = view.getUint32(0)
  if (x === 0) return -(2 ** -149)
  view.setUint32(0, x > 0 ? bits - 1 : bits + 1)
  return view.getFloat32(0)
}

/**
 * Floats k · 2^-mant in [0, 1) from the top mantissa bits of fresh random words, in a
 * float64 array (exact for both dtypes): 52 bits from two words for float64, 23 bits from
 * one word for float32. The float64 word layout is JAX's 64-bit `random_bits`: value i takes
 * its high word from slot i and its low word from slot n + i of `threefry_2x32(key, iota(2n))`.
 */
const unitFloats = (k: Key, n: number, dtype: DType): Float64Array => {
  const out = new Float64Array(n)
  if (dtype === 'float32') {
    const w = bitsOf(k, n)
    for (let i = 0; i < n; i++) out[i] = ((w[i] as number) >>> 9) * 2 ** -23
  } else {
    const w = bitsOf(k, 2 * n)
    for (let i = 0; i < n; i++) out[i] = (w[i] as number) * 2 ** -32 + ((w[n + i] as number) >>> 12) * 2 ** -52
  }
  return out
}

/**
 * Fill a fresh array of the dtype with uniform values in [lo, hi) (bounds already
 * validated), with JAX's arithmetic: u · (hi − lo) + lo in the dtype, then max with lo.
 */
const uniformData = (k: Key, n: number, dtype: DType, lo: number, hi: number): Data => {
  const u = unitFloats(k, n, dtype)
  const out = alloc(dtype, n)
  if (dtype === 'float32') {
    const l = Math.fround(lo)
    const h = Math.fround(hi)
    const span = Math.fround(h - l)
    const top = below32(h)
    for (let i = 0; i < n; i++) {
      const v = Math.max(l, Math.fround(Math.fround((u[i] as number) * span) + l))
      out[i] = v >= h ? top : v
    }
  } else {
    const span = hi - lo
    const top = below64(hi)
    for (let i = 0; i < n; i++) {
      const v = Math.max(lo, (u[i] as number) * span + lo)
      out[i] = v >= hi ? top : v
    }
  }
  return out
}

const checkRange = (minval: unknown, maxval: unknown, dtype: DType, op: string): [number, number] => {
  const lo = checkFinite(minval, 'minval', op)
  const hi = checkFinite(maxval, 'maxval', op)
  const [l, h] = dtype === 'float32' ? [Math.fround(lo), Math.fround(hi)] : [lo, hi]
  if (!Number.isFinite(l) || !Number.isFinite(h)) fail(op, `minval ${lo} and maxval ${hi} must be finite in ${dtype}`)
  if (!(l < h)) fail(op, `need minval < maxval in ${dtype}, got minval ${lo} and maxval ${hi}`)
  if (!Number.isFinite(h - l)) fail(op, `the range maxval - minval overflows (minval ${lo}, maxval ${hi})`)
  return [lo, hi]
}

/**
 * A uniform integer in [0, m) from a source of `wordBits`-bit words, by rejection: words at
 * or above the largest multiple of m that fits are redrawn, so every value has exactly the
 * same number of accepted words. For m above 2^32 (with 32-bit words) two words make a
 * 53-bit number and the same rule applies with 2^53. `m` is an integer in [1, 2^53].
 * @internal
 */
export const uniformIntBelow = (m: number, next: () => number, wordBits = 32): number => {
  const range = 2 ** wordBits
  if (m <= range) {
    const limit = range - (range % m)
    for (;;) {
      const w = next()
      if (w < limit) return w % m
    }
  }
  const limit = TWO53 - (TWO53 % m)
  for (;;) {
    const w = (next() >>> 11) * TWO32 + next()
    if (w < limit) return w % m
  }
}

/**
 * An endless stream of uint32 words from a key: block b is
 * `randomBits(foldIn(key, b), blockSize)`; `expected` (the number of words the caller will
 * probably need) only sets the block size, between 64 and 4096.
 * @internal
 */
export const wordStream = (k: Key, expected: number): (() => number) => {
  const blockSize = Math.min(4096, Math.max(64, Math.ceil(expected)))
  let block = 0
  let buf = bitsOf(foldIn(k, 0), blockSize)
  let pos = 0
  return () => {
    if (pos === buf.length) {
      block += 1
      buf = bitsOf(foldIn(k, block), blockSize)
      pos = 0
    }
    return buf[pos++] as number
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Uniform values in [minval, maxval) (default [0, 1)), float64 unless asked. float64 values
 * carry 52 random bits, float32 values 23.
 * @example
 * uniform(key(0), [2, 3], { minval: -1, maxval: 1 }).shape // [2, 3]
 * @category constructors
 * @since 0.1.0
 */
export const uniform = (k: Key, shape: ReadonlyArray<number>, options: UniformOptions = {}): ConcreteTensor => {
  const op = 'uniform'
  assertKey(k, op)
  const dtype = checkDType(options.dtype ?? 'float64', op)
  const [sh, n] = sizeFor(shape, op)
  const [lo, hi] = checkRange(options.minval ?? 0, options.maxval ?? 1, dtype, op)
  return wrap(uniformData(k, n, dtype, lo, hi), sh)
}

const checkMeanStd = (options: NormalOptions, op: string): [number, number] => {
  const mean = checkFinite(options.mean ?? 0, 'mean', op)
  const std = checkFinite(options.std ?? 1, 'std', op)
  if (std < 0) fail(op, `std must be non-negative, got ${std}`)
  return [mean, std]
}

/**
 * Normal values with the given mean and standard deviation (default 0 and 1), by the
 * inverse CDF of one uniform per value. Never ±∞ or NaN.
 * @example
 * normal(key(0), [3], { std: 0.1 }).shape // [3]
 * @category constructors
 * @since 0.1.0
 */
export const normal = (k: Key, shape: ReadonlyArray<number>, options: NormalOptions = {}): ConcreteTensor => {
  const op = 'normal'
  assertKey(k, op)
  const dtype = checkDType(options.dtype ?? 'float64', op)
  const [sh, n] = sizeFor(shape, op)
  const [mean, std] = checkMeanStd(options, op)
  // JAX: u uniform on [nextafter(-1, 0), 1) in the dtype, z = √2 erfinv(u).
  const lo = dtype === 'float32' ? -1 + 2 ** -24 : -1 + 2 ** -52
  const u = uniformData(k, n, dtype, lo, 1)
  const out = alloc(dtype, n)
  for (let i = 0; i < n; i++) {
    const ui = u[i] as number
    // √2 erfinv(u) = Φ⁻¹((1 + u)/2); the smaller of the two tail probabilities is (1 − |u|)/2.
    const t = (1 - Math.abs(ui)) / 2
    const z = ui < 0 ? normalQuantile(t) : -normalQuantile(t)
    out[i] = mean + std * z
  }
  return wrap(out, sh)
}

/** The smallest float32 ≥ x and the largest float32 ≤ x. */
const ceil32 = (x: number): number => {
  const r = Math.fround(x)
  return r >= x ? r : -below32(-r)
}
const floor32 = (x: number): number => {
  const r = Math.fround(x)
  return r <= x ? r : below32(r)
}

/**
 * Normal values conditioned on lying in [lower, upper] (in standard units, default ±2, as
 * in JAX and TensorFlow initializers), then scaled by `std` and shifted by `mean`. Bounds
 * may be infinite.
 * @example
 * // every draw lies within [−2σ, 2σ]
 * max(abs(truncatedNormal(key(0), [784, 128], -2, 2, { std: 0.05 }))).item() <= 0.1 // true
 * @category constructors
 * @since 0.1.0
 */
export const truncatedNormal = (
  k: Key,
  shape: ReadonlyArray<number>,
  lower = -2,
  upper = 2,
  options: NormalOptions = {},
): ConcreteTensor => {
  const op = 'truncatedNormal'
  assertKey(k, op)
  const dtype = checkDType(options.dtype ?? 'float64', op)
  const [sh, n] = sizeFor(shape, op)
  const [mean, std] = checkMeanStd(options, op)
  if (typeof lower !== 'number' || typeof upper !== 'number' || !(lower < upper)) {
    fail(op, `need lower < upper, got lower ${String(lower)} and upper ${String(upper)}`)
  }
  const u = unitFloats(k, n, dtype)
  const half = dtype === 'float32' ? 2 ** -24 : 2 ** -53
  const z = new Float64Array(n)
  if (lower >= 0) {
    // Both bounds in the upper half: work with upper-tail probabilities Q(x) = Φ(−x).
    const qa = normalCdf(-lower)
    const qb = normalCdf(-upper)
    for (let i = 0; i < n; i++) z[i] = -normalQuantile(qa - ((u[i] as number) + half) * (qa - qb))
  } else {
    const pa = normalCdf(lower)
    const pb = normalCdf(upper)
    for (let i = 0; i < n; i++) {
      const p = pa + ((u[i] as number) + half) * (pb - pa)
      z[i] = p <= 0.5 ? normalQuantile(p) : -normalQuantile(1 - p)
    }
  }
  // An infinite bound stays infinite (std may be 0, and 0 · ∞ would be NaN).
  const lo = lower === -Infinity ? -Infinity : mean + std * lower
  const hi = upper === Infinity ? Infinity : mean + std * upper
  const out = alloc(dtype, n)
  for (let i = 0; i < n; i++) {
    const zi = Math.min(upper, Math.max(lower, z[i] as number))
    out[i] = Math.min(hi, Math.max(lo, mean + std * zi))
  }
  if (dtype === 'float32') {
    // Rounding to float32 may step just outside [lo, hi]; step back inside.
    const l32 = ceil32(lo)
    const h32 = floor32(hi)
    for (let i = 0; i < n; i++) out[i] = Math.min(h32, Math.max(l32, out[i] as number))
  }
  return wrap(out, sh)
}

/**
 * A 0/1 mask: each entry is 1 with probability p (a number in [0, 1]), as `u < p` with u
 * uniform in [0, 1) of the dtype (JAX's rule, so p = 0 gives all zeros and p = 1 all ones).
 * @example
 * bernoulli(key(0), 0.9, [128]) // a dropout keep-mask
 * // the mean of 10 000 draws is within 5 standard errors (5 · 0.003) of 0.9
 * Math.abs(mean(bernoulli(key(0), 0.9, [10000])).item() - 0.9) <= 0.015 // true
 * @category constructors
 * @since 0.1.0
 */
export const bernoulli = (
  k: Key,
  p: number,
  shape: ReadonlyArray<number> = [],
  options: DTypeOptions = {},
): ConcreteTensor => {
  const op = 'bernoulli'
  assertKey(k, op)
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, `p must be a probability in [0, 1], got ${String(p)}`)
  const dtype = checkDType(options.dtype ?? 'float64', op)
  const [sh, n] = sizeFor(shape, op)
  const threshold = dtype === 'float32' ? Math.fround(p) : p
  const u = unitFloats(k, n, dtype)
  const out = alloc(dtype, n)
  for (let i = 0; i < n; i++) out[i] = (u[i] as number) < threshold ? 1 : 0
  return wrap(out, sh)
}

/**
 * Uniform integers in [low, high), exactly equally likely (rejection sampling), as a float
 * tensor. `low` and `high` are safe integers with high − low ≤ 2^53 (and |·| ≤ 2^24 for
 * float32, where larger integers are not all representable).
 * @example
 * randint(key(0), [10], 0, 6) // dice rolls minus one
 * const r = randint(key(0), [1000], 0, 6)
 * min(r).item() === 0 && max(r).item() === 5 // true
 * @category constructors
 * @since 0.1.0
 */
export const randint = (
  k: Key,
  shape: ReadonlyArray<number>,
  low: number,
  high: number,
  options: DTypeOptions = {},
): ConcreteTensor => {
  const op = 'randint'
  assertKey(k, op)
  const dtype = checkDType(options.dtype ?? 'float64', op)
  const [sh, n] = sizeFor(shape, op)
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
    fail(op, `low and high must be safe integers, got low ${String(low)} and high ${String(high)}`)
  }
  if (!(low < high)) fail(op, `need low < high, got low ${low} and high ${high}`)
  const m = high - low
  if (m > TWO53) fail(op, `the range high - low must be at most 2^53, got ${m}`)
  if (dtype === 'float32' && (Math.abs(low) > 2 ** 24 || Math.abs(high) > 2 ** 24)) {
    fail(op, `float32 holds every integer only up to 2^24 in magnitude, got low ${low} and high ${high}`)
  }
  const next = wordStream(k, m > TWO32 ? 2 * n : n)
  const out = alloc(dtype, n)
  for (let i = 0; i < n; i++) out[i] = low + uniformIntBelow(m, next)
  return wrap(out, sh)
}

const checkLength = (n: unknown, name: string, op: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_VALUES) {
    fail(op, `${name} must be an integer in [0, ${MAX_VALUES}], got ${String(n)}`)
  }
  return n as number
}

/**
 * A uniformly random permutation of 0 .. n-1 (a frozen array), by Fisher–Yates with
 * unbiased bounded integers: every one of the n! orders is equally likely.
 * @example
 * permutation(key(0), 5) // e.g. [3, 0, 4, 1, 2]
 * Array.from(permutation(key(0), 5)).sort((a, b) => a - b) // [0, 1, 2, 3, 4]
 * @category constructors
 * @since 0.1.0
 */
export const permutation = (k: Key, n: number): readonly number[] => {
  const op = 'permutation'
  assertKey(k, op)
  checkLength(n, 'n', op)
  const a = new Array<number>(n)
  for (let i = 0; i < n; i++) a[i] = i
  const next = wordStream(k, n)
  for (let i = n - 1; i > 0; i--) {
    const j = uniformIntBelow(i + 1, next)
    const t = a[i] as number
    a[i] = a[j] as number
    a[j] = t
  }
  return Object.freeze(a)
}

/**
 * `count` indices drawn uniformly from 0 .. n-1 (a frozen array): with replacement by
 * default, or without (`{ replace: false }`, the first `count` entries of a random
 * permutation, by a partial Fisher–Yates).
 * @example
 * choice(key(0), 60000, 128, { replace: false }) // a minibatch of distinct rows
 * new Set(choice(key(0), 60000, 128, { replace: false })).size // 128
 * @category constructors
 * @since 0.1.0
 */
export const choice = (
  k: Key,
  n: number,
  count: number,
  options: { readonly replace?: boolean } = {},
): readonly number[] => {
  const op = 'choice'
  assertKey(k, op)
  checkLength(n, 'n', op)
  checkLength(count, 'count', op)
  const replace = options.replace ?? true
  if (count > 0 && n === 0) fail(op, `cannot draw ${count} values from an empty range (n = 0)`)
  if (!replace && count > n) fail(op, `cannot draw ${count} distinct values from ${n} without replacement`)
  const next = wordStream(k, count)
  const out = new Array<number>(count)
  if (replace) {
    for (let i = 0; i < count; i++) out[i] = uniformIntBelow(n, next)
    return Object.freeze(out)
  }
  // Partial Fisher–Yates over a sparse map, so memory is O(count) even when n is large.
  const moved = new Map<number, number>()
  for (let i = 0; i < count; i++) {
    const j = i + uniformIntBelow(n - i, next)
    const vj = moved.get(j) ?? j
    const vi = moved.get(i) ?? i
    moved.set(j, vi)
    out[i] = vj
  }
  return Object.freeze(out)
}
