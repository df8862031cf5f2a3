/**
 * The shape of a primitive record. A primitive is the unit of differentiation: one typed
 * record holds its kernel (`impl`), its forward rule (`jvp`, one linear map per input) and
 * its reverse rule (`vjp`, the transpose of that map, per input), the input domain the
 * table-driven tests draw from, and its convention at kinks. A missing rule is a compile
 * error; `abstract` gives the output's shape and dtype without data (staging); `null` says, explicitly, that the output does not depend differentiably on that
 * input (its tangent and cotangent are symbolic zeros).
 *
 * Rules are written against `RuleOps`, the differentiable ops, which the AD layer hands in
 * when it applies a rule. Rules therefore never touch kernels directly: every rule of one
 * level is itself traced by the levels outside it, which is what makes nesting work.
 */
import type { ConcreteTensor, DType, Shape, Tensor } from '../tensor/Tensor.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A tensor or a number (numbers take the dtype of the tensors they meet). */
export type TensorLike = Tensor | number

/** The parameters of `conv2d`: one pair per spatial axis (rows, columns). */
export interface ConvParams {
  readonly stride: readonly [number, number]
  /** [[top, bottom], [left, right]]; negative entries crop */
  readonly padding: readonly [readonly [number, number], readonly [number, number]]
  /** tap (kernel) dilation */
  readonly dilation: readonly [number, number]
  /** input dilation (the stride of the convolution this one transposes) */
  readonly lhsDilation: readonly [number, number]
}

/** The ops a rule may use. Numbers are accepted where a scalar is. */
export interface RuleOps {
  add(a: TensorLike, b: TensorLike): Tensor
  sub(a: TensorLike, b: TensorLike): Tensor
  mul(a: TensorLike, b: TensorLike): Tensor
  div(a: TensorLike, b: TensorLike): Tensor
  neg(a: Tensor): Tensor
  /** a · b, with 0 wherever a = 0 or b = 0 (even if the other is ±inf or NaN). */
  mulNoNan(a: TensorLike, b: TensorLike): Tensor
  /** a / b, with 0 wherever a = 0 (even if b = 0). */
  divNoNan(a: TensorLike, b: TensorLike): Tensor
  pow(a: TensorLike, b: TensorLike): Tensor
  exp(x: Tensor): Tensor
  log(x: Tensor): Tensor
  sin(x: Tensor): Tensor
  cos(x: Tensor): Tensor
  sign(x: Tensor): Tensor
  greater(a: TensorLike, b: TensorLike): Tensor
  less(a: TensorLike, b: TensorLike): Tensor
  equal(a: TensorLike, b: TensorLike): Tensor
  where(c: Tensor, a: TensorLike, b: TensorLike): Tensor
  sum(x: Tensor, axes: ReadonlyArray<number>): Tensor
  reshape(x: Tensor, shape: Shape): Tensor
  broadcastTo(x: Tensor, shape: Shape): Tensor
  /** Sum a broadcast value back down to `shape` (the transpose of broadcasting). */
  unbroadcast(x: Tensor, shape: Shape): Tensor
  transpose(x: Tensor, perm: ReadonlyArray<number>): Tensor
  matmul(a: Tensor, b: Tensor): Tensor
  /** the matrix product whose terms are 0 where either factor is 0 (Σ_p mulNoNan(a_ip, b_pj)) */
  matmulNoNan(a: Tensor, b: Tensor): Tensor
  /**
   * op(a) ⊙· op(b), the masked product of `matmulNoNan` with op a swap of the last two axes
   * where `transA` / `transB`: on concrete operands no transpose copy is made.
   */
  matmulNoNanT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor
  slice(x: Tensor, begin: ReadonlyArray<number>, size: ReadonlyArray<number>): Tensor
  pad(x: Tensor, before: ReadonlyArray<number>, shape: Shape): Tensor
  gather(x: Tensor, indices: Int32Array, axis: number): Tensor
  scatterAdd(x: Tensor, indices: Int32Array, axis: number, shape: Shape): Tensor
  /** `gather` with the indices as a tensor operand (integer-valued floats; batched or staged indices). */
  gatherDynamic(x: Tensor, indices: Tensor, axis: number): Tensor
  /** The transpose of `gatherDynamic`: adds slices of `x` into zeros of `shape` at the indices. */
  scatterAddDynamic(x: Tensor, indices: Tensor, axis: number, shape: Shape): Tensor
  cast(x: Tensor, dtype: DType): Tensor
  /** X with op(T)·X = B, T: [..., n, n] (only its `lower` or upper triangle read), B: [..., n, m]; op(T) = Tᵀ when `transposeA`. */
  triangularSolve(t: Tensor, b: Tensor, lower: boolean, transposeA: boolean): Tensor
  /** X with A·X = B, A: [..., n, n], B: [..., n, m] (LU with partial pivoting). */
  solve(a: Tensor, b: Tensor): Tensor
  /** The 2-D convolution of x [n, h, w, c] with k [kh, kw, c, o] (src/primitives/conv.ts). */
  conv2d(x: Tensor, k: Tensor, p: ConvParams): Tensor
  /** Σ over each non-overlapping window of z, weighted by where x's window maximum is (src/primitives/pool.ts). */
  poolSelect(x: Tensor, z: Tensor, window: readonly [number, number]): Tensor
  /** The transpose of `poolSelect` in z: u spread onto each window's maximum of x. */
  poolScatter(x: Tensor, u: Tensor, window: readonly [number, number]): Tensor
  /** ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (n = 0: ψ itself). */
  polygamma(n: number, x: Tensor): Tensor
}

