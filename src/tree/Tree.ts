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
import { PurediffError } from '../errors.js'
import { Tensor } from '../tensor/Tensor.js'
import { joinPath } from './paths.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A leaf of a parameter record. @category model */
export type Leaf = Tensor | number
/** A parameter record: leaves nested in arrays and plain records. @category model */
export type Tree = Leaf | ReadonlyArray<Tree> | { readonly [key: string]: Tree }

/** The structure of a tree without its leaves. @category model */
export type TreeDef =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'number' }
  | { readonly kind: 'array'; readonly children: ReadonlyArray<TreeDef> }
  | { readonly kind: 'record'; readonly keys: ReadonlyArray<string>; readonly children: ReadonlyArray<TreeDef> }

const isRecord = (x: unknown): x is { readonly [k: string]: unknown } =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor) && !ArrayBuffer.isView(x)

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Leaves in a fixed order (arrays by index, records by sorted key) and the structure.
 * @example
 * flatten({ w: tensor([1, 2]), b: 0 }) // [[0, tensor([1, 2])], def] (keys sorted: b, w)
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
    throw new PurediffError(
      'TreeError',
      `a parameter record may hold tensors, numbers, arrays and plain records; found ${t === null ? 'null' : typeof t}`,
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
    }
  }
  const out = go(def)
  if (i !== leaves.length) {
    throw new PurediffError('TreeError', `structure has ${i} leaves but ${leaves.length} were given`, { op: 'unflatten' })
  }
  return out as T
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/** Key paths of the leaves, in `flatten` order: `['b', 'layers[0].w', ...]`. @category utils @since 0.1.0 */
export const keyPaths = (def: TreeDef): string[] => {
  const out: string[] = []
  const go = (d: TreeDef, path: string): void => {
    if (d.kind === 'tensor' || d.kind === 'number') out.push(path)
    else if (d.kind === 'array') d.children.forEach((c, j) => go(c, joinPath(path, j)))
    else d.children.forEach((c, j) => go(c, joinPath(path, d.keys[j] as string)))
  }
  go(def, '')
  return out
}

/** Key paths of a tree's leaves. @category utils @since 0.1.0 */
export const paths = (tree: unknown): string[] => keyPaths(flatten(tree)[1])

/**
 * Check that two structures agree (numbers and tensors count as the same kind of leaf);
 * throws a `TreeError` naming the first key path where they differ.
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
      throw new PurediffError('TreeError', `arrays differ in length: ${a.children.length} vs ${b.children.length}`, { op, path })
    }
    a.children.forEach((c, j) => assertSameStructure(c, b.children[j] as TreeDef, op, joinPath(path, j)))
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
    a.children.forEach((c, j) => assertSameStructure(c, b.children[j] as TreeDef, op, joinPath(path, a.keys[j] as string)))
  }
}

/**
 * Apply `f` to every leaf, keeping the structure. `f` also gets the leaf's key path.
 * @example
 * map({ w: tensor([1]) }, (x) => mul(x, 2))
 * @category combinators
 * @since 0.1.0
 */
export const map = <T>(tree: T, f: (leaf: Leaf, path: string) => Leaf): T => {
  const [leaves, def] = flatten(tree, 'tree.map')
  const ps = keyPaths(def)
  return unflatten<T>(def, leaves.map((l, i) => f(l, ps[i] as string)))
}

/**
 * Combine two trees of the same structure leaf by leaf; a structure mismatch is a
 * `TreeError` naming the key path.
 * @category combinators
 * @since 0.1.0
 */
export const zipWith = <T>(a: T, b: T, f: (x: Leaf, y: Leaf, path: string) => Leaf, op = 'tree.zipWith'): T => {
  const [la, da] = flatten(a, op)
  const [lb, db] = flatten(b, op)
  assertSameStructure(da, db, op)
  const ps = keyPaths(da)
  return unflatten<T>(da, la.map((x, i) => f(x, lb[i] as Leaf, ps[i] as string)))
}

/** Leaves of a tree in `flatten` order. @category utils @since 0.1.0 */
export const leaves = (tree: unknown): Leaf[] => flatten(tree)[0]
