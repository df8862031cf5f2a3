/**
 * L-BFGS (Nocedal 1980; Liu & Nocedal 1989) with a strong-Wolfe zoom line search (Nocedal &
 * Wright, "Numerical Optimization", 2nd ed., Algorithms 3.5 and 3.6), as a gradient
 * transformation. The direction is d = −H g from the two-loop recursion over the last m
 * pairs (sᵢ, yᵢ) = (θᵢ₊₁ − θᵢ, gᵢ₊₁ − gᵢ) with H₀ = γI, γ = ⟨s, y⟩/⟨y, y⟩ of the newest pair
 * (1 before any); a pair is kept only when ⟨s, y⟩ > 0. The step α along d satisfies
 *   f(θ + αd) ≤ f(θ) + c₁ α ⟨g, d⟩   and   |⟨∇f(θ + αd), d⟩| ≤ c₂ |⟨g, d⟩|,
 * found by doubling α from α₀ (1, or 1/‖g‖ on the first update when ‖g‖ > 1) and zooming
 * into a bracket with safeguarded cubic interpolation; near a minimum, where f stops resolving
 * the decrease, Hager & Zhang's approximate Wolfe conditions are accepted too. The update is αd
 * (zero, with `linesearchOk` false, when no acceptable step is found).
 *
 * The line search evaluates the objective, so `lbfgs(objective)` takes it at construction:
 * a function of the params alone. In a training stream use it with the full data set in
 * one batch (its gradient is then the one the stream passes to `update`).
 *
 * The arithmetic runs on one float64 vector of all the parameters (concrete values only,
 * not inside a transform). State: plain frozen data (1-D tensors and numbers), JSON-encodable.
 * Purity: every update returns fresh frozen updates and state.
 */
import { PurediffError } from '../errors.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor, Tensor, fromData } from '../tensor/Tensor.js'
import type { DType } from '../tensor/Tensor.js'
import type { Leaf } from '../tree/Tree.js'
import { flatten, unflatten } from '../tree/Tree.js'
import { valueAndGrad } from '../transforms/transforms.js'
import type { GradientTransformation } from './GradientTransformation.js'
import { checkNumber, result } from './internal.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** State of `lbfgs`. @category model @since 0.2.0 */
export type LbfgsState = {
  readonly count: number
  /** The memory: newest last, as 1-D float64 tensors over all the parameters. */
  readonly s: ReadonlyArray<Tensor>
  readonly y: ReadonlyArray<Tensor>
  /** The previous gradient and update (null before the first update). */
  readonly prevGrad: Tensor | null
  readonly prevUpdate: Tensor | null
  /** The last step length α and whether the line search met both Wolfe conditions. */
  readonly stepSize: number
  readonly linesearchOk: boolean
  /** Objective evaluations by the last line search. */
  readonly evaluations: number
}

/** Options of `lbfgs`. @category model @since 0.2.0 */
export interface LbfgsOptions {
  /** Pairs kept (default 10). */
  readonly memorySize?: number
  /** H₀ = γI from the newest pair (default true). */
  readonly scaleInitPrecond?: boolean
  /** Trial steps of the line search, bracketing and zooming each (default 20). */
  readonly maxLinesearchSteps?: number
  /** Sufficient-decrease constant c₁ (default 1e-4). */
  readonly c1?: number
  /** Curvature constant c₂ (default 0.9). */
  readonly c2?: number
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

type Layout = {
  readonly def: ReturnType<typeof flatten>[1]
  readonly shapes: ReadonlyArray<ReadonlyArray<number> | null>
  readonly dtypes: ReadonlyArray<DType>
  readonly n: number
}

const toVector = (tree: unknown, op: string): [Float64Array, Layout] => {
  const [leaves, def] = flatten(tree, op)
  const parts: ArrayLike<number>[] = leaves.map((l) => {
    if (typeof l === 'number') return [l]
    if (!(l instanceof ConcreteTensor))
      throw new PurediffError('ValueError', 'needs concrete params and gradients (not inside a transform)', { op })
    return l.toTypedArray()
  })
  const n = parts.reduce((s, p) => s + p.length, 0)
  const v = new Float64Array(n)
  let at = 0
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) v[at + i] = p[i] as number
    at += p.length
  }
  return [
    v,
    {
      def,
      shapes: leaves.map((l) => (typeof l === 'number' ? null : l.shape)),
      dtypes: leaves.map((l) => (l instanceof Tensor ? l.dtype : 'float64')),
      n,
    },
  ]
}

const fromVector = <P>(v: Float64Array, layout: Layout): P => {
  let at = 0
  const leaves: Leaf[] = layout.shapes.map((shape, i) => {
    if (shape === null) return v[at++] as number
    const size = shape.reduce((a, b) => a * b, 1)
    const t = fromData(v.subarray(at, at + size), shape, layout.dtypes[i])
    at += size
    return t
  })
  return unflatten<P>(layout.def, leaves)
}

