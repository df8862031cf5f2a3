/**
 * Workload 4: second order. The Hessian-vector product H(p)·v of the MLP loss from
 * workload 2 with respect to all parameters, as a multiple of one gradient of the same
 * loss. purediff computes it by forward-over-reverse (`hvp`), exact to rounding; the
 * ideal cost is a small constant (2–4) times a gradient.
 *
 * Baselines: the hand-written gradient; a hand-written exact HVP (Pearlmutter's
 * R-operator, in `baselines.ts`), which is also the reference every product is checked
 * against; and central differences of the hand-written gradient,
 * (∇L(p + εv) - ∇L(p - εv)) / 2ε, the usual fallback without second-order AD (two
 * gradients; inexact wherever the ±εv step moves a relu pre-activation across 0).
 * TensorFlow.js is asked for the same product by nesting `tf.grads`
 * (reverse-over-reverse); whatever it does (throw, or return numbers) is recorded. A
 * squared-error variant without softmax is tried too, to locate a failure, and checked
 * against purediff's float64 HVP of that same loss.
 */
import { add, grad, hvp, jit, matmul, mean, relu, square, sub } from '../src/index.js'
import type { Tensor } from '../src/index.js'
import type { PlainMlpParams } from './baselines.js'
import { makePlainMlp, uniformArray } from './baselines.js'
import type { TimingOptions } from './harness.js'
import { measure } from './harness.js'
import type { PdParams } from './mlp.js'
import { BATCH, N_HIDDEN, N_IN, N_OUT, flatGrads, makeProblem, pdData, pdLoss, pdParams, tfLoss } from './mlp.js'
import type { Row, WorkloadResult } from './report.js'
import { attempt, relErr } from './report.js'
import type { TfjsStatus } from './tfjs.js'
import { readFlat, scoped, tf, tfFrom, useBackend } from './tfjs.js'

const EPS = 1e-5

const axpy = (p: PlainMlpParams, v: PlainMlpParams, a: number): PlainMlpParams => {
  const f = (x: Float64Array, y: Float64Array): Float64Array => x.map((xi, i) => xi + a * (y[i] as number))
  return { w1: f(p.w1, v.w1), b1: f(p.b1, v.b1), w2: f(p.w2, v.w2), b2: f(p.b2, v.b2) }
}

const pdFlat = (g: PdParams): Float64Array =>
  flatGrads({ w1: g.w1.toTypedArray(), b1: g.b1.toTypedArray(), w2: g.w2.toTypedArray(), b2: g.b2.toTypedArray() })

