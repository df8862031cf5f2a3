import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { checkGrads } from '../../laws/index.js'
import { grad, sum, tanh, tensor, zeros as zerosT } from '../../src/index.js'
import { fromData } from '../../src/tensor/Tensor.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { key, normal, split } from '../../src/random/index.js'
import {
  activation,
  avgPool,
  batchNorm,
  conv1d,
  conv2d,
  dense,
  denseLayer,
  dotProductAttention,
  embedding,
  groupNorm,
  layerNorm,
  maxPool,
  multiHeadAttention,
  paramCount,
  rmsNorm,
  sequential,
  summary,
} from '../../src/nn/index.js'

// References are plain-JS loops over nested arrays written from the definitions; gradients
// are checked with the laws kit (central differences, forward and reverse mode).
const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const close = (a: ArrayLike<number>, b: ArrayLike<number>, digits = 12): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < b.length; i++) expect(a[i] as number).toBeCloseTo(b[i] as number, digits)
}
const gradsOk = <X>(f: (x: X) => unknown, x: X, order = 1): void => {
  const r = checkGrads(f, x, { order })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
}
const randn = (seed: number, shape: number[]): Tensor => normal(key(seed), shape)
const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
/** Rows of the last axis of a tensor as JS arrays. */
const rows = (t: Tensor): number[][] => {
  const d = t.shape[t.rank - 1] as number
  const v = flat(t)
  return Array.from({ length: v.length / d }, (_, i) => v.slice(i * d, (i + 1) * d))
}

describe('layerNorm, rmsNorm, groupNorm', () => {
  const x = randn(1, [2, 3, 4])
  it('layerNorm: (x − μ)/√(σ² + ε) · γ + β per row, gradients in x and params', () => {
    const ln = layerNorm(4)
    const p = { scale: tensor([1, 2, -1, 0.5]), bias: tensor([0, 1, 0, -1]) }
    const expected = rows(x).flatMap((r) => {
      const m = meanOf(r)
      const v = meanOf(r.map((a) => (a - m) ** 2))
      return r.map((a, c) => ((a - m) / Math.sqrt(v + 1e-5)) * [1, 2, -1, 0.5][c]! + [0, 1, 0, -1][c]!)
    })
    close(flat(ln.apply(p, x)), expected)
    expect(flat(ln.init(key(0)).scale)).toEqual([1, 1, 1, 1])
    gradsOk((xx: Tensor) => sum(tanh(ln.apply(p, xx))), x, 2)
    gradsOk((pp: typeof p) => sum(tanh(ln.apply(pp, x))), p)
  })
  it('rmsNorm: x/√(mean x² + ε) · γ', () => {
    const rn = rmsNorm(4)
    const p = { scale: tensor([1, 2, -1, 0.5]) }
    close(
      flat(rn.apply(p, x)),
      rows(x).flatMap((r) =>
        r.map((a, c) => (a / Math.sqrt(meanOf(r.map((b) => b * b)) + 1e-6)) * [1, 2, -1, 0.5][c]!),
      ),
    )
    gradsOk((xx: Tensor) => sum(tanh(rn.apply(p, xx))), x, 2)
  })
  it('groupNorm: statistics per example over space and the channels of each group', () => {
    const gn = groupNorm(2, 4)
    const p = gn.init(key(0))
    const v = flat(x) // [2, 3, 4]
    const expected = new Array<number>(v.length)
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 2; g++) {
        const idx: number[] = []
        for (let s = 0; s < 3; s++) for (let c = g * 2; c < g * 2 + 2; c++) idx.push(n * 12 + s * 4 + c)
        const vals = idx.map((i) => v[i]!)
        const m = meanOf(vals)
        const va = meanOf(vals.map((a) => (a - m) ** 2))
        idx.forEach((i) => (expected[i] = (v[i]! - m) / Math.sqrt(va + 1e-5)))
      }
    }
    close(flat(gn.apply(p, x)), expected)
    gradsOk((xx: Tensor) => sum(tanh(gn.apply(p, xx))), x)
    expect(() => groupNorm(3, 4)).toThrow(/divide/)
  })
})

