/**
 * The AD core: levels, tracers and the one dispatch every op goes through.
 *
 * Each transform (`jvp`, `vjp`, `grad`, ...) opens a *main trace* at the next level of a
 * stack. A forward level wraps values as dual tensors (primal, tangent) — the tensor form of
 * dual numbers a + bε with ε² = 0; a reverse level wraps them as tape nodes. `bind(prim,
 * args, params)` finds the highest level among the arguments: that level handles the op,
 * and every lower-level value (including tracers of outer transforms) is a constant to it.
 * The level applies the primitive to the primals — a recursive `bind` that the outer levels
 * see — and its rule, written with ops, so the rule itself is traced by the outer levels.
 * This is what makes any nesting (forward-over-reverse, reverse-over-reverse, ...) correct
 * to any order and free of perturbation confusion: an inner level's perturbation can never
 * be mistaken for an outer one's, because each tracer carries its own level.
 *
 * With no tracer among the arguments, `bind` runs the kernel directly (the fast path: no
 * tape, no tracer objects). Tangents and cotangents that are zero are never materialised:
 * a missing tangent, or a `null` rule, is a symbolic zero.
 *
 * Purity: tracers are frozen. The only mutable state is the level stack and each reverse
 * level's private tape, which no user value exposes.
 */
import { PurediffError } from '../errors.js'
import * as P from '../primitives/table.js'
import * as LA from '../primitives/linalg.js'
import * as SP from '../primitives/special.js'
import * as CV from '../primitives/conv.js'
import * as PL from '../primitives/pool.js'
import * as AP from '../primitives/array.js'
import type { AnyPrimitive, JvpRule, Primitive, RuleOps, TensorLike, VjpRule } from '../primitives/types.js'
import type { ConcreteTensor, DType, Shape } from '../tensor/Tensor.js'
import { Tensor, scalar, shapeEq } from '../tensor/Tensor.js'
import { ConcreteTensor as Concrete, dataOf, wrap } from '../tensor/Tensor.js'
import { matmulTKernel } from '../kernels/matmul.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kinds of level: forward (dual tensors), reverse (tape), batching (`vmap`, src/ad/batching.ts), staging (`trace`, `jit`, src/ad/staging.ts). */
export type LevelKind = 'jvp' | 'vjp' | 'batch' | 'stage'

/** How a level kind defined in its own module applies a primitive (registered by that module). */
export type LevelBind = <P>(main: MainTrace, prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P) => Tensor
/** Level kinds defined outside this module register their dispatch here when they load. */
export const levelBinds: Partial<Record<LevelKind, LevelBind>> = {}

const otherBind = (kind: LevelKind): LevelBind => {
  const f = levelBinds[kind]
  if (f === undefined)
    throw new PurediffError('ValueError', `no dispatch registered for levels of kind '${kind}'`, { op: 'bind' })
  return f
}

/** One open transform: a level of the stack. */
export class MainTrace {
  active = true
  readonly tape: Node[] = []
  constructor(
    readonly depth: number,
    readonly kind: LevelKind,
    readonly transform: string,
  ) {}
}

/** A reverse-mode tape entry: how to send a cotangent of its output back to its inputs. */
export interface Node {
  readonly parents: ReadonlyArray<VjpTracer | null>
  /** cotangent of the output → cotangents of the inputs (null: symbolic zero) */
  readonly pullback: ((yBar: Tensor) => ReadonlyArray<Tensor | null>) | null
}

/**
 * A value being traced by a transform. Its shape and dtype are its primal's.
 * @example
 * let traced = false
 * grad((x: Tensor) => ((traced = x instanceof Tracer), sum(x)))(tensor([1]))
 * traced // true
 * tensor([1]) instanceof Tracer // false
 */
