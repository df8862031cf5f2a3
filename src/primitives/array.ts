/**
 * Array primitives: `sortPerm`, the stable sorting permutation along the last axis (as a
 * float tensor of indices). It is integer-valued, so it has no derivative; `sort` and `topK`
 * (src/ops/array.ts) apply it through a one-hot matrix, which keeps them differentiable and
 * batchable (no data-dependent static indices).
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import type { ConcreteTensor } from '../tensor/Tensor.js'
import { alloc, dataOf, wrap } from '../tensor/Tensor.js'
import type { BatchRule, Primitive } from './types.js'

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

/** The array primitives, appended to the primitive table. */
export const arrayPrimitives = { sortPerm } as const
