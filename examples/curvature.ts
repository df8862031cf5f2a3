/**
 * Curvature with Hessians, for teaching: what second derivatives say about a curve, a loss
 * surface and a training step.
 *
 * 1. The curvature of a plane curve y = f(x) is κ = |f″| / (1 + f′²)^{3/2}, the inverse of
 *    the radius of the circle that hugs the curve. Nested `derivative` gives f′ and f″
 *    exactly; for the catenary y = cosh x (a hanging chain) κ = 1 / cosh² x.
 * 2. On Rosenbrock's valley f(x, y) = (1 − x)² + 100 (y − x²)² the Hessian at the minimum
 *    (1, 1) has eigenvalues about 1002 and 0.4: the valley is 2500 times steeper across than
 *    along. Gradient descent must take steps small enough for the steep direction (below
 *    2 / 1002) and so crawls along the floor; Newton's method, x ← x − H⁻¹ ∇f, rescales each
 *    direction by its curvature and lands on the minimum in a handful of steps.
 * 3. The Hessian of logsumexp is diag(p) − p pᵀ with p = softmax(x): positive semidefinite
 *    (logsumexp is convex) and flat along (1, …, 1), because adding a constant to every input
 *    only shifts the output. `hvp` finds that flat direction without forming the matrix.
 *
 * Both descents are streams of iterates (`iterate`), compared step by step; the distance to
 * the minimum per step is drawn as an SVG plot.
 *
 *   npx tsx examples/curvature.ts [--plot out/curvature.svg]
 */
import { pipe } from 'fp-ts/lib/function.js'
import {
  add,
  cosh,
  derivative,
  grad,
  hessian,
  hvp,
  logsumexp,
  mul,
  numHessian,
  ones,
  slice,
  softmax,
  square,
  Stream,
  sub,
  sum,
  tensor,
  toArray,
  type Tensor,
} from 'purediff'
import { panelsSVG, writeFileAtomic } from 'purediff/viz'
import { isMain, runCli, type CliSpec } from './lib/cli.js'

const { iterate, map, take, toArray: streamToArray } = Stream

/** Options of `main`. */
export interface CurvatureOptions {
  /** Gradient-descent steps on Rosenbrock's function (default 20 000). */
  readonly gdSteps?: number
  /** Newton steps (default 10). */
  readonly newtonSteps?: number
  /** Where to write the SVG plot of the two descents (default `out/curvature.svg`). */
  readonly plot?: string
  readonly log?: (line: string) => void
}

/** What `main` found. */
export interface CurvatureResult {
  /** [x, κ(x) by nested `derivative`] along the catenary. */
  readonly catenary: ReadonlyArray<readonly [number, number]>
  /** The Hessian of Rosenbrock's function at its minimum (1, 1). */
  readonly hessianAtMinimum: ReadonlyArray<ReadonlyArray<number>>
  /** The largest difference between that Hessian and central differences of the function. */
  readonly hessianVsNumeric: number
  /** Its eigenvalues, largest first, and their ratio. */
  readonly eigenvalues: readonly [number, number]
  readonly conditionNumber: number
  /** Distance to (1, 1) after each step (index 0 = the start). */
  readonly gdDistance: ReadonlyArray<number>
  readonly newtonDistance: ReadonlyArray<number>
  readonly gdLearningRate: number
  /** logsumexp at x: its Hessian, and the Hessian-vector product with (1, …, 1). */
  readonly lseHessian: ReadonlyArray<ReadonlyArray<number>>
  readonly lseFlat: ReadonlyArray<number>
  readonly plotPath: string
}

// -------------------------------------------------------------------------------------
// 1. the curvature of a plane curve
// -------------------------------------------------------------------------------------

/** κ(x) = |f″(x)| / (1 + f′(x)²)^{3/2}, with f′ and f″ from nested `derivative`. */
export const curvature =
  (f: (x: Tensor | number) => Tensor | number) =>
  (x: number): number => {
    const d1 = derivative(f)(x) as number
    const d2 = derivative(derivative(f))(x) as number
    return Math.abs(d2) / (1 + d1 * d1) ** 1.5
  }

