/**
 * The compiler: a `Program` (already folded, deduplicated and pruned by `optimize`) becomes
 * an executable over concrete tensors.
 *
 * - A scalar program (every value has one element, every equation elementwise) becomes
 *   straight-line JS over plain numbers: `const v7 = Math.sin(v5 * v6)`-style statements
 *   with constants as literals, split into chunks of at most `CHUNK` equations; values
 *   crossing chunks live in one Float64Array. A long one (over `STRAIGHT_LINE_LIMIT`
 *   equations) runs instead on a register machine: one generated switch loop, one case per
 *   distinct expression, over an instruction array (straight-line code that long misses the
 *   instruction cache; see the constant).
 * - Otherwise runs of elementwise equations (unary and binary maps, `where`, casts,
 *   reshapes, broadcasts and transposes of their inputs) are fused into one generated loop
 *   per run: intermediates no one else reads are never stored, the others are written once.
 *   Every other equation calls its primitive's kernel (`impl`), so kernel improvements
 *   (WebAssembly, threads) are picked up as they land.
 * - Buffers: a fused loop writes its intermediates into scratch arrays owned by the
 *   executable, planned at compile time by liveness so one array serves many values. No user
 *   ever sees them: a program output is always a fresh array in a fresh frozen tensor.
 *
 * - A `sum` or `max` over trailing axes (all axes included) of a value a fused loop computes
 *   joins that loop: the loop runs row by row, folding each element into an accumulator as
 *   it is computed, so the reduced chain is never stored (`sum(exp(x - m), 1)` in a softmax
 *   is one pass). Several reductions of one loop share the row structure. A `sum` over
 *   leading axes (a bias gradient, summing a batch) joins the same way, each element folded
 *   into its output's accumulator as the loop passes it.
 *
 * Results equal the interpreter's bit for bit: fused loops evaluate the same scalar
 * expressions as the kernels (`src/kernels/elementwise.ts`) and round every float32
 * intermediate to float32 (`Math.fround`) as storing it into a Float32Array does. A fused
 * reduction keeps the kernel's summation order (index order within a row, a JS double
 * accumulator, one store per output that rounds a float32 result), so no sum is reordered
 * and the difference is zero, not merely bounded (`reductionTables`; the `jit(f) ≡ f` law
 * checks it at 0 ulps). A `max` over leading axes and reductions over scattered axes are not
 * fused, nor is a trailing `sum` large enough that the eager kernel runs it in WebAssembly
 * (`wasmMinElements()`, decided at compile time): that kernel adds in two float64 lanes
 * (src/kernels/wasm/elementwise.ts), so an index-order fused sum would differ from it by
 * rounding, up to 2·γ(n−1)·Σ|x| for n terms (each is within γ(n−1)·Σ|x| of the exact sum).
 * Keeping the eager order keeps every result bit-identical, so the law stays at 0 ulps.
 *
 * Where generated code is forbidden (a content-security policy without 'unsafe-eval'), the
 * executable interprets the program with the kernels instead; results are the same.
 *
 * Purity: an executable writes only arrays it allocated (its scratch and fresh outputs).
 */
import type { Eqn, Var } from '../ad/staging.js'
import { Tracer } from '../ad/trace.js'
import { wasmMinElements } from '../kernels/backend.js'
import { broadcastIndex, stridedIndex } from '../kernels/elementwise.js'
import type { ConcreteTensor, Data, Shape } from '../tensor/Tensor.js'
import { alloc, dataOf, scalar, sizeOf, stridesOf, wrap } from '../tensor/Tensor.js'
import type { Program } from './program.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A compiled program: flat concrete inputs (numbers for scalars allowed) to flat outputs. @internal */
export interface Executable {
  readonly run: (xs: ReadonlyArray<ConcreteTensor | number>) => ConcreteTensor[]
  /** how it runs: straight-line scalar code, fused loops with kernels, or the plain interpreter */
  readonly mode: 'scalar' | 'machine' | 'fused' | 'interpreted'
  /** number of fused loops (0 unless mode is 'fused') */
  readonly fusedLoops: number
  /** number of reductions (`sum`, `max` over trailing axes) computed inside fused loops */
  readonly fusedReductions: number
}

