/**
 * Truncated Taylor-series arithmetic: an independent way to compute derivatives of any
 * order, used to check derivative towers. A series is the coefficient list
 * [a₀, a₁, …, a_N] of a(t) = Σ aₖ·tᵏ truncated after t^N; the variable x at the point x₀ is
 * [x₀, 1, 0, …, 0], and a function's k-th derivative at x₀ is k!·(its k-th coefficient).
 *
 * Each elementary function is applied by a coefficient recurrence obtained from an ODE it
 * satisfies, matching the coefficients of t^(k−1) on both sides (no AD, no dual numbers,
 * nothing shared with the code under test):
 * - product:   (a·b)ₖ = Σⱼ₌₀..ₖ aⱼ·bₖ₋ⱼ (Cauchy product);
 * - exp:       e = exp(a), e' = a'·e          ⇒ k·eₖ = Σⱼ₌₁..ₖ j·aⱼ·eₖ₋ⱼ;
 * - sin, cos:  s' = a'·c, c' = −a'·s          ⇒ k·sₖ = Σ j·aⱼ·cₖ₋ⱼ, k·cₖ = −Σ j·aⱼ·sₖ₋ⱼ;
 * - tanh:      τ' = a'·(1 − τ²)               ⇒ k·τₖ = Σ j·aⱼ·wₖ₋ⱼ with w = 1 − τ·τ;
 * - log:       ℓ' = a'/a, i.e. a·ℓ' = a'      ⇒ a₀·k·ℓₖ = k·aₖ − Σⱼ₌₁..ₖ₋₁ j·ℓⱼ·aₖ₋ⱼ.
 * (In the tanh recurrence wₖ₋ⱼ with j ≥ 1 needs τ only up to index k − 1: it is well founded.)
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Taylor coefficients a₀ … a_N. */
export type Series = ReadonlyArray<number>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The variable x = x₀ + t, to order n. */
export const variable = (x0: number, n: number): Series =>
  Array.from({ length: n + 1 }, (_, k) => (k === 0 ? x0 : k === 1 ? 1 : 0))

/** A constant, to order n. */
export const constant = (c: number, n: number): Series => Array.from({ length: n + 1 }, (_, k) => (k === 0 ? c : 0))

// -------------------------------------------------------------------------------------
// arithmetic
// -------------------------------------------------------------------------------------

export const add = (a: Series, b: Series): Series => a.map((ak, k) => ak + (b[k] as number))
export const scale = (c: number, a: Series): Series => a.map((ak) => c * ak)
export const mul = (a: Series, b: Series): Series =>
  a.map((_, k) => {
    let s = 0
    for (let j = 0; j <= k; j++) s += (a[j] as number) * (b[k - j] as number)
    return s
  })

export const exp = (a: Series): Series => {
  const e: number[] = [Math.exp(a[0] as number)]
  for (let k = 1; k < a.length; k++) {
    let s = 0
    for (let j = 1; j <= k; j++) s += j * (a[j] as number) * (e[k - j] as number)
    e.push(s / k)
  }
  return e
}

/** [sin(a), cos(a)] together (their recurrences are coupled). */
export const sinCos = (a: Series): [Series, Series] => {
  const s: number[] = [Math.sin(a[0] as number)]
  const c: number[] = [Math.cos(a[0] as number)]
  for (let k = 1; k < a.length; k++) {
    let ss = 0
    let cc = 0
    for (let j = 1; j <= k; j++) {
      ss += j * (a[j] as number) * (c[k - j] as number)
      cc -= j * (a[j] as number) * (s[k - j] as number)
    }
    s.push(ss / k)
    c.push(cc / k)
  }
  return [s, c]
}
export const sin = (a: Series): Series => sinCos(a)[0]
export const cos = (a: Series): Series => sinCos(a)[1]

export const tanh = (a: Series): Series => {
  const t: number[] = [Math.tanh(a[0] as number)]
  // w = 1 − τ², needed up to index k − 1 when computing τₖ
  const w = (m: number): number => {
    let s = m === 0 ? 1 : 0
    for (let i = 0; i <= m; i++) s -= (t[i] as number) * (t[m - i] as number)
    return s
  }
  for (let k = 1; k < a.length; k++) {
    let s = 0
    for (let j = 1; j <= k; j++) s += j * (a[j] as number) * w(k - j)
    t.push(s / k)
  }
  return t
}

export const log = (a: Series): Series => {
  const a0 = a[0] as number
  const l: number[] = [Math.log(a0)]
  for (let k = 1; k < a.length; k++) {
    let s = k * (a[k] as number)
    for (let j = 1; j < k; j++) s -= j * (l[j] as number) * (a[k - j] as number)
    l.push(s / (k * a0))
  }
  return l
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The derivatives f(x₀), f'(x₀), …, f⁽ᴺ⁾(x₀) from a series: k!·aₖ. */
export const derivatives = (a: Series): number[] => {
  let fact = 1
  return a.map((ak, k) => {
    if (k > 0) fact *= k
    return fact * ak
  })
}
