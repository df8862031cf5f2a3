/**
 * The primitive table: every primitive purediff differentiates, each one record with its
 * kernel, its JVP rule and its VJP rule side by side (JAX's `lax.py` layout), plus the input
 * domain the table-driven tests sample. Everything else (`softmax`, `logsumexp`, `mean`,
 * `square`, `stack`, ...) is derived from these in `src/ops/`.
 *
 * Notation in the rules: `x` primal inputs, `xDot` a tangent, `y` the primal output, `yBar`
 * a cotangent. A JVP rule returns the tangent contribution of one input; a VJP rule the
 * cotangent of one input. Binary elementwise primitives broadcast (NumPy); their rules may
 * return broadcast-shaped results and the AD layer sums them back to the input's shape.
 *
 * Reverse rules multiply cotangents into partials with `mulNoNan`/`divNoNan`: where a
 * cotangent is exactly zero (the unselected branch of `where`) no ±inf partial can turn it
 * into NaN, so `grad(x => sum(where(c, log(x), 0)))` stays finite at x = 0.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import {
  absKernel,
  addKernel,
  ceilKernel,
  cosKernel,
  divKernel,
  equalKernel,
  expKernel,
  expm1Kernel,
  floorKernel,
  greaterEqualKernel,
  greaterKernel,
  isFiniteKernel,
  lessEqualKernel,
  lessKernel,
  log1pKernel,
  logKernel,
  divNoNanKernel,
  maximumKernel,
  minimumKernel,
  mulKernel,
  mulNoNanKernel,
  negKernel,
  notEqualKernel,
  planBinary,
  powKernel,
  reluKernel,
  roundKernel,
  sigmoidKernel,
  signKernel,
  sinKernel,
  sqrtKernel,
  subKernel,
  tanhKernel,
  tanKernel,
  whereKernel,
  copyKernel,
  atan2Kernel,
} from '../kernels/elementwise.js'
import type { BinaryKernel, UnaryKernel } from '../kernels/elementwise.js'
import {
  broadcastToKernel,
  concatKernel,
  gatherKernel,
  padKernel,
  scatterAddKernel,
  sliceKernel,
  transposeKernel,
} from '../kernels/layout.js'
import { matmulKernel } from '../kernels/matmul.js'
import { maxKernel, sumKernel } from '../kernels/reduce.js'
import type { ConcreteTensor, DType, Shape, Tensor } from '../tensor/Tensor.js'
import { alloc, broadcastShapes, dataOf, scalarOf, wrap } from '../tensor/Tensor.js'
import { foldedMatmulBatch, matmulNoNan } from './matmulNoNan.js'
import type { BatchRule, Domain, JvpRule, Primitive, RuleOps, VjpRule } from './types.js'
import { linalgPrimitives } from './linalg.js'
import { specialPrimitives } from './special.js'
import { arrayPrimitives } from './array.js'
import { convPrimitives } from './conv.js'
import { poolPrimitives } from './pool.js'

type NoParams = Record<string, never>
const none: NoParams = Object.freeze({})

// -------------------------------------------------------------------------------------
// batching (vmap): helpers shared by the rules
// -------------------------------------------------------------------------------------

/** `arr` with `v` inserted at position `i`. */
const insertAt = <T>(arr: ReadonlyArray<T>, i: number, v: T): T[] => [...arr.slice(0, i), v, ...arr.slice(i)]
/** A logical axis (of the unbatched value) as a physical axis, given the batch axis `d`. */
const physAxis = (a: number, d: number): number => (a >= d ? a + 1 : a)
/** x with its axis `d` moved to the front. */
const moveToFront = (x: Tensor, d: number, R: RuleOps): Tensor =>
  d === 0 ? x : R.transpose(x, [d, ...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== d)])
/** The batch size: the extent of the batch axis of any batched input. */
const batchSizeOf = (xs: ReadonlyArray<Tensor>, dims: ReadonlyArray<number | null>): number => {
  const i = dims.findIndex((d) => d !== null)
  return xs[i]!.shape[dims[i] as number] as number
}
/** An input moved to batch-first form: batched inputs move their axis to 0, unbatched ones are broadcast. */
const batchFirst = (x: Tensor, d: number | null, size: number, R: RuleOps): Tensor =>
  d === null ? R.broadcastTo(x, [size, ...x.shape]) : moveToFront(x, d, R)

// vmap of an elementwise map is the map itself: the batch axis is carried along.
const unaryBatch: BatchRule<any> = ([x], [d], p, _R, self) => [self([x!], p), d as number]

// vmap of a broadcasting map: batched inputs move their axis to the front and take 1s up to
// the output's rank, so NumPy broadcasting lines the rest up; unbatched inputs broadcast as they are.
const broadcastBatch: BatchRule<any> = (xs, dims, p, R, self) => {
  const d0 = dims[0] ?? null
  if (d0 !== null && dims.every((d, i) => d === d0 && xs[i]!.rank === xs[0]!.rank)) return [self(xs, p), d0]
  const rank = Math.max(...xs.map((x, i) => x.rank - (dims[i] === null ? 0 : 1)))
  const args = xs.map((x, i) => {
    const d = dims[i] ?? null
    if (d === null) return x
    const f = moveToFront(x, d, R)
    const s = f.shape.slice(1)
    return s.length === rank ? f : R.reshape(f, [f.shape[0] as number, ...Array<number>(rank - s.length).fill(1), ...s])
  })
  return [self(args, p), 0]
}

