/**
 * fast-check arbitraries for differentiable code: shapes, tensors (with a dtype, a value
 * range and an optional well-conditioned mode), broadcastable shape pairs, parameter
 * records from a spec or a parameter schema, and random programs over the primitive table.
 *
 * Random programs are expression trees built with `fc.letrec` (`depthSize: 'small'`): every
 * node is a unary or binary primitive applied within its domain. Ops whose domain is not
 * all of ℝ get a smooth safe form that is defined and differentiable everywhere, e.g.
 * log(1 + a²), sqrt(1 + a²), div(a, 1 + b²), pow(1 + a², tanh b), tan(tanh a), so "grad
 * matches numGrad on random programs" is one property with no filtering. Ops with kinks
 * (relu, abs, maximum, minimum) are left out unless asked for, because a finite difference
 * that straddles a kink disagrees with any one-sided convention. A program prints as the
 * purediff code that computes it.
 *
 * Purity: every value an arbitrary produces is a fresh, frozen tree.
 */
import * as fc from 'fast-check'
import {
  Tensor,
  add,
  atan2,
  abs,
  cos,
  div,
  exp,
  expm1,
  fromData,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  sin,
  sqrt,
  sub,
  sum,
  tan,
  tanh,
  tree,
} from '../src/index.js'
import type { DType, Shape } from '../src/index.js'

// -------------------------------------------------------------------------------------
// shapes and tensors
// -------------------------------------------------------------------------------------

/** Options of `arbShape`. @category model @since 0.1.0 */
export interface ShapeOptions {
  readonly minRank?: number
  readonly maxRank?: number
  readonly minDim?: number
  readonly maxDim?: number
}

/**
 * Shapes: a rank in [minRank, maxRank] (default [0, 3]) and dims in [minDim, maxDim]
 * (default [1, 4]). Shrinks towards scalars.
 * @category constructors
 * @since 0.1.0
 */
export const arbShape = (o: ShapeOptions = {}): fc.Arbitrary<Shape> =>
  fc
    .array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 4 }), {
      minLength: o.minRank ?? 0,
      maxLength: o.maxRank ?? 3,
    })
    .map((s) => Object.freeze(s))

/** Options of `arbTensor`. @category model @since 0.1.0 */
export interface TensorOptions {
  /** a fixed shape, or an arbitrary of shapes (default `arbShape()`) */
  readonly shape?: Shape | fc.Arbitrary<Shape>
  readonly dtype?: DType
  /** value range, default [-2, 2] */
  readonly min?: number
  readonly max?: number
  /**
   * Keep values at least 10% of the range's magnitude away from 0 (safe for division, logs
   * of |x| and kinks at 0), and make square matrices (the last two axes) diagonally
   * dominant, so they are invertible with a bounded condition number.
   */
  readonly wellConditioned?: boolean
}

const sizeOf = (s: Shape): number => s.reduce((a, d) => a * d, 1)

const awayFromZero = (v: number, min: number, max: number): number => {
  const delta = 0.1 * Math.max(Math.abs(min), Math.abs(max))
  if (Math.abs(v) >= delta) return v
  if (max >= delta && (v >= 0 || min > -delta)) return delta
  if (min <= -delta) return -delta
  return v
}

const dominate = (values: number[], shape: Shape): number[] => {
  const r = shape.length
  if (r < 2 || shape[r - 1] !== shape[r - 2]) return values
  const n = shape[r - 1] as number
  const out = values.slice()
  for (let b = 0; b < out.length; b += n * n) {
    for (let i = 0; i < n; i++) {
      let off = 0
      for (let j = 0; j < n; j++) if (j !== i) off += Math.abs(out[b + i * n + j] as number)
      const d = out[b + i * n + i] as number
      out[b + i * n + i] = (d < 0 ? -1 : 1) * (Math.abs(d) + off + 1)
    }
  }
  return out
}

/**
 * Tensors of a shape (fixed or drawn), dtype and value range; see `TensorOptions`.
 * @example
 * fc.assert(fc.property(arbTensor({ shape: [2, 3] }), (t) => t.size === 6))
 * @category constructors
 * @since 0.1.0
 */
