/**
 * WebAssembly SIMD matrix product, C = op(A) · op(B) with op = identity or transpose, in
 * float64 (f64x2 lanes) or float32 (f32x4 lanes, computed in float32). The structure is the
 * classic packed GEMM (Goto and van de Geijn, "Anatomy of high-performance matrix
 * multiplication", 2008): k is cut into blocks of KC, m into blocks of MC; each block of B is
 * packed into panels of NR columns and each block of A into panels of MR rows (zero-padded at
 * the edges, so the micro-kernel never tests a bound), and an MR × NR block of C lives in
 * SIMD registers while k runs. Packing reads through (row, column) strides, so the
 * transposed operands Aᵀ and Bᵀ cost nothing extra.
 *
 * Summation order: every C[i, j] is ((0 + a₀b₀) + a₁b₁) + … in p = 0, 1, …, k−1, one rounding
 * per product and per sum (WebAssembly never fuses a multiply-add), exactly the order of the
 * JS reference kernel. A later k-block reloads C into the accumulators, so blocking does not
 * change the order: the float64 kernel agrees with the JS reference bit for bit.
 *
 * Memory: a private arena (one WebAssembly.Memory). A call copies its operands in, computes
 * and copies the product out into a freshly allocated array; no tensor is referenced after
 * the call. The arena grows to the largest call up to `ARENA_CAP_BYTES` and is dropped (left
 * to the garbage collector) after any call that needed more than `ARENA_KEEP_BYTES`; a
 * product that does not fit the cap is done one batch item at a time, or left to the JS
 * kernel (`null`).
 *
 * Purity contract: inputs are read only; the returned array is new and filled once.
 */
import type { Data, DType } from '../../tensor/Tensor.js'
import { alloc } from '../../tensor/Tensor.js'
import type { FuncBuilder, Local, WasmMemory } from './emit.js'
import { ModuleBuilder, i32, v128, wasmApi } from './emit.js'

// -------------------------------------------------------------------------------------
// blocking parameters
// -------------------------------------------------------------------------------------

interface Geometry {
  readonly es: number // bytes per element
  readonly lanes: number
  readonly mr: number // rows of the register block
  readonly nrv: number // vectors per row of the register block
  readonly nr: number // columns of the register block = nrv · lanes
  readonly kc: number
  readonly mc: number
}

const geometries: Record<DType, Geometry> = {
  float64: { es: 8, lanes: 2, mr: 4, nrv: 2, nr: 4, kc: 256, mc: 64 },
  float32: { es: 4, lanes: 4, mr: 4, nrv: 2, nr: 8, kc: 256, mc: 64 },
}
const geometry = (dtype: DType): Geometry => geometries[dtype]
/** Internal: a dtype's blocking (the worker pool splits C at multiples of its register block). */
export const gemmGeometry = geometry

/** Internal, for tuning in bench/: replace a dtype's blocking (the module is rebuilt). */
export const retuneGemm = (dtype: DType, g: { mr: number; nrv: number; kc: number; mc: number }): void => {
  const lanes = dtype === 'float64' ? 2 : 4
  geometries[dtype] = { es: 16 / lanes, lanes, ...g, nr: g.nrv * lanes }
  delete compiled[dtype]
  arena = null
}

// -------------------------------------------------------------------------------------
// code generation
// -------------------------------------------------------------------------------------

/** Steps of k per trip of the micro-kernel's main loop (a power of two). */
const UNROLL = 1

/**
 * Emit the three functions of one dtype: `packA`, `packB` and `macro` (all register blocks of
 * one packed A block against one packed B block).
 */