// -------------------------------------------------------------------------------------
// families
// -------------------------------------------------------------------------------------

const ELEMENTWISE_SHAPES: ReadonlyArray<ReadonlyArray<Shape>> = [[[]], [[3]], [[2, 3]]]
const BROADCAST_SHAPES: ReadonlyArray<ReadonlyArray<Shape>> = [
  [[], []],
  [[3], [3]],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [2, 2]],
  [
    [2, 3],
    [2, 3],
  ],
]

const unaryDomain = (lo: number, hi: number, kinks?: (xs: ReadonlyArray<number>) => number): Domain<NoParams> => ({
  ranges: [[lo, hi]],
  cases: ELEMENTWISE_SHAPES.map((shapes) => ({ shapes, params: none })),
  ...(kinks ? { kinks } : {}),
})

const binaryDomain = (
  a: readonly [number, number],
  b: readonly [number, number],
  kinks?: (xs: ReadonlyArray<number>) => number,
): Domain<NoParams> => ({
  ranges: [a, b],
  cases: BROADCAST_SHAPES.map((shapes) => ({ shapes, params: none })),
  ...(kinks ? { kinks } : {}),
})

const unary = (
  name: string,
  kernel: UnaryKernel,
  jvp: JvpRule<NoParams> | null,
  vjp: VjpRule<NoParams> | null,
  domain: Domain<NoParams> | null,
  kinks?: string,
): Primitive<NoParams> => ({
  name,
  arity: 1,
  abstract: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  impl: ([x]) => {
    const xc = x as ConcreteTensor
    // rank 0: the kernel's expression over a number, and no typed array
    const v = kernel.scalar === undefined ? undefined : xc.scalarValue
    if (v !== undefined) return scalarOf((kernel.scalar as (x: number) => number)(v), xc.dtype)
    const out = alloc(xc.dtype, xc.size)
    kernel(dataOf(xc), out)
    return wrap(out, xc.shape)
  },
  jvp: [jvp],
  vjp: [vjp],
  batch: unaryBatch,
  domain,
  broadcasts: false,
  ...(kinks !== undefined ? { kinks } : {}),
})

const binary = (
  name: string,
  kernel: BinaryKernel,
  jvp: ReadonlyArray<JvpRule<NoParams> | null>,
  vjp: ReadonlyArray<VjpRule<NoParams> | null>,
  domain: Domain<NoParams> | null,
  kinks?: string,
): Primitive<NoParams> => ({
  name,
  arity: 2,
  abstract: ([a, b]) => ({ shape: broadcastShapes(name, a!.shape, b!.shape), dtype: a!.dtype }),
  impl: ([a, b]) => {
    const ac = a as ConcreteTensor
    const bc = b as ConcreteTensor
    if (kernel.scalar !== undefined && ac.rank === 0 && bc.rank === 0) {
      const u = ac.scalarValue
      const v = bc.scalarValue
      if (u !== undefined && v !== undefined) return scalarOf(kernel.scalar(u, v), ac.dtype)
    }
    const shape = broadcastShapes(name, ac.shape, bc.shape)
    const out = alloc(
      ac.dtype,
      shape.reduce((s, d) => s * d, 1),
    )
    kernel(dataOf(ac), dataOf(bc), planBinary(ac.shape, bc.shape, shape), out)
    return wrap(out, shape)
  },
  jvp,
  vjp,
  batch: broadcastBatch,
  domain,
  broadcasts: true,
  ...(kinks !== undefined ? { kinks } : {}),
})

const comparison = (name: string, kernel: BinaryKernel): Primitive<NoParams> =>
  binary(name, kernel, [null, null], [null, null], null, `${name} is piecewise constant: its derivative is zero`)

const nonDiff = (name: string, kernel: UnaryKernel): Primitive<NoParams> =>
  unary(name, kernel, null, null, null, `${name} is piecewise constant: its derivative is zero`)

/** Distance of the inputs from the nearest tie (for maximum/minimum). */
const tieDistance = (xs: ReadonlyArray<number>): number => Math.abs((xs[0] as number) - (xs[1] as number))
const zeroDistance = (xs: ReadonlyArray<number>): number => Math.abs(xs[0] as number)
/** Distance of a reduced group from a tie for its maximum: the gap between its two largest values. */
const runnerUpGap = (xs: ReadonlyArray<number>): number => {
  let first = -Infinity
  let second = -Infinity
  for (const x of xs) {
    if (x > first) {
      second = first
      first = x
    } else if (x > second) second = x
  }
  return first - second
}

// -------------------------------------------------------------------------------------
// elementwise primitives
// -------------------------------------------------------------------------------------