export const arbTensor = (o: TensorOptions = {}): fc.Arbitrary<Tensor> => {
  const min = o.min ?? -2
  const max = o.max ?? 2
  const dtype = o.dtype ?? 'float64'
  const shapes: fc.Arbitrary<Shape> =
    o.shape === undefined ? arbShape() : o.shape instanceof fc.Arbitrary ? o.shape : fc.constant(o.shape)
  const value = fc
    .double({ min, max, noNaN: true, noDefaultInfinity: true })
    .map((v) => (dtype === 'float32' ? Math.fround(v) : v))
  return shapes.chain((shape) =>
    fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((vs) => {
      const ws =
        o.wellConditioned === true
          ? dominate(
              vs.map((v) => awayFromZero(v, min, max)),
              shape,
            )
          : vs
      return fromData(
        ws.map((v) => (Object.is(v, -0) ? 0 : v)),
        shape,
        dtype,
      ) as Tensor
    }),
  )
}

/** Options of `arbBroadcastablePair`. @category model @since 0.1.0 */
export interface BroadcastOptions {
  readonly maxRank?: number
  readonly maxDim?: number
}

/**
 * Two shapes that broadcast together (NumPy rules): a common shape, from which each side
 * drops some leading axes and sets some axes to 1.
 * @category constructors
 * @since 0.1.0
 */
export const arbBroadcastablePair = (o: BroadcastOptions = {}): fc.Arbitrary<readonly [Shape, Shape]> =>
  arbShape({ maxRank: o.maxRank ?? 3, maxDim: o.maxDim ?? 4 }).chain((out) => {
    const side = fc
      .tuple(
        fc.integer({ min: 0, max: out.length }),
        fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      )
      .map(([drop, ones]) => Object.freeze(out.slice(drop).map((d, i) => (ones[i + drop] === true ? 1 : d))))
    return fc.tuple(side, side).map((p) => Object.freeze(p) as readonly [Shape, Shape])
  })

/**
 * Two tensors whose shapes broadcast together (values as in `arbTensor`).
 * @category constructors
 * @since 0.1.0
 */
export const arbBroadcastableTensors = (
  o: BroadcastOptions & Omit<TensorOptions, 'shape'> = {},
): fc.Arbitrary<readonly [Tensor, Tensor]> =>
  arbBroadcastablePair(o).chain(([a, b]) => fc.tuple(arbTensor({ ...o, shape: a }), arbTensor({ ...o, shape: b })))

// -------------------------------------------------------------------------------------
// parameter records
// -------------------------------------------------------------------------------------

/** A leaf spec: a shape, `'number'`, a shape with its own range/dtype, or any arbitrary. @category model @since 0.1.0 */
export type LeafSpec =
  | ReadonlyArray<number>
  | 'number'
  | {
      readonly shape: Shape
      readonly min?: number
      readonly max?: number
      readonly dtype?: DType
      readonly wellConditioned?: boolean
    }
  | fc.Arbitrary<unknown>

/**
 * A parameter schema from `purediff`'s io, structurally: it draws its own parameters (with
 * its own shapes, dtypes and number leaves) from `arbitrary({ min, max })`.
 * @category model
 * @since 0.1.0
 */
export interface SchemaLike<A = unknown> {
  readonly arbitrary: (options?: { readonly min?: number; readonly max?: number }) => fc.Arbitrary<A>
}

/** A parameter spec: leaf specs nested in records and arrays, a schema, or a tree of shapes under `shapeOf`. @category model @since 0.1.0 */
export type ParamSpec = LeafSpec | SchemaLike | ReadonlyArray<ParamSpec> | { readonly [key: string]: ParamSpec }

/** The parameter type a spec describes. @category model @since 0.1.0 */
export type ParamsOf<S> =
  S extends fc.Arbitrary<infer T>
    ? T
    : S extends { readonly arbitrary: (options?: never) => fc.Arbitrary<infer A> }
      ? A
      : S extends { readonly shapeOf: infer Sh }
        ? ParamsOf<Sh>
        : S extends 'number'
          ? number
          : S extends ReadonlyArray<number>
            ? Tensor
            : S extends { readonly shape: Shape }
              ? Tensor
              : { readonly [K in keyof S]: ParamsOf<S[K]> }