const dotV = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

const vec = (t: Tensor): Float64Array => Float64Array.from((t as ConcreteTensor).toTypedArray())

const asNumber = (x: unknown): number => (typeof x === 'number' ? x : (x as ConcreteTensor).item())

/** The minimizer of the cubic through (a, fa, da), (b, fb, db), or null when it has none. */
const cubicMin = (a: number, fa: number, da: number, b: number, fb: number, db: number): number | null => {
  const d1 = da + db - (3 * (fa - fb)) / (a - b)
  const disc = d1 * d1 - da * db
  if (!(disc >= 0)) return null
  const d2 = Math.sign(b - a) * Math.sqrt(disc)
  const t = b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2))
  return Number.isFinite(t) ? t : null
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * L-BFGS with a strong-Wolfe zoom line search over a fixed objective (see the module header).
 * @example
 * const f = (p) => sum(square(sub(p, tensor([1, 2]))))
 * const opt = lbfgs(f)
 * const p0 = tensor([0, 0])
 * const [u0, s1] = opt.update(grad(f)(p0), opt.init(p0), p0)
 * const p1 = add(p0, u0) // a first step of length 1/‖g‖ (no curvature known yet)
 * const [u1] = opt.update(grad(f)(p1), s1, p1)
 * add(p1, u1) // ≈ [1, 2]
 * @category optimizers
 * @since 0.2.0
 */
