/**
 * Array ops, pooling, conv1d and conv2d's dilation/groups: values against plain-JS loops
 * written here (fast-check laws, each shown failing on a broken variant), gradients to second
 * order against finite differences (`checkGrads` from purediff/laws, forward and reverse),
 * the documented conventions (stable sort, ties, padding) and the errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  argsort,
  at,
  vmap,
  cummax,
  cumprod,
  cumsum,
  flip,
  fromData,
  grad,
  index,
  nn,
  repeat,
  reshape,
  roll,
  sort,
  split,
  sum,
  tensor,
  tile,
  topK,
  mul,
} from '../../src/index.js'
import { checkGrads } from '../../laws/index.js'
import { throwsPurediff } from '../helpers/errors.js'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const arr = (t: Tensor): unknown => t.toArray()
const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())

/** A [rows, n] matrix of values and an axis. */
const rowsArb = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }))
  .chain(([r, n]) =>
    fc.tuple(
      fc.constant([r, n] as [number, number]),
      fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: r * n, maxLength: r * n }),
    ),
  )

/** Apply a per-row JS function to a [rows, n] matrix. */
const byRow = (shape: [number, number], v: number[], f: (row: number[]) => number[]): number[] => {
  const [r, n] = shape
  return Array.from({ length: r }, (_, i) => f(v.slice(i * n, (i + 1) * n))).flat()
}

const scanRef =
  (op: (a: number, b: number) => number) =>
  (row: number[]): number[] => {
    const out: number[] = []
    row.forEach((v, i) => out.push(i === 0 ? v : op(out[i - 1]!, v)))
    return out
  }

const closeTo = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, tol = 1e-12): boolean =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)))

const lawOf = (op: (x: Tensor) => Tensor, ref: (row: number[]) => number[]) =>
  fc.property(rowsArb, ([shape, v]) => closeTo(flat(op(fromData(v, shape))), byRow(shape, v, ref)))

const check = (p: fc.IProperty<[[[number, number], number[]]]>, seed: number) => fc.check(p, { numRuns: 60, seed })

const gradsOk = (f: (x: Tensor) => Tensor, x: Tensor, order = 2): void => {
  const r = checkGrads(f, x, { order })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left).slice(0, 500))
}

// -------------------------------------------------------------------------------------
// values as laws
// -------------------------------------------------------------------------------------

