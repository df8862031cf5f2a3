/**
 * Array primitives: `sortPerm`, the stable sorting permutation along the last axis (as a
 * float tensor of indices). It is integer-valued, so it has no derivative; `sort` and `topK`
 * (src/ops/array.ts) apply it through a one-hot matrix, which keeps them differentiable and
 * batchable (no data-dependent static indices).
 *
 * `argmax` / `argmin`, the index of the extreme entry along an axis (integer-valued, no
 * derivative), and `gatherDynamic` / `scatterAddDynamic`, the gather and its transpose with
 * the indices as a tensor operand instead of a static param: y[pre, i…, post] =
 * x[pre, idx[i…], post]. Indices that are traced (batched by `vmap`, staged by `trace`) take
 * this form, so each example of a batch reads its own indices; the indices operand has no
 * derivative (it is integer-valued), the gathered operand has the usual linear rules
 * (d take(x, i) = take(dx, i), transpose: scatter-add).
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import { PurediffError } from '../errors.js'
import { gatherKernel, scatterAddKernel } from '../kernels/layout.js'
import type { ConcreteTensor, Shape, Tensor } from '../tensor/Tensor.js'
import { alloc, dataOf, sizeOf, wrap } from '../tensor/Tensor.js'
import type { BatchRule, Primitive, RuleOps } from './types.js'

export interface SortPermParams {
  readonly descending: boolean
}

/** The stable permutation sorting each row of the last axis (NaN last). */
const sortPermImpl = ([x]: ReadonlyArray<ConcreteTensor>, { descending }: SortPermParams): ConcreteTensor => {
  const xc = x!
  const out = alloc(xc.dtype, xc.size)
  if (xc.shape.length === 0) return wrap(out, xc.shape)
  const n = xc.shape[xc.shape.length - 1] as number
  const data = dataOf(xc)
  const idx = Array.from({ length: n }, (_, i) => i)
  for (let o = 0; o < data.length; o += n) {
    const sorted = idx.slice().sort((a, b) => {
      const va = data[o + a] as number
      const vb = data[o + b] as number
      if (Number.isNaN(va) || Number.isNaN(vb)) return Number.isNaN(va) ? (Number.isNaN(vb) ? 0 : 1) : -1
      return descending ? vb - va : va - vb
    })
    for (let k = 0; k < n; k++) out[o + k] = sorted[k] as number
  }
  return wrap(out, xc.shape)
}

// vmap: the batch axis moves to the front (the permutation is along the last logical axis).
const batchFirst: BatchRule<SortPermParams> = ([x], [d], p, R, self) => {
  const dd = d as number
  const xf =
    dd === 0 ? x! : R.transpose(x!, [dd, ...Array.from({ length: x!.rank }, (_, i) => i).filter((i) => i !== dd)])
  // a batch of scalars: each is a one-element row (permutation 0)
  if (xf.rank === 1) return [R.reshape(self([R.reshape(xf, [...xf.shape, 1])], p), xf.shape), 0]
  return [self([xf], p), 0]
}

// sortPerm is piecewise constant: its derivative is zero.
// NOTE ties keep their order (a stable sort); NaN sorts last.
export const sortPerm: Primitive<SortPermParams> = {
  name: 'sortPerm',
  arity: 1,
  abstract: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  impl: sortPermImpl,
  jvp: [null],
  vjp: [null],
  batch: batchFirst,
  domain: null,
  kinks: 'a permutation is piecewise constant: its derivative is zero; ties keep their order',
  broadcasts: false,
}

// -------------------------------------------------------------------------------------
// argmax / argmin
// -------------------------------------------------------------------------------------

export interface ArgParams {
  readonly axis: number
}

/** The index of the first extreme entry along `axis` (a NaN counts as the extreme: the first NaN wins). */
const argImpl =
  (better: (v: number, best: number) => boolean) =>
  ([x]: ReadonlyArray<ConcreteTensor>, { axis }: ArgParams): ConcreteTensor => {
    const xc = x!
    const data = dataOf(xc)
    const outer = sizeOf(xc.shape.slice(0, axis))
    const d = xc.shape[axis] as number
    const inner = sizeOf(xc.shape.slice(axis + 1))
    const out = new Float64Array(outer * inner)
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let best = data[o * d * inner + j] as number
        let bi = 0
        for (let i = 1; i < d && best === best; i++) {
          const v = data[(o * d + i) * inner + j] as number
          if (v !== v || better(v, best)) {
            best = v
            bi = i
          }
        }
        out[o * inner + j] = bi
      }
    }
    return wrap(
      out,
      xc.shape.filter((_, i) => i !== axis),
    )
  }

