import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TreeCodec, formatErrors, fromJSON, parseKeyPath, toJSON, treeFromPaths } from '../../src/io/index.js'
import { tensor } from '../../src/tensor/Tensor.js'
import { flatten, keyPaths } from '../../src/tree/Tree.js'
import type { Leaf } from '../../src/tree/Tree.js'
import { arbKey, arbTensorTree, arbTree, deepFrozen, treeDiff } from './helpers.js'

const viaText = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

describe('TreeCodec', () => {
  it('decode ∘ JSON text ∘ encode = identity on random trees (NaN, ±Inf, -0, empty containers, odd keys)', () => {
    fc.assert(
      fc.property(arbTree, (t) => {
        const r = fromJSON(viaText(toJSON(t)))
        if (E.isLeft(r)) throw new Error(r.left.join('\n'))
        expect(treeDiff(r.right, t)).toBeUndefined()
        expect(deepFrozen(r.right)).toBe(true)
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
        if (E.isLeft(r)) throw new Error(r.left.join('\n'))
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