describe('array ops equal their loops (fast-check), and the laws fail on broken variants', () => {
  it('cumsum, cumprod, cummax along the last axis (and along axis 0 by transposition)', () => {
    expect(
      check(
        lawOf(
          (x) => cumsum(x),
          scanRef((a, b) => a + b),
        ),
        1,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf(
          (x) => cumprod(x),
          scanRef((a, b) => a * b),
        ),
        2,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf((x) => cummax(x), scanRef(Math.max)),
        3,
      ).failed,
    ).toBe(false)
    // broken: an exclusive scan
    expect(
      check(
        lawOf(
          (x) => roll(cumsum(x), 1, -1),
          scanRef((a, b) => a + b),
        ),
        1,
      ).failed,
    ).toBe(true)
    expect(
      arr(
        cumsum(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          0,
        ),
      ),
    ).toEqual([
      [1, 2],
      [4, 6],
    ])
  })

  it('sort is a stable ascending permutation; argsort indexes it; descending reverses', () => {
    const sortRef = (row: number[]) => [...row].sort((a, b) => a - b)
    expect(
      check(
        lawOf((x) => sort(x), sortRef),
        4,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf(
          (x) => sort(x, { descending: true }),
          (r) => sortRef(r).reverse(),
        ),
        5,
      ).failed,
    ).toBe(false)
    const argRef = (row: number[]) => row.map((_, i) => i).sort((a, b) => row[a]! - row[b]! || a - b)
    expect(
      check(
        lawOf((x) => argsort(x), argRef),
        6,
      ).failed,
    ).toBe(false)
    // broken: a sort that leaves the input as it is
    expect(
      check(
        lawOf((x) => x, sortRef),
        4,
      ).failed,
    ).toBe(true)
    // stable: equal values keep their order
    expect(arr(argsort(tensor([2, 1, 2, 1])))).toEqual([1, 3, 0, 2])
    expect(
      arr(
        sort(
          tensor([
            [3, 1],
            [0, 2],
          ]),
          { axis: 0 },
        ),
      ),
    ).toEqual([
      [0, 1],
      [3, 2],
    ])
  })

  it('flip, roll, tile, repeat, split', () => {
    expect(
      check(
        lawOf(
          (x) => flip(x, -1),
          (r) => [...r].reverse(),
        ),
        7,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf(
          (x) => roll(x, 2, -1),
          (r) => r.map((_, i) => r[(((i - 2) % r.length) + r.length) % r.length]!),
        ),
        8,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf(
          (x) => repeat(x, 2, -1),
          (r) => r.flatMap((v) => [v, v]),
        ),
        9,
      ).failed,
    ).toBe(false)
    expect(
      check(
        lawOf(
          (x) => tile(x, [1, 2]),
          (r) => [...r, ...r],
        ),
        10,
      ).failed,
    ).toBe(false)
    // broken: roll in the wrong direction
    expect(
      check(
        lawOf(
          (x) => roll(x, -2, -1),
          (r) => r.map((_, i) => r[(((i - 2) % r.length) + r.length) % r.length]!),
        ),
        8,
      ).failed,
    ).toBe(true)
    expect(
      arr(
        flip(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      ),
    ).toEqual([
      [4, 3],
      [2, 1],
    ])
    expect(
      arr(
        roll(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          1,
        ),
      ),
    ).toEqual([
      [4, 1],
      [2, 3],
    ])
    expect(arr(tile(tensor([1, 2]), [2, 2]))).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ])
    expect(
      arr(
        repeat(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          2,
          0,
        ),
      ),
    ).toEqual([
      [1, 2],
      [1, 2],
      [3, 4],
      [3, 4],
    ])
    expect(split(tensor([1, 2, 3, 4, 5]), [1, 3]).map(arr)).toEqual([[1], [2, 3], [4, 5]])
    expect(
      split(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        2,
        1,
      ).map(arr),
    ).toEqual([
      [[1], [3]],
      [[2], [4]],
    ])
  })

  it('sort under vmap (any batch axis) equals the loop; NaN and ±∞ stay in their own positions', () => {
    const x = tensor([
      [3, 1, 2],
      [0, 5, -1],
    ])
    expect(arr(vmap((r: Tensor) => sort(r))(x))).toEqual([
      [1, 2, 3],
      [-1, 0, 5],
    ])
    expect(arr(vmap((r: Tensor) => sort(r), { inAxes: 1 })(x))).toEqual([
      [0, 3],
      [1, 5],
      [-1, 2],
    ])
    expect(arr(vmap((r: Tensor) => topK(r, 1)[0])(x))).toEqual([[3], [5]])
    expect(arr(sort(tensor([2, NaN, -Infinity, 1])))).toEqual([-Infinity, 1, 2, NaN])
  })

  it('topK gives the k largest in descending order, with their indices', () => {
    const [v, i] = topK(
      tensor([
        [1, 5, 3, 4],
        [9, 0, 9, 2],
      ]),
      2,
    )
    expect(arr(v)).toEqual([
      [5, 4],
      [9, 9],
    ])
    expect(arr(i)).toEqual([
      [1, 3],
      [0, 2],
    ])
  })

  it('index and at: reads and functional updates (the input is unchanged)', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(index(x, 1, 2).item()).toBe(6)
    expect(index(x, -1, 0).item()).toBe(4)
    expect(arr(index(x, 0))).toEqual([1, 2, 3])
    expect(arr(at(x, [0, 1]).set(9))).toEqual([
      [1, 9, 3],
      [4, 5, 6],
    ])
    expect(arr(at(x, 1).add(tensor([10, 20, 30])))).toEqual([
      [1, 2, 3],
      [14, 25, 36],
    ])
    expect(arr(at(x, -1).set(0))).toEqual([
      [1, 2, 3],
      [0, 0, 0],
    ])
    expect(arr(x)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
  })
})

// -------------------------------------------------------------------------------------
// gradients
// -------------------------------------------------------------------------------------

