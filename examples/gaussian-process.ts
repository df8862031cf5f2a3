/**
 * Gaussian-process regression: fit the kernel's hyperparameters by gradient descent on the
 * negative log marginal likelihood, then predict with an uncertainty band.
 *
 * The model (Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006, §2.2 and
 * §5.4): y = f(x) + ε with f ~ GP(0, k), k(x, x') = s²·exp(−(x − x')²/(2ℓ²)) and ε ~ N(0, σ²).
 * With K = k(X, X) + σ²I = L·Lᵀ (Cholesky) and z = L⁻¹y (a triangular solve),
 *
 *   −log p(y | X, θ) = ½ yᵀK⁻¹y + ½ log det K + (n/2) log 2π = ½‖z‖² + ½ logdet(K) + (n/2) log 2π,
 *
 * and its gradient, which purediff derives through `cholesky`, `triangularSolve` and `logdet`,
 * has the closed form ∂/∂θⱼ = −½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ) with α = K⁻¹y (R&W eq. 5.9); the
 * test checks one against the other. The hyperparameters θ = (log ℓ, log s, log σ) are
 * optimised in log space (so they stay positive) with Adam. The prediction at new points x*
 * is the posterior mean k*ᵀα and variance k(x*, x*) − ‖L⁻¹k*‖², drawn as mean ± 2 standard
 * deviations.
 *
 * The data: 30 noisy samples of f(x) = sin(3x) + 0.3x on [−2, 2], σ = 0.1, from an explicit key.
 *
 *   npx tsx examples/gaussian-process.ts [--steps 300] [--plot out/gaussian-process.svg]
 */
import {
  add,
  cholesky,
  div,
  exp,
  eye,
  logdet,
  matmul,
  mul,
  neg,
  optim,
  random,
  reshape,
  sin,
  square,
  sub,
  sum,
  transpose,
  triangularSolve,
  valueAndGrad,
  linspace,
  maximum,
  sqrt,
  tensor,
  type Tensor,
} from 'purediff'
import { panelsSVG, writeFileAtomic } from 'purediff/viz'
import { isMain, runCli, type CliSpec } from './lib/cli.js'

const { adam, applyUpdates } = optim

// -------------------------------------------------------------------------------------
// the model
// -------------------------------------------------------------------------------------

/** Hyperparameters in log space: length scale ℓ, signal scale s, noise σ. */
export type Theta = { readonly logLength: Tensor; readonly logScale: Tensor; readonly logNoise: Tensor }

/** k(a, b) = s²·exp(−(a − b)²/(2ℓ²)) for column vectors a [n] and b [m]: [n, m]. */
export const rbf = (theta: Theta, a: Tensor, b: Tensor): Tensor => {
  const d = sub(reshape(a, [-1, 1]), reshape(b, [1, -1]))
  const l2 = exp(mul(2, theta.logLength))
  return mul(exp(mul(2, theta.logScale)), exp(neg(div(square(d), mul(2, l2)))))
}

/** K = k(X, X) + σ²I */
export const covariance = (theta: Theta, x: Tensor): Tensor =>
  add(rbf(theta, x, x), mul(exp(mul(2, theta.logNoise)), eye(x.shape[0] as number)))

/** −log p(y | X, θ) = ½‖L⁻¹y‖² + ½ logdet K + (n/2) log 2π. */
export const nlml = (theta: Theta, x: Tensor, y: Tensor): Tensor => {
  const k = covariance(theta, x)
  const l = cholesky(k)
  const z = triangularSolve(l, y)
  const n = x.shape[0] as number
  return add(add(mul(0.5, sum(square(z))), mul(0.5, logdet(k))), (n / 2) * Math.log(2 * Math.PI))
}

/** Posterior mean and standard deviation of f at `xs`. */
export const predict = (theta: Theta, x: Tensor, y: Tensor, xs: Tensor): { mean: Tensor; std: Tensor } => {
  const l = cholesky(covariance(theta, x))
  const ks = rbf(theta, x, xs) // [n, m]
  const alpha = triangularSolve(l, triangularSolve(l, y), { transposeA: true }) // K⁻¹y
  const v = triangularSolve(l, ks) // L⁻¹k*
  const mean = matmul(transpose(ks), alpha)
  const variance = sub(exp(mul(2, theta.logScale)), sum(square(v), 0))
  return { mean, std: sqrt(maximum(variance, 0)) }
}

// -------------------------------------------------------------------------------------
// the run
// -------------------------------------------------------------------------------------

/** Options of `main`. */
export interface GaussianProcessOptions {
  /** Number of observations (default 30). */
  readonly n?: number
  /** Adam steps (default 300). */
  readonly steps?: number
  readonly learningRate?: number
  readonly seed?: number
  /** Where to write the SVG plot (default `out/gaussian-process.svg`). */
  readonly plot?: string
  readonly log?: (line: string) => void
}

/** What a run found. */
export interface GaussianProcessResult {
  readonly x: ReadonlyArray<number>
  readonly y: ReadonlyArray<number>
  /** The fitted hyperparameters (ℓ, s, σ), not in log space. */
  readonly length: number
  readonly scale: number
  readonly noise: number
  /** −log marginal likelihood at the start and at the end. */
  readonly startLoss: number
  readonly loss: number
  readonly theta: Theta
  readonly plotPath: string
}

