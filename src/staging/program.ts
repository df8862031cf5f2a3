/**
 * `Program`: a function staged into a typed list of equations (JAX's jaxpr). It holds its
 * inputs and outputs as flat variables with the tree structures they came from, the
 * constants it captured, and the equations `y = prim(x1, ..., xn; params)` in order, each
 * variable with its abstract value (shape and dtype). A program is frozen.
 *
 * `trace(f)(...args)` stages `f` on the shapes and dtypes of `args`: one more level in the
 * stack, so `trace(grad(f))` holds the whole forward and backward program. `evalProgram`
 * runs a program by binding its equations, so evaluating it is differentiable like any
 * function (and staging it again inlines it). `program.toString()` prints a listing in the
 * spirit of `make_jaxpr`:
 *
 * ```
 * { lambda ; a:f64[3]. let
 *     b:f64[3] = sin a
 *     c:f64[] = sum[axes=[0]] b
 *   in (c) }
 * ```
 *
 * Number leaves are staged as float64 scalars that stay weakly typed (they take the dtype
 * of the tensors they meet, as numbers do), so a new number never needs a new program.
 * Strings, functions and other non-tree values must be static arguments.
 *
 * Purity: staging never runs a kernel on the arguments; programs and their parts are frozen.
 */
import { bind, Tracer } from '../ad/trace.js'
import { isNumberResult, stage } from '../ad/staging.js'
import type { Const, Eqn, InputSpec, Var } from '../ad/staging.js'
import { PurediffError } from '../errors.js'
import { asTensor } from '../ops/ops.js'
import type { DType } from '../tensor/Tensor.js'
import { ConcreteTensor, Tensor, shapeEq } from '../tensor/Tensor.js'
import type { Leaf, TreeDef } from '../tree/Tree.js'
import { flatten, keyPaths, unflatten } from '../tree/Tree.js'

export type { Const, Eqn, Var } from '../ad/staging.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A staged function: inputs, constants, equations and outputs over abstract values.
 * @example
 * trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3])).eqns.length // 2
 * @category staging
 * @since 0.2.0
 */
export interface Program {
  /** the transform that staged it ('trace', 'jit', ...) */
  readonly transform: string
  /** flat input variables, in the order of `inTree`'s leaves */
  readonly inputs: ReadonlyArray<Var>
  /** the structure of the dynamic (non-static) arguments, as an array tree */
  readonly inTree: TreeDef
  /** argument positions that were static (not staged; their values are baked in) */
  readonly staticArgnums: ReadonlyArray<number>
  readonly consts: ReadonlyArray<Const>
  readonly eqns: ReadonlyArray<Eqn>
  /** flat output variables (an input or a constant may be an output) */
  readonly outputs: ReadonlyArray<Var>
  readonly outTree: TreeDef
  /** some constant is a tracer of an outer transform: valid only while that transform runs */
  readonly capturesTracers: boolean
  /** the listing (see the module header) */
  toString(): string
}

/** Options of `trace` and `jit`. @category staging */
export interface StagingOptions {
  /** argument positions passed through as they are (not staged): a new value means a new program */
  readonly static?: ReadonlyArray<number>
}

// -------------------------------------------------------------------------------------
// arguments
// -------------------------------------------------------------------------------------

const describe = (x: unknown): string =>
  typeof x === 'function'
    ? 'a function'
    : typeof x === 'string'
      ? `a string (${JSON.stringify(x)})`
      : x === null
        ? 'null'
        : typeof x

/** Check the static argnums option. */
export const checkStatic = (s: unknown, op: string): ReadonlyArray<number> => {
  if (s === undefined) return []
  if (!Array.isArray(s) || !s.every((i) => typeof i === 'number' && Number.isInteger(i) && i >= 0)) {
    throw new PurediffError(
      'ValueError',
      `static must be an array of argument positions (non-negative integers), got ${JSON.stringify(s)}`,
      { op },
    )
  }
  return Object.freeze([...s])
}

