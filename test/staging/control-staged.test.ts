/**
 * Control flow as single program constructs under staging: a traced `scan` / `foriLoop` is
 * one `scan` equation holding its body (it does not unroll), evaluated by looping, and it
 * stays differentiable (forward and reverse) and batchable when staged.
 *
 * Tolerances. Where staged and eager code run the same kernels in the same order the
 * comparison is bit for bit (`toEqual` on the values). Gradients: the staged reverse rule
 * accumulates the consts' cotangent step by step inside the backward scan, the eager one per
 * tape node; the sums are the same terms in a different grouping, so they agree to a few ulps
 * of the largest partial sum: 1e-12 relative covers T = 50 steps of terms of size O(1)
 * (≈ T·ε ≈ 1e-14) with two orders of margin. Finite differences: test/helpers/fd.ts
 * (Richardson-refined central differences, error ≲ 1e-10 relative here; compared at 1e-7).
 */
import { describe, expect, it } from 'vitest'
import {
  abs,
  hessian,
  jacrev,
  cast,
  div,
  less,
  sub,
  whileLoop,
  add,
  cond,
  greater,
  neg,
  stack,
  switchCase,
  evalProgram,
  foriLoop,
  grad,
  jit,
  jvp,
  mul,
  reshape,
  scan,
  sin,
  sum,
  tanh,
  tensor,
  trace,
  vmap,
} from '../../src/index.js'
import type { Program, Tensor } from '../../src/index.js'
import { makeProgram } from '../../src/staging/program.js'
import { explain } from '../../src/viz/index.js'
import { scanPrim } from '../../src/transforms/scanStaged.js'
import type { ScanParams } from '../../src/transforms/scanStaged.js'
import type { CondParams } from '../../src/transforms/condStaged.js'
import { condPrim } from '../../src/transforms/condStaged.js'
import type { VjpRule } from '../../src/primitives/types.js'
import { allClose, assertClose } from '../helpers/allClose.js'
import { fdDerivative } from '../helpers/fd.js'

const seq = (n: number, k = 1): Tensor => tensor(Array.from({ length: n }, (_, i) => Math.cos(k * i)))

/** A scan with a captured parameter, a record carry and two stacked outputs. */
const f = (w: Tensor, xs: Tensor): Tensor => {
  const [c, ys] = scan(
    (c: { h: Tensor; s: Tensor }, x: Tensor) =>
      [
        { h: tanh(add(mul(c.h, w), x)), s: add(c.s, mul(c.h, x)) },
        { a: mul(c.h, x), b: sin(c.h) },
      ] as const,
    { h: tensor(0.5), s: tensor(0) },
    xs,
  )
  return add(add(c.h, c.s), add(sum(ys.a), sum(mul(ys.b, 0.5))))
}

const scanEqns = (p: Program) => p.eqns.filter((e) => e.prim.name === 'scan')