// d(-x) = -dx
export const neg = unary(
  'neg',
  negKernel,
  (xDot, _x, _y, _p, R) => R.neg(xDot),
  (yBar, _x, _y, _p, R) => R.neg(yBar),
  unaryDomain(-3, 3),
)
// d exp(x) = exp(x) · dx
export const exp = unary(
  'exp',
  expKernel,
  (xDot, _x, y, _p, R) => R.mul(xDot, y),
  (yBar, _x, y, _p, R) => R.mulNoNan(yBar, y),
  unaryDomain(-3, 3),
)
// d log(x) = dx / x
export const log = unary(
  'log',
  logKernel,
  (xDot, [x], _y, _p, R) => R.div(xDot, x!),
  (yBar, [x], _y, _p, R) => R.divNoNan(yBar, x!),
  unaryDomain(0.2, 4),
)
// d sin(x) = cos(x) · dx
export const sin = unary(
  'sin',
  sinKernel,
  (xDot, [x], _y, _p, R) => R.mul(xDot, R.cos(x!)),
  (yBar, [x], _y, _p, R) => R.mulNoNan(yBar, R.cos(x!)),
  unaryDomain(-4, 4),
)
// d cos(x) = -sin(x) · dx
export const cos = unary(
  'cos',
  cosKernel,
  (xDot, [x], _y, _p, R) => R.neg(R.mul(xDot, R.sin(x!))),
  (yBar, [x], _y, _p, R) => R.neg(R.mulNoNan(yBar, R.sin(x!))),
  unaryDomain(-4, 4),
)
// d tan(x) = (1 + tan²(x)) · dx
export const tan = unary(
  'tan',
  tanKernel,
  (xDot, _x, y, _p, R) => R.mul(xDot, R.add(1, R.mul(y, y))),
  (yBar, _x, y, _p, R) => R.mulNoNan(yBar, R.add(1, R.mul(y, y))),
  unaryDomain(-1.2, 1.2),
)
// d tanh(x) = (1 - tanh²(x)) · dx
export const tanh = unary(
  'tanh',
  tanhKernel,
  (xDot, _x, y, _p, R) => R.mul(xDot, R.sub(1, R.mul(y, y))),
  (yBar, _x, y, _p, R) => R.mulNoNan(yBar, R.sub(1, R.mul(y, y))),
  unaryDomain(-3, 3),
)
// d σ(x) = σ(x)(1 - σ(x)) · dx   (kernel: the overflow-free two-sided formula)
export const sigmoid = unary(
  'sigmoid',
  sigmoidKernel,
  (xDot, _x, y, _p, R) => R.mul(xDot, R.mul(y, R.sub(1, y))),
  (yBar, _x, y, _p, R) => R.mulNoNan(yBar, R.mul(y, R.sub(1, y))),
  unaryDomain(-5, 5),
)
// d relu(x) = [x > 0] · dx.  NOTE relu'(0) = 0 (as JAX's jax.nn.relu).
export const relu = unary(
  'relu',
  reluKernel,
  (xDot, [x], _y, _p, R) => R.where(R.greater(x!, 0), xDot, 0),
  (yBar, [x], _y, _p, R) => R.where(R.greater(x!, 0), yBar, 0),
  unaryDomain(-3, 3, zeroDistance),
  "relu'(0) = 0",
)
// d |x| = sign(x) · dx.  NOTE abs'(0) = sign(0) = 0.
export const abs = unary(
  'abs',
  absKernel,
  (xDot, [x], _y, _p, R) => R.mul(xDot, R.sign(x!)),
  (yBar, [x], _y, _p, R) => R.mul(yBar, R.sign(x!)),
  unaryDomain(-3, 3, zeroDistance),
  "abs'(0) = 0",
)
// d √x = dx / (2√x)
export const sqrt = unary(
  'sqrt',
  sqrtKernel,
  (xDot, _x, y, _p, R) => R.div(xDot, R.mul(2, y)),
  (yBar, _x, y, _p, R) => R.divNoNan(yBar, R.mul(2, y)),
  unaryDomain(0.2, 4),
)
// d log(1 + x) = dx / (1 + x)
export const log1p = unary(
  'log1p',
  log1pKernel,
  (xDot, [x], _y, _p, R) => R.div(xDot, R.add(1, x!)),
  (yBar, [x], _y, _p, R) => R.divNoNan(yBar, R.add(1, x!)),
  unaryDomain(-0.7, 3),
)
// d (exp(x) - 1) = exp(x) · dx = (y + 1) · dx
export const expm1 = unary(
  'expm1',
  expm1Kernel,
  (xDot, _x, y, _p, R) => R.mul(xDot, R.add(y, 1)),
  (yBar, _x, y, _p, R) => R.mulNoNan(yBar, R.add(y, 1)),
  unaryDomain(-3, 3),
)

export const sign = nonDiff('sign', signKernel)
export const floor = nonDiff('floor', floorKernel)
export const ceil = nonDiff('ceil', ceilKernel)
export const round = nonDiff('round', roundKernel)
export const isFinite = nonDiff('isFinite', isFiniteKernel)

// d stopGradient(x) = 0: the identity whose derivative is declared zero at every level.
export const stopGradient = unary('stopGradient', copyKernel, null, null, null, 'derivative is zero by definition')

