/**
 * `checkGrads`: JAX's `check_grads` for purediff. It compares automatic derivatives of a
 * function of any parameter tree against extrapolated central differences (`src/numeric`),
 * along random directions, and, when they disagree, finds the parameter element responsible
 * and names it by key path (`head.b[1]`).
 *
 * The math. Forward mode: for a random direction v, the tangent `jvp(f, x, v)` must equal
 * the numeric directional derivative d/dt f(x + t·v), output element by output element.
 * Reverse mode: for a random output cotangent ȳ (1 for a scalar output), the pullback must
 * satisfy the inner-product identity ⟨vjp(f, x)(ȳ), v⟩ = ⟨ȳ, J·v⟩ with J·v taken
 * numerically. Higher orders recurse as JAX does: with `order: 2` the order-1 checks run
 * again on x ↦ jvp(f, x, v₁) (after a fwd check) and on x ↦ vjp(f, x)(ȳ₁) (after a rev
 * check), so `modes: ['fwd', 'rev']` covers fwd-over-fwd, rev-over-fwd, fwd-over-rev and
 * rev-over-rev.
 *
 * The numeric side. Along v it evaluates f(x ± h·v) with h = eps·(1 + ‖x‖₂)/‖v‖₂ (a power of
 * two), so x moves by eps·(1 + ‖x‖₂) in Euclidean length: a relative step eps, however many
 * parameters there are and however they are rotated. (Scaling the step by ‖v‖∞ instead
 * would move x by about eps·(1 + ‖x‖∞)·√n/4 whatever its size, far too far in a model with
 * 100 000 small parameters.) The default eps = ε^(1/(2k+3)) (≈ 7.4e-4 in float64 with the
 * default k = 1 Richardson level) balances truncation against rounding; `laws/numeric.ts`
 * has the derivation.
 *
 * Locating a failure. Both comparisons are linear in the direction v, so the error of v is
 * the sum of the errors of its pieces: the check restricts v to each leaf, keeps the leaf
 * with the worst error-to-tolerance ratio, bisects its elements the same way, and finally
 * measures the single element j along the basis vector e_j. The failure then reports the
 * key path of that element, expected (numeric) and actual (AD) values along e_j, and the
 * tolerance used. If e_j alone is within tolerance, it reports the smallest piece of v that
 * still fails (`direction: 'random'`, `span` elements starting at the path), or all of v if
 * no piece fails on its own: the numbers in a failure always exceed its tolerance. This
 * costs O(log n) extra evaluations.
 *
 * Tolerances. A comparison passes when |actual − expected| ≤ max(atol + rtol·scale, noise),
 * where scale is |expected| for a forward comparison and Σ|ȳᵢ(Jv)ᵢ| (or Σ|x̄ⱼvⱼ| if larger)
 * for an inner product, so cancellation in a sum never makes a check flaky. atol and rtol
 * default by the lowest precision among the inputs and outputs: float64 atol = rtol = 1e-6
 * (the numeric side is good to about 1e-12 relative, so anything past 1e-6 is a bug, not
 * noise); float32 atol = rtol = 1e-3 (the AD side itself rounds in float32, while the
 * numeric side is evaluated on float64 copies). `noise` is the numeric side's rounding floor
 * R·c·ε·|f|/h (ε of the evaluation, c = 4 roundings of f's value, R = 3 the Richardson
 * gain for one level; |f| is the compared output's value, or Σ|ȳᵢfᵢ| for an inner
 * product): a central difference of f cannot resolve a derivative more finely than that,
 * so it is the least tolerance any comparison can have (the larger of the two, not their
 * sum, so a tolerance the numeric side can resolve is applied exactly as given). It is
 * ~1e-12 for ordinary functions and only matters when |f| is huge next to its derivative
 * (a loss near 1e8, say); a failure shows it when it is at least 1% of the tolerance, and
 * the report counts the comparisons it decided (`noiseLimited`).
 *
 * Options are validated: an invalid one throws a `RangeError` naming it and its value.
 *
 * Purity: `f` and `x` are never modified; directions come from a seeded generator, so a
 * check is a pure function of its arguments and its `seed`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { jvp, vjp } from '../src/index.js'
import type { DType } from '../src/index.js'
import type { Flat } from './flat.js'
import { absDotV, dotV, dtypeOfFlat, elementPath, fromFlat, toFlat } from './flat.js'
import type { Located, Measure, Tol } from './localize.js'
import { basis, localize, ratioOf, requestedTolOf, tolOf } from './localize.js'
import { numericSide } from './numeric.js'
import { validateCheckGradsOptions } from './options.js'
import { normals, subSeed } from './prng.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Which automatic derivative is checked: forward (`jvp`) or reverse (`vjp`). @category model @since 0.1.0 */
export type Mode = 'fwd' | 'rev'