describe('scan under staging is one construct', () => {
  it('a 1 000-step scan stages to the same O(1) equations as a 10-step one, one of them a scan', () => {
    const p10 = trace(f)(tensor(0.9), seq(10))
    const p1000 = trace(f)(tensor(0.9), seq(1000))
    expect(p1000.eqns.length).toBe(p10.eqns.length)
    expect(p1000.eqns.length).toBeLessThan(20)
    expect(scanEqns(p1000).length).toBe(1)
    const params = scanEqns(p1000)[0]?.params as ScanParams
    expect(params.length).toBe(1000)
    expect(params.body.eqns.length).toBeLessThan(10)
  })

  it('prints the body nested and indented under the scan equation', () => {
    const p = trace((xs: Tensor) => scan((c: Tensor, x: Tensor) => [add(c, x), mul(c, x)] as const, tensor(0), xs))(
      seq(1000),
    )
    const s = p.toString()
    expect(s).toContain('= scan[body={ lambda ; a:f64[] b:f64[]. let')
    expect(s).toContain('\n          c:f64[] = add a b\n')
    expect(s).toContain('length=1000 reverse=false consts=0 carries=1]')
    expect(s.split('\n').length).toBeLessThan(20)
  })

  it('foriLoop stages as one scan over the index', () => {
    const g = (w: Tensor) => foriLoop(0, 1000, (i, c: Tensor) => add(mul(c, w), mul(i, 1e-3)), tensor(1))
    const p = trace(g)(tensor(0.5))
    expect(scanEqns(p).length).toBe(1)
    expect(p.eqns.length).toBeLessThan(10)
    expect(jit(g)(tensor(0.5)).toArray()).toEqual(g(tensor(0.5)).toArray())
  })

  it('a foriLoop body that reads the index as a JS number still unrolls (and computes the same)', () => {
    const g = (x: Tensor) => foriLoop(0, 5, (i, c: Tensor) => add(c, mul(x, i * i)), tensor(0))
    const p = trace(g)(tensor(2))
    expect(scanEqns(p).length).toBe(0)
    expect(jit(g)(tensor(2)).item()).toBe(60)
  })

  it('a carry that changes dtype (a number init met by float32 data) or outputs of mixed dtypes unroll, as they run eagerly', () => {
    const x32 = cast(seq(5), 'float32')
    const g = (xv: Tensor): Tensor =>
      scan(
        (c: Tensor | number, x: Tensor) => [add(c, x) as Tensor | number, 0] as const,
        0 as Tensor | number,
        xv,
      )[0] as Tensor
    expect(scanEqns(trace(g)(x32)).length).toBe(0)
    expect(jit(g)(x32).dtype).toBe('float32')
    expect(jit(g)(x32).toArray()).toEqual(g(x32).toArray())
    const m = (xv: Tensor) => scan((c: Tensor, x: Tensor) => [add(c, x), x] as const, tensor(0), xv)
    expect(scanEqns(trace(m)(x32)).length).toBe(0)
    expect(jit(m)(x32)[1].toArray()).toEqual(m(x32)[1].toArray())
    // float64 data: the carry keeps its dtype, one construct
    expect(scanEqns(trace(g)(seq(5))).length).toBe(1)
    expect(scanEqns(trace(m)(seq(5))).length).toBe(1)
  })

  it('nested scans nest: the inner one is an equation of the outer body', () => {
    const g = (xs: Tensor) =>
      scan(
        (c: Tensor, x: Tensor) => [scan((d: Tensor, y: Tensor) => [add(d, y), 0] as const, c, x)[0], 0] as const,
        tensor(0),
        xs,
      )[0]
    const xs = reshape(seq(300), [100, 3])
    const p = trace(g)(xs)
    expect(scanEqns(p).length).toBe(1)
    expect(scanEqns((scanEqns(p)[0]?.params as ScanParams).body).length).toBe(1)
    expect(jit(g)(xs).toArray()).toEqual(g(xs).toArray())
  })
})

