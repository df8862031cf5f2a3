/**
 * WebAssembly SIMD elementwise and reduction kernels, behind the JS kernels' signatures
 * (src/kernels/elementwise.ts and reduce.ts call them above a size threshold): binary
 * add, sub, mul, div, maximum and minimum on the broadcasts models use (same shape, a scalar
 * on either side, a block broadcast [A, 1, C] onto [A, R, C] on either side: row vectors,
 * column vectors, a middle axis), with no index arrays; unary neg, abs, sqrt and relu; sum
 * and max along trailing axes (rows) and leading axes (columns).
 *
 * Semantics are the JS kernels', bit for bit: IEEE add, sub, mul, div and sqrt are correctly
 * rounded in both; neg and abs only touch the sign bit; maximum(x, y) is x > y ? x : y, NaN
 * when either is NaN, with the JS kernel's choice between −0 and +0 (a select on `x > y`, not
 * f64x2.max, which orders −0 below +0); relu(−0) = +0. Leading-axis sums and maxima keep the
 * JS kernel's order (each output element is accumulated over the leading index in order, in
 * float64 for float32 data as the JS kernel does), so they are bit-identical too. Trailing-axis
 * sums use two float64 lanes (four partial sums with the pairs), so they differ from the JS
 * kernel's one running sum by rounding only: both are within γₙ₋₁·Σ|x| of the exact sum
 * (test/kernels/wasm-elementwise.test.ts states the bound). Trailing-axis maxima are
 * exact, and a row whose maximum is zero is redone in JS to get its sign of zero right.
 *
 * How the loops avoid tails: the arena pads every region by 16 bytes, and a vector loop may
 * run past the end of a row into the next row (whose own pass, later, overwrites what it
 * wrote) or into the padding. Only the trailing reductions, which cannot add padding into a
 * sum, have a scalar tail.
 *
 * Memory: one private arena (a WebAssembly.Memory), as in gemm.ts: inputs copied in, the
 * result copied out into the output the caller just allocated; it grows to the largest call
 * up to `ELEMENTWISE_CAP_BYTES` (larger calls stay in JS) and holds no user value past a call.
 * Each op and dtype is its own small module (well under the 4 KiB a browser compiles
 * synchronously), compiled on first use.
 *
 * Thresholds (measured; bench/README.md, "kernel thresholds"): see `ELEMENTWISE_MIN` and
 * `REDUCE_MIN` in this file.
 *
 * Purity contract: inputs are read only; only the output array handed in (freshly allocated
 * by the caller) is written.
 */
import type { Data, DType } from '../../tensor/Tensor.js'
import type { FuncBuilder, Local, WasmMemory } from './emit.js'
import { ModuleBuilder, f64, i32, v128, wasmApi } from './emit.js'

// -------------------------------------------------------------------------------------
// the SIMD instructions this file needs beyond emit.ts's (opcodes after the 0xfd prefix)
// -------------------------------------------------------------------------------------

const simd = (f: FuncBuilder, sub: number): FuncBuilder => {
  f.raw(0xfd)
  let v = sub
  do {
    let byte = v & 0x7f
    v >>>= 7
    if (v !== 0) byte |= 0x80
    f.raw(byte)
  } while (v !== 0)
  return f
}
const OP = {
  float64: {
    add: 0xf0,
    sub: 0xf1,
    mul: 0xf2,
    div: 0xf3,
    abs: 0xec,
    neg: 0xed,
    sqrt: 0xef,
    ne: 0x48,
    lt: 0x49,
    gt: 0x4a,
  },
  float32: {
    add: 0xe4,
    sub: 0xe5,
    mul: 0xe6,
    div: 0xe7,
    abs: 0xe0,
    neg: 0xe1,
    sqrt: 0xe3,
    ne: 0x42,
    lt: 0x43,
    gt: 0x44,
  },
} as const
const V128_OR = 0x50
const V128_BITSELECT = 0x52
const LOAD64_ZERO = 0x5d
const PROMOTE_LOW = 0x5f

