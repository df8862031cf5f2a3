/**
 * `whileLoop` as one program construct under staging (JAX's `while[cond_jaxpr=… body_jaxpr=…]`).
 *
 * The condition and the body are staged once into sub-programs over the abstract carry; one
 * equation `while[cond={…} body={…} condConsts=… bodyConsts=…]` holds them. Operands: the
 * values the condition closed over (lifted out), those the body closed over, then the
 * carries; the output is the final carries joined into one flat vector.
 *
 * Rules:
 * - kernel: the loop, each test and step evaluating its sub-program;
 * - forward (operand i): a while loop carrying the carries and their tangents, whose body is
 *   the body's JVP (a tangent for operand i) and whose condition reads the carries only; the
 *   condition's captured values have no derivative (they change only the trip count);
 * - reverse: an error, as in JAX (the trip count depends on the values): use `foriLoop` or
 *   `scan`;
 * - batching: the body mapped by `vmap` (every carry batched); a condition that depends on
 *   the batch is an error, as in the eager `whileLoop`.
 *
 * Purity: programs and params are frozen; the kernel allocates its output.
 */
import { bind } from '../ad/trace.js'
import { BatchTracer, moveAxis } from '../ad/batching.js'
import { PurediffError } from '../errors.js'
import { broadcastTo, concat, reshape } from '../ops/ops.js'
import type { AbstractValue, JvpRule, Primitive, VjpRule } from '../primitives/types.js'
import type { ConcreteTensor, Shape, Tensor } from '../tensor/Tensor.js'
import { zeros } from '../tensor/Tensor.js'
import type { Program } from '../staging/program.js'
import { evalFlat } from '../staging/program.js'
import { avalOf, derivedBody, join, runBody, split, stageBody } from './scanStaged.js'
import { jvp } from './transforms.js'
import { vmap } from './vmap.js'

/** The params of a staged `while` equation. @internal */
export interface WhileParams {
  /** inputs `[condConsts..., carries...]`, one scalar output (nonzero: go on) */
  readonly cond: Program
  /** inputs `[bodyConsts..., carries...]`, outputs the next carries */
  readonly body: Program
  readonly condConsts: number
  readonly bodyConsts: number
}

let nextWhile = 0
/** Frozen params that the optimizer keys by identity (see `scanParams`). */
const whileParams = (p: WhileParams): WhileParams => {
  const id = nextWhile++
  const q = { cond: p.cond, body: p.body, condConsts: p.condConsts, bodyConsts: p.bodyConsts }
  Object.defineProperty(q, 'toJSON', { value: () => `while#${id}`, enumerable: false })
  return Object.freeze(q)
}

const shapesOf = (p: WhileParams): Shape[] => p.body.outputs.map((v) => v.shape)

export const REVERSE_MESSAGE =
  'reverse-mode differentiation (grad, vjp, jacrev) of whileLoop is not supported: its trip count depends on the values; use foriLoop or scan (forward mode, jvp and jacfwd, works)'

/** Stage the condition and the body on the carries' abstract values and bind the construct. @internal */
export const whileConstruct = (
  condFn: (carries: ReadonlyArray<Tensor>) => Tensor,
  bodyFn: (carries: ReadonlyArray<Tensor>) => ReadonlyArray<Tensor>,
  carries: ReadonlyArray<Tensor>,
): Tensor[] => {
  const avals = carries.map(avalOf)
  const [cond, condExtra] = stageBody((ins) => [reshape(condFn(ins), [])], avals)
  const [body, bodyExtra] = stageBody((ins) => {
    const out = bodyFn(ins)
    out.forEach((t, j) => {
      const c = avals[j] as AbstractValue
      if (t.shape.join() !== c.shape.join() || t.dtype !== c.dtype)
        throw new PurediffError(
          'ShapeError',
          `the carry goes in as ${c.dtype}[${c.shape.join(',')}] and comes out as ${t.dtype}[${t.shape.join(',')}]`,
          { op: 'whileLoop', shapes: [c.shape, t.shape] },
        )
    })
    if (out.length !== avals.length)
      throw new PurediffError(
        'TreeError',
        `the carry has ${avals.length} leaves going in but ${out.length} coming out`,
        { op: 'whileLoop' },
      )
    return out
  }, avals)
  return bindWhile(cond, condExtra, body, bodyExtra, carries)
}

