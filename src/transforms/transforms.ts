/**
 * The transforms, in JAX's vocabulary: `jvp` pushes a tangent forward (dual numbers on
 * tensors), `vjp` pulls a cotangent back (a tape), and everything else is built from those
 * two: `grad`, `valueAndGrad`, `jacfwd`, `jacrev`, `hessian` (forward-over-reverse),
 * `hvp`, `derivative`, plus `customJvp`/`customVjp` for user rules.
 *
 * Inputs may be a tensor, a number, or any record/array tree of them; outputs of `grad`,
 * `vjp`'s pullback and `hvp` have the input's structure (a number leaf gives a number back
 * when the result is concrete). Each call opens its own level, so transforms nest freely:
 * `grad(grad(f))`, `jvp(grad(f), x, v)`, `grad(x => jvp(f, x, v)[1])` all work, to any order.
 *
 * Purity: transforms never modify their arguments; every returned tree is frozen.
 */
import {
  JvpTracer,
  Tracer,
  VjpTracer,
  backward,
  bind,
  checkLive,
  inputNode,
  recordCustom,
  topMain,
  withMain,
} from '../ad/trace.js'
import type { MainTrace } from '../ad/trace.js'
import { BatchTracer, moveAxis } from '../ad/batching.js'
import { markNumberResult, stage } from '../ad/staging.js'
import { PurediffError } from '../errors.js'
import { asTensor, broadcastTo, cast, reshape, slice as sliceOp, zerosLike } from '../ops/ops.js'
import type { AbstractValue, AnyPrimitive, JvpRule, Primitive, VjpRule } from '../primitives/types.js'
import type { ConcreteTensor } from '../tensor/Tensor.js'
import { Tensor, fromData, shapeEq } from '../tensor/Tensor.js'
import type { Jacobian, Leaf, TreeDef } from '../tree/Tree.js'
import { assertSameStructure, flatten, keyPaths, unflatten } from '../tree/Tree.js'
import { blameLeaf } from './keypaths.js'
import { registerCustomRule, oneLine } from './customRule.js'
import type { CustomRuleInfo } from './customRule.js'
import { checkOptions } from './options.js'
import { vmap } from './vmap.js'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const leafTensor = (l: Leaf, op: string, path: string): Tensor => {
  if (l instanceof Tensor) return l
  if (typeof l === 'number') return asTensor(l, op)
  throw new PurediffError('TreeError', `expected a tensor or a number`, { op, path })
}

/** Give a number back for a number leaf when the result is concrete and scalar. */
const likeLeaf = (orig: Leaf, result: Tensor): Leaf => {
  // a staged number argument (weak) stands for a number: the compiled program gives a number back
  if ((typeof orig === 'number' || (orig as { readonly weak?: boolean }).weak === true) && result instanceof Tracer)
    markNumberResult(result)
  return typeof orig === 'number' && !(result instanceof Tracer) && result.size === 1 ? result.item() : result
}

const flattenArgs = (x: unknown, op: string): [Tensor[], TreeDef, Leaf[], string[]] => {
  const [leaves, def] = flatten(x, op)
  const ps = keyPaths(def)
  return [leaves.map((l, i) => leafTensor(l, op, ps[i] as string)), def, leaves, ps]
}

const unwrapAt = (main: MainTrace, t: Tensor): Tensor => (t instanceof Tracer && t.main === main ? t.primal : t)

/** Check a tangent/cotangent leaf against its primal: same shape (dtype follows the primal). */
const matchLeaf = (primal: Tensor, t: Tensor, op: string, path: string, what: string): Tensor => {
  if (!shapeEq(primal.shape, t.shape)) {
    if (t.size === 1 && primal.size === 1) return cast(reshape(t, primal.shape), primal.dtype)
    throw new PurediffError('ShapeError', `${what} shape does not match the primal's`, {
      op,
      shapes: [primal.shape, t.shape],
      path,
    })
  }
  return t.dtype === primal.dtype ? t : cast(t, primal.dtype)
}

// -------------------------------------------------------------------------------------
// forward mode
// -------------------------------------------------------------------------------------

/**
 * Forward mode: the value of `f` at `x` and its directional derivative along `xDot`
 * (a tree of the same structure).
 * @example
 * jvp((x) => mul(x, x), 3, 1) // [9, 6] as tensors
 * @category transforms
 * @since 0.1.0
 */
export const jvp = <X, Y>(f: (x: X) => Y, x: X, xDot: X, options?: Record<string, never>): [Y, Y] => {
  checkOptions('jvp', options, [])
  return jvpAs('jvp', f, x, xDot)
}

/** `jvp` under the name of the transform the user called (for errors). */
const jvpAs = <X, Y>(op: string, f: (x: X) => Y, x: X, xDot: X): [Y, Y] => {
  const [xs, def, , ps] = flattenArgs(x, op)
  const [ts, tdef] = flattenArgs(xDot, op)
  assertSameStructure(def, tdef, op)
  return withMain('jvp', op, (main) => {
    const duals = xs.map(
      (xi, i) => new JvpTracer(main, xi, matchLeaf(xi, ts[i] as Tensor, op, ps[i] as string, 'tangent')),
    )
    let out: Y
    try {
      out = f(unflatten<X>(def, duals))
    } catch (e) {
      throw blameLeaf(e, duals, ps)
    }
    const [ys, ydef] = flatten(out, op)
    const prim: Leaf[] = []
    const tan: Leaf[] = []
    for (const l of ys) {
      const y = leafTensor(l, op, '')
      checkLive(y)
      if (y instanceof JvpTracer && y.main === main) {
        prim.push(y.primal)
        tan.push(y.tangent)
      } else {
        prim.push(l)
        tan.push(zerosLike(y))
      }
    }
    return Object.freeze([unflatten<Y>(ydef, prim), unflatten<Y>(ydef, tan)]) as [Y, Y]
  })
}

