/**
 * Kernel laws for the WebAssembly matmul: on fast-check shapes (0, 1, odd sizes, sizes on
 * either side of every block edge: MR = 4, NR = 4 or 8, MC = 64, KC = 256), both dtypes,
 * either operand transposed, batched, with NaN, ±Inf and −0 mixed into the data, every
 * element of the WebAssembly product agrees with the JS reference kernel `matmulJsKernel`.
 *
 * Tolerances, from the summation order (src/kernels/wasm/gemm.ts):
 * - float64: both kernels form ((0 + a₀b₀) + a₁b₁) + … in the same order with one rounding per
 *   operation (neither fuses a multiply-add), so they agree exactly (Object.is, every bit).
 * - float32: the WebAssembly kernel rounds every operation to float32 (u = 2⁻²⁴); the
 *   reference sums in float64 (u' = 2⁻⁵³) and rounds once to float32. With S = Σₚ|aᵢₚ||bₚⱼ|,
 *   the dot-product bound |fl(x·y) − x·y| ≤ γₖ|x|·|y|, γₖ = ku/(1 − ku) (Higham, Accuracy and
 *   Stability, §3.1), gives |wasm − ref| ≤ (γₖ(u) + 2γₖ(u') + u)·S + k·2⁻¹⁴⁹ (the last term
 *   bounds gradual underflow, half a subnormal ulp per operation).
 * - where the reference is NaN or ±Inf, the kernel must give the same (finite data are drawn
 *   from a range whose products and sums cannot overflow float32, so specials arise only
 *   from the specials in the data, through the same operations in the same order).
 *
 * Each law is then run against deliberately broken kernels and must fail.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { Data, DType } from '../../src/tensor/Tensor.js'
import { matmulJsKernel, matmulKernel, matmulTKernel } from '../../src/kernels/matmul.js'
import { gemmWasm, gemmModuleBytes, arenaBytes, ARENA_CAP_BYTES } from '../../src/kernels/wasm/gemm.js'
import { backend, setBackend } from '../../src/kernels/backend.js'
import { transposeKernel } from '../../src/kernels/layout.js'
import { PurediffError } from '../../src/errors.js'
import { simdSupported } from '../../src/kernels/wasm/emit.js'
import { R } from '../../src/ad/trace.js'
import type { Tensor } from '../../src/index.js'
import { fromData, transpose } from '../../src/index.js'
import { dataOf } from '../../src/tensor/Tensor.js'

const toArrayFlat = (t: Tensor): number[] => [...dataOf(t.concrete())]

type Kernel = (
  a: Data,
  b: Data,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
  tA: boolean,
  tB: boolean,
) => Data

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

const u32 = 2 ** -24
const u64 = 2 ** -53
const gamma = (k: number, u: number): number => (k * u) / (1 - k * u)

/** The reference: the JS kernel on explicitly transposed copies. */
const reference = (c: Case): Data => {
  const a = c.tA ? transposeKernel(c.a, [c.batch, c.k, c.m], [0, 2, 1], c.dtype) : c.a
  const b = c.tB ? transposeKernel(c.b, [c.batch, c.n, c.k], [0, 2, 1], c.dtype) : c.b
  return matmulJsKernel(a, b, c.batch, c.m, c.k, c.n, c.dtype)
}

/** Σₚ |A[i,p]| |B[p,j]| in float64, rounded up a hair (its own rounding). */
const absProducts = (c: Case): Float64Array => {
  const abs = (d: Data): Float64Array => Float64Array.from(d, Math.abs)
  const a = c.tA ? transposeKernel(abs(c.a), [c.batch, c.k, c.m], [0, 2, 1], 'float64') : abs(c.a)
  const b = c.tB ? transposeKernel(abs(c.b), [c.batch, c.n, c.k], [0, 2, 1], 'float64') : abs(c.b)
  const s = matmulJsKernel(a, b, c.batch, c.m, c.k, c.n, 'float64')
  return s.map((x) => x * (1 + 2 * gamma(c.k, u64))) as Float64Array
}