// -------------------------------------------------------------------------------------
// 2. Rosenbrock's valley
// -------------------------------------------------------------------------------------

/** f(x, y) = (1 − x)² + 100 (y − x²)², with its minimum 0 at (1, 1). */
export const rosenbrock = (p: Tensor): Tensor => {
  const [x, y] = [slice(p, [0], [1]), slice(p, [1], [1])]
  return sum(add(square(sub(1, x)), mul(100, square(sub(y, square(x))))))
}

/** Solve the 2 × 2 system H d = g (Cramer's rule). */
const solve2 = (h: ReadonlyArray<ReadonlyArray<number>>, g: ReadonlyArray<number>): [number, number] => {
  const [[a, b], [c, d]] = h as [[number, number], [number, number]]
  const [g0, g1] = g as [number, number]
  const det = a * d - b * c
  return [(d * g0 - b * g1) / det, (a * g1 - c * g0) / det]
}

/** Eigenvalues of a symmetric 2 × 2 matrix, largest first. */
const eig2 = (h: ReadonlyArray<ReadonlyArray<number>>): [number, number] => {
  const [[a, b], [, d]] = h as [[number, number], [number, number]]
  const mean = (a + d) / 2
  const r = Math.hypot((a - d) / 2, b)
  return [mean + r, mean - r]
}

const vec = (t: Tensor): number[] => Array.from(t.toTypedArray())
const mat = (t: Tensor): number[][] => toArray(t) as number[][]

/** One gradient-descent step. */
export const gdStep =
  (learningRate: number) =>
  (p: Tensor): Tensor =>
    sub(p, mul(learningRate, grad(rosenbrock)(p)))

/** One Newton step: p − H(p)⁻¹ ∇f(p). */
export const newtonStep = (p: Tensor): Tensor =>
  tensor(vec(p).map((v, i) => v - solve2(mat(hessian(rosenbrock)(p)), vec(grad(rosenbrock)(p)))[i]!))

const distanceToMinimum = (p: Tensor): number => {
  const [x, y] = vec(p) as [number, number]
  return Math.hypot(x - 1, y - 1)
}

// -------------------------------------------------------------------------------------
// the program
// -------------------------------------------------------------------------------------

