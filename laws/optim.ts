/**
 * Laws for optax-style optimizers `{ init(params) -> state, update(grads, state, params) ->
 * [updates, state] }`, with updates applied as params + updates. The interface is typed
 * structurally, so any optimizer of that shape (purediff's own or a user's) can be checked.
 *
 * The laws:
 * - zeroGradientKeepsParamsStill: from a fresh state, a zero gradient gives zero updates
 *   (true of SGD, momentum, Adam, RMSProp, clipping; not of weight decay: pass
 *   `still: false` for an optimizer that moves without a gradient);
 * - descendsOnConvexQuadratic: on L(p) = ½·Σ aᵢ(pᵢ − cᵢ)² with curvatures aᵢ ∈ [0.5, 2] and a
 *   minimizer 1 to 4 units away in every coordinate, the first update is a descent direction
 *   (⟨∇L, u⟩ < 0) and the loss after each of `steps` updates is below the starting loss. This
 *   assumes a small step: learning rate ≤ 0.5 for plain gradient descent (lr·aᵢ < 1), ≤ 1 for
 *   sign-like methods (Adam moves each coordinate by about lr);
 * - stateMirrorsParams: updates have exactly the params' structure, shapes and dtypes; the
 *   state keeps its structure and leaf shapes across updates; and every record inside the
 *   state whose keys are the params' top-level keys (a moment estimate, say) has the params'
 *   structure and shapes (or pass `mirrors` to say where they are);
 * - doesNotMutate: update leaves its grads, state and params exactly as they were;
 * - deterministic: the same update twice gives bit-identical updates and states.
 *
 * Purity: the laws never modify the optimizer's inputs; they check that it does not either.
 */
import * as fc from 'fast-check'
import { Tensor, tree } from '../src/index.js'
import type { Tree } from '../src/index.js'
import { arbParams } from './arbitraries.js'
import { deepEqual, snapshot } from './eq.js'
import type { Flat } from './flat.js'
import { dotV, elementPath, fromFlat, toFlat } from './flat.js'
import { normals, subSeed } from './prng.js'
import type { LawSuite } from './violation.js'
import { violate } from './violation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An optimizer, structurally: what `src/optim` and optax call a gradient transformation.
 * @category model
 * @since 0.1.0
 */
export interface OptimizerLike<S> {
  readonly init: (params: Tree) => S
  readonly update: (grads: Tree, state: S, params: Tree) => readonly [Tree, S]
}

/** Options of `optimizerLaws`. @category model @since 0.1.0 */
export interface OptimizerLawOptions<S> {
  /** parameters to try (default: records `{ w: [2, 3], b: [3] }` with values in [-1, 1]) */
  readonly params?: fc.Arbitrary<Tree>
  /** whether a zero gradient must leave the parameters still (default true) */
  readonly still?: boolean
  /** updates run by the descent and structure laws (default 3) */
  readonly steps?: number
  /** where the state mirrors the params (default: every record with the params' top-level keys) */
  readonly mirrors?: (state: S) => ReadonlyArray<unknown>
}

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const shapeOfLeaf = (l: unknown): string =>
  typeof l === 'number' ? '[]' : l instanceof Tensor ? `[${l.shape.join(', ')}]` : String(l)

/** Compare two trees' structure and leaf shapes (a number counts as shape []); report the first difference. */
const sameLayout = (law: string, what: string, expected: unknown, actual: unknown): void => {
  const [le, de] = tree.flatten(expected, law)
  let la: ReturnType<typeof tree.flatten>[0] = []
  try {
    const [l, da] = tree.flatten(actual, law)
    la = l
    tree.assertSameStructure(de, da, law)
  } catch (e) {
    violate({ law, message: `${what}: structure differs from the params' (${(e as Error).message})`, where: 'state' })
  }
  const paths = tree.keyPaths(de)
  le.forEach((x, i) => {
    const sx = shapeOfLeaf(x)
    const sy = shapeOfLeaf(la[i])
    if (sx !== sy)
      violate({
        law,
        message: `${what}: a leaf's shape differs from its parameter's`,
        path: paths[i] as string,
        where: 'state',
        expected: sx,
        actual: sy,
      })
  })
}

