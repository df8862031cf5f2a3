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
 *   softmaxCrossEntropyWithProbs(x, p)    = −mean_i Σ_c p_ic · logSoftmax(x_i)_c  (p rows of probabilities;
 *                                           also `softmaxCrossEntropy(x, p)` when p has the logits' shape)
 *   huber(ŷ, y, δ)                        = mean(½r² if |r| ≤ δ else δ(|r| − ½δ)),  r = ŷ − y
 *   logCosh(ŷ, y)                         = mean(r + softplus(−2r) − log 2)       gradient tanh(r)/n
 *   l2(ŷ, y)                              = mean(½ r²)
 *   klDivergence(x, p)                    = mean_i Σ_c p_ic (log p_ic − logSoftmax(x_i)_c)
 *   gaussianKl(μ, log σ²)                 = mean_i ½ Σ (μ² + σ² − 1 − log σ²)
 *   hinge(s, y), squaredHinge(s, y)       = mean(max(0, 1 − y·s)), mean(max(0, 1 − y·s)²)   (y ∈ {−1, 1})
 *   sigmoidFocal(x, z, α, γ)              = mean(α_t (1 − p_t)^γ (softplus(x) − x·z))
 *   cosineDistance(a, b)                  = mean_i (1 − ⟨a_i, b_i⟩ / (‖a_i‖ ‖b_i‖))
 *   poissonNll(x, y)                      = mean(eˣ − y·x)   (x a log-rate)
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
import { Tracer } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import {
  abs,
  add,
  argmax,
  div,
  exp,
  expm1,
  gather,
  greater,
  lessEqual,
  log,
  logSoftmax,
  max,
  maximum,
  mean,
  mul,
  mulNoNan,
  neg,
  oneHot,
  pow,
  relu,
  reshape,
  sigmoid,
  sqrt,
  square,
  stopGradient,
  sub,
  sum,
  where,
} from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import { ConcreteTensor, Tensor, shapeEq } from '../tensor/Tensor.js'
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
export type Labels =
  ReadonlyArray<number> | Int32Array | Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Tensor

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const asInput = (x: unknown, name: string, op: string): Tensor => {
  if (x instanceof Tensor) {
    // A mean over no examples is 0/0: an empty batch is a bug upstream, not a NaN loss.
    if (x.size === 0)
      throw new PurediffError('ValueError', `${name} is empty: a loss over an empty batch is undefined`, {
        op,
        shapes: [x.shape],
      })
    return x
  }
  throw new PurediffError(
    'ValueError',
    `${name} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array (wrap it with tensor(...))' : typeof x}`,
    { op },
  )
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
    throw new PurediffError('ValueError', 'labels must be an array of integers, an integer typed array or a tensor', {
      op,
    })
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
 * binaryCrossEntropyWithLogits(tensor([0]), tensor([1])) // ≈ Math.LN2
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
 * −mean of the log-probability of the true class (taken along the last axis); a tensor of
 * the logits' shape is read as probability targets instead (see `softmaxCrossEntropyWithProbs`).
 * @example
 * softmaxCrossEntropy(tensor([[0, 0]]), [1]) // log 2
 * softmaxCrossEntropy(tensor([[0, 0]]), tensor([[0.5, 0.5]])) // ≈ Math.LN2
 * @category losses
 * @since 0.1.0
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: Labels): Tensor => {
  const op = 'softmaxCrossEntropy'
  const [x, classes] = checkLogits(logits, op)
  // a tensor of the logits' own shape holds probability targets (integer labels have one axis fewer)
  if (labels instanceof Tensor && labels.rank === x.rank) return softmaxCrossEntropyWithProbs(x, labels)
  if (labels instanceof Tracer) {
    // traced labels (batched by vmap, staged by trace): picked by a one-hot mask, so each
    // example uses its own labels. Σ_c onehot_c · logp_c adds exact zeros to logp_k: the
    // value and its gradient are those of the gather below.
    if (!shapeEq(labels.shape, x.shape.slice(0, -1))) {
      throw new PurediffError('ShapeError', 'labels must have the shape of the logits without their last axis', {
        op,
        shapes: [x.shape, labels.shape],
      })
    }
    return neg(mean(sum(mulNoNan(oneHot(labels, classes, x.dtype), logSoftmax(x, -1)), -1)))
  }
  const [ks, shape] = readLabels(labels, classes, op)
  const batchShape = x.shape.slice(0, -1)
  if (!shapeEq(shape, batchShape) && !(batchShape.length === 0 && ks.length === 1)) {
    throw new PurediffError('ShapeError', 'labels must have the shape of the logits without their last axis', {
      op,
      shapes: [x.shape, shape],
    })
  }
  if (ks.length === 0) {
    throw new PurediffError('ShapeError', 'no examples: the mean of an empty batch is undefined', {
      op,
      shapes: [x.shape],
    })
  }
  // take along the last axis: row i's entry k_i sits at flat index i·classes + k_i
  const picked = gather(
    reshape(logSoftmax(x, -1), [-1]),
    ks.map((k, i) => i * classes + k),
  )
  return neg(mean(picked))
}

/**
 * Softmax cross-entropy against target probabilities of the logits' shape (each row a
 * distribution, e.g. smoothed labels): −mean_i Σ_c p_ic · logSoftmax(x_i)_c.
 * @example
 * // −(½ log ½ + ½ log ½) = log 2
 * softmaxCrossEntropyWithProbs(tensor([[0, 0]]), tensor([[0.5, 0.5]])) // ≈ Math.LN2
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
// more losses (optax's names; each the mean over entries or rows)
// -------------------------------------------------------------------------------------

const LOG2 = Math.LN2

/** Options of `huber`. @category model @since 0.2.0 */
export interface HuberOptions {
  /** δ, where the loss turns from quadratic to linear (default 1). */
  readonly delta?: number
}

const residual = (pred: Tensor, target: TensorLike, op: string): Tensor => {
  const p = asInput(pred, 'pred', op)
  const t = typeof target === 'number' ? target : asInput(target, 'target', op)
  if (t instanceof Tensor) sameShape(p, t, op)
  return sub(p, t)
}

const positive = (x: unknown, name: string, op: string): number => {
  if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x)) {
    throw new PurediffError('ValueError', `${name} must be a positive finite number, got ${String(x)}`, { op })
  }
  return x
}