/** What staging knows of a value: its shape and dtype (JAX's `ShapedArray`). Tensors are abstract values too. */
export interface AbstractValue {
  readonly shape: Shape
  readonly dtype: DType
}

/** Abstract evaluation: the output's shape and dtype from the inputs' (JAX's `abstract_eval`); reads no data. */
export type AbstractRule<P> = (xs: ReadonlyArray<AbstractValue>, p: P) => AbstractValue

/** Forward rule for one input: the tangent contribution ∂y/∂x_i · xDot (linear in xDot). */
export type JvpRule<P> = (xDot: Tensor, xs: ReadonlyArray<Tensor>, y: Tensor, p: P, R: RuleOps) => Tensor
/** Reverse rule for one input: the cotangent yBar · ∂y/∂x_i (the transpose of the JVP). */
export type VjpRule<P> = (yBar: Tensor, xs: ReadonlyArray<Tensor>, y: Tensor, p: P, R: RuleOps) => Tensor

/**
 * Batching rule (for `vmap`): the inputs as batched values, where each input's batch axis
 * is (`null`: that input is not batched; at least one is), and the params. It returns the
 * output with its batch axis. `self` applies this same primitive (with any params) one
 * level down, so a rule can rewrite itself as one batched call (JAX's batching rules).
 */
export type BatchRule<P> = (
  xs: ReadonlyArray<Tensor>,
  dims: ReadonlyArray<number | null>,
  p: P,
  R: RuleOps,
  self: (xs: ReadonlyArray<Tensor>, p: P) => Tensor,
) => readonly [Tensor, number]

/** A test case for the table-driven laws: input shapes and params. */
export interface DomainCase<P> {
  readonly shapes: ReadonlyArray<Shape>
  readonly params: P
}

/** Where the laws may sample a primitive's inputs. */
export interface Domain<P> {
  /** value range per input */
  readonly ranges: ReadonlyArray<readonly [number, number]>
  readonly cases: ReadonlyArray<DomainCase<P>>
  /**
   * inputs within this distance of a kink are redrawn (finite differences straddle it);
   * `xs` are the values one output element depends on: one per input for elementwise
   * primitives (after broadcasting), the reduced values for reductions
   */
  readonly kinks?: (xs: ReadonlyArray<number>) => number
  /**
   * maps the raw draws (uniform in `ranges`, one flat vector per input) to a point of the
   * domain proper, for primitives whose domain is not a box: an SPD matrix for `cholesky`,
   * a triangle with a diagonal away from zero for `triangularSolve`
   */
  readonly point?: (xs: ReadonlyArray<Float64Array>, c: DomainCase<P>) => Float64Array[]
}

/** One primitive: kernel, forward rule, reverse rule, batching rule, domain, kink convention. */
export interface Primitive<P = unknown> {
  readonly name: string
  /** number of inputs; -1 for variadic (concat) */
  readonly arity: number
  /** the output's shape and dtype from the inputs' (what the staging level records) */
  readonly abstract: AbstractRule<P>
  readonly impl: (xs: ReadonlyArray<ConcreteTensor>, p: P) => ConcreteTensor
  readonly jvp: ReadonlyArray<JvpRule<P> | null> | ((i: number) => JvpRule<P> | null)
  readonly vjp: ReadonlyArray<VjpRule<P> | null> | ((i: number) => VjpRule<P> | null)
  /** how `vmap` maps this primitive over a batch axis */
  readonly batch: BatchRule<P>
  /** null: not differentiable anywhere (masks, integer-valued ops); not sampled by the laws */
  readonly domain: Domain<P> | null
  /** the convention at non-smooth points, documented and tested */
  readonly kinks?: string
  /** Binary elementwise primitives broadcast their inputs; the AD layer unbroadcasts cotangents. */
  readonly broadcasts: boolean
}

export type AnyPrimitive = Primitive<any>
