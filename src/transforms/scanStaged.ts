/**
 * `scan` as one program construct under staging (JAX's `scan[jaxpr={...}]`).
 *
 * When a staging level is open (`trace`, `jit`, `explain`), `scan` does not unroll: its body
 * is staged once into a sub-program over abstract carry and `x` values, and one equation
 * `scan[body={...} length=… reverse=… consts=… carries=…]` holds it. The equation's operands
 * are `[consts..., carries..., xs...]`, where the consts are the values the body closed over
 * that belong to a transform (tracers), lifted out of the body so that it is closed. A
 * primitive has one output, so the construct's output is its outputs joined into one flat
 * vector (`[final carries..., stacked ys...]`, each raveled), which the caller splits again.
 *
 * The construct is a primitive record like any other:
 * - kernel: a loop that evaluates the body once per step (never unrolled into equations);
 * - forward rule (input i): a scan of the body's JVP with a tangent for input i (carry
 *   tangents are carries, const tangents consts, `xs` tangents scanned over);
 * - reverse rule: a forward scan that stores only the carries entering each step, then a
 *   scan the other way of the body's VJP, carrying the carry cotangent and the consts'
 *   accumulated cotangents and stacking the `xs` cotangents (the eager strategy, staged);
 * - batching rule: a scan of the body mapped by `vmap` (every carry batched).
 * Each rule stages its transformed body with `stageProgram` and binds the construct again,
 * so every composition (`jit(grad(f))`, `grad(jit(f))`, `jit(vmap(f))`, …) stays one
 * construct per scan, to any order.
 *
 * Purity: programs and params are frozen; the kernel fills only arrays it allocates.
 */
import { Tracer, bind } from '../ad/trace.js'
import { moveAxis } from '../ad/batching.js'
import { PurediffError } from '../errors.js'
import { add, broadcastTo, concat, reshape, slice, stack, take } from '../ops/ops.js'
import type { AbstractValue, JvpRule, Primitive, VjpRule } from '../primitives/types.js'
import type { ConcreteTensor, DType, Shape, Tensor } from '../tensor/Tensor.js'
import { zeros } from '../tensor/Tensor.js'
import type { TreeDef } from '../tree/Tree.js'
import type { Program } from '../staging/program.js'
import { evalFlat, makeProgram, stageProgram } from '../staging/program.js'
import type { Executable } from '../staging/compile.js'
import { compile } from '../staging/compile.js'
import { optimize } from '../staging/optimize.js'
import { jvp, vjp } from './transforms.js'
import { vmap } from './vmap.js'

/** The params of a staged `scan` equation. @internal */
export interface ScanParams {
  /** the step: inputs `[consts..., carries..., x slices...]`, outputs `[carries..., ys...]` */
  readonly body: Program
  readonly length: number
  readonly reverse: boolean
  /** how many leading operands are consts (passed to every step) */
  readonly consts: number
  /** how many operands after the consts are carries */
  readonly carries: number
}

let nextScan = 0
/**
 * Frozen params. Each construct keys as itself when the optimizer compares params (its
 * `toJSON`, not enumerable: listings and graphs do not show it): two scans merge only when
 * they are the same equation, never by a serialization that cannot see the body's constants.
 */
const scanParams = (p: ScanParams): ScanParams => {
  const id = nextScan++
  const q = { body: p.body, length: p.length, reverse: p.reverse, consts: p.consts, carries: p.carries }
  Object.defineProperty(q, 'toJSON', { value: () => `scan#${id}`, enumerable: false })
  return Object.freeze(q)
}

const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1)

/** The construct's output pieces: final carries, then the ys stacked over the steps. */
const outShapes = (p: ScanParams): Shape[] =>
  p.body.outputs.map((v, j) => (j < p.carries ? v.shape : [p.length, ...v.shape]))

/** Join tensors into one flat vector. */
export const join = (ts: ReadonlyArray<Tensor>): Tensor =>
  ts.length === 1 && (ts[0] as Tensor).rank === 1 ? (ts[0] as Tensor) : concat(ts.map((t) => reshape(t, [t.size])))

/** Split a flat vector into pieces of the given shapes. */
export const split = (y: Tensor, shapes: ReadonlyArray<Shape>): Tensor[] => {
  let offset = 0
  return shapes.map((s) => {
    const n = sizeOf(s)
    const piece = shapes.length === 1 && s.length === 1 ? y : reshape(slice(y, [offset], [n]), s)
    offset += n
    return piece
  })
}

const compiled = new WeakMap<Program, Executable>()
/**
 * A sub-program compiled once (optimized, then generated code where the compiler can, as
 * `jit` does): the kernels of constructs call it per step on concrete values. @internal
 */
