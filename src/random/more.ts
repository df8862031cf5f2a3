/**
 * More samplers, each a pure function of a key (the same key gives the same numbers):
 *
 *   exponential(rate)   −log(1 − u)/rate                     (inverse CDF)
 *   laplace(μ, b)       μ − b·sign(v)·log(1 − 2|v|),  v = u − ½
 *   logistic(μ, s)      μ + s·(log u − log(1 − u))
 *   cauchy(x₀, γ)       x₀ + γ·tan(π(u − ½))
 *   gumbel(μ, β)        μ − β·log(−log u)
 *   gamma(α, θ)         Marsaglia & Tsang (2000): d = α − ⅓, c = 1/√(9d), accept d(1 + cz)³ when
 *                       log u < ½z² + d − dv + d·log v; for α < 1, Gamma(α + 1)·u^(1/α)
 *   beta(a, b)          X/(X + Y) with X ~ Gamma(a), Y ~ Gamma(b)
 *   dirichlet(α)        (G₁, …, G_K)/ΣG with Gᵢ ~ Gamma(αᵢ)
 *   studentT(ν)         z/√(G/ν), G ~ Gamma(ν/2, 2) (a χ²_ν)
 *   poisson(λ)          λ < 10: count of exponential gaps (Knuth's product of uniforms, in logs);
 *                       λ ≥ 10: Hörmann's transformed rejection PTRS (1993)
 *   categorical(logits) argmax(logits + Gumbel) along the last axis (the Gumbel-max trick)
 *   multivariateNormal  μ + L z with L Lᵀ = Σ (Cholesky)
 *   ball(d), uniformSphere(d)   z/‖z‖ for z ~ N(0, I_d), times u^(1/d) for the ball
 *
 * Uniforms here are 53-bit floats in the open interval (0, 1): k·2⁻⁵³ + 2⁻⁵⁴, so no log or
 * tan meets 0 or 1; normals come in Box–Muller pairs of such uniforms. Words come from a counter-based stream
 * of the key (`foldIn(key, block)`), so rejection samplers take as many as they need.
 * Values are computed in float64 and rounded once to the output dtype.
 *
 * Purity: every sampler allocates and fills only its output; keys are never modified.
 */
import { PurediffError } from '../errors.js'
import { lgamma } from '../kernels/special.js'
import { choleskyKernel } from '../kernels/linalg.js'
import { type ConcreteTensor, type DType, Tensor, alloc, checkShape, sizeOf, wrap } from '../tensor/Tensor.js'
import { type Key, assertKey } from './Key.js'
import { wordStream } from './distributions.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of the location-scale samplers. @category model @since 0.2.0 */
export interface LocScaleOptions {
  readonly loc?: number
  readonly scale?: number
  readonly dtype?: DType
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** A source of open-interval uniforms and of normals from a key. @internal */
export interface Source {
  readonly uniform: () => number
  readonly normal: () => number
}

/** Uniforms in (0, 1) with 53 random bits, and normals Φ⁻¹(u), from the key's word stream. @internal */
export const source = (k: Key, expected: number): Source => {
  const next = wordStream(k, 2 * expected)
  const uniform = (): number => ((next() >>> 5) * 67108864 + (next() >>> 6)) * 2 ** -53 + 2 ** -54
  // Box–Muller pairs √(−2 log u₁)·(cos 2πu₂, sin 2πu₂): two normals from two uniforms, the
  // second kept for the next call (an order of magnitude faster than Φ⁻¹ in a rejection loop)
  let spare = NaN
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const z = spare
      spare = NaN
      return z
    }
    const r = Math.sqrt(-2 * Math.log(uniform()))
    const t = 2 * Math.PI * uniform()
    spare = r * Math.sin(t)
    return r * Math.cos(t)
  }
  return { uniform, normal }
}

const fail = (op: string, message: string): never => {
  throw new PurediffError('ValueError', message, { op })
}

const positive = (x: unknown, name: string, op: string): number => {
  if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x))
    fail(op, `${name} must be a positive finite number, got ${String(x)}`)
  return x as number
}