// vmap: the reduced axis shifts past the batch axis; the batch axis stays put, one to the
// left if it was after the reduced axis.
const argBatch: BatchRule<ArgParams> = ([x], [d0], { axis }, _R, self) => {
  const d = d0 as number
  const ax = axis >= d ? axis + 1 : axis
  return [self([x!], { axis: ax }), d > ax ? d - 1 : d]
}

const argPrimitive = (name: string, better: (v: number, best: number) => boolean): Primitive<ArgParams> => ({
  name,
  arity: 1,
  abstract: ([x], { axis }) => ({ shape: x!.shape.filter((_, i) => i !== axis), dtype: 'float64' }),
  impl: argImpl(better),
  jvp: [null],
  vjp: [null],
  batch: argBatch,
  domain: null,
  kinks: 'an index is piecewise constant: its derivative is zero; ties take the first index, a NaN wins',
  broadcasts: false,
})

// NOTE ties take the first index (NumPy); a NaN is the extreme (the first NaN wins), as NumPy.
export const argmax: Primitive<ArgParams> = argPrimitive('argmax', (v, best) => v > best)
export const argmin: Primitive<ArgParams> = argPrimitive('argmin', (v, best) => v < best)

// -------------------------------------------------------------------------------------
// gather / scatter-add with tensor indices
// -------------------------------------------------------------------------------------

export interface GatherDynamicParams {
  readonly axis: number
}
export interface ScatterAddDynamicParams {
  readonly axis: number
  /** the output's shape (the gathered operand's) */
  readonly shape: Shape
}

/** The integer indices of a float tensor, negative ones counted from the end; others are an error naming `op`. */
const readIndices = (idx: ConcreteTensor, extent: number, op: string): Int32Array => {
  const data = dataOf(idx)
  const out = new Int32Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number
    const w = v < 0 ? v + extent : v
    if (!Number.isInteger(v) || w < 0 || w >= extent) {
      throw new PurediffError(
        'ValueError',
        `index ${v} (entry ${i} of the indices) is not an integer in [-${extent}, ${extent})`,
        { op, shapes: [idx.shape] },
      )
    }
    out[i] = w
  }
  return out
}

const gatherShape = (x: Shape, idx: Shape, axis: number): Shape => [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]

/** x with its axis `from` moved to position `to`. */
const moveAxisR = (x: Tensor, from: number, to: number, R: RuleOps): Tensor => {
  if (from === to) return x
  const rest = Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== from)
  rest.splice(to, 0, from)
  return R.transpose(x, rest)
}

/**
 * Batched indices made flat over (batch, axis): with the batch axis of the indices first,
 * example b's index k becomes b·n + k (negative k first counted from the end), so a gather
 * from [..., B·n, ...] reads each example's own slice.
 */
const flatIndices = (idx: Tensor, di: number, n: number, R: RuleOps): Tensor => {
  const i0 = moveAxisR(idx, di, 0, R)
  const b = i0.shape[0] as number
  const off = alloc(i0.dtype, b)
  for (let k = 0; k < b; k++) off[k] = k * n
  const offsets = wrap(off, [b, ...Array<number>(i0.rank - 1).fill(1)])
  const nonNeg = R.where(R.less(i0, 0), R.add(i0, n), i0)
  return R.add(nonNeg, offsets)
}

