/**
 * Fit a quadratic to noisy measurements: the height of a ball thrown straight up, measured
 * 41 times over 2.4 seconds with a noisy rangefinder. Physics says h(t) = h₀ + v₀·t − ½g·t²,
 * so fitting h ≈ a·t² + b·t + c and reading off g = −2a weighs the Earth's pull from the
 * measurements alone.
 *
 * The measurements are simulated from h₀ = 1.5 m, v₀ = 12 m/s, g = 9.81 m/s² with Gaussian
 * noise of σ = 0.25 m drawn from an explicit key, so every run sees the same data.
 *
 * Training is the same stream as on MNIST, with the whole data set as one batch and plain
 * gradient descent, stopped when the loss has not improved for 20 steps. One trick matters:
 * time is rescaled to u = (t − 1.2 s) / 1.2 s ∈ [−1, 1] before fitting. In raw seconds the
 * features t², t, 1 differ in size by a factor of 6 and are strongly correlated, the loss is
 * a long narrow valley (its Hessian has condition number 385) and gradient descent crawls;
 * in u it is nearly round (condition number 13) and converges in a few hundred steps to the
 * exact least-squares fit. The coefficients are mapped back to seconds at the end.
 *
 *   npx tsx examples/quadratic.ts [--plot out/quadratic.svg]
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  add,
  fromTensors,
  linspace,
  mul,
  nn,
  optim,
  patience,
  random,
  scalar,
  square,
  Stream,
  train,
  untilStep,
  type Tensor,
} from 'purediff'
import { panelsSVG, writeFileAtomic } from 'purediff/viz'
import { isMain, runCli, type CliSpec } from './lib/cli.js'

const { mse } = nn
const { sgd } = optim
const { key, normal } = random
const { last } = Stream

/** Options of `main`. */
export interface QuadraticOptions {
  /** Number of measurements (default 41). */
  readonly n?: number
  /** Standard deviation of the measurement noise in metres (default 0.25). */
  readonly noise?: number
  readonly seed?: number
  /** Learning rate of gradient descent (default 0.8: below 2 / largest curvature ≈ 0.88). */
  readonly learningRate?: number
  /** Step budget (default 5000). */
  readonly maxSteps?: number
  /** Where to write the SVG plot of the data and the fit (default `out/quadratic.svg`). */
  readonly plot?: string
  readonly log?: (line: string) => void
}

/** The fitted coefficients of h(t) = a·t² + b·t + c, in metres and seconds. */
export interface Coefficients {
  readonly a: number
  readonly b: number
  readonly c: number
}

/** What a run found. */
export interface QuadraticResult {
  /** The measurement times (s) and heights (m). */
  readonly t: ReadonlyArray<number>
  readonly h: ReadonlyArray<number>
  readonly fit: Coefficients
  /** The estimated gravitational acceleration, −2a. */
  readonly g: number
  readonly steps: number
  /** Mean squared residual of the fit (m²). */
  readonly loss: number
  readonly plotPath: string
}

/** The law the measurements are simulated from. */
export const TRUTH = Object.freeze({ h0: 1.5, v0: 12, g: 9.81, duration: 2.4 })

type Params = { readonly a: Tensor; readonly b: Tensor; readonly c: Tensor }