/** Flatten the dynamic arguments; a value that is not a tree (a string, a function) must be static. */
export const flattenDynamic = (
  args: ReadonlyArray<unknown>,
  statics: ReadonlyArray<number>,
  op: string,
): [Leaf[], TreeDef] => {
  const dyn = args.filter((_, i) => !statics.includes(i))
  const check = (x: unknown, path: string): void => {
    if (x instanceof Tensor || typeof x === 'number') return
    if (Array.isArray(x)) return x.forEach((c, i) => check(c, `${path}[${i}]`))
    if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x)) {
      for (const k of Object.keys(x))
        check((x as { readonly [k: string]: unknown })[k], path === '' ? k : `${path}.${k}`)
      return
    }
    throw new PurediffError(
      'TreeError',
      `cannot stage ${describe(x)}: only tensors, numbers, arrays and records are staged; mark this argument static (${op}(f, { static: [argIndex] }))`,
      { op, path },
    )
  }
  args.forEach((a, i) => {
    if (!statics.includes(i)) check(a, `args[${i}]`)
  })
  return flatten(dyn, op)
}

/** Put static arguments back among the dynamic ones. */
export const mergeArgs = (
  dyn: ReadonlyArray<unknown>,
  args: ReadonlyArray<unknown>,
  statics: ReadonlyArray<number>,
): unknown[] => {
  let j = 0
  return args.map((a, i) => (statics.includes(i) ? a : dyn[j++]))
}

/** The abstract value a leaf is staged as. */
export const specOf = (l: Leaf): InputSpec =>
  typeof l === 'number' ? { shape: [], dtype: 'float64', weak: true } : { shape: l.shape, dtype: l.dtype, weak: false }

// -------------------------------------------------------------------------------------
// staging
// -------------------------------------------------------------------------------------

/** Stage `f` on the abstract values of `args` (static positions passed through). @internal */
export const stageProgram = (
  transform: string,
  f: (...args: never[]) => unknown,
  args: ReadonlyArray<unknown>,
  statics: ReadonlyArray<number>,
): Program => {
  const [leaves, inTree] = flattenDynamic(args, statics, transform)
  const specs = leaves.map(specOf)
  const [rec, [outputs, outTree]] = stage(transform, specs, (tracers, atomOf) => {
    const dyn = unflatten<unknown[]>(inTree, tracers)
    const out = (f as (...a: unknown[]) => unknown)(...mergeArgs(dyn, args, statics))
    const [outLeaves, outDef] = flatten(out, transform)
    const vars = outLeaves.map((l) => atomOf(typeof l === 'number' ? asTensor(l, transform) : l))
    return [vars, markNumbers(outDef, outLeaves)] as const
  })
  return makeProgram({
    transform,
    inputs: rec.inputs,
    inTree,
    staticArgnums: statics,
    consts: rec.consts,
    eqns: rec.eqns,
    outputs,
    outTree,
    capturesTracers: rec.capturesTracers,
  })
}

/** Output leaves that a transform marked as numbers become number leaves of the structure. */
const markNumbers = (def: TreeDef, leaves: ReadonlyArray<Leaf>): TreeDef => {
  let i = 0
  const go = (d: TreeDef): TreeDef => {
    if (d.kind === 'tensor' || d.kind === 'number') return isNumberResult(leaves[i++]) ? { kind: 'number' } : d
    if (d.kind === 'array') return { kind: 'array', children: d.children.map(go) }
    return { ...d, children: d.children.map(go) }
  }
  return go(def)
}

type ProgramParts = Omit<Program, 'toString'>

/** A frozen program from its parts. @internal */
export const makeProgram = (parts: ProgramParts): Program => {
  const p: Program = {
    ...parts,
    inputs: Object.freeze(parts.inputs.slice()),
    consts: Object.freeze(parts.consts.slice()),
    eqns: Object.freeze(parts.eqns.slice()),
    outputs: Object.freeze(parts.outputs.slice()),
    toString: () => printProgram(p),
  }
  return Object.freeze(p)
}

