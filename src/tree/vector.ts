/**
 * Parameter records as vectors. A tree with n leaves is a point of the direct sum of its
 * leaves' spaces, so `add`, `sub`, `scale`, `axpy` (a·x + y) and the leafwise product `mul`
 * act leaf by leaf, `dot(a, b) = Σ_leaves Σ_i a_i b_i` is the Euclidean inner product of
 * the flattened trees and `norm(t) = √dot(t, t)` the global L2 norm that gradient clipping
 * uses. These are the helpers optimizers are written with.
 *
 * Everything is built from the public ops, so every helper is differentiable under every
 * transform (a gradient of `dot` or `norm` is a tree again). Two number leaves combine as
 * plain numbers (constants stay constants, and a number parameter stays a number); any
 * tensor leaf makes the result a tensor. Binary helpers need the same structure and, leaf
 * by leaf, the same shape (a number counts as shape []): a structure mismatch is a
 * `TreeError` and a shape mismatch a `ShapeError`, each naming the key path. Leaves are not
 * broadcast against each other, because a broadcast between a parameter and its gradient
 * is always a bug.
 *
 * Purity: nothing here mutates its arguments; every returned tree is frozen (its tensors
 * are immutable values).
 */
import { PurediffError, missingArgument } from '../errors.js'
import { add as addOp, greater, mul as mulOp, sqrt, sub as subOp, sum, where } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { Tensor, full, scalar, shapeEq } from '../tensor/Tensor.js'
import type { Leaf } from './Tree.js'
import { flatten, map, zipWith } from './Tree.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const shapeOf = (l: Leaf): ReadonlyArray<number> => (typeof l === 'number' ? [] : l.shape)

const checkLeaf = (l: unknown, op: string, path: string): Leaf => {
  if (l instanceof Tensor || typeof l === 'number') return l
  throw new PurediffError('TreeError', 'expected a tensor or a number leaf', { op, path })
}

/** A leafwise binary helper: same shapes required; two numbers stay numbers. */
const leafwise =
  (op: string, onNumbers: (x: number, y: number) => Leaf, onTensors: (x: TensorLike, y: TensorLike) => Tensor) =>
  <T>(a: T, b: T): T => {
    if (b === undefined) throw missingArgument(op, `the second tree: ${op}(a, b)`)
    return zipWith(
      a,
      b,
      (x, y, path) => {
        if (!shapeEq(shapeOf(x), shapeOf(y))) {
          throw new PurediffError('ShapeError', 'leaves differ in shape', {
            op,
            shapes: [shapeOf(x), shapeOf(y)],
            path,
          })
        }
        return typeof x === 'number' && typeof y === 'number' ? onNumbers(x, y) : onTensors(x, y)
      },
      op,
    )
  }

const scaleLeaf = (x: Leaf, s: TensorLike): Leaf =>
  typeof x === 'number' && typeof s === 'number' ? x * s : mulOp(x, s)