// d(a + b) = da + db
export const add = binary(
  'add',
  addKernel,
  [(aDot) => aDot, (bDot) => bDot],
  [(yBar) => yBar, (yBar) => yBar],
  binaryDomain([-3, 3], [-3, 3]),
)
// d(a - b) = da - db
export const sub = binary(
  'sub',
  subKernel,
  [(aDot) => aDot, (bDot, _x, _y, _p, R) => R.neg(bDot)],
  [(yBar) => yBar, (yBar, _x, _y, _p, R) => R.neg(yBar)],
  binaryDomain([-3, 3], [-3, 3]),
)
// d(a · b) = da · b + a · db
export const mul = binary(
  'mul',
  mulKernel,
  [(aDot, [, b], _y, _p, R) => R.mul(aDot, b!), (bDot, [a], _y, _p, R) => R.mul(a!, bDot)],
  [(yBar, [, b], _y, _p, R) => R.mulNoNan(yBar, b!), (yBar, [a], _y, _p, R) => R.mulNoNan(yBar, a!)],
  binaryDomain([-3, 3], [-3, 3]),
)
// d(a / b) = da / b - (a / b²) · db = da / b - y · db / b
export const div = binary(
  'div',
  divKernel,
  [(aDot, [, b], _y, _p, R) => R.div(aDot, b!), (bDot, [, b], y, _p, R) => R.neg(R.div(R.mul(y, bDot), b!))],
  [
    (yBar, [, b], _y, _p, R) => R.divNoNan(yBar, b!),
    (yBar, [, b], y, _p, R) => R.neg(R.divNoNan(R.mulNoNan(yBar, y), b!)),
  ],
  binaryDomain([-3, 3], [0.3, 3]),
)
// d(a · b) masked: as mul, with 0 wherever a = 0 or b = 0.  NOTE 0 · ±inf = 0 · NaN = 0 here, so a
// zero cotangent and a zero partial both annihilate: rules that multiply a cotangent into a
// partial stay NaN-free when differentiated again (reverse-over-reverse through `where`).
export const mulNoNan = binary(
  'mulNoNan',
  mulNoNanKernel,
  [(aDot, [, b], _y, _p, R) => R.mulNoNan(aDot, b!), (bDot, [a], _y, _p, R) => R.mulNoNan(a!, bDot)],
  [(yBar, [, b], _y, _p, R) => R.mulNoNan(yBar, b!), (yBar, [a], _y, _p, R) => R.mulNoNan(a!, yBar)],
  binaryDomain([-3, 3], [-3, 3]),
  'where a = 0 or b = 0 the value is 0 whatever the other is',
)
// d(a / b) masked: as div, with 0 wherever a = 0.
export const divNoNan = binary(
  'divNoNan',
  divNoNanKernel,
  [
    (aDot, [, b], _y, _p, R) => R.divNoNan(aDot, b!),
    (bDot, [, b], y, _p, R) => R.neg(R.divNoNan(R.mulNoNan(y, bDot), b!)),
  ],
  [
    (yBar, [, b], _y, _p, R) => R.divNoNan(yBar, b!),
    (yBar, [, b], y, _p, R) => R.neg(R.divNoNan(R.mulNoNan(yBar, y), b!)),
  ],
  binaryDomain([-3, 3], [0.3, 3]),
  'where a = 0 the value is 0 whatever b is',
)
// d(aᵇ) = b·aᵇ⁻¹ · da + log(a)·aᵇ · db.  NOTE the da-term is 0 where b = 0 and the db-term is 0
// where a = 0 (as JAX), so pow(0, 0) and pow(0, b) have finite derivatives. The da-term is
// b ⊙ aᵇ⁻¹ with mulNoNan (0 at b = 0 even where aᵇ⁻¹ = inf), not a `where` on b = 0: a
// constant branch would lose ∂/∂b (b·aᵇ⁻¹) = aᵇ⁻¹ and break the mixed second derivative.
const powPartialA = (a: ConcreteTensorLike, b: ConcreteTensorLike, R: RuleOps) => R.mulNoNan(b, R.pow(a, R.sub(b, 1)))
export const pow = binary(
  'pow',
  powKernel,
  [
    (aDot, [a, b], _y, _p, R) => R.mul(aDot, powPartialA(a!, b!, R)),
    (bDot, [a], y, _p, R) => R.mul(bDot, R.mul(R.log(R.where(R.equal(a!, 0), 1, a!)), y)),
  ],
  [
    (yBar, [a, b], _y, _p, R) => R.mulNoNan(yBar, powPartialA(a!, b!, R)),
    (yBar, [a], y, _p, R) => R.mulNoNan(yBar, R.mul(R.log(R.where(R.equal(a!, 0), 1, a!)), y)),
  ],
  binaryDomain([0.3, 3], [-2, 2]),
  'd/da pow(a, 0) = 0; d/db pow(0, b) = 0',
)
// d max(a, b) = [a > b]·da + [a < b]·db.  NOTE at a tie each side gets half (as JAX).
const maxWeight = (a: ConcreteTensorLike, b: ConcreteTensorLike, R: RuleOps) =>
  R.add(R.greater(a, b), R.mul(0.5, R.equal(a, b)))
const minWeight = (a: ConcreteTensorLike, b: ConcreteTensorLike, R: RuleOps) =>
  R.add(R.less(a, b), R.mul(0.5, R.equal(a, b)))
