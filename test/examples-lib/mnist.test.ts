import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { N_PIXELS, decodeDigitFile, loadMnist } from '../../examples/lib/mnist.js'

// The package's own CommonJS entry, used only through its index-taking `get(i)` (which
// involves no randomness), gives an independent reading of the same digit files.
const pkg = createRequire(import.meta.url)('mnist') as Record<
  number,
  { readonly length: number; get(i: number): number[] }
>

const rowKey = (images: Float32Array | Float64Array, i: number): string =>
  createHash('sha1')
    .update(Buffer.from(Float64Array.from(images.subarray(i * N_PIXELS, (i + 1) * N_PIXELS)).buffer))
    .digest('hex')

const full = loadMnist()

describe('loadMnist', () => {
  it('is deterministic: two loads give identical pixels and labels', () => {
    const again = loadMnist()
    expect(Buffer.from(again.train.images.buffer).equals(Buffer.from(full.train.images.buffer))).toBe(true)
    expect(Buffer.from(again.test.images.buffer).equals(Buffer.from(full.test.images.buffer))).toBe(true)
    expect(Array.from(again.train.labels)).toEqual(Array.from(full.train.labels))
    expect(Array.from(again.test.labels)).toEqual(Array.from(full.test.labels))
  })

  it('returns fresh arrays: writing into one result does not change the next', () => {
    const a = loadMnist({ trainSize: 10, testSize: 10 })
    a.train.images[0] = 42
    a.train.labels[0] = 42
    const b = loadMnist({ trainSize: 10, testSize: 10 })
    expect(b.train.images[0]).toBe(full.train.images[0])
    expect(b.train.labels[0]).toBe(full.train.labels[0])
    expect(Object.isFrozen(b)).toBe(true)
  })

  it('splits each class 85/15 in file order, as counted by the package itself', () => {
    let total = 0
    for (let d = 0; d < 10; d++) {
      const n = pkg[d]!.length
      total += n
      expect(full.classCounts.train[d]).toBe(Math.floor(n * 0.85))
      expect(full.classCounts.test[d]).toBe(n - Math.floor(n * 0.85))
    }
    expect(total).toBe(10000)
    expect(full.nTrain + full.nTest).toBe(total)
    expect(full.train.images.length).toBe(full.nTrain * 784)
    expect(full.test.images.length).toBe(full.nTest * 784)
    expect(full.train.labels.length).toBe(full.nTrain)
    expect(full.test.labels.length).toBe(full.nTest)
  })

  it('holds exactly the package digits: train = first 85 % of each class, test = the rest', () => {
    // Multiset of (label, pixel hash) from our load vs from the package's get(i).
    const ours = (split: typeof full.train): string[] =>
      Array.from({ length: split.n }, (_, i) => `${split.labels[i]}:${rowKey(split.images, i)}`).sort()
    const theirs = (part: 'train' | 'test'): string[] => {
      const out: string[] = []
      for (let d = 0; d < 10; d++) {
        const n = pkg[d]!.length
        const cut = Math.floor(n * 0.85)
        const [from, to] = part === 'train' ? [0, cut] : [cut, n]
        for (let i = from; i < to; i++) out.push(`${d}:${rowKey(Float64Array.from(pkg[d]!.get(i)), 0)}`)
      }
      return out.sort()
    }
    expect(ours(full.train)).toEqual(theirs('train'))
    expect(ours(full.test)).toEqual(theirs('test'))
  })

  it('has pixels in [0, 1], labels in 0..9, and every class in both splits', () => {
    for (const split of [full.train, full.test]) {
      let lo = Infinity
      let hi = -Infinity
      for (const v of split.images) {
        lo = Math.min(lo, v)
        hi = Math.max(hi, v)
      }
      expect(lo).toBeGreaterThanOrEqual(0)
      expect(hi).toBeLessThanOrEqual(1)
      expect(hi).toBeGreaterThan(0.9) // real ink, not an all-zero buffer
      expect(new Set(split.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    }
  })

  it('puts no image in both train and test', () => {
    const trainKeys = new Set(Array.from({ length: full.nTrain }, (_, i) => rowKey(full.train.images, i)))
    const shared = Array.from({ length: full.nTest }, (_, i) => rowKey(full.test.images, i)).filter((k) =>
      trainKeys.has(k),
    )
    expect(shared).toEqual([])
  })

  it('is not sorted by class, and every prefix of 10·k is class-balanced', () => {
    const first10 = Array.from(full.train.labels.subarray(0, 10))
    expect([...first10].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(first10).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const next10 = Array.from(full.train.labels.subarray(10, 20))
    expect(next10).not.toEqual(first10)
    const small = loadMnist({ trainSize: 500, testSize: 100 })
    expect(small.classCounts.train).toEqual(Array(10).fill(50))
    expect(small.classCounts.test).toEqual(Array(10).fill(10))
  })

  it('takes subsets as prefixes of the full split', () => {
    const small = loadMnist({ trainSize: 123, testSize: 45 })
    expect(small.nTrain).toBe(123)
    expect(small.nTest).toBe(45)
    expect(Array.from(small.train.images)).toEqual(Array.from(full.train.images.subarray(0, 123 * 784)))
    expect(Array.from(small.test.labels)).toEqual(Array.from(full.test.labels.subarray(0, 45)))
  })

  it('float32 pixels are the float64 pixels rounded to float32', () => {
    const f32 = loadMnist({ dtype: 'float32', trainSize: 200, testSize: 20 })
    expect(f32.train.images).toBeInstanceOf(Float32Array)
    expect(f32.dtype).toBe('float32')
    expect(full.train.images).toBeInstanceOf(Float64Array)
    const ref = Float32Array.from(full.train.images.subarray(0, 200 * 784))
    expect(Buffer.from(f32.train.images.buffer).equals(Buffer.from(ref.buffer))).toBe(true)
  })

  it('rejects sizes outside the split and bad fractions', () => {
    expect(() => loadMnist({ trainSize: 0 })).toThrow(RangeError)
    expect(() => loadMnist({ testSize: full.nTest + 1 })).toThrow(/testSize/)
    expect(() => loadMnist({ trainSize: 1.5 })).toThrow(RangeError)
    expect(() => loadMnist({ trainFraction: 1 })).toThrow(/trainFraction/)
  })
})

describe('decodeDigitFile', () => {
  it('decodes a well-formed file', () => {
    const r = decodeDigitFile({ data: Array(784 * 2).fill(0.5) })
    expect(E.isRight(r) && r.right.length === 1568 && r.right[5] === 0.5).toBe(true)
  })

  it('names what is wrong with a malformed file', () => {
    const left = (u: unknown): string => {
      const r = decodeDigitFile(u)
      if (E.isRight(r)) throw new Error('expected a decode failure')
      return r.left
    }
    expect(left({})).toMatch(/^data: expected an array/)
    expect(left({ data: [0, 1] })).toMatch(/multiple of 784 values, got 2/)
    const bad = Array(784).fill(0)
    bad[17] = 1.5
    expect(left({ data: bad })).toMatch(/^data\.17: expected a pixel value in \[0, 1\]/)
    bad[17] = 'x'
    expect(left({ data: bad })).toMatch(/^data\.17:/)
  })
})
