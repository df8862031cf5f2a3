/**
 * Reparameterized samplers: draws that are differentiable functions of their parameters, so
 * `grad` of a Monte Carlo estimate E[f(x)] ≈ mean f(xᵢ) is an unbiased estimate of ∇E[f(x)].
 *
 *   normalReparam(μ, σ)   x = μ + σ z, z ~ N(0, 1) fixed by the key:  ∂x/∂μ = 1, ∂x/∂σ = z
 *   gammaReparam(α)       z ~ Gamma(α, 1) with the implicit gradient (Figurnov et al. 2018)
 *                         ∂z/∂α = −(∂P(α, z)/∂α) / p(z; α),  P the regularized lower incomplete
 *                         gamma function (the CDF), p the density z^(α−1) e^(−z)/Γ(α)
 *
 * ∂P/∂α is a central difference of P in α (step 1e-5·max(1, α), error about 1e-9 relative),
 * P by its power series for z < α + 1 and by Lentz's continued fraction for Q = 1 − P
 * otherwise (Numerical Recipes §6.2). The gamma gradient is first order (a constant per draw),
 * enough for `grad` of a Monte Carlo objective; α must be concrete.
 *
 * Purity: draws depend only on the key; no input is modified.
 */
import { PurediffError } from '../errors.js'
import { lgamma } from '../kernels/special.js'
import { add, asTensor, mul } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor, fromData } from '../tensor/Tensor.js'
import type { Tensor } from '../tensor/Tensor.js'
import { customJvp } from '../transforms/transforms.js'
import type { Key } from './Key.js'
import { normal } from './distributions.js'
import { gammaDraw, source } from './more.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The regularized lower incomplete gamma function P(a, x). @internal */
export const gammaP = (a: number, x: number): number => {
  if (x <= 0) return 0
  const lead = a * Math.log(x) - x - lgamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break
    }
    return sum * Math.exp(lead)
  }
  // Q(a, x) by the modified Lentz continued fraction
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-16) break
  }
  return 1 - Math.exp(lead) * h
}

/** ∂z/∂α for z ~ Gamma(α): −∂P(α, z)/∂α over the density. @internal */
export const gammaImplicitGrad = (alpha: number, z: number): number => {
  const h = 1e-5 * Math.max(1, alpha)
  const dP = (gammaP(alpha + h, z) - gammaP(alpha - h, z)) / (2 * h)
  const logDensity = (alpha - 1) * Math.log(z) - z - lgamma(alpha)
  return -dP / Math.exp(logDensity)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * N(loc, scale²) draws written as loc + scale·z: differentiable in loc and scale (shape: the
 * broadcast of loc and scale, or `shape`).
 * @example
 * grad((s) => mean(square(random.normalReparam(random.key(0), 0, s, [1000]))))(tensor(2)).shape // []
 * @category constructors
 * @since 0.2.0
 */
export const normalReparam = (k: Key, loc: TensorLike, scale: TensorLike, shape?: ReadonlyArray<number>): Tensor => {
  const op = 'normalReparam'
  const l = asTensor(loc, op)
  const s = asTensor(scale, op)
  const sh = shape ?? (l.rank >= s.rank ? l.shape : s.shape)
  return add(l, mul(s, normal(k, sh, { dtype: l.dtype })))
}

/**
 * Gamma(α, 1) draws, one per entry of α, differentiable in α through the implicit gradient.
 * @example
 * grad((a) => sum(random.gammaReparam(random.key(0), a)))(tensor([1, 2.5])).shape // [2]
 * @category constructors
 * @since 0.2.0
 */
export const gammaReparam = (k: Key, alpha: TensorLike): Tensor => {
  const op = 'gammaReparam'
  const draw = (a: Tensor): [ConcreteTensor, ConcreteTensor] => {
    if (!(a instanceof ConcreteTensor))
      throw new PurediffError('ValueError', 'alpha must be concrete (first-order gradients only)', { op })
    const av = a.toTypedArray()
    const s = source(k, 3 * av.length)
    const z = new Float64Array(av.length)
    const dz = new Float64Array(av.length)
    for (let i = 0; i < av.length; i++) {
      const ai = av[i] as number
      if (!(ai > 0) || !Number.isFinite(ai))
        throw new PurediffError('ValueError', `alpha must be positive and finite, got ${ai} at index ${i}`, { op })
      z[i] = gammaDraw(s, ai)
      dz[i] = gammaImplicitGrad(ai, z[i] as number)
    }
    return [fromData(z, a.shape, a.dtype), fromData(dz, a.shape, a.dtype)]
  }
  const f = customJvp(
    (a: Tensor) => draw(a)[0],
    (a: Tensor, aDot: Tensor) => {
      const [z, dz] = draw(a)
      // dz = (∂z/∂α) · dα
      return [z, mul(dz, aDot)]
    },
  )
  return f(asTensor(alpha, op))
}
