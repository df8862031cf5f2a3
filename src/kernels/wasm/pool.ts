/**
 * Every core: a pool of worker threads that share one WebAssembly memory with the calling
 * thread, and split a large matrix product between them. C is cut into bands (of columns when
 * C is at least as wide as it is tall, else of rows; at multiples of the register block; a few
 * per thread), and each thread, the caller included, claims bands one at a time from a shared
 * counter and runs the whole blocked product (`gemm` in src/kernels/wasm/gemm.ts) over each,
 * with private packing buffers. A worker that is slow to wake claims fewer bands, or none.
 * Every element of C is computed by one thread in the same summation order as on one thread,
 * so the result does not depend on the thread count (float64: bit-identical to the JS
 * reference kernel).
 *
 * Kernel calls are synchronous, and so is the fan-out: the caller writes the job into a shared
 * control array, wakes the workers with `Atomics.notify`, claims bands until none is left,
 * then blocks in `Atomics.wait` until every band has been counted done. Workers
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
 * on one thread, in the releasable arena of gemm.ts). It holds no reference to a user's tensor
 * past the call: inputs are copied in and the product copied out into a fresh array (the
 * bytes of the last product stay in the memory until the next product overwrites them).
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
 * thread: 2²³ ≈ 8.4·10⁶, between an n = 128 cube (2.1·10⁶) and an n = 256 cube (1.7·10⁷), so
 * the MLP 784-128-10's two large products (1.3·10⁷ each) use the pool. Measured on this
 * project's 2-core machine at load average 4 (bench/kernels.ts; bench/README.md, "kernel
 * thresholds"): two threads ran at 0.34–0.69× one thread's speed up to n = 96, 0.83–1.01× at
 * n = 128 and 1.28–1.65× from n = 256 up. Under heavy load (average 18) two threads lost up to
 * n = 256, since the second core was busy; `PUREDIFF_THREAD_MIN_FLOPS` sets the threshold.
 */
export const THREAD_MIN_FLOPS = 1 << 23

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
 * Ask for `n` threads (the caller counts as one; 1 turns the pool off, leaving its idle
 * workers for a later return). Workers of another size are stopped; new ones start at the
 * next large product. Returns the count in use.
 */
export const setThreadCount = (n: number): number => {
  const t = parseThreads(n, 'setThreads')
  if (pool !== null && pool.size !== t && t > 1) stopPool() // 1 leaves the pool idle, for a later return
  requested = t
  return threadCount()
}

// -------------------------------------------------------------------------------------
// the pool
// -------------------------------------------------------------------------------------

// The control words, in one shared Int32Array. A job: the caller writes the job words, zeroes
// NEXT and DONE, bumps SEQ (−1 stops the workers) and wakes every worker. Then each
// participant, the caller included, claims band after band with Atomics.add on NEXT until
// none is left, and counts each finished band in DONE; the caller waits until DONE = BANDS.
// A worker that the OS has not scheduled yet simply claims nothing: on a loaded machine the
// caller does its bands, and the product never waits for a thread that has not started.
const SEQ = 0
const NEXT = 1
const DONE = 2
const FAILED = 3 // SEQ of a job in which some band threw
const DTYPE = 4 // 0 float64, 1 float32
const BANDS = 5
const UNITS = 6 // register blocks along the split side
const UNIT = 7 // elements per register block (MR or NR)
const LIMIT = 8 // m or n: the split side's length
const BY_COLS = 9 // 1: bands of columns; 0: bands of rows
const SCRATCH = 10 // bytes of packing scratch per participant
const CS_B = 11 // byte step of one column of op(B) (bands of columns move b by it)
const ES_ = 12 // bytes per element
const ARGS = 13 // the 19 arguments of `gemm` for the whole product, scratch of participant 0
const READY = ARGS + 19 // one word per worker: 1 once it has started
const WORDS = READY + 256

// One participant's loop over bands (the worker's copy of `claimBands` below, in plain JS).
const bandLoop = `
const claim = (ctl, slot, run) => {
  const seq = Atomics.load(ctl, ${SEQ})
  let ran = 0
  for (;;) {
    const t = Atomics.add(ctl, ${NEXT}, 1)
    const bands = ctl[${BANDS}]
    if (t >= bands) return ran
    ran++
    try {
      const units = ctl[${UNITS}], unit = ctl[${UNIT}], limit = ctl[${LIMIT}]
      const lo = Math.floor((t * units) / bands) * unit
      const hi = Math.min(Math.floor(((t + 1) * units) / bands) * unit, limit)
      const a = []
      for (let i = 0; i < 19; i++) a.push(ctl[${ARGS} + i])
      const es = ctl[${ES_}]
      if (ctl[${BY_COLS}] === 1) { a[1] += lo * ctl[${CS_B}]; a[2] += lo * es; a[9] = hi - lo }
      else { a[0] += lo * a[3]; a[2] += lo * a[14]; a[7] = hi - lo }
      a[12] += slot * ctl[${SCRATCH}]; a[13] += slot * ctl[${SCRATCH}]
      run[ctl[${DTYPE}]](...a)
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, seq)
    }
    Atomics.add(ctl, ${DONE}, 1)
    Atomics.notify(ctl, ${DONE})
  }
}
`