describe('batchNorm', () => {
  const x = randn(2, [5, 3])
  const bn = batchNorm(3, { momentum: 0.9 })
  const p = { scale: tensor([1, 2, 3]), bias: tensor([0, -1, 1]) }
  const cols = [0, 1, 2].map((c) => rows(x).map((r) => r[c]!))
  const mus = cols.map(meanOf)
  const vars = cols.map((col, c) => meanOf(col.map((a) => (a - mus[c]!) ** 2)))
  it('training: batch statistics, and running averages m ← 0.9m + 0.1μ, v ← 0.9v + 0.1σ² returned as state', () => {
    const s0 = bn.initState()
    const [y, s1] = bn.apply(p, s0, x, { training: true })
    close(
      flat(y),
      rows(x).flatMap((r) => r.map((a, c) => ((a - mus[c]!) / Math.sqrt(vars[c]! + 1e-5)) * (c + 1) + [0, -1, 1][c]!)),
    )
    close(
      flat(s1.mean),
      mus.map((m) => 0.1 * m),
    )
    close(
      flat(s1.var),
      vars.map((v) => 0.9 + 0.1 * v),
    )
    expect(flat(s0.mean)).toEqual([0, 0, 0])
    gradsOk((xx: Tensor) => sum(tanh(bn.apply(p, s0, xx, { training: true })[0])), x)
    // the running statistics carry no gradient
    expect(flat(grad((xx: Tensor) => sum(bn.apply(p, s0, xx, { training: true })[1].mean))(x))).toEqual(
      new Array(15).fill(0),
    )
  })
  it('evaluation: the running statistics, state unchanged', () => {
    const s = { mean: tensor([1, 0, -1]), var: tensor([4, 1, 0.25]) }
    const [y, s1] = bn.apply(p, s, x, { training: false })
    expect(s1).toBe(s)
    close(
      flat(y),
      rows(x).flatMap((r) =>
        r.map((a, c) => ((a - [1, 0, -1][c]!) / Math.sqrt([4, 1, 0.25][c]! + 1e-5)) * (c + 1) + [0, -1, 1][c]!),
      ),
    )
    expect(() => bn.apply(p, s, x, undefined as never)).toThrow(/training/)
  })
})

describe('embedding', () => {
  it("gathers rows for ids of any shape; the gradient counts each row's uses", () => {
    const emb = embedding(5, 3)
    const p = emb.init(key(3))
    expect(p.table.shape).toEqual([5, 3])
    const y = emb.apply(p, [
      [1, 4],
      [1, 0],
    ])
    expect(y.shape).toEqual([2, 2, 3])
    const t = rows(p.table)
    close(flat(y), [t[1]!, t[4]!, t[1]!, t[0]!].flat(), 15)
    const g = grad((q: typeof p) =>
      sum(
        emb.apply(q, [
          [1, 4],
          [1, 0],
        ]),
      ),
    )(p)
    expect(flat(g.table)).toEqual([1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1])
  })
})

// plain-JS attention: softmax over keys of (q·k)/√d with masked logits dropped
const jsAttention = (
  q: number[][],
  k: number[][],
  v: number[][],
  keep: (i: number, j: number) => boolean,
): number[][] =>
  q.map((qi, i) => {
    const d = qi.length
    const logits = k.map((kj, j) => (keep(i, j) ? qi.reduce((s, a, c) => s + a * kj[c]!, 0) / Math.sqrt(d) : -Infinity))
    const any = logits.some((l) => l > -Infinity)
    const m = Math.max(...logits)
    const w = any ? logits.map((l) => Math.exp(l - m)) : logits.map(() => 1)
    const z = w.reduce((a, b) => a + b, 0)
    return v[0]!.map((_, c) => w.reduce((s, wj, j) => s + (wj / z) * v[j]![c]!, 0))
  })

