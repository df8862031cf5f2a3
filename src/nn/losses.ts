/**
 * Losses (step 3 of the seven: how good the prediction is against the ground truth) and
 * metrics. Every loss is the mean over the examples of a per-example loss, a scalar
 * tensor, differentiable to any order, and finite for finite inputs however large:
 *
 *   mse(ŷ, y)                             = mean((ŷ − y)²)                        (over every entry)
 *   binaryCrossEntropyWithLogits(x, z)    = mean(max(x, 0) − x·z + log(1 + e^−|x|)) = mean(softplus(x) − x·z)
 *                                           gradient (σ(x) − z)/n
 *   softmaxCrossEntropy(x, k)             = −mean_i logSoftmax(x_i)[k_i]          (k integer class indices)
 *                                           gradient (softmax(x_i) − onehot(k_i))/n
 *   softmaxCrossEntropyWithProbs(x, p)    = −mean_i Σ_c p_ic · logSoftmax(x_i)_c  (p rows of probabilities)
 *
 * Stability: softplus never exponentiates a positive number, and logSoftmax subtracts the
 * row max before exponentiating, so logits of ±1e4 (or ±1e300) give finite losses and
 * gradients. Shapes are checked, never broadcast: a [n, 1] prediction against a [n] target
 * would silently broadcast to [n, n], so it is an error here.
 *
 * Metrics (`accuracy`, `binaryAccuracy`) are plain numbers: they are read, not differentiated.
 *
 * Purity: losses compose ops; labels given as arrays are copied, never modified.
 */
import { PurediffError } from '../errors.js'
import { argmax, gather, greater, logSoftmax, mean, mul, mulNoNan, neg, reshape, square, sub, sum } from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { Tensor, shapeEq } from '../tensor/Tensor.js'
import type { Shape } from '../tensor/Tensor.js'
import { softplus } from './activations.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Integer class labels: a plain array, an Int32Array (or any integer typed array), or a
 * tensor holding integers.
 * @category model
 * @since 0.1.0
 */
export type Labels = ReadonlyArray<number> | Int32Array | Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Tensor

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const asInput = (x: unknown, name: string, op: string): Tensor => {
  if (x instanceof Tensor) {
    // A mean over no examples is 0/0: an empty batch is a bug upstream, not a NaN loss.
    if (x.size === 0) throw new PurediffError('ValueError', `${name} is empty: a loss over an empty batch is undefined`, { op, shapes: [x.shape] })
    return x
  }
  throw new PurediffError('ValueError', `${name} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array (wrap it with tensor(...))' : typeof x}`, { op })
}

const sameShape = (a: Tensor, b: Tensor, op: string): void => {
  if (!shapeEq(a.shape, b.shape)) {
    throw new PurediffError('ShapeError', 'the two arguments must have the same shape (they are not broadcast)', {
      op,
      shapes: [a.shape, b.shape],
    })
  }
}

/** Labels as integers in [0, classes), with their shape. */
const readLabels = (labels: Labels, classes: number, op: string): [number[], Shape] => {
  let values: ArrayLike<number>
  let shape: Shape
  if (labels instanceof Tensor) {
    values = labels.toTypedArray()
    shape = labels.shape
  } else if (Array.isArray(labels) || ArrayBuffer.isView(labels)) {
    values = labels as ArrayLike<number>
    shape = [values.length]
  } else {
    throw new PurediffError('ValueError', 'labels must be an array of integers, an integer typed array or a tensor', { op })
  }
  const out = new Array<number>(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new PurediffError('ValueError', `label ${v} at index ${i} is not a class index in [0, ${classes})`, { op })
    }
    out[i] = v
  }
  return [out, shape]
}

const checkLogits = (logits: unknown, op: string): [Tensor, number] => {
  const x = asInput(logits, 'logits', op)
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) {
    throw new PurediffError('ShapeError', 'logits need a last axis of classes', { op, shapes: [x.shape] })
  }
  return [x, x.shape[x.rank - 1] as number]
}

// -------------------------------------------------------------------------------------
// losses
// -------------------------------------------------------------------------------------

/**
 * Mean squared error over every entry.
 * @example
 * mse(tensor([1, 2]), tensor([1, 4])) // 2
 * @category losses
 * @since 0.1.0
 */
export const mse = (pred: Tensor, target: TensorLike): Tensor => {
  const op = 'mse'
  const p = asInput(pred, 'pred', op)
  const t = typeof target === 'number' ? target : asInput(target, 'target', op)
  if (t instanceof Tensor) sameShape(p, t, op)
  return mean(square(sub(p, t)))
}

