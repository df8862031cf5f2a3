/**
 * Staged control flow: a 1 000-step `scan` (c ← sin(c·w + x), y = c·x, loss = c_T + Σ y),
 * its value and its gradient in w, eager and under `jit` (one `scan` construct whose body is
 * compiled once and called per step), against a hand-written JS loop (forward, and reverse
 * storing the carries). Prints the medians and the ratios of one run, and the staged
 * programs' sizes. `npx tsx bench/control.ts [--steps=1000] [--reps=30]`; pin it with
 * `taskset -c 1` and note the load (`uptime`).
 */
import { add, grad, jit, mul, scan, sin, sum, tensor, trace } from '../src/index.js'
import type { Tensor } from '../src/index.js'

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? dflt : Number(a.split('=')[1])
}
const T = arg('steps', 1000)
const REPS = arg('reps', 30)

const f = (w: Tensor, xs: Tensor): Tensor => {
  const [c, ys] = scan((c: Tensor, x: Tensor) => [sin(add(mul(c, w), x)), mul(c, x)] as const, tensor(0.5), xs)
  return add(c, sum(ys))
}
const xv = Float64Array.from({ length: T }, (_, i) => Math.cos(i))
const xs = tensor(Array.from(xv))
const w = tensor(0.9)

// hand-written: the loss, and its derivative in w by a reverse sweep over the stored carries
const handValue = (wv: number): number => {
  let c = 0.5
  let s = 0
  for (let t = 0; t < T; t++) {
    s += c * (xv[t] as number)
    c = Math.sin(c * wv + (xv[t] as number))
  }
  return c + s
}
const handGrad = (wv: number): number => {
  const cs = new Float64Array(T + 1)
  cs[0] = 0.5
  for (let t = 0; t < T; t++) cs[t + 1] = Math.sin((cs[t] as number) * wv + (xv[t] as number))
  let cBar = 1
  let wBar = 0
  for (let t = T - 1; t >= 0; t--) {
    const c = cs[t] as number
    const da = cBar * Math.cos(c * wv + (xv[t] as number))
    wBar += da * c
    cBar = da * wv + (xv[t] as number)
  }
  return wBar
}

const median = (g: () => unknown): number => {
  for (let i = 0; i < 3; i++) g()
  const ts: number[] = []
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now()
    g()
    ts.push(performance.now() - t0)
  }
  ts.sort((a, b) => a - b)
  return ts[Math.floor(ts.length / 2)] as number
}

const jf = jit(f)
const gf = grad(f)
const jg = jit(grad(f))
const rows: Array<[string, number]> = [
  ['eager value', median(() => f(w, xs))],
  ['jit value', median(() => jf(w, xs))],
  ['hand-written value', median(() => handValue(0.9))],
  ['eager grad', median(() => gf(w, xs))],
  ['jit grad', median(() => jg(w, xs))],
  ['hand-written grad', median(() => handGrad(0.9))],
  ['trace (staging only)', median(() => trace(f)(w, xs))],
]
const get = (k: string): number => (rows.find(([n]) => n === k) as [string, number])[1]
console.log(`scan of ${T} steps, medians of ${REPS} runs`)
for (const [n, ms] of rows) console.log(`${n.padEnd(22)} ${ms.toFixed(3)} ms`)
console.log(
  `jit / eager: value ${(get('jit value') / get('eager value')).toFixed(2)}×, grad ${(get('jit grad') / get('eager grad')).toFixed(2)}×`,
)
console.log(
  `jit / hand-written: value ${(get('jit value') / get('hand-written value')).toFixed(0)}×, grad ${(get('jit grad') / get('hand-written grad')).toFixed(0)}×`,
)
console.log(`equations: value ${trace(f)(w, xs).eqns.length}, gradient ${trace(grad(f))(w, xs).eqns.length}`)
const err = Math.abs(gf(w, xs).item() - handGrad(0.9)) / Math.abs(handGrad(0.9))
console.log(`grad rel. err vs hand-written: ${err.toExponential(2)}`)
