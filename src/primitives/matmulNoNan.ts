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
import type { ConcreteTensor, Shape } from '../tensor/Tensor.js'
import { dataOf, wrap } from '../tensor/Tensor.js'
import type { Primitive, RuleOps, TensorLike } from './types.js'

type NoParams = Record<string, never>
const none: NoParams = Object.freeze({})

/** swap the last two axes */
export const swapLast = (x: Exclude<TensorLike, number>, R: RuleOps) => {
  const r = x.shape.length
  return R.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2])
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
  // vmap: both operands batch-first (an unbatched one broadcast along the batch), one batched product
  batch: ([a, b], [da, db], _p, R, self) => {
    const size = da !== null && da !== undefined ? (a!.shape[da] as number) : (b!.shape[db as number] as number)
    const front = (x: Exclude<TensorLike, number>, d: number | null | undefined) =>
      d === null || d === undefined
        ? R.broadcastTo(x, [size, ...x.shape])
        : d === 0
          ? x
          : R.transpose(x, [d, ...Array.from({ length: x.shape.length }, (_, i) => i).filter((i) => i !== d)])
    return [self([front(a!, da), front(b!, db)], none), 0]
  },
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
