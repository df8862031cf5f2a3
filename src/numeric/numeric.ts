/**
 * Numeric twins of the transforms: `numGrad`, `numValueAndGrad`, `numJvp`, `numVjp`,
 * `numJacobian`, `numHessian`, `numHvp` and `numDerivative` take and return the same trees
 * as `grad`, `valueAndGrad`, `jvp`, `vjp`, `jacfwd`/`jacrev`, `hessian`, `hvp` and
 * `derivative`, so a test or a lesson can swap one for the other. They only evaluate `f`;
 * they never look inside it, which is what makes them an independent check of AD.
 *
 * The math. A first derivative is the central difference D(h) = (f(x + h) − f(x − h)) / 2h,
 * whose error expands in even powers of the step: D(h) = f'(x) + c₂h² + c₄h⁴ + ….
 * Richardson extrapolation removes those terms one at a time from D(h), D(h/2), D(h/4), …:
 * T(i, j) = (4ʲ·T(i, j−1) − T(i−1, j−1)) / (4ʲ − 1). With k levels (k + 1 step sizes) the
 * truncation error is O(h^(2k+2)); the default k = 1 gives O(h⁴) from four evaluations of f
 * per direction. Second derivatives use the four-point mixed difference
 * [f(x+hᵢeᵢ+hⱼeⱼ) − f(x+hᵢeᵢ−hⱼeⱼ) − f(x−hᵢeᵢ+hⱼeⱼ) + f(x−hᵢeᵢ−hⱼeⱼ)] / 4hᵢhⱼ, which also
 * has an even expansion, so the same extrapolation applies.
 *
 * The step. Rounding adds an error of about ε·|f| / hᵈ (ε the machine epsilon, d the
 * derivative order) to a truncation error of about h^p (p = 2k + 2); the two balance at
 * h ≈ ε^(1/(p+d)). So the step of an element x is h = ε^(1/(p+d))·(|x| + 1), rounded down to
 * a power of two (so x ± h is computed with as little rounding as possible): for plain
 * central differences (k = 0) that is the familiar ∛ε·(|x| + 1); with the default k = 1 it
 * is about 5·10⁻⁴·(|x| + 1) in float64 and 3·10⁻²·(|x| + 1) in float32. A directional step
 * along v is h = ε^(1/(p+d))·(1 + ‖x‖∞) / ‖v‖∞.
 *
 * Precision. By default `f` is evaluated on float64 copies of float32 inputs (purediff
 * promotes mixed dtypes to float64, so the whole model then runs in float64) and ε is
 * float64's; results are cast back to the dtype the AD twin would return. If the output
 * still comes back float32 (the model casts on purpose), or with `{ float64: false }`, ε is
 * float32's and the step grows accordingly.
 *
 * Purity: inputs are never modified; every perturbed point is a fresh tensor, and returned
 * trees are frozen. Numeric twins need concrete values: a traced input is an error.
 */
import { Tracer } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import { Tensor, alloc, wrap } from '../tensor/Tensor.js'
import type { DType, Shape } from '../tensor/Tensor.js'
import type { Jacobian, Leaf, TreeDef } from '../tree/Tree.js'
import { flatten, keyPaths, unflatten } from '../tree/Tree.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of the numeric twins.
 * @category model
 * @since 0.1.0
 */
export interface NumericOptions {
  /** The relative base step h₀ (an element x gets h₀·(|x| + 1)); default ε^(1/(p+d)) from the dtype. */
  readonly step?: number
  /** Richardson levels k: the truncation error is O(h^(2k+2)). Default 1 (O(h⁴)); 0 is plain central differences. */
  readonly richardson?: number
  /** Evaluate `f` on float64 copies of float32 inputs (default true). */
  readonly float64?: boolean
}

/**
 * Machine epsilon of a dtype.
 * @example
 * epsilonOf('float64') // ≈ Number.EPSILON
 * epsilonOf('float32') // ≈ 2 ** -23
 * @category utils
 * @since 0.1.0
 */
