import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { grad, mul, ones, sum, tanh, tensor } from '../../src/index.js'
import { fromData } from '../../src/tensor/Tensor.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { key, normal, split } from '../../src/random/index.js'
import { conv2d, conv2dInit, dense, denseInit, dropout, mlp, relu, zeros } from '../../src/nn/index.js'
import type { MlpParams, Padding } from '../../src/nn/index.js'

const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const deepFrozen = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null) return true
  if (!Object.isFrozen(x)) return false
  return Object.values(x).every(deepFrozen)
}
const expectClose = (a: ArrayLike<number>, b: ArrayLike<number>, digits: number): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < b.length; i++) expect(a[i] as number).toBeCloseTo(b[i] as number, digits)
}

describe('dense', () => {
  it('computes x·w + b (checked entry by entry)', () => {
    const x = [
      [1, -2, 0.5],
      [0, 3, 1],
    ]
    const w = [
      [1, 2],
      [0, -1],
      [4, 0.5],
    ]
    const b = [0.25, -1]
    // row 0: [1 + 0 + 2, 2 + 2 + 0.25] + b = [3.25, 3.25]; row 1: [0 + 0 + 4, 0 − 3 + 0.5] + b = [4.25, −3.5]
    expect(dense({ w: tensor(w), b: tensor(b) }, tensor(x)).toArray()).toEqual([
      [3.25, 3.25],
      [4.25, -3.5],
    ])
  })

  it('names the op and the shapes on a mismatch', () => {
    try {
      dense({ w: ones([3, 2]), b: ones([2]) }, ones([4, 5]))
      throw new Error('expected a ShapeError')
    } catch (e) {
      expect((e as PurediffError).tag).toBe('ShapeError')
      expect((e as PurediffError).message).toContain('dense')
      expect((e as PurediffError).message).toContain('[4, 5] and [3, 2] and [2]')
    }
  })

  it('denseInit: shapes, zero bias, frozen, a function of the key', () => {
    const p = denseInit(key(0), 5, 3)
    expect(p.w.shape).toEqual([5, 3])
    expect(flat(p.b)).toEqual([0, 0, 0])
    expect(Object.isFrozen(p)).toBe(true)
    expect(denseInit(key(0), 5, 3).w.toArray()).toEqual(p.w.toArray())
    expect(denseInit(key(1), 5, 3).w.toArray()).not.toEqual(p.w.toArray())
    expect(denseInit(key(0), 5, 3, { dtype: 'float32' }).w.dtype).toBe('float32')
  })
})

describe('mlp', () => {
  const model = mlp([4, 8, 3])

  it('init gives one frozen dense layer per pair of sizes', () => {
    const p = model.init(key(7))
    expect(p.layers.map((l) => [l.w.shape, l.b.shape])).toEqual([
      [[4, 8], [8]],
      [[8, 3], [3]],
    ])
    expect(deepFrozen(p)).toBe(true)
    expect(model.init(key(7)).layers[1]?.w.toArray()).toEqual(p.layers[1]?.w.toArray())
  })

  it('apply maps [batch, 4] to [batch, 3] as dense → relu → dense', () => {
    const p = model.init(key(7))
    const x = normal(key(8), [5, 4])
    const y = model.apply(p, x)
    expect(y.shape).toEqual([5, 3])
    const [l0, l1] = p.layers as [MlpParams['layers'][0], MlpParams['layers'][0]]
    expect(flat(y)).toEqual(flat(dense(l1, relu(dense(l0, x)))))
  })

  it('honours activation and init options', () => {
    const m = mlp([2, 3, 1], { activation: tanh, init: zeros })
    const p = m.init(key(0))
    expect(flat(p.layers[0]?.w as Tensor)).toEqual([0, 0, 0, 0, 0, 0])
    const q: MlpParams = {
      layers: [
        {
          w: tensor([
            [1, 0, -1],
            [2, 1, 0],
          ]),
          b: tensor([0, 0, 0.5]),
        },
        { w: tensor([[1], [1], [1]]), b: tensor([0]) },
      ],
    }
    // hidden pre-activations for x = [1, 1]: [3, 1, −0.5]
    expect(m.apply(q, tensor([[1, 1]])).toArray()).toEqual([[Math.tanh(3) + Math.tanh(1) + Math.tanh(-0.5)]])
  })

  it('its gradient has the structure of its parameters', () => {
    const p = model.init(key(7))
    const x = normal(key(8), [5, 4])
    const g = grad((q: MlpParams) => sum(model.apply(q, x)))(p)
    expect(g.layers.map((l) => [l.w.shape, l.b.shape])).toEqual(p.layers.map((l) => [l.w.shape, l.b.shape]))
    // d/db of the last layer of sum(y) is the batch size for every output
    expect(flat(g.layers[1]?.b as Tensor)).toEqual([5, 5, 5])
  })

  it('rejects bad sizes and bad params', () => {
    expect(() => mlp([4])).toThrow(PurediffError)
    expect(() => mlp([4, 0])).toThrow('sizes[1]')
    expect(() => model.apply({ layers: [] }, ones([1, 4]))).toThrow('2 dense layers')
  })
})