// The worker: instantiate both dtypes' modules over the shared memory, say ready, then claim
// bands at every wake-up. Plain JS, evaluated by node:worker_threads (no file to resolve).
const workerSource = `
const { workerData: d } = require('node:worker_threads')
const ctl = new Int32Array(d.control)
const run = d.modules.map((bytes) =>
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: d.memory } }).exports.gemm)
${bandLoop}
Atomics.store(ctl, ${READY} + d.slot - 1, 1)
Atomics.notify(ctl, ${READY} + d.slot - 1)
let seq = 0
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seq)
  seq = Atomics.load(ctl, ${SEQ})
  if (seq < 0) break
  claim(ctl, d.slot, run)
}
`

type Run = (...a: GemmArgs) => void
// the caller's copy of the worker's loop (the same source, so the two cannot drift apart)
const claimBands = new Function(`"use strict"; ${bandLoop}; return claim`)() as (
  ctl: Int32Array,
  slot: number,
  run: ReadonlyArray<Run>,
) => number

interface Pool {
  readonly size: number
  readonly memory: WasmMemory
  readonly control: Int32Array
  readonly workers: NodeWorker[]
  readonly run: ReadonlyArray<Run>
  seq: number
}

let pool: Pool | null = null
let workerBands = 0

/** Internal, for tests: how many bands workers (not the caller) have computed so far. */
export const workerJobs = (): number => workerBands

const stopPool = (): void => {
  if (pool === null) return
  const p = pool
  pool = null
  Atomics.store(p.control, SEQ, -1)
  Atomics.notify(p.control, SEQ)
  for (const w of p.workers) void w.terminate()
}

/** How long the first threaded product waits for the workers to start (they usually take 30–100 ms). */
const START_TIMEOUT_MS = 2000

const startPool = (size: number): Pool => {
  const W = wasmApi()!
  const wt = workerThreads()!
  const memory = new W.Memory({ initial: 16, maximum: POOL_CAP_BYTES / 65536, shared: true })
  const control = new Int32Array(new SharedArrayBuffer(WORDS * 4))
  const bytes = [gemmModuleBytes('float64', true), gemmModuleBytes('float32', true)]
  const run = bytes.map((b) => (new W.Instance(new W.Module(b), { env: { memory } }).exports as { gemm: Run }).gemm)
  const workers: NodeWorker[] = []
  for (let slot = 1; slot < size; slot++) {
    const worker = new wt.Worker(workerSource, {
      eval: true,
      workerData: { control: control.buffer, slot, memory, modules: bytes },
    })
    worker.unref()
    workers.push(worker)
  }
  // The workers start on their own threads; wait (once, briefly) for them to say they are
  // ready. One that is late is no harm: it claims bands once it runs.
  const deadline = Date.now() + START_TIMEOUT_MS
  for (let w = 0; w < workers.length; w++) {
    while (Atomics.load(control, READY + w) !== 1) {
      const left = deadline - Date.now()
      if (left <= 0) break
      Atomics.wait(control, READY + w, 0, left)
    }
  }
  return { size, memory, control, workers, run, seq: 0 }
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
 * when there is no pool, the product does not fit the shared memory, it is too narrow to
 * split, or a band failed (the caller then runs it on one thread).
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
  // split the wider side of C, in whole register blocks; a few bands per thread (each band
  // repacks the other operand, so a band keeps at least 4 register blocks)
  const byCols = n >= m
  const unit = byCols ? nr : mr
  const units = Math.ceil((byCols ? n : m) / unit)
  const bands = Math.min(units, 4 * threads, Math.max(threads, Math.floor(units / 4)))
  if (bands <= 1) return null
  if (pool === null || pool.size !== threads) {
    stopPool()
    pool = startPool(threads)
  }
  const p = pool
  const ctl = p.control
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
  const need = aBytes + bBytes + cBytes + threads * (apBytes + bpBytes)
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
  const args: GemmArgs = [
    aOff,
    bOff,
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
    scratch,
    scratch + apBytes,
    ldc * es,
    batch,
    m * k * es,
    k * n * es,
    cItem,
  ]
  for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i]!
  ctl[DTYPE] = dtype === 'float64' ? 0 : 1
  ctl[BANDS] = bands
  ctl[UNITS] = units
  ctl[UNIT] = unit
  ctl[LIMIT] = byCols ? n : m
  ctl[BY_COLS] = byCols ? 1 : 0
  ctl[SCRATCH] = apBytes + bpBytes
  ctl[CS_B] = csB
  ctl[ES_] = es
  Atomics.store(ctl, DONE, 0)
  Atomics.store(ctl, NEXT, 0)
  const seq = (p.seq = (p.seq + 1) & 0x3fffffff || 1)
  Atomics.store(ctl, SEQ, seq)
  Atomics.notify(ctl, SEQ)
  const mine = claimBands(ctl, 0, p.run)
  for (;;) {
    const d = Atomics.load(ctl, DONE)
    if (d >= bands) break
    Atomics.wait(ctl, DONE, d)
  }
  workerBands += bands - mine
  if (Atomics.load(ctl, FAILED) === seq) {
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
