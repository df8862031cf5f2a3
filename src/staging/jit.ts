/**
 * `jit(f)`: stage `f` once per input signature, optimize and compile the program, and run
 * the compiled code on later calls with the same signature.
 *
 * The signature is the tree structure of the dynamic arguments, each leaf's kind (tensor or
 * number), shape and dtype, and the values of the static arguments (`{ static: [i, ...] }`:
 * primitives by value, objects and functions by identity). Number leaves are staged as
 * scalars, so a new number does not retrace and is never folded into the program. Strings
 * and functions must be static. At most `CACHE_SIZE` signatures are kept (least recently
 * used first out).
 *
 * `jit` composes both ways. Inside `jit`, `grad`, `hessian`, `jvp`, ... are staged into the
 * program (their levels sit above the staging level). Around `jit` (a `grad(jit(f))`, or a
 * jitted function called inside another `jit` or `trace`), the inputs are tracers of the
 * outer transform: the same program is then evaluated through `bind`, so the outer level
 * differentiates (or stages) every equation, to any order. A program that captured a tracer
 * of an outer transform through a closure is evaluated the same way and not cached.
 *
 * Results: a compiled program computes what `f` computes, bit for bit, for elementwise code
 * (see `compile.ts`), fused reductions included: a `sum` or `max` fused into a loop keeps
 * the kernel's summation order. Summation order would change only where a future compiler
 * pass reorders a reduction; `purediff/laws`' `checkJit` bounds it.
 *
 * Purity: the cache is private; every returned value is a fresh frozen tensor (or a
 * number where `f` returned a number).
 */
import { Tracer } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import type { ConcreteTensor, Tensor } from '../tensor/Tensor.js'
import type { Leaf } from '../tree/Tree.js'
import type { Executable } from './compile.js'
import { compile } from './compile.js'
import { optimize } from './optimize.js'
import type { Program, StagingOptions } from './program.js'
import { checkStatic, evalFlat, flattenDynamic, programOutputs, stageProgram } from './program.js'
import { asTensor } from '../ops/ops.js'

/** Signatures kept per jitted function. */
export const CACHE_SIZE = 64

/** Options of `jit`. @category staging */
export interface JitOptions extends StagingOptions {
  /** generate JS (default true where allowed); false interprets the optimized program with the kernels */
  readonly codegen?: boolean
}

/** What `jit` compiled for one signature (for tests and tools). @category staging */
export interface JitEntry {
  readonly program: Program
  readonly optimized: Program
  readonly mode: Executable['mode']
  readonly fusedLoops: number
  /** reductions computed inside fused loops (see `compile.ts`) */
  readonly fusedReductions: number
}

/** A jitted function: `f`'s signature, plus a look at what it compiled. @category staging */
export type Jitted<F> = F & {
  /** the programs compiled so far, most recently used last */
  readonly entries: () => ReadonlyArray<JitEntry>
}

let nextIdentity = 0
const identities = new WeakMap<object, number>()
/** A cache key for a static argument: primitives by value, objects and functions by identity. */
const staticKey = (x: unknown): string => {
  if (
    x === null ||
    x === undefined ||
    typeof x === 'number' ||
    typeof x === 'string' ||
    typeof x === 'boolean' ||
    typeof x === 'bigint'
  ) {
    return `${typeof x}:${typeof x === 'number' && Object.is(x, -0) ? '-0' : String(x)}`
  }
  let id = identities.get(x as object)
  if (id === undefined) {
    id = nextIdentity++
    identities.set(x as object, id)
  }
  return `ref:${id}`
}

interface Entry {
  readonly program: Program
  readonly optimized: Program
  readonly exec: Executable
}

/**
 * Compile `f`: same signature, traced once per input signature, run as optimized generated code.
 * @example
 * const f = jit((x: Tensor) => sum(mul(sin(x), x)))
 * f(tensor([1, 2])) // traced and compiled on this first call
 * f(tensor([3, 4])) // reuses the compiled program
 * f(tensor([0, 1])).item() // ≈ Math.sin(1)
 * @category staging
 * @since 0.2.0
 */
export const jit = <F extends (...args: never[]) => unknown>(f: F, options: JitOptions = {}): Jitted<F> => {
  if (typeof f !== 'function')
    throw new PurediffError('ValueError', `expected a function, got ${typeof f}`, { op: 'jit' })
  const statics = checkStatic(options.static, 'jit')
  for (const k of Object.keys(options)) {
    if (k !== 'static' && k !== 'codegen') throw new PurediffError('ValueError', `unknown option '${k}'`, { op: 'jit' })
  }
  const cache = new Map<string, Entry>()
  const jitted = (...args: unknown[]): unknown => {
    const [leaves, def] = flattenDynamic(args, statics, 'jit')
    let key = JSON.stringify(def)
    for (const l of leaves) key += typeof l === 'number' ? '|n' : `|${l.dtype}[${l.shape.join(',')}]`
    for (const i of statics) key += `|s${i}=${staticKey(args[i])}`
    let entry = cache.get(key)
    if (entry === undefined) {
      const program = stageProgram('jit', f, args, statics)
      const optimized = optimize(program)
      entry = { program, optimized, exec: compile(optimized, options.codegen === false ? { codegen: false } : {}) }
      if (!program.capturesTracers) {
        cache.set(key, entry)
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
      }
    } else {
      cache.delete(key)
      cache.set(key, entry)
    }
    const traced = entry.optimized.capturesTracers || leaves.some((l: Leaf) => l instanceof Tracer)
    if (traced) {
      const xs = leaves.map((l) => (typeof l === 'number' ? asTensor(l, 'jit') : l))
      return programOutputs(entry.optimized, evalFlat(entry.optimized, xs as Tensor[]))
    }
    return programOutputs(entry.optimized, entry.exec.run(leaves as ReadonlyArray<ConcreteTensor | number>))
  }
  const entries = (): ReadonlyArray<JitEntry> =>
    Object.freeze(
      [...cache.values()].map((e) =>
        Object.freeze({
          program: e.program,
          optimized: e.optimized,
          mode: e.exec.mode,
          fusedLoops: e.exec.fusedLoops,
          fusedReductions: e.exec.fusedReductions,
        }),
      ),
    )
  return Object.freeze(Object.assign(jitted, { entries })) as unknown as Jitted<F>
}