describe('gradients to second order against finite differences (checkGrads, forward and reverse)', () => {
  const x = tensor([
    [0.5, -1.2, 2.0, 0.3],
    [1.1, 0.7, -0.4, 1.9],
  ])
  const w = tensor([
    [0.3, -0.2, 0.5, 1.0],
    [0.9, -0.7, 0.1, 0.4],
  ])
  const loss = (f: (t: Tensor) => Tensor) => (t: Tensor) => sum(mul(f(t), f(t)))

  it('scans, sort, topK, rearrangements', () => {
    gradsOk(
      loss((t) => cumsum(t)),
      x,
    )
    gradsOk(
      loss((t) => cumsum(t, 0)),
      x,
    )
    gradsOk(
      loss((t) => cumprod(t)),
      x,
    )
    gradsOk(
      loss((t) => cummax(t)),
      x,
    )
    gradsOk(
      loss((t) => mul(sort(t), w)),
      x,
    )
    gradsOk(
      (t) =>
        sum(
          mul(
            topK(t, 2)[0],
            tensor([
              [1, 2],
              [3, 4],
            ]),
          ),
        ),
      x,
    )
    gradsOk(
      loss((t) => mul(flip(t), w)),
      x,
    )
    gradsOk(
      loss((t) => mul(roll(t, 1, 1), w)),
      x,
    )
    gradsOk(
      loss((t) => tile(t, [2, 1])),
      x,
    )
    gradsOk(
      loss((t) => repeat(t, 3, 1)),
      x,
    )
    gradsOk((t) => sum(mul(split(t, 2, 1)[1]!, split(t, 2, 1)[0]!)), x)
    gradsOk((t) => mul(index(t, 1, 2), index(t, 0, 0)), x)
    gradsOk(
      loss((t) => at(t, [1, 1]).set(mul(index(t, 0, 0), 3))),
      x,
    )
    gradsOk(
      loss((t) => at(t, 0).add(index(t, 1))),
      x,
    )
  })

  it('cumprod is differentiable at zeros (d/dx₀ of x₀x₁x₂ at x₀ = 0 is x₁x₂)', () => {
    const g = grad((t: Tensor) => index(cumprod(t), 2))(tensor([0, 2, 3]))
    expect(arr(g)).toEqual([6, 0, 0])
  })

  it('sort sends each gradient to the input it came from; cummax splits ties half and half', () => {
    expect(arr(grad((t: Tensor) => sum(mul(sort(t), tensor([1, 2, 3]))))(tensor([3, 1, 2])))).toEqual([3, 1, 2])
    expect(arr(grad((t: Tensor) => index(cummax(t), 1))(tensor([2, 2])))).toEqual([0.5, 0.5])
  })

  it('pooling, conv1d and conv2d with dilation and groups', () => {
    const img = reshape(tensor(Array.from({ length: 2 * 5 * 5 * 2 }, (_, i) => Math.sin(i * 1.7) * 2)), [2, 5, 5, 2])
    gradsOk((t) => sum(mul(nn.maxPool2d(t, 2, { stride: 1, padding: 'SAME' }), 1.5)), img, 1)
    gradsOk(
      loss((t) =>
        nn.avgPool2d(t, [2, 3], {
          stride: [2, 1],
          padding: [
            [1, 0],
            [0, 1],
          ],
        }),
      ),
      img,
    )
    const seq = reshape(tensor(Array.from({ length: 2 * 6 * 2 }, (_, i) => Math.cos(i * 0.9))), [2, 6, 2])
    gradsOk(
      loss((t) => nn.maxPool1d(t, 3, { stride: 2 })),
      seq,
      1,
    )
    gradsOk(
      loss((t) => nn.avgPool1d(t, 2, { padding: 'SAME' })),
      seq,
    )
    const w1 = reshape(tensor(Array.from({ length: 3 * 1 * 4 }, (_, i) => Math.sin(i))), [3, 1, 4])
    gradsOk(
      loss((t) =>
        nn.conv1d({ w: w1, b: tensor([0.1, 0.2, 0.3, 0.4]) }, t, { dilation: 2, groups: 2, padding: 'SAME' }),
      ),
      seq,
    )
    const w2 = reshape(tensor(Array.from({ length: 2 * 2 * 1 * 4 }, (_, i) => Math.cos(i))), [2, 2, 1, 4])
    gradsOk(
      loss((t) => nn.conv2d({ w: w2, b: tensor([0, 0.1, 0.2, 0.3]) }, t, { dilation: [2, 1], groups: 2 })),
      img,
    )
  })
})

// -------------------------------------------------------------------------------------
// pooling and convolution values against loops
// -------------------------------------------------------------------------------------