/**
 * Huber loss: mean of ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond, r = pred − target (a residual
 * of 1e300 is never squared).
 * @example
 * huber(tensor([0.5, 3]), tensor([0, 0])) // ≈ 1.3125
 * @category losses
 * @since 0.2.0
 */
export const huber = (pred: Tensor, target: TensorLike, opts: HuberOptions = {}): Tensor => {
  const op = 'huber'
  const delta = positive(opts.delta ?? 1, 'delta', op)
  const r = residual(pred, target, op)
  const a = abs(r)
  const inside = lessEqual(a, delta)
  // the quadratic branch sees r itself (smooth at 0: second derivative 1) and only where it
  // is selected, so an unselected 1e300 is never squared
  const rIn = where(inside, r, 0)
  return mean(where(inside, mul(0.5, square(rIn)), mul(delta, sub(a, 0.5 * delta))))
}

/**
 * Mean of log cosh(pred − target), computed as r + softplus(−2r) − log 2 (no overflow for
 * any finite residual; gradient tanh(r), smooth to every order).
 * @example
 * logCosh(tensor([0, 1]), tensor([0, 0])) // ≈ Math.log(Math.cosh(1)) / 2
 * @category losses
 * @since 0.2.0
 */
export const logCosh = (pred: Tensor, target: TensorLike): Tensor => {
  const r = residual(pred, target, 'logCosh')
  // NOTE: for |r| ≪ 1 the value has an absolute error of a few ulps of log 2 (≈ 1e-16), not a relative one
  return mean(sub(add(r, softplus(mul(-2, r))), LOG2))
}

