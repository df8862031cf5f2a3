/**
 * The convolution and pooling primitives (src/primitives/conv.ts, pool.ts) against plain
 * loops written here from the definitions, on fast-check geometries (batch, sizes, strides,
 * paddings including crops, tap and input dilations), in float64 and float32; then the
 * derivative and batching laws (run over the whole table in test/core/primitives.test.ts and
 * batching.test.ts) are shown to fail on deliberately broken conv and pool rules.
 *
 * Tolerances. A convolution output is a sum of K = kh·kw·c products, which the kernels add
 * in another order than the loop (the product kernel blocks k). Any two summation orders
 * of the same K terms differ by at most 2·γ_K·Σ|terms| with γ_K = K·u/(1 − K·u) and u the
 * unit roundoff (Higham, Accuracy and Stability, §3.1): u = 2⁻⁵³ in float64; in float32 the
 * loop runs in float64 on the same float32-rounded inputs, so only the kernel's own sum,
 * γ_K·Σ|terms| with u = 2⁻²⁴, plus the final rounding (u·|y|), separate them. Pooling does no
 * arithmetic beyond a division by the tie count, so it is compared exactly.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import { fromData, grad, jit, mul, nn, relu, reshape, sum, tensor, vmap } from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import { conv2d as convPrim, convShape } from '../../src/primitives/conv.js'
import type { ConvParams } from '../../src/primitives/conv.js'
import { poolScatter, poolSelect } from '../../src/primitives/pool.js'
import type { AnyPrimitive, Primitive, VjpRule, JvpRule } from '../../src/primitives/types.js'
import { checkBatching } from '../../laws/index.js'
import { checkAdjoint, checkJvpVsFd, primFn } from '../helpers/laws.js'

// -------------------------------------------------------------------------------------
// references
// -------------------------------------------------------------------------------------

/** y[n, i, j, o] = Σ x̂[n, i·s + a·d − lo, …, c] · k[a, b, c, o], with the sum of |terms| beside it. */
const convRef = (
  x: ArrayLike<number>,
  xs: ReadonlyArray<number>,
  k: ArrayLike<number>,
  ks: ReadonlyArray<number>,
  p: ConvParams,
): { y: Float64Array; abs: Float64Array; shape: number[] } => {
  const [n, h, w, c] = xs as [number, number, number, number]
  const [kh, kw, , o] = ks as [number, number, number, number]
  const shape = convShape(xs, ks, p)
  const [, ho, wo] = shape as [number, number, number, number]
  const y = new Float64Array(n * ho * wo * o)
  const abs = new Float64Array(y.length)
  // x̂ at dilated coordinates (q, r): x[q / l] where l divides q, else 0
  const at = (b: number, q: number, r: number, ch: number): number => {
    const [lh, lw] = p.lhsDilation
    if (q < 0 || r < 0 || q % lh !== 0 || r % lw !== 0 || q / lh >= h || r / lw >= w) return 0
    return x[((b * h + q / lh) * w + r / lw) * c + ch] as number
  }
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let oc = 0; oc < o; oc++) {
          let s = 0
          let sa = 0
          for (let a = 0; a < kh; a++)
            for (let t = 0; t < kw; t++)
              for (let ch = 0; ch < c; ch++) {
                const q = i * p.stride[0] + a * p.dilation[0] - p.padding[0][0]
                const r = j * p.stride[1] + t * p.dilation[1] - p.padding[1][0]
                const term = at(b, q, r, ch) * (k[((a * kw + t) * c + ch) * o + oc] as number)
                s += term
                sa += Math.abs(term)
              }
          const idx = ((b * ho + i) * wo + j) * o + oc
          y[idx] = s
          abs[idx] = sa
        }
  return { y, abs, shape }
}

/** A convolution geometry whose output is non-empty. */
const geometry = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    c: fc.integer({ min: 1, max: 5 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 6 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    lhsDilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.tuple(
      fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })),
      fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })),
    ),
    seed: fc.integer(),
  })
  .filter((g) => {
    const p = g as unknown as ConvParams
    const [, ho, wo] = convShape([g.n, g.h, g.w, g.c], [g.kh, g.kw, g.c, g.o], p)
    return (ho as number) >= 1 && (wo as number) >= 1
  })

const values = (len: number, seed: number): Float64Array => {
  let a = seed >>> 0
  return Float64Array.from({ length: len }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    return (a / 2 ** 32) * 4 - 2
  })
}

// -------------------------------------------------------------------------------------
// values
// -------------------------------------------------------------------------------------