describe('dotProductAttention', () => {
  const q = randn(4, [3, 2])
  const k = randn(5, [4, 2])
  const v = randn(6, [4, 3])
  it('softmax(q kᵀ/√d) v, with a mask and with the causal flag (aligned at the end)', () => {
    close(flat(dotProductAttention(q, k, v)), jsAttention(rows(q), rows(k), rows(v), () => true).flat())
    const mask = [
      [1, 0, 1, 1],
      [0, 0, 1, 0],
      [1, 1, 1, 1],
    ]
    close(
      flat(dotProductAttention(q, k, v, { mask: tensor(mask) })),
      jsAttention(rows(q), rows(k), rows(v), (i, j) => mask[i]![j] === 1).flat(),
    )
    // 3 queries, 4 keys: query i sees keys j ≤ i + 1
    close(
      flat(dotProductAttention(q, k, v, { causal: true })),
      jsAttention(rows(q), rows(k), rows(v), (i, j) => j <= i + 1).flat(),
    )
  })
  it('a fully masked row gets uniform weights, not NaN; gradients check in q, k and v', () => {
    const y = dotProductAttention(q, k, v, {
      mask: tensor([
        [0, 0, 0, 0],
        [1, 1, 1, 1],
        [1, 0, 0, 0],
      ]),
    })
    close(flat(y).slice(0, 3), jsAttention(rows(q).slice(0, 1), rows(k), rows(v), () => false)[0]!)
    gradsOk(
      (qkv: { q: Tensor; k: Tensor; v: Tensor }) =>
        sum(tanh(dotProductAttention(qkv.q, qkv.k, qkv.v, { causal: true }))),
      { q, k, v },
    )
  })
  it('batched over leading axes', () => {
    const qb = randn(7, [2, 3, 2])
    const y = dotProductAttention(qb, k, v)
    expect(y.shape).toEqual([2, 3, 3])
    close(flat(y), rows(qb).length === 6 ? jsAttention(rows(qb), rows(k), rows(v), () => true).flat() : [])
  })
})

describe('multiHeadAttention', () => {
  it('equals the per-head computation written out in plain JS (2 heads of depth 2, causal)', () => {
    const mha = multiHeadAttention(4, 2)
    const p = mha.init(key(8))
    const x = randn(9, [3, 4])
    const mm = (a: number[][], w: Tensor, b: Tensor): number[][] => {
      const W = rows(w)
      const B = flat(b)
      return a.map((r) => B.map((bc, c) => r.reduce((s, v, i) => s + v * W[i]![c]!, bc)))
    }
    const X = rows(x)
    const Q = mm(X, p.query.w, p.query.b)
    const K = mm(X, p.key.w, p.key.b)
    const V = mm(X, p.value.w, p.value.b)
    const heads = [0, 1].map((h) =>
      jsAttention(
        Q.map((r) => r.slice(2 * h, 2 * h + 2)),
        K.map((r) => r.slice(2 * h, 2 * h + 2)),
        V.map((r) => r.slice(2 * h, 2 * h + 2)),
        (i, j) => j <= i,
      ),
    )
    const merged = X.map((_, i) => [...heads[0]![i]!, ...heads[1]![i]!])
    close(flat(mha.apply(p, x, { causal: true })), mm(merged, p.out.w, p.out.b).flat())
    gradsOk((q: typeof p) => sum(tanh(mha.apply(q, x, { causal: true }))), p)
    expect(mha.apply(p, randn(10, [2, 3, 4])).shape).toEqual([2, 3, 4])
  })
})

