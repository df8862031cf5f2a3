/**
 * The rule of every primitive as one line of math, for `explain` to show beside each node:
 * the forward rule (how a tangent ẋ pushes through, ẏ = ∂y/∂x · ẋ) and the reverse rule (how
 * a cotangent ȳ pulls back, x̄ += ȳ · ∂y/∂x). Inputs are named x (one input), a and b (two),
 * c, a, b (`where`); the output is y. The text mirrors the `// d … = …` comment beside each
 * record in `src/primitives/table.ts`; the rules themselves (which `explain` runs) are the
 * records' own.
 *
 * The table is keyed by primitive name and typed `Record<PrimitiveName, RuleText>`, so a
 * primitive added to the table without its line here is a compile error.
 *
 * Purity: constant data.
 */
import type { PrimitiveName } from '../primitives/table.js'

/**
 * A primitive's rules as text: `y` how the output is computed, `jvp` the forward rule,
 * `vjp` the reverse rule (one line each).
 * @category model
 * @since 0.2.0
 */
export interface RuleText {
  readonly y: string
  readonly jvp: string
  readonly vjp: string
}

const zero = (y: string): RuleText => ({ y, jvp: 'ẏ = 0 (piecewise constant)', vjp: 'x̄ += 0 (piecewise constant)' })
const unary = (y: string, partial: string): RuleText => ({ y, jvp: `ẏ = ${partial} · ẋ`, vjp: `x̄ += ȳ · ${partial}` })

/**
 * Every primitive's rules as one line of math each.
 * @example
 * RULES.sin.jvp === 'ẏ = cos(x) · ẋ'
 * @category constants
 * @since 0.2.0
 */