/**
 * Mean of ½(pred − target)² (optax's `l2_loss`, averaged over every entry); `target` defaults to 0.
 * @example
 * l2(tensor([1, 3])) // ≈ 2.5
 * @category losses
 * @since 0.2.0
 */
export const l2 = (pred: Tensor, target: TensorLike = 0): Tensor => mean(mul(0.5, square(residual(pred, target, 'l2'))))

/** Options of `klDivergence`. @category model @since 0.2.0 */
export interface KlDivergenceOptions {
  /** What the first argument holds along its last axis: `'logits'` (default) or `'logProbs'`. */
  readonly input?: 'logits' | 'logProbs'
  /** What the target holds: `'probs'` (default) or `'logProbs'`. */
  readonly target?: 'probs' | 'logProbs'
}

/**
 * KL(p ‖ q) = Σ_c p_c (log p_c − log q_c) along the last axis, averaged over rows, for a
 * model distribution q given by logits (default) or log-probabilities and a target p given by
 * probabilities (default) or log-probabilities. A zero p_c contributes 0.
 * @example
 * klDivergence(tensor([[0, 0]]), tensor([[0.5, 0.5]])) // ≈ 0
 * @category losses
 * @since 0.2.0
 */
export const klDivergence = (pred: Tensor, target: Tensor, opts: KlDivergenceOptions = {}): Tensor => {
  const op = 'klDivergence'
  const [x] = checkLogits(pred, op)
  const t = asInput(target, 'target', op)
  sameShape(x, t, op)
  const logQ = (opts.input ?? 'logits') === 'logits' ? logSoftmax(x, -1) : x
  const fromLog = opts.target === 'logProbs'
  const p = fromLog ? exp(t) : t
  const logP = fromLog ? t : log(t)
  // p · (log p − log q) with 0 · (anything) = 0: a zero target class drops out even where log p = −∞
  return mean(sum(mulNoNan(p, sub(logP, logQ)), -1))
}

/**
 * KL(N(μ, e^{logVar}) ‖ N(0, 1)) = ½ Σ (μ² + e^{logVar} − 1 − logVar) over the last axis,
 * averaged over rows: the regularizer of a variational autoencoder.
 * @example
 * gaussianKl(tensor([[0, 0]]), tensor([[0, 0]])) // ≈ 0
 * @category losses
 * @since 0.2.0
 */
export const gaussianKl = (mu: Tensor, logVar: Tensor): Tensor => {
  const op = 'gaussianKl'
  const m = asInput(mu, 'mu', op)
  const lv = asInput(logVar, 'logVar', op)
  sameShape(m, lv, op)
  if (m.rank < 1)
    throw new PurediffError('ShapeError', 'expected a last axis of latent dimensions', { op, shapes: [m.shape] })
  // e^{lv} − 1 − lv as expm1(lv) − lv keeps its digits near lv = 0
  return mean(sum(mul(0.5, add(square(m), sub(expm1(lv), lv))), -1))
}

const signedLabels = (labels: Tensor, op: string): void => {
  if (labels instanceof ConcreteTensor) {
    const v = labels.toTypedArray()
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== 1 && v[i] !== -1)
        throw new PurediffError('ValueError', `labels must be −1 or 1, got ${v[i]} at index ${i}`, { op })
    }
  }
}

/**
 * Hinge loss for labels y ∈ {−1, 1} and scores s: mean(max(0, 1 − y·s)).
 * NOTE: at the kink y·s = 1 the gradient is 0 (relu'(0) = 0).
 * @example
 * hinge(tensor([2, 0.5]), tensor([1, -1])) // ≈ 0.75
 * @category losses
 * @since 0.2.0
 */
