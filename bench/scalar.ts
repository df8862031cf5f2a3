/**
 * Workload 3: value and gradient of a chain of ~1000 scalar ops (the repeating pattern
 * y·c, + x, sin, tanh from `baselines.ts`), reported as time per op. This measures the
 * per-op overhead of each framework's graph machinery, which dominates small models,
 * optimisers over a handful of scalars, and physics-style code. Every candidate runs
 * the same `runChain` with its own scalar algebra; results are checked against the
 * hand-derived adjoint.
 */
import { add, jit, mul, sin, tanh, valueAndGrad } from '../src/index.js'
import type { Tensor } from '../src/index.js'
import type { ScalarAlgebra } from './baselines.js'
import { makeHandChain, makeScalarChain, microChain, runChain } from './baselines.js'
import type { TimingOptions } from './harness.js'
import { measure } from './harness.js'
import type { Row, WorkloadResult } from './report.js'
import { attempt, relErr } from './report.js'
import type { TfjsStatus } from './tfjs.js'
import { scoped, tf, useBackend } from './tfjs.js'

const pdAlgebra: ScalarAlgebra<Tensor | number> = {
  mulC: (y, c) => mul(y, c),
  add: (y, x) => add(y, x),
  sin: (y) => sin(y),
  tanh: (y) => tanh(y),
}
const tfAlgebra: ScalarAlgebra<tf.Tensor> = {
  mulC: (y, c) => tf.mul(y, c),
  add: (y, x) => tf.add(y, x),
  sin: (y) => tf.sin(y),
  tanh: (y) => tf.tanh(y),
}

export const benchScalar = async (nOps: number, tfStatus: TfjsStatus, quick: boolean): Promise<WorkloadResult> => {
  const opts: TimingOptions = {
    warmupCalls: 5,
    warmupMs: quick ? 200 : 1000,
    samples: quick ? 3 : 9,
    minSampleMs: quick ? 50 : 200,
    maxItersPerSample: 100_000,
  }
  const chain = makeScalarChain(nOps)
  const x0 = 0.3
  const hand = makeHandChain(chain)
  const ref = hand(x0)
  const rows: Row[] = []
  const push = (
    candidate: string,
    dtype: 'float64' | 'float32',
    isPurediff: boolean,
    run: () => [number, number],
  ): void => {
    const check = attempt(run)
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
      perOpMs: timing.medianMs / chain.nOps,
      relErr: relErr(check.value, ref),
    })
  }

  // purediff: a number in, a number gradient out, float64 scalars throughout
  const vg = valueAndGrad((x: Tensor | number) => runChain(pdAlgebra, chain, x))
  push('purediff', 'float64', true, () => {
    const [v, g] = vg(x0)
    return [v.item(), typeof g === 'number' ? g : g.item()]
  })

  // purediff jit: the same function compiled to straight-line code over numbers
  const jvg = jit(valueAndGrad((x: Tensor | number) => runChain(pdAlgebra, chain, x)))
  const t0 = performance.now()
  jvg(x0)
  const compileMs = performance.now() - t0
  push('purediff jit', 'float64', true, () => {
    const [v, g] = jvg(x0)
    return [v.item(), typeof g === 'number' ? g : g.item()]
  })
  const last = rows[rows.length - 1]
  if (last !== undefined)
    rows[rows.length - 1] = { ...last, note: `trace + compile (first call) ${compileMs.toFixed(1)} ms` }

  for (const backend of ['cpu', 'wasm'] as const) {
    const candidate = `tfjs-${backend}`
    const st = tfStatus.backends[backend]
    if (st === undefined || !st.ok) {
      rows.push({
        candidate,
        dtype: 'float32',
        isPurediff: false,
        timing: null,
        note: `backend unavailable: ${st?.note ?? 'not initialised'}`,
      })
      continue
    }
    await useBackend(backend)
    const tvg = tf.valueAndGrad((x: tf.Tensor) => runChain(tfAlgebra, chain, x))
    push(candidate, 'float32', false, () =>
      scoped(() => {
        const { value, grad } = tvg(tf.scalar(x0))
        return [value.dataSync()[0] as number, grad.dataSync()[0] as number]
      }),
    )
  }

  push('micrograd-style JS', 'float64', false, microChain(chain).bind(null, x0))
  push('plain JS, hand adjoint', 'float64', false, () => hand(x0))

  return {
    id: `scalar-${chain.nOps}`,
    title: `scalar graph, ${chain.nOps} ops, value + gradient`,
    description: `y = x; repeat ${chain.nOps / 4}×: y ← tanh(sin(y·cᵢ + x)); value and dy/dx at x = ${x0}. "per op" = median / ${chain.nOps}; rel. err of [value, dy/dx] vs the hand adjoint.`,
    rows,
  }
}