const emitGemm = (mod: ModuleBuilder, dtype: DType, prefix: string): void => {
  const g = geometry(dtype)
  const { es, mr, nr, nrv } = g
  const f64 = dtype === 'float64'
  const load = (f: FuncBuilder): FuncBuilder => (f64 ? f.f64Load() : f.f32Load())
  const store = (f: FuncBuilder): FuncBuilder => (f64 ? f.f64Store() : f.f32Store())
  const zero = (f: FuncBuilder): FuncBuilder => (f64 ? f.f64Const(0) : f.f32Const(0))

  // pack(src, rs, cs, count, kc, dst): `count` lines (rows of A, or columns of B) of `kc`
  // elements each; line t, element p is at src + t·rs + p·cs (bytes). Output: panels of
  // `w` lines, dst[(panel·kc + p)·w + t mod w]; lines past `count` are zeros.
  const emitPack = (fname: string, w: number): void => {
    mod.func(fname, [i32, i32, i32, i32, i32, i32], [], (f) => {
      const [src, rs, cs, count, kc, dst] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i)) as [
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
      ]
      const t0 = f.local(i32)
      const s = f.local(i32)
      const d = f.local(i32)
      const p = f.local(i32)
      f.forRange(t0, 0, count, w, () => {
        for (let t = 0; t < w; t++) {
          // d = dst + (t0·kc + t)·es
          f.get(dst).get(t0).get(kc).i32Mul().i32Const(t).i32Add().i32Const(es).i32Mul().i32Add().set(d)
          f.get(t0).i32Const(t).i32Add().get(count).i32LtS()
          f.if_(
            () => {
              f.get(src).get(t0).i32Const(t).i32Add().get(rs).i32Mul().i32Add().set(s)
              f.forRange(p, 0, kc, 1, () => {
                f.get(d)
                load(f.get(s))
                store(f)
                f.get(s).get(cs).i32Add().set(s)
                f.get(d)
                  .i32Const(w * es)
                  .i32Add()
                  .set(d)
              })
            },
            () => {
              f.forRange(p, 0, kc, 1, () => {
                zero(f.get(d))
                store(f)
                f.get(d)
                  .i32Const(w * es)
                  .i32Add()
                  .set(d)
              })
            },
          )
        }
      })
    })
  }
  emitPack(`${prefix}packA`, mr)
  emitPack(`${prefix}packB`, nr)

  // macro(ap, bp, c, mc, nc, kc, ldc, first): for every MR×NR block of the mc×nc block of C
  // at c (row stride ldc bytes), C_block = (first ? 0 : C_block) + Apanel · Bpanel over kc.
  mod.func(`${prefix}macro`, [i32, i32, i32, i32, i32, i32, i32, i32], [], (f) => {
    const [ap, bp, c, mc, nc, kc, ldc, first] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => f.param(i)) as Local[] as [
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
      Local,
    ]
    const jr = f.local(i32)
    const ir = f.local(i32)
    const pa = f.local(i32)
    const pb = f.local(i32)
    const pend = f.local(i32)
    const pend4 = f.local(i32)
    const cx = f.local(i32)
    const acc: Local[][] = Array.from({ length: mr }, () => Array.from({ length: nrv }, () => f.local(v128)))
    const bv: Local[] = Array.from({ length: nrv }, () => f.local(v128))
    const av = f.local(v128)
    const add = (): FuncBuilder => (f64 ? f.f64x2Add() : f.f32x4Add())
    const mul = (): FuncBuilder => (f64 ? f.f64x2Mul() : f.f32x4Mul())
    f.forRange(jr, 0, nc, nr, () => {
      f.forRange(ir, 0, mc, mr, () => {
        // cx = c + ir·ldc + jr·es
        f.get(c).get(ir).get(ldc).i32Mul().i32Add().get(jr).i32Const(es).i32Mul().i32Add().set(cx)
        // accumulators: zero on the first k-block, else the partial sums so far
        f.get(first).if_(
          () => {
            for (const row of acc) for (const a of row) f.v128Zero().set(a)
          },
          () => {
            for (let r = 0; r < mr; r++) {
              for (let v = 0; v < nrv; v++) {
                f.get(cx)
                if (r > 0) f.get(ldc).i32Const(r).i32Mul().i32Add()
                f.v128Load({ offset: v * 16 }).set(acc[r]![v]!)
              }
            }
          },
        )
        // pa = ap + ir·kc·es ; pb = bp + jr·kc·es ; pend = pa + kc·mr·es
        f.get(ap).get(ir).get(kc).i32Mul().i32Const(es).i32Mul().i32Add().set(pa)
        f.get(bp).get(jr).get(kc).i32Mul().i32Const(es).i32Mul().i32Add().set(pb)
        f.get(pa)
          .get(kc)
          .i32Const(mr * es)
          .i32Mul()
          .i32Add()
          .set(pend)
        // one step of k at immediate offset u (in steps) from pa, pb
        const step = (u: number): void => {
          for (let v = 0; v < nrv; v++)
            f.get(pb)
              .v128Load({ offset: u * nr * es + v * 16 })
              .set(bv[v]!)
          for (let r = 0; r < mr; r++) {
            f.get(pa)
            if (f64) f.v128Load64Splat({ offset: (u * mr + r) * es })
            else f.v128Load32Splat({ offset: (u * mr + r) * es })
            f.set(av)
            for (let v = 0; v < nrv; v++) {
              f.get(acc[r]![v]!).get(av).get(bv[v]!)
              mul()
              add()
              f.set(acc[r]![v]!)
            }
          }
        }
        const advance = (steps: number): void => {
          f.get(pa)
            .i32Const(steps * mr * es)
            .i32Add()
            .set(pa)
          f.get(pb)
            .i32Const(steps * nr * es)
            .i32Add()
            .set(pb)
        }
        // UNROLL steps per trip while they fit (pend4 = pa + ⌊kc/UNROLL⌋·UNROLL steps), then single steps
        f.get(pa)
          .get(kc)
          .i32Const(-UNROLL)
          .i32And()
          .i32Const(mr * es)
          .i32Mul()
          .i32Add()
          .set(pend4)
        f.get(pa)
          .get(pend4)
          .i32LtU()
          .if_(() => {
            f.loop(() => {
              for (let u = 0; u < UNROLL; u++) step(u)
              advance(UNROLL)
              f.get(pa).get(pend4).i32LtU().brIf(0)
            })
          })
        f.block(() => {
          f.loop(() => {
            f.get(pa).get(pend).i32GeU().brIf(1)
            step(0)
            advance(1)
            f.br(0)
          })
        })
        for (let r = 0; r < mr; r++) {
          for (let v = 0; v < nrv; v++) {
            f.get(cx)
            if (r > 0) f.get(ldc).i32Const(r).i32Mul().i32Add()
            f.get(acc[r]![v]!).v128Store({ offset: v * 16 })
          }
        }
      })
    })
  })
}

