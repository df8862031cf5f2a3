/**
 * Newton's method with `derivative`: to solve f(x) = 0, follow the tangent line to where it
 * crosses zero, x ↦ x − f(x) / f′(x), and repeat. Near a simple root the error is roughly
 * squared at every step, e_{k+1} ≈ (f″ / 2f′) · e_k², so the number of correct digits
 * doubles. `derivative` gives f′ exactly (dual numbers, no step size to pick), and
 * `derivative(derivative(f))` gives f″ for Halley's method, whose error is cubed each step,
 * and for Newton's method on f′, which finds a minimum instead of a root.
 *
 * Each method is a stream of iterates, `iterate(x₀, step)`, stopped when the step no longer
 * changes x; the stream is a value, so printing it and measuring it replay the same run.
 *
 *   npx tsx examples/newton.ts
 */
import { add, cos, derivative, mul, pow, sin, Stream as S, sub, type Tensor } from 'purediff'
import { isMain, runCli, type CliSpec } from './lib/cli.js'

type Stream<A> = S.Stream<A>
const { iterate, take } = S

/**
 * A scalar function written with purediff ops, so it can be differentiated: `derivative`
 * calls it with a traced value, and the examples call it with plain numbers.
 */
export type Fn = (x: Tensor | number) => Tensor | number

const value = (y: Tensor | number): number => (typeof y === 'number' ? y : y.item())

/**
 * The Newton iterates x₀, x₁, … for f(x) = 0: x_{k+1} = x_k − f(x_k) / f′(x_k).
 * @example
 * toArray(take(6)(newton((x) => sub(mul(x, x), 2))(1))) // 1, 1.5, 1.41666…, 1.41421…
 */
export const newton =
  (f: Fn) =>
  (x0: number): Stream<number> => {
    const df = derivative(f)
    return iterate(x0, (x) => x - value(f(x)) / value(df(x)))
  }

/**
 * Halley's iterates: x_{k+1} = x_k − 2 f f′ / (2 f′² − f f″), with f′ and f″ from nested
 * `derivative`. Cubic convergence: the error is cubed each step.
 */
export const halley =
  (f: Fn) =>
  (x0: number): Stream<number> => {
    const df = derivative(f)
    const d2f = derivative(derivative(f))
    return iterate(x0, (x) => {
      const [y, dy, d2y] = [value(f(x)), value(df(x)), value(d2f(x))]
      return x - (2 * y * dy) / (2 * dy * dy - y * d2y)
    })
  }

/**
 * The iterates up to the first that agrees with its predecessor to rounding (at most
 * `maxSteps` steps). Pulling stops there, so no further iterate is computed.
 */
export const converge =
  (maxSteps = 50) =>
  (xs: Stream<number>): ReadonlyArray<number> => {
    const out: number[] = []
    for (const x of take(maxSteps + 1)(xs)) {
      const previous = out[out.length - 1]
      out.push(x)
      if (previous !== undefined && Math.abs(x - previous) <= 2 * Number.EPSILON * Math.abs(x)) break
    }
    return Object.freeze(out)
  }

/** One solved problem: its iterates and the residual f at the last one. */
export interface Solved {
  readonly name: string
  readonly iterates: ReadonlyArray<number>
  readonly root: number
  readonly residual: number
}

/** What `main` found. */
export interface NewtonResult {
  readonly sqrt2: Solved
  readonly sqrt2Halley: Solved
  readonly dottie: Solved
  readonly kepler: Solved & { readonly eccentricity: number; readonly meanAnomaly: number }
  readonly minimum: Solved
}

const solve = (name: string, f: Fn, iterates: ReadonlyArray<number>): Solved => {
  const root = iterates[iterates.length - 1] as number
  return Object.freeze({ name, iterates: Object.freeze([...iterates]), root, residual: value(f(root)) })
}

export const main = (opts: { readonly log?: (line: string) => void } = {}): NewtonResult => {
  const log = opts.log ?? console.log
  const show = (s: Solved, exact?: number): void => {
    log(`\n${s.name}`)
    s.iterates.forEach((x, k) => {
      const err = exact === undefined ? '' : `   error ${Math.abs(x - exact).toExponential(2)}`
      log(`  x${String(k).padEnd(2)} = ${x.toPrecision(17)}${err}`)
    })
    log(`  f(x) = ${s.residual.toExponential(2)} after ${s.iterates.length - 1} steps`)
  }

  // √2 is the positive root of x² − 2; from x₀ = 1 the error goes 4e-1, 9e-2, 2e-3, 2e-6,
  // 2e-12, then rounding: each error is about 0.35 times the square of the one before.
  const square2: Fn = (x) => sub(mul(x, x), 2)
  const sqrt2 = solve('Newton: x² − 2 = 0', square2, converge()(newton(square2)(1)))
  show(sqrt2, Math.SQRT2)
  // Halley's method on the same equation: the error goes 4e-1, 1e-2, 4e-7, then rounding (cubic).
  const sqrt2Halley = solve(
    'Halley: x² − 2 = 0 (uses f″ = derivative(derivative(f)))',
    square2,
    converge()(halley(square2)(1)),
  )
  show(sqrt2Halley, Math.SQRT2)

  // The Dottie number: the one real solution of cos x = x.
  const dottieFn: Fn = (x) => sub(cos(x), x)
  const dottie = solve('Newton: cos x − x = 0 (the Dottie number)', dottieFn, converge()(newton(dottieFn)(1)))
  show(dottie)

  // Kepler's equation E − e sin E = M: the eccentric anomaly E of a planet on an orbit of
  // eccentricity e at mean anomaly M, the textbook use of Newton's method (start at E = M).
  const e = 0.6
  const M = 1
  const keplerFn: Fn = (E) => sub(sub(E, mul(e, sin(E))), M)
  const kepler = {
    ...solve(`Newton: Kepler's equation E − ${e}·sin E = ${M}`, keplerFn, converge()(newton(keplerFn)(M))),
    eccentricity: e,
    meanAnomaly: M,
  }
  show(kepler)

  // A minimum is a root of the derivative: Newton on f′ (with f″ by nesting) minimises
  // f(x) = x⁴ − 3x³ + 2, whose minimum is at x = 9/4 (f′ = 4x³ − 9x² = x²(4x − 9)).
  const quartic: Fn = (x) => add(sub(pow(x, 4), mul(3, pow(x, 3))), 2)
  const slope: Fn = derivative(quartic)
  const minimum = solve('Newton on f′: the minimum of x⁴ − 3x³ + 2', slope, converge()(newton(slope)(3)))
  show(minimum, 9 / 4)

  return Object.freeze({ sqrt2, sqrt2Halley, dottie, kepler: Object.freeze(kepler), minimum })
}

export const CLI: CliSpec = {
  name: 'newton',
  summary: "Newton's and Halley's methods with `derivative`: √2, the Dottie number, Kepler's equation, a minimum.",
  options: {},
}

if (isMain(import.meta.url)) runCli(CLI, () => main())