export const runBody = (body: Program, xs: ReadonlyArray<Tensor>): Tensor[] => {
  let exec = compiled.get(body)
  if (exec === undefined) {
    exec = compile(optimize(body))
    compiled.set(body, exec)
  }
  return exec.run(xs as ReadonlyArray<ConcreteTensor>)
}

/** Run the loop: the body (compiled once) called once per step. */
const runScan = (xs: ReadonlyArray<Tensor>, p: ScanParams): Tensor => {
  const nk = p.consts
  const nc = p.carries
  const consts = xs.slice(0, nk)
  let carry = xs.slice(nk, nk + nc)
  const scanned = xs.slice(nk + nc)
  const ny = p.body.outputs.length - nc
  const ys: Tensor[][] = Array.from({ length: ny }, () => new Array<Tensor>(p.length))
  for (let k = 0; k < p.length; k++) {
    const i = p.reverse ? p.length - 1 - k : k
    const outs = runBody(p.body, [...consts, ...carry, ...scanned.map((l) => take(l, i, 0))])
    carry = outs.slice(0, nc)
    for (let j = 0; j < ny; j++) (ys[j] as Tensor[])[i] = outs[nc + j] as Tensor
  }
  return join([...carry, ...ys.map((col) => stack(col))])
}

// -------------------------------------------------------------------------------------
// bodies
// -------------------------------------------------------------------------------------

/** A leaf standing for an abstract value (only its shape and dtype are read by staging). */
const placeholder = (a: AbstractValue & { readonly weak?: boolean }): Tensor | number =>
  a.weak === true ? 0 : zeros(a.shape, a.dtype)

const flatDef = (n: number): TreeDef => ({
  kind: 'array',
  children: Array.from({ length: n }, () => ({ kind: 'tensor' })),
})

/**
 * Stage `f` on flat inputs of the given abstract values into a closed body: captured
 * tracers become extra leading inputs, returned with the body.
 * @internal
 */
export const stageBody = (
  f: (ins: ReadonlyArray<Tensor>) => ReadonlyArray<Tensor>,
  avals: ReadonlyArray<AbstractValue & { readonly weak?: boolean }>,
): [Program, Tensor[]] => {
  // a weak aval (a JS number) is staged as a number, weakly typed as numbers are
  const prog = stageProgram('scan', (ins: Tensor[]) => f(ins), [avals.map(placeholder)], [])
  const lifted = prog.consts.filter((c) => c.value instanceof Tracer)
  const kept = prog.consts.filter((c) => !(c.value instanceof Tracer))
  const inputs = [...lifted.map((c) => c.v), ...prog.inputs]
  const body = makeProgram({
    transform: 'scan',
    inputs,
    inTree: flatDef(inputs.length),
    staticArgnums: [],
    consts: kept,
    eqns: prog.eqns,
    outputs: prog.outputs,
    outTree: flatDef(prog.outputs.length),
    capturesTracers: false,
  })
  return [body, lifted.map((c) => c.value)]
}

const derived = new WeakMap<object, Map<string, readonly [unknown, Tensor[]]>>()
/**
 * A body derived from `from` by a rule (`tag` names the rule and whatever else fixes its
 * inputs' abstract values), staged once: a closed derived body (one that captured nothing)
 * is kept with `from`, so a rule applied at every call (a gradient of a jitted function)
 * neither restages nor recompiles it. @internal
 */
export const derivedBody = <B>(from: object, tag: string, make: () => [B, Tensor[]]): [B, Tensor[]] => {
  let byTag = derived.get(from)
  if (byTag === undefined) {
    byTag = new Map()
    derived.set(from, byTag)
  }
  const seen = byTag.get(tag)
  if (seen !== undefined) return seen as [B, Tensor[]]
  const made = make()
  if (made[1].length === 0) byTag.set(tag, made)
  return made
}

/**
 * Bind the construct for `body` (its leading inputs `extra` are captured values, put
 * before the consts) and split its output.
 */
export const bindScan = (
  body: Program,
  extra: ReadonlyArray<Tensor>,
  consts: ReadonlyArray<Tensor>,
  carries: ReadonlyArray<Tensor>,
  xs: ReadonlyArray<Tensor>,
  length: number,
  reverse: boolean,
): Tensor[] => {
  const p = scanParams({ body, length, reverse, consts: extra.length + consts.length, carries: carries.length })
  const dt = body.outputs[0]?.dtype
  if (dt === undefined || body.outputs.some((v) => v.dtype !== dt))
    throw new PurediffError('ValueError', 'a staged scan needs outputs of one dtype', { op: 'scan' })
  const y = bindScanPrim([...extra, ...consts, ...carries, ...xs], p)
  return split(y, outShapes(p))
}

