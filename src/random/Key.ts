/**
 * Splittable, counter-based PRNG keys in the style of JAX. A `Key` is two uint32 words held
 * in a frozen plain object, so it is a value: it can be compared, logged, put in a training
 * state and written to a JSON checkpoint, and a decoded copy behaves exactly like the
 * original. There is no generator state anywhere: every random number is Threefry-2x32 of
 * (key, counter), and new keys are made by hashing too (`split`, `foldIn`).
 *
 * The scheme follows JAX's original (non-"partitionable") Threefry implementation bit for
 * bit: `key(seed)` holds the high and low 32-bit words of the 64-bit two's complement seed;
 * `split(key, n)` reshapes `threefry_2x32(key, iota(2n))` into n pairs; `foldIn(key, d)` is
 * `threefry_2x32(key, [0, d])`; `randomBits(key, n)` is `threefry_2x32(key, iota(n))`. JAX
 * used this scheme by default before `jax_threefry_partitionable` became the default; with
 * that flag set to False JAX produces the same words as purediff.
 *
 * Contract: a key is consumed by the sampler it is given to. To draw twice, split first;
 * using one key twice gives the same numbers twice (which is what makes runs reproducible).
 * Every function here is pure; returned keys and key arrays are frozen, and `randomBits`
 * returns a freshly allocated array.
 */
import { PurediffError } from '../errors.js'
import { hashIota, threefryInto } from './threefry.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A PRNG key: two uint32 words, frozen and JSON-encodable.
 * @category model
 * @since 0.1.0
 */
export type Key = {
  readonly kind: 'purediff/key'
  readonly data: readonly [number, number]
}

const TWO32 = 4294967296
/** Largest number of words hashed in one call (JAX's single-block range, m < 2^32 - 1). */
const MAX_WORDS = TWO32 - 2

const isUint32 = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < TWO32

const make = (hi: number, lo: number): Key =>
  Object.freeze({ kind: 'purediff/key' as const, data: Object.freeze([hi >>> 0, lo >>> 0] as const) })

const describe = (x: unknown): string => {
  if (x === null) return 'null'
  if (Array.isArray(x)) return `an array of length ${x.length}`
  if (typeof x === 'object') return `an object with keys {${Object.keys(x).join(', ')}}`
  return `${typeof x} ${String(x)}`
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A key from an integer seed, like `jax.random.PRNGKey(seed)`: the words are the high and
 * low halves of the seed as a 64-bit two's complement integer (so `key(-1)` is
 * `[0xffffffff, 0xffffffff]`). The seed must be a safe integer.
 * @example
 * key(42).data // [0, 42]
 * @category constructors
 * @since 0.1.0
 */
export const key = (seed: number): Key => {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new PurediffError('ValueError', `seed must be a safe integer (|seed| <= 2^53 - 1), got ${describe(seed)}`, {
      op: 'key',
    })
  }
  // Exact: dividing by a power of two does not round, and both results are below 2^32.
  const hi = ((Math.floor(seed / TWO32) % TWO32) + TWO32) % TWO32
  const lo = ((seed % TWO32) + TWO32) % TWO32
  return make(hi, lo)
}

/**
 * A key from its two uint32 words (the inverse of `key.data`), e.g. after decoding a
 * checkpoint.
 * @example
 * keyFromData([0, 42]).data // [0, 42]
 * keyFromData(key(7).data).data // [0, 7]
 * @category constructors
 * @since 0.1.0
 */
export const keyFromData = (data: readonly [number, number]): Key => {
  if (!Array.isArray(data) || data.length !== 2 || !isUint32(data[0]) || !isUint32(data[1])) {
    throw new PurediffError('ValueError', `key data must be two uint32 words, got ${describe(data)}`, {
      op: 'keyFromData',
    })
  }
  return make(data[0], data[1])
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Is this a PRNG key? Accepts frozen keys and structurally equal plain objects (a decoded
 * checkpoint), rejects anything whose words are not uint32.
 * @example
 * isKey(key(0)) // true
 * isKey({ kind: 'purediff/key', data: [1, 2] }) // true
 * isKey([0, 0]) // false
 * @category utils
 * @since 0.1.0
 */
export const isKey = (x: unknown): x is Key => {
  if (typeof x !== 'object' || x === null) return false
  const r = x as { kind?: unknown; data?: unknown }
  return (
    r.kind === 'purediff/key' &&
    Array.isArray(r.data) &&
    r.data.length === 2 &&
    isUint32(r.data[0]) &&
    isUint32(r.data[1])
  )
}

/** Throw unless `x` is a key. @internal */
export const assertKey = (x: unknown, op: string): Key => {
  if (!isKey(x)) {
    throw new PurediffError('ValueError', `expected a PRNG key (from key(seed), split or foldIn), got ${describe(x)}`, {
      op,
    })
  }
  return x
}

const checkCount = (n: unknown, op: string, what: string, max: number): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new PurediffError('ValueError', `${what} must be an integer in [0, ${max}], got ${describe(n)}`, { op })
  }
  return n
}

/** `randomBits` without validation, for samplers that have validated already. @internal */
export const bitsOf = (k: Key, n: number): Uint32Array => hashIota(k.data[0], k.data[1], n)

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Split a key into `n` new independent keys (default 2), like `jax.random.split`. The parent
 * should not be used again once split.
 * @example
 * const [k1, k2] = split(key(0))
 * k1.data.join() !== k2.data.join() // true
 * split(key(0), 3).length // 3
 * @category combinators
 * @since 0.1.0
 */
export function split(k: Key): readonly [Key, Key]
export function split(k: Key, n: 2): readonly [Key, Key]
export function split(k: Key, n: 3): readonly [Key, Key, Key]
export function split(k: Key, n: 4): readonly [Key, Key, Key, Key]
export function split(k: Key, n: number): readonly Key[]
export function split(k: Key, n = 2): readonly Key[] {
  assertKey(k, 'split')
  checkCount(n, 'split', 'the number of keys', MAX_WORDS / 2)
  const w = hashIota(k.data[0], k.data[1], 2 * n)
  const keys = new Array<Key>(n)
  for (let i = 0; i < n; i++) keys[i] = make(w[2 * i] as number, w[2 * i + 1] as number)
  return Object.freeze(keys)
}

/**
 * A new key from a key and an integer in [0, 2^32), like `jax.random.fold_in`: use it to
 * derive per-step or per-layer keys without threading splits (`foldIn(k, step)`).
 * @example
 * foldIn(key(0), 4).data // [2285895361, 433833334] as JAX's fold_in(PRNGKey(0), 4)
 * @category combinators
 * @since 0.1.0
 */
export const foldIn = (k: Key, data: number): Key => {
  assertKey(k, 'foldIn')
  checkCount(data, 'foldIn', 'data', TWO32 - 1)
  const out = new Uint32Array(2)
  threefryInto(k.data[0], k.data[1], 0, data, out, 0, 1)
  return make(out[0] as number, out[1] as number)
}

/**
 * `n` uniformly random uint32 words from a key (a fresh array), like JAX's
 * `random_bits(key, 32, (n,))`.
 * @example
 * const w = randomBits(key(0), 4)
 * w.length // 4
 * w.every((u) => Number.isInteger(u) && u >= 0 && u < 2 ** 32) // true
 * // a pure function of the key
 * randomBits(key(0), 4).join() === w.join() // true
 * @category combinators
 * @since 0.1.0
 */
export const randomBits = (k: Key, n: number): Uint32Array => {
  assertKey(k, 'randomBits')
  checkCount(n, 'randomBits', 'n', MAX_WORDS)
  return bitsOf(k, n)
}
