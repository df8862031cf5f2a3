/**
 * Parameter records ("trees"): a tensor, a number, or any nesting of arrays and plain
 * records of them. Transforms flatten a tree into its leaves and a structure, work on the
 * leaves, and rebuild the same structure, so `grad(loss)(params)` has the shape of
 * `params`. Key paths name a leaf the way a user writes it: `head.b[1]`.
 *
 * This module is structural only (it depends on `tensor/`, not on ops), so the transforms
 * can use it; the vector-space helpers that need arithmetic live in `tree/vector.ts`.
 * Purity: nothing here mutates its input; every rebuilt record and array is frozen.
 */
import { PurediffError, missingArgument } from '../errors.js'
import { Tensor } from '../tensor/Tensor.js'
import { joinPath } from './paths.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A leaf of a parameter record. @category model */
export type Leaf = Tensor | number
/** A parameter record: leaves nested in arrays and plain records. @category model */
export type Tree = Leaf | ReadonlyArray<Tree> | { readonly [key: string]: Tree }

/**
 * The Jacobian of `f: X → Y` as JAX returns it: `Y`'s structure, each leaf replaced by a
 * tree of `X`'s structure whose leaves are blocks of shape `[...out, ...in]`. For a tensor
 * (or number) output that is just `X`'s structure. @category model
 */
export type Jacobian<X, Y> = Y extends Tensor | number ? X : { readonly [K in keyof Y]: Jacobian<X, Y[K]> }

/** The structure of a tree without its leaves. @category model */
export type TreeDef =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'number' }
  | { readonly kind: 'array'; readonly children: ReadonlyArray<TreeDef> }
  | { readonly kind: 'record'; readonly keys: ReadonlyArray<string>; readonly children: ReadonlyArray<TreeDef> }
  | {
      readonly kind: 'custom'
      /** the registered class */
      readonly type: Function
      /** what `flatten` kept besides the children (handed back to `unflatten`) */
      readonly aux: unknown
      /** child names for key paths (`null`: the children are indexed) */
      readonly keys: ReadonlyArray<string> | null
      readonly children: ReadonlyArray<TreeDef>
    }

/**
 * How a registered class becomes a tree node: `flatten` gives its children (an array, or a
 * record whose keys name them in key paths) and whatever else it needs to be rebuilt (`aux`,
 * not differentiated); `unflatten(aux, children)` rebuilds an instance from new children.
 * @category model
 * @since 0.2.0
 */
export interface NodeType<T> {
  readonly flatten: (x: T) => readonly [ReadonlyArray<unknown> | { readonly [key: string]: unknown }, unknown]
  readonly unflatten: (aux: unknown, children: ReadonlyArray<unknown> | { readonly [key: string]: unknown }) => T
}

const registry = new Map<Function, NodeType<unknown>>()

/**
 * Register a class as a tree node type (JAX's `register_pytree_node`), so its instances can
 * be parameters, gradients and outputs of every transform: `grad(loss)(model)` then returns a
 * `Class` instance built by `unflatten`. Instances of unregistered classes (and `Map`s) are
 * an error, never silently turned into plain records. Registering a class twice replaces its
 * rule. Rebuilt instances are what `unflatten` returns (purediff does not freeze them).
 * @example
 * class Linear { constructor(readonly w: Tensor, readonly b: Tensor) {} }
 * tree.register(Linear, { flatten: (l) => [{ w: l.w, b: l.b }, null], unflatten: (_, c) => new Linear((c as { w: Tensor }).w, (c as { b: Tensor }).b) })
 * grad((l: Linear) => sum(mul(l.w, 3)))(new Linear(tensor([1, 2]), tensor([0]))).w // ≈ [3, 3]
 * @category constructors
 * @since 0.2.0
 */
