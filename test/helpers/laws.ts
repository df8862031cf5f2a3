/**
 * The derivative laws the core suite checks, as plain functions returning a report (never
 * throwing on a violated law), so the same checker runs over the whole primitive table and
 * over deliberately broken rules, where it must report the failure.
 *
 * For F: (x₁, …, xₙ) ↦ y with Jacobian J, tangents v, u and a cotangent ȳ:
 * - JVP vs central differences: J·w = d/dt F(x + t·w) at 0 (Richardson, `fd.ts`; rtol 1e-7),
 *   along the coordinate-scaled direction wᵢ = (|xᵢ| + 1)·vᵢ that sets each coordinate's step.
 * - Adjointness: ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩, an identity of the exact derivative that both sides
 *   compute with the same partials in a different order, so it holds up to rounding:
 *   |lhs − rhs| ≤ 1e-12·S with S = Σ|ȳᵢ(Jv)ᵢ| + Σ|(Jᵀȳ)ⱼvⱼ| (each side's sum of absolute
 *   terms; a few dozen roundings of relative size 2⁻⁵³ stay far below 1e-12).
 * - Second order, forward-over-reverse vs differences: with φ(x) = ⟨ȳ, F(x)⟩, jvp(∇φ)(x; w) =
 *   H·w equals d/dt ∇φ(x + t·w) (rtol 1e-7, as for first order; w scaled as above).
 * - Second order, modes: the scalar uᵀ·H·v is computed four ways, forward-over-forward
 *   ⟨ȳ, D²F[v, u]⟩, reverse-over-reverse ⟨v, ∇⟨∇φ, u⟩⟩, forward-over-reverse
 *   ⟨u, jvp(∇φ; v)⟩ and reverse-over-forward ⟨u, ∇⟨ȳ, jvp(F; v)⟩⟩; exact math makes them
 *   equal, floating point up to rounding (rtol 1e-10 of the sum of absolute terms).
 * - dtype: float32 inputs give float32 values, tangents and cotangents, close to the float64
 *   results at the same (float32-rounded) inputs.
 */
import type { Tensor } from '../../src/index.js'
import { add, fromData, grad, jvp, mul, sum, vjp } from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import type { Primitive } from '../../src/primitives/types.js'
import type { CloseReport } from './allClose.js'
import { allClose, maxAbs } from './allClose.js'
import type { Vec } from './fd.js'
import { concatVecs, fdJvp, flat, scaledDirections } from './fd.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A function of a list of tensors: what the laws differentiate. */
export type Fn = (xs: Tensor[]) => Tensor

/** A law's verdict with a readable reason. */
export interface LawReport {
  readonly ok: boolean
  readonly message: string
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A primitive with fixed params, bound through the one AD dispatch. */
export const primFn =
  <P>(prim: Primitive<P>, params: P): Fn =>
  (xs) =>
    bind(prim, xs, params)

/** Float64 (or float32) tensors from flat values and shapes. */
export const tensorsOf = (
  vs: ReadonlyArray<Vec>,
  shapes: ReadonlyArray<ReadonlyArray<number>>,
  dtype: 'float64' | 'float32' = 'float64',
): Tensor[] => vs.map((v, i) => fromData(v, shapes[i] as ReadonlyArray<number>, dtype))

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const dot = (a: Vec, b: Vec): [number, number] => {
  let s = 0
  let abs = 0
  for (let i = 0; i < a.length; i++) {
    const t = (a[i] as number) * (b[i] as number)
    s += t
    abs += Math.abs(t)
  }
  return [s, abs]
}

const flatAll = (ts: ReadonlyArray<Tensor | number>): Vec => concatVecs(ts.map(flat))

const asList = (t: unknown): Tensor[] => t as Tensor[]

/** φ(x) = ⟨ȳ, F(x)⟩: the scalar whose Hessian the second-order laws probe. */
const contract =
  (f: Fn, yBar: Tensor) =>
  (xs: Tensor[]): Tensor =>
    sum(mul(yBar, f(xs)))

const scaleOf = (...xs: ReadonlyArray<Vec>): number => Math.max(1, ...xs.map((x) => maxAbs(x)))

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

/** J·v by `jvp` against Richardson central differences. */
export const checkJvpVsFd = (f: Fn, xs: Tensor[], v0: Tensor[], rtol = 1e-7): CloseReport => {
  const vs = scaledDirections(xs, v0)
  const [, yDot] = jvp(f, xs, vs)
  const fd = fdJvp((ys) => flat(f(ys)), xs, vs)
  // absolute floor: the differences' error is absolute (rounding of F over h), so it is
  // measured against the scale of the whole result, not of each element
  return allClose(flat(yDot), fd, rtol, rtol * scaleOf(fd))
}

/** ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩ up to rounding; also checks each cotangent's shape and dtype. */
export const checkAdjoint = (f: Fn, xs: Tensor[], vs: Tensor[], yBar: Tensor, rtol = 1e-12): LawReport => {
  const [, yDot] = jvp(f, xs, vs)
  const [, pullback] = vjp(f, xs)
  const xBar = asList(pullback(yBar))
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as Tensor
    const g = xBar[i] as Tensor
    if (g.shape.join() !== x.shape.join() || g.dtype !== x.dtype) {
      return {
        ok: false,
        message: `cotangent ${i} has shape [${g.shape.join(', ')}] ${g.dtype}, input has [${x.shape.join(', ')}] ${x.dtype}`,
      }
    }
  }
  const [lhs, lAbs] = dot(flat(yBar), flat(yDot))
  const [rhs, rAbs] = dot(flatAll(xBar), flatAll(vs))
  const err = Math.abs(lhs - rhs)
  const allowed = rtol * (lAbs + rAbs)
  return {
    ok: err <= allowed,
    message: `⟨ȳ, Jv⟩ = ${lhs}, ⟨Jᵀȳ, v⟩ = ${rhs}: |difference| ${err.toExponential(3)} vs allowed ${allowed.toExponential(3)}`,
  }
}

