/**
 * `cond` / `switchCase` as one program construct under staging (JAX's `cond[branches=(…)]`).
 *
 * When the predicate (or index) is a staged value, its value is unknown at trace time, so
 * every branch is staged into a sub-program over the abstract operands and one equation
 * `cond[branches=[{…},{…}] mode=…]` holds them, the predicate or index its first operand.
 * All branches take the same inputs: the operands' leaves, then every value any branch closed
 * over that belongs to a transform (lifted out, so each branch is closed). As with `scan`, the
 * one output is the branch's outputs joined into a flat vector, split again by the caller.
 *
 * Rules (each binds the construct again, so compositions stay one construct):
 * - kernel: evaluate the chosen branch only;
 * - forward (operand i): a `cond` over the branches' JVPs with a tangent for operand i; the
 *   predicate has no derivative (piecewise constant);
 * - reverse: a `cond` over the branches' VJPs, giving every operand's cotangent at once;
 * - batching: an unbatched predicate picks among the branches mapped by `vmap`; a batched one
 *   runs every branch and selects per example with `where` (as JAX does).
 *
 * Purity: programs and params are frozen; the kernel allocates its output.
 */
import { bind } from '../ad/trace.js'
import { moveAxis } from '../ad/batching.js'
import { PurediffError } from '../errors.js'
import { broadcastTo, concat, equal, maximum, minimum, notEqual, reshape, round, where } from '../ops/ops.js'
import type { AbstractValue, JvpRule, Primitive, VjpRule } from '../primitives/types.js'
import type { ConcreteTensor, Shape, Tensor } from '../tensor/Tensor.js'
import { zeros } from '../tensor/Tensor.js'
import type { Program } from '../staging/program.js'
import { evalFlat } from '../staging/program.js'
import { avalOf, derivedBody, join, onceForAllInputs, runBody, split, stageBody } from './scanStaged.js'
import { jvp, vjp } from './transforms.js'
import { vmap } from './vmap.js'

/** The params of a staged `cond` equation. @internal */
export interface CondParams {
  /** each branch: inputs the operands (after the predicate), outputs the branch's leaves */
  readonly branches: ReadonlyArray<Program>
  /** 'cond': branch 1 when the predicate is nonzero, else 0; 'switch': the index rounded and clamped */
  readonly mode: 'cond' | 'switch'
}

let nextCond = 0
/** Frozen params that the optimizer keys by identity (see `scanParams`). */
const condParams = (p: CondParams): CondParams => {
  const id = nextCond++
  const q = { branches: Object.freeze(p.branches.slice()), mode: p.mode }
  Object.defineProperty(q, 'toJSON', { value: () => `cond#${id}`, enumerable: false })
  return Object.freeze(q)
}

const outShapesOf = (p: CondParams): Shape[] => (p.branches[0] as Program).outputs.map((v) => v.shape)
const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1)

/** The branch a concrete predicate or index picks. */
const pick = (x: number, p: CondParams): number =>
  p.mode === 'cond' ? (x !== 0 ? 1 : 0) : Math.min(Math.max(Math.round(x), 0), p.branches.length - 1)

/** The per-example branch numbers of a (batched) predicate or index, as a tensor. */
const pickTensor = (x: Tensor, p: CondParams): Tensor =>
  p.mode === 'cond' ? where(notEqual(x, 0), 1, 0) : minimum(maximum(round(x), 0), p.branches.length - 1)

/**
 * Stage every branch on the operands' abstract values into programs with the same inputs:
 * the operands, then every branch's captured values. Returns the programs and those values.
 * @internal
 */
export const stageBranches = (
  fs: ReadonlyArray<(ins: ReadonlyArray<Tensor>) => ReadonlyArray<Tensor>>,
  avals: ReadonlyArray<AbstractValue>,
): [Program[], Tensor[]] => {
  const staged = fs.map((f) => stageBody(f, avals))
  const extras = staged.flatMap(([, e]) => e)
  const n = avals.length
  let offset = 0
  const programs = staged.map(([b, e]) => {
    const from = offset
    offset += e.length
    // b's inputs: [its captured values, operands]; the uniform ones: [operands, all captured]
    return stageBody(
      (ins) => evalFlat(b, [...ins.slice(n + from, n + from + e.length), ...ins.slice(0, n)]),
      [...avals, ...extras.map(avalOf)],
    )[0]
  })
  const shapes = (programs[0] as Program).outputs
  for (const q of programs) {
    const same =
      q.outputs.length === shapes.length &&
      q.outputs.every((v, j) => v.dtype === shapes[j]?.dtype && v.shape.join() === shapes[j]?.shape.join())
    if (!same) {
      throw new PurediffError(
        'ShapeError',
        `the branches return different shapes or dtypes: [${shapes.map((v) => `${v.dtype}[${v.shape.join(',')}]`).join(', ')}] vs [${q.outputs.map((v) => `${v.dtype}[${v.shape.join(',')}]`).join(', ')}]`,
        { op: 'cond', shapes: [...shapes.map((v) => v.shape), ...q.outputs.map((v) => v.shape)] },
      )
    }
  }
  return [programs, extras]
}

