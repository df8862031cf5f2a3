/**
 * Structured control flow with derivatives, and rematerialization.
 *
 * - `checkpoint(f)` computes `f` without keeping its intermediates for the backward pass:
 *   under reverse mode it records one tape node per call whose pullback recomputes `f` from
 *   its inputs (a custom VJP whose forward keeps only the inputs), trading one extra
 *   forward evaluation for memory. Gradients are bit-identical to those of `f`: the
 *   recomputation runs the same ops in the same order. Under other transforms `f` runs as is.
 * - `scan(f, init, xs)` threads a carry through `f(carry, x) -> [carry, y]` over the leading
 *   axis of `xs` and stacks the `y`s (JAX's `lax.scan`). Under reverse mode the whole scan is
 *   one tape node that stores only the T carries; its pullback recomputes each step from its
 *   carry and its slice of `xs`, backwards, and stacks the per-step `xs` cotangents once
 *   (O(T) work: T scatters into the whole of `xs` would be O(T²)). Forward mode pushes
 *   tangents through the steps.
 * - `foriLoop(lower, upper, body, init)`: `body(i, carry)` for i in [lower, upper), as a scan.
 * - `cond(pred, onTrue, onFalse, ...operands)` / `switchCase(index, branches, ...operands)`
 *   run only the chosen branch. Under `vmap` with a batched predicate or index, every branch
 *   runs and the results are selected per example (`where`), as JAX does.
 * - `whileLoop(condFn, body, init)` runs while `condFn(carry)` holds. Forward mode only (as
 *   JAX): the trip count depends on the values, so it has no reverse rule; reverse mode is
 *   an error that suggests `foriLoop` or `scan`.
 *
 * These run eagerly (the loop is a JS loop over ops). Under staging (`trace`, `jit`,
 * `explain`) each is one program construct instead of an unrolled loop: `scan`/`foriLoop`
 * record one `scan` equation holding the body staged once (src/transforms/scanStaged.ts),
 * `cond`/`switchCase` on a staged predicate or index one `cond` equation holding every
 * branch (condStaged.ts), `whileLoop` one `while` equation (whileStaged.ts); each construct
 * has its own forward, reverse and batching rules, so staged programs stay differentiable
 * and batchable. Each returns fresh frozen values.
 * Purity: arguments are never modified.
 */
import { BatchTracer } from '../ad/batching.js'
import { R, Tracer, VjpTracer, inputNode, recordCustom, reopen, topMain } from '../ad/trace.js'
import type { MainTrace, Node } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import {
  asTensor,
  broadcastTo,
  concat,
  equal,
  maximum,
  minimum,
  reshape,
  round,
  slice,
  stack,
  take,
  where,
} from '../ops/ops.js'
import { Tensor, arange, shapeEq, zeros } from '../tensor/Tensor.js'
import { StagingTracer, stagingOpen } from '../ad/staging.js'
import { bindCond, stageBranches } from './condStaged.js'
import { REVERSE_MESSAGE, whileConstruct } from './whileStaged.js'
import { avalOf, bindScan, sliceAval, stageBody } from './scanStaged.js'
import type { Leaf, TreeDef } from '../tree/Tree.js'
import { flatten, unflatten } from '../tree/Tree.js'
import { checkOptions } from './options.js'

// -------------------------------------------------------------------------------------
// checkpoint
// -------------------------------------------------------------------------------------

const tensorsOf = (x: unknown, op: string): [Tensor[], TreeDef] => {
  const [ls, def] = flatten(x, op)
  return [ls.map((l) => asTensor(l, op)), def]
}

/**
 * `f` with rematerialization: under reverse mode its intermediates are not stored but
 * recomputed from its inputs in the backward pass (`jax.checkpoint`). Inputs and outputs
 * may be any trees.
 * @example
 * const layer = checkpoint((x: Tensor) => tanh(mul(x, 2)))
 * grad((x: Tensor) => sum(layer(layer(x))))(tensor([0])) // ≈ [4]
 * @category transforms
 * @since 0.2.0
 */