type ConcreteTensorLike = Parameters<RuleOps['add']>[0]
export const maximum = binary(
  'maximum',
  maximumKernel,
  [
    (aDot, [a, b], _y, _p, R) => R.mul(aDot, maxWeight(a!, b!, R)),
    (bDot, [a, b], _y, _p, R) => R.mul(bDot, maxWeight(b!, a!, R)),
  ],
  [
    (yBar, [a, b], _y, _p, R) => R.mul(yBar, maxWeight(a!, b!, R)),
    (yBar, [a, b], _y, _p, R) => R.mul(yBar, maxWeight(b!, a!, R)),
  ],
  binaryDomain([-3, 3], [-3, 3], tieDistance),
  'at a tie the derivative is split: 1/2 to each argument',
)
// d min(a, b) = [a < b]·da + [a > b]·db.  NOTE at a tie each side gets half.
export const minimum = binary(
  'minimum',
  minimumKernel,
  [
    (aDot, [a, b], _y, _p, R) => R.mul(aDot, minWeight(a!, b!, R)),
    (bDot, [a, b], _y, _p, R) => R.mul(bDot, minWeight(b!, a!, R)),
  ],
  [
    (yBar, [a, b], _y, _p, R) => R.mul(yBar, minWeight(a!, b!, R)),
    (yBar, [a, b], _y, _p, R) => R.mul(yBar, minWeight(b!, a!, R)),
  ],
  binaryDomain([-3, 3], [-3, 3], tieDistance),
  'at a tie the derivative is split: 1/2 to each argument',
)
// d atan2(a, b) = (b·da - a·db) / (a² + b²)
export const atan2 = binary(
  'atan2',
  atan2Kernel,
  [
    (aDot, [a, b], _y, _p, R) => R.div(R.mul(aDot, b!), R.add(R.mul(a!, a!), R.mul(b!, b!))),
    (bDot, [a, b], _y, _p, R) => R.neg(R.div(R.mul(bDot, a!), R.add(R.mul(a!, a!), R.mul(b!, b!)))),
  ],
  [
    (yBar, [a, b], _y, _p, R) => R.divNoNan(R.mulNoNan(yBar, b!), R.add(R.mul(a!, a!), R.mul(b!, b!))),
    (yBar, [a, b], _y, _p, R) => R.neg(R.divNoNan(R.mulNoNan(yBar, a!), R.add(R.mul(a!, a!), R.mul(b!, b!)))),
  ],
  binaryDomain([0.3, 3], [0.3, 3]),
)

export const greater = comparison('greater', greaterKernel)
export const greaterEqual = comparison('greaterEqual', greaterEqualKernel)
export const less = comparison('less', lessKernel)
export const lessEqual = comparison('lessEqual', lessEqualKernel)
export const equal = comparison('equal', equalKernel)
export const notEqual = comparison('notEqual', notEqualKernel)

// d where(c, a, b) = where(c, da, db).  NOTE the unselected branch contributes an exact zero,
// never 0 · (its derivative): no NaN or inf leaks from it.
export const where: Primitive<NoParams> = {
  name: 'where',
  arity: 3,
  abstract: ([c, a, b]) => ({
    shape: broadcastShapes('where', broadcastShapes('where', c!.shape, a!.shape), b!.shape),
    dtype: a!.dtype,
  }),
  impl: ([c, a, b]) => {
    const [cc, ac, bc] = [c!, a!, b!]
    const shape = broadcastShapes('where', broadcastShapes('where', cc.shape, ac.shape), bc.shape)
    const out = alloc(
      ac.dtype,
      shape.reduce((s, d) => s * d, 1),
    )
    whereKernel(dataOf(cc), cc.shape, dataOf(ac), ac.shape, dataOf(bc), bc.shape, shape, out)
    return wrap(out, shape)
  },
  jvp: [null, (aDot, [c], _y, _p, R) => R.where(c!, aDot, 0), (bDot, [c], _y, _p, R) => R.where(c!, 0, bDot)],
  vjp: [null, (yBar, [c], _y, _p, R) => R.where(c!, yBar, 0), (yBar, [c], _y, _p, R) => R.where(c!, 0, yBar)],
  batch: broadcastBatch,
  domain: {
    ranges: [
      [-1, 1],
      [-3, 3],
      [-3, 3],
    ],
    cases: [
      { shapes: [[3], [3], [3]], params: none },
      { shapes: [[2, 3], [3], [2, 1]], params: none },
    ],
  },
  kinks: 'the condition is not differentiated (it is a mask)',
  broadcasts: true,
}

// -------------------------------------------------------------------------------------
// reductions
// -------------------------------------------------------------------------------------

export interface AxesParams {
  /** sorted, unique, non-negative */
  readonly axes: ReadonlyArray<number>
}

// vmap of a reduction reduces the same logical axes: shifted past the batch axis, which
// itself moves left by the number of reduced axes before it.
const reduceBatch: BatchRule<AxesParams> = ([x], [d0], { axes }, _R, self) => {
  const d = d0 as number
  return [self([x!], { axes: axes.map((a) => physAxis(a, d)) }), d - axes.filter((a) => a < d).length]
}

/** The shape with the reduced axes kept as 1s: where a reduced value broadcasts back. */
const keptShape = (shape: Shape, axes: ReadonlyArray<number>): number[] =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d))

// d Σx = Σ dx ; the cotangent broadcasts back over the reduced axes.
export const sum: Primitive<AxesParams> = {
  name: 'sum',
  arity: 1,
  abstract: ([x], { axes }) => ({ shape: x!.shape.filter((_, i) => !axes.includes(i)), dtype: x!.dtype }),
  impl: ([x], { axes }) =>
    wrap(
      sumKernel(dataOf(x!), x!.shape, axes, x!.dtype),
      x!.shape.filter((_, i) => !axes.includes(i)),
    ),
  jvp: [(xDot, _x, _y, { axes }, R) => R.sum(xDot, axes)],
  vjp: [(yBar, [x], _y, { axes }, R) => R.broadcastTo(R.reshape(yBar, keptShape(x!.shape, axes)), x!.shape)],
  batch: reduceBatch,
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[4]], params: { axes: [0] } },
      { shapes: [[2, 3]], params: { axes: [1] } },
      { shapes: [[2, 3]], params: { axes: [0] } },
      { shapes: [[2, 3, 2]], params: { axes: [0, 2] } },
    ],
  },
  broadcasts: false,
}

