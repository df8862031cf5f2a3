import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { checkGrads } from '../../laws/index.js'
import { PurediffError } from '../../src/errors.js'
import { grad, hessian, tensor } from '../../src/index.js'
import type { DType, Tensor } from '../../src/tensor/Tensor.js'
import {
  cosineDistance,
  cosineSimilarity,
  gaussianKl,
  hinge,
  huber,
  klDivergence,
  l2,
  logCosh,
  poissonNll,
  sigmoidFocal,
  smoothLabels,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithProbs,
  squaredHinge,
} from '../../src/nn/index.js'

// Every expected value is computed here in plain JS from the textbook formula (no purediff
// op involved); gradients are checked against closed forms or against the laws kit
// (central differences, forward and reverse).
const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const close = (a: ArrayLike<number>, b: ArrayLike<number>, digits = 13): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < b.length; i++) expect(a[i] as number).toBeCloseTo(b[i] as number, digits)
}
const meanOf = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length
const sigma = (x: number): number => 1 / (1 + Math.exp(-x))
const logSoftmaxRow = (r: number[]): number[] => {
  const m = Math.max(...r)
  const l = Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)) + m
  return r.map((v) => v - l)
}
const gradsOk = <X>(f: (x: X) => unknown, x: X): void => {
  const r = checkGrads(f, x, { order: 2 })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  expect(r.right.checks).toBeGreaterThan(0)
}
const allFinite = (t: Tensor): boolean => flat(t).every(Number.isFinite)
const DTYPES: DType[] = ['float64', 'float32']

const P = [0.3, -2, 4, 0.9, -0.1]
const T = [0, 1, 0.5, -3, -0.1]
const R = P.map((p, i) => p - (T[i] as number))

describe('huber', () => {
  it('value: ½r² inside δ, δ(|r| − ½δ) outside; gradient clamp(r, −δ, δ)/n', () => {
    for (const delta of [1, 0.5, 2.5]) {
      const ref = meanOf(R.map((r) => (Math.abs(r) <= delta ? 0.5 * r * r : delta * (Math.abs(r) - 0.5 * delta))))
      expect(huber(tensor(P), tensor(T), { delta }).item()).toBeCloseTo(ref, 14)
      const g = grad((p: Tensor) => huber(p, tensor(T), { delta }))(tensor(P))
      close(
        flat(g),
        R.map((r) => Math.max(-delta, Math.min(delta, r)) / R.length),
      )
    }
    gradsOk((p: Tensor) => huber(p, tensor(T)), tensor(P))
  })
  it('is finite at residuals of ±1e30 (f32) and ±1e300 (f64), value δ(|r| − ½δ)', () => {
    expect(huber(tensor([1e300, -1e300]), tensor([0, 0])).item()).toBe(1e300 - 0.5)
    const v32 = huber(tensor([1e30, -1e30], 'float32'), tensor([0, 0], 'float32'))
    expect(v32.dtype).toBe('float32')
    expect(v32.item()).toBeCloseTo(Math.fround(1e30), -25)
    const g = grad((p: Tensor) => huber(p, tensor([0, 0], 'float32')))(tensor([1e30, -1e30], 'float32'))
    expect(flat(g)).toEqual([0.5, -0.5])
  })
  it('rejects a non-positive delta and mismatched shapes', () => {
    expect(() => huber(tensor(P), tensor(T), { delta: 0 })).toThrow(PurediffError)
    expect(() => huber(tensor([1, 2]), tensor([[1, 2]]))).toThrow(/same shape/)
  })
})

