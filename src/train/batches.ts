/**
 * Deterministic minibatching from a key. Epoch e visits the examples in the order
 * `permutation(foldIn(key, e), n)` and cuts it into consecutive batches of `batchSize`
 * indices, so the batch used at any global step is a pure function of
 * `(key, n, batchSize, lastBatch, step)`: no cursor, no hidden shuffle state, and a training
 * run can be resumed at any step by recomputing only the current epoch's permutation.
 *
 * Last partial batch (when `batchSize` does not divide `n`): with `lastBatch: 'keep'` (the
 * default, as tf.data and PyTorch) every epoch ends with one smaller batch of the
 * `n mod batchSize` remaining examples, so each example is seen exactly once per epoch;
 * with `'drop'` (as `drop_remainder`/`drop_last`) those examples are skipped for that epoch,
 * every batch has exactly `batchSize` rows, and because each epoch is a fresh permutation
 * the skipped examples differ from epoch to epoch. A `batchSize` larger than `n` is an error
 * under either (almost always a mistake; full-batch training is `batchSize: n`).
 *
 * Datasets: a `Dataset<B>` is anything with a size and a pure `batch(indices)`; `fromTensors`
 * makes one from a record or tuple of tensors that share their leading axis (rows are
 * gathered, so a batch is a fresh tensor the caller owns).
 *
 * Purity: everything returned is frozen; `batches` is a re-iterable `Stream`.
 */
import { PurediffError } from '../errors.js'
import { gather } from '../ops/index.js'
import { foldIn, permutation } from '../random/index.js'
import type { Key } from '../random/index.js'
import { Tensor } from '../tensor/Tensor.js'
import { flatten, unflatten } from '../tree/Tree.js'
import type { Tree } from '../tree/Tree.js'
import { fromGenerator } from './Stream.js'
import type { Stream } from './Stream.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What to do with the `n mod batchSize` examples left at the end of an epoch.
 * @category model
 * @since 0.1.0
 */
export type LastBatch = 'keep' | 'drop'

/**
 * A data set that can hand out a batch for any list of example indices. `batch` must be
 * pure: the same indices always give the same batch.
 * @category model
 * @since 0.1.0
 */
export interface Dataset<B> {
  readonly size: number
  readonly batch: (indices: ReadonlyArray<number>) => B
}

/**
 * How a data set of `n` examples is cut into batches.
 * @category model
 * @since 0.1.0
 */
