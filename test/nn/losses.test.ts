import { describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { grad, hessian, reshape, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import {
  accuracy,
  binaryAccuracy,
  binaryCrossEntropyWithLogits,
  mse,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithProbs,
} from '../../src/nn/index.js'

// Expected values are computed here with plain JS arithmetic from the textbook formulas.
// Tolerance: these are O(10)-term float64 computations by two different routes; agreement
// to 1e-13 absolute leaves a few hundred ulps of slack for values of order 1.
const TOL = 13

const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, digits = TOL): void => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(actual[i] as number).toBeCloseTo(expected[i] as number, digits)
}
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
const sigma = (x: number): number => 1 / (1 + Math.exp(-x))
const softmaxRow = (row: ReadonlyArray<number>): number[] => {
  const es = row.map((v) => Math.exp(v))
  const s = es.reduce((a, b) => a + b, 0)
  return es.map((e) => e / s)
}

describe('mse', () => {
  it('value and gradient 2(ŷ − y)/n', () => {
    const pred = tensor([
      [1, 2],
      [3, 4],
    ])
    const target = tensor([
      [0, 2],
      [5, 1],
    ])
    // differences 1, 0, −2, 3; squares 1, 0, 4, 9; mean 14/4
    expect(mse(pred, target).item()).toBe(3.5)
    const g = grad((p: Tensor) => mse(p, target))(pred)
    expect(g.toArray()).toEqual([
      [0.5, 0],
      [-1, 1.5],
    ])
  })

  it('refuses to broadcast [n, 1] against [n]', () => {
    expectError(() => mse(tensor([[1], [2], [3]]), tensor([1, 2, 3])), 'ShapeError', '[3, 1] and [3]')
  })
})

describe('binaryCrossEntropyWithLogits', () => {
  const xs = [-3, -0.5, 0, 0.5, 2, 10]
  const zs = [0, 1, 0.5, 0, 1, 0.3]
  const n = xs.length

  it('equals −mean(z log σ(x) + (1 − z) log(1 − σ(x))) with gradient (σ(x) − z)/n', () => {
    const expected =
      -xs.reduce((s, x, i) => {
        const z = zs[i] as number
        return s + z * Math.log(sigma(x)) + (1 - z) * Math.log(1 - sigma(x))
      }, 0) / n
    const x = tensor(xs)
    const z = tensor(zs)
    // log(1 − σ(10)) loses ~5 digits to cancellation in the reference formula (1 − σ(10) ≈ 4.5e-5),
    // contributing an absolute error of ~1e-12·0.7/6 to the mean: compare to 1e-11.
    expect(binaryCrossEntropyWithLogits(x, z).item()).toBeCloseTo(expected, 11)
    const g = grad((l: Tensor) => binaryCrossEntropyWithLogits(l, z))(x)
    expectClose(
      flat(g),
      xs.map((v, i) => (sigma(v) - (zs[i] as number)) / n),
    )
  })

  it('has gradient σ(0) − z = ½ − z at a zero logit (no kink-convention artefact)', () => {
    const g = grad((l: Tensor) => binaryCrossEntropyWithLogits(l, tensor([0, 1])))(tensor([0, 0]))
    expect(flat(g)).toEqual([0.25, -0.25])
  })

  it('is finite at logits of ±1e4: value |x| per wrong example, gradient ±1/n', () => {
    const x = tensor([1e4, -1e4, 1e4, -1e4])
    const z = tensor([0, 1, 1, 0])
    // wrong, wrong, right, right: losses 1e4, 1e4, 0, 0
    expect(binaryCrossEntropyWithLogits(x, z).item()).toBe(5000)
    const g = grad((l: Tensor) => binaryCrossEntropyWithLogits(l, z))(x)
    expect(flat(g)).toEqual([0.25, -0.25, 0, 0])
  })
})

