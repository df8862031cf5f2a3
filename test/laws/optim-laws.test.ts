/**
 * Optimizer laws: they pass for correct pure optimizers written here from their textbook
 * definitions (SGD, heavy-ball momentum, Adam), and each law fails on a deliberately
 * broken one: a sign-flipped SGD (ascends), weight decay without a gradient (moves when
 * still), an optimizer that mutates its state, one with hidden randomness, and one whose
 * state loses the params' structure.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, div, mul, sqrt, sub, tree } from '../../src/index.js'
import type { Tree } from '../../src/index.js'
import { arbParams, assertSuite, checkSuite, optimizerLaws } from '../../laws/index.js'
import type { OptimizerLike } from '../../laws/index.js'

const run = { numRuns: 15, seed: 99, includeErrorInReport: true }

// u = −lr·g
const sgd = (lr: number): OptimizerLike<Readonly<Record<string, never>>> => ({
  init: () => Object.freeze({}),
  update: (g, s) => [tree.scale(g, -lr), s],
})
// m ← βm + g ; u = −lr·m
const momentum = (lr: number, beta = 0.9): OptimizerLike<{ readonly m: Tree }> => ({
  init: (p) => Object.freeze({ m: tree.zerosLike(p) }),
  update: (g, s) => {
    const m = tree.axpy(beta, s.m, g)
    return [tree.scale(m, -lr), Object.freeze({ m })]
  },
})
// Adam (Kingma & Ba, Algorithm 1) with bias correction
const adam = (
  lr: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
): OptimizerLike<{ readonly mu: Tree; readonly nu: Tree; readonly count: number }> => ({
  init: (p) => Object.freeze({ mu: tree.zerosLike(p), nu: tree.zerosLike(p), count: 0 }),
  update: (g, s) => {
    const count = s.count + 1
    const mu = tree.zipWith(s.mu, g, (m, gi) => add(mul(b1, m), mul(1 - b1, gi)))
    const nu = tree.zipWith(s.nu, g, (v, gi) => add(mul(b2, v), mul(1 - b2, mul(gi, gi))))
    const u = tree.zipWith(mu, nu, (m, v) =>
      mul(-lr, div(div(m, 1 - b1 ** count), add(sqrt(div(v, 1 - b2 ** count)), eps))),
    )
    return [u, Object.freeze({ mu, nu, count })]
  },
})

describe('optimizer laws hold for correct optimizers', () => {
  it.each([
    ['sgd', sgd(0.1)],
    ['momentum', momentum(0.05)],
    ['adam', adam(0.1)],
  ] as const)('%s', (_name, opt) => {
    assertSuite(optimizerLaws(opt as OptimizerLike<unknown>), run)
  })
  it('with custom params (nested records with a number leaf)', () => {
    assertSuite(
      optimizerLaws(adam(0.1) as OptimizerLike<unknown>, {
        params: arbParams({ enc: { w: [2, 2] }, scale: 'number' }),
      }),
      run,
    )
  })
})

const failing = (opt: OptimizerLike<unknown>, o: Parameters<typeof optimizerLaws>[1] = {}): Record<string, string> => {
  const r = checkSuite(optimizerLaws(opt, o), run)
  return r._tag === 'Left' ? { ...r.left } : {}
}

describe('optimizer laws fail on broken optimizers', () => {
  it('a sign-flipped SGD fails descendsOnConvexQuadratic (and only that)', () => {
    const f = failing(sgd(-0.1) as OptimizerLike<unknown>)
    expect(Object.keys(f)).toEqual(['descendsOnConvexQuadratic'])
    expect(f['descendsOnConvexQuadratic']).toContain('not a descent direction')
    expect(f['descendsOnConvexQuadratic']).toContain('Counterexample')
  })
  it('weight decay moves params with a zero gradient (unless still: false)', () => {
    const decay: OptimizerLike<unknown> = {
      init: () => ({}),
      update: (g, s, p) => [tree.sub(tree.scale(g, -0.1), tree.scale(p, 0.01)), s],
    }
    const f = failing(decay)
    expect(Object.keys(f)).toEqual(['zeroGradientKeepsParamsStill'])
    expect(f['zeroGradientKeepsParamsStill']).toMatch(/key path '(w|b)\[/)
    expect(Object.keys(failing(decay, { still: false }))).toEqual([])
  })
  it('an optimizer that mutates its state fails doesNotMutate', () => {
    const mutating: OptimizerLike<{ count: number[] }> = {
      init: () => ({ count: [0] }),
      update: (g, s) => {
        s.count[0] = (s.count[0] as number) + 1
        return [tree.scale(g, -0.1), s]
      },
    }
    const f = failing(mutating as OptimizerLike<unknown>)
    expect(f['doesNotMutate']).toContain('update modified its arguments: state')
  })
  it('an optimizer with hidden randomness fails deterministic', () => {
    let k = 0
    const noisy: OptimizerLike<unknown> = {
      init: () => ({}),
      update: (g, s) => [tree.scale(g, -0.1 * (1 + 1e-3 * (k++ % 7))), s],
    }
    expect(Object.keys(failing(noisy))).toContain('deterministic')
  })
  it('a state that drops a parameter fails stateMirrorsParams, naming the key', () => {
    const lossy: OptimizerLike<{ readonly m: Tree }> = {
      init: (p) => ({ m: tree.zerosLike(p) }),
      update: (g, s) => {
        const m = tree.add(s.m, g) as Record<string, Tree>
        // keep only w: the mirror of the params has lost b
        return [tree.scale(g, -0.1), { m: { w: m['w'] as Tree, b: sub(0, 0) } }]
      },
    }
    const f = failing(lossy as OptimizerLike<unknown>)
    expect(f['stateMirrorsParams']).toMatch(/key path 'b'|m\.b/)
  })
  it('updates with the wrong structure fail stateMirrorsParams', () => {
    const flat: OptimizerLike<unknown> = { init: () => ({}), update: (g, s) => [tree.leaves(g), s] }
    expect(failing(flat)['stateMirrorsParams']).toContain('updates: structure differs')
  })
  it('is typed structurally: the properties are plain fast-check properties', () => {
    const laws = optimizerLaws(sgd(0.1) as OptimizerLike<unknown>)
    expect(fc.check(laws['deterministic'] as fc.IProperty<unknown>, { numRuns: 3 }).failed).toBe(false)
  })
})
