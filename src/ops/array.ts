/**
 * Array ops: scans (`cumsum`, `cumprod`, `cummax`), sorting (`sort`, `argsort`, `topK`),
 * rearrangements (`flip`, `roll`, `tile`, `repeat`, `split`), a functional index update
 * (`at(x, idx).set(v)` / `.add(v)`) and `index(x, ...idx)`. Every differentiable op here is a
 * composition of primitives (gather, slice, pad, matmul, maximum), so it is differentiable to
 * any order and batches under `vmap`.
 *
 * The math, one line per op (along one axis, index k):
 * - cumsum(x)ₖ = Σ_{j≤k} xⱼ (a product with the upper-triangular ones matrix: O(n²) work,
 *   exact and one matmul);
 * - cumprod(x)ₖ = Π_{j≤k} xⱼ (a chain of products: exact, and differentiable at zeros);
 * - cummax(x)ₖ = max_{j≤k} xⱼ (a chain of `maximum`s);
 * - sort(x) = x ∘ π with π the stable ascending permutation (the primitive `sortPerm`), applied
 *   as a one-hot product Σᵢ [πₖ = i]·xᵢ (O(n²) per row; differentiable and batchable); argsort(x) = π;
 * - flip(x)ₖ = x_{n−1−k}; roll(x, s)ₖ = x_{(k−s) mod n}; tile / repeat copy by index maps.
 * NOTE ties: `sort` is stable (equal values keep their order), so each output receives the
 * gradient of the one input it was taken from; `cummax` follows `maximum`, which splits the
 * derivative half and half at a tie; `argsort` and `topK`'s indices are integer-valued
 * (float tensors, derivative zero), as `argmax`.
 *
 * Purity: ops return new tensors and never modify their arguments; `at` returns a new tensor.
 */
import { PurediffError } from '../errors.js'
import type { Shape } from '../tensor/Tensor.js'
import { Tensor, fromData, sizeOf } from '../tensor/Tensor.js'
import type { TensorLike } from './ops.js'
import { bind } from '../ad/trace.js'
import * as AP from '../primitives/array.js'
import { arange } from '../tensor/Tensor.js'
import {
  add,
  asTensor,
  broadcastTo,
  cast,
  concat,
  equal,
  expandDims,
  gather,
  matmul,
  maximum,
  mul,
  mulNoNan,
  normalizeAxes,
  pad,
  reshape,
  slice,
  sum,
  transpose,
} from './ops.js'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const axisOf = (t: Tensor, axis: number, op: string): number => {
  if (t.rank === 0)
    throw new PurediffError('ShapeError', 'needs a tensor of rank ≥ 1', { op, shapes: [t.shape], operands: [t] })
  return normalizeAxes(axis, t.rank, op)[0] as number
}

/** x with `axis` moved last, and the permutation that moves it back. */
const toLast = (x: Tensor, axis: number): [Tensor, number[]] => {
  const r = x.rank
  if (axis === r - 1) return [x, Array.from({ length: r }, (_, i) => i)]
  const perm = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis), axis]
  const back = new Array<number>(r)
  perm.forEach((p, i) => (back[p] = i))
  return [transpose(x, perm), back]
}

const checkInt = (v: unknown, what: string, op: string, min = -Infinity): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new PurediffError(
      'ValueError',
      `${what} must be an integer${min > -Infinity ? ` ≥ ${min}` : ''}, got ${String(v)}`,
      { op },
    )
  }
  return v
}

// -------------------------------------------------------------------------------------
// scans
// -------------------------------------------------------------------------------------

/**
 * Running sum along `axis` (default −1).
 * @example
 * cumsum(tensor([1, 2, 3])) // ≈ [1, 3, 6]
 * @category array
 * @since 0.2.0
 */
export const cumsum = (x: TensorLike, axis = -1): Tensor => {
  const t = asTensor(x, 'cumsum')
  const ax = axisOf(t, axis, 'cumsum')
  const n = t.shape[ax] as number
  const u = new Float64Array(n * n)
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = 1
  const [last, back] = toLast(t, ax)
  return transpose(matmul(last, fromData(u, [n, n], t.dtype)), back)
}

/** Apply `step(acc, xₖ)` along the last axis and stack the running values. */
const scan = (x: Tensor, axis: number, step: (acc: Tensor, xk: Tensor) => Tensor): Tensor => {
  const [last, back] = toLast(x, axis)
  const n = last.shape[last.rank - 1] as number
  const rest = last.shape.slice(0, -1)
  const col = (k: number): Tensor => slice(last, [...rest.map(() => 0), k], [...rest, 1])
  const out: Tensor[] = [col(0)]
  for (let k = 1; k < n; k++) out.push(step(out[k - 1] as Tensor, col(k)))
  return transpose(n === 1 ? (out[0] as Tensor) : concat(out, last.rank - 1), back)
}