// d max(x) = Σ w · dx with w = [x = max] / #ties.  NOTE ties share the derivative equally.
const maxWeights = (
  x: Parameters<RuleOps['neg']>[0],
  y: Parameters<RuleOps['neg']>[0],
  axes: ReadonlyArray<number>,
  R: RuleOps,
) => {
  const kept = keptShape(x.shape, axes)
  const mask = R.equal(x, R.reshape(y, kept))
  return R.div(mask, R.reshape(R.sum(mask, axes), kept))
}
export const max: Primitive<AxesParams> = {
  name: 'max',
  arity: 1,
  abstract: ([x], { axes }) => ({ shape: x!.shape.filter((_, i) => !axes.includes(i)), dtype: x!.dtype }),
  impl: ([x], { axes }) =>
    wrap(
      maxKernel(dataOf(x!), x!.shape, axes, x!.dtype),
      x!.shape.filter((_, i) => !axes.includes(i)),
    ),
  jvp: [(xDot, [x], y, { axes }, R) => R.sum(R.mul(xDot, maxWeights(x!, y, axes, R)), axes)],
  vjp: [(yBar, [x], y, { axes }, R) => R.mul(R.reshape(yBar, keptShape(x!.shape, axes)), maxWeights(x!, y, axes, R))],
  batch: reduceBatch,
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[4]], params: { axes: [0] } },
      { shapes: [[2, 3]], params: { axes: [1] } },
      { shapes: [[3, 2]], params: { axes: [0] } },
    ],
    kinks: runnerUpGap,
  },
  kinks: 'ties share the derivative equally',
  broadcasts: false,
}

// -------------------------------------------------------------------------------------
// shape primitives (linear: their rules are themselves)
// -------------------------------------------------------------------------------------

export const reshape: Primitive<{ readonly shape: Shape }> = {
  name: 'reshape',
  arity: 1,
  abstract: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  // NOTE the result shares x's buffer: buffers are never written after construction
  impl: ([x], { shape }) => wrap(dataOf(x!), shape),
  jvp: [(xDot, _x, _y, { shape }, R) => R.reshape(xDot, shape)],
  vjp: [(yBar, [x], _y, _p, R) => R.reshape(yBar, x!.shape)],
  // batch first, then reshape the rest
  batch: ([x], [d], { shape }, R, self) => {
    const f = moveToFront(x!, d as number, R)
    return [self([f], { shape: [f.shape[0] as number, ...shape] }), 0]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[2, 3]], params: { shape: [3, 2] } },
      { shapes: [[4]], params: { shape: [2, 1, 2] } },
    ],
  },
  broadcasts: false,
}

const inversePerm = (perm: ReadonlyArray<number>): number[] => {
  const inv = new Array<number>(perm.length)
  perm.forEach((p, i) => (inv[p] = i))
  return inv
}
export const transpose: Primitive<{ readonly perm: ReadonlyArray<number> }> = {
  name: 'transpose',
  arity: 1,
  abstract: ([x], { perm }) => ({ shape: perm.map((p) => x!.shape[p] as number), dtype: x!.dtype }),
  impl: ([x], { perm }) =>
    wrap(
      transposeKernel(dataOf(x!), x!.shape, perm, x!.dtype),
      perm.map((p) => x!.shape[p] as number),
    ),
  jvp: [(xDot, _x, _y, { perm }, R) => R.transpose(xDot, perm)],
  vjp: [(yBar, _x, _y, { perm }, R) => R.transpose(yBar, inversePerm(perm))],
  // the batch axis goes first; the logical axes keep their order
  batch: ([x], [d0], { perm }, _R, self) => {
    const d = d0 as number
    return [self([x!], { perm: [d, ...perm.map((a) => physAxis(a, d))] }), 0]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[2, 3]], params: { perm: [1, 0] } },
      { shapes: [[2, 3, 2]], params: { perm: [2, 0, 1] } },
    ],
  },
  broadcasts: false,
}

export const broadcastTo: Primitive<{ readonly shape: Shape }> = {
  name: 'broadcastTo',
  arity: 1,
  abstract: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  impl: ([x], { shape }) => wrap(broadcastToKernel(dataOf(x!), x!.shape, shape, x!.dtype), shape),
  jvp: [(xDot, _x, _y, { shape }, R) => R.broadcastTo(xDot, shape)],
  vjp: [(yBar, [x], _y, _p, R) => R.unbroadcast(yBar, x!.shape)],
  // batch first, 1s up to the target's rank, then broadcast behind the batch axis
  batch: ([x], [d], { shape }, R, self) => {
    const f = moveToFront(x!, d as number, R)
    const s = f.shape.slice(1)
    const b = f.shape[0] as number
    const g = R.reshape(f, [b, ...Array<number>(shape.length - s.length).fill(1), ...s])
    return [self([g], { shape: [b, ...shape] }), 0]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[3]], params: { shape: [2, 3] } },
      { shapes: [[2, 1]], params: { shape: [2, 3] } },
    ],
  },
  broadcasts: false,
}

