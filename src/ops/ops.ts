/**
 * The public ops. Each validates its arguments (naming the op and the shapes in any error),
 * turns numbers into scalars (numbers are weakly typed: they take the dtype of the tensors
 * they meet), and either binds a primitive or composes other ops. Everything here is
 * differentiable to any order under every transform, because everything ends in `bind`.
 *
 * Derived ops are compositions, following the tinygrad rule: a function becomes a
 * primitive only when composing it is unstable or measurably too slow. `logsumexp` shifts
 * by a stopped-gradient max (stable, and its derivative is exactly softmax); `softmax` and
 * `logSoftmax` are built on the same shift.
 *
 * Purity: ops return new tensors and never modify their arguments.
 */
import { Tracer, bind, liftTo, resultDType, unbroadcast as unbroadcastAD } from '../ad/trace.js'
import { PurediffError, fmtShape, missingArgument, withOperands } from '../errors.js'
import * as P from '../primitives/table.js'
import * as AP from '../primitives/array.js'
import type { Primitive } from '../primitives/types.js'
import type { DType, NestedArray, Shape } from '../tensor/Tensor.js'
import {
  Tensor,
  arange,
  broadcastShapes,
  checkDType,
  checkShape,
  scalar,
  shapeEq,
  sizeOf,
  tensor,
} from '../tensor/Tensor.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A tensor, a number standing for a scalar, or nested arrays of numbers (read as float64). @category model */
export type TensorLike = Tensor | number | ReadonlyArray<NestedArray>
/** An axis or a list of axes (negative axes count from the end). @category model */
export type Axis = number | ReadonlyArray<number>
/** Reduction options. @category model */
export interface ReduceOptions {
  readonly axis?: Axis
  readonly keepDims?: boolean
}

type NoParams = Record<string, never>
const none = Object.freeze({}) as NoParams

// -------------------------------------------------------------------------------------
// argument handling
// -------------------------------------------------------------------------------------

const describe = (x: unknown): string =>
  x === null
    ? 'null'
    : Array.isArray(x)
      ? 'an array (wrap it with tensor(...))'
      : typeof x === 'object'
        ? 'an object'
        : typeof x

/**
 * A tensor from a tensor or a number; anything else is an error naming the op.
 * @example
 * asTensor(3, 'myOp').shape // []
 * asTensor(3, 'myOp').item() // 3
 */
export const asTensor = (x: unknown, op: string, dtype: DType = 'float64'): Tensor => {
  if (x instanceof Tensor) return x
  if (typeof x === 'number') return scalar(x, dtype)
  if (Array.isArray(x)) return tensorOf(x, op)
  if (x === undefined) throw missingArgument(op)
  throw new PurediffError('ValueError', `expected a Tensor or a number, got ${describe(x)}`, { op })
}

/** Nested arrays become float64 tensors; a ragged array is an error naming the op. */
const tensorOf = (x: ReadonlyArray<NestedArray>, op: string): Tensor => {
  try {
    return tensor(x)
  } catch (e) {
    throw new PurediffError('ValueError', e instanceof Error ? e.message : String(e), { op })
  }
}

const checkArg = (x: unknown, op: string): Tensor | number => {
  if (x instanceof Tensor || typeof x === 'number') return x
  if (Array.isArray(x)) return tensorOf(x, op)
  if (x === undefined) throw missingArgument(op)
  throw new PurediffError('ValueError', `expected a Tensor or a number, got ${describe(x)}`, { op })
}

const unaryOp =
  (prim: Primitive<NoParams>) =>
  (x: TensorLike): Tensor =>
    bind(prim, [asTensor(checkArg(x, prim.name), prim.name)], none)

const binaryOp =
  (prim: Primitive<NoParams>) =>
  (a0: TensorLike, b0: TensorLike): Tensor => {
    const a = checkArg(a0, prim.name)
    const b = checkArg(b0, prim.name)
    const dt = resultDType([a, b])
    const at = liftTo(a, dt)
    const bt = liftTo(b, dt)
    // a scalar operand or equal shapes always broadcast: only other pairs need the check
    if (at.shape.length !== 0 && bt.shape.length !== 0 && !shapeEq(at.shape, bt.shape)) {
      try {
        broadcastShapes(prim.name, at.shape, bt.shape)
      } catch (e) {
        throw withOperands(e, [a, b])
      }
    }
    return bind(prim, [at, bt], none)
  }

/**
 * Normalise an axis (or list) against a rank: negative axes count from the end; sorted, unique.
 * @example
 * normalizeAxes([-1, 0], 3, 'sum') // [0, 2]
 */
export const normalizeAxes = (axis: Axis | undefined, rank: number, op: string): number[] => {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i)
  const list = typeof axis === 'number' ? [axis] : [...axis]
  const out = list.map((a) => {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) {
      throw new PurediffError('ValueError', `axis ${String(a)} is out of range for a tensor of rank ${rank}`, { op })
    }
    return a < 0 ? a + rank : a
  })
  const sorted = [...new Set(out)].sort((x, y) => x - y)
  if (sorted.length !== out.length)
    throw new PurediffError('ValueError', `repeated axis in [${list.join(', ')}]`, { op })
  return sorted
}