export const checkpoint = <X, Y>(f: (x: X) => Y, options?: Record<string, never>): ((x: X) => Y) => {
  checkOptions('checkpoint', options, [])
  return (x: X): Y => {
    const [xs] = tensorsOf(x, 'checkpoint')
    const main = topMain(xs)
    if (main === null || main.kind !== 'vjp') return f(x)
    // f with its output as one tensor: the leaves flattened and joined (one leaf: itself)
    let ydef: TreeDef | null = null
    let shapes: ReadonlyArray<ReadonlyArray<number>> = []
    const joined = (u: X): Tensor => {
      const [ys, d] = tensorsOf(f(u), 'checkpoint')
      ydef = d
      shapes = ys.map((y) => y.shape)
      return ys.length === 1 ? (ys[0] as Tensor) : concat(ys.map((y) => reshape(y, [y.size])))
    }
    // the forward pass on this level's tape, then its nodes are dropped: only the values
    // they read from outside (the inputs, and tracers f closed over) stay, as parents
    const start = main.tape.length
    const y = joined(x)
    const segment = main.tape.splice(start)
    if (!(y instanceof VjpTracer && y.main === main)) {
      // the output is not this level's (a constant, or a tracer of a level opened inside f's
      // closure, which may hold this level's values): keep the recorded nodes, no recomputation
      main.tape.push(...segment)
      return unflatten<Y>(ydef as unknown as TreeDef, splitLeaves(y, shapes))
    }
    const inside = new Set<Node>(segment)
    const external = new Map<Node, VjpTracer>()
    for (const node of segment)
      for (const p of node.parents) if (p !== null && !inside.has(p.node)) external.set(p.node, p)
    const parents = [...external.values()]
    const pullback = (yBar: Tensor): Array<Tensor | null> =>
      // recompute f on the re-opened level, then sweep back through the fresh nodes only
      reopen(main, () => {
        const from = main.tape.length
        const yr = joined(x)
        const fresh = main.tape.slice(from)
        const cts = new Map<Node, Tensor>()
        const accumulate = (n: Node, g: Tensor): void => {
          const prev = cts.get(n)
          cts.set(n, prev === undefined ? g : R.add(prev, g))
        }
        if (yr instanceof VjpTracer && yr.main === main) accumulate(yr.node, yBar)
        for (let k = fresh.length - 1; k >= 0; k--) {
          const node = fresh[k] as Node
          const g = cts.get(node)
          if (g === undefined || node.pullback === null) continue
          cts.delete(node)
          const bars = node.pullback(g)
          node.parents.forEach((p, i) => {
            const b = bars[i]
            if (p !== null && b !== null && b !== undefined) accumulate(p.node, b)
          })
        }
        main.tape.length = from
        return parents.map((p) => cts.get(p.node) ?? null)
      })
    const out = recordCustom(main, y.primal, parents, pullback)
    return unflatten<Y>(ydef as unknown as TreeDef, splitLeaves(out, shapes))
  }
}

/** The output leaves from the joined output (one leaf: itself). */
const splitLeaves = (y: Tensor, shapes: ReadonlyArray<ReadonlyArray<number>>): Tensor[] => {
  if (shapes.length === 1) return [y]
  let offset = 0
  return shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1)
    const leaf = reshape(slice(y, [offset], [n]), s)
    offset += n
    return leaf
  })
}

// -------------------------------------------------------------------------------------
// scan and foriLoop
// -------------------------------------------------------------------------------------

/** Options of `scan`. @category model */
export interface ScanOptions {
  /** the number of steps when `xs` is null (otherwise the leading extent of `xs`) */
  readonly length?: number
  /** run from the last step to the first (the stacked `ys` keep the order of `xs`) */
  readonly reverse?: boolean
}

