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
 * program that computes each derivative pass by pass, as `explain` records it. The counts
 * grow with n on the wrong side and stay flat on the right one. `jacfwd` batches its n
 * forward passes into one vectorised pass (`vmap`): the equations stay few, but the elements
 * they compute still grow with n, so batching changes the constant, not the count of passes.
 *
 *   npx tsx examples/lessons/reverse-vs-forward.ts
 */
import { cos, fromData, grad, jacfwd, jvp, linspace, mul, sin, sum, tanh, vjp, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

/** The cost of computing `f(x)`: equations (primitive applications) and the elements they compute. */
const cost = (f: (x: Tensor | number) => unknown, x: Tensor | number): { readonly equations: number; readonly elements: number } => {
  const ops = explain(f)(x).nodes.filter((node) => node.kind === 'op')
  return { equations: ops.length, elements: ops.reduce((s, node) => s + node.primal.size, 0) }
}

/** The i-th basis vector of length n. */
const basis = (n: number, i: number): Tensor => {
  const d = new Float64Array(n)
  d[i] = 1
  return fromData(d, [n])
}

export const SIZES = Object.freeze([1, 2, 4, 8, 16])

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  // a loss: n parameters → 1 number
  const loss = (w: Tensor): Tensor => sum(mul(tanh(w), sin(w)))
  // a curve: 1 parameter → n numbers (cosines at n frequencies)
  const curve = (n: number) => (t: Tensor | number): Tensor => mul(cos(mul(t, linspace(1, 2, n))), 2)

  const rows = SIZES.map((n) => {
    const w = linspace(-1, 1, n)
    const indices = Array.from({ length: n }, (_, i) => i)
    return {
      n,
      // the whole gradient of the loss: one reverse pass, or one forward pass per input
      lossReverse: cost((x) => grad(loss)(x as Tensor), w).equations,
      lossForward: cost((x) => indices.map((i) => jvp(loss, x as Tensor, basis(n, i))[1]), w).equations,
      // the whole velocity of the curve: one forward pass, or one reverse pass per output
      curveForward: cost((t) => jvp(curve(n), t, 1)[1], 0.3).equations,
      curveReverse: cost((t) => {
        const [, pullback] = vjp(curve(n), t)
        return indices.map((i) => pullback(basis(n, i)))
      }, 0.3).equations,
      // jacfwd runs the n forward passes as one batched pass
      jacfwdElements: cost((x) => jacfwd(loss)(x as Tensor), w).elements,
    }
  })
  log('equations to compute the whole derivative, pass by pass (counted, not timed):')
  log('     n   loss: reverse  forward   curve: forward  reverse   jacfwd(loss) elements')
  for (const r of rows) {
    log(
      `  ${String(r.n).padStart(4)}   ${String(r.lossReverse).padStart(13)}  ${String(r.lossForward).padStart(7)}   ${String(r.curveForward).padStart(14)}  ${String(r.curveReverse).padStart(7)}   ${String(r.jacfwdElements).padStart(21)}`,
    )
  }
  log('reverse mode is flat in n for the loss (1 output), forward mode for the curve (1 input);')
  log('batching the forward passes (jacfwd) keeps the equations few, but their elements grow with n.')

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
