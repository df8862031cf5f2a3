/**
 * Workload 2: one SGD step of an MLP 784-128-10 (relu hidden layer, mean softmax
 * cross-entropy) on a batch of 128: forward, backward and the parameter update, with the
 * loss read back as a number. The forward pass alone (loss only) is timed too, so each
 * candidate's step / forward cost is visible (the ideal is about 3).
 *
 * Data are synthetic and dense: inputs uniform in [0, 1) (no zero pixels, so sparsity
 * shortcuts in the hand-written baseline cannot fire on the input), labels uniform over
 * the 10 classes, Glorot-uniform weights, small random biases. Every candidate's initial
 * gradient is checked against the hand-written float64 gradient before timing.
 */
import {
  setBackend,
  add,
  fromData,
  jit,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  relu,
  sub,
  sum,
  trace,
  tree,
  valueAndGrad,
} from '../src/index.js'
import type { Tensor } from '../src/index.js'
import { compile } from '../src/staging/compile.js'
import { optimize } from '../src/staging/optimize.js'
import type { PlainMlpParams } from './baselines.js'
import { makePlainMlp, rng, uniformArray } from './baselines.js'
import type { TimingOptions } from './harness.js'
import { measure } from './harness.js'
import type { Row, WorkloadResult } from './report.js'
import { attempt, relErr } from './report.js'
import type { TfjsStatus } from './tfjs.js'
import { readFlat, scoped, tf, tfFrom, useBackend } from './tfjs.js'
import { initJaxjs, jaxFrom, jaxMlp } from './jaxjs.js'
import { matmulKernel, matmulTKernel } from '../src/kernels/matmul.js'
import type { Data } from '../src/tensor/Tensor.js'

// -------------------------------------------------------------------------------------
// the problem
// -------------------------------------------------------------------------------------

export const N_IN = 784
export const N_HIDDEN = 128
export const N_OUT = 10
export const BATCH = 128
export const LR = 0.05

/** Parameters and one batch as flat float64 arrays (the single source for every candidate). */
export interface MlpProblem {
  readonly params: PlainMlpParams
  readonly x: Float64Array // [BATCH, N_IN]
  readonly y: Float64Array // [BATCH, N_OUT], one-hot
}

export const makeProblem = (seed = 42): MlpProblem => {
  const r = rng(seed)
  const x = new Float64Array(BATCH * N_IN)
  for (let i = 0; i < x.length; i++) x[i] = r()
  const y = new Float64Array(BATCH * N_OUT)
  for (let b = 0; b < BATCH; b++) y[b * N_OUT + Math.floor(r() * N_OUT)] = 1
  const g1 = Math.sqrt(6 / (N_IN + N_HIDDEN))
  const g2 = Math.sqrt(6 / (N_HIDDEN + N_OUT))
  return {
    params: {
      w1: uniformArray(N_IN * N_HIDDEN, g1, seed + 1),
      b1: uniformArray(N_HIDDEN, 0.1, seed + 2),
      w2: uniformArray(N_HIDDEN * N_OUT, g2, seed + 3),
      b2: uniformArray(N_OUT, 0.1, seed + 4),
    },
    x,
    y,
  }
}

/** A copy of the parameters (the plain baseline updates in place). */
export const copyParams = (p: PlainMlpParams): PlainMlpParams => ({
  w1: p.w1.slice(),
  b1: p.b1.slice(),
  w2: p.w2.slice(),
  b2: p.b2.slice(),
})

/** The gradient flattened in the order w1, b1, w2, b2, for agreement checks. */
export const flatGrads = (g: {
  w1: ArrayLike<number>
  b1: ArrayLike<number>
  w2: ArrayLike<number>
  b2: ArrayLike<number>
}): Float64Array => {
  const out = new Float64Array(g.w1.length + g.b1.length + g.w2.length + g.b2.length)
  let o = 0
  for (const a of [g.w1, g.b1, g.w2, g.b2]) {
    for (let i = 0; i < a.length; i++) out[o + i] = a[i] as number
    o += a.length
  }
  return out
}

// -------------------------------------------------------------------------------------
// purediff
// -------------------------------------------------------------------------------------

/** purediff's parameter record. */
export interface PdParams {
  readonly w1: Tensor
  readonly b1: Tensor
  readonly w2: Tensor
  readonly b2: Tensor
}

export const pdParams = (p: PlainMlpParams, dtype: 'float64' | 'float32'): PdParams => {
  const t = (a: Float64Array, shape: number[]): Tensor =>
    fromData(dtype === 'float64' ? a : Float32Array.from(a), shape, dtype)
  return {
    w1: t(p.w1, [N_IN, N_HIDDEN]),
    b1: t(p.b1, [N_HIDDEN]),
    w2: t(p.w2, [N_HIDDEN, N_OUT]),
    b2: t(p.b2, [N_OUT]),
  }
}

