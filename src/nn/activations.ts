/**
 * Activations: elementwise nonlinearities for the hidden layers of a model, each a
 * composition of the public ops (so differentiable to any order).
 *
 *   relu(x) = max(x, 0)                       NOTE: relu'(0) = 0
 *   leakyRelu(x, α) = x if x > 0 else αx      NOTE: derivative α at 0
 *   elu(x, α) = x if x > 0 else α(eˣ − 1)     NOTE: derivative α at 0 (the left one; 1 = both sides for α = 1)
 *   gelu(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   (Hendrycks & Gimpel's tanh approximation)
 *   silu(x) = x · σ(x)
 *   softplus(x) = log(1 + eˣ), computed as x + log1p(e⁻ˣ) for x > 0 and log1p(eˣ) otherwise
 *
 * Branches are chosen with `where`, and each branch is evaluated only at inputs where it is
 * finite (the other inputs are replaced by 0 first), so neither the value nor any
 * derivative can pick up an overflow from the unselected branch. `softplus` is written
 * this way rather than as relu(x) + log1p(e^−|x|) because the kink conventions of relu and
 * abs at 0 would make that form's derivative at 0 equal 0 instead of σ(0) = ½.
 *
 * Purity: every activation returns a new tensor; its argument is untouched.
 */
import {
  add,
  exp,
  expm1,
  greater,
  log1p,
  mul,
  neg,
  pow,
  relu as reluOp,
  sigmoid as sigmoidOp,
  tanh as tanhOp,
  where,
} from '../ops/ops.js'
import type { TensorLike } from '../ops/ops.js'
import type { Tensor } from '../tensor/Tensor.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An elementwise activation. @category model @since 0.1.0 */
export type Activation = (x: Tensor) => Tensor

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * max(x, 0); relu'(0) = 0.
 * @example
 * relu(tensor([-1, 2])) // [0, 2]
 * @category activations
 * @since 0.1.0
 */
export const relu: (x: TensorLike) => Tensor = reluOp
/**
 * Hyperbolic tangent.
 * @example
 * tanh(tensor([0, 1])) // ≈ [0, Math.tanh(1)]
 * @category activations
 * @since 0.1.0
 */
export const tanh: (x: TensorLike) => Tensor = tanhOp
/**
 * The logistic function 1/(1 + e⁻ˣ).
 * @example
 * sigmoid(tensor([0])) // [0.5]
 * @category activations
 * @since 0.1.0
 */
export const sigmoid: (x: TensorLike) => Tensor = sigmoidOp

/**
 * The identity (a linear layer).
 * @example
 * identity(tensor([1, 2])) // [1, 2]
 * @category activations
 * @since 0.1.0
 */
export const identity = (x: Tensor): Tensor => x

/**
 * x for x > 0, αx otherwise (α = 0.01 by default).
 * @example
 * leakyRelu(tensor([-1, 2])) // [-0.01, 2]
 * @category activations
 * @since 0.1.0
 */
export const leakyRelu = (x: TensorLike, alpha = 0.01): Tensor => where(greater(x, 0), x, mul(alpha, x))

/**
 * Exponential linear unit: x for x > 0, α(eˣ − 1) otherwise (α = 1 by default).
 * @example
 * elu(tensor([1, -1])) // ≈ [1, Math.exp(-1) - 1]
 * @category activations
 * @since 0.1.0
 */
export const elu = (x: TensorLike, alpha = 1): Tensor => {
  const positive = greater(x, 0)
  // expm1 sees only non-positive inputs, so it never overflows
  return where(positive, x, mul(alpha, expm1(where(positive, 0, x))))
}

const GELU_C = Math.sqrt(2 / Math.PI)

/**
 * Gaussian error linear unit, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
 * @example
 * // ½x(1 + tanh(√(2/π)(x + 0.044715x³))) at 0 and 1
 * gelu(tensor([0, 1])) // ≈ [0, 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))]
 * @category activations
 * @since 0.1.0
 */
export const gelu = (x: TensorLike): Tensor =>
  mul(mul(0.5, x), add(1, tanhOp(mul(GELU_C, add(x, mul(0.044715, pow(x, 3)))))))

/**
 * x · σ(x) (also called swish).
 * @example
 * silu(tensor([0, 1])) // ≈ [0, 1 / (1 + Math.exp(-1))]
 * @category activations
 * @since 0.1.0
 */
export const silu = (x: TensorLike): Tensor => mul(x, sigmoidOp(x))

/**
 * log(1 + eˣ) without overflow, with derivative σ(x) everywhere (½ at 0).
 * @example
 * softplus(1e4) // 1e4
 * @category activations
 * @since 0.1.0
 */
export const softplus = (x: TensorLike): Tensor => {
  const positive = greater(x, 0)
  const xPos = where(positive, x, 0)
  const xNeg = where(positive, 0, x)
  return where(positive, add(xPos, log1p(exp(neg(xPos)))), log1p(exp(xNeg)))
}

/**
 * log σ(x) = −softplus(−x), stable for large |x|.
 * @example
 * logSigmoid(tensor([0])) // ≈ [-Math.LN2]
 * @category activations
 * @since 0.1.0
 */
export const logSigmoid = (x: TensorLike): Tensor => neg(softplus(neg(x)))