export const epsilonOf = (dtype: DType): number => (dtype === 'float32' ? 2 ** -23 : 2 ** -52)

/**
 * The default relative step for a derivative of order `derivativeOrder` with `richardson`
 * levels of extrapolation: ε^(1/(p+d)) with p = 2·richardson + 2 (see the module header).
 * @example
 * // ∛ε ≈ 6.06e-6: no extrapolation, a first derivative
 * defaultStep('float64', 1, 0) // ≈ Math.cbrt(2 ** -52)
 * @category utils
 * @since 0.1.0
 */
export const defaultStep = (dtype: DType, derivativeOrder: 1 | 2 = 1, richardson = 1): number =>
  epsilonOf(dtype) ** (1 / (2 * richardson + 2 + derivativeOrder))

// -------------------------------------------------------------------------------------
// flat views of trees
// -------------------------------------------------------------------------------------

interface LeafInfo {
  readonly kind: 'tensor' | 'number'
  readonly shape: Shape
  readonly dtype: DType
  readonly offset: number
  readonly size: number
}

/** A tree as one float64 vector plus what it takes to rebuild it. */
interface Flat {
  readonly def: TreeDef
  readonly paths: ReadonlyArray<string>
  readonly infos: ReadonlyArray<LeafInfo>
  readonly values: Float64Array
}

const flat = (x: unknown, op: string, what: string): Flat => {
  const [leaves, def] = flatten(x, op)
  const paths = keyPaths(def)
  const infos: LeafInfo[] = []
  let offset = 0
  leaves.forEach((l, i) => {
    if (l instanceof Tracer) {
      throw new PurediffError(
        'ValueError',
        `${what} is a traced value: numeric differentiation needs concrete values (it does not compose with transforms)`,
        { op, path: paths[i] as string },
      )
    }
    const info: LeafInfo =
      typeof l === 'number'
        ? { kind: 'number', shape: [], dtype: 'float64', offset, size: 1 }
        : { kind: 'tensor', shape: l.shape, dtype: l.dtype, offset, size: l.size }
    infos.push(info)
    offset += info.size
  })
  const values = new Float64Array(offset)
  leaves.forEach((l, i) => {
    const info = infos[i] as LeafInfo
    if (typeof l === 'number') values[info.offset] = l
    else values.set((l as Tensor).toTypedArray(), info.offset)
  })
  return { def, paths, infos, values }
}

/** Rebuild a tree of `fl`'s structure from a vector, with leaf dtypes from `dtypeOf`. */
const rebuild = <T>(
  fl: Flat,
  values: ArrayLike<number>,
  dtypeOf: (info: LeafInfo) => DType,
  numbersAsNumbers = true,
): T =>
  unflatten<T>(
    fl.def,
    fl.infos.map((info): Leaf => {
      if (info.kind === 'number' && numbersAsNumbers) return values[info.offset] as number
      const out = alloc(dtypeOf(info), info.size)
      for (let i = 0; i < info.size; i++) out[i] = values[info.offset + i] as number
      return wrap(out, info.shape)
    }),
  )

const ownDType = (info: LeafInfo): DType => info.dtype

// -------------------------------------------------------------------------------------
// evaluation
// -------------------------------------------------------------------------------------

interface Evaluator {
  /** f at a point of the flat input, as a flat float64 output vector */
  readonly at: (values: Float64Array) => Float64Array
  /** the output's structure (from f at x itself, in the input's own dtypes) */
  readonly out: Flat
  /** ε of the evaluation: float32's if any input or output was evaluated in float32 */
  readonly eps: number
}

