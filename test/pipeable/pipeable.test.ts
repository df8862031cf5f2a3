/**
 * The data-last forms (`purediff/pipeable`): each agrees with its data-first op, every
 * data-first op with arguments beyond the data has one, and a data-first op called without
 * its data (as in `pipe(t, mul(2))`) says "missing argument" and points here.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as main from '../../src/index.js'
import { add, eye, mul, pipeable as P, sub, sum, tensor, toArray, tree } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import * as O from '../../src/ops/ops.js'
import * as Ops from '../../src/ops/index.js'
import { throwsPurediff } from '../helpers/errors.js'

const small = fc
  .array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 })
  .map((xs) => tensor(xs))
const same = (a: Tensor, b: Tensor): boolean => JSON.stringify(toArray(a)) === JSON.stringify(toArray(b))

describe('pipeable: data-last forms', () => {
  it('reads top to bottom: pipe(t, mul(2), add(1), sum())', () => {
    expect(toArray(pipe(tensor([1, 2]), P.mul(2), P.add(1), P.sum()))).toBe(8)
    expect(toArray(pipe(tensor(5), P.sub(2)))).toBe(3) // the data is the first operand
    expect(
      toArray(
        pipe(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          P.sum(0, true),
        ),
      ),
    ).toEqual([[4, 6]])
    expect(toArray(pipe(eye(2), P.matmul(tensor([[1], [2]]))))).toEqual([[1], [2]])
    expect(toArray(pipe(tensor([1, -1]), P.where(tensor([1, 0]), tensor([9, 9]))))).toEqual([1, 9])
    expect(toArray(pipe([tensor([1]), tensor([2])], P.concat()))).toEqual([1, 2])
    expect(toArray(pipe(tensor([-1, 2]), P.relu, P.exp))).toEqual([1, Math.exp(2)])
  })

  const binaries = [
    'add',
    'sub',
    'mul',
    'div',
    'pow',
    'maximum',
    'minimum',
    'atan2',
    'mulNoNan',
    'divNoNan',
    'greater',
    'greaterEqual',
    'less',
    'lessEqual',
    'equal',
    'notEqual',
    'dot',
    'outer',
  ] as const
  it.each(binaries)('pipe(a, %s(b)) = %s(a, b) on random tensors', (name) => {
    const first = O[name] as (a: Tensor, b: Tensor) => Tensor
    const last = P[name] as (b: Tensor) => (a: Tensor) => Tensor
    fc.assert(
      fc.property(small, small, (a, b) => same(pipe(a, last(b)), first(a, b))),
      { numRuns: 30, seed: 1 },
    )
  })

  it('every data-first op has a data-last form of the same name', () => {
    const notOps = new Set(['asTensor', 'normalizeAxes', 'oneHot'])
    const missing = Object.keys(Ops).filter(
      (k) => typeof (Ops as Record<string, unknown>)[k] === 'function' && !notOps.has(k) && !(k in P),
    )
    expect(missing).toEqual([])
  })

  it('the data-last forms of linear algebra, special and array ops agree with the data-first ones', () => {
    const a = tensor([
      [4, 1],
      [1, 3],
    ])
    const b = tensor([[1], [2]])
    expect(toArray(pipe(a, P.solve(b)))).toEqual(toArray(Ops.solve(a, b)))
    expect(toArray(pipe(a, P.tril()))).toEqual(toArray(Ops.tril(a)))
    expect(toArray(pipe(a, P.diagonal(1)))).toEqual([1])
    expect(toArray(pipe(tensor([3, 1, 2]), P.sort()))).toEqual([1, 2, 3])
    expect(toArray(pipe(tensor([1, 2, 3]), P.cumsum()))).toEqual([1, 3, 6])
    expect(toArray(pipe(tensor([1, 2, 3]), P.roll(1)))).toEqual([3, 1, 2])
    expect(toArray(pipe(tensor(2), P.polygamma(1)))).toEqual(toArray(Ops.polygamma(1, tensor(2))))
    expect(toArray(pipe([a, b], P.einsum('ij,jk->ik')))).toEqual(toArray(Ops.matmul(a, b)))
    expect(toArray(pipe(a, P.det))).toBeCloseTo(11, 12)
  })

  it('tree: pipe(grads, tree.scale(-lr), tree.add(params)) is one SGD step', () => {
    const params = { w: tensor([1, 2]), b: 0.5 }
    const grads = { w: tensor([10, 20]), b: 1 }
    const step = pipe(grads, P.tree.scale(-0.1), P.tree.add(params))
    const ref = tree.axpy(-0.1, grads, params)
    expect(toArray(step.w)).toEqual(toArray(ref.w))
    expect(step.b).toBe(ref.b)
    expect(pipe(grads, P.tree.axpy(-0.1, params)).b).toBe(ref.b)
    expect(
      toArray(
        pipe(
          params,
          P.tree.map((x) => mul(x, 2)),
        ).w,
      ),
    ).toEqual([2, 4])
    expect(toArray(pipe(params, P.tree.dot(params)))).toBe(1 + 4 + 0.25)
    expect(pipe(params, P.tree.sub(params), P.tree.leaves)).toHaveLength(2)
    expect(
      toArray(
        pipe(
          params,
          P.tree.zipWith(grads, (x, y) => add(x, y)),
        ).w,
      ),
    ).toEqual([11, 22])
  })
})

describe('a missing argument says so and points at the data-last form', () => {
  const t = tensor([1, 2])
  const cases: ReadonlyArray<readonly [string, () => unknown, string]> = [
    ['pipe(t, mul(2))', () => pipe(t, (mul as unknown as (b: number) => (x: Tensor) => Tensor)(2)), 'mul'],
    ['sub(t)', () => (sub as unknown as (a: Tensor) => Tensor)(t), 'sub'],
    ['sum()', () => (sum as unknown as () => Tensor)(), 'sum'],
    ['tree.map(f) in a pipe', () => (tree.map as unknown as (f: unknown) => unknown)((x: Tensor) => x), 'tree.map'],
    ['tree.add(b)', () => (tree.add as unknown as (b: unknown) => unknown)({ w: t }), 'tree.add'],
    ['tree.scale(tree)', () => (tree.scale as unknown as (t: unknown) => unknown)({ w: t }), 'tree.scale'],
    ['P.mul() with nothing to multiply by', () => pipe(t, (P.mul as unknown as () => (x: Tensor) => Tensor)()), 'mul'],
  ]
  it.each(cases)('%s', (_name, f, op) => {
    const e = throwsPurediff(f)
    expect(e.message).toContain('missing argument')
    expect(e.message).not.toContain('got undefined')
    expect(e.message).toContain(`pipeable.${op}(`)
    expect(e.op).toBe(op)
  })

  it('the main entry exports the module as pipeable', () => {
    expect(main.pipeable.mul).toBe(P.mul)
  })
})
