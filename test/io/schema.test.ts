import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { assertSuite, codecLaws } from '../../laws/index.js'
import {
  TensorCodec,
  TreeCodec,
  initializer,
  normalInit,
  schema,
  uniformInit,
  type ShapeOf,
  type TypeOf,
} from '../../src/io/index.js'
import * as nn from '../../src/nn/index.js'
import { key, split } from '../../src/random/index.js'
import type { Key } from '../../src/random/index.js'
import { Tensor, tensor } from '../../src/tensor/Tensor.js'
import { deepFrozen, treeDiff } from './helpers.js'
import type { PurediffDecodeError } from '../../src/io/index.js'

/** The readable lines of a Left (the errors of a `PurediffDecodeError`), to compare with literals. */
const lines = <A>(r: E.Either<PurediffDecodeError, A>): E.Either<ReadonlyArray<string>, A> =>
  E.isLeft(r) ? E.left(r.left.errors) : r

const mlp = schema.record({
  layers: schema.tuple(
    schema.record({ w: schema.tensor([4, 3], { init: 'glorotUniform' }), b: schema.tensor([3]) }),
    schema.record({
      w: schema.tensor([3, 2], { init: 'heNormal', dtype: 'float32' }),
      b: schema.tensor([2], { init: 'ones' }),
    }),
  ),
  scale: schema.number({ init: nn.constant(0.5) }),
  blocks: schema.array(schema.record({ g: schema.tensor([2], { init: 'ones', allowNaN: true }) }), 2),
})
type Params = TypeOf<typeof mlp>

const viaText = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

describe('schema types', () => {
  it('TypeOf gives the record type, tuples as tuples', () => {
    expectTypeOf<Params['layers'][0]['w']>().toEqualTypeOf<Tensor>()
    expectTypeOf<Params['layers']>().toMatchTypeOf<readonly [unknown, unknown]>()
    expectTypeOf<Params['scale']>().toEqualTypeOf<number>()
    expectTypeOf<Params['blocks']>().toEqualTypeOf<ReadonlyArray<{ readonly g: Tensor }>>()
    expectTypeOf(mlp.init).returns.toEqualTypeOf<Params>()
    expectTypeOf(mlp.shapeOf).toEqualTypeOf<ShapeOf<Params>>()
    expectTypeOf<ShapeOf<Params>['layers'][1]['w']>().toEqualTypeOf<ReadonlyArray<number>>()
  })
})

describe('schema.shapeOf', () => {
  it('is the tree of shapes', () => {
    expect(mlp.shapeOf).toEqual({
      blocks: [{ g: [2] }, { g: [2] }],
      layers: [
        { b: [3], w: [4, 3] },
        { b: [2], w: [3, 2] },
      ],
      scale: [],
    })
    expect(deepFrozen(mlp.shapeOf)).toBe(true)
  })
})

describe('schema.init', () => {
  it('gives frozen parameters of the declared shapes and dtypes, deterministically', () => {
    const p = mlp.init(key(0))
    expect(deepFrozen(p)).toBe(true)
    expect(p.layers[0].w.shape).toEqual([4, 3])
    expect(p.layers[1].w.dtype).toBe('float32')
    expect(p.layers[1].b.toArray()).toEqual([1, 1])
    expect(p.layers[0].b.toArray()).toEqual([0, 0, 0])
    expect(p.scale).toBe(0.5)
    expect(treeDiff(mlp.init(key(0)), p)).toBeUndefined()
    expect(treeDiff(mlp.init(key(1)), p)).toBeDefined()
    expect(mlp.codec.is(p)).toBe(true)
  })

  it('splits the key once per child, in sorted key order', () => {
    // keys of the root: blocks, layers, scale → layers gets split(k, 3)[1]; its tuple splits
    // in two; the first layer's keys b, w → w gets the second subkey.
    const k = key(7)
    const kLayers = split(k, 3)[1] as Key
    const kLayer0 = split(kLayers, 2)[0] as Key
    const kW = split(kLayer0, 2)[1] as Key
    const expected = nn.glorotUniform(kW, [4, 3], 'float64')
    expect(treeDiff(mlp.init(k).layers[0].w, expected)).toBeUndefined()
  })

  it('rejects an initializer that returns the wrong shape', () => {
    const s = schema.tensor([2], { init: () => tensor([1, 2, 3]) })
    expect(() => s.init(key(0))).toThrow(/initializer returned \[3\] float64, expected \[2\] float64/)
  })
})