export const slice: Primitive<{ readonly begin: ReadonlyArray<number>; readonly size: ReadonlyArray<number> }> = {
  name: 'slice',
  arity: 1,
  abstract: ([x], { size }) => ({ shape: size, dtype: x!.dtype }),
  impl: ([x], { begin, size }) => wrap(sliceKernel(dataOf(x!), x!.shape, begin, size, x!.dtype), size),
  jvp: [(xDot, _x, _y, { begin, size }, R) => R.slice(xDot, begin, size)],
  vjp: [(yBar, [x], _y, { begin }, R) => R.pad(yBar, begin, x!.shape)],
  // the whole batch axis is kept
  batch: ([x], [d0], { begin, size }, _R, self) => {
    const d = d0 as number
    return [self([x!], { begin: insertAt(begin, d, 0), size: insertAt(size, d, x!.shape[d] as number) }), d]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[5]], params: { begin: [1], size: [3] } },
      { shapes: [[3, 4]], params: { begin: [1, 0], size: [2, 3] } },
    ],
  },
  broadcasts: false,
}

export const pad: Primitive<{ readonly before: ReadonlyArray<number>; readonly shape: Shape }> = {
  name: 'pad',
  arity: 1,
  abstract: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  impl: ([x], { before, shape }) => wrap(padKernel(dataOf(x!), x!.shape, before, shape, x!.dtype), shape),
  jvp: [(xDot, _x, _y, { before, shape }, R) => R.pad(xDot, before, shape)],
  vjp: [(yBar, [x], _y, { before }, R) => R.slice(yBar, before, x!.shape)],
  // the batch axis is not padded
  batch: ([x], [d0], { before, shape }, _R, self) => {
    const d = d0 as number
    return [self([x!], { before: insertAt(before, d, 0), shape: insertAt(shape, d, x!.shape[d] as number) }), d]
  },
  domain: { ranges: [[-3, 3]], cases: [{ shapes: [[2, 2]], params: { before: [1, 0], shape: [4, 3] } }] },
  broadcasts: false,
}

/** Offsets of each input along the concatenation axis. */
const concatOffset = (xs: ReadonlyArray<{ readonly shape: Shape }>, i: number, axis: number): number =>
  xs.slice(0, i).reduce((s, x) => s + (x.shape[axis] as number), 0)
export const concat: Primitive<{ readonly axis: number }> = {
  name: 'concat',
  arity: -1,
  abstract: (xs, { axis }) => ({
    shape: xs[0]!.shape.map((d, i) => (i === axis ? xs.reduce((s, x) => s + (x.shape[axis] as number), 0) : d)),
    dtype: xs[0]!.dtype,
  }),
  impl: (xs, { axis }) => {
    const shapes = xs.map((x) => x.shape)
    const shape = (shapes[0] as Shape).map((d, i) =>
      i === axis ? shapes.reduce((s, sh) => s + (sh[axis] as number), 0) : d,
    )
    return wrap(concatKernel(xs.map(dataOf), shapes, axis, (xs[0] as ConcreteTensor).dtype), shape)
  },
  // the tangent of input i, placed at its offset (zeros elsewhere); contributions sum
  jvp:
    (i) =>
    (xDot, xs, y, { axis }, R) =>
      R.pad(
        xDot,
        y.shape.map((_, ax) => (ax === axis ? concatOffset(xs, i, axis) : 0)),
        y.shape,
      ),
  vjp:
    (i) =>
    (yBar, xs, _y, { axis }, R) =>
      R.slice(
        yBar,
        yBar.shape.map((_, ax) => (ax === axis ? concatOffset(xs, i, axis) : 0)),
        (xs[i] as ConcreteTensorLikeT).shape,
      ),
  // every input batch first (unbatched ones broadcast), joined along the shifted axis
  batch: (xs, dims, { axis }, R, self) => {
    const b = batchSizeOf(xs, dims)
    return [
      self(
        xs.map((x, i) => batchFirst(x, dims[i] ?? null, b, R)),
        { axis: axis + 1 },
      ),
      0,
    ]
  },
  domain: {
    ranges: [
      [-3, 3],
      [-3, 3],
    ],
    cases: [
      { shapes: [[2], [3]], params: { axis: 0 } },
      {
        shapes: [
          [2, 1],
          [2, 2],
        ],
        params: { axis: 1 },
      },
    ],
  },
  broadcasts: false,
}
type ConcreteTensorLikeT = { readonly shape: Shape }