const evaluator = (f: (x: never) => unknown, xf: Flat, op: string, promote: boolean): Evaluator => {
  const evalDType = (info: LeafInfo): DType => (promote ? 'float64' : info.dtype)
  const run = (values: Float64Array): Flat => flat(f(rebuild<never>(xf, values, evalDType)), op, 'the output')
  const first = run(xf.values)
  const changed = xf.infos.some((i) => evalDType(i) !== i.dtype)
  // the output structure and dtypes the AD twin would see: f at x in its own dtypes
  const out = changed ? flat(f(rebuild<never>(xf, xf.values, ownDType)), op, 'the output') : first
  const anyF32 = [...xf.infos.map(evalDType), ...first.infos.map((i) => i.dtype)].includes('float32')
  const at = (values: Float64Array): Float64Array => {
    const r = run(values)
    if (r.values.length !== out.values.length) {
      throw new PurediffError(
        'ShapeError',
        `the output changed size between evaluations (${out.values.length} vs ${r.values.length})`,
        { op },
      )
    }
    return r.values
  }
  return { at, out, eps: epsilonOf(anyF32 ? 'float32' : 'float64') }
}

/**
 * Richardson extrapolation of a difference quotient `D(s)` (s scales the step) from
 * D(1), D(1/2), …, D(1/2ᵏ); every output element is extrapolated independently.
 */
const richardson = (D: (s: number) => Float64Array, levels: number): Float64Array => {
  const rows: Float64Array[] = []
  for (let i = 0; i <= levels; i++) rows.push(D(2 ** -i))
  for (let j = 1; j <= levels; j++) {
    const c = 4 ** j
    // descending i: rows[i - 1] still holds column j - 1 when row i is updated
    for (let i = levels; i >= j; i--) {
      const hi = rows[i] as Float64Array
      const lo = rows[i - 1] as Float64Array
      const next = new Float64Array(hi.length)
      for (let e = 0; e < hi.length; e++) next[e] = (c * (hi[e] as number) - (lo[e] as number)) / (c - 1)
      rows[i] = next
    }
  }
  return rows[levels] as Float64Array
}

/** Round a positive step down to a power of two (so x ± h rounds as little as possible). */
const pow2 = (h: number): number => 2 ** Math.floor(Math.log2(h))

interface Resolved {
  readonly levels: number
  readonly promote: boolean
  readonly step: (eps: number, order: 1 | 2) => number
}

const resolve = (opts: NumericOptions, op: string): Resolved => {
  const levels = opts.richardson ?? 1
  if (!Number.isInteger(levels) || levels < 0 || levels > 8) {
    throw new PurediffError('ValueError', `richardson must be an integer in [0, 8], got ${levels}`, { op })
  }
  if (opts.step !== undefined && !(opts.step > 0 && Number.isFinite(opts.step))) {
    throw new PurediffError('ValueError', `step must be a positive number, got ${opts.step}`, { op })
  }
  return {
    levels,
    promote: opts.float64 ?? true,
    step: (eps, order) => opts.step ?? eps ** (1 / (2 * levels + 2 + order)),
  }
}

/** h for element x: the relative step times (|x| + 1), as a power of two. */
const elementStep = (base: number, x: number): number => pow2(base * (Math.abs(x) + 1))

const infNorm = (v: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number))
  return m
}

/** d/dt f(x + t·v) at t = 0, extrapolated: the numeric directional derivative. */
const directional = (ev: Evaluator, x: Float64Array, v: Float64Array, r: Resolved): Float64Array => {
  const vn = infNorm(v)
  if (vn === 0) return new Float64Array(ev.out.values.length)
  const t = pow2((r.step(ev.eps, 1) * (1 + infNorm(x))) / vn)
  const plus = new Float64Array(x.length)
  const minus = new Float64Array(x.length)
  return richardson((s) => {
    const h = s * t
    for (let i = 0; i < x.length; i++) {
      plus[i] = (x[i] as number) + h * (v[i] as number)
      minus[i] = (x[i] as number) - h * (v[i] as number)
    }
    const fp = ev.at(plus)
    const fm = ev.at(minus)
    const out = new Float64Array(fp.length)
    for (let e = 0; e < fp.length; e++) out[e] = ((fp[e] as number) - (fm[e] as number)) / (2 * h)
    return out
  }, r.levels)
}

