/**
 * Lesson 2: why reverse mode is cheap for a loss and forward mode for a curve.
 *
 * Forward mode pushes ONE tangent through the program: it gives J·v, one column of the
 * Jacobian per pass. Reverse mode pulls ONE cotangent back: it gives uᵀ·J, one row per pass.
 * - A loss maps n parameters to 1 number: J is 1 × n. Reverse mode needs one pass for the
 *   whole gradient; forward mode needs n passes.
 * - A curve maps 1 parameter to n numbers: J is n × 1. Forward mode needs one pass for the
 *   whole velocity; reverse mode needs n passes.
 * Cost is counted here, not timed: the number of equations (primitive applications) in the
 * program that computes each derivative, as `explain` records it. The counts grow with n on
 * the wrong side and stay flat on the right one. The n passes are written as a loop here, one
 * pass per basis vector; `jacfwd` and `jacrev` batch them with `vmap` into one pass over n-fold
 * data, which has as few equations but as much arithmetic.
 *
 *   npx tsx examples/lessons/reverse-vs-forward.ts
 */
import { cos, grad, jacfwd, jvp, linspace, mul, oneHot, reshape, sin, sum, tanh, vjp, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

/** Equations in the program that computes `f(x)` (what `explain` records). */
const equations = (f: (x: Tensor | number) => unknown, x: Tensor | number): number =>
  explain(f)(x).nodes.filter((node) => node.kind === 'op').length

export const SIZES = Object.freeze([1, 2, 4, 8, 16])

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  // a loss: n parameters → 1 number
  const loss = (w: Tensor): Tensor => sum(mul(tanh(w), sin(w)))
  // a curve: 1 parameter → n numbers (a helix-like curve sampled at n frequencies)
  const curve = (n: number) => (t: Tensor): Tensor => mul(cos(mul(t, linspace(1, 2, n))), 2)

  const rows = SIZES.map((n) => {
    const w = linspace(-1, 1, n)
    return {
      n,
      lossReverse: equations((x) => grad(loss)(x as Tensor), w),
      // forward mode on the loss: one jvp per parameter (a column e_i of the identity)
      lossForward: equations((x) => Array.from({ length: n }, (_, i) => jvp(loss, x as Tensor, reshape(oneHot([i], n), [n]))[1]), w),
      curveForward: equations((t) => jacfwd(curve(n))(t as Tensor), 0.3),
      // reverse mode on the curve: one pullback per output
      curveReverse: equations((t) => {
        const [, pullback] = vjp(curve(n), t as Tensor)
        return Array.from({ length: n }, (_, i) => pullback(reshape(oneHot([i], n), [n])))
      }, 0.3),
    }
  })
  log('equations to compute the whole derivative (counted, not timed):')
  log('     n   loss: reverse  forward   curve: forward  reverse')
  for (const r of rows) {
    log(`  ${String(r.n).padStart(4)}   ${String(r.lossReverse).padStart(13)}  ${String(r.lossForward).padStart(7)}   ${String(r.curveForward).padStart(14)}  ${String(r.curveReverse).padStart(7)}`)
  }
  log('reverse mode is flat in n for the loss (1 output), forward mode for the curve (1 input).')

  const e = explain(loss, { title: 'a loss of 4 parameters: one reverse sweep gives all 4 partial derivatives' })(linspace(-1, 1, 4))
  log('')
  log(e.toText())
  const files = writeExplanation(e, opts.out ?? 'out/lessons', 'reverse-vs-forward')
  log(`wrote ${files.svg} and ${files.html}`)
  return Object.freeze({ rows: Object.freeze(rows), explanation: e, files })
}

if (isMain(import.meta.url)) {
  runCli(lessonCli('reverse-vs-forward', 'Lesson: reverse mode for a loss, forward mode for a curve, with counted equations.'), (v) => main(lessonOptions(v)))
}