describe('initializers', () => {
  it('names resolve to the canonical nn initializers', () => {
    const names = [
      'zeros',
      'ones',
      'glorotUniform',
      'glorotNormal',
      'heUniform',
      'heNormal',
      'lecunUniform',
      'lecunNormal',
    ] as const
    for (const n of names) expect(initializer(n)).toBe(nn[n])
    const f = nn.constant(2)
    expect(initializer(f)).toBe(f)
  })

  it('a schema tensor draws what its initializer draws from the leaf key', () => {
    const s = schema.tensor([30, 20], { init: 'heNormal', dtype: 'float32' })
    expect(treeDiff(s.init(key(5)), nn.heNormal(key(5), [30, 20], 'float32'))).toBeUndefined()
  })

  // Moments of n = 100000 draws: the standard error of the mean is σ/√n and of the variance
  // σ²·√(2/n) for a normal (σ²·√(0.8/n) for a uniform); the bounds below are 6 of them.
  const moments = (x: Tensor): [number, number, number, number] => {
    const d = x.toTypedArray()
    let s = 0
    let s2 = 0
    let lo = Infinity
    let hi = -Infinity
    for (const v of d) {
      s += v
      s2 += v * v
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    const mean = s / d.length
    return [mean, s2 / d.length - mean * mean, lo, hi]
  }

  it('uniformInit(a, b) draws from [a, b) with mean (a+b)/2 and variance (b−a)²/12', () => {
    const [m, v, lo, hi] = moments(uniformInit(-0.1, 0.3)(key(1), [100000], 'float64'))
    expect(lo).toBeGreaterThanOrEqual(-0.1)
    expect(hi).toBeLessThan(0.3)
    const variance = 0.4 ** 2 / 12
    expect(Math.abs(m - 0.1)).toBeLessThan(6 * Math.sqrt(variance / 1e5))
    expect(Math.abs(v / variance - 1)).toBeLessThan(6 * Math.sqrt(0.8 / 1e5))
  })

  it('normalInit(std, mean) has that mean and standard deviation', () => {
    const [m, v] = moments(normalInit(2, 5)(key(2), [100000], 'float64'))
    expect(Math.abs(m - 5)).toBeLessThan(6 * Math.sqrt(4 / 1e5))
    expect(Math.abs(v / 4 - 1)).toBeLessThan(6 * Math.sqrt(2 / 1e5))
  })

  it('an unknown initializer name is an error at schema construction', () => {
    expect(() => schema.tensor([2], { init: 'xavier' as never })).toThrow(/unknown initializer "xavier"/)
  })
})

describe('schema.codec', () => {
  it('decode ∘ JSON text ∘ encode = identity on arbitrary parameters', () => {
    fc.assert(
      fc.property(mlp.arbitrary({ specials: true }), (p) => {
        const r = mlp.decode(viaText(mlp.codec.encode(p)))
        if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
        expect(treeDiff(r.right, p)).toBeUndefined()
      }),
      { numRuns: 100 },
    )
  })

  it('arbitrary respects shapes, dtypes, ranges and allowNaN', () => {
    fc.assert(
      fc.property(mlp.arbitrary({ min: -3, max: 3 }), (p) => {
        expect(mlp.codec.is(p)).toBe(true)
        expect(p.layers[1].w.dtype).toBe('float32')
        for (const v of p.layers[0].w.toTypedArray()) expect(Math.abs(v)).toBeLessThanOrEqual(3)
      }),
      { numRuns: 50 },
    )
    // With specials, NaN appears only where the schema allows it (blocks[i].g).
    const samples = fc.sample(mlp.arbitrary({ specials: true }), { numRuns: 200, seed: 1 })
    const hasNaN = (t: Tensor): boolean => [...t.toTypedArray()].some(Number.isNaN)
    expect(samples.some((p) => hasNaN(p.blocks[0]!.g))).toBe(true)
    expect(samples.some((p) => hasNaN(p.layers[0].w) || Number.isNaN(p.scale))).toBe(false)
  })

  it('decodes an in-memory tree, and a rank-0 tensor where a number is declared', () => {
    const p = mlp.init(key(0))
    const asStored = { ...p, scale: tensor(0.5) }
    const r = mlp.decode(asStored)
    expect(E.isRight(r) && r.right.scale).toBe(0.5)
  })

  it('a rank-0 tensor schema accepts a bare number', () => {
    const s = schema.tensor([], { dtype: 'float32' })
    const r = s.decode('-Infinity')
    expect(E.isRight(r) && r.right.dtype === 'float32' && r.right.item() === -Infinity).toBe(true)
  })

  it('reports each problem at its key path, all at once', () => {
    const good = viaText(mlp.codec.encode(mlp.init(key(0)))) as Record<string, unknown>
    const bad = viaText(good) as {
      layers: Array<{ w: { data: unknown[]; shape: number[] } }>
      blocks: unknown[]
      scale?: unknown
      extra?: unknown
    }
    ;(bad.layers[0] as { w: { data: unknown[] } }).w.data[5] = 'NaN'
    ;(bad.layers[1] as { w: { shape: number[] } }).w.shape = [2, 3]
    delete bad.scale
    bad.extra = 1
    bad.blocks.pop()
    expect(lines(mlp.decode(bad))).toEqual(
      E.left([
        "at 'blocks': expected an array of length 2, got length 1",
        "at 'layers[0].w.data[5]': NaN is not allowed here (the schema sets allowNaN: false)",
        "at 'layers[1].w.shape': expected shape [3, 2], got [2, 3]",
        `at 'scale': missing key "scale"`,
        `at 'extra': unexpected key "extra" (the schema has keys blocks, layers, scale)`,
      ]),
    )
  })
})

// Regression (audit item 1): a record key named `dtype` holding -0, ±Infinity or NaN is
// written as a string ('-0', ...), and the codec used to take the record for a tensor.
describe('schema.record with keys named dtype, shape and data', () => {
  const s = schema.record({
    dtype: schema.number({ allowNaN: true }),
    shape: schema.number(),
    data: schema.tensor([2], { allowNaN: true }),
  })
  const specials = [NaN, Infinity, -Infinity, -0, 0] as const

  it.each(specials.map((x) => [Object.is(x, -0) ? '-0' : String(x), x] as const))(
    'dtype: %s round-trips through JSON text',
    (_name, x) => {
      const one = schema.record({ dtype: schema.number({ allowNaN: true }) })
      const r1 = one.decode(viaText(one.codec.encode({ dtype: x })))
      expect(E.isRight(r1) && Object.is(r1.right.dtype, x)).toBe(true)
      const p = { dtype: x, shape: Number.isNaN(x) ? 1 : x, data: tensor([x, 1]) }
      const r = s.decode(viaText(s.codec.encode(p)))
      if (E.isLeft(r)) throw new Error(r.left.errors.join('\n'))
      expect(treeDiff(r.right, p)).toBeUndefined()
    },
  )

  it('nested records too, and codecLaws hold with specials', () => {
    const nested = schema.record({
      dtype: schema.record({ dtype: schema.number(), data: schema.tuple(schema.number()) }),
    })
    const p = { dtype: { dtype: -Infinity, data: [-0] as const } }
    const r = nested.decode(viaText(nested.codec.encode(p)))
    expect(E.isRight(r) && treeDiff(r.right, p)).toBeUndefined()
    assertSuite(codecLaws(s.codec, s.arbitrary({ specials: true })), { numRuns: 200, seed: 3 })
    assertSuite(codecLaws(nested.codec, nested.arbitrary({ specials: true })), { numRuns: 200, seed: 3 })
  })

  it('a real tensor where the record is declared is still reported as a tensor', () => {
    const r = s.decode({ dtype: 'float64', shape: [2], data: [1, 2] })
    expect(lines(r)).toEqual(E.left(['expected a record with keys data, dtype, shape, got a tensor of shape [2]']))
  })
})

// Regression (audit item 2): schema.number() accepted an in-memory rank-0 tensor but not the
// same value written as JSON.
describe('schema.number and rank-0 tensors', () => {
  const n = schema.number()
  it('accepts a rank-0 tensor in memory and as JSON, in either dtype', () => {
    for (const x of [tensor(1.5), tensor(-0), tensor(2.5, 'float32'), tensor(-Infinity)]) {
      for (const u of [x, viaText(TensorCodec.encode(x))]) {
        const r = n.decode(u)
        expect(E.isRight(r) && Object.is(r.right, x.item())).toBe(true)
      }
    }
    expect(n.decode({ dtype: 'float64', shape: [], data: [1] })).toEqual(E.right(1))
  })

  it('applies its constraints and the tensor checks to a JSON rank-0 tensor, with the key path', () => {
    const s = schema.record({ lr: schema.number() })
    expect(lines(s.decode({ lr: { dtype: 'float64', shape: [], data: ['NaN'] } }))).toEqual(
      E.left(["at 'lr': NaN is not allowed here (the schema sets allowNaN: false)"]),
    )
    expect(
      lines(
        schema
          .record({ lr: schema.number({ allowInfinity: false }) })
          .decode({ lr: { dtype: 'float32', shape: [], data: ['Infinity'] } }),
      ),
    ).toEqual(E.left(["at 'lr': Infinity is not allowed here (the schema sets allowInfinity: false)"]))
    expect(lines(s.decode({ lr: { dtype: 'float32', shape: [], data: [1e300] } }))).toEqual(
      E.left(["at 'lr.data[0]': 1e+300 overflows float32"]),
    )
    expect(lines(s.decode({ lr: { dtype: 'float64', shape: [], data: [] } }))).toEqual(
      E.left(["at 'lr.data': 0 values do not fill shape [] (1 elements)"]),
    )
    expect(lines(s.decode({ lr: { dtype: 'float64', shape: [1], data: [1] } }))).toEqual(
      E.left(["at 'lr': expected a number, got a tensor of shape [1]"]),
    )
    expect(lines(s.decode({ lr: tensor([1]) }))).toEqual(
      E.left(["at 'lr': expected a number, got a tensor of shape [1]"]),
    )
  })

  it('a checkpoint saved with safetensors and decoded from its JSON form agree', () => {
    const p = { lr: 0.25, w: tensor([1, 2]) }
    const s = schema.record({ lr: schema.number(), w: schema.tensor([2]) })
    const asLoaded = { lr: tensor(0.25), w: tensor([1, 2]) }
    const viaJson = viaText(TreeCodec.encode(asLoaded))
    for (const u of [asLoaded, viaJson]) {
      const r = s.decode(u)
      expect(E.isRight(r) && treeDiff(r.right, p)).toBeUndefined()
    }
  })
})