/** The Jacobian's columns: column j is ∂f/∂x_j (j over the flat input). */
const jacobianColumns = (ev: Evaluator, x: Float64Array, r: Resolved): Float64Array[] => {
  const base = r.step(ev.eps, 1)
  const pt = Float64Array.from(x)
  const cols: Float64Array[] = []
  for (let j = 0; j < x.length; j++) {
    const xj = x[j] as number
    const hj = elementStep(base, xj)
    cols.push(
      richardson((s) => {
        const h = s * hj
        pt[j] = xj + h
        const fp = ev.at(pt)
        pt[j] = xj - h
        const fm = ev.at(pt)
        pt[j] = xj
        const out = new Float64Array(fp.length)
        for (let e = 0; e < fp.length; e++) out[e] = ((fp[e] as number) - (fm[e] as number)) / (2 * h)
        return out
      }, r.levels),
    )
  }
  return cols
}

/** The scalar output of an evaluator, or an error like `grad`'s. */
const requireScalar = (ev: Evaluator, op: string): void => {
  const o = ev.out
  const single = o.infos.length === 1 && (o.infos[0] as LeafInfo).shape.length === 0
  if (!single) {
    throw new PurediffError(
      'NonScalarOutput',
      'the function must return a scalar (shape []); reduce it first, e.g. with sum or mean',
      {
        op,
        shapes: o.infos.map((i) => i.shape),
      },
    )
  }
}

/** A flat output vector as a tree shaped like `ev.out` (dtypes and number leaves as in `ev.out`). */
const asOutput = <Y>(ev: Evaluator, values: Float64Array): Y => rebuild<Y>(ev.out, values, ownDType)

// -------------------------------------------------------------------------------------
// transforms
// -------------------------------------------------------------------------------------

/**
 * The numeric twin of `jvp`: `[f(x), d/dt f(x + t·xDot)]`, by extrapolated central
 * differences. `x` and `xDot` are trees of the same structure; the tangent has `f(x)`'s.
 * @example
 * numJvp((x: Tensor) => sin(x), tensor([0, 1]), tensor([1, 1])) // [sin x, cos x]
 * numJvp((x: Tensor) => sin(x), tensor([0, 1]), tensor([1, 1]))[1] // ≈ [1, Math.cos(1)]
 * @category transforms
 * @since 0.1.0
 */
export const numJvp = <X, Y>(f: (x: X) => Y, x: X, xDot: X, opts: NumericOptions = {}): [Y, Y] => {
  const op = 'numJvp'
  const r = resolve(opts, op)
  const xf = flat(x, op, 'the input')
  const vf = flat(xDot, op, 'the tangent')
  if (vf.values.length !== xf.values.length) {
    throw new PurediffError(
      'ShapeError',
      `the tangent has ${vf.values.length} elements but the input has ${xf.values.length}`,
      { op },
    )
  }
  const ev = evaluator(f as (x: never) => unknown, xf, op, r.promote)
  const yDot = directional(ev, xf.values, vf.values, r)
  return [asOutput<Y>(ev, ev.out.values), asOutput<Y>(ev, yDot)]
}

/**
 * The numeric twin of `derivative`: the derivative of a scalar function of a scalar (for a
 * tensor, the directional derivative along all ones: elementwise for an elementwise `f`).
 * @example
 * numDerivative((x: number) => mul(x, x))(3) // ≈ 6
 * @category transforms
 * @since 0.1.0
 */
