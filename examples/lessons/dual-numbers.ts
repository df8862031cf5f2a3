/**
 * Lesson 1: dual numbers by hand, then `jvp`.
 *
 * A dual number is a + bε with ε² = 0. Put x + 1·ε into f and Taylor's theorem leaves
 * f(x) + f′(x)·ε: the ε part is the derivative. Here that is done by hand with a ten-line
 * class, then with purediff's `dual` module, then with `jvp` on tensors, and all three agree
 * with the derivative worked out on paper: f(x) = x·sin(x) + x², f′(x) = sin(x) + x·cos(x) + 2x.
 *
 * `explain` then shows the same computation node by node: the forward sweep is exactly the
 * dual-number computation (the tangent column is the ε part of each intermediate value).
 *
 *   npx tsx examples/lessons/dual-numbers.ts
 */
import { add, dual, jvp, mul, sin, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

/** A dual number a + bε, by hand: ε² = 0 is the whole idea. */
class D {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {}
  add(o: D): D {
    return new D(this.a + o.a, this.b + o.b) // (a + bε) + (c + dε) = (a + c) + (b + d)ε
  }
  mul(o: D): D {
    return new D(this.a * o.a, this.a * o.b + this.b * o.a) // the bd·ε² term is 0
  }
  sin(): D {
    return new D(Math.sin(this.a), Math.cos(this.a) * this.b) // sin(a + bε) = sin a + b·cos a·ε
  }
}

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  const x0 = 0.5
  const exact = Math.sin(x0) + x0 * Math.cos(x0) + 2 * x0

  // 1. by hand: seed x with ε (b = 1)
  const x = new D(x0, 1)
  const byHand = x.mul(x.sin()).add(x.mul(x))
  log(`by hand:    f(${x0}) = ${byHand.a}, ε part ${byHand.b}`)

  // 2. purediff's dual numbers (the same arithmetic, with fp-ts instances)
  const fDual = (u: dual.Dual) => dual.add(dual.mul(u, dual.sin(u)), dual.mul(u, u))
  const viaDual = fDual(dual.variable(x0))
  log(`dual:       f(${x0}) = ${viaDual.primal}, ε part ${viaDual.tangent}`)

  // 3. jvp on tensors: the tangent is pushed through every op by its rule
  const f = (u: Tensor | number): Tensor => add(mul(u, sin(u)), mul(u, u))
  const [y, yDot] = jvp(f, x0, 1)
  const viaJvp = { primal: (y as Tensor).item(), tangent: (yDot as Tensor).item() }
  log(`jvp:        f(${x0}) = ${viaJvp.primal}, tangent ${viaJvp.tangent}`)
  log(`on paper:   f′(x) = sin x + x·cos x + 2x = ${exact}`)

  // 4. the picture: the tangent column is the ε part of every intermediate value
  const e = explain(f, { title: 'f(x) = x·sin(x) + x² at x = 0.5' })(x0)
  log('')
  log(e.toText())
  const files = writeExplanation(e, opts.out ?? 'out/lessons', 'dual-numbers')
  log(`wrote ${files.svg} and ${files.html}`)
  return Object.freeze({
    exact,
    byHand: { primal: byHand.a, tangent: byHand.b },
    viaDual,
    viaJvp,
    explanation: e,
    files,
  })
}

if (isMain(import.meta.url))
  runCli(lessonCli('dual-numbers', 'Lesson: dual numbers by hand, then jvp, then the picture.'), (v) =>
    main(lessonOptions(v)),
  )