/**
 * Options of `checkGrads`.
 * @category model
 * @since 0.1.0
 */
export interface CheckGradsOptions {
  /** Derivative order to check (derivatives of derivatives, as JAX's `order`): a positive integer. Default 1. */
  readonly order?: number
  /** Modes to check, in this order: a non-empty array of `'fwd'` and `'rev'`. Default `['fwd', 'rev']`. */
  readonly modes?: ReadonlyArray<Mode>
  /**
   * Relative step of the numeric side, in (0, 1): x moves by eps·(1 + ‖x‖₂) in Euclidean
   * length (h = eps·(1 + ‖x‖₂)/‖v‖₂). Default ε^(1/(2k+3)) of the evaluation dtype, k the
   * Richardson levels (≈ 7.4e-4 in float64).
   */
  readonly eps?: number
  /** Absolute tolerance, a finite number ≥ 0; default 1e-6 (float64) or 1e-3 (float32). */
  readonly atol?: number
  /** Relative tolerance, a finite number ≥ 0; default 1e-6 (float64) or 1e-3 (float32). */
  readonly rtol?: number
  /** Seed of the random directions and cotangents: an integer (used modulo 2³²). Default 0. */
  readonly seed?: number
  /** Random directions per check: a positive integer. Default 2. */
  readonly directions?: number
  /** Richardson levels of the numeric side (see `src/numeric`): an integer in [0, 8]. Default 1. */
  readonly richardson?: number
}

/**
 * Why a gradient check failed: which derivative, where in the parameters, along which
 * direction, and by how much.
 * @category model
 * @since 0.1.0
 */
export interface GradCheckFailure {
  readonly _tag: 'GradCheckFailure'
  /** the mode whose derivative disagreed */
  readonly mode: Mode
  /** the derivative order that failed (1 + the number of transforms in `via`) */
  readonly order: number
  /** transforms applied to f before this check, innermost first (`['rev']`: x ↦ vjp(f, x)(ȳ₁)) */
  readonly via: ReadonlyArray<Mode>
  /** a readable name of the checked function, e.g. `f` or `x ↦ vjp(f, x)(ȳ₁)` */
  readonly checked: string
  /** key path of the input element responsible, e.g. `head.b[1]` */
  readonly path: string
  /** `basis`: expected/actual are along e[path]; `random`: along the random `tangent` */
  readonly direction: 'basis' | 'random'
  /** how many input elements `tangent` moves: 1 along a basis vector; for `random`, the block of `span` elements starting at `path`, or all of them */
  readonly span: number
  /** the input direction the numbers below are taken along (a tree like x) */
  readonly tangent: unknown
  /** the output weights the numbers are projected on (a tree like f(x)) */
  readonly cotangent: unknown
  /** which output is compared: an element path (`[2]`, `loss`) or `⟨ȳ, ·⟩` */
  readonly output: string
  /** the numeric derivative (central differences with Richardson extrapolation) */
  readonly expected: number
  /** the automatic derivative */
  readonly actual: number
  readonly error: number
  /** max(atol + rtol·scale, noise): error > tolerance */
  readonly tolerance: number
  readonly atol: number
  readonly rtol: number
  /** the numeric side's rounding-noise floor for this comparison (see the module header) */
  readonly noise: number
  readonly dtype: DType
  readonly seed: number
}

/**
 * What a passing check measured.
 * @category model
 * @since 0.1.0
 */
export interface GradCheckReport {
  readonly _tag: 'GradCheckReport'
  /** number of comparisons (one per function, mode and direction) */
  readonly checks: number
  /** the largest |actual − expected| seen */
  readonly maxError: number
  /** the largest error / tolerance seen (≤ 1 when passing) */
  readonly maxErrorRatio: number
  /** the largest noise / (atol + rtol·scale) seen: above 1, the numeric side could not resolve the tolerance asked for */
  readonly maxNoiseRatio: number
  /** how many comparisons were held to the noise floor rather than atol + rtol·scale */
  readonly noiseLimited: number
  readonly order: number
  readonly modes: ReadonlyArray<Mode>
  readonly atol: number
  readonly rtol: number
  readonly dtype: DType
}

