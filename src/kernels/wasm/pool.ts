/**
 * Every core: a pool of worker threads that share one WebAssembly memory with the calling
 * thread, and split a large matrix product between them. Each thread (the caller included)
 * runs the whole blocked product (`gemm` in src/kernels/wasm/gemm.ts) over its own band of C:
 * a band of columns when C is at least as wide as it is tall, else a band of rows, cut at
 * multiples of the register block, with private packing buffers. Every element of C is
 * computed by one thread in the same summation order as on one thread, so the result does not
 * depend on the thread count (float64: bit-identical to the JS reference kernel).
 *
 * Kernel calls are synchronous, and so is the fan-out: the caller writes each worker's
 * arguments into a shared control array, wakes it with `Atomics.notify`, computes its own
 * band, then blocks in `Atomics.wait` until every worker has stored its done flag. Workers
 * block in `Atomics.wait` between products. This needs `Atomics.wait` on the calling thread,
 * which Node allows on its main thread and browsers forbid on theirs; so the pool exists where
 * `node:worker_threads` does (`process.getBuiltinModule`, Node ≥ 20.16), SharedArrayBuffer and
 * shared WebAssembly memory exist, and everywhere else (a browser, a Deno without the Node
 * API) the products run on the calling thread. A browser page could run purediff inside a
 * Web Worker with a pool of nested workers; that is not built yet.
 *
 * Sizes: `setThreads(n)` or `PUREDIFF_THREADS` sets the thread count (the caller counts as
 * one), default `os.availableParallelism()`. A product of fewer than `THREAD_MIN_FLOPS`
 * multiply-adds stays on the calling thread (`PUREDIFF_THREAD_MIN_FLOPS` overrides it): the
 * wake-up and wait round trip costs tens of microseconds (bench/README.md, "kernel
 * thresholds").
 *
 * Lifetime: workers are `unref`ed and block in `Atomics.wait`, so they never keep a Node
 * process alive: the process exits when the user's work ends, as without the pool. The shared
 * memory grows to the largest threaded product, up to `POOL_CAP_BYTES` (larger products run
 * on one thread, in the releasable arena of gemm.ts); it never holds a user's value past the
 * call (inputs are copied in, the product copied out into a fresh array).
 *
 * Purity contract: inputs are read only; the returned array is new and filled once. Module
 * state is the pool itself, which no tensor can see.
 */
import type { Data, DType } from '../../tensor/Tensor.js'
import { alloc } from '../../tensor/Tensor.js'
import { PurediffError } from '../../errors.js'
import type { GemmArgs } from './gemm.js'
import { gemmGeometry, gemmModuleBytes } from './gemm.js'
import type { WasmMemory } from './emit.js'
import { wasmApi } from './emit.js'

// -------------------------------------------------------------------------------------
// the environment
// -------------------------------------------------------------------------------------

interface NodeWorker {
  unref(): void
  terminate(): Promise<number>
}
interface WorkerThreads {
  readonly Worker: new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker
}
interface NodeProcess {
  readonly env?: Record<string, string | undefined>
  getBuiltinModule?: (id: string) => unknown
}
const proc = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process
const env = (name: string): string | undefined => proc()?.env?.[name]

/** node:worker_threads where the engine has it and lets this thread block, else undefined. */
const workerThreads = (): WorkerThreads | undefined => {
  const p = proc()
  if (typeof p?.getBuiltinModule !== 'function') return undefined
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return undefined
  try {
    return p.getBuiltinModule('node:worker_threads') as WorkerThreads
  } catch {
    return undefined
  }
}

/** The engine's count of cores this process may use (1 where it cannot say). */
const availableParallelism = (): number => {
  try {
    const os = proc()?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined
    const n = os?.availableParallelism?.()
    if (typeof n === 'number' && n >= 1) return n
  } catch {
    // fall through
  }
  const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency
  return typeof hc === 'number' && hc >= 1 ? hc : 1
}