const reduceArgs = (
  x: TensorLike,
  axisOrOpts: Axis | ReduceOptions | undefined,
  keepDimsArg: boolean | ReduceOptions | undefined,
  op: string,
): [Tensor, number[], boolean] => {
  const t = asTensor(checkArg(x, op), op)
  let axis: Axis | undefined
  let keepDims = false
  if (typeof axisOrOpts === 'object' && axisOrOpts !== null && !Array.isArray(axisOrOpts)) {
    const o = axisOrOpts as ReduceOptions
    axis = o.axis
    keepDims = o.keepDims ?? false
  } else {
    axis = axisOrOpts as Axis | undefined
  }
  if (typeof keepDimsArg === 'boolean') keepDims = keepDimsArg
  else if (typeof keepDimsArg === 'object' && keepDimsArg !== null) keepDims = keepDimsArg.keepDims ?? keepDims
  return [t, normalizeAxes(axis, t.rank, op), keepDims]
}

const keepShape = (shape: Shape, axes: ReadonlyArray<number>): number[] =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d))

// -------------------------------------------------------------------------------------
// elementwise
// -------------------------------------------------------------------------------------

/**
 * Elementwise sum with NumPy broadcasting.
 * @example
 * add(tensor([1, 2]), 10) // [11, 12]
 * add(tensor([[1], [2]]), tensor([10, 20])) // [[11, 21], [12, 22]]
 * @category elementwise
 * @since 0.1.0
 */
export const add = binaryOp(P.add)
/**
 * Elementwise difference.
 * @example
 * sub(tensor([5, 7]), tensor([1, 2])) // [4, 5]
 * @category elementwise
 * @since 0.1.0
 */
export const sub = binaryOp(P.sub)
/**
 * Elementwise product.
 * @example
 * mul(tensor([[1], [2]]), tensor([3, 4])) // [[3, 4], [6, 8]]
 * @category elementwise
 * @since 0.1.0
 */
export const mul = binaryOp(P.mul)
/**
 * Elementwise quotient.
 * @example
 * div(tensor([1, 3]), 2) // [0.5, 1.5]
 * @category elementwise
 * @since 0.1.0
 */
export const div = binaryOp(P.div)
/**
 * Elementwise power aᵇ.
 * @example
 * pow(tensor([2, 3]), 2) // [4, 9]
 * @category elementwise
 * @since 0.1.0
 */
export const pow = binaryOp(P.pow)
/**
 * Elementwise maximum; at a tie the derivative is split half and half.
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2])) // [3, 5]
 * @category elementwise
 * @since 0.1.0
 */
export const maximum = binaryOp(P.maximum)
/**
 * Elementwise minimum; at a tie the derivative is split half and half.
 * @example
 * minimum(tensor([1, 5]), tensor([3, 2])) // [1, 2]
 * @category elementwise
 * @since 0.1.0
 */
export const minimum = binaryOp(P.minimum)
/**
 * Elementwise atan2(a, b).
 * @example
 * // the angle of the point (b, a): (0, 1) is at π/2, (-1, 0) at π
 * atan2(tensor([1, 0]), tensor([0, -1])) // ≈ [Math.PI / 2, Math.PI]
 * @category elementwise
 * @since 0.1.0
 */
export const atan2 = binaryOp(P.atan2)
/**
 * a · b, but 0 where a = 0 or b = 0, even if the other is ±inf or NaN.
 * @example
 * mulNoNan(tensor([0, 2]), tensor([Infinity, 3])) // [0, 6]
 * @category elementwise
 * @since 0.1.0
 */
export const mulNoNan = binaryOp(P.mulNoNan)
/**
 * a / b, but 0 where a = 0 even if b = 0.
 * @example
 * divNoNan(tensor([0, 1]), tensor([0, 4])) // [0, 0.25]
 * @category elementwise
 * @since 0.1.0
 */
export const divNoNan = binaryOp(P.divNoNan)

/**
 * −x.
 * @example
 * neg(tensor([1, -2])) // [-1, 2]
 * @category elementwise
 * @since 0.1.0
 */
export const neg = unaryOp(P.neg)
/**
 * eˣ.
 * @example
 * exp(tensor([0, 1])) // ≈ [1, Math.E]
 * @category elementwise
 * @since 0.1.0
 */
export const exp = unaryOp(P.exp)
/**
 * Natural logarithm.
 * @example
 * log(tensor([1, Math.E])) // ≈ [0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const log = unaryOp(P.log)
/**
 * @example
 * sin(tensor([0, Math.PI / 2])) // ≈ [0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const sin = unaryOp(P.sin)
/**
 * @example
 * cos(tensor([0, Math.PI])) // ≈ [1, -1]
 * @category elementwise
 * @since 0.1.0
 */
export const cos = unaryOp(P.cos)
/**
 * @example
 * tan(tensor([0, Math.PI / 4])) // ≈ [0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const tan = unaryOp(P.tan)
/**
 * @example
 * tanh(tensor([0, 1])) // ≈ [0, Math.tanh(1)]
 * @category elementwise
 * @since 0.1.0
 */
export const tanh = unaryOp(P.tanh)
/**
 * The logistic function 1 / (1 + e⁻ˣ), computed without overflow.
 * @example
 * sigmoid(tensor([0, Math.log(3)])) // ≈ [0.5, 0.75]
 * @category elementwise
 * @since 0.1.0
 */
export const sigmoid = unaryOp(P.sigmoid)
/**
 * max(x, 0); relu'(0) = 0.
 * @example
 * relu(tensor([-1, 0, 2])) // [0, 0, 2]
 * @category elementwise
 * @since 0.1.0
 */
export const relu = unaryOp(P.relu)
/**
 * |x|; abs'(0) = 0.
 * @example
 * abs(tensor([-2, 0, 3])) // [2, 0, 3]
 * @category elementwise
 * @since 0.1.0
 */