/** Default tolerances by dtype (see the module header). @category model @since 0.1.0 */
export const defaultTolerances: Readonly<Record<DType, { readonly atol: number; readonly rtol: number }>> =
  Object.freeze({
    float64: Object.freeze({ atol: 1e-6, rtol: 1e-6 }),
    float32: Object.freeze({ atol: 1e-3, rtol: 1e-3 }),
  })

/**
 * The error `assertGrads` throws: its message is `formatFailure(failure)`.
 * @category model
 * @since 0.1.0
 */
export class GradCheckError extends Error {
  override readonly name = 'GradCheckError'
  constructor(readonly failure: GradCheckFailure) {
    super(formatFailure(failure))
  }
}

// -------------------------------------------------------------------------------------
// the comparison
// -------------------------------------------------------------------------------------

interface Stats {
  checks: number
  maxError: number
  maxErrorRatio: number
  maxNoiseRatio: number
  noiseLimited: number
}

interface Ctx {
  readonly modes: ReadonlyArray<Mode>
  readonly eps: number | undefined
  readonly richardson: number | undefined
  readonly directions: number
  readonly seed: number
  readonly userTol: { readonly atol?: number; readonly rtol?: number }
  readonly stats: Stats
  counter: number
}

const describeFn = (via: ReadonlyArray<Mode>): string =>
  via.reduce((s, m, k) => (m === 'fwd' ? `jvp(${s}, x, v${sub(k + 1)})` : `vjp(${s}, x)(ȳ${sub(k + 1)})`), 'f')
const sub = (k: number): string => String(k).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[Number(d)] as string)
const checkedName = (via: ReadonlyArray<Mode>): string => (via.length === 0 ? 'f' : `x ↦ ${describeFn(via)}`)

const tolFor = (ctx: Ctx, ...fls: ReadonlyArray<Flat>): Tol & { readonly dtype: DType } => {
  const dtype = dtypeOfFlat(...fls)
  const d = defaultTolerances[dtype]
  return { atol: ctx.userTol.atol ?? d.atol, rtol: ctx.userTol.rtol ?? d.rtol, dtype }
}

const record = (ctx: Ctx, m: Measure, t: Tol): void => {
  ctx.stats.checks += 1
  const err = Math.abs(m.actual - m.expected)
  if (Number.isFinite(err)) ctx.stats.maxError = Math.max(ctx.stats.maxError, err)
  ctx.stats.maxErrorRatio = Math.max(ctx.stats.maxErrorRatio, ratioOf(m.expected, m.actual, tolOf(m, t)))
  const noise = m.noise ?? 0
  const asked = requestedTolOf(m, t)
  if (noise > asked) ctx.stats.noiseLimited += 1
  if (noise > 0) ctx.stats.maxNoiseRatio = Math.max(ctx.stats.maxNoiseRatio, asked > 0 ? noise / asked : Infinity)
}

type Fn = (x: unknown) => unknown