/**
 * Stage a function into a `Program` on the shapes and dtypes of some arguments (their values
 * are not read). Staging `grad(f)` gives the whole forward and backward program.
 * @example
 * trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3])).toString()
 * trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3])).toString().includes('sin') // true
 * // { lambda ; a:f64[3]. let
 * //     b:f64[3] = sin a
 * //     c:f64[] = sum[axes=[0]] b
 * //   in (c) }
 * @category staging
 * @since 0.2.0
 */
export const trace = <A extends unknown[]>(
  f: (...args: A) => unknown,
  options: StagingOptions = {},
): ((...args: A) => Program) => {
  const statics = checkStatic(options.static, 'trace')
  return (...args: A): Program => stageProgram('trace', f as (...args: never[]) => unknown, args, statics)
}

// -------------------------------------------------------------------------------------
// evaluation
// -------------------------------------------------------------------------------------

/** Check the arguments against a program's inputs; returns the flat input tensors. @internal */
export const programInputs = (program: Program, args: ReadonlyArray<unknown>, op: string): Tensor[] => {
  const [leaves, def] = flattenDynamic(args, program.staticArgnums, op)
  if (JSON.stringify(def) !== JSON.stringify(program.inTree) && !sameLeafless(def, program.inTree)) {
    throw new PurediffError('TreeError', `the arguments' structure differs from the program's`, { op })
  }
  const paths = keyPaths(def)
  return leaves.map((l, i) => {
    const v = program.inputs[i] as Var
    const t = typeof l === 'number' ? asTensor(l, op) : l
    if (!shapeEq(t.shape, v.shape) || t.dtype !== v.dtype) {
      throw new PurediffError(
        'ShapeError',
        `argument ${t.dtype}[${t.shape.join(',')}] does not match the program's input ${fmtAval(v)}`,
        { op, shapes: [t.shape, v.shape], path: paths[i] as string },
      )
    }
    return t
  })
}

/** Structures equal up to number/tensor leaf kinds. */
const sameLeafless = (a: TreeDef, b: TreeDef): boolean => {
  const strip = (d: TreeDef): unknown =>
    d.kind === 'tensor' || d.kind === 'number' ? 'leaf' : [{ ...d, children: null }, d.children.map(strip)]
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b))
}

/** Rebuild the output tree; a number leaf of `f`'s result comes back as a number when concrete. @internal */
export const programOutputs = (program: Program, outs: ReadonlyArray<Tensor>): unknown => {
  const kinds: string[] = []
  const walk = (d: TreeDef): void => {
    if (d.kind === 'tensor' || d.kind === 'number') kinds.push(d.kind)
    else d.children.forEach(walk)
  }
  walk(program.outTree)
  return unflatten(
    program.outTree,
    outs.map((t, i) => (kinds[i] === 'number' && t instanceof ConcreteTensor && t.size === 1 ? t.item() : t)),
  )
}

/**
 * Evaluate a program on arguments of its input shapes and dtypes (static positions are
 * ignored: their values are baked in). It binds each equation's primitive, so it is
 * differentiable like any function, to any order.
 * @example
 * const p = trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3]))
 * evalProgram(p, tensor([0, 0, 0])) // 0 as a tensor
 * @category staging
 * @since 0.2.0
 */
export const evalProgram = (program: Program, ...args: unknown[]): unknown => {
  const xs = programInputs(program, args, 'evalProgram')
  return programOutputs(program, evalFlat(program, xs))
}