/** Index of each function in a gemm module (the order `emitGemm` adds them). */
const PACK_A = 0
const PACK_B = 1
const MACRO = 2

/**
 * Emit `gemm`, the whole blocked product of one operand pair in one call (the loops of
 * `gemmWasm` below, in WebAssembly), so that a worker thread runs its share of a product with
 * one call and needs no JS driver of its own:
 *
 * gemm(a, b, c, rsA, csA, rsB, csB, m, k, n, kc, mc, ap, bp, ldc, items, sa, sb, sc): for
 * each of `items` operand pairs (a, b and c advance by sa, sb and sc bytes), for each k-block
 * of `kc`, pack the k-block of op(B) (n columns) into `bp`, and for each block of `mc` rows
 * pack op(A) into `ap` and run `macro` into C at c (row stride ldc bytes). Rows and columns
 * of C are written up to the next multiple of MR and NR (the packed padding): a caller that
 * splits C between threads splits it at multiples of MR rows or NR columns.
 */
const emitDriver = (mod: ModuleBuilder, dtype: DType): void => {
  const { mr, nr } = geometry(dtype)
  mod.func(
    'gemm',
    Array.from({ length: 19 }, () => i32),
    [],
    (f) => {
      const [a, b, c, rsA, csA, rsB, csB, m, k, n, kc, mc, ap, bp, ldc, items, sa, sb, sc] = Array.from(
        { length: 19 },
        (_, i) => f.param(i),
      ) as [
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
        Local,
      ]
      const t = f.local(i32)
      const pc = f.local(i32)
      const ic = f.local(i32)
      const kb = f.local(i32)
      const mb = f.local(i32)
      const nPad = f.local(i32)
      const call = (index: number): FuncBuilder => f.raw(0x10, index)
      // min(x, y) of two i32 values already pushed: x y (x < y) select
      const min = (x: () => void, y: () => void): void => {
        x()
        y()
        x()
        y()
        f.i32LtS().select()
      }
      // roundUp(v, w) = ((v + w − 1) / w)·w (i32.div_u)
      const roundUpTo = (v: Local, w: number): FuncBuilder =>
        f
          .get(v)
          .i32Const(w - 1)
          .i32Add()
          .i32Const(w)
          .raw(0x6e)
          .i32Const(w)
          .i32Mul()
      roundUpTo(n, nr).set(nPad)
      f.forRange(t, 0, items, 1, () => {
        f.forRange(pc, 0, k, 0, () => {
          // (forRange's step is added below: kc is a parameter, not a constant)
          min(
            () => void f.get(kc),
            () => void f.get(k).get(pc).i32Sub(),
          )
          f.set(kb)
          // packB(b + pc·rsB, csB, rsB, n, kb, bp): the lines of B are its columns
          f.get(b).get(pc).get(rsB).i32Mul().i32Add().get(csB).get(rsB).get(n).get(kb).get(bp)
          call(PACK_B)
          f.forRange(ic, 0, m, 0, () => {
            min(
              () => void f.get(mc),
              () => void f.get(m).get(ic).i32Sub(),
            )
            f.set(mb)
            // packA(a + ic·rsA + pc·csA, rsA, csA, mb, kb, ap)
            f.get(a).get(ic).get(rsA).i32Mul().i32Add().get(pc).get(csA).i32Mul().i32Add()
            f.get(rsA).get(csA).get(mb).get(kb).get(ap)
            call(PACK_A)
            // macro(ap, bp, c + ic·ldc, roundUp(mb, MR), roundUp(n, NR), kb, ldc, pc = 0)
            f.get(ap).get(bp).get(c).get(ic).get(ldc).i32Mul().i32Add()
            roundUpTo(mb, mr)
            f.get(nPad).get(kb).get(ldc).get(pc).i32Eqz()
            call(MACRO)
            f.get(ic).get(mc).i32Add().set(ic)
          })
          f.get(pc).get(kc).i32Add().set(pc)
        })
        f.get(a).get(sa).i32Add().set(a)
        f.get(b).get(sb).i32Add().set(b)
        f.get(c).get(sc).i32Add().set(c)
      })
    },
  )
}

