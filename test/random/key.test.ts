import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { threefry2x32 } from '../../src/random/threefry.js'
import { type Key, foldIn, isKey, key, keyFromData, randomBits, split, uniform } from '../../src/random/index.js'
import { KS_C_001, ksCheck, uniformCdf } from './stats.js'

const expectError = (f: () => unknown, tag: string, fragment: string): void => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PurediffError)
    expect((e as PurediffError).tag).toBe(tag)
    expect((e as PurediffError).message).toContain(fragment)
    return
  }
  throw new Error('expected a PurediffError')
}

describe('key(seed)', () => {
  // Words of the 64-bit two's complement seed, high then low; the cases are JAX's
  // test_prng_seeds_and_keys table (the x64 column).
  it.each([
    [0, [0, 0]],
    [1, [0, 1]],
    [3, [0, 3]],
    [-1, [4294967295, 4294967295]],
    [-3, [4294967295, 4294967293]],
    [2147483647 + 100, [0, 2147483747]],
    [-2147483648 - 100, [4294967295, 2147483548]],
    [2 ** 32, [1, 0]],
    [Number.MAX_SAFE_INTEGER, [2 ** 21 - 1, 4294967295]],
    [Number.MIN_SAFE_INTEGER, [4292870144, 1]],
  ])('key(%d).data = %j', (seed, data) => {
    expect(key(seed).data).toEqual(data)
  })

  it('is a frozen, JSON-encodable plain object', () => {
    const k = key(7)
    expect(Object.isFrozen(k)).toBe(true)
    expect(Object.isFrozen(k.data)).toBe(true)
    expect(k.kind).toBe('purediff/key')
    const decoded: unknown = JSON.parse(JSON.stringify(k))
    expect(decoded).toEqual(k)
    expect(isKey(decoded)).toBe(true)
    // A decoded key draws the same numbers as the original.
    expect(uniform(decoded as Key, [3]).toArray()).toEqual(uniform(k, [3]).toArray())
    expect(keyFromData([0, 7])).toEqual(k)
  })

  it('rejects seeds that are not safe integers', () => {
    expectError(() => key(1.5), 'ValueError', 'key: seed must be a safe integer')
    expectError(() => key(Number.NaN), 'ValueError', 'seed must be a safe integer')
    expectError(() => key(2 ** 53), 'ValueError', 'seed must be a safe integer')
    expectError(() => key('3' as unknown as number), 'ValueError', 'string 3')
  })

  it('keyFromData rejects words that are not uint32', () => {
    expectError(() => keyFromData([0, -1]), 'ValueError', 'two uint32 words')
    expectError(() => keyFromData([2 ** 32, 0]), 'ValueError', 'two uint32 words')
    expectError(() => keyFromData([1] as unknown as [number, number]), 'ValueError', 'array of length 1')
  })
})

describe('isKey and key validation', () => {
  it.each([
    [null],
    [undefined],
    [[0, 0]],
    [{}],
    [{ kind: 'purediff/key', data: [1] }],
    [{ kind: 'purediff/key', data: [-1, 0] }],
    [{ kind: 'purediff/key', data: [0.5, 0] }],
    [{ kind: 'other', data: [0, 0] }],
  ])('%j is not a key, and samplers say so', (x) => {
    expect(isKey(x)).toBe(false)
    expectError(() => split(x as unknown as Key), 'ValueError', 'split: expected a PRNG key')
    expectError(() => uniform(x as unknown as Key, [2]), 'ValueError', 'uniform: expected a PRNG key')
  })
})