export abstract class Tracer extends Tensor {
  abstract readonly main: MainTrace
  abstract readonly primal: Tensor
  override concrete(): ConcreteTensor {
    // Reading an escaped tracer (toTypedArray, toArray, item) is an error, as using it in an op is.
    if (!this.main.active) throw escaped(this)
    return this.primal.concrete()
  }
  override [Symbol.toPrimitive](hint: string): string | number {
    if (hint === 'string') return this.toString()
    throw new PurediffError(
      'ConcretizationError',
      'a traced value was used as a JS number, which would silently drop its derivative; use purediff ops, or toArray(x) to read the value on purpose',
      { op: this.main.transform, shapes: [this.shape] },
    )
  }
  override toString(): string {
    return `Tracer<${this.main.transform}>(${this.primal.toString()})`
  }
}

/** A dual tensor: primal and tangent, both values of lower levels. */
export class JvpTracer extends Tracer {
  readonly shape: Shape
  readonly dtype: DType
  constructor(
    readonly main: MainTrace,
    readonly primal: Tensor,
    readonly tangent: Tensor,
  ) {
    super()
    this.shape = primal.shape
    this.dtype = primal.dtype
    Object.freeze(this)
  }
}

/** A value recorded on a reverse level's tape. */
export class VjpTracer extends Tracer {
  readonly shape: Shape
  readonly dtype: DType
  constructor(
    readonly main: MainTrace,
    readonly primal: Tensor,
    readonly node: Node,
  ) {
    super()
    this.shape = primal.shape
    this.dtype = primal.dtype
    Object.freeze(this)
  }
}

// -------------------------------------------------------------------------------------
// the level stack
// -------------------------------------------------------------------------------------

const stack: MainTrace[] = []

/** Run `body` inside a fresh level; the level closes (and its tracers expire) afterwards. */
export const withMain = <A>(kind: LevelKind, transform: string, body: (main: MainTrace) => A): A => {
  const main = new MainTrace(stack.length + 1, kind, transform)
  stack.push(main)
  try {
    return body(main)
  } finally {
    main.active = false
    stack.pop()
  }
}

/**
 * Re-open a closed level as the innermost one while `body` runs (`checkpoint` replays its
 * function on the level's own tape during the backward pass, so values the function closed
 * over, tracers of this level included, are live again). Nothing is left on the stack after.
 */
export const reopen = <A>(main: MainTrace, body: () => A): A => {
  if (main.active) return body()
  const m = main as { depth: number; active: boolean }
  const depth = m.depth
  m.depth = stack.length + 1
  m.active = true
  stack.push(main)
  try {
    return body()
  } finally {
    stack.pop()
    m.active = false
    m.depth = depth
  }
}

const escaped = (t: Tracer): PurediffError =>
  new PurediffError(
    'EscapedTracer',
    `escaped tracer: a value traced by '${t.main.transform}' was used after '${t.main.transform}' returned (it leaked out through a closure or a side effect)`,
    { op: t.main.transform, shapes: [t.shape] },
  )

/** The highest active level among some values (null: all concrete). Throws on an escaped tracer. */
export const topMain = (args: ReadonlyArray<Tensor>): MainTrace | null => {
  let top: MainTrace | null = null
  for (const a of args) {
    if (a instanceof Tracer) {
      if (!a.main.active) throw escaped(a)
      if (top === null || a.main.depth > top.depth) top = a.main
    }
  }
  return top
}

/** Check that a value holds no expired tracer (used on transform outputs). */
export const checkLive = (t: Tensor): void => {
  if (t instanceof Tracer && !t.main.active) throw escaped(t)
}

// -------------------------------------------------------------------------------------
// dispatch
// -------------------------------------------------------------------------------------

const ruleAt = <F>(rules: ReadonlyArray<F | null> | ((i: number) => F | null), i: number): F | null =>
  typeof rules === 'function' ? rules(i) : (rules[i] ?? null)

/**
 * Apply a primitive: the one entry point of every op.
 * @category dispatch
 */