// plain-JS NHWC convolution with stride, padding (explicit), dilation and groups
const jsConv = (
  x: number[][][][],
  w: number[][][][],
  b: number[],
  s: [number, number],
  pads: [[number, number], [number, number]],
  d: [number, number],
  groups: number,
): number[][][][] => {
  const [kh, kw, cinG, cout] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length]
  const h = x[0]!.length
  const wd = x[0]![0]!.length
  const ho = Math.floor((h + pads[0][0] + pads[0][1] - ((kh - 1) * d[0] + 1)) / s[0]) + 1
  const wo = Math.floor((wd + pads[1][0] + pads[1][1] - ((kw - 1) * d[1] + 1)) / s[1]) + 1
  const coutG = cout / groups
  return x.map((img) =>
    Array.from({ length: ho }, (_, i) =>
      Array.from({ length: wo }, (_, j) =>
        Array.from({ length: cout }, (_, o) => {
          const g = Math.floor(o / coutG)
          let acc = b[o]!
          for (let di = 0; di < kh; di++) {
            for (let dj = 0; dj < kw; dj++) {
              const r = i * s[0] + di * d[0] - pads[0][0]
              const c = j * s[1] + dj * d[1] - pads[1][0]
              if (r < 0 || r >= h || c < 0 || c >= wd) continue
              for (let ci = 0; ci < cinG; ci++) acc += img[r]![c]![g * cinG + ci]! * w[di]![dj]![ci]![o]!
            }
          }
          return acc
        }),
      ),
    ),
  )
}
const nested4 = (t: Tensor): number[][][][] => t.toArray() as number[][][][]

describe('conv2d with dilation and groups, conv1d', () => {
  it('matches the plain-JS convolution for strides, padding, dilation and groups', () => {
    const x = randn(11, [2, 7, 6, 4])
    const cases = [
      {
        stride: [1, 1],
        pads: [
          [0, 0],
          [0, 0],
        ],
        dil: [2, 1],
        groups: 1,
      },
      {
        stride: [2, 1],
        pads: [
          [1, 2],
          [0, 1],
        ],
        dil: [1, 2],
        groups: 2,
      },
      {
        stride: [1, 2],
        pads: [
          [2, 2],
          [2, 2],
        ],
        dil: [2, 2],
        groups: 4,
      },
    ] as const
    cases.forEach((c, n) => {
      const w = randn(20 + n, [3, 2, 4 / c.groups, 4])
      const b = randn(30 + n, [4])
      const y = conv2d({ w, b }, x, { stride: c.stride, padding: c.pads, dilation: c.dil, groups: c.groups })
      close(
        flat(y),
        jsConv(nested4(x), nested4(w), flat(b), [...c.stride], c.pads as never, [...c.dil], c.groups).flat(3),
      )
    })
  })
  it("'SAME' padding with dilation keeps ⌈n/s⌉; gradients check", () => {
    const x = randn(12, [1, 5, 5, 2])
    const w = randn(13, [3, 3, 1, 2])
    const b = zerosT([2])
    const y = conv2d({ w, b }, x, { padding: 'SAME', dilation: 2, groups: 2 })
    expect(y.shape).toEqual([1, 5, 5, 2])
    // total padding (3 − 1)·2 + 1 − 1 = 4 per axis: 2 on each side
    close(
      flat(y),
      jsConv(
        nested4(x),
        nested4(w),
        [0, 0],
        [1, 1],
        [
          [2, 2],
          [2, 2],
        ],
        [2, 2],
        2,
      ).flat(3),
    )
    gradsOk(
      (p: { w: Tensor; x: Tensor }) =>
        sum(tanh(conv2d({ w: p.w, b }, p.x, { stride: 2, dilation: [1, 2], groups: 2, padding: 'SAME' }))),
      { w, x },
    )
  })
  it('conv1d is conv2d over a height of 1', () => {
    const x = randn(14, [2, 9, 4])
    const w = randn(15, [3, 2, 6])
    const b = randn(16, [6])
    const y = conv1d({ w, b }, x, { stride: 2, dilation: 2, groups: 2, padding: 'SAME' })
    expect(y.shape).toEqual([2, 5, 6])
    const x4 = (x.toArray() as number[][][]).map((r) => [r])
    const w4 = [w.toArray() as number[][][]]
    // 'SAME': out ⌈9/2⌉ = 5, total (5 − 1)·2 + 5 − 9 = 4 → [2, 2]
    close(
      flat(y),
      jsConv(
        x4,
        w4,
        flat(b),
        [1, 2],
        [
          [0, 0],
          [2, 2],
        ],
        [1, 2],
        2,
      ).flat(3),
    )
  })
})

