/**
 * Workload: batching transforms (`npx tsx bench/vmap.ts [--quick]`).
 *
 * 1. Per-example gradients of the MLP 784-128-10 loss at batch 32: `vmap(grad(loss))`
 *    against one batched gradient of the mean loss (the floor: the same arithmetic without
 *    keeping 32 gradients apart) and against a loop of 32 `grad` calls (what users wrote
 *    before `vmap`). Target: vmap ≤ 2× the batched gradient.
 * 2. The Jacobian of a 100 → 100 map (tanh of an affine map, then a second affine map):
 *    `jacrev` (one pullback of all 100 basis vectors, batched with vmap) against a loop of
 *    100 pullbacks of one `vjp`. Target: ≥ 10× faster than the loop.
 * 3. `hessian` of a small MLP loss over a 1 040-parameter record (a tree of trees of blocks).
 *
 * Each result is checked against its loop (max relative error printed), so a fast wrong
 * answer shows. Times are medians of interleaved rounds in one run; only ratios from the
 * same run are quoted.
 */
import type { Tensor } from '../src/index.js'
import {
  add,
  fromData,
  grad,
  hessian,
  jacrev,
  matmul,
  mean,
  mul,
  neg,
  random,
  relu,
  stack,
  sum,
  tanh,
  logSoftmax,
  vjp,
  vmap,
} from '../src/index.js'
import { performance } from 'node:perf_hooks'
import { fmtRatio, fmtTime } from './harness.js'
import { N_HIDDEN, N_IN, N_OUT, makeProblem, pdParams } from './mlp.js'
import type { PdParams } from './mlp.js'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 5 : 21

/**
 * Median time per call of each candidate, sampled in interleaved rounds (one call of each
 * per round, after warm-up), so that load from other processes falls on all of them alike
 * and the ratios stay meaningful on a shared machine.
 */
const interleaved = (cands: ReadonlyArray<() => unknown>, rounds = ROUNDS): number[] => {
  for (const c of cands) for (let i = 0; i < 2; i++) c()
  const ts = cands.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) {
    cands.forEach((c, i) => {
      const t0 = performance.now()
      c()
      ts[i]!.push(performance.now() - t0)
    })
  }
  return ts.map((v) => v.sort((a, b) => a - b)[v.length >> 1] as number)
}

const maxRelErr = (a: Tensor, b: Tensor): number => {
  const x = a.toTypedArray()
  const y = b.toTypedArray()
  let scale = 0
  for (const v of y) scale = Math.max(scale, Math.abs(v))
  let e = 0
  for (let i = 0; i < x.length; i++) e = Math.max(e, Math.abs((x[i] as number) - (y[i] as number)))
  return e / (scale || 1)
}

// -------------------------------------------------------------------------------------
// 1. per-example gradients
// -------------------------------------------------------------------------------------

const B = 32
const prob = makeProblem()
const p = pdParams(prob.params, 'float64')
const X = fromData(prob.x.slice(0, B * N_IN), [B, N_IN])
const Y = fromData(prob.y.slice(0, B * N_OUT), [B, N_OUT])
const exampleLoss = (q: PdParams, x: Tensor, y: Tensor): Tensor => {
  const h = relu(add(matmul(x, q.w1), q.b1))
  const z = add(matmul(h, q.w2), q.b2)
  return neg(sum(mul(y, logSoftmax(z))))
}
const batchLoss = (q: PdParams, x: Tensor, y: Tensor): Tensor => {
  const h = relu(add(matmul(x, q.w1), q.b1))
  const z = add(matmul(h, q.w2), q.b2)
  return neg(mean(sum(mul(y, logSoftmax(z)), 1)))
}
const rows = (t: Tensor): Tensor[] =>
  Array.from({ length: t.shape[0] as number }, (_, i) =>
    fromData(t.toTypedArray().slice(i * (t.shape[1] as number), (i + 1) * (t.shape[1] as number)), [
      t.shape[1] as number,
    ]),
  )
const xs = rows(X)
const ys = rows(Y)

const batched = () => grad(batchLoss)(p, X, Y)
const perExample = vmap(grad(exampleLoss), { inAxes: [null, 0, 0] })
const viaVmap = () => perExample(p, X, Y)
const viaLoop = () => xs.map((x, i) => grad(exampleLoss)(p, x, ys[i] as Tensor))

