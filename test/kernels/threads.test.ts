/**
 * The worker pool (src/kernels/wasm/pool.ts): a product split across threads equals the
 * one-thread WebAssembly product exactly, in both dtypes. Each element of C is computed by one
 * thread, with the same k-blocking and the same summation order as on one thread, so the
 * tolerance is zero (Object.is on every element, NaN, ±Inf and −0 included); the one-thread
 * kernel is itself checked against the JS reference in test/kernels/matmul.test.ts.
 * The law is shown to fail on deliberately broken threaded kernels (a lost band, a band one
 * register block off). Then: the thread count setting, its errors, and a Node process with a
 * pool exits by itself.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Data, DType } from '../../src/tensor/Tensor.js'
import { gemmWasm } from '../../src/kernels/wasm/gemm.js'
import { gemmThreaded, threadMinFlops, workerJobs } from '../../src/kernels/wasm/pool.js'
import { backend, setThreads, threads } from '../../src/kernels/backend.js'
import { PurediffError } from '../../src/errors.js'
import { simdSupported } from '../../src/kernels/wasm/emit.js'

interface Case {
  readonly dtype: DType
  readonly batch: number
  readonly m: number
  readonly k: number
  readonly n: number
  readonly tA: boolean
  readonly tB: boolean
  readonly a: Data
  readonly b: Data
}
type Kernel = (c: Case) => Data | null

const dim = (edges: ReadonlyArray<number>, max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 7, ...edges), fc.integer({ min: 0, max }))

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    dtype: fc.constantFrom<DType>('float64', 'float32'),
    batch: fc.constantFrom(0, 1, 1, 1, 2, 3),
    m: dim([4, 8, 9, 63, 64, 65], 140),
    k: dim([255, 256, 257, 300], 400),
    n: dim([4, 8, 9, 15, 16, 17], 90),
    tA: fc.boolean(),
    tB: fc.boolean(),
    seed: fc.integer(),
    specials: fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0)), {
      maxLength: 4,
    }),
  })
  .map(({ dtype, batch, m, k, n, tA, tB, seed, specials }) => {
    let x = seed | 0
    const next = (): number => {
      x = (Math.imul(x, 1664525) + 1013904223) | 0
      return ((x >>> 8) / 2 ** 24) * 4 - 2
    }
    const fill = (len: number): Data => {
      const d = dtype === 'float32' ? new Float32Array(len) : new Float64Array(len)
      for (let i = 0; i < len; i++) d[i] = next()
      return d
    }
    const a = fill(batch * m * k)
    const b = fill(batch * k * n)
    for (const [inA, pos, v] of specials) {
      const d = inA ? a : b
      if (d.length > 0) d[pos % d.length] = v
    }
    return { dtype, batch, m, k, n, tA, tB, a, b }
  })

const oneThread = (c: Case): Data => gemmWasm(c.a, c.b, c.batch, c.m, c.k, c.n, c.dtype, c.tA, c.tB) as Data
const threaded: Kernel = (c) => gemmThreaded(c.a, c.b, c.batch, c.m, c.k, c.n, c.dtype, c.tA, c.tB)

/** null when `kernel` equals the one-thread product on `c` bit for bit (or declines: null), else what differs. */
const agrees = (kernel: Kernel, c: Case): string | null => {
  const got = kernel(c)
  if (got === null) return c.batch * c.m * c.n === 0 || c.k === 0 || Math.max(c.m, c.n) <= 8 ? null : 'declined'
  const want = oneThread(c)
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`
  if (got.constructor !== want.constructor) return `${got.constructor.name}, expected ${want.constructor.name}`
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) return `element ${i}: ${got[i]}, expected ${want[i]} (exactly)`
  return null
}

const property = (kernel: Kernel) =>
  fc.property(caseArb, (c) => {
    const v = agrees(kernel, c)
    if (v !== null)
      throw new Error(`${c.dtype} batch ${c.batch} m ${c.m} k ${c.k} n ${c.n} tA ${c.tA} tB ${c.tB}: ${v}`)
  })

const canThread = simdSupported() && backend() === 'wasm'

describe.runIf(canThread)('a product split across two threads', () => {
  beforeAll(() => void setThreads(2))
  afterAll(() => void setThreads(1))

  it('a pool of two threads runs here', () => {
    expect(threads()).toBe(2)
  })
  it('equals the one-thread product exactly, both dtypes, transposes, batches, specials', () => {
    const before = workerJobs()
    fc.assert(property(threaded), { numRuns: 120, seed: 8201 })
    expect(workerJobs()).toBeGreaterThan(before) // the workers took part
  })
  it('the law fails on a threaded kernel that loses the last band', () => {
    const broken: Kernel = (c) => {
      const r = threaded(c)
      if (r === null || r.length === 0) return r
      const out = r.slice()
      out[out.length - 1] = (out[out.length - 1] as number) + 1 // a lost band: its last element is wrong
      return out
    }
    expect(fc.check(property(broken), { numRuns: 100, seed: 8202 }).failed).toBe(true)
  })
  it('the law fails on a band one register block off (band 2 computed from band 1’s columns)', () => {
    const broken: Kernel = (c) => {
      const r = threaded(c)
      if (r === null || c.n < 16 || c.n < c.m) return r
      // shift the second half of every row's columns by NR = 4 (float64) or 8 (float32)
      const nr = c.dtype === 'float64' ? 4 : 8
      const out = r.slice()
      const half = Math.floor(c.n / 2)
      for (let row = 0; row < c.batch * c.m; row++)
        for (let j = half; j < c.n; j++) out[row * c.n + j] = r[row * c.n + j - nr] as number
      return out
    }
    expect(fc.check(property(broken), { numRuns: 200, seed: 8203 }).failed).toBe(true)
  })
})

describe('thread settings', () => {
  afterAll(() => void setThreads(1))
  it('setThreads returns the count in use: 1 turns the pool off', () => {
    expect(setThreads(1)).toBe(1)
    expect(threads()).toBe(1)
    expect(gemmThreaded(new Float64Array(64), new Float64Array(64), 1, 8, 8, 8, 'float64')).toBeNull()
  })
  it('a count that is not a whole number from 1 to 256 is a PurediffError naming setThreads', () => {
    for (const bad of [0, -1, 1.5, NaN, 257]) {
      expect(() => setThreads(bad)).toThrow(PurediffError)
      expect(() => setThreads(bad)).toThrow(/setThreads: expected a whole number of threads/)
    }
  })
  it('the threshold is a number of multiply-adds (the environment may lower it)', () => {
    expect(threadMinFlops()).toBeGreaterThanOrEqual(0)
  })
})

describe.runIf(canThread)('lifetime', () => {
  it('a Node process that used the pool exits by itself', () => {
    const fixture = fileURLToPath(new URL('./fixtures/pool-exit.ts', import.meta.url))
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PUREDIFF_THREAD_MIN_FLOPS: '0', PUREDIFF_WASM_MIN_FLOPS: '0' },
    })
    expect(r.error).toBeUndefined()
    expect(r.status).toBe(0)
    expect(r.stdout.trim()).toBe('2 64')
  })
})
