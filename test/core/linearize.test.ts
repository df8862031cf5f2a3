/**
 * `linearize` evaluates f once and its jvpFn equals `jvp` along any tangent (AD vs AD, to
 * 1e-12); `linearTranspose` of a linear map is its transpose (checked against the explicit
 * matrix, and by the adjoint identity ⟨ȳ, f(v)⟩ = ⟨fᵀȳ, v⟩).
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  exp,
  jvp,
  linearTranspose,
  linearize,
  matmul,
  mul,
  sin,
  sum,
  tanh,
  tensor,
  transpose,
  zeros,
} from '../../src/index.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

describe('linearize', () => {
  it('evaluates f once; jvpFn equals jvp along several tangents', () => {
    let calls = 0
    const f = (p: { a: Tensor; b: Tensor }) => {
      calls++
      return { y: mul(sin(p.a), exp(p.b)), s: sum(tanh(mul(p.a, p.b))) }
    }
    const x = { a: tensor([0.3, -1.2, 2]), b: tensor([0.5, 0.1, -0.4]) }
    const [y, push] = linearize(f, x)
    expect(calls).toBe(1)
    const vs = [
      { a: tensor([1, 0, 0]), b: tensor([0, 0, 0]) },
      { a: tensor([0.2, -0.3, 1]), b: tensor([1, 2, -1]) },
    ]
    for (const v of vs) {
      const got = push(v)
      const [y2, want] = jvp(f, x, v)
      assertClose(got.y, want.y, 1e-12, 1e-15)
      assertClose(got.s, want.s, 1e-12, 1e-15)
      assertClose(y.y, y2.y, 0)
    }
    expect(calls).toBe(1 + vs.length) // only the reference jvp calls ran f again
  })
})

describe('linearTranspose', () => {
  const m = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ])
  const f = (v: Tensor) => matmul(m, v)
  it('transposes a matrix product', () => {
    const ft = linearTranspose(f, zeros([3]))
    assertClose(ft(tensor([1, 0])), tensor([1, 2, 3]), 0)
    assertClose(ft(tensor([0.5, -1])), matmul(transpose(m), tensor([0.5, -1])), 1e-15)
  })
  it('satisfies ⟨ȳ, f(v)⟩ = ⟨fᵀȳ, v⟩ for a linear map of a tree', () => {
    const g = (p: { u: Tensor; w: Tensor }) => add(mul(3, p.u), matmul(m, p.w))
    const ft = linearTranspose(g, { u: zeros([2]), w: zeros([3]) })
    const yBar = tensor([0.7, -0.2])
    const v = { u: tensor([1, 2]), w: tensor([-1, 0.5, 2]) }
    const lhs = sum(mul(yBar, g(v))).item()
    const xb = ft(yBar)
    const rhs = sum(mul(xb.u, v.u)).item() + sum(mul(xb.w, v.w)).item()
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-14)
  })
  it('unknown options are errors', () => {
    expect(throwsPurediff(() => linearTranspose(f, zeros([3]), { check: true } as never)).op).toBe('linearTranspose')
    expect(throwsPurediff(() => linearize(f, zeros([3]), { check: true } as never)).op).toBe('linearize')
  })
})
