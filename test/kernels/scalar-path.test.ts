/**
 * The eager rank-0 path: a rank-0 tensor made from a number holds no typed array, and an
 * elementwise primitive applied to rank-0 operands evaluates its kernel's expression on
 * numbers. The law: for every unary and binary elementwise primitive, both dtypes, and values
 * drawn with the special ones (±0, ±inf, NaN, huge, tiny), the number path gives the array
 * kernel's result bit for bit (Object.is: the same expression on the same operands, with the
 * same float32 rounding, so no tolerance). It is shown to fail on a planted wrong scalar path.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as K from '../../src/kernels/elementwise.js'
import * as P from '../../src/primitives/table.js'
import type { AnyPrimitive } from '../../src/primitives/types.js'
import type { ConcreteTensor, DType } from '../../src/tensor/Tensor.js'
import { dataOf, fromData, scalar, scalarOf } from '../../src/tensor/Tensor.js'

const unaries = ['neg', 'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'abs', 'sqrt', 'log1p', 'expm1']
const binaries = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mulNoNan', 'divNoNan', 'atan2', 'greater']
const prims = (names: ReadonlyArray<string>): AnyPrimitive[] =>
  names.map((n) => {
    const p = (P as unknown as Record<string, AnyPrimitive>)[n]
    if (p === undefined) throw new Error(`no primitive ${n}`)
    return p
  })

const value = fc.oneof(fc.double(), fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e300, -1e-300, 0.5, 1, -1, 2))

/** Does the number path (rank-0, no typed array) agree with the array path (shape [1]) on these operands? */
const agrees = (prim: AnyPrimitive, xs: ReadonlyArray<number>, dtype: DType): boolean => {
  const viaNumbers = prim.impl(
    xs.map((x) => scalarOf(x, dtype)),
    {},
  )
  const viaArrays = prim.impl(
    xs.map((x) => fromData([x], [1], dtype)),
    {},
  )
  return viaNumbers.rank === 0 && viaNumbers.dtype === dtype && Object.is(viaNumbers.item(), viaArrays.item())
}

describe('the rank-0 number path of elementwise primitives', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const prim of prims(unaries)) {
      it(`${prim.name} (${dtype}) equals the array kernel bit for bit`, () => {
        fc.assert(
          fc.property(value, (x) => agrees(prim, [x], dtype)),
          { numRuns: 200 },
        )
      })
    }
    for (const prim of prims(binaries)) {
      it(`${prim.name} (${dtype}) equals the array kernel bit for bit`, () => {
        fc.assert(
          fc.property(value, value, (x, y) => agrees(prim, [x, y], dtype)),
          { numRuns: 200 },
        )
      })
    }
  }

  it('every elementwise kernel carries its number form (so rank-0 operands take the number path)', () => {
    for (const [name, k] of Object.entries(K)) {
      if (!name.endsWith('Kernel') || name === 'whereKernel' || typeof k !== 'function') continue
      expect([name, typeof (k as { scalar?: unknown }).scalar]).toEqual([name, 'function'])
    }
    expect(typeof K.addKernel.scalar).toBe('function')
    expect(K.mulKernel.scalar?.(3, 0.5)).toBe(1.5)
  })

  it('the law fails on a planted wrong number path (sin answering with the next double on rank 0)', () => {
    const broken: AnyPrimitive = {
      ...P.sin,
      impl: (xs, p) => {
        const y = P.sin.impl(xs, p)
        return (xs[0] as ConcreteTensor).rank === 0 ? scalarOf(y.item() * (1 + 2 ** -52), y.dtype) : y
      },
    } as AnyPrimitive
    expect(() =>
      fc.assert(
        fc.property(value, (x) => agrees(broken, [x], 'float64')),
        { numRuns: 200 },
      ),
    ).toThrow()
  })

  it('a number-backed scalar is frozen, rounds float32, and hands out copies', () => {
    const s = scalar(0.1, 'float32')
    expect(Object.isFrozen(s)).toBe(true)
    expect(s.shape).toEqual([])
    expect(s.item()).toBe(Math.fround(0.1))
    const a = s.toTypedArray()
    expect(a).toBeInstanceOf(Float32Array)
    a[0] = 5
    expect(s.item()).toBe(Math.fround(0.1))
    // a kernel's view is made once and kept; it holds the same value
    const d = dataOf(s)
    expect(dataOf(s)).toBe(d)
    expect(d[0]).toBe(Math.fround(0.1))
    expect(s.toArray()).toBe(Math.fround(0.1))
    expect(s.size).toBe(1)
    expect(s.rank).toBe(0)
  })
})