export const register = <T>(type: abstract new (...args: never[]) => T, rule: NodeType<T>): void => {
  if (typeof type !== 'function')
    throw new PurediffError('ValueError', 'register needs a class (a constructor function)', { op: 'tree.register' })
  if (
    typeof rule !== 'object' ||
    rule === null ||
    typeof rule.flatten !== 'function' ||
    typeof rule.unflatten !== 'function'
  ) {
    throw new PurediffError('ValueError', 'register needs { flatten, unflatten } functions', { op: 'tree.register' })
  }
  if (([Object, Array, Tensor] as Function[]).includes(type)) {
    throw new PurediffError('ValueError', `${type.name} is built in to trees and cannot be registered`, {
      op: 'tree.register',
    })
  }
  registry.set(type, rule as NodeType<unknown>)
}

/** The registration of a value's class, if any (exact class, as JAX). */
const ruleOf = (x: object): NodeType<unknown> | undefined => {
  const proto: unknown = Object.getPrototypeOf(x)
  if (proto === null || typeof proto !== 'object') return undefined
  const ctor: unknown = (proto as { constructor?: unknown }).constructor
  return typeof ctor === 'function' ? registry.get(ctor) : undefined
}

/** A plain record: an object literal (or one with no prototype); class instances are not. */
const isRecord = (x: unknown): x is { readonly [k: string]: unknown } => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

const describeValue = (t: unknown): string => {
  if (t === null) return 'null'
  if (typeof t !== 'object') return typeof t
  const name = (Object.getPrototypeOf(t) as { constructor?: { name?: string } } | null)?.constructor?.name
  return name !== undefined && name !== ''
    ? `an instance of ${name} (register the class with tree.register to use it in a tree)`
    : 'an object'
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Leaves in a fixed order (arrays by index, records by sorted key) and the structure.
 * @example
 * flatten({ w: tensor([1, 2]), b: 0 }) // [[0, tensor([1, 2])], def] (keys sorted: b, w)
 * flatten({ w: tensor([1, 2]), b: 0 })[0][0] // 0
 * keyPaths(flatten({ w: tensor([1, 2]), b: 0 })[1]).join(' ') // 'b w'
 * @category constructors
 * @since 0.1.0
 */
export const flatten = (tree: unknown, op = 'flatten'): [Leaf[], TreeDef] => {
  const leaves: Leaf[] = []
  const go = (t: unknown, path: string): TreeDef => {
    if (t instanceof Tensor) {
      leaves.push(t)
      return TENSOR
    }
    if (typeof t === 'number') {
      leaves.push(t)
      return NUMBER
    }
    if (Array.isArray(t)) return { kind: 'array', children: t.map((c, i) => go(c, joinPath(path, i))) }
    if (isRecord(t)) {
      const keys = Object.keys(t).sort()
      return { kind: 'record', keys, children: keys.map((k) => go(t[k], joinPath(path, k))) }
    }
    const rule = typeof t === 'object' && t !== null ? ruleOf(t) : undefined
    if (rule !== undefined) {
      const out = rule.flatten(t)
      if (!Array.isArray(out) || out.length !== 2 || typeof out[0] !== 'object' || out[0] === null) {
        throw new PurediffError(
          'TreeError',
          'a registered flatten must return [children, aux] with children an array or a record',
          { op, path },
        )
      }
      const [children, aux] = out as readonly [ReadonlyArray<unknown> | { readonly [k: string]: unknown }, unknown]
      const type = (Object.getPrototypeOf(t) as { constructor: Function }).constructor
      if (Array.isArray(children)) {
        return { kind: 'custom', type, aux, keys: null, children: children.map((c, i) => go(c, joinPath(path, i))) }
      }
      const rec = children as { readonly [k: string]: unknown }
      const keys = Object.keys(rec).sort()
      return { kind: 'custom', type, aux, keys, children: keys.map((k) => go(rec[k], joinPath(path, k))) }
    }
    throw new PurediffError(
      'TreeError',
      `a parameter record may hold tensors, numbers, arrays, plain records and registered classes; found ${describeValue(t)}`,
      { op, path },
    )
  }
  const def = go(tree, '')
  return [leaves, def]
}

const TENSOR: TreeDef = Object.freeze({ kind: 'tensor' })
const NUMBER: TreeDef = Object.freeze({ kind: 'number' })

/**
 * Rebuild a tree from its structure and leaves (inverse of `flatten`).
 * @example
 * const [ls, def] = flatten({ w: tensor([1]), b: 2 })
 * // the leaves come back in flatten order: b, then w
 * const t = unflatten<{ w: number; b: number }>(def, ls.map((_, i) => 10 * (i + 1)))
 * t.b // 10
 * t.w // 20
 * @category constructors
 * @since 0.1.0
 */
export const unflatten = <T = Tree>(def: TreeDef, leaves: ReadonlyArray<unknown>): T => {
  let i = 0
  const go = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'tensor':
      case 'number':
        return leaves[i++]
      case 'array':
        return Object.freeze(d.children.map(go))
      case 'record':
        // fromEntries defines own properties, so even a key named __proto__ stays a key
        return Object.freeze(Object.fromEntries(d.keys.map((k, j) => [k, go(d.children[j] as TreeDef)])))
      case 'custom': {
        const rule = registry.get(d.type)
        if (rule === undefined)
          throw new PurediffError('TreeError', `${d.type.name} is no longer registered`, { op: 'unflatten' })
        const cs = d.children.map(go)
        const children =
          d.keys === null ? Object.freeze(cs) : Object.freeze(Object.fromEntries(d.keys.map((k, j) => [k, cs[j]])))
        return rule.unflatten(d.aux, children)
      }
    }
  }
  const out = go(def)
  if (i !== leaves.length) {
    throw new PurediffError('TreeError', `structure has ${i} leaves but ${leaves.length} were given`, {
      op: 'unflatten',
    })
  }
  return out as T
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Key paths of the leaves, in `flatten` order: `['b', 'layers[0].w', ...]`.
 * @example
 * keyPaths(flatten({ layers: [{ w: 1 }], b: 2 })[1]).join(' ') // 'b layers[0].w'
 * @category utils
 * @since 0.1.0
 */