export const abs = unaryOp(P.abs)
/**
 * √x.
 * @example
 * sqrt(tensor([4, 9])) // [2, 3]
 * @category elementwise
 * @since 0.1.0
 */
export const sqrt = unaryOp(P.sqrt)
/**
 * log(1 + x), accurate near 0.
 * @example
 * log1p(tensor([0, Math.E - 1])) // ≈ [0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const log1p = unaryOp(P.log1p)
/**
 * eˣ − 1, accurate near 0.
 * @example
 * expm1(tensor([0, Math.LN2])) // ≈ [0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const expm1 = unaryOp(P.expm1)
/**
 * −1, 0 or 1 (derivative zero).
 * @example
 * sign(tensor([-3, 0, 2])) // [-1, 0, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const sign = unaryOp(P.sign)
/**
 * @example
 * floor(tensor([1.5, -1.5])) // [1, -2]
 * @category elementwise
 * @since 0.1.0
 */
export const floor = unaryOp(P.floor)
/**
 * @example
 * ceil(tensor([1.5, -1.5])) // [2, -1]
 * @category elementwise
 * @since 0.1.0
 */
export const ceil = unaryOp(P.ceil)
/**
 * Round half away from zero... as JS Math.round (half up).
 * @example
 * round(tensor([1.4, 2.6, -0.7])) // [1, 3, -1]
 * @category elementwise
 * @since 0.1.0
 */
export const round = unaryOp(P.round)
/**
 * 1 where finite, 0 where ±inf or NaN.
 * @example
 * isFinite(tensor([1, Infinity, NaN])) // [1, 0, 0]
 * @category elementwise
 * @since 0.1.0
 */
export const isFinite = unaryOp(P.isFinite)
/**
 * The identity, with derivative zero at every level.
 * @example
 * // d/dx (x · c) = c: the stopped factor is a constant
 * grad((x: Tensor) => sum(mul(x, stopGradient(x))))(tensor([3])) // [3]
 * @category elementwise
 * @since 0.1.0
 */
export const stopGradient = unaryOp(P.stopGradient)

/**
 * x².
 * @example
 * square(tensor([-3, 2])) // [9, 4]
 * @category elementwise
 * @since 0.1.0
 */
export const square = (x: TensorLike): Tensor => {
  const t = asTensor(checkArg(x, 'square'), 'square')
  return mul(t, t)
}
/**
 * 1 / x.
 * @example
 * reciprocal(tensor([2, 4])) // [0.5, 0.25]
 * @category elementwise
 * @since 0.1.0
 */
export const reciprocal = (x: TensorLike): Tensor => div(1, x)
/**
 * @example
 * sinh(tensor([0, 1])) // ≈ [0, Math.sinh(1)]
 * @category elementwise
 * @since 0.1.0
 */
export const sinh = (x: TensorLike): Tensor => mul(0.5, sub(exp(x), exp(neg(x))))
/**
 * @example
 * cosh(tensor([0, 1])) // ≈ [1, Math.cosh(1)]
 * @category elementwise
 * @since 0.1.0
 */
export const cosh = (x: TensorLike): Tensor => mul(0.5, add(exp(x), exp(neg(x))))
/**
 * log(1 + eˣ), stable for large |x|: each side of 0 uses the form that cannot overflow, and
 * both are smooth at 0, so softplus'(0) = σ(0) = 1/2 exactly (a relu + abs form would give 0).
 * @example
 * // log(1 + eˣ): log 2 at 0
 * softplus(tensor([0])) // ≈ [Math.LN2]
 * @category elementwise
 * @since 0.1.0
 */
export const softplus = (x: TensorLike): Tensor => {
  const t = asTensor(checkArg(x, 'softplus'), 'softplus')
  return where(greater(t, 0), add(t, log1p(exp(neg(t)))), log1p(exp(t)))
}
/**
 * log σ(x) = −softplus(−x).
 * @example
 * logSigmoid(tensor([0])) // ≈ [-Math.LN2]
 * @category elementwise
 * @since 0.1.0
 */
export const logSigmoid = (x: TensorLike): Tensor => neg(softplus(neg(x)))
/**
 * x where x > 0, αx otherwise.
 * @example
 * leakyRelu(tensor([-2, 3]), 0.1) // [-0.2, 3]
 * @category elementwise
 * @since 0.1.0
 */
export const leakyRelu = (x: TensorLike, alpha = 0.01): Tensor => {
  const t = asTensor(checkArg(x, 'leakyRelu'), 'leakyRelu')
  return where(greater(t, 0), t, mul(alpha, t))
}
/**
 * Clamp into [lo, hi] (derivative 1 inside, 0 outside; at the bounds it is split).
 * @example
 * clip(tensor([-2, 0.5, 3]), 0, 1) // [0, 0.5, 1]
 * @category elementwise
 * @since 0.1.0
 */
