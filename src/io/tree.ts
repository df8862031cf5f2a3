/**
 * Codecs for parameter trees (records and arrays of tensors, with numbers allowed as leaves)
 * and the key-path language that names their leaves.
 *
 * JSON form (`TreeJSON`): a tensor is its `TensorJSON` (`{ dtype, shape, data }`), a number is
 * a `JSONNumber` (NaN, ±Infinity and -0 as the strings 'NaN', 'Infinity', '-Infinity',
 * '-0'), arrays are arrays and records are objects. The form is unambiguous: a tensor's
 * `dtype` is a dtype name, while a record's values are trees, so the only strings a record
 * can hold are those four spellings. Hence an object whose `dtype` is a string other than
 * the four spellings is a tensor (an unknown name such as "int8" is reported as a bad
 * tensor dtype), and every other object is a record: `{ "dtype": "NaN" }` is the record
 * `{ dtype: NaN }`. Empty arrays and records survive the round trip.
 *
 * Key paths are written as `src/tree/` writes them: `layers[0].w`, with bracketed JSON
 * strings for keys that are not identifiers (`["my key"]`). `treeFromPaths` rebuilds a tree
 * from `(key path, leaf)` pairs (as a safetensors file stores them); conflicts, gaps in
 * array indices and unparsable paths are reported, never guessed at.
 *
 * Purity: decoding builds fresh, frozen records and arrays (records via
 * `Object.fromEntries`, so a key named `__proto__` is an ordinary key); nothing handed in is
 * mutated.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { PurediffError } from '../errors.js'
import { ConcreteTensor, Tensor } from '../tensor/Tensor.js'
import type { Leaf, Tree } from '../tree/Tree.js'
import { decodeErrorOf, decodeWith } from './DecodeError.js'
import type { PurediffDecodeError } from './DecodeError.js'
import { child, describe, failAt, joinKey, quote } from './report.js'
import { TensorCodec, decodeNumber, encodeNumber, encodeTensor, isTensorJSON } from './tensor.js'
import type { JSONNumber, TensorJSON } from './tensor.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A parameter tree as JSON.
 * @category model
 * @since 0.1.0
 */
export type TreeJSON = TensorJSON | JSONNumber | ReadonlyArray<TreeJSON> | { readonly [key: string]: TreeJSON }

/**
 * One step of a key path: a record key or an array index.
 * @category model
 * @since 0.1.0
 */
export type PathSegment = string | number

/** Trees nested deeper than this are rejected (decoding) or refused (encoding) rather than overflowing the stack. */
export const MAX_DEPTH = 256

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && !ArrayBuffer.isView(u) && !(u instanceof Tensor)

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const validateTree = (
  u: unknown,
  c: t.Context,
  depth: number,
  self: t.Decoder<unknown, unknown>,
): t.Validation<Tree> => {
  if (depth > MAX_DEPTH) return failAt(u, c, `nested deeper than ${MAX_DEPTH} levels`)
  if (u instanceof Tensor) return TensorCodec.validate(u, c)
  if (typeof u === 'number') return E.right(u)
  if (typeof u === 'string') {
    const v = decodeNumber(u)
    return v === undefined
      ? failAt(u, c, `expected a tensor, a number, an array or a record, got ${describe(u)}`)
      : E.right(v)
  }
  if (Array.isArray(u)) {
    const errors: t.ValidationError[] = []
    const out: Tree[] = new Array(u.length)
    u.forEach((x: unknown, i) => {
      const r = validateTree(x, child(c, String(i), self, x), depth + 1, self)
      if (E.isLeft(r)) errors.push(...r.left)
      else out[i] = r.right
    })
    return errors.length > 0 ? E.left(errors) : E.right(Object.freeze(out))
  }
  if (isPlainObject(u)) {
    // A string `dtype` other than the four special-number spellings marks a tensor (see isTensorJSON).
    if (isTensorJSON(u)) return TensorCodec.validate(u, c)
    const errors: t.ValidationError[] = []
    const entries: Array<[string, Tree]> = []
    for (const key of Object.keys(u)) {
      const x = u[key]
      const r = validateTree(x, child(c, key, self, x), depth + 1, self)
      if (E.isLeft(r)) errors.push(...r.left)
      else entries.push([key, r.right])
    }
    return errors.length > 0 ? E.left(errors) : E.right(Object.freeze(Object.fromEntries(entries)))
  }
  return failAt(u, c, `expected a tensor, a number, an array or a record, got ${describe(u)}`)
}

/**
 * A tree as frozen JSON. Throws a `TreeError` naming the key path for a value that is not
 * part of a parameter tree (a string, `null`, a function, a cycle).
 * @example
 * toJSON({ w: tensor([1, NaN]), lr: 0.1 }) // { w: { dtype: 'float64', shape: [2], data: [1, 'NaN'] }, lr: 0.1 }
 * toJSON({ w: tensor([1, NaN]), lr: 0.1 }).lr // 0.1
 * @category constructors
 * @since 0.1.0
 */
