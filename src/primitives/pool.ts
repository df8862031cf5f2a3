/**
 * Max pooling over non-overlapping windows as two primitives, each linear in its second
 * input and piecewise constant in its first (src/kernels/pool.ts):
 *
 *   poolSelect(x, z)  = Σ_window wₚ(x) · z_p     [n, h/kh, w/kw, c]
 *   poolScatter(x, u) = wₚ(x) · u[window of p]    [n, h, w, c]
 *
 * with wₚ(x) the tie-shared indicator of each window's maximum. Max pooling is
 * poolSelect(x, x): its tangent is poolSelect(x, ẋ) (the weights are locally constant) and
 * its cotangent poolScatter(x, ȳ). Each is the other's transpose, so the pair is closed
 * under differentiation to any order, and one pass over the input does each.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import type { PoolGeometry } from '../kernels/pool.js'
import { poolScatterKernel, poolSelectKernel } from '../kernels/pool.js'
import type { Shape, Tensor } from '../tensor/Tensor.js'
import { dataOf, wrap } from '../tensor/Tensor.js'
import type { BatchRule, Primitive, RuleOps } from './types.js'

/** The window of a max pooling (its stride too). */
export interface PoolParams {
  readonly window: readonly [number, number]
}

const geometry = (x: Shape, { window }: PoolParams): PoolGeometry => ({
  n: x[0] as number,
  h: x[1] as number,
  w: x[2] as number,
  c: x[3] as number,
  kh: window[0],
  kw: window[1],
})

const pooledShape = (x: Shape, { window }: PoolParams): number[] => [
  x[0] as number,
  (x[1] as number) / window[0],
  (x[2] as number) / window[1],
  x[3] as number,
]

// vmap: both inputs batch-first (an unbatched one broadcast), the batch folded into the images'
const foldBatch: BatchRule<PoolParams> = (xs, dims, p, R, self) => {
  const i = dims.findIndex((d) => d !== null && d !== undefined)
  const size = xs[i]!.shape[dims[i] as number] as number
  const fronted = xs.map((x, k) => {
    const d = dims[k] ?? null
    if (d === null) return R.broadcastTo(x, [size, ...x.shape])
    return d === 0 ? x : R.transpose(x, [d, ...Array.from({ length: x.rank }, (_, a) => a).filter((a) => a !== d)])
  })
  const folded = fronted.map((x) => R.reshape(x, [size * (x.shape[1] as number), ...x.shape.slice(2)]))
  const y = self(folded, p)
  return [R.reshape(y, [size, (y.shape[0] as number) / size, ...y.shape.slice(1)]), 0]
}

const select = (x: Tensor, z: Tensor, p: PoolParams, R: RuleOps): Tensor => R.poolSelect(x, z, p.window)
const scatter = (x: Tensor, u: Tensor, p: PoolParams, R: RuleOps): Tensor => R.poolScatter(x, u, p.window)

const domain = (shapes: ReadonlyArray<ReadonlyArray<Shape>>) => ({
  ranges: [
    [-3, 3],
    [-2, 2],
  ] as const,
  cases: shapes.map((s, k) => ({ shapes: s, params: { window: k === 0 ? [2, 2] : [3, 1] } as PoolParams })),
})

// d select(x, z) = select(x, dz) (the weights are piecewise constant in x); the transpose is scatter.
// NOTE ties share the derivative equally (as the `max` reduction); x gets none (a.e. zero).
export const poolSelect: Primitive<PoolParams> = {
  name: 'poolSelect',
  arity: 2,
  abstract: ([x], p) => ({ shape: pooledShape(x!.shape, p), dtype: x!.dtype }),
  impl: ([x, z], p) =>
    wrap(poolSelectKernel(dataOf(x!), dataOf(z!), geometry(x!.shape, p), x!.dtype), pooledShape(x!.shape, p)),
  jvp: [null, (zDot, [x], _y, p, R) => select(x!, zDot, p, R)],
  vjp: [null, (yBar, [x], _y, p, R) => scatter(x!, yBar, p, R)],
  batch: foldBatch,
  domain: domain([
    [
      [1, 4, 4, 2],
      [1, 4, 4, 2],
    ],
    [
      [2, 3, 2, 1],
      [2, 3, 2, 1],
    ],
  ]),
  kinks: 'ties share the derivative equally; the weights are piecewise constant in x',
  broadcasts: false,
}

// d scatter(x, u) = scatter(x, du); the transpose is select.
export const poolScatter: Primitive<PoolParams> = {
  name: 'poolScatter',
  arity: 2,
  abstract: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  impl: ([x, u], p) => wrap(poolScatterKernel(dataOf(x!), dataOf(u!), geometry(x!.shape, p), x!.dtype), x!.shape),
  jvp: [null, (uDot, [x], _y, p, R) => scatter(x!, uDot, p, R)],
  vjp: [null, (yBar, [x], _y, p, R) => select(x!, yBar, p, R)],
  batch: foldBatch,
  domain: domain([
    [
      [1, 4, 4, 2],
      [1, 2, 2, 2],
    ],
    [
      [2, 3, 2, 1],
      [2, 1, 2, 1],
    ],
  ]),
  kinks: 'ties share the derivative equally; the weights are piecewise constant in x',
  broadcasts: false,
}

/** The pooling primitives, appended to the primitive table. */
export const poolPrimitives = { poolSelect, poolScatter } as const
