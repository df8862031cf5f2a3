/**
 * The batching law over the primitive table: for every primitive, every domain case and
 * every combination of batch axes its inputs allow (each input unbatched or batched at any
 * axis, at least one batched), `vmap` of the primitive equals a loop over the batch
 * (`checkBatching` from purediff/laws: per-example `take`, then `stack`). Primitives without
 * a differentiable domain (comparisons, rounding, cast) get cases here. The law is then shown
 * to fail on deliberately broken batching rules.
 *
 * Then `vmap` as a transform: composition with `grad`, `jvp` and itself in every order
 * (per-example gradients against the loop to 1e-12), axis specs as trees, custom rules under
 * `vmap`, and the errors (naming vmap, the axis and the key path).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  customJvp,
  customVjp,
  exp,
  grad,
  jvp,
  log,
  matmul,
  mean,
  mul,
  sin,
  stack,
  sum,
  tanh,
  tensor,
  toArray,
  reshape,
  valueAndGrad,
  vmap,
  zeros,
} from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import * as P from '../../src/primitives/table.js'
import * as AP from '../../src/primitives/array.js'
import type { AnyPrimitive, DomainCase, Primitive } from '../../src/primitives/types.js'
import { checkBatching } from '../../laws/index.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

// -------------------------------------------------------------------------------------
// inputs
// -------------------------------------------------------------------------------------

/** A small deterministic generator (mulberry32) so every run draws the same inputs. */
const rng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sizeOf = (s: ReadonlyArray<number>): number => s.reduce((a, b) => a * b, 1)

const ELEMENTWISE: DomainCase<unknown>[] = [[[]], [[3]], [[2, 3]]].map((shapes) => ({ shapes, params: {} }))
const BROADCAST: DomainCase<unknown>[] = [
  [[], [3]],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [
    [2, 3],
    [2, 3],
  ],
].map((shapes) => ({ shapes, params: {} }))

/** Cases for a primitive: its domain's, or (no differentiable domain) cases by family. */
const casesOf = (
  prim: AnyPrimitive,
): { cases: ReadonlyArray<DomainCase<unknown>>; ranges: ReadonlyArray<readonly [number, number]> } => {
  // matrix products also fold a batch of columns (n = 1) into the rows of one product
  if (prim.name === 'matmul' || prim.name === 'matmulNoNan' || prim.name === 'matmulNoNanT') {
    const d = prim.domain as NonNullable<AnyPrimitive['domain']>
    return {
      cases: [
        ...d.cases,
        {
          shapes: [
            [2, 3],
            [3, 1],
          ],
          params: {},
        },
      ],
      ranges: d.ranges,
    }
  }
  if (prim.domain !== null) return { cases: prim.domain.cases, ranges: prim.domain.ranges }
  // a determinant's sign reads (batches of) square matrices
  if (prim.name === 'detSign')
    return {
      cases: [
        { shapes: [[2, 2]], params: {} },
        { shapes: [[2, 3, 3]], params: {} },
      ],
      ranges: [[-2, 2]],
    }
  // the index of the extreme entry along an axis: each axis of a vector and of a matrix
  if (prim.name === 'argmax' || prim.name === 'argmin')
    return {
      cases: [
        { shapes: [[4]], params: { axis: 0 } },
        { shapes: [[2, 3]], params: { axis: 0 } },
        { shapes: [[2, 3]], params: { axis: 1 } },
      ],
      ranges: [[-2, 2]],
    }
  if (prim.name === 'cast')
    return {
      cases: [
        { shapes: [[2, 3]], params: { dtype: 'float32' } },
        { shapes: [[3]], params: { dtype: 'float32' } },
      ],
      ranges: [[-3, 3]],
    }
  if (prim.arity === 2)
    return {
      cases: BROADCAST,
      ranges: [
        [-2, 2],
        [-2, 2],
      ],
    }
  return { cases: ELEMENTWISE, ranges: [[-3, 3]] }
}

const ruleAt = (prim: AnyPrimitive, i: number): unknown =>
  typeof prim.jvp === 'function' ? prim.jvp(i) : (prim.jvp[i] ?? null)