describe('conv2d', () => {
  // A direct seven-loop reference: y[n,i,j,o] = b[o] + Σ x̃[n, i·sh + di − top, j·sw + dj − left, c]·w[di,dj,c,o]
  const reference = (
    x: Float64Array,
    [N, H, W, C]: readonly [number, number, number, number],
    w: Float64Array,
    [KH, KW, , O]: readonly [number, number, number, number],
    b: Float64Array,
    [sh, sw]: [number, number],
    [top, left]: [number, number],
    [HO, WO]: [number, number],
  ): number[] => {
    const out: number[] = []
    for (let n = 0; n < N; n++)
      for (let i = 0; i < HO; i++)
        for (let j = 0; j < WO; j++)
          for (let o = 0; o < O; o++) {
            let s = b[o] as number
            for (let di = 0; di < KH; di++)
              for (let dj = 0; dj < KW; dj++)
                for (let c = 0; c < C; c++) {
                  const r = i * sh + di - top
                  const q = j * sw + dj - left
                  if (r < 0 || r >= H || q < 0 || q >= W) continue
                  s += (x[((n * H + r) * W + q) * C + c] as number) * (w[((di * KW + dj) * C + c) * O + o] as number)
                }
            out.push(s)
          }
    return out
  }

  const [kx, kw, kb, kr] = split(key(21), 4)
  const xShape = [2, 5, 6, 3] as const
  const wShape = [3, 2, 3, 4] as const
  const x = normal(kx, xShape)
  const w = normal(kw, wShape)
  const b = normal(kb, [4])

  // [stride, padding, (top, left), output extents]; SAME with H = 5, kh = 3, stride 2:
  // out ⌈5/2⌉ = 3, total pad (3 − 1)·2 + 3 − 5 = 2 → top 1; W = 6, kw = 2, stride 1: out 6, pad 1 → left 0.
  // Explicit [[2, 1], [0, 2]] with stride [2, 3]: ⌊(5 + 3 − 3)/2⌋ + 1 = 3 rows, ⌊(6 + 2 − 2)/3⌋ + 1 = 3 columns.
  const cases: ReadonlyArray<[[number, number], Padding, [number, number], [number, number]]> = [
    [[1, 1], 'VALID', [0, 0], [3, 5]],
    [[2, 1], 'SAME', [1, 0], [3, 6]],
    [
      [2, 3],
      [
        [2, 1],
        [0, 2],
      ],
      [2, 0],
      [3, 3],
    ],
  ]

  it.each(cases)('stride %j, padding %j matches the direct sum', (stride, padding, tl, outHW) => {
    const y = conv2d({ w, b }, x, { stride, padding })
    expect(y.shape).toEqual([2, outHW[0], outHW[1], 4])
    const expected = reference(
      x.toTypedArray() as Float64Array,
      xShape,
      w.toTypedArray() as Float64Array,
      wShape,
      b.toTypedArray() as Float64Array,
      stride,
      tl,
      outHW,
    )
    // each output sums 18 products of O(1) normals: 1e-13 absolute is ample for reordering
    expectClose(flat(y), expected, 13)
  })

  it('its gradient in w is the correlation of the cotangent with the input', () => {
    const stride: [number, number] = [2, 1]
    const padding: Padding = 'SAME'
    const r = normal(kr, [2, 3, 6, 4])
    const g = grad((k: Tensor) => sum(mul(conv2d({ w: k, b }, x, { stride, padding }), r)))(w)
    // d/dw[di,dj,c,o] = Σ_{n,i,j} r[n,i,j,o] · x̃[n, i·sh + di − top, j·sw + dj − left, c]
    const X = x.toTypedArray()
    const R = r.toTypedArray()
    const expected: number[] = []
    for (let di = 0; di < 3; di++)
      for (let dj = 0; dj < 2; dj++)
        for (let c = 0; c < 3; c++)
          for (let o = 0; o < 4; o++) {
            let s = 0
            for (let n = 0; n < 2; n++)
              for (let i = 0; i < 3; i++)
                for (let j = 0; j < 6; j++) {
                  const row = i * 2 + di - 1
                  const col = j + dj
                  if (row < 0 || row >= 5 || col >= 6) continue
                  s += (R[((n * 3 + i) * 6 + j) * 4 + o] as number) * (X[((n * 5 + row) * 6 + col) * 3 + c] as number)
                }
            expected.push(s)
          }
    expectClose(flat(g), expected, 12)
  })

  it('conv2dInit gives an HWIO kernel and a zero bias', () => {
    const p = conv2dInit(key(0), [3, 3], 1, 8)
    expect(p.w.shape).toEqual([3, 3, 1, 8])
    expect(flat(p.b)).toEqual(new Array(8).fill(0))
  })
})