describe('staged scan computes what the eager scan computes', () => {
  const w = tensor(0.9)
  const xs = seq(50)

  it('jit(f) ≡ f bit for bit (same kernels, same order), reversed scans too', () => {
    expect(jit(f)(w, xs).toArray()).toEqual(f(w, xs).toArray())
    const r = (xv: Tensor) =>
      scan((c: Tensor, x: Tensor) => [sin(add(c, x)), c] as const, tensor(0.1), xv, { reverse: true })
    const [jc, jy] = jit(r)(xs)
    const [ec, ey] = r(xs)
    expect(jc.toArray()).toEqual(ec.toArray())
    expect(jy.toArray()).toEqual(ey.toArray())
  })

  it('jit(grad(f)) and grad(jit(f)) equal the eager gradient (1e-12) and central differences (1e-7)', () => {
    const eager = grad(f, { argnums: [0, 1] })(w, xs)
    const staged = jit(grad(f, { argnums: [0, 1] }))(w, xs)
    const around = grad(jit(f), { argnums: [0, 1] })(w, xs)
    for (const g of [staged, around]) {
      assertClose(g[0], eager[0], 1e-12, 1e-14, 'w')
      assertClose(g[1], eager[1], 1e-12, 1e-14, 'xs')
    }
    const fd = fdDerivative((u) => f(tensor(u), xs).item(), 0.9)
    assertClose(staged[0], tensor(fd), 1e-7, 1e-9, 'fd')
    // the staged gradient is itself O(1) equations
    expect(trace(grad(f))(w, seq(1000)).eqns.length).toBe(trace(grad(f))(w, seq(10)).eqns.length)
  })

  it('forward mode through the construct: jit(jvp) equals eager jvp and the reverse gradient', () => {
    const fw = (u: Tensor) => f(u, xs)
    const jv = (u: Tensor) => jvp(fw, u, tensor(1))[1]
    const staged = jit(jv)(w)
    assertClose(staged, jv(w), 1e-12, 1e-14)
    assertClose(staged, grad(fw)(w), 1e-12, 1e-14)
    // tangents in xs and in the initial carry
    const g2 = (c0: Tensor, xv: Tensor) => scan((c: Tensor, x: Tensor) => [tanh(mul(c, x)), c] as const, c0, xv)[0]
    const t = jit(
      (c0: Tensor, xv: Tensor) => jvp((a: [Tensor, Tensor]) => g2(a[0], a[1]), [c0, xv], [tensor(1), seq(50, 3)])[1],
    )
    assertClose(
      t(tensor(0.3), xs),
      jvp((a: [Tensor, Tensor]) => g2(a[0], a[1]), [tensor(0.3), xs], [tensor(1), seq(50, 3)])[1],
      1e-12,
      1e-14,
    )
  })

  it('second order: jit(grad(grad(f))) equals the eager one', () => {
    const g1 = (u: Tensor) => f(u, xs)
    assertClose(jit(grad(grad(g1)))(w), grad(grad(g1))(w), 1e-12, 1e-14)
  })

  it('jit(vmap(f)) and vmap(jit(f)) equal the eager vmap (batched xs, batched w)', () => {
    const ws = tensor([0.9, -0.4, 0.2])
    const xsb = reshape(seq(150), [3, 50])
    const eager = vmap(f)(ws, xsb)
    assertClose(jit(vmap(f))(ws, xsb), eager, 1e-12, 1e-14)
    assertClose(vmap(jit(f))(ws, xsb), eager, 1e-12, 1e-14)
    // unbatched xs, batched parameter: only the carry and the captured w are batched
    const e2 = vmap(f, { inAxes: [0, null] })(ws, xs)
    assertClose(jit(vmap(f, { inAxes: [0, null] }))(ws, xs), e2, 1e-12, 1e-14)
    // per-example gradients, staged
    const pe = vmap(grad(f), { inAxes: [0, 0] })(ws, xsb)
    assertClose(jit(vmap(grad(f), { inAxes: [0, 0] }))(ws, xsb), pe, 1e-12, 1e-14)
    expect(scanEqns(trace(vmap(f))(ws, xsb)).length).toBe(1)
  })
})

describe('the staged scan reverse rule is checked by a law that can fail', () => {
  // law: the reverse-mode gradient of a staged program equals central finite differences
  // and the forward-mode derivative
  const w0 = 0.9
  const xs = seq(30)
  const lawHolds = (p: Program): boolean => {
    const run = (u: Tensor) => evalProgram(p, u, xs) as Tensor
    const g = grad(run)(tensor(w0))
    const fd = fdDerivative((u) => run(tensor(u)).item(), w0)
    const fwd = jvp(run, tensor(w0), tensor(1))[1]
    return allClose(g, tensor(fd), 1e-7, 1e-9).ok && allClose(g, fwd, 1e-12, 1e-14).ok
  }
  const withScanPrim = (p: Program, prim: typeof scanPrim): Program =>
    makeProgram({ ...p, eqns: p.eqns.map((e) => (e.prim.name === 'scan' ? { ...e, prim } : e)) })
  const staged = trace(f)(tensor(w0), xs)

  it('holds for the scan record', () => {
    expect(scanEqns(staged).length).toBe(1)
    expect(lawHolds(staged)).toBe(true)
  })

  it('fails when the reverse rule swaps the cotangents of the captured parameter and the first carry', () => {
    // operands: [w (captured), h0, s0, xs]: a layout slip between consts and carries
    const real = scanPrim.vjp as (i: number) => VjpRule<ScanParams>
    const swapped = (i: number): number => (i === 0 ? 1 : i === 1 ? 0 : i)
    const broken = { ...scanPrim, vjp: (i: number) => real(swapped(i)) }
    expect(lawHolds(withScanPrim(staged, broken))).toBe(false)
  })

  it('fails when the backward scan runs in the forward order', () => {
    // the same reverse rule on a program whose forward ran the other way: the stored
    // carries no longer meet their steps
    const real = scanPrim.vjp as (i: number) => VjpRule<ScanParams>
    const broken = {
      ...scanPrim,
      vjp: (i: number) =>
        ((yBar, xsv, y, p, R) => real(i)(yBar, xsv, y, { ...p, reverse: !p.reverse }, R)) as VjpRule<ScanParams>,
    }
    expect(lawHolds(withScanPrim(staged, broken))).toBe(false)
  })
})