// -------------------------------------------------------------------------------------
// rules
// -------------------------------------------------------------------------------------

export const avalOf = (t: AbstractValue): AbstractValue => ({ shape: t.shape, dtype: t.dtype })
export const sliceAval = (t: AbstractValue): AbstractValue => ({ shape: t.shape.slice(1), dtype: t.dtype })

/** Forward rule for input i: a scan of the body's JVP with a tangent for input i only. */
const jvpRule =
  (i: number): JvpRule<ScanParams> =>
  (t, xs, _y, p) => {
    const nk = p.consts
    const nc = p.carries
    const consts = xs.slice(0, nk)
    const carries = xs.slice(nk, nk + nc)
    const scanned = xs.slice(nk + nc)
    const nx = scanned.length
    const ny = p.body.outputs.length - nc
    const isConst = i < nk
    const isX = i >= nk + nc
    // inputs of the JVP body: consts, [tangent of const i], carries, carry tangents, x slices, [tangent of x i]
    const avals = [
      ...consts.map(avalOf),
      ...(isConst ? [avalOf(t)] : []),
      ...carries.map(avalOf),
      ...carries.map(avalOf),
      ...scanned.map(sliceAval),
      ...(isX ? [sliceAval(t)] : []),
    ]
    const [body, extra] = derivedBody(p.body, `jvp${i}`, () =>
      stageBody((ins) => {
        let q = 0
        const ks = ins.slice(q, (q += nk))
        const kDot = isConst ? [ins[q++] as Tensor] : []
        const cs = ins.slice(q, (q += nc))
        const cDots = ins.slice(q, (q += nc))
        const xsl = ins.slice(q, (q += nx))
        const xDot = isX ? [ins[q++] as Tensor] : []
        const primals = [...ks, ...cs, ...xsl]
        const tangents = primals.map((v, j) =>
          j < nk
            ? j === i
              ? (kDot[0] as Tensor)
              : zeros(v.shape, v.dtype)
            : j < nk + nc
              ? (cDots[j - nk] as Tensor)
              : j === i
                ? (xDot[0] as Tensor)
                : zeros(v.shape, v.dtype),
        )
        const [outs, tOuts] = jvp((u: Tensor[]) => evalFlat(p.body, u), primals, tangents)
        return [...outs.slice(0, nc), ...tOuts.slice(0, nc), ...outs.slice(nc), ...tOuts.slice(nc)]
      }, avals),
    )
    const cDot0 = carries.map((c, j) => (nk + j === i ? t : zeros(c.shape, c.dtype)))
    const outs = bindScan(
      body,
      extra,
      [...consts, ...(isConst ? [t] : [])],
      [...carries, ...cDot0],
      [...scanned, ...(isX ? [t] : [])],
      p.length,
      p.reverse,
    )
    // the tangent of [carries, ys], joined as the primal output is
    return join([...outs.slice(nc, 2 * nc), ...outs.slice(2 * nc + ny)])
  }

/**
 * A construct's reverse rules are per input, but its backward program gives every input's
 * cotangent at once: `all` memoized per (node inputs, output cotangent), so the rules of one
 * node share one evaluation.
 */
export const onceForAllInputs = <Q>(
  all: (yBar: Tensor, xs: ReadonlyArray<Tensor>, p: Q) => Tensor[],
): ((yBar: Tensor, xs: ReadonlyArray<Tensor>, p: Q) => Tensor[]) => {
  const cache = new WeakMap<ReadonlyArray<Tensor>, WeakMap<Tensor, Tensor[]>>()
  return (yBar, xs, p) => {
    let byBar = cache.get(xs)
    if (byBar === undefined) {
      byBar = new WeakMap()
      cache.set(xs, byBar)
    }
    let got = byBar.get(yBar)
    if (got === undefined) {
      got = all(yBar, xs, p)
      byBar.set(yBar, got)
    }
    return got
  }
}