/**
 * The derivative of a scalar function of a scalar, by dual numbers (forward mode).
 * For a tensor `x`, the tangent is all ones: for an elementwise `f` that is the elementwise derivative.
 * @example
 * derivative((x) => sin(x))(0) // 1
 * derivative(derivative((x) => pow(x, 3)))(2) // 12
 * @category transforms
 * @since 0.1.0
 */
export const derivative = <X extends Tensor | number>(
  f: (x: X) => Tensor | number,
  options?: Record<string, never>,
): ((x: X) => X) => {
  checkOptions('derivative', options, [])
  return (x: X): X => derivativeAt(f, x)
}

const derivativeAt = <X extends Tensor | number>(f: (x: X) => Tensor | number, x: X): X => {
  const t = leafTensor(x as Leaf, 'derivative', '')
  const one = broadcastTo(asTensor(1, 'derivative', t.dtype), t.shape)
  const [, yDot] = jvpAs('derivative', (u: Tensor) => f(u as X), t, one)
  const out = leafTensor(yDot as Leaf, 'derivative', '')
  return likeLeaf(x as Leaf, out) as X
}

// -------------------------------------------------------------------------------------
// reverse mode
// -------------------------------------------------------------------------------------

/**
 * Reverse mode: the value of `f` at `x` and a pullback taking an output cotangent (a tree
 * like the output) to an input cotangent (a tree like `x`). The pullback may be called
 * many times.
 * @example
 * const [y, pullback] = vjp((x: Tensor) => mul(x, x), tensor([3]))
 * y // [9]
 * pullback(tensor([1])) // [6]
 * @category transforms
 * @since 0.1.0
 */
export const vjp = <X, Y>(f: (x: X) => Y, x: X, options?: Record<string, never>): [Y, (yBar: Y) => X] => {
  checkOptions('vjp', options, [])
  return vjpAs('vjp', f, x)
}

/** `vjp` under the name of the transform the user called (for errors). */
const vjpAs = <X, Y>(op: string, f: (x: X) => Y, x: X): [Y, (yBar: Y) => X] => {
  const [xs, def, origLeaves, ps] = flattenArgs(x, op)
  let main!: MainTrace
  const tracers: VjpTracer[] = []
  const out = withMain('vjp', op, (m) => {
    main = m
    xs.forEach((xi) => tracers.push(new VjpTracer(m, xi, inputNode())))
    try {
      return f(unflatten<X>(def, tracers))
    } catch (e) {
      throw blameLeaf(e, tracers, ps)
    }
  })
  const [ys, ydef] = flatten(out, op)
  const yTensors = ys.map((l) => leafTensor(l, op, ''))
  const yPrimal = ys.map((l, i) => {
    const t = yTensors[i] as Tensor
    if (t instanceof Tracer && t.main === main) return t.primal
    checkLive(t)
    return l
  })
  const pullback = (yBar: Y): X => {
    const [bs, bdef] = flattenArgs(yBar, `${op} pullback`)
    assertSameStructure(ydef, bdef, `${op} pullback`)
    const seeds = yTensors.map(
      (y, i) => [y, matchLeaf(unwrapAt(main, y), bs[i] as Tensor, `${op} pullback`, '', 'cotangent')] as const,
    )
    const cts = backward(
      main,
      seeds,
      tracers.map((t) => t.node),
    )
    return unflatten<X>(
      def,
      cts.map((g, i) => {
        const xi = xs[i] as Tensor
        const v = g === null ? zerosLike(xi) : matchLeaf(xi, g, op, ps[i] as string, 'cotangent')
        return likeLeaf(origLeaves[i] as Leaf, v)
      }),
    )
  }
  return Object.freeze([unflatten<Y>(ydef, yPrimal), pullback]) as [Y, (yBar: Y) => X]
}

// -------------------------------------------------------------------------------------
// choosing what to differentiate
// -------------------------------------------------------------------------------------

/** Which positional arguments to differentiate: one index, or a list (the result is then a tuple). @category model */
export type Argnums = number | ReadonlyArray<number>

/** The arguments `argnums` picks: one argument, or a tuple of them. @category model */
export type Picked<A extends unknown[], N> = N extends number ? A[N] : { -readonly [K in keyof N]: A[N[K] & number] }

/** Options of `grad` and `valueAndGrad`. @category model */
export interface GradOptions {
  /** which positional arguments to differentiate (default 0); a list gives a tuple of gradients */
  readonly argnums?: Argnums
  /**
   * key paths of the leaves to differentiate (`'w'`, `'layers.0.b'` or `'layers[0].b'`; a
   * path names a leaf or a whole subtree); the other leaves are held constant and get zero
   * gradients (they are not traced)
   */
  readonly wrt?: string | ReadonlyArray<string>
  /** `f` returns `[loss, aux]`; aux is passed through (with its tracers unwrapped). */
  readonly hasAux?: boolean
}
/** Options of `valueAndGrad` (as `grad`'s). @category model */
export type ValueAndGradOptions = GradOptions

/** Options of `jacfwd`, `jacrev` and `hessian`. @category model */
export interface JacobianOptions {
  /** which positional arguments to differentiate (default 0) */
  readonly argnums?: Argnums
}