export const numDerivative =
  <X extends Tensor | number>(f: (x: X) => Tensor | number, opts: NumericOptions = {}): ((x: X) => X) =>
  (x: X): X => {
    const ones = x instanceof Tensor ? wrap(alloc(x.dtype, x.size).fill(1), x.shape) : 1
    const [, yDot] = numJvp(f as (x: Tensor | number) => Tensor | number, x as Tensor | number, ones, opts)
    // as `derivative`: a number in gives a number out
    return (typeof x === 'number' && yDot instanceof Tensor ? yDot.item() : yDot) as X
  }

/**
 * The numeric twin of `jacfwd`/`jacrev`: for a tensor → tensor `f`, shape `[...out, ...in]`;
 * for a tree input, a tree of such blocks (a number leaf with a scalar output gives a number).
 * @example
 * // f(x) = x ⊙ [2, 3] has the Jacobian diag(2, 3)
 * numJacobian((x: Tensor) => mul(x, tensor([2, 3])))(tensor([1, 1])) // ≈ [[2, 0], [0, 3]]
 * @category transforms
 * @since 0.1.0
 */
export const numJacobian =
  <X>(f: (x: X) => Tensor | number, opts: NumericOptions = {}): ((x: X) => X) =>
  (x: X): X => {
    const op = 'numJacobian'
    const r = resolve(opts, op)
    const xf = flat(x, op, 'the input')
    const ev = evaluator(f as (x: never) => unknown, xf, op, r.promote)
    if (ev.out.infos.length !== 1) {
      throw new PurediffError('ValueError', 'the function must return one tensor or number', { op })
    }
    const yInfo = ev.out.infos[0] as LeafInfo
    const cols = jacobianColumns(ev, xf.values, r)
    const m = yInfo.size
    return unflatten<X>(
      xf.def,
      xf.infos.map((info): Leaf => {
        if (info.kind === 'number' && m === 1) return (cols[info.offset] as Float64Array)[0] as number
        // block[o, j] = ∂y_o / ∂x_j, row-major over [...out, ...in]
        const out = alloc(yInfo.dtype === 'float32' || info.dtype === 'float32' ? 'float32' : 'float64', m * info.size)
        for (let j = 0; j < info.size; j++) {
          const col = cols[info.offset + j] as Float64Array
          for (let o = 0; o < m; o++) out[o * info.size + j] = col[o] as number
        }
        return wrap(out, [...yInfo.shape, ...info.shape])
      }),
    )
  }

/**
 * The numeric Jacobian under `jacfwd`'s name.
 * @example
 * numJacfwd((x: Tensor) => mul(x, 2))(tensor([1])) // ≈ [[2]]
 * @category transforms
 * @since 0.1.0
 */
export const numJacfwd = numJacobian
/**
 * The numeric Jacobian under `jacrev`'s name.
 * @example
 * numJacrev((x: Tensor) => mul(x, 2))(tensor([1])) // ≈ [[2]]
 * @category transforms
 * @since 0.1.0
 */
export const numJacrev = numJacobian

/**
 * The numeric twin of `valueAndGrad` (without `hasAux`): `[f(x, ...rest), ∇ₓf]`, the
 * gradient with `x`'s structure and dtypes.
 * @example
 * const [v, g] = numValueAndGrad((x: Tensor) => sum(square(x)))(tensor([1, 2]))
 * v // 5
 * g // ≈ [2, 4]
 * @category transforms
 * @since 0.1.0
 */
export const numValueAndGrad =
  <P, A extends unknown[]>(f: (p: P, ...rest: A) => Tensor | number, opts: NumericOptions = {}) =>
  (p: P, ...rest: A): [Tensor, P] => {
    const op = 'numGrad'
    const r = resolve(opts, op)
    const xf = flat(p, op, 'the input')
    const ev = evaluator((u: P) => f(u, ...rest), xf, op, r.promote)
    requireScalar(ev, op)
    const cols = jacobianColumns(ev, xf.values, r)
    const g = Float64Array.from(cols, (c) => c[0] as number)
    const yInfo = ev.out.infos[0] as LeafInfo
    const value = wrap(alloc(yInfo.dtype, 1).fill(ev.out.values[0] as number), [])
    return [value, rebuild<P>(xf, g, ownDType)]
  }