// -------------------------------------------------------------------------------------
// the ops
// -------------------------------------------------------------------------------------

/** The binary ops with a WebAssembly kernel. */
export type WasmBinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'
/** The unary ops with a WebAssembly kernel. */
export type WasmUnaryOp = 'neg' | 'abs' | 'sqrt' | 'relu'

/** Emit x ∘ y for the two vectors in locals x, y; leaves the result on the stack. */
const emitBinary = (f: FuncBuilder, dtype: DType, op: WasmBinaryOp, x: Local, y: Local): void => {
  const o = OP[dtype]
  if (op === 'maximum' || op === 'minimum') {
    // bitselect(x + y, r, NaN mask) with r = (x > y) ? x : y (minimum: x < y), the NaN mask
    // (x ≠ x) | (y ≠ y): the stack gets x + y, r, mask in that order
    f.get(x).get(y)
    simd(f, o.add)
    f.get(x).get(y).get(x).get(y)
    simd(f, op === 'maximum' ? o.gt : o.lt)
    simd(f, V128_BITSELECT)
    f.get(x).get(x)
    simd(f, o.ne)
    f.get(y).get(y)
    simd(f, o.ne)
    simd(f, V128_OR)
    simd(f, V128_BITSELECT)
    return
  }
  f.get(x).get(y)
  simd(f, o[op])
}

/** Emit op(x) for the vector in local x; leaves the result on the stack. */
const emitUnary = (f: FuncBuilder, dtype: DType, op: WasmUnaryOp, x: Local): void => {
  const o = OP[dtype]
  if (op === 'relu') {
    // (x > 0) | (x ≠ x) ? x : +0 — relu(NaN) = NaN, relu(−0) = +0, as the JS kernel
    f.get(x).v128Zero().get(x).v128Zero()
    simd(f, o.gt)
    f.get(x).get(x)
    simd(f, o.ne)
    simd(f, V128_OR)
    simd(f, V128_BITSELECT)
    return
  }
  f.get(x)
  simd(f, o[op])
}

// -------------------------------------------------------------------------------------
// modules
// -------------------------------------------------------------------------------------

const ES: Record<DType, number> = { float64: 8, float32: 4 }