/**
 * Scan `f(carry, x) -> [carry, y]` over the leading axis of `xs` (any tree, or null with
 * `length`): returns the final carry and the `y`s stacked along a new leading axis.
 * Differentiable in both modes; reverse mode stores only the carries (each step is
 * checkpointed).
 * @example
 * const [c, ys] = scan((c: Tensor, x: Tensor) => [add(c, x), mul(c, x)] as const, tensor(0), tensor([1, 2, 3]))
 * c // ≈ 6
 * ys // ≈ [0, 2, 9]
 * @example
 * // staged (trace, jit): one scan equation holding the body, however many steps
 * const p = trace((xs: Tensor) => scan((c: Tensor, x: Tensor) => [add(c, x), c] as const, tensor(0), xs)[0])(zeros([1000]))
 * p.eqns.filter((e) => e.prim.name === 'scan').length // 1
 * p.eqns.length < 10 // true
 * @category transforms
 * @since 0.2.0
 */
export const scan = <C, X, Y>(
  f: (carry: C, x: X) => readonly [C, Y],
  init: C,
  xs: X,
  options: ScanOptions = {},
): [C, Y] => {
  checkOptions('scan', options, ['length', 'reverse'])
  return scanWith(f, init, xs, options, true)
}

/** `scan`; `construct`: under staging, record one construct (false: unroll into the program). */
const scanWith = <C, X, Y>(
  f: (carry: C, x: X) => readonly [C, Y],
  init: C,
  xs: X,
  options: ScanOptions,
  construct: boolean,
): [C, Y] => {
  const op = 'scan'
  const [xls, xdef] = xs === null || xs === undefined ? [[], null] : tensorsOf(xs, op)
  const lengths = xls.map((l) => (l.rank === 0 ? -1 : (l.shape[0] as number)))
  if (lengths.some((n) => n === -1))
    throw new PurediffError('ShapeError', 'every leaf of xs needs a leading axis to scan over', {
      op,
      shapes: xls.map((l) => l.shape),
    })
  let n = options.length ?? lengths[0]
  if (n === undefined) throw new PurediffError('ValueError', 'give xs or options.length', { op })
  if (!Number.isInteger(n) || n < 1)
    throw new PurediffError('ValueError', `scan needs at least one step (got ${n})`, { op })
  if (lengths.some((m) => m !== n)) {
    throw new PurediffError(
      'ShapeError',
      `the leaves of xs (and length) disagree on the number of steps: ${[...new Set([n, ...lengths])].join(' vs ')}`,
      { op, shapes: xls.map((l) => l.shape) },
    )
  }
  n = n as number
  const call = (c: C, x: X | null): readonly [C, Y] => {
    const r = f(c, x as X)
    if (!Array.isArray(r) || r.length !== 2)
      throw new PurediffError('ValueError', 'the scanned function must return [carry, y]', { op })
    return r as readonly [C, Y]
  }
  const reverse = options.reverse === true
  const [cls] = tensorsOf(init, op)
  if (construct && stagingOpen()) {
    // under trace / jit: one scan construct holding the body, staged once (never unrolled)
    const r = scanConstruct(call, init, xls, xdef, n, reverse)
    if (r !== null) return r
  }
  const main = topMain([...cls, ...xls])
  if (main !== null && main.kind === 'vjp') {
    const r = scanVjp(main, call, init, xls, xdef, n, reverse)
    if (r !== null) return r
  }
  // forward mode, batching, staging, constants: the steps as a loop (a reverse level reached
  // only through f's closure checkpoints each step)
  const step = checkpoint((a: readonly [C] | readonly [C, X]) => call(a[0], a.length > 1 ? (a[1] as X) : null))
  let carry = init
  const ys: Y[] = new Array<Y>(n)
  for (let k = 0; k < n; k++) {
    const i = reverse ? n - 1 - k : k
    const x =
      xdef === null
        ? null
        : unflatten<X>(
            xdef,
            xls.map((l) => take(l, i, 0)),
          )
    const [c, y] = step(x === null ? [carry] : [carry, x])
    carry = c
    ys[i] = y
  }
  const [first, ydef] = flatten(ys[0], op)
  const perStep = ys.map((y) => flatten(y, op)[0])
  const stacked = first.map((_, j) => stack(perStep.map((ls) => ls[j] as Leaf)))
  return Object.freeze([carry, unflatten<Y>(ydef, stacked)]) as [C, Y]
}

