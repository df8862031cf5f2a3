/**
 * The computation `explain` shows, as a graph of variables: inputs, constants, and one
 * equation `v = prim(inputs; params)` per equation of a staged `Program`, in program order
 * (a topological order), each with its primal value.
 *
 * `programGraph` is the adapter from a `Program` (see `src/staging`): it evaluates the
 * program's equations once, on concrete inputs, binding each primitive, and keeps every
 * value. `recordGraph(f, args)` stages `f` first (`trace`), so, since transforms run their
 * rules as ops, the graph of `grad(f)` is the whole backward-pass program.
 *
 * Two kinds of equation are more than one primitive:
 * - a `customJvp` / `customVjp` call is one equation whose rules are the user's; it stays
 *   one node unless `expandCustom` is set, which replaces it by the equations of the user's
 *   function (staged on the call's inputs; its sweeps then use those equations' rules);
 * - an equation holding a sub-program (control flow) is one node; its rules are its
 *   primitive's.
 * Variables that do not reach an output are dropped.
 *
 * Purity: the program is evaluated once; the graph and every value in it are frozen.
 */
import { Tracer } from '../ad/trace.js'
import { bind } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import type { AnyPrimitive } from '../primitives/types.js'
import type { Program, Var } from '../staging/program.js'
import { stageProgram } from '../staging/program.js'
import { Tensor, scalar } from '../tensor/Tensor.js'
import { customRuleOf } from '../transforms/customRule.js'
import { flatten, keyPaths } from '../tree/Tree.js'
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
 * A staged computation with its values: variables in program order (inputs first), the
 * input and output variables in leaf order, and the trees the leaves came from.
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
      `${op} needs concrete inputs; it was called on a value traced by '${l.main.transform}', an outer transform`,
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
 * Options of `programGraph`: the input variables' `names` (default `x0`, `x1`, …), and
 * whether `customJvp` / `customVjp` calls are expanded into the user's function's own
 * equations (`expandCustom`, default false: one node carrying the user's rule).
 * @category model
 * @since 0.2.0
 */
export interface GraphOptions {
  readonly names?: ReadonlyArray<string>
  readonly expandCustom?: boolean
}

/**
 * The graph of a staged program evaluated at `inputs` (concrete tensors of the program's
 * input shapes and dtypes, in leaf order): the adapter from `Program` to what `explain`
 * sweeps.
 * @example
 * const p = trace((x: Tensor) => sin(mul(x, x)))(scalar(0.5))
 * programGraph(p, [scalar(0.5)]).vars.map((v) => v.name).join(' ') // 'x0 v1 v2'
 * @category constructors
 * @since 0.2.0
 */
export const programGraph = (
  program: Program,
  inputs: ReadonlyArray<Tensor>,
  options: GraphOptions = {},
  inputDef: TreeDef = program.inTree,
): Graph => {
  const op = 'explain'
  if (inputs.length !== program.inputs.length) {
    throw new PurediffError(
      'ValueError',
      `the program has ${program.inputs.length} inputs but ${inputs.length} values were given`,
      { op },
    )
  }
  const vars: GraphVar[] = []
  const inputIds = program.inputs.map((v, i) => {
    const t = inputs[i] as Tensor
    if (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
      throw new PurediffError('ShapeError', `input ${i} does not have the program's input shape`, {
        op,
        shapes: [t.shape, v.shape],
      })
    }
    vars.push(Object.freeze({ kind: 'input', name: options.names?.[i] ?? `x${i}`, value: t }))
    return vars.length - 1
  })
  let nConst = 0
  let nOp = 0
  const constIds = new Map<Tensor, number>()
  /** Add a program's equations, its inputs bound to existing variables; returns its outputs' ids. */
  const addProgram = (p: Program, ins: ReadonlyArray<number>): number[] => {
    const env = new Map<number, number>()
    p.inputs.forEach((v, i) => env.set(v.id, ins[i] as number))
    const consts = new Map(p.consts.map((c) => [c.v.id, c.value]))
    const idOf = (v: Var): number => {
      const id = env.get(v.id)
      if (id !== undefined) return id
      const t = consts.get(v.id)
      if (t === undefined) throw new PurediffError('ValueError', 'a program variable used before it is defined', { op })
      if (t instanceof Tracer) {
        throw new PurediffError(
          'ValueError',
          `${op} needs concrete values; the function captured a value traced by '${t.main.transform}', an outer transform`,
          { op },
        )
      }
      let cid = constIds.get(t)
      if (cid === undefined) {
        cid = vars.length
        constIds.set(t, cid)
        vars.push(Object.freeze({ kind: 'const', name: constName(t, ++nConst), value: t }))
      }
      env.set(v.id, cid)
      return cid
    }
    for (const e of p.eqns) {
      const xs = e.inputs.map(idOf)
      const values = xs.map((j) => (vars[j] as GraphVar).value)
      const custom = customRuleOf(e.prim)
      if (custom !== null && options.expandCustom === true) {
        const sub = stageProgram(
          op,
          ((...ts: Tensor[]) => custom.call(ts)) as (...args: never[]) => unknown,
          values,
          [],
        )
        env.set(e.out.id, addProgram(sub, xs)[0] as number)
        continue
      }
      const y = bind(e.prim, values, e.params)
      vars.push(
        Object.freeze({
          kind: 'op',
          name: `v${++nOp}`,
          value: y,
          prim: e.prim,
          inputs: Object.freeze(xs),
          params: e.params,
        }),
      )
      env.set(e.out.id, vars.length - 1)
    }
    return p.outputs.map(idOf)
  }
  const outputs = addProgram(program, inputIds)
  return prune(vars, inputIds, outputs, inputDef, program.outTree)
}

/**
 * Stage `f` at `args` (`trace`) and evaluate the program: the graph `explain` sweeps. Input
 * leaves are named by their key path (`x` for a lone tensor argument, `w` for a record's
 * field `w`, `x[1]` for the second of several arguments).
 * @example
 * recordGraph((x: Tensor) => sin(mul(x, x)), [scalar(0.5)]).vars.map((v) => v.name).join(' ') // 'x v1 v2'
 * @category constructors
 * @since 0.2.0
 */
export const recordGraph = (
  f: (...args: never[]) => unknown,
  args: ReadonlyArray<unknown>,
  options: Omit<GraphOptions, 'names'> = {},
): Graph => {
  const op = 'explain'
  const single = args.length === 1
  const [leaves, def] = flatten(single ? args[0] : [...args], op)
  const paths = keyPaths(def)
  if (leaves.length === 0)
    throw new PurediffError('ValueError', 'explain needs at least one tensor or number input', { op })
  const tensors = leaves.map((l, i) => leafToTensor(l, op, paths[i] ?? ''))
  const names = paths.map((path) => (path === '' ? 'x' : single ? path : `x${path}`))
  const program = stageProgram(op, f, args, [])
  return programGraph(program, tensors, { ...options, names }, def)
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