describe('maxPool and avgPool', () => {
  const x = randn(17, [1, 5, 4, 2])
  const X = nested4(x)[0]!
  const pool = (
    f: (vals: number[], count: number) => number,
    k: [number, number],
    s: [number, number],
    pads: [number, number, number, number],
  ): number[] => {
    const [top, bottom, left, right] = pads
    const ho = Math.floor((5 + top + bottom - k[0]) / s[0]) + 1
    const wo = Math.floor((4 + left + right - k[1]) / s[1]) + 1
    const out: number[] = []
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let c = 0; c < 2; c++) {
          const vals: number[] = []
          for (let di = 0; di < k[0]; di++)
            for (let dj = 0; dj < k[1]; dj++) {
              const r = i * s[0] + di - top
              const cc = j * s[1] + dj - left
              if (r >= 0 && r < 5 && cc >= 0 && cc < 4) vals.push(X[r]![cc]![c]!)
            }
          out.push(f(vals, k[0] * k[1]))
        }
    return out
  }
  it('VALID and SAME, with strides, against plain-JS windows', () => {
    const mx = (v: number[]): number => Math.max(...v)
    const av = (v: number[], n: number): number => v.reduce((a, b) => a + b, 0) / n
    close(flat(maxPool([2, 2]).apply({}, x)), pool(mx, [2, 2], [2, 2], [0, 0, 0, 0]), 15)
    close(flat(avgPool([2, 2]).apply({}, x)), pool(av, [2, 2], [2, 2], [0, 0, 0, 0]), 14)
    // SAME with window 3, stride 2: height out 3, total pad 2·2 + 3 − 5 = 2 → [1, 1]; width out 2, pad 2 + 3 − 4 = 1 → [0, 1]
    close(flat(maxPool(3, { stride: 2, padding: 'SAME' }).apply({}, x)), pool(mx, [3, 3], [2, 2], [1, 1, 0, 1]), 15)
    close(flat(avgPool(3, { stride: 2, padding: 'SAME' }).apply({}, x)), pool(av, [3, 3], [2, 2], [1, 1, 0, 1]), 14)
    close(flat(maxPool([2, 1], { stride: [1, 1] }).apply({}, x)), pool(mx, [2, 1], [1, 1], [0, 0, 0, 0]), 15)
  })
  it('gradients: avg spreads 1/window, max routes to the maximum', () => {
    gradsOk((xx: Tensor) => sum(tanh(avgPool(2, { padding: 'SAME' }).apply({}, xx))), x)
    gradsOk((xx: Tensor) => sum(tanh(maxPool(2, { stride: 1 }).apply({}, xx))), x)
  })
})

describe('sequential, paramCount, summary', () => {
  const model = sequential({ hidden: denseLayer(3, 4), act: activation(tanh), out: denseLayer(4, 2) })
  it("keeps a record of each layer's params (keys split in order) and applies in order", () => {
    const p = model.init(key(0))
    expect(Object.keys(p)).toEqual(['hidden', 'act', 'out'])
    const [k0, , k2] = split(key(0), 3)
    expect(flat(p.hidden.w)).toEqual(flat(denseLayer(3, 4).init(k0!).w))
    expect(flat(p.out.w)).toEqual(flat(denseLayer(4, 2).init(k2!).w))
    const x = randn(18, [5, 3])
    expect(flat(model.apply(p, x))).toEqual(flat(dense(p.out, tanh(dense(p.hidden, x)))))
    gradsOk((q: typeof p) => sum(model.apply(q, x)), p)
  })
  it('paramCount and summary list each key path with shape, dtype and size', () => {
    const p = model.init(key(0))
    expect(paramCount(p)).toBe(3 * 4 + 4 + 4 * 2 + 2)
    expect(summary(p)).toBe(
      [
        'hidden.b  [4]     float64  4',
        'hidden.w  [3, 4]  float64  12',
        'out.b     [2]     float64  2',
        'out.w     [4, 2]  float64  8',
        'total 26 parameters',
      ].join('\n'),
    )
    expect(summary({ s: 1, t: fromData([1, 2], [2], 'float32') })).toBe(
      ['s  number  float64  1', 't  [2]     float32  2', 'total 3 parameters'].join('\n'),
    )
  })
})
