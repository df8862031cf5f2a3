/**
 * Kernel figures (`npx tsx bench/kernels.ts`, separate from run.ts): the WebAssembly SIMD
 * elementwise and reduction kernels against the JS reference kernels at several sizes (the
 * measurements behind `ELEMENTWISE_MIN`), and the matrix product on one thread against all
 * threads of the worker pool (the measurements behind `THREAD_MIN_FLOPS`, and GFLOP/s at
 * n = 128, 512, 1024). Candidates are timed in interleaved rounds (one sample of each per
 * round, medians over the rounds), so the load of a shared machine falls on them alike; every
 * result is checked against the reference before timing (bit-identical, or for trailing sums
 * within 1e-12 relative).
 *
 * Flags: --quick (fewer rounds), --threads=N (the pool size for the threaded rows; default
 * every core), --only=elementwise|threads|mlp. The MLP rows time one SGD step and one forward
 * pass on one thread and on the pool, alternating `setThreads` between calls; run them with
 * `PUREDIFF_THREAD_MIN_FLOPS` low enough for the MLP's products (1.3·10⁷ multiply-adds).
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Data, DType } from '../src/tensor/Tensor.js'
import { addKernel, jsReference, maximumKernel, planBinary, reluKernel } from '../src/kernels/elementwise.js'
import { maxJsKernel, maxKernel, sumJsKernel, sumKernel } from '../src/kernels/reduce.js'
import { binaryWasm, reduceWasm, unaryWasm } from '../src/kernels/wasm/elementwise.js'
import { gemmWasm } from '../src/kernels/wasm/gemm.js'
import { gemmThreaded } from '../src/kernels/wasm/pool.js'
import { setThreads, threads } from '../src/kernels/backend.js'
import { makeProblem, pdData, pdLoss, pdParams, pdStep } from './mlp.js'

const arg = (name: string): string | undefined => {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (hit === undefined) return undefined
  const eq = hit.indexOf('=')
  return eq < 0 ? '' : hit.slice(eq + 1)
}
const quick = arg('quick') !== undefined
const only = arg('only')
const ROUNDS = quick ? 5 : 15

// The process's CPU time in ms (user + system, all threads): on a machine shared with other
// processes it counts only the time this process ran, where wall time counts the waits too.
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * Median µs per call of each candidate, timed in interleaved rounds of ≥ `sampleMs` each, by
 * `clock` (wall time, or CPU time for single-threaded candidates).
 */
const race = (
  fns: ReadonlyArray<() => unknown>,
  sampleMs = quick ? 5 : 15,
  clock: () => number = () => performance.now(),
): number[] => {
  const iters = fns.map((f) => {
    for (let i = 0; i < 3; i++) f()
    let n = 1
    for (;;) {
      const t0 = clock()
      for (let i = 0; i < n; i++) f()
      if (clock() - t0 >= sampleMs || n >= 1 << 20) return n
      n *= 2
    }
  })
  const samples: number[][] = fns.map(() => [])
  for (let r = 0; r < ROUNDS; r++)
    fns.forEach((f, c) => {
      const n = iters[c] as number
      const t0 = clock()
      for (let i = 0; i < n; i++) f()
      samples[c]!.push(((clock() - t0) / n) * 1000)
    })
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)] as number)
}

const make = (dtype: DType, n: number, seed: number): Data => {
  const d = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0
    d[i] = ((x >>> 8) / 2 ** 24) * 4 - 2
  }
  return d
}
const alloc = (dtype: DType, n: number): Data => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n))
const same = (x: Data, y: Data, rel = 0): boolean =>
  x.length === y.length && x.every((v, i) => Object.is(v, y[i]) || Math.abs(v - (y[i] as number)) <= rel * Math.abs(v))
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')
console.log(`# kernels — ${new Date().toISOString()}, Node ${process.version}, ${os.cpus()[0]?.model ?? '?'}`)
console.log(`load average at the start: ${load()}; cores available: ${os.availableParallelism()}\n`)

// ---- elementwise and reductions

