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
  JvpTracer, Tracer, VjpTracer, backward, checkLive, inputNode, recordCustom, topMain, withMain,
} from '../ad/trace.js'
import type { MainTrace } from '../ad/trace.js'
import { BatchTracer, moveAxis } from '../ad/batching.js'
import { markNumberResult } from '../ad/staging.js'
import { PurediffError } from '../errors.js'
import { asTensor, broadcastTo, cast, reshape, stack, zerosLike } from '../ops/ops.js'
import type { ConcreteTensor } from '../tensor/Tensor.js'
import { Tensor, fromData, shapeEq } from '../tensor/Tensor.js'
import type { Leaf, TreeDef } from '../tree/Tree.js'
import { assertSameStructure, flatten, keyPaths, unflatten } from '../tree/Tree.js'
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
  if ((typeof orig === 'number' || (orig as { readonly weak?: boolean }).weak === true) && result instanceof Tracer) markNumberResult(result)
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
export const jvp = <X, Y>(f: (x: X) => Y, x: X, xDot: X): [Y, Y] => jvpAs('jvp', f, x, xDot)

/** `jvp` under the name of the transform the user called (for errors). */
const jvpAs = <X, Y>(op: string, f: (x: X) => Y, x: X, xDot: X): [Y, Y] => {
  const [xs, def, , ps] = flattenArgs(x, op)
  const [ts, tdef] = flattenArgs(xDot, op)
  assertSameStructure(def, tdef, op)
  return withMain('jvp', op, (main) => {
    const duals = xs.map((xi, i) => new JvpTracer(main, xi, matchLeaf(xi, ts[i] as Tensor, op, ps[i] as string, 'tangent')))
    const out = f(unflatten<X>(def, duals))
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
export const derivative = <X extends Tensor | number>(f: (x: X) => Tensor | number): ((x: X) => X) => (x: X): X => {
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
 * @category transforms
 * @since 0.1.0
 */
export const vjp = <X, Y>(f: (x: X) => Y, x: X): [Y, (yBar: Y) => X] => vjpAs('vjp', f, x)

/** `vjp` under the name of the transform the user called (for errors). */
const vjpAs = <X, Y>(op: string, f: (x: X) => Y, x: X): [Y, (yBar: Y) => X] => {
  const [xs, def, origLeaves] = flattenArgs(x, op)
  let main!: MainTrace
  const tracers: VjpTracer[] = []
  const out = withMain('vjp', op, (m) => {
    main = m
    xs.forEach((xi) => tracers.push(new VjpTracer(m, xi, inputNode())))
    return f(unflatten<X>(def, tracers))
  })
  const [ys, ydef] = flatten(out, op)
  const yTensors = ys.map((l) => leafTensor(l, op, ''))
  const yPrimal = ys.map((l, i) => {
    const t = yTensors[i] as Tensor
    if (t instanceof Tracer && t.main === main) return t.primal
    checkLive(t)
    return l
  })
  const ps = keyPaths(def)
  const pullback = (yBar: Y): X => {
    const [bs, bdef] = flattenArgs(yBar, `${op} pullback`)
    assertSameStructure(ydef, bdef, `${op} pullback`)
    const seeds = yTensors.map(
      (y, i) => [y, matchLeaf(unwrapAt(main, y), bs[i] as Tensor, `${op} pullback`, '', 'cotangent')] as const,
    )
    const cts = backward(main, seeds, tracers.map((t) => t.node))
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

/** Options of `valueAndGrad`. @category model */
export interface ValueAndGradOptions {
  /** `f` returns `[loss, aux]`; aux is passed through (with its tracers unwrapped). */
  readonly hasAux?: boolean
}

const checkScalar = (y: unknown, op: string): Tensor => {
  if (typeof y === 'number') return asTensor(y, op)
  if (!(y instanceof Tensor)) {
    throw new PurediffError('NonScalarOutput', `the function must return a scalar tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'an array (use hasAux: true to return [loss, aux])' : typeof y}`, { op })
  }
  if (y.rank !== 0) {
    throw new PurediffError('NonScalarOutput', 'the function must return a scalar (shape []); reduce it first, e.g. with sum or mean', { op, shapes: [y.shape] })
  }
  return y
}

type Rest<F> = F extends (x: never, ...rest: infer R) => unknown ? R : never

/**
 * The value of a scalar function and its gradient with respect to the first argument
 * (any tree). With `{ hasAux: true }`, `f` returns `[loss, aux]` and the result is
 * `[[loss, aux], grad]`.
 * @category transforms
 * @since 0.1.0
 */
export function valueAndGrad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => Tensor | number,
  options?: { readonly hasAux?: false },
): (p: P, ...rest: A) => [Tensor, P]
export function valueAndGrad<P, A extends unknown[], Aux>(
  f: (p: P, ...rest: A) => readonly [Tensor | number, Aux],
  options: { readonly hasAux: true },
): (p: P, ...rest: A) => [[Tensor, Aux], P]
export function valueAndGrad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => unknown,
  options: ValueAndGradOptions = {},
): (p: P, ...rest: A) => unknown {
  const op = (options as { readonly name?: string }).name ?? 'valueAndGrad'
  return (p: P, ...rest: A) => {
    const [xs, def, origLeaves, ps] = flattenArgs(p, op)
    let main!: MainTrace
    const tracers: VjpTracer[] = []
    const out = withMain('vjp', op, (m) => {
      main = m
      xs.forEach((xi) => tracers.push(new VjpTracer(m, xi, inputNode())))
      return f(unflatten<P>(def, tracers), ...rest)
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
    const cts = backward(main, [[y, asTensor(1, op, y.dtype)]], tracers.map((t) => t.node))
    const g = unflatten<P>(
      def,
      cts.map((c, i) => {
        const xi = xs[i] as Tensor
        const v = c === null ? zerosLike(xi) : matchLeaf(xi, c, op, ps[i] as string, 'gradient')
        return likeLeaf(origLeaves[i] as Leaf, v)
      }),
    )
    if (options.hasAux === true) {
      const [auxLeaves, auxDef] = flatten(aux, op)
      const auxOut = unflatten(auxDef, auxLeaves.map((l) => (l instanceof Tensor ? unwrapAt(main, l) : l)))
      return Object.freeze([Object.freeze([value, auxOut]), g])
    }
    return Object.freeze([value, g])
  }
}

/**
 * The gradient of a scalar function with respect to its first argument, with the same
 * structure as that argument.
 * @example
 * grad((p: { w: Tensor }) => sum(square(p.w)))({ w: tensor([1, 2]) }) // { w: [2, 4] }
 * @category transforms
 * @since 0.1.0
 */
export function grad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => Tensor | number,
): (p: P, ...rest: A) => P
export function grad<P, A extends unknown[], Aux>(
  f: (p: P, ...rest: A) => readonly [Tensor | number, Aux],
  options: { readonly hasAux: true },
): (p: P, ...rest: A) => [P, Aux]
export function grad<P, A extends unknown[]>(
  f: (p: P, ...rest: A) => unknown,
  options: ValueAndGradOptions = {},
): (p: P, ...rest: A) => unknown {
  if (options.hasAux === true) {
    const vg = valueAndGrad(f as (p: P, ...rest: A) => readonly [Tensor, unknown], { hasAux: true, name: 'grad' } as { hasAux: true })
    return (p: P, ...rest: A) => {
      const [[, aux], g] = vg(p, ...rest)
      return Object.freeze([g, aux])
    }
  }
  return gradAs('grad', f as (p: P, ...rest: A) => Tensor)
}

/** `grad` under the name of the transform the user called (for errors). */
const gradAs = <P, A extends unknown[]>(op: string, f: (p: P, ...rest: A) => Tensor | number): ((p: P, ...rest: A) => P) => {
  const vg = valueAndGrad(f, { name: op } as { hasAux?: false })
  return (p: P, ...rest: A) => vg(p, ...rest)[1]
}

// -------------------------------------------------------------------------------------
// Jacobians and Hessians
// -------------------------------------------------------------------------------------

/** A Jacobian block with no elements (an empty input or output). */
const emptyBlock = (shape: ReadonlyArray<number>, dtype: Tensor['dtype']): ConcreteTensor =>
  fromData(new Float64Array(0), shape, dtype)

/** A one-hot tensor of a shape (1 at flat index j). */
const basis = (like: Tensor, j: number): ConcreteTensor => {
  const d = new Float64Array(like.size)
  d[j] = 1
  return fromData(d, like.shape, like.dtype)
}

/**
 * The Jacobian by forward mode (one `jvp` per input element): for a tensor → tensor `f`,
 * shape `[...out, ...in]`; for a tree input, a tree of such blocks.
 * @category transforms
 * @since 0.1.0
 */
export const jacfwd = <X>(f: (x: X) => Tensor | number): ((x: X) => X) => jacfwdAs('jacfwd', f)

/** `jacfwd` under the name of the transform the user called (for errors). */
const jacfwdAs = <X>(op: string, f: (x: X) => Tensor | number) => (x: X): X => {
  const [xs, def, origLeaves] = flattenArgs(x, op)
  const zeros = xs.map((xi) => zerosLike(xi))
  let outShape: ReadonlyArray<number> = []
  const blocks = xs.map((xi, li) => {
    const cols: Tensor[] = []
    for (let j = 0; j < xi.size; j++) {
      const tangents = zeros.map((z, k) => (k === li ? basis(xi, j) : z))
      const [y, yDot] = jvpAs(op, (u: X) => asTensor(f(u), op), x, unflatten<X>(def, tangents))
      outShape = (y as Tensor).shape
      cols.push(yDot as Tensor)
    }
    if (cols.length === 0) {
      // an empty input: the block [...out, ...in] has no elements
      const y = asTensor(f(x), op)
      return emptyBlock([...y.shape, ...xi.shape], y.dtype)
    }
    return reshape(stack(cols, -1), [...outShape, ...xi.shape])
  })
  return unflatten<X>(def, blocks.map((b, i) => likeLeaf(origLeaves[i] as Leaf, b)))
}

/**
 * The Jacobian by reverse mode (one pullback per output element): shape `[...out, ...in]`.
 * @category transforms
 * @since 0.1.0
 */
export const jacrev = <X>(f: (x: X) => Tensor | number): ((x: X) => X) => (x: X): X => {
  const [xs, def, origLeaves] = flattenArgs(x, 'jacrev')
  const [y, pb] = vjpAs('jacrev', (u: X) => asTensor(f(u), 'jacrev'), x)
  const rows: Tensor[][] = xs.map(() => [])
  for (let k = 0; k < y.size; k++) {
    const [gs] = flattenArgs(pb(basis(y, k)), 'jacrev')
    gs.forEach((g, i) => (rows[i] as Tensor[]).push(g))
  }
  const blocks = xs.map((xi, i) => {
    const r = rows[i] as Tensor[]
    if (r.length === 0) return emptyBlock([...y.shape, ...xi.shape], y.dtype) // an empty output
    return reshape(stack(r, 0), [...y.shape, ...xi.shape])
  })
  return unflatten<X>(def, blocks.map((b, i) => likeLeaf(origLeaves[i] as Leaf, b)))
}

/**
 * The Hessian of a scalar function of a tensor (forward-over-reverse: `jacfwd(jacrev(f))`),
 * shape `[...in, ...in]`. For parameter trees use `hvp`.
 * @example
 * hessian((x) => sum(pow(x, 3)))(tensor([1, 2])) // [[6, 0], [0, 12]]
 * @category transforms
 * @since 0.1.0
 */
export const hessian = <X extends Tensor | number>(f: (x: X) => Tensor | number): ((x: X) => X) => (x: X): X => {
  const t = leafTensor(x as Leaf, 'hessian', '')
  const g = (u: Tensor): Tensor => gradAs('hessian', (v: Tensor) => checkScalar(f(v as X), 'hessian'))(u)
  const h = jacfwdAs('hessian', g)(t)
  return likeLeaf(x as Leaf, h) as X
}

/**
 * Hessian-vector product H(x)·v of a scalar function, by forward-over-reverse (one
 * gradient's cost, never the full Hessian). `v` and the result have `x`'s structure.
 * @category transforms
 * @since 0.1.0
 */
export const hvp = <X, A extends unknown[] = []>(f: (x: X, ...rest: A) => Tensor | number) => (x: X, v: X, ...rest: A): X => {
  const g = gradAs('hvp', (u: X) => f(u, ...rest))
  const [, def, origLeaves] = flattenArgs(x, 'hvp')
  const [hs] = flatten(jvpAs('hvp', g, x, v)[1], 'hvp')
  return unflatten<X>(def, hs.map((h, i) => likeLeaf(origLeaves[i] as Leaf, leafTensor(h, 'hvp', ''))))
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
    t instanceof BatchTracer && t.main === main ? moveAxis(t.primal, t.bdim, 0) : broadcastTo(reshape(t, [1, ...t.shape]), [size, ...t.shape]),
  )
  return new BatchTracer(main, call(unflatten<X>(def, xb)), 0)
}

/**
 * A function with a user-given forward rule: `rule(x, xDot)` returns `[y, yDot]` with
 * `yDot` linear in `xDot`. Under reverse mode the rule is transposed automatically (by
 * reverse-differentiating the linear map `xDot ↦ yDot`), so one rule serves every mode.
 * The input may be any tree; the output is one tensor.
 * @example
 * const safeLog = customJvp((x: Tensor) => log(x), (x, xDot) => [log(x), div(xDot, x)])
 * @category transforms
 * @since 0.1.0
 */
export const customJvp = <X>(
  f: (x: X) => Tensor,
  rule: (x: X, xDot: X) => readonly [Tensor, Tensor],
): ((x: X) => Tensor) => {
  const g = (x: X): Tensor => {
    const [xs, def] = flattenArgs(x, 'customJvp')
    const main = splitTop(xs)
    if (main === null) return f(x)
    if (main.kind === 'batch') {
      return batchCustom<X>(main, xs, def, (xb) =>
        customJvp(vmap(f), (u: X, uDot: X) => vmap(rule)(u, uDot) as readonly [Tensor, Tensor])(xb),
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
        throw new PurediffError('ShapeError', 'the rule returned a tangent whose shape differs from the output', { op: 'customJvp', shapes: [y.shape, yd.shape] })
      }
      return new JvpTracer(main, y, yd)
    }
    const parents = xs.map((t) => (t instanceof VjpTracer && t.main === main ? t : null))
    if (parents.every((p) => p === null)) return y
    const pullback = (yBar: Tensor): Array<Tensor | null> => {
      const [, pb] = vjp((v: X) => asTensor(rule(xP, v)[1], 'customJvp'), unflatten<X>(def, primals.map((p) => zerosLike(p))))
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
 * `yBar ↦ xBar`), so `bwd` must be written with purediff ops.
 * @category transforms
 * @since 0.1.0
 */
export const customVjp = <X, Res>(
  f: (x: X) => Tensor,
  fwd: (x: X) => readonly [Tensor, Res],
  bwd: (res: Res, yBar: Tensor) => X,
): ((x: X) => Tensor) => {
  const g = (x: X): Tensor => {
    const [xs, def] = flattenArgs(x, 'customVjp')
    const main = splitTop(xs)
    if (main === null) return f(x)
    if (main.kind === 'batch') {
      return batchCustom<X>(main, xs, def, (xb) =>
        customVjp(vmap(f), (u: X) => vmap(fwd)(u), (res: Res, yBar: Tensor) => vmap(bwd)(res, yBar))(xb),
      )
    }
    const primals = xs.map((t) => unwrapAt(main, t))
    const xP = unflatten<X>(def, primals)
    if (main.kind === 'vjp') {
      const parents = xs.map((t) => (t instanceof VjpTracer && t.main === main ? t : null))
      const [y, res] = fwd(xP)
      const yt = asTensor(y, 'customVjp')
      if (parents.every((p) => p === null)) return yt
      const pullback = (yBar: Tensor): Array<Tensor | null> => {
        const xBar = bwd(res, yBar)
        const [bars, bdef] = flattenArgs(xBar, 'customVjp')
        assertSameStructure(def, bdef, 'customVjp (bwd result)')
        return bars.map((b, i) => (parents[i] === null ? null : matchLeaf(primals[i] as Tensor, b, 'customVjp', '', 'cotangent')))
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