/**
 * The numeric twin of `grad`: the gradient of a scalar function with respect to its first
 * argument (any tree), with that argument's structure; number leaves give numbers.
 * @example
 * numGrad((p: { w: Tensor }) => sum(square(p.w)))({ w: tensor([1, 2]) }).w // ≈ [2, 4]
 * @category transforms
 * @since 0.1.0
 */
export const numGrad =
  <P, A extends unknown[]>(f: (p: P, ...rest: A) => Tensor | number, opts: NumericOptions = {}) =>
  (p: P, ...rest: A): P =>
    numValueAndGrad(f, opts)(p, ...rest)[1]

/**
 * The numeric twin of `vjp`: `[f(x), pullback]` with pullback(ȳ) = Jᵀȳ (a tree like `x`).
 * The Jacobian is estimated once, on the first call of the pullback.
 * @example
 * const [y, pullback] = numVjp((x: Tensor) => mul(x, 3), tensor([1, 2]))
 * y // [3, 6]
 * pullback(tensor([1, 1])) // ≈ [3, 3]
 * @category transforms
 * @since 0.1.0
 */
export const numVjp = <X, Y>(f: (x: X) => Y, x: X, opts: NumericOptions = {}): [Y, (yBar: Y) => X] => {
  const op = 'numVjp'
  const r = resolve(opts, op)
  const xf = flat(x, op, 'the input')
  const ev = evaluator(f as (x: never) => unknown, xf, op, r.promote)
  let cols: Float64Array[] | null = null
  const pullback = (yBar: Y): X => {
    const bf = flat(yBar, 'numVjp pullback', 'the cotangent')
    if (bf.values.length !== ev.out.values.length) {
      throw new PurediffError(
        'ShapeError',
        `the cotangent has ${bf.values.length} elements but the output has ${ev.out.values.length}`,
        {
          op: 'numVjp pullback',
        },
      )
    }
    cols ??= jacobianColumns(ev, xf.values, r)
    const g = Float64Array.from(cols, (c) => {
      let s = 0
      for (let o = 0; o < c.length; o++) s += (c[o] as number) * (bf.values[o] as number)
      return s
    })
    return rebuild<X>(xf, g, ownDType)
  }
  return [asOutput<Y>(ev, ev.out.values), pullback]
}

/** The four-point mixed second difference along a and b, extrapolated. */
const mixed = (
  ev: Evaluator,
  x: Float64Array,
  a: (pt: Float64Array, h: number) => void,
  b: (pt: Float64Array, h: number) => void,
  ha: number,
  hb: number,
  r: Resolved,
): number => {
  const pt = new Float64Array(x.length)
  const at = (sa: number, sb: number): number => {
    pt.set(x)
    a(pt, sa)
    b(pt, sb)
    return ev.at(pt)[0] as number
  }
  return richardson((s) => {
    const [u, w] = [s * ha, s * hb]
    const v = (at(u, w) - at(u, -w) - at(-u, w) + at(-u, -w)) / (4 * u * w)
    return Float64Array.of(v)
  }, r.levels)[0] as number
}

const along =
  (j: number) =>
  (pt: Float64Array, h: number): void => {
    pt[j] = (pt[j] as number) + h
  }

/**
 * The numeric twin of `hessian`: the Hessian of a scalar function of a tensor, shape
 * `[...in, ...in]`, or of a tree (a tree of trees of blocks, as `hessian`), from mixed
 * second differences (symmetric by construction: the upper triangle is computed and mirrored).
 * @example
 * // sum(x³) has the Hessian diag(6x)
 * numHessian((x: Tensor) => sum(pow(x, 3)))(tensor([1, 2])) // ≈ [[6, 0], [0, 12]]
 * @category transforms
 * @since 0.1.0
 */