/** The differentiated part of the arguments, and how to put a value for it back. */
const pickArgs = (op: string, argnums: unknown, args: ReadonlyArray<unknown>): [unknown, (x: unknown) => unknown[]] => {
  const nums: ReadonlyArray<unknown> = typeof argnums === 'number' ? [argnums] : Array.isArray(argnums) ? argnums : []
  if ((typeof argnums !== 'number' && !Array.isArray(argnums)) || nums.length === 0) {
    throw new PurediffError(
      'ValueError',
      `argnums must be an argument index or a non-empty list of them, got ${JSON.stringify(argnums)}`,
      { op },
    )
  }
  nums.forEach((n, j) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= args.length) {
      throw new PurediffError(
        'ValueError',
        `argnums ${JSON.stringify(n)} is not the index of an argument (the function was called with ${args.length})`,
        { op },
      )
    }
    if (nums.indexOf(n) !== j) throw new PurediffError('ValueError', `argnums lists ${n} twice`, { op })
  })
  const idx = nums as ReadonlyArray<number>
  const x = typeof argnums === 'number' ? args[argnums] : idx.map((i) => args[i])
  const put = (u: unknown): unknown[] => {
    const out = args.slice()
    if (typeof argnums === 'number') out[argnums] = u
    else idx.forEach((n, j) => (out[n] = (u as ReadonlyArray<unknown>)[j]))
    return out
  }
  return [x, put]
}

/** A key path in one spelling: `layers[0].b`, `layers.0.b` and `["layers"][0]["b"]` all become `layers.0.b`. */
const normPath = (p: string): string =>
  p
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\[("(?:[^"\\]|\\.)*")\]/g, (_, k: string) => `.${JSON.parse(k) as string}`)
    .replace(/^\./, '')

/** Which leaves `wrt` selects (all of them when it is absent); a path that names no leaf is an error. */
const selectWrt = (op: string, ps: ReadonlyArray<string>, wrt: unknown): boolean[] => {
  if (wrt === undefined) return ps.map(() => true)
  const list: ReadonlyArray<unknown> = typeof wrt === 'string' ? [wrt] : Array.isArray(wrt) ? wrt : [null]
  if (list.some((w) => typeof w !== 'string')) {
    throw new PurediffError('ValueError', 'wrt must be a key path or a list of key paths (strings)', { op })
  }
  const leafPaths = ps.map(normPath)
  const sel = ps.map(() => false)
  for (const w of list as ReadonlyArray<string>) {
    const nw = normPath(w)
    let hit = false
    leafPaths.forEach((p, i) => {
      if (nw === '' || p === nw || p.startsWith(`${nw}.`)) {
        sel[i] = true
        hit = true
      }
    })
    if (!hit) {
      throw new PurediffError(
        'TreeError',
        `wrt names no leaf of the argument; its leaves are: ${ps.map((p) => (p === '' ? '(the argument itself)' : p)).join(', ')}`,
        { op, path: w },
      )
    }
  }
  return sel
}

const checkScalar = (y: unknown, op: string): Tensor => {
  if (typeof y === 'number') return asTensor(y, op)
  if (!(y instanceof Tensor)) {
    throw new PurediffError(
      'NonScalarOutput',
      `the function must return a scalar tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'an array (use hasAux: true to return [loss, aux])' : typeof y}`,
      { op },
    )
  }
  if (y.rank !== 0) {
    throw new PurediffError(
      'NonScalarOutput',
      'the function must return a scalar (shape []); reduce it first, e.g. with sum or mean',
      { op, shapes: [y.shape] },
    )
  }
  return y
}

const GRAD_OPTIONS = ['argnums', 'wrt', 'hasAux'] as const

/** `valueAndGrad` under the name of the transform the user called (for errors). */
const valueAndGradAs = (op: string, f: (...args: never[]) => unknown, options: GradOptions) => {
  checkOptions(op, options, GRAD_OPTIONS)
  const argnums = options.argnums ?? 0
  return (...args: unknown[]): unknown => {
    const [x, put] = pickArgs(op, argnums, args)
    const [xs, def, origLeaves, ps] = flattenArgs(x, op)
    const sel = selectWrt(op, ps, options.wrt)
    let main!: MainTrace
    const tracers: Array<VjpTracer | null> = []
    const out = withMain('vjp', op, (m) => {
      main = m
      const leaves = xs.map((xi, i) => {
        if (sel[i] !== true) {
          tracers.push(null)
          return origLeaves[i]
        }
        const t = new VjpTracer(m, xi, inputNode())
        tracers.push(t)
        return t
      })
      try {
        return (f as (...a: unknown[]) => unknown)(...put(unflatten(def, leaves)))
      } catch (e) {
        throw blameLeaf(e, tracers, ps)
      }
    })
    let lossOut: unknown = out
    let aux: unknown = undefined
    if (options.hasAux === true) {
      if (!Array.isArray(out) || out.length !== 2) {
        throw new PurediffError('ValueError', 'with hasAux: true the function must return [loss, aux]', { op })
      }
      lossOut = out[0]
      aux = out[1]
    }
    const y = checkScalar(lossOut, op)
    if (!(y instanceof Tracer && y.main === main)) checkLive(y)
    const value = unwrapAt(main, y)
    const live = tracers.filter((t): t is VjpTracer => t !== null)
    const cts = backward(
      main,
      [[y, asTensor(1, op, y.dtype)]],
      live.map((t) => t.node),
    )
    let k = 0
    const g = unflatten(
      def,
      xs.map((xi, i) => {
        const c = tracers[i] === null ? null : (cts[k++] ?? null)
        const v = c === null ? zerosLike(xi) : matchLeaf(xi, c, op, ps[i] as string, 'gradient')
        return likeLeaf(origLeaves[i] as Leaf, v)
      }),
    )
    if (options.hasAux === true) {
      const [auxLeaves, auxDef] = flatten(aux, op)
      const auxOut = unflatten(
        auxDef,
        auxLeaves.map((l) => (l instanceof Tensor ? unwrapAt(main, l) : l)),
      )
      return Object.freeze([Object.freeze([value, auxOut]), g])
    }
    return Object.freeze([value, g])
  }
}

