/**
 * Special-function primitives: erf, erfc, erfinv, log Γ, the polygamma family (ψ = ψ⁽⁰⁾ and
 * its derivatives ψ⁽ⁿ⁾) and the inverse trigonometric and hyperbolic functions. Each is
 * elementwise, with its kernel in `src/kernels/special.ts` and one line of math per rule;
 * the rules are written with ops (ψ⁽ⁿ⁾'s derivative is ψ⁽ⁿ⁺¹⁾, a primitive again), so every
 * order of derivative is available.
 *
 * Purity: `impl` allocates its output and never writes its inputs.
 */
import {
  acoshKernel,
  acosKernel,
  asinhKernel,
  asinKernel,
  atanhKernel,
  atanKernel,
  erfcKernel,
  erfinvKernel,
  erfKernel,
  lgammaKernel,
  polygammaKernel,
} from '../kernels/special.js'
import type { ConcreteTensor, Data, Tensor } from '../tensor/Tensor.js'
import { alloc, dataOf, wrap } from '../tensor/Tensor.js'
import type { BatchRule, Domain, Primitive, RuleOps } from './types.js'

type NoParams = Record<string, never>
const none: NoParams = Object.freeze({})

const TWO_OVER_SQRT_PI = 1.1283791670955126
const SQRT_PI_OVER_TWO = 0.886226925452758

const SHAPES = [[[]], [[3]], [[2, 3]]] as const

const domainOf = <P>(lo: number, hi: number, params: P): Domain<P> => ({
  ranges: [[lo, hi]],
  cases: SHAPES.map((shapes) => ({ shapes, params })),
})

const run =
  (kernel: (x: Data, out: Data) => void) =>
  ([x]: ReadonlyArray<ConcreteTensor>): ConcreteTensor => {
    const out = alloc(x!.dtype, x!.size)
    kernel(dataOf(x!), out)
    return wrap(out, x!.shape)
  }

/** An elementwise primitive whose derivative is `factor(x, y)`: dy = factor · dx. */
const smooth = (
  name: string,
  kernel: (x: Data, out: Data) => void,
  factor: (x: Tensor, y: Tensor, R: RuleOps) => Tensor,
  lo: number,
  hi: number,
  kinks?: string,
): Primitive<NoParams> => ({
  name,
  arity: 1,
  abstract: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  impl: run(kernel),
  jvp: [(xDot, [x], y, _p, R) => R.mul(xDot, factor(x!, y, R))],
  vjp: [(yBar, [x], y, _p, R) => R.mulNoNan(yBar, factor(x!, y, R))],
  batch: elementwiseBatch,
  domain: domainOf(lo, hi, none),
  broadcasts: false,
  ...(kinks !== undefined ? { kinks } : {}),
})

// vmap of an elementwise map is the map itself: the batch axis is carried along.
const elementwiseBatch: BatchRule<any> = ([x], [d], p, _R, self) => [self([x!], p), d as number]

const sq = (x: Tensor, R: RuleOps): Tensor => R.mul(x, x)

// d erf(x) = (2/√π) e^{−x²} · dx
export const erf = smooth('erf', erfKernel, (x, _y, R) => R.mul(TWO_OVER_SQRT_PI, R.exp(R.neg(sq(x, R)))), -2.5, 2.5)
// d erfc(x) = −(2/√π) e^{−x²} · dx
export const erfc = smooth('erfc', erfcKernel, (x, _y, R) => R.mul(-TWO_OVER_SQRT_PI, R.exp(R.neg(sq(x, R)))), -2, 3)
// d erfinv(x) = (√π/2) e^{erfinv(x)²} · dx
export const erfinv = smooth(
  'erfinv',
  erfinvKernel,
  (_x, y, R) => R.mul(SQRT_PI_OVER_TWO, R.exp(sq(y, R))),
  -0.9,
  0.9,
  'defined on [−1, 1]: ±∞ at ±1, NaN outside',
)
// d log|Γ(x)| = ψ(x) · dx
export const lgamma = smooth(
  'lgamma',
  lgammaKernel,
  (x, _y, R) => R.polygamma(0, x),
  0.3,
  5,
  'poles at 0, −1, −2, … (+∞)',
)
// d asin(x) = dx / √(1 − x²)
export const asin = smooth('asin', asinKernel, (x, _y, R) => R.pow(R.sub(1, sq(x, R)), -0.5), -0.9, 0.9)
// d acos(x) = −dx / √(1 − x²)
export const acos = smooth('acos', acosKernel, (x, _y, R) => R.neg(R.pow(R.sub(1, sq(x, R)), -0.5)), -0.9, 0.9)
// d atan(x) = dx / (1 + x²)
export const atan = smooth('atan', atanKernel, (x, _y, R) => R.div(1, R.add(1, sq(x, R))), -3, 3)
// d asinh(x) = dx / √(x² + 1)
export const asinh = smooth('asinh', asinhKernel, (x, _y, R) => R.pow(R.add(sq(x, R), 1), -0.5), -3, 3)
// d acosh(x) = dx / √(x² − 1)
export const acosh = smooth('acosh', acoshKernel, (x, _y, R) => R.pow(R.sub(sq(x, R), 1), -0.5), 1.2, 4)
// d atanh(x) = dx / (1 − x²)
export const atanh = smooth('atanh', atanhKernel, (x, _y, R) => R.div(1, R.sub(1, sq(x, R))), -0.9, 0.9)

export interface PolygammaParams {
  /** the order: 0 is ψ (digamma), 1 trigamma, ... */
  readonly n: number
}
// d ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁺¹⁾(x) · dx
export const polygamma: Primitive<PolygammaParams> = {
  name: 'polygamma',
  arity: 1,
  abstract: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  impl: ([x], { n }) => run(polygammaKernel(n))([x!]),
  jvp: [(xDot, [x], _y, { n }, R) => R.mul(xDot, R.polygamma(n + 1, x!))],
  vjp: [(yBar, [x], _y, { n }, R) => R.mulNoNan(yBar, R.polygamma(n + 1, x!))],
  batch: elementwiseBatch,
  domain: {
    ranges: [[0.3, 5]],
    cases: [
      { shapes: [[3]], params: { n: 0 } },
      { shapes: [[2, 3]], params: { n: 1 } },
      { shapes: [[]], params: { n: 3 } },
    ],
  },
  kinks: 'poles at 0, −1, −2, … (NaN there)',
  broadcasts: false,
}

/** The special-function primitives, appended to the primitive table. */
export const specialPrimitives = {
  erf,
  erfc,
  erfinv,
  lgamma,
  polygamma,
  asin,
  acos,
  atan,
  asinh,
  acosh,
  atanh,
} as const