/**
 * Running product along `axis` (default −1); exact, and differentiable at zeros.
 * @example
 * cumprod(tensor([1, 2, 3])) // ≈ [1, 2, 6]
 * @category array
 * @since 0.2.0
 */
export const cumprod = (x: TensorLike, axis = -1): Tensor => {
  const t = asTensor(x, 'cumprod')
  return t.shape[axisOf(t, axis, 'cumprod')] === 0 ? t : scan(t, axisOf(t, axis, 'cumprod'), mul)
}

/**
 * Running maximum along `axis` (default −1). NOTE at a tie the derivative is split half and half (as `maximum`).
 * @example
 * cummax(tensor([1, 3, 2])) // ≈ [1, 3, 3]
 * @category array
 * @since 0.2.0
 */
export const cummax = (x: TensorLike, axis = -1): Tensor => {
  const t = asTensor(x, 'cummax')
  return t.shape[axisOf(t, axis, 'cummax')] === 0 ? t : scan(t, axisOf(t, axis, 'cummax'), maximum)
}

// -------------------------------------------------------------------------------------
// sorting
// -------------------------------------------------------------------------------------

/** The stable sorting permutation of each row along the last axis (a float tensor; derivative zero). */
const permutationOf = (x: Tensor, descending: boolean): Tensor => bind(AP.sortPerm, [x], { descending })

/** Rows of `last` permuted by `perm` (along the last axis): Σᵢ [perm_k = i]·xᵢ, a one-hot product. */
const permuteRows = (last: Tensor, perm: Tensor): Tensor => {
  const n = last.shape[last.rank - 1] as number
  const onehot = equal(expandDims(perm, -1), arange(n, undefined, 1, last.dtype)) // [..., k, i]
  // mulNoNan: a NaN or ±∞ entry reaches only its own output position (0·∞ would spread NaN)
  return sum(mulNoNan(onehot, expandDims(last, -2)), -1)
}

/** Options of `sort`, `argsort`. @category array @since 0.2.0 */
export interface SortOptions {
  readonly axis?: number
  readonly descending?: boolean
}

const sortArgs = (x: TensorLike, options: SortOptions, op: string): [Tensor, number, boolean] => {
  for (const k of Object.keys(options)) {
    if (k !== 'axis' && k !== 'descending')
      throw new PurediffError('ValueError', `unknown option '${k}'; valid options: axis, descending`, { op })
  }
  const t = asTensor(x, op)
  return [t, axisOf(t, options.axis ?? -1, op), options.descending ?? false]
}

/**
 * Sorted values along `axis` (default −1, ascending; stable; NaN last). Differentiable: each
 * output's gradient goes to the input it came from.
 * @example
 * sort(tensor([3, 1, 2])) // ≈ [1, 2, 3]
 * @category array
 * @since 0.2.0
 */
export const sort = (x: TensorLike, options: SortOptions = {}): Tensor => {
  const [t, ax, desc] = sortArgs(x, options, 'sort')
  const [last, back] = toLast(t, ax)
  return transpose(permuteRows(last, permutationOf(last, desc)), back)
}

/**
 * The indices that sort `x` along `axis` (a float tensor of integers; derivative zero).
 * @example
 * argsort(tensor([3, 1, 2])) // ≈ [1, 2, 0]
 * @category array
 * @since 0.2.0
 */
export const argsort = (x: TensorLike, options: SortOptions = {}): Tensor => {
  const [t, ax, desc] = sortArgs(x, options, 'argsort')
  const [last, back] = toLast(t, ax)
  return transpose(permutationOf(last, desc), back)
}

/**
 * The k largest values along the last axis, in descending order, and their indices.
 * @example
 * topK(tensor([1, 5, 3]), 2)[0] // ≈ [5, 3]
 * @category array
 * @since 0.2.0
 */
export const topK = (x: TensorLike, k: number): [Tensor, Tensor] => {
  const t = asTensor(x, 'topK')
  const n = t.shape[axisOf(t, -1, 'topK')] as number
  checkInt(k, 'k', 'topK', 0)
  if (k > n)
    throw new PurediffError('ValueError', `k = ${k} exceeds the last axis' extent ${n}`, {
      op: 'topK',
      shapes: [t.shape],
    })
  const perm = permutationOf(t, true)
  const vals = permuteRows(t, perm)
  const begin = t.shape.map(() => 0)
  const size = [...t.shape.slice(0, -1), k]
  return [slice(vals, begin, size), slice(perm, begin, size)]
}