export const main = (opts: QuadraticOptions = {}): QuadraticResult => {
  const log = opts.log ?? console.log
  const { n = 41, noise = 0.25, seed = 0, learningRate = 0.8, maxSteps = 5000, plot = 'out/quadratic.svg' } = opts

  // The measurements: h(t) plus noise, at n evenly spaced times.
  const t = linspace(0, TRUTH.duration, n)
  const ideal = add(TRUTH.h0, add(mul(TRUTH.v0, t), mul(-TRUTH.g / 2, square(t))))
  const h = add(ideal, normal(key(seed), [n], { std: noise }))

  // Rescaled time u ∈ [−1, 1]: t = mid + half·u.
  const mid = TRUTH.duration / 2
  const half = TRUTH.duration / 2
  const u = mul(1 / half, add(t, -mid))

  // The model in u, and its loss: the mean squared residual over all measurements.
  const predict = (p: Params, x: Tensor): Tensor => add(add(mul(p.a, square(x)), mul(p.b, x)), p.c)
  const loss = (p: Params, batch: { readonly u: Tensor; readonly h: Tensor }): Tensor =>
    mse(predict(p, batch.u), batch.h)

  const run = pipe(
    train({
      params: { a: scalar(0), b: scalar(0), c: scalar(0) },
      loss,
      optimizer: sgd(learningRate),
      data: fromTensors({ u, h }),
      batchSize: n,
      key: key(seed + 1),
    }),
    // stop once 20 steps in a row bring no improvement (the loss is at its floating-point floor) ...
    patience(20, (s) => s.loss),
    // ... or when the budget is spent
    untilStep(maxSteps),
  )
  const final = O.toNullable(last(run))
  if (final === null) throw new Error('quadratic: the run produced no state (maxSteps must be at least 1)')
  const p = final.params

  // Back to seconds: a·u² + b·u + c with u = (t − mid)/half.
  const [au, bu, cu] = [p.a.item(), p.b.item(), p.c.item()]
  const fit: Coefficients = {
    a: au / half ** 2,
    b: bu / half - (2 * au * mid) / half ** 2,
    c: (au * mid ** 2) / half ** 2 - (bu * mid) / half + cu,
  }
  const g = -2 * fit.a
  const finalLoss = loss(p, { u, h }).item()

  const tArr = Array.from(t.toTypedArray())
  const hArr = Array.from(h.toTypedArray())
  const fine = Array.from({ length: 121 }, (_, i) => (TRUTH.duration * i) / 120)
  const svg = panelsSVG({
    title: `A ball thrown upward: ${n} noisy heights, g ≈ ${g.toFixed(2)} m/s²`,
    height: 420,
    xLabel: 'time (s)',
    panels: [
      {
        yLabel: 'height (m)',
        series: [
          { name: 'measured', points: tArr.map((ti, i) => [ti, hArr[i] as number] as const), line: false },
          {
            name: `fit: ${fit.a.toFixed(3)}·t² + ${fit.b.toFixed(3)}·t + ${fit.c.toFixed(3)}`,
            points: fine.map((s) => [s, fit.a * s * s + fit.b * s + fit.c] as const),
          },
          {
            name: 'truth',
            points: fine.map((s) => [s, TRUTH.h0 + TRUTH.v0 * s - (TRUTH.g / 2) * s * s] as const),
            dashed: true,
          },
        ],
      },
    ],
  })
  writeFileAtomic(plot, svg)

  log(`${n} measurements of a ball's height, noise σ = ${noise} m`)
  log(`gradient descent: ${final.step} steps, mean squared residual ${finalLoss.toFixed(5)} m²`)
  log(`fit:   h(t) = ${fit.a.toFixed(4)}·t² + ${fit.b.toFixed(4)}·t + ${fit.c.toFixed(4)}`)
  log(`truth: h(t) = ${(-TRUTH.g / 2).toFixed(4)}·t² + ${TRUTH.v0.toFixed(4)}·t + ${TRUTH.h0.toFixed(4)}`)
  log(`estimated g = ${g.toFixed(3)} m/s² (true value ${TRUTH.g})`)
  log(`wrote the data and the fit to ${plot}`)
  return Object.freeze({ t: tArr, h: hArr, fit, g, steps: final.step, loss: finalLoss, plotPath: plot })
}

export const CLI: CliSpec = {
  name: 'quadratic',
  summary: 'Fit a parabola to noisy heights of a thrown ball by gradient descent and estimate g.',
  options: {
    seed: { kind: 'number', integer: true, min: 0, default: 0, description: 'seed of the measurement noise' },
    plot: {
      kind: 'string',
      default: 'out/quadratic.svg',
      description: 'where to write the SVG of the data and the fit',
    },
  },
}

if (isMain(import.meta.url)) {
  runCli(CLI, (v) =>
    main({
      ...(v['plot'] !== undefined ? { plot: String(v['plot']) } : {}),
      ...(v['seed'] !== undefined ? { seed: Number(v['seed']) } : {}),
    }),
  )
}