// y = x[pre, idx[i…], post]: the indices' axes replace `axis`.
export const gatherDynamic: Primitive<GatherDynamicParams> = {
  name: 'gatherDynamic',
  arity: 2,
  abstract: ([x, idx], { axis }) => ({ shape: gatherShape(x!.shape, idx!.shape, axis), dtype: x!.dtype }),
  impl: ([x, idx], { axis }) => {
    const ix = readIndices(idx!, x!.shape[axis] as number, 'gather')
    return wrap(gatherKernel(dataOf(x!), x!.shape, ix, axis, x!.dtype), gatherShape(x!.shape, idx!.shape, axis))
  },
  // d take(x, i) = take(dx, i) ; the indices are integer-valued (no derivative)
  jvp: [(xDot, [, idx], _y, { axis }, R) => R.gatherDynamic(xDot, idx!, axis), null],
  vjp: [(yBar, [x, idx], _y, { axis }, R) => R.scatterAddDynamic(yBar, idx!, axis, x!.shape), null],
  batch: ([x, idx], [dx, di], { axis }, R, self) => {
    if (di === null || di === undefined) {
      // only x is batched: gather along the shifted axis from batch-first x
      const x0 = moveAxisR(x!, dx as number, 0, R)
      return [self([x0, idx!], { axis: axis + 1 }), 0]
    }
    if (dx === null || dx === undefined) {
      // only the indices are batched: their batch axis lands among the indices' axes
      return [self([x!, idx!], { axis }), axis + di]
    }
    // both: put x's batch axis just before `axis`, merge the two, and offset each example's indices
    const xb = moveAxisR(x!, dx, axis, R)
    const n = xb.shape[axis + 1] as number
    const b = xb.shape[axis] as number
    const merged = R.reshape(xb, [...xb.shape.slice(0, axis), b * n, ...xb.shape.slice(axis + 2)])
    return [self([merged, flatIndices(idx!, di, n, R)], { axis }), axis]
  },
  // the laws round the indices (no rule: integer-valued) to -1, 0 or 1, valid for every case
  // (negative ones count from the end); the range's middle, 0, is where shapes are probed
  domain: {
    ranges: [
      [-3, 3],
      [-1.4, 1.4],
    ],
    cases: [
      { shapes: [[4], [3]], params: { axis: 0 } },
      {
        shapes: [
          [3, 2],
          [2, 2],
        ],
        params: { axis: 1 },
      },
      { shapes: [[2, 3], []], params: { axis: 0 } },
    ],
  },
  broadcasts: false,
}

// the transpose of gatherDynamic: x[pre, idx[i…], post] += y[pre, i…, post]
export const scatterAddDynamic: Primitive<ScatterAddDynamicParams> = {
  name: 'scatterAddDynamic',
  arity: 2,
  abstract: ([y], { shape }) => ({ shape, dtype: y!.dtype }),
  impl: ([y, idx], { axis, shape }) => {
    const ix = readIndices(idx!, shape[axis] as number, 'scatterAdd')
    return wrap(scatterAddKernel(dataOf(y!), shape, ix, axis, y!.dtype), shape)
  },
  jvp: [(yDot, [, idx], _y, { axis, shape }, R) => R.scatterAddDynamic(yDot, idx!, axis, shape), null],
  vjp: [(xBar, [, idx], _y, { axis }, R) => R.gatherDynamic(xBar, idx!, axis), null],
  batch: ([y, idx], [dy, di], { axis, shape }, R, self) => {
    if (di === null || di === undefined) {
      const y0 = moveAxisR(y!, dy as number, 0, R)
      return [self([y0, idx!], { axis: axis + 1, shape: [y0.shape[0] as number, ...shape] }), 0]
    }
    const b = idx!.shape[di] as number
    const n = shape[axis] as number
    // y with its batch axis just before the indices' axes (broadcast along it when y is unbatched)
    const yb =
      dy === null || dy === undefined
        ? R.broadcastTo(R.reshape(y!, [...y!.shape.slice(0, axis), 1, ...y!.shape.slice(axis)]), [
            ...y!.shape.slice(0, axis),
            b,
            ...y!.shape.slice(axis),
          ])
        : moveAxisR(y!, dy, axis, R)
    const flat = self([yb, flatIndices(idx!, di, n, R)], {
      axis,
      shape: [...shape.slice(0, axis), b * n, ...shape.slice(axis + 1)],
    })
    return [R.reshape(flat, [...shape.slice(0, axis), b, n, ...shape.slice(axis + 1)]), axis]
  },
  domain: {
    ranges: [
      [-3, 3],
      [-1.4, 1.4],
    ],
    cases: [
      { shapes: [[3], [3]], params: { axis: 0, shape: [4] } },
      {
        shapes: [
          [3, 2, 2],
          [2, 2],
        ],
        params: { axis: 1, shape: [3, 2] },
      },
    ],
  },
  broadcasts: false,
}

/** The array primitives, appended to the primitive table. */
export const arrayPrimitives = { sortPerm, argmax, argmin, gatherDynamic, scatterAddDynamic } as const
