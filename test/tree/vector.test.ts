import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { grad, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { add, axpy, dot, fullLike, leaves, mul, norm, onesLike, scale, sub, zerosLike } from '../../src/tree/index.js'

const expectError = (f: () => unknown, tag: string, fragments: ReadonlyArray<string>): void => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PurediffError)
    expect((e as PurediffError).tag).toBe(tag)
    for (const s of fragments) expect((e as PurediffError).message).toContain(s)
    return
  }
  throw new Error('expected a PurediffError')
}

/** Deeply frozen: every array and record reachable from the root. */
const deepFrozen = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null) return true
  if (!Object.isFrozen(x)) return false
  return Object.values(x).every(deepFrozen)
}

/** A plain snapshot of a tree (tensors as nested arrays), to compare by value. */
const snap = (t: unknown): unknown =>
  typeof t === 'number'
    ? t
    : Array.isArray(t)
      ? t.map(snap)
      : typeof t === 'object' && t !== null && 'shape' in t
        ? (t as Tensor).toArray()
        : Object.fromEntries(Object.entries(t as object).map(([k, v]) => [k, snap(v)]))

type P = { readonly layers: ReadonlyArray<{ readonly w: Tensor; readonly b: Tensor }>; readonly s: number }
const p: P = {
  layers: [
    {
      w: tensor([
        [1, 2],
        [3, 4],
      ]),
      b: tensor([0.5, -1]),
    },
    { w: tensor([[-2], [1]]), b: tensor([3]) },
  ],
  s: 2,
}
const q: P = {
  layers: [
    {
      w: tensor([
        [0.25, -1],
        [2, 0],
      ]),
      b: tensor([1, 1]),
    },
    { w: tensor([[4], [-3]]), b: tensor([-0.5]) },
  ],
  s: -3,
}

describe('leafwise arithmetic', () => {
  it('add, sub and mul act entry by entry and keep the structure', () => {
    expect(snap(add(p, q))).toEqual({
      layers: [
        {
          w: [
            [1.25, 1],
            [5, 4],
          ],
          b: [1.5, 0],
        },
        { w: [[2], [-2]], b: [2.5] },
      ],
      s: -1,
    })
    expect(snap(sub(p, q))).toEqual({
      layers: [
        {
          w: [
            [0.75, 3],
            [1, 4],
          ],
          b: [-0.5, -2],
        },
        { w: [[-6], [4]], b: [3.5] },
      ],
      s: 5,
    })
    expect(snap(mul(p, q))).toEqual({
      layers: [
        {
          w: [
            [0.25, -2],
            [6, 0],
          ],
          b: [0.5, -1],
        },
        { w: [[-8], [-3]], b: [-1.5] },
      ],
      s: -6,
    })
  })

  it('number leaves stay numbers; tensor leaves stay tensors of their dtype', () => {
    const r = add({ a: 1, t: tensor([1, 2], 'float32') }, { a: 2, t: tensor([0.5, 0.25], 'float32') })
    expect(r.a).toBe(3)
    expect((r.t as Tensor).dtype).toBe('float32')
  })

  it('scale and axpy', () => {
    expect(snap(scale(p, -2))).toEqual({
      layers: [
        {
          w: [
            [-2, -4],
            [-6, -8],
          ],
          b: [-1, 2],
        },
        { w: [[4], [-2]], b: [-6] },
      ],
      s: -4,
    })
    // 0.5·p + q, entry by entry
    expect(snap(axpy(0.5, p, q))).toEqual({
      layers: [
        {
          w: [
            [0.75, 0],
            [3.5, 2],
          ],
          b: [1.25, 0.5],
        },
        { w: [[3], [-2.5]], b: [1] },
      ],
      s: -2,
    })
    expect(snap(scale(p, tensor(2)))).toEqual(snap(add(p, p)))
  })

  it('dot is the inner product of the flattened trees; norm is its square root', () => {
    // by hand: 1·0.25 + 2·(−1) + 3·2 + 4·0 + 0.5·1 + (−1)·1 + (−2)·4 + 1·(−3) + 3·(−0.5) + 2·(−3)
    const expected = 0.25 - 2 + 6 + 0 + 0.5 - 1 - 8 - 3 - 1.5 - 6
    expect(dot(p, q).item()).toBe(expected)
    // ‖p‖² = 1 + 4 + 9 + 16 + 0.25 + 1 + 4 + 1 + 9 + 4 = 49.25
    expect(norm(p).item()).toBeCloseTo(Math.sqrt(49.25), 15)
    expect(norm({ a: tensor([3]), b: 4 }).item()).toBe(5)
    expect(dot([], []).item()).toBe(0)
    expect(norm({}).item()).toBe(0)
  })

  it('zerosLike, onesLike and fullLike keep structure, shapes and dtypes', () => {
    const t = { a: tensor([[1, 2, 3]], 'float32'), n: 7, xs: [tensor(2)] }
    const z = zerosLike(t)
    expect(z.a.shape).toEqual([1, 3])
    expect(z.a.dtype).toBe('float32')
    expect(snap(z)).toEqual({ a: [[0, 0, 0]], n: 0, xs: [0] })
    expect(snap(onesLike(t))).toEqual({ a: [[1, 1, 1]], n: 1, xs: [1] })
    expect(snap(fullLike(t, -2.5))).toEqual({ a: [[-2.5, -2.5, -2.5]], n: -2.5, xs: [-2.5] })
  })
})

