/**
 * The staging level: the fourth kind of level in the stack (after forward, reverse and
 * batching). Where a forward level computes a primal and a tangent, a staging level
 * computes nothing: each op bound on its tracers is recorded as an equation
 * `y = prim(x1, ..., xn; params)` over abstract values (shape and dtype, from the
 * primitive's `abstract` rule), and the tracer it returns stands for `y`. Values from
 * below the level (concrete tensors, tracers of outer transforms) enter the record as
 * constants.
 *
 * Because it is one more level, every rule of a level opened *inside* it (a `grad`, a
 * `jvp`) binds ops that land here: staging `grad(f)` records the whole forward and
 * backward program (JAX's `DynamicJaxprTrace` in `make_jaxpr`).
 *
 * A staged value has no data. Reading it (`item()`, `toArray()`, `Number(x)`, `if (x > 0)`)
 * is a `ConcretizationError` that names the transform and suggests `where` or a static
 * argument.
 *
 * Purity: tracers and equations are frozen. The only mutable state is the record under
 * construction, private to one open level.
 */
import { PurediffError } from '../errors.js'
import type { AbstractValue, AnyPrimitive, Primitive } from '../primitives/types.js'
import type { ConcreteTensor, DType, Shape } from '../tensor/Tensor.js'
import { Tensor } from '../tensor/Tensor.js'
import { MainTrace, Tracer, levelBinds, withMain } from './trace.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A variable of a staged program: a numbered abstract value. */
export interface Var extends AbstractValue {
  readonly id: number
  /** a staged JS number (weakly typed, as numbers are) */
  readonly weak: boolean
}

/** One recorded op: `out = prim(inputs; params)`. */
export interface Eqn {
  readonly prim: AnyPrimitive
  readonly inputs: ReadonlyArray<Var>
  readonly params: unknown
  readonly out: Var
}

/** A value from below the level, captured as a constant. */
export interface Const {
  readonly v: Var
  readonly value: Tensor
}

/** What one staging level recorded. */
export interface Record {
  readonly inputs: ReadonlyArray<Var>
  readonly consts: ReadonlyArray<Const>
  readonly eqns: ReadonlyArray<Eqn>
  /** some constant is a tracer of an outer transform (the record is only valid while it lives) */
  readonly capturesTracers: boolean
}

/** The open record of a staging level. */
class Builder {
  nextId = 0
  readonly inputs: Var[] = []
  readonly consts: Const[] = []
  readonly constOf = new Map<Tensor, Var>()
  readonly eqns: Eqn[] = []
  capturesTracers = false
  newVar(shape: Shape, dtype: DType, weak = false): Var {
    // a frozen shape (an input's, say) is shared as it is: no one can write it
    const sh = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice())
    return Object.freeze({ id: this.nextId++, shape: sh, dtype, weak })
  }
  constVar(t: Tensor): Var {
    const seen = this.constOf.get(t)
    if (seen !== undefined) return seen
    const v = this.newVar(t.shape, t.dtype)
    if (t instanceof Tracer) this.capturesTracers = true
    this.consts.push(Object.freeze({ v, value: t }))
    this.constOf.set(t, v)
    return v
  }
}

const builders = new WeakMap<MainTrace, Builder>()

const concretization = (t: StagingTracer, how: string): PurediffError =>
  new PurediffError(
    'ConcretizationError',
    `a staged value (${t.dtype}[${t.shape.join(',')}]) was ${how}, but '${t.main.transform}' only knows its shape and dtype, not its values. ` +
      `Use where(cond, a, b) for a choice that depends on data, or mark the argument static: jit(f, { static: [argIndex] })`,
    { op: t.main.transform, shapes: [t.shape] },
  )