/** Records inside `state` whose keys are exactly `keys` (sorted). */
const recordsWithKeys = (state: unknown, keys: ReadonlyArray<string>): unknown[] => {
  const out: unknown[] = []
  const go = (s: unknown): void => {
    if (s instanceof Tensor || typeof s !== 'object' || s === null) return
    if (Array.isArray(s)) return s.forEach(go)
    const ks = Object.keys(s).sort()
    if (ks.length === keys.length && ks.every((k, i) => k === keys[i])) out.push(s)
    else Object.values(s).forEach(go)
  }
  go(state)
  return out
}

const applyUpdates = (params: Tree, updates: Tree): Tree => tree.add(params, updates)

const gradsLike = (pf: Flat, seed: number): Tree => fromFlat<Tree>(pf, normals(seed, pf.values.length))

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

/**
 * The optimizer laws (see the module header) as a suite of fast-check properties.
 * @example
 * assertSuite(optimizerLaws(sgd(0.1)))
 * @category laws
 * @since 0.1.0
 */
export const optimizerLaws = <S>(opt: OptimizerLike<S>, o: OptimizerLawOptions<S> = {}): LawSuite => {
  const params = o.params ?? (arbParams({ w: [2, 3], b: [3] }) as fc.Arbitrary<Tree>)
  const steps = o.steps ?? 3
  const seed = fc.nat()
  const suite: Record<string, fc.IProperty<unknown>> = {}

  if (o.still ?? true) {
    suite['zeroGradientKeepsParamsStill'] = fc.property(params, (p) => {
      const pf = toFlat(p)
      const zeros = fromFlat<Tree>(pf, new Float64Array(pf.values.length))
      const [u] = opt.update(zeros, opt.init(p), p)
      const uf = toFlat(u)
      uf.values.forEach((x, i) => {
        if (x !== 0)
          violate({
            law: 'zeroGradientKeepsParamsStill',
            message: 'a zero gradient moved the parameters',
            path: elementPath(uf, i),
            expected: 0,
            actual: x,
          })
      })
    })
  }

  suite['descendsOnConvexQuadratic'] = fc.property(params, seed, (p0, s) => {
    const pf = toFlat(p0)
    const n = pf.values.length
    if (n === 0) return
    // curvature a ∈ [0.5, 2], offset |c − p| ∈ [1, 4] with a random sign
    const r1 = normals(subSeed(s, 1), n)
    const r2 = normals(subSeed(s, 2), n)
    const a = r1.map((z) => 0.5 + 1.5 / (1 + Math.exp(-z)))
    const c = pf.values.map(
      (x, i) => x + Math.sign((r2[i] as number) || 1) * (1 + 3 / (1 + Math.exp(-3 * (r2[i] as number)))),
    )
    const loss = (v: Float64Array): number =>
      v.reduce((acc, x, i) => acc + 0.5 * (a[i] as number) * (x - (c[i] as number)) ** 2, 0)
    const gradAt = (v: Float64Array): Float64Array => v.map((x, i) => (a[i] as number) * (x - (c[i] as number)))
    const l0 = loss(pf.values)
    let p: Tree = p0
    let state = opt.init(p0)
    for (let k = 1; k <= steps; k++) {
      const v = toFlat(p).values
      const g = gradAt(v)
      const [u, next] = opt.update(fromFlat<Tree>(pf, g), state, p)
      const uv = toFlat(u).values
      if (k === 1) {
        const slope = dotV(g, uv)
        if (!(slope < 0)) {
          violate({
            law: 'descendsOnConvexQuadratic',
            message: 'the first update is not a descent direction: ⟨∇L, u⟩ must be < 0',
            expected: '< 0',
            actual: slope,
          })
        }
      }
      p = applyUpdates(p, u)
      state = next
      const lk = loss(toFlat(p).values)
      if (!(lk < l0)) {
        violate({
          law: 'descendsOnConvexQuadratic',
          message: `after ${k} update(s) the loss did not decrease on a convex quadratic`,
          expected: `< ${l0}`,
          actual: lk,
          details: ['L(p) = ½·Σ aᵢ(pᵢ − cᵢ)², aᵢ ∈ [0.5, 2], |pᵢ − cᵢ| ∈ [1, 4]'],
        })
      }
    }
  })

  suite['stateMirrorsParams'] = fc.property(params, seed, (p0, s) => {
    const pf = toFlat(p0)
    let state = opt.init(p0)
    const layout0 = state
    const keys =
      typeof p0 === 'object' && p0 !== null && !Array.isArray(p0) && !(p0 instanceof Tensor)
        ? Object.keys(p0).sort()
        : null
    const mirrors = (st: S): unknown[] =>
      o.mirrors !== undefined ? [...o.mirrors(st)] : keys !== null ? recordsWithKeys(st, keys) : []
    let p: Tree = p0
    for (let k = 0; k < steps; k++) {
      for (const m of mirrors(state))
        sameLayout('stateMirrorsParams', 'a state component that mirrors the params', p0, m)
      const [u, next] = opt.update(gradsLike(pf, subSeed(s, k)), state, p)
      sameLayout('stateMirrorsParams', 'updates', p0, u)
      const uf = toFlat(u)
      uf.leaves.forEach((l, i) => {
        const pl = pf.leaves[i]
        if (pl !== undefined && l.dtype !== pl.dtype && l.kind === 'tensor') {
          violate({
            law: 'stateMirrorsParams',
            message: 'an update has a different dtype from its parameter',
            path: l.path,
            expected: pl.dtype,
            actual: l.dtype,
          })
        }
      })
      sameLayoutLoose('stateMirrorsParams', 'the state after an update', layout0, next)
      p = applyUpdates(p, u)
      state = next
    }
  })

  suite['doesNotMutate'] = fc.property(params, seed, (p, s) => {
    const pf = toFlat(p)
    const g = gradsLike(pf, s)
    const state0 = opt.init(p)
    // one update first, so the state checked is a used one
    const [, state] = opt.update(g, state0, p)
    const before = snapshot([g, state, p])
    opt.update(g, state, p)
    const after = snapshot([g, state, p])
    if (!deepEqual(before, after)) {
      const names = ['grads', 'state', 'params']
      const which = names.filter((_, i) => !deepEqual((before as unknown[])[i], (after as unknown[])[i]))
      violate({ law: 'doesNotMutate', message: `update modified its arguments: ${which.join(', ')}` })
    }
  })

  suite['deterministic'] = fc.property(params, seed, (p, s) => {
    const pf = toFlat(p)
    const g = gradsLike(pf, s)
    const st = opt.init(p)
    const a = snapshot(opt.update(g, st, p))
    const b = snapshot(opt.update(g, st, p))
    if (!deepEqual(a, b)) violate({ law: 'deterministic', message: 'two identical updates gave different results' })
  })

  return Object.freeze(suite)
}