/** Every assignment of batch axes: each input null or 0..rank (the batched value has rank + 1). */
const axisCombos = (shapes: ReadonlyArray<ReadonlyArray<number>>): Array<Array<number | null>> => {
  let out: Array<Array<number | null>> = [[]]
  for (const s of shapes) {
    const opts: Array<number | null> = [null, ...Array.from({ length: s.length + 1 }, (_, i) => i)]
    out = out.flatMap((c) => opts.map((o) => [...c, o]))
  }
  return out.filter((c) => c.some((d) => d !== null))
}

const BATCH = 3

/** Inputs for one combination: batched inputs get the batch axis inserted at their axis. */
const inputsFor = (
  prim: AnyPrimitive,
  dcase: DomainCase<unknown>,
  ranges: ReadonlyArray<readonly [number, number]>,
  dims: ReadonlyArray<number | null>,
  seed: number,
): Tensor[] => {
  const r = rng(seed)
  return dcase.shapes.map((s, i) => {
    const d = dims[i] ?? null
    const shape = d === null ? s : [...s.slice(0, d), BATCH, ...s.slice(d)]
    const [lo, hi] = ranges[Math.min(i, ranges.length - 1)] as readonly [number, number]
    // inputs the primitive does not differentiate (where's mask, integer indices) are drawn
    // as integers in their range, so both of where's branches occur and indices are valid;
    // argmax/argmin inputs too, so that ties occur
    const mask = (prim.domain !== null && ruleAt(prim, i) === null) || prim.name === 'argmax' || prim.name === 'argmin'
    const data = Float64Array.from({ length: sizeOf(shape) }, () =>
      mask ? Math.round(lo + (hi - lo) * r()) : lo + (hi - lo) * r(),
    )
    return reshape(tensor(Array.from(data)), shape)
  })
}

// -------------------------------------------------------------------------------------
// the law over the table
// -------------------------------------------------------------------------------------

describe('batching rules equal a loop over the batch, for every primitive and every batch axis', () => {
  for (const prim of Object.values(P.primitives) as AnyPrimitive[]) {
    it(prim.name, () => {
      const { cases, ranges } = casesOf(prim)
      let checked = 0
      cases.forEach((dcase, ci) => {
        axisCombos(dcase.shapes).forEach((dims, k) => {
          const xs = inputsFor(prim, dcase, ranges, dims, 1000 * ci + k + 1)
          const f = (...args: Tensor[]) => bind(prim, args, dcase.params)
          const r = checkBatching(f, xs, { inAxes: dims })
          if (E.isLeft(r)) {
            throw new Error(
              `${prim.name} case ${ci} (shapes ${JSON.stringify(dcase.shapes)}) batch axes ${JSON.stringify(dims)}: ${r.left.message} at '${r.left.path}' (expected ${r.left.expected}, got ${r.left.actual})`,
            )
          }
          expect(r.right.batchSize).toBe(BATCH)
          checked++
        })
      })
      expect(checked).toBeGreaterThan(0)
    })
  }
})