/**
 * The staged construct: the body staged once on abstract carries and slices of `xs`, one
 * `scan` equation (src/transforms/scanStaged.ts). Returns null (the caller unrolls) when the
 * outputs mix dtypes, which one joined output cannot hold, or the carry changes its shape,
 * dtype or number of leaves from step to step.
 */
const scanConstruct = <C, X, Y>(
  call: (c: C, x: X | null) => readonly [C, Y],
  init: C,
  xls: ReadonlyArray<Tensor>,
  xdef: TreeDef | null,
  n: number,
  reverse: boolean,
): [C, Y] | null => {
  const op = 'scan'
  const [cls, cdef] = tensorsOf(init, op)
  const initLeaves = flatten(init, op)[0]
  const nc = cls.length
  let ydef: TreeDef | null = null
  let fits = true
  const [body, extra] = stageBody(
    (ins) => {
      const x = xdef === null ? null : unflatten<X>(xdef, ins.slice(nc))
      const [c, y] = call(unflatten<C>(cdef, ins.slice(0, nc)), x)
      const [cOut] = tensorsOf(c, op)
      const [yOut, yd] = tensorsOf(y, op)
      // a carry that changes shape, dtype or leaf count (a number init met by float32 data)
      // is not a fixed loop state: such a scan is unrolled, as it runs eagerly
      fits =
        cOut.length === nc &&
        cOut.every((t, j) => shapeEq(t.shape, (cls[j] as Tensor).shape) && t.dtype === (cls[j] as Tensor).dtype)
      ydef = yd
      return [...cOut, ...yOut]
    },
    [...cls.map((c, j) => ({ ...avalOf(c), weak: typeof initLeaves[j] === 'number' })), ...xls.map(sliceAval)],
  )
  if (!fits) return null
  const dt = body.outputs[0]?.dtype
  if (dt === undefined || body.outputs.some((v) => v.dtype !== dt)) return null
  const outs = bindScan(body, extra, [], cls, xls, n, reverse)
  return Object.freeze([
    unflatten<C>(cdef, outs.slice(0, nc)),
    unflatten<Y>(ydef as unknown as TreeDef, outs.slice(nc)),
  ]) as [C, Y]
}

/** The value of `t` one level below `main` (its primal if it is `main`'s tracer). */
const below = (main: MainTrace, t: Tensor): Tensor => (t instanceof VjpTracer && t.main === main ? t.primal : t)

/**
 * Reverse mode of `scan` as one tape node (JAX's scan transpose). The forward pass runs each
 * step on fresh inputs, keeps the carry it returns (below this level) and drops the step's
 * tape nodes, noting only the values of this level that `f` read from its closure. The
 * pullback runs the steps backwards: each is recomputed from its stored carry and its slice
 * of `xs`, swept back alone, and its `x` cotangent set aside; the `xs` cotangent is the stack
 * of those, built once (O(T), where T scatters into the whole of `xs` would be O(T²)).
 * Stored: the T carries. Returns null (the caller falls back to the loop) when a step's
 * output holds a tracer of a level above this one, which one node here cannot carry.
 */
