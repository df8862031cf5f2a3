/**
 * Float64 finite differences for the test suite: a central difference refined by one step
 * of Richardson extrapolation. It is written here, apart from `src/numeric/`, so the
 * library's numeric twins and this helper can check each other.
 *
 * The math. For a smooth g, the central difference D(h) = (g(h) − g(−h)) / 2h has the
 * expansion D(h) = g'(0) + g'''(0)·h²/6 + g⁽⁵⁾(0)·h⁴/120 + O(h⁶). Combining two steps,
 * R = (4·D(h/2) − D(h)) / 3, cancels the h² term:
 *   R = g'(0) − g⁽⁵⁾(0)·h⁴/480 + O(h⁶).
 * Rounding: each g(±h) carries an error of about ε·|g| (ε = 2⁻⁵² ≈ 2.2e-16, plus the error of
 * forming x ± h·v, of order ε·|x|·|g'|), which D(h) divides by 2h and D(h/2) by h; through
 * the weights 4/3 and 1/3 that is at most about 3·ε·(|g| + |x·g'|)/h.
 *
 * The step. Each coordinate moves by 1e-3·(|xᵢ| + 1): relative to that input's own scale,
 * so the perturbation is always well above the rounding of xᵢ, and an input near a
 * singularity (log at 0.2, pow(0.3, −2)) is not moved by the step chosen for a large
 * neighbour. For a directional derivative this means differentiating along the scaled
 * direction wᵢ = (|xᵢ| + 1)·vᵢ with t-step h = 1e-3 (`scaledDirections`); the laws then
 * compare J·w from AD with the differences along the same w. On the primitive table's
 * domains the worst truncation is near a singularity at distance d with |g⁽⁵⁾/g'| ≈ 4!·k/d⁴
 * (k of order 1 to 15): pow(a, −2) at a = 0.3 gives 0.75·(hᵢ/a)⁴ = 0.75·(1.3e-3/0.3)⁴ ≈ 3e-10
 * relative; log at 0.2 gives 0.05·(1.2e-3/0.2)⁴ ≈ 7e-11; the rounding is ≤ 3·2.2e-16/1e-3
 * ≈ 7e-13 relative to |g| + |x·g'|.
 *
 * The tolerance. Tests compare against R at rtol ≈ 1e-7 (with an absolute floor of the same
 * size times the result's scale): three orders of magnitude above the worst error estimate,
 * so a correct rule never fails by accident, and six orders below the O(1) discrepancy any
 * wrong rule produces (a wrong sign, a missing factor, a wrong branch).
 */
import type { Tensor } from '../../src/index.js'
import { fromData } from '../../src/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Flat float64 values of one tensor. */
export type Vec = Float64Array

// -------------------------------------------------------------------------------------
// scalar and vector Richardson
// -------------------------------------------------------------------------------------

/** The t-step for directions already scaled by `scaledDirections` (see the module header). */
export const STEP = 1e-3

/** g'(0) by Richardson-extrapolated central differences with outer step h. */
export const richardson = (g: (t: number) => number, h: number): number => {
  const d = (s: number) => (g(s) - g(-s)) / (2 * s)
  return (4 * d(h / 2) - d(h)) / 3
}

/** As `richardson`, for a vector-valued g (each component differentiated). */
export const richardsonVec = (g: (t: number) => Vec, h: number): Vec => {
  const gp = g(h)
  const gm = g(-h)
  const gp2 = g(h / 2)
  const gm2 = g(-h / 2)
  const out = new Float64Array(gp.length)
  for (let i = 0; i < out.length; i++) {
    const dh = ((gp[i] as number) - (gm[i] as number)) / (2 * h)
    const dh2 = ((gp2[i] as number) - (gm2[i] as number)) / h
    out[i] = (4 * dh2 - dh) / 3
  }
  return out
}

/** The derivative of a scalar function of one number, with h = 1e-3·(|x| + 1). */
export const fdDerivative = (f: (x: number) => number, x: number): number =>
  richardson((t) => f(x + t), 1e-3 * (Math.abs(x) + 1))

// -------------------------------------------------------------------------------------
// directional derivatives of tensor functions
// -------------------------------------------------------------------------------------

/** x + t·v, elementwise, as a fresh float64 tensor of `shape`. */
const moved = (x: Vec, v: Vec, t: number, shape: ReadonlyArray<number>): Tensor => {
  const out = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) + t * (v[i] as number)
  return fromData(out, shape)
}

/** Flat float64 copy of a tensor's values. */
export const flat = (t: Tensor | number): Vec =>
  typeof t === 'number' ? Float64Array.of(t) : Float64Array.from(t.toTypedArray())

/** Concatenate flat vectors. */
export const concatVecs = (vs: ReadonlyArray<Vec>): Vec => {
  const n = vs.reduce((s, v) => s + v.length, 0)
  const out = new Float64Array(n)
  let o = 0
  for (const v of vs) {
    out.set(v, o)
    o += v.length
  }
  return out
}

/**
 * Directions scaled coordinate by coordinate: wᵢ = (|xᵢ| + 1)·vᵢ, so a t-step of `STEP` moves
 * each coordinate by 1e-3·(|xᵢ| + 1)·|vᵢ| (see the module header).
 */
export const scaledDirections = (xs: ReadonlyArray<Tensor>, vs: ReadonlyArray<Tensor>): Tensor[] =>
  vs.map((v, k) => {
    const x = flat(xs[k] as Tensor)
    const w = flat(v).map((vi, i) => vi * (Math.abs(x[i] as number) + 1))
    return fromData(w, v.shape)
  })

/**
 * The directional derivative d/dt F(x + t·w) at t = 0 of a function of several tensors,
 * by Richardson central differences with t-step h; F's result is flattened (several outputs
 * are concatenated). Pass directions from `scaledDirections` with the default h.
 */
export const fdJvp = (
  f: (xs: Tensor[]) => Vec,
  xs: ReadonlyArray<Tensor>,
  ws: ReadonlyArray<Tensor>,
  h: number = STEP,
): Vec => {
  const xf = xs.map(flat)
  const wf = ws.map(flat)
  return richardsonVec((t) => f(xf.map((x, i) => moved(x, wf[i] as Vec, t, (xs[i] as Tensor).shape))), h)
}
