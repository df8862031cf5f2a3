/**
 * Kernel laws for the broadcasting fast paths of the elementwise kernels: for every broadcast
 * pattern fast-check can draw (ranks 0–4, extents 0–4, any subset of axes set to 1, leading
 * axes dropped, on either operand or both), a binary kernel under `planBinary` and `whereKernel`
 * agree exactly (Object.is: the same scalar operation on the same two elements, so no
 * tolerance) with a reference that reads both operands through explicit index arrays
 * (`broadcastIndex`). The law is then shown to fail on a broken plan.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BinaryKernel, BroadcastPlan } from '../../src/kernels/elementwise.js'
import {
  addKernel,
  blockBroadcast,
  broadcastIndex,
  divKernel,
  divNoNanKernel,
  maximumKernel,
  planBinary,
  subKernel,
  whereKernel,
} from '../../src/kernels/elementwise.js'
import type { Shape } from '../../src/tensor/Tensor.js'
import { broadcastShapes, sizeOf } from '../../src/tensor/Tensor.js'

const kernels: ReadonlyArray<readonly [string, BinaryKernel, (x: number, y: number) => number]> = [
  ['add', addKernel, (x, y) => x + y],
  ['sub', subKernel, (x, y) => x - y],
  ['div', divKernel, (x, y) => x / y],
  ['maximum', maximumKernel, (x, y) => (x > y ? x : x <= y ? y : x + y)],
  ['divNoNan', divNoNanKernel, (x, y) => (x === 0 ? 0 : x / y)],
]

/** An output shape and an operand shape that broadcasts onto it. */
const operandOf = (out: Shape): fc.Arbitrary<Shape> =>
  fc
    .tuple(fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), fc.nat(out.length))
    .map(([ones, drop]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop))

const shapes = fc
  .array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(0)), { maxLength: 4 })
  .chain((out) => fc.tuple(operandOf(out), operandOf(out)))
  .map(([a, b]) => ({ a, b, out: broadcastShapes('test', a, b) }))

const values = (n: number, seed: number): Float64Array => {
  const specials = [0, -0, NaN, Infinity, -Infinity, 1, -1]
  return Float64Array.from({ length: n }, (_, i) =>
    (i * 7 + seed) % 5 === 0 ? (specials[(i + seed) % specials.length] as number) : ((i * 37 + seed * 11) % 17) - 8,
  )
}

const reference = (
  a: Float64Array,
  aShape: Shape,
  b: Float64Array,
  bShape: Shape,
  out: Shape,
  f: (x: number, y: number) => number,
): Float64Array => {
  const n = sizeOf(out)
  const ai = broadcastIndex(aShape, out)
  const bi = broadcastIndex(bShape, out)
  return Float64Array.from({ length: n }, (_, i) =>
    f(a[ai === null ? i : (ai[i] as number)] as number, b[bi === null ? i : (bi[i] as number)] as number),
  )
}

const agree = (plan: (a: Shape, b: Shape, out: Shape) => BroadcastPlan) =>
  fc.property(shapes, fc.nat(100), ({ a, b, out }, seed) => {
    const av = values(sizeOf(a), seed)
    const bv = values(sizeOf(b), seed + 3)
    for (const [name, kernel, f] of kernels) {
      const got = new Float64Array(sizeOf(out))
      kernel(av, bv, plan(a, b, out), got)
      const want = reference(av, a, bv, b, out, f)
      got.forEach((g, i) => {
        if (!Object.is(g, want[i]))
          throw new Error(`${name} [${a}] ∘ [${b}] → [${out}] at ${i}: ${g}, expected ${want[i]}`)
      })
    }
  })

describe('binary kernels: broadcasting fast paths agree exactly with index arrays', () => {
  it('every broadcast pattern (fast-check)', () => {
    fc.assert(agree(planBinary), { numRuns: 400, seed: 8201 })
  })
  it('the models’ patterns take a path without index arrays', () => {
    expect(planBinary([128, 128], [128], [128, 128]).mode).toBe(4) // bias row
    expect(planBinary([128, 10], [128, 1], [128, 10]).mode).toBe(4) // column (softmax's max, sum)
    expect(planBinary([128, 1], [128, 10], [128, 10]).mode).toBe(5)
    expect(planBinary([4, 1, 5], [4, 3, 5], [4, 3, 5]).mode).toBe(5) // a middle axis
    expect(planBinary([3, 1], [1, 4], [3, 4]).mode).toBe(3) // an outer product needs index arrays
    expect(blockBroadcast([128], [128, 128])).toEqual([1, 128, 128])
    expect(blockBroadcast([128, 1], [128, 10])).toEqual([128, 10, 1])
    expect(blockBroadcast([2, 1, 3, 1], [2, 5, 3, 4])).toBeNull() // two runs
  })
  it('the law fails on a broken plan (row and column confused)', () => {
    const broken = (a: Shape, b: Shape, out: Shape): BroadcastPlan => {
      const p = planBinary(a, b, out)
      return p.mode === 4 || p.mode === 5 ? { ...p, A: p.C, C: p.A } : p
    }
    expect(fc.check(agree(broken), { numRuns: 400, seed: 8202 }).failed).toBe(true)
  })
})

describe('whereKernel: the full-or-scalar fast path agrees with index arrays', () => {
  const whereLaw = (kernel: typeof whereKernel) =>
    fc.property(shapes, fc.nat(100), fc.boolean(), ({ a, b, out }, seed, scalarB) => {
      const c = values(sizeOf(a), seed).map((x) => (x > 0 ? 1 : 0))
      const bShape = scalarB ? [] : b
      const av = values(sizeOf(out), seed + 1)
      const bv = values(sizeOf(bShape), seed + 2)
      const got = new Float64Array(sizeOf(out))
      kernel(c, a, av, out, bv, bShape, broadcastShapes('t', broadcastShapes('t', a, out), bShape), got)
      const outShape = broadcastShapes('t', broadcastShapes('t', a, out), bShape)
      const ci = broadcastIndex(a, outShape)
      const ai = broadcastIndex(out, outShape)
      const bi = broadcastIndex(bShape, outShape)
      got.forEach((g, i) => {
        const want =
          c[ci === null ? i : (ci[i] as number)] !== 0
            ? av[ai === null ? i : (ai[i] as number)]
            : bv[bi === null ? i : (bi[i] as number)]
        if (!Object.is(g, want)) throw new Error(`where at ${i}: ${g}, expected ${want}`)
      })
    })
  it('every pattern (fast-check)', () => {
    fc.assert(whereLaw(whereKernel), { numRuns: 300, seed: 8203 })
  })
  it('the law fails on a broken kernel (branches swapped where the condition is a scalar)', () => {
    const broken: typeof whereKernel = (c, cs, a, as, b, bs, os, out) =>
      c.length === 1 && sizeOf(os) > 1
        ? whereKernel(
            c.map((x) => 1 - x),
            cs,
            a,
            as,
            b,
            bs,
            os,
            out,
          )
        : whereKernel(c, cs, a, as, b, bs, os, out)
    expect(fc.check(whereLaw(broken), { numRuns: 300, seed: 8204 }).failed).toBe(true)
  })
})
