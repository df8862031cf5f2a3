/**
 * Lesson 5: backpropagation through a 2-layer network, step by step.
 *
 * The network is h = tanh(x·W₁ + b₁), ŷ = h·W₂ + b₂, and the loss the mean squared error
 * against targets y, on four points of XOR. Backpropagation is the reverse sweep: seed the
 * loss with 1, then walk the equations backwards and at each one multiply the adjoint of its
 * output by the local derivative (x̄ += ȳ · ∂y/∂x). The adjoints of the four parameter tensors
 * at the end are the gradient, the same numbers `grad(loss)` returns, and one gradient step
 * lowers the loss.
 *
 *   npx tsx examples/lessons/backprop.ts
 */
import { add, grad, matmul, mean, square, sub, tanh, tensor, tree, type Tensor } from 'purediff'
import { explain } from 'purediff/viz'
import { isMain, runCli } from '../lib/cli.js'
import { lessonCli, lessonOptions, writeExplanation, type LessonOptions } from '../lib/lesson.js'

export interface Params {
  readonly w1: Tensor
  readonly b1: Tensor
  readonly w2: Tensor
  readonly b2: Tensor
}

// XOR: four points, one target each
export const X = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
])
export const Y = tensor([[0], [1], [1], [0]])
export const INIT: Params = Object.freeze({
  w1: tensor([
    [0.5, -0.4, 0.3],
    [-0.2, 0.6, 0.7],
  ]),
  b1: tensor([0.1, -0.1, 0]),
  w2: tensor([[0.8], [-0.5], [0.4]]),
  b2: tensor([0.05]),
})

export const predict = (p: Params, x: Tensor): Tensor => add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2)
export const loss = (p: Params): Tensor => mean(square(sub(predict(p, X), Y)))

export const main = (opts: LessonOptions = {}) => {
  const log = opts.log ?? console.log
  const e = explain(loss, { title: 'backpropagation: a 2-3-1 tanh network, mean squared error on XOR', maxEntries: 3 })(
    INIT,
  )
  log(e.toText())

  log('the gradient is the adjoint of each parameter at the end of the reverse sweep:')
  const g = grad(loss)(INIT)
  const gradByName: Readonly<Record<string, Tensor>> = { w1: g.w1, b1: g.b1, w2: g.w2, b2: g.b2 }
  let maxDiff = 0
  for (const id of e.inputs) {
    const { name, adjoint } = e.nodes[id]!
    const a = adjoint?.toTypedArray() ?? new Float64Array(0)
    const b = gradByName[name]!.toTypedArray()
    a.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (b[i] as number)))))
    log(`  ∂L/∂${name} = ${JSON.stringify(adjoint?.toArray())}`)
  }
  log(`largest difference from grad(loss): ${maxDiff}`)

  const lr = 0.5
  const after = loss(tree.axpy(-lr, g, INIT)).item()
  const before = loss(INIT).item()
  log(`one gradient step (learning rate ${lr}): loss ${before.toFixed(6)} → ${after.toFixed(6)}`)
  const files = writeExplanation(e, opts.out ?? 'out/lessons', 'backprop')
  log(`wrote ${files.svg} and ${files.html} (open the .html and press "next" to walk through both sweeps)`)
  return Object.freeze({ explanation: e, gradient: g, maxDiff, lossBefore: before, lossAfter: after, files })
}

if (isMain(import.meta.url))
  runCli(lessonCli('backprop', 'Lesson: backpropagation through a 2-layer network, step by step.'), (v) =>
    main(lessonOptions(v)),
  )