describe('logCosh', () => {
  it('value log cosh r, gradient tanh(r)/n, Hessian (1 − tanh²)/n on the diagonal', () => {
    expect(logCosh(tensor(P), tensor(T)).item()).toBeCloseTo(meanOf(R.map((r) => Math.log(Math.cosh(r)))), 15)
    close(
      flat(grad((p: Tensor) => logCosh(p, tensor(T)))(tensor(P))),
      R.map((r) => Math.tanh(r) / R.length),
    )
    const h = flat(hessian((p: Tensor) => logCosh(p, tensor(T)))(tensor(P)))
    close(
      h,
      P.flatMap((_, i) => P.map((__, j) => (i === j ? (1 - Math.tanh(R[i] as number) ** 2) / R.length : 0))),
    )
    // smooth at r = 0: second derivative 1, not the kink convention's 0
    expect(hessian((p: Tensor) => logCosh(p, 0))(tensor([0])).toArray()).toEqual([[1]])
  })
  it('is finite at ±1e4 (f32) and ±1e300 (f64): log cosh r = |r| − log 2 there', () => {
    for (const [big, dt] of [
      [1e300, 'float64'],
      [1e4, 'float32'],
    ] as const) {
      const x = tensor([big, -big], dt)
      expect(logCosh(x, 0).item()).toBeCloseTo(dt === 'float64' ? big : Math.fround(big) - Math.LN2, 0)
      expect(flat(grad((p: Tensor) => logCosh(p, 0))(x))).toEqual([0.5, -0.5])
    }
  })
})

describe('l2', () => {
  it('mean ½r², gradient r/n; target defaults to 0', () => {
    expect(l2(tensor(P), tensor(T)).item()).toBeCloseTo(meanOf(R.map((r) => 0.5 * r * r)), 15)
    expect(l2(tensor([1, 3])).item()).toBe(2.5)
    close(
      flat(grad((p: Tensor) => l2(p, tensor(T)))(tensor(P))),
      R.map((r) => r / R.length),
    )
  })
})

describe('klDivergence and gaussianKl', () => {
  const X = [
    [1, -2, 0.5],
    [3, 3, -1],
  ]
  const Q = [
    [0.2, 0.3, 0.5],
    [0, 0.6, 0.4],
  ]
  const ref = meanOf(
    X.map((row, i) => {
      const lq = logSoftmaxRow(row)
      return (Q[i] as number[]).reduce((s, p, c) => s + (p === 0 ? 0 : p * (Math.log(p) - (lq[c] as number))), 0)
    }),
  )
  it('from logits and probabilities: Σ p (log p − log q), zero targets drop out', () => {
    expect(klDivergence(tensor(X), tensor(Q)).item()).toBeCloseTo(ref, 14)
    // the gradient in the logits is (softmax − p)/rows, as the cross-entropy's
    const g = flat(grad((x: Tensor) => klDivergence(x, tensor(Q)))(tensor(X)))
    const expected = X.flatMap((row, i) => logSoftmaxRow(row).map((l, c) => (Math.exp(l) - (Q[i]?.[c] as number)) / 2))
    close(g, expected)
  })
  it('the same from log-probabilities (input and target)', () => {
    const lq = tensor(X.map(logSoftmaxRow))
    const lp = tensor(Q.map((r) => r.map(Math.log)))
    expect(klDivergence(lq, tensor(Q), { input: 'logProbs' }).item()).toBeCloseTo(ref, 14)
    expect(klDivergence(lq, lp, { input: 'logProbs', target: 'logProbs' }).item()).toBeCloseTo(ref, 14)
    expect(klDivergence(tensor(X), tensor(X.map(logSoftmaxRow)), { target: 'logProbs' }).item()).toBeCloseTo(0, 15)
  })
  it('is finite at logits of ±1e4 (f32) and ±1e300 (f64)', () => {
    for (const [big, dt] of [
      [1e300, 'float64'],
      [1e4, 'float32'],
    ] as const) {
      const x = tensor(
        [
          [big, -big],
          [-big, big],
        ],
        dt,
      )
      const p = tensor(
        [
          [1, 0],
          [0.5, 0.5],
        ],
        dt,
      )
      const v = klDivergence(x, p)
      // row 0: 0; row 1: ½(log ½ − (−2big)) + ½(log ½ − 0) = log ½ + big
      expect(v.item()).toBeCloseTo(
        dt === 'float64' ? big / 2 : (Math.fround(big) + Math.log(0.5)) / 2,
        dt === 'float64' ? -290 : 2,
      )
      expect(allFinite(grad((l: Tensor) => klDivergence(l, p))(x))).toBe(true)
    }
  })
  it('gaussianKl: ½ Σ (μ² + σ² − 1 − log σ²), gradients μ and ½(σ² − 1) per row count', () => {
    const mu = [
      [0.5, -1],
      [0, 2],
    ]
    const lv = [
      [0.1, -0.3],
      [1, 0],
    ]
    const expected = meanOf(
      mu.map((r, i) =>
        r.reduce((s, m, j) => {
          const l = lv[i]?.[j] as number
          return s + 0.5 * (m * m + Math.exp(l) - 1 - l)
        }, 0),
      ),
    )
    expect(gaussianKl(tensor(mu), tensor(lv)).item()).toBeCloseTo(expected, 15)
    gradsOk((m: Tensor) => gaussianKl(m, tensor(lv)), tensor(mu))
    close(
      flat(grad((l: Tensor) => gaussianKl(tensor(mu), l))(tensor(lv))),
      lv.flat().map((l) => (0.5 * (Math.exp(l) - 1)) / 2),
    )
  })
})