export const numHessian =
  <X>(f: (x: X) => Tensor | number, opts: NumericOptions = {}): ((x: X) => Jacobian<X, X>) =>
  (x: X): Jacobian<X, X> => {
    const op = 'numHessian'
    const r = resolve(opts, op)
    const xf = flat(x, op, 'the input')
    const ev = evaluator(f as (x: never) => unknown, xf, op, r.promote)
    requireScalar(ev, op)
    const n = xf.values.length
    const base = r.step(ev.eps, 2)
    const hs = Array.from(xf.values, (v) => elementStep(base, v))
    const H = new Float64Array(n * n)
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = mixed(ev, xf.values, along(i), along(j), hs[i] as number, hs[j] as number, r)
        H[i * n + j] = v
        H[j * n + i] = v
      }
    }
    if (typeof x === 'number') return H[0] as Jacobian<X, X>
    if (x instanceof Tensor) {
      const out = alloc(x.dtype, n * n)
      out.set(H)
      return wrap(out, [...x.shape, ...x.shape]) as unknown as Jacobian<X, X>
    }
    // a tree: a tree of trees of blocks, H.a.b[...a.shape, ...b.shape] = ∂²f / ∂a ∂b (as hessian)
    return unflatten<Jacobian<X, X>>(
      xf.def,
      xf.infos.map(
        (ri) =>
          unflatten(
            xf.def,
            xf.infos.map((ci): Leaf => {
              if (ri.kind === 'number' && ci.kind === 'number') return H[ri.offset * n + ci.offset] as number
              const out = alloc(
                ri.dtype === 'float32' || ci.dtype === 'float32' ? 'float32' : 'float64',
                ri.size * ci.size,
              )
              for (let a = 0; a < ri.size; a++)
                for (let b = 0; b < ci.size; b++)
                  out[a * ci.size + b] = H[(ri.offset + a) * n + ci.offset + b] as number
              return wrap(out, [...ri.shape, ...ci.shape])
            }),
          ) as unknown as Leaf,
      ),
    )
  }

/**
 * The numeric twin of `hvp`: H(x)·v for a scalar function of any tree, from mixed second
 * differences along each coordinate and along v (never forming H). Same tree as `x`.
 * @example
 * numHvp((x: Tensor) => sum(pow(x, 3)))(tensor([1, 2]), tensor([1, 1])) // ≈ [6, 12]
 * @category transforms
 * @since 0.1.0
 */
export const numHvp =
  <X, A extends unknown[] = []>(f: (x: X, ...rest: A) => Tensor | number, opts: NumericOptions = {}) =>
  (x: X, v: X, ...rest: A): X => {
    const op = 'numHvp'
    const r = resolve(opts, op)
    const xf = flat(x, op, 'the input')
    const vf = flat(v, op, 'the vector')
    if (vf.values.length !== xf.values.length) {
      throw new PurediffError(
        'ShapeError',
        `the vector has ${vf.values.length} elements but the input has ${xf.values.length}`,
        { op },
      )
    }
    const ev = evaluator((u: X) => f(u, ...rest), xf, op, r.promote)
    requireScalar(ev, op)
    const n = xf.values.length
    const vn = infNorm(vf.values)
    if (vn === 0) return rebuild<X>(xf, new Float64Array(n), ownDType)
    const base = r.step(ev.eps, 2)
    const tv = pow2((base * (1 + infNorm(xf.values))) / vn)
    const alongV = (pt: Float64Array, h: number): void => {
      for (let k = 0; k < n; k++) pt[k] = (pt[k] as number) + h * (vf.values[k] as number)
    }
    const out = Float64Array.from({ length: n }, (_, i) =>
      mixed(ev, xf.values, along(i), alongV, elementStep(base, xf.values[i] as number), tv, r),
    )
    return rebuild<X>(xf, out, ownDType)
  }
