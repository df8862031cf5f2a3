/**
 * Elementwise kernels: unary maps, NumPy-broadcasting binary maps and a three-way select.
 * Each kernel is a plain loop over typed arrays with no AD, no validation (the op layer
 * validates) and no per-element closure: the loops are specialised once, at module load,
 * from a one-line scalar expression, so every kernel gets its own monomorphic loop that the
 * JIT compiles like hand-written code.
 *
 * Above `ELEMENTWISE_MIN` output elements (`wasmMinElements()`), add, sub, mul, div, maximum,
 * minimum, neg, abs, sqrt and relu run the WebAssembly SIMD kernels of
 * src/kernels/wasm/elementwise.ts on every broadcast but the index-array one (mode 3), with
 * the same results bit for bit; the JS loops here stay the reference (`jsReference`) and the
 * fallback. Transcendental functions (exp, log, tanh, sigmoid, ...) stay in JS: WebAssembly
 * has no instruction for them (see the README's performance section).
 *
 * Purity contract ("local mutation, global purity"): a kernel writes only into the output
 * array it is handed, which its caller has just allocated; inputs are never written.
 */
import type { Data, DType, Shape } from '../tensor/Tensor.js'
import { sizeOf, stridesOf } from '../tensor/Tensor.js'
import { wasmMinElements } from './backend.js'
import type { WasmBinaryOp, WasmUnaryOp } from './wasm/elementwise.js'
import { binaryWasm, unaryWasm } from './wasm/elementwise.js'

// -------------------------------------------------------------------------------------
// broadcasting plans
// -------------------------------------------------------------------------------------

/**
 * How two operands map onto the output.
 * - mode 0: same shapes; 1: second is a scalar; 2: first is a scalar;
 * - mode 4: first has the output's shape, second is a block broadcast: viewing the output as
 *   [A, R, C], the second is [A, 1, C] (a row vector: A = 1; a column vector: C = 1; a
 *   middle axis: both), read at a·C + c with no index array;
 * - mode 5: the same with the operands' roles swapped;
 * - mode 3: anything else, through index arrays (cached per shape triple).
 */
export interface BroadcastPlan {
  readonly mode: 0 | 1 | 2 | 3 | 4 | 5
  readonly ai: Int32Array | null
  readonly bi: Int32Array | null
  readonly A: number
  readonly R: number
  readonly C: number
}

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * For every output position, the flat index of the input element broadcast onto it;
 * `null` when the input already has the output's shape.
 */
export const broadcastIndex = (inShape: Shape, outShape: Shape): Int32Array | null => {
  const n = sizeOf(outShape)
  if (sameShape(inShape, outShape)) return null
  const idx = new Int32Array(n)
  if (sizeOf(inShape) === 1) return idx
  const r = outShape.length
  const off = r - inShape.length
  const inStrides = stridesOf(inShape)
  // stride of each output axis in the input (0 on broadcast axes)
  const st = new Array<number>(r).fill(0)
  for (let ax = 0; ax < inShape.length; ax++) st[ax + off] = inShape[ax] === 1 ? 0 : (inStrides[ax] as number)
  return stridedIndex(outShape, st, idx)
}

/**
 * The flat positions a walk over `outShape` in row-major order reads, where output axis `ax`
 * steps `st[ax]` elements in the input (0 on a broadcast axis, a permuted stride for a
 * transpose), written into `idx` (a fresh array of `sizeOf(outShape)` entries by default).
 */
export const stridedIndex = (
  outShape: Shape,
  st: ReadonlyArray<number>,
  idx: Int32Array = new Int32Array(sizeOf(outShape)),
): Int32Array => {
  const r = outShape.length
  const counter = new Array<number>(r).fill(0)
  let pos = 0
  for (let i = 0; i < idx.length; i++) {
    idx[i] = pos
    for (let ax = r - 1; ax >= 0; ax--) {
      counter[ax]!++
      pos += st[ax] as number
      if ((counter[ax] as number) < (outShape[ax] as number)) break
      pos -= (st[ax] as number) * (counter[ax] as number)
      counter[ax] = 0
    }
  }
  return idx
}

/**
 * [A, R, C] when `inShape` broadcasts onto `outShape` by repeating along one contiguous run
 * of axes (output = [A, R, C], input = [A, 1, C]); null otherwise.
 */