export const toJSON = (tree: Tree): TreeJSON => {
  const go = (x: unknown, path: string, depth: number): TreeJSON => {
    if (depth > MAX_DEPTH) {
      throw new PurediffError('TreeError', `tree nested deeper than ${MAX_DEPTH} levels (a cycle?)`, {
        op: 'io.toJSON',
        path,
      })
    }
    if (x instanceof Tensor) return encodeTensor(x)
    if (typeof x === 'number') return encodeNumber(x)
    if (Array.isArray(x)) return Object.freeze(x.map((v: unknown, i) => go(v, joinKey(path, i), depth + 1)))
    if (isPlainObject(x)) {
      return Object.freeze(Object.fromEntries(Object.keys(x).map((k) => [k, go(x[k], joinKey(path, k), depth + 1)])))
    }
    throw new PurediffError(
      'TreeError',
      `a parameter record may hold tensors, numbers, arrays and plain records; found ${describe(x)}`,
      { op: 'io.toJSON', path },
    )
  }
  return go(tree, '', 0)
}

const isTree = (u: unknown, depth = 0): u is Tree => {
  if (depth > MAX_DEPTH) return false
  if (u instanceof ConcreteTensor || typeof u === 'number') return true
  if (Array.isArray(u)) return u.every((x: unknown) => isTree(x, depth + 1))
  if (isPlainObject(u)) return Object.keys(u).every((k) => isTree(u[k], depth + 1))
  return false
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The codec of any parameter tree: `TreeJSON` ↔ `Tree` (tensors decode to concrete tensors;
 * in-memory trees decode to themselves, their tensors checked). Failures name key paths.
 * @example
 * TreeCodec.decode({ layers: [{ w: { dtype: 'float32', shape: [1], data: ['-Infinity'] } }], lr: 0.1 })
 * isRight(TreeCodec.decode({ layers: [{ w: { dtype: 'float32', shape: [1], data: ['-Infinity'] } }], lr: 0.1 })) // true
 * @category instances
 * @since 0.1.0
 */
export const TreeCodec: t.Type<Tree, TreeJSON, unknown> = new t.Type<Tree, TreeJSON, unknown>(
  'Tree',
  (u): u is Tree => isTree(u),
  (u, c) => {
    try {
      return validateTree(u, c, 0, TreeCodec)
    } catch (e) {
      return failAt(u, c, `could not read the value: ${e instanceof Error ? e.message : String(e)}`)
    }
  },
  toJSON,
)

/**
 * Decode a tree from JSON (already parsed) with a readable report on failure.
 * @example
 * fromJSON(JSON.parse(JSON.stringify(toJSON(params)))) // Right(params)
 * isRight(fromJSON(JSON.parse(JSON.stringify(toJSON(params))))) // true
 * @category constructors
 * @since 0.1.0
 */
export const fromJSON: (json: unknown) => E.Either<PurediffDecodeError, Tree> = decodeWith(TreeCodec)

// -------------------------------------------------------------------------------------
// utils (key paths)
// -------------------------------------------------------------------------------------

/**
 * Parse a key path (`layers[0].w`, `a["x y"][2]`, `''` for the root) into segments.
 * @example
 * parseKeyPath('layers[0].w') // Right(['layers', 0, 'w'])
 * pipe(parseKeyPath('layers[0].w'), E.map((ks) => ks.join(' ')), E.getOrElse(() => '')) // 'layers 0 w'
 * @category utils
 * @since 0.1.0
 */
export const parseKeyPath = (path: string): E.Either<string, ReadonlyArray<PathSegment>> => {
  const segs: PathSegment[] = []
  let i = 0
  const bad = (why: string): E.Either<string, never> =>
    E.left(`cannot parse key path ${quote(path)}: ${why} at character ${i}`)
  const ident = /[A-Za-z_$][\w$]*/y
  while (i < path.length) {
    if (segs.length >= MAX_DEPTH) return bad(`nested deeper than ${MAX_DEPTH} levels`)
    const ch = path[i]
    if (ch === '[') {
      const next = path[i + 1]
      if (next === '"') {
        // A JSON string literal: find its closing quote, skipping escapes.
        let j = i + 2
        while (j < path.length && path[j] !== '"') j += path[j] === '\\' ? 2 : 1
        if (j >= path.length || path[j + 1] !== ']') return bad('unterminated ["..."]')
        let key: unknown
        try {
          key = JSON.parse(path.slice(i + 1, j + 1))
        } catch {
          return bad('invalid string in ["..."]')
        }
        segs.push(key as string)
        i = j + 2
      } else {
        const m = /\[(0|[1-9]\d*)\]/y
        m.lastIndex = i
        const r = m.exec(path)
        if (r === null) return bad('expected [index] or ["key"]')
        const n = Number(r[1])
        if (!Number.isSafeInteger(n)) return bad('index too large')
        segs.push(n)
        i = m.lastIndex
      }
    } else {
      if (segs.length > 0) {
        if (ch !== '.') return bad("expected '.', '[' or the end")
        i++
      }
      ident.lastIndex = i
      const r = ident.exec(path)
      if (r === null) return bad('expected an identifier')
      segs.push(r[0])
      i = ident.lastIndex
    }
  }
  return E.right(Object.freeze(segs))
}

type Node =
  | { kind: 'leaf'; name: string; value: Leaf }
  | { kind: 'array'; children: Map<number, Node> }
  | { kind: 'record'; children: Map<string, Node> }

const firstLeafName = (n: Node): string => {
  if (n.kind === 'leaf') return n.name
  for (const c of n.children.values()) return firstLeafName(c)
  return '?'
}

/**
 * Rebuild a tree from `(key path, leaf)` pairs. Reports (never guesses) unparsable paths,
 * two names for one leaf, a leaf that is also a container, a key used both as an index and
 * as a name, and arrays with missing indices. No pairs give the empty record.
 * @example
 * treeFromPaths([['layers[0].w', w0], ['layers[1].w', w1], ['b', b]]) // Right({ b, layers: [{ w: w0 }, { w: w1 }] })
 * isRight(treeFromPaths([['layers[0].w', w0], ['layers[1].w', w1], ['b', b]])) // true
 * @category utils
 * @since 0.1.0
 */
export const treeFromPaths = (entries: ReadonlyArray<readonly [string, Leaf]>): E.Either<PurediffDecodeError, Tree> => {
  const errors: string[] = []
  let root: Node | undefined
  const place = (segs: ReadonlyArray<PathSegment>, name: string, value: Leaf): void => {
    const leaf: Node = { kind: 'leaf', name, value }
    if (segs.length === 0) {
      if (root !== undefined)
        errors.push(`${quote(name)} is the whole tree, but ${quote(firstLeafName(root))} is also stored`)
      else root = leaf
      return
    }
    const kindFor = (s: PathSegment): 'array' | 'record' => (typeof s === 'number' ? 'array' : 'record')
    if (root === undefined)
      root =
        kindFor(segs[0] as PathSegment) === 'array'
          ? { kind: 'array', children: new Map() }
          : { kind: 'record', children: new Map() }
    let node: Node = root
    let where = ''
    for (let k = 0; k < segs.length; k++) {
      const s = segs[k] as PathSegment
      if (node.kind === 'leaf') {
        errors.push(`${quote(node.name)} is a leaf, but ${quote(name)} puts a value inside it`)
        return
      }
      if (node.kind !== kindFor(s)) {
        errors.push(
          `${quote(name)} uses ${typeof s === 'number' ? `index [${s}]` : `key ${quote(s)}`} at ${where === '' ? 'the root' : `'${where}'`}, which other names use as ${node.kind === 'array' ? 'an array' : 'a record'}`,
        )
        return
      }
      const children = node.children as Map<PathSegment, Node>
      const last = k === segs.length - 1
      const existing = children.get(s)
      where = joinKey(where, s)
      if (last) {
        if (existing === undefined) children.set(s, leaf)
        else if (existing.kind === 'leaf')
          errors.push(`${quote(existing.name)} and ${quote(name)} both name the key path '${where}'`)
        else errors.push(`${quote(name)} is a leaf, but ${quote(firstLeafName(existing))} puts a value inside it`)
        return
      }
      if (existing === undefined) {
        const fresh: Node =
          kindFor(segs[k + 1] as PathSegment) === 'array'
            ? { kind: 'array', children: new Map() }
            : { kind: 'record', children: new Map() }
        children.set(s, fresh)
        node = fresh
      } else node = existing
    }
  }
  for (const [name, value] of entries) {
    const p = parseKeyPath(name)
    if (E.isLeft(p)) errors.push(p.left)
    else place(p.right, name, value)
  }
  if (errors.length > 0) return E.left(decodeErrorOf('FormatError', errors))
  if (root === undefined) return E.right(Object.freeze({}))

  const build = (n: Node, path: string): Tree => {
    if (n.kind === 'leaf') return n.value
    if (n.kind === 'record') {
      return Object.freeze(Object.fromEntries([...n.children].map(([k, c]) => [k, build(c, joinKey(path, k))])))
    }
    const size = n.children.size
    const missing: number[] = []
    for (let i = 0; i < size && missing.length < 5; i++) if (!n.children.has(i)) missing.push(i)
    if (missing.length > 0) {
      const present = [...n.children.keys()].sort((a, b) => a - b)
      errors.push(
        `array at '${path}' has indices ${present.slice(0, 5).join(', ')}${present.length > 5 ? ', ...' : ''} but not ${missing.join(', ')}`,
      )
      return Object.freeze([])
    }
    const out: Tree[] = new Array(size)
    for (let i = 0; i < size; i++) out[i] = build(n.children.get(i) as Node, joinKey(path, i))
    return Object.freeze(out)
  }
  const tree = build(root, '')
  return errors.length > 0 ? E.left(decodeErrorOf('FormatError', errors)) : E.right(tree)
}
