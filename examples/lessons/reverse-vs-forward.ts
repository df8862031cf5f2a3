/**
 * Lesson 2: why reverse mode is cheap for a loss and forward mode for a curve.
 *
 * Forward mode pushes ONE tangent through the program: it gives J·v, one column of the
 * Jacobian per pass. Reverse mode pulls ONE cotangent back: it gives uᵀ·J, one row per pass.
 * - A loss maps n parameters to 1 number: J is 1 × n. Reverse mode needs one pass for the
 *   whole gradient; forward mode needs n passes.
 * - A curve maps 1 parameter to n numbers: J is n × 1. Forward mode needs one pass for the
 *   whole velocity; reverse mode needs n passes.
 * Cost is counted here, not timed: the scalar operations of the program that computes each
 * derivative (the entries every equation produces, as `explain` records them), divided by
 * those of evaluating the function once. On the right side that ratio stays flat as n grows;
 * on the wrong side it grows with n. (Counting equations alone would hide this: `jacfwd` and
 * `jacrev` push all n basis directions through one batched program with `vmap`, so their
 * equations are few but each is n times wider.)
 *
 *   npx tsx examples/lessons/reverse-vs-forward.ts
 */
import { cos, grad, jacfwd, jacrev, linspace, mul, sin, sum, tanh, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

/** Scalar operations of the program that computes `f(x)`: the entries its equations produce. */
const work = (f: (x: Tensor | number) => unknown, x: Tensor | number): number =>
  explain(f)(x)
    .nodes.filter((node) => node.kind === 'op')
    .reduce((total, node) => total + node.shape.reduce((size, d) => size * d, 1), 0)

/** The cost of a derivative program as a multiple of evaluating the function once. */
const relative = (
  derivative: (x: Tensor | number) => unknown,
  f: (x: Tensor | number) => unknown,
  x: Tensor | number,
): number => work(derivative, x) / work(f, x)

export const SIZES = Object.freeze([1, 2, 4, 8, 16])

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  // a loss: n parameters → 1 number
  const loss = (w: Tensor): Tensor => sum(mul(tanh(w), sin(w)))
  // a curve: 1 parameter → n numbers (a helix-like curve sampled at n frequencies)
  const curve =
    (n: number) =>
    (t: Tensor): Tensor =>
      mul(cos(mul(t, linspace(1, 2, n))), 2)

  const rows = SIZES.map((n) => {
    const w = linspace(-1, 1, n)
    return {
      n,
      lossReverse: relative(
        (x) => grad(loss)(x as Tensor),
        (x) => loss(x as Tensor),
        w,
      ),
      lossForward: relative(
        (x) => jacfwd(loss)(x as Tensor),
        (x) => loss(x as Tensor),
        w,
      ),
      curveForward: relative(
        (t) => jacfwd(curve(n))(t as Tensor),
        (t) => curve(n)(t as Tensor),
        0.3,
      ),
      curveReverse: relative(
        (t) => jacrev(curve(n))(t as Tensor),
        (t) => curve(n)(t as Tensor),
        0.3,
      ),
    }
  })
  log('scalar operations to compute the whole derivative, as a multiple of evaluating f once (counted, not timed):')
  log('     n   loss: reverse  forward   curve: forward  reverse')
  for (const r of rows) {
    log(
      `  ${String(r.n).padStart(4)}   ${r.lossReverse.toFixed(1).padStart(13)}  ${r.lossForward.toFixed(1).padStart(7)}   ${r.curveForward.toFixed(1).padStart(14)}  ${r.curveReverse.toFixed(1).padStart(7)}`,
    )
  }
  log('reverse mode is flat in n for the loss (1 output), forward mode for the curve (1 input).')

  const e = explain(loss, { title: 'a loss of 4 parameters: one reverse sweep gives all 4 partial derivatives' })(
    linspace(-1, 1, 4),
  )
  log('')
  log(e.toText())
  const files = writeExplanation(e, opts.out ?? 'out/lessons', 'reverse-vs-forward')
  log(`wrote ${files.svg} and ${files.html}`)
  return Object.freeze({ rows: Object.freeze(rows), explanation: e, files })
}

if (isMain(import.meta.url)) {
  runCli(
    lessonCli(
      'reverse-vs-forward',
      'Lesson: reverse mode for a loss, forward mode for a curve, with counted scalar operations.',
    ),
    (v) => main(lessonOptions(v)),
  )
}