describe('conv2d primitive against the loop of its definition', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: every geometry (strides, paddings and crops, tap and input dilations)`, () => {
      const u = dtype === 'float64' ? 2 ** -53 : 2 ** -24
      fc.assert(
        fc.property(geometry, (g) => {
          const p: ConvParams = {
            stride: g.stride,
            padding: g.padding,
            dilation: g.dilation,
            lhsDilation: g.lhsDilation,
          }
          const xs = [g.n, g.h, g.w, g.c]
          const ks = [g.kh, g.kw, g.c, g.o]
          const round = (v: Float64Array) => (dtype === 'float32' ? Float64Array.from(Float32Array.from(v)) : v)
          const xv = round(values(g.n * g.h * g.w * g.c, g.seed))
          const kv = round(values(g.kh * g.kw * g.c * g.o, g.seed + 1))
          const ref = convRef(xv, xs, kv, ks, p)
          const y = bind(convPrim, [fromData(xv, xs, dtype), fromData(kv, ks, dtype)], p)
          expect(y.shape).toEqual(ref.shape)
          expect(y.dtype).toBe(dtype)
          const got = y.toTypedArray()
          const K = g.kh * g.kw * g.c
          const gamma = (K * u) / (1 - K * u)
          for (let i = 0; i < got.length; i++) {
            const bound =
              (dtype === 'float64' ? 2 : 1) * gamma * (ref.abs[i] as number) + u * Math.abs(ref.y[i] as number)
            expect(Math.abs((got[i] as number) - (ref.y[i] as number))).toBeLessThanOrEqual(bound)
          }
        }),
        { numRuns: 60, seed: 8 },
      )
    })
  }

  it('the tolerance is not vacuous: a kernel that drops the last tap is rejected', () => {
    // the same comparison on a convolution whose kernel has its last tap zeroed
    const p: ConvParams = {
      stride: [1, 1],
      padding: [
        [0, 0],
        [0, 0],
      ],
      dilation: [1, 1],
      lhsDilation: [1, 1],
    }
    const xv = values(1 * 4 * 4 * 2, 3)
    const kv = values(2 * 2 * 2 * 3, 4)
    const dropped = kv.slice()
    dropped.fill(0, dropped.length - 2 * 3)
    const ref = convRef(xv, [1, 4, 4, 2], kv, [2, 2, 2, 3], p)
    const got = bind(convPrim, [fromData(xv, [1, 4, 4, 2]), fromData(dropped, [2, 2, 2, 3])], p).toTypedArray()
    const gamma = (8 * 2 ** -53) / (1 - 8 * 2 ** -53)
    const within = Array.from(got).every((v, i) => Math.abs(v - ref.y[i]!) <= 2 * gamma * ref.abs[i]!)
    expect(within).toBe(false)
  })

  it('nn.conv2d gives the same values as before (patches by slices), SAME and strided', () => {
    // a hand-checkable case: a 3×3 box filter of ones over ones, SAME padding: the count of
    // in-bounds taps (4 at corners, 6 on edges, 9 inside)
    const y = nn.conv2d(
      { w: fromData(new Float64Array(9).fill(1), [3, 3, 1, 1]), b: tensor([0]) },
      fromData(new Float64Array(16).fill(1), [1, 4, 4, 1]),
      {
        padding: 'SAME',
      },
    )
    expect(Array.from(y.toTypedArray())).toEqual([4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4])
    const s = nn.conv2d(
      { w: fromData(new Float64Array(9).fill(1), [3, 3, 1, 1]), b: tensor([0]) },
      fromData(new Float64Array(16).fill(1), [1, 4, 4, 1]),
      {
        padding: 'SAME',
        stride: 2,
      },
    )
    // SAME with stride 2 on 4: output 2, total padding 1 (0 before, 1 after)
    expect(Array.from(s.toTypedArray())).toEqual([9, 6, 6, 4])
  })
})

/** select and scatter by their definitions (ties shared, NaN windows NaN). */
const poolRef = (x: Float64Array, z: Float64Array, shape: number[], [kh, kw]: [number, number]) => {
  const [n, h, w, c] = shape as [number, number, number, number]
  const ho = h / kh
  const wo = w / kw
  const sel = new Float64Array(n * ho * wo * c)
  const sca = new Float64Array(n * h * w * c)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let ch = 0; ch < c; ch++) {
          const idx: number[] = []
          for (let a = 0; a < kh; a++)
            for (let t = 0; t < kw; t++) idx.push(((b * h + i * kh + a) * w + j * kw + t) * c + ch)
          const vals = idx.map((q) => x[q]!)
          const m = vals.some(Number.isNaN) ? NaN : Math.max(...vals)
          const at = idx.filter((q) => x[q] === m)
          const o = ((b * ho + i) * wo + j) * c + ch
          sel[o] = at.length === 0 ? NaN : at.reduce((s, q) => s + z[q]!, 0) / at.length
          for (const q of idx) sca[q] = Number.isNaN(m) ? NaN : x[q] === m ? z[o]! / at.length : 0
        }
  return { sel, sca }
}

describe('pooling primitives against the loop of their definition', () => {
  it('select and scatter, with ties, NaN and −∞, in both dtypes', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          ho: fc.integer({ min: 1, max: 3 }),
          wo: fc.integer({ min: 1, max: 3 }),
          c: fc.integer({ min: 1, max: 3 }),
          kh: fc.integer({ min: 1, max: 3 }),
          kw: fc.integer({ min: 1, max: 3 }),
          dtype: fc.constantFrom('float64' as const, 'float32' as const),
        }),
        fc.array(fc.constantFrom(-1, 0, 1, 2, 0.5, NaN, -Infinity), { minLength: 200, maxLength: 200 }),
        ({ n, ho, wo, c, kh, kw, dtype }, pool) => {
          const shape = [n, ho * kh, wo * kw, c]
          const len = n * ho * kh * wo * kw * c
          const x = Float64Array.from({ length: len }, (_, i) => pool[i % pool.length]!)
          const z = values(len, len)
          const u = values(n * ho * wo * c, 7)
          const round = (v: Float64Array) => (dtype === 'float32' ? Float64Array.from(Float32Array.from(v)) : v)
          const ref = poolRef(x, round(z), shape, [kh, kw])
          const window = { window: [kh, kw] as [number, number] }
          const sel = bind(poolSelect, [fromData(x, shape, dtype), fromData(round(z), shape, dtype)], window)
          expect(Array.from(sel.toTypedArray())).toEqual(Array.from(round(ref.sel)))
          const uu = round(u)
          const sca = bind(poolScatter, [fromData(x, shape, dtype), fromData(uu, [n, ho, wo, c], dtype)], window)
          // scatter's reference: u spread with the same weights
          const spread = new Float64Array(len)
          for (let b = 0; b < n; b++)
            for (let i = 0; i < ho; i++)
              for (let j = 0; j < wo; j++)
                for (let ch = 0; ch < c; ch++) {
                  const idx: number[] = []
                  for (let a = 0; a < kh; a++)
                    for (let t = 0; t < kw; t++) idx.push(((b * ho * kh + i * kh + a) * wo * kw + j * kw + t) * c + ch)
                  const vals = idx.map((q) => x[q]!)
                  const m = vals.some(Number.isNaN) ? NaN : Math.max(...vals)
                  const at = idx.filter((q) => x[q] === m)
                  const o = ((b * ho + i) * wo + j) * c + ch
                  for (const q of idx) spread[q] = Number.isNaN(m) ? NaN : x[q] === m ? uu[o]! / at.length : 0
                }
          expect(Array.from(sca.toTypedArray())).toEqual(Array.from(round(spread)))
        },
      ),
      { numRuns: 60, seed: 9 },
    )
  })

  it('nn.maxPool2d on the primitive equals the stacked-views path (the gradient too, ties shared)', () => {
    const x = fromData(Float64Array.from([1, 3, 2, 2, 5, 0, 2, 1, 4, 4, 7, 7, 0, 4, 7, 6, 9, 9]), [1, 3, 6, 1])
    // a 3×6 input with 2×2 windows: the last row is cropped (VALID), as the views path does
    const fast = nn.maxPool2d(x, 2)
    const views = nn.maxPool2d(x, 2, {
      padding: [
        [0, 0],
        [0, 0],
      ],
    })
    expect(fast.shape).toEqual([1, 1, 3, 1])
    // windows (rows 0–1): {1, 3, 2, 1} → 3; {2, 2, 4, 4} → 4 (a tie); {5, 0, 7, 7} → 7 (a tie)
    expect(Array.from(fast.toTypedArray())).toEqual([3, 4, 7])
    expect(Array.from(views.toTypedArray())).toEqual([3, 4, 7])
    const w = fromData(Float64Array.from([1, 2, 3]), [1, 1, 3, 1])
    const g = grad((t: Tensor) => sum(mul(nn.maxPool2d(t, 2), w)))(x)
    // weight 1 to the single 3; the tied 4s share weight 2 (1 each); the tied 7s weight 3 (1.5 each)
    expect(Array.from(g.toTypedArray())).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1.5, 1.5, 0, 0, 0, 0, 0, 0])
    const gv = grad((t: Tensor) =>
      sum(
        mul(
          nn.maxPool2d(t, 2, {
            padding: [
              [0, 0],
              [0, 0],
            ],
          }),
          w,
        ),
      ),
    )(x)
    expect(Array.from(gv.toTypedArray())).toEqual(Array.from(g.toTypedArray()))
  })
})

// -------------------------------------------------------------------------------------
// the laws fail on broken rules
// -------------------------------------------------------------------------------------

const CASE = (convPrim.domain as NonNullable<typeof convPrim.domain>).cases
const draw = (shapes: ReadonlyArray<ReadonlyArray<number>>, seed: number): Tensor[] =>
  shapes.map((s, i) =>
    fromData(
      values(
        s.reduce((a, b) => a * b, 1),
        seed + i,
      ),
      s,
    ),
  )

/** Does the law hold on every domain case of `prim` (ten draws each)? */
const lawHolds = (prim: AnyPrimitive, law: 'jvp-fd' | 'adjoint'): boolean =>
  CASE.every((dcase, ci) =>
    Array.from({ length: 10 }, (_, r) => r).every((r) => {
      const xs = draw(dcase.shapes, 100 * ci + 3 * r)
      const vs = draw(dcase.shapes, 100 * ci + 3 * r + 1)
      const f = primFn(prim as Primitive<unknown>, dcase.params)
      const y = f(xs)
      const yBar = draw([y.shape], 100 * ci + 3 * r + 2)[0] as Tensor
      return (law === 'jvp-fd' ? checkJvpVsFd(f, xs, vs) : checkAdjoint(f, xs, vs, yBar)).ok
    }),
  )

describe('the derivative and batching laws fail on a deliberately broken conv2d or pooling rule', () => {
  const vjps = convPrim.vjp as ReadonlyArray<VjpRule<ConvParams>>
  const jvps = convPrim.jvp as ReadonlyArray<JvpRule<ConvParams>>

  it('the unbroken conv2d passes both laws here (the harness is not trivially failing)', () => {
    expect(lawHolds(convPrim as AnyPrimitive, 'jvp-fd')).toBe(true)
    expect(lawHolds(convPrim as AnyPrimitive, 'adjoint')).toBe(true)
  })

  it('adjointness rejects an input cotangent that forgets to flip the kernel', () => {
    const unflipped: AnyPrimitive = {
      ...convPrim,
      name: 'unflippedConv',
      vjp: [
        (yBar, [x, k], y, p, R) => {
          // the transposed convolution with k's spatial axes in forward order (not flipped):
          // run the correct rule on an already-flipped kernel, which flips it back
          const rev = (n: number) => Int32Array.from({ length: n }, (_, i) => n - 1 - i)
          const kf = R.gather(R.gather(k!, rev(k!.shape[0] as number), 0), rev(k!.shape[1] as number), 1)
          return (vjps[0] as VjpRule<ConvParams>)(yBar, [x!, kf], y, p, R)
        },
        vjps[1] as VjpRule<ConvParams>,
      ],
    }
    expect(lawHolds(unflipped, 'jvp-fd')).toBe(true) // forward mode is still right
    expect(lawHolds(unflipped, 'adjoint')).toBe(false)
  })

  it('adjointness rejects a kernel cotangent with stride and tap dilation swapped back', () => {
    const swapped: AnyPrimitive = {
      ...convPrim,
      name: 'swappedConv',
      vjp: [
        vjps[0] as VjpRule<ConvParams>,
        (yBar, [x, k], y, p, R) =>
          (vjps[1] as VjpRule<ConvParams>)(
            yBar,
            [x!, k!],
            y,
            { ...p, padding: [p.padding[0], [p.padding[1][0] + 1, p.padding[1][1]]] },
            R,
          ),
      ],
    }
    expect(lawHolds(swapped, 'adjoint')).toBe(false)
  })

  it('JVP vs central differences rejects a forward rule that drops the kernel tangent', () => {
    const noKernelTangent: AnyPrimitive = {
      ...convPrim,
      name: 'noKernelTangentConv',
      jvp: [jvps[0] as JvpRule<ConvParams>, (kDot, [x], _y, p, R) => R.mul(R.conv2d(x!, kDot, p), 0)],
    }
    expect(lawHolds(noKernelTangent, 'jvp-fd')).toBe(false)
  })

  it('the batching law rejects a conv2d whose kernel-batched rule folds the batch into the wrong axis', () => {
    const bad: AnyPrimitive = {
      ...convPrim,
      name: 'badBatchConv',
      batch: ([x, k], [dx, dk], p, R, self) => {
        if (dx !== null && dx !== undefined)
          return convPrim.batch([x!, k!], [dx, dk ?? null], p as ConvParams, R, self as never)
        const kf = dk === 0 ? k! : R.transpose(k!, [dk as number, ...[0, 1, 2, 3, 4].filter((i) => i !== dk)])
        const [b, kh, kw, c, o] = kf.shape as [number, number, number, number, number]
        // folds batch-major (b·o) where the output unfolds output-major: entries are permuted
        const kk = R.reshape(R.transpose(kf, [1, 2, 3, 4, 0]), [kh, kw, c, b * o])
        const y = self([x!, kk], p)
        return [R.reshape(y, [...y.shape.slice(0, 3), b, o]), 3]
      },
    }
    const dcase = CASE[0]!
    const xs = draw(dcase.shapes, 5)
    const kb = draw([[3, ...dcase.shapes[1]!]], 6)[0] as Tensor
    const f = (x: Tensor, k: Tensor) => bind(bad, [x, k], dcase.params)
    expect(E.isLeft(checkBatching(f, [xs[0] as Tensor, kb], { inAxes: [null, 0] }))).toBe(true)
    const good = (x: Tensor, k: Tensor) => bind(convPrim, [x, k], dcase.params)
    expect(E.isRight(checkBatching(good, [xs[0] as Tensor, kb], { inAxes: [null, 0] }))).toBe(true)
  })

  it('adjointness rejects a pooling whose scatter spreads the cotangent over the whole window', () => {
    const spread: AnyPrimitive = {
      ...poolSelect,
      name: 'spreadPool',
      vjp: [
        null,
        (yBar, [x], _y, p, R) => R.poolScatter(R.mul(x!, 0), yBar, (p as { window: [number, number] }).window),
      ],
    }
    const dcase = (poolSelect.domain as NonNullable<typeof poolSelect.domain>).cases[0]!
    const f = primFn(spread as Primitive<unknown>, dcase.params)
    // distinct values: one maximum per window
    const x = fromData(
      Float64Array.from({ length: 32 }, (_, i) => ((i * 7) % 32) / 8),
      dcase.shapes[0]!,
    )
    const z = draw([dcase.shapes[1]!], 11)[0] as Tensor
    const vs = [fromData(new Float64Array(32), dcase.shapes[0]!), draw([dcase.shapes[1]!], 12)[0] as Tensor]
    const yBar = draw([[1, 2, 2, 2]], 13)[0] as Tensor
    expect(checkAdjoint(f, [x, z], vs, yBar).ok).toBe(false)
    const good = primFn(poolSelect as Primitive<unknown>, dcase.params)
    expect(checkAdjoint(good, [x, z], vs, yBar).ok).toBe(true)
  })
})

describe('conv2d and max pooling under jit and vmap', () => {
  const r = (n: number, s: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * s))
  const p = { w: fromData(r(3 * 3 * 2 * 4, 0.7), [3, 3, 2, 4]), b: fromData(r(4, 0.3), [4]) }
  const x = fromData(r(3 * 6 * 6 * 2, 0.11), [3, 6, 6, 2])
  const loss = (q: typeof p, t: Tensor) => sum(nn.maxPool2d(relu(nn.conv2d(q, t, { padding: 'SAME' })), 2))

  it('jit(grad) equals eager grad to the last bit (the staged program runs the same kernels)', () => {
    const eager = grad(loss)(p, x)
    const staged = jit(grad(loss))(p, x)
    expect(Array.from(staged.w.toTypedArray())).toEqual(Array.from(eager.w.toTypedArray()))
    expect(Array.from(staged.b.toTypedArray())).toEqual(Array.from(eager.b.toTypedArray()))
  })

  it('per-example gradients by vmap(grad) sum to the batch gradient', () => {
    const per = vmap((xi: Tensor) => grad((q: typeof p) => loss(q, xi))(p).w)(reshape(x, [3, 1, 6, 6, 2]))
    expect(per.shape).toEqual([3, 3, 3, 2, 4])
    const total = sum(per, 0).toTypedArray()
    const batch = grad(loss)(p, x).w.toTypedArray()
    // each entry of w̄ sums K = 3·6·6 = 108 terms x̂·ȳ with |x̂| ≤ 1 (sines) and 0 ≤ ȳ ≤ 1 (the
    // cotangent of a sum through relu and max pooling), so Σ|terms| ≤ K; two summation orders
    // differ by at most 2·γ_K·K with γ_K = K·u / (1 − K·u), u = 2⁻⁵³
    const K = 108
    const u = 2 ** -53
    const bound = ((2 * K * u) / (1 - K * u)) * K
    for (let i = 0; i < batch.length; i++) expect(Math.abs(total[i]! - batch[i]!)).toBeLessThanOrEqual(bound)
  })
})