/** The law: null when `kernel` agrees with the reference on `c`, else what went wrong. */
const agrees = (kernel: Kernel, c: Case): string | null => {
  const got = kernel(c.a, c.b, c.batch, c.m, c.k, c.n, c.dtype, c.tA, c.tB)
  const want = reference(c)
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`
  if (c.dtype === 'float32' && !(got instanceof Float32Array)) return 'float32 product is not a Float32Array'
  if (c.dtype === 'float64' && !(got instanceof Float64Array)) return 'float64 product is not a Float64Array'
  const s = c.dtype === 'float32' ? absProducts(c) : null
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number
    const w = want[i] as number
    if (s === null || !Number.isFinite(w)) {
      if (!Object.is(g, w)) return `element ${i}: ${g}, expected ${w} (exactly)`
      continue
    }
    const tol = (gamma(c.k, u32) + 2 * gamma(c.k, u64) + u32) * (s[i] as number) + c.k * 2 ** -149
    if (!(Math.abs(g - w) <= tol)) return `element ${i}: ${g}, expected ${w} ± ${tol}`
  }
  return null
}

// ---- arbitraries

const dim = (edges: ReadonlyArray<number>, max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 7, ...edges), fc.integer({ min: 0, max }))

// finite values bounded by 2^40 in magnitude (products ≤ 2^80, sums of ≤ 2^9 of them ≪ float32's 2^128)
const value = fc.oneof(
  { weight: 20, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: -(2 ** 40), max: 2 ** 40, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, -1, 1e-30, -1e-42) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
)

const caseArb = (dtypes: ReadonlyArray<DType>, big = false): fc.Arbitrary<Case> =>
  fc
    .record({
      dtype: fc.constantFrom(...dtypes),
      batch: fc.constantFrom(0, 1, 1, 1, 2, 3),
      m: dim([4, 8, 9, 63, 64, 65], big ? 140 : 20),
      k: big ? dim([255, 256, 257, 300], 520) : dim([4, 8, 9], 20),
      n: dim([4, 8, 9, 15, 16, 17], big ? 70 : 20),
      tA: fc.boolean(),
      tB: fc.boolean(),
      seed: fc.integer(),
      specials: fc.array(
        fc.tuple(fc.boolean(), fc.nat(), fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, -0), value)),
        {
          maxLength: 6,
        },
      ),
    })
    .map(({ dtype, batch, m, k, n, tA, tB, seed, specials }) => {
      // bulk data from a seeded generator (fast-check draws the seed, the specials and shapes)
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

const wasmKernel: Kernel = (a, b, batch, m, k, n, dtype, tA, tB) =>
  gemmWasm(a, b, batch, m, k, n, dtype, tA, tB) as Data

const property = (kernel: Kernel, arb: fc.Arbitrary<Case>) =>
  fc.property(arb, (c) => {
    const v = agrees(kernel, c)
    if (v !== null)
      throw new Error(`${c.dtype} batch ${c.batch} m ${c.m} k ${c.k} n ${c.n} tA ${c.tA} tB ${c.tB}: ${v}`)
  })

// ---- the laws

describe('WebAssembly matmul agrees with the JS reference kernel', () => {
  it('small shapes, both dtypes, transposes, specials', () => {
    fc.assert(property(wasmKernel, caseArb(['float64', 'float32'])), { numRuns: 300, seed: 8101 })
  })
  it('shapes across the register and cache blocks (k past KC = 256, m past MC = 64)', () => {
    fc.assert(property(wasmKernel, caseArb(['float64', 'float32'], true)), { numRuns: 40, seed: 8102 })
  })
  it('matmulTKernel and matmulKernel dispatch to a kernel that satisfies the same law', () => {
    const viaT: Kernel = matmulTKernel
    const plain: Kernel = (a, b, batch, m, k, n, dtype) => matmulKernel(a, b, batch, m, k, n, dtype)
    fc.assert(property(viaT, caseArb(['float64', 'float32'], true)), { numRuns: 20, seed: 8103 })
    fc.assert(
      property(
        plain,
        caseArb(['float64', 'float32'], true).map((c) => ({ ...c, tA: false, tB: false })),
      ),
      {
        numRuns: 20,
        seed: 8104,
      },
    )
  })
  it('an explicit case: NaN, ±Inf and −0 in known places', () => {
    // A = [[NaN, 1], [Inf, 1], [-0, -0]], B = [[1, 2], [0, -Inf]]
    const a = Float64Array.of(NaN, 1, Infinity, 1, -0, -0)
    const b = Float64Array.of(1, 2, 0, -Infinity)
    const got = gemmWasm(a, b, 1, 3, 2, 2, 'float64') as Data
    // row 0: NaN everywhere; row 1: [Inf·1 + 1·0, Inf·2 + 1·(−Inf)] = [Inf, NaN]; row 2: [0 + −0 + −0, 0 + −0 + (−0)(−Inf) = NaN]
    expect([...got]).toEqual([NaN, NaN, Infinity, NaN, 0, NaN])
    expect(Object.is(got[4], 0)).toBe(true) // 0 + (−0) = +0, as in JS
    expect([...got]).toEqual([...matmulJsKernel(a, b, 1, 3, 2, 2, 'float64')])
  })
})

// ---- the laws fail on broken kernels

const fails = (kernel: Kernel, arb: fc.Arbitrary<Case>, seed: number): boolean =>
  fc.check(property(kernel, arb), { numRuns: 100, seed }).failed

describe('the kernel laws fail on deliberately broken kernels', () => {
  const all = caseArb(['float64', 'float32'])
  it('a kernel that drops the last k term', () => {
    const broken: Kernel = (a, b, batch, m, k, n, dtype, tA, tB) => {
      const a2 = a.slice()
      for (let bb = 0; bb < batch; bb++)
        for (let i = 0; i < m; i++) a2[tA ? bb * m * k + (k - 1) * m + i : bb * m * k + i * k + k - 1] = 0
      return wasmKernel(k === 0 ? a : a2, b, batch, m, k, n, dtype, tA, tB)
    }
    expect(fails(broken, all, 1)).toBe(true)
  })
  it('a kernel that ignores transB', () => {
    const broken: Kernel = (a, b, batch, m, k, n, dtype, tA) => wasmKernel(a, b, batch, m, k, n, dtype, tA, false)
    expect(
      fails(
        broken,
        all.filter((c) => c.tB && c.k !== c.n),
        2,
      ),
    ).toBe(true)
  })
  it('a kernel that turns NaN into 0', () => {
    const broken: Kernel = (...args) => wasmKernel(...args).map((x) => (Number.isNaN(x) ? 0 : x)) as Data
    expect(fails(broken, all, 3)).toBe(true)
  })
  it('a float64 kernel that sums in another order (the exactness law sees one rounding)', () => {
    const broken: Kernel = (a0, b0, batch, m, k, n, dtype, tA, tB) => {
      // the same sum, added from p = k − 1 down to 0
      const a = tA ? transposeKernel(a0, [batch, k, m], [0, 2, 1], dtype) : a0
      const b = tB ? transposeKernel(b0, [batch, n, k], [0, 2, 1], dtype) : b0
      const out = new Float64Array(batch * m * n)
      for (let bb = 0; bb < batch; bb++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0
            for (let p = k - 1; p >= 0; p--)
              s += (a[(bb * m + i) * k + p] as number) * (b[(bb * k + p) * n + j] as number)
            out[(bb * m + i) * n + j] = s
          }
      return out
    }
    const f64 = caseArb(['float64']).filter((c) => c.batch > 0 && c.m > 0 && c.n > 0 && c.k >= 3)
    expect(fails(broken, f64, 4)).toBe(true)
  })
  it('a float32 kernel with 16 significant bits (the float32 tolerance is tight enough to see it)', () => {
    const broken: Kernel = (...args) => {
      const r = wasmKernel(...args)
      const bits = new Uint32Array(r.buffer, r.byteOffset, args[6] === 'float32' ? r.length : 0)
      for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] as number) & 0xffffff00
      return r
    }
    expect(
      fails(
        broken,
        caseArb(['float32']).filter((c) => c.k > 0 && c.m * c.n * c.batch > 0),
        5,
      ),
    ).toBe(true)
  })
})

// ---- the backend switch and the arena

describe('backend', () => {
  afterEach(() => void setBackend('auto'))
  it('setBackend("js") forces the JS kernel, "auto" restores WebAssembly where supported', () => {
    expect(setBackend('js')).toBe('js')
    expect(backend()).toBe('js')
    expect(setBackend('auto')).toBe(simdSupported() ? 'wasm' : 'js')
  })
  it('an unknown backend is a PurediffError naming setBackend', () => {
    expect(() => setBackend('gpu' as 'js')).toThrow(PurediffError)
    expect(() => setBackend('gpu' as 'js')).toThrow(/setBackend: unknown backend "gpu"/)
  })
  it('each module is under 4 KiB (what a browser compiles synchronously on its main thread)', () => {
    expect(gemmModuleBytes('float64').length).toBeLessThan(4096)
    expect(gemmModuleBytes('float32').length).toBeLessThan(4096)
  })
  it('the arena stays at the size of the largest call and below the cap', () => {
    const a = new Float64Array(200 * 300).fill(1)
    gemmWasm(a, a, 1, 200, 300, 200, 'float64')
    const size = arenaBytes()
    for (let i = 0; i < 5; i++) gemmWasm(a, a, 1, 200, 300, 200, 'float64')
    expect(arenaBytes()).toBe(size)
    expect(size).toBeLessThanOrEqual(ARENA_CAP_BYTES)
  })
})

// ---- the rules' transposed product: the kernel path equals transpose-then-matmulNoNan exactly

describe('R.matmulNoNanT (what the matmul reverse rules use)', () => {
  const composite = (a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor => {
    const sw = (x: Tensor): Tensor =>
      transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2])
    return R.matmulNoNan(tA ? sw(a) : a, tB ? sw(b) : b)
  }
  const law = (f: typeof R.matmulNoNanT) =>
    fc.property(
      caseArb(['float64', 'float32'], true).filter((c) => c.batch > 0),
      fc.boolean(),
      (c, batched) => {
        const bs = batched ? [c.batch] : []
        if (!batched && c.batch !== 1) return
        const a = fromData(c.a, [...bs, ...(c.tA ? [c.k, c.m] : [c.m, c.k])], c.dtype)
        const b = fromData(c.b, [...bs, ...(c.tB ? [c.n, c.k] : [c.k, c.n])], c.dtype)
        const got = f(a, b, c.tA, c.tB)
        const want = composite(a, b, c.tA, c.tB)
        expect(got.shape).toEqual(want.shape)
        expect(got.dtype).toBe(c.dtype)
        const g = toArrayFlat(got)
        const w = toArrayFlat(want)
        g.forEach((x, i) => {
          if (!Object.is(x, w[i])) throw new Error(`element ${i}: ${x}, expected ${w[i]}`)
        })
      },
    )
  it('equals transpose then matmulNoNan, bit for bit, on every backend', () => {
    fc.assert(law(R.matmulNoNanT), { numRuns: 40, seed: 8105 })
    setBackend('js')
    try {
      fc.assert(law(R.matmulNoNanT), { numRuns: 20, seed: 8106 })
    } finally {
      setBackend('auto')
    }
  })
  it('the law fails on a broken matmulNoNanT (flags swapped)', () => {
    const broken: typeof R.matmulNoNanT = (a, b, tA, tB) => R.matmulNoNanT(a, b, tB, tA)
    expect(fc.check(law(broken), { numRuns: 40, seed: 8107 }).failed).toBe(true)
  })
})
