/**
 * purediff: functional, immutable automatic differentiation for TypeScript.
 *
 * Models are pure functions of parameter records; `grad(loss)` returns a function with
 * the same record shape; `jvp`, `vjp`, `hessian` and friends compose to any order.
 */
export { PurediffError } from './errors.js'
export type { ErrorTag } from './errors.js'
export {
  Tensor, ConcreteTensor, tensor, fromData, scalar, zeros, ones, full, arange, linspace, eye, toArray, isTensor,
  sizeOf, broadcastShapes,
} from './tensor/Tensor.js'
export type { DType, Shape, NestedArray, Data } from './tensor/Tensor.js'
export * from './ops/index.js'
export * from './transforms/index.js'
export * as tree from './tree/index.js'
export type { Tree, Leaf, TreeDef } from './tree/Tree.js'
export { Tracer } from './ad/trace.js'