const isShape = (s: unknown): s is ReadonlyArray<number> => Array.isArray(s) && s.every((d) => typeof d === 'number')

const isSchemaLike = (s: unknown): s is SchemaLike =>
  typeof s === 'object' &&
  s !== null &&
  !(s instanceof fc.Arbitrary) &&
  typeof (s as { arbitrary?: unknown }).arbitrary === 'function'

/** Make a schema's sample well conditioned (as `arbTensor`'s option), keeping its dtypes. */
const conditionTree = (x: unknown, min: number, max: number): unknown => {
  if (typeof x === 'number') return awayFromZero(x, min, max)
  if (x instanceof Tensor) {
    const vs = dominate(
      Array.from(x.toTypedArray(), (v) => awayFromZero(v, min, max)),
      x.shape,
    )
    return fromData(
      vs.map((v) => (x.dtype === 'float32' ? Math.fround(v) : v)),
      x.shape,
      x.dtype,
    )
  }
  if (Array.isArray(x)) return Object.freeze(x.map((c) => conditionTree(c, min, max)))
  if (typeof x === 'object' && x !== null) {
    return Object.freeze(Object.fromEntries(Object.entries(x).map(([k, c]) => [k, conditionTree(c, min, max)])))
  }
  return x
}

/**
 * Parameter records: every tensor leaf of the spec drawn with `arbTensor` (default range
 * [-1, 1], float64), `'number'` leaves as numbers. A schema from `purediff`'s io (anything
 * with an `arbitrary` method), anywhere in the spec, draws from its own arbitrary with the
 * range [min, max]: its shapes, dtypes and number leaves are kept, so every sample decodes
 * with the schema's codec (`dtype` is then an error: the schema fixes its dtypes;
 * `wellConditioned` applies to its samples too). A value with only a `shapeOf` tree of shapes
 * is read as that tree.
 * @example
 * arbParams({ l1: { w: [3, 4], b: [4] }, l2: { w: [4, 2], b: [2] } })
 * @category constructors
 * @since 0.1.0
 */
export function arbParams<S extends ParamSpec | { readonly shapeOf: unknown }>(
  spec: S,
  o?: Omit<TensorOptions, 'shape'>,
): fc.Arbitrary<ParamsOf<S>>
export function arbParams(spec: unknown, o: Omit<TensorOptions, 'shape'> = {}): fc.Arbitrary<unknown> {
  const base = {
    min: o.min ?? -1,
    max: o.max ?? 1,
    ...(o.dtype !== undefined ? { dtype: o.dtype } : {}),
    ...(o.wellConditioned !== undefined ? { wellConditioned: o.wellConditioned } : {}),
  }
  const go = (s: unknown): fc.Arbitrary<unknown> => {
    if (s instanceof fc.Arbitrary) return s
    if (isSchemaLike(s)) {
      if (o.dtype !== undefined)
        throw new TypeError(`arbParams: a schema fixes its own dtypes; drop the dtype option (got '${o.dtype}')`)
      const arb = s.arbitrary({ min: base.min, max: base.max })
      return o.wellConditioned === true ? arb.map((x) => conditionTree(x, base.min, base.max)) : arb
    }
    if (s === 'number')
      return fc.double({ min: base.min, max: base.max, noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v))
    if (isShape(s)) return arbTensor({ ...base, shape: s })
    if (Array.isArray(s)) return fc.tuple(...s.map(go)).map((xs) => Object.freeze(xs))
    if (typeof s === 'object' && s !== null) {
      const r = s as Record<string, unknown>
      if (isShape(r['shape'])) return arbTensor({ ...base, ...(r as object), shape: r['shape'] })
      if ('shapeOf' in r) return go(r['shapeOf'])
      const keys = Object.keys(r)
      return fc
        .tuple(...keys.map((k) => go(r[k])))
        .map((vs) => Object.freeze(Object.fromEntries(keys.map((k, i) => [k, vs[i]]))))
    }
    throw new TypeError(`arbParams: cannot read a spec from ${String(s)}`)
  }
  return go(spec)
}