describe('cond and switchCase under staging are one construct', () => {
  // a data-dependent predicate: positive sum → one branch, else the other
  const h = (w: Tensor, x: Tensor) =>
    cond(
      greater(sum(x), 0),
      (u: Tensor, v: Tensor) => sum(mul(sin(u), v)),
      (u: Tensor, v: Tensor) => sum(mul(u, mul(v, v))),
      w,
      x,
    )
  const k = (i: Tensor, x: Tensor) =>
    switchCase(i, [(u: Tensor) => sin(u), (u: Tensor) => mul(u, u), (u: Tensor) => tanh(mul(u, 3))], x)
  const xp = tensor([0.5, -0.2, 0.4])
  const xn = tensor([-0.5, -0.2, 0.4])
  const w = tensor([0.3, 1.1, -0.7])

  it('a staged predicate gives one cond equation holding both branches (not a ConcretizationError)', () => {
    const p = trace(h)(w, xp)
    const c = p.eqns.filter((e) => e.prim.name === 'cond')
    expect(c.length).toBe(1)
    expect((c[0]?.params as CondParams).branches.length).toBe(2)
    expect(p.toString()).toContain('= cond[branches=[{ lambda')
  })

  it('jit(f) ≡ f bit for bit on both sides of the predicate, and switchCase on every index (clamped)', () => {
    for (const x of [xp, xn]) expect(jit(h)(w, x).toArray()).toEqual(h(w, x).toArray())
    for (const i of [-1, 0, 1, 2, 5, 1.4]) expect(jit(k)(tensor(i), w).toArray()).toEqual(k(tensor(i), w).toArray())
    expect(trace(k)(tensor(0), w).eqns.filter((e) => e.prim.name === 'cond').length).toBe(1)
  })

  it('grad, jvp and vmap through the staged cond equal the eager ones', () => {
    for (const x of [xp, xn]) {
      const eager = grad(h, { argnums: [0, 1] })(w, x)
      for (const g of [jit(grad(h, { argnums: [0, 1] }))(w, x), grad(jit(h), { argnums: [0, 1] })(w, x)]) {
        assertClose(g[0], eager[0], 1e-12, 1e-14)
        assertClose(g[1], eager[1], 1e-12, 1e-14)
      }
      const t = tensor([1, -2, 0.5])
      assertClose(
        jit((u: Tensor) => jvp((a: Tensor) => h(a, x), u, t)[1])(w),
        jvp((a: Tensor) => h(a, x), w, t)[1],
        1e-12,
        1e-14,
      )
    }
    // batched operands, unbatched predicate (inside the map the predicate is per example:
    // batched); both forms through jit equal the eager vmap
    const xs = stack([xp, xn, xp])
    assertClose(jit(vmap(h, { inAxes: [null, 0] }))(w, xs), vmap(h, { inAxes: [null, 0] })(w, xs), 1e-12, 1e-14)
    assertClose(vmap(jit(h), { inAxes: [null, 0] })(w, xs), vmap(h, { inAxes: [null, 0] })(w, xs), 1e-12, 1e-14)
    const ws = stack([w, neg(w)])
    assertClose(vmap(jit(h), { inAxes: [0, null] })(ws, xn), vmap(h, { inAxes: [0, null] })(ws, xn), 1e-12, 1e-14)
    const is = tensor([0, 2, 1])
    assertClose(vmap(jit(k), { inAxes: [0, null] })(is, w), vmap(k, { inAxes: [0, null] })(is, w), 1e-12, 1e-14)
  })
})