describe('split', () => {
  it('defaults to two keys; returns frozen arrays of frozen keys', () => {
    const ks = split(key(0))
    expect(ks).toHaveLength(2)
    expect(Object.isFrozen(ks)).toBe(true)
    for (const k of ks) expect(Object.isFrozen(k) && isKey(k)).toBe(true)
    expect(split(key(0), 0)).toEqual([])
  })

  it('follows JAX: n keys are the pairs of threefry_2x32(key, iota(2n))', () => {
    // Derivation for n = 2: counters 0..3 are paired (0, 2) and (1, 3); outputs fill slots
    // [h(0,2)[0], h(1,3)[0], h(0,2)[1], h(1,3)[1]], read as pairs of consecutive slots.
    const k = key(123)
    const a = threefry2x32(k.data, [0, 2])
    const b = threefry2x32(k.data, [1, 3])
    expect(split(k, 2).map((s) => s.data)).toEqual([
      [a[0], b[0]],
      [a[1], b[1]],
    ])
  })

  it('gives distinct keys, distinct from the parent (1000-way split)', () => {
    const k = key(99)
    const ks = split(k, 1000)
    const seen = new Set(ks.map((s) => s.data.join(',')))
    expect(seen.size).toBe(1000)
    expect(seen.has(k.data.join(','))).toBe(false)
  })

  it('children look independent: first words of 20000 split keys are uniform (KS, alpha = 0.001)', () => {
    const words = split(key(5), 20000).map((s) => s.data[0] / 2 ** 32)
    const ks = ksCheck(words, uniformCdf(0, 1))
    expect(ks.threshold).toBeCloseTo(KS_C_001 / Math.sqrt(20000), 12)
    expect(ks.pass).toBe(true)
  })

  it('property: split keys of any seed are pairwise distinct', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 2, max: 20 }), (seed, n) => {
        const ks = split(key(seed), n)
        return new Set(ks.map((s) => s.data.join(','))).size === n
      }),
      { seed: 20240601, numRuns: 200 },
    )
  })

  it('rejects a bad count', () => {
    expectError(() => split(key(0), -1), 'ValueError', 'split: the number of keys must be an integer')
    expectError(() => split(key(0), 2.5), 'ValueError', 'the number of keys must be an integer')
  })
})

describe('foldIn', () => {
  it('is threefry_2x32(key, [0, data]) (JAX: threefry_seed(data) as the counter)', () => {
    const k = key(31337)
    expect(foldIn(k, 17).data).toEqual(threefry2x32(k.data, [0, 17]))
  })

  it('gives distinct keys for distinct data (the block function is a bijection of the counter)', () => {
    const k = key(1)
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) seen.add(foldIn(k, i).data.join(','))
    expect(seen.size).toBe(2000)
  })

  it('folded keys of consecutive data look uniform (KS on first words, n = 20000, alpha = 0.001)', () => {
    const k = key(2)
    const words: number[] = []
    for (let i = 0; i < 20000; i++) words.push(foldIn(k, i).data[0] / 2 ** 32)
    expect(ksCheck(words, uniformCdf(0, 1)).pass).toBe(true)
  })

  it('rejects data outside [0, 2^32)', () => {
    expectError(() => foldIn(key(0), -1), 'ValueError', 'foldIn: data must be an integer in [0, 4294967295]')
    expectError(() => foldIn(key(0), 2 ** 32), 'ValueError', 'data must be an integer')
    expectError(() => foldIn(key(0), 0.5), 'ValueError', 'data must be an integer')
  })
})

describe('randomBits', () => {
  it('returns a fresh array each call (mutating one does not affect the next)', () => {
    const k = key(3)
    const a = randomBits(k, 8)
    const copy = Array.from(a)
    a.fill(0)
    expect(Array.from(randomBits(k, 8))).toEqual(copy)
  })

  it('odd counts pad the counter list with 0 and drop the padded output (JAX rule)', () => {
    // n = 3: h = 2, pairs (0, 2) and (1, pad 0); slots [h(0,2)[0], h(1,0)[0], h(0,2)[1]].
    const k = key(77)
    const a = threefry2x32(k.data, [0, 2])
    const b = threefry2x32(k.data, [1, 0])
    expect(Array.from(randomBits(k, 3))).toEqual([a[0], b[0], a[1]])
  })

  it('rejects a bad count', () => {
    expectError(() => randomBits(key(0), -3), 'ValueError', 'randomBits: n must be an integer')
  })
})
