/**
 * Benchmark entry point (`npm run bench`): runs every workload against its baselines in
 * the same process, prints one Markdown table per workload, and writes the results with
 * the machine's description to `bench/results/latest.json`.
 *
 * Flags:
 *   --quick              fewer, shorter samples; writes bench/results/quick.json instead
 *   --only=a,b           run only these workloads: matmul, mlp, cnn, scalar, hvp
 *   --sizes=128,512      matmul sizes (default 128,512,1024)
 *   --ops=1000           scalar-chain length (default 1000)
 *   --out=path           where to write the JSON
 *
 * Everything runs on one thread. For steadier numbers pin the process to one core
 * (`taskset -c 1 npm run bench`) on an otherwise idle machine; the JSON records the
 * load average before and after, so a noisy run can be recognised.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { lastKept } from './harness.js'
import { benchCnn } from './cnn.js'
import { benchHvp } from './hvp.js'
import { benchMatmul } from './matmul.js'
import { benchMlp } from './mlp.js'
import type { WorkloadResult } from './report.js'
import { ratios, renderWorkload } from './report.js'
import { benchScalar } from './scalar.js'
import { initTfjs } from './tfjs.js'

const here = path.dirname(fileURLToPath(import.meta.url))

const arg = (name: string): string | undefined => {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (hit === undefined) return undefined
  const eq = hit.indexOf('=')
  return eq < 0 ? '' : hit.slice(eq + 1)
}

const quick = arg('quick') !== undefined
const only = new Set((arg('only') ?? 'matmul,mlp,cnn,scalar,hvp').split(',').filter((s) => s !== ''))
const sizes = (arg('sizes') ?? '128,512,1024').split(',').map(Number)
const nOps = Number(arg('ops') ?? '1000')
const out = arg('out') ?? path.join(here, 'results', quick ? 'quick.json' : 'latest.json')

/** The facts a reader needs to judge the numbers. */
const machine = () => {
  const cpus = os.cpus()
  let nproc: number | null = null
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
  } catch {
    nproc = null
  }
  let affinity: string | null = null
  try {
    affinity = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? null
  } catch {
    affinity = null
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    nproc,
    cpuAffinity: affinity,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  }
}

const main = async (): Promise<void> => {
  const info = machine()
  const loadBefore = os.loadavg()
  const tfStatus = await initTfjs()
  const header = [
    `purediff benchmarks — ${info.date}`,
    `node ${info.node} (V8 ${info.v8}), ${info.platform}, ${info.cpu}, nproc ${info.nproc}, affinity ${info.cpuAffinity}`,
    `tfjs-core ${tfStatus.version}; ${Object.entries(tfStatus.backends)
      .map(([k, v]) => `${k}: ${v.ok ? 'ok' : 'unavailable'} (${v.note})`)
      .join('; ')}`,
    `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}${quick ? ' — QUICK MODE: few samples, numbers are indicative only' : ''}`,
    '',
    'Ratios are median time purediff / median time baseline: below 1× purediff is faster.',
  ]
  console.log(header.join('\n'))

  const results: WorkloadResult[] = []
  const emit = (w: WorkloadResult): void => {
    results.push(w)
    console.log(`\n${renderWorkload(w)}`)
  }
  if (only.has('matmul')) for (const n of sizes) emit(await benchMatmul(n, tfStatus, quick))
  if (only.has('mlp')) for (const w of await benchMlp(tfStatus, quick)) emit(w)
  if (only.has('cnn')) for (const w of await benchCnn(tfStatus, quick)) emit(w)
  if (only.has('scalar')) emit(await benchScalar(nOps, tfStatus, quick))
  if (only.has('hvp')) emit(await benchHvp(tfStatus, quick))

  const loadAfter = os.loadavg()
  console.log(`\nload average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`)
  const json = {
    machine: { ...info, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    quick,
    tfjs: tfStatus,
    ratioDefinition: 'median time purediff / median time baseline (below 1 = purediff faster)',
    workloads: results.map((w) => ({ ...w, ratios: ratios(w) })),
  }
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`results written to ${path.relative(process.cwd(), out)}`)
  void lastKept()
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