/**
 * The value of a scalar function and its gradient with respect to the first argument
 * (any tree). With `{ hasAux: true }`, `f` returns `[loss, aux]` and the result is
 * `[[loss, aux], grad]`. `argnums` and `wrt` choose what to differentiate (see `grad`).
 * @example
 * valueAndGrad((x: Tensor) => sum(square(x)))(tensor([1, 2])) // [5, [2, 4]]
 * @category transforms
 * @since 0.1.0
 */
export function valueAndGrad<A extends unknown[], const N extends Argnums>(
  f: (...args: A) => Tensor | number,
  options: { readonly argnums: N; readonly wrt?: string | ReadonlyArray<string>; readonly hasAux?: false },
): (...args: A) => [Tensor, Picked<A, N>]
export function valueAndGrad<A extends unknown[], const N extends Argnums, Aux>(
  f: (...args: A) => readonly [Tensor | number, Aux],
  options: { readonly argnums: N; readonly wrt?: string | ReadonlyArray<string>; readonly hasAux: true },
): (...args: A) => [[Tensor, Aux], Picked<A, N>]
export function valueAndGrad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => Tensor | number,
  options?: { readonly hasAux?: false; readonly wrt?: string | ReadonlyArray<string> },
): (p: P, ...rest: A) => [Tensor, P]
export function valueAndGrad<P, A extends unknown[], Aux>(
  f: (p: P, ...rest: A) => readonly [Tensor | number, Aux],
  options: { readonly hasAux: true; readonly wrt?: string | ReadonlyArray<string> },
): (p: P, ...rest: A) => [[Tensor, Aux], P]
export function valueAndGrad(
  f: (...args: never[]) => unknown,
  options: GradOptions = {},
): (...args: unknown[]) => unknown {
  return valueAndGradAs('valueAndGrad', f, options)
}

/**
 * The gradient of a scalar function with respect to its first argument, with the same
 * structure as that argument. `{ argnums: 1 }` differentiates another argument, `{ argnums:
 * [0, 2] }` several (a tuple of gradients); `{ wrt: ['w', 'layers.0.b'] }` differentiates
 * only those leaves of the argument (the rest are held constant and get zero gradients).
 * @example
 * grad((p: { w: Tensor }) => sum(square(p.w)))({ w: tensor([1, 2]) }).w // [2, 4]
 * @example
 * grad((w: Tensor, x: Tensor) => sum(mul(w, x)), { argnums: 1 })(tensor([1, 2]), tensor([3, 4])) // [1, 2]
 * @category transforms
 * @since 0.1.0
 */
export function grad<A extends unknown[], const N extends Argnums>(
  f: (...args: A) => Tensor | number,
  options: { readonly argnums: N; readonly wrt?: string | ReadonlyArray<string>; readonly hasAux?: false },
): (...args: A) => Picked<A, N>
export function grad<A extends unknown[], const N extends Argnums, Aux>(
  f: (...args: A) => readonly [Tensor | number, Aux],
  options: { readonly argnums: N; readonly wrt?: string | ReadonlyArray<string>; readonly hasAux: true },
): (...args: A) => [Picked<A, N>, Aux]
export function grad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => Tensor | number,
  options?: { readonly hasAux?: false; readonly wrt?: string | ReadonlyArray<string> },
): (p: P, ...rest: A) => P
export function grad<P, A extends unknown[], Aux>(
  f: (p: P, ...rest: A) => readonly [Tensor | number, Aux],
  options: { readonly hasAux: true; readonly wrt?: string | ReadonlyArray<string> },
): (p: P, ...rest: A) => [P, Aux]
export function grad(f: (...args: never[]) => unknown, options: GradOptions = {}): (...args: unknown[]) => unknown {
  if (typeof f !== 'function')
    throw new PurediffError(
      'ValueError',
      `expected a function to differentiate, got ${f === null ? 'null' : typeof f}`,
      { op: 'grad' },
    )
  const vg = valueAndGradAs('grad', f, options)
  if (options.hasAux === true) {
    return (...args: unknown[]) => {
      const [[, aux], g] = vg(...args) as [[Tensor, unknown], unknown]
      return Object.freeze([g, aux])
    }
  }
  return (...args: unknown[]) => (vg(...args) as [Tensor, unknown])[1]
}

/** `grad` under the name of the transform the user called (for errors). */
const gradAs = <P, A extends unknown[]>(
  op: string,
  f: (p: P, ...rest: A) => Tensor | number,
): ((p: P, ...rest: A) => P) => {
  const vg = valueAndGradAs(op, f as (...args: never[]) => unknown, {})
  return (p: P, ...rest: A) => (vg(p, ...rest) as [Tensor, P])[1]
}

// -------------------------------------------------------------------------------------
// Jacobians and Hessians
// -------------------------------------------------------------------------------------

export type { Jacobian }

/** A Jacobian block with no elements (an empty input or output). */
const emptyBlock = (shape: ReadonlyArray<number>, dtype: Tensor['dtype']): ConcreteTensor =>
  fromData(new Float64Array(0), shape, dtype)

/** Offsets of the leaves in the concatenated flat vector. */
const offsetsOf = (ts: ReadonlyArray<Tensor>): number[] => {
  const out: number[] = []
  let o = 0
  for (const t of ts) {
    out.push(o)
    o += t.size
  }
  return out
}

/** Rows `offset … offset + size - 1` of the n×n identity, shaped `[n, ...shape]`: the basis vectors of one leaf. */
const basisRows = (n: number, offset: number, like: Tensor): ConcreteTensor => {
  const m = like.size
  const d = new Float64Array(n * m)
  for (let j = 0; j < m; j++) d[(offset + j) * m + j] = 1
  return fromData(d, [n, ...like.shape], like.dtype)
}