/** The function the data are sampled from, and the noise. */
export const TRUTH = Object.freeze({ f: (x: number) => Math.sin(3 * x) + 0.3 * x, noise: 0.1, lo: -2, hi: 2 })

/** The observations: n points uniform on [lo, hi] with Gaussian noise, from explicit keys. */
export const data = (n: number, seed: number): { x: Tensor; y: Tensor } => {
  const [k1, k2] = random.split(random.key(seed), 2) as [random.Key, random.Key]
  const x = random.uniform(k1, [n], { minval: TRUTH.lo, maxval: TRUTH.hi })
  const y = add(add(sin(mul(3, x)), mul(0.3, x)), random.normal(k2, [n], { std: TRUTH.noise }))
  return { x, y }
}

export const main = (opts: GaussianProcessOptions = {}): GaussianProcessResult => {
  const log = opts.log ?? console.log
  const { n = 30, steps = 300, learningRate = 0.05, seed = 0, plot = 'out/gaussian-process.svg' } = opts
  const { x, y } = data(n, seed)

  // start from ℓ = 1, s = 1, σ = 0.5
  const theta0: Theta = { logLength: tensor(0), logScale: tensor(0), logNoise: tensor(Math.log(0.5)) }
  const objective = (t: Theta): Tensor => nlml(t, x, y)
  const step = valueAndGrad(objective)
  const opt = adam(learningRate)
  let theta = theta0
  let state = opt.init(theta)
  let startLoss = NaN
  let loss = NaN
  for (let i = 0; i < steps; i++) {
    const [value, g] = step(theta)
    if (i === 0) startLoss = value.item()
    const [updates, next] = opt.update(g, state, theta)
    theta = applyUpdates(theta, updates)
    state = next
  }
  loss = objective(theta).item()
  const length = Math.exp(theta.logLength.item())
  const scale = Math.exp(theta.logScale.item())
  const noise = Math.exp(theta.logNoise.item())

  const xs = linspace(TRUTH.lo - 0.5, TRUTH.hi + 0.5, 121)
  const { mean, std } = predict(theta, x, y, xs)
  const xa = Array.from(xs.toTypedArray())
  const ma = Array.from(mean.toTypedArray())
  const sa = Array.from(std.toTypedArray())
  const xd = Array.from(x.toTypedArray())
  const yd = Array.from(y.toTypedArray())
  const svg = panelsSVG({
    title: `Gaussian process: ℓ = ${length.toFixed(3)}, s = ${scale.toFixed(3)}, σ = ${noise.toFixed(3)} (−log p = ${loss.toFixed(2)})`,
    height: 420,
    xLabel: 'x',
    panels: [
      {
        yLabel: 'y',
        series: [
          { name: 'observations', points: xd.map((v, i) => [v, yd[i] as number] as const), line: false },
          { name: 'posterior mean', points: xa.map((v, i) => [v, ma[i] as number] as const) },
          {
            name: 'mean + 2 sd',
            points: xa.map((v, i) => [v, (ma[i] as number) + 2 * (sa[i] as number)] as const),
            dashed: true,
          },
          {
            name: 'mean − 2 sd',
            points: xa.map((v, i) => [v, (ma[i] as number) - 2 * (sa[i] as number)] as const),
            dashed: true,
          },
          { name: 'truth', points: xa.map((v) => [v, TRUTH.f(v)] as const), dashed: true },
        ],
      },
    ],
  })
  writeFileAtomic(plot, svg)

  log(`${n} noisy observations of sin(3x) + 0.3x, noise σ = ${TRUTH.noise}`)
  log(`Adam, ${steps} steps on −log p(y | θ): ${startLoss.toFixed(3)} → ${loss.toFixed(3)}`)
  log(`fitted ℓ = ${length.toFixed(4)}, s = ${scale.toFixed(4)}, σ = ${noise.toFixed(4)}`)
  log(`wrote the fit and its ±2 sd band to ${plot}`)
  return Object.freeze({ x: xd, y: yd, length, scale, noise, startLoss, loss, theta, plotPath: plot })
}

export const CLI: CliSpec = {
  name: 'gaussian-process',
  summary:
    'Fit a Gaussian process (RBF kernel) by gradient of the log marginal likelihood, and plot the fit with its uncertainty band.',
  options: {
    steps: { kind: 'number', integer: true, min: 1, default: 300, description: 'Adam steps' },
    seed: { kind: 'number', integer: true, min: 0, default: 0, description: 'seed of the data' },
    plot: { kind: 'string', default: 'out/gaussian-process.svg', description: 'where to write the SVG of the fit' },
  },
}

if (isMain(import.meta.url)) {
  runCli(CLI, (v) =>
    main({
      ...(v['steps'] !== undefined ? { steps: Number(v['steps']) } : {}),
      ...(v['seed'] !== undefined ? { seed: Number(v['seed']) } : {}),
      ...(v['plot'] !== undefined ? { plot: String(v['plot']) } : {}),
    }),
  )
}