export const main = (opts: CurvatureOptions = {}): CurvatureResult => {
  const log = opts.log ?? console.log
  const { gdSteps = 20_000, newtonSteps = 10, plot = 'out/curvature.svg' } = opts

  // 1. a hanging chain, y = cosh x
  log('1. The curvature of the catenary y = cosh x, κ = |y″| / (1 + y′²)^(3/2):')
  const catenary = [0, 0.5, 1, 2].map((x) => [x, curvature(cosh)(x)] as const)
  for (const [x, k] of catenary) {
    log(
      `   x = ${x.toFixed(1)}:  κ = ${k.toPrecision(15)}   1/cosh²x = ${(1 / Math.cosh(x) ** 2).toPrecision(15)}   radius ${(1 / k).toFixed(4)}`,
    )
  }

  // 2. Rosenbrock's valley
  const minimum = tensor([1, 1])
  const h = mat(hessian(rosenbrock)(minimum))
  const hNum = mat(numHessian(rosenbrock)(minimum))
  const hessianVsNumeric = Math.max(...h.flatMap((row, i) => row.map((v, j) => Math.abs(v - (hNum[i]?.[j] as number)))))
  const eigenvalues = eig2(h)
  const conditionNumber = eigenvalues[0] / eigenvalues[1]
  log(`\n2. Rosenbrock's valley (1 − x)² + 100 (y − x²)²; its Hessian at the minimum (1, 1):`)
  log(
    `   [[${h[0]?.join(', ')}], [${h[1]?.join(', ')}]]   (central differences agree to ${hessianVsNumeric.toExponential(1)})`,
  )
  log(
    `   eigenvalues ${eigenvalues[0].toFixed(3)} and ${eigenvalues[1].toFixed(5)}: condition number ${conditionNumber.toFixed(0)}`,
  )

  const start = tensor([-1.2, 1])
  // Gradient descent is stable only for steps below 2 / (largest curvature on its path).
  const gdLearningRate = 1e-3
  const distances = (step: (p: Tensor) => Tensor, n: number): ReadonlyArray<number> =>
    pipe(iterate(start, step), take(n + 1), map(distanceToMinimum), streamToArray)
  const gdDistance = distances(gdStep(gdLearningRate), gdSteps)
  const newtonDistance = distances(newtonStep, newtonSteps)
  const firstBelow = (ds: ReadonlyArray<number>, tol: number): string => {
    const k = ds.findIndex((d) => d < tol)
    return k < 0 ? `not within ${ds.length - 1} steps` : `after ${k} steps`
  }
  log(`   from (−1.2, 1), distance to the minimum below 1e-6:`)
  log(
    `     gradient descent (learning rate ${gdLearningRate}): ${firstBelow(gdDistance, 1e-6)}; after ${gdSteps} steps ${gdDistance[gdSteps]?.toExponential(2)}`,
  )
  log(
    `     Newton's method (uses the Hessian):        ${firstBelow(newtonDistance, 1e-6)}; after ${newtonSteps} steps ${newtonDistance[newtonSteps]?.toExponential(2)}`,
  )

  // 3. logsumexp: convex, and flat along (1, …, 1)
  const x = tensor([1, 2, 3, 0.5])
  const lse = (v: Tensor): Tensor => logsumexp(v)
  const lseHessian = mat(hessian(lse)(x))
  const lseFlat = vec(hvp(lse)(x, ones([4])))
  const p = vec(softmax(x))
  const worst = Math.max(
    ...lseHessian.flatMap((row, i) => row.map((v, j) => Math.abs(v - ((i === j ? p[i]! : 0) - p[i]! * p[j]!)))),
  )
  log(
    `\n3. The Hessian of logsumexp at x = (1, 2, 3, 0.5) is diag(p) − p pᵀ with p = softmax(x) (largest difference ${worst.toExponential(1)});`,
  )
  log(
    `   H · (1, 1, 1, 1) by hvp = (${lseFlat.map((v) => v.toExponential(1)).join(', ')}): flat along the constant shift`,
  )

  // Step k is drawn at x = k + 1 so the start sits at 1 on the logarithmic step axis.
  const points = (ds: ReadonlyArray<number>) => ds.map((d, k) => [k + 1, d] as const)
  const svg = panelsSVG({
    title: "Rosenbrock's valley: distance to the minimum, step by step",
    xLabel: 'step + 1',
    xLog: true,
    panels: [
      {
        yLabel: 'distance to (1, 1)',
        yLog: true,
        series: [
          { name: `gradient descent, learning rate ${gdLearningRate}`, points: points(gdDistance) },
          { name: "Newton's method (Hessian)", points: points(newtonDistance), markers: true },
        ],
      },
    ],
    height: 420,
  })
  writeFileAtomic(plot, svg)
  log(`\nwrote the distance to the minimum after every step of both descents to ${plot}`)

  return Object.freeze({
    catenary,
    hessianAtMinimum: h,
    hessianVsNumeric,
    eigenvalues,
    conditionNumber,
    gdDistance,
    newtonDistance,
    gdLearningRate,
    lseHessian,
    lseFlat,
    plotPath: plot,
  })
}

export const CLI: CliSpec = {
  name: 'curvature',
  summary: 'Hessians with purediff: the curvature of a catenary, Newton vs gradient descent on Rosenbrock, logsumexp.',
  options: {
    plot: { kind: 'string', default: 'out/curvature.svg', description: 'where to write the SVG of both descents' },
  },
}

if (isMain(import.meta.url)) runCli(CLI, (v) => main(v['plot'] !== undefined ? { plot: String(v['plot']) } : {}))
