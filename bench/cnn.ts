/**
 * Workload: one SGD step of a small CNN on 28 × 28 single-channel images at batch 32 —
 * 3 × 3 convolution to 16 channels (SAME), relu, 2 × 2 max pooling, 3 × 3 convolution to 32
 * channels, relu, 2 × 2 max pooling, dense 1568 → 10, mean softmax cross-entropy — forward,
 * backward and the update, with the loss read back as a number. The forward pass alone is
 * timed too (step / forward shows whether the backward pass stays on the fast path).
 *
 * About 2·(32·784·9·16 + 32·196·144·32 + 32·1568·10) ≈ 66 MFLOP forward, so a step (the
 * forward plus two products per layer backward, bar the first layer's input gradient) is
 * about 180 MFLOP.
 *
 * Data are synthetic: pixels uniform in [0, 1), labels uniform over the ten classes,
 * He-uniform kernels, zero biases. Each candidate's initial gradient is compared with
 * purediff's float64 gradient (whose rules the table-driven laws check against finite
 * differences) before timing.
 */
import {
  add,
  fromData,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  nn,
  relu,
  reshape,
  sub,
  sum,
  tree,
  valueAndGrad,
} from '../src/index.js'
import type { Tensor } from '../src/index.js'
import { rng, uniformArray } from './baselines.js'
import type { TimingOptions } from './harness.js'
import { measure } from './harness.js'
import type { Row, WorkloadResult } from './report.js'
import { attempt, relErr } from './report.js'
import type { TfjsStatus } from './tfjs.js'
import { readFlat, scoped, tf, tfFrom, useBackend } from './tfjs.js'

export const BATCH = 32
export const LR = 0.05
const S = 28
const SHAPES = {
  w1: [3, 3, 1, 16],
  b1: [16],
  w2: [3, 3, 16, 32],
  b2: [32],
  w3: [7 * 7 * 32, 10],
  b3: [10],
} as const
type Name = keyof typeof SHAPES
const NAMES = Object.keys(SHAPES) as Name[]

/** Parameters and one batch as flat float64 arrays (the single source for every candidate). */
interface CnnProblem {
  readonly params: Readonly<Record<Name, Float64Array>>
  readonly x: Float64Array // [BATCH, 28, 28, 1]
  readonly y: Float64Array // [BATCH, 10], one-hot
}

const size = (s: ReadonlyArray<number>): number => s.reduce((a, b) => a * b, 1)

const makeProblem = (seed = 7): CnnProblem => {
  const r = rng(seed)
  const x = Float64Array.from({ length: BATCH * S * S }, () => r())
  const y = new Float64Array(BATCH * 10)
  for (let b = 0; b < BATCH; b++) y[b * 10 + Math.floor(r() * 10)] = 1
  // He-uniform bound sqrt(6 / fanIn) for the kernels, Glorot for the dense layer
  const he = (fanIn: number) => Math.sqrt(6 / fanIn)
  return {
    params: {
      w1: uniformArray(size(SHAPES.w1), he(9), seed + 1),
      b1: new Float64Array(16),
      w2: uniformArray(size(SHAPES.w2), he(9 * 16), seed + 2),
      b2: new Float64Array(32),
      w3: uniformArray(size(SHAPES.w3), Math.sqrt(6 / (1568 + 10)), seed + 3),
      b3: new Float64Array(10),
    },
    x,
    y,
  }
}

// -------------------------------------------------------------------------------------
// purediff
// -------------------------------------------------------------------------------------

type PdParams = Readonly<Record<Name, Tensor>>

const pdParams = (prob: CnnProblem, dtype: 'float64' | 'float32'): PdParams =>
  Object.fromEntries(
    NAMES.map((k) => [
      k,
      fromData(dtype === 'float64' ? prob.params[k] : Float32Array.from(prob.params[k]), SHAPES[k], dtype),
    ]),
  ) as unknown as PdParams