describe('hinge and squaredHinge', () => {
  const S = [2, 0.5, -0.3, 1.5]
  const Y = [1, -1, 1, -1]
  const m = S.map((s, i) => Math.max(0, 1 - (Y[i] as number) * s))
  it('values and gradients', () => {
    expect(hinge(tensor(S), tensor(Y)).item()).toBeCloseTo(meanOf(m), 15)
    expect(squaredHinge(tensor(S), tensor(Y)).item()).toBeCloseTo(meanOf(m.map((v) => v * v)), 15)
    close(
      flat(grad((s: Tensor) => hinge(s, tensor(Y)))(tensor(S))),
      m.map((v, i) => (v > 0 ? -(Y[i] as number) / 4 : 0)),
    )
    close(
      flat(grad((s: Tensor) => squaredHinge(s, tensor(Y)))(tensor(S))),
      m.map((v, i) => (-2 * v * (Y[i] as number)) / 4),
    )
  })
  it('NOTE: the kink y·s = 1 has gradient 0', () => {
    expect(flat(grad((s: Tensor) => hinge(s, tensor([1])))(tensor([1])))).toEqual([0])
  })
  it('finite at ±1e4 (f32) and ±1e300 (f64); labels must be ±1', () => {
    for (const [big, dt] of [
      [1e300, 'float64'],
      [1e4, 'float32'],
    ] as const) {
      const s = tensor([big, -big], dt)
      const y = tensor([1, 1], dt)
      expect(hinge(s, y).item()).toBeCloseTo(
        dt === 'float64' ? big / 2 : (1 + Math.fround(big)) / 2,
        dt === 'float64' ? -290 : 3,
      )
      expect(allFinite(grad((v: Tensor) => hinge(v, y))(s))).toBe(true)
    }
    expect(squaredHinge(tensor([1e4, -1e4], 'float32'), tensor([1, 1], 'float32')).item()).toBeCloseTo(
      (1e4 + 1) ** 2 / 2,
      -2,
    )
    expect(() => hinge(tensor([1]), tensor([0]))).toThrow(/−1 or 1/)
  })
})

