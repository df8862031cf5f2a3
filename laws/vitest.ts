/**
 * vitest helpers on `@fast-check/vitest`, so a research test is one line:
 *
 *   testGrads('two-layer mlp', loss, arbParams({ l1: { w: [3, 4], b: [4] }, l2: { w: [4, 1], b: [1] } }))
 *
 * This entry (`purediff/laws/vitest`) imports vitest; `purediff/laws` does not, so code
 * that does not run under vitest never loads it.
 *
 * Purity: each helper only registers tests.
 *
 * @module purediff/laws/vitest
 */
import { fc, test } from '@fast-check/vitest'
import { describe, test as vitestTest } from 'vitest'
import type { ProgramOptions, TensorOptions } from './arbitraries.js'
import { arbProgramCase } from './arbitraries.js'
import type { CheckGradsOptions } from './checkGrads.js'
import { assertGrads } from './checkGrads.js'
import type { LawSuite } from './violation.js'

/** fast-check run parameters accepted by the helpers. @category model @since 0.1.0 */
export interface RunOptions {
  readonly numRuns?: number
  readonly seed?: number
}

const params = (o: RunOptions): { numRuns?: number; seed?: number; includeErrorInReport: boolean } => ({
  includeErrorInReport: true,
  ...(o.numRuns !== undefined ? { numRuns: o.numRuns } : {}),
  ...(o.seed !== undefined ? { seed: o.seed } : {}),
})

/**
 * One test: `checkGrads(f, x)` holds for every `x` drawn from `arb` (default 25 runs).
 * @example
 * testGrads('two-layer mlp', loss, arbParams({ l1: { w: [3, 4], b: [4] }, l2: { w: [4, 1], b: [1] } }), { order: 2 })
 * @category vitest
 * @since 0.1.0
 */
export const testGrads = <X, Y>(
  name: string,
  f: (x: X) => Y,
  arb: fc.Arbitrary<X>,
  o: CheckGradsOptions & RunOptions = {},
): void => {
  const { numRuns, seed, ...check } = o
  test.prop([arb, fc.nat()], {
    numRuns: numRuns ?? 25,
    includeErrorInReport: true,
    ...(seed !== undefined ? { seed } : {}),
  })(name, (x, s) => {
    assertGrads(f, x, { ...check, seed: s })
  })
}

/**
 * One test: on random programs over the primitive table, automatic derivatives match
 * numeric ones (`checkGrads` on `sum(program)`).
 * @category vitest
 * @since 0.1.0
 */
export const testProgramGrads = (
  name = 'gradients match central differences on random programs',
  o: ProgramOptions & Omit<TensorOptions, 'shape'> & CheckGradsOptions & RunOptions = {},
): void => {
  const { numRuns, seed, order, modes, eps, atol, rtol, directions, richardson, ...prog } = o
  const check = { order, modes, eps, atol, rtol, directions, richardson }
  const defined = Object.fromEntries(Object.entries(check).filter(([, v]) => v !== undefined)) as CheckGradsOptions
  test.prop([arbProgramCase(prog), fc.nat()], {
    numRuns: numRuns ?? 100,
    includeErrorInReport: true,
    ...(seed !== undefined ? { seed } : {}),
  })(name, ({ program, params: p }, s) => {
    assertGrads(program.loss, p, { ...defined, seed: s })
  })
}

/**
 * A `describe` block with one test per law of a suite.
 * @example
 * testLaws('sgd', optimizerLaws(sgd(0.1)))
 * @category vitest
 * @since 0.1.0
 */
export const testLaws = (name: string, suite: LawSuite, o: RunOptions = {}): void => {
  describe(name, () => {
    for (const [law, prop] of Object.entries(suite)) {
      vitestTest(law, () => {
        fc.assert(prop, params(o))
      })
    }
  })
}