export const bind = <P>(prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P): Tensor => {
  const main = topMain(args)
  if (main === null) return prim.impl(args as ReadonlyArray<ConcreteTensor>, params)
  return main.kind === 'jvp'
    ? bindJvp(main, prim, args, params)
    : main.kind === 'vjp'
      ? bindVjp(main, prim, args, params)
      : otherBind(main.kind)(main, prim, args, params)
}

/** The primal a level sees for an argument: its own tracers unwrap, anything else is a constant. */
const primalAt = (main: MainTrace, a: Tensor): Tensor => (a instanceof Tracer && a.main === main ? a.primal : a)

const bindJvp = <P>(main: MainTrace, prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P): Tensor => {
  const xs = args.map((a) => primalAt(main, a))
  const y = bind(prim, xs, params)
  let yDot: Tensor | null = null
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!(a instanceof JvpTracer) || a.main !== main) continue
    const rule = ruleAt<JvpRule<P>>(prim.jvp, i)
    if (rule === null) continue
    const c = rule(a.tangent, xs, y, params, R)
    yDot = yDot === null ? c : R.add(yDot, c)
  }
  if (yDot === null) return y
  if (!shapeEq(yDot.shape, y.shape)) yDot = R.broadcastTo(yDot, y.shape)
  if (yDot.dtype !== y.dtype) yDot = R.cast(yDot, y.dtype)
  return new JvpTracer(main, y, yDot)
}

/**
 * A tape node of a primitive: it keeps the rule's inputs (the primitive, its primal inputs and
 * output, its params) and applies the VJP rules when the sweep reaches it. Its pullback is a
 * method of the class, so recording an op allocates no closure. (Private to the level's tape,
 * never handed to users, so not frozen: freezing costs about as much as the op on a scalar.)
 */
class PrimNode<P> implements Node {
  constructor(
    readonly parents: ReadonlyArray<VjpTracer | null>,
    readonly prim: Primitive<P>,
    readonly xs: ReadonlyArray<Tensor>,
    readonly y: Tensor,
    readonly params: P,
  ) {}
  pullback(yBar: Tensor): Array<Tensor | null> {
    const { parents, prim, xs, y, params } = this
    const out = new Array<Tensor | null>(parents.length)
    for (let i = 0; i < parents.length; i++) {
      if (parents[i] === null) {
        out[i] = null
        continue
      }
      const rule = ruleAt<VjpRule<P>>(prim.vjp, i) as VjpRule<P>
      let xBar = rule(yBar, xs, y, params, R)
      const x = xs[i] as Tensor
      if (!shapeEq(xBar.shape, x.shape)) xBar = R.unbroadcast(xBar, x.shape)
      if (xBar.dtype !== x.dtype) xBar = R.cast(xBar, x.dtype)
      out[i] = xBar
    }
    return out
  }
}

const bindVjp = <P>(main: MainTrace, prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P): Tensor => {
  const n = args.length
  const xs = new Array<Tensor>(n)
  for (let i = 0; i < n; i++) xs[i] = primalAt(main, args[i] as Tensor)
  const y = bind(prim, xs, params)
  let parents: Array<VjpTracer | null> | null = null
  for (let i = 0; i < n; i++) {
    const a = args[i]
    if (a instanceof VjpTracer && a.main === main && ruleAt<VjpRule<P>>(prim.vjp, i) !== null) {
      if (parents === null) parents = new Array<VjpTracer | null>(n).fill(null)
      parents[i] = a
    }
  }
  if (parents === null) return y
  const node: Node = new PrimNode(parents, prim, xs, y, params)
  main.tape.push(node)
  return new VjpTracer(main, y, node)
}

// -------------------------------------------------------------------------------------
// reverse sweep
// -------------------------------------------------------------------------------------

/**
 * Propagate output cotangents back through a closed level's tape (in reverse creation
 * order, which is a topological order). Returns the cotangent of each requested input node
 * (null: symbolic zero). The sweep uses ops only, so outer levels trace it.
 */
