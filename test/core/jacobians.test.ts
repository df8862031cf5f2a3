/**
 * Jacobians and Hessians over trees (built on vmap over basis vectors), and choosing what to
 * differentiate (`argnums`, `wrt`), plus unknown options as errors for every transform.
 *
 * Expected values come from the numeric twins (src/numeric: central differences with
 * Richardson extrapolation, which only evaluate f), from closed forms written here, or
 * from the other AD mode where the law under test is forward = reverse. Tolerances: AD vs
 * the numeric twin 1e-7 relative (the twin's truncation and rounding error at its default
 * step); AD vs AD 1e-12.
 */
import { describe, expect, it } from 'vitest'
import type { Key, Tensor } from '../../src/index.js'
import {
  add,
  derivative,
  dot,
  exp,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  logSoftmax,
  matmul,
  mul,
  numGrad,
  numHessian,
  numJacobian,
  mean,
  oneHot,
  random,
  reshape,
  sin,
  square,
  stack,
  sum,
  tanh,
  tensor,
  toArray,
  tree,
  valueAndGrad,
  vjp,
  vmap,
} from '../../src/index.js'
import { assertClose } from '../helpers/allClose.js'
import { throwsPurediff } from '../helpers/errors.js'

const t = (x: unknown): Tensor => tensor(x as number[])

