/**
 * Lesson 3: perturbation confusion.
 *
 * d/dx [ x · d/dy (x + y) ] at x = 1, y = 1. The inner derivative d/dy (x + y) is 1 whatever
 * x is, so the whole thing is d/dx [x · 1] = 1. Naive dual numbers, with a single ε shared by
 * both derivatives, answer 2: the inner derivative sees x's ε as if it were y's and counts
 * it too (Siskind and Pearlmutter, "Perturbation confusion and referential transparency",
 * 2005). purediff tags every perturbation with the level of the transform that made it, so
 * the inner `derivative` treats x as a constant and the answer is 1.
 *
 * The explanation of the outer function shows why: the inner derivative is a constant node
 * (it does not depend on x: its tangent is –), and x's only path to the output is the
 * multiplication.
 *
 *   npx tsx examples/lessons/perturbation-confusion.ts
 */
import { add, derivative, mul, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

/** Dual numbers with ONE ε for every derivative: the confused version. */
interface Naive {
  readonly a: number
  readonly b: number
}
const nAdd = (p: Naive, q: Naive): Naive => ({ a: p.a + q.a, b: p.b + q.b })
const nMul = (p: Naive, q: Naive): Naive => ({ a: p.a * q.a, b: p.a * q.b + p.b * q.a })
const nDerivative =
  (f: (u: Naive) => Naive) =>
  (u: Naive): Naive => {
    // seed u with ε, and read the ε part of the result — but ε is the same symbol for every
    // derivative, so a u that already carries an outer ε adds it in again
    const r = f({ a: u.a, b: u.b + 1 })
    return { a: r.b, b: 0 }
  }

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log

  // naive: the inner derivative's result forgets nothing and the outer ε leaks into it
  const naiveOuter = (x: Naive): Naive => nMul(x, nDerivative((y) => nAdd(x, y))({ a: 1, b: 0 }))
  const naive = naiveOuter({ a: 1, b: 1 }).b
  log(`naive dual numbers, one ε: d/dx [x · d/dy (x + y)] at 1 = ${naive}   (wrong)`)

  // purediff: each derivative opens its own level
  const outer = (x: Tensor): Tensor => mul(x, derivative((y: Tensor | number) => add(x, y))(1))
  const right = derivative((x: Tensor | number) => outer(x as Tensor))(1)
  log(`purediff derivative:               d/dx [x · d/dy (x + y)] at 1 = ${right}   (right)`)

  const e = explain(outer, { title: 'x · d/dy (x + y) at x = 1' })(1)
  log('')
  log(e.toText())
  const files = writeExplanation(e, opts.out ?? 'out/lessons', 'perturbation-confusion')
  log(`wrote ${files.svg} and ${files.html}`)
  return Object.freeze({ naive, right, explanation: e, files })
}

if (isMain(import.meta.url)) {
  runCli(
    lessonCli(
      'perturbation-confusion',
      'Lesson: perturbation confusion, and why purediff gets 1 where naive dual numbers get 2.',
    ),
    (v) => main(lessonOptions(v)),
  )
}