describe('sigmoidFocal', () => {
  const X = [-3, -0.5, 0, 0.7, 4]
  const Z = [0, 1, 1, 0, 0.3]
  const refLoss = (alpha: number | undefined, gamma: number): number =>
    meanOf(
      X.map((x, i) => {
        const z = Z[i] as number
        const p = sigma(x)
        const ce = -(z * Math.log(p) + (1 - z) * Math.log(1 - p))
        const pt = p * z + (1 - p) * (1 - z)
        const at = alpha === undefined ? 1 : alpha * z + (1 - alpha) * (1 - z)
        return at * ce * (1 - pt) ** gamma
      }),
    )
  it('matches −α_t (1 − p_t)^γ log p_t for several α, γ; γ = 0 is binary cross-entropy', () => {
    for (const [alpha, gamma] of [
      [undefined, 2],
      [0.25, 2],
      [undefined, 0],
      [0.75, 1.5],
    ] as const) {
      const opts = alpha === undefined ? { gamma } : { alpha, gamma }
      expect(sigmoidFocal(tensor(X), tensor(Z), opts).item()).toBeCloseTo(refLoss(alpha, gamma), 13)
    }
    gradsOk((x: Tensor) => sigmoidFocal(x, tensor(Z), { alpha: 0.25 }), tensor(X))
  })
  it('finite at ±1e4 (f32) and ±1e300 (f64), with exact values', () => {
    for (const [big, dt] of [
      [1e300, 'float64'],
      [1e4, 'float32'],
    ] as const) {
      const x = tensor([big, -big, big, -big], dt)
      const z = tensor([1, 0, 0, 1], dt)
      // right, right (loss 0), wrong, wrong (loss big each, (1 − p_t)^γ = 1)
      expect(sigmoidFocal(x, z).item()).toBe(dt === 'float64' ? big / 2 : Math.fround(big) / 2)
      const g = flat(grad((v: Tensor) => sigmoidFocal(v, z))(x))
      expect(g).toEqual([0, 0, 0.25, -0.25])
    }
  })
})

describe('cosineSimilarity and cosineDistance', () => {
  const A = [
    [1, 2, -1],
    [0.5, 0, 3],
  ]
  const B = [
    [-2, 1, 0.5],
    [1, 1, 1],
  ]
  const cos = (a: number[], b: number[]): number =>
    a.reduce((s, v, i) => s + v * (b[i] as number), 0) / (Math.hypot(...a) * Math.hypot(...b))
  it('per-row similarity and the mean distance, with their gradients', () => {
    close(
      flat(cosineSimilarity(tensor(A), tensor(B))),
      A.map((a, i) => cos(a, B[i] as number[])),
      15,
    )
    expect(cosineDistance(tensor(A), tensor(B)).item()).toBeCloseTo(
      meanOf(A.map((a, i) => 1 - cos(a, B[i] as number[]))),
      15,
    )
    // d cos / d a = b/(‖a‖‖b‖) − cos · a/‖a‖², negated and averaged for the distance
    const g = flat(grad((a: Tensor) => cosineDistance(a, tensor(B)))(tensor(A)))
    const expected = A.flatMap((a, i) => {
      const b = B[i] as number[]
      const na = Math.hypot(...a)
      const nb = Math.hypot(...b)
      const c = cos(a, b)
      return a.map((v, j) => -((b[j] as number) / (na * nb) - (c * v) / (na * na)) / 2)
    })
    close(g, expected)
    gradsOk((a: Tensor) => cosineDistance(a, tensor(B)), tensor(A))
  })
  it('finite and exact at entries of 1e300 (f64) and 1e30 (f32), where ‖a‖² overflows', () => {
    for (const dt of DTYPES) {
      const big = dt === 'float64' ? 1e300 : 1e30
      const a = tensor([[big, big]], dt)
      const b = tensor([[big, 0]], dt)
      expect(cosineSimilarity(a, b).item()).toBeCloseTo(Math.SQRT1_2, dt === 'float64' ? 15 : 6)
      expect(allFinite(grad((v: Tensor) => cosineDistance(v, b))(a))).toBe(true)
    }
  })
  it('a zero vector has similarity 0 and a finite gradient', () => {
    expect(cosineSimilarity(tensor([[0, 0]]), tensor([[1, 2]])).item()).toBe(0)
    expect(allFinite(grad((v: Tensor) => cosineDistance(v, tensor([[1, 2]])))(tensor([[0, 0]])))).toBe(true)
  })
})