/** One mode's check of one function at x. */
const checkOnce = (g: Fn, x: unknown, mode: Mode, via: ReadonlyArray<Mode>, ctx: Ctx): GradCheckFailure | null => {
  const xf = toFlat(x, 'checkGrads')
  const n = xf.values.length
  const y = g(x)
  const yf = toFlat(y, 'checkGrads')
  const mOut = yf.values.length
  if (n === 0 || mOut === 0) return null
  const t = tolFor(ctx, xf, yf)
  const num = numericSide(g, x, xf, yf, ctx.eps, ctx.richardson)
  const absY = yf.values.map(Math.abs)
  const forward = (dir: Float64Array): Float64Array => toFlat(jvp(g, x, fromFlat(xf, dir))[1]).values

  const fail = (seed: number, output: string, w: Float64Array, found: Located): GradCheckFailure => ({
    _tag: 'GradCheckFailure',
    mode,
    order: via.length + 1,
    via,
    checked: checkedName(via),
    path: found.path,
    direction: found.direction,
    span: found.span,
    tangent: fromFlat(xf, found.dir),
    cotangent: fromFlat(yf, w),
    output,
    expected: found.m.expected,
    actual: found.m.actual,
    error: Math.abs(found.m.actual - found.m.expected),
    tolerance: tolOf(found.m, t),
    atol: t.atol,
    rtol: t.rtol,
    noise: found.m.noise ?? 0,
    dtype: t.dtype,
    seed,
  })

  const rev = mode === 'rev' ? vjp(g, x) : null
  for (let d = 0; d < ctx.directions; d++) {
    const seed = subSeed(ctx.seed, ctx.counter++)
    const v = normals(seed, n)
    if (mode === 'fwd') {
      const a = forward(v)
      const { values: e, h } = num.directional(v)
      let worst = -1
      let worstR = 0
      for (let i = 0; i < mOut; i++) {
        const m: Measure = {
          expected: e[i] as number,
          actual: a[i] as number,
          scale: Math.abs(e[i] as number),
          noise: num.noise(h, absY[i] as number),
        }
        record(ctx, m, t)
        const r = ratioOf(m.expected, m.actual, tolOf(m, t))
        if (r > worstR) [worst, worstR] = [i, r]
      }
      if (worstR > 1) {
        const w = basis(mOut, worst)
        const measure = (dir: Float64Array): Measure => {
          const { values: ne, h: hd } = num.directional(dir)
          return {
            expected: ne[worst] as number,
            actual: forward(dir)[worst] as number,
            scale: Math.abs(ne[worst] as number),
            noise: num.noise(hd, absY[worst] as number),
          }
        }
        return fail(seed, elementPath(yf, worst), w, localize(xf, v, measure, t))
      }
    } else {
      const [, pullback] = rev as NonNullable<typeof rev>
      const u = mOut === 1 ? Float64Array.of(1) : normals(subSeed(seed, 1), mOut)
      const xBar = toFlat(pullback(fromFlat(yf, u))).values
      const uy = absDotV(u, absY)
      const measure = (dir: Float64Array): Measure => {
        const { values: ne, h } = num.directional(dir)
        return {
          expected: dotV(u, ne),
          actual: dotV(xBar, dir),
          scale: Math.max(absDotV(u, ne), absDotV(xBar, dir)),
          noise: num.noise(h, uy),
        }
      }
      const m = measure(v)
      record(ctx, m, t)
      if (ratioOf(m.expected, m.actual, tolOf(m, t)) > 1) {
        return fail(seed, mOut === 1 ? elementPath(yf, 0) : '⟨ȳ, ·⟩', u, localize(xf, v, measure, t))
      }
    }
  }
  return null
}