// -------------------------------------------------------------------------------------
// settings
// -------------------------------------------------------------------------------------

/**
 * Products of fewer multiply-adds (m·k·n summed over the batch) than this stay on the calling
 * thread. Measured on this project's machine (bench/README.md, "kernel thresholds").
 */
export const THREAD_MIN_FLOPS = 1 << 21

/** The shared memory never grows past this (128 MiB); larger products run on one thread. */
export const POOL_CAP_BYTES = 128 * 1024 * 1024

let requested: number | null = null
let minFlops: number | null = null

const parseThreads = (v: unknown, where: string): number => {
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 256)
    throw new PurediffError(
      'ValueError',
      `expected a whole number of threads from 1 to 256, got ${JSON.stringify(v)}`,
      {
        op: where,
      },
    )
  return n
}

/** The thread count asked for: `setThreads`, else `PUREDIFF_THREADS`, else every core. */
const requestedThreads = (): number => {
  if (requested === null) {
    const v = env('PUREDIFF_THREADS')
    requested = v === undefined || v === '' ? availableParallelism() : parseThreads(v, 'PUREDIFF_THREADS')
  }
  return requested
}

/** The threshold in force (the environment may override it). */
export const threadMinFlops = (): number => {
  if (minFlops === null) {
    const v = env('PUREDIFF_THREAD_MIN_FLOPS')
    const x = v === undefined || v === '' ? NaN : Number(v)
    minFlops = Number.isFinite(x) && x >= 0 ? x : THREAD_MIN_FLOPS
  }
  return minFlops
}

let supported: boolean | null = null
const poolSupported = (): boolean =>
  (supported ??= workerThreads() !== undefined && wasmApi() !== undefined && sharedMemoryWorks())

const sharedMemoryWorks = (): boolean => {
  try {
    const W = wasmApi()!
    new W.Memory({ initial: 1, maximum: 1, shared: true })
    return true
  } catch {
    return false
  }
}

/** Threads in use for large products: the count asked for where a pool can run, else 1. */
export const threadCount = (): number => (poolSupported() ? requestedThreads() : 1)

/**
 * Ask for `n` threads (the caller counts as one; 1 turns the pool off). Workers of an earlier
 * size are stopped; new ones start at the next large product. Returns the count in use.
 */
export const setThreadCount = (n: number): number => {
  const t = parseThreads(n, 'setThreads')
  if (pool !== null && pool.size !== t) stopPool()
  requested = t
  return threadCount()
}

// -------------------------------------------------------------------------------------
// the pool
// -------------------------------------------------------------------------------------

// Control words per worker, in a shared Int32Array: SEQ (bumped by the caller to start a
// job; −1 stops the worker), DONE (the worker stores SEQ here when finished; −1 = ready,
// 0 = starting), FAILED (SEQ of a job that threw), DTYPE (0 float64, 1 float32), then the 19
// arguments of `gemm`.
const SLOT = 32
const SEQ = 0
const DONE = 1
const FAILED = 2
const DTYPE = 3
const ARGS = 4
const READY = -1

// The worker: instantiate both dtypes' modules over the shared memory, say ready, then run
// one `gemm` per wake-up. Plain JS, evaluated by node:worker_threads (no file to resolve).
const workerSource = `
const { workerData: d } = require('node:worker_threads')
const ctl = new Int32Array(d.control)
const base = d.slot * ${SLOT}
const run = d.modules.map((bytes) =>
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: d.memory } }).exports.gemm)
Atomics.store(ctl, base + ${DONE}, ${READY})
Atomics.notify(ctl, base + ${DONE})
let seq = 0
for (;;) {
  Atomics.wait(ctl, base + ${SEQ}, seq)
  seq = Atomics.load(ctl, base + ${SEQ})
  if (seq < 0) break
  try {
    const args = []
    for (let i = 0; i < 19; i++) args.push(ctl[base + ${ARGS} + i])
    run[ctl[base + ${DTYPE}]](...args)
  } catch (e) {
    Atomics.store(ctl, base + ${FAILED}, seq)
  }
  Atomics.store(ctl, base + ${DONE}, seq)
  Atomics.notify(ctl, base + ${DONE})
}
`