export const keyPaths = (def: TreeDef): string[] => {
  const out: string[] = []
  const go = (d: TreeDef, path: string): void => {
    if (d.kind === 'tensor' || d.kind === 'number') out.push(path)
    else if (d.kind === 'array' || (d.kind === 'custom' && d.keys === null))
      d.children.forEach((c, j) => go(c, joinPath(path, j)))
    else {
      const keys = d.keys as ReadonlyArray<string>
      d.children.forEach((c, j) => go(c, joinPath(path, keys[j] as string)))
    }
  }
  go(def, '')
  return out
}

/**
 * Key paths of a tree's leaves.
 * @example
 * paths({ layers: [{ w: 1, b: 2 }], head: { 'x y': 3 } }).join(' ') // 'head["x y"] layers[0].b layers[0].w'
 * @category utils
 * @since 0.1.0
 */
export const paths = (tree: unknown): string[] => keyPaths(flatten(tree)[1])

/**
 * Check that two structures agree (numbers and tensors count as the same kind of leaf);
 * throws a `TreeError` naming the first key path where they differ.
 * @example
 * const [, da] = flatten({ w: tensor([1]), b: 0 })
 * // shapes do not count, and a number and a tensor are both leaves
 * assertSameStructure(da, flatten({ w: tensor([2, 3]), b: tensor([1]) })[1], 'myOp')
 * const tag = (() => {
 *   try {
 *     assertSameStructure(da, flatten({ w: tensor([1]) })[1], 'myOp')
 *     return 'none'
 *   } catch (e) {
 *     return (e as PurediffError).tag
 *   }
 * })()
 * tag // 'TreeError'
 * @category utils
 * @since 0.1.0
 */