/** One block from a batched result: `count` entries from `offset` along its first or last axis, reshaped to `shape`. */
const blockFrom = (
  batched: Tensor,
  axis: 'first' | 'last',
  offset: number,
  count: number,
  shape: ReadonlyArray<number>,
): Tensor => {
  const at = axis === 'first' ? 0 : batched.rank - 1
  const part =
    batched.shape[at] === count
      ? batched
      : sliceOp(
          batched,
          batched.shape.map((_, i) => (i === at ? offset : 0)),
          batched.shape.map((d, i) => (i === at ? count : d)),
        )
  return reshape(part, shape)
}

/**
 * Assemble a Jacobian: for each output leaf k, a tree like the input of blocks (k, j). A
 * scalar output block of a number input leaf is a number when concrete (as `grad` gives).
 */
const assemble = (
  ydef: TreeDef,
  outShapes: ReadonlyArray<ReadonlyArray<number>>,
  xdef: TreeDef,
  xLeaves: ReadonlyArray<Leaf>,
  block: (k: number, j: number) => Tensor,
): unknown =>
  unflatten(
    ydef,
    outShapes.map((s, k) =>
      unflatten(
        xdef,
        xLeaves.map((xl, j) => (s.length === 0 ? likeLeaf(xl, block(k, j)) : block(k, j))),
      ),
    ),
  )

/** The Jacobian by forward mode: `jvp` along every input basis vector at once, under `vmap`. */
const jacfwdCore = (op: string, f: (x: unknown) => unknown, x: unknown): unknown => {
  const [xs, def, origLeaves] = flattenArgs(x, op)
  const n = xs.reduce((s, t) => s + t.size, 0)
  if (n === 0) {
    const [ys, ydef] = flattenArgs(f(x), op)
    return assemble(
      ydef,
      ys.map((t) => t.shape),
      def,
      origLeaves,
      (k, j) => emptyBlock([...(ys[k] as Tensor).shape, ...(xs[j] as Tensor).shape], (ys[k] as Tensor).dtype),
    )
  }
  const offs = offsetsOf(xs)
  const tangents = unflatten(
    def,
    xs.map((xi, j) => basisRows(n, offs[j] as number, xi)),
  )
  // the columns of the Jacobian, batch axis last: each output leaf becomes [...out, n]
  const cols = vmap((t: unknown) => jvpAs(op, f, x, t)[1], { outAxes: -1 })(tangents)
  const [cs, ydef] = flattenArgs(cols, op)
  const outShapes = cs.map((c) => c.shape.slice(0, -1))
  return assemble(ydef, outShapes, def, origLeaves, (k, j) => {
    const xj = xs[j] as Tensor
    return blockFrom(cs[k] as Tensor, 'last', offs[j] as number, xj.size, [...(outShapes[k] as number[]), ...xj.shape])
  })
}

/** The Jacobian by reverse mode: the pullback of every output basis vector at once, under `vmap`. */
const jacrevCore = (op: string, f: (x: unknown) => unknown, x: unknown): unknown => {
  const [xs, def, origLeaves] = flattenArgs(x, op)
  const [y, pb] = vjpAs(op, f, x)
  const [ys, ydef] = flattenArgs(y, op)
  const m = ys.reduce((s, t) => s + t.size, 0)
  const n = xs.reduce((s, t) => s + t.size, 0)
  if (m === 0 || n === 0) {
    return assemble(
      ydef,
      ys.map((t) => t.shape),
      def,
      origLeaves,
      (k, j) => emptyBlock([...(ys[k] as Tensor).shape, ...(xs[j] as Tensor).shape], (ys[k] as Tensor).dtype),
    )
  }
  const offs = offsetsOf(ys)
  const seeds = unflatten(
    ydef,
    ys.map((yk, k) => basisRows(m, offs[k] as number, yk)),
  )
  // the rows of the Jacobian, batch axis first: each input leaf becomes [m, ...in]
  const rows = vmap((c: unknown) => pb(c), { outAxes: 0 })(seeds)
  const [rs] = flattenArgs(rows, op)
  return assemble(
    ydef,
    ys.map((t) => t.shape),
    def,
    origLeaves,
    (k, j) => {
      const yk = ys[k] as Tensor
      return blockFrom(rs[j] as Tensor, 'first', offs[k] as number, yk.size, [...yk.shape, ...(xs[j] as Tensor).shape])
    },
  )
}

/** Apply a Jacobian-like transform to the arguments `argnums` picks. */
const onArgnums = (
  op: string,
  options: JacobianOptions | undefined,
  core: (f: (x: unknown) => unknown, x: unknown) => unknown,
  f: (...args: never[]) => unknown,
) => {
  checkOptions(op, options, ['argnums'])
  const argnums = options?.argnums ?? 0
  return (...args: unknown[]): unknown => {
    const [x, put] = pickArgs(op, argnums, args)
    return core((u) => (f as (...a: unknown[]) => unknown)(...put(u)), x)
  }
}

/**
 * The Jacobian by forward mode (`jvp` along every input basis vector, batched with `vmap`):
 * for a tensor → tensor `f`, shape `[...out, ...in]`; for trees, `Y`'s structure of `X`'s
 * structure of blocks (as JAX). `{ argnums }` picks the argument(s) to differentiate.
 * @example
 * jacfwd((x: Tensor) => mul(x, x))(tensor([1, 2])) // [[2, 0], [0, 4]]
 * @category transforms
 * @since 0.1.0
 */
export function jacfwd<A extends unknown[], const N extends Argnums, Y>(
  f: (...args: A) => Y,
  options: { readonly argnums: N },
): (...args: A) => Jacobian<Picked<A, N>, Y>
export function jacfwd<X, Y = Tensor>(f: (x: X) => Y, options?: JacobianOptions): (x: X) => Jacobian<X, Y>
export function jacfwd(f: (...args: never[]) => unknown, options?: JacobianOptions): (...args: unknown[]) => unknown {
  return onArgnums('jacfwd', options, (g, x) => jacfwdCore('jacfwd', g, x), f)
}