const finite = (x: unknown, name: string, op: string): number => {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(op, `${name} must be a finite number, got ${String(x)}`)
  return x as number
}

const dtypeOf = (d: unknown, op: string): DType => {
  if (d === undefined || d === 'float64') return 'float64'
  if (d === 'float32') return 'float32'
  throw new PurediffError('DTypeError', `unknown dtype ${JSON.stringify(d)}; expected 'float64' or 'float32'`, { op })
}

/** Fill a fresh tensor of `shape` with `n` draws of `draw`. */
const fill = (
  k: Key,
  shape: ReadonlyArray<number>,
  dtype: DType,
  op: string,
  perValue: number,
  draw: (s: Source) => number,
): ConcreteTensor => {
  assertKey(k, op)
  const sh = checkShape(shape, op)
  const n = sizeOf(sh)
  const s = source(k, n * perValue)
  const out = alloc(dtype, n)
  for (let i = 0; i < n; i++) out[i] = draw(s)
  return wrap(out, sh)
}

/** One Gamma(α, 1) draw (Marsaglia & Tsang; the α < 1 boost by u^(1/α) in logs). @internal */
export const gammaDraw = (s: Source, alpha: number): number => {
  if (alpha < 1) {
    // Gamma(α) = Gamma(α + 1) · u^(1/α); in logs so tiny α underflows only at the very end
    const g = gammaDraw(s, alpha + 1)
    return Math.exp(Math.log(g) + Math.log(s.uniform()) / alpha)
  }
  const d = alpha - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    const z = s.normal()
    const t = 1 + c * z
    if (t <= 0) continue
    const v = t * t * t
    if (Math.log(s.uniform()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Exponential draws with the given rate (mean 1/rate).
 * @example
 * random.exponential(random.key(0), [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const exponential = (
  k: Key,
  shape: ReadonlyArray<number> = [],
  opts: { readonly rate?: number; readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'exponential'
  const rate = positive(opts.rate ?? 1, 'rate', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 1, (s) => -Math.log1p(-s.uniform()) / rate)
}

/**
 * Laplace (double exponential) draws with location `loc` and scale `scale`.
 * @example
 * random.laplace(random.key(0), [3], { scale: 2 }).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const laplace = (k: Key, shape: ReadonlyArray<number> = [], opts: LocScaleOptions = {}): ConcreteTensor => {
  const op = 'laplace'
  const loc = finite(opts.loc ?? 0, 'loc', op)
  const b = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 1, (s) => {
    const v = s.uniform() - 0.5
    return loc - b * Math.sign(v) * Math.log1p(-2 * Math.abs(v))
  })
}

/**
 * Logistic draws: loc + scale · logit(u).
 * @example
 * random.logistic(random.key(0), [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const logistic = (k: Key, shape: ReadonlyArray<number> = [], opts: LocScaleOptions = {}): ConcreteTensor => {
  const op = 'logistic'
  const loc = finite(opts.loc ?? 0, 'loc', op)
  const sc = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 1, (s) => {
    const u = s.uniform()
    return loc + sc * (Math.log(u) - Math.log1p(-u))
  })
}

/**
 * Cauchy draws (no mean, no variance): loc + scale · tan(π(u − ½)).
 * @example
 * random.cauchy(random.key(0), [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const cauchy = (k: Key, shape: ReadonlyArray<number> = [], opts: LocScaleOptions = {}): ConcreteTensor => {
  const op = 'cauchy'
  const loc = finite(opts.loc ?? 0, 'loc', op)
  const sc = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 1, (s) => loc + sc * Math.tan(Math.PI * (s.uniform() - 0.5)))
}

/**
 * Gumbel draws: loc − scale · log(−log u).
 * @example
 * random.gumbel(random.key(0), [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const gumbel = (k: Key, shape: ReadonlyArray<number> = [], opts: LocScaleOptions = {}): ConcreteTensor => {
  const op = 'gumbel'
  const loc = finite(opts.loc ?? 0, 'loc', op)
  const sc = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 1, (s) => loc - sc * Math.log(-Math.log(s.uniform())))
}

/**
 * Gamma(α, scale) draws (mean α·scale), by Marsaglia and Tsang's method.
 * @example
 * random.gamma(random.key(0), 2.5, [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const gamma = (
  k: Key,
  alpha: number,
  shape: ReadonlyArray<number> = [],
  opts: { readonly scale?: number; readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'gamma'
  const a = positive(alpha, 'alpha', op)
  const sc = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 3, (s) => sc * gammaDraw(s, a))
}

/**
 * Beta(a, b) draws, as X/(X + Y) of two gammas.
 * @example
 * random.beta(random.key(0), 2, 3, [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const beta = (
  k: Key,
  a: number,
  b: number,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'beta'
  const pa = positive(a, 'a', op)
  const pb = positive(b, 'b', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 6, (s) => {
    const x = gammaDraw(s, pa)
    const y = gammaDraw(s, pb)
    return x / (x + y)
  })
}

/**
 * Dirichlet(α) draws: rows on the simplex, shape [...shape, K] for K concentrations.
 * @example
 * random.dirichlet(random.key(0), [1, 2, 3], [4]).shape // [4, 3]
 * @category constructors
 * @since 0.2.0
 */
export const dirichlet = (
  k: Key,
  alpha: ReadonlyArray<number>,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'dirichlet'
  assertKey(k, op)
  if (!Array.isArray(alpha) || alpha.length === 0) fail(op, 'alpha must be a non-empty array of concentrations')
  alpha.forEach((a, i) => positive(a, `alpha[${i}]`, op))
  const K = alpha.length
  const sh = [...checkShape(shape, op), K]
  const rowsN = sizeOf(sh) / K
  const s = source(k, 3 * rowsN * K)
  const out = alloc(dtypeOf(opts.dtype, op), rowsN * K)
  const g = new Float64Array(K)
  for (let r = 0; r < rowsN; r++) {
    let total = 0
    for (let c = 0; c < K; c++) {
      g[c] = gammaDraw(s, alpha[c] as number)
      total += g[c] as number
    }
    for (let c = 0; c < K; c++) out[r * K + c] = (g[c] as number) / total
  }
  return wrap(out, sh)
}

/**
 * Student's t draws with `df` degrees of freedom: z/√(χ²_df/df).
 * @example
 * random.studentT(random.key(0), 3, [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const studentT = (
  k: Key,
  df: number,
  shape: ReadonlyArray<number> = [],
  opts: LocScaleOptions = {},
): ConcreteTensor => {
  const op = 'studentT'
  const nu = positive(df, 'df', op)
  const loc = finite(opts.loc ?? 0, 'loc', op)
  const sc = positive(opts.scale ?? 1, 'scale', op)
  return fill(k, shape, dtypeOf(opts.dtype, op), op, 4, (s) => {
    const z = s.normal()
    const chi2 = 2 * gammaDraw(s, nu / 2)
    return loc + sc * (z / Math.sqrt(chi2 / nu))
  })
}

/** One Poisson(λ) draw. */
const poissonDraw = (s: Source, lam: number): number => {
  if (lam === 0) return 0
  if (lam < 10) {
    // count arrivals: the k-th arrival time is a sum of k exponential gaps (logs of uniforms)
    let k = 0
    let t = -Math.log(s.uniform())
    while (t < lam) {
      k++
      t -= Math.log(s.uniform())
    }
    return k
  }
  // Hörmann (1993), "The transformed rejection method for generating Poisson random variables"
  const slam = Math.sqrt(lam)
  const logLam = Math.log(lam)
  const b = 0.931 + 2.53 * slam
  const a = -0.059 + 0.02483 * b
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4)
  const vr = 0.9277 - 3.6224 / (b - 2)
  for (;;) {
    const u = s.uniform() - 0.5
    const v = s.uniform()
    const us = 0.5 - Math.abs(u)
    const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43)
    if (us >= 0.07 && v <= vr) return k
    if (k < 0 || (us < 0.013 && v > us)) continue
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lam + k * logLam - lgamma(k + 1)) return k
  }
}

/**
 * Poisson(λ) counts, as a float tensor.
 * @example
 * random.poisson(random.key(0), 4, [3]).shape // [3]
 * @category constructors
 * @since 0.2.0
 */
export const poisson = (
  k: Key,
  lam: number,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'poisson'
  if (typeof lam !== 'number' || !(lam >= 0) || !Number.isFinite(lam) || lam > 1e15)
    fail(op, `lam must be a finite number in [0, 1e15], got ${String(lam)}`)
  const expected = lam < 10 ? lam + 2 : 4
  return fill(k, shape, dtypeOf(opts.dtype, op), op, expected, (s) => poissonDraw(s, lam))
}

/**
 * Class indices drawn from softmax(logits) along the last axis (the Gumbel-max trick), one per
 * row: shape logits.shape[:-1]. −∞ logits are never drawn.
 * @example
 * random.categorical(random.key(0), tensor([[0, 0, -Infinity]])).shape // [1]
 * @category constructors
 * @since 0.2.0
 */
export const categorical = (k: Key, logits: Tensor, opts: { readonly dtype?: DType } = {}): ConcreteTensor => {
  const op = 'categorical'
  assertKey(k, op)
  if (!(logits instanceof Tensor) || logits.rank < 1 || logits.shape[logits.rank - 1] === 0)
    fail(op, 'logits must be a tensor with a non-empty last axis of classes')
  const v = (logits as ConcreteTensor).toTypedArray()
  const K = logits.shape[logits.rank - 1] as number
  const rowsN = v.length / K
  const s = source(k, v.length)
  const out = alloc(dtypeOf(opts.dtype, op), rowsN)
  for (let r = 0; r < rowsN; r++) {
    let best = -1
    let bestVal = -Infinity
    for (let c = 0; c < K; c++) {
      const g = -Math.log(-Math.log(s.uniform()))
      const l = v[r * K + c] as number
      if (Number.isNaN(l)) fail(op, `logit at row ${r}, class ${c} is NaN`)
      const z = l + g
      if (z > bestVal) {
        bestVal = z
        best = c
      }
    }
    if (best < 0) fail(op, `row ${r} has no finite logit`)
    out[r] = best
  }
  return wrap(out, logits.shape.slice(0, -1))
}

/**
 * Multivariate normal draws N(mean, cov): mean + L z with L the Cholesky factor of cov; shape [...shape, d].
 * @example
 * random.multivariateNormal(random.key(0), [0, 1], [[1, 0.5], [0.5, 2]], [5]).shape // [5, 2]
 * @category constructors
 * @since 0.2.0
 */
export const multivariateNormal = (
  k: Key,
  mean: ReadonlyArray<number>,
  cov: ReadonlyArray<ReadonlyArray<number>>,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'multivariateNormal'
  assertKey(k, op)
  const d = mean.length
  if (d === 0 || !Array.isArray(cov) || cov.length !== d || cov.some((r) => !Array.isArray(r) || r.length !== d)) {
    fail(op, `cov must be a ${d}×${d} matrix for a mean of length ${d}`)
  }
  const flatCov = new Float64Array(d * d)
  cov.forEach((r, i) => r.forEach((v, j) => (flatCov[i * d + j] = finite(v, `cov[${i}][${j}]`, op))))
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) {
      if (
        Math.abs((flatCov[i * d + j] as number) - (flatCov[j * d + i] as number)) >
        1e-12 * (Math.abs(flatCov[i * d + j] as number) + 1)
      )
        fail(op, 'cov must be symmetric')
    }
  const L = choleskyKernel(flatCov, 1, d, 'float64')
  if (Array.from(L).some((v) => Number.isNaN(v)))
    fail(op, 'cov must be positive definite (its Cholesky factorization failed)')
  const sh = [...checkShape(shape, op), d]
  const n = sizeOf(sh) / d
  const s = source(k, n * d)
  const out = alloc(dtypeOf(opts.dtype, op), n * d)
  const z = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) z[i] = s.normal()
    for (let i = 0; i < d; i++) {
      let acc = finite(mean[i], `mean[${i}]`, op)
      for (let j = 0; j <= i; j++) acc += (L[i * d + j] as number) * (z[j] as number)
      out[r * d + i] = acc
    }
  }
  return wrap(out, sh)
}