const loopW1 = stack(viaLoop().map((g) => g.w1))
const errPe = maxRelErr(viaVmap().w1, loopW1)
// the floor of any per-example gradient: writing the 32 per-example w1 gradients, the batched
// outer products [784, 1]·[1, 128] (3.2 M numbers, 25 MB) that vmap(grad) computes
const colX = fromData(prob.x.slice(0, B * N_IN), [B, N_IN, 1])
const rowG = fromData(
  Float64Array.from({ length: B * N_HIDDEN }, (_, i) => Math.sin(i)),
  [B, 1, N_HIDDEN],
)
const outerFloor = () => matmul(colX, rowG)
const [tBatched, tVmap, tLoop, tFloor] = interleaved([batched, viaVmap, viaLoop, outerFloor]) as [
  number,
  number,
  number,
  number,
]

// -------------------------------------------------------------------------------------
// 2. jacrev of a 100 → 100 map
// -------------------------------------------------------------------------------------

const N = 100
const [k1, k2, k3] = random.split(random.key(3), 3) as unknown as [random.Key, random.Key, random.Key]
const A = mul(0.1, random.normal(k1, [N, N]))
const C = mul(0.1, random.normal(k2, [N, N]))
const x0 = random.normal(k3, [N])
const map100 = (x: Tensor): Tensor => matmul(C, tanh(matmul(A, x)))
const jac = () => jacrev(map100)(x0)
const loopPullbacks = () => {
  const [, pb] = vjp(map100, x0)
  return stack(
    Array.from({ length: N }, (_, k) =>
      pb(
        fromData(
          Float64Array.from({ length: N }, (_, i) => (i === k ? 1 : 0)),
          [N],
        ),
      ),
    ),
  )
}
const errJ = maxRelErr(jac(), loopPullbacks())
const [tJac, tPb] = interleaved([jac, loopPullbacks]) as [number, number]

// -------------------------------------------------------------------------------------
// 3. hessian over a 1 040-parameter record
// -------------------------------------------------------------------------------------

const [h1, h2, h3] = random.split(random.key(7), 3) as unknown as [random.Key, random.Key, random.Key]
const q = { w1: random.normal(h1, [24, 40]), b1: random.normal(h2, [40]), w2: random.normal(h3, [40]) }
const xin = fromData(
  Float64Array.from({ length: 24 }, (_, i) => 0.2 * Math.sin(i)),
  [24],
)
const small = (r: typeof q) => {
  const o = sum(mul(tanh(add(matmul(xin, r.w1), r.b1)), r.w2))
  return mul(o, o)
}
const [tHess] = interleaved([() => hessian(small)(q)], quick ? 3 : 7) as [number]

// -------------------------------------------------------------------------------------
// report
// -------------------------------------------------------------------------------------

console.log(`| workload | purediff | baseline | ratio | max rel. err vs loop |`)
console.log(`|---|---|---|---|---|`)
console.log(
  `| per-example grads, MLP ${N_IN}-${N_HIDDEN}-${N_OUT}, batch ${B}: vmap(grad) vs one batched grad | ${fmtTime(tVmap)} | ${fmtTime(tBatched)} | ${fmtRatio(tVmap / tBatched)} | ${errPe.toExponential(1)} |`,
)
console.log(
  `| floor: the ${B} per-example w1 gradients alone (one batched outer product, ${B}×${N_IN}×${N_HIDDEN} outputs) vs one batched grad | ${fmtTime(tFloor)} | ${fmtTime(tBatched)} | ${fmtRatio(tFloor / tBatched)} | — |`,
)
console.log(
  `| vmap(grad) vs (one batched grad + the floor) | ${fmtTime(tVmap)} | ${fmtTime(tBatched + tFloor)} | ${fmtRatio(tVmap / (tBatched + tFloor))} | — |`,
)
console.log(
  `| per-example grads: loop of ${B} grads vs one batched grad | ${fmtTime(tLoop)} | ${fmtTime(tBatched)} | ${fmtRatio(tLoop / tBatched)} | — |`,
)
console.log(
  `| per-example grads: loop / vmap | ${fmtTime(tLoop)} | ${fmtTime(tVmap)} | ${fmtRatio(tLoop / tVmap)} | — |`,
)
console.log(
  `| jacrev of a ${N}→${N} map vs a loop of ${N} pullbacks | ${fmtTime(tJac)} | ${fmtTime(tPb)} | ${fmtRatio(tPb / tJac)} faster | ${errJ.toExponential(1)} |`,
)
console.log(`| hessian of an MLP loss over a 1 040-parameter record | ${fmtTime(tHess)} | — | — | — |`)
