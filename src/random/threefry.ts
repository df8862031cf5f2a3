/**
 * Threefry-2x32 with 20 rounds: the counter-based block function behind purediff's PRNG keys
 * (Salmon, Moraes, Dror, Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11; the
 * construction JAX uses). It maps a 64-bit key and a 64-bit counter, each as two uint32
 * words, to two uint32 words; being a keyed bijection of the counter, distinct counters give
 * distinct outputs, so "random" bits are just the function evaluated at 0, 1, 2, ....
 *
 * The math is 32-bit modular arithmetic only: each round is `x0 += x1; x1 = rotl(x1, R) ^ x0`
 * with the Skein rotation constants R = 13 15 26 6 17 29 16 24, and every four rounds the
 * key schedule (k0, k1, k0 ^ k1 ^ 0x1BD11BDA, cycled) plus the injection index is added in.
 * JavaScript bitwise operators work on int32, so sums are wrapped with `| 0` and results are
 * turned into uint32 with `>>> 0`.
 *
 * `hashIota` mirrors JAX's `threefry_2x32(key, iota(m))` (the non-partitionable scheme):
 * the m counters are padded to an even length, split into a first and a second half, paired
 * elementwise, and the two output halves are concatenated.
 *
 * Purity contract: every function here is a pure function of its arguments; `hashIota` fills
 * only the output array it has just allocated.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Two uint32 words. @category model */
export type Words = readonly [number, number]

/** The Threefry key-schedule parity constant (Skein's C240 truncated to 32 bits). */
const PARITY = 0x1bd11bda

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Run the 20-round block function and write the two output words to `out[at0]` and
 * `out[at1]`. Hand-unrolled: this is the inner loop of every sampler.
 * @internal
 */
export const threefryInto = (
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  out: Uint32Array,
  at0: number,
  at1: number,
): void => {
  const ks0 = k0 | 0
  const ks1 = k1 | 0
  const ks2 = (k0 ^ k1 ^ PARITY) | 0
  let x0 = (c0 + ks0) | 0
  let x1 = (c1 + ks1) | 0
  // rounds 1-4, then inject (ks1, ks2 + 1)
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 13) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 15) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 26) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 6) ^ x0
  x0 = (x0 + ks1) | 0
  x1 = (x1 + ks2 + 1) | 0
  // rounds 5-8, then inject (ks2, ks0 + 2)
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 17) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 29) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 16) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 24) ^ x0
  x0 = (x0 + ks2) | 0
  x1 = (x1 + ks0 + 2) | 0
  // rounds 9-12, then inject (ks0, ks1 + 3)
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 13) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 15) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 26) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 6) ^ x0
  x0 = (x0 + ks0) | 0
  x1 = (x1 + ks1 + 3) | 0
  // rounds 13-16, then inject (ks1, ks2 + 4)
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 17) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 29) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 16) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 24) ^ x0
  x0 = (x0 + ks1) | 0
  x1 = (x1 + ks2 + 4) | 0
  // rounds 17-20, then inject (ks2, ks0 + 5)
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 13) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 15) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 26) ^ x0
  x0 = (x0 + x1) | 0
  x1 = rotl(x1, 6) ^ x0
  x0 = (x0 + ks2) | 0
  x1 = (x1 + ks0 + 5) | 0
  out[at0] = x0
  out[at1] = x1
}

/**
 * Threefry-2x32 (20 rounds) of one counter under one key: the Random123 `threefry2x32_20`
 * block function, returning two uint32 words.
 * @example
 * // the Random123 known answer [0x6b200159, 0x99ba4efe]
 * Array.from(threefry2x32([0, 0], [0, 0])) // [1797259609, 2579123966]
 * @category utils
 * @since 0.1.0
 */
export const threefry2x32 = (key: Words, counter: Words): Words => {
  const out = new Uint32Array(2)
  threefryInto(key[0], key[1], counter[0], counter[1], out, 0, 1)
  return Object.freeze([out[0] as number, out[1] as number] as const)
}

/**
 * JAX's `threefry_2x32(key, iota(m))`: `m` uint32 words from the counters 0 .. m-1. With
 * h = ceil(m / 2), counter i is paired with counter h + i (a padding 0 when m is odd and
 * h + i = m); the pair's first output goes to slot i and its second to slot h + i (dropped
 * when it is the padding slot). Needs m < 2^32 - 1, the range JAX hashes in one block.
 * @internal
 */
export const hashIota = (k0: number, k1: number, m: number): Uint32Array => {
  const h = (m + 1) >>> 1
  const out = new Uint32Array(2 * h)
  for (let i = 0; i < h; i++) {
    const c1 = h + i < m ? h + i : 0
    threefryInto(k0, k1, i, c1, out, i, h + i)
  }
  return m === 2 * h ? out : out.slice(0, m)
}
