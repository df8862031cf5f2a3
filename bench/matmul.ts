/**
 * Workload 1: dense square matmul C = A·B at n = 128, 512, 1024, reported in GFLOP/s
 * (2n³ flops per product). Every candidate gets the same A and B (uniform in [-1, 1)),
 * and its C is checked against the float64 i-k-j result before timing.
 */
import { fromData, matmul } from '../src/index.js'
import type { Tensor } from '../src/index.js'
import { matmulIKJ, matmulTiled4, uniformArray } from './baselines.js'
import type { TimingOptions } from './harness.js'
import { measure } from './harness.js'
import type { Row, WorkloadResult } from './report.js'
import { attempt, relErr } from './report.js'
import type { TfjsStatus } from './tfjs.js'
import { tf, tfFrom, useBackend } from './tfjs.js'
import { initJaxjs, jaxFrom, jaxMatmul } from './jaxjs.js'
import { setBackend } from '../src/index.js'

const timingFor = (n: number, quick: boolean): TimingOptions => {
  // n = 1024 takes ~0.1–3 s per product depending on the candidate: one call per sample.
  if (n >= 1024) return { warmupCalls: 1, warmupMs: 0, samples: quick ? 2 : 5, minSampleMs: 0, maxItersPerSample: 1 }
  return {
    warmupCalls: 3,
    warmupMs: quick ? 100 : 300,
    samples: quick ? 3 : 9,
    minSampleMs: quick ? 30 : 100,
    maxItersPerSample: 1000,
  }
}

export const benchMatmul = async (n: number, tfStatus: TfjsStatus, quick: boolean): Promise<WorkloadResult> => {
  const opts = timingFor(n, quick)
  const a = uniformArray(n * n, 1, 1000 + n)
  const b = uniformArray(n * n, 1, 2000 + n)
  const ref = matmulIKJ(a, b, n, n, n)
  const gflops = (ms: number): number => (2 * n * n * n) / (ms * 1e6)
  const rows: Row[] = []
  /** `output` runs once for the agreement check; `run` (default: `output`) is what is timed. */
  const push = (
    candidate: string,
    dtype: 'float64' | 'float32',
    isPurediff: boolean,
    output: () => ArrayLike<number>,
    run: () => unknown = output,
  ): void => {
    const check = attempt(output)
    if (!check.ok) {
      rows.push({ candidate, dtype, isPurediff, timing: null, note: check.error })
      return
    }
    const timing = measure(run, opts)
    rows.push({
      candidate,
      dtype,
      isPurediff,
      timing,
      throughput: { unit: 'GFLOP/s', value: gflops(timing.medianMs) },
      relErr: relErr(check.value, ref),
    })
  }

  // purediff: the public matmul on float64 and float32 tensors (the timed call does not copy C out)
  for (const dtype of ['float64', 'float32'] as const) {
    const at: Tensor = fromData(dtype === 'float64' ? a : Float32Array.from(a), [n, n], dtype)
    const bt: Tensor = fromData(dtype === 'float64' ? b : Float32Array.from(b), [n, n], dtype)
    push(
      'purediff',
      dtype,
      true,
      () => matmul(at, bt).toTypedArray(),
      () => matmul(at, bt),
    )
  }
  // purediff with its JS kernels forced (the fallback where WebAssembly SIMD is missing)
  setBackend('js')
  for (const dtype of ['float64', 'float32'] as const) {
    const at: Tensor = fromData(dtype === 'float64' ? a : Float32Array.from(a), [n, n], dtype)
    const bt: Tensor = fromData(dtype === 'float64' ? b : Float32Array.from(b), [n, n], dtype)
    push(
      'purediff (JS kernels)',
      dtype,
      false,
      () => matmul(at, bt).toTypedArray(),
      () => matmul(at, bt),
    )
  }
  setBackend('auto')

  // jax-js (wasm device), float64 and float32
  const jx = await initJaxjs()
  for (const dtype of ['float64', 'float32'] as const) {
    if (jx.jax === null) {
      rows.push({ candidate: 'jax-js', dtype, isPurediff: false, timing: null, note: `unavailable: ${jx.note}` })
      continue
    }
    const jax = jx.jax
    const aj = jaxFrom(jax, a, [n, n], dtype)
    const bj = jaxFrom(jax, b, [n, n], dtype)
    push('jax-js', dtype, false, () => jaxMatmul(jax, aj, bj))
    aj.dispose()
    bj.dispose()
  }

  // TensorFlow.js, float32
  for (const backend of ['cpu', 'wasm'] as const) {
    const st = tfStatus.backends[backend]
    if (st === undefined || !st.ok) {
      rows.push({
        candidate: `tfjs-${backend}`,
        dtype: 'float32',
        isPurediff: false,
        timing: null,
        note: `backend unavailable: ${st?.note ?? 'not initialised'}`,
      })
      continue
    }
    await useBackend(backend)
    const at = tfFrom(a, [n, n])
    const bt = tfFrom(b, [n, n])
    push(`tfjs-${backend}`, 'float32', false, () => {
      const c = tf.matMul(at, bt)
      const d = c.dataSync()
      c.dispose()
      return d
    })
    at.dispose()
    bt.dispose()
  }

  // hand-written plain JS
  push('plain JS i-k-j', 'float64', false, () => matmulIKJ(a, b, n, n, n))
  push('plain JS 4×4 tiles', 'float64', false, () => matmulTiled4(a, b, n, n, n, new Float64Array(n * n)))
  const a32 = Float32Array.from(a)
  const b32 = Float32Array.from(b)
  push('plain JS 4×4 tiles', 'float32', false, () => matmulTiled4(a32, b32, n, n, n, new Float32Array(n * n)))

  return {
    id: `matmul-${n}`,
    title: `matmul n=${n}`,
    description: `C = A·B, A and B ${n}×${n}; GFLOP/s = 2n³ / time. Times are per product (output allocation included); rel. err vs the float64 i-k-j product.`,
    rows,
  }
}