export const clip = (x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor => minimum(maximum(x, lo), hi)

/**
 * 1 where a > b, else 0 (a mask).
 * @example
 * greater(tensor([1, 2, 3]), 2) // [0, 0, 1]
 * @category comparison
 * @since 0.1.0
 */
export const greater = binaryOp(P.greater)
/**
 * @example
 * greaterEqual(tensor([1, 2, 3]), 2) // [0, 1, 1]
 * @category comparison
 * @since 0.1.0
 */
export const greaterEqual = binaryOp(P.greaterEqual)
/**
 * @example
 * less(tensor([1, 2, 3]), 2) // [1, 0, 0]
 * @category comparison
 * @since 0.1.0
 */
export const less = binaryOp(P.less)
/**
 * @example
 * lessEqual(tensor([1, 2, 3]), 2) // [1, 1, 0]
 * @category comparison
 * @since 0.1.0
 */
export const lessEqual = binaryOp(P.lessEqual)
/**
 * @example
 * equal(tensor([1, 2, 3]), 2) // [0, 1, 0]
 * @category comparison
 * @since 0.1.0
 */
export const equal = binaryOp(P.equal)
/**
 * @example
 * notEqual(tensor([1, 2, 3]), 2) // [1, 0, 1]
 * @category comparison
 * @since 0.1.0
 */
export const notEqual = binaryOp(P.notEqual)

/**
 * `cond ≠ 0 ? a : b`, elementwise with broadcasting. The unselected branch never leaks
 * NaN or inf into a derivative.
 * @example
 * grad((x) => sum(where(tensor([1, 0]), log(x), 0)))(tensor([1, 0])) // [1, 0]
 * @category comparison
 * @since 0.1.0
 */
export const where = (cond: TensorLike, a0: TensorLike, b0: TensorLike): Tensor => {
  const c = asTensor(checkArg(cond, 'where'), 'where')
  const a = checkArg(a0, 'where')
  const b = checkArg(b0, 'where')
  const dt = resultDType([a, b])
  const at = liftTo(a, dt)
  const bt = liftTo(b, dt)
  const cs = (() => {
    try {
      return broadcastShapes('where', broadcastShapes('where', c.shape, at.shape), bt.shape)
    } catch {
      throw new PurediffError('ShapeError', 'condition and branches do not broadcast', {
        op: 'where',
        shapes: [c.shape, at.shape, bt.shape],
        operands: [c, a, b],
      })
    }
  })()
  void cs
  return bind(P.where, [c, at, bt], none)
}

// -------------------------------------------------------------------------------------
// reductions
// -------------------------------------------------------------------------------------

/**
 * Sum over `axis` (all axes by default), optionally keeping reduced axes as 1s.
 * @example
 * sum(tensor([[1, 2], [3, 4]]), 0) // [4, 6]
 * sum(x, { axis: [0, 1], keepDims: true })
 * @category reductions
 * @since 0.1.0
 */
export const sum = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'sum')
  const y = axes.length === 0 ? t : bind(P.sum, [t], { axes })
  return keep ? reshapeRaw(y, keepShape(t.shape, axes)) : y
}

/**
 * Mean over `axis`.
 * @example
 * mean(tensor([[1, 2], [3, 4]])) // 2.5
 * mean(tensor([[1, 2], [3, 4]]), 0) // [2, 3]
 * @category reductions
 * @since 0.1.0
 */
export const mean = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'mean')
  const n = axes.reduce((s, a) => s * (t.shape[a] as number), 1)
  return div(sum(t, axes, keep), n)
}

/**
 * Max over `axis`; ties share the derivative equally.
 * @example
 * max(tensor([[1, 5], [3, 2]]), 1) // [5, 3]
 * @category reductions
 * @since 0.1.0
 */
export const max = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'max')
  if (axes.some((a) => t.shape[a] === 0)) {
    throw new PurediffError('ShapeError', 'max of an empty axis', { op: 'max', shapes: [t.shape] })
  }
  const y = axes.length === 0 ? t : bind(P.max, [t], { axes })
  return keep ? reshapeRaw(y, keepShape(t.shape, axes)) : y
}

/**
 * Min over `axis` (−max(−x)).
 * @example
 * min(tensor([[1, 5], [3, 2]]), 1) // [1, 2]
 * @category reductions
 * @since 0.1.0
 */
export const min = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor =>
  neg(max(neg(x), axis, keepDims))

/**
 * Product over `axis` (a composition of slices and multiplications: exact and differentiable at zeros).
 * @example
 * prod(tensor([1, 2, 3, 4])) // 24
 * @category reductions
 * @since 0.1.0
 */
export const prod = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'prod')
  // move reduced axes to the front, flatten them, multiply the rows together
  const kept = t.shape.map((_, i) => i).filter((i) => !axes.includes(i))
  const moved = transpose(t, [...axes, ...kept])
  const n = axes.reduce((s, a) => s * (t.shape[a] as number), 1)
  const rest = kept.map((i) => t.shape[i] as number)
  const rows = reshapeRaw(moved, [n, ...rest])
  let acc: Tensor = liftTo(1, t.dtype)
  for (let i = 0; i < n; i++) acc = mul(acc, reshapeRaw(slice(rows, [i, ...rest.map(() => 0)], [1, ...rest]), rest))
  acc = broadcastTo(acc, rest)
  return keep ? reshapeRaw(acc, keepShape(t.shape, axes)) : acc
}

/**
 * log Σ exp(x) over `axis`, shifted by the (stopped-gradient) max for stability; rows that
 * are all −inf give −inf, not NaN. Its gradient is softmax.
 * @example
 * // log(e⁰ + e⁰) = log 2, computed without overflow
 * logsumexp(tensor([0, 0])) // ≈ Math.LN2
 * logsumexp(tensor([1000, 1000])) // ≈ 1000 + Math.LN2
 * @category reductions
 * @since 0.1.0
 */
export const logsumexp = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'logsumexp')
  const m = stopGradient(max(t, axes, true))
  const shift = where(isFinite(m), m, 0)
  const y = add(log(sum(exp(sub(t, shift)), axes, true)), shift)
  return keep
    ? y
    : reshapeRaw(
        y,
        t.shape.filter((_, i) => !axes.includes(i)),
      )
}