describe('the batching law fails on broken rules', () => {
  const broken = <P>(prim: Primitive<P>, batch: Primitive<P>['batch']): Primitive<P> => ({ ...prim, batch })

  it('a reduction that forgets to shift its axes past the batch axis', () => {
    const bad = broken(P.sum, ([x], [d], p, _R, self) => [self([x!], p), d as number])
    const f = (x: Tensor) => bind(bad, [x], { axes: [0] })
    const r = checkBatching(f, [
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    ])
    expect(E.isLeft(r)).toBe(true)
  })

  it('a transpose that reports the wrong batch axis', () => {
    const bad = broken(P.transpose, ([x], [d], { perm }, _R, self) => [
      self([x!], { perm: [d as number, ...perm.map((a) => (a >= (d as number) ? a + 1 : a))] }),
      1,
    ])
    const f = (x: Tensor) => bind(bad, [x], { perm: [1, 0] })
    const r = checkBatching(f, [
      tensor([
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [
          [7, 8, 9],
          [10, 11, 12],
        ],
      ]),
    ])
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) expect(r.left.law).toBe('batching')
  })

  it('a rule that mixes examples (sums over the batch)', () => {
    const bad = broken(P.exp, ([x], [d], p, R, self) => [
      R.broadcastTo(R.sum(self([x!], p), [d as number]), x!.shape),
      d as number,
    ])
    const f = (x: Tensor) => bind(bad, [x], {})
    const r = checkBatching(f, [
      tensor([
        [1, 2],
        [3, 4],
      ]),
    ])
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) expect(r.left.where).toBe('output')
  })

  it('a gather with batched indices that reads every example from the first (forgets the offsets)', () => {
    const bad = broken(AP.gatherDynamic, ([x, idx], [dx, di], p, R, self) => {
      if (dx === null || di === null) return AP.gatherDynamic.batch([x!, idx!], [dx!, di!], p, R, self)
      // moves both batch axes to the front but gathers from example 0 only
      const x0 = R.slice(R.transpose(x!, [dx!, ...[0, 1].filter((a) => a !== dx)]), [0, 0], [1, x!.shape[1 - dx!]!])
      return [R.reshape(self([R.reshape(x0, [x0.shape[1]!]), idx!], p), idx!.shape), di!]
    })
    const f = (x: Tensor, i: Tensor) => bind(bad, [x, i], { axis: 0 })
    const xs = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const r = checkBatching(f, [
      xs,
      tensor([
        [2, 0],
        [1, 1],
      ]),
    ])
    expect(E.isLeft(r)).toBe(true)
    // the real rule passes on the same inputs
    const ok = checkBatching(
      (x: Tensor, i: Tensor) => bind(AP.gatherDynamic, [x, i], { axis: 0 }),
      [
        xs,
        tensor([
          [2, 0],
          [1, 1],
        ]),
      ],
    )
    expect(E.isRight(ok)).toBe(true)
  })

  it('an argmax that reduces the axis it was given, not the axis shifted past the batch', () => {
    const bad = broken(AP.argmax, ([x], [d], p, _R, self) => [self([x!], p), d as number])
    const r = checkBatching(
      (x: Tensor) => bind(bad, [x], { axis: 0 }),
      [
        tensor([
          [1, 5, 2],
          [7, 0, 3],
        ]),
      ],
    )
    expect(E.isLeft(r)).toBe(true)
  })

  it('an elementwise rule that ignores broadcasting against an unbatched input', () => {
    const bad = broken(P.add, (xs, dims, p, _R, self) => [self(xs, p), dims.find((d) => d !== null) as number])
    const f = (a: Tensor, b: Tensor) => bind(bad, [a, b], {})
    // examples are the columns of a; the rule adds b along the batch axis instead of each example's axis
    const r = checkBatching(
      f,
      [
        tensor([
          [1, 2],
          [3, 4],
        ]),
        tensor([10, 20]),
      ],
      { inAxes: [1, null] },
    )
    expect(E.isLeft(r)).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// vmap as a transform
// -------------------------------------------------------------------------------------

interface Params {
  readonly w1: Tensor
  readonly b1: Tensor
  readonly w2: Tensor
}
const params: Params = {
  w1: tensor([
    [0.3, -0.2, 0.5],
    [0.1, 0.4, -0.3],
    [-0.5, 0.2, 0.1],
    [0.25, -0.1, 0.3],
  ]),
  b1: tensor([0.1, -0.1, 0.05]),
  w2: tensor([0.7, -0.4, 0.2]),
}
/** A one-example loss: a small tanh network, squared error against t. */
const loss = (p: Params, x: Tensor, t: Tensor): Tensor => {
  const h = tanh(add(matmul(x, p.w1), p.b1))
  const y = sum(mul(h, p.w2))
  const e = add(y, mul(-1, t))
  return mul(e, e)
}
const xs = tensor([
  [1, 0.5, -0.3, 0.2],
  [0.1, -1, 0.4, 0.7],
  [-0.6, 0.2, 0.9, -0.1],
  [0.3, 0.3, 0.3, 0.3],
  [2, -0.5, 0.1, 1],
])
const ts = tensor([0.5, -0.2, 0.1, 0.9, -1])
const example = (i: number) =>
  [tensor((toArray(xs) as number[][])[i] as number[]), tensor((toArray(ts) as number[])[i] as number)] as const

describe('vmap composes with grad, jvp and itself', () => {
  it('per-example gradients vmap(grad(loss)) equal the loop to 1e-12', () => {
    const pe = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, ts)
    const loop = [0, 1, 2, 3, 4].map((i) => grad(loss)(params, ...example(i)))
    for (const k of ['w1', 'b1', 'w2'] as const) {
      expect(pe[k].shape).toEqual([5, ...params[k].shape])
      assertClose(pe[k], stack(loop.map((g) => g[k])), 1e-12, 1e-15, k)
    }
  })

  it('valueAndGrad under vmap batches the value and the gradient', () => {
    const [v, g] = vmap(valueAndGrad(loss), { inAxes: [null, 0, 0] })(params, xs, ts)
    const loopV = [0, 1, 2, 3, 4].map((i) => loss(params, ...example(i)))
    assertClose(v, stack(loopV), 1e-12, 1e-15)
    expect(g.w1.shape).toEqual([5, 4, 3])
  })

  it('grad of a vmap equals the sum of per-example gradients', () => {
    const total = grad((p: Params) => sum(vmap((x: Tensor, t: Tensor) => loss(p, x, t))(xs, ts)))(params)
    const loop = [0, 1, 2, 3, 4].map((i) => grad(loss)(params, ...example(i)))
    for (const k of ['w1', 'b1', 'w2'] as const) {
      assertClose(
        total[k],
        loop.slice(1).reduce((a, g) => add(a, g[k]), loop[0]![k]),
        1e-12,
        1e-15,
        k,
      )
    }
  })

  it('nested vmap maps over two axes (and inAxes / outAxes move them)', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const f = (u: Tensor) => mul(sin(u), exp(u))
    assertClose(vmap(vmap(f))(x), f(x), 1e-15)
    // outer over axis 1 (columns), inner over the rest; outAxes 1 puts the columns back
    assertClose(vmap(vmap(f), { inAxes: 1, outAxes: 1 })(x), f(x), 1e-15)
    // a reduction inside: row sums of the columns' map = column-major
    const colSums = vmap((c: Tensor) => sum(c), { inAxes: 1 })(x)
    expect(toArray(colSums)).toEqual([5, 7, 9])
  })

  it('jvp of a vmap and vmap of a jvp agree with the elementwise derivative', () => {
    const x = tensor([0.1, 0.7, 1.3])
    const v = tensor([1, 2, -1])
    const f = (u: Tensor) => mul(u, sin(u))
    const want = mul(v, add(sin(x), mul(x, exp(log(add(sin(add(x, Math.PI / 2)), 0))))))
    const [, a] = jvp(vmap(f), x, v)
    const b = vmap((u: Tensor, w: Tensor) => jvp(f, u, w)[1])(x, v)
    assertClose(a, want, 1e-13)
    assertClose(b, want, 1e-13)
  })

  it('vmap of a second derivative (grad of grad) equals the loop', () => {
    const f = (u: Tensor) => mul(mul(u, u), sin(u))
    const d2 = grad(grad(f))
    const x = tensor([0.2, -1, 2.5])
    const loop = (toArray(x) as number[]).map((u) => d2(tensor(u)))
    assertClose(vmap(d2)(x), stack(loop), 1e-13)
  })

  it('inAxes and outAxes as trees (prefixes of the arguments and the output)', () => {
    const f = (p: { a: Tensor; b: Tensor }) => ({ s: add(p.a, p.b), m: mean(p.a) })
    const out = vmap(f, { inAxes: { a: null, b: 1 }, outAxes: { s: 0, m: null } })({
      a: tensor([1, 2]),
      b: tensor([
        [1, 1, 1],
        [2, 2, 2],
      ]),
    }) as unknown as { s: Tensor; m: Tensor }
    // examples are the columns of b: [1, 2] each; s = a + column, m = mean(a) = 1.5 does not depend on the batch
    expect(toArray(out.s)).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
    ])
    expect(out.m.item()).toBe(1.5)
  })

  it('an output that does not depend on the batch is broadcast along the out axis', () => {
    const out = vmap((_x: Tensor) => tensor([1, 2]), { outAxes: 1 })(zeros([3]))
    expect(toArray(out)).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ])
  })

  it('custom rules keep their rule under vmap (value and gradient)', () => {
    const myExp = customJvp(
      (x: Tensor) => exp(x),
      (x, xDot) => [exp(x), mul(mul(2, exp(x)), xDot)],
    )
    const x = tensor([0.1, 0.5])
    // the custom rule says 2·exp: vmap keeps it, so the batched gradient is 2·exp too
    assertClose(vmap(grad(myExp))(x), mul(2, exp(x)), 1e-15)
    assertClose(grad((u: Tensor) => sum(vmap(myExp)(u)))(x), mul(2, exp(x)), 1e-15)
    const mySin = customVjp(
      (x: Tensor) => sin(x),
      (x) => [sin(x), x] as const,
      (x: Tensor, yBar) => mul(mul(3, yBar), sin(add(x, Math.PI / 2))),
    )
    assertClose(vmap(grad(mySin))(x), mul(3, sin(add(x, Math.PI / 2))), 1e-15)
    assertClose(vmap(mySin)(x), sin(x), 1e-15)
  })
})