export const blockBroadcast = (inShape: Shape, outShape: Shape): readonly [number, number, number] | null => {
  const r = outShape.length
  const off = r - inShape.length
  let first = -1
  let last = -1
  for (let ax = 0; ax < r; ax++) {
    const o = outShape[ax] as number
    const d = ax < off ? 1 : (inShape[ax - off] as number)
    if (d === o) continue
    if (first >= 0 && last !== ax - 1) return null // a second run of broadcast axes
    if (first < 0) first = ax
    last = ax
  }
  if (first < 0) return [1, 1, sizeOf(outShape)]
  return [sizeOf(outShape.slice(0, first)), sizeOf(outShape.slice(first, last + 1)), sizeOf(outShape.slice(last + 1))]
}

// index-array plans, cached per shape triple (bounded: cleared when full)
const planCache = new Map<string, BroadcastPlan>()
const PLAN_CACHE_SIZE = 64

/** Plan a binary broadcast onto `outShape`. */
export const planBinary = (aShape: Shape, bShape: Shape, outShape: Shape): BroadcastPlan => {
  const aFull = sameShape(aShape, outShape)
  const bFull = sameShape(bShape, outShape)
  const plan = (mode: BroadcastPlan['mode'], blk: readonly [number, number, number] = [1, 1, 1]): BroadcastPlan => ({
    mode,
    ai: null,
    bi: null,
    A: blk[0],
    R: blk[1],
    C: blk[2],
  })
  if (aFull && bFull) return plan(0)
  if (aFull && sizeOf(bShape) === 1) return plan(1)
  if (bFull && sizeOf(aShape) === 1) return plan(2)
  if (aFull) {
    const blk = blockBroadcast(bShape, outShape)
    if (blk !== null) return plan(4, blk)
  }
  if (bFull) {
    const blk = blockBroadcast(aShape, outShape)
    if (blk !== null) return plan(5, blk)
  }
  const key = `${aShape.join(',')}|${bShape.join(',')}|${outShape.join(',')}`
  const hit = planCache.get(key)
  if (hit !== undefined) return hit
  const n = sizeOf(outShape)
  const p: BroadcastPlan = {
    mode: 3,
    ai: broadcastIndex(aShape, outShape) ?? identity(n),
    bi: broadcastIndex(bShape, outShape) ?? identity(n),
    A: 1,
    R: 1,
    C: 1,
  }
  if (planCache.size >= PLAN_CACHE_SIZE) planCache.clear()
  planCache.set(key, p)
  return p
}

const identity = (n: number): Int32Array => {
  const r = new Int32Array(n)
  for (let i = 0; i < n; i++) r[i] = i
  return r
}

// -------------------------------------------------------------------------------------
// kernel specialisation
// -------------------------------------------------------------------------------------

/** A unary map over arrays, with the same map over one number (`scalar`: the eager rank-0 path). */
export type UnaryKernel = ((x: Data, out: Data) => void) & { readonly scalar?: (x: number) => number }
/** A broadcasting binary map over arrays, with the same map over two numbers. */
export type BinaryKernel = ((a: Data, b: Data, plan: BroadcastPlan, out: Data) => void) & {
  readonly scalar?: (x: number, y: number) => number
}

// The scalar helpers the expressions may use, bound once per kernel (not per element).
const helpers = { sigmoid: (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))) }

// Each kernel carries its expression as a function of numbers too, for rank-0 operands: the
// same expression, so the value is the array kernel's bit for bit (float32 results are
// rounded by the caller, as a Float32Array store rounds).
const unaryScalar = (name: string, expr: string): ((x: number) => number) =>
  new Function('h', `"use strict"; const sigmoid = h.sigmoid; return function ${name}Scalar(x) { return ${expr}; }`)(
    helpers,
  ) as (x: number) => number
const binaryScalar = (name: string, expr: string): ((x: number, y: number) => number) =>
  new Function(`"use strict"; return function ${name}Scalar(x, y) { return ${expr}; }`)() as (
    x: number,
    y: number,
  ) => number

const unary = (name: string, expr: string): UnaryKernel => withScalar(unaryKernel(name, expr), unaryScalar(name, expr))
const binary = (name: string, expr: string): BinaryKernel =>
  withScalar(binaryKernel(name, expr), binaryScalar(name, expr))
const withScalar = <K extends object, S>(k: K, scalar: S): K & { readonly scalar: S } =>
  Object.freeze(Object.assign(k, { scalar }))

const unaryKernel = (name: string, expr: string): UnaryKernel =>
  new Function(
    'h',
    `"use strict"; const sigmoid = h.sigmoid;
     return function ${name}Kernel(xs, out) {
       const n = out.length;
       for (let i = 0; i < n; i++) { const x = xs[i]; out[i] = ${expr}; }
     }
     //# sourceURL=purediff/kernels/${name}`,
  )(helpers) as UnaryKernel

