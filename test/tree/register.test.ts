/**
 * User classes as trees: `tree.register(Class, { flatten, unflatten })`. A registered class
 * flows through every transform and comes back as an instance of itself (methods intact);
 * an unregistered class instance or Map is a TreeError naming the class and the key path
 * (it used to turn silently into a plain record, or an empty one).
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import { add, grad, matmul, mul, sum, tanh, tensor, toArray, tree, vmap } from '../../src/index.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

class Linear {
  constructor(
    readonly w: Tensor,
    readonly b: Tensor,
  ) {}
  apply(x: Tensor): Tensor {
    return add(matmul(x, this.w), this.b)
  }
}
tree.register(Linear, {
  flatten: (l) => [{ w: l.w, b: l.b }, null],
  unflatten: (_aux, c) => {
    const r = c as { readonly w: Tensor; readonly b: Tensor }
    return new Linear(r.w, r.b)
  },
})

/** A class with indexed children and aux data (a scale that is not differentiated). */
class Scaled {
  constructor(
    readonly parts: ReadonlyArray<Tensor>,
    readonly scale: number,
  ) {}
}
tree.register(Scaled, {
  flatten: (s) => [s.parts, s.scale],
  unflatten: (aux, c) => new Scaled(c as ReadonlyArray<Tensor>, aux as number),
})

describe('tree.register', () => {
  const layer = new Linear(
    tensor([
      [1, 2],
      [3, 4],
    ]),
    tensor([0.5, -0.5]),
  )
  const x = tensor([1, -1])

  it('a registered class is a tree node: grad returns an instance with gradient leaves', () => {
    const g = grad((l: Linear) => sum(tanh(l.apply(x))))(layer)
    expect(g).toBeInstanceOf(Linear)
    const plain = grad((p: { w: Tensor; b: Tensor }) => sum(tanh(add(matmul(x, p.w), p.b))))({ w: layer.w, b: layer.b })
    assertClose(g.w, plain.w, 0)
    assertClose(g.b, plain.b, 0)
    // the rebuilt instance keeps its methods
    expect(g.apply(x).shape).toEqual([2])
  })

  it('key paths name the children; map and vmap keep the class; aux data passes through', () => {
    expect(tree.paths({ layer, s: new Scaled([x, x], 3) })).toEqual(['layer.b', 'layer.w', 's[0]', 's[1]'])
    const doubled = tree.map(new Scaled([x], 3), (l) => mul(l, 2))
    expect(doubled).toBeInstanceOf(Scaled)
    expect(doubled.scale).toBe(3)
    expect(toArray(doubled.parts[0]!)).toEqual([2, -2])
    const batched = vmap((l: Linear) => l.apply(x))(
      new Linear(
        tensor([
          [
            [1, 0],
            [0, 1],
          ],
          [
            [2, 0],
            [0, 2],
          ],
        ]),
        tensor([
          [0, 0],
          [1, 1],
        ]),
      ),
    )
    expect(toArray(batched)).toEqual([
      [1, -1],
      [3, -1],
    ])
  })

  it('Map works once registered', () => {
    class Dict extends Map<string, Tensor> {}
    tree.register(Dict, {
      flatten: (m) => [Object.fromEntries(m), null],
      unflatten: (_aux, c) => new Dict(Object.entries(c as Record<string, Tensor>)),
    })
    const d = new Dict([
      ['a', tensor(2)],
      ['b', tensor(3)],
    ])
    const g = grad((m: Dict) => mul(m.get('a')!, m.get('b')!))(d)
    expect(g).toBeInstanceOf(Dict)
    expect(g.get('a')!.item()).toBe(3)
    expect(g.get('b')!.item()).toBe(2)
  })

  it('an unregistered class instance or Map is an error naming the class and the key path', () => {
    class Unregistered {
      constructor(readonly w: Tensor) {}
    }
    const e = throwsPurediff(() => grad((p: { m: Unregistered }) => sum(p.m.w))({ m: new Unregistered(x) }))
    expect(e.tag).toBe('TreeError')
    expect(e.path).toBe('m')
    expect(e.message).toMatch(/Unregistered.*tree\.register/)
    const m = throwsPurediff(() => tree.flatten({ opts: new Map([['a', x]]) }))
    expect(m.path).toBe('opts')
    expect(m.message).toMatch(/Map/)
  })

  it('structures of different classes do not match; bad registrations are errors', () => {
    const e = throwsPurediff(() => tree.zipWith(layer as unknown, new Scaled([x, x], 1) as unknown, (a) => a))
    expect(e.message).toMatch(/Linear vs Scaled/)
    expect(throwsPurediff(() => tree.register(Object, { flatten: () => [[], null], unflatten: () => ({}) })).op).toBe(
      'tree.register',
    )
    expect(throwsPurediff(() => tree.register(Linear, {} as never)).op).toBe('tree.register')
  })
})