/**
 * exp(x) / Σ exp(x) along `axis` (default −1), max-shifted.
 * @example
 * softmax(tensor([0, Math.log(3)])) // ≈ [0.25, 0.75]
 * @category reductions
 * @since 0.1.0
 */
export const softmax = (x: TensorLike, axis: number = -1): Tensor => {
  const t = asTensor(checkArg(x, 'softmax'), 'softmax')
  const axes = normalizeAxes(axis, t.rank, 'softmax')
  const m = stopGradient(max(t, axes, true))
  const e = exp(sub(t, where(isFinite(m), m, 0)))
  return div(e, sum(e, axes, true))
}

/**
 * x − logsumexp(x) along `axis` (default −1).
 * @example
 * logSoftmax(tensor([0, 0])) // ≈ [-Math.LN2, -Math.LN2]
 * @category reductions
 * @since 0.1.0
 */
export const logSoftmax = (x: TensorLike, axis: number = -1): Tensor => {
  const t = asTensor(checkArg(x, 'logSoftmax'), 'logSoftmax')
  return sub(t, logsumexp(t, axis, true))
}

/**
 * Variance over `axis` (population, ddof = 0).
 * @example
 * // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over 4
 * variance(tensor([1, 2, 3, 4])) // 1.25
 * @category reductions
 * @since 0.1.0
 */
export const variance = (x: TensorLike, axis?: Axis | ReduceOptions, keepDims?: boolean | ReduceOptions): Tensor => {
  const [t, axes, keep] = reduceArgs(x, axis, keepDims, 'variance')
  const centered = sub(t, mean(t, axes, true))
  return mean(mul(centered, centered), axes, keep)
}

/**
 * Index of the max along `axis` (first on ties; a NaN counts as the max), as a float tensor;
 * not differentiable. Batches under `vmap` and stages under `trace` (a primitive).
 * @example
 * argmax(tensor([[1, 3, 3], [2, 0, 1]])) // [1, 0]
 * @category reductions
 * @since 0.1.0
 */
export const argmax = (x: TensorLike, axis = -1): Tensor => {
  const t = asTensor(checkArg(x, 'argmax'), 'argmax')
  const [ax] = normalizeAxes(axis, t.rank, 'argmax') as [number]
  return bind(AP.argmax, [t], { axis: ax })
}

/**
 * Index of the min along `axis` (first on ties; a NaN counts as the min), as a float tensor;
 * not differentiable.
 * @example
 * argmin(tensor([[1, 3, 1], [2, 0, 1]])) // [0, 1]
 * @category reductions
 * @since 0.2.0
 */
export const argmin = (x: TensorLike, axis = -1): Tensor => {
  const t = asTensor(checkArg(x, 'argmin'), 'argmin')
  const [ax] = normalizeAxes(axis, t.rank, 'argmin') as [number]
  return bind(AP.argmin, [t], { axis: ax })
}

// -------------------------------------------------------------------------------------
// shapes
// -------------------------------------------------------------------------------------

const reshapeRaw = (x: Tensor, shape: Shape): Tensor => (shapeEq(x.shape, shape) ? x : bind(P.reshape, [x], { shape }))

/**
 * Same values, new shape (one extent may be −1: inferred).
 * @example
 * reshape(tensor([1, 2, 3, 4, 5, 6]), [2, -1]) // [[1, 2, 3], [4, 5, 6]]
 * @category shapes
 * @since 0.1.0
 */
export const reshape = (x: TensorLike, shape: Shape): Tensor => {
  const t = asTensor(checkArg(x, 'reshape'), 'reshape')
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < -1)) {
    throw new PurediffError('ValueError', `bad target shape ${JSON.stringify(shape)}`, {
      op: 'reshape',
      shapes: [t.shape],
      operands: [t],
    })
  }
  const unknown = shape.filter((d) => d === -1).length
  if (unknown > 1)
    throw new PurediffError('ValueError', 'at most one extent may be -1', {
      op: 'reshape',
      shapes: [t.shape, shape],
      operands: [t],
    })
  let target = shape.slice()
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1))
    if (known === 0 || t.size % known !== 0) {
      throw new PurediffError('ShapeError', `cannot reshape ${t.size} elements into ${fmtShape(shape)}`, {
        op: 'reshape',
        shapes: [t.shape, shape],
        operands: [t],
      })
    }
    target = shape.map((d) => (d === -1 ? t.size / known : d))
  }
  checkShape(target, 'reshape') // no axis past 2^31 - 1, even with zero elements
  if (sizeOf(target) !== t.size) {
    throw new PurediffError('ShapeError', `cannot reshape ${t.size} elements into ${fmtShape(target)}`, {
      op: 'reshape',
      shapes: [t.shape, target],
      operands: [t],
    })
  }
  return reshapeRaw(t, target)
}

/**
 * Permute axes; by default reverse them (as NumPy).
 * @example
 * transpose(tensor([[1, 2, 3]])) // [[1], [2], [3]]
 * transpose(zeros([2, 3, 4]), [0, 2, 1]).shape // [2, 4, 3]
 * @category shapes
 * @since 0.1.0
 */
export const transpose = (x: TensorLike, perm?: ReadonlyArray<number>): Tensor => {
  const t = asTensor(checkArg(x, 'transpose'), 'transpose')
  const r = t.rank
  const p = perm === undefined ? Array.from({ length: r }, (_, i) => r - 1 - i) : perm.map((a) => (a < 0 ? a + r : a))
  if (p.length !== r || [...p].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw new PurediffError('ValueError', `perm [${(perm ?? []).join(', ')}] is not a permutation of the ${r} axes`, {
      op: 'transpose',
      shapes: [t.shape],
    })
  }
  if (p.every((a, i) => a === i)) return t
  return bind(P.transpose, [t], { perm: p })
}