describe('dropout', () => {
  const x = normal(key(1), [4, 5])

  it('is the identity when not training or when rate is 0', () => {
    expect(dropout(key(0), 0.5, x, false)).toBe(x)
    expect(dropout(key(0), 0, x, true)).toBe(x)
  })

  it('keeps each entry as x/(1 − rate) or drops it to 0, from the key alone', () => {
    const y = dropout(key(3), 0.25, x, true)
    const xs = flat(x)
    flat(y).forEach((v, i) => expect([0, (xs[i] as number) / 0.75]).toContain(v))
    expect(flat(dropout(key(3), 0.25, x, true))).toEqual(flat(y))
    expect(flat(dropout(key(4), 0.25, x, true))).not.toEqual(flat(y))
  })

  it('keeps the expectation: mean of dropout(ones) ≈ 1, fraction dropped ≈ rate', () => {
    // y_i = m_i/(1 − r), m_i ~ Bernoulli(1 − r): E y = 1, Var y = r/(1 − r). With n = 100 000 and
    // r = 0.3, 5 standard errors are 5·√(0.4286/n) = 0.0104 for the mean and
    // 5·√(r(1 − r)/n) = 0.0072 for the dropped fraction.
    const n = 100000
    const r = 0.3
    const y = flat(dropout(key(9), r, ones([n]), true))
    const mean = y.reduce((a, v) => a + v, 0) / n
    const dropped = y.filter((v) => v === 0).length / n
    expect(Math.abs(mean - 1)).toBeLessThan(5 * Math.sqrt(r / (1 - r) / n))
    expect(Math.abs(dropped - r)).toBeLessThan(5 * Math.sqrt((r * (1 - r)) / n))
  })

  it('passes the gradient through kept entries only, scaled by 1/(1 − rate)', () => {
    const g = grad((u: Tensor) => sum(dropout(key(3), 0.25, u, true)))(x)
    const y = flat(dropout(key(3), 0.25, x, true))
    expect(flat(g)).toEqual(y.map((v) => (v === 0 ? 0 : 1 / 0.75)))
  })

  it('rate 1 drops everything; a rate outside [0, 1] is an error', () => {
    expect(flat(dropout(key(0), 1, x, true)).every((v) => v === 0)).toBe(true)
    expect(() => dropout(key(0), 1.5, x, true)).toThrow('rate must be in [0, 1]')
  })

  it('makes dropped entries exactly 0 even where x is infinite', () => {
    const inf = fromData([Infinity, Infinity, Infinity, Infinity], [4])
    const y = flat(dropout(key(2), 0.5, inf, true))
    expect(y.every((v) => v === 0 || v === Infinity)).toBe(true)
  })
})