describe('smoothLabels and softmaxCrossEntropy with probability targets', () => {
  it('smoothLabels: (1 − α) y + α/K', () => {
    close(flat(smoothLabels(tensor([[0, 1, 0, 0]]), 0.1)), [0.025, 0.925, 0.025, 0.025], 15)
  })
  it("softmaxCrossEntropy reads a tensor of the logits' shape as probabilities", () => {
    const x = tensor([
      [1, 2, 3],
      [0.5, -1, 0],
    ])
    const p = tensor([
      [0.2, 0.3, 0.5],
      [0.6, 0.4, 0],
    ])
    expect(softmaxCrossEntropy(x, p).item()).toBe(softmaxCrossEntropyWithProbs(x, p).item())
    const ref = meanOf(
      [
        [1, 2, 3],
        [0.5, -1, 0],
      ].map(
        (r, i) =>
          -logSoftmaxRow(r).reduce(
            (s, l, c) =>
              s +
              l *
                ([
                  [0.2, 0.3, 0.5],
                  [0.6, 0.4, 0],
                ][i]?.[c] as number),
            0,
          ),
      ),
    )
    expect(softmaxCrossEntropy(x, p).item()).toBeCloseTo(ref, 14)
    // integer labels as a tensor (one axis fewer) still mean class indices
    expect(softmaxCrossEntropy(x, tensor([2, 0])).item()).toBeCloseTo(softmaxCrossEntropy(x, [2, 0]).item(), 15)
  })
  it('is finite at ±1e4 (f32) and ±1e300 (f64) with smoothed targets', () => {
    for (const [big, dt] of [
      [1e300, 'float64'],
      [1e4, 'float32'],
    ] as const) {
      const x = tensor([[big, -big, 0]], dt)
      const p = smoothLabels(tensor([[1, 0, 0]], dt), 0.3)
      const v = softmaxCrossEntropy(x, p)
      // −Σ p log q: log q = [0, −2big, −big] → 0.1·2big + 0.1·big = 0.3 big
      expect(v.item() / (0.3 * big)).toBeCloseTo(1, dt === 'float64' ? 14 : 5)
      expect(allFinite(grad((l: Tensor) => softmaxCrossEntropy(l, p))(x))).toBe(true)
    }
  })
})

describe('poissonNll', () => {
  const X = [0.3, -1, 2]
  const Y = [1, 0, 5]
  it('log-rate input: mean(eˣ − y x), gradient (eˣ − y)/n', () => {
    expect(poissonNll(tensor(X), tensor(Y)).item()).toBeCloseTo(
      meanOf(X.map((x, i) => Math.exp(x) - (Y[i] as number) * x)),
      14,
    )
    close(
      flat(grad((x: Tensor) => poissonNll(x, tensor(Y)))(tensor(X))),
      X.map((x, i) => (Math.exp(x) - (Y[i] as number)) / 3),
    )
  })
  it('rate input: mean(λ − y log λ); a zero rate with a zero count gives 0', () => {
    const lam = X.map(Math.exp)
    expect(poissonNll(tensor(lam), tensor(Y), { logInput: false }).item()).toBeCloseTo(
      poissonNll(tensor(X), tensor(Y)).item(),
      14,
    )
    expect(poissonNll(tensor([0]), tensor([0]), { logInput: false }).item()).toBe(0)
  })
  it('finite across the log-rates whose rate is representable: ±80 (f32), ±700 (f64)', () => {
    for (const [big, dt] of [
      [700, 'float64'],
      [80, 'float32'],
    ] as const) {
      const x = tensor([big, -big], dt)
      const y = tensor([3, 2], dt)
      const v = poissonNll(x, y).item()
      const ref = (Math.exp(big) - 3 * big + Math.exp(-big) + 2 * big) / 2
      expect(v / ref).toBeCloseTo(1, dt === 'float64' ? 13 : 5)
      expect(allFinite(grad((l: Tensor) => poissonNll(l, y))(x))).toBe(true)
    }
  })
})
