/**
 * purediff: functional, immutable automatic differentiation for TypeScript.
 *
 * Models are pure functions of parameter records; `grad(loss)` returns a function with
 * the same record shape; `jvp`, `vjp`, `hessian` and friends compose to any order; training
 * is a lazy, replayable stream of frozen states. This is the package's one public entry
 * (with `purediff/laws` for property tests); the layers below it are internal.
 *
 * @module purediff
 */
// values
export { PurediffError } from './errors.js'
export type { ErrorTag } from './errors.js'
export {
  Tensor,
  ConcreteTensor,
  tensor,
  fromData,
  scalar,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  toArray,
  isTensor,
  sizeOf,
  broadcastShapes,
} from './tensor/Tensor.js'
export type { DType, Shape, NestedArray, Data } from './tensor/Tensor.js'
export { Tracer } from './ad/trace.js'

// ops and transforms
export * from './ops/index.js'
export * from './transforms/index.js'

// parameter records
export * as tree from './tree/index.js'
export type { Tree, Leaf, TreeDef } from './tree/Tree.js'

// numeric twins of the transforms (central differences + Richardson)
export * from './numeric/index.js'

// randomness, models, optimizers, training, io
export * as random from './random/index.js'
export type { Key } from './random/index.js'
export * as nn from './nn/index.js'
export * as optim from './optim/index.js'
export * from './train/index.js'
export * as io from './io/index.js'

// dual numbers for teaching forward mode
export * as dual from './dual/index.js'

// kernels: which ones run (WebAssembly SIMD or the JS reference)
export { backend, setBackend, setThreads, threads } from './kernels/backend.js'
export type { BackendName } from './kernels/backend.js'
// data-last, curried forms of the ops and of tree.* for pipe (also 'purediff/pipeable')
export * as pipeable from './pipeable.js'

// staged programs: trace, print, evaluate, compile (jit)
export * from './staging/index.js'
// `trace` is both the staging transform and the matrix trace (told apart by the argument)
export { trace } from './staging/index.js'