export const benchHvp = async (tfStatus: TfjsStatus, quick: boolean): Promise<WorkloadResult> => {
  const opts: TimingOptions = {
    warmupCalls: 3,
    warmupMs: quick ? 200 : 1000,
    samples: quick ? 3 : 9,
    minSampleMs: quick ? 60 : 250,
    maxItersPerSample: 1000,
  }
  const prob = makeProblem()
  const v: PlainMlpParams = {
    w1: uniformArray(N_IN * N_HIDDEN, 1, 91),
    b1: uniformArray(N_HIDDEN, 1, 92),
    w2: uniformArray(N_HIDDEN * N_OUT, 1, 93),
    b2: uniformArray(N_OUT, 1, 94),
  }
  const plain = makePlainMlp(N_IN, N_HIDDEN, N_OUT, BATCH)
  const plainGrad = (p: PlainMlpParams): Float64Array => {
    plain.lossAndGrad(p, prob.x, prob.y)
    return flatGrads(plain.grads)
  }
  const pPlus = axpy(prob.params, v, EPS)
  const pMinus = axpy(prob.params, v, -EPS)
  const fdHvp = (): Float64Array => {
    const gp = plainGrad(pPlus)
    const gm = plainGrad(pMinus)
    return gp.map((a, i) => (a - (gm[i] as number)) / (2 * EPS))
  }
  const ref = flatGrads(plain.hvp(prob.params, v, prob.x, prob.y))
  const rows: Row[] = []
  const notes: string[] = []

  for (const dtype of ['float64', 'float32'] as const) {
    const [x, y] = pdData(prob, dtype)
    const p = pdParams(prob.params, dtype)
    const vt = pdParams(v, dtype)
    const g = grad(pdLoss)
    const h = hvp(pdLoss)
    const gc = attempt(() => pdFlat(g(p, x, y)))
    rows.push(
      gc.ok
        ? {
            candidate: 'purediff grad',
            dtype,
            isPurediff: false,
            timing: measure(() => g(p, x, y), opts),
            relErr: relErr(gc.value, plainGrad(prob.params)),
          }
        : { candidate: 'purediff grad', dtype, isPurediff: false, timing: null, note: gc.error },
    )
    const hc = attempt(() => pdFlat(h(p, vt, x, y)))
    rows.push(
      hc.ok
        ? {
            candidate: 'purediff hvp',
            dtype,
            isPurediff: true,
            timing: measure(() => h(p, vt, x, y), opts),
            relErr: relErr(hc.value, ref),
          }
        : { candidate: 'purediff hvp', dtype, isPurediff: true, timing: null, note: hc.error },
    )
    // the same two, compiled: each traced and compiled on its first call (timed apart)
    const jg = jit(g)
    const jh = jit(h)
    const first = (f: () => unknown): number => {
      const t0 = performance.now()
      f()
      return performance.now() - t0
    }
    const jgFirst = first(() => jg(p, x, y))
    const jhFirst = first(() => jh(p, vt, x, y))
    const jgc = attempt(() => pdFlat(jg(p, x, y)))
    rows.push(
      jgc.ok
        ? {
            candidate: 'purediff jit grad',
            dtype,
            isPurediff: false,
            timing: measure(() => jg(p, x, y), opts),
            relErr: relErr(jgc.value, plainGrad(prob.params)),
            note: `first call (trace + compile + run) ${jgFirst.toFixed(1)} ms`,
          }
        : { candidate: 'purediff jit grad', dtype, isPurediff: false, timing: null, note: jgc.error },
    )
    const jhc = attempt(() => pdFlat(jh(p, vt, x, y)))
    rows.push(
      jhc.ok
        ? {
            candidate: 'purediff jit hvp',
            dtype,
            isPurediff: true,
            timing: measure(() => jh(p, vt, x, y), opts),
            relErr: relErr(jhc.value, ref),
            note: `first call (trace + compile + run) ${jhFirst.toFixed(1)} ms`,
          }
        : { candidate: 'purediff jit hvp', dtype, isPurediff: true, timing: null, note: jhc.error },
    )
  }

  rows.push({
    candidate: 'plain JS grad',
    dtype: 'float64',
    isPurediff: false,
    timing: measure(() => plainGrad(prob.params), opts),
    relErr: null,
  })
  rows.push({
    candidate: 'plain JS hvp, R-operator',
    dtype: 'float64',
    isPurediff: false,
    timing: measure(() => plain.hvp(prob.params, v, prob.x, prob.y), opts),
    relErr: null,
  })
  rows.push({
    candidate: 'plain JS hvp, central diff.',
    dtype: 'float64',
    isPurediff: false,
    timing: measure(fdHvp, opts),
    relErr: relErr(fdHvp(), ref),
  })

  // the squared-error loss (no softmax) for the tfjs diagnosis, and purediff's exact HVP of it
  const pdMse = (q: PdParams, x: Tensor, y: Tensor): Tensor =>
    mean(square(sub(add(matmul(relu(add(matmul(x, q.w1), q.b1)), q.w2), q.b2), y)))
  const mseRef = (() => {
    const [x, y] = pdData(prob, 'float64')
    return pdFlat(hvp(pdMse)(pdParams(prob.params, 'float64'), pdParams(v, 'float64'), x, y))
  })()

  // TensorFlow.js: reverse-over-reverse with nested tf.grads
  for (const backend of ['cpu', 'wasm'] as const) {
    const st = tfStatus.backends[backend]
    if (st === undefined || !st.ok) continue
    await useBackend(backend)
    const x = tfFrom(prob.x, [BATCH, N_IN])
    const y = tfFrom(prob.y, [BATCH, N_OUT])
    const ps = [
      tfFrom(prob.params.w1, [N_IN, N_HIDDEN]),
      tfFrom(prob.params.b1, [N_HIDDEN]),
      tfFrom(prob.params.w2, [N_HIDDEN, N_OUT]),
      tfFrom(prob.params.b2, [N_OUT]),
    ]
    const vs = [
      tfFrom(v.w1, [N_IN, N_HIDDEN]),
      tfFrom(v.b1, [N_HIDDEN]),
      tfFrom(v.w2, [N_HIDDEN, N_OUT]),
      tfFrom(v.b2, [N_OUT]),
    ]
    const losses: Record<string, (...q: tf.Tensor[]) => tf.Scalar> = {
      'softmax cross-entropy': (w1, b1, w2, b2) =>
        tfLoss(w1 as tf.Tensor, b1 as tf.Tensor, w2 as tf.Tensor, b2 as tf.Tensor, x, y),
      'cross-entropy written with exp and log (no logSoftmax kernel)': (w1, b1, w2, b2) => {
        const hdn = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor), b1 as tf.Tensor))
        const z = tf.add(tf.matMul(hdn, w2 as tf.Tensor), b2 as tf.Tensor)
        // no max shift: the logits here are O(1), so exp cannot overflow
        const logp = tf.sub(z, tf.log(tf.sum(tf.exp(z), 1, true)))
        return tf.neg(tf.mean(tf.sum(tf.mul(y, logp), 1))) as tf.Scalar
      },
      'squared error, no softmax': (w1, b1, w2, b2) => {
        const hdn = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor), b1 as tf.Tensor))
        return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(hdn, w2 as tf.Tensor), b2 as tf.Tensor), y))) as tf.Scalar
      },
    }
    for (const [name, f] of Object.entries(losses)) {
      const gradFn = tf.grads(f)
      const hvpFn = tf.grads((...q: tf.Tensor[]) => {
        const gs = gradFn(q)
        return tf.addN(gs.map((gi, i) => tf.sum(tf.mul(gi, vs[i] as tf.Tensor)))) as tf.Scalar
      })
      const res = attempt(() => scoped(() => readFlat(hvpFn(ps))))
      if (name === 'softmax cross-entropy') {
        const gc = attempt(() => scoped(() => readFlat(gradFn(ps))))
        rows.push(
          gc.ok
            ? {
                candidate: `tfjs-${backend} grad`,
                dtype: 'float32',
                isPurediff: false,
                timing: measure(() => scoped(() => readFlat(gradFn(ps))), opts),
                relErr: relErr(gc.value, plainGrad(prob.params)),
              }
            : { candidate: `tfjs-${backend} grad`, dtype: 'float32', isPurediff: false, timing: null, note: gc.error },
        )
        if (res.ok) {
          const err = relErr(res.value, ref)
          rows.push({
            candidate: `tfjs-${backend} hvp`,
            dtype: 'float32',
            isPurediff: false,
            timing: measure(() => scoped(() => readFlat(hvpFn(ps))), opts),
            relErr: err,
            ...(err > 1e-2 ? { note: `returned numbers that are wrong (rel. err ${err.toExponential(1)})` } : {}),
          })
        } else {
          rows.push({
            candidate: `tfjs-${backend} hvp`,
            dtype: 'float32',
            isPurediff: false,
            timing: null,
            note: `threw ${res.error.replace(/\s+/g, ' ')}`,
          })
        }
      } else {
        const sameRef = name.startsWith('cross-entropy') ? ref : mseRef
        notes.push(
          res.ok
            ? `tfjs-${backend}, ${name}: nested tf.grads returns an HVP, rel. err ${relErr(res.value, sameRef).toExponential(1)} vs the exact float64 HVP of the same loss`
            : `tfjs-${backend}, ${name}: nested tf.grads also throws: ${res.error.replace(/\s+/g, ' ')}`,
        )
      }
    }
    for (const t of [x, y, ...ps, ...vs]) t.dispose()
  }

  const derived: Record<string, number> = {}
  for (const dtype of ['float64', 'float32'] as const) {
    const gr = rows.find((r) => r.candidate === 'purediff grad' && r.dtype === dtype)
    const hr = rows.find((r) => r.candidate === 'purediff hvp' && r.dtype === dtype)
    if (gr?.timing && hr?.timing)
      derived[`purediff (${dtype === 'float64' ? 'f64' : 'f32'}) hvp / grad`] = hr.timing.medianMs / gr.timing.medianMs
    const jgr = rows.find((r) => r.candidate === 'purediff jit grad' && r.dtype === dtype)
    const jhr = rows.find((r) => r.candidate === 'purediff jit hvp' && r.dtype === dtype)
    if (jgr?.timing && jhr?.timing)
      derived[`purediff jit (${dtype === 'float64' ? 'f64' : 'f32'}) hvp / grad`] =
        jhr.timing.medianMs / jgr.timing.medianMs
  }
  const pg = rows.find((r) => r.candidate === 'plain JS grad')
  const pf = rows.find((r) => r.candidate === 'plain JS hvp, central diff.')
  const pr = rows.find((r) => r.candidate === 'plain JS hvp, R-operator')
  if (pg?.timing && pr?.timing) derived['plain JS R-operator hvp / grad'] = pr.timing.medianMs / pg.timing.medianMs
  if (pg?.timing && pf?.timing)
    derived['plain JS central-difference hvp / grad'] = pf.timing.medianMs / pg.timing.medianMs

  return {
    id: 'mlp-hvp',
    title: 'Hessian-vector product of the MLP loss (784-128-10, batch 128)',
    description: `H·v over all 101,770 parameters, v uniform in [-1, 1). rel. err: gradients vs the hand-written gradient, HVPs vs the hand-written R-operator HVP; central differences use ε = ${EPS}.`,
    rows,
    notes,
    derived,
  }
}