const vjpAll = (yBar: Tensor, xs: ReadonlyArray<Tensor>, p: ScanParams): Tensor[] => {
  const nk = p.consts
  const nc = p.carries
  const consts = xs.slice(0, nk)
  const carries = xs.slice(nk, nk + nc)
  const scanned = xs.slice(nk + nc)
  const nx = scanned.length
  const outs = p.body.outputs
  const ny = outs.length - nc
  // forward: store the carry entering each step (as the ys of a scan), nothing else
  const [fwd, fwdExtra] = derivedBody(p.body, 'vjp-forward', () =>
    stageBody(
      (ins) => {
        const o = evalFlat(p.body, ins)
        return [...o.slice(0, nc), ...ins.slice(nk, nk + nc)]
      },
      [...consts.map(avalOf), ...carries.map(avalOf), ...scanned.map(sliceAval)],
    ),
  )
  const stored = bindScan(fwd, fwdExtra, consts, carries, scanned, p.length, p.reverse).slice(nc)
  // backward: the steps the other way, carrying (carry cotangent, consts' cotangents)
  const bars = split(yBar, outShapes(p))
  const [bwd, bwdExtra] = derivedBody(p.body, 'vjp-backward', () =>
    stageBody(
      (ins) => {
        let q = 0
        const ks = ins.slice(q, (q += nk))
        const cBar = ins.slice(q, (q += nc))
        const kBar = ins.slice(q, (q += nk))
        const cIn = ins.slice(q, (q += nc))
        const xsl = ins.slice(q, (q += nx))
        const yBars = ins.slice(q, (q += ny))
        const [, pull] = vjp((u: Tensor[]) => evalFlat(p.body, u), [...ks, ...cIn, ...xsl])
        const g = pull([...cBar, ...yBars])
        return [...g.slice(nk, nk + nc), ...kBar.map((kb, j) => add(kb, g[j] as Tensor)), ...g.slice(nk + nc)]
      },
      [
        ...consts.map(avalOf),
        ...carries.map(avalOf),
        ...consts.map(avalOf),
        ...carries.map(avalOf),
        ...scanned.map(sliceAval),
        ...outs.slice(nc).map(avalOf),
      ],
    ),
  )
  const res = bindScan(
    bwd,
    bwdExtra,
    consts,
    [...bars.slice(0, nc), ...consts.map((k) => zeros(k.shape, k.dtype))],
    [...stored, ...scanned, ...bars.slice(nc)],
    p.length,
    !p.reverse,
  )
  // res: [carry cotangents, consts' cotangents, stacked xs cotangents]
  return [...res.slice(nc, nc + nk), ...res.slice(0, nc), ...res.slice(nc + nk)]
}

const vjpAllOnce = onceForAllInputs(vjpAll)

const vjpRule =
  (i: number): VjpRule<ScanParams> =>
  (yBar, xs, _y, p) =>
    vjpAllOnce(yBar, xs, p)[i] as Tensor

/** Batching: every carry batched (axis 0), batched consts at axis 0, batched xs at axis 1. */
const batchRule: Primitive<ScanParams>['batch'] = (xs, dims, p, _R, self) => {
  const nk = p.consts
  const nc = p.carries
  let b = 0
  xs.forEach((x, j) => {
    const d = dims[j]
    if (d !== null && d !== undefined) b = x.shape[d] as number
  })
  const ops = xs.map((x, j) => {
    const d = dims[j] ?? null
    if (j >= nk && j < nk + nc) {
      if (d !== null) return moveAxis(x, d, 0)
      return broadcastTo(reshape(x, [1, ...x.shape]), [b, ...x.shape])
    }
    if (d === null) return x
    return moveAxis(x, d, j < nk ? 0 : 1)
  })
  const inAxes = ops.map((_, j) => (j >= nk && j < nk + nc ? 0 : dims[j] === null || dims[j] === undefined ? null : 0))
  const avals = ops.map((x, j) => (j < nk + nc ? avalOf(x) : sliceAval(x)))
  const [body] = derivedBody(p.body, `batch${b}:${inAxes.join()}`, () =>
    stageBody((ins) => vmap((...u: Tensor[]) => evalFlat(p.body, u), { inAxes, outAxes: 0 })(...ins), avals),
  )
  const q = scanParams({ ...p, body })
  const pieces = split(self(ops, q), outShapes(q))
  // ys come stacked as [length, batch, ...]: batch first, then everything joined per example
  const perExample = pieces.map((t, j) => (j < nc ? t : moveAxis(t, 1, 0)))
  const y = concat(
    perExample.map((t) => reshape(t, [b, t.size / b])),
    1,
  )
  return [y, 0] as const
}

/** The `scan` construct's primitive record. @internal */
export const scanPrim: Primitive<ScanParams> = Object.freeze({
  name: 'scan',
  arity: -1,
  abstract: (_xs: ReadonlyArray<AbstractValue>, p: ScanParams): AbstractValue => ({
    shape: [outShapes(p).reduce((s, sh) => s + sizeOf(sh), 0)],
    dtype: (p.body.outputs[0] as AbstractValue).dtype as DType,
  }),
  impl: (xs: ReadonlyArray<ConcreteTensor>, p: ScanParams): ConcreteTensor => runScan(xs, p) as ConcreteTensor,
  jvp: jvpRule,
  vjp: vjpRule,
  batch: batchRule,
  domain: null,
  broadcasts: false,
})

const bindScanPrim = (args: ReadonlyArray<Tensor>, p: ScanParams): Tensor => bind(scanPrim, args, p)