const bindWhile = (
  cond: Program,
  condExtra: ReadonlyArray<Tensor>,
  body: Program,
  bodyExtra: ReadonlyArray<Tensor>,
  carries: ReadonlyArray<Tensor>,
): Tensor[] => {
  const dt = carries[0]?.dtype
  if (dt === undefined || carries.some((c) => c.dtype !== dt))
    throw new PurediffError('ValueError', 'a staged whileLoop needs carries of one dtype', { op: 'whileLoop' })
  const p = whileParams({ cond, body, condConsts: condExtra.length, bodyConsts: bodyExtra.length })
  return split(bind(whilePrim, [...condExtra, ...bodyExtra, ...carries], p), shapesOf(p))
}

const runWhile = (xs: ReadonlyArray<Tensor>, p: WhileParams): Tensor => {
  const ce = xs.slice(0, p.condConsts)
  const be = xs.slice(p.condConsts, p.condConsts + p.bodyConsts)
  let carry = xs.slice(p.condConsts + p.bodyConsts)
  while ((runBody(p.cond, [...ce, ...carry])[0] as ConcreteTensor).item() !== 0) {
    carry = runBody(p.body, [...be, ...carry])
  }
  return join(carry)
}

const jvpRule = (i: number): JvpRule<WhileParams> | null => {
  return (t, xs, y, p) => {
    const nce = p.condConsts
    const nbe = p.bodyConsts
    // the condition's captured values change only the trip count: no derivative
    if (i < nce) return zeros(y.shape, y.dtype)
    const ce = xs.slice(0, nce)
    const be = xs.slice(nce, nce + nbe)
    const carries = xs.slice(nce + nbe)
    const nc = carries.length
    const isConst = i < nce + nbe
    // the loop over [carries, tangents]; a body const's tangent is one more body const
    const [cond, condExtra] = derivedBody(p.cond, 'jvp', () =>
      stageBody(
        (ins) => evalFlat(p.cond, [...ins.slice(0, nce), ...ins.slice(nce, nce + nc)]),
        [...ce.map(avalOf), ...carries.map(avalOf), ...carries.map(avalOf)],
      ),
    )
    const [body, bodyExtra] = derivedBody(p.body, `jvp${i - nce}`, () =>
      stageBody(
        (ins) => {
          let q = 0
          const ks = ins.slice(q, (q += nbe))
          const kDot = isConst ? [ins[q++] as Tensor] : []
          const cs = ins.slice(q, (q += nc))
          const cDots = ins.slice(q, (q += nc))
          const primals = [...ks, ...cs]
          const tangents = primals.map((v, j) =>
            j < nbe ? (j === i - nce ? (kDot[0] as Tensor) : zeros(v.shape, v.dtype)) : (cDots[j - nbe] as Tensor),
          )
          const [outs, touts] = jvp((u: Tensor[]) => evalFlat(p.body, u), primals, tangents)
          return [...outs, ...touts]
        },
        [...be.map(avalOf), ...(isConst ? [avalOf(t)] : []), ...carries.map(avalOf), ...carries.map(avalOf)],
      ),
    )
    const tDot0 = carries.map((c, j) => (nce + nbe + j === i ? t : zeros(c.shape, c.dtype)))
    // the condition's inputs: [its consts, carries, tangents (unread)]
    const outs = bindWhile(
      cond,
      [...condExtra, ...ce],
      body,
      [...bodyExtra, ...be, ...(isConst ? [t] : [])],
      [...carries, ...tDot0],
    )
    return join(outs.slice(nc))
  }
}

const vjpRule = (): VjpRule<WhileParams> => () => {
  throw new PurediffError('ValueError', REVERSE_MESSAGE, { op: 'whileLoop' })
}