describe('softmaxCrossEntropy (integer labels)', () => {
  const rows = [
    [1, 2, 3],
    [0.5, -1, 0],
    [-2, 4, 1],
  ]
  const labels = [2, 0, 1]
  const N = rows.length

  it('equals −mean(x_k − log Σ eˣ), with gradient (softmax − onehot)/N', () => {
    const expected =
      -rows.reduce(
        (s, r, i) => s + (r[labels[i] as number] as number) - Math.log(r.reduce((a, v) => a + Math.exp(v), 0)),
        0,
      ) / N
    const x = tensor(rows)
    expect(softmaxCrossEntropy(x, labels).item()).toBeCloseTo(expected, TOL)
    const g = grad((l: Tensor) => softmaxCrossEntropy(l, labels))(x)
    const expectedGrad = rows.flatMap((r, i) => softmaxRow(r).map((p, c) => (p - (c === labels[i] ? 1 : 0)) / N))
    expectClose(flat(g), expectedGrad)
  })

  it('accepts number[], Int32Array and tensors of class indices alike', () => {
    const x = tensor(rows)
    const a = softmaxCrossEntropy(x, labels).item()
    expect(softmaxCrossEntropy(x, Int32Array.from(labels)).item()).toBe(a)
    expect(softmaxCrossEntropy(x, tensor(labels)).item()).toBe(a)
  })

  it('is finite at logits of ±1e4, with the exact value and gradient', () => {
    const x = tensor([
      [1e4, 0, -1e4],
      [0, 1e4, -1e4],
    ])
    // row 0 is right with probability 1 (loss 0); row 1 puts all mass on class 1 but the
    // label is 0: loss = −(0 − 1e4) = 1e4. Mean 5e3. Softmax rows are one-hot up to e^−1e4.
    expect(softmaxCrossEntropy(x, [0, 0]).item()).toBe(5000)
    const g = grad((l: Tensor) => softmaxCrossEntropy(l, [0, 0]))(x)
    expect(g.toArray()).toEqual([
      [0, 0, 0],
      [-0.5, 0.5, 0],
    ])
  })

  it('has Hessian (diag(p) − ppᵀ) with respect to one row of logits', () => {
    const row = [0.3, -1.2, 2]
    const p = softmaxRow(row)
    const h = hessian((x: Tensor) => softmaxCrossEntropy(reshape(x, [1, 3]), [1]))(tensor(row))
    expectClose(
      flat(h),
      p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj)),
    )
  })

  it('rejects labels out of range or of the wrong shape', () => {
    expectError(() => softmaxCrossEntropy(tensor(rows), [2, 0, 3]), 'ValueError', 'label 3 at index 2')
    expectError(() => softmaxCrossEntropy(tensor(rows), [0.5, 0, 1]), 'ValueError', 'label 0.5')
    expectError(() => softmaxCrossEntropy(tensor(rows), [0, 1]), 'ShapeError', '[3, 3] and [2]')
  })
})

describe('softmaxCrossEntropyWithProbs', () => {
  const rows = [
    [1, 2, 3],
    [0.5, -1, 0],
  ]
  it('with one-hot targets equals the integer-label loss', () => {
    const x = tensor(rows)
    const a = softmaxCrossEntropyWithProbs(
      x,
      tensor([
        [0, 0, 1],
        [1, 0, 0],
      ]),
    ).item()
    expect(a).toBeCloseTo(softmaxCrossEntropy(x, [2, 0]).item(), 15)
  })

  it('has gradient (softmax − p)/N for soft targets', () => {
    const probs = [
      [0.2, 0.3, 0.5],
      [0.6, 0.4, 0],
    ]
    const g = grad((l: Tensor) => softmaxCrossEntropyWithProbs(l, tensor(probs)))(tensor(rows))
    expectClose(
      flat(g),
      rows.flatMap((r, i) => softmaxRow(r).map((s, c) => (s - (probs[i]?.[c] as number)) / 2)),
    )
  })

  it('a zero target probability times a −inf logit contributes 0, not NaN', () => {
    const v = softmaxCrossEntropyWithProbs(tensor([[0, -Infinity]]), tensor([[1, 0]])).item()
    expect(Math.abs(v)).toBe(0)
  })
})

describe('metrics', () => {
  it('accuracy counts argmax hits (first index on ties)', () => {
    // argmax rows: 0 (tie → first), 1, 0; labels 0, 1, 1 → 2 of 3
    expect(
      accuracy(
        tensor([
          [1, 1],
          [0, 2],
          [3, -1],
        ]),
        [0, 1, 1],
      ),
    ).toBeCloseTo(2 / 3, 15)
    expect(
      accuracy(
        tensor([
          [1, 1],
          [0, 2],
          [3, -1],
        ]),
        tensor([0, 1, 0]),
      ),
    ).toBe(1)
  })

  it('binaryAccuracy thresholds logits at 0 and labels at ½', () => {
    expect(binaryAccuracy(tensor([2, -1, 0.5, -3]), tensor([1, 0, 0, 1]))).toBe(0.5)
  })
})