/**
 * Binary cross-entropy of labels z ∈ [0, 1] against logits x, mean(softplus(x) − x·z):
 * stable for any finite logit, with gradient (σ(x) − z)/n.
 * @example
 * binaryCrossEntropyWithLogits(tensor([0]), tensor([1])) // log 2
 * @category losses
 * @since 0.1.0
 */
export const binaryCrossEntropyWithLogits = (logits: Tensor, labels: Tensor): Tensor => {
  const op = 'binaryCrossEntropyWithLogits'
  const x = asInput(logits, 'logits', op)
  const z = asInput(labels, 'labels', op)
  sameShape(x, z, op)
  return mean(sub(softplus(x), mul(x, z)))
}

/**
 * Softmax cross-entropy of logits [..., classes] against integer labels of shape [...]:
 * −mean of the log-probability of the true class (taken along the last axis).
 * @example
 * softmaxCrossEntropy(tensor([[0, 0]]), [1]) // log 2
 * @category losses
 * @since 0.1.0
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: Labels): Tensor => {
  const op = 'softmaxCrossEntropy'
  const [x, classes] = checkLogits(logits, op)
  const [ks, shape] = readLabels(labels, classes, op)
  const batchShape = x.shape.slice(0, -1)
  if (!shapeEq(shape, batchShape) && !(batchShape.length === 0 && ks.length === 1)) {
    throw new PurediffError('ShapeError', 'labels must have the shape of the logits without their last axis', {
      op,
      shapes: [x.shape, shape],
    })
  }
  if (ks.length === 0) {
    throw new PurediffError('ShapeError', 'no examples: the mean of an empty batch is undefined', { op, shapes: [x.shape] })
  }
  // take along the last axis: row i's entry k_i sits at flat index i·classes + k_i
  const picked = gather(reshape(logSoftmax(x, -1), [-1]), ks.map((k, i) => i * classes + k))
  return neg(mean(picked))
}

/**
 * Softmax cross-entropy against target probabilities of the logits' shape (each row a
 * distribution, e.g. smoothed labels): −mean_i Σ_c p_ic · logSoftmax(x_i)_c.
 * @category losses
 * @since 0.1.0
 */
export const softmaxCrossEntropyWithProbs = (logits: Tensor, probs: Tensor): Tensor => {
  const op = 'softmaxCrossEntropyWithProbs'
  const [x] = checkLogits(logits, op)
  const p = asInput(probs, 'probs', op)
  sameShape(x, p, op)
  // a zero probability times a −inf log-probability contributes nothing, not NaN
  const terms = sum(mulNoNan(p, logSoftmax(x, -1)), -1)
  return neg(mean(terms))
}

// -------------------------------------------------------------------------------------
// metrics
// -------------------------------------------------------------------------------------

/**
 * The fraction of rows whose largest logit is at the true class (first index on ties).
 * @example
 * accuracy(tensor([[2, 1], [0, 3]]), [0, 0]) // 0.5
 * @category metrics
 * @since 0.1.0
 */
export const accuracy = (logits: Tensor, labels: Labels): number => {
  const op = 'accuracy'
  const [x, classes] = checkLogits(logits, op)
  const [ks, shape] = readLabels(labels, classes, op)
  if (!shapeEq(shape, x.shape.slice(0, -1)) || ks.length === 0) {
    throw new PurediffError('ShapeError', 'labels must have the shape of the logits without their last axis (and at least one row)', {
      op,
      shapes: [x.shape, shape],
    })
  }
  const predicted = argmax(x, -1).toTypedArray()
  let hits = 0
  for (let i = 0; i < ks.length; i++) if (predicted[i] === ks[i]) hits++
  return hits / ks.length
}

/**
 * The fraction of entries where (logit > 0) agrees with (label > 0.5), for binary logits.
 * @category metrics
 * @since 0.1.0
 */
export const binaryAccuracy = (logits: Tensor, labels: Tensor): number => {
  const op = 'binaryAccuracy'
  const x = asInput(logits, 'logits', op)
  const z = asInput(labels, 'labels', op)
  sameShape(x, z, op)
  if (x.size === 0) throw new PurediffError('ShapeError', 'no examples', { op, shapes: [x.shape] })
  const a = greater(x, 0).toTypedArray()
  const b = greater(z, 0.5).toTypedArray()
  let hits = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) hits++
  return hits / a.length
}
