/**
 * The batching law: `vmap(f)` equals a loop over the batch. For arguments batched along
 * `inAxes`, `vmap(f, { inAxes, outAxes })(...args)` must equal, leaf by leaf, the stack
 * along `outAxes` of `f` applied to each example (each batched leaf indexed at `i` along its
 * axis, unbatched leaves passed whole). This is what a researcher checks for their own
 * model, or for a primitive or custom rule they add: a batching rule that mixes examples,
 * drops the batch axis or puts it in the wrong place fails here, naming the output key path
 * and the example.
 *
 * The loop side uses no batching at all (`take` and `stack` on concrete values), so the
 * law compares two independent computations. Tolerances are tight by default (a batched
 * kernel may sum in another order than the per-example one, nothing more).
 *
 * Purity: nothing here mutates its arguments.
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import type { AxisSpec } from '../src/index.js'
import { Tensor, stack, take, tree, vmap } from '../src/index.js'
import type { Violation } from './violation.js'
import { violate } from './violation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of the batching law. @category model @since 0.2.0 */
export interface BatchingOptions {
  /** where each argument's batch axis is, as `vmap` takes it (default 0) */
  readonly inAxes?: AxisSpec
  /** where the output's batch axis goes, as `vmap` takes it (default 0) */
  readonly outAxes?: AxisSpec
  /** relative tolerance (default 1e-12) */
  readonly rtol?: number
  /** absolute tolerance, relative to the largest expected value of the leaf (default 1e-12) */
  readonly atol?: number
}

/** What a passing check measured. @category model @since 0.2.0 */
export interface BatchingReport {
  readonly batchSize: number
  readonly outputs: number
  /** the largest |vmap - loop| over all outputs */
  readonly maxError: number
}

// -------------------------------------------------------------------------------------
// axis specs (as vmap reads them)
// -------------------------------------------------------------------------------------

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor)

/** The axis of each leaf of `t` (in flatten order) from a prefix spec; specs that do not fit are left to vmap to report. */
const axesOf = (spec: unknown, t: unknown): Array<number | null> => {
  if (spec === null || typeof spec === 'number') return tree.leaves(t).map(() => spec)
  if (Array.isArray(spec) && Array.isArray(t)) return spec.flatMap((s, i) => axesOf(s, t[i]))
  if (isRecord(spec) && isRecord(t))
    return Object.keys(t)
      .sort()
      .flatMap((k) => axesOf(spec[k], t[k]))
  throw new Error('batching law: inAxes/outAxes do not fit the values (vmap reports the key path)')
}

const argAxes = (inAxes: AxisSpec, args: ReadonlyArray<unknown>): Array<Array<number | null>> => {
  if (inAxes === null || typeof inAxes === 'number') return args.map((a) => axesOf(inAxes, a))
  if (Array.isArray(inAxes)) return args.map((a, i) => axesOf(inAxes[i], a))
  return [axesOf(inAxes, args[0])]
}

const norm = (a: number, rank: number): number => (a < 0 ? a + rank : a)

const asArray = (
  x: Tensor | number,
): { readonly shape: ReadonlyArray<number>; readonly data: ArrayLike<number> & Iterable<number> } =>
  typeof x === 'number' ? { shape: [], data: [x] } : { shape: x.shape, data: x.toTypedArray() }

// -------------------------------------------------------------------------------------
// the law
// -------------------------------------------------------------------------------------

/**
 * Check `vmap(f)` against a loop over the batch, for given batched arguments. `Left` names
 * the output key path, the example and the element that differ.
 * @example
 * checkBatching((x: Tensor) => sum(square(x)), [tensor([[1, 2], [3, 4]])]) // Right({ batchSize: 2, ... })
 * @category laws
 * @since 0.2.0
 */
export const checkBatching = <A extends unknown[]>(
  f: (...args: A) => unknown,
  args: A,
  o: BatchingOptions = {},
): Either<Violation, BatchingReport> => {
  const inAxes = o.inAxes === undefined ? 0 : o.inAxes
  const outAxes = o.outAxes === undefined ? 0 : o.outAxes
  const rtol = o.rtol ?? 1e-12
  const atol = o.atol ?? 1e-12
  const batched = vmap(f, { inAxes, outAxes })(...args)
  // the loop: example i of every batched leaf, unbatched leaves whole
  const axes = argAxes(inAxes, args)
  const leaves = args.map((a) => tree.leaves(a))
  let size = 0
  leaves.forEach((ls, j) =>
    ls.forEach((l, k) => {
      const a = axes[j]?.[k] ?? null
      if (a !== null && l instanceof Tensor) size = l.shape[norm(a, l.rank)] as number
    }),
  )
  const outs: unknown[] = []
  for (let i = 0; i < size; i++) {
    const ex = args.map((arg, j) => {
      let k = 0
      return tree.map(arg, (l) => {
        const a = axes[j]?.[k++] ?? null
        return a === null || !(l instanceof Tensor) ? l : take(l, i, norm(a, l.rank))
      })
    }) as A
    outs.push(f(...ex))
  }
  const [bLeaves, bDef] = tree.flatten(batched)
  const ps = tree.keyPaths(bDef)
  const oAxes = axesOf(outAxes, outs[0])
  const perExample = outs.map((out) => tree.leaves(out))
  let maxError = 0
  for (let k = 0; k < bLeaves.length; k++) {
    const path = ps[k] as string
    const got = asArray(bLeaves[k] as Tensor | number)
    const a = oAxes[k] ?? null
    const col = perExample.map((ls) => ls[k] as Tensor | number)
    const want =
      a === null
        ? (col[0] as Tensor | number)
        : stack(col, norm(a, (typeof col[0] === 'number' ? 0 : (col[0] as Tensor).rank) + 1))
    const wv = asArray(want)
    if (got.shape.join(',') !== wv.shape.join(',')) {
      return E.left({
        law: 'batching',
        message: `vmap's output has shape [${got.shape.join(', ')}] but the loop's stack has shape [${wv.shape.join(', ')}]`,
        path,
        where: 'output',
      })
    }
    let scale = 0
    for (const v of wv.data) scale = Math.max(scale, Math.abs(v))
    for (let e = 0; e < wv.data.length; e++) {
      const x = got.data[e] as number
      const y = wv.data[e] as number
      const err = Math.abs(x - y)
      const same = Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))
      if (!same && !(err <= atol * scale + rtol * Math.abs(y))) {
        return E.left({
          law: 'batching',
          message: `vmap(f) differs from the loop over the batch at element ${e} of the stacked output`,
          path,
          where: 'output',
          expected: y,
          actual: x,
          tolerance: atol * scale + rtol * Math.abs(y),
          details: ['expected = stack of f(example i), actual = vmap(f)'],
        })
      }
      if (err > maxError) maxError = err
    }
  }
  return E.right(Object.freeze({ batchSize: size, outputs: bLeaves.length, maxError }))
}

/**
 * The batching law as a fast-check property over drawn argument lists.
 * @example
 * fc.assert(batchingLaw((x: Tensor) => softmax(x), fc.tuple(arbTensor({ shape: [4, 3] }))))
 * @category laws
 * @since 0.2.0
 */
export const batchingLaw = <A extends unknown[]>(
  f: (...args: A) => unknown,
  arb: fc.Arbitrary<A>,
  o: BatchingOptions = {},
) =>
  fc.property(arb, (args) => {
    const r = checkBatching(f, args, o)
    if (E.isLeft(r)) violate(r.left)
  })