// -------------------------------------------------------------------------------------
// random programs
// -------------------------------------------------------------------------------------

/** A node of a random program. @category model @since 0.1.0 */
export type Expr =
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly op: string; readonly arg: Expr }
  | { readonly kind: 'binary'; readonly op: string; readonly a: Expr; readonly b: Expr }

type T = Tensor | number
/** A unary op of random programs: how to apply it and how to print it. @category model @since 0.1.0 */
export interface ProgramUnaryOp {
  readonly apply: (a: Tensor | number) => Tensor
  readonly show: (a: string) => string
}
/** A binary op of random programs. @category model @since 0.1.0 */
export interface ProgramBinaryOp {
  readonly apply: (a: Tensor | number, b: Tensor | number) => Tensor
  readonly show: (a: string, b: string) => string
}
type UnaryOp = ProgramUnaryOp
type BinaryOp = ProgramBinaryOp

const onePlusSq = (a: T): Tensor => add(1, mul(a, a))
const sq = (a: string): string => `add(1, mul(${a}, ${a}))`

/** The unary ops of random programs, by primitive name, in their safe forms. @category model @since 0.1.0 */
export const programUnaryOps: Readonly<Record<string, UnaryOp>> = Object.freeze({
  neg: { apply: (a) => neg(a), show: (a) => `neg(${a})` },
  exp: { apply: (a) => exp(tanh(a)), show: (a) => `exp(tanh(${a}))` },
  log: { apply: (a) => log(onePlusSq(a)), show: (a) => `log(${sq(a)})` },
  sin: { apply: (a) => sin(a), show: (a) => `sin(${a})` },
  cos: { apply: (a) => cos(a), show: (a) => `cos(${a})` },
  tan: { apply: (a) => tan(tanh(a)), show: (a) => `tan(tanh(${a}))` },
  tanh: { apply: (a) => tanh(a), show: (a) => `tanh(${a})` },
  sigmoid: { apply: (a) => sigmoid(a), show: (a) => `sigmoid(${a})` },
  sqrt: { apply: (a) => sqrt(onePlusSq(a)), show: (a) => `sqrt(${sq(a)})` },
  log1p: { apply: (a) => log1p(mul(a, a)), show: (a) => `log1p(mul(${a}, ${a}))` },
  expm1: { apply: (a) => expm1(tanh(a)), show: (a) => `expm1(tanh(${a}))` },
})

/** The binary ops of random programs, in their safe forms. @category model @since 0.1.0 */
export const programBinaryOps: Readonly<Record<string, BinaryOp>> = Object.freeze({
  add: { apply: (a, b) => add(a, b), show: (a, b) => `add(${a}, ${b})` },
  sub: { apply: (a, b) => sub(a, b), show: (a, b) => `sub(${a}, ${b})` },
  mul: { apply: (a, b) => mul(a, b), show: (a, b) => `mul(${a}, ${b})` },
  div: { apply: (a, b) => div(a, onePlusSq(b)), show: (a, b) => `div(${a}, ${sq(b)})` },
  pow: { apply: (a, b) => pow(onePlusSq(a), tanh(b)), show: (a, b) => `pow(${sq(a)}, tanh(${b}))` },
  atan2: { apply: (a, b) => atan2(a, onePlusSq(b)), show: (a, b) => `atan2(${a}, ${sq(b)})` },
})

/** Ops with kinks, only used with `kinks: true`. @category model @since 0.1.0 */
export const programKinkOps: {
  readonly unary: Readonly<Record<string, UnaryOp>>
  readonly binary: Readonly<Record<string, BinaryOp>>
} = Object.freeze({
  unary: Object.freeze({
    relu: { apply: (a: T) => relu(a), show: (a: string) => `relu(${a})` },
    abs: { apply: (a: T) => abs(a), show: (a: string) => `abs(${a})` },
  }),
  binary: Object.freeze({
    maximum: { apply: (a: T, b: T) => maximum(a, b), show: (a: string, b: string) => `maximum(${a}, ${b})` },
    minimum: { apply: (a: T, b: T) => minimum(a, b), show: (a: string, b: string) => `minimum(${a}, ${b})` },
  }),
})

