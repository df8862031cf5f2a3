/**
 * `vmap`: map a function over a batch axis of its arguments, as JAX's `jax.vmap`.
 * `vmap(f)(xs)` equals stacking `f(x)` over the examples `x` of `xs`, but runs every op
 * once on the whole batch: it opens a batching level (src/ad/batching.ts) where each
 * primitive's batching rule rewrites the op for the batch.
 *
 * `inAxes` says where the batch axis of each argument is: a number (every leaf of every
 * argument), `null` (not batched: the same value for every example), or an array with one
 * entry per argument, each entry a number, `null`, or a tree that is a prefix of that
 * argument (`{ w: null, b: 0 }`). `outAxes` says where the batch axis goes in the output
 * (number, `null` for an output that does not depend on the batch, or a prefix tree of the
 * output). Negative axes count from the end. Both default to 0.
 *
 * Because it is a level of the same stack as `jvp` and `grad`, `vmap` composes with them in
 * every order: `vmap(grad(loss), { inAxes: [null, 0, 0] })` gives per-example gradients,
 * `grad(x => sum(vmap(f)(x)))` differentiates through a batch, and `vmap(vmap(f))` maps
 * over two axes.
 *
 * Purity: arguments are never modified; the result is a fresh frozen tree.
 */
import { BatchTracer, moveAxis } from '../ad/batching.js'
import { checkLive, withMain } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import { asTensor, broadcastTo, reshape } from '../ops/ops.js'
import { Tensor } from '../tensor/Tensor.js'
import type { Leaf } from '../tree/Tree.js'
import { flatten, keyPaths, unflatten } from '../tree/Tree.js'
import { joinPath } from '../tree/paths.js'
import { checkOptions } from './options.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Where a batch axis is: an axis, `null` (not batched), or a prefix tree of them. @category model */
export type AxisSpec = number | null | ReadonlyArray<AxisSpec> | { readonly [key: string]: AxisSpec }

/** Options of `vmap`. @category model */
export interface VmapOptions {
  /** where each argument's batch axis is (default 0) */
  readonly inAxes?: AxisSpec
  /** where the output's batch axis goes (default 0) */
  readonly outAxes?: AxisSpec
}

// -------------------------------------------------------------------------------------
// axis specs
// -------------------------------------------------------------------------------------

const OP = 'vmap'

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Tensor) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

const kindOf = (x: unknown): string =>
  x === null
    ? 'null'
    : Array.isArray(x)
      ? `an array of ${x.length}`
      : x instanceof Tensor
        ? 'a tensor'
        : typeof x === 'object'
          ? 'a record'
          : typeof x

/** The axis of every leaf of `tree` (in flatten order), from `spec`, a prefix tree of it. */
const axesOf = (spec: unknown, tree: unknown, path: string, what: string): Array<number | null> => {
  if (spec === null || typeof spec === 'number') {
    if (typeof spec === 'number' && !Number.isInteger(spec)) {
      throw new PurediffError('ValueError', `${what} ${spec} is not an integer axis`, { op: OP, path })
    }
    return flatten(tree, OP)[0].map(() => spec)
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length) {
      throw new PurediffError(
        'TreeError',
        `${what} is an array of ${spec.length} here but the value is ${kindOf(tree)}`,
        { op: OP, path },
      )
    }
    return spec.flatMap((s, i) => axesOf(s, tree[i], joinPath(path, i), what))
  }
  if (isPlainRecord(spec)) {
    if (!isPlainRecord(tree))
      throw new PurediffError('TreeError', `${what} is a record here but the value is ${kindOf(tree)}`, {
        op: OP,
        path,
      })
    const keys = Object.keys(tree).sort()
    const specKeys = Object.keys(spec).sort()
    if (keys.length !== specKeys.length || keys.some((k, i) => k !== specKeys[i])) {
      throw new PurediffError(
        'TreeError',
        `${what} has keys [${specKeys.join(', ')}] but the value has keys [${keys.join(', ')}]`,
        { op: OP, path },
      )
    }
    return keys.flatMap((k) => axesOf(spec[k], tree[k], joinPath(path, k), what))
  }
  throw new PurediffError(
    'ValueError',
    `${what} must be a number, null, or an array or record of them; found ${kindOf(spec)}`,
    { op: OP, path },
  )
}

/** The per-argument specs: one for every argument, from a number/null or one entry per argument. */
const argSpecs = (inAxes: AxisSpec, n: number): ReadonlyArray<AxisSpec> => {
  if (inAxes === null || typeof inAxes === 'number') return Array<AxisSpec>(n).fill(inAxes)
  if (Array.isArray(inAxes)) {
    if (inAxes.length !== n) {
      throw new PurediffError(
        'ValueError',
        `inAxes has ${inAxes.length} entries but the function was called with ${n} argument${n === 1 ? '' : 's'} (give one entry per argument)`,
        { op: OP },
      )
    }
    return inAxes
  }
  if (n === 1) return [inAxes]
  throw new PurediffError(
    'ValueError',
    `inAxes must be a number, null or an array with one entry per argument (got a record for ${n} arguments)`,
    { op: OP },
  )
}

