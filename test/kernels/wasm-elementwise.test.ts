/**
 * Kernel laws for the WebAssembly elementwise and reduction kernels
 * (src/kernels/wasm/elementwise.ts): on fast-check shapes (0, 1, odd sizes, sizes around the
 * 2- and 4-lane vectors and the 4-element pairs of the row sums), both dtypes, every broadcast
 * the kernels take (same shape, scalar on either side, [A, 1, C] onto [A, R, C] on either side:
 * row vectors, column vectors, middle axes), with NaN, ±Inf, ±0 and subnormals mixed into the
 * data, each kernel agrees with the JS reference kernel.
 *
 * Tolerances:
 * - elementwise ops, leading-axis sums and every maximum: none. Both compute the same IEEE
 *   operations (add, sub, mul, div, sqrt correctly rounded; neg, abs, relu, maximum, minimum
 *   selects) on the same operands in the same order, so every element agrees bit for bit
 *   (Object.is: NaN with NaN, −0 apart from +0).
 * - trailing-axis sums: the reference adds in order with one float64 accumulator, the kernel in
 *   two float64 lanes of pairs, a different order. Any order of float64 recursive summation
 *   of n terms is within γₙ₋₁·Σ|x| of the exact sum, γₖ = ku/(1 − ku), u = 2⁻⁵³ (Higham,
 *   Accuracy and Stability, §4.2), so |kernel − reference| ≤ 2γₙ₋₁·Σ|x|; float32 results are
 *   then each rounded once to float32 (relative error ≤ 2⁻²⁴, plus half a subnormal ulp,
 *   2⁻¹⁵⁰, each), which adds 2⁻²⁴·(|kernel| + |reference|) + 2⁻¹⁴⁹. Where the reference is NaN,
 *   ±Inf or zero the kernel must give the same value (finite data are bounded so that no sum
 *   overflows: specials arise only from specials in the data, whatever the order).
 *
 * Each law is then run against deliberately broken kernels and must fail.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Data, DType, Shape } from '../../src/tensor/Tensor.js'
import { sizeOf } from '../../src/tensor/Tensor.js'
import { jsReference, planBinary } from '../../src/kernels/elementwise.js'
import { maxJsKernel, maxKernel, sumJsKernel, sumKernel } from '../../src/kernels/reduce.js'
import type { WasmBinaryOp, WasmUnaryOp } from '../../src/kernels/wasm/elementwise.js'
import {
  binaryModuleBytes,
  binaryWasm,
  reduceModuleBytes,
  reduceWasm,
  unaryModuleBytes,
  unaryWasm,
} from '../../src/kernels/wasm/elementwise.js'
import { simdSupported } from '../../src/kernels/wasm/emit.js'

const u64 = 2 ** -53
const u32 = 2 ** -24
const gamma = (k: number, u: number): number => (k * u) / (1 - k * u)

// ---- data

const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 5e-324, -1e-40, 1, -1)
const dataArb = (dtype: DType, n: number): fc.Arbitrary<Data> =>
  fc
    .tuple(
      fc.integer(),
      fc.array(fc.tuple(fc.nat(), special), { maxLength: Math.min(8, n) }),
      fc.constantFrom(0, 0, 0, 1), // sometimes mostly zeros and negatives (for maxima and signs of zero)
    )
    .map(([seed, specials, zeros]) => {
      let x = seed | 0
      const d = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) | 0
        const r = (x >>> 8) / 2 ** 24
        d[i] = zeros === 1 ? (r < 0.5 ? (r < 0.25 ? -0 : 0) : -r) : r * 8 - 4
      }
      for (const [pos, v] of specials) if (n > 0) d[pos % n] = v
      return d
    })

const dim = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9), fc.integer({ min: 0, max: 40 }))
const dtypeArb = fc.constantFrom<DType>('float64', 'float32')

/** An output shape and a second shape that broadcasts onto it in one of the kernel's patterns. */
const broadcastArb: fc.Arbitrary<{ out: Shape; small: Shape }> = fc
  .tuple(
    fc.array(dim, { minLength: 1, maxLength: 3 }),
    fc.nat(),
    fc.nat(),
    fc.constantFrom('same', 'scalar', 'block', 'lead'),
  )
  .map(([out, i, j, kind]) => {
    if (kind === 'same') return { out, small: out }
    if (kind === 'scalar') return { out, small: i % 2 === 0 ? [] : out.map(() => 1) }
    if (kind === 'lead') return { out, small: out.slice(i % out.length) } // a row vector (trailing axes)
    // one contiguous run of axes set to 1: a column vector, a middle axis, a row vector
    const lo = i % out.length
    const hi = lo + (j % (out.length - lo))
    return { out, small: out.map((d, ax) => (ax >= lo && ax <= hi ? 1 : d)) }
  })