export interface GatherParams {
  readonly indices: Int32Array
  readonly axis: number
}
// d take(x, i) = take(dx, i) ; its transpose adds each cotangent slice back at its index.
export const gather: Primitive<GatherParams> = {
  name: 'gather',
  arity: 1,
  abstract: ([x], { indices, axis }) => ({
    shape: x!.shape.map((d, i) => (i === axis ? indices.length : d)),
    dtype: x!.dtype,
  }),
  impl: ([x], { indices, axis }) =>
    wrap(
      gatherKernel(dataOf(x!), x!.shape, indices, axis, x!.dtype),
      x!.shape.map((d, i) => (i === axis ? indices.length : d)),
    ),
  jvp: [(xDot, _x, _y, { indices, axis }, R) => R.gather(xDot, indices, axis)],
  vjp: [(yBar, [x], _y, { indices, axis }, R) => R.scatterAdd(yBar, indices, axis, x!.shape)],
  // the same indices along the shifted axis; the batch axis stays where it is
  batch: ([x], [d0], { indices, axis }, _R, self) => {
    const d = d0 as number
    return [self([x!], { indices, axis: physAxis(axis, d) }), d]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [
      { shapes: [[4]], params: { indices: Int32Array.from([2, 0, 2]), axis: 0 } },
      { shapes: [[3, 2]], params: { indices: Int32Array.from([1, 1]), axis: 1 } },
    ],
  },
  broadcasts: false,
}
export const scatterAdd: Primitive<GatherParams & { readonly shape: Shape }> = {
  name: 'scatterAdd',
  arity: 1,
  abstract: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  impl: ([x], { indices, axis, shape }) => wrap(scatterAddKernel(dataOf(x!), shape, indices, axis, x!.dtype), shape),
  jvp: [(xDot, _x, _y, { indices, axis, shape }, R) => R.scatterAdd(xDot, indices, axis, shape)],
  vjp: [(yBar, _x, _y, { indices, axis }, R) => R.gather(yBar, indices, axis)],
  batch: ([x], [d0], { indices, axis, shape }, _R, self) => {
    const d = d0 as number
    return [self([x!], { indices, axis: physAxis(axis, d), shape: insertAt(shape, d, x!.shape[d] as number) }), d]
  },
  domain: {
    ranges: [[-3, 3]],
    cases: [{ shapes: [[3]], params: { indices: Int32Array.from([2, 0, 2]), axis: 0, shape: [4] } }],
  },
  broadcasts: false,
}

export const cast: Primitive<{ readonly dtype: DType }> = {
  name: 'cast',
  arity: 1,
  abstract: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  impl: ([x], { dtype }) => {
    const out = alloc(dtype, x!.size)
    out.set(dataOf(x!))
    return wrap(out, x!.shape)
  },
  jvp: [(xDot, _x, _y, { dtype }, R) => R.cast(xDot, dtype)],
  vjp: [(yBar, [x], _y, _p, R) => R.cast(yBar, x!.dtype)],
  batch: unaryBatch,
  domain: null,
  broadcasts: false,
}

// -------------------------------------------------------------------------------------
// matmul
// -------------------------------------------------------------------------------------

// d(A·B) = dA·B + A·dB ; Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (no transpose copy on concrete operands).  Inputs are [..., m, k] and [..., k, n] with equal batch axes.
// NOTE where an operand holds ±inf or NaN (say, in the unselected branch of `where`), a zero
// cotangent would meet it in the product as 0 · inf = NaN. The reverse rules therefore use
// `matmulNoNan` (src/primitives/matmulNoNan.ts: 0 · inf = 0, as every other reverse rule), which
// equals the plain product bit for bit when both operands are finite. The rule makes no
// choice on data (its kernel does), so a staged program is the same whatever the values.
export const matmul: Primitive<NoParams> = {
  name: 'matmul',
  arity: 2,
  abstract: ([a, b]) => {
    const r = a!.shape.length
    return { shape: [...a!.shape.slice(0, r - 1), b!.shape[r - 1] as number], dtype: a!.dtype }
  },
  impl: ([a, b]) => {
    const ac = a!
    const bc = b!
    const r = ac.shape.length
    const m = ac.shape[r - 2] as number
    const k = ac.shape[r - 1] as number
    const n = bc.shape[r - 1] as number
    const batchShape = ac.shape.slice(0, r - 2)
    const batch = batchShape.reduce((s, d) => s * d, 1)
    return wrap(matmulKernel(dataOf(ac), dataOf(bc), batch, m, k, n, ac.dtype), [...batchShape, m, n])
  },
  jvp: [(aDot, [, b], _y, _p, R) => R.matmul(aDot, b!), (bDot, [a], _y, _p, R) => R.matmul(a!, bDot)],
  vjp: [
    (yBar, [, b], _y, _p, R) => R.matmulNoNanT(yBar, b!, false, true),
    (yBar, [a], _y, _p, R) => R.matmulNoNanT(a!, yBar, true, false),
  ],
  // vmap of A·B: the batch folds into A's rows or B's columns when the other is an
  // unbatched matrix; otherwise one batched product (src/primitives/matmulNoNan.ts)
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
          [5, 3],
          [3, 5],
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
  broadcasts: false,
}

// -------------------------------------------------------------------------------------
// the table
// -------------------------------------------------------------------------------------

/** Every primitive, by name: the table the tests iterate over. */
export const primitives = {
  neg,
  exp,
  log,
  sin,
  cos,
  tan,
  tanh,
  sigmoid,
  relu,
  abs,
  sqrt,
  log1p,
  expm1,
  sign,
  floor,
  ceil,
  round,
  isFinite,
  stopGradient,
  add,
  sub,
  mul,
  div,
  mulNoNan,
  divNoNan,
  pow,
  maximum,
  minimum,
  atan2,
  greater,
  greaterEqual,
  less,
  lessEqual,
  equal,
  notEqual,
  where,
  sum,
  max,
  reshape,
  transpose,
  broadcastTo,
  slice,
  pad,
  concat,
  gather,
  scatterAdd,
  cast,
  matmul,
  matmulNoNan,
  ...linalgPrimitives,
  ...specialPrimitives,
  ...arrayPrimitives,
  ...convPrimitives,
  ...poolPrimitives,
} as const

export { matmulNoNan }

export type PrimitiveName = keyof typeof primitives