const scanVjp = <C, X, Y>(
  main: MainTrace,
  call: (c: C, x: X | null) => readonly [C, Y],
  init: C,
  xls: ReadonlyArray<Tensor>,
  xdef: TreeDef | null,
  n: number,
  reverse: boolean,
): [C, Y] | null => {
  const op = 'scan'
  const [cls, cdef] = tensorsOf(init, op)
  const xsBelow = xls.map((l) => below(main, l))
  // one step on fresh inputs of this level: its outputs, and the inputs' nodes
  const runStep = (carry: ReadonlyArray<Tensor>, i: number) => {
    const cIn = carry.map((c) => new VjpTracer(main, c, inputNode()))
    const xIn = xsBelow.map((l) => new VjpTracer(main, take(l, i, 0), inputNode()))
    const x = xdef === null ? null : unflatten<X>(xdef, xIn)
    const [c, y] = call(unflatten<C>(cdef, cIn), x)
    const [cOut, cOutDef] = tensorsOf(c, op)
    const [yOut, yDef] = tensorsOf(y, op)
    return { cIn, xIn, cOut, yOut, cOutDef, yDef }
  }
  const above = (t: Tensor): boolean => t instanceof Tracer && t.main !== main && t.main.depth > main.depth
  // forward: keep the carries, not the steps
  const carries: Tensor[][] = [cls.map((c) => below(main, c))]
  const ysBelow: Tensor[][] = new Array<Tensor[]>(n)
  const externals = new Map<Node, VjpTracer>()
  let yDef: TreeDef | null = null
  for (let k = 0; k < n; k++) {
    const i = reverse ? n - 1 - k : k
    const start = main.tape.length
    const s = runStep(carries[k] as Tensor[], i)
    const segment = main.tape.splice(start)
    if (s.cOut.length !== cls.length) {
      throw new PurediffError(
        'TreeError',
        `the carry has ${cls.length} leaves going in but ${s.cOut.length} coming out of step ${i}`,
        { op },
      )
    }
    if ([...s.cOut, ...s.yOut].some(above)) return null
    const inside = new Set<Node>(segment)
    const fresh = new Set<Node>([...s.cIn, ...s.xIn].map((t) => t.node))
    for (const node of segment)
      for (const p of node.parents)
        if (p !== null && !inside.has(p.node) && !fresh.has(p.node)) externals.set(p.node, p)
    carries.push(s.cOut.map((c) => below(main, c)))
    ysBelow[i] = s.yOut.map((y) => below(main, y))
    yDef = s.yDef
  }
  const finalCarry = carries[n] as Tensor[]
  const stackedYs = (ysBelow[0] as Tensor[]).map((_, j) => stack(ysBelow.map((ls) => ls[j] as Tensor)))
  const outs = [...finalCarry, ...stackedYs]
  const shapes = outs.map((o) => o.shape)
  const joinedBelow = outs.length === 1 ? (outs[0] as Tensor) : concat(outs.map((o) => reshape(o, [o.size])))
  const ext = [...externals.values()]
  const parents: Array<VjpTracer | null> = [
    ...cls.map((c) => (c instanceof VjpTracer && c.main === main ? c : null)),
    ...xls.map((l) => (l instanceof VjpTracer && l.main === main ? l : null)),
    ...ext,
  ]
  const nc = cls.length
  const pullback = (yBar: Tensor): Array<Tensor | null> => {
    const bars = splitLeaves(yBar, shapes)
    let cBar: Array<Tensor | null> = bars.slice(0, nc)
    const ysBar = bars.slice(nc)
    const xBars: Array<Array<Tensor | null>> = xls.map(() => new Array<Tensor | null>(n).fill(null))
    const extBars = new Map<Node, Tensor>()
    reopen(main, () => {
      for (let k = n - 1; k >= 0; k--) {
        const i = reverse ? n - 1 - k : k
        const from = main.tape.length
        const s = runStep(carries[k] as Tensor[], i)
        const fresh = main.tape.slice(from)
        const cts = new Map<Node, Tensor>()
        const accumulate = (node: Node, g: Tensor): void => {
          const prev = cts.get(node)
          cts.set(node, prev === undefined ? g : R.add(prev, g))
        }
        const seed = (t: Tensor, g: Tensor | null): void => {
          if (g !== null && t instanceof VjpTracer && t.main === main) accumulate(t.node, g)
        }
        s.cOut.forEach((t, j) => seed(t, cBar[j] ?? null))
        s.yOut.forEach((t, j) => seed(t, take(ysBar[j] as Tensor, i, 0)))
        for (let q = fresh.length - 1; q >= 0; q--) {
          const node = fresh[q] as Node
          const g = cts.get(node)
          if (g === undefined || node.pullback === null) continue
          cts.delete(node)
          const nodeBars = node.pullback(g)
          node.parents.forEach((p, pi) => {
            const b = nodeBars[pi]
            if (p !== null && b !== null && b !== undefined) accumulate(p.node, b)
          })
        }
        main.tape.length = from
        cBar = s.cIn.map((t) => cts.get(t.node) ?? null)
        s.xIn.forEach((t, j) => ((xBars[j] as Array<Tensor | null>)[i] = cts.get(t.node) ?? null))
        for (const e of ext) {
          const g = cts.get(e.node)
          if (g === undefined) continue
          const prev = extBars.get(e.node)
          extBars.set(e.node, prev === undefined ? g : R.add(prev, g))
        }
      }
    })
    // each xs cotangent: the per-step ones stacked once (symbolic zeros as zeros, all zero: none)
    const xsBars = xBars.map((col, j) => {
      if (col.every((g) => g === null)) return null
      const l = xls[j] as Tensor
      const sliceShape = l.shape.slice(1)
      return stack(col.map((g) => g ?? zeros(sliceShape, l.dtype)))
    })
    return [...cBar, ...xsBars, ...ext.map((e) => extBars.get(e.node) ?? null)]
  }
  const out = recordCustom(main, joinedBelow, parents, pullback)
  const leaves = splitLeaves(out, shapes)
  const carry = unflatten<C>(cdef, leaves.slice(0, nc))
  const ys = unflatten<Y>(yDef as TreeDef, leaves.slice(nc))
  return Object.freeze([carry, ys]) as [C, Y]
}