/**
 * The Jacobian by reverse mode (the pullback of every output basis vector, batched with
 * `vmap`): shape `[...out, ...in]` for tensors; trees as `jacfwd`.
 * @example
 * jacrev((x: Tensor) => mul(x, x))(tensor([1, 2])) // [[2, 0], [0, 4]]
 * @category transforms
 * @since 0.1.0
 */
export function jacrev<A extends unknown[], const N extends Argnums, Y>(
  f: (...args: A) => Y,
  options: { readonly argnums: N },
): (...args: A) => Jacobian<Picked<A, N>, Y>
export function jacrev<X, Y = Tensor>(f: (x: X) => Y, options?: JacobianOptions): (x: X) => Jacobian<X, Y>
export function jacrev(f: (...args: never[]) => unknown, options?: JacobianOptions): (...args: unknown[]) => unknown {
  return onArgnums('jacrev', options, (g, x) => jacrevCore('jacrev', g, x), f)
}

/**
 * The Hessian of a scalar function (forward-over-reverse: `jacfwd(grad(f))`): shape
 * `[...in, ...in]` for a tensor; for a record `{ w, b }` a tree of trees of blocks, with
 * `H.w.b` of shape `[...w.shape, ...b.shape]` (as JAX).
 * @example
 * hessian((x) => sum(pow(x, 3)))(tensor([1, 2])) // [[6, 0], [0, 12]]
 * @category transforms
 * @since 0.1.0
 */
export function hessian<A extends unknown[], const N extends Argnums>(
  f: (...args: A) => Tensor | number,
  options: { readonly argnums: N },
): (...args: A) => Jacobian<Picked<A, N>, Picked<A, N>>
export function hessian<X>(f: (x: X) => Tensor | number, options?: JacobianOptions): (x: X) => Jacobian<X, X>
export function hessian(f: (...args: never[]) => unknown, options?: JacobianOptions): (...args: unknown[]) => unknown {
  return onArgnums(
    'hessian',
    options,
    (g, x) =>
      jacfwdCore(
        'hessian',
        gradAs('hessian', (u: unknown) => checkScalar(g(u), 'hessian')) as (x: unknown) => unknown,
        x,
      ),
    f,
  )
}

/**
 * Hessian-vector product H(x)·v of a scalar function, by forward-over-reverse (one
 * gradient's cost, never the full Hessian). `v` and the result have `x`'s structure.
 * @example
 * // sum(x³) has the Hessian diag(6x): H·[1, 1] = [6, 12] at [1, 2]
 * hvp((x: Tensor) => sum(pow(x, 3)))(tensor([1, 2]), tensor([1, 1])) // [6, 12]
 * @category transforms
 * @since 0.1.0
 */
export const hvp = <X, A extends unknown[] = []>(
  f: (x: X, ...rest: A) => Tensor | number,
  options?: Record<string, never>,
) => {
  checkOptions('hvp', options, [])
  return (x: X, v: X, ...rest: A): X => {
    const g = gradAs('hvp', (u: X) => f(u, ...rest))
    const [, def, origLeaves] = flattenArgs(x, 'hvp')
    const [hs] = flatten(jvpAs('hvp', g, x, v)[1], 'hvp')
    return unflatten<X>(
      def,
      hs.map((h, i) => likeLeaf(origLeaves[i] as Leaf, leafTensor(h, 'hvp', ''))),
    )
  }
}

// -------------------------------------------------------------------------------------
// custom rules
// -------------------------------------------------------------------------------------

const splitTop = (xs: ReadonlyArray<Tensor>): MainTrace | null => topMain(xs)

/**
 * A custom-rule function at a batching level: every input moves its batch axis to the
 * front (unbatched ones are broadcast), `call` applies the custom function built from the
 * vmapped pieces, and its output is batched along axis 0 (JAX batches custom rules so).
 */
const batchCustom = <X>(main: MainTrace, xs: ReadonlyArray<Tensor>, def: TreeDef, call: (xb: X) => Tensor): Tensor => {
  const own = xs.find((t): t is BatchTracer => t instanceof BatchTracer && t.main === main) as BatchTracer
  const size = own.primal.shape[own.bdim] as number
  const xb = xs.map((t) =>
    t instanceof BatchTracer && t.main === main
      ? moveAxis(t.primal, t.bdim, 0)
      : broadcastTo(reshape(t, [1, ...t.shape]), [size, ...t.shape]),
  )
  return new BatchTracer(main, call(unflatten<X>(def, xb)), 0)
}

/**
 * Options of `customJvp` and `customVjp`: the `name` a staged call shows under (in
 * `trace(f)(x).toString()` and in `purediff/viz`'s `explain`; default: the function's own
 * name, else `customJvp` / `customVjp`).
 * @category transforms
 * @since 0.2.0
 */
export interface CustomRuleOptions {
  readonly name?: string
}

/**
 * The params of a custom-rule equation: the name it shows under, and a number that tells
 * apart the primitives of different custom functions (one per `customJvp`/`customVjp` call
 * and input structure), so that equations of two of them on the same inputs are never merged
 * as common subexpressions.
 */
interface CustomParams {
  readonly name: string
  readonly id: number
}
let customIds = 0
/** The params each custom-rule primitive binds with. */
const customParams = new WeakMap<AnyPrimitive, CustomParams>()

const checkCustomOptions = (op: string, options: CustomRuleOptions | undefined): string | undefined => {
  checkOptions(op, options, ['name'])
  const name = options?.name
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new PurediffError('ValueError', `the name option must be a non-empty string, got ${JSON.stringify(name)}`, {
      op,
    })
  }
  return name
}

