/**
 * checkpoint, scan, foriLoop, cond/switchCase and whileLoop.
 *
 * - checkpoint: gradients bit-identical to the plain function (same ops, same order), in
 *   nested transforms too; memory: the intermediates a reverse tape keeps alive through 1 000
 *   layers, measured as the bytes of the distinct values the tape's nodes hold as inputs
 *   (a deterministic count, not process memory), are at most 1/5 of the plain version's,
 *   including the one layer recomputed at a time in the backward pass.
 * - scan / foriLoop: values and gradients (both modes) equal the unrolled JS loop; the
 *   reverse tape keeps only carries and slices of xs.
 * - cond / switchCase run only the chosen branch, and select per example under vmap.
 * - whileLoop: forward mode works; reverse mode is an error naming whileLoop.
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  checkpoint,
  cond,
  cos,
  foriLoop,
  grad,
  greater,
  hessian,
  jacfwd,
  jvp,
  less,
  matmul,
  mul,
  neg,
  scan,
  sin,
  sqrt,
  stack,
  sum,
  switchCase,
  take,
  tanh,
  tensor,
  toArray,
  vmap,
  whileLoop,
} from '../../src/index.js'
import { VjpTracer, inputNode, withMain } from '../../src/ad/trace.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

/** Every element identical (Object.is), leaf by leaf. */
const bitEqual = (a: Tensor, b: Tensor): boolean => {
  const x = a.toTypedArray()
  const y = b.toTypedArray()
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
}

const w = tensor([
  [0.9, -0.2, 0.1, 0.3],
  [0.2, 0.8, -0.1, 0.05],
  [-0.3, 0.1, 0.7, 0.2],
  [0.1, 0.2, -0.2, 0.6],
])
const bias = tensor([0.01, -0.02, 0.03, 0.0])
/** A residual layer with several ops (each of which keeps its inputs on a plain tape). */
const layer = (x: Tensor): Tensor => add(x, mul(0.1, tanh(add(mul(sin(x), 0.5), add(matmul(x, w), bias)))))

describe('checkpoint', () => {
  const x0 = tensor([0.5, -0.3, 0.8, 0.1])

  it('gradients are bit-identical to the plain function (and under forward-over-reverse)', () => {
    const ck = checkpoint(layer)
    const deep = (l: (x: Tensor) => Tensor) => (x: Tensor) => {
      let h = x
      for (let i = 0; i < 30; i++) h = l(h)
      return sum(h)
    }
    expect(bitEqual(grad(deep(ck))(x0), grad(deep(layer))(x0))).toBe(true)
    expect(bitEqual(hessian(deep(ck))(x0), hessian(deep(layer))(x0))).toBe(true)
    const [y1, t1] = jvp(deep(ck), x0, tensor([1, 0, 0, 1]))
    const [y2, t2] = jvp(deep(layer), x0, tensor([1, 0, 0, 1]))
    expect(bitEqual(y1, y2) && bitEqual(t1, t2)).toBe(true)
  })

  it('a tree in and a tree out', () => {
    const f = (p: { a: Tensor; b: Tensor }) => ({ s: sum(mul(p.a, p.b)), v: sin(p.a) })
    const ck = checkpoint(f)
    const loss = (g: typeof f) => (p: { a: Tensor; b: Tensor }) => {
      const r = g(p)
      return add(mul(r.s, r.s), sum(r.v))
    }
    const p = { a: tensor([0.1, 0.2]), b: tensor([0.3, -0.4]) }
    const g1 = grad(loss(ck))(p)
    const g2 = grad(loss(f))(p)
    expect(bitEqual(g1.a, g2.a) && bitEqual(g1.b, g2.b)).toBe(true)
  })

  it('the tape of grad through 1 000 checkpointed layers keeps at most 1/5 of the plain bytes', () => {
    /** Bytes of the distinct values a reverse tape holds as node inputs after the forward pass. */
    const retainedBytes = (f: (x: Tensor) => Tensor, x: Tensor): number =>
      withMain('vjp', 'memory', (main) => {
        f(new VjpTracer(main, x, inputNode()))
        const held = new Set<VjpTracer>()
        for (const node of main.tape) for (const p of node.parents) if (p !== null) held.add(p)
        let bytes = 0
        for (const t of held) bytes += 8 * t.size
        return bytes
      })
    const chain = (l: (x: Tensor) => Tensor, n: number) => (x: Tensor) => {
      let h = x
      for (let i = 0; i < n; i++) h = l(h)
      return h
    }
    const plain = retainedBytes(chain(layer, 1000), x0)
    const outer = retainedBytes(chain(checkpoint(layer), 1000), x0)
    // the backward pass recomputes one layer at a time: its plain tape is the extra peak
    const recompute = retainedBytes(chain(layer, 1), x0)
    expect(plain).toBeGreaterThan(0)
    expect((outer + recompute) * 5).toBeLessThanOrEqual(plain)
    // and the gradient through the 1 000 checkpointed layers still equals the plain one
    const ckGrad = grad((x: Tensor) => sum(chain(checkpoint(layer), 1000)(x)))(x0)
    expect(bitEqual(ckGrad, grad((x: Tensor) => sum(chain(layer, 1000)(x)))(x0))).toBe(true)
  })
})