export const hinge = (scores: Tensor, labels: Tensor): Tensor => {
  const op = 'hinge'
  const s = asInput(scores, 'scores', op)
  const y = asInput(labels, 'labels', op)
  sameShape(s, y, op)
  signedLabels(y, op)
  return mean(relu(sub(1, mul(y, s))))
}

/**
 * Squared hinge loss for labels y ∈ {−1, 1}: mean(max(0, 1 − y·s)²), differentiable everywhere.
 * @example
 * squaredHinge(tensor([2, 0.5]), tensor([1, -1])) // ≈ 1.125
 * @category losses
 * @since 0.2.0
 */
export const squaredHinge = (scores: Tensor, labels: Tensor): Tensor => {
  const op = 'squaredHinge'
  const s = asInput(scores, 'scores', op)
  const y = asInput(labels, 'labels', op)
  sameShape(s, y, op)
  signedLabels(y, op)
  return mean(square(relu(sub(1, mul(y, s)))))
}

/** Options of `sigmoidFocal`. @category model @since 0.2.0 */
export interface SigmoidFocalOptions {
  /** Weight of the positive class, α ∈ [0, 1]; the negatives get 1 − α (default: no weighting). */
  readonly alpha?: number
  /** Focusing exponent γ ≥ 0 (default 2; 0 gives binary cross-entropy). */
  readonly gamma?: number
}

/**
 * Focal loss (Lin et al. 2017) of logits x against labels z ∈ [0, 1]:
 * mean(α_t · (1 − p_t)^γ · (softplus(x) − x·z)), 1 − p_t = σ(x)(1 − z) + σ(−x)z.
 * @example
 * sigmoidFocal(tensor([0]), tensor([1]), { gamma: 0 }) // ≈ Math.LN2
 * @category losses
 * @since 0.2.0
 */
export const sigmoidFocal = (logits: Tensor, labels: Tensor, opts: SigmoidFocalOptions = {}): Tensor => {
  const op = 'sigmoidFocal'
  const x = asInput(logits, 'logits', op)
  const z = asInput(labels, 'labels', op)
  sameShape(x, z, op)
  const gamma = opts.gamma ?? 2
  if (typeof gamma !== 'number' || !(gamma >= 0) || !Number.isFinite(gamma)) {
    throw new PurediffError('ValueError', `gamma must be a finite number ≥ 0, got ${String(gamma)}`, { op })
  }
  const ce = sub(softplus(x), mul(x, z))
  // 1 − p_t from σ(±x) directly: 1 − σ(x) would round to 0 (and lose the gradient) for x ≳ 37
  const oneMinusPt = add(mul(sigmoid(x), sub(1, z)), mul(sigmoid(neg(x)), z))
  let loss = gamma === 0 ? ce : mul(ce, pow(oneMinusPt, gamma))
  if (opts.alpha !== undefined) {
    const a = opts.alpha
    if (typeof a !== 'number' || !(a >= 0 && a <= 1))
      throw new PurediffError('ValueError', `alpha must be in [0, 1], got ${String(a)}`, { op })
    loss = mul(loss, add(mul(a, z), mul(1 - a, sub(1, z))))
  }
  return mean(loss)
}

/** Options of `cosineSimilarity` and `cosineDistance`. @category model @since 0.2.0 */
export interface CosineOptions {
  /** Norms below ε count as ε (default 1e-8), so a zero vector gives similarity 0. */
  readonly eps?: number
}

/** ‖a‖ / c with c = max|a| (held constant), floored at eps / c, for a along the last axis. */
const scaledNorm = (a: Tensor, eps: number): [Tensor, Tensor] => {
  const m = stopGradient(max(abs(a), -1, true))
  const c = where(greater(m, 0), m, 1)
  const u = div(a, c)
  const n = maximum(sqrt(maximum(sum(square(u), -1, true), eps * eps)), div(eps, c))
  return [u, n]
}

