import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeSafetensors, encodeSafetensors, loadSync, treeFromPaths } from '../../src/io/index.js'
import { scalar, tensor } from '../../src/tensor/Tensor.js'
import { FIXTURE_PATH, fixtureBytes } from './fixtures/make-fixture.js'
import { arbTensorTree, treeDiff } from './helpers.js'

/** The tree `make-fixture.ts` describes, built with ordinary constructors. */
const handTree = {
  layers: [
    {
      b: tensor([0.25, -Infinity]),
      w: tensor(
        [
          [1, -2],
          [0.5, -0],
        ],
        'float32',
      ),
    },
  ],
  scale: 2,
}

const headerOf = (bytes: Uint8Array): string => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true))
  return new TextDecoder().decode(bytes.subarray(8, 8 + n))
}

describe('hand-built fixture', () => {
  it('the committed file is what make-fixture.ts builds', () => {
    expect(Buffer.compare(readFileSync(FIXTURE_PATH), fixtureBytes())).toBe(0)
  })

  it('reads back to the right values, metadata and dtypes', () => {
    const r = decodeSafetensors(new Uint8Array(readFileSync(FIXTURE_PATH)))
    if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
    expect(r.right.metadata).toEqual({ format: 'pt' })
    expect(Object.keys(r.right.tensors)).toEqual(['layers[0].b', 'scale', 'layers[0].w'])
    const { tensors: t } = r.right
    expect(t['layers[0].b']?.dtype).toBe('float64')
    expect(t['layers[0].b']?.toArray()).toEqual([0.25, -Infinity])
    expect(t['layers[0].w']?.dtype).toBe('float32')
    expect(t['layers[0].w']?.toArray()).toEqual([
      [1, -2],
      [0.5, -0],
    ])
    expect(Object.is((t['layers[0].w']?.toTypedArray() as Float32Array)[3], -0)).toBe(true)
    expect(t['scale']?.shape).toEqual([])
    expect(t['scale']?.item()).toBe(2)
  })

  it('loads as a tree rebuilt from the key paths', () => {
    const r = loadSync(FIXTURE_PATH)
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(treeDiff(r.right, { ...handTree, scale: scalar(2) })).toBeUndefined()
  })

  it('encodeSafetensors of the same tree is byte for byte the fixture', () => {
    const ours = encodeSafetensors(handTree, { format: 'pt' })
    expect(headerOf(ours)).toBe(headerOf(fixtureBytes()))
    expect(Buffer.compare(Buffer.from(ours), Buffer.from(fixtureBytes()))).toBe(0)
  })
})

describe('encodeSafetensors', () => {
  it('pads the header with spaces to a multiple of 8 bytes and lays tensors out contiguously', () => {
    fc.assert(
      fc.property(
        arbTensorTree,
        fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), { nil: undefined }),
        (t, md) => {
          const bytes = encodeSafetensors(t, md)
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
          expect(n % 8).toBe(0)
          const text = headerOf(bytes)
          expect(text).toBe(text.trimEnd() + ' '.repeat(text.length - text.trimEnd().length))
          expect(text.length - text.trimEnd().length).toBeLessThan(8)
          const header = JSON.parse(text) as Record<
            string,
            { dtype: string; data_offsets: [number, number] } | Record<string, string>
          >
          const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as Array<
            [string, { dtype: string; data_offsets: [number, number] }]
          >
          // header order = layout order: F64 before F32, names ascending within each.
          let at = 0
          entries.forEach(([, e]) => {
            expect(e.data_offsets[0]).toBe(at)
            at = e.data_offsets[1]
          })
          expect(bytes.length).toBe(8 + n + at)
          const dtypes = entries.map(([, e]) => e.dtype)
          expect(dtypes).toEqual([...dtypes].sort((a, b) => (a === b ? 0 : a === 'F64' ? -1 : 1)))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('decode ∘ encode = identity (NaN, ±Inf, -0, both dtypes, rank 0, empty tensors, odd keys)', () => {
    fc.assert(
      fc.property(
        arbTensorTree,
        fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), { nil: undefined }),
        (t, md) => {
          const r = decodeSafetensors(encodeSafetensors(t, md))
          if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
          expect(r.right.metadata).toEqual(md)
          const tree = treeFromPaths(Object.entries(r.right.tensors))
          if (E.isLeft(tree)) throw new Error(tree.left.errors.join('\n'))
          expect(treeDiff(tree.right, t)).toBeUndefined()
        },
      ),
      { numRuns: 300 },
    )
  })

  it('sorts names by code point (UTF-8 byte order), not UTF-16 units', () => {
    // U+FF5E (UTF-8 EF BD 9E) sorts before U+1F600 (F0 9F 98 80), although its UTF-16 unit
    // 0xFF5E is above the high surrogate 0xD83D.
    const bytes = encodeSafetensors({ '😀': scalar(1), '～': scalar(2) })
    expect(Object.keys(JSON.parse(headerOf(bytes)))).toEqual(['["～"]', '["😀"]'])
  })

  it('a key with a lone surrogate is stored escaped inside its key path, and comes back', () => {
    const bytes = encodeSafetensors({ ['\uD800']: tensor([1]) })
    expect(headerOf(bytes)).toContain('"[\\"\\\\ud800\\"]"')
    const r = decodeSafetensors(bytes)
    const t = E.isRight(r) ? treeFromPaths(Object.entries(r.right.tensors)) : r
    expect(E.isRight(t) && Object.keys(t.right)).toEqual(['\uD800'])
  })

  it('stores number leaves as rank-0 F64 tensors', () => {
    expect(headerOf(encodeSafetensors({ lr: 0.5 })).trimEnd()).toBe(
      '{"lr":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}',
    )
  })

  it('refuses trees it cannot store faithfully', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(/reserved metadata key/)
    // Metadata is written as-is, and a lone surrogate cannot be UTF-8.
    expect(() => encodeSafetensors({ a: tensor([1]) }, { k: '\uD800' })).toThrow(/lone surrogate/)
    expect(() => encodeSafetensors({ a: tensor([1]) }, { k: 1 as unknown as string })).toThrow(
      /metadata values must be strings/,
    )
    expect(() => encodeSafetensors({ a: 'x' } as never)).toThrow(expect.objectContaining({ tag: 'TreeError' }))
  })
})

describe('decodeSafetensors', () => {
  it('accepts any header order and the name-ordered layout of other writers', () => {
    // Tensors laid out b (F32) then a (F64), header listing a first, no padding.
    const header =
      '{"a":{"dtype":"F64","shape":[1],"data_offsets":[4,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    const h = new TextEncoder().encode(header)
    const bytes = new Uint8Array(8 + h.length + 12)
    const v = new DataView(bytes.buffer)
    v.setBigUint64(0, BigInt(h.length), true)
    bytes.set(h, 8)
    v.setFloat32(8 + h.length, 1.5, true)
    v.setFloat64(8 + h.length + 4, -3, true)
    const r = decodeSafetensors(bytes)
    if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
    expect(r.right.tensors['a']?.toArray()).toEqual([-3])
    expect(r.right.tensors['b']?.toArray()).toEqual([1.5])
    expect(r.right.metadata).toBeUndefined()
  })

  it('decoded tensors own their memory (a Node Buffer from a pool included)', () => {
    const bytes = encodeSafetensors({ w: tensor([1, 2, 3]) })
    const buf = Buffer.alloc(bytes.length + 3)
    buf.set(bytes, 3)
    const view = buf.subarray(3)
    const r = decodeSafetensors(view)
    if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
    view.fill(0)
    expect(r.right.tensors['w']?.toArray()).toEqual([1, 2, 3])
  })
})