describe('Jacobians of trees (as JAX)', () => {
  const x = t([0.3, -0.7, 1.1])
  const f = (u: Tensor) => ({ a: sin(u), b: sum(mul(u, u)) })

  it('jacrev and jacfwd of a record output: one block per output leaf, equal to the numeric twin', () => {
    const jr = jacrev(f)(x)
    const jf = jacfwd(f)(x)
    expect(jr.a.shape).toEqual([3, 3])
    expect(jr.b.shape).toEqual([3])
    assertClose(jr.a, numJacobian((u: Tensor) => sin(u))(x), 1e-7)
    assertClose(jr.b, numJacobian((u: Tensor) => sum(mul(u, u)))(x), 1e-7)
    assertClose(jf.a, jr.a, 1e-12)
    assertClose(jf.b, jr.b, 1e-12)
  })

  it('a tree in and a tree out: out structure of in structure of [...out, ...in] blocks', () => {
    const p = {
      w: t([
        [0.5, -0.2],
        [0.1, 0.3],
      ]),
      b: t([0.05, -0.1]),
    }
    const g = (q: typeof p) => ({ y: tanh(add(matmul(t([1, 2]), q.w), q.b)), s: sum(q.w) })
    const jr = jacrev(g)(p)
    const jf = jacfwd(g)(p)
    expect(jr.y.w.shape).toEqual([2, 2, 2])
    expect(jr.y.b.shape).toEqual([2, 2])
    expect(jr.s.w.shape).toEqual([2, 2])
    for (const k of ['y', 's'] as const)
      for (const l of ['w', 'b'] as const) assertClose(jf[k][l], jr[k][l], 1e-12, 1e-15)
    // against the numeric twin, leaf by leaf
    assertClose(jr.y.w, numJacobian((w: Tensor) => g({ ...p, w }).y)(p.w), 1e-7, 1e-10)
    assertClose(jr.s.w, numJacobian((w: Tensor) => g({ ...p, w }).s)(p.w), 1e-7, 1e-10)
  })

  it('the tensor → tensor contract is unchanged: shape [...out, ...in]', () => {
    const m = t([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(jacrev((u: Tensor) => matmul(m, u))(x).shape).toEqual([2, 3])
    assertClose(jacrev((u: Tensor) => matmul(m, u))(x), m, 0)
    assertClose(jacfwd((u: Tensor) => matmul(m, u))(x), m, 0)
  })

  it('jacrev equals a loop of pullbacks (rows) and jacfwd a loop of pushforwards (columns)', () => {
    const h = (u: Tensor) => mul(exp(u), sum(sin(u)))
    const [, pb] = vjp(h, x)
    const rows = [0, 1, 2].map((k) => pb(t([0, 1, 2].map((i) => (i === k ? 1 : 0)))))
    assertClose(jacrev(h)(x), stack(rows), 1e-15)
    const cols = [0, 1, 2].map((k) => jvp(h, x, t([0, 1, 2].map((i) => (i === k ? 1 : 0))))[1])
    assertClose(jacfwd(h)(x), stack(cols, 1), 1e-15)
  })
})

describe('Hessians of records: a tree of trees of blocks', () => {
  const p = {
    w: t([
      [0.4, -0.3, 0.2],
      [0.1, 0.5, -0.6],
    ]),
    b: t([0.1, -0.2, 0.05]),
  }
  const xs = t([
    [1, -0.5],
    [0.3, 0.8],
    [-1.2, 0.4],
  ])
  const labels = oneHot([2, 0, 1], 3)
  // softmax cross-entropy of a linear classifier
  const loss = (q: typeof p) => mul(-1, mean(sum(mul(logSoftmax(add(matmul(xs, q.w), q.b)), labels), 1)))

  it('hessian over {w, b} equals the numeric twin block by block, and is symmetric across blocks', () => {
    const H = hessian(loss)(p)
    const N = numHessian(loss)(p)
    expect(H.w.w.shape).toEqual([2, 3, 2, 3])
    expect(H.w.b.shape).toEqual([2, 3, 3])
    expect(H.b.w.shape).toEqual([3, 2, 3])
    expect(H.b.b.shape).toEqual([3, 3])
    for (const a of ['w', 'b'] as const)
      for (const c of ['w', 'b'] as const) assertClose(H[a][c], N[a][c], 1e-6, 1e-9, `H.${a}.${c}`)
    // ∂²/∂w∂b = (∂²/∂b∂w)ᵀ
    const wb = toArray(H.w.b) as number[][][]
    const bw = toArray(H.b.w) as number[][][]
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 3; k++) expect(Math.abs(wb[i]![j]![k]! - bw[k]![i]![j]!)).toBeLessThan(1e-14)
  })

  it('the Hessian of an MLP loss over a 1 000-parameter record contracts to hvp', () => {
    const [k1, k2, k3] = random.split(random.key(7), 3) as unknown as [Key, Key, Key]
    const q = { w1: random.normal(k1, [24, 40]), b1: random.normal(k2, [40]), w2: random.normal(k3, [40]) }
    expect(tree.leaves(q).reduce((s: number, l) => s + (l as Tensor).size, 0)).toBe(1040)
    const xin = t(Array.from({ length: 24 }, (_, i) => 0.2 * Math.sin(i)))
    const mlp = (r: typeof q) => square(sum(mul(tanh(add(matmul(xin, r.w1), r.b1)), r.w2)))
    const H = hessian(mlp)(q)
    const v = { w1: random.normal(k2, [24, 40]), b1: random.normal(k3, [40]), w2: random.normal(k1, [40]) }
    const hv = hvp(mlp)(q, v)
    // (H v)_a = Σ_c H.a.c · v_c, contracting c's axes: a matrix-vector product of the flattened block
    const contract = (block: Tensor, vc: Tensor, aShape: ReadonlyArray<number>) =>
      reshape(matmul(reshape(block, [-1, vc.size]), reshape(vc, [vc.size])), aShape)
    for (const a of ['w1', 'b1', 'w2'] as const) {
      const terms = (['w1', 'b1', 'w2'] as const).map((c) => contract(H[a][c], v[c], q[a].shape))
      assertClose(add(add(terms[0]!, terms[1]!), terms[2]!), hv[a], 1e-10, 1e-12, a)
    }
  })
})

describe('argnums and wrt choose what to differentiate', () => {
  const f = (a: Tensor, b: Tensor, c: number) => sum(mul(mul(a, b), c))
  const a = t([1, 2])
  const b = t([3, 5])

  it('argnums: one index, or a list giving a tuple', () => {
    assertClose(grad(f, { argnums: 1 })(a, b, 2), mul(2, a), 0)
    const [ga, gc] = grad(f, { argnums: [0, 2] })(a, b, 2)
    assertClose(ga, mul(2, b), 0)
    expect(gc).toBe(13) // Σ a·b, a number for a number argument
    const [v, [gb]] = valueAndGrad(f, { argnums: [1] })(a, b, 2)
    expect(v.item()).toBe(26)
    assertClose(gb, mul(2, a), 0)
    // against the numeric twin, through a closure over the other arguments
    assertClose(grad(f, { argnums: 1 })(a, b, 2), numGrad((u: Tensor) => f(a, u, 2))(b), 1e-9)
  })

  it('argnums with hasAux, and jacfwd / jacrev / hessian with argnums', () => {
    const [g, aux] = grad((x: Tensor, y: Tensor) => [sum(mul(x, y)), 7] as const, { argnums: 1, hasAux: true })(a, b)
    assertClose(g, a, 0)
    expect(aux).toBe(7)
    const h = (x: Tensor, y: Tensor) => mul(x, exp(y))
    assertClose(jacfwd(h, { argnums: 1 })(a, b), jacrev((y: Tensor) => h(a, y))(b), 1e-15)
    assertClose(jacrev(h, { argnums: 1 })(a, b), jacrev((y: Tensor) => h(a, y))(b), 1e-15)
    const hh = (x: Tensor, y: Tensor) => sum(mul(square(x), exp(y)))
    assertClose(hessian(hh, { argnums: 1 })(a, b), hessian((y: Tensor) => hh(a, y))(b), 1e-15)
  })

  it('argnums errors: out of range, repeated, not an index', () => {
    expect(throwsPurediff(() => grad(f, { argnums: 3 })(a, b, 2)).message).toMatch(/argnums 3/)
    expect(throwsPurediff(() => grad(f, { argnums: [1, 1] })(a, b, 2)).message).toMatch(/twice/)
    expect(throwsPurediff(() => grad(f, { argnums: 'a' as never })(a, b, 2)).op).toBe('grad')
    expect(throwsPurediff(() => grad(f, { argnums: [] })(a, b, 2)).message).toMatch(/non-empty/)
  })

  interface Net {
    readonly w: Tensor
    readonly layers: ReadonlyArray<{ readonly w: Tensor; readonly b: Tensor }>
    readonly s: number
  }
  const net: Net = {
    w: t([1, -1]),
    layers: [
      { w: t([0.5, 2]), b: t([0.1, 0.2]) },
      { w: t([1, 1]), b: t([0, 0]) },
    ],
    s: 3,
  }
  const netLoss = (p: Net) => mul(p.s, sum(mul(mul(p.w, p.layers[0]!.w), add(p.layers[0]!.b, p.layers[1]!.w))))

  it("wrt: ['w', 'layers.0.b'] differentiates those leaves; the rest are held (zero gradients)", () => {
    const full = grad(netLoss)(net)
    const part = grad(netLoss, { wrt: ['w', 'layers.0.b'] })(net)
    assertClose(part.w, full.w, 0)
    assertClose(part.layers[0]!.b, full.layers[0]!.b, 0)
    assertClose(part.layers[0]!.w, t([0, 0]), 0)
    assertClose(part.layers[1]!.w, t([0, 0]), 0)
    expect(part.s).toBe(0)
    // the bracket spelling and a subtree path
    const sub = grad(netLoss, { wrt: 'layers[0]' })(net)
    assertClose(sub.layers[0]!.w, full.layers[0]!.w, 0)
    assertClose(sub.w, t([0, 0]), 0)
  })

  it('wrt names the key path it cannot find', () => {
    const e = throwsPurediff(() => grad(netLoss, { wrt: ['layers.2.b'] })(net))
    expect(e.tag).toBe('TreeError')
    expect(e.path).toBe('layers.2.b')
    expect(e.message).toMatch(/layers\[0\]\.b/)
  })
})

describe('unknown options are errors, for every transform that takes options', () => {
  const sq = (x: Tensor) => sum(square(x))
  const x = t([1, 2])
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ['grad', () => grad(sq, { has_aux: true } as never)],
    ['valueAndGrad', () => valueAndGrad(sq, { argnum: 0 } as never)],
    ['jacfwd', () => jacfwd(sq, { hasAux: true } as never)],
    ['jacrev', () => jacrev(sq, { wrt: ['x'] } as never)],
    ['hessian', () => hessian(sq, { argnum: 1 } as never)],
    ['hvp', () => hvp(sq, { argnums: 0 } as never)],
    ['vjp', () => vjp(sq, x, { hasAux: true } as never)],
    ['jvp', () => jvp(sq, x, x, { hasAux: true } as never)],
    ['derivative', () => derivative((u: Tensor) => sin(u), { order: 2 } as never)],
    ['vmap', () => vmap(sq, { axis: 0 } as never)],
  ]
  for (const [op, call] of cases) {
    it(op, () => {
      const e = throwsPurediff(call)
      expect(e.op).toBe(op)
      expect(e.message).toMatch(/unknown option/)
    })
  }
  it('known options still work (hasAux, argnums)', () => {
    expect(grad((u: Tensor) => [sq(u), 1] as const, { hasAux: true })(x)[1]).toBe(1)
    assertClose(dot(grad(sq, { argnums: 0 })(x), x), t(10), 0)
  })
})