/** Bind the construct on [predicate, operands..., captured...] and split its output. @internal */
export const bindCond = (
  branches: ReadonlyArray<Program>,
  mode: CondParams['mode'],
  pred: Tensor,
  operands: ReadonlyArray<Tensor>,
): Tensor[] => {
  const p = condParams({ branches, mode })
  const outs = (branches[0] as Program).outputs
  const dt = outs[0]?.dtype
  if (dt === undefined || outs.some((v) => v.dtype !== dt))
    throw new PurediffError('ValueError', 'a staged cond needs outputs of one dtype', { op: 'cond' })
  return split(bind(condPrim, [pred, ...operands], p), outShapesOf(p))
}

const jvpRule = (i: number): JvpRule<CondParams> | null =>
  i === 0
    ? null
    : (t, xs, _y, p) => {
        const ops = xs.slice(1)
        const k = i - 1
        const avals = [...ops.map(avalOf), avalOf(t)]
        const [branches, extra] = derivedBody(p.branches, `jvp${i}`, () =>
          stageBranches(
            p.branches.map((b) => (ins: ReadonlyArray<Tensor>) => {
              const u = ins.slice(0, ops.length)
              const tangents = u.map((v, j) => (j === k ? (ins[ops.length] as Tensor) : zeros(v.shape, v.dtype)))
              return jvp((a: Tensor[]) => evalFlat(b, a), u, tangents)[1]
            }),
            avals,
          ),
        )
        return join(bindCond(branches, p.mode, xs[0] as Tensor, [...ops, t, ...extra]))
      }

const vjpAll = (yBar: Tensor, xs: ReadonlyArray<Tensor>, p: CondParams): Tensor[] => {
  const ops = xs.slice(1)
  const [branches, extra] = derivedBody(p.branches, 'vjp', () =>
    stageBranches(
      p.branches.map((b) => (ins: ReadonlyArray<Tensor>) => {
        const [, pull] = vjp((a: Tensor[]) => evalFlat(b, a), ins.slice(0, ops.length))
        return pull(
          split(
            ins[ops.length] as Tensor,
            b.outputs.map((v) => v.shape),
          ),
        )
      }),
      [...ops.map(avalOf), avalOf(yBar)],
    ),
  )
  return bindCond(branches, p.mode, xs[0] as Tensor, [...ops, yBar, ...extra])
}

const vjpAllOnce = onceForAllInputs(vjpAll)

const vjpRule = (i: number): VjpRule<CondParams> | null =>
  i === 0 ? null : (yBar, xs, _y, p) => vjpAllOnce(yBar, xs, p)[i - 1] as Tensor

const batchRule: Primitive<CondParams>['batch'] = (xs, dims, p, _R, self) => {
  let b = 0
  xs.forEach((x, j) => {
    const d = dims[j]
    if (d !== null && d !== undefined) b = x.shape[d] as number
  })
  const ops = xs.slice(1).map((x, j) => {
    const d = dims[j + 1] ?? null
    return d === null ? x : moveAxis(x, d, 0)
  })
  const inAxes = ops.map((_, j) => ((dims[j + 1] ?? null) === null ? null : 0))
  const perExample = (pieces: ReadonlyArray<Tensor>): Tensor =>
    concat(
      pieces.map((t) => reshape(t, [b, t.size / b])),
      1,
    )
  const mapped = (prog: Program) => (ins: ReadonlyArray<Tensor>) =>
    inAxes.every((a) => a === null)
      ? // only the predicate is batched: each branch once, broadcast over the batch
        evalFlat(prog, ins).map((t) => broadcastTo(reshape(t, [1, ...t.shape]), [b, ...t.shape]))
      : vmap((...u: Tensor[]) => evalFlat(prog, u), { inAxes, outAxes: 0 })(...ins)
  const shapes = outShapesOf(p).map((s) => [b, ...s])
  if ((dims[0] ?? null) === null) {
    // one branch for the whole batch: the branches mapped over the batch
    const [branches, extra] = stageBranches(p.branches.map(mapped), ops.map(avalOf))
    const q = condParams({ branches, mode: p.mode })
    return [perExample(split(self([xs[0] as Tensor, ...ops, ...extra], q), shapes)), 0] as const
  }
  // a batched predicate: every branch, selected per example
  const which = pickTensor(moveAxis(xs[0] as Tensor, dims[0] as number, 0), p)
  const results = p.branches.map((prog) => perExample(mapped(prog)(ops)))
  let out = results[results.length - 1] as Tensor
  for (let j = results.length - 2; j >= 0; j--) {
    const r = results[j] as Tensor
    out = where(broadcastTo(reshape(equal(which, j), [b, 1]), r.shape), r, out)
  }
  return [out, 0] as const
}

/** The `cond` construct's primitive record. @internal */
export const condPrim: Primitive<CondParams> = Object.freeze({
  name: 'cond',
  arity: -1,
  abstract: (_xs: ReadonlyArray<AbstractValue>, p: CondParams): AbstractValue => ({
    shape: [outShapesOf(p).reduce((s, sh) => s + sizeOf(sh), 0)],
    dtype: ((p.branches[0] as Program).outputs[0] as AbstractValue).dtype,
  }),
  impl: (xs: ReadonlyArray<ConcreteTensor>, p: CondParams): ConcreteTensor =>
    join(runBody(p.branches[pick((xs[0] as ConcreteTensor).item(), p)] as Program, xs.slice(1))) as ConcreteTensor,
  jvp: jvpRule,
  vjp: vjpRule,
  batch: batchRule,
  domain: null,
  broadcasts: false,
})