export const backward = (
  main: MainTrace,
  seeds: ReadonlyArray<readonly [Tensor, Tensor]>,
  inputs: ReadonlyArray<Node>,
): Array<Tensor | null> => {
  const cts = new Map<Node, Tensor>()
  const accumulate = (node: Node, g: Tensor): void => {
    const prev = cts.get(node)
    cts.set(node, prev === undefined ? g : R.add(prev, g))
  }
  for (const [out, yBar] of seeds) {
    if (out instanceof VjpTracer && out.main === main) accumulate(out.node, yBar)
  }
  const inputSet = new Set(inputs)
  for (let k = main.tape.length - 1; k >= 0; k--) {
    const node = main.tape[k] as Node
    const g = cts.get(node)
    if (g === undefined || node.pullback === null) continue
    if (!inputSet.has(node)) cts.delete(node)
    const xBars = node.pullback(g)
    const parents = node.parents
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i]
      const xBar = xBars[i]
      if (p !== null && p !== undefined && xBar !== null && xBar !== undefined) accumulate(p.node, xBar)
    }
  }
  return inputs.map((n) => cts.get(n) ?? null)
}

/** A leaf node for a transform input. */
export const inputNode = (): Node => ({ parents: [], pullback: null })

/** Record a node whose pullback is given directly (custom rules). */
export const recordCustom = (
  main: MainTrace,
  y: Tensor,
  parents: ReadonlyArray<VjpTracer | null>,
  pullback: (yBar: Tensor) => ReadonlyArray<Tensor | null>,
): VjpTracer => {
  const node: Node = { parents, pullback }
  main.tape.push(node)
  return new VjpTracer(main, y, node)
}

export type { AnyPrimitive }

// -------------------------------------------------------------------------------------
// the ops rules are written with
// -------------------------------------------------------------------------------------

const none = Object.freeze({}) as Record<string, never>

/** Common dtype of some operands: tensors decide; numbers are weakly typed (they follow). */
export const resultDType = (xs: ReadonlyArray<TensorLike>): DType => {
  // a staged number argument (`weak`) is weakly typed too, as the number it stands for
  let any32 = false
  let strong = false
  for (const x of xs) {
    if (typeof x === 'number' || (x as { readonly weak?: boolean }).weak === true) continue
    strong = true
    if (x.dtype === 'float64') return 'float64'
    any32 = true
  }
  if (!strong || !any32) return 'float64'
  return 'float32'
}
/** Numbers become scalars of `dtype`; tensors of another dtype are cast (float32 → float64). */
export const liftTo = (x: TensorLike, dtype: DType): Tensor =>
  typeof x === 'number' ? scalar(x, dtype) : x.dtype === dtype ? x : bind(P.cast, [x], { dtype })

const bin =
  (prim: Primitive<Record<string, never>>) =>
  (a: TensorLike, b: TensorLike): Tensor => {
    const dt = resultDType([a, b])
    return bind(prim, [liftTo(a, dt), liftTo(b, dt)], none)
  }
const un =
  (prim: Primitive<Record<string, never>>) =>
  (x: Tensor): Tensor =>
    bind(prim, [x], none)

/** Sum a broadcast value back to `shape`: over leading axes and over axes where `shape` has 1. */
export const unbroadcast = (x: Tensor, shape: Shape): Tensor => {
  if (shapeEq(x.shape, shape)) return x
  const lead = x.shape.length - shape.length
  const axes: number[] = []
  for (let i = 0; i < x.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i)
  }
  const summed = axes.length > 0 ? bind(P.sum, [x], { axes }) : x
  return shapeEq(summed.shape, shape) ? summed : bind(P.reshape, [summed], { shape })
}

/** x with its last two axes swapped. */
const swapLast = (x: Tensor): Tensor =>
  bind(P.transpose, [x], { perm: [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2] })

/** Whether every value of a data array is finite. */
const allFinite = (d: ArrayLike<number>): boolean => {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return false
  return true
}