/** The bytes of one binary op's module: export `run(mode, a, b, out, n, A, R, C)` (byte offsets). */
export const binaryModuleBytes = (dtype: DType, op: WasmBinaryOp): Uint8Array => {
  const es = ES[dtype]
  const mod = new ModuleBuilder({ min: 1, max: ELEMENTWISE_CAP_BYTES / 65536 })
  mod.func('run', [i32, i32, i32, i32, i32, i32, i32, i32], [], (f) => {
    const [mode, a, b, out, n, A, R, C] = Array.from({ length: 8 }, (_, i) => f.param(i)) as [
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
    ]
    const x = f.local(v128)
    const y = f.local(v128)
    const i = f.local(i32)
    const end = f.local(i32)
    const t = f.local(i32)
    const r = f.local(i32)
    const pa = f.local(i32)
    const pb = f.local(i32)
    const po = f.local(i32)
    const rowEnd = f.local(i32)
    const splat = (p: Local): FuncBuilder =>
      dtype === 'float64' ? f.get(p).v128Load64Splat() : f.get(p).v128Load32Splat()
    const res = f.local(v128)
    const store = (): void => {
      emitBinary(f, dtype, op, x, y)
      f.set(res)
      f.get(po).get(res).v128Store()
    }
    // one contiguous run: out[po..) = op(xs, ys) for `bytes` bytes, where each side is either a
    // vector load at its pointer (advancing) or a fixed splat already in x or y
    const run = (bytes: Local, aVec: boolean, bVec: boolean): void => {
      f.get(po).get(bytes).i32Add().set(rowEnd)
      f.block(() => {
        f.loop(() => {
          f.get(po).get(rowEnd).i32GeU().brIf(1)
          if (aVec) f.get(pa).v128Load().set(x)
          if (bVec) f.get(pb).v128Load().set(y)
          store()
          if (aVec) f.get(pa).i32Const(16).i32Add().set(pa)
          if (bVec) f.get(pb).i32Const(16).i32Add().set(pb)
          f.get(po).i32Const(16).i32Add().set(po)
          f.br(0)
        })
      })
    }
    f.get(a).set(pa)
    f.get(b).set(pb)
    f.get(out).set(po)
    f.get(n).i32Const(es).i32Mul().set(end)
    // mode 0: same shape
    f.get(mode)
      .i32Eqz()
      .if_(() => {
        run(end, true, true)
        f.return_()
      })
    // mode 1: b a scalar
    f.get(mode)
      .i32Const(1)
      .i32Eq()
      .if_(() => {
        splat(b).set(y)
        run(end, true, false)
        f.return_()
      })
    // mode 2: a a scalar
    f.get(mode)
      .i32Const(2)
      .i32Eq()
      .if_(() => {
        splat(a).set(x)
        run(end, false, true)
        f.return_()
      })
    // modes 4 (b is [A, 1, C]) and 5 (a is [A, 1, C]) onto [A, R, C]
    const block = (bcastIsB: boolean): void => {
      const full = bcastIsB ? pa : pb
      const bc = bcastIsB ? pb : pa
      const bcBase = bcastIsB ? b : a
      // C = 1 (a column vector): per a, one splat and one contiguous run of R
      f.get(C)
        .i32Const(1)
        .i32Eq()
        .if_(
          () => {
            f.get(R).i32Const(es).i32Mul().set(end)
            f.forRange(t, 0, A, 1, () => {
              f.get(bcBase).get(t).i32Const(es).i32Mul().i32Add().set(bc)
              splat(bc).set(bcastIsB ? y : x)
              run(end, bcastIsB, !bcastIsB)
              // `run` advanced the full operand by whole vectors; put it at the next a exactly
              f.get(bcastIsB ? a : b)
                .get(t)
                .i32Const(1)
                .i32Add()
                .get(R)
                .i32Mul()
                .i32Const(es)
                .i32Mul()
                .i32Add()
                .set(full)
              f.get(out).get(t).i32Const(1).i32Add().get(R).i32Mul().i32Const(es).i32Mul().i32Add().set(po)
            })
          },
          () => {
            // rows of C: per (a, r), a run of C against the broadcast row a
            f.get(C).i32Const(es).i32Mul().set(end)
            f.forRange(t, 0, A, 1, () => {
              f.forRange(r, 0, R, 1, () => {
                // row index q = t·R + r; full and out at q·C, the broadcast row at t·C
                f.get(t).get(R).i32Mul().get(r).i32Add().get(C).i32Mul().i32Const(es).i32Mul().set(i)
                f.get(bcastIsB ? a : b)
                  .get(i)
                  .i32Add()
                  .set(full)
                f.get(out).get(i).i32Add().set(po)
                f.get(bcBase).get(t).get(C).i32Mul().i32Const(es).i32Mul().i32Add().set(bc)
                run(end, true, true)
              })
            })
          },
        )
    }
    f.get(mode)
      .i32Const(4)
      .i32Eq()
      .if_(() => {
        block(true)
        f.return_()
      })
    block(false)
  })
  return mod.bytes()
}

