/**
 * Integer indices and labels under `vmap` (regression: a batched index tensor was read whole,
 * so every example gathered with the indices of the entire batch, or the op raised a shape
 * error). For `gather`/`take` with tensor indices, integer-label `softmaxCrossEntropy`,
 * `argmax`/`argmin` and `oneHot`, `vmap` equals a loop over the batch (`checkBatching`, which
 * stacks per-example results) for every combination of batch axes: each operand unbatched
 * or batched at any of its axes. The indices then also work as traced values: per-example
 * gradients with batched labels, `grad` through a gather of batched indices, and `trace` /
 * `jit` with the indices as a program input.
 *
 * Indices are exact small integers and the gathered values are copied, so batched and looped
 * runs agree bit for bit (tolerance 0), except where a reduction over classes runs (cross
 * entropy): there both runs take the same kernels in the same order, so 0 holds too; we keep
 * the law's default 1e-12 only for the gradients, whose loop sums in another order.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  argmax,
  argmin,
  gather,
  grad,
  jit,
  mul,
  nn,
  oneHot,
  random,
  reshape,
  stack,
  sum,
  take,
  tensor,
  toArray,
  trace,
  vmap,
} from '../../src/index.js'
import { checkBatching } from '../../laws/index.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

const B = 3
const sizeOf = (s: ReadonlyArray<number>): number => s.reduce((a, b) => a * b, 1)

/** A deterministic tensor of `shape` with distinct values (so a wrong index shows). */
const values = (shape: ReadonlyArray<number>, seed: number): Tensor =>
  reshape(tensor(Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 3)), shape)
/** Integer indices in [lo, hi] of `shape`, drawn deterministically. */
const ints = (shape: ReadonlyArray<number>, lo: number, hi: number, seed: number): Tensor =>
  reshape(tensor(Array.from({ length: sizeOf(shape) }, (_, i) => lo + ((i * 5 + seed * 3) % (hi - lo + 1)))), shape)

/** Each entry null (unbatched) or a batch axis 0..rank of that operand (at least one batched). */
const axisCombos = (ranks: ReadonlyArray<number>): Array<Array<number | null>> => {
  let out: Array<Array<number | null>> = [[]]
  for (const r of ranks) {
    const opts: Array<number | null> = [null, ...Array.from({ length: r + 1 }, (_, i) => i)]
    out = out.flatMap((c) => opts.map((o) => [...c, o]))
  }
  return out.filter((c) => c.some((d) => d !== null))
}
const withBatch = (shape: ReadonlyArray<number>, d: number | null): number[] =>
  d === null ? [...shape] : [...shape.slice(0, d), B, ...shape.slice(d)]

const expectLaw = (label: string, r: ReturnType<typeof checkBatching>, batch = B): void => {
  if (E.isLeft(r)) {
    throw new Error(
      `${label}: ${r.left.message} at '${r.left.path}' (expected ${r.left.expected}, got ${r.left.actual})`,
    )
  }
  expect(r.right.batchSize).toBe(batch)
}

describe('vmap of ops with integer index operands equals the loop, for every inAxes combination', () => {
  const gatherCases: Array<{ x: number[]; idx: number[]; axis: number }> = [
    { x: [5], idx: [3], axis: 0 },
    { x: [4, 3], idx: [2], axis: 0 },
    { x: [2, 4], idx: [2, 2], axis: 1 },
    { x: [3, 4], idx: [], axis: -1 },
  ]
  for (const c of gatherCases) {
    it(`gather / take, x ${JSON.stringify(c.x)}, indices ${JSON.stringify(c.idx)}, axis ${c.axis}`, () => {
      const n = c.x.at(c.axis < 0 ? c.axis : c.axis) as number
      let checked = 0
      for (const [dx, di] of axisCombos([c.x.length, c.idx.length])) {
        const x = values(withBatch(c.x, dx ?? null), checked + 1)
        // negative indices count from the end, as in the unbatched op
        const idx = ints(withBatch(c.idx, di ?? null), -n, n - 1, checked + 2)
        expectLaw(
          `axes ${JSON.stringify([dx, di])}`,
          checkBatching((a: Tensor, i: Tensor) => gather(a, i, c.axis), [x, idx], {
            inAxes: [dx ?? null, di ?? null],
            rtol: 0,
            atol: 0,
          }),
        )
        checked++
      }
      expect(checked).toBe((c.x.length + 2) * (c.idx.length + 2) - 1)
    })
  }

  it('take is gather, with batched indices too', () => {
    const x = values([4, 3], 1)
    const idx = tensor([
      [0, 3],
      [2, 2],
      [1, 0],
    ])
    const got = vmap((i: Tensor) => take(x, i), { inAxes: 0 })(idx)
    expect(toArray(got)).toEqual(toArray(stack([0, 1, 2].map((b) => take(x, take(idx, b))))))
  })

  it('argmax and argmin along each axis, at every batch axis (ties take the first index)', () => {
    const x0 = tensor([
      [1, 5, 5, 0],
      [2, 2, -1, 7],
      [0, 0, 0, 0],
    ])
    for (const shape of [[4], [3, 4], [2, 3, 2]]) {
      for (let axis = -shape.length; axis < shape.length; axis++) {
        for (let d = 0; d <= shape.length; d++) {
          // values rounded to integers in [-3, 3], so ties occur
          const tied = ints(withBatch(shape, d), -3, 3, axis + 5)
          for (const f of [argmax, argmin]) {
            expectLaw(
              `${f === argmax ? 'argmax' : 'argmin'} shape ${JSON.stringify(shape)} axis ${axis} batch axis ${d}`,
              checkBatching((a: Tensor) => f(a, axis), [tied], { inAxes: d, rtol: 0, atol: 0 }),
            )
          }
        }
      }
    }
    for (const f of [argmax, argmin]) {
      expectLaw(
        'ties',
        checkBatching((a: Tensor) => f(a), [x0], { rtol: 0, atol: 0 }),
      )
      expectLaw(
        'ties, batch axis 1',
        checkBatching((a: Tensor) => f(a, 0), [x0], { inAxes: 1, rtol: 0, atol: 0 }),
        4,
      )
    }
    expect(toArray(vmap((a: Tensor) => argmax(a))(x0))).toEqual([1, 3, 0])
    expect(toArray(vmap((a: Tensor) => argmin(a))(x0))).toEqual([3, 2, 0])
  })

  it('oneHot of batched labels, at every batch axis', () => {
    for (const shape of [[], [2], [2, 3]]) {
      for (let d = 0; d <= shape.length; d++) {
        const labels = ints(withBatch(shape, d), -4, 3, d + shape.length)
        expectLaw(
          `oneHot labels ${JSON.stringify(shape)} batch axis ${d}`,
          checkBatching((l: Tensor) => oneHot(l, 4), [labels], { inAxes: d, rtol: 0, atol: 0 }),
        )
      }
    }
  })

  it('softmaxCrossEntropy with integer labels, logits and labels each batched or not', () => {
    const cases: Array<{ logits: number[]; labels: number[] }> = [
      { logits: [4], labels: [] },
      { logits: [2, 4], labels: [2] },
    ]
    for (const c of cases) {
      for (const [dl, dk] of axisCombos([c.logits.length, c.labels.length])) {
        const logits = values(withBatch(c.logits, dl ?? null), 3)
        const labels = ints(withBatch(c.labels, dk ?? null), 0, 3, 4)
        expectLaw(
          `logits ${JSON.stringify(c.logits)} axes ${JSON.stringify([dl, dk])}`,
          checkBatching((x: Tensor, k: Tensor) => nn.softmaxCrossEntropy(x, k), [logits, labels], {
            inAxes: [dl ?? null, dk ?? null],
            rtol: 0,
            atol: 0,
          }),
        )
      }
    }
  })
})