/**
 * The primitive a staged custom-rule call binds: it computes the user's function, its
 * rules are the user's (per input: the rule with the other inputs' tangents zero, which is
 * the same sum since a rule is linear in the tangents), and its batching rule maps the
 * custom function with `vmap` (JAX batches custom rules so). Its output's abstract value
 * comes from staging the function on the inputs' abstract values.
 */
const customPrimitive = (
  info: CustomRuleInfo,
  jvpAt: (i: number) => JvpRule<CustomParams>,
  vjpAt: (i: number) => VjpRule<CustomParams>,
  batched: (xb: ReadonlyArray<Tensor>) => Tensor,
): AnyPrimitive => {
  const prim: Primitive<CustomParams> = Object.freeze({
    name: info.kind,
    arity: -1,
    abstract: (xs: ReadonlyArray<AbstractValue>): AbstractValue =>
      stage(
        info.kind,
        xs.map((a) => ({ shape: a.shape, dtype: a.dtype, weak: false })),
        (ts) => {
          const y = info.call(ts)
          return { shape: y.shape, dtype: y.dtype }
        },
      )[1],
    impl: (xs: ReadonlyArray<ConcreteTensor>) => info.call(xs) as ConcreteTensor,
    jvp: jvpAt,
    vjp: vjpAt,
    batch: (xs: ReadonlyArray<Tensor>, dims: ReadonlyArray<number | null>) => {
      const k = dims.findIndex((d) => d !== null)
      const size = (xs[k] as Tensor).shape[dims[k] as number] as number
      const xb = xs.map((t, i) =>
        dims[i] === null || dims[i] === undefined
          ? broadcastTo(reshape(t, [1, ...t.shape]), [size, ...t.shape])
          : moveAxis(t, dims[i] as number, 0),
      )
      return [batched(xb), 0] as const
    },
    domain: null,
    broadcasts: false,
  })
  registerCustomRule(prim as AnyPrimitive, info)
  customParams.set(prim as AnyPrimitive, Object.freeze({ name: info.name, id: ++customIds }))
  return prim as AnyPrimitive
}

/** Bind a custom-rule primitive on a staging level. */
const bindCustom = (prim: AnyPrimitive, xs: ReadonlyArray<Tensor>): Tensor =>
  bind(prim, xs, customParams.get(prim) as CustomParams)

/** One custom primitive per input structure, made on first use. */
const perStructure = (make: (def: TreeDef) => AnyPrimitive): ((def: TreeDef) => AnyPrimitive) => {
  const made = new Map<string, AnyPrimitive>()
  return (def) => {
    const key = JSON.stringify(def)
    let p = made.get(key)
    if (p === undefined) {
      p = make(def)
      made.set(key, p)
    }
    return p
  }
}

const onlyAt = (xs: ReadonlyArray<Tensor>, i: number, t: Tensor): Tensor[] =>
  xs.map((x, j) => (j === i ? t : zerosLike(x)))

/**
 * A function with a user-given forward rule: `rule(x, xDot)` returns `[y, yDot]` with
 * `yDot` linear in `xDot`. Under reverse mode the rule is transposed automatically (by
 * reverse-differentiating the linear map `xDot ↦ yDot`), so one rule serves every mode.
 * The input may be any tree; the output is one tensor. Staged (`trace`, `jit`), a call is
 * one equation that keeps the rule, named by `options.name`.
 * @example
 * const safeLog = customJvp((x: Tensor) => log(x), (x, xDot) => [log(x), div(xDot, x)], { name: 'safeLog' })
 * jvp(safeLog, tensor([2]), tensor([1]))[1] // [0.5]
 * @category transforms
 * @since 0.1.0
 */
export const customJvp = <X>(
  f: (x: X) => Tensor,
  rule: (x: X, xDot: X) => readonly [Tensor, Tensor],
  options?: CustomRuleOptions,
): ((x: X) => Tensor) => {
  const name = checkCustomOptions('customJvp', options) ?? (f.name === '' ? 'customJvp' : f.name)
  const primFor = perStructure((def) => {
    const at = (xs: ReadonlyArray<Tensor>): X => unflatten<X>(def, xs)
    return customPrimitive(
      { kind: 'customJvp', name, rule: oneLine(rule), call: (xs) => asTensor(f(at(xs)), 'customJvp') },
      (i) => (xDot, xs, y) => {
        const yd = asTensor(rule(at(xs), at(onlyAt(xs, i, xDot)))[1], 'customJvp')
        if (!shapeEq(yd.shape, y.shape)) {
          throw new PurediffError('ShapeError', 'the rule returned a tangent whose shape differs from the output', {
            op: 'customJvp',
            shapes: [y.shape, yd.shape],
          })
        }
        return yd
      },
      (i) => (yBar, xs) => {
        const [, pb] = vjp((v: X) => asTensor(rule(at(xs), v)[1], 'customJvp'), at(xs.map((p) => zerosLike(p))))
        return flattenArgs(pb(yBar), 'customJvp')[0][i] as Tensor
      },
      (xb) => customJvp(vmap(f), (u: X, uDot: X) => vmap(rule)(u, uDot) as readonly [Tensor, Tensor], { name })(at(xb)),
    )
  })
  const g = (x: X): Tensor => {
    const [xs, def] = flattenArgs(x, 'customJvp')
    const main = splitTop(xs)
    if (main === null) return f(x)
    if (main.kind === 'stage') return bindCustom(primFor(def), xs)
    if (main.kind === 'batch') {
      return batchCustom<X>(main, xs, def, (xb) =>
        customJvp(vmap(f), (u: X, uDot: X) => vmap(rule)(u, uDot) as readonly [Tensor, Tensor], { name })(xb),
      )
    }
    const primals = xs.map((t) => unwrapAt(main, t))
    const xP = unflatten<X>(def, primals)
    const y = g(xP)
    if (main.kind === 'jvp') {
      const tangents = xs.map((t) => (t instanceof JvpTracer && t.main === main ? t.tangent : zerosLike(t)))
      const [, yDot] = rule(xP, unflatten<X>(def, tangents))
      const yd = asTensor(yDot, 'customJvp')
      if (!shapeEq(yd.shape, y.shape)) {
        throw new PurediffError('ShapeError', 'the rule returned a tangent whose shape differs from the output', {
          op: 'customJvp',
          shapes: [y.shape, yd.shape],
        })
      }
      return new JvpTracer(main, y, yd)
    }
    const parents = xs.map((t) => (t instanceof VjpTracer && t.main === main ? t : null))
    if (parents.every((p) => p === null)) return y
    const pullback = (yBar: Tensor): Array<Tensor | null> => {
      const [, pb] = vjp(
        (v: X) => asTensor(rule(xP, v)[1], 'customJvp'),
        unflatten<X>(
          def,
          primals.map((p) => zerosLike(p)),
        ),
      )
      const [bars] = flattenArgs(pb(yBar), 'customJvp')
      return bars.map((b, i) => (parents[i] === null ? null : b))
    }
    return recordCustom(main, y, parents, pullback)
  }
  return g
}

