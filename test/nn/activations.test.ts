import { describe, expect, it } from 'vitest'
import { derivative, grad, sum, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { elu, gelu, identity, leakyRelu, logSigmoid, relu, silu, softplus } from '../../src/nn/index.js'

// References are plain-JS evaluations of the textbook formulas at points where they are
// well conditioned; 1e-14 absolute is a few ulps for values of order 1.
const flat = (t: Tensor): number[] => Array.from(t.toTypedArray())
const sigma = (x: number): number => 1 / (1 + Math.exp(-x))
const gradOf = (f: (x: Tensor) => Tensor, xs: number[]): number[] => flat(grad((x: Tensor) => sum(f(x)))(tensor(xs)))
const expectClose = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, digits = 14): void => {
  expect(a.length).toBe(b.length)
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i] as number, digits))
}

const xs = [-3, -1, -0.25, 0.5, 2]

describe('gelu (tanh approximation)', () => {
  const c = Math.sqrt(2 / Math.PI)
  const u = (x: number): number => c * (x + 0.044715 * x ** 3)
  it('value ½x(1 + tanh(u)) and derivative ½(1 + tanh u) + ½x·sech²(u)·c(1 + 3·0.044715x²)', () => {
    expectClose(
      flat(gelu(tensor(xs))),
      xs.map((x) => 0.5 * x * (1 + Math.tanh(u(x)))),
    )
    expectClose(
      gradOf(gelu, xs),
      xs.map(
        (x) => 0.5 * (1 + Math.tanh(u(x))) + 0.5 * x * (1 - Math.tanh(u(x)) ** 2) * c * (1 + 3 * 0.044715 * x * x),
      ),
    )
  })
})

describe('softplus', () => {
  it('value log(1 + eˣ) and derivative σ(x), including ½ at 0', () => {
    const pts = [-5, -1, 0, 1, 5]
    expectClose(
      flat(softplus(tensor(pts))),
      pts.map((x) => Math.log(1 + Math.exp(x))),
    )
    expectClose(gradOf(softplus, pts), pts.map(sigma))
    expect(gradOf(softplus, [0])).toEqual([0.5])
  })

  it('second derivative σ(x)(1 − σ(x)): ¼ at 0', () => {
    expect(derivative(derivative((x: Tensor) => softplus(x)))(tensor(0)).item()).toBeCloseTo(0.25, 15)
  })

  it('is exact and finite at ±1e4 (value and derivative)', () => {
    expect(flat(softplus(tensor([-1e4, 1e4])))).toEqual([0, 1e4])
    expect(gradOf(softplus, [-1e4, 1e4])).toEqual([0, 1])
    expect(flat(logSigmoid(tensor([-1e4, 1e4])))).toEqual([-1e4, -0])
  })
})

describe('piecewise activations', () => {
  it('relu, leakyRelu and their derivative conventions at 0', () => {
    expect(flat(relu(tensor(xs)))).toEqual([0, 0, 0, 0.5, 2])
    expect(flat(leakyRelu(tensor(xs), 0.1))).toEqual(xs.map((x) => (x > 0 ? x : 0.1 * x)))
    expect(gradOf(relu, [0])).toEqual([0])
    expect(gradOf((x) => leakyRelu(x, 0.1), [-1, 0, 1])).toEqual([0.1, 0.1, 1])
  })

  it('elu: x or α(eˣ − 1); derivative αeˣ below 0 (α at 0), 1 above; finite at ±1e4', () => {
    expectClose(
      flat(elu(tensor(xs), 1.5)),
      xs.map((x) => (x > 0 ? x : 1.5 * Math.expm1(x))),
    )
    expectClose(
      gradOf((x) => elu(x, 1.5), [-1, 0, 1]),
      [1.5 * Math.exp(-1), 1.5, 1],
    )
    expect(flat(elu(tensor([-1e4, 1e4])))).toEqual([-1, 1e4])
    expect(gradOf(elu, [-1e4, 1e4])).toEqual([0, 1])
  })

  it('silu x·σ(x) and the identity', () => {
    expectClose(
      flat(silu(tensor(xs))),
      xs.map((x) => x * sigma(x)),
    )
    expectClose(
      gradOf(silu, xs),
      xs.map((x) => sigma(x) * (1 + x * (1 - sigma(x)))),
    )
    const t = tensor(xs)
    expect(identity(t)).toBe(t)
  })
})