interface BinCase {
  readonly op: WasmBinaryOp
  readonly dtype: DType
  readonly aShape: Shape
  readonly bShape: Shape
  readonly out: Shape
  readonly a: Data
  readonly b: Data
}
const binArb: fc.Arbitrary<BinCase> = fc
  .tuple(
    fc.constantFrom<WasmBinaryOp>('add', 'sub', 'mul', 'div', 'maximum', 'minimum'),
    dtypeArb,
    broadcastArb,
    fc.boolean(),
  )
  .chain(([op, dtype, { out, small }, swap]) => {
    const [aShape, bShape] = swap ? [small, out] : [out, small]
    return fc
      .tuple(dataArb(dtype, sizeOf(aShape)), dataArb(dtype, sizeOf(bShape)))
      .map(([a, b]) => ({ op, dtype, aShape, bShape, out, a, b }))
  })

type BinKernel = (c: BinCase, mode: number, A: number, R: number, C: number, out: Data) => boolean
const wasmBin: BinKernel = (c, mode, A, R, C, out) => binaryWasm(c.op, c.dtype, c.a, c.b, mode, A, R, C, out)

const exactly = (got: Data, want: Data): string | null => {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) return `element ${i}: ${got[i]}, expected ${want[i]}`
  return null
}
const alloc = (dtype: DType, n: number): Data => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n))

const binLaw = (kernel: BinKernel) =>
  fc.property(binArb, (c) => {
    const p = planBinary(c.aShape, c.bShape, c.out)
    if (p.mode === 3) return // index arrays: the JS kernel's own (not taken by WebAssembly)
    const n = sizeOf(c.out)
    const want = alloc(c.dtype, n)
    jsReference.binary[c.op](c.a, c.b, p, want)
    const got = alloc(c.dtype, n)
    if (!kernel(c, p.mode, p.A, p.R, p.C, got)) throw new Error('declined')
    const v = exactly(got, want)
    if (v !== null) throw new Error(`${c.op} ${c.dtype} [${c.aShape}] ∘ [${c.bShape}] (mode ${p.mode}): ${v}`)
  })

interface UnCase {
  readonly op: WasmUnaryOp
  readonly dtype: DType
  readonly x: Data
}
const unArb: fc.Arbitrary<UnCase> = fc
  .tuple(
    fc.constantFrom<WasmUnaryOp>('neg', 'abs', 'sqrt', 'relu'),
    dtypeArb,
    fc.oneof(dim, fc.integer({ min: 0, max: 300 })),
  )
  .chain(([op, dtype, n]) => dataArb(dtype, n).map((x) => ({ op, dtype, x })))
type UnKernel = (c: UnCase, out: Data) => boolean
const unLaw = (kernel: UnKernel) =>
  fc.property(unArb, (c) => {
    const want = alloc(c.dtype, c.x.length)
    jsReference.unary[c.op](c.x, want)
    const got = alloc(c.dtype, c.x.length)
    if (!kernel(c, got)) throw new Error('declined')
    const v = exactly(got, want)
    if (v !== null) throw new Error(`${c.op} ${c.dtype} n ${c.x.length}: ${v}`)
  })

interface RedCase {
  readonly kind: 'sum' | 'max'
  readonly dtype: DType
  readonly shape: Shape
  readonly axes: number[]
  readonly x: Data
}
const redArb: fc.Arbitrary<RedCase> = fc
  .tuple(
    fc.constantFrom<'sum' | 'max'>('sum', 'max'),
    dtypeArb,
    fc.array(dim, { minLength: 1, maxLength: 3 }),
    fc.nat(),
    fc.boolean(),
  )
  .chain(([kind, dtype, shape, i, trailing]) => {
    const k = 1 + (i % shape.length)
    const axes = trailing
      ? shape.slice(shape.length - k).map((_, j) => shape.length - k + j)
      : shape.slice(0, k).map((_, j) => j)
    return dataArb(dtype, sizeOf(shape)).map((x) => ({ kind, dtype, shape, axes, x }))
  })
