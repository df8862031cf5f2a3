import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertSuite, codecLaws } from '../../laws/index.js'
import {
  TreeCodec,
  formatErrors,
  fromJSON,
  load,
  loadSync,
  parseKeyPath,
  save,
  saveSync,
  toJSON,
  treeFromPaths,
} from '../../src/io/index.js'
import { tensor } from '../../src/tensor/Tensor.js'
import type { Tree } from '../../src/tree/Tree.js'
import { flatten, keyPaths } from '../../src/tree/Tree.js'
import type { Leaf } from '../../src/tree/Tree.js'
import { arbKey, arbTensor, arbTensorTree, arbTree, deepFrozen, tempDir, treeDiff } from './helpers.js'

const viaText = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

/** decode ∘ JSON text ∘ encode: the decoded tree, asserted equal to `t`. */
const roundTrip = (t: Tree): Tree => {
  const r = fromJSON(viaText(toJSON(t)))
  if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
  expect(treeDiff(r.right, t)).toBeUndefined()
  return r.right
}

describe('TreeCodec', () => {
  it('decode ∘ JSON text ∘ encode = identity on random trees (NaN, ±Inf, -0, empty containers, odd keys)', () => {
    fc.assert(
      fc.property(arbTree, (t) => {
        expect(deepFrozen(roundTrip(t))).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps a record key named __proto__ as an ordinary key', () => {
    const r = fromJSON(JSON.parse('{"__proto__": 1, "a": {"__proto__": [2]}}'))
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) {
      const t = r.right as Record<string, unknown>
      expect(Object.keys(t).sort()).toEqual(['__proto__', 'a'])
      expect(Object.getPrototypeOf(t)).toBe(Object.prototype)
      expect(Object.getOwnPropertyDescriptor(t, '__proto__')?.value).toBe(1)
    }
  })

  it('writes the documented JSON form', () => {
    expect(toJSON({ w: tensor([1, NaN], 'float32'), lr: -0, layers: [] })).toEqual({
      w: { dtype: 'float32', shape: [2], data: [1, 'NaN'] },
      lr: '-0',
      layers: [],
    })
  })

  it('an object whose dtype is a string is a tensor, so errors inside it are tensor errors', () => {
    const r = TreeCodec.decode({ a: [{ dtype: 'float64', shape: [2], data: [1] }] })
    expect(E.isLeft(r) && formatErrors(r.left)).toEqual(["at 'a[0].data': 1 values do not fill shape [2] (2 elements)"])
  })

  it('an unknown dtype name is still a tensor with a bad dtype, not a record', () => {
    for (const dtype of ['int8', 'nan', 'infinity', '+Infinity', '0', '']) {
      const r = TreeCodec.decode({ w: { dtype, shape: [1], data: [1] } })
      expect(E.isLeft(r) && formatErrors(r.left)).toEqual([
        `at 'w.dtype': unknown dtype ${JSON.stringify(dtype)}; expected 'float64' or 'float32'`,
      ])
    }
    const bare = TreeCodec.decode({ dtype: 'int8' })
    expect(E.isLeft(bare) && formatErrors(bare.left)).toEqual([
      "missing key 'shape' in a tensor",
      "missing key 'data' in a tensor",
    ])
  })

  it('toJSON refuses a value that is not a tree, naming the key path', () => {
    expect(() => toJSON({ a: [1, 'x'] } as never)).toThrow(/at key path 'a\[1\]'/)
    const cyc: Record<string, unknown> = {}
    cyc['self'] = cyc
    expect(() => toJSON(cyc as never)).toThrow(/deeper than 256/)
  })
})

describe('key paths', () => {
  it('treeFromPaths ∘ flatten = identity on trees without empty containers', () => {
    fc.assert(
      fc.property(arbTensorTree, (t) => {
        const [leaves, def] = flatten(t)
        const r = treeFromPaths(keyPaths(def).map((p, i) => [p, leaves[i] as Leaf]))
        if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
        expect(treeDiff(r.right, t)).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })

  it('parses segments', () => {
    expect(parseKeyPath('layers[0].w')).toEqual(E.right(['layers', 0, 'w']))
    expect(parseKeyPath('a["x.y"][12]["\\"q\\""]')).toEqual(E.right(['a', 'x.y', 12, '"q"']))
    expect(parseKeyPath('')).toEqual(E.right([]))
    expect(parseKeyPath('[3]')).toEqual(E.right([3]))
  })

  it('single keys round trip through joinKey-style paths', () => {
    fc.assert(
      fc.property(arbKey, (k) => {
        const [, def] = flatten({ [k]: 1 })
        expect(parseKeyPath(keyPaths(def)[0] as string)).toEqual(E.right([k]))
      }),
    )
  })

  it('rejects malformed paths with the position', () => {
    for (const [p, why] of [
      ['model.layers.0.w', 'expected an identifier at character 13'],
      ['a[01]', 'expected [index] or ["key"] at character 1'],
      ['a..b', 'expected an identifier at character 2'],
      ['a["x', 'unterminated ["..."] at character 1'],
      ['a b', "expected '.', '[' or the end at character 1"],
      ['a[-1]', 'expected [index] or ["key"] at character 1'],
    ] as const) {
      expect(parseKeyPath(p)).toEqual(E.left(`cannot parse key path ${JSON.stringify(p)}: ${why}`))
    }
  })
})

// Regression (audit item 1): NaN, ±Infinity and -0 are written as strings, so a record key
// named `dtype` holding one of them used to read back as a (broken) tensor.
describe('records with keys named dtype, shape and data', () => {
  const specials = [NaN, Infinity, -Infinity, -0] as const
  const cases: ReadonlyArray<readonly [string, Tree]> = specials.flatMap((x) => {
    const s = Object.is(x, -0) ? '-0' : String(x)
    return [
      [`{ dtype: ${s} }`, { dtype: x }],
      [`{ dtype: ${s}, shape: [2], data: [1, 2] } (looks like a tensor)`, { dtype: x, shape: [2], data: [1, 2] }],
      [`{ dtype: ${s}, shape: ${s}, data: ${s} }`, { dtype: x, shape: x, data: x }],
      [
        `nested: { a: [{ dtype: ${s} }], b: { dtype: { dtype: ${s} } } }`,
        { a: [{ dtype: x }], b: { dtype: { dtype: x } } },
      ],
      [`a record holding a tensor under dtype, next to ${s}`, { dtype: tensor([x, 1]), shape: x }],
    ] as const
  })

  it.each(cases)('%s round-trips through JSON text', (_name, t) => {
    const r = fromJSON(viaText(toJSON(t)))
    if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
    expect(treeDiff(r.right, t)).toBeUndefined()
    expect(TreeCodec.is(r.right)).toBe(true)
  })

  it('io.save then io.load gives { dtype: NaN } back (JSON, async and sync)', async () => {
    const tmp = tempDir()
    try {
      for (const t of cases.map(([, t]) => t)) {
        await save(tmp.path('x.json'), t)
        const a = await load(tmp.path('x.json'))
        if (E.isLeft(a)) throw new Error(a.left.message)
        expect(treeDiff(a.right, t)).toBeUndefined()
        saveSync(tmp.path('y.json'), t)
        const b = loadSync(tmp.path('y.json'))
        if (E.isLeft(b)) throw new Error(b.left.message)
        expect(treeDiff(b.right, t)).toBeUndefined()
      }
    } finally {
      tmp.cleanup()
    }
  })

  /** Trees whose records use the tensor field names as keys and hold the special numbers often. */
  const arbTricky: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom<Tree>(NaN, Infinity, -Infinity, -0, 0, 1.5),
      arbTensor,
      fc.array(tie('tree'), { maxLength: 3 }),
      fc
        .uniqueArray(fc.tuple(fc.constantFrom('dtype', 'shape', 'data', 'w'), tie('tree')), {
          selector: ([k]) => k,
          maxLength: 4,
        })
        .map((es): Tree => Object.fromEntries(es)),
    ),
  })).tree

  it('decode ∘ JSON text ∘ encode = identity on such trees', () => {
    fc.assert(
      fc.property(arbTricky, (t) => {
        roundTrip(t)
      }),
      { numRuns: 500 },
    )
  })

  it('TreeCodec satisfies codecLaws on such trees', () => {
    assertSuite(codecLaws(TreeCodec, arbTricky), { numRuns: 300, seed: 11 })
  })
})