export interface BatchPlan {
  readonly n: number
  readonly batchSize: number
  readonly lastBatch: LastBatch
  /** Batches per epoch: ⌈n / batchSize⌉ under 'keep', ⌊n / batchSize⌋ under 'drop'. */
  readonly stepsPerEpoch: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1

/**
 * Validate a batch size against a data set size and compute the batches per epoch.
 * @example
 * batchPlan(10, 4).stepsPerEpoch // 3 (4 + 4 + 2)
 * batchPlan(10, 4, 'drop').stepsPerEpoch // 2
 * @category constructors
 * @since 0.1.0
 */
export const batchPlan = (n: number, batchSize: number, lastBatch: LastBatch = 'keep'): BatchPlan => {
  const op = 'batchPlan'
  if (!isCount(n))
    throw new PurediffError('ValueError', `the data set must have at least one example, got size ${String(n)}`, { op })
  if (!isCount(batchSize))
    throw new PurediffError('ValueError', `batchSize must be a positive integer, got ${String(batchSize)}`, { op })
  if (lastBatch !== 'keep' && lastBatch !== 'drop') {
    throw new PurediffError('ValueError', `lastBatch must be 'keep' or 'drop', got ${String(lastBatch)}`, { op })
  }
  if (batchSize > n) {
    // Almost always a mistake (a batch size meant for another data set, or a truncated one).
    throw new PurediffError(
      'ValueError',
      `batchSize ${batchSize} is larger than the data set (${n} examples); use batchSize: ${n} for full-batch training`,
      { op },
    )
  }
  const stepsPerEpoch = lastBatch === 'keep' ? Math.ceil(n / batchSize) : Math.floor(n / batchSize)
  return Object.freeze({ n, batchSize, lastBatch, stepsPerEpoch })
}

/**
 * The order in which epoch `epoch` visits the examples: `permutation(foldIn(key, epoch), n)`.
 * @example
 * const order = epochOrder(key(7), 10, 3)
 * Array.from(order).sort((a, b) => a - b) // [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
 * order.join(' ') === permutation(foldIn(key(7), 3), 10).join(' ') // true
 * @category constructors
 * @since 0.1.0
 */
export const epochOrder = (key: Key, n: number, epoch: number): readonly number[] => permutation(foldIn(key, epoch), n)

/**
 * The example indices of batch `i` (0-based) of an epoch whose order is `order`.
 * @example
 * // 5 examples in batches of 2, keeping the short last batch
 * const plan = { n: 5, batchSize: 2, lastBatch: 'keep', stepsPerEpoch: 3 } as const
 * batchOf(plan, [4, 3, 2, 1, 0], 0) // [4, 3]
 * batchOf(plan, [4, 3, 2, 1, 0], 2) // [0]
 * @category constructors
 * @since 0.1.0
 */
export const batchOf = (plan: BatchPlan, order: ReadonlyArray<number>, i: number): readonly number[] => {
  const start = i * plan.batchSize
  return Object.freeze(order.slice(start, Math.min(start + plan.batchSize, plan.n)))
}

/**
 * The example indices used at global step `step` (0-based: the batch of the first update is
 * step 0), a pure function of its arguments.
 * @example
 * batchAt(key(0), batchPlan(10, 4), 3) // the first batch of epoch 1
 * const fourth = pipe(batches(key(0), 10, 4), Stream.nth(3), O.toUndefined)
 * fourth?.join() === batchAt(key(0), batchPlan(10, 4), 3).join() // true
 * @category constructors
 * @since 0.1.0
 */
export const batchAt = (key: Key, plan: BatchPlan, step: number): readonly number[] => {
  const epoch = Math.floor(step / plan.stepsPerEpoch)
  return batchOf(plan, epochOrder(key, plan.n, epoch), step - epoch * plan.stepsPerEpoch)
}

/**
 * The infinite stream of minibatch index lists, epoch after epoch, each epoch a fresh
 * permutation drawn from `key`. Re-iterable: every iteration yields the same batches.
 * @example
 * pipe(batches(key(0), 10, 4), Stream.take(3), Stream.toArray) // three disjoint batches covering 0..9 (4, 4, 2)
 * const epoch = pipe(batches(key(0), 10, 4), Stream.take(3), Stream.toArray)
 * epoch.map((b) => b.length) // [4, 4, 2]
 * epoch.flat().sort((a, b) => a - b) // [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
 * @category constructors
 * @since 0.1.0
 */
export const batches = (
  key: Key,
  n: number,
  batchSize: number,
  lastBatch: LastBatch = 'keep',
): Stream<readonly number[]> => {
  const plan = batchPlan(n, batchSize, lastBatch)
  return fromGenerator(function* () {
    for (let epoch = 0; ; epoch++) {
      const order = epochOrder(key, n, epoch)
      for (let i = 0; i < plan.stepsPerEpoch; i++) yield batchOf(plan, order, i)
    }
  })
}

/**
 * A data set from a tree (record, tuple) of tensors that share their leading axis: a batch
 * is the same tree with the chosen rows gathered. Integer labels are ordinary tensors here.
 * @example
 * const data = fromTensors({ x: tensor([[0], [1], [2]]), y: tensor([0, 1, 1]) })
 * data.batch([2, 0]) // { x: [[2], [0]], y: [1, 0] }
 * @category constructors
 * @since 0.1.0
 */
export const fromTensors = <T extends Tree>(tensors: T): Dataset<T> => {
  const op = 'fromTensors'
  const [leaves, def] = flatten(tensors, op)
  if (leaves.length === 0) throw new PurediffError('ValueError', 'expected at least one tensor', { op })
  let size = -1
  for (const l of leaves) {
    if (!(l instanceof Tensor) || l.rank === 0) {
      throw new PurediffError('ShapeError', 'every leaf must be a tensor with a leading example axis', { op })
    }
    const rows = l.shape[0] as number
    if (size === -1) size = rows
    else if (rows !== size) {
      throw new PurediffError('ShapeError', 'the tensors disagree on the number of examples (their leading axis)', {
        op,
        shapes: leaves.map((t) => (t as Tensor).shape),
      })
    }
  }
  const ts = leaves as Tensor[]
  return Object.freeze({
    size,
    batch: (indices: ReadonlyArray<number>): T =>
      unflatten<T>(
        def,
        ts.map((t) => gather(t, indices, 0)),
      ),
  })
}