/** The bytes of one unary op's module: export `run(x, out, n)` (byte offsets). */
export const unaryModuleBytes = (dtype: DType, op: WasmUnaryOp): Uint8Array => {
  const es = ES[dtype]
  const mod = new ModuleBuilder({ min: 1, max: ELEMENTWISE_CAP_BYTES / 65536 })
  mod.func('run', [i32, i32, i32], [], (f) => {
    const [xp, out, n] = [f.param(0), f.param(1), f.param(2)]
    const x = f.local(v128)
    const i = f.local(i32)
    const end = f.local(i32)
    f.get(n).i32Const(es).i32Mul().set(end)
    f.forRange(i, 0, end, 16, () => {
      f.get(xp).get(i).i32Add().v128Load().set(x)
      f.get(out).get(i).i32Add()
      emitUnary(f, dtype, op, x)
      f.v128Store()
    })
  })
  return mod.bytes()
}

/**
 * The bytes of one dtype's reduction module, over float64 accumulators (`acc`, 8 bytes per
 * output element; float32 data is widened, as the JS kernel sums in float64):
 * - `sumRows(x, acc, rows, inner)`: acc[o] = Σⱼ x[o·inner + j] (two float64 lanes, then a scalar tail);
 * - `sumCols(x, acc, outer, cols)`: acc[j] = Σ_b x[b·cols + j], in order of b;
 * - `maxRows(x, acc, rows, inner)` and `maxCols(x, acc, outer, cols)`: the same with
 *   m = (v > m or v ≠ v) ? v : m from −Infinity (float32 data is widened exactly).
 */
