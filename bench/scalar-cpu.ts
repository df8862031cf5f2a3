/**
 * The scalar-graph workload of `scalar.ts` measured in CPU time, for a shared machine: on a
 * loaded core, wall-clock medians mix in the other jobs' slices, while the process's own CPU
 * time (`process.cpuUsage`, user + system) counts only the work done. The candidates are
 * interleaved round by round (eager, jit, micrograd-style tape, hand-written adjoint), so a
 * change of load hits every candidate alike, and the ratios come from one run.
 *
 *   taskset -c 1 npx tsx bench/scalar-cpu.ts                 # 9 995 ops, 9 rounds
 *   taskset -c 1 npx tsx bench/scalar-cpu.ts --ops=1000 --rounds=5
 */
import os from 'node:os'
import { add, jit, mul, sin, tanh, valueAndGrad } from '../src/index.js'
import type { Tensor } from '../src/index.js'
import type { ScalarAlgebra } from './baselines.js'
import { makeHandChain, makeScalarChain, microChain, runChain } from './baselines.js'

const arg = (name: string, dflt: string): string => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? dflt : hit.slice(name.length + 3)
}
const chain = makeScalarChain(Number(arg('ops', '9995')))
const rounds = Number(arg('rounds', '9'))
const x0 = 0.3

const alg: ScalarAlgebra<Tensor | number> = {
  mulC: (y, c) => mul(y, c),
  add: (y, x) => add(y, x),
  sin: (y) => sin(y),
  tanh: (y) => tanh(y),
}
const vg = valueAndGrad((x: Tensor | number) => runChain(alg, chain, x))
const jvg = jit(valueAndGrad((x: Tensor | number) => runChain(alg, chain, x)))
const t0 = performance.now()
const c0 = process.cpuUsage()
jvg(x0)
const firstJitCpu = process.cpuUsage(c0)
const firstJitMs = performance.now() - t0
const hand = makeHandChain(chain)
const micro = microChain(chain)
const asPair = (r: readonly [Tensor, Tensor | number]): [number, number] => [
  r[0].item(),
  typeof r[1] === 'number' ? r[1] : r[1].item(),
]

const candidates: ReadonlyArray<readonly [string, () => [number, number]]> = [
  ['purediff eager', () => asPair(vg(x0))],
  ['purediff jit', () => asPair(jvg(x0))],
  ['micrograd-style tape', () => micro(x0)],
  ['hand-written adjoint', () => hand(x0)],
]
const ref = hand(x0)
for (const [name, f] of candidates) {
  const [v, g] = f()
  if (v !== ref[0] || Math.abs(g - ref[1]) > 1e-12 * Math.abs(ref[1]))
    throw new Error(`${name}: [${v}, ${g}] differs from the hand adjoint [${ref[0]}, ${ref[1]}]`)
}

/** CPU microseconds per call of f over enough calls to take ~cpuMs of CPU. */
const cpuPerCall = (f: () => unknown, cpuMs: number): number => {
  let calls = 0
  const start = process.cpuUsage()
  let used = 0
  do {
    f()
    calls++
    const d = process.cpuUsage(start)
    used = d.user + d.system
  } while (used < cpuMs * 1000)
  return used / calls
}

for (const [, f] of candidates) cpuPerCall(f, 300) // warm up
const samples = new Map<string, number[]>(candidates.map(([n]) => [n, []]))
for (let r = 0; r < rounds; r++) for (const [n, f] of candidates) samples.get(n)!.push(cpuPerCall(f, 150))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number
const perOpNs = new Map([...samples].map(([n, xs]) => [n, (median(xs) / chain.nOps) * 1000]))
const load = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ')
console.log(
  `scalar graph, ${chain.nOps} ops, value + gradient; CPU time per op (median of ${rounds} interleaved rounds); load average ${load}`,
)
console.log('| candidate | CPU ns / op | eager ÷ this |')
console.log('|---|---:|---:|')
const eager = perOpNs.get('purediff eager') as number
for (const [n, ns] of perOpNs) console.log(`| ${n} | ${ns.toFixed(1)} | ${(eager / ns).toFixed(2)}× |`)
console.log(
  `jit first call (trace + optimize + compile + run): ${((firstJitCpu.user + firstJitCpu.system) / 1000).toFixed(0)} ms CPU, ${firstJitMs.toFixed(0)} ms wall`,
)
console.log(
  `micrograd-style ÷ eager: ${((perOpNs.get('micrograd-style tape') as number) / eager).toFixed(2)}×; jit ÷ hand-written: ${((perOpNs.get('purediff jit') as number) / (perOpNs.get('hand-written adjoint') as number)).toFixed(2)}×`,
)