describe('pooling and convolution against explicit loops', () => {
  /** y[n, i, j, o] = Σ w[di, dj, c, o]·x̃[n, i·s + di·d, j·s + dj·d, g·cg + c] over the group g of o */
  const convRef = (
    x: number[][][][],
    w: number[][][][],
    stride: number,
    dil: number,
    groups: number,
  ): number[][][][] => {
    const [h, wd, cin] = [x[0]!.length, x[0]![0]!.length, x[0]![0]![0]!.length]
    const [kh, kw, cg, cout] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length]
    const og = cout / groups
    const ho = Math.floor((h - (kh - 1) * dil - 1) / stride) + 1
    const wo = Math.floor((wd - (kw - 1) * dil - 1) / stride) + 1
    void cin
    return x.map((img) =>
      Array.from({ length: ho }, (_, i) =>
        Array.from({ length: wo }, (_, j) =>
          Array.from({ length: cout }, (_, o) => {
            const g = Math.floor(o / og)
            let s = 0
            for (let di = 0; di < kh; di++)
              for (let dj = 0; dj < kw; dj++)
                for (let c = 0; c < cg; c++)
                  s += w[di]![dj]![c]![o]! * img[i * stride + di * dil]![j * stride + dj * dil]![g * cg + c]!
            return s
          }),
        ),
      ),
    )
  }

  it('conv2d with dilation and groups equals its loop', () => {
    const x = Array.from({ length: 1 }, () =>
      Array.from({ length: 6 }, (_, i) =>
        Array.from({ length: 5 }, (_, j) => Array.from({ length: 4 }, (_, c) => Math.sin(i * 3 + j * 7 + c))),
      ),
    )
    const w = Array.from({ length: 2 }, (_, a) =>
      Array.from({ length: 2 }, (_, b) =>
        Array.from({ length: 2 }, (_, c) => Array.from({ length: 6 }, (_, o) => Math.cos(a + 2 * b + 3 * c + 5 * o))),
      ),
    )
    for (const [stride, dil, groups] of [
      [1, 1, 1],
      [1, 2, 2],
      [2, 2, 2],
      [1, 1, 2],
    ] as const) {
      const wt = groups === 1 ? tensor(w.map((r) => r.map((q) => [...q, ...q]))) : tensor(w)
      const wArr = wt.toArray() as number[][][][]
      const got = nn.conv2d({ w: wt, b: tensor(Array(6).fill(0)) }, tensor(x), { stride, dilation: dil, groups })
      const want = convRef(x, wArr, stride, dil, groups)
      expect(closeTo(flat(got), want.flat(3))).toBe(true)
    }
  })

  it('max pooling pads with −∞ and average pooling with zeros over the full window', () => {
    const x = reshape(tensor([1, -2, 3, -4]), [1, 2, 2, 1])
    expect(
      arr(
        nn.maxPool2d(
          tensor([
            [
              [[-1], [-2]],
              [[-3], [-4]],
            ],
          ]),
          2,
          { stride: 1, padding: 'SAME' },
        ),
      ),
    ).toEqual([
      [
        [[-1], [-2]],
        [[-3], [-4]],
      ],
    ])
    expect(
      flat(
        nn.avgPool2d(x, 2, {
          stride: 1,
          padding: [
            [0, 1],
            [0, 1],
          ],
        }),
      ),
    ).toEqual([(1 - 2 + 3 - 4) / 4, (-2 - 4) / 4, (3 - 4) / 4, -4 / 4])
  })

  it('conv1d equals conv2d on a height-1 image', () => {
    const seq = reshape(tensor([1, 4, 9, 16, 25]), [1, 5, 1])
    const y = nn.conv1d({ w: reshape(tensor([1, -2, 1]), [3, 1, 1]), b: tensor([0.5]) }, seq)
    expect(flat(y)).toEqual([2.5, 2.5, 2.5]) // second differences of squares are 2
  })
})

// -------------------------------------------------------------------------------------
// errors
// -------------------------------------------------------------------------------------

describe('errors name the op and list what is valid', () => {
  const img = tensor([[[[1]]]])
  const p = { w: tensor([[[[1]]]]), b: tensor([0]) }
  it('conv2d rejects unknown options and wrong-case padding names', () => {
    expect(throwsPurediff(() => nn.conv2d(p, img, { strides: 2 } as never)).message).toMatch(
      /unknown option 'strides'; valid options: stride, padding, dilation, groups/,
    )
    expect(throwsPurediff(() => nn.conv2d(p, img, { padding: 'same' as never })).message).toMatch(
      /unknown padding 'same'; valid paddings: 'VALID', 'SAME'/,
    )
    expect(throwsPurediff(() => nn.conv2d(p, img, { groups: 2 })).message).toMatch(/groups = 2/)
    expect(throwsPurediff(() => nn.conv2d(p, img, { dilation: 0 })).message).toMatch(
      /dilations must be positive integers/,
    )
  })
  it('pooling and array ops', () => {
    expect(throwsPurediff(() => nn.maxPool2d(img, 2, { padding: 'valid' as never })).message).toMatch(
      /unknown padding 'valid'/,
    )
    expect(throwsPurediff(() => nn.avgPool1d(tensor([1, 2]), 2)).message).toMatch(
      /expected x \[batch, width, channels\]/,
    )
    expect(throwsPurediff(() => index(tensor([1, 2]), 2)).message).toMatch(/index 2 is out of range/)
    expect(throwsPurediff(() => at(tensor([[1, 2]]), 0).set(tensor([1, 2, 3]))).message).toMatch(/does not broadcast/)
    expect(throwsPurediff(() => split(tensor([1, 2, 3]), 2)).message).toMatch(/does not split into 2 equal parts/)
    expect(throwsPurediff(() => topK(tensor([1, 2]), 3)).message).toMatch(/k = 3 exceeds/)
    expect(throwsPurediff(() => sort(tensor([1]), { reverse: true } as never)).message).toMatch(
      /unknown option 'reverse'/,
    )
  })
})