interface Pool {
  readonly size: number
  readonly memory: WasmMemory
  readonly control: Int32Array
  readonly workers: NodeWorker[]
  readonly run: { float64: (...a: GemmArgs) => void; float32: (...a: GemmArgs) => void }
  seq: number
}

let pool: Pool | null = null
let jobs = 0

/** Internal, for tests: how many bands workers have computed so far. */
export const workerJobs = (): number => jobs

const stopPool = (): void => {
  if (pool === null) return
  const p = pool
  pool = null
  for (let w = 0; w < p.workers.length; w++) {
    Atomics.store(p.control, w * SLOT + SEQ, -1)
    Atomics.notify(p.control, w * SLOT + SEQ)
    void p.workers[w]!.terminate()
  }
}

/** How long the first threaded product waits for the workers to start (they usually take 30–100 ms). */
const START_TIMEOUT_MS = 5000

const startPool = (size: number): Pool => {
  const W = wasmApi()!
  const wt = workerThreads()!
  const memory = new W.Memory({ initial: 16, maximum: POOL_CAP_BYTES / 65536, shared: true })
  const control = new Int32Array(new SharedArrayBuffer(Math.max(1, size - 1) * SLOT * 4))
  const bytes = [gemmModuleBytes('float64', true), gemmModuleBytes('float32', true)]
  const inst = bytes.map(
    (b) => new W.Instance(new W.Module(b), { env: { memory } }).exports as { gemm: (...a: GemmArgs) => void },
  )
  const workers: NodeWorker[] = []
  for (let w = 0; w < size - 1; w++) {
    const worker = new wt.Worker(workerSource, {
      eval: true,
      workerData: { control: control.buffer, slot: w, memory, modules: bytes },
    })
    worker.unref()
    workers.push(worker)
  }
  // The workers start on their own threads; wait (once) until each has said it is ready.
  const deadline = Date.now() + START_TIMEOUT_MS
  for (let w = 0; w < workers.length; w++) {
    while (Atomics.load(control, w * SLOT + DONE) !== READY) {
      const left = deadline - Date.now()
      if (left <= 0) break
      Atomics.wait(control, w * SLOT + DONE, 0, left)
    }
  }
  return { size, memory, control, workers, run: { float64: inst[0]!.gemm, float32: inst[1]!.gemm }, seq: 0 }
}

// -------------------------------------------------------------------------------------
// the threaded product
// -------------------------------------------------------------------------------------

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m
const align = (x: number): number => roundUp(x, 64)

/** Whether a product of `work` multiply-adds is split between threads. */
export const useThreads = (work: number): boolean => work >= threadMinFlops() && threadCount() > 1

/**
 * C[b] = op(A[b]) · op(B[b]) split across the pool (the same contract as `gemmWasm`); `null`
 * when there is no pool, the product does not fit the shared memory, or it is too narrow to
 * split (the caller then runs it on one thread).
 */
