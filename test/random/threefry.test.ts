import { describe, expect, it } from 'vitest'
import { threefry2x32 } from '../../src/random/threefry.js'
import { bernoulli, foldIn, key, normal, randomBits, split, truncatedNormal, uniform } from '../../src/random/index.js'

describe('threefry2x32 (20 rounds): Random123 known-answer tests', () => {
  // Source: the Random123 distribution's tests/kat_vectors, lines "threefry2x32 20 <ctr0>
  // <ctr1> <key0> <key1> <out0> <out1>" (D. E. Shaw Research; the same three vectors are in
  // Random123-Boost libs/random/test/test_threefry.cpp lines 30-32, which JAX's
  // tests/random_test.py::testThreefry2x32 cites). The third vector is the hex digits of pi.
  const kat: ReadonlyArray<readonly [ctr: [number, number], key: [number, number], out: [number, number]]> = [
    [
      [0x00000000, 0x00000000],
      [0x00000000, 0x00000000],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x243f6a88, 0x85a308d3],
      [0x13198a2e, 0x03707344],
      [0xc4923a9c, 0x483df7a0],
    ],
  ]
  it.each(kat)('counter %j under key %j', (ctr, k, out) => {
    expect(threefry2x32(k, ctr)).toEqual(out)
  })

  it('returns frozen uint32 words', () => {
    const w = threefry2x32([1, 2], [3, 4])
    expect(Object.isFrozen(w)).toBe(true)
    for (const x of w) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true)
  })
})

describe('bit-for-bit agreement with JAX (threefry2x32, jax_threefry_partitionable=False)', () => {
  // Expected values are JAX's own regression values from jax tests/random_test.py:
  // testPRNGValues (split, fold_in), testRngRandomBits (random_bits) and
  // _RANDOM_VALUES_CASES (per-distribution values for key = PRNGKey(adler32(name + impl))).

  /** zlib.adler32, as JAX's RandomValuesCase._seed uses it (RFC 1950, section 8). */
  const adler32 = (s: string): number => {
    let a = 1
    let b = 0
    for (const byte of Buffer.from(s, 'utf8')) {
      a = (a + byte) % 65521
      b = (b + a) % 65521
    }
    return b * 65536 + a
  }

  it('adler32 helper matches the RFC 1950 example value for "Wikipedia"', () => {
    // The worked example on adler32: "Wikipedia" -> 0x11E60398.
    expect(adler32('Wikipedia')).toBe(0x11e60398)
  })

  it('split(PRNGKey(0), 4) and fold_in(PRNGKey(0), 4)', () => {
    expect(split(key(0), 4).map((k) => k.data)).toEqual([
      [2285895361, 1501764800],
      [1518642379, 4090693311],
      [433833334, 4221794875],
      [839183663, 3740430601],
    ])
    expect(foldIn(key(0), 4).data).toEqual([2285895361, 433833334])
  })

  it('random_bits(PRNGKey(1701), 32, (3,)): odd count, so JAX pads the counters with a zero', () => {
    expect(Array.from(randomBits(key(1701), 3))).toEqual([56197195, 4200222568, 961309823])
  })

  it('bits uint32 and uint64 for PRNGKey(adler32("bitsthreefry2x32"))', () => {
    const k = key(adler32('bitsthreefry2x32'))
    expect(Array.from(randomBits(k, 5))).toEqual([1978747883, 4134381225, 3628107870, 689687174, 2788938207])
    // JAX's 64-bit random_bits(key, 64, (5,)) takes threefry_2x32(key, iota(10)) and joins
    // slot j (high word) with slot 5 + j (low word).
    const w = randomBits(k, 10)
    const u64 = [0, 1, 2, 3, 4].map((j) => (BigInt(w[j] as number) << 32n) | BigInt(w[5 + j] as number))
    const expected64 = [
      17649965731882839947n,
      1415307058040849897n,
      8282622628079774249n,
      14024425113645909402n,
      2012979996110532418n,
    ]
    expect(u64).toEqual(expected64)
    // float64 uniform is (uint64 >> 12) * 2^-52 of exactly these words (JAX's mantissa trick),
    // computed here from JAX's published integers with BigInt arithmetic.
    const expectedFloats = expected64.map((b) => Number(b >> 12n) * 2 ** -52)
    expect(Array.from(uniform(k, [5]).toTypedArray())).toEqual(expectedFloats)
  })

  // JAX prints these to 6 decimals, so agreement is checked to 5e-7 (print rounding) plus
  // the float32 rounding of JAX's own arithmetic (a few ulps, ~3e-7 at these magnitudes):
  // tolerance 1e-6.
  const near = (actual: ArrayLike<number>, expected: number[], tol = 1e-6): void => {
    expect(actual.length).toBe(expected.length)
    expected.forEach((e, i) => expect(Math.abs((actual[i] as number) - e)).toBeLessThan(tol))
  }

  it('uniform float32 (5,)', () => {
    const u = uniform(key(adler32('uniformthreefry2x32')), [5], { dtype: 'float32' })
    near(u.toTypedArray(), [0.298671, 0.073213, 0.873356, 0.260549, 0.412797])
  })

  it('normal float32 (5,): inverse CDF of the same uniforms', () => {
    const z = normal(key(adler32('normalthreefry2x32')), [5], { dtype: 'float32' })
    near(z.toTypedArray(), [-1.173234, -1.511662, 0.070593, -0.099764, 1.052845])
  })

  it('truncated_normal float32 (5,), lower 0, upper 2', () => {
    const z = truncatedNormal(key(adler32('truncated_normalthreefry2x32')), [5], 0, 2, { dtype: 'float32' })
    near(z.toTypedArray(), [0.582807, 1.709771, 0.159513, 0.861376, 0.36148])
  })

  it('bernoulli p = 0.5 (5,) with float32 uniforms (JAX without x64)', () => {
    const b = bernoulli(key(adler32('bernoullithreefry2x32')), 0.5, [5], { dtype: 'float32' })
    expect(b.toArray()).toEqual([0, 1, 1, 1, 0])
  })
})