describe('traced indices: gradients, per-example gradients and staging', () => {
  it('per-example gradients of a cross-entropy with batched integer labels equal the loop to 1e-12', () => {
    const w = values([3, 4], 9)
    const xs = values([5, 3], 10)
    const ks = tensor([0, 3, 1, 2, 3])
    const loss = (p: Tensor, x: Tensor, k: Tensor) =>
      nn.softmaxCrossEntropy(reshape(mul(reshape(x, [3, 1]), p), [3, 4]), stack([k, k, k]))
    const per = vmap(grad(loss), { inAxes: [null, 0, 0] })(w, xs, ks)
    const loop = stack([0, 1, 2, 3, 4].map((b) => grad(loss)(w, take(xs, b), take(ks, b))))
    assertClose(per, loop, 1e-12, 1e-12)
  })

  it('grad through gather of batched indices scatters into each example its own rows', () => {
    const x = values([4, 2], 2)
    const idx = tensor([
      [0, 0, 3],
      [1, 2, 1],
    ])
    // Σ_b Σ_i x[idx[b,i]]·c_i: each row gets c summed over the times it is picked
    const f = (a: Tensor) =>
      sum(
        vmap((i: Tensor) =>
          mul(
            gather(a, i),
            tensor([
              [1, 1],
              [2, 2],
              [3, 3],
            ]),
          ),
        )(idx),
      )
    const g = grad(f)(x)
    expect(toArray(g)).toEqual([
      [3, 3],
      [4, 4],
      [2, 2],
      [3, 3],
    ])
  })

  it('trace stages a gather of traced indices as one equation, and jit runs it', () => {
    const f = (x: Tensor, i: Tensor) => sum(gather(x, i))
    const prog = trace(f)(values([4], 1), tensor([0, 2]))
    expect(prog.eqns.some((e) => e.prim.name === 'gatherDynamic')).toBe(true)
    const jf = jit(f)
    expect(toArray(jf(tensor([1, 2, 3, 4]), tensor([0, 2])))).toBe(4)
    expect(toArray(jf(tensor([1, 2, 3, 4]), tensor([3, 3])))).toBe(8)
  })

  it('an embedding layer over batched token ids, and its per-example table gradients', () => {
    const layer = nn.embedding(5, 3)
    const params = layer.init(random.key(2))
    const ids = tensor([
      [0, 4, 4],
      [2, 1, 0],
    ])
    const apply = (t: Tensor) => layer.apply(params, t)
    expectLaw('embedding', checkBatching(apply, [ids], { rtol: 0, atol: 0 }), 2)
    const pg = vmap(
      grad((p: typeof params, t: Tensor) => sum(mul(layer.apply(p, t), layer.apply(p, t)))),
      {
        inAxes: [null, 0],
      },
    )(params, ids)
    const loop = stack(
      [0, 1].map(
        (b) =>
          grad((p: typeof params) => sum(mul(layer.apply(p, take(ids, b)), layer.apply(p, take(ids, b)))))(params)
            .table,
      ),
    )
    assertClose(pg.table, loop, 0)
  })

  it('an index out of range inside vmap is an error naming gather', () => {
    const e = throwsPurediff(() => vmap((i: Tensor) => gather(tensor([1, 2]), i))(tensor([[0], [2]])))
    expect(e.message).toMatch(/gather/)
  })
})