export const reduceModuleBytes = (dtype: DType): Uint8Array => {
  const es = ES[dtype]
  const o64 = OP.float64
  const mod = new ModuleBuilder({ min: 1, max: ELEMENTWISE_CAP_BYTES / 65536 })
  // push a float64x2 vector of two consecutive elements at address p
  const load2 = (f: FuncBuilder, p: Local): void => {
    f.get(p)
    if (dtype === 'float64') f.v128Load()
    else {
      simd(f, LOAD64_ZERO).raw(3, 0) // memarg: align 2³, offset 0
      simd(f, PROMOTE_LOW)
    }
  }
  const load1 = (f: FuncBuilder, p: Local): void => {
    f.get(p)
    if (dtype === 'float64') f.f64Load()
    else f.f32Load().raw(0xbb) // f64.promote_f32
  }
  const combine = (f: FuncBuilder, kind: 'sum' | 'max', m: Local, v: Local): void => {
    if (kind === 'sum') {
      f.get(m).get(v)
      simd(f, o64.add)
    } else {
      // (v > m) | (v ≠ v) ? v : m
      f.get(v).get(m).get(v).get(m)
      simd(f, o64.gt)
      f.get(v).get(v)
      simd(f, o64.ne)
      simd(f, V128_OR)
      simd(f, V128_BITSELECT)
    }
    f.set(m)
  }
  const init = (f: FuncBuilder, kind: 'sum' | 'max'): FuncBuilder =>
    kind === 'sum' ? f.v128Zero() : f.f64Const(-Infinity).f64x2Splat()
  for (const kind of ['sum', 'max'] as const) {
    mod.func(`${kind}Rows`, [i32, i32, i32, i32], [], (f) => {
      const [x, acc, rows, inner] = [f.param(0), f.param(1), f.param(2), f.param(3)]
      const row = f.local(i32)
      const p = f.local(i32)
      const pairEnd = f.local(i32)
      const end = f.local(i32)
      const m0 = f.local(v128)
      const m1 = f.local(v128)
      const v = f.local(v128)
      const s = f.local(f64)
      const w = f.local(f64)
      f.get(x).set(p)
      f.forRange(row, 0, rows, 1, () => {
        init(f, kind).set(m0)
        init(f, kind).set(m1)
        // end = p + inner·es; pairEnd = p + ⌊inner/4⌋·4·es
        f.get(p).get(inner).i32Const(es).i32Mul().i32Add().set(end)
        f.get(p).get(inner).i32Const(-4).i32And().i32Const(es).i32Mul().i32Add().set(pairEnd)
        f.block(() => {
          f.loop(() => {
            f.get(p).get(pairEnd).i32GeU().brIf(1)
            load2(f, p)
            f.set(v)
            combine(f, kind, m0, v)
            f.get(p)
              .i32Const(2 * es)
              .i32Add()
              .set(p)
            load2(f, p)
            f.set(v)
            combine(f, kind, m1, v)
            f.get(p)
              .i32Const(2 * es)
              .i32Add()
              .set(p)
            f.br(0)
          })
        })
        combine(f, kind, m0, m1)
        // s = m0[0] ∘ m0[1], then the tail one element at a time
        f.get(m0).f64x2ExtractLane(0).set(s)
        f.get(m0).f64x2ExtractLane(1).set(w)
        const scalar = (): void => {
          if (kind === 'sum') f.get(s).get(w).f64Add().set(s)
          else {
            // s = (w > s) | (w ≠ w) ? w : s
            f.get(w).get(s).get(w).get(s).raw(0x64) // f64.gt
            f.get(w).get(w).raw(0x62) // f64.ne
            f.i32Or().select().set(s)
          }
        }
        scalar()
        f.block(() => {
          f.loop(() => {
            f.get(p).get(end).i32GeU().brIf(1)
            load1(f, p)
            f.set(w)
            scalar()
            f.get(p).i32Const(es).i32Add().set(p)
            f.br(0)
          })
        })
        f.get(acc).get(row).i32Const(8).i32Mul().i32Add().get(s).f64Store()
      })
    })
    mod.func(`${kind}Cols`, [i32, i32, i32, i32], [], (f) => {
      const [x, acc, outer, cols] = [f.param(0), f.param(1), f.param(2), f.param(3)]
      const b = f.local(i32)
      const j = f.local(i32)
      const p = f.local(i32)
      const q = f.local(i32)
      const m = f.local(v128)
      const v = f.local(v128)
      // acc = init, then row by row: acc[j] ∘= x[b, j] (the loop over j runs one pair past an odd end, into padding)
      f.forRange(j, 0, cols, 2, () => {
        f.get(acc).get(j).i32Const(8).i32Mul().i32Add()
        init(f, kind).v128Store()
      })
      f.get(x).set(p)
      f.forRange(b, 0, outer, 1, () => {
        f.get(acc).set(q)
        f.forRange(j, 0, cols, 2, () => {
          f.get(q).v128Load().set(m)
          load2(f, p)
          f.set(v)
          combine(f, kind, m, v)
          f.get(q).get(m).v128Store()
          f.get(p)
            .i32Const(2 * es)
            .i32Add()
            .set(p)
          f.get(q).i32Const(16).i32Add().set(q)
        })
        // p ran past the row by whole pairs: set it to the next row exactly
        f.get(x).get(b).i32Const(1).i32Add().get(cols).i32Mul().i32Const(es).i32Mul().i32Add().set(p)
      })
    })
  }
  return mod.bytes()
}

// -------------------------------------------------------------------------------------
// the arena
// -------------------------------------------------------------------------------------

/** The arena never grows past this (64 MiB); larger calls stay in JS. */
export const ELEMENTWISE_CAP_BYTES = 64 * 1024 * 1024

type BinaryRun = (mode: number, a: number, b: number, out: number, n: number, A: number, R: number, C: number) => void
type UnaryRun = (x: number, out: number, n: number) => void
type ReduceRun = (x: number, acc: number, outer: number, inner: number) => void
interface ReduceExports {
  readonly sumRows: ReduceRun
  readonly sumCols: ReduceRun
  readonly maxRows: ReduceRun
  readonly maxCols: ReduceRun
}

let memory: WasmMemory | null = null
const instances = new Map<string, unknown>()
let unavailable = false

