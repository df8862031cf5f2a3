/**
 * Lesson 4: Newton's method with `derivative`.
 *
 * To solve f(x) = 0, replace f by its tangent line at x and solve that instead:
 * x ↦ N(x) = x − f(x) / f′(x). `derivative` gives f′ exactly, by dual numbers, with no step
 * size to choose. Near a root r the error is squared at each step, because N′(r) = 0: the
 * step's own derivative vanishes at the root, so to first order N does not move r and the
 * error that is left is second order. `explain(N)` shows this: the tangent of N at the
 * root is 0 (up to rounding), computed through f′ itself (the picture holds the forward
 * pass that computes f′, and the tangent flows through it).
 *
 *   npx tsx examples/lessons/newton.ts
 */
import { derivative, div, mul, sub, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

type Fn = (x: Tensor | number) => Tensor | number
const value = (y: Tensor | number): number => (typeof y === 'number' ? y : y.item())

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  const f: Fn = (x) => sub(mul(x, x), 2) // root √2
  const df = derivative(f)
  const step = (x: Tensor | number): Tensor => sub(x, div(f(x), df(x)))

  const iterates = [1]
  for (let k = 0; k < 8; k++) {
    const x = iterates[iterates.length - 1] as number
    const next = value(step(x))
    iterates.push(next)
    // converged: the step no longer changes x beyond rounding
    if (Math.abs(next - x) <= 2 * Number.EPSILON * Math.abs(x)) break
  }
  log("Newton's method on x² − 2 = 0, from x₀ = 1 (f′ by `derivative`):")
  iterates.forEach((x, k) => log(`  x${k} = ${x.toPrecision(17)}   error ${Math.abs(x - Math.SQRT2).toExponential(1)}`))

  // N′ at the root: 0, which is why each error is about the square of the one before
  const atRoot = explain(step, { title: 'one Newton step N(x) = x − f(x)/f′(x) at the root √2: N′(√2) = 0' })(
    Math.SQRT2,
  )
  const slopeAtRoot = atRoot.nodes[atRoot.outputs[0]!]!.tangent?.item() ?? 0
  const atStart = explain(step, { title: 'one Newton step N(x) = x − f(x)/f′(x) at x = 1' })(1)
  const slopeAtStart = atStart.nodes[atStart.outputs[0]!]!.tangent?.item() ?? 0
  log(`N′(1) = ${slopeAtStart} (= f f″ / f′² = −1 · 2 / 4), N′(√2) = ${slopeAtRoot.toExponential(2)}`)
  log('')
  log(atRoot.toText())
  const files = writeExplanation(atRoot, opts.out ?? 'out/lessons', 'newton')
  log(`wrote ${files.svg} and ${files.html}`)
  return Object.freeze({ iterates: Object.freeze(iterates), slopeAtRoot, slopeAtStart, explanation: atRoot, files })
}

if (isMain(import.meta.url))
  runCli(lessonCli('newton', "Lesson: Newton's method with derivative, and why it converges quadratically."), (v) =>
    main(lessonOptions(v)),
  )