const sphereRows = (
  k: Key,
  d: number,
  shape: ReadonlyArray<number>,
  dtype: DType,
  op: string,
  inBall: boolean,
): ConcreteTensor => {
  assertKey(k, op)
  if (!Number.isInteger(d) || d < 1) fail(op, `d must be a positive integer, got ${String(d)}`)
  const sh = [...checkShape(shape, op), d]
  const n = sizeOf(sh) / d
  const s = source(k, n * (d + 1))
  const out = alloc(dtype, n * d)
  const z = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    let norm2 = 0
    for (let i = 0; i < d; i++) {
      z[i] = s.normal()
      norm2 += (z[i] as number) ** 2
    }
    const radius = inBall ? Math.pow(s.uniform(), 1 / d) : 1
    const f = radius / Math.sqrt(norm2)
    for (let i = 0; i < d; i++) out[r * d + i] = (z[i] as number) * f
  }
  return wrap(out, sh)
}

/**
 * Points uniform on the unit sphere in d dimensions: shape [...shape, d].
 * @example
 * random.uniformSphere(random.key(0), 3, [2]).shape // [2, 3]
 * @category constructors
 * @since 0.2.0
 */
export const uniformSphere = (
  k: Key,
  d: number,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => sphereRows(k, d, shape, dtypeOf(opts.dtype, 'uniformSphere'), 'uniformSphere', false)

/**
 * Points uniform in the unit (Euclidean) ball in d dimensions: shape [...shape, d].
 * @example
 * random.ball(random.key(0), 3, [2]).shape // [2, 3]
 * @category constructors
 * @since 0.2.0
 */
export const ball = (
  k: Key,
  d: number,
  shape: ReadonlyArray<number> = [],
  opts: { readonly dtype?: DType } = {},
): ConcreteTensor => sphereRows(k, d, shape, dtypeOf(opts.dtype, 'ball'), 'ball', true)

/**
 * A random orthogonal matrix (Haar-distributed) of shape [n, m] (orthonormal columns when
 * n ≥ m, rows otherwise): QR of a Gaussian matrix by modified Gram–Schmidt, with R's
 * diagonal made positive.
 * @example
 * random.orthogonal(random.key(0), 3).shape // [3, 3]
 * @category constructors
 * @since 0.2.0
 */
export const orthogonal = (
  k: Key,
  n: number,
  m: number = n,
  opts: { readonly scale?: number; readonly dtype?: DType } = {},
): ConcreteTensor => {
  const op = 'orthogonal'
  assertKey(k, op)
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(m) || m < 1)
    fail(op, `n and m must be positive integers, got ${String(n)} and ${String(m)}`)
  const scale = finite(opts.scale ?? 1, 'scale', op)
  const rowsN = Math.max(n, m)
  const colsN = Math.min(n, m)
  const s = source(k, rowsN * colsN)
  // columns of a rowsN × colsN Gaussian matrix, orthonormalized in order
  const cols = Array.from({ length: colsN }, () => Float64Array.from({ length: rowsN }, () => s.normal()))
  for (let j = 0; j < colsN; j++) {
    const c = cols[j] as Float64Array
    for (let i = 0; i < j; i++) {
      const q = cols[i] as Float64Array
      let dot = 0
      for (let r = 0; r < rowsN; r++) dot += (q[r] as number) * (c[r] as number)
      for (let r = 0; r < rowsN; r++) c[r] = (c[r] as number) - dot * (q[r] as number)
    }
    let norm = 0
    for (let r = 0; r < rowsN; r++) norm += (c[r] as number) ** 2
    norm = Math.sqrt(norm)
    // the norm is R's (positive) diagonal entry: the sign convention that makes Q Haar
    for (let r = 0; r < rowsN; r++) c[r] = (c[r] as number) / norm
  }
  const out = alloc(dtypeOf(opts.dtype, op), n * m)
  for (let r = 0; r < n; r++)
    for (let c = 0; c < m; c++) {
      out[r * m + c] =
        scale * (n >= m ? ((cols[c] as Float64Array)[r] as number) : ((cols[r] as Float64Array)[c] as number))
    }
  return wrap(out, [n, m])
}
