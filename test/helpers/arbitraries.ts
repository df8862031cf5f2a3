/**
 * fast-check arbitraries for the table-driven laws: input values drawn from a primitive's
 * `domain` (one value range per input, shapes from the domain's cases), redrawn when they
 * lie near a kink, and tangents / cotangents in [−1, 1].
 *
 * Kinks. `domain.kinks(xs)` returns the distance of one "position" from the nearest kink,
 * where a position is what one output element depends on: for elementwise primitives the
 * values of every input at that (broadcast) element, for reductions (`params.axes`) the
 * values reduced into that output element. Inputs with any position closer than the margin
 * are redrawn (a fast-check filter, so shrinking stays inside the domain).
 *
 * The margin, 0.05: the finite-difference helper (`fd.ts`) moves every input by at most
 * h·|v| ≤ 1e-3·(4 + 1)·1 = 5e-3 on the table's domains (|x| ≤ 4, tangents in [−1, 1]), so a
 * difference of two inputs moves by at most 1e-2; 0.05 keeps every evaluation point on the
 * same smooth piece with a 5× safety factor.
 */
import fc from 'fast-check'
import type { Domain, DomainCase } from '../../src/primitives/types.js'
import type { Vec } from './fd.js'

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** Inputs closer than this to a kink are redrawn (see the module header). */
export const KINK_MARGIN = 0.05

// -------------------------------------------------------------------------------------
// positions and kink distance
// -------------------------------------------------------------------------------------

const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((s, d) => s * d, 1)

const broadcast = (shapes: ReadonlyArray<ReadonlyArray<number>>): number[] | null => {
  const n = Math.max(...shapes.map((s) => s.length))
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    let d = 1
    for (const s of shapes) {
      const e = s[s.length - n + i] ?? 1
      if (e !== 1 && d !== 1 && e !== d) return null
      if (e !== 1) d = e
    }
    out.push(d)
  }
  return out
}

/** Flat index into an input of `shape` for a multi-index of the broadcast shape `out`. */
const broadcastIndex = (
  idx: ReadonlyArray<number>,
  shape: ReadonlyArray<number>,
  out: ReadonlyArray<number>,
): number => {
  let flatIdx = 0
  const lead = out.length - shape.length
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k] as number
    flatIdx = flatIdx * d + (d === 1 ? 0 : (idx[k + lead] as number))
  }
  return flatIdx
}

const unravel = (i: number, shape: ReadonlyArray<number>): number[] => {
  const idx = new Array<number>(shape.length)
  let r = i
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] as number
    idx[k] = r % d
    r = Math.floor(r / d)
  }
  return idx
}

/** The positions (see the module header) of some inputs. */
export const positions = (
  shapes: ReadonlyArray<ReadonlyArray<number>>,
  params: unknown,
  xs: ReadonlyArray<Vec>,
): number[][] => {
  const axes = (params as { axes?: unknown } | null)?.axes
  if (Array.isArray(axes) && shapes.length === 1) {
    const shape = shapes[0] as ReadonlyArray<number>
    const x = xs[0] as Vec
    const groups = new Map<string, number[]>()
    for (let i = 0; i < x.length; i++) {
      const key = unravel(i, shape)
        .map((v, k) => (axes.includes(k) ? 0 : v))
        .join(',')
      const g = groups.get(key)
      if (g === undefined) groups.set(key, [x[i] as number])
      else g.push(x[i] as number)
    }
    return [...groups.values()]
  }
  const out = broadcast(shapes)
  if (out === null)
    throw new Error(`kinks: shapes [${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}] do not broadcast`)
  const tuples: number[][] = []
  for (let i = 0; i < sizeOf(out); i++) {
    const idx = unravel(i, out)
    tuples.push(shapes.map((s, k) => (xs[k] as Vec)[broadcastIndex(idx, s, out)] as number))
  }
  return tuples
}

/** The smallest distance of any position from a kink (Infinity when the domain has none). */
export const kinkDistance = <P>(domain: Domain<P>, dcase: DomainCase<P>, xs: ReadonlyArray<Vec>): number => {
  const kinks = domain.kinks
  if (kinks === undefined) return Infinity
  return positions(dcase.shapes, dcase.params, xs).reduce((m, tuple) => Math.min(m, kinks(tuple)), Infinity)
}

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const GRID = 2 ** 24

/**
 * A flat float64 vector of `n` values in [lo, hi], uniform on a grid of 2²⁴ steps.
 *
 * Not `fc.double`: its bias toward 0, the bounds and tiny magnitudes would make most draws
 * land on kinks (0 for relu/abs, equal values for max) and its subnormal values would turn
 * the rounding-level laws into underflow tests. On the grid, the smallest nonzero magnitude
 * of a direction in [−1, 1] is 2⁻²³ ≈ 1.2e-7, so products of a few of them stay normal.
 * Integers shrink toward 0, so counterexamples shrink toward `lo`.
 */
export const vecIn = (n: number, lo: number, hi: number): fc.Arbitrary<Vec> =>
  fc
    .array(fc.noBias(fc.integer({ min: 0, max: GRID })), { minLength: n, maxLength: n })
    .map((is) => Float64Array.from(is, (i) => lo + ((hi - lo) * i) / GRID))

/** Input values for one domain case, away from kinks by `margin`. */
export const domainInputs = <P>(domain: Domain<P>, dcase: DomainCase<P>, margin = KINK_MARGIN): fc.Arbitrary<Vec[]> => {
  const arbs = dcase.shapes.map((shape, i) => {
    const [lo, hi] = domain.ranges[Math.min(i, domain.ranges.length - 1)] as readonly [number, number]
    return vecIn(sizeOf(shape), lo, hi)
  })
  const point = domain.point
  const raw = fc.tuple(...arbs)
  const drawn = point === undefined ? raw : raw.map((xs) => point(xs, dcase))
  return drawn.filter((xs) => kinkDistance(domain, dcase, xs) > margin)
}

/** Tangents (or cotangents) for the given shapes, each entry in [−1, 1]. */
export const directions = (shapes: ReadonlyArray<ReadonlyArray<number>>): fc.Arbitrary<Vec[]> =>
  fc.tuple(...shapes.map((s) => vecIn(sizeOf(s), -1, 1)))