export const pdData = (prob: MlpProblem, dtype: 'float64' | 'float32'): [Tensor, Tensor] => {
  const t = (a: Float64Array, shape: number[]): Tensor =>
    fromData(dtype === 'float64' ? a : Float32Array.from(a), shape, dtype)
  return [t(prob.x, [BATCH, N_IN]), t(prob.y, [BATCH, N_OUT])]
}

/** Mean softmax cross-entropy of the MLP, written with purediff ops. */
export const pdLoss = (p: PdParams, x: Tensor, y: Tensor): Tensor => {
  const h = relu(add(matmul(x, p.w1), p.b1))
  const z = add(matmul(h, p.w2), p.b2)
  return neg(mean(sum(mul(y, logSoftmax(z)), 1)))
}

const pdValueAndGrad = valueAndGrad(pdLoss)

/** One SGD step: the new (immutable) parameters and the loss before the step. */
export const pdStep = (p: PdParams, x: Tensor, y: Tensor): [PdParams, number] => {
  const [loss, g] = pdValueAndGrad(p, x, y)
  const next = tree.zipWith(p, g, (pi, gi) => sub(pi, mul(LR, gi)))
  return [next, loss.item()]
}

/** The same step, compiled: one program for forward, backward and update. */
export const pdJitStep = (): ((p: PdParams, x: Tensor, y: Tensor) => [PdParams, Tensor]) => jit(pdStepBody)

/** The body `pdJitStep` compiles (forward, backward, update; the loss as a tensor). */
export const pdStepBody = (p: PdParams, x: Tensor, y: Tensor): [PdParams, Tensor] => {
  const [loss, g] = pdValueAndGrad(p, x, y)
  return [tree.zipWith(p, g, (pi, gi) => sub(pi, mul(LR, gi))), loss]
}

/** Milliseconds to trace, optimize and compile the step once (no run). */
export const stepCompileMs = (p: PdParams, x: Tensor, y: Tensor): number => {
  const t0 = performance.now()
  compile(optimize(trace(pdStepBody)(p, x, y)))
  return performance.now() - t0
}

// -------------------------------------------------------------------------------------
// TensorFlow.js
// -------------------------------------------------------------------------------------

/** The same loss with tfjs ops. */
export const tfLoss = (
  w1: tf.Tensor,
  b1: tf.Tensor,
  w2: tf.Tensor,
  b2: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
): tf.Scalar => {
  const h = tf.relu(tf.add(tf.matMul(x, w1), b1))
  const z = tf.add(tf.matMul(h, w2), b2)
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(z)), 1))) as tf.Scalar
}

// -------------------------------------------------------------------------------------
// the workload
// -------------------------------------------------------------------------------------

const timing = (quick: boolean): TimingOptions => ({
  warmupCalls: 5,
  warmupMs: quick ? 200 : 1000,
  samples: quick ? 3 : 9,
  minSampleMs: quick ? 60 : 250,
  maxItersPerSample: 1000,
})