export const RULES: Readonly<Record<PrimitiveName, RuleText>> = Object.freeze({
  neg: { y: 'y = -x', jvp: 'ẏ = -ẋ', vjp: 'x̄ += -ȳ' },
  exp: unary('y = exp(x)', 'y'),
  log: { y: 'y = log(x)', jvp: 'ẏ = ẋ / x', vjp: 'x̄ += ȳ / x' },
  sin: unary('y = sin(x)', 'cos(x)'),
  cos: unary('y = cos(x)', '(-sin(x))'),
  tan: unary('y = tan(x)', '(1 + y²)'),
  tanh: unary('y = tanh(x)', '(1 - y²)'),
  sigmoid: unary('y = σ(x)', 'y(1 - y)'),
  relu: unary('y = max(x, 0)', '[x > 0]'),
  abs: unary('y = |x|', 'sign(x)'),
  sqrt: { y: 'y = √x', jvp: 'ẏ = ẋ / (2y)', vjp: 'x̄ += ȳ / (2y)' },
  log1p: { y: 'y = log(1 + x)', jvp: 'ẏ = ẋ / (1 + x)', vjp: 'x̄ += ȳ / (1 + x)' },
  expm1: unary('y = exp(x) - 1', '(y + 1)'),
  sign: zero('y = sign(x)'),
  floor: zero('y = ⌊x⌋'),
  ceil: zero('y = ⌈x⌉'),
  round: zero('y = round(x)'),
  isFinite: zero('y = [x finite]'),
  stopGradient: { y: 'y = x', jvp: 'ẏ = 0 (gradient stopped)', vjp: 'x̄ += 0 (gradient stopped)' },
  add: { y: 'y = a + b', jvp: 'ẏ = ȧ + ḃ', vjp: 'ā += ȳ ; b̄ += ȳ' },
  sub: { y: 'y = a - b', jvp: 'ẏ = ȧ - ḃ', vjp: 'ā += ȳ ; b̄ += -ȳ' },
  mul: { y: 'y = a · b', jvp: 'ẏ = ȧ · b + a · ḃ', vjp: 'ā += ȳ · b ; b̄ += ȳ · a' },
  div: { y: 'y = a / b', jvp: 'ẏ = ȧ / b - y · ḃ / b', vjp: 'ā += ȳ / b ; b̄ += -ȳ · y / b' },
  mulNoNan: { y: 'y = a · b (0 where a = 0 or b = 0)', jvp: 'ẏ = ȧ · b + a · ḃ', vjp: 'ā += ȳ · b ; b̄ += ȳ · a' },
  divNoNan: { y: 'y = a / b (0 where a = 0)', jvp: 'ẏ = ȧ / b - y · ḃ / b', vjp: 'ā += ȳ / b ; b̄ += -ȳ · y / b' },
  pow: { y: 'y = aᵇ', jvp: 'ẏ = b·aᵇ⁻¹ · ȧ + log(a)·y · ḃ', vjp: 'ā += ȳ · b·aᵇ⁻¹ ; b̄ += ȳ · log(a)·y' },
  maximum: {
    y: 'y = max(a, b)',
    jvp: 'ẏ = [a > b]·ȧ + [a < b]·ḃ (ties: ½ each)',
    vjp: 'ā += ȳ·[a > b] ; b̄ += ȳ·[a < b] (ties: ½ each)',
  },
  minimum: {
    y: 'y = min(a, b)',
    jvp: 'ẏ = [a < b]·ȧ + [a > b]·ḃ (ties: ½ each)',
    vjp: 'ā += ȳ·[a < b] ; b̄ += ȳ·[a > b] (ties: ½ each)',
  },
  atan2: {
    y: 'y = atan2(a, b)',
    jvp: 'ẏ = (b·ȧ - a·ḃ) / (a² + b²)',
    vjp: 'ā += ȳ·b / (a² + b²) ; b̄ += -ȳ·a / (a² + b²)',
  },
  greater: zero('y = [a > b]'),
  greaterEqual: zero('y = [a ≥ b]'),
  less: zero('y = [a < b]'),
  lessEqual: zero('y = [a ≤ b]'),
  equal: zero('y = [a = b]'),
  notEqual: zero('y = [a ≠ b]'),
  where: { y: 'y = c ? a : b', jvp: 'ẏ = c ? ȧ : ḃ', vjp: 'ā += c ? ȳ : 0 ; b̄ += c ? 0 : ȳ' },
  sum: { y: 'y = Σ x (over axes)', jvp: 'ẏ = Σ ẋ', vjp: 'x̄ += broadcast(ȳ)' },
  max: { y: 'y = max x (over axes)', jvp: 'ẏ = Σ [x = y]·ẋ / #ties', vjp: 'x̄ += ȳ · [x = y] / #ties' },
  reshape: { y: 'y = reshape(x)', jvp: 'ẏ = reshape(ẋ)', vjp: 'x̄ += reshape⁻¹(ȳ)' },
  transpose: { y: 'y = xᵀ (perm)', jvp: 'ẏ = ẋᵀ', vjp: 'x̄ += ȳ with the inverse perm' },
  broadcastTo: { y: 'y = broadcast(x)', jvp: 'ẏ = broadcast(ẋ)', vjp: 'x̄ += Σ ȳ over the broadcast axes' },
  slice: { y: 'y = x[begin : begin + size]', jvp: 'ẏ = ẋ[slice]', vjp: 'x̄ += pad(ȳ) with zeros' },
  pad: { y: 'y = pad(x) with zeros', jvp: 'ẏ = pad(ẋ)', vjp: 'x̄ += ȳ[slice]' },
  concat: { y: 'y = concat(x₁, …, xₙ)', jvp: 'ẏ = concat(ẋ₁, …, ẋₙ)', vjp: 'x̄ᵢ += ȳ[part i]' },
  gather: { y: 'y = x[indices]', jvp: 'ẏ = ẋ[indices]', vjp: 'x̄ += scatterAdd(ȳ, indices)' },
  scatterAdd: { y: 'y = scatterAdd(x, indices)', jvp: 'ẏ = scatterAdd(ẋ, indices)', vjp: 'x̄ += ȳ[indices]' },
  cast: { y: 'y = cast(x)', jvp: 'ẏ = cast(ẋ)', vjp: 'x̄ += cast⁻¹(ȳ)' },
  matmul: { y: 'y = A·B', jvp: 'ẏ = Ȧ·B + A·Ḃ', vjp: 'Ā += ȳ·Bᵀ ; B̄ += Aᵀ·ȳ' },
  // linear algebra (src/primitives/linalg.ts); Φ = lower triangle with the diagonal halved
  cholesky: { y: 'L = chol(sym(A))', jvp: 'L̇ = L·Φ(L⁻¹·sym(Ȧ)·L⁻ᵀ)', vjp: 'Ā += sym(L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹)' },
  triangularSolve: {
    y: 'X = op(T)⁻¹·B',
    jvp: 'Ẋ = op(T)⁻¹·(Ḃ − op(Ṫ)·X)',
    vjp: 'B̄ += op(T)⁻ᵀ·ȳ ; T̄ += tri(−op(B̄·Xᵀ))',
  },
  solve: { y: 'X = A⁻¹·B', jvp: 'Ẋ = A⁻¹·(Ḃ − Ȧ·X)', vjp: 'B̄ += A⁻ᵀ·ȳ ; Ā += −B̄·Xᵀ' },
  logAbsDet: { y: 'y = log|det A|', jvp: 'ẏ = tr(A⁻¹·Ȧ)', vjp: 'Ā += ȳ·A⁻ᵀ' },
  detSign: zero('y = sign(det A)'),
  sortPerm: zero('y = the sorting permutation of x'),
  argmax: zero('y = the index of the largest x along an axis'),
  argmin: zero('y = the index of the smallest x along an axis'),
  gatherDynamic: { y: 'y = x[i]', jvp: 'ẏ = ẋ[i]', vjp: 'x̄ += scatterAdd(ȳ, i)' },
  scatterAddDynamic: { y: 'y = scatterAdd(x, i)', jvp: 'ẏ = scatterAdd(ẋ, i)', vjp: 'x̄ += ȳ[i]' },
  qr: {
    y: '[Q, R] = qr(A)',
    jvp: 'X = Ȧ·R⁻¹ ; C = Qᵀ·X ; Ω = tril(C,−1) − tril(C,−1)ᵀ ; Q̇ = Q·(Ω − C) + X ; Ṙ = (C − Ω)·R',
    vjp: 'G = R̄·Rᵀ − Qᵀ·Q̄ ; Ā += (Q̄ + Q·(G − tril(G − Gᵀ, −1)))·R⁻ᵀ',
  },
  eigh: {
    y: '[w, V] = eigh(sym(A))',
    jvp: 'P = Vᵀ·sym(Ȧ)·V ; ẇ = diag(P) ; V̇ = V·(F ⊙ P)',
    vjp: 'Ā += sym(V·(diag(w̄) + F ⊙ Vᵀ·V̄)·Vᵀ)',
  },
  // special functions (src/primitives/special.ts)
  erf: unary('y = erf(x)', '(2/√π)·exp(−x²)'),
  erfc: unary('y = erfc(x)', '(−2/√π)·exp(−x²)'),
  erfinv: unary('y = erfinv(x)', '(√π/2)·exp(y²)'),
  lgamma: unary('y = log|Γ(x)|', 'ψ(x)'),
  polygamma: unary('y = ψ⁽ⁿ⁾(x)', 'ψ⁽ⁿ⁺¹⁾(x)'),
  asin: unary('y = asin(x)', '1/√(1 − x²)'),
  acos: unary('y = acos(x)', '(−1/√(1 − x²))'),
  atan: unary('y = atan(x)', '1/(1 + x²)'),
  asinh: unary('y = asinh(x)', '1/√(x² + 1)'),
  acosh: unary('y = acosh(x)', '1/√(x² − 1)'),
  atanh: unary('y = atanh(x)', '1/(1 − x²)'),
  matmulNoNan: { y: 'y = A·B (0·inf = 0)', jvp: 'ẏ = Ȧ·B + A·Ḃ', vjp: 'Ā += ȳ·Bᵀ ; B̄ += Aᵀ·ȳ' },
  conv2d: {
    y: 'y = conv(x, k)',
    jvp: 'ẏ = conv(ẋ, k) + conv(x, k̇)',
    vjp: 'x̄ += convᵀ(ȳ, flip(k)ᵀ) ; k̄ += conv(xᵀ, ȳᵀ)ᵀ',
  },
  poolSelect: {
    y: 'y = Σ_window w(x)·z (w: where the window max of x is)',
    jvp: 'ẏ = select(x, ż)',
    vjp: 'z̄ += scatter(x, ȳ)',
  },
  poolScatter: { y: 'y = w(x)·u[window]', jvp: 'ẏ = scatter(x, u̇)', vjp: 'ū += select(x, ȳ)' },
})

