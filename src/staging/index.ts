/** Staged programs: `trace` a function into a `Program`, print it, evaluate it, compile it with `jit`. */
import type { TensorLike } from '../ops/ops.js'
import { trace as matrixTrace } from '../ops/linalg.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { Program, StagingOptions } from './program.js'
import { trace as traceProgram } from './program.js'

export { evalProgram } from './program.js'
export type { Program, StagingOptions, Var, Eqn, Const } from './program.js'
export { jit } from './jit.js'
export type { JitOptions, JitEntry, Jitted } from './jit.js'

/**
 * One name, two meanings told apart by the argument, as users of JAX's `make_jaxpr` and
 * NumPy's `trace` expect: given a function, `trace(f)(...args)` stages it into a `Program`;
 * given a tensor, `trace(a)` is the matrix trace Σᵢ Aᵢᵢ over the last two axes.
 * @example
 * trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3])).eqns.length // 2
 * trace(tensor([[1, 2], [3, 4]])) // 5
 * @category staging
 * @since 0.2.0
 */
export function trace<A extends unknown[]>(
  f: (...args: A) => unknown,
  options?: StagingOptions,
): (...args: A) => Program
export function trace(a: TensorLike): Tensor
export function trace(x: TensorLike | ((...args: never[]) => unknown), options: StagingOptions = {}): unknown {
  return typeof x === 'function' ? traceProgram(x as (...args: unknown[]) => unknown, options) : matrixTrace(x)
}