export const gemmThreaded = (
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
  const threads = threadCount()
  if (threads <= 1 || batch * m * n === 0 || k === 0) return null
  const g = gemmGeometry(dtype)
  const { es, mr, nr } = g
  // split the wider side of C, in whole register blocks
  const byCols = n >= m
  const unit = byCols ? nr : mr
  const units = Math.ceil((byCols ? n : m) / unit)
  const parts = Math.min(threads, units)
  if (parts <= 1) return null
  if (pool === null || pool.size !== threads) {
    stopPool()
    pool = startPool(threads)
  }
  const p = pool
  const kc = Math.ceil(k / Math.ceil(k / g.kc))
  const mPad = roundUp(m, mr)
  const nPad = roundUp(n, nr)
  const ldc = (nPad * es) % 1024 === 0 ? nPad + 64 / es : nPad
  const mcMax = Math.min(g.mc, mPad)
  const aBytes = align(batch * m * k * es)
  const bBytes = align(batch * k * n * es)
  const cItem = mPad * ldc * es
  const cBytes = align(batch * cItem)
  const apBytes = align(mcMax * kc * es)
  const bpBytes = align(kc * nPad * es)
  const need = aBytes + bBytes + cBytes + parts * (apBytes + bpBytes)
  if (need > POOL_CAP_BYTES) return null
  const have = p.memory.buffer.byteLength
  if (have < need) p.memory.grow(Math.ceil((need - have) / 65536))
  const aOff = 0
  const bOff = aBytes
  const cOff = bOff + bBytes
  const scratch = cOff + cBytes
  const view = dtype === 'float64' ? new Float64Array(p.memory.buffer) : new Float32Array(p.memory.buffer)
  view.set(a.subarray(0, batch * m * k), aOff / es)
  view.set(b.subarray(0, batch * k * n), bOff / es)
  const [rsA, csA] = transA ? [es, m * es] : [k * es, es]
  const [rsB, csB] = transB ? [es, k * es] : [n * es, es]
  // band t covers units [lo, hi) of the split side
  const argsOf = (t: number): GemmArgs => {
    const lo = Math.floor((t * units) / parts) * unit
    const hi = Math.min(Math.floor(((t + 1) * units) / parts) * unit, byCols ? n : m)
    const ap = scratch + t * (apBytes + bpBytes)
    const bp = ap + apBytes
    return byCols
      ? [
          aOff,
          bOff + lo * csB,
          cOff + lo * es,
          rsA,
          csA,
          rsB,
          csB,
          m,
          k,
          hi - lo,
          kc,
          mcMax,
          ap,
          bp,
          ldc * es,
          batch,
          m * k * es,
          k * n * es,
          cItem,
        ]
      : [
          aOff + lo * rsA,
          bOff,
          cOff + lo * ldc * es,
          rsA,
          csA,
          rsB,
          csB,
          hi - lo,
          k,
          n,
          kc,
          mcMax,
          ap,
          bp,
          ldc * es,
          batch,
          m * k * es,
          k * n * es,
          cItem,
        ]
  }
  const seq = (p.seq = (p.seq + 1) & 0x3fffffff || 1)
  // hand bands 1.. to the workers that are ready; the caller takes band 0 and any band whose worker is not
  const mine: number[] = [0]
  const sent: number[] = []
  for (let t = 1; t < parts; t++) {
    const w = t - 1
    const base = w * SLOT
    // every job sent earlier has finished (each call waits for its own), so a worker is idle
    // unless it has not started yet (DONE = 0)
    if (Atomics.load(p.control, base + DONE) === 0) {
      mine.push(t)
      continue
    }
    const args = argsOf(t)
    p.control[base + DTYPE] = dtype === 'float64' ? 0 : 1
    for (let i = 0; i < args.length; i++) p.control[base + ARGS + i] = args[i]!
    Atomics.store(p.control, base + SEQ, seq)
    Atomics.notify(p.control, base + SEQ)
    sent.push(w)
    jobs++
  }
  const run = p.run[dtype]
  for (const t of mine) run(...argsOf(t))
  let failed = false
  for (const w of sent) {
    const base = w * SLOT
    for (;;) {
      const d = Atomics.load(p.control, base + DONE)
      if (d === seq) break
      Atomics.wait(p.control, base + DONE, d)
    }
    if (Atomics.load(p.control, base + FAILED) === seq) failed = true
  }
  if (failed) {
    stopPool()
    return null
  }
  const out = alloc(dtype, batch * m * n)
  for (let t = 0; t < batch; t++) {
    const c0 = (cOff + t * cItem) / es
    const o = t * m * n
    if (ldc === n) out.set(view.subarray(c0, c0 + m * n), o)
    else for (let i = 0; i < m; i++) out.set(view.subarray(c0 + i * ldc, c0 + i * ldc + n), o + i * n)
  }
  return out
}