export const benchMlp = async (tfStatus: TfjsStatus, quick: boolean): Promise<[WorkloadResult, WorkloadResult]> => {
  const opts = timing(quick)
  const prob = makeProblem()
  const plain = makePlainMlp(N_IN, N_HIDDEN, N_OUT, BATCH)
  plain.lossAndGrad(prob.params, prob.x, prob.y)
  const refGrad = flatGrads(plain.grads)
  const step: Row[] = []
  const fwd: Row[] = []
  const notes: string[] = []

  // purediff
  for (const dtype of ['float64', 'float32'] as const) {
    const [x, y] = pdData(prob, dtype)
    const p0 = pdParams(prob.params, dtype)
    const check = attempt(() => {
      const [, g] = pdValueAndGrad(p0, x, y)
      return flatGrads({
        w1: g.w1.toTypedArray(),
        b1: g.b1.toTypedArray(),
        w2: g.w2.toTypedArray(),
        b2: g.b2.toTypedArray(),
      })
    })
    if (!check.ok) {
      step.push({ candidate: 'purediff', dtype, isPurediff: true, timing: null, note: check.error })
      continue
    }
    let p = p0
    const t = measure(() => {
      const [next, loss] = pdStep(p, x, y)
      p = next
      return loss
    }, opts)
    step.push({ candidate: 'purediff', dtype, isPurediff: true, timing: t, relErr: relErr(check.value, refGrad) })
    fwd.push({ candidate: 'purediff', dtype, isPurediff: true, timing: measure(() => pdLoss(p0, x, y).item(), opts) })

    // purediff jit: the first call traces and compiles (timed once), later calls run the program;
    // tracing + compiling alone is timed first, on cold code, as a user's first call meets it
    const compileOnlyMs = stepCompileMs(p0, x, y)
    const jstep = pdJitStep()
    const t0 = performance.now()
    jstep(p0, x, y)
    const compileMs = performance.now() - t0
    const jcheck = attempt(() => {
      const [, g] = jit(pdValueAndGrad)(p0, x, y)
      return flatGrads({
        w1: g.w1.toTypedArray(),
        b1: g.b1.toTypedArray(),
        w2: g.w2.toTypedArray(),
        b2: g.b2.toTypedArray(),
      })
    })
    let pj = p0
    const tj = measure(() => {
      const [next, loss] = jstep(pj, x, y)
      pj = next
      return loss.item()
    }, opts)
    step.push({
      candidate: 'purediff jit',
      dtype,
      isPurediff: true,
      timing: tj,
      ...(jcheck.ok ? { relErr: relErr(jcheck.value, refGrad) } : {}),
      note: `trace + optimize + compile ${compileOnlyMs.toFixed(1)} ms (cold); first call (trace + compile + run) ${compileMs.toFixed(1)} ms`,
    })
    const jloss = jit(pdLoss)
    fwd.push({
      candidate: 'purediff jit',
      dtype,
      isPurediff: true,
      timing: measure(() => jloss(p0, x, y).item(), opts),
    })
  }

  // TensorFlow.js: variables updated in place inside tidy, the idiomatic training loop
  for (const backend of ['cpu', 'wasm'] as const) {
    const candidate = `tfjs-${backend}`
    const st = tfStatus.backends[backend]
    if (st === undefined || !st.ok) {
      step.push({
        candidate,
        dtype: 'float32',
        isPurediff: false,
        timing: null,
        note: `backend unavailable: ${st?.note ?? 'not initialised'}`,
      })
      continue
    }
    await useBackend(backend)
    const x = tfFrom(prob.x, [BATCH, N_IN])
    const y = tfFrom(prob.y, [BATCH, N_OUT])
    const vars = [
      tf.variable(tfFrom(prob.params.w1, [N_IN, N_HIDDEN]), true, `${backend}_w1`),
      tf.variable(tfFrom(prob.params.b1, [N_HIDDEN]), true, `${backend}_b1`),
      tf.variable(tfFrom(prob.params.w2, [N_HIDDEN, N_OUT]), true, `${backend}_w2`),
      tf.variable(tfFrom(prob.params.b2, [N_OUT]), true, `${backend}_b2`),
    ] as const
    const [w1, b1, w2, b2] = vars
    const lossFn = (): tf.Scalar => tfLoss(w1, b1, w2, b2, x, y)
    const check = attempt(() =>
      scoped(() => {
        const { grads } = tf.variableGrads(lossFn, [...vars])
        return readFlat(vars.map((v) => grads[v.name] as tf.Tensor))
      }),
    )
    if (!check.ok) {
      step.push({ candidate, dtype: 'float32', isPurediff: false, timing: null, note: check.error })
    } else {
      const before = tf.memory().numTensors
      const stepOnce = (): number => {
        const l = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(lossFn, [...vars])
          for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, LR)))
          return value
        })
        const out = l.dataSync()[0] as number
        l.dispose()
        return out
      }
      const t = measure(stepOnce, opts)
      const leaked = tf.memory().numTensors - before
      if (leaked !== 0) notes.push(`${candidate}: ${leaked} tensors left alive after the timed steps`)
      step.push({ candidate, dtype: 'float32', isPurediff: false, timing: t, relErr: relErr(check.value, refGrad) })
      fwd.push({
        candidate,
        dtype: 'float32',
        isPurediff: false,
        timing: measure(() => {
          const l = tf.tidy(lossFn)
          const out = l.dataSync()[0] as number
          l.dispose()
          return out
        }, opts),
      })
    }
    for (const v of vars) v.dispose()
    x.dispose()
    y.dispose()
  }

  // jax-js (wasm device, jit), following its ownership rules (bench/jaxjs.ts)
  const jx = await initJaxjs()
  for (const dtype of ['float64', 'float32'] as const) {
    if (jx.jax === null) {
      step.push({ candidate: 'jax-js', dtype, isPurediff: false, timing: null, note: `unavailable: ${jx.note}` })
      continue
    }
    const jax = jx.jax
    const p0 = {
      w1: jaxFrom(jax, prob.params.w1, [N_IN, N_HIDDEN], dtype),
      b1: jaxFrom(jax, prob.params.b1, [N_HIDDEN], dtype),
      w2: jaxFrom(jax, prob.params.w2, [N_HIDDEN, N_OUT], dtype),
      b2: jaxFrom(jax, prob.params.b2, [N_OUT], dtype),
    }
    const x = jaxFrom(jax, prob.x, [BATCH, N_IN], dtype)
    const y = jaxFrom(jax, prob.y, [BATCH, N_OUT], dtype)
    const m = jaxMlp(jax, p0, x, y, LR)
    const check = attempt(() => m.grads())
    if (!check.ok) {
      step.push({ candidate: 'jax-js', dtype, isPurediff: false, timing: null, note: check.error })
      continue
    }
    step.push({
      candidate: 'jax-js',
      dtype,
      isPurediff: false,
      timing: measure(m.step, opts),
      relErr: relErr(check.value, refGrad),
    })
    fwd.push({ candidate: 'jax-js', dtype, isPurediff: false, timing: measure(m.forward, opts) })
  }

  // purediff with its JS kernels forced (the fallback where WebAssembly SIMD is missing)
  setBackend('js')
  for (const dtype of ['float64', 'float32'] as const) {
    const [x, y] = pdData(prob, dtype)
    let p = pdParams(prob.params, dtype)
    const t = measure(() => {
      const [next, loss] = pdStep(p, x, y)
      p = next
      return loss
    }, opts)
    step.push({ candidate: 'purediff (JS kernels)', dtype, isPurediff: false, timing: t })
    const p0 = pdParams(prob.params, dtype)
    fwd.push({
      candidate: 'purediff (JS kernels)',
      dtype,
      isPurediff: false,
      timing: measure(() => pdLoss(p0, x, y).item(), opts),
    })
  }
  setBackend('auto')

  // hand-written plain JS (float64, in place)
  {
    const p = copyParams(prob.params)
    step.push({
      candidate: 'plain JS',
      dtype: 'float64',
      isPurediff: false,
      timing: measure(() => plain.step(p, prob.x, prob.y, LR), opts),
      relErr: null,
    })
    const p0 = copyParams(prob.params)
    fwd.push({
      candidate: 'plain JS',
      dtype: 'float64',
      isPurediff: false,
      timing: measure(() => plain.forward(p0, prob.x, prob.y), opts),
    })
  }

  const derived: Record<string, number> = {}
  // the share of purediff's step spent in matmul: the step's five products (forward x·W1 and
  // h·W2; backward Δ·W2ᵀ, hᵀ·Δ and xᵀ·Δh, as the reverse rules call them) timed on their own
  for (const dtype of ['float64', 'float32'] as const) {
    const s = step.find((r) => r.candidate === 'purediff' && r.dtype === dtype)
    if (s?.timing == null) continue
    const mk = (n: number): Data =>
      dtype === 'float64' ? uniformArray(n, 1, n) : Float32Array.from(uniformArray(n, 1, n))
    const x = mk(BATCH * N_IN)
    const w1 = mk(N_IN * N_HIDDEN)
    const h = mk(BATCH * N_HIDDEN)
    const w2 = mk(N_HIDDEN * N_OUT)
    const d = mk(BATCH * N_OUT)
    const t = measure(() => {
      matmulKernel(x, w1, 1, BATCH, N_IN, N_HIDDEN, dtype)
      matmulKernel(h, w2, 1, BATCH, N_HIDDEN, N_OUT, dtype)
      matmulTKernel(d, w2, 1, BATCH, N_OUT, N_HIDDEN, dtype, false, true)
      matmulTKernel(h, d, 1, N_HIDDEN, BATCH, N_OUT, dtype, true, false)
      return matmulTKernel(x, h, 1, N_IN, BATCH, N_HIDDEN, dtype, true, false)
    }, opts)
    derived[`purediff (${dtype === 'float64' ? 'f64' : 'f32'}) share of the step in matmul`] =
      t.medianMs / s.timing.medianMs
  }
  for (const s of step) {
    const f = fwd.find((r) => r.candidate === s.candidate && r.dtype === s.dtype)
    if (s.timing && f?.timing)
      derived[`${s.candidate} (${s.dtype === 'float64' ? 'f64' : 'f32'}) step / forward`] =
        s.timing.medianMs / f.timing.medianMs
  }

  return [
    {
      id: 'mlp-step',
      title: 'MLP 784-128-10, batch 128, one SGD step',
      description:
        'Forward + backward + update (lr 0.05), loss read back as a number. rel. err: the initial gradient vs the hand-written float64 gradient.',
      rows: step,
      notes,
      derived,
    },
    {
      id: 'mlp-forward',
      title: 'MLP 784-128-10, batch 128, forward (loss only)',
      description: 'The loss alone, for the step / forward ratio.',
      rows: fwd,
    },
  ]
}