type RedKernel = (c: RedCase) => Data
const redWasm: RedKernel = (c) => {
  // the kernel entry point with the WebAssembly threshold out of the way (reduceWasm directly)
  const rank = c.shape.length
  const trailing = c.axes.every((a, i) => a === rank - c.axes.length + i)
  const outSize = sizeOf(c.shape.filter((_, ax) => !c.axes.includes(ax)))
  const n = c.x.length
  if (n === 0 || outSize === 0) return (c.kind === 'sum' ? sumKernel : maxKernel)(c.x, c.shape, c.axes, c.dtype)
  const out = alloc(c.dtype, outSize)
  const along = trailing ? 'rows' : 'cols'
  const [outer, inner] = trailing ? [outSize, n / outSize] : [n / outSize, outSize]
  if (!reduceWasm(c.kind, along, c.dtype, c.x, outer, inner, out)) throw new Error('declined')
  if (c.kind === 'max' && trailing)
    // the zero fix-up of maxKernel (src/kernels/reduce.ts), through the public kernel on that row
    for (let o = 0; o < outSize; o++)
      if (out[o] === 0)
        out[o] = maxJsKernel(c.x.subarray(o * inner, (o + 1) * inner), [inner], [0], c.dtype)[0] as number
  return out
}
const redLaw = (kernel: RedKernel, arb: fc.Arbitrary<RedCase> = redArb) =>
  fc.property(arb, (c) => {
    const want = (c.kind === 'sum' ? sumJsKernel : maxJsKernel)(c.x, c.shape, c.axes, c.dtype)
    const got = kernel(c)
    const rank = c.shape.length
    const trailing = c.axes.every((a, i) => a === rank - c.axes.length + i)
    const where = `${c.kind} ${c.dtype} [${c.shape}] axes [${c.axes}]`
    if (got.length !== want.length) throw new Error(`${where}: length ${got.length}, expected ${want.length}`)
    if (c.kind === 'max' || !trailing) {
      const v = exactly(got, want)
      if (v !== null) throw new Error(`${where}: ${v}`)
      return
    }
    const inner = c.x.length / Math.max(1, want.length)
    for (let o = 0; o < want.length; o++) {
      const g = got[o] as number
      const w = want[o] as number
      if (!Number.isFinite(w) || w === 0) {
        if (!Object.is(g, w)) throw new Error(`${where}: element ${o}: ${g}, expected ${w} (exactly)`)
        continue
      }
      let s = 0
      for (let j = 0; j < inner; j++) s += Math.abs(c.x[o * inner + j] as number)
      s *= 1 + 2 * gamma(inner, u64) // Σ|x| rounded up past its own rounding
      const tol =
        2 * gamma(Math.max(inner - 1, 0), u64) * s +
        (c.dtype === 'float32' ? u32 * (Math.abs(g) + Math.abs(w)) + 2 ** -149 : 0)
      if (!(Math.abs(g - w) <= tol)) throw new Error(`${where}: element ${o}: ${g}, expected ${w} ± ${tol}`)
    }
  })

// ---- the laws

describe.runIf(simdSupported())('WebAssembly elementwise kernels agree with the JS reference kernels', () => {
  it('binary ops on every broadcast the kernels take, bit for bit', () => {
    fc.assert(binLaw(wasmBin), { numRuns: 400, seed: 8301 })
  })
  it('unary ops, bit for bit', () => {
    fc.assert(
      unLaw((c, out) => unaryWasm(c.op, c.dtype, c.x, out)),
      { numRuns: 200, seed: 8302 },
    )
  })
  it('sum and max along trailing and leading axes (trailing sums within the derived bound, the rest exactly)', () => {
    fc.assert(redLaw(redWasm), { numRuns: 400, seed: 8303 })
  })
  it('the kernel entry points (sumKernel, maxKernel) satisfy the same law', () => {
    fc.assert(
      redLaw((c) => (c.kind === 'sum' ? sumKernel : maxKernel)(c.x, c.shape, c.axes, c.dtype)),
      {
        numRuns: 200,
        seed: 8304,
      },
    )
  })
  it('each module is under 4 KiB (what a browser compiles synchronously on its main thread)', () => {
    for (const dtype of ['float64', 'float32'] as const) {
      for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const)
        expect(binaryModuleBytes(dtype, op).length).toBeLessThan(4096)
      for (const op of ['neg', 'abs', 'sqrt', 'relu'] as const)
        expect(unaryModuleBytes(dtype, op).length).toBeLessThan(4096)
      expect(reduceModuleBytes(dtype).length).toBeLessThan(4096)
    }
  })
  it('an explicit case: maximum and minimum of ±0 and NaN as the JS kernel takes them', () => {
    const a = Float64Array.of(0, -0, NaN, 1, -0, 3)
    const b = Float64Array.of(-0, 0, 1, NaN, -0, 3)
    const p = planBinary([6], [6], [6])
    const got = new Float64Array(6)
    binaryWasm('maximum', 'float64', a, b, p.mode, p.A, p.R, p.C, got)
    // x > y ? x : y — maximum(0, −0) = −0 (y), maximum(−0, 0) = 0 (y)
    expect(Object.is(got[0], -0)).toBe(true)
    expect(Object.is(got[1], 0)).toBe(true)
    expect([...got].slice(2)).toEqual([NaN, NaN, -0, 3])
  })
})