/**
 * Cosine similarity ⟨a, b⟩ / (‖a‖ ‖b‖) along the last axis, one value per row (shape of the
 * inputs without the last axis). Each row is scaled by its largest entry first (a constant,
 * which leaves the value and its gradient unchanged), so entries of 1e200 do not overflow.
 * @example
 * cosineSimilarity(tensor([[1, 0]]), tensor([[1, 1]])) // ≈ [Math.SQRT1_2]
 * @category losses
 * @since 0.2.0
 */
export const cosineSimilarity = (a: Tensor, b: Tensor, opts: CosineOptions = {}): Tensor => {
  const op = 'cosineSimilarity'
  const x = asInput(a, 'a', op)
  const y = asInput(b, 'b', op)
  sameShape(x, y, op)
  if (x.rank < 1) throw new PurediffError('ShapeError', 'expected a last axis of features', { op, shapes: [x.shape] })
  const eps = positive(opts.eps ?? 1e-8, 'eps', op)
  const [u, nu] = scaledNorm(x, eps)
  const [v, nv] = scaledNorm(y, eps)
  return reshape(div(sum(mul(u, v), -1, true), mul(nu, nv)), x.shape.slice(0, -1))
}

/**
 * Cosine distance, the mean over rows of 1 − cosineSimilarity(a, b).
 * @example
 * cosineDistance(tensor([[1, 0]]), tensor([[-1, 0]])) // ≈ 2
 * @category losses
 * @since 0.2.0
 */
export const cosineDistance = (a: Tensor, b: Tensor, opts: CosineOptions = {}): Tensor =>
  mean(sub(1, cosineSimilarity(a, b, opts)))

/**
 * Label smoothing: (1 − α)·labels + α/K for one-hot (or probability) rows over K classes.
 * @example
 * smoothLabels(tensor([[0, 1]]), 0.2) // ≈ [[0.1, 0.9]]
 * @category losses
 * @since 0.2.0
 */
export const smoothLabels = (labels: Tensor, alpha: number): Tensor => {
  const op = 'smoothLabels'
  const [y, k] = checkLogits(labels, op)
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new PurediffError('ValueError', `alpha must be in [0, 1], got ${String(alpha)}`, { op })
  }
  return add(mul(1 - alpha, y), alpha / k)
}

/** Options of `poissonNll`. @category model @since 0.2.0 */
export interface PoissonNllOptions {
  /** The prediction is a log-rate x (default, loss eˣ − y·x) or a rate λ (loss λ − y·log λ). */
  readonly logInput?: boolean
}

/**
 * Poisson negative log-likelihood of counts y, without the constant log y!: mean(eˣ − y·x)
 * for log-rates x (default), or mean(λ − y·log λ) for rates λ (a zero λ with y = 0 gives 0).
 * @example
 * poissonNll(tensor([0]), tensor([1])) // ≈ 1
 * @category losses
 * @since 0.2.0
 */
export const poissonNll = (pred: Tensor, counts: Tensor, opts: PoissonNllOptions = {}): Tensor => {
  const op = 'poissonNll'
  const x = asInput(pred, 'pred', op)
  const y = asInput(counts, 'counts', op)
  sameShape(x, y, op)
  if (opts.logInput ?? true) return mean(sub(exp(x), mul(y, x)))
  return mean(sub(x, mulNoNan(y, log(x))))
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
    throw new PurediffError(
      'ShapeError',
      'labels must have the shape of the logits without their last axis (and at least one row)',
      {
        op,
        shapes: [x.shape, shape],
      },
    )
  }
  const predicted = argmax(x, -1).toTypedArray()
  let hits = 0
  for (let i = 0; i < ks.length; i++) if (predicted[i] === ks[i]) hits++
  return hits / ks.length
}

/**
 * The fraction of entries where (logit > 0) agrees with (label > 0.5), for binary logits.
 * @example
 * // logit > 0 agrees with label > 0.5 for the first two entries, not the third
 * binaryAccuracy(tensor([2, -1, 0.5]), tensor([1, 0, 0])) // ≈ 2 / 3
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