// -------------------------------------------------------------------------------------
// rearrangements
// -------------------------------------------------------------------------------------

/**
 * Reverse the order along `axis` (default: every axis).
 * @example
 * flip(tensor([1, 2, 3])) // ≈ [3, 2, 1]
 * @category array
 * @since 0.2.0
 */
export const flip = (x: TensorLike, axis?: number | ReadonlyArray<number>): Tensor => {
  const t = asTensor(x, 'flip')
  return normalizeAxes(axis, t.rank, 'flip').reduce((acc, ax) => {
    const n = acc.shape[ax] as number
    return n <= 1
      ? acc
      : gather(
          acc,
          Array.from({ length: n }, (_, i) => n - 1 - i),
          ax,
        )
  }, t)
}

/**
 * Shift entries along `axis` by `shift` places, wrapping around (NumPy `roll`; default: the flattened tensor).
 * @example
 * roll(tensor([1, 2, 3, 4]), 1) // ≈ [4, 1, 2, 3]
 * @category array
 * @since 0.2.0
 */
export const roll = (x: TensorLike, shift: number, axis?: number): Tensor => {
  const t = asTensor(x, 'roll')
  checkInt(shift, 'shift', 'roll')
  if (axis === undefined) return reshape(roll(reshape(t, [t.size]), shift, 0), t.shape)
  const ax = axisOf(t, axis, 'roll')
  const n = t.shape[ax] as number
  if (n === 0) return t
  return gather(
    t,
    Array.from({ length: n }, (_, i) => (((i - shift) % n) + n) % n),
    ax,
  )
}

/**
 * Repeat the whole tensor `reps` times along each axis (NumPy `tile`).
 * @example
 * tile(tensor([1, 2]), 2) // ≈ [1, 2, 1, 2]
 * @category array
 * @since 0.2.0
 */
export const tile = (x: TensorLike, reps: number | ReadonlyArray<number>): Tensor => {
  let t = asTensor(x, 'tile')
  const rs = (typeof reps === 'number' ? [reps] : [...reps]).map((r) => checkInt(r, 'a repetition count', 'tile', 0))
  // align: prepend 1s to whichever is shorter (NumPy)
  if (rs.length > t.rank) t = reshape(t, [...Array<number>(rs.length - t.rank).fill(1), ...t.shape])
  const full = [...Array<number>(t.rank - rs.length).fill(1), ...rs]
  return full.reduce((acc, r, ax) => {
    if (r === 1) return acc
    const n = acc.shape[ax] as number
    return gather(
      acc,
      Array.from({ length: n * r }, (_, i) => i % n),
      ax,
    )
  }, t)
}

/**
 * Repeat each entry `repeats` times along `axis` (NumPy `repeat`; default: the flattened tensor).
 * @example
 * repeat(tensor([1, 2]), 2) // ≈ [1, 1, 2, 2]
 * @category array
 * @since 0.2.0
 */
export const repeat = (x: TensorLike, repeats: number, axis?: number): Tensor => {
  const t = asTensor(x, 'repeat')
  checkInt(repeats, 'repeats', 'repeat', 0)
  if (axis === undefined) return repeat(reshape(t, [t.size]), repeats, 0)
  const ax = axisOf(t, axis, 'repeat')
  const n = t.shape[ax] as number
  return gather(
    t,
    Array.from({ length: n * repeats }, (_, i) => Math.floor(i / repeats)),
    ax,
  )
}

/**
 * Split along `axis` into `sections` equal parts, or at the given indices (NumPy `split`).
 * @example
 * split(tensor([1, 2, 3, 4]), 2)[1] // ≈ [3, 4]
 * @category array
 * @since 0.2.0
 */
export const split = (x: TensorLike, sections: number | ReadonlyArray<number>, axis = 0): Tensor[] => {
  const t = asTensor(x, 'split')
  const ax = axisOf(t, axis, 'split')
  const n = t.shape[ax] as number
  let cuts: number[]
  if (typeof sections === 'number') {
    checkInt(sections, 'sections', 'split', 1)
    if (n % sections !== 0) {
      throw new PurediffError('ShapeError', `axis ${ax} of extent ${n} does not split into ${sections} equal parts`, {
        op: 'split',
        shapes: [t.shape],
        operands: [t],
      })
    }
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections)
  } else {
    cuts = sections.map((c) => checkInt(c, 'a split index', 'split', 0))
    if (cuts.some((c, i) => c > n || (i > 0 && c < (cuts[i - 1] as number)))) {
      throw new PurediffError(
        'ValueError',
        `split indices [${cuts.join(', ')}] must be non-decreasing and at most ${n}`,
        { op: 'split', shapes: [t.shape] },
      )
    }
  }
  const bounds = [0, ...cuts, n]
  return bounds.slice(1).map((end, i) => {
    const start = bounds[i] as number
    return slice(
      t,
      t.shape.map((_, k) => (k === ax ? start : 0)),
      t.shape.map((d, k) => (k === ax ? end - start : d)),
    )
  })
}

