/**
 * The law `jit(f) ≡ f`: a compiled function computes what the function computes. A user runs
 * it on their own model (`checkJit(loss, [params, x, y])`, or on `grad(loss)` for the
 * gradients), tests run it on random programs.
 *
 * Tolerance, from summation order. purediff's compiler evaluates every elementwise chain
 * with the kernels' own scalar expressions (rounding each float32 intermediate as a
 * Float32Array store does). A reduction fused into such a loop (a `sum` or `max` over
 * trailing axes, a `sum` over leading axes) folds the elements in the eager kernel's order
 * into float64 accumulators stored once per output, as that kernel does; a trailing sum the
 * eager path runs in WebAssembly (two-lane partial sums) is not fused, and every other
 * reduction and product runs the eager kernels. No sum is reordered, so the expected
 * difference is zero: the default
 * tolerance is 0 ulps and any difference is reported as a bug. A pass that reordered a sum
 * of n terms would change it by at most 2·γ(n)·Σ|terms|, γ(n) = n·ε/(1 − n·ε) (Higham, §4.2):
 * pass `ulps` (the relative bound in units of ε, e.g. 2n) to allow that, and the report
 * says so. NaN must match NaN and ±inf the same infinity.
 *
 * Purity: runs `f` and `jit(f)` on the arguments; nothing is stored.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { Tensor, jit, tree } from '../src/index.js'
import type { Violation } from './violation.js'

/** Options of `checkJit`. @category model @since 0.2.0 */
export interface CheckJitOptions {
  /** allowed relative difference in units of the dtype's ε (default 0: no sum is reordered) */
  readonly ulps?: number
  /** argument positions to mark static (passed to `jit`) */
  readonly static?: ReadonlyArray<number>
}

/** What `checkJit` measured. @category model @since 0.2.0 */
export interface JitLawReport {
  readonly law: 'jit(f) = f'
  /** output leaves compared */
  readonly leaves: number
  /** the largest difference seen, in units of ε·|f's value| (0: bit for bit) */
  readonly maxUlps: number
  readonly tolerance: string
}

const EPS = { float64: 2 ** -52, float32: 2 ** -23 } as const

const valuesOf = (l: unknown): [number[], keyof typeof EPS] =>
  l instanceof Tensor ? [Array.from(l.toTypedArray()), l.dtype] : [[l as number], 'float64']

/**
 * Check `jit(f)(...args)` against `f(...args)`, leaf by leaf (see the module header for the tolerance).
 * @example
 * E.isRight(checkJit((x: Tensor) => sum(sin(x)), [tensor([1, 2])])) // true
 * @category laws
 * @since 0.2.0
 */
export const checkJit = <A extends unknown[]>(
  f: (...args: A) => unknown,
  args: A,
  options: CheckJitOptions = {},
): Either<Violation, JitLawReport> => {
  const ulps = options.ulps ?? 0
  const tolerance =
    ulps === 0
      ? "exact: the compiler reorders no sum (fused reductions keep the kernels' index order), so a compiled value equals the eager one bit for bit"
      : `${ulps} ε·|value| (a reordered sum of n terms moves by at most 2·γ(n)·Σ|terms|)`
  const eager = f(...args)
  const compiled = jit(f, options.static !== undefined ? { static: options.static } : {})(...args)
  const [le, de] = tree.flatten(eager, 'checkJit')
  const [lc, dc] = tree.flatten(compiled, 'checkJit')
  if (JSON.stringify(de) !== JSON.stringify(dc)) {
    return E.left({
      law: 'jit(f) = f',
      message: 'the compiled function returns another structure',
      expected: JSON.stringify(de),
      actual: JSON.stringify(dc),
    })
  }
  const paths = tree.keyPaths(de)
  let maxUlps = 0
  for (let k = 0; k < le.length; k++) {
    const [ve, dt] = valuesOf(le[k])
    const [vc] = valuesOf(lc[k])
    for (let i = 0; i < ve.length; i++) {
      const a = ve[i] as number
      const b = vc[i] as number
      if (Object.is(a, b) || a === b) continue
      const nanMismatch = Number.isNaN(a) !== Number.isNaN(b) || (!Number.isFinite(a) && !Number.isNaN(a))
      const u = Math.abs(a - b) / (EPS[dt] * Math.max(Math.abs(a), Number.MIN_VALUE))
      if (nanMismatch || !(u <= ulps)) {
        return E.left({
          law: 'jit(f) = f',
          message: `element ${i} differs (${Number.isFinite(u) ? `${u.toPrecision(3)} ε·|value|` : 'non-finite'}; tolerance: ${tolerance})`,
          path: paths[k] as string,
          where: 'output',
          expected: a,
          actual: b,
          tolerance: ulps * EPS[dt] * Math.abs(a),
        })
      }
      maxUlps = Math.max(maxUlps, u)
    }
  }
  return E.right(Object.freeze({ law: 'jit(f) = f', leaves: le.length, maxUlps, tolerance }))
}