describe('errors name the key path', () => {
  it('a structure mismatch is a TreeError at the first differing path', () => {
    const bad = { layers: [p.layers[0] as P['layers'][0], { w: tensor([[1], [1]]) }], s: 1 }
    expectError(() => add(p, bad as unknown as P), 'TreeError', ['tree.add', 'layers[1]', 'missing: b'])
    expectError(() => dot(p, { ...q, layers: [q.layers[0] as P['layers'][0]] }), 'TreeError', [
      'tree.dot',
      'layers',
      'length',
    ])
  })

  it('a shape mismatch between leaves is a ShapeError with both shapes and the path', () => {
    const bad = { ...q, layers: [q.layers[0] as P['layers'][0], { w: tensor([[4, 1]]), b: tensor([1]) }] }
    expectError(() => sub(p, bad), 'ShapeError', ['tree.sub', '[2, 1]', '[1, 2]', "'layers[1].w'"])
  })

  it('a non-scalar scale is rejected', () => {
    expectError(() => scale(p, tensor([1, 2])), 'ValueError', ['tree.scale', '[2]'])
  })
})

describe('differentiability', () => {
  it('grad of dot(x, c) is c and grad of dot(x, x) is 2x', () => {
    const g = grad((x: P) => dot(x, q))(p)
    expect(snap(g)).toEqual(snap(q))
    const g2 = grad((x: P) => dot(x, x))(p)
    expect(snap(g2)).toEqual(snap(scale(p, 2)))
  })

  it('grad of norm is x / ‖x‖, and 0 at the zero tree', () => {
    const g = grad((x: P) => norm(x))(p)
    const n = Math.sqrt(49.25)
    const expected = leaves(p).map((l) =>
      typeof l === 'number' ? l / n : (l.toTypedArray() as Float64Array).map((v) => v / n),
    )
    leaves(g).forEach((l, i) => {
      const e = expected[i] as number | Float64Array
      if (typeof e === 'number') expect(l as number).toBeCloseTo(e, 14)
      else Array.from((l as Tensor).toTypedArray()).forEach((v, j) => expect(v).toBeCloseTo(e[j] as number, 14))
    })
    const g0 = grad((x: { a: Tensor }) => norm(x))({ a: tensor([0, 0]) })
    expect(g0.a.toArray()).toEqual([0, 0])
  })

  it('axpy is differentiable in its scalar', () => {
    // d/da dot(a·p + q, p) = dot(p, p) = 49.25
    const g = grad((a: Tensor) => dot(axpy(a, p, q), p))(tensor(0.3))
    expect(g.item()).toBe(49.25)
  })
})

describe('purity', () => {
  it('inputs are unchanged and outputs are deeply frozen', () => {
    const before = snap(p)
    const outs = [
      add(p, q),
      sub(p, q),
      mul(p, q),
      scale(p, 3),
      axpy(2, p, q),
      zerosLike(p),
      onesLike(p),
      fullLike(p, 4),
    ]
    expect(snap(p)).toEqual(before)
    for (const o of outs) expect(deepFrozen(o)).toBe(true)
  })
})

describe('vector-space laws on random trees', () => {
  // Small integers and integer scalars keep every sum and product exact in float64, so the
  // laws hold with equality.
  const small = fc.integer({ min: -20, max: 20 })
  const treePair = fc
    .integer({ min: 1, max: 4 })
    .chain((n) =>
      fc.tuple(
        fc.array(small, { minLength: n, maxLength: n }),
        fc.array(small, { minLength: n, maxLength: n }),
        fc.array(small, { minLength: 3, maxLength: 3 }),
        fc.integer({ min: -5, max: 5 }),
      ),
    )
  it('axpy(a, x, y) = a·x + y, dot is bilinear and symmetric, x − y + y = x', () => {
    fc.assert(
      fc.property(treePair, ([xs, ys, zs, a]) => {
        const x = { v: tensor(xs), k: zs[0] as number }
        const y = { v: tensor(ys), k: zs[1] as number }
        const z = { v: tensor(ys.map((u, i) => u - (xs[i] as number))), k: zs[2] as number }
        expect(snap(axpy(a, x, y))).toEqual(snap(add(scale(x, a), y)))
        expect(dot(axpy(a, x, y), z).item()).toBe(a * dot(x, z).item() + dot(y, z).item())
        expect(dot(x, y).item()).toBe(dot(y, x).item())
        expect(snap(add(sub(x, y), y))).toEqual(snap(x))
      }),
      { seed: 42, numRuns: 50 },
    )
  })
})
