/**
 * Data-movement kernels: transpose, broadcast, slice, pad, concatenate, gather and its
 * transpose scatter-add. Each is a strided copy over row-major arrays; none does
 * arithmetic on values except scatter-add's accumulation.
 *
 * Purity contract: every kernel allocates and fills its own output; inputs are read only.
 */
import type { Data, DType, Shape } from '../tensor/Tensor.js'
import { alloc, sizeOf, stridesOf } from '../tensor/Tensor.js'
import { broadcastIndex } from './elementwise.js'

/** out[..., i_perm] = x[...]: axes permuted by `perm` (output axis j is input axis perm[j]). */
export const transposeKernel = (x: Data, shape: Shape, perm: ReadonlyArray<number>, dtype: DType): Data => {
  const n = x.length
  const out = alloc(dtype, n)
  const r = shape.length
  if (r === 2 && perm[0] === 1) {
    const rows = shape[0] as number
    const cols = shape[1] as number
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j] as number
    return out
  }
  const inStrides = stridesOf(shape)
  const outShape = perm.map((p) => shape[p] as number)
  const st = perm.map((p) => inStrides[p] as number)
  const counter = new Array<number>(r).fill(0)
  let pos = 0
  for (let i = 0; i < n; i++) {
    out[i] = x[pos] as number
    for (let ax = r - 1; ax >= 0; ax--) {
      counter[ax]!++
      pos += st[ax] as number
      if ((counter[ax] as number) < (outShape[ax] as number)) break
      pos -= (st[ax] as number) * (counter[ax] as number)
      counter[ax] = 0
    }
  }
  return out
}

/** Materialise a NumPy broadcast of x onto `outShape`. */
export const broadcastToKernel = (x: Data, shape: Shape, outShape: Shape, dtype: DType): Data => {
  const n = sizeOf(outShape)
  const out = alloc(dtype, n)
  const idx = broadcastIndex(shape, outShape)
  if (idx === null) out.set(x)
  else for (let i = 0; i < n; i++) out[i] = x[idx[i] as number] as number
  return out
}

/** The block of x starting at `begin` with extents `size`. */
export const sliceKernel = (
  x: Data,
  shape: Shape,
  begin: ReadonlyArray<number>,
  size: ReadonlyArray<number>,
  dtype: DType,
): Data => {
  const n = sizeOf(size)
  const out = alloc(dtype, n)
  if (n === 0) return out
  const r = shape.length
  const st = stridesOf(shape)
  let base = 0
  for (let ax = 0; ax < r; ax++) base += (begin[ax] as number) * (st[ax] as number)
  const inner = r === 0 ? 1 : (size[r - 1] as number)
  const outer = n / inner
  const counter = new Array<number>(Math.max(r - 1, 0)).fill(0)
  let pos = base
  let o = 0
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) out[o++] = x[pos + j] as number
    for (let ax = r - 2; ax >= 0; ax--) {
      counter[ax]!++
      pos += st[ax] as number
      if ((counter[ax] as number) < (size[ax] as number)) break
      pos -= (st[ax] as number) * (counter[ax] as number)
      counter[ax] = 0
    }
  }
  return out
}

/** Zeros of `outShape` with x written at offset `before` (the transpose of slice). */
export const padKernel = (
  x: Data,
  shape: Shape,
  before: ReadonlyArray<number>,
  outShape: Shape,
  dtype: DType,
): Data => {
  const out = alloc(dtype, sizeOf(outShape))
  const n = x.length
  if (n === 0) return out
  const r = shape.length
  const st = stridesOf(outShape)
  let base = 0
  for (let ax = 0; ax < r; ax++) base += (before[ax] as number) * (st[ax] as number)
  const inner = r === 0 ? 1 : (shape[r - 1] as number)
  const outer = n / inner
  const counter = new Array<number>(Math.max(r - 1, 0)).fill(0)
  let pos = base
  let i = 0
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) out[pos + j] = x[i++] as number
    for (let ax = r - 2; ax >= 0; ax--) {
      counter[ax]!++
      pos += st[ax] as number
      if ((counter[ax] as number) < (shape[ax] as number)) break
      pos -= (st[ax] as number) * (counter[ax] as number)
      counter[ax] = 0
    }
  }
  return out
}

/** Join arrays along `axis` (all other extents equal). */
export const concatKernel = (
  xs: ReadonlyArray<Data>,
  shapes: ReadonlyArray<Shape>,
  axis: number,
  dtype: DType,
): Data => {
  const first = shapes[0] as Shape
  const outer = sizeOf(first.slice(0, axis))
  const inner = sizeOf(first.slice(axis + 1))
  const total = shapes.reduce((s, sh) => s + (sh[axis] as number), 0)
  const out = alloc(dtype, outer * total * inner)
  let offset = 0
  xs.forEach((x, t) => {
    const len = ((shapes[t] as Shape)[axis] as number) * inner
    for (let o = 0; o < outer; o++) {
      const dst = o * total * inner + offset
      const src = o * len
      for (let j = 0; j < len; j++) out[dst + j] = x[src + j] as number
    }
    offset += len
  })
  return out
}

/** out = take(x, indices, axis): output shape is shape[:axis] + [nIdx] + shape[axis+1:]. */
export const gatherKernel = (x: Data, shape: Shape, indices: Int32Array, axis: number, dtype: DType): Data => {
  const outer = sizeOf(shape.slice(0, axis))
  const inner = sizeOf(shape.slice(axis + 1))
  const d = shape[axis] as number
  const m = indices.length
  const out = alloc(dtype, outer * m * inner)
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < m; t++) {
      const src = (o * d + (indices[t] as number)) * inner
      const dst = (o * m + t) * inner
      for (let j = 0; j < inner; j++) out[dst + j] = x[src + j] as number
    }
  }
  return out
}

/** The transpose of gather: zeros of `shape` with y's slices added at `indices` along `axis`. */
export const scatterAddKernel = (y: Data, shape: Shape, indices: Int32Array, axis: number, dtype: DType): Data => {
  const outer = sizeOf(shape.slice(0, axis))
  const inner = sizeOf(shape.slice(axis + 1))
  const d = shape[axis] as number
  const m = indices.length
  const out = alloc(dtype, sizeOf(shape))
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < m; t++) {
      const dst = (o * d + (indices[t] as number)) * inner
      const src = (o * m + t) * inner
      for (let j = 0; j < inner; j++) out[dst + j] = (out[dst + j] as number) + (y[src + j] as number)
    }
  }
  return out
}