// -------------------------------------------------------------------------------------
// indexing
// -------------------------------------------------------------------------------------

/** Integer indices for the leading axes, normalised (negative counts from the end). */
const leadingIndex = (t: Tensor, idx: ReadonlyArray<number>, op: string): number[] => {
  if (idx.length > t.rank) {
    throw new PurediffError('ValueError', `${idx.length} indices for a tensor of rank ${t.rank}`, {
      op,
      shapes: [t.shape],
    })
  }
  return idx.map((i, ax) => {
    const n = t.shape[ax] as number
    checkInt(i, `index ${ax}`, op)
    const j = i < 0 ? i + n : i
    if (j < 0 || j >= n)
      throw new PurediffError('ValueError', `index ${i} is out of range for axis ${ax} of extent ${n}`, {
        op,
        shapes: [t.shape],
      })
    return j
  })
}

/**
 * The entry (or sub-tensor) at integer indices of the leading axes: `index(x, 1, 2)` is the
 * scalar x[1, 2], which `grad` accepts as a loss.
 * @example
 * index(tensor([[1, 2], [3, 4]]), 1, 0) // ≈ 3
 * @category array
 * @since 0.2.0
 */
export const index = (x: TensorLike, ...idx: ReadonlyArray<number>): Tensor => {
  const t = asTensor(x, 'index')
  const is = leadingIndex(t, idx, 'index')
  const rest = t.shape.slice(is.length)
  const y = slice(t, [...is, ...rest.map(() => 0)], [...is.map(() => 1), ...rest])
  return reshape(y, rest)
}

/** A functional index update: see `at`. @category array @since 0.2.0 */
export interface IndexUpdate {
  /** A new tensor with the block at the index replaced by `v` (broadcast to the block's shape). */
  readonly set: (v: TensorLike) => Tensor
  /** A new tensor with `v` added to the block at the index. */
  readonly add: (v: TensorLike) => Tensor
}

/**
 * A functional update at integer indices of the leading axes (JAX's `x.at[i].set(v)`):
 * `at(x, [1, 2]).set(0)` is a new tensor equal to x except x[1, 2] = 0. Differentiable in x and v.
 * @example
 * at(tensor([1, 2, 3]), 1).set(9) // ≈ [1, 9, 3]
 * at(tensor([[1, 2], [3, 4]]), 0).add(tensor([10, 20])) // ≈ [[11, 22], [3, 4]]
 * @category array
 * @since 0.2.0
 */
export const at = (x: TensorLike, idx: number | ReadonlyArray<number>): IndexUpdate => {
  const t = asTensor(x, 'at')
  const is = leadingIndex(t, typeof idx === 'number' ? [idx] : idx, 'at')
  const rest = t.shape.slice(is.length)
  const block: Shape = [...is.map(() => 1), ...rest]
  const placed = (v: TensorLike, op: string): Tensor => {
    const vt = cast(asTensor(v, op, t.dtype), t.dtype)
    let b: Tensor
    try {
      b = broadcastTo(vt, rest)
    } catch {
      throw new PurediffError('ShapeError', `the update does not broadcast to the indexed block [${rest.join(', ')}]`, {
        op,
        shapes: [t.shape, vt.shape],
        operands: [t, v],
      })
    }
    return pad(
      reshape(b, block),
      t.shape.map(
        (d, k) =>
          [k < is.length ? (is[k] as number) : 0, k < is.length ? d - 1 - (is[k] as number) : 0] as [number, number],
      ),
    )
  }
  const maskOut = (): Tensor => {
    // 1 outside the block, 0 inside
    const m = new Float64Array(t.size).fill(1)
    const strides = t.shape.map((_, k) => sizeOf(t.shape.slice(k + 1)))
    const base = is.reduce((s, i, k) => s + i * (strides[k] as number), 0)
    for (let q = 0; q < sizeOf(rest); q++) m[base + q] = 0
    return fromData(m, t.shape, t.dtype)
  }
  return Object.freeze({
    set: (v: TensorLike) => add(mul(t, maskOut()), placed(v, 'at.set')),
    add: (v: TensorLike) => add(t, placed(v, 'at.add')),
  })
}
