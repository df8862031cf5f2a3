/**
 * `matmulNoNan`, the matrix product whose terms
 * are 0 wherever either factor is 0 (C_ij = Σ_p mulNoNan(A_ip, B_pj)). It is what `matmul`'s
 * reverse rule multiplies a cotangent into: a zero cotangent (the unselected branch of
 * `where`) meeting an infinite operand gives 0, never 0 · inf = NaN, and the rule makes no
 * choice on data (the kernel does), so a staged program is the same whatever the values.
 * When both operands are finite it equals `matmul` bit for bit.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import { matmulNoNanKernel } from '../kernels/matmulNoNan.js'
import type { ConcreteTensor, Shape, Tensor } from '../tensor/Tensor.js'
import { dataOf, wrap } from '../tensor/Tensor.js'
import type { Primitive, RuleOps, TensorLike } from './types.js'

type NoParams = Record<string, never>
const none: NoParams = Object.freeze({})

/** swap the last two axes */
export const swapLast = (x: Exclude<TensorLike, number>, R: RuleOps) => {
  const r = x.shape.length
  return R.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2])
}

/** x with its axis `d` moved to the front. */
const toFront = (x: Tensor, d: number, R: RuleOps): Tensor =>
  d === 0 ? x : R.transpose(x, [d, ...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== d)])

/**
 * The batching rule of a matrix product `mm` (matmul, matmulNoNan). With B unbatched and a
 * matrix, the batch folds into A's rows (one product [batch·m, k]·[k, n]); with A unbatched
 * and a matrix, into B's columns ([m, k]·[k, batch·n]; for n = 1, [batch, k]·Aᵀ); otherwise one batched product over
 * the batch axis moved to the front (an unbatched operand of rank > 2 broadcast). The folds
 * keep the per-example sums in the same order, so results equal the loop's bit for bit.
 */
export const foldedMatmulBatch = (
  [a, b]: ReadonlyArray<Tensor>,
  [da, db]: ReadonlyArray<number | null>,
  R: RuleOps,
  mm: (a: Tensor, b: Tensor) => Tensor,
): readonly [Tensor, number] => {
  const size = da !== null && da !== undefined ? (a!.shape[da] as number) : (b!.shape[db as number] as number)
  if (db === null || db === undefined) {
    const af = toFront(a!, da as number, R)
    if (b!.rank !== 2) return [mm(af, R.broadcastTo(b!, [size, ...b!.shape])), 0]
    const k = af.shape[af.rank - 1] as number
    const y = mm(R.reshape(af, [af.size / k, k]), b!)
    return [R.reshape(y, [...af.shape.slice(0, -1), b!.shape[1] as number]), 0]
  }
  const bf = toFront(b!, db, R)
  if (da !== null && da !== undefined) return [mm(toFront(a!, da, R), bf), 0]
  if (a!.rank !== 2) return [mm(R.broadcastTo(a!, [size, ...a!.shape]), bf), 0]
  const [, k, n] = bf.shape as [number, number, number]
  // a batch of columns (A·v per example, as in the pullbacks of jacrev): the batch is the rows
  // of one product [batch, k]·Aᵀ, which moves only A (unbatched) and keeps the batch axis first
  if (n === 1)
    return [R.reshape(mm(R.reshape(bf, [size, k]), R.transpose(a!, [1, 0])), [size, a!.shape[0] as number, 1]), 0]
  const y = mm(a!, R.reshape(R.transpose(bf, [1, 0, 2]), [k, size * n]))
  return [R.reshape(y, [a!.shape[0] as number, size, n]), 1]
}

const matmulShape = (a: Shape, b: Shape): number[] => {
  const r = a.length
  return [...a.slice(0, r - 1), b[r - 1] as number]
}

// d(A ⊙· B) = dA ⊙· B + A ⊙· dB ; Ā = Ȳ ⊙· Bᵀ, B̄ = Aᵀ ⊙· Ȳ (⊙·: the masked product).
// NOTE a term with a zero factor is 0 whatever the other factor is (0 · inf = 0), as mulNoNan.
export const matmulNoNan: Primitive<NoParams> = {
  name: 'matmulNoNan',
  arity: 2,
  abstract: ([a, b]) => ({ shape: matmulShape(a!.shape, b!.shape), dtype: a!.dtype }),
  impl: ([a, b]) => {
    const ac = a as ConcreteTensor
    const bc = b as ConcreteTensor
    const r = ac.shape.length
    const m = ac.shape[r - 2] as number
    const k = ac.shape[r - 1] as number
    const n = bc.shape[r - 1] as number
    const batch = ac.shape.slice(0, r - 2).reduce((s, d) => s * d, 1)
    return wrap(matmulNoNanKernel(dataOf(ac), dataOf(bc), batch, m, k, n, ac.dtype), matmulShape(ac.shape, bc.shape))
  },
  jvp: [(aDot, [, b], _y, _p, R) => R.matmulNoNan(aDot, b!), (bDot, [a], _y, _p, R) => R.matmulNoNan(a!, bDot)],
  vjp: [
    (yBar, [, b], _y, _p, R) => R.matmulNoNan(yBar, swapLast(b!, R)),
    (yBar, [a], _y, _p, R) => R.matmulNoNan(swapLast(a!, R), yBar),
  ],
  // vmap: as matmul's rule (no broadcast of an unbatched operand is materialised when it is
  // a matrix: the batch folds into the rows of A or the columns of B)
  batch: (xs, dims, _p, R, self) => foldedMatmulBatch(xs, dims, R, (a, b) => self([a, b], none)),
  domain: {
    ranges: [
      [-2, 2],
      [-2, 2],
    ],
    cases: [
      {
        shapes: [
          [2, 3],
          [3, 4],
        ],
        params: none,
      },
      {
        shapes: [
          [2, 2, 3],
          [2, 3, 1],
        ],
        params: none,
      },
    ],
  },
  kinks: 'a term with a zero factor is 0 even if the other factor is ±inf or NaN',
  broadcasts: false,
}