const instance = <T>(key: string, bytes: () => Uint8Array, need: number): T | null => {
  if (unavailable || need > ELEMENTWISE_CAP_BYTES) return null
  try {
    const W = wasmApi()
    if (W === undefined) throw new Error('no WebAssembly')
    if (memory === null) {
      memory = new W.Memory({
        initial: Math.ceil(Math.max(need, 1 << 20) / 65536),
        maximum: ELEMENTWISE_CAP_BYTES / 65536,
      })
    }
    const have = memory.buffer.byteLength
    if (have < need) memory.grow(Math.ceil((need - have) / 65536))
    let ex = instances.get(key)
    if (ex === undefined) {
      ex = new W.Instance(new W.Module(bytes()), { env: { memory } }).exports
      instances.set(key, ex)
    }
    return ex as T
  } catch {
    unavailable = true
    memory = null
    return null
  }
}

/** The arena's current size in bytes; for tests. */
export const elementwiseArenaBytes = (): number => (memory === null ? 0 : memory.buffer.byteLength)

const pad = (bytes: number): number => Math.ceil((bytes + 16) / 64) * 64
const viewOf = (dtype: DType): Data =>
  dtype === 'float64' ? new Float64Array(memory!.buffer) : new Float32Array(memory!.buffer)

// -------------------------------------------------------------------------------------
// drivers (the same arguments as the JS kernels; false when they decline)
// -------------------------------------------------------------------------------------

/**
 * out = a ∘ b under a broadcast plan of mode 0, 1, 2, 4 or 5 (src/kernels/elementwise.ts);
 * false (nothing written) when the call is not one it takes.
 */
export const binaryWasm = (
  op: WasmBinaryOp,
  dtype: DType,
  a: Data,
  b: Data,
  mode: number,
  A: number,
  R: number,
  C: number,
  out: Data,
): boolean => {
  const es = ES[dtype]
  const n = out.length
  const aOff = 0
  const bOff = pad(a.length * es)
  const oOff = bOff + pad(b.length * es)
  const ex = instance<{ run: BinaryRun }>(`${dtype}:${op}`, () => binaryModuleBytes(dtype, op), oOff + pad(n * es))
  if (ex === null) return false
  const view = viewOf(dtype)
  view.set(a, aOff / es)
  view.set(b, bOff / es)
  ex.run(mode, aOff, bOff, oOff, n, A, R, C)
  out.set(view.subarray(oOff / es, oOff / es + n))
  return true
}

/** out = op(x); false when declined. */
export const unaryWasm = (op: WasmUnaryOp, dtype: DType, x: Data, out: Data): boolean => {
  const es = ES[dtype]
  const n = out.length
  const oOff = pad(n * es)
  const ex = instance<{ run: UnaryRun }>(`${dtype}:${op}`, () => unaryModuleBytes(dtype, op), oOff + pad(n * es))
  if (ex === null) return false
  const view = viewOf(dtype)
  view.set(x, 0)
  ex.run(0, oOff, n)
  out.set(view.subarray(oOff / es, oOff / es + n))
  return true
}

/**
 * Sum or max of x viewed as [outer, inner] along `along` ('rows': over inner, giving outer
 * values; 'cols': over outer, giving inner values) into `out`; false when declined.
 */
export const reduceWasm = (
  kind: 'sum' | 'max',
  along: 'rows' | 'cols',
  dtype: DType,
  x: Data,
  outer: number,
  inner: number,
  out: Data,
): boolean => {
  const es = ES[dtype]
  const accOff = pad(x.length * es)
  const ex = instance<ReduceExports>(`${dtype}:reduce`, () => reduceModuleBytes(dtype), accOff + pad(out.length * 8))
  if (ex === null) return false
  viewOf(dtype).set(x, 0)
  const fn = kind === 'sum' ? (along === 'rows' ? ex.sumRows : ex.sumCols) : along === 'rows' ? ex.maxRows : ex.maxCols
  fn(0, accOff, outer, inner)
  const acc = new Float64Array(memory!.buffer, accOff, out.length)
  out.set(acc) // float32: one rounding of the float64 result, as the JS kernel stores it
  return true
}