/**
 * The control-flow constructs that staging records as one equation holding sub-programs
 * (src/transforms/scanStaged.ts, condStaged.ts, whileStaged.ts): not in the primitive
 * table, since each is built per call around its body.
 */
const CONSTRUCTS: Readonly<Record<string, RuleText>> = Object.freeze({
  scan: {
    y: '(c_T, [y_1..y_T]) = scan(body, c_0, [x_1..x_T]): (c_t, y_t) = body(c_{t-1}, x_t)',
    jvp: 'ċ, ẏ = scan(jvp(body)) over (c, ċ) and (x, ẋ)',
    vjp: 'forward scan storing c_{t-1}; then c̄_{t-1}, x̄_t = vjp(body)(c̄_t, ȳ_t), backwards',
  },
  cond: {
    y: 'y = branches[i](x) (i from the predicate or index)',
    jvp: 'ẏ = jvp(branches[i])(ẋ)',
    vjp: 'x̄ += vjp(branches[i])(ȳ)',
  },
  while: {
    y: 'c = body(c) while cond(c)',
    jvp: 'ċ = while over (c, ċ) of jvp(body)',
    vjp: 'none: the trip count depends on the values (use scan or foriLoop)',
  },
})

/** The rule text of a primitive by name; unknown names (a primitive of a newer table) say so. */
export const ruleOf = (name: string): RuleText =>
  (RULES as Readonly<Record<string, RuleText>>)[name] ??
  CONSTRUCTS[name] ?? {
    y: `y = ${name}(…)`,
    jvp: `ẏ = J_${name} · ẋ`,
    vjp: `x̄ += J_${name}ᵀ · ȳ`,
  }