/**
 * Broadcast to a shape (NumPy rules).
 * @example
 * broadcastTo(tensor([1, 2]), [2, 2]) // [[1, 2], [1, 2]]
 * @category shapes
 * @since 0.1.0
 */
export const broadcastTo = (x: TensorLike, shape: Shape): Tensor => {
  const t = asTensor(checkArg(x, 'broadcastTo'), 'broadcastTo')
  let s: number[]
  try {
    s = broadcastShapes('broadcastTo', t.shape, shape)
  } catch (e) {
    throw withOperands(e, [t])
  }
  if (!shapeEq(s, shape)) {
    throw new PurediffError('ShapeError', `cannot broadcast ${fmtShape(t.shape)} to ${fmtShape(shape)}`, {
      op: 'broadcastTo',
      shapes: [t.shape, shape],
      operands: [t],
    })
  }
  return shapeEq(t.shape, shape) ? t : bind(P.broadcastTo, [t], { shape: shape.slice() })
}

/**
 * Sum a broadcast tensor back down to `shape` (the adjoint of `broadcastTo`).
 * @example
 * unbroadcast(ones([3, 2]), [2]) // [3, 3]
 * @category shapes
 * @since 0.1.0
 */
export const unbroadcast = (x: TensorLike, shape: Shape): Tensor => unbroadcastAD(asTensor(x, 'unbroadcast'), shape)

/**
 * Insert an axis of extent 1.
 * @example
 * expandDims(tensor([1, 2]), 1).shape // [2, 1]
 * @category shapes
 * @since 0.1.0
 */
export const expandDims = (x: TensorLike, axis = 0): Tensor => {
  const t = asTensor(checkArg(x, 'expandDims'), 'expandDims')
  const r = t.rank + 1
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new PurediffError('ValueError', `axis ${axis} out of range for the result's rank ${r}`, {
      op: 'expandDims',
      shapes: [t.shape],
    })
  }
  const a = axis < 0 ? axis + r : axis
  const s = t.shape.slice()
  s.splice(a, 0, 1)
  return reshapeRaw(t, s)
}

/**
 * Remove axes of extent 1 (all of them, or those named).
 * @example
 * squeeze(tensor([[1], [2]])) // [1, 2]
 * @category shapes
 * @since 0.1.0
 */
export const squeeze = (x: TensorLike, axis?: Axis): Tensor => {
  const t = asTensor(checkArg(x, 'squeeze'), 'squeeze')
  const axes =
    axis === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(axis, t.rank, 'squeeze')
  for (const a of axes) {
    if (t.shape[a] !== 1)
      throw new PurediffError('ShapeError', `cannot squeeze axis ${a} of extent ${t.shape[a]}`, {
        op: 'squeeze',
        shapes: [t.shape],
      })
  }
  return reshapeRaw(
    t,
    t.shape.filter((_, i) => !axes.includes(i)),
  )
}

/**
 * The block starting at `begin` with extents `size` (−1: to the end). Negative begins count from the end.
 * @example
 * slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, 2]) // [[2, 3], [5, 6]]
 * @category shapes
 * @since 0.1.0
 */
export const slice = (
  x: TensorLike,
  begin: ReadonlyArray<number> | number,
  size?: ReadonlyArray<number> | number,
): Tensor => {
  const t = asTensor(checkArg(x, 'slice'), 'slice')
  const b0 = typeof begin === 'number' ? [begin] : [...begin]
  const s0 = size === undefined ? b0.map(() => -1) : typeof size === 'number' ? [size] : [...size]
  if (b0.length > t.rank || s0.length > b0.length) {
    throw new PurediffError(
      'ValueError',
      `begin [${b0.join(', ')}] / size [${s0.join(', ')}] do not fit rank ${t.rank}`,
      { op: 'slice', shapes: [t.shape] },
    )
  }
  const b = t.shape.map((d, i) => {
    const v = b0[i] ?? 0
    return v < 0 ? v + d : v
  })
  const s = t.shape.map((d, i) => {
    const v = s0[i] ?? -1
    return v === -1 ? d - (b[i] as number) : v
  })
  t.shape.forEach((d, i) => {
    const bi = b[i] as number
    const si = s[i] as number
    if (!Number.isInteger(bi) || !Number.isInteger(si) || bi < 0 || si < 0 || bi + si > d) {
      throw new PurediffError('ShapeError', `slice [${bi}, ${bi + si}) is outside axis ${i} of extent ${d}`, {
        op: 'slice',
        shapes: [t.shape],
      })
    }
  })
  if (shapeEq(s, t.shape)) return t
  return bind(P.slice, [t], { begin: b, size: s })
}

/**
 * Zero-pad: `pads[i] = [before, after]` for each axis.
 * @example
 * pad(tensor([1, 2]), [[1, 2]]) // [0, 1, 2, 0, 0]
 * @category shapes
 * @since 0.1.0
 */
export const pad = (x: TensorLike, pads: ReadonlyArray<readonly [number, number]>): Tensor => {
  const t = asTensor(checkArg(x, 'pad'), 'pad')
  if (pads.length !== t.rank || pads.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new PurediffError('ValueError', 'pads must give [before, after] non-negative integers for every axis', {
      op: 'pad',
      shapes: [t.shape],
    })
  }
  const shape = t.shape.map(
    (d, i) => d + (pads[i] as readonly [number, number])[0] + (pads[i] as readonly [number, number])[1],
  )
  return bind(P.pad, [t], { before: pads.map(([a]) => a), shape })
}