/** Compiler options (tests use them to compare paths). @internal */
export interface CompileOptions {
  readonly codegen?: boolean
}

/** Equations per generated scalar function. */
const CHUNK = 500
/**
 * Above this many equations a scalar program runs on a register machine (one generated loop
 * over a Float64Array of registers and an Int32Array of instructions) instead of straight-line
 * code: measured here, 27 000 straight-line statements ran 4× slower than the same program as
 * instructions, the machine code no longer fitting the instruction cache.
 */
const STRAIGHT_LINE_LIMIT = 2000

let codegenAvailable: boolean | null = null
/** Is `new Function` allowed here? */
export const canGenerate = (): boolean => {
  if (codegenAvailable === null) {
    try {
      codegenAvailable = new Function('return 1')() === 1
    } catch {
      codegenAvailable = false
    }
  }
  return codegenAvailable
}

// -------------------------------------------------------------------------------------
// scalar expressions (the same as the kernels')
// -------------------------------------------------------------------------------------

const UNARY: Record<string, (x: string) => string> = {
  neg: (x) => `(-${x})`,
  exp: (x) => `Math.exp(${x})`,
  log: (x) => `Math.log(${x})`,
  sin: (x) => `Math.sin(${x})`,
  cos: (x) => `Math.cos(${x})`,
  tan: (x) => `Math.tan(${x})`,
  tanh: (x) => `Math.tanh(${x})`,
  sigmoid: (x) => `(${x} >= 0 ? 1 / (1 + Math.exp(-${x})) : Math.exp(${x}) / (1 + Math.exp(${x})))`,
  relu: (x) => `(${x} > 0 ? ${x} : (${x} === ${x} ? 0 : ${x}))`,
  abs: (x) => `Math.abs(${x})`,
  sqrt: (x) => `Math.sqrt(${x})`,
  log1p: (x) => `Math.log1p(${x})`,
  expm1: (x) => `Math.expm1(${x})`,
  sign: (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : (${x} === ${x} ? 0 : ${x}))`,
  floor: (x) => `Math.floor(${x})`,
  ceil: (x) => `Math.ceil(${x})`,
  round: (x) => `Math.round(${x})`,
  isFinite: (x) => `(Number.isFinite(${x}) ? 1 : 0)`,
  stopGradient: (x) => x,
  cast: (x) => x,
  reshape: (x) => x,
  broadcastTo: (x) => x,
  transpose: (x) => x,
}
const BINARY: Record<string, (x: string, y: string) => string> = {
  add: (x, y) => `(${x} + ${y})`,
  sub: (x, y) => `(${x} - ${y})`,
  mul: (x, y) => `(${x} * ${y})`,
  div: (x, y) => `(${x} / ${y})`,
  pow: (x, y) => `Math.pow(${x}, ${y})`,
  maximum: (x, y) => `(${x} > ${y} ? ${x} : (${x} <= ${y} ? ${y} : ${x} + ${y}))`,
  minimum: (x, y) => `(${x} < ${y} ? ${x} : (${x} >= ${y} ? ${y} : ${x} + ${y}))`,
  mulNoNan: (x, y) => `(${x} === 0 || ${y} === 0 ? 0 : ${x} * ${y})`,
  divNoNan: (x, y) => `(${x} === 0 ? 0 : ${x} / ${y})`,
  greater: (x, y) => `(${x} > ${y} ? 1 : 0)`,
  greaterEqual: (x, y) => `(${x} >= ${y} ? 1 : 0)`,
  less: (x, y) => `(${x} < ${y} ? 1 : 0)`,
  lessEqual: (x, y) => `(${x} <= ${y} ? 1 : 0)`,
  equal: (x, y) => `(${x} === ${y} ? 1 : 0)`,
  notEqual: (x, y) => `(${x} !== ${y} ? 1 : 0)`,
  atan2: (x, y) => `Math.atan2(${x}, ${y})`,
}

/**
 * The expression tables, exposed to the tests only: the law suite is shown to fail on a
 * deliberately wrong fusion by swapping an entry for the duration of one test.
 * @internal
 */
export const expressionTables = { unary: UNARY, binary: BINARY }

/** The scalar expression of an elementwise equation over operand expressions (null: not elementwise). */
const exprOf = (e: Eqn, args: ReadonlyArray<string>): string | null => {
  const name = e.prim.name
  let body: string | null = null
  const u = UNARY[name]
  const b = BINARY[name]
  if (u !== undefined && args.length === 1) body = u(args[0] as string)
  else if (b !== undefined && args.length === 2) body = b(args[0] as string, args[1] as string)
  else if (name === 'where' && args.length === 3) body = `(${args[0]} !== 0 ? ${args[1]} : ${args[2]})`
  if (body === null) return null
  return e.out.dtype === 'float32' && needsRounding(e) ? `Math.fround(${body})` : body
}

/** Does the result need rounding to float32 (not when it only moves float32 values)? */
const needsRounding = (e: Eqn): boolean => {
  const moves = [
    'stopGradient',
    'reshape',
    'broadcastTo',
    'transpose',
    'neg',
    'abs',
    'floor',
    'ceil',
    'round',
    'sign',
    'relu',
    'where',
    'maximum',
    'minimum',
  ]
  return !(moves.includes(e.prim.name) && e.inputs.every((v) => v.dtype === 'float32'))
}

/** How an elementwise equation reads each input at output position i. */
type Read =
  { readonly kind: 'same' } | { readonly kind: 'scalar' } | { readonly kind: 'index'; readonly idx: Int32Array }

/** For each position of the transposed value, the flat position it reads in x (direct strided walk). */
const transposeIndex = (shape: Shape, perm: ReadonlyArray<number>): Int32Array => {
  const inStrides = stridesOf(shape)
  return stridedIndex(
    perm.map((q) => shape[q] as number),
    perm.map((q) => inStrides[q] as number),
  )
}

const isIdentity = (idx: Int32Array): boolean => {
  for (let i = 0; i < idx.length; i++) if (idx[i] !== i) return false
  return true
}

/** Index maps: for each output position, the flat input position it reads. */
const readsOf = (e: Eqn): Read[] | null => {
  const name = e.prim.name
  const outShape = e.out.shape
  const n = sizeOf(outShape)
  const broadcastRead = (shape: Shape): Read => {
    const m = sizeOf(shape)
    if (m === n) return { kind: 'same' } // same size under broadcasting: no axis is broadcast
    if (m === 1) return { kind: 'scalar' }
    return { kind: 'index', idx: broadcastIndex(shape, outShape) as Int32Array }
  }
  if (name === 'reshape') return [{ kind: 'same' }]
  if (name === 'transpose') {
    const x = e.inputs[0] as Var
    if (sizeOf(x.shape) <= 1) return [{ kind: 'same' }]
    const perm = (e.params as { readonly perm: ReadonlyArray<number> }).perm
    const idx = transposeIndex(x.shape, perm)
    return isIdentity(idx) ? [{ kind: 'same' }] : [{ kind: 'index', idx }]
  }
  if (UNARY[name] === undefined && BINARY[name] === undefined && name !== 'where') return null
  return e.inputs.map((v) => broadcastRead(v.shape))
}

// -------------------------------------------------------------------------------------
// the interpreter (and the fallback)
// -------------------------------------------------------------------------------------

const asConcrete = (x: ConcreteTensor | number, v: Var): ConcreteTensor =>
  typeof x === 'number' ? scalar(x, v.dtype) : x

/** Evaluate with the kernels, equation by equation. */
const interpret = (p: Program): Executable => {
  const slots = slotMap(p)
  const run = (xs: ReadonlyArray<ConcreteTensor | number>): ConcreteTensor[] => {
    const env: Array<ConcreteTensor | undefined> = new Array(slots.size)
    p.inputs.forEach((v, i) => (env[slots.get(v.id) as number] = asConcrete(xs[i] as ConcreteTensor | number, v)))
    for (const c of p.consts) env[slots.get(c.v.id) as number] = c.value as ConcreteTensor
    for (const e of p.eqns) {
      env[slots.get(e.out.id) as number] = e.prim.impl(
        e.inputs.map((v) => env[slots.get(v.id) as number] as ConcreteTensor),
        e.params,
      )
    }
    return p.outputs.map((v) => env[slots.get(v.id) as number] as ConcreteTensor)
  }
  return { run, mode: 'interpreted', fusedLoops: 0, fusedReductions: 0 }
}

/** Dense slot numbers for a program's variables. */
const slotMap = (p: Program): Map<number, number> => {
  const m = new Map<number, number>()
  const add = (v: Var): void => {
    if (!m.has(v.id)) m.set(v.id, m.size)
  }
  p.inputs.forEach(add)
  p.consts.forEach((c) => add(c.v))
  p.eqns.forEach((e) => add(e.out))
  p.outputs.forEach(add)
  return m
}

// -------------------------------------------------------------------------------------
// scalar programs: straight-line code over numbers
// -------------------------------------------------------------------------------------

const isScalarProgram = (p: Program): boolean =>
  p.inputs.every((v) => sizeOf(v.shape) === 1) &&
  p.consts.every((c) => c.value.size === 1 && !(c.value instanceof Tracer)) &&
  p.eqns.every(
    (e) =>
      sizeOf(e.out.shape) === 1 &&
      exprOf(
        e,
        e.inputs.map(() => 'x'),
      ) !== null,
  )

/** A scalar program as instructions [opcode, x, y, z, out] for one generated switch loop. */
const compileMachine = (p: Program): Executable => {
  const slots = slotMap(p)
  const ops = new Map<string, number>()
  const cases: string[] = []
  const code = new Int32Array(p.eqns.length * 5)
  p.eqns.forEach((e, k) => {
    const expr = exprOf(e, ['x', 'y', 'z'].slice(0, e.inputs.length)) as string
    const key = `${expr}`
    let op = ops.get(key)
    if (op === undefined) {
      op = ops.size
      ops.set(key, op)
      cases.push(`case ${op}: R[code[pc + 4]] = ${expr}; break;`)
    }
    code[k * 5] = op
    e.inputs.forEach((v, i) => (code[k * 5 + 1 + i] = slots.get(v.id) as number))
    code[k * 5 + 4] = slots.get(e.out.id) as number
  })
  const machine = new Function(`"use strict"; return function scalarMachine(R, code) {
    const n = code.length;
    for (let pc = 0; pc < n; pc += 5) {
      const x = R[code[pc + 1]], y = R[code[pc + 2]], z = R[code[pc + 3]];
      switch (code[pc]) {\n${cases.join('\n')}\n}
    }
  }`)() as (R: Float64Array, code: Int32Array) => void
  const R = new Float64Array(slots.size)
  for (const c of p.consts) R[slots.get(c.v.id) as number] = c.value.item()
  const inSlots = p.inputs.map((v) => slots.get(v.id) as number)
  const outs = p.outputs.map((v) => [slots.get(v.id) as number, v] as const)
  const run = (xs: ReadonlyArray<ConcreteTensor | number>): ConcreteTensor[] => {
    for (let i = 0; i < inSlots.length; i++) {
      const x = xs[i] as ConcreteTensor | number
      R[inSlots[i] as number] = typeof x === 'number' ? x : x.item()
    }
    machine(R, code)
    return outs.map(([s, v]) => {
      const out = alloc(v.dtype, 1)
      out[0] = R[s] as number
      return wrap(out, v.shape)
    })
  }
  return { run, mode: 'machine', fusedLoops: 0, fusedReductions: 0 }
}

const compileScalar = (p: Program): Executable => {
  const slots = slotMap(p)
  const nSlots = slots.size
  // last chunk that reads each value (values read outside their chunk go through the register file)
  const chunkOfDef = new Map<number, number>()
  const crosses = new Set<number>()
  p.inputs.forEach((v) => chunkOfDef.set(v.id, -1))
  p.consts.forEach((c) => chunkOfDef.set(c.v.id, -1))
  p.eqns.forEach((e, k) => {
    const ck = Math.floor(k / CHUNK)
    chunkOfDef.set(e.out.id, ck)
    for (const v of e.inputs) if (chunkOfDef.get(v.id) !== ck) crosses.add(v.id)
  })
  p.outputs.forEach((v) => crosses.add(v.id))
  const name = (v: Var): string => `v${slots.get(v.id)}`
  // constants are written into the code as literals (a JS number prints and parses back exactly)
  const literal = new Map<number, string>()
  for (const c of p.consts) {
    const x = c.value.item()
    literal.set(c.v.id, Object.is(x, -0) ? '(-0)' : `(${String(x)})`)
  }
  const chunks: Array<(r: Float64Array) => void> = []
  for (let start = 0; start < p.eqns.length; start += CHUNK) {
    const body: string[] = []
    const local = new Set<number>()
    const ref = (v: Var): string => literal.get(v.id) ?? (local.has(v.id) ? name(v) : `r[${slots.get(v.id)}]`)
    for (const e of p.eqns.slice(start, start + CHUNK)) {
      const expr = exprOf(e, e.inputs.map(ref)) as string
      body.push(`const ${name(e.out)} = ${expr};`)
      local.add(e.out.id)
      if (crosses.has(e.out.id)) body.push(`r[${slots.get(e.out.id)}] = ${name(e.out)};`)
    }
    chunks.push(
      new Function(`"use strict"; return function scalarChunk${chunks.length}(r) {\n${body.join('\n')}\n}`)() as (
        r: Float64Array,
      ) => void,
    )
  }
  const consts = p.consts.map((c) => [slots.get(c.v.id) as number, c.value.item()] as const)
  const inSlots = p.inputs.map((v) => slots.get(v.id) as number)
  const outs = p.outputs.map((v) => [slots.get(v.id) as number, v] as const)
  const r = new Float64Array(nSlots)
  for (const [s, x] of consts) r[s] = x
  const run = (xs: ReadonlyArray<ConcreteTensor | number>): ConcreteTensor[] => {
    for (let i = 0; i < inSlots.length; i++) {
      const x = xs[i] as ConcreteTensor | number
      r[inSlots[i] as number] = typeof x === 'number' ? x : x.item()
    }
    for (let c = 0; c < chunks.length; c++) (chunks[c] as (r: Float64Array) => void)(r)
    return outs.map(([s, v]) => {
      const out = alloc(v.dtype, 1)
      out[0] = r[s] as number
      return wrap(out, v.shape)
    })
  }
  return { run, mode: 'scalar', fusedLoops: 0, fusedReductions: 0 }
}

// -------------------------------------------------------------------------------------
// tensor programs: fused elementwise loops + kernels
// -------------------------------------------------------------------------------------

type Step =
  | { readonly kind: 'eqn'; readonly eqn: Eqn; readonly ins: ReadonlyArray<number>; readonly out: number }
  | {
      readonly kind: 'loop'
      readonly fn: (A: ReadonlyArray<Data>, I: ReadonlyArray<Int32Array>, O: ReadonlyArray<Data>) => void
      readonly ins: ReadonlyArray<number>
      readonly idx: ReadonlyArray<Int32Array>
      readonly outs: ReadonlyArray<{ readonly slot: number; readonly v: Var; readonly scratch: Data | null }>
    }

interface Group {
  readonly n: number
  readonly eqns: Eqn[]
  readonly members: Set<number>
  /** reductions of members computed in the same loop, all of one layout and inner extent */
  readonly reductions: Eqn[]
  layout: 'trailing' | 'leading' | null
  inner: number
}

/**
 * How a fused reduction accumulates, one entry per reduction primitive: the accumulator's
 * start value and the statement that folds element `x` into it. They are the trailing-axes
 * loops of `src/kernels/reduce.ts` (`sumKernel`, `maxKernel`) statement for statement: a JS
 * double accumulator taken in index order, stored once per output (the store rounds a
 * float32 result, as the kernel's does), so a fused reduction is the kernel's bit for bit.
 * Exposed to the tests only, which plant a wrong entry to show the law fails.
 * @internal
 */
export const reductionTables: Record<string, { init: string; step: (acc: string, x: string) => string }> = {
  sum: { init: '0', step: (acc, x) => `${acc} += ${x};` },
  max: { init: '-Infinity', step: (acc, x) => `if (${x} > ${acc} || ${x} !== ${x}) ${acc} = ${x};` },
}

/**
 * How a reduction can run inside a loop over its input in index order (null: not fusable):
 * over trailing axes (all axes included), `sum` or `max`, row by row, `inner` elements a row;
 * over leading axes, `sum` only, folding element i into accumulator i mod `inner` (`inner`
 * being the output size), which is `sumKernel`'s leading-axes loop (a float64 accumulator per
 * output, the batch taken in order) element for element.
 */
const reductionLayout = (e: Eqn): { readonly layout: 'trailing' | 'leading'; readonly inner: number } | null => {
  if (reductionTables[e.prim.name] === undefined || e.inputs.length !== 1) return null
  const x = e.inputs[0] as Var
  const axes = (e.params as { readonly axes?: ReadonlyArray<number> }).axes
  if (axes === undefined || axes.length === 0) return null
  const r = x.shape.length
  const extent = (as: ReadonlyArray<number>): number => as.reduce((m, a) => m * (x.shape[a] as number), 1)
  if (axes.every((a, i) => a === r - axes.length + i)) {
    // a trailing sum the eager kernel runs in WebAssembly (lane-wise partial sums) stays with
    // that kernel: fused in index order it would differ from eager by rounding (both are
    // within γ(n−1)·Σ|x| of the exact sum), and the compiler changes no result
    if (e.prim.name === 'sum' && sizeOf(x.shape) >= wasmMinElements()) return null
    return { layout: 'trailing', inner: extent(axes) }
  }
  if (e.prim.name === 'sum' && axes.every((a, i) => a === i)) {
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i))
    return { layout: 'leading', inner: extent(kept) }
  }
  return null
}

const compileFused = (p: Program): Executable => {
  const slots = slotMap(p)
  const outputIds = new Set(p.outputs.map((v) => v.id))
  // consumers of each value, by equation position
  const lastUse = new Map<number, number>()
  p.eqns.forEach((e, k) => e.inputs.forEach((v) => lastUse.set(v.id, k)))
  const reads = p.eqns.map(readsOf)
  const posOf = new Map<Eqn, number>()
  p.eqns.forEach((e, k) => posOf.set(e, k))
  // greedy in-order grouping: an elementwise equation joins the open group when it has the
  // group's size and reads every in-group input at its own position
  const groups: Array<Group | Eqn> = []
  let open: Group | null = null
  p.eqns.forEach((e, k) => {
    const rd = reads[k]
    const n = sizeOf(e.out.shape)
    // a sum or max over trailing axes of a value the open loop computes joins that loop; after
    // it only reductions with the same inner extent may join (an elementwise reader of the
    // reduced value needs the finished value, so it starts a new loop)
    const red = reductionLayout(e)
    const og: Group | null = open
    if (
      red !== null &&
      og !== null &&
      red.inner > 0 &&
      og.members.has((e.inputs[0] as Var).id) &&
      og.n === sizeOf((e.inputs[0] as Var).shape) &&
      (og.layout === null || (og.layout === red.layout && og.inner === red.inner))
    ) {
      og.eqns.push(e)
      og.reductions.push(e)
      og.layout = red.layout
      og.inner = red.inner
      return
    }
    if (rd === null || rd === undefined || n === 0) {
      open = null
      groups.push(e)
      return
    }
    const g: Group | null = open
    const fits =
      g !== null &&
      g.reductions.length === 0 &&
      g.n === n &&
      e.inputs.every((v, i) => !g.members.has(v.id) || (rd[i] as Read).kind === 'same')
    if (fits && g !== null) {
      g.eqns.push(e)
      g.members.add(e.out.id)
    } else {
      const ng: Group = { n, eqns: [e], members: new Set([e.out.id]), reductions: [], layout: null, inner: 0 }
      open = ng
      groups.push(ng)
    }
  })
  // buffer planning: scratch arrays for materialised loop values no user sees, by liveness
  const free = new Map<string, Data[]>()
  const releaseAt = new Map<number, Data[]>() // step index → buffers free after it
  let loops = 0
  let reduced = 0
  const steps: Step[] = []
  groups.forEach((g) => {
    if (!('members' in g)) {
      steps.push({
        kind: 'eqn',
        eqn: g,
        ins: g.inputs.map((v) => slots.get(v.id) as number),
        out: slots.get(g.out.id) as number,
      })
      return
    }
    const members = g.members
    const firstK = posOf.get(g.eqns[0] as Eqn) as number
    const lastK = posOf.get(g.eqns[g.eqns.length - 1] as Eqn) as number
    // scratch arrays whose last reader ran before this loop go back to the pool
    for (const [k, bufs] of releaseAt) {
      if (k >= firstK) continue
      for (const buf of bufs) {
        const key = `${buf instanceof Float32Array ? 'float32' : 'float64'}:${buf.length}`
        const pool = free.get(key) ?? []
        pool.push(buf)
        free.set(key, pool)
      }
      releaseAt.delete(k)
    }
    // external inputs (deduplicated by variable and read)
    const A: number[] = []
    const I: Int32Array[] = []
    const aName = new Map<string, string>()
    const lines: string[] = []
    const pre: string[] = []
    const localName = new Map<number, string>()
    const readExt = (v: Var, r: Read): string => {
      const key = r.kind === 'index' ? `${v.id}:index:${I.length}` : `${v.id}:${r.kind}`
      const seen = aName.get(key)
      if (seen !== undefined) return seen
      let ai = A.indexOf(slots.get(v.id) as number)
      if (ai < 0) {
        ai = A.length
        A.push(slots.get(v.id) as number)
        pre.push(`const a${ai} = A[${ai}];`)
      }
      let nm: string
      if (r.kind === 'scalar') {
        nm = `s${ai}`
        pre.push(`const ${nm} = a${ai}[0];`)
      } else if (r.kind === 'same') {
        nm = `x${ai}`
        lines.push(`const ${nm} = a${ai}[i];`)
      } else {
        const ii = I.length
        I.push(r.idx)
        pre.push(`const j${ii} = I[${ii}];`)
        nm = `y${ii}_${ai}`
        lines.push(`const ${nm} = a${ai}[j${ii}[i]];`)
      }
      aName.set(key, nm)
      return nm
    }
    const reductions = new Set(g.reductions)
    g.eqns.forEach((e) => {
      if (reductions.has(e)) return
      const rd = reads[posOf.get(e) as number] as Read[]
      const args = e.inputs.map((v, i) =>
        members.has(v.id) ? (localName.get(v.id) as string) : readExt(v, rd[i] as Read),
      )
      const nm = `t${slots.get(e.out.id)}`
      lines.push(`const ${nm} = ${exprOf(e, args) as string};`)
      localName.set(e.out.id, nm)
    })
    /** A scratch array for a value no user sees, back to the pool after its last reader. */
    const scratchFor = (e: Eqn, size: number): Data | null => {
      if (outputIds.has(e.out.id)) return null
      const key = `${e.out.dtype}:${size}`
      const pool = free.get(key) ?? []
      const scratch = pool.pop() ?? alloc(e.out.dtype, size)
      free.set(key, pool)
      const at = lastUse.get(e.out.id) as number
      const list = releaseAt.get(at) ?? []
      list.push(scratch)
      releaseAt.set(at, list)
      return scratch
    }
    // values read after the loop, or outputs, are stored
    const stored = g.eqns.filter(
      (e) => !reductions.has(e) && (outputIds.has(e.out.id) || (lastUse.get(e.out.id) ?? -1) > lastK),
    )
    const outs = stored.map((e, oi) => {
      pre.push(`const o${oi} = O[${oi}];`)
      lines.push(`o${oi}[i] = ${localName.get(e.out.id) as string};`)
      return { slot: slots.get(e.out.id) as number, v: e.out, scratch: scratchFor(e, g.n) }
    })
    let src: string
    if (g.reductions.length === 0) {
      src = `"use strict";\n${pre.join('\n')}\nfor (let i = 0; i < ${g.n}; i++) {\n${lines.join('\n')}\n}`
    } else if (g.layout === 'trailing') {
      // one pass per output row: the row's elements in index order, folded into accumulators
      const outer = g.n / g.inner
      const inits: string[] = []
      const folds: string[] = []
      const stores: string[] = []
      g.reductions.forEach((e, ri) => {
        const oi = outs.length
        const table = reductionTables[e.prim.name] as (typeof reductionTables)[string]
        pre.push(`const o${oi} = O[${oi}];`)
        inits.push(`let r${ri} = ${table.init};`)
        folds.push(table.step(`r${ri}`, localName.get((e.inputs[0] as Var).id) as string))
        stores.push(`o${oi}[o] = r${ri};`)
        outs.push({ slot: slots.get(e.out.id) as number, v: e.out, scratch: scratchFor(e, outer) })
      })
      src =
        `"use strict";\n${pre.join('\n')}\nfor (let o = 0; o < ${outer}; o++) {\n${inits.join('\n')}\n` +
        `for (let i = o * ${g.inner}, iEnd = i + ${g.inner}; i < iEnd; i++) {\n${lines.join('\n')}\n${folds.join('\n')}\n}\n` +
        `${stores.join('\n')}\n}`
      reduced += g.reductions.length
    } else {
      // leading axes: element i folds into accumulator i mod inner, in index order (the
      // batch in order for every output), float64 accumulators stored at the end
      const inner = g.inner
      const folds: string[] = []
      const stores: string[] = []
      g.reductions.forEach((e, ri) => {
        const oi = outs.length
        const table = reductionTables[e.prim.name] as (typeof reductionTables)[string]
        pre.push(`const o${oi} = O[${oi}];`, `const r${ri} = new Float64Array(${inner});`)
        folds.push(table.step(`r${ri}[j]`, localName.get((e.inputs[0] as Var).id) as string))
        stores.push(`o${oi}.set(r${ri});`)
        outs.push({ slot: slots.get(e.out.id) as number, v: e.out, scratch: scratchFor(e, inner) })
      })
      src =
        `"use strict";\n${pre.join('\n')}\nfor (let i = 0, j = 0; i < ${g.n}; i++) {\n${lines.join('\n')}\n` +
        `${folds.join('\n')}\nif (++j === ${inner}) j = 0;\n}\n${stores.join('\n')}`
      reduced += g.reductions.length
    }
    const fn = new Function('A', 'I', 'O', src) as (
      A: ReadonlyArray<Data>,
      I: ReadonlyArray<Int32Array>,
      O: ReadonlyArray<Data>,
    ) => void
    loops++
    steps.push({ kind: 'loop', fn, ins: A, idx: I, outs })
  })
  const nSlots = slots.size
  const scratchArrays = new Set<Data>()
  for (const st of steps)
    if (st.kind === 'loop') for (const o of st.outs) if (o.scratch !== null) scratchArrays.add(o.scratch)
  const inSlots = p.inputs.map((v) => [slots.get(v.id) as number, v] as const)
  const constSlots = p.consts.map((c) => [slots.get(c.v.id) as number, c.value as ConcreteTensor] as const)
  const outSlots = p.outputs.map((v) => slots.get(v.id) as number)
  const run = (xs: ReadonlyArray<ConcreteTensor | number>): ConcreteTensor[] => {
    const env: Array<ConcreteTensor | undefined> = new Array(nSlots)
    for (let i = 0; i < inSlots.length; i++) {
      const [s, v] = inSlots[i] as readonly [number, Var]
      env[s] = asConcrete(xs[i] as ConcreteTensor | number, v)
    }
    for (const [s, t] of constSlots) env[s] = t
    for (const st of steps) {
      if (st.kind === 'eqn') {
        env[st.out] = st.eqn.prim.impl(
          st.ins.map((s) => env[s] as ConcreteTensor),
          st.eqn.params,
        )
      } else {
        const arrays = st.ins.map((s) => dataOf(env[s] as ConcreteTensor))
        const outArrays = st.outs.map((o) => o.scratch ?? alloc(o.v.dtype, sizeOf(o.v.shape)))
        st.fn(arrays, st.idx, outArrays)
        st.outs.forEach((o, k) => (env[o.slot] = wrap(outArrays[k] as Data, o.v.shape)))
      }
    }
    // a user never sees a scratch array (say, a kernel that returned its input unchanged)
    return outSlots.map((s) => {
      const t = env[s] as ConcreteTensor
      return scratchArrays.has(dataOf(t)) ? wrap(dataOf(t).slice(), t.shape) : t
    })
  }
  return { run, mode: 'fused', fusedLoops: loops, fusedReductions: reduced }
}

// -------------------------------------------------------------------------------------
// entry
// -------------------------------------------------------------------------------------

/** Compile an optimized program. @internal */
export const compile = (p: Program, options: CompileOptions = {}): Executable => {
  if (p.capturesTracers || options.codegen === false || !canGenerate()) return interpret(p)
  if (isScalarProgram(p)) return p.eqns.length > STRAIGHT_LINE_LIMIT ? compileMachine(p) : compileScalar(p)
  return compileFused(p)
}