// ---- the laws fail on broken kernels

const fails = <T>(prop: fc.IPropertyWithHooks<[T]> | fc.IProperty<[T]>, seed: number): boolean =>
  fc.check(prop as fc.IProperty<[T]>, { numRuns: 300, seed }).failed

describe.runIf(simdSupported())('the elementwise laws fail on deliberately broken kernels', () => {
  it('a block broadcast that reads the broadcast row of a = 0 for every a', () => {
    expect(
      fails(
        binLaw((c, mode, A, R, C, out) => wasmBin(c, mode, 1, A * R, C, out)),
        1,
      ),
    ).toBe(true)
  })
  it('a maximum with f64x2.max’s order of zeros (−0 < +0)', () => {
    const broken: BinKernel = (c, mode, A, R, C, out) => {
      const ok = wasmBin(c, mode, A, R, C, out)
      if (c.op === 'maximum') for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = 0
      return ok
    }
    expect(fails(binLaw(broken), 2)).toBe(true)
  })
  it('a minimum that drops NaN (returns the other operand)', () => {
    const broken: BinKernel = (c, mode, A, R, C, out) => {
      const ok = wasmBin(c, mode, A, R, C, out)
      if (c.op === 'minimum') for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i])) out[i] = 0
      return ok
    }
    expect(fails(binLaw(broken), 3)).toBe(true)
  })
  it('a relu that keeps −0', () => {
    const broken: UnKernel = (c, out) => {
      const ok = unaryWasm(c.op, c.dtype, c.x, out)
      if (c.op === 'relu') for (let i = 0; i < out.length; i++) if (Object.is(c.x[i], -0)) out[i] = -0
      return ok
    }
    expect(fails(unLaw(broken), 4)).toBe(true)
  })
  it('a row sum that drops the scalar tail', () => {
    const broken: RedKernel = (c) => {
      const rank = c.shape.length
      const trailing = c.axes.every((a, i) => a === rank - c.axes.length + i)
      const out = redWasm(c)
      if (c.kind !== 'sum' || !trailing || out.length === 0) return out
      const inner = c.x.length / out.length
      const tail = inner % 4
      for (let o = 0; o < out.length; o++)
        for (let j = inner - tail; j < inner; j++) out[o] = (out[o] as number) - (c.x[o * inner + j] as number)
      return out
    }
    expect(fails(redLaw(broken), 5)).toBe(true)
  })
  it('a float32 row sum accumulated in float32 (the tolerance is tight enough to see it)', () => {
    const broken: RedKernel = (c) => {
      const rank = c.shape.length
      const trailing = c.axes.every((a, i) => a === rank - c.axes.length + i)
      const out = redWasm(c)
      if (c.kind !== 'sum' || !trailing || c.dtype !== 'float32' || out.length === 0) return out
      const inner = c.x.length / out.length
      for (let o = 0; o < out.length; o++) {
        let s = 0
        for (let j = 0; j < inner; j++) s = Math.fround(s + (c.x[o * inner + j] as number))
        out[o] = s
      }
      return out
    }
    const f32 = redArb.filter((c) => c.dtype === 'float32' && c.kind === 'sum')
    expect(fc.check(redLaw(broken, f32), { numRuns: 500, seed: 6 }).failed).toBe(true)
  })
  it('a row maximum without the zero fix-up (lanes pick the sign of a zero maximum out of order)', () => {
    const broken: RedKernel = (c) => {
      const rank = c.shape.length
      const trailing = c.axes.every((a, i) => a === rank - c.axes.length + i)
      const outSize = sizeOf(c.shape.filter((_, ax) => !c.axes.includes(ax)))
      if (c.kind !== 'max' || !trailing || c.x.length === 0 || outSize === 0) return redWasm(c)
      const out = alloc(c.dtype, outSize)
      reduceWasm('max', 'rows', c.dtype, c.x, outSize, c.x.length / outSize, out)
      return out
    }
    expect(fails(redLaw(broken), 7)).toBe(true)
  })
})