/**
 * Join tensors along an existing axis.
 * @example
 * concat([tensor([1]), tensor([2, 3])]) // [1, 2, 3]
 * @category shapes
 * @since 0.1.0
 */
export const concat = (xs: ReadonlyArray<TensorLike>, axis = 0): Tensor => {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new PurediffError('ValueError', 'needs a non-empty array of tensors', { op: 'concat' })
  const args = xs.map((x) => checkArg(x, 'concat'))
  const dt = resultDType(args)
  const ts = args.map((x) => liftTo(x, dt))
  const first = ts[0] as Tensor
  const r = first.rank
  if (r === 0)
    throw new PurediffError('ShapeError', 'cannot concatenate scalars; use stack', {
      op: 'concat',
      shapes: ts.map((t) => t.shape),
      operands: args,
    })
  const [ax] = normalizeAxes(axis, r, 'concat') as [number]
  for (const t of ts) {
    if (t.rank !== r || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new PurediffError('ShapeError', `shapes differ off axis ${ax}`, {
        op: 'concat',
        shapes: ts.map((u) => u.shape),
        operands: args,
      })
    }
  }
  if (ts.length === 1) return first
  return bind(P.concat, ts, { axis: ax })
}

/**
 * Join tensors along a new axis.
 * @example
 * stack([tensor([1, 2]), tensor([3, 4])], 1) // [[1, 3], [2, 4]]
 * @category shapes
 * @since 0.1.0
 */
export const stack = (xs: ReadonlyArray<TensorLike>, axis = 0): Tensor => {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new PurediffError('ValueError', 'needs a non-empty array of tensors', { op: 'stack' })
  // numbers take the dtype of the tensors they meet, as in every other op
  const args = xs.map((x) => checkArg(x, 'stack'))
  const dt = resultDType(args)
  const ts = args.map((x) => liftTo(x, dt))
  const first = ts[0] as Tensor
  for (const t of ts) {
    if (!shapeEq(t.shape, first.shape))
      throw new PurediffError('ShapeError', 'all tensors must have the same shape', {
        op: 'stack',
        shapes: ts.map((u) => u.shape),
        operands: args,
      })
  }
  const r = first.rank + 1
  const a = axis < 0 ? axis + r : axis
  return concat(
    ts.map((t) => expandDims(t, a)),
    a,
  )
}

const toIndices = (
  indices: ReadonlyArray<number> | Tensor | number,
  extent: number,
  op: string,
): [Int32Array, Shape] => {
  let flat: ArrayLike<number>
  let shape: Shape
  if (typeof indices === 'number') {
    flat = [indices]
    shape = []
  } else if (indices instanceof Tensor) {
    flat = indices.toTypedArray()
    shape = indices.shape
  } else if (Array.isArray(indices)) {
    flat = indices
    shape = [indices.length]
  } else {
    throw new PurediffError('ValueError', 'indices must be a number, an array of integers or a tensor', { op })
  }
  const out = new Int32Array(flat.length)
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i] as number
    const w = v < 0 ? v + extent : v
    if (!Number.isInteger(v)) throw new PurediffError('ValueError', `index ${v} is not an integer`, { op })
    if (w < 0 || w >= extent) {
      throw new PurediffError('ValueError', `index ${v} is out of range for an axis of extent ${extent}`, { op })
    }
    out[i] = w
  }
  return [out, shape]
}

/**
 * Take slices along `axis` at integer `indices` (NumPy `take`): the result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Differentiable in `x`. Indices that
 * are traced (batched by `vmap`, staged by `trace`/`jit`) are an operand of the op, so each
 * example of a batch reads its own indices.
 * @example
 * gather(tensor([10, 20, 30]), [2, 0]) // [30, 10]
 * @category shapes
 * @since 0.1.0
 */
export const gather = (x: TensorLike, indices: ReadonlyArray<number> | Tensor | number, axis = 0): Tensor => {
  const t = asTensor(checkArg(x, 'gather'), 'gather')
  if (t.rank === 0)
    throw new PurediffError('ShapeError', 'cannot gather from a scalar', { op: 'gather', shapes: [t.shape] })
  const [ax] = normalizeAxes(axis, t.rank, 'gather') as [number]
  if (indices instanceof Tracer) return bind(AP.gatherDynamic, [t, indices], { axis: ax })
  const [idx, ishape] = toIndices(indices, t.shape[ax] as number, 'gather')
  const y = bind(P.gather, [t], { indices: idx, axis: ax })
  const outShape = [...t.shape.slice(0, ax), ...ishape, ...t.shape.slice(ax + 1)]
  return reshapeRaw(y, outShape)
}
/**
 * Alias of `gather` (NumPy's name).
 * @example
 * take(tensor([[1, 2], [3, 4]]), [1], 1) // [[2], [4]]
 * @category shapes
 * @since 0.1.0
 */
export const take = gather

/**
 * One-hot rows: `oneHot([2, 0], 3)` is `[[0, 0, 1], [1, 0, 0]]`.
 * @example
 * oneHot([0, 2], 3) // [[1, 0, 0], [0, 0, 1]]
 * @category shapes
 * @since 0.1.0
 */
