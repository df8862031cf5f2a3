/**
 * The vitest helpers as a researcher uses them: each test below is one line. They register
 * ordinary vitest tests (fast-check underneath), so a failure would fail this file; the
 * failing paths of what they run (checkGrads, the suites) are covered by the other files.
 */
import { add, matmul, mean, square, sub, tanh, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import { arbParams, derivativeLaws, optimizerLaws } from '../../laws/index.js'
import type { OptimizerLike } from '../../laws/index.js'
import { testGrads, testLaws, testProgramGrads } from '../../laws/vitest.js'
import { tree } from '../../src/index.js'

const X = tensor([
  [0.5, -1, 2],
  [1, 0.3, -0.2],
])
const Y = tensor([[1], [-0.5]])
type Mlp = {
  readonly l1: { readonly w: Tensor; readonly b: Tensor }
  readonly l2: { readonly w: Tensor; readonly b: Tensor }
}
const loss = (p: Mlp) => mean(square(sub(add(matmul(tanh(add(matmul(X, p.l1.w), p.l1.b)), p.l2.w), p.l2.b), Y)))
const mlp = arbParams({ l1: { w: [3, 4], b: [4] }, l2: { w: [4, 1], b: [1] } })

testGrads('two-layer mlp', loss, mlp)
testGrads('two-layer mlp, second order', loss, mlp, { order: 2, numRuns: 5 })
testProgramGrads('grad matches numGrad on random programs', { numRuns: 60 })
testLaws('derivative laws of the mlp', derivativeLaws(loss, mlp), { numRuns: 5 })
testLaws(
  'sgd',
  optimizerLaws({ init: () => ({}), update: (g, s) => [tree.scale(g, -0.1), s] } as OptimizerLike<unknown>),
  { numRuns: 20 },
)
