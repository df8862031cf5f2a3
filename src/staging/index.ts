/** Staged programs: `trace` a function into a `Program`, print it, evaluate it, compile it with `jit`. */
export { trace, evalProgram } from './program.js'
export type { Program, StagingOptions, Var, Eqn, Const } from './program.js'
export { jit } from './jit.js'
export type { JitOptions, JitEntry, Jitted } from './jit.js'