describe('scan and foriLoop', () => {
  const cell = (p: { w: Tensor }) => (c: Tensor, x: Tensor) => [tanh(add(mul(c, p.w), x)), mul(c, x)] as const
  const xs = tensor([
    [0.1, 0.2],
    [-0.3, 0.4],
    [0.5, -0.6],
    [0.7, 0.1],
  ])
  const init = tensor([0.2, -0.1])
  const p = { w: tensor([0.9, 1.1]) }
  const unrolled = (q: { w: Tensor }, c0: Tensor, xv: Tensor) => {
    let c = c0
    const ys: Tensor[] = []
    for (let i = 0; i < xv.shape[0]!; i++) {
      const [c2, y] = cell(q)(c, take(xv, i, 0))
      c = c2
      ys.push(y)
    }
    return [c, stack(ys)] as const
  }
  const lossOf = (run: typeof unrolled) => (q: { w: Tensor }, c0: Tensor, xv: Tensor) => {
    const [c, ys] = run(q, c0, xv)
    return add(sum(c), sum(mul(ys, ys)))
  }
  const scanned = (q: { w: Tensor }, c0: Tensor, xv: Tensor) => scan(cell(q), c0, xv)

  it('values equal the unrolled loop', () => {
    const [c1, y1] = scanned(p, init, xs)
    const [c2, y2] = unrolled(p, init, xs)
    expect(bitEqual(c1, c2) && bitEqual(y1, y2)).toBe(true)
  })

  it('reverse- and forward-mode gradients equal the unrolled loop', () => {
    const gs = grad(lossOf(scanned), { argnums: [0, 1, 2] })(p, init, xs)
    const gu = grad(lossOf(unrolled), { argnums: [0, 1, 2] })(p, init, xs)
    assertClose(gs[0].w, gu[0].w, 1e-12)
    assertClose(gs[1], gu[1], 1e-12)
    assertClose(gs[2], gu[2], 1e-12)
    const jf = jacfwd((q: { w: Tensor }) => lossOf(scanned)(q, init, xs))(p)
    assertClose(jf.w, gu[0].w, 1e-12)
  })

  it('reverse mode keeps only carries and slices of xs', () => {
    const retained = (run: typeof unrolled) =>
      withMain('vjp', 'memory', (main) => {
        run(p, new VjpTracer(main, init, inputNode()), xs)
        return new Set(main.tape.flatMap((n) => n.parents.filter((q) => q !== null))).size
      })
    expect(retained(scanned)).toBeLessThan(retained(unrolled))
  })

  it('reverse, length without xs, and foriLoop', () => {
    const [, ys] = scan((c: Tensor, x: Tensor) => [add(c, x), c] as const, tensor(0), tensor([1, 2, 3]), {
      reverse: true,
    })
    expect(toArray(ys)).toEqual([5, 3, 0])
    const [c] = scan((k: Tensor) => [mul(k, 2), 0] as const, tensor(1), null, { length: 5 })
    expect(c.item()).toBe(32)
    expect(foriLoop(0, 4, (i, acc: Tensor) => add(acc, i), tensor(0)).item()).toBe(6)
    // d/dx of x^(2^3) through foriLoop: 8 x^7
    expect(grad((x: Tensor) => foriLoop(0, 3, (_i, a: Tensor) => mul(a, a), x))(tensor(1.5)).item()).toBeCloseTo(
      8 * 1.5 ** 7,
      10,
    )
    expect(throwsPurediff(() => scan((k: Tensor) => [k, k] as const, tensor(1), null)).op).toBe('scan')
  })
})