/**
 * One dtype's module: `packA`, `packB`, `macro` and `gemm` over an imported memory, shared
 * (for the worker pool, src/kernels/wasm/pool.ts) or not. One module per dtype keeps each
 * under 4 KiB, the largest module a browser compiles synchronously on its main thread.
 */
export const gemmModuleBytes = (dtype: DType, shared = false): Uint8Array => {
  const mod = new ModuleBuilder({ min: 1, max: ARENA_CAP_BYTES / 65536, shared })
  emitGemm(mod, dtype, '')
  emitDriver(mod, dtype)
  return mod.bytes()
}

// -------------------------------------------------------------------------------------
// the arena
// -------------------------------------------------------------------------------------

/** The arena never grows past this (256 MiB). */
export const ARENA_CAP_BYTES = 256 * 1024 * 1024
/** After a call that needed more than this (64 MiB), the arena is released. */
export const ARENA_KEEP_BYTES = 64 * 1024 * 1024

type Pack = (src: number, rs: number, cs: number, count: number, kc: number, dst: number) => void
type Macro = (ap: number, bp: number, c: number, mc: number, nc: number, kc: number, ldc: number, first: number) => void
/** The arguments of the `gemm` export, in order (see `emitDriver`). */
export type GemmArgs = [
  a: number,
  b: number,
  c: number,
  rsA: number,
  csA: number,
  rsB: number,
  csB: number,
  m: number,
  k: number,
  n: number,
  kc: number,
  mc: number,
  ap: number,
  bp: number,
  ldc: number,
  items: number,
  sa: number,
  sb: number,
  sc: number,
]
interface Exports {
  readonly packA: Pack
  readonly packB: Pack
  readonly macro: Macro
  readonly gemm: (...args: GemmArgs) => void
}
interface Arena {
  readonly memory: WasmMemory
  /** each dtype's instance over `memory`, made on first use */
  readonly ex: { float64?: Exports; float32?: Exports }
}

const compiled: { float64?: object; float32?: object } = {}
let arena: Arena | null = null
/** Set when the engine refused to compile or instantiate: every product then stays in JS. */
let unavailable = false

/** An arena of at least `bytes` bytes with `dtype`'s functions. */
const arenaOf = (bytes: number, dtype: DType): { memory: WasmMemory; ex: Exports } => {
  const W = wasmApi()
  if (W === undefined) throw new Error('gemm: no WebAssembly in this engine')
  if (arena === null) {
    arena = {
      memory: new W.Memory({ initial: Math.ceil(Math.max(bytes, 1 << 20) / 65536), maximum: ARENA_CAP_BYTES / 65536 }),
      ex: {},
    }
  }
  const have = arena.memory.buffer.byteLength
  if (have < bytes) arena.memory.grow(Math.ceil((bytes - have) / 65536))
  let ex = arena.ex[dtype]
  if (ex === undefined) {
    const module = (compiled[dtype] ??= new W.Module(gemmModuleBytes(dtype)))
    ex = new W.Instance(module, { env: { memory: arena.memory } }).exports as Exports
    arena.ex[dtype] = ex
  }
  return { memory: arena.memory, ex }
}

