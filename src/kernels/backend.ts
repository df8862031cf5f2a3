/**
 * Which kernels run: the WebAssembly SIMD kernels (`'wasm'`) where the engine supports them,
 * else the plain JS reference kernels (`'js'`). The choice is made once, lazily, from the
 * engine's capabilities and the environment variable `PUREDIFF_BACKEND` (`js`, `wasm` or
 * `auto`), and can be changed by `setBackend`. Results never depend on the choice beyond
 * rounding (float64 matmul is bit-identical; see src/kernels/wasm/gemm.ts).
 *
 * The thread count of large products (`threads`, `setThreads`, `PUREDIFF_THREADS`) is the
 * worker pool's (src/kernels/wasm/pool.ts).
 *
 * `PUREDIFF_WASM_MIN_FLOPS` overrides the measured size threshold below which a product
 * stays in JS (the copy into the arena costs more than it saves there); the test suite sets
 * it to 0 to run every product through WebAssembly.
 *
 * Purity contract: module state is this one setting; no tensor is touched.
 */
import { PurediffError } from '../errors.js'
import { simdSupported } from './wasm/emit.js'
import { setThreadCount, threadCount } from './wasm/pool.js'

/** The kernels a computation runs on. */
export type BackendName = 'wasm' | 'js'

let simd: boolean | null = null
let forced: BackendName | 'auto' | null = null
let minFlops: number | null = null

const env = (name: string): string | undefined => {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return p?.env?.[name]
}

const parse = (v: string, where: string): BackendName | 'auto' => {
  if (v === 'js' || v === 'wasm' || v === 'auto') return v
  throw new PurediffError('ValueError', `unknown backend ${JSON.stringify(v)}; expected 'js', 'wasm' or 'auto'`, {
    op: where,
  })
}

const wasmAvailable = (): boolean => (simd ??= simdSupported())

/**
 * The kernels in use: `'wasm'` (WebAssembly SIMD) or `'js'`.
 *
 * @example
 * const b = backend() // 'wasm' on Node ≥ 20, unless PUREDIFF_BACKEND=js
 * b === 'wasm' || b === 'js' // true
 * @category kernels
 * @since 0.2.0
 */
export const backend = (): BackendName => {
  if (forced === null) {
    const v = env('PUREDIFF_BACKEND')
    forced = v === undefined || v === '' ? 'auto' : parse(v, 'PUREDIFF_BACKEND')
  }
  if (forced === 'js') return 'js'
  return wasmAvailable() ? 'wasm' : 'js'
}

/**
 * Force the JS kernels (`'js'`), prefer WebAssembly (`'wasm'`, which still falls back to JS
 * where the engine lacks SIMD) or return to the default (`'auto'`). Returns the kernels now
 * in use.
 *
 * @example
 * setBackend('js') // 'js'
 * setBackend('auto')
 * @category kernels
 * @since 0.2.0
 */
export const setBackend = (name: BackendName | 'auto'): BackendName => {
  forced = parse(name as string, 'setBackend')
  return backend()
}

/**
 * Products of fewer multiply-adds (m·k·n per batch item, summed over the batch) than this
 * stay in JS. Measured on this project's machine (bench/README.md, "kernel thresholds").
 */
export const WASM_MIN_FLOPS = 1024

/** The threshold in force (the environment may override it). */
export const wasmMinFlops = (): number => {
  if (minFlops === null) {
    const v = env('PUREDIFF_WASM_MIN_FLOPS')
    const x = v === undefined || v === '' ? NaN : Number(v)
    minFlops = Number.isFinite(x) && x >= 0 ? x : WASM_MIN_FLOPS
  }
  return minFlops
}

/**
 * Elementwise ops and reductions over fewer elements than this stay in JS: below it the copy
 * into the arena and the call cost more than the SIMD loop saves. Measured on this project's
 * machine (bench/README.md, "kernel thresholds"): the WebAssembly kernels are 0.4–1× as fast
 * at 64 elements, 0.8–2.6× at 256 and 1.1–6.8× from 1024 up.
 */
export const ELEMENTWISE_MIN = 1024

let minElements: number | null = null

/**
 * The elementwise threshold in force: `PUREDIFF_WASM_MIN_ELEMENTS` when set (the test suite
 * sets 0), else `ELEMENTWISE_MIN`; `Infinity` when the kernels in use are JS.
 */
export const wasmMinElements = (): number => {
  if (backend() !== 'wasm') return Infinity
  if (minElements === null) {
    const v = env('PUREDIFF_WASM_MIN_ELEMENTS')
    const x = v === undefined || v === '' ? NaN : Number(v)
    minElements = Number.isFinite(x) && x >= 0 ? x : ELEMENTWISE_MIN
  }
  return minElements
}

/** Whether a product of `work` multiply-adds runs in WebAssembly. */
export const useWasm = (work: number): boolean => work >= wasmMinFlops() && backend() === 'wasm'

/**
 * How many threads large matrix products use: the count set by `setThreads` or the
 * environment variable `PUREDIFF_THREADS`, by default every core the engine reports; 1 where
 * worker threads, SharedArrayBuffer or a blocking wait on this thread are missing (browsers,
 * for now) and with the JS kernels. Products below a measured size stay on the calling thread.
 *
 * @example
 * threads() >= 1 // true (on a 2-core machine with Node ≥ 20.16: 2)
 * @category kernels
 * @since 0.2.0
 */
export const threads = (): number => (backend() === 'wasm' ? threadCount() : 1)

/**
 * Set the number of threads for large matrix products (the calling thread counts as one; 1
 * turns the worker pool off). Returns the count now in use, which is 1 where a pool cannot
 * run. The workers never keep a Node process alive.
 *
 * @example
 * setThreads(1) // 1
 * @category kernels
 * @since 0.2.0
 */
export const setThreads = (n: number): number => {
  setThreadCount(n)
  return threads()
}