/** The CNN's mean softmax cross-entropy, written with purediff ops and nn layers. */
export const pdLoss = (p: PdParams, x: Tensor, y: Tensor): Tensor => {
  const h1 = nn.maxPool2d(relu(nn.conv2d({ w: p.w1, b: p.b1 }, x, { padding: 'SAME' })), 2)
  const h2 = nn.maxPool2d(relu(nn.conv2d({ w: p.w2, b: p.b2 }, h1, { padding: 'SAME' })), 2)
  const z = add(matmul(reshape(h2, [BATCH, 7 * 7 * 32]), p.w3), p.b3)
  return neg(mean(sum(mul(y, logSoftmax(z)), 1)))
}

const pdValueAndGrad = valueAndGrad(pdLoss)

const pdStep = (p: PdParams, x: Tensor, y: Tensor): [PdParams, number] => {
  const [loss, g] = pdValueAndGrad(p, x, y)
  return [tree.zipWith(p, g, (pi, gi) => sub(pi as Tensor, mul(LR, gi as Tensor))) as PdParams, loss.item()]
}

const flat = (g: Readonly<Record<Name, ArrayLike<number>>>): Float64Array => {
  const out = new Float64Array(NAMES.reduce((n, k) => n + g[k].length, 0))
  let o = 0
  for (const k of NAMES) {
    const a = g[k]
    for (let i = 0; i < a.length; i++) out[o + i] = a[i] as number
    o += a.length
  }
  return out
}

// -------------------------------------------------------------------------------------
// TensorFlow.js
// -------------------------------------------------------------------------------------

const tfLoss = (v: Readonly<Record<Name, tf.Tensor>>, x: tf.Tensor4D, y: tf.Tensor): tf.Scalar => {
  const conv = (h: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor) =>
    tf.maxPool(tf.relu(tf.add(tf.conv2d(h, w as tf.Tensor4D, 1, 'same'), b)) as tf.Tensor4D, 2, 2, 'valid')
  const h2 = conv(conv(x, v.w1, v.b1), v.w2, v.b2)
  const z = tf.add(tf.matMul(tf.reshape(h2, [BATCH, 7 * 7 * 32]), v.w3), v.b3)
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(z)), 1))) as tf.Scalar
}

// -------------------------------------------------------------------------------------
// the workload
// -------------------------------------------------------------------------------------

const timing = (quick: boolean): TimingOptions => ({
  warmupCalls: 3,
  warmupMs: quick ? 200 : 1000,
  samples: quick ? 3 : 7,
  minSampleMs: quick ? 100 : 300,
  maxItersPerSample: 200,
})