describe('vmap errors name vmap, the axis and the key path', () => {
  it('batch sizes that differ', () => {
    const e = throwsPurediff(() =>
      vmap((p: { a: Tensor; b: Tensor }) => add(p.a, p.b))({ a: zeros([3]), b: zeros([4]) }),
    )
    expect(e.op).toBe('vmap')
    expect(e.path).toBe('b')
    expect(e.message).toMatch(/extent 4.*3/)
  })
  it('an axis out of range, and a number leaf with an axis', () => {
    const e = throwsPurediff(() => vmap((p: { w: Tensor }) => p.w, { inAxes: { w: 2 } })({ w: zeros([3, 2]) }))
    expect(e.op).toBe('vmap')
    expect(e.path).toBe('w')
    expect(e.message).toMatch(/inAxes 2/)
    const n = throwsPurediff(() => vmap((x: Tensor, s: number) => mul(x, s))(zeros([3]), 2))
    expect(n.path).toBe('arguments[1]')
    expect(n.message).toMatch(/axis 0 of a number/)
  })
  it('outAxes null for an output that depends on the batch', () => {
    const e = throwsPurediff(() => vmap((x: Tensor) => ({ y: x }), { outAxes: null })(zeros([3])))
    expect(e.path).toBe('y')
  })
  it('an inAxes tree that does not fit the argument, all-null inAxes, wrong entry count, unknown options', () => {
    expect(throwsPurediff(() => vmap((p: { a: Tensor }) => p.a, { inAxes: { b: 0 } })({ a: zeros([2]) })).tag).toBe(
      'TreeError',
    )
    expect(throwsPurediff(() => vmap((x: Tensor) => x, { inAxes: null })(zeros([2]))).message).toMatch(/at least one/)
    expect(
      throwsPurediff(() => vmap((x: Tensor, y: Tensor) => add(x, y), { inAxes: [0] })(zeros([2]), zeros([2]))).message,
    ).toMatch(/one entry per argument/)
    const e = throwsPurediff(() => vmap((x: Tensor) => x, { in_axes: 0 } as never))
    expect(e.message).toMatch(/unknown option 'in_axes'/)
  })
  it('an escaped tracer names vmap', () => {
    let leaked: Tensor | null = null
    vmap((x: Tensor) => {
      leaked = x
      return x
    })(zeros([2]))
    const e = throwsPurediff(() => add(leaked as unknown as Tensor, 1))
    expect(e.tag).toBe('EscapedTracer')
    expect(e.message).toMatch(/vmap/)
  })
  it('a batched value read as a number is a ConcretizationError', () => {
    expect(throwsPurediff(() => vmap((x: Tensor) => tensor(Number(x)))(zeros([2]))).tag).toBe('ConcretizationError')
  })
})