const argPath = (i: number, n: number): string => (n === 1 ? '' : `arguments[${i}]`)

// -------------------------------------------------------------------------------------
// the transform
// -------------------------------------------------------------------------------------

/**
 * Map `f` over a batch axis of its arguments (JAX's `vmap`): the result is the stack of
 * `f` applied to each example, computed as one batched call.
 * @example
 * vmap((x: Tensor) => sum(x))(tensor([[1, 2], [3, 4]])) // ≈ [3, 7]
 * @example
 * // per-example gradients: params unbatched, data batched along axis 0
 * vmap(grad((w: Tensor, x: Tensor) => sum(mul(w, x))), { inAxes: [null, 0] })(tensor([1, 1]), tensor([[1, 2], [3, 4]])) // ≈ [[1, 2], [3, 4]]
 * @category transforms
 * @since 0.2.0
 */
export const vmap = <A extends unknown[], Y>(f: (...args: A) => Y, options: VmapOptions = {}): ((...args: A) => Y) => {
  checkOptions(OP, options, ['inAxes', 'outAxes'])
  const inAxes = options.inAxes === undefined ? 0 : options.inAxes
  const outAxes = options.outAxes === undefined ? 0 : options.outAxes
  return (...args: A): Y => {
    const specs = argSpecs(inAxes, args.length)
    let size: number | null = null
    let sizePath = ''
    const prepared = args.map((arg, ai) => {
      const [leaves, def] = flatten(arg, OP)
      const ps = keyPaths(def).map((p) =>
        argPath(ai, args.length) === ''
          ? p
          : p === ''
            ? argPath(ai, args.length)
            : `${argPath(ai, args.length)}${p.startsWith('[') ? '' : '.'}${p}`,
      )
      const axes = axesOf(specs[ai], arg, argPath(ai, args.length), 'inAxes')
      const norm = leaves.map((l, i) => {
        const a = axes[i] ?? null
        if (a === null) return null
        const path = ps[i] as string
        if (!(l instanceof Tensor)) {
          throw new PurediffError(
            'ValueError',
            `cannot map over axis ${a} of a number (give it inAxes null, or pass a tensor)`,
            { op: OP, path },
          )
        }
        const ax = a < 0 ? a + l.rank : a
        if (ax < 0 || ax >= l.rank) {
          throw new PurediffError('ShapeError', `inAxes ${a} is out of range for a value of rank ${l.rank}`, {
            op: OP,
            shapes: [l.shape],
            path,
          })
        }
        const n = l.shape[ax] as number
        if (size === null) {
          size = n
          sizePath = path
        } else if (n !== size) {
          throw new PurediffError(
            'ShapeError',
            `batch sizes differ: axis ${a} has extent ${n} here but ${size} at '${sizePath === '' ? '(the argument)' : sizePath}'`,
            { op: OP, shapes: [l.shape], path },
          )
        }
        return ax
      })
      return { leaves, def, norm }
    })
    if (size === null) {
      throw new PurediffError('ValueError', 'at least one argument must be batched (inAxes are all null)', { op: OP })
    }
    const b: number = size
    return withMain('batch', OP, (main) => {
      const inner = prepared.map(({ leaves, def, norm }) =>
        unflatten(
          def,
          leaves.map((l, i) => {
            const ax = norm[i] ?? null
            return ax === null ? l : new BatchTracer(main, l as Tensor, ax)
          }),
        ),
      ) as A
      const out = f(...inner)
      const [ys, ydef] = flatten(out, OP)
      const ps = keyPaths(ydef)
      const axes = axesOf(outAxes, out, '', 'outAxes')
      const results = ys.map((l: Leaf, i) => {
        const path = ps[i] as string
        const a = axes[i] ?? null
        const t = asTensor(l, OP)
        checkLive(t)
        const batched = t instanceof BatchTracer && t.main === main
        const rank = t.rank + 1
        if (a === null) {
          if (batched) {
            throw new PurediffError(
              'ValueError',
              'outAxes is null but this output depends on the batch (it differs between examples)',
              { op: OP, shapes: [t.shape], path },
            )
          }
          return l
        }
        const ax = a < 0 ? a + rank : a
        if (ax < 0 || ax >= rank) {
          throw new PurediffError(
            'ShapeError',
            `outAxes ${a} is out of range for an output of rank ${t.rank} (batched: ${rank})`,
            { op: OP, shapes: [t.shape], path },
          )
        }
        if (batched) return moveAxis(t.primal, t.bdim, ax)
        // an output that does not depend on the batch: the same value for every example
        const whole = broadcastTo(reshape(t, [1, ...t.shape]), [b, ...t.shape])
        return moveAxis(whole, 0, ax)
      })
      return unflatten<Y>(ydef, results)
    })
  }
}