/**
 * `body(i, carry)` for i = lower, …, upper − 1 (JAX's `fori_loop`), differentiable in both
 * modes (as a scan: reverse mode stores only the carries).
 * @example
 * foriLoop(0, 3, (i, c: Tensor) => add(c, i), tensor(0)) // ≈ 3
 * @category transforms
 * @since 0.2.0
 */
export const foriLoop = <C>(lower: number, upper: number, body: (i: number, carry: C) => C, init: C): C => {
  if (!Number.isInteger(lower) || !Number.isInteger(upper)) {
    throw new PurediffError('ValueError', `the bounds must be integers (got ${lower}, ${upper})`, { op: 'foriLoop' })
  }
  if (upper <= lower) return init
  // the index is scanned over as data (not a counter in the closure), so a step recomputed by
  // reverse mode sees its own index
  const steps = arange(lower, upper)
  if (stagingOpen()) {
    // staged: the index is a staged scalar, so the loop is one construct; a body that needs
    // the index as a JS number (i + 1, an array index) cannot be staged that way and unrolls
    try {
      return scan((c: C, i: Tensor) => [body(i as unknown as number, c), 0] as const, init, steps)[0]
    } catch (e) {
      if (!(e instanceof PurediffError && e.tag === 'ConcretizationError')) throw e
    }
  }
  return scanWith((c: C, i: Tensor) => [body(i.item(), c), 0] as const, init, steps, {}, false)[0]
}

// -------------------------------------------------------------------------------------
// branches
// -------------------------------------------------------------------------------------

/** A concrete number from a predicate or index; a batched one returns null (select per example). */
const concreteScalar = (x: Tensor | number | boolean, op: string): number | null => {
  if (typeof x === 'boolean') return x ? 1 : 0
  if (typeof x === 'number') return x
  if (hasBatch(x)) return null
  if (x.size !== 1)
    throw new PurediffError('ShapeError', 'the predicate / index must be a scalar', { op, shapes: [x.shape] })
  return x.item()
}
const hasBatch = (x: Tensor): boolean =>
  x instanceof BatchTracer || (x instanceof Tracer && !(x instanceof StagingTracer) && hasBatch(x.primal))