const run = (g: Fn, x: unknown, order: number, via: ReadonlyArray<Mode>, ctx: Ctx): GradCheckFailure | null => {
  for (const mode of ctx.modes) {
    const f = checkOnce(g, x, mode, via, ctx)
    if (f !== null) return f
    if (order > 1) {
      const seed = subSeed(ctx.seed, ctx.counter++)
      let inner: Fn
      if (mode === 'fwd') {
        const xf = toFlat(x)
        const v1 = fromFlat(xf, normals(seed, xf.values.length))
        inner = (z) => jvp(g, z, v1)[1]
      } else {
        const yf = toFlat(g(x))
        const u1 = fromFlat(yf, yf.values.length === 1 ? [1] : normals(seed, yf.values.length))
        inner = (z) => vjp(g, z)[1](u1)
      }
      const h = run(inner, x, order - 1, [...via, mode], ctx)
      if (h !== null) return h
    }
  }
  return null
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Check the automatic derivatives of `f` at `x` (any parameter tree; `f` may return a
 * scalar, a tensor or a tree) against numeric ones, in the given modes and up to `order`.
 * `Right` carries a report; `Left` names the key path, mode, order, direction, expected,
 * actual and tolerance of the first disagreement.
 * @example
 * const r = checkGrads((p: { w: Tensor }) => sum(tanh(p.w)), { w: tensor([0.1, 2]) }, { order: 2 })
 * if (E.isLeft(r)) console.log(formatFailure(r.left))
 * @category constructors
 * @since 0.1.0
 */
export const checkGrads = <X, Y>(
  f: (x: X) => Y,
  x: X,
  options: CheckGradsOptions = {},
): Either<GradCheckFailure, GradCheckReport> => {
  validateCheckGradsOptions('checkGrads', options)
  const order = options.order ?? 1
  const modes = options.modes ?? ['fwd', 'rev']
  const ctx: Ctx = {
    modes,
    eps: options.eps,
    richardson: options.richardson,
    directions: options.directions ?? 2,
    seed: (options.seed ?? 0) >>> 0,
    userTol: {
      ...(options.atol !== undefined ? { atol: options.atol } : {}),
      ...(options.rtol !== undefined ? { rtol: options.rtol } : {}),
    },
    stats: { checks: 0, maxError: 0, maxErrorRatio: 0, maxNoiseRatio: 0, noiseLimited: 0 },
    counter: 0,
  }
  const failure = run(f as Fn, x, order, [], ctx)
  if (failure !== null) return E.left(Object.freeze(failure))
  const t = tolFor(ctx, toFlat(x), toFlat(f(x)))
  return E.right(
    Object.freeze({
      _tag: 'GradCheckReport' as const,
      checks: ctx.stats.checks,
      maxError: ctx.stats.maxError,
      maxErrorRatio: ctx.stats.maxErrorRatio,
      maxNoiseRatio: ctx.stats.maxNoiseRatio,
      noiseLimited: ctx.stats.noiseLimited,
      order,
      modes: Object.freeze([...modes]),
      atol: t.atol,
      rtol: t.rtol,
      dtype: t.dtype,
    }),
  )
}

/**
 * `checkGrads` for tests: returns the report, or throws a `GradCheckError` whose message is
 * the formatted failure (fast-check shows it next to the shrunk counterexample).
 * @category constructors
 * @since 0.1.0
 */
export const assertGrads = <X, Y>(f: (x: X) => Y, x: X, options: CheckGradsOptions = {}): GradCheckReport => {
  const r = checkGrads(f, x, options)
  if (E.isLeft(r)) throw new GradCheckError(r.left)
  return r.right
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fmt = (x: number): string => (Number.isFinite(x) ? x.toPrecision(8) : String(x))

/**
 * A readable, multi-line description of a failure.
 * @category utils
 * @since 0.1.0
 */
export const formatFailure = (f: GradCheckFailure): string => {
  const modeName = f.mode === 'fwd' ? 'forward-mode (JVP)' : 'reverse-mode (VJP)'
  const n = toFlat(f.tangent).values.length
  const dir =
    f.direction === 'basis'
      ? `basis vector e[${f.path}]`
      : f.span >= n
        ? `random normal direction over all ${n} elements (no part of it fails alone; the largest contribution found is at ${f.path})`
        : `random normal direction restricted to a block of ${f.span} elements starting at ${f.path}`
  const out =
    f.mode === 'fwd'
      ? `output ${f.output || '<root>'}`
      : f.output === '⟨ȳ, ·⟩'
        ? 'outputs weighted by a random cotangent ȳ'
        : `output ${f.output}`
  const how = f.mode === 'fwd' ? 'jvp(f, x, v)' : '⟨vjp(f, x)(ȳ), v⟩'
  const tol =
    f.noise > 0 && f.noise >= f.tolerance
      ? `tolerance ${fmt(f.tolerance)} (the numeric side's rounding-noise floor, above atol ${f.atol} + rtol ${f.rtol}·scale, ${f.dtype})`
      : `tolerance ${fmt(f.tolerance)} (atol ${f.atol} + rtol ${f.rtol}·scale, ${f.dtype})`
  // the noise floor is shown when it is within a factor 100 of the tolerance (it then limits what the check can see)
  const noise =
    f.noise > 0 && f.noise >= 0.01 * f.tolerance
      ? [
          `  noise:      ${fmt(f.noise)}  (rounding of f's value divided by the step: the finest difference central differences can resolve here)`,
        ]
      : []
  return [
    `checkGrads: ${modeName} derivative of order ${f.order} is wrong at key path '${f.path}'`,
    `  function:   ${f.checked}`,
    `  direction:  ${dir} (seed ${f.seed})`,
    `  compared:   ${out}`,
    `  expected:   ${fmt(f.expected)}  (central differences, Richardson-extrapolated)`,
    `  actual:     ${fmt(f.actual)}  (${how})`,
    `  error:      ${fmt(f.error)} > ${tol}`,
    ...noise,
  ].join('\n')
}