/** Inputs of a program: a record of tensors. @category model @since 0.1.0 */
export type ProgramInputs = { readonly [name: string]: Tensor }

/**
 * A random program: `f(p)` evaluates it on a record of inputs (tensor output, broadcast
 * over the inputs' shapes), `loss(p)` is `sum(f(p))`, `text` is the purediff code.
 * @category model
 * @since 0.1.0
 */
export interface Program {
  readonly expr: Expr
  readonly text: string
  readonly inputs: { readonly [name: string]: Shape }
  readonly ops: ReadonlyArray<string>
  readonly f: (p: ProgramInputs) => Tensor
  readonly loss: (p: ProgramInputs) => Tensor
  readonly [fc.toStringMethod]: () => string
}

/** Options of `arbProgram`. @category model @since 0.1.0 */
export interface ProgramOptions {
  /** input names and shapes (they must broadcast together); default `{ x: [3], y: [2, 3] }` */
  readonly inputs?: { readonly [name: string]: Shape }
  /** maximum depth of the expression tree, default 4 */
  readonly maxDepth?: number
  /** restrict to these op names (default: every smooth op) */
  readonly ops?: ReadonlyArray<string>
  /** also use relu, abs, maximum and minimum */
  readonly kinks?: boolean
  /** your own ops (e.g. functions with custom rules), to check them inside random programs */
  readonly extra?: {
    readonly unary?: Readonly<Record<string, ProgramUnaryOp>>
    readonly binary?: Readonly<Record<string, ProgramBinaryOp>>
  }
}

const evalExpr = (e: Expr, p: ProgramInputs, un: Record<string, UnaryOp>, bin: Record<string, BinaryOp>): T => {
  switch (e.kind) {
    case 'var': {
      const v = p[e.name]
      if (v === undefined) throw new TypeError(`program input '${e.name}' is missing`)
      return v
    }
    case 'const':
      return e.value
    case 'unary':
      return (un[e.op] as UnaryOp).apply(evalExpr(e.arg, p, un, bin))
    case 'binary':
      return (bin[e.op] as BinaryOp).apply(evalExpr(e.a, p, un, bin), evalExpr(e.b, p, un, bin))
  }
}

const showExpr = (e: Expr, un: Record<string, UnaryOp>, bin: Record<string, BinaryOp>): string => {
  switch (e.kind) {
    case 'var':
      return `p.${e.name}`
    case 'const':
      return String(e.value)
    case 'unary':
      return (un[e.op] as UnaryOp).show(showExpr(e.arg, un, bin))
    case 'binary':
      return (bin[e.op] as BinaryOp).show(showExpr(e.a, un, bin), showExpr(e.b, un, bin))
  }
}

const opsOf = (e: Expr): string[] =>
  e.kind === 'unary' ? [e.op, ...opsOf(e.arg)] : e.kind === 'binary' ? [e.op, ...opsOf(e.a), ...opsOf(e.b)] : []

/**
 * Random programs over the primitive table (see the module header). Every input appears at
 * least once, so the program's gradient has something to say about each of them.
 * @example
 * fc.assert(fc.property(arbProgramCase(), fc.nat(), ({ program, params }, seed) =>
 *   E.isRight(checkGrads(program.loss, params, { seed }))))
 * @category constructors
 * @since 0.1.0
 */