/** Forward-over-reverse H·v of φ = ⟨ȳ, F⟩ against central differences of ∇φ. */
export const checkSecondOrderFd = (f: Fn, xs: Tensor[], v0: Tensor[], yBar: Tensor, rtol = 1e-7): CloseReport => {
  const vs = scaledDirections(xs, v0)
  const phi = contract(f, yBar)
  const g = grad(phi)
  const [g0, hv] = jvp((ys: Tensor[]) => g(ys), xs, vs)
  const fd = fdJvp((ys) => flatAll(asList(g(ys))), xs, vs)
  const g0f = flatAll(asList(g0))
  // the differences of ∇φ err by about ε·|∇φ|/h in absolute terms: scale by ∇φ too
  return allClose(flatAll(asList(hv)), fd, rtol, rtol * scaleOf(fd, g0f))
}

/** uᵀ·H·v four ways: forward-over-forward, reverse-over-reverse, forward-over-reverse, reverse-over-forward. */
export const checkSecondOrderModes = (
  f: Fn,
  xs: Tensor[],
  vs: Tensor[],
  us: Tensor[],
  yBar: Tensor,
  rtol = 1e-10,
): LawReport => {
  const phi = contract(f, yBar)
  const yb = flat(yBar)
  const uf = flatAll(us)
  const vf = flatAll(vs)
  // forward-over-forward: D²F[v, u], contracted with ȳ
  const d2 = jvp((ys: Tensor[]) => jvp(f, ys, vs)[1], xs, us)[1]
  const fof = dot(yb, flat(d2))
  // reverse-over-reverse: ∇ₓ ⟨∇φ(x), u⟩ = H·u, contracted with v
  const hu = grad((ys: Tensor[]) => {
    const g = asList(grad(phi)(ys))
    return g.map((gi, i) => sum(mul(gi, us[i] as Tensor))).reduce((a, b) => add(a, b))
  })(xs)
  const ror = dot(vf, flatAll(asList(hu)))
  // forward-over-reverse: jvp of ∇φ along v = H·v, contracted with u
  const hv = jvp((ys: Tensor[]) => grad(phi)(ys), xs, vs)[1]
  const forr = dot(uf, flatAll(asList(hv)))
  // reverse-over-forward: ∇ₓ ⟨ȳ, J(x)·v⟩ = H·v, contracted with u
  const hv2 = grad((ys: Tensor[]) => sum(mul(yBar, jvp(f, ys, vs)[1])))(xs)
  const rof = dot(uf, flatAll(asList(hv2)))
  const all: Array<[string, [number, number]]> = [
    ['fwd∘fwd', fof],
    ['rev∘rev', ror],
    ['fwd∘rev', forr],
    ['rev∘fwd', rof],
  ]
  const scale = Math.max(...all.map(([, [, a]]) => a))
  const ref = fof[0]
  const worst = Math.max(...all.map(([, [s]]) => Math.abs(s - ref)))
  const allowed = rtol * scale
  return {
    ok: worst <= allowed && all.every(([, [s]]) => Number.isFinite(s)),
    message: `uᵀHv: ${all.map(([n, [s]]) => `${n} ${s}`).join(', ')}; spread ${worst.toExponential(3)} vs allowed ${allowed.toExponential(3)}`,
  }
}

/** float32 in → float32 values, tangents and cotangents, close to float64 at the rounded inputs. */
export const checkFloat32 = (
  f: Fn,
  xs: ReadonlyArray<Vec>,
  vs: ReadonlyArray<Vec>,
  yBarOf: (shape: ReadonlyArray<number>) => Vec,
  shapes: ReadonlyArray<ReadonlyArray<number>>,
  rtol = 1e-5,
): LawReport => {
  const x32 = tensorsOf(xs, shapes, 'float32')
  const v32 = tensorsOf(vs, shapes, 'float32')
  // the float64 reference sees exactly the float32-rounded inputs
  const x64 = tensorsOf(x32.map(flat), shapes)
  const v64 = tensorsOf(v32.map(flat), shapes)
  const [y32, yDot32] = jvp(f, x32, v32)
  const [y64, yDot64] = jvp(f, x64, v64)
  const yb = yBarOf(y64.shape)
  const [, pb32] = vjp(f, x32)
  const [, pb64] = vjp(f, x64)
  const xBar32 = asList(pb32(fromData(yb, y64.shape, 'float32')))
  const xBar64 = asList(pb64(fromData(Float64Array.from(fromData(yb, y64.shape, 'float32').toTypedArray()), y64.shape)))
  const dtypes = [y32, yDot32, ...xBar32].map((t) => t.dtype)
  if (dtypes.some((d) => d !== 'float32'))
    return { ok: false, message: `dtypes ${dtypes.join(', ')}; expected all float32` }
  // float32 rounds each op to 2⁻²⁴ ≈ 6e-8 relative; a handful of ops (or a short matmul sum)
  // stays well inside 1e-5 of the result's scale
  const checks: Array<[string, Vec, Vec]> = [
    ['value', flat(y32), flat(y64)],
    ['tangent', flat(yDot32), flat(yDot64)],
    ['cotangent', flatAll(xBar32), flatAll(xBar64)],
  ]
  for (const [what, a, e] of checks) {
    const r = allClose(a, e, rtol, rtol * scaleOf(e))
    if (!r.ok) return { ok: false, message: `${what}: ${r.message}` }
  }
  return { ok: true, message: 'float32 throughout' }
}