/** The state keeps its structure and leaf shapes (numbers may stay numbers or become scalars). */
const sameLayoutLoose = (law: string, what: string, expected: unknown, actual: unknown): void => {
  const shapes = (t: unknown): unknown => {
    try {
      const [ls, def] = tree.flatten(t, law)
      return { paths: tree.keyPaths(def), shapes: ls.map((l) => (typeof l === 'number' ? [] : [...l.shape])) }
    } catch {
      // not a tree (e.g. holds strings or functions): compare its snapshot's keys only
      return null
    }
  }
  const a = shapes(expected)
  const b = shapes(actual)
  if (a === null || b === null) return
  if (!deepEqual(a, b)) {
    const pa = (a as { paths: string[] }).paths
    const pb = (b as { paths: string[] }).paths
    const sa = (a as { shapes: number[][] }).shapes
    const sb = (b as { shapes: number[][] }).shapes
    const i = pa.findIndex((q, j) => q !== pb[j] || !deepEqual(sa[j], sb[j]))
    const at = i >= 0 ? i : pa.length
    violate({
      law,
      message: `${what} changed structure or shape`,
      path: pa[at] ?? pb[at] ?? '<root>',
      where: 'state',
      expected: pa[at] !== undefined ? `[${(sa[at] ?? []).join(', ')}]` : 'no leaf',
      actual: pb[at] !== undefined ? `[${(sb[at] ?? []).join(', ')}]` : 'no leaf',
    })
  }
}
