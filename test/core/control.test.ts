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
  reshape,
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
  trace,
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

  it("the gradient's work is linear in the number of steps (the xs cotangent is stacked once, not built by T scatters)", () => {
    // work = the entries the gradient's ops write: the sizes of the outputs of the staged
    // program's equations (trace stages each op with its shape; no clock, no kernel run)
    const work = (steps: number): number => {
      const xv = reshape(tensor(Array.from({ length: steps * 2 }, (_, i) => Math.sin(i))), [steps, 2])
      const prog = trace((xw: Tensor) => grad(lossOf(scanned), { argnums: [0, 1, 2] })(p, init, xw))(xv)
      return prog.eqns.reduce((n, e) => n + e.out.shape.reduce((a, b) => a * b, 1), 0)
    }
    const w50 = work(50)
    const w200 = work(200)
    // linear: w200 ≈ 4·w50 (plus a constant); quadratic would be ≈ 16·w50
    expect(w200 / w50).toBeLessThan(4.5)
    expect(w200 / w50).toBeGreaterThan(3.5)
  })

  it('the one-node reverse mode nests: grad of grad, vmap of grad, jvp of grad, closure-only and reversed scans equal the unrolled loop', () => {
    const sc = (q: { w: Tensor }, c0: Tensor, xv: Tensor) => lossOf(scanned)(q, c0, xv)
    const un = (q: { w: Tensor }, c0: Tensor, xv: Tensor) => lossOf(unrolled)(q, c0, xv)
    // second order: the Hessian in the initial carry
    assertClose(
      hessian((c0: Tensor) => sc(p, c0, xs))(init),
      hessian((c0: Tensor) => un(p, c0, xs))(init),
      1e-12,
      1e-13,
    )
    // reverse over reverse in xs
    const gg = (run: typeof sc) => grad((xv: Tensor) => sum(mul(grad((u: Tensor) => run(p, init, u))(xv), xv)))(xs)
    assertClose(gg(sc), gg(un), 1e-12, 1e-13)
    // per-example gradients (vmap over a batch of initial carries)
    const inits = tensor([
      [0.2, -0.1],
      [0.5, 0.3],
      [-0.4, 0.05],
    ])
    const pe = (run: typeof sc) => vmap(grad((c0: Tensor) => run(p, c0, xs)))(inits)
    assertClose(pe(sc), pe(un), 1e-12, 1e-13)
    // forward over reverse: a Hessian-vector product in w
    const hv = (run: typeof sc) =>
      jvp((w: Tensor) => grad((q: { w: Tensor }) => run(q, init, xs))({ w }).w, p.w, tensor([1, -0.5]))[1]
    assertClose(hv(sc), hv(un), 1e-12, 1e-13)
    // only the closure is differentiated (init and xs constants)
    assertClose(
      grad((q: { w: Tensor }) => sc(q, init, xs))(p).w,
      grad((q: { w: Tensor }) => un(q, init, xs))(p).w,
      1e-12,
    )
    // reverse over forward, the forward level opened inside: f closes over a tracer of a level
    // above the scan's reverse level (the scan falls back to the checkpointed loop)
    const rf = (run: typeof sc) =>
      grad((c0: Tensor) => jvp((w: Tensor) => run({ w }, c0, xs), p.w, tensor([0.3, 1]))[1])(init)
    assertClose(rf(sc), rf(un), 1e-12, 1e-13)
    // reversed scan: grads in xs equal those of the loop run backwards
    const rev = (xv: Tensor) => {
      const [c, ys] = scan(cell(p), init, xv, { reverse: true })
      return add(sum(c), sum(mul(ys, ys)))
    }
    const revLoop = (xv: Tensor) => {
      let c: Tensor = init
      const ys: Tensor[] = []
      for (let i = xv.shape[0]! - 1; i >= 0; i--) {
        const [c2, y] = cell(p)(c, take(xv, i, 0))
        c = c2
        ys.unshift(y)
      }
      return add(sum(c), sum(mul(stack(ys), stack(ys))))
    }
    assertClose(grad(rev)(xs), grad(revLoop)(xs), 1e-12)
  })

  it('checkpoint under a forward level opened inside the reverse one keeps the gradient (regression: it was 0)', () => {
    const inner = (c: Tensor, useCheckpoint: boolean) =>
      jvp(
        (w: Tensor) => (useCheckpoint ? checkpoint((u: Tensor) => sin(mul(u, w))) : (u: Tensor) => sin(mul(u, w)))(c),
        tensor(0.7),
        tensor(1),
      )[1]
    const c0 = tensor(1.3)
    const g = grad((c: Tensor) => inner(c, true))(c0)
    assertClose(g, grad((c: Tensor) => inner(c, false))(c0), 0)
    // d/dc [cos(c·w)·c] = cos(c·w) − c·w·sin(c·w)
    assertClose(g, tensor(Math.cos(1.3 * 0.7) - 1.3 * 0.7 * Math.sin(1.3 * 0.7)), 1e-15, 1e-15)
  })

  it('reverse mode stores only the carries: the scan is one tape node whose pullback recomputes each step', () => {
    const steps = 30
    const xv = reshape(tensor(Array.from({ length: steps * 2 }, (_, i) => Math.cos(i))), [steps, 2])
    const nodes = (run: typeof unrolled) =>
      withMain('vjp', 'memory', (main) => {
        run(p, new VjpTracer(main, init, inputNode()), new VjpTracer(main, xv, inputNode()))
        return main.tape.length
      })
    // the unrolled loop keeps every op of every step; the scan keeps its node and the slices
    // that split its joined output into the carry and ys (a constant, whatever the steps)
    expect(nodes(unrolled)).toBeGreaterThan(5 * steps)
    expect(nodes(scanned)).toBeLessThanOrEqual(4)
  })

  it("foriLoop's body sees its own index when reverse mode recomputes a step (regression: the index kept counting)", () => {
    // c ← c·i + i for i = 1, 2, 3: c₃ = ((c·1 + 1)·2 + 2)·3 + 3, so dc₃/dc = 1·2·3 = 6
    const f = (x: Tensor) => foriLoop(1, 4, (i, c: Tensor) => add(mul(c, i), i), x)
    expect(f(tensor(1)).item()).toBe(((1 * 1 + 1) * 2 + 2) * 3 + 3)
    expect(grad(f)(tensor(1)).item()).toBe(6)
    expect(grad(f)(tensor(1)).item()).toBe(6)
    expect(jvp(f, tensor(1), tensor(1))[1].item()).toBe(6)
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