/** The arena's current size in bytes (0 when released); for tests. */
export const arenaBytes = (): number => (arena === null ? 0 : arena.memory.buffer.byteLength)

// -------------------------------------------------------------------------------------
// the driver
// -------------------------------------------------------------------------------------

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m
const align = (x: number): number => roundUp(x, 64)

/**
 * C[b] = op(A[b]) · op(B[b]) for b < batch, op(A): m×k, op(B): k×n, row-major. With
 * `transA`, A[b] is stored k×m; with `transB`, B[b] is stored n×k. Returns `null` when the
 * product does not fit the arena (the caller then uses the JS kernel).
 */
export const gemmWasm = (
  a: Data,
  b: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
  transA = false,
  transB = false,
): Data | null => {
  const out = alloc(dtype, batch * m * n)
  if (out.length === 0 || k === 0) return out
  const g = geometry(dtype)
  const { es, mr, nr } = g
  // k-blocks of equal size (784 = 4 × 196, not 3 × 256 + 16: a short last block pays C's reload for little work)
  const kc = Math.ceil(k / Math.ceil(k / g.kc))
  const mPad = roundUp(m, mr)
  const nPad = roundUp(n, nr)
  // C's row stride in the arena: nPad, plus a cache line where rows would sit a multiple of
  // 1 KiB apart (the rows of a register block would then share L1 sets: 4K aliasing)
  const ldc = (nPad * es) % 1024 === 0 ? nPad + 64 / es : nPad
  const mcMax = Math.min(g.mc, mPad)
  const fixed = align(mcMax * kc * es) + align(kc * nPad * es) + align(mPad * ldc * es)
  const perItem = align(m * k * es) + align(k * n * es)
  // all batch items at once when they fit, else one at a time
  const chunk = fixed + batch * perItem <= ARENA_CAP_BYTES ? batch : fixed + perItem <= ARENA_CAP_BYTES ? 1 : 0
  if (chunk === 0) return null
  const need = fixed + chunk * perItem
  if (unavailable) return null
  let ar: { memory: WasmMemory; ex: Exports }
  try {
    ar = arenaOf(need, dtype)
  } catch {
    // no WebAssembly, a refused compile (a browser's main-thread size limit, a CSP) or no
    // memory to grow into: the JS kernel does this product and every later one
    unavailable = true
    arena = null
    return null
  }
  const { ex } = ar
  const aOff = 0
  const bOff = align(chunk * m * k * es)
  const apOff = bOff + align(chunk * k * n * es)
  const bpOff = apOff + align(mcMax * kc * es)
  const cOff = bpOff + align(kc * nPad * es)
  const view = dtype === 'float64' ? new Float64Array(ar.memory.buffer) : new Float32Array(ar.memory.buffer)
  // strides in bytes of op(A) (rows i, columns p) and op(B) (rows p, columns j)
  const [rsA, csA] = transA ? [es, m * es] : [k * es, es]
  const [rsB, csB] = transB ? [es, k * es] : [n * es, es]
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const items = Math.min(chunk, batch - b0)
    view.set(a.subarray(b0 * m * k, (b0 + items) * m * k), aOff / es)
    view.set(b.subarray(b0 * k * n, (b0 + items) * k * n), bOff / es)
    for (let t = 0; t < items; t++) {
      ex.gemm(
        aOff + t * m * k * es,
        bOff + t * k * n * es,
        cOff,
        rsA,
        csA,
        rsB,
        csB,
        m,
        k,
        n,
        kc,
        mcMax,
        apOff,
        bpOff,
        ldc * es,
        1,
        0,
        0,
        0,
      )
      const o = (b0 + t) * m * n
      const c0 = cOff / es
      if (ldc === n) out.set(view.subarray(c0, c0 + m * n), o)
      else for (let i = 0; i < m; i++) out.set(view.subarray(c0 + i * ldc, c0 + i * ldc + n), o + i * n)
    }
  }
  if (need > ARENA_KEEP_BYTES) arena = null
  return out
}