const batchRule: Primitive<WhileParams>['batch'] = (xs, dims, p, _R, self) => {
  let b = 0
  xs.forEach((x, j) => {
    const d = dims[j]
    if (d !== null && d !== undefined) b = x.shape[d] as number
  })
  const nce = p.condConsts
  const nk = nce + p.bodyConsts
  const ops = xs.map((x, j) => ((dims[j] ?? null) === null ? x : moveAxis(x, dims[j] as number, 0)))
  const constAxes = ops.slice(0, nk).map((_, j) => ((dims[j] ?? null) === null ? null : 0))
  // which carries are batched: those batched going in, and (to a fixpoint) those the body
  // makes depend on a batched value
  const batched = ops.slice(nk).map((_, j) => (dims[nk + j] ?? null) !== null)
  const be = ops.slice(nce, nk)
  const carryAval = (j: number): AbstractValue => {
    const c = ops[nk + j] as Tensor
    return batched[j] === true || (dims[nk + j] ?? null) !== null
      ? { shape: (dims[nk + j] ?? null) !== null ? c.shape : [b, ...c.shape], dtype: c.dtype }
      : avalOf(c)
  }
  const stageStep = (outAxes: ReadonlyArray<number | null> | null): [Program, boolean[]] => {
    const outBatched: boolean[] = []
    const inAxes = [...constAxes.slice(nce), ...batched.map((bt) => (bt ? 0 : null))]
    const [prog] = stageBody(
      (ins) =>
        vmap(
          (...u: Tensor[]) => {
            const out = evalFlat(p.body, u)
            out.forEach((t, j) => (outBatched[j] = t instanceof BatchTracer))
            return out
          },
          { inAxes, outAxes: outAxes ?? 0 },
        )(...ins),
      [...be.map(avalOf), ...batched.map((_, j) => carryAval(j))],
    )
    return [prog, outBatched]
  }
  for (;;) {
    const [, outBatched] = stageStep(null)
    const grown = outBatched.some((ob, j) => ob && !batched[j])
    outBatched.forEach((ob, j) => (batched[j] = batched[j] === true || ob))
    if (!grown) break
  }
  const carries = ops
    .slice(nk)
    .map((c, j) =>
      batched[j] === true && (dims[nk + j] ?? null) === null
        ? broadcastTo(reshape(c, [1, ...c.shape]), [b, ...c.shape])
        : c,
    )
  const carryAxes = batched.map((bt) => (bt ? 0 : null))
  let cond: Program
  try {
    ;[cond] = stageBody(
      (ins) => [
        vmap((...u: Tensor[]) => evalFlat(p.cond, u)[0] as Tensor, {
          inAxes: [...constAxes.slice(0, nce), ...carryAxes],
          outAxes: null,
        })(...ins),
      ],
      [...ops.slice(0, nce), ...carries].map(avalOf),
    )
  } catch (e) {
    if (e instanceof PurediffError && e.op === 'vmap')
      throw new PurediffError(
        'ValueError',
        'the loop condition depends on the batch (under vmap); every example must take the same number of steps',
        { op: 'whileLoop' },
      )
    throw e
  }
  const [body] = stageStep(carryAxes)
  const q = whileParams({ cond, body, condConsts: nce, bodyConsts: p.bodyConsts })
  const pieces = split(self([...ops.slice(0, nk), ...carries], q), shapesOf(q))
  const perExample = pieces.map((t, j) =>
    batched[j] === true ? t : broadcastTo(reshape(t, [1, ...t.shape]), [b, ...t.shape]),
  )
  return [
    concat(
      perExample.map((t) => reshape(t, [b, t.size / b])),
      1,
    ),
    0,
  ] as const
}

/** The `while` construct's primitive record. @internal */
export const whilePrim: Primitive<WhileParams> = Object.freeze({
  name: 'while',
  arity: -1,
  abstract: (_xs: ReadonlyArray<AbstractValue>, p: WhileParams): AbstractValue => ({
    shape: [shapesOf(p).reduce((s, sh) => s + sh.reduce((a, c) => a * c, 1), 0)],
    dtype: (p.body.outputs[0] as AbstractValue).dtype,
  }),
  impl: (xs: ReadonlyArray<ConcreteTensor>, p: WhileParams): ConcreteTensor => runWhile(xs, p) as ConcreteTensor,
  jvp: jvpRule,
  vjp: vjpRule,
  batch: batchRule,
  domain: null,
  broadcasts: false,
})