export const lbfgs = <P>(
  objective: (params: P) => TensorLike,
  opts: LbfgsOptions = {},
): GradientTransformation<LbfgsState> => {
  const op = 'lbfgs'
  if (typeof objective !== 'function')
    throw new PurediffError('ValueError', 'expected the objective, a function of the params', { op })
  const m = opts.memorySize ?? 10
  if (!Number.isInteger(m) || m < 1)
    throw new PurediffError('ValueError', `memorySize must be a positive integer, got ${String(m)}`, { op })
  const maxSteps = opts.maxLinesearchSteps ?? 20
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    throw new PurediffError('ValueError', `maxLinesearchSteps must be a positive integer, got ${String(maxSteps)}`, {
      op,
    })
  const c1 = checkNumber(opts.c1 ?? 1e-4, 'c1', op, { min: 0, max: 1 })
  const c2 = checkNumber(opts.c2 ?? 0.9, 'c2', op, { min: c1, max: 1 })
  const scaleInit = opts.scaleInitPrecond ?? true
  const vg = valueAndGrad((p: P) => objective(p) as Tensor)

  return Object.freeze({
    init: <Q>(_params: Q): LbfgsState =>
      Object.freeze({
        count: 0,
        s: Object.freeze([]),
        y: Object.freeze([]),
        prevGrad: null,
        prevUpdate: null,
        stepSize: 0,
        linesearchOk: true,
        evaluations: 0,
      }),
    update: <Q>(grads: Q, state: LbfgsState, params?: Q): readonly [Q, LbfgsState] => {
      if (params === undefined)
        throw new PurediffError('ValueError', 'needs the params: call update(grads, state, params)', { op })
      const [g, layout] = toVector(grads, op)
      const [x] = toVector(params, op)
      if (x.length !== g.length) throw new PurediffError('TreeError', 'params and gradients differ in size', { op })
      const n = g.length
      // 1. memory: the pair from the previous update, if it has positive curvature
      let S = state.s.map(vec)
      let Y = state.y.map(vec)
      if (state.prevGrad !== null && state.prevUpdate !== null) {
        const s = vec(state.prevUpdate)
        const pg = vec(state.prevGrad)
        const y = g.map((v, i) => v - (pg[i] as number))
        if (dotV(s, y) > 1e-12 * Math.sqrt(dotV(s, s) * dotV(y, y))) {
          S = [...S, s].slice(-m)
          Y = [...Y, y].slice(-m)
        }
      }
      const gNorm = Math.sqrt(dotV(g, g))
      const zero = new Float64Array(n)
      const freeze = (alpha: number, ok: boolean, evals: number, upd: Float64Array): LbfgsState =>
        Object.freeze({
          count: state.count + 1,
          s: Object.freeze(S.map((v) => fromData(v, [n]))),
          y: Object.freeze(Y.map((v) => fromData(v, [n]))),
          prevGrad: fromData(g, [n]),
          prevUpdate: fromData(upd, [n]),
          stepSize: alpha,
          linesearchOk: ok,
          evaluations: evals,
        })
      if (gNorm === 0) return result(fromVector<Q>(zero, layout), freeze(0, true, 0, zero))
      // 2. the two-loop recursion: r = H g
      const q = Float64Array.from(g)
      const k = S.length
      const alphas = new Array<number>(k)
      const rhos = S.map((s, i) => 1 / dotV(s, Y[i] as Float64Array))
      for (let i = k - 1; i >= 0; i--) {
        const a = (rhos[i] as number) * dotV(S[i] as Float64Array, q)
        alphas[i] = a
        const yi = Y[i] as Float64Array
        for (let j = 0; j < n; j++) q[j] = (q[j] as number) - a * (yi[j] as number)
      }
      const newest = k - 1
      const gamma =
        scaleInit && k > 0
          ? dotV(S[newest] as Float64Array, Y[newest] as Float64Array) /
            dotV(Y[newest] as Float64Array, Y[newest] as Float64Array)
          : 1
      const r = q.map((v) => gamma * v)
      for (let i = 0; i < k; i++) {
        const b = (rhos[i] as number) * dotV(Y[i] as Float64Array, r)
        const si = S[i] as Float64Array
        for (let j = 0; j < n; j++) r[j] = (r[j] as number) + (si[j] as number) * ((alphas[i] as number) - b)
      }
      let d = r.map((v) => -v)
      let slope0 = dotV(g, d)
      if (!(slope0 < 0)) {
        // not a descent direction (numerical trouble): forget the memory, go downhill
        S = []
        Y = []
        d = g.map((v) => -v)
        slope0 = -gNorm * gNorm
      }
      // 3. the line search on φ(α) = f(θ + αd)
      let evals = 0
      const phi = (alpha: number): [number, number] => {
        evals++
        const xa = x.map((v, i) => v + alpha * (d[i] as number))
        const [val, gr] = vg(fromVector<P>(xa, layout))
        const [ga] = toVector(gr, op)
        return [asNumber(val), dotV(ga, d)]
      }
      const f0 = asNumber(vg(fromVector<P>(x, layout))[0])
      evals++
      const armijo = (alpha: number, f: number): boolean => f <= f0 + c1 * alpha * slope0
      const curvature = (dphi: number): boolean => Math.abs(dphi) <= -c2 * slope0
      // Hager & Zhang's approximate Wolfe conditions, for when f no longer resolves the
      // decrease (near a minimum, f − f* falls below f's rounding): the value within rounding
      // of f(θ) and c₂φ'(0) ≤ φ'(α) ≤ (2c₁ − 1)φ'(0)
      const approxWolfe = (f: number, dphi: number): boolean =>
        Math.abs(f - f0) <= 1e-10 * Math.abs(f0) && dphi >= c2 * slope0 && dphi <= (2 * c1 - 1) * slope0
      let best: [number, number] = [0, f0]
      const consider = (alpha: number, f: number): void => {
        if (armijo(alpha, f) && f < best[1]) best = [alpha, f]
      }
      const zoom = (lo0: [number, number, number], hi0: [number, number, number]): [number, boolean] => {
        let lo = lo0
        let hi = hi0
        for (let j = 0; j < maxSteps; j++) {
          const [a, fa, da] = lo
          const [b, fb, db] = hi
          const width = Math.abs(b - a)
          const lower = Math.min(a, b) + 0.1 * width
          const upper = Math.max(a, b) - 0.1 * width
          const c = cubicMin(a, fa, da, b, fb, db)
          const t = c !== null && c >= lower && c <= upper ? c : (a + b) / 2
          const [ft, dt] = phi(t)
          consider(t, ft)
          if (approxWolfe(ft, dt)) return [t, true]
          if (!armijo(t, ft) || ft >= fa) hi = [t, ft, dt]
          else {
            if (curvature(dt)) return [t, true]
            if (dt * (b - a) >= 0) hi = lo
            lo = [t, ft, dt]
          }
          if (width < 1e-14 * Math.max(1, Math.abs(a))) break
        }
        return [best[0], false]
      }
      let alpha = state.count === 0 && gNorm > 1 ? 1 / gNorm : 1
      let prev: [number, number, number] = [0, f0, slope0]
      let found: [number, boolean] = [0, false]
      for (let i = 0; i < maxSteps; i++) {
        const [fa, da] = phi(alpha)
        consider(alpha, fa)
        if (approxWolfe(fa, da)) {
          found = [alpha, true]
          break
        }
        if (!armijo(alpha, fa) || (i > 0 && fa >= prev[1]) || !Number.isFinite(fa)) {
          found = zoom(prev, [alpha, Number.isFinite(fa) ? fa : Infinity, Number.isFinite(da) ? da : 0])
          break
        }
        if (curvature(da)) {
          found = [alpha, true]
          break
        }
        if (da >= 0) {
          found = zoom([alpha, fa, da], prev)
          break
        }
        prev = [alpha, fa, da]
        alpha *= 2
        found = [best[0], false]
      }
      const step = found[0]
      const upd = d.map((v) => step * v)
      return result(fromVector<Q>(upd, layout), freeze(step, found[1], evals, upd))
    },
  })
}
