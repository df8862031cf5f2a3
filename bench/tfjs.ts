/**
 * TensorFlow.js baselines: the `cpu` backend (plain JS kernels) and the `wasm` backend
 * (XNNPACK, SIMD when the runtime has it). The wasm binaries ship inside the npm package;
 * `setWasmPaths` points at them so nothing is fetched. Both backends run single-threaded
 * here (Node has no cross-origin-isolated SharedArrayBuffer workers for tfjs), so every
 * candidate uses one core.
 *
 * The gradients are registered the way the umbrella `@tensorflow/tfjs` package does it
 * (see `tfjs-resolve.mjs`), and production mode is on (no debug checks), as a user tuning
 * for speed would set it.
 *
 * tfjs keeps one global active backend, so a workload switches to a backend, builds its
 * tensors there, measures, and disposes them before the next backend runs.
 */
import { createRequire, register } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'

export { tf }

/** Which tfjs backends are usable in this run, with a reason for any that is not. */
export interface TfjsStatus {
  readonly version: string
  readonly backends: Readonly<Record<string, { readonly ok: boolean; readonly note: string }>>
}

let status: TfjsStatus | null = null

/** Initialise the cpu and wasm backends once. */
export const initTfjs = async (): Promise<TfjsStatus> => {
  if (status !== null) return status
  const backends: Record<string, { ok: boolean; note: string }> = {}
  register('./tfjs-resolve.mjs', import.meta.url)
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js')
  tf.enableProdMode()
  try {
    await tf.setBackend('cpu')
    await tf.ready()
    backends['cpu'] = { ok: true, note: 'plain JS kernels' }
  } catch (e) {
    backends['cpu'] = { ok: false, note: String(e) }
  }
  try {
    const require = createRequire(import.meta.url)
    const dir =
      path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep
    setWasmPaths(dir)
    const ok = await tf.setBackend('wasm')
    if (!ok) throw new Error('setBackend(wasm) returned false')
    await tf.ready()
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT')
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')
    backends['wasm'] = { ok: true, note: `XNNPACK, SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}` }
  } catch (e) {
    backends['wasm'] = { ok: false, note: e instanceof Error ? e.message : String(e) }
  }
  await tf.setBackend('cpu')
  status = { version: tf.version_core, backends }
  return status
}

/** Switch the global backend (after `initTfjs`). */
export const useBackend = async (name: 'cpu' | 'wasm'): Promise<void> => {
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`tfjs backend ${name} is unavailable`)
  await tf.ready()
}

/** A float32 tfjs tensor from float64 data. */
export const tfFrom = (data: Float64Array, shape: number[]): tf.Tensor =>
  tf.tensor(Float32Array.from(data), shape, 'float32')

/**
 * Run `f` in a tfjs scope and dispose every tensor it made; unlike `tf.tidy` the result
 * may be plain numbers (read with dataSync inside `f`).
 */
export const scoped = <T>(f: () => T): T => {
  const engine = tf.engine()
  engine.startScope()
  try {
    return f()
  } finally {
    engine.endScope()
  }
}

/** Several tfjs tensors read back and concatenated into one float64 array. */
export const readFlat = (ts: ReadonlyArray<tf.Tensor>): Float64Array => {
  const parts = ts.map((t) => t.dataSync())
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