/** Evaluate on flat inputs through `bind`. @internal */
export const evalFlat = (program: Program, xs: ReadonlyArray<Tensor>): Tensor[] => {
  const env = new Map<number, Tensor>()
  program.inputs.forEach((v, i) => env.set(v.id, xs[i] as Tensor))
  for (const c of program.consts) {
    if (c.value instanceof Tracer && !c.value.main.active) {
      throw new PurediffError(
        'EscapedTracer',
        `the program captured a value traced by '${c.value.main.transform}', which has returned`,
        { op: program.transform },
      )
    }
    env.set(c.v.id, c.value)
  }
  for (const e of program.eqns) {
    env.set(
      e.out.id,
      bind(
        e.prim,
        e.inputs.map((v) => env.get(v.id) as Tensor),
        e.params,
      ),
    )
  }
  return program.outputs.map((v) => env.get(v.id) as Tensor)
}

// -------------------------------------------------------------------------------------
// printing
// -------------------------------------------------------------------------------------

const DT: Record<DType, string> = { float64: 'f64', float32: 'f32' }
const fmtAval = (v: { readonly shape: ReadonlyArray<number>; readonly dtype: DType }): string =>
  `${DT[v.dtype]}[${v.shape.join(',')}]`

/** a, b, ..., z, ba, bb, ... (JAX's naming) */
const nameOf = (k: number): string => {
  let s = ''
  let n = k
  do {
    s = String.fromCharCode(97 + (n % 26)) + s
    n = Math.floor(n / 26)
  } while (n > 0)
  return s
}

const fmtNumber = (x: number): string => (Number.isInteger(x) ? `${x}.0` : String(x))

/** A sub-program held in an equation's params (control flow). */
const isProgram = (x: unknown): x is Program =>
  typeof x === 'object' && x !== null && Array.isArray((x as { eqns?: unknown }).eqns) && 'outputs' in x

const fmtParam = (x: unknown): string => {
  // a sub-program prints nested, its lines indented under the equation that holds it
  if (isProgram(x)) return printProgram(x).split('\n').join('\n      ')
  if (typeof x === 'number') return String(x)
  if (typeof x === 'string') return x
  if (Array.isArray(x)) return `[${x.map(fmtParam).join(',')}]`
  if (x instanceof Int32Array) return `[${Array.from(x).join(',')}]`
  if (typeof x === 'object' && x !== null)
    return `{${Object.entries(x)
      .map(([k, v]) => `${k}=${fmtParam(v)}`)
      .join(' ')}}`
  return String(x)
}

/** Is this constant shown inline as a literal (a concrete scalar)? */
const isLiteral = (c: Const): boolean => c.value instanceof ConcreteTensor && c.value.rank === 0

/** The listing of a program (see the module header). @internal */
export const printProgram = (p: Program): string => {
  const names = new Map<number, string>()
  const literal = new Map<number, string>()
  let k = 0
  const name = (v: Var): string => {
    const lit = literal.get(v.id)
    if (lit !== undefined) return lit
    let s = names.get(v.id)
    if (s === undefined) {
      s = nameOf(k++)
      names.set(v.id, s)
    }
    return s
  }
  const decl = (v: Var): string => `${name(v)}:${fmtAval(v)}`
  for (const c of p.consts) if (isLiteral(c)) literal.set(c.v.id, `${fmtNumber(c.value.item())}:${fmtAval(c.v)}`)
  const consts = p.consts.filter((c) => !isLiteral(c)).map((c) => decl(c.v))
  const inputs = p.inputs.map(decl)
  const lines = p.eqns.map((e) => {
    const params = Object.entries(e.params as object)
    const ps = params.length === 0 ? '' : `[${params.map(([key, val]) => `${key}=${fmtParam(val)}`).join(' ')}]`
    return `    ${decl(e.out)} = ${e.prim.name}${ps} ${e.inputs.map(name).join(' ')}`
  })
  const outs = p.outputs.map(name).join(', ')
  return [`{ lambda ${consts.join(' ')}; ${inputs.join(' ')}. let`, ...lines, `  in (${outs}) }`].join('\n')
}
