import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { tensor } from '../../src/index.js'
import type { Tree } from '../../src/index.js'
import { describe, expect, it } from 'vitest'
import { arbParams, checkSuite, optimizerLaws } from '../../laws/index.js'
import { testLaws } from '../../laws/vitest.js'
import {
  adabelief,
  adadelta,
  adafactor,
  adagrad,
  adam,
  adamax,
  adamw,
  applyIfFinite,
  centralize,
  chain,
  clipByBlockRms,
  clipByGlobalNorm,
  cosineDecay,
  ema,
  fromage,
  injectHyperparams,
  lamb,
  lars,
  lion,
  masked,
  momentum,
  multiSteps,
  multiTransform,
  nadam,
  noisySgd,
  novograd,
  paramEma,
  radam,
  rmsprop,
  scale,
  sgd,
  sgdr,
  sm3,
  yogi,
} from '../../src/optim/index.js'
import type { ScaleByNovogradState, ScaleBySm3State } from '../../src/optim/index.js'

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

// 0.2.0 optimizers. Learning rates keep to the small-step assumption; `still: false` marks
// the ones that move without a gradient (weight decay, yogi's 1e-6 starting moments, noise,
// fromage's shrinkage); `mirrors` names the moment trees where a state also holds per-leaf
// scalars or per-axis vectors (novograd, sm3, adafactor) that do not mirror the params.
testLaws('lion', optimizerLaws(lion(0.05), { still: false }), run)
testLaws('lion without weight decay', optimizerLaws(lion(0.05, { weightDecay: 0 })), run)
testLaws('adamax', optimizerLaws(adamax(0.1)), run)
testLaws('nadam', optimizerLaws(nadam(0.1)), run)
testLaws('radam', optimizerLaws(radam(0.1), { steps: 8 }), run)
testLaws('adabelief', optimizerLaws(adabelief(0.1)), run)
testLaws('yogi', optimizerLaws(yogi(0.1), { still: false }), run)
// LAMB and LARS move each leaf by a step proportional to its norm ‖θ‖ (that is the method):
// at θ ≈ 1e-162 the step is ≈ 1e-163 and no decrease is measurable, so their laws draw
// leaves with entries of magnitude in [0.2, 1]
const awayFromZero = fc
  .tuple(
    fc.array(fc.double({ min: 0.2, max: 1, noNaN: true }), { minLength: 9, maxLength: 9 }),
    fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
  )
  .map(([m, s]) => {
    const v = m.map((x, i) => (s[i] === true ? -x : x))
    return { w: tensor([v.slice(0, 3), v.slice(3, 6)]), b: tensor(v.slice(6)) } as Tree
  })
testLaws('lamb', optimizerLaws(lamb(0.1), { params: awayFromZero }), run)
testLaws(
  'lamb with weight decay',
  optimizerLaws(lamb(0.1, { weightDecay: 1e-2 }), { still: false, params: awayFromZero }),
  run,
)
testLaws('lars', optimizerLaws(lars(0.1), { params: awayFromZero }), run)
testLaws('adafactor', optimizerLaws(adafactor(0.1), { mirrors: () => [] }), run)
testLaws('adafactor, factored', optimizerLaws(adafactor(0.1, { minDimSizeToFactor: 2 }), { mirrors: () => [] }), run)
testLaws(
  'novograd',
  optimizerLaws(novograd(0.1), { mirrors: (s: readonly [ScaleByNovogradState, unknown]) => [s[0].mu] }),
  run,
)
testLaws('sm3', optimizerLaws(sm3(0.1), { mirrors: (s: readonly [ScaleBySm3State, unknown]) => [s[0].nu] }), run)
testLaws('fromage', optimizerLaws(fromage(0.1), { still: false }), run)
testLaws('adadelta', optimizerLaws(adadelta(1)), run)
testLaws('noisySgd', optimizerLaws(noisySgd(0.1), { still: false }), { ...run, numRuns: 10 })
testLaws(
  'sgd with sgdr',
  optimizerLaws(
    sgd(
      sgdr([
        { initValue: 0.1, peakValue: 0.3, warmupSteps: 1, decaySteps: 2 },
        { initValue: 0.2, peakValue: 0.2, warmupSteps: 0, decaySteps: 5 },
      ]),
    ),
  ),
  run,
)
// combinators around adam
testLaws(
  'masked adam (biases frozen in place by a zero-learning-rate sgd)',
  optimizerLaws(
    chain(
      masked(adam(0.1), (p) => p.startsWith('w')),
      masked(sgd(0.1), (p) => !p.startsWith('w')),
    ),
    { mirrors: () => [] },
  ),
  run,
)
testLaws(
  'multiTransform',
  optimizerLaws(multiTransform({ a: adam(0.1), s: sgd(0.1) }, { w: 'a', b: 's' }), { mirrors: () => [] }),
  run,
)
testLaws(
  'injectHyperparams',
  optimizerLaws(injectHyperparams((h: { lr: number }) => adam(h.lr))({ lr: cosineDecay(0.1, 10) })),
  run,
)
testLaws('multiSteps with k = 1', optimizerLaws(multiSteps(adam(0.1), 1)), run)
testLaws('applyIfFinite', optimizerLaws(applyIfFinite(adam(0.1), 2)), run)
testLaws('ema of sgd', optimizerLaws(chain(sgd(0.1), ema(0.9))), run)
testLaws('paramEma', optimizerLaws(paramEma(adam(0.1), 0.9)), run)
testLaws('clipByBlockRms + sgd', optimizerLaws(chain(clipByBlockRms(0.5), sgd(0.1))), run)
testLaws(
  'centralize + sgd',
  optimizerLaws(chain(centralize(), sgd(0.1)), { params: arbParams({ w: [3], b: [] }) as never }),
  run,
)

describe('multiSteps with k > 1', () => {
  it('breaks only the descent law, by design: its first update is zero', () => {
    const r = checkSuite(optimizerLaws(multiSteps(adam(0.1), 3)), run)
    expect(E.isLeft(r) && Object.keys(r.left)).toEqual(['descendsOnConvexQuadratic'])
  })
})

describe('the laws can fail', () => {
  it('gradient ascent (a sign error) breaks the descent law', () => {
    const ascent = chain(scale(0.1))
    const r = checkSuite(optimizerLaws(ascent), run)
    expect(E.isLeft(r) && Object.keys(r.left)).toEqual(['descendsOnConvexQuadratic'])
  })
})
