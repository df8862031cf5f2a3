/**
 * Reduction kernels: sum and max over any set of axes of a row-major array. The output
 * drops the reduced axes (the op layer restores them for `keepDims`). Three loops cover
 * the cases: all axes, trailing axes (contiguous rows) and leading axes (the bias-gradient
 * pattern, summing a batch); anything else walks the input once with an odometer.
 *
 * Trailing and leading reductions of at least `wasmMinElements()` inputs run the WebAssembly
 * SIMD kernels of src/kernels/wasm/elementwise.ts (leading ones and maxima bit-identical to
 * the loops here; trailing sums within the bound stated there); the loops here are the
 * reference (`sumJsKernel`, `maxJsKernel`) and the fallback.
 *
 * Purity contract: a kernel writes only the output array it returns, freshly allocated.
 */
import type { Data, DType, Shape } from '../tensor/Tensor.js'
import { alloc, sizeOf, stridesOf } from '../tensor/Tensor.js'
import { wasmMinElements } from './backend.js'
import { reduceWasm } from './wasm/elementwise.js'

const isTrailing = (axes: ReadonlyArray<number>, rank: number): boolean =>
  axes.every((a, i) => a === rank - axes.length + i)
const isLeading = (axes: ReadonlyArray<number>): boolean => axes.every((a, i) => a === i)

/** Map each input flat index to its output flat index (reduced axes collapse). */
const outIndexWalk = (shape: Shape, axes: ReadonlyArray<number>, visit: (i: number, o: number) => void): void => {
  const r = shape.length
  const keptShape = shape.filter((_, ax) => !axes.includes(ax))
  const keptStrides = stridesOf(keptShape)
  const st = new Array<number>(r).fill(0)
  let k = 0
  for (let ax = 0; ax < r; ax++) if (!axes.includes(ax)) st[ax] = keptStrides[k++] as number
  const counter = new Array<number>(r).fill(0)
  const n = sizeOf(shape)
  let o = 0
  for (let i = 0; i < n; i++) {
    visit(i, o)
    for (let ax = r - 1; ax >= 0; ax--) {
      counter[ax]!++
      o += st[ax] as number
      if ((counter[ax] as number) < (shape[ax] as number)) break
      o -= (st[ax] as number) * (counter[ax] as number)
      counter[ax] = 0
    }
  }
}

/** Whether a reduction of `x` goes to the WebAssembly kernel (which may still decline). */
const wasmReduction = (x: Data, dtype: DType, n: number, axes: ReadonlyArray<number>, rank: number): boolean =>
  n >= wasmMinElements() &&
  (dtype === 'float64' ? x instanceof Float64Array : x instanceof Float32Array) &&
  (isTrailing(axes, rank) || isLeading(axes))

/** Sum over `axes` (sorted, unique). */
export const sumKernel = (x: Data, shape: Shape, axes: ReadonlyArray<number>, dtype: DType): Data => {
  const n = x.length
  if (n > 0 && axes.length > 0 && wasmReduction(x, dtype, n, axes, shape.length)) {
    const outSize = sizeOf(shape.filter((_, ax) => !axes.includes(ax)))
    if (outSize > 0) {
      const out = alloc(dtype, outSize)
      const along = isTrailing(axes, shape.length) ? 'rows' : 'cols'
      const [outer, inner] = along === 'rows' ? [outSize, n / outSize] : [n / outSize, outSize]
      if (reduceWasm('sum', along, dtype, x, outer, inner, out)) return out
    }
  }
  return sumJsKernel(x, shape, axes, dtype)
}

/** The JS reference of `sumKernel`. */
export const sumJsKernel = (x: Data, shape: Shape, axes: ReadonlyArray<number>, dtype: DType): Data => {
  const n = x.length
  const outSize = sizeOf(shape.filter((_, ax) => !axes.includes(ax)))
  const out = alloc(dtype, outSize)
  if (axes.length === 0) {
    out.set(x)
    return out
  }
  if (outSize === 0 || n === 0) return out
  const inner = n / outSize
  if (isTrailing(axes, shape.length)) {
    for (let o = 0; o < outSize; o++) {
      let s = 0
      const base = o * inner
      for (let j = 0; j < inner; j++) s += x[base + j] as number
      out[o] = s
    }
    return out
  }
  if (isLeading(axes)) {
    // accumulate in float64 even for float32 outputs (a float64 output is its own accumulator)
    const acc = out instanceof Float64Array ? out : new Float64Array(outSize)
    for (let b = 0; b < inner; b++) {
      const base = b * outSize
      for (let j = 0; j < outSize; j++) acc[j] = (acc[j] as number) + (x[base + j] as number)
    }
    if (acc !== out) out.set(acc)
    return out
  }
  const acc = out instanceof Float64Array ? out : new Float64Array(outSize)
  outIndexWalk(shape, axes, (i, o) => {
    acc[o] = (acc[o] as number) + (x[i] as number)
  })
  if (acc !== out) out.set(acc)
  return out
}

/** Max over `axes` (sorted, unique); NaN propagates; an empty reduction gives -Infinity. */
export const maxKernel = (x: Data, shape: Shape, axes: ReadonlyArray<number>, dtype: DType): Data => {
  const n = x.length
  if (n > 0 && axes.length > 0 && wasmReduction(x, dtype, n, axes, shape.length)) {
    const outSize = sizeOf(shape.filter((_, ax) => !axes.includes(ax)))
    if (outSize > 0) {
      const out = alloc(dtype, outSize)
      const along = isTrailing(axes, shape.length) ? 'rows' : 'cols'
      const [outer, inner] = along === 'rows' ? [outSize, n / outSize] : [n / outSize, outSize]
      if (reduceWasm('max', along, dtype, x, outer, inner, out)) {
        // lanes see a row out of order, which can pick −0 where the JS loop picks +0 or the
        // reverse: redo the rows whose maximum is zero in order
        if (along === 'rows') for (let o = 0; o < outSize; o++) if (out[o] === 0) out[o] = maxOfRow(x, o * inner, inner)
        return out
      }
    }
  }
  return maxJsKernel(x, shape, axes, dtype)
}

/** The maximum of x[base .. base + len) in order, as the JS kernel takes it. */
const maxOfRow = (x: Data, base: number, len: number): number => {
  let m = -Infinity
  for (let j = 0; j < len; j++) {
    const v = x[base + j] as number
    if (v > m || v !== v) m = v
    if (m !== m) break
  }
  return m
}

/** The JS reference of `maxKernel`. */
export const maxJsKernel = (x: Data, shape: Shape, axes: ReadonlyArray<number>, dtype: DType): Data => {
  const n = x.length
  const outSize = sizeOf(shape.filter((_, ax) => !axes.includes(ax)))
  const out = alloc(dtype, outSize)
  if (axes.length === 0) {
    out.set(x)
    return out
  }
  if (outSize === 0 || n === 0) return out.fill(-Infinity)
  const inner = n / outSize
  if (isTrailing(axes, shape.length)) {
    for (let o = 0; o < outSize; o++) {
      let m = -Infinity
      const base = o * inner
      for (let j = 0; j < inner; j++) {
        const v = x[base + j] as number
        if (v > m || v !== v) m = v
        if (m !== m) break
      }
      out[o] = m
    }
    return out
  }
  out.fill(-Infinity) // the odometer path starts every maximum at -Infinity
  outIndexWalk(shape, axes, (i, o) => {
    const v = x[i] as number
    const m = out[o] as number
    if (v > m || (v !== v && m === m)) out[o] = v
  })
  return out
}