export const benchCnn = async (tfStatus: TfjsStatus, quick: boolean): Promise<[WorkloadResult, WorkloadResult]> => {
  const opts = timing(quick)
  const prob = makeProblem()
  const step: Row[] = []
  const fwd: Row[] = []
  const notes: string[] = []
  const data = (dtype: 'float64' | 'float32'): [Tensor, Tensor] => {
    const t = (a: Float64Array, shape: number[]) =>
      fromData(dtype === 'float64' ? a : Float32Array.from(a), shape, dtype)
    return [t(prob.x, [BATCH, S, S, 1]), t(prob.y, [BATCH, 10])]
  }
  const gradOf = (dtype: 'float64' | 'float32'): Float64Array => {
    const [x, y] = data(dtype)
    const [, g] = pdValueAndGrad(pdParams(prob, dtype), x, y)
    return flat(Object.fromEntries(NAMES.map((k) => [k, (g[k] as Tensor).toTypedArray()])) as Record<Name, Data>)
  }
  type Data = Float64Array | Float32Array
  const ref = gradOf('float64')

  for (const dtype of ['float64', 'float32'] as const) {
    const [x, y] = data(dtype)
    const p0 = pdParams(prob, dtype)
    const check = attempt(() => gradOf(dtype))
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
    step.push({ candidate: 'purediff', dtype, isPurediff: true, timing: t, relErr: relErr(check.value, ref) })
    fwd.push({ candidate: 'purediff', dtype, isPurediff: true, timing: measure(() => pdLoss(p0, x, y).item(), opts) })
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
    const x = tfFrom(prob.x, [BATCH, S, S, 1]) as tf.Tensor4D
    const y = tfFrom(prob.y, [BATCH, 10])
    const vars = Object.fromEntries(
      NAMES.map((k) => [k, tf.variable(tfFrom(prob.params[k], [...SHAPES[k]]), true, `cnn_${backend}_${k}`)]),
    ) as Record<Name, tf.Variable>
    const list = NAMES.map((k) => vars[k])
    const lossFn = (): tf.Scalar => tfLoss(vars, x, y)
    const check = attempt(() =>
      scoped(() => {
        const { grads } = tf.variableGrads(lossFn, list)
        return readFlat(list.map((v) => grads[v.name] as tf.Tensor))
      }),
    )
    if (!check.ok) {
      step.push({ candidate, dtype: 'float32', isPurediff: false, timing: null, note: check.error })
    } else if (backend === 'cpu' && quick) {
      // one tfjs-cpu step takes seconds (its backward convolutions are scalar loops)
      step.push({ candidate, dtype: 'float32', isPurediff: false, timing: null, note: 'not timed in --quick mode' })
    } else {
      const before = tf.memory().numTensors
      const t = measure(() => {
        const l = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(lossFn, list)
          for (const v of list) v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, LR)))
          return value
        })
        const out = l.dataSync()[0] as number
        l.dispose()
        return out
      }, opts)
      const leaked = tf.memory().numTensors - before
      if (leaked !== 0) notes.push(`${candidate}: ${leaked} tensors left alive after the timed steps`)
      step.push({ candidate, dtype: 'float32', isPurediff: false, timing: t, relErr: relErr(check.value, ref) })
    }
    // the forward pass, even where the backward kernels are missing (tfjs-wasm has no
    // Conv2DBackpropFilter)
    const forward = attempt(() =>
      measure(() => {
        const l = tf.tidy(lossFn)
        const out = l.dataSync()[0] as number
        l.dispose()
        return out
      }, opts),
    )
    fwd.push(
      forward.ok
        ? { candidate, dtype: 'float32', isPurediff: false, timing: forward.value }
        : { candidate, dtype: 'float32', isPurediff: false, timing: null, note: forward.error },
    )
    for (const v of list) v.dispose()
    x.dispose()
    y.dispose()
  }

  const ratio = (rows: Row[], c: string, d: string): number => {
    const s = step.find((r) => r.candidate === c && r.dtype === d)?.timing?.medianMs
    const f = rows.find((r) => r.candidate === c && r.dtype === d)?.timing?.medianMs
    return s !== undefined && f !== undefined ? s / f : NaN
  }
  const derived: Record<string, number> = {}
  for (const [c, d] of [
    ['purediff', 'float64'],
    ['purediff', 'float32'],
    ['tfjs-cpu', 'float32'],
    ['tfjs-wasm', 'float32'],
  ] as const)
    derived[`step / forward, ${c} (${d === 'float64' ? 'f64' : 'f32'})`] = ratio(fwd, c, d)
  return [
    {
      id: 'cnn-step',
      title: `CNN step (conv3x3-16, pool 2, conv3x3-32, pool 2, dense-10), batch ${BATCH}`,
      description: 'one SGD step: forward, backward, update, loss read back; relErr: gradient against purediff float64',
      rows: step,
      notes,
      derived,
    },
    {
      id: 'cnn-forward',
      title: `CNN forward pass (loss only), batch ${BATCH}`,
      description: 'the loss of the same network and batch, read back as a number',
      rows: fwd,
    },
  ]
}
