/**
 * The computation `explain` shows, as a graph of variables: inputs, constants, and one
 * equation `v = prim(inputs; params)` per primitive applied, in evaluation order (which is a
 * topological order). It is the shape of a staged program, with the primal value of every
 * variable attached.
 *
 * `recordGraph` fills it by evaluating the function once on concrete inputs while watching
 * every primitive the evaluation applies (`withBindObserver`, an internal hook of the AD
 * core). Because transforms run their rules as ops, recording `grad(f)` captures the forward
 * pass and the whole backward pass. Values are identified by object identity: an argument
 * that no recorded op produced is a constant. Variables that do not reach an output are
 * dropped. A staged `Program` can fill the same `Graph` (equations and inputs map one to
 * one); only this module would change.
 *
 * Purity: the function is evaluated once; the graph and every value in it are frozen.
 */
import { PurediffError } from '../errors.js'
import { Tracer, withBindObserver } from '../ad/trace.js'
import type { AnyPrimitive } from '../primitives/types.js'
import { Tensor, dataOf, fromData, scalar } from '../tensor/Tensor.js'
import { flatten, keyPaths, unflatten } from '../tree/Tree.js'
import type { TreeDef } from '../tree/Tree.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One variable: an input (a leaf of the arguments), a constant, or the output of one
 * equation `prim(inputs; params)`.
 * @category model
 * @since 0.2.0
 */
export type GraphVar =
  | { readonly kind: 'input'; readonly name: string; readonly value: Tensor }
  | { readonly kind: 'const'; readonly name: string; readonly value: Tensor }
  | {
      readonly kind: 'op'
      readonly name: string
      readonly value: Tensor
      readonly prim: AnyPrimitive
      readonly inputs: ReadonlyArray<number>
      readonly params: unknown
    }

/**
 * A recorded computation: variables in evaluation order (inputs first), the input and
 * output variables in leaf order, and the trees the leaves came from.
 * @category model
 * @since 0.2.0
 */
export interface Graph {
  readonly vars: ReadonlyArray<GraphVar>
  readonly inputs: ReadonlyArray<number>
  readonly outputs: ReadonlyArray<number>
  readonly inputDef: TreeDef
  readonly outputDef: TreeDef
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const leafToTensor = (l: unknown, op: string, path: string): Tensor => {
  if (typeof l === 'number') return scalar(l)
  if (l instanceof Tracer) {
    throw new PurediffError(
      'ValueError',
      'explain needs concrete inputs; it was called on a value traced by an outer transform',
      { op, path },
    )
  }
  if (l instanceof Tensor) return l
  throw new PurediffError('TreeError', 'expected a tensor or a number', { op, path })
}

const constName = (t: Tensor, k: number): string =>
  t.size === 1 && t.shape.length === 0 ? fmtConst(t.item()) : `c${k}`
const fmtConst = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))))

/**
 * Record `f(...args)`: evaluate it once, watching every primitive applied to concrete values.
 * Input leaves are named by their key path (`x` for a lone tensor argument).
 * @example
 * recordGraph((x: Tensor) => sin(mul(x, x)), [scalar(0.5)]).vars.map((v) => v.name).join(' ') === 'x v1 v2'
 * @category constructors
 * @since 0.2.0
 */
export const recordGraph = (f: (...args: never[]) => unknown, args: ReadonlyArray<unknown>, op = 'explain'): Graph => {
  const single = args.length === 1
  const [leaves, def] = flatten(single ? args[0] : [...args], op)
  const paths = keyPaths(def)
  if (leaves.length === 0)
    throw new PurediffError('ValueError', 'explain needs at least one tensor or number input', { op })
  const vars: GraphVar[] = []
  const idOf = new Map<Tensor, number>()
  const inputs: number[] = []
  const tensors = leaves.map((l, i) => {
    const path = paths[i] ?? ''
    let t = leafToTensor(l, op, path)
    // the same tensor passed twice is two inputs: give the second its own identity
    if (idOf.has(t)) t = fromData(dataOf(t.concrete()), t.shape, t.dtype)
    const name = path === '' ? 'x' : single ? path : `x${path}`
    idOf.set(t, vars.length)
    inputs.push(vars.length)
    vars.push(Object.freeze({ kind: 'input', name, value: t }))
    return t
  })
  let nConst = 0
  let nOp = 0
  const idFor = (t: Tensor): number => {
    const id = idOf.get(t)
    if (id !== undefined) return id
    idOf.set(t, vars.length)
    vars.push(Object.freeze({ kind: 'const', name: constName(t, ++nConst), value: t }))
    return vars.length - 1
  }
  const argTree = unflatten<unknown>(def, tensors)
  const out = withBindObserver(
    (prim, xs, params, y) => {
      const ins = xs.map(idFor)
      idOf.set(y, vars.length)
      vars.push(Object.freeze({ kind: 'op', name: `v${++nOp}`, value: y, prim, inputs: Object.freeze(ins), params }))
    },
    () =>
      single
        ? (f as (x: unknown) => unknown)(argTree)
        : (f as (...xs: unknown[]) => unknown)(...(argTree as unknown[])),
  )
  const [outLeaves, outputDef] = flatten(out, op)
  const outputs = outLeaves.map((l, i) => idFor(leafToTensor(l, op, keyPaths(outputDef)[i] ?? '')))
  return prune(vars, inputs, outputs, def, outputDef)
}

/** Keep the inputs and the variables an output depends on; renumber in order. */
const prune = (
  vars: ReadonlyArray<GraphVar>,
  inputs: ReadonlyArray<number>,
  outputs: ReadonlyArray<number>,
  inputDef: TreeDef,
  outputDef: TreeDef,
): Graph => {
  const live = new Uint8Array(vars.length)
  for (const i of inputs) live[i] = 1
  const stack = [...outputs]
  while (stack.length > 0) {
    const i = stack.pop() as number
    if (live[i] === 2) continue
    live[i] = 2
    const v = vars[i] as GraphVar
    if (v.kind === 'op') stack.push(...v.inputs)
  }
  const newId = new Int32Array(vars.length).fill(-1)
  const kept: GraphVar[] = []
  let nOp = 0
  vars.forEach((v, i) => {
    if (live[i] === 0) return
    newId[i] = kept.length
    kept.push(
      v.kind === 'op'
        ? Object.freeze({ ...v, name: `v${++nOp}`, inputs: Object.freeze(v.inputs.map((j) => newId[j] as number)) })
        : v,
    )
  })
  return Object.freeze({
    vars: Object.freeze(kept),
    inputs: Object.freeze(inputs.map((i) => newId[i] as number)),
    outputs: Object.freeze(outputs.map((i) => newId[i] as number)),
    inputDef,
    outputDef,
  })
}
