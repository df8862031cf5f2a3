/**
 * Memory of a long jitted training run: the resident set size (RSS) of `jit(step)` on the MLP
 * 784-128-10 (batch 128, plain SGD, the step of `mlp.ts`) over many steps, sampled every
 * `--every` steps after a forced garbage collection where `--expose-gc` allows it. The claim
 * checked: RSS is flat once the run is warm, at most +5 % from step 1000 to the last step.
 * A bench script, not a test (it takes minutes).
 *
 *   taskset -c 1 node --expose-gc --import tsx bench/rss.ts                 # 10 000 steps, f32
 *   taskset -c 1 node --expose-gc --import tsx bench/rss.ts --steps=2000 --dtype=float64
 */
import os from 'node:os'
import type { PdParams } from './mlp.js'
import { makeProblem, pdData, pdJitStep, pdParams } from './mlp.js'

const arg = (name: string, dflt: string): string => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? dflt : hit.slice(name.length + 3)
}
const steps = Number(arg('steps', '10000'))
const every = Number(arg('every', '500'))
const base = Math.min(1000, steps)
const dtype = arg('dtype', 'float32') === 'float64' ? 'float64' : 'float32'

const gc = (globalThis as { gc?: () => void }).gc
const rssMb = (): number => {
  gc?.()
  return process.memoryUsage().rss / 2 ** 20
}

const prob = makeProblem()
const [x, y] = pdData(prob, dtype)
let p: PdParams = pdParams(prob.params, dtype)
const step = pdJitStep()
console.log(
  `jit(step) of the MLP 784-128-10, batch 128, ${dtype}; ${steps} steps; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; gc ${gc === undefined ? 'not exposed (run node with --expose-gc)' : 'forced before each sample'}`,
)
const samples: Array<readonly [number, number]> = [[0, rssMb()]]
const t0 = performance.now()
let loss = NaN
for (let s = 1; s <= steps; s++) {
  const [next, l] = step(p, x, y)
  p = next
  if (s % every === 0 || s === base || s === steps) {
    loss = l.item()
    const r = rssMb()
    samples.push([s, r])
    console.log(
      `step ${String(s).padStart(6)}  rss ${r.toFixed(1)} MB  loss ${loss.toFixed(4)}  ${((performance.now() - t0) / s).toFixed(2)} ms/step`,
    )
  }
}
const at = (s: number): number => (samples.find(([k]) => k === s) as readonly [number, number])[1]
const growth = at(steps) / at(base) - 1
const peak = Math.max(...samples.filter(([k]) => k >= base).map(([, r]) => r))
console.log(
  `RSS at step ${base}: ${at(base).toFixed(1)} MB; at step ${steps}: ${at(steps).toFixed(1)} MB (${(growth * 100).toFixed(1)} %); peak after step ${base}: ${peak.toFixed(1)} MB (${((peak / at(base) - 1) * 100).toFixed(1)} %); target ≤ +5 %: ${growth <= 0.05 ? 'met' : 'NOT met'}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