const binaryKernel = (name: string, expr: string): BinaryKernel =>
  new Function(
    `"use strict";
     return function ${name}Kernel(as, bs, p, out) {
       const n = out.length;
       switch (p.mode) {
         case 0: for (let i = 0; i < n; i++) { const x = as[i], y = bs[i]; out[i] = ${expr}; } return;
         case 1: { const y = bs[0]; for (let i = 0; i < n; i++) { const x = as[i]; out[i] = ${expr}; } return; }
         case 2: { const x = as[0]; for (let i = 0; i < n; i++) { const y = bs[i]; out[i] = ${expr}; } return; }
         case 4: { const A = p.A, R = p.R, C = p.C; let i = 0;
           for (let a = 0; a < A; a++) { const o = a * C;
             for (let r = 0; r < R; r++) for (let c = 0; c < C; c++, i++) { const x = as[i], y = bs[o + c]; out[i] = ${expr}; } }
           return; }
         case 5: { const A = p.A, R = p.R, C = p.C; let i = 0;
           for (let a = 0; a < A; a++) { const o = a * C;
             for (let r = 0; r < R; r++) for (let c = 0; c < C; c++, i++) { const x = as[o + c], y = bs[i]; out[i] = ${expr}; } }
           return; }
         default: { const ai = p.ai, bi = p.bi;
           for (let i = 0; i < n; i++) { const x = as[ai[i]], y = bs[bi[i]]; out[i] = ${expr}; } }
       }
     }
     //# sourceURL=purediff/kernels/${name}`,
  )() as BinaryKernel

const dtypeOf = (out: Data): DType => (out instanceof Float64Array ? 'float64' : 'float32')
const sameKind = (x: Data, y: Data): boolean => x.constructor === y.constructor

/** The JS reference kernels of the ops that also have a WebAssembly kernel. */
export const jsReference: {
  readonly unary: Record<WasmUnaryOp, UnaryKernel>
  readonly binary: Record<WasmBinaryOp, BinaryKernel>
} = {
  unary: {
    neg: unary('neg', '-x'),
    abs: unary('abs', 'Math.abs(x)'),
    sqrt: unary('sqrt', 'Math.sqrt(x)'),
    // NOTE relu(NaN) is NaN, as in NumPy's maximum(x, 0).
    relu: unary('relu', 'x > 0 ? x : (x === x ? 0 : x)'),
  },
  binary: {
    add: binary('add', 'x + y'),
    sub: binary('sub', 'x - y'),
    mul: binary('mul', 'x * y'),
    div: binary('div', 'x / y'),
    // NaN propagates through maximum/minimum, as in NumPy.
    maximum: binary('maximum', 'x > y ? x : (x <= y ? y : x + y)'),
    minimum: binary('minimum', 'x < y ? x : (x >= y ? y : x + y)'),
  },
}

const withWasmUnary = (op: WasmUnaryOp): UnaryKernel => {
  const js = jsReference.unary[op]
  const k: UnaryKernel = (xs, out) => {
    if (out.length >= wasmMinElements() && sameKind(xs, out) && unaryWasm(op, dtypeOf(out), xs, out)) return
    js(xs, out)
  }
  // the number form is the JS reference's (rank 0 never reaches WebAssembly)
  return withScalar(k, js.scalar as (x: number) => number)
}
const withWasmBinary = (op: WasmBinaryOp): BinaryKernel => {
  const js = jsReference.binary[op]
  const k: BinaryKernel = (as, bs, p, out) => {
    if (
      p.mode !== 3 &&
      out.length >= wasmMinElements() &&
      sameKind(as, out) &&
      sameKind(bs, out) &&
      binaryWasm(op, dtypeOf(out), as, bs, p.mode, p.A, p.R, p.C, out)
    )
      return
    js(as, bs, p, out)
  }
  return withScalar(k, js.scalar as (x: number, y: number) => number)
}

// -------------------------------------------------------------------------------------
// unary kernels
// -------------------------------------------------------------------------------------