/** A predicate or index known only by its shape (staged by `trace` / `jit`), not batched. */
const isStaged = (x: Tensor): boolean =>
  x instanceof StagingTracer ? true : x instanceof BatchTracer ? false : x instanceof Tracer && isStaged(x.primal)

/**
 * A staged predicate or index: one `cond` construct holding every branch as a sub-program
 * (src/transforms/condStaged.ts); the branch is chosen when the program runs.
 */
const condConstruct = <A extends unknown[], R>(
  mode: 'cond' | 'switch',
  pred: Tensor,
  branches: ReadonlyArray<(...args: A) => R>,
  operands: A,
): R => {
  const op = mode === 'cond' ? 'cond' : 'switchCase'
  if (pred.size !== 1)
    throw new PurediffError('ShapeError', 'the predicate / index must be a scalar', { op, shapes: [pred.shape] })
  const [ls, def] = tensorsOf(operands, op)
  const defs: TreeDef[] = []
  const fs = branches.map((br) => (ins: ReadonlyArray<Tensor>) => {
    const [outs, d] = tensorsOf(br(...unflatten<A>(def, ins)), op)
    defs.push(d)
    return outs
  })
  const [progs, extra] = stageBranches(fs, ls.map(avalOf))
  const d0 = JSON.stringify(defs[0])
  if (defs.some((d) => JSON.stringify(d) !== d0))
    throw new PurediffError('TreeError', 'the branches return trees of different structures', { op })
  const outs = bindCond(progs, mode, reshape(pred, []), [...ls, ...extra])
  return unflatten<R>(defs[0] as TreeDef, outs)
}

/** Select leaf by leaf between trees of the same structure: where(mask, a, b). */
const selectTrees = <T>(mask: Tensor, a: T, b: T, op: string): T => {
  const [la, da] = flatten(a, op)
  const [lb] = flatten(b, op)
  return unflatten<T>(
    da,
    la.map((l, i) => {
      const ta = asTensor(l, op)
      const tb = asTensor(lb[i] as Leaf, op)
      return where(broadcastTo(mask, ta.shape.length >= tb.shape.length ? ta.shape : tb.shape), ta, tb)
    }),
  )
}

/**
 * Run `onTrue(...operands)` if `pred` is nonzero, else `onFalse(...operands)` (JAX's
 * `lax.cond`); only the chosen branch runs. Under `vmap` with a batched predicate both run
 * and the results are selected per example.
 * @example
 * cond(greater(tensor(4), 0), (u: Tensor) => sqrt(u), (u: Tensor) => neg(u), tensor(4)) // ≈ 2
 * @example
 * // a staged predicate: one cond equation holding both branches, chosen when it runs
 * const f = jit((x: Tensor) => cond(greater(x, 0), (u: Tensor) => sqrt(u), (u: Tensor) => neg(u), x))
 * f(tensor(4)) // ≈ 2
 * f(tensor(-3)) // ≈ 3
 * @category transforms
 * @since 0.2.0
 */
export const cond = <A extends unknown[], R>(
  pred: Tensor | number | boolean,
  onTrue: (...args: A) => R,
  onFalse: (...args: A) => R,
  ...operands: A
): R => {
  if (pred instanceof Tensor && isStaged(pred)) return condConstruct('cond', pred, [onFalse, onTrue], operands)
  const p = concreteScalar(pred, 'cond')
  if (p !== null) return p !== 0 ? onTrue(...operands) : onFalse(...operands)
  return selectTrees(pred as Tensor, onTrue(...operands), onFalse(...operands), 'cond')
}