const checkScalar = (s: unknown, op: string): TensorLike => {
  if (typeof s === 'number') return s
  if (s === undefined) throw missingArgument(op, 'the scalar')
  if (s instanceof Tensor && s.rank === 0) return s
  throw new PurediffError(
    'ValueError',
    `the scale must be a number or a scalar tensor${s instanceof Tensor ? '' : `, got ${typeof s}`}`,
    s instanceof Tensor ? { op, shapes: [s.shape] } : { op },
  )
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Leafwise sum a + b of two trees of the same structure and shapes.
 * @example
 * add({ w: tensor([1, 2]) }, { w: tensor([10, 20]) }).w // [11, 22]
 * @category combinators
 * @since 0.1.0
 */
export const add: <T>(a: T, b: T) => T = leafwise('tree.add', (x, y) => x + y, addOp)

/**
 * Leafwise difference a − b.
 * @example
 * const d = sub({ w: tensor([5, 1]), n: 3 }, { w: tensor([2, 1]), n: 1 })
 * d.w // [3, 0]
 * d.n // 2
 * @category combinators
 * @since 0.1.0
 */
export const sub: <T>(a: T, b: T) => T = leafwise('tree.sub', (x, y) => x - y, subOp)

/**
 * Leafwise (Hadamard) product a ⊙ b.
 * @example
 * const d = mul({ w: tensor([5, 1]), n: 3 }, { w: tensor([2, 4]), n: 2 })
 * d.w // [10, 4]
 * d.n // 6
 * @category combinators
 * @since 0.1.0
 */
export const mul: <T>(a: T, b: T) => T = leafwise('tree.mul', (x, y) => x * y, mulOp)

/**
 * Every leaf times `s` (a number or a scalar tensor, which may itself be traced).
 * @example
 * scale({ w: tensor([1, 2]), b: 3 }, -0.5) // { w: [-0.5, -1], b: -1.5 }
 * scale({ w: tensor([1, 2]), b: 3 }, -0.5).w // [-0.5, -1]
 * scale({ w: tensor([1, 2]), b: 3 }, -0.5).b // -1.5
 * @category combinators
 * @since 0.1.0
 */
export const scale = <T>(tree: T, s: TensorLike): T => {
  const c = checkScalar(s, 'tree.scale')
  return map(tree, (x, path) => scaleLeaf(checkLeaf(x, 'tree.scale', path), c))
}

/**
 * a·x + y (BLAS's axpy) for a scalar `a` and trees `x`, `y` of the same structure.
 * @example
 * axpy(-0.1, grads, params) // one step of gradient descent
 * axpy(-0.1, grads, params).b // ≈ [params.b.item() - 0.1 * grads.b.item()]
 * @category combinators
 * @since 0.1.0
 */
export const axpy = <T>(a: TensorLike, x: T, y: T): T => {
  const c = checkScalar(a, 'tree.axpy')
  return leafwise(
    'tree.axpy',
    // reached only for two number leaves; a traced or tensor `a` takes the tensor path
    (u, v) => (typeof c === 'number' ? c * u + v : addOp(mulOp(c, u), v)),
    (u, v) => addOp(mulOp(c, u), v),
  )(x, y)
}

/**
 * The inner product Σ_leaves Σ_i a_i · b_i as a scalar tensor (0 for a tree with no leaves).
 * @example
 * dot({ w: tensor([1, 2]), b: 3 }, { w: tensor([4, 5]), b: 6 }) // 32
 * @category combinators
 * @since 0.1.0
 */
export const dot = <T>(a: T, b: T): Tensor => {
  const products = leafwise(
    'tree.dot',
    (x, y) => x * y,
    (x, y) => sum(mulOp(x, y)),
  )(a, b)
  return total(products)
}

/** The sum of every entry of every leaf, as a scalar tensor. */
const total = (tree: unknown): Tensor => {
  const [ls] = flatten(tree, 'tree.dot')
  let acc: Tensor | number = 0
  for (const l of ls) {
    const s: TensorLike = typeof l === 'number' ? l : l.rank === 0 ? l : sum(l)
    acc = typeof acc === 'number' && typeof s === 'number' ? acc + s : addOp(acc, s)
  }
  return typeof acc === 'number' ? scalar(acc) : acc
}

/**
 * The global L2 norm √(Σ_leaves Σ_i t_i²), a scalar tensor.
 * NOTE: at the zero tree the norm is not differentiable; its gradient there is taken to
 * be 0 (a subgradient), computed without NaN by evaluating √ only at positive arguments.
 * @example
 * norm({ a: tensor([3]), b: 4 }) // 5
 * @category combinators
 * @since 0.1.0
 */
export const norm = <T>(tree: T): Tensor => {
  const s = dot(tree, tree)
  const positive = greater(s, 0)
  return where(positive, sqrt(where(positive, s, 1)), 0)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A tree of the same structure with every entry equal to `value`: a tensor leaf gives a
 * tensor of its shape and dtype, a number leaf gives the number `value`.
 * @example
 * fullLike({ w: zeros([2]), n: 0 }, 0.5).w // [0.5, 0.5]
 * fullLike({ w: zeros([2]), n: 0 }, 0.5).n // 0.5
 * @category constructors
 * @since 0.1.0
 */
export const fullLike = <T>(tree: T, value: number): T =>
  map(tree, (x, path) => {
    const l = checkLeaf(x, 'tree.fullLike', path)
    return typeof l === 'number' ? value : full(l.shape, value, l.dtype)
  })

/**
 * A tree of zeros with the same structure, shapes and dtypes.
 * @example
 * const z = zerosLike({ w: tensor([[1, 2]], 'float32'), n: 5 })
 * z.w // [[0, 0]]
 * z.w.dtype // 'float32'
 * z.n // 0
 * @category constructors
 * @since 0.1.0
 */
export const zerosLike = <T>(tree: T): T => fullLike(tree, 0)

/**
 * A tree of ones with the same structure, shapes and dtypes.
 * @example
 * const o = onesLike({ w: tensor([1, 2]), n: 5 })
 * o.w // [1, 1]
 * o.n // 1
 * @category constructors
 * @since 0.1.0
 */
export const onesLike = <T>(tree: T): T => fullLike(tree, 1)