export const arbProgram = (o: ProgramOptions = {}): fc.Arbitrary<Program> => {
  const inputs = o.inputs ?? { x: [3], y: [2, 3] }
  const names = Object.keys(inputs)
  const pick = <R>(all: Readonly<Record<string, R>>): Record<string, R> =>
    Object.fromEntries(Object.entries(all).filter(([k]) => o.ops === undefined || o.ops.includes(k)))
  const un = {
    ...pick(programUnaryOps),
    ...(o.kinks === true ? pick(programKinkOps.unary) : {}),
    ...(o.extra?.unary ?? {}),
  }
  const bin = {
    ...pick(programBinaryOps),
    ...(o.kinks === true ? pick(programKinkOps.binary) : {}),
    ...(o.extra?.binary ?? {}),
  }
  const unNames = Object.keys(un)
  const binNames = Object.keys(bin)
  const leaf: fc.Arbitrary<Expr> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...names).map((name): Expr => ({ kind: 'var', name })) },
    { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }).map((k): Expr => ({ kind: 'const', value: k / 10 })) },
  )
  const branches: Array<(tie: (k: string) => fc.Arbitrary<unknown>) => fc.Arbitrary<Expr>> = []
  if (unNames.length > 0) {
    branches.push((tie) =>
      fc
        .record({ op: fc.constantFrom(...unNames), arg: tie('expr') as fc.Arbitrary<Expr> })
        .map((r): Expr => ({ kind: 'unary', ...r })),
    )
  }
  if (binNames.length > 0) {
    branches.push((tie) =>
      fc
        .record({
          op: fc.constantFrom(...binNames),
          a: tie('expr') as fc.Arbitrary<Expr>,
          b: tie('expr') as fc.Arbitrary<Expr>,
        })
        .map((r): Expr => ({ kind: 'binary', ...r })),
    )
  }
  const { expr } = fc.letrec((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: o.maxDepth ?? 4, withCrossShrink: true },
      leaf,
      ...branches.map((b) => b(tie)),
    ),
  }))
  // make every input appear: add the missing ones as `add(e, mul(0.5, p.name))`
  const complete = (e: Expr): Expr => {
    const used = new Set<string>()
    const visit = (n: Expr): void => {
      if (n.kind === 'var') used.add(n.name)
      else if (n.kind === 'unary') visit(n.arg)
      else if (n.kind === 'binary') [n.a, n.b].forEach(visit)
    }
    visit(e)
    return names
      .filter((n) => !used.has(n))
      .reduce<Expr>((acc, name) => ({ kind: 'binary', op: '__addHalf', a: acc, b: { kind: 'var', name } }), e)
  }
  const binWithHalf: Record<string, BinaryOp> = {
    ...bin,
    __addHalf: { apply: (a, b) => add(a, mul(0.5, b)), show: (a, b) => `add(${a}, mul(0.5, ${b}))` },
  }
  return (expr as fc.Arbitrary<Expr>).map((e0) => {
    const e = complete(e0)
    const text = `(p) => ${showExpr(e, un, binWithHalf)}`
    const f = (p: ProgramInputs): Tensor => {
      const v = evalExpr(e, p, un, binWithHalf)
      // every input appears in e, so v is a tensor; a number would mean no inputs at all
      if (typeof v === 'number') throw new TypeError('arbProgram: a program needs at least one input')
      return v
    }
    return Object.freeze({
      expr: e,
      text,
      inputs,
      ops: Object.freeze([...new Set(opsOf(e).filter((n) => n !== '__addHalf'))]),
      f,
      loss: (p: ProgramInputs) => sum(f(p)),
      [fc.toStringMethod]: () => text,
    })
  })
}

/**
 * Inputs for programs: a record of tensors of the given shapes with values in [min, max]
 * (default [-1.5, 1.5]).
 * @category constructors
 * @since 0.1.0
 */
export const arbProgramInputs = (
  inputs: { readonly [name: string]: Shape } = { x: [3], y: [2, 3] },
  o: Omit<TensorOptions, 'shape'> = {},
): fc.Arbitrary<ProgramInputs> => arbParams(inputs, { min: -1.5, max: 1.5, ...o }) as fc.Arbitrary<ProgramInputs>

/**
 * A random program together with inputs for it: the one arbitrary that "grad matches
 * numGrad on random programs" needs.
 * @category constructors
 * @since 0.1.0
 */
export const arbProgramCase = (
  o: ProgramOptions & Omit<TensorOptions, 'shape'> = {},
): fc.Arbitrary<{ readonly program: Program; readonly params: ProgramInputs }> =>
  fc.record({ program: arbProgram(o), params: arbProgramInputs(o.inputs, o) })

/** The key paths of a tree (re-exported for writing specs and reading failures). @category utils @since 0.1.0 */
export const keyPathsOf = (t: unknown): string[] => tree.paths(t)