describe('whileLoop under staging is one construct (forward mode only)', () => {
  // Newton's iteration for √a, until the step is small: the trip count depends on a
  const root = (a: Tensor) =>
    whileLoop(
      (c: { x: Tensor; dx: Tensor }) => greater(abs(c.dx), 1e-12),
      (c: { x: Tensor; dx: Tensor }) => {
        const x = mul(add(c.x, div(a, c.x)), 0.5)
        return { x, dx: sub(x, c.x) }
      },
      { x: tensor(1), dx: tensor(1) },
    ).x

  it('stages to one while equation and computes what the eager loop computes, bit for bit', () => {
    const p = trace(root)(tensor(2))
    expect(p.eqns.filter((e) => e.prim.name === 'while').length).toBe(1)
    expect(p.toString()).toContain('= while[cond={ lambda')
    for (const a of [2, 9, 0.3]) expect(jit(root)(tensor(a)).toArray()).toEqual(root(tensor(a)).toArray())
  })

  it('forward mode through the construct equals the eager jvp and d√a/da = 1/(2√a)', () => {
    for (const a of [2, 9]) {
      const staged = jit((u: Tensor) => jvp(root, u, tensor(1))[1])(tensor(a))
      assertClose(staged, jvp(root, tensor(a), tensor(1))[1], 1e-12, 1e-14)
      assertClose(staged, tensor(1 / (2 * Math.sqrt(a))), 1e-12, 1e-14)
      assertClose(jvp(jit(root), tensor(a), tensor(1))[1], staged, 1e-12, 1e-14)
    }
  })

  it('vmap of the staged loop with an unbatched condition; reverse mode is the clear error', () => {
    const scale = (a: Tensor, x: Tensor) =>
      whileLoop(
        (c: { k: Tensor; v: Tensor }) => less(c.k, 5),
        (c: { k: Tensor; v: Tensor }) => ({ k: add(c.k, 1), v: mul(c.v, a) }),
        { k: tensor(0), v: x },
      ).v
    const as = tensor([0.5, 2, -1])
    assertClose(
      jit(vmap(scale, { inAxes: [0, null] }))(as, tensor([1, 2])),
      vmap(scale, { inAxes: [0, null] })(as, tensor([1, 2])),
      1e-12,
      1e-14,
    )
    assertClose(
      vmap(jit(scale), { inAxes: [0, null] })(as, tensor([1, 2])),
      vmap(scale, { inAxes: [0, null] })(as, tensor([1, 2])),
      1e-12,
      1e-14,
    )
    expect(() => vmap(jit(root))(tensor([2, 9]))).toThrow(/depends on the batch/)
    expect(() => jit(grad(root))(tensor(2))).toThrow(/reverse-mode differentiation .* of whileLoop is not supported/)
    expect(() => grad(jit(root))(tensor(2))).toThrow(/reverse-mode differentiation .* of whileLoop is not supported/)
  })
})

describe('explain shows each construct as one node', () => {
  it('a 1 000-step scan is one scan node with its rule text, and its gradient matches grad', () => {
    const xs = seq(1000)
    const g = (w: Tensor) => f(w, xs)
    const e = explain(g)(tensor(0.9))
    const scans = e.nodes.filter((n) => n.op === 'scan')
    expect(scans.length).toBe(1)
    expect(e.nodes.length).toBeLessThan(20)
    expect(scans[0]?.rule.vjp).toContain('forward scan storing')
    expect(scans[0]?.params).toContain('body={')
    // the input's adjoint is the gradient
    const input = e.nodes.find((n) => n.kind === 'input')
    assertClose(input?.adjoint as Tensor, grad(g)(tensor(0.9)), 1e-12, 1e-14)
  })
})

