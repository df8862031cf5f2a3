import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { checkSuite, optimizerLaws } from '../../laws/index.js'
import { testLaws } from '../../laws/vitest.js'
import {
  adagrad, adam, adamw, chain, clipByGlobalNorm, cosineDecay, momentum, rmsprop, scale, sgd,
} from '../../src/optim/index.js'

// The generic optimizer laws (zero gradient keeps params still, descent on a convex
// quadratic, state mirrors params, no mutation, determinism) on every optimizer. Learning
// rates respect the laws' small-step assumption (≤ 0.5 for gradient descent, ≤ 1 for
// sign-like methods). Fixed seeds keep the runs reproducible.
const run = { numRuns: 30, seed: 20240601 }

testLaws('sgd', optimizerLaws(sgd(0.1)), run)
testLaws('sgd with a schedule', optimizerLaws(sgd(cosineDecay(0.3, 10))), run)
testLaws('momentum', optimizerLaws(momentum(0.1, 0.9)), run)
testLaws('momentum (Nesterov)', optimizerLaws(momentum(0.1, 0.9, { nesterov: true })), run)
testLaws('adam', optimizerLaws(adam(0.1)), run)
// weight decay moves the params without a gradient, so it is exempt from that law only
testLaws('adamw', optimizerLaws(adamw(0.1, { weightDecay: 1e-2 }), { still: false }), run)
testLaws('rmsprop', optimizerLaws(rmsprop(0.05)), run)
testLaws('adagrad', optimizerLaws(adagrad(0.1)), run)
testLaws('clipByGlobalNorm + adam', optimizerLaws(chain(clipByGlobalNorm(1), adam(0.1))), run)

describe('the laws can fail', () => {
  it('gradient ascent (a sign error) breaks the descent law', () => {
    const ascent = chain(scale(0.1))
    const r = checkSuite(optimizerLaws(ascent), run)
    expect(E.isLeft(r) && Object.keys(r.left)).toEqual(['descendsOnConvexQuadratic'])
  })
})
