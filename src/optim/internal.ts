/**
 * Leafwise helpers shared by the gradient transformations (not exported from the package).
 *
 * `multiMap` walks several trees of one structure together (gradients, moments, params)
 * and builds several result trees from one function per leaf. Number leaves stay numbers:
 * when every input at a leaf is a number and the result is a concrete scalar, the number
 * is kept, so a parameter record with number leaves keeps them through an optimizer.
 *
 * `stateless` builds a transformation with the frozen empty state from a map of the
 * gradients; `result` freezes an [updates, state] pair.
 *
 * Purity: inputs are read, never modified; results are frozen trees.
 */
import { PurediffError } from '../errors.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor, Tensor, shapeEq } from '../tensor/Tensor.js'
import type { Leaf, TreeDef } from '../tree/Tree.js'
import { assertSameStructure, flatten, keyPaths, unflatten } from '../tree/Tree.js'

const shapeOf = (l: Leaf): ReadonlyArray<number> => (typeof l === 'number' ? [] : l.shape)

/** A result leaf: a number again when every input was a number and the result is concrete. */
const settle = (out: TensorLike, allNumbers: boolean): Leaf => {
  if (typeof out === 'number') return out
  if (allNumbers && out instanceof ConcreteTensor && out.size === 1) return out.item()
  return out as Tensor
}

/**
 * Map `f` over the leaves of `trees` (same structure and leaf shapes), giving `nOut` trees
 * of that structure.
 */
export const multiMap = (
  op: string,
  trees: ReadonlyArray<unknown>,
  nOut: number,
  f: (xs: ReadonlyArray<TensorLike>) => ReadonlyArray<TensorLike>,
): unknown[] => {
  const flat = trees.map((t) => flatten(t, op))
  const [, def] = flat[0] as [Leaf[], TreeDef]
  for (const [, d] of flat.slice(1)) assertSameStructure(def, d, op)
  const ps = keyPaths(def)
  const outs: Leaf[][] = Array.from({ length: nOut }, () => [])
  ps.forEach((path, i) => {
    const xs = flat.map(([ls]) => ls[i] as Leaf)
    const s0 = shapeOf(xs[0] as Leaf)
    for (const x of xs) {
      if (!(x instanceof Tensor) && typeof x !== 'number') {
        throw new PurediffError('TreeError', 'expected a tensor or a number leaf', { op, path })
      }
      if (!shapeEq(shapeOf(x), s0)) {
        throw new PurediffError('ShapeError', 'leaves differ in shape', { op, shapes: [s0, shapeOf(x)], path })
      }
    }
    const allNumbers = xs.every((x) => typeof x === 'number')
    const ys = f(xs)
    ys.forEach((y, k) => (outs[k] as Leaf[]).push(settle(y, allNumbers)))
  })
  return outs.map((ls) => unflatten(def, ls))
}

/** Check a hyperparameter: a finite number, optionally in a range. */
export const checkNumber = (
  x: unknown,
  name: string,
  op: string,
  range: { readonly min?: number; readonly max?: number; readonly maxExclusive?: boolean } = {},
): number => {
  const ok =
    typeof x === 'number' &&
    Number.isFinite(x) &&
    (range.min === undefined || x >= range.min) &&
    (range.max === undefined || (range.maxExclusive === true ? x < range.max : x <= range.max))
  if (!ok) {
    const bounds =
      range.min !== undefined || range.max !== undefined
        ? ` in [${range.min ?? '-inf'}, ${range.max ?? 'inf'}${range.maxExclusive === true ? ')' : ']'}`
        : ''
    throw new PurediffError('ValueError', `${name} must be a finite number${bounds}, got ${String(x)}`, { op })
  }
  return x as number
}

// The types of a stateless transformation, spelled structurally (they are the same types as
// GradientTransformation.ts's EmptyState and GradientTransformation<EmptyState>), so that this
// module does not import GradientTransformation.ts, which imports it.
type EmptyState = Readonly<Record<string, never>>
interface Stateless {
  init<P>(params: P): EmptyState
  update<P>(grads: P, state: EmptyState, params?: P): readonly [P, EmptyState]
}

/** The state of a stateless transformation. */
export const EMPTY: EmptyState = Object.freeze({}) as EmptyState

/** The [updates, state] pair, frozen. */
export const result = <P, S>(updates: P, state: S): readonly [P, S] => Object.freeze([updates, state] as const)

/**
 * A stateless transformation from a leafwise map of the gradients.
 */
export const stateless = (update: <P>(grads: P, params: P | undefined) => P): Stateless =>
  Object.freeze({
    init: <P>(_params: P): EmptyState => EMPTY,
    update: <P>(grads: P, state: EmptyState, params?: P): readonly [P, EmptyState] =>
      result(update(grads, params), state),
  })