describe('the staged cond reverse rule is checked by a law that can fail', () => {
  // law: along a direction v, the reverse gradient · v equals the forward derivative and
  // central finite differences of the staged program
  const h = (w: Tensor, x: Tensor) =>
    cond(
      greater(sum(x), 0),
      (u: Tensor, v: Tensor) => sum(mul(sin(u), v)),
      (u: Tensor, v: Tensor) => sum(mul(u, mul(v, v))),
      w,
      x,
    )
  const w0 = [0.3, 1.1, -0.7]
  const x0 = tensor([0.5, -0.2, 0.4])
  const v = [1, -0.5, 0.25]
  const lawHolds = (p: Program): boolean => {
    const run = (u: Tensor) => evalProgram(p, u, x0) as Tensor
    const g = grad(run)(tensor(w0)).toArray() as number[]
    const gv = g.reduce((s, gi, i) => s + gi * (v[i] as number), 0)
    const fd = fdDerivative((t) => run(tensor(w0.map((wi, i) => wi + t * (v[i] as number)))).item(), 0)
    const fwd = jvp(run, tensor(w0), tensor(v))[1]
    return allClose(tensor(gv), tensor(fd), 1e-7, 1e-9).ok && allClose(tensor(gv), fwd, 1e-12, 1e-14).ok
  }
  const withCondPrim = (p: Program, prim: typeof condPrim): Program =>
    makeProgram({ ...p, eqns: p.eqns.map((e) => (e.prim.name === 'cond' ? { ...e, prim } : e)) })
  const staged = trace(h)(tensor(w0), x0)

  it('holds for the cond record', () => {
    expect(staged.eqns.filter((e) => e.prim.name === 'cond').length).toBe(1)
    expect(lawHolds(staged)).toBe(true)
  })

  it('fails when the reverse rule swaps the cotangents of the two operands', () => {
    const real = condPrim.vjp as (i: number) => VjpRule<CondParams> | null
    const broken = { ...condPrim, vjp: (i: number) => real(i === 1 ? 2 : i === 2 ? 1 : i) }
    expect(lawHolds(withCondPrim(staged, broken))).toBe(false)
  })
})

describe('compositions of constructs', () => {
  const xs = seq(20)
  it('jit(hessian) over a record and jit(jacrev) through a scan equal the eager ones', () => {
    const f2 = (q: { w: Tensor; b: Tensor }) => {
      const [c, ys] = scan(
        (c: Tensor, x: Tensor) => [tanh(add(mul(c, q.w), mul(x, q.b))), mul(c, x)] as const,
        tensor([0.5, -0.1]),
        xs,
      )
      return add(sum(c), sum(ys))
    }
    const q = { w: tensor([0.9, 0.3]), b: tensor([0.2, -0.4]) }
    const he = hessian(f2)(q)
    const hj = jit(hessian(f2))(q)
    for (const a of ['w', 'b'] as const)
      for (const b of ['w', 'b'] as const) assertClose(hj[a][b], he[a][b], 1e-12, 1e-13, `${a}.${b}`)
    const r = (w: Tensor) =>
      scan((c: Tensor, x: Tensor) => [sin(mul(add(c, x), w)), c] as const, tensor([0.5, 0.2]), xs)[1]
    assertClose(jit(jacrev(r))(tensor([0.9, 1.1])), jacrev(r)(tensor([0.9, 1.1])), 1e-12, 1e-14)
  })

  it('a cond inside a scan: grad and vmap(grad), staged and eager, agree', () => {
    const g = (w: Tensor) =>
      scan(
        (c: Tensor, x: Tensor) =>
          [
            cond(
              greater(x, 0),
              (u: Tensor) => sin(mul(u, w)),
              (u: Tensor) => mul(u, w),
              c,
            ),
            c,
          ] as const,
        tensor(0.7),
        xs,
      )[0]
    const p = trace(g)(tensor(1.3))
    expect(scanEqns(p).length).toBe(1)
    expect(scanEqns((scanEqns(p)[0]?.params as ScanParams).body).length).toBe(0)
    expect((scanEqns(p)[0]?.params as ScanParams).body.eqns.some((e) => e.prim.name === 'cond')).toBe(true)
    assertClose(jit(grad(g))(tensor(1.3)), grad(g)(tensor(1.3)), 1e-12, 1e-14)
    assertClose(vmap(jit(grad(g)))(tensor([1.3, 0.2])), vmap(grad(g))(tensor([1.3, 0.2])), 1e-12, 1e-14)
  })
})

describe('derived bodies are staged once per construct', () => {
  it('the gradient of a jitted scan reuses its forward and backward bodies from call to call', () => {
    const jf = jit(f)
    const bodies = (p: Program) => scanEqns(p).map((e) => (e.params as ScanParams).body)
    const a = bodies(trace(grad(jf))(tensor(0.9), seq(30)))
    const b = bodies(trace(grad(jf))(tensor(0.4), seq(30)))
    // the primal scan, the forward scan storing carries, the backward scan
    expect(a.length).toBe(3)
    a.forEach((body, k) => expect(b[k]).toBe(body))
  })
})