/**
 * op(a) ⊙· op(b): the masked product `matmulNoNan`, op a swap of the last two axes where asked.
 * On concrete, finite operands (no level traces them) the kernel reads the
 * transposed operand through its strides (no transpose copy); there the masked product is
 * the plain one, bit for bit. Otherwise it is transpose and `matmulNoNan`, so every level sees
 * ordinary primitives and a staged program holds no choice made on data.
 */
const matmulNoNanT = (a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor => {
  if (a instanceof Concrete && b instanceof Concrete && a.dtype === b.dtype && a.rank === b.rank && a.rank >= 2) {
    const da = dataOf(a)
    const db = dataOf(b)
    if (allFinite(da) && allFinite(db)) {
      const r = a.rank
      const batchShape = a.shape.slice(0, r - 2)
      const m = a.shape[transA ? r - 1 : r - 2] as number
      const k = a.shape[transA ? r - 2 : r - 1] as number
      const n = b.shape[transB ? r - 2 : r - 1] as number
      const batch = batchShape.reduce((s, d) => s * d, 1)
      return wrap(matmulTKernel(da, db, batch, m, k, n, a.dtype, transA, transB), [...batchShape, m, n])
    }
  }
  return bind(P.matmulNoNan, [transA ? swapLast(a) : a, transB ? swapLast(b) : b], none)
}

/** The differentiable ops handed to every rule. */
export const R: RuleOps = {
  add: bin(P.add),
  sub: bin(P.sub),
  mul: bin(P.mul),
  div: bin(P.div),
  neg: un(P.neg),
  mulNoNan: bin(P.mulNoNan),
  divNoNan: bin(P.divNoNan),
  pow: bin(P.pow),
  exp: un(P.exp),
  log: un(P.log),
  sin: un(P.sin),
  cos: un(P.cos),
  sign: un(P.sign),
  greater: bin(P.greater),
  less: bin(P.less),
  equal: bin(P.equal),
  where: (c, a, b) => {
    const dt = resultDType([a, b])
    return bind(P.where, [c, liftTo(a, dt), liftTo(b, dt)], none)
  },
  sum: (x, axes) => bind(P.sum, [x], { axes }),
  reshape: (x, shape) => (shapeEq(x.shape, shape) ? x : bind(P.reshape, [x], { shape })),
  broadcastTo: (x, shape) => (shapeEq(x.shape, shape) ? x : bind(P.broadcastTo, [x], { shape })),
  unbroadcast,
  transpose: (x, perm) => bind(P.transpose, [x], { perm }),
  matmul: (a, b) => bind(P.matmul, [a, b], none),
  matmulNoNan: (a, b) => bind(P.matmulNoNan, [a, b], none),
  matmulNoNanT,
  slice: (x, begin, size) => bind(P.slice, [x], { begin, size }),
  pad: (x, before, shape) => bind(P.pad, [x], { before, shape }),
  gather: (x, indices, axis) => bind(P.gather, [x], { indices, axis }),
  scatterAdd: (x, indices, axis, shape) => bind(P.scatterAdd, [x], { indices, axis, shape }),
  gatherDynamic: (x, indices, axis) => bind(AP.gatherDynamic, [x, indices], { axis }),
  scatterAddDynamic: (x, indices, axis, shape) => bind(AP.scatterAddDynamic, [x, indices], { axis, shape }),
  cast: (x, dtype) => (x.dtype === dtype ? x : bind(P.cast, [x], { dtype })),
  triangularSolve: (t, b, lower, transposeA) => bind(LA.triangularSolve, [t, b], { lower, transposeA }),
  solve: (a, b) => bind(LA.solve, [a, b], none),
  polygamma: (n, x) => bind(SP.polygamma, [x], { n }),
  conv2d: (x, k, p) => bind(CV.conv2d, [x, k], p),
  poolSelect: (x, z, window) => bind(PL.poolSelect, [x, z], { window }),
  poolScatter: (x, u, window) => bind(PL.poolScatter, [x, u], { window }),
}
