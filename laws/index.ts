/**
 * purediff/laws: what a researcher runs on their own code. `checkGrads` (JAX's
 * `check_grads`) returning an fp-ts `Either`; law suites as fast-check properties for
 * derivatives, custom rules, optimizers, codecs and fp-ts instances; arbitraries for
 * tensors, shapes, parameter records and random programs over the primitive table.
 * The vitest helpers live in `purediff/laws/vitest` so this entry never loads vitest.
 *
 * @module purediff/laws
 */
export * from './checkGrads.js'
export * from './arbitraries.js'
export * from './eq.js'
export { toFlat, fromFlat, elementPath } from './flat.js'
export type { Flat, LeafInfo } from './flat.js'
export * from './ad.js'
export * from './violation.js'
export * from './optim.js'
export * from './codec.js'
export * from './fp.js'
export * from './batching.js'
export * from './jit.js'