/** A value of a staging level: an abstract value standing for a variable of the program. */
export class StagingTracer extends Tracer {
  readonly shape: Shape
  readonly dtype: DType
  readonly weak: boolean
  constructor(
    readonly main: MainTrace,
    readonly v: Var,
  ) {
    super()
    this.shape = v.shape
    this.dtype = v.dtype
    this.weak = v.weak
    Object.freeze(this)
  }
  get primal(): Tensor {
    throw concretization(this, 'read')
  }
  override concrete(): ConcreteTensor {
    throw concretization(this, 'read as data (item, toArray, ...)')
  }
  override [Symbol.toPrimitive](hint: string): string | number {
    if (hint === 'string') return this.toString()
    throw concretization(this, 'used as a JS number or boolean (as in `if (x > 0)` or `Number(x)`)')
  }
  override toString(): string {
    return `Tracer<${this.main.transform}>(${this.dtype}[${this.shape.join(',')}])`
  }
}

/**
 * Staged results that stand for a JS number (a transform gives a number back for a number
 * leaf when its result is concrete): a compiled program returns them as numbers again.
 */
const numberResults = new WeakSet<Tensor>()
/** Mark a staged result that a transform would return as a number. */
export const markNumberResult = (t: Tensor): void => {
  if (t instanceof StagingTracer) numberResults.add(t)
}
/** Was this staged result marked as a number? */
export const isNumberResult = (t: unknown): boolean => t instanceof Tensor && numberResults.has(t)

// -------------------------------------------------------------------------------------
// the level's dispatch
// -------------------------------------------------------------------------------------

const bindStage = <P>(main: MainTrace, prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P): Tensor => {
  const b = builders.get(main)
  if (b === undefined) throw new PurediffError('ValueError', 'a staging level without a record', { op: main.transform })
  const inputs = new Array<Var>(args.length)
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as Tensor
    inputs[i] = a instanceof StagingTracer && a.main === main ? a.v : b.constVar(a)
  }
  const aval = prim.abstract(args, params)
  const out = b.newVar(aval.shape, aval.dtype)
  b.eqns.push(Object.freeze({ prim: prim as AnyPrimitive, inputs: Object.freeze(inputs), params, out }))
  return new StagingTracer(main, out)
}
levelBinds.stage = bindStage

// -------------------------------------------------------------------------------------
// opening a level
// -------------------------------------------------------------------------------------

/** An input of a staged function: its abstract value and whether it stands for a JS number. */
export interface InputSpec extends AbstractValue {
  readonly weak: boolean
}

/**
 * Stage `body` on fresh inputs: open a staging level named `transform`, call `body` with one
 * tracer per input spec, and return the record with `body`'s result, whose staged leaves the
 * caller reads with `atomOf` before the level closes.
 */
export const stage = <A>(
  transform: string,
  specs: ReadonlyArray<InputSpec>,
  body: (inputs: ReadonlyArray<Tensor>, atomOf: (t: Tensor) => Var) => A,
): [Record, A] =>
  withMain('stage', transform, (main) => {
    openStages++
    try {
      return stageOn(main, specs, body)
    } finally {
      openStages--
    }
  })

/** Staging levels open right now (control flow stages its bodies as sub-programs when any is). */
let openStages = 0
/** Is some staging level (`trace`, `jit`, ...) open? Control flow then records one construct instead of unrolling. */
export const stagingOpen = (): boolean => openStages > 0

const stageOn = <A>(
  main: MainTrace,
  specs: ReadonlyArray<InputSpec>,
  body: (inputs: ReadonlyArray<Tensor>, atomOf: (t: Tensor) => Var) => A,
): [Record, A] => {
  const b = new Builder()
  builders.set(main, b)
  const tracers = specs.map((s) => {
    const v = b.newVar(s.shape, s.dtype, s.weak)
    b.inputs.push(v)
    return new StagingTracer(main, v)
  })
  const atomOf = (t: Tensor): Var => (t instanceof StagingTracer && t.main === main ? t.v : b.constVar(t))
  const out = body(tracers, atomOf)
  const rec: Record = Object.freeze({
    inputs: Object.freeze(b.inputs.slice()),
    consts: Object.freeze(b.consts.slice()),
    eqns: Object.freeze(b.eqns.slice()),
    capturesTracers: b.capturesTracers,
  })
  return [rec, out] as [Record, A]
}