export const oneHot = (indices: ReadonlyArray<number> | Tensor, depth: number, dtype: DType = 'float64'): Tensor => {
  if (indices instanceof Tracer) {
    // traced labels (batched by vmap, staged by trace): a comparison against 0..depth-1, so each
    // example gets its own rows. NOTE an out-of-range traced label gives a row of zeros (as
    // JAX's one_hot): its value is not known when the op is staged.
    const k = where(less(indices, 0), add(indices, depth), indices)
    return cast(equal(expandDims(k, -1), arange(depth, undefined, 1, k.dtype)), dtype)
  }
  const [idx, shape] = toIndices(indices, depth, 'oneHot')
  const out = new Float64Array(idx.length * depth)
  idx.forEach((v, i) => (out[i * depth + v] = 1))
  const t = tensor(out, dtype)
  return reshapeRaw(t, [...shape, depth])
}

/**
 * Change dtype (differentiable; float32 rounds).
 * @example
 * cast(tensor([1.5]), 'float32').dtype // 'float32'
 * @category shapes
 * @since 0.1.0
 */
export const cast = (x: TensorLike, dtype: DType): Tensor => {
  checkDType(dtype, 'cast')
  const t = asTensor(checkArg(x, 'cast'), 'cast', dtype)
  return t.dtype === dtype ? t : bind(P.cast, [t], { dtype })
}

// -------------------------------------------------------------------------------------
// linear algebra
// -------------------------------------------------------------------------------------

/**
 * Matrix product with NumPy `matmul` semantics: 1-D operands are promoted (and the added
 * axis removed), leading batch axes broadcast.
 * @example
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])) // [[11]]
 * @category linear algebra
 * @since 0.1.0
 */
export const matmul = (a0: TensorLike, b0: TensorLike): Tensor => {
  const a = checkArg(a0, 'matmul')
  const b = checkArg(b0, 'matmul')
  const dt = resultDType([a, b])
  let at = liftTo(a, dt)
  let bt = liftTo(b, dt)
  if (at.rank === 0 || bt.rank === 0) {
    throw new PurediffError('ShapeError', 'matmul needs operands of rank ≥ 1 (use mul for scalars)', {
      op: 'matmul',
      shapes: [at.shape, bt.shape],
      operands: [a, b],
    })
  }
  const aVec = at.rank === 1
  const bVec = bt.rank === 1
  if (aVec) at = reshapeRaw(at, [1, at.shape[0] as number])
  if (bVec) bt = reshapeRaw(bt, [bt.shape[0] as number, 1])
  const k = at.shape[at.rank - 1] as number
  if (bt.shape[bt.rank - 2] !== k) {
    throw new PurediffError('ShapeError', `inner dimensions differ (${k} vs ${bt.shape[bt.rank - 2]})`, {
      op: 'matmul',
      shapes: [asTensor(a, 'matmul').shape, asTensor(b, 'matmul').shape],
      operands: [a, b],
    })
  }
  let batch: Shape
  try {
    batch = broadcastShapes('matmul', at.shape.slice(0, -2), bt.shape.slice(0, -2))
  } catch {
    throw new PurediffError('ShapeError', 'batch axes (all but the last two) do not broadcast', {
      op: 'matmul',
      shapes: [asTensor(a, 'matmul').shape, asTensor(b, 'matmul').shape],
      operands: [a, b],
    })
  }
  const m = at.shape[at.rank - 2] as number
  const n = bt.shape[bt.rank - 1] as number
  at = broadcastTo(at, [...batch, m, k])
  bt = broadcastTo(bt, [...batch, k, n])
  let y = bind(P.matmul, [at, bt], none)
  if (aVec || bVec) y = reshapeRaw(y, [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])])
  return y
}

/**
 * Dot product: inner product of two vectors, matrix-vector or matrix product otherwise.
 * @example
 * dot(tensor([1, 2]), tensor([3, 4])) // 11
 * @category linear algebra
 * @since 0.1.0
 */
export const dot = (a: TensorLike, b: TensorLike): Tensor => {
  const at = asTensor(checkArg(a, 'dot'), 'dot')
  const bt = asTensor(checkArg(b, 'dot'), 'dot')
  if (at.rank === 0 || bt.rank === 0) return mul(at, bt)
  if (at.rank === 1 && bt.rank === 1) {
    if (at.shape[0] !== bt.shape[0])
      throw new PurediffError('ShapeError', 'vectors differ in length', {
        op: 'dot',
        shapes: [at.shape, bt.shape],
        operands: [at, bt],
      })
    return sum(mul(at, bt))
  }
  return matmul(at, bt)
}

/**
 * Outer product of two vectors.
 * @example
 * outer(tensor([1, 2]), tensor([3, 4])) // [[3, 4], [6, 8]]
 * @category linear algebra
 * @since 0.1.0
 */
export const outer = (a: TensorLike, b: TensorLike): Tensor => {
  const at = asTensor(checkArg(a, 'outer'), 'outer')
  const bt = asTensor(checkArg(b, 'outer'), 'outer')
  return mul(reshape(at, [-1, 1]), reshape(bt, [1, -1]))
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * A tensor of zeros with x's shape and dtype.
 * @example
 * zerosLike(tensor([[1, 2]])) // [[0, 0]]
 * @category utils
 * @since 0.1.0
 */
export const zerosLike = (x: TensorLike): Tensor => {
  const t = asTensor(x, 'zerosLike')
  return broadcastTo(scalar(0, t.dtype), t.shape)
}
/**
 * A tensor of ones with x's shape and dtype.
 * @example
 * onesLike(tensor([[1, 2]])) // [[1, 1]]
 * @category utils
 * @since 0.1.0
 */
export const onesLike = (x: TensorLike): Tensor => {
  const t = asTensor(x, 'onesLike')
  return broadcastTo(scalar(1, t.dtype), t.shape)
}

export type { NestedArray }