/**
 * A function with a user-given reverse rule: `fwd(x)` returns `[y, residuals]` and
 * `bwd(residuals, yBar)` returns the cotangent of `x` (a tree like `x`). Under forward mode
 * the rule is transposed automatically (by reverse-differentiating the linear map
 * `yBar ↦ xBar`), so `bwd` must be written with purediff ops. Staged (`trace`, `jit`), a
 * call is one equation that keeps the rule, named by `options.name`.
 * @example
 * // the identity, with its gradient scaled by 3 on the way back
 * const scaleGrad = customVjp(
 *   (x: Tensor) => mul(x, 1),
 *   (x: Tensor) => [mul(x, 1), null] as const,
 *   (_res: null, yBar: Tensor) => mul(yBar, 3),
 *   { name: 'scaleGrad' },
 * )
 * grad((x: Tensor) => scaleGrad(x))(scalar(2)) // 3
 * @category transforms
 * @since 0.1.0
 */
export const customVjp = <X, Res>(
  f: (x: X) => Tensor,
  fwd: (x: X) => readonly [Tensor, Res],
  bwd: (res: Res, yBar: Tensor) => X,
  options?: CustomRuleOptions,
): ((x: X) => Tensor) => {
  const name = checkCustomOptions('customVjp', options) ?? (f.name === '' ? 'customVjp' : f.name)
  const batchedVjp = (xb: X): Tensor =>
    customVjp(
      vmap(f),
      (u: X) => vmap(fwd)(u),
      (res: Res, yBar: Tensor) => vmap(bwd)(res, yBar),
      { name },
    )(xb)
  /** bwd's cotangents, checked against the primals (only where `wanted`: the others are dropped) */
  const cotangents = (
    def: TreeDef,
    xs: ReadonlyArray<Tensor>,
    xBar: X,
    wanted: (i: number) => boolean,
  ): Array<Tensor | null> => {
    const [bars, bdef] = flattenArgs(xBar, 'customVjp')
    assertSameStructure(def, bdef, 'customVjp (bwd result)')
    return bars.map((b, i) => (wanted(i) ? matchLeaf(xs[i] as Tensor, b, 'customVjp', '', 'cotangent') : null))
  }
  const primFor = perStructure((def) => {
    const at = (xs: ReadonlyArray<Tensor>): X => unflatten<X>(def, xs)
    return customPrimitive(
      { kind: 'customVjp', name, rule: oneLine(bwd), call: (xs) => asTensor(f(at(xs)), 'customVjp') },
      (i) => (xDot, xs, y) => {
        const [, res] = fwd(at(xs))
        const [, pb] = vjp((u: Tensor) => bwd(res, u), zerosLike(y))
        return asTensor(pb(at(onlyAt(xs, i, xDot))), 'customVjp')
      },
      (i) => (yBar, xs) => {
        const [, res] = fwd(at(xs))
        return cotangents(def, xs, bwd(res, yBar), (j) => j === i)[i] as Tensor
      },
      (xb) => batchedVjp(at(xb)),
    )
  })
  const g = (x: X): Tensor => {
    const [xs, def] = flattenArgs(x, 'customVjp')
    const main = splitTop(xs)
    if (main === null) return f(x)
    if (main.kind === 'stage') return bindCustom(primFor(def), xs)
    if (main.kind === 'batch') return batchCustom<X>(main, xs, def, batchedVjp)
    const primals = xs.map((t) => unwrapAt(main, t))
    const xP = unflatten<X>(def, primals)
    if (main.kind === 'vjp') {
      const parents = xs.map((t) => (t instanceof VjpTracer && t.main === main ? t : null))
      const [y, res] = fwd(xP)
      const yt = asTensor(y, 'customVjp')
      if (parents.every((p) => p === null)) return yt
      const pullback = (yBar: Tensor): Array<Tensor | null> => {
        return cotangents(def, primals, bwd(res, yBar), (i) => parents[i] !== null)
      }
      return recordCustom(main, yt, parents, pullback)
    }
    const y = g(xP)
    const [, res] = fwd(xP)
    const tangents = xs.map((t) => (t instanceof JvpTracer && t.main === main ? t.tangent : zerosLike(t)))
    const [, pb] = vjp((u: Tensor) => bwd(res, u), zerosLike(y))
    const yDot = pb(unflatten<X>(def, tangents))
    return new JvpTracer(main, y, asTensor(yDot, 'customVjp'))
  }
  return g
}