export const assertSameStructure = (a: TreeDef, b: TreeDef, op: string, path = ''): void => {
  const leafA = a.kind === 'tensor' || a.kind === 'number'
  const leafB = b.kind === 'tensor' || b.kind === 'number'
  if (leafA && leafB) return
  if (a.kind !== b.kind) {
    throw new PurediffError('TreeError', `tree structures differ: ${a.kind} vs ${b.kind}`, { op, path })
  }
  if (a.kind === 'array' && b.kind === 'array') {
    if (a.children.length !== b.children.length) {
      throw new PurediffError('TreeError', `arrays differ in length: ${a.children.length} vs ${b.children.length}`, {
        op,
        path,
      })
    }
    a.children.forEach((c, j) => assertSameStructure(c, b.children[j] as TreeDef, op, joinPath(path, j)))
    return
  }
  if (a.kind === 'custom' && b.kind === 'custom') {
    if (a.type !== b.type)
      throw new PurediffError('TreeError', `tree structures differ: ${a.type.name} vs ${b.type.name}`, { op, path })
    if (a.children.length !== b.children.length) {
      throw new PurediffError(
        'TreeError',
        `${a.type.name} nodes differ in their number of children: ${a.children.length} vs ${b.children.length}`,
        { op, path },
      )
    }
    a.children.forEach((c, j) =>
      assertSameStructure(
        c,
        b.children[j] as TreeDef,
        op,
        a.keys === null ? joinPath(path, j) : joinPath(path, a.keys[j] as string),
      ),
    )
    return
  }
  if (a.kind === 'record' && b.kind === 'record') {
    const missing = a.keys.filter((k) => !b.keys.includes(k))
    const extra = b.keys.filter((k) => !a.keys.includes(k))
    if (missing.length > 0 || extra.length > 0) {
      throw new PurediffError(
        'TreeError',
        `record keys differ${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; extra: ${extra.join(', ')}` : ''}`,
        { op, path },
      )
    }
    a.children.forEach((c, j) =>
      assertSameStructure(c, b.children[j] as TreeDef, op, joinPath(path, a.keys[j] as string)),
    )
  }
}

/**
 * Apply `f` to every leaf, keeping the structure. `f` also gets the leaf's key path.
 * @example
 * map({ w: tensor([1]) }, (x) => mul(x, 2)).w // [2]
 * @category combinators
 * @since 0.1.0
 */
export const map = <T>(tree: T, f: (leaf: Leaf, path: string) => Leaf): T => {
  if (typeof f !== 'function') throw missingArgument('tree.map', 'the function f: tree.map(tree, f)')
  const [leaves, def] = flatten(tree, 'tree.map')
  const ps = keyPaths(def)
  return unflatten<T>(
    def,
    leaves.map((l, i) => f(l, ps[i] as string)),
  )
}

/**
 * Combine two trees of the same structure leaf by leaf; a structure mismatch is a
 * `TreeError` naming the key path.
 * @example
 * zipWith({ w: tensor([1, 2]) }, { w: tensor([3, 4]) }, (x, y) => add(x, y)).w // [4, 6]
 * zipWith({ w: 1 }, { w: 2 }, (x, y, path) => (path === 'w' ? 7 : 0)).w // 7
 * @category combinators
 * @since 0.1.0
 */
export const zipWith = <T>(a: T, b: T, f: (x: Leaf, y: Leaf, path: string) => Leaf, op = 'tree.zipWith'): T => {
  if (typeof f !== 'function') throw missingArgument(op, `the function f: ${op}(a, b, f)`)
  const [la, da] = flatten(a, op)
  const [lb, db] = flatten(b, op)
  assertSameStructure(da, db, op)
  const ps = keyPaths(da)
  return unflatten<T>(
    da,
    la.map((x, i) => f(x, lb[i] as Leaf, ps[i] as string)),
  )
}

/**
 * Leaves of a tree in `flatten` order.
 * @example
 * leaves({ b: 2, a: 1, c: [3, 4] }) // [1, 2, 3, 4]
 * @category utils
 * @since 0.1.0
 */
export const leaves = (tree: unknown): Leaf[] => flatten(tree)[0]