if (only === undefined || only === 'elementwise') {
  console.log(
    '## elementwise and reductions: WebAssembly ÷ JS reference, CPU µs per call (output allocation included)\n',
  )
  console.log('| op | dtype | elements | JS µs | wasm µs | JS ÷ wasm |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [rows, cols] of [
      [1, 64],
      [2, 128],
      [8, 128],
      [32, 128],
      [128, 128],
      [128, 784],
    ] as const) {
      const n = rows * cols
      const a = make(dtype, n, 1)
      const b = make(dtype, n, 2)
      const bias = make(dtype, cols, 3)
      const same0 = planBinary([n], [n], [n])
      const row = planBinary([rows, cols], [cols], [rows, cols])
      const cases: Array<[string, () => Data, () => Data, number]> = [
        [
          'add (same shape)',
          () => {
            const o = alloc(dtype, n)
            jsReference.binary.add(a, b, same0, o)
            return o
          },
          () => {
            const o = alloc(dtype, n)
            binaryWasm('add', dtype, a, b, same0.mode, same0.A, same0.R, same0.C, o)
            return o
          },
          0,
        ],
        [
          'add (row vector: bias)',
          () => {
            const o = alloc(dtype, n)
            jsReference.binary.add(a, bias, row, o)
            return o
          },
          () => {
            const o = alloc(dtype, n)
            binaryWasm('add', dtype, a, bias, row.mode, row.A, row.R, row.C, o)
            return o
          },
          0,
        ],
        [
          'maximum (same shape)',
          () => {
            const o = alloc(dtype, n)
            jsReference.binary.maximum(a, b, same0, o)
            return o
          },
          () => {
            const o = alloc(dtype, n)
            binaryWasm('maximum', dtype, a, b, same0.mode, same0.A, same0.R, same0.C, o)
            return o
          },
          0,
        ],
        [
          'relu',
          () => {
            const o = alloc(dtype, n)
            jsReference.unary.relu(a, o)
            return o
          },
          () => {
            const o = alloc(dtype, n)
            unaryWasm('relu', dtype, a, o)
            return o
          },
          0,
        ],
        [
          'sum over rows (trailing axis)',
          () => sumJsKernel(a, [rows, cols], [1], dtype),
          () => {
            const o = alloc(dtype, rows)
            reduceWasm('sum', 'rows', dtype, a, rows, cols, o)
            return o
          },
          1e-12,
        ],
        [
          'sum over the batch (leading axis)',
          () => sumJsKernel(a, [rows, cols], [0], dtype),
          () => {
            const o = alloc(dtype, cols)
            reduceWasm('sum', 'cols', dtype, a, rows, cols, o)
            return o
          },
          0,
        ],
        [
          'max over rows (trailing axis)',
          () => maxJsKernel(a, [rows, cols], [1], dtype),
          () => maxKernel(a, [rows, cols], [1], dtype),
          0,
        ],
      ]
      for (const [name, js, wasm, rel] of cases) {
        if (!same(js(), wasm(), rel)) throw new Error(`${name} ${dtype} ${n}: the kernels disagree`)
        const [tj, tw] = race([js, wasm], quick ? 5 : 15, cpuMs) as [number, number]
        console.log(
          `| ${name} | ${dtype} | ${rows}×${cols} = ${n} | ${fmt(tj)} | ${fmt(tw)} | ${(tj / tw).toFixed(2)}× |`,
        )
      }
    }
  }
  void addKernel
  void maximumKernel
  void reluKernel
  void sumKernel
  console.log()
}

// ---- threads

if (only === undefined || only === 'threads') {
  const all = Number(arg('threads') ?? os.availableParallelism())
  setThreads(all)
  console.log(`## matmul: one thread against the pool (${threads()} threads), C = A·B, n×n\n`)
  console.log('| n | dtype | one thread GFLOP/s | all threads GFLOP/s | speed-up |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const n of [32, 48, 64, 96, 128, 256, 512, 1024]) {
    for (const dtype of ['float64', 'float32'] as const) {
      const a = make(dtype, n * n, 4)
      const b = make(dtype, n * n, 5)
      const one = (): Data => gemmWasm(a, b, 1, n, n, n, dtype) as Data
      const many = (): Data => (gemmThreaded(a, b, 1, n, n, n, dtype) ?? one()) as Data
      if (!same(one(), many())) throw new Error(`matmul ${n} ${dtype}: threads disagree`)
      const [t1, tn] = race([one, many], n >= 1024 ? 200 : n >= 512 ? 40 : quick ? 5 : 15) as [number, number]
      const gf = (us: number): string => ((2 * n ** 3) / (us * 1e3)).toFixed(2)
      console.log(`| ${n} (${n ** 3} multiply-adds) | ${dtype} | ${gf(t1)} | ${gf(tn)} | ${(t1 / tn).toFixed(2)}× |`)
    }
  }
  setThreads(1)
}

// ---- the MLP on one thread and on the pool

if (only === undefined || only === 'mlp') {
  const all = Number(arg('threads') ?? os.availableParallelism())
  console.log(
    `## MLP 784-128-10, batch 128: one thread against ${all} threads (thread threshold ${process.env['PUREDIFF_THREAD_MIN_FLOPS'] ?? 'default'}), ms per call, wall time\n`,
  )
  console.log('| workload | dtype | one thread | all threads | speed-up |')
  console.log('| --- | --- | --- | --- | --- |')
  const prob = makeProblem()
  for (const dtype of ['float64', 'float32'] as const) {
    const p = pdParams(prob.params, dtype)
    const [x, y] = pdData(prob, dtype)
    const with_ =
      (n: number, f: () => unknown): (() => unknown) =>
      () => {
        setThreads(n)
        return f()
      }
    for (const [name, f] of [
      ['SGD step', () => pdStep(p, x, y)],
      ['forward (loss)', () => pdLoss(p, x, y)],
    ] as const) {
      const [t1, tn] = race([with_(1, f), with_(all, f)], quick ? 20 : 60) as [number, number]
      console.log(
        `| ${name} | ${dtype} | ${(t1 / 1000).toFixed(2)} | ${(tn / 1000).toFixed(2)} | ${(t1 / tn).toFixed(2)}× |`,
      )
    }
  }
  setThreads(1)
}
console.log(`\nload average at the end: ${load()}`)