/**
 * Run `branches[index](...operands)` (JAX's `lax.switch`; the index is clamped to the
 * branches). Under `vmap` with a batched index every branch runs and results are selected.
 * @example
 * switchCase(1, [(u: Tensor) => u, (u: Tensor) => mul(u, 2)], tensor(3)) // ≈ 6
 * @category transforms
 * @since 0.2.0
 */
export const switchCase = <A extends unknown[], R>(
  index: Tensor | number,
  branches: ReadonlyArray<(...args: A) => R>,
  ...operands: A
): R => {
  if (!Array.isArray(branches) || branches.length === 0)
    throw new PurediffError('ValueError', 'needs a non-empty array of branches', { op: 'switchCase' })
  if (index instanceof Tensor && isStaged(index)) return condConstruct('switch', index, branches, operands)
  const k = concreteScalar(index, 'switchCase')
  const clamp = (i: number): number => Math.min(Math.max(Math.round(i), 0), branches.length - 1)
  if (k !== null) return (branches[clamp(k)] as (...args: A) => R)(...operands)
  const results = branches.map((b) => b(...operands))
  // per example: the clamped, rounded index picks the branch
  const r = minimum(maximum(round(asTensor(index, 'switchCase')), 0), branches.length - 1)
  let out = results[results.length - 1] as R
  for (let j = results.length - 2; j >= 0; j--) out = selectTrees(equal(r, j), results[j] as R, out, 'switchCase')
  return out
}

// -------------------------------------------------------------------------------------
// whileLoop
// -------------------------------------------------------------------------------------

const isReverseTraced = (x: unknown): boolean => {
  const [ls] = flatten(x, 'whileLoop')
  const seen = (t: Tensor): boolean =>
    t instanceof VjpTracer || (t instanceof Tracer && !(t instanceof StagingTracer) && seen(t.primal))
  return ls.some((l) => l instanceof Tensor && seen(l))
}

/**
 * `carry = body(carry)` while `condFn(carry)` is nonzero (JAX's `lax.while_loop`). Forward
 * mode (`jvp`, `jacfwd`) differentiates through it; reverse mode is an error, as in JAX: use
 * `foriLoop` or `scan`, whose trip count is known.
 * @example
 * whileLoop((c: Tensor) => less(c, 10), (c: Tensor) => mul(c, 2), tensor(1)) // ≈ 16
 * @category transforms
 * @since 0.2.0
 */
export const whileLoop = <C>(condFn: (carry: C) => Tensor | number | boolean, body: (carry: C) => C, init: C): C => {
  if (stagingOpen()) {
    // under trace / jit: one while construct holding the condition and the body
    if (isReverseTraced(init)) throw new PurediffError('ValueError', REVERSE_MESSAGE, { op: 'whileLoop' })
    const [ls, def] = tensorsOf(init, 'whileLoop')
    try {
      const outs = whileConstruct(
        (cs) => {
          const c = condFn(unflatten<C>(def, cs))
          return asTensor(typeof c === 'boolean' ? (c ? 1 : 0) : c, 'whileLoop')
        },
        (cs) => tensorsOf(body(unflatten<C>(def, cs)), 'whileLoop')[0],
        ls,
      )
      return unflatten<C>(def, outs)
    } catch (e) {
      // a condition or body that reads a staged value as data cannot be staged: run the loop
      if (!(e instanceof PurediffError && e.tag === 'ConcretizationError')) throw e
    }
  }
  let carry = init
  for (;;) {
    if (isReverseTraced(carry)) {
      throw new PurediffError('ValueError', REVERSE_MESSAGE, { op: 'whileLoop' })
    }
    const c = condFn(carry)
    const p = concreteScalar(c, 'whileLoop')
    if (p === null)
      throw new PurediffError(
        'ValueError',
        'the loop condition depends on the batch (under vmap); every example must take the same number of steps',
        { op: 'whileLoop' },
      )
    if (p === 0) return carry
    carry = body(carry)
  }
}