export const negKernel = withWasmUnary('neg')
export const expKernel = unary('exp', 'Math.exp(x)')
export const logKernel = unary('log', 'Math.log(x)')
export const sinKernel = unary('sin', 'Math.sin(x)')
export const cosKernel = unary('cos', 'Math.cos(x)')
export const tanKernel = unary('tan', 'Math.tan(x)')
export const tanhKernel = unary('tanh', 'Math.tanh(x)')
export const sigmoidKernel = unary('sigmoid', 'sigmoid(x)')
export const reluKernel = withWasmUnary('relu')
export const absKernel = withWasmUnary('abs')
export const sqrtKernel = withWasmUnary('sqrt')
export const log1pKernel = unary('log1p', 'Math.log1p(x)')
export const expm1Kernel = unary('expm1', 'Math.expm1(x)')
// NOTE sign(0) = 0 and sign(-0) = 0; sign(NaN) = NaN.
export const signKernel = unary('sign', 'x > 0 ? 1 : x < 0 ? -1 : (x === x ? 0 : x)')
export const floorKernel = unary('floor', 'Math.floor(x)')
export const ceilKernel = unary('ceil', 'Math.ceil(x)')
export const roundKernel = unary('round', 'Math.round(x)')
export const isFiniteKernel = unary('isFinite', 'Number.isFinite(x) ? 1 : 0')
export const copyKernel = unary('copy', 'x')

// -------------------------------------------------------------------------------------
// binary kernels
// -------------------------------------------------------------------------------------

export const addKernel = withWasmBinary('add')
export const subKernel = withWasmBinary('sub')
export const mulKernel = withWasmBinary('mul')
export const divKernel = withWasmBinary('div')
export const powKernel = binary('pow', 'Math.pow(x, y)')
export const maximumKernel = withWasmBinary('maximum')
export const minimumKernel = withWasmBinary('minimum')
// x · y, but 0 wherever x is 0 even if y is ±inf or NaN: how cotangents meet partials.
export const mulNoNanKernel = binary('mulNoNan', 'x === 0 || y === 0 ? 0 : x * y')
export const greaterKernel = binary('greater', 'x > y ? 1 : 0')
export const greaterEqualKernel = binary('greaterEqual', 'x >= y ? 1 : 0')
export const lessKernel = binary('less', 'x < y ? 1 : 0')
export const lessEqualKernel = binary('lessEqual', 'x <= y ? 1 : 0')
export const equalKernel = binary('equal', 'x === y ? 1 : 0')
export const notEqualKernel = binary('notEqual', 'x !== y ? 1 : 0')
export const atan2Kernel = binary('atan2', 'Math.atan2(x, y)')
// x / y, but 0 wherever x is 0 (even 0 / 0).
export const divNoNanKernel = binary('divNoNan', 'x === 0 ? 0 : x / y')

// -------------------------------------------------------------------------------------
// select
// -------------------------------------------------------------------------------------

// index arrays of where's general broadcasts, cached per shape pair (bounded: cleared when
// full), so a model that selects with the same shapes every step builds them once
const indexCache = new Map<string, Int32Array | null>()
const cachedIndex = (inShape: Shape, outShape: Shape): Int32Array | null => {
  const key = `${inShape.join(',')}|${outShape.join(',')}`
  const hit = indexCache.get(key)
  if (hit !== undefined) return hit
  const idx = broadcastIndex(inShape, outShape)
  if (idx !== null && idx.length > 1 << 18) return idx // a large one is not kept (1 MiB at most per entry)
  if (indexCache.size >= PLAN_CACHE_SIZE) indexCache.clear()
  indexCache.set(key, idx)
  return idx
}

/** out = cond ≠ 0 ? a : b, each operand broadcast onto `outShape`. */
export const whereKernel = (
  c: Data,
  cShape: Shape,
  a: Data,
  aShape: Shape,
  b: Data,
  bShape: Shape,
  outShape: Shape,
  out: Data,
): void => {
  const n = out.length
  const cFull = sameShape(cShape, outShape)
  const aFull = sameShape(aShape, outShape)
  const bFull = sameShape(bShape, outShape)
  // every operand full or a scalar (relu's rules: where(x > 0, ȳ, 0)): strides 1 or 0, no index arrays
  if ((cFull || c.length === 1) && (aFull || a.length === 1) && (bFull || b.length === 1)) {
    const cs = cFull ? 1 : 0
    const as = aFull ? 1 : 0
    const bs = bFull ? 1 : 0
    for (let i = 0; i < n; i++) out[i] = c[i * cs] !== 0 ? (a[i * as] as number) : (b[i * bs] as number)
    return
  }
  const ci = cachedIndex(cShape, outShape)
  const ai = cachedIndex(aShape, outShape)
  const bi = cachedIndex(bShape, outShape)
  for (let i = 0; i < n; i++) {
    const cv = c[ci === null ? i : (ci[i] as number)] as number
    out[i] =
      cv !== 0 ? (a[ai === null ? i : (ai[i] as number)] as number) : (b[bi === null ? i : (bi[i] as number)] as number)
  }
}