describe('cond and switchCase', () => {
  it('run only the chosen branch and differentiate through it', () => {
    let calls = 0
    const f = (x: Tensor) =>
      cond(
        greater(x, 0),
        (u: Tensor) => {
          calls++
          return sqrt(u)
        },
        (u: Tensor) => {
          calls++
          return neg(u)
        },
        x,
      )
    expect(f(tensor(4)).item()).toBe(2)
    expect(calls).toBe(1)
    expect(grad(f)(tensor(4)).item()).toBe(0.25)
    expect(grad(f)(tensor(-4)).item()).toBe(-1)
    const g = (i: number) => (x: Tensor) =>
      switchCase(i, [(u: Tensor) => u, (u: Tensor) => mul(u, 2), (u: Tensor) => sin(u)], x)
    expect(grad(g(1))(tensor(3)).item()).toBe(2)
    expect(grad(g(7))(tensor(0)).item()).toBe(Math.cos(0)) // clamped to the last branch
  })

  it('select per example under vmap', () => {
    const f = (x: Tensor) =>
      cond(
        greater(x, 0),
        (u: Tensor) => sqrt(u),
        (u: Tensor) => neg(u),
        x,
      )
    expect(toArray(vmap(f)(tensor([4, -2, 9])))).toEqual([2, 2, 3])
    const s = vmap((i: Tensor, x: Tensor) =>
      switchCase(i, [(u: Tensor) => u, (u: Tensor) => mul(u, 2), (u: Tensor) => cos(u)], x),
    )
    expect(toArray(s(tensor([0, 1, 2, 5, -1]), tensor([3, 3, 0, 0, 4])))).toEqual([3, 6, 1, 1, 4])
  })
})

describe('whileLoop', () => {
  it('runs forward and under forward mode', () => {
    expect(
      whileLoop(
        (c: Tensor) => less(c, 10),
        (c: Tensor) => mul(c, 2),
        tensor(1),
      ).item(),
    ).toBe(16)
    // x ↦ x·2^k with k fixed by the values: derivative 2^k (here 3 doublings from 1.5 to 12)
    const [y, t] = jvp(
      (x: Tensor) =>
        whileLoop(
          (c: Tensor) => less(c, 10),
          (c: Tensor) => mul(c, 2),
          x,
        ),
      tensor(1.5),
      tensor(1),
    )
    expect(y.item()).toBe(12)
    expect(t.item()).toBe(8)
  })
  it('reverse mode is an error naming whileLoop', () => {
    const e = throwsPurediff(() =>
      grad((x: Tensor) =>
        whileLoop(
          (c: Tensor) => less(c, 10),
          (c: Tensor) => mul(c, 2),
          x,
        ),
      )(tensor(1.5)),
    )
    expect(e.op).toBe('whileLoop')
    expect(e.message).toMatch(/foriLoop or scan/)
  })
})
