/**
 * `explain` is built on the staged `Program`: its nodes are the program's equations, its
 * values those of `jvp` and `grad`; custom-rule calls are one node carrying the user's rule
 * (or the function's own equations when expanded); an equation holding a sub-program is one
 * node. Tolerances: the sweeps run the same rules on the same values in the same order as
 * `jvp` and `grad`, so they agree to rounding; 1e-12 (about 5000 float64 ulps at 1) leaves
 * room only for a different summation order of the adjoint contributions.
 */
import fc from 'fast-check'
import { XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { arbProgramCase } from '../../laws/index.js'
import {
  add,
  customJvp,
  customVjp,
  div,
  evalProgram,
  exp,
  grad,
  jit,
  jvp,
  log,
  mul,
  scalar,
  sin,
  sum,
  tensor,
  trace,
  tree,
  vmap,
  where,
  greater,
  PurediffError,
  type Program,
  type Tensor,
} from '../../src/index.js'
import { makeProgram } from '../../src/staging/program.js'
import type { Primitive } from '../../src/primitives/types.js'
import { explain, explainGraph, programGraph, recordGraph, type Explanation } from '../../src/viz/index.js'
import { assertClose } from '../helpers/allClose.js'

const TOL = 1e-12

/** The equations an output depends on, in program order (dead code dropped), by primitive name. */
const liveOps = (p: Program): string[] => {
  const live = new Set(p.outputs.map((v) => v.id))
  const keep: boolean[] = []
  for (let k = p.eqns.length - 1; k >= 0; k--) {
    const e = p.eqns[k]!
    keep[k] = live.has(e.out.id)
    if (keep[k]) e.inputs.forEach((v) => live.add(v.id))
  }
  return p.eqns.filter((_, k) => keep[k]).map((e) => e.prim.name)
}
const opNodes = (e: Explanation): string[] => e.nodes.filter((n) => n.kind === 'op').map((n) => n.op)
const out = (e: Explanation) => e.nodes[e.outputs[0]!]!

describe('explain is built on the staged Program', () => {
  it('on random programs its equations are trace(f)’s, in order', () => {
    fc.assert(
      fc.property(arbProgramCase(), ({ program, params }) => {
        const p = trace(program.loss)(params)
        expect(opNodes(explain(program.loss)(params))).toEqual(liveOps(p))
        // and the adapter on the program alone gives the same values
        const g = programGraph(p, tree.leaves(params) as Tensor[])
        assertClose(explainGraph(g).nodes[g.outputs[0]!]!.primal, evalProgram(p, params) as Tensor, 0)
      }),
      { numRuns: 25, seed: 21 },
    )
  })

  it('explain(grad(f)) is the backward-pass program trace(grad(f)) stages', () => {
    const f = (x: Tensor) => sum(mul(sin(x), exp(x)))
    const x = tensor([0.3, -0.2])
    const e = explain(grad(f))(x)
    expect(opNodes(e)).toEqual(liveOps(trace(grad(f))(x)))
    assertClose(out(e).primal, grad(f)(x), TOL, TOL)
  })

  it('a function that reads its values is a ConcretizationError naming explain', () => {
    const f = (x: Tensor) => (x.item() > 0 ? sin(x) : x)
    expect(() => explain(f)(1)).toThrow(PurediffError)
    expect(() => explain(f)(1)).toThrow(/'explain' only knows its shape and dtype/)
    // the data-dependent choice written with where explains
    const g = (x: Tensor) => where(greater(x, 0), sin(x), x)
    assertClose(explain(g)(1).node('x')!.adjoint!, Math.cos(1), TOL)
  })

  it('bad options are named errors', () => {
    const f = (x: Tensor) => sin(x)
    expect(() => explain(f, { directon: 1 } as never)(1)).toThrow(/explain: unknown option 'directon'/)
    expect(() => explain(f, { maxEntries: 0 })(1)).toThrow(/maxEntries must be a positive integer/)
    expect(() => explain(f, { expandCustom: 'yes' } as never)(1)).toThrow(/expandCustom must be true or false/)
  })
})

describe('custom rules: one node carrying the user’s rule', () => {
  // a deliberately different rule (twice the true derivative), so that the user's rule and
  // the function's own derivative are told apart
  const twiceLog = customJvp(
    (x: Tensor) => log(x),
    (x, xDot) => [log(x), div(mul(2, xDot), x)],
    { name: 'twiceLog' },
  )
  const f = (x: Tensor) => sum(mul(twiceLog(x), x))
  const x = tensor([0.5, 2, 3])
  const v = tensor([1, -1, 0.5])

  it('customJvp: one named node; tangent and adjoint come from the user’s rule (= jvp and grad)', () => {
    const e = explain(f, { direction: v })(x)
    const node = e.nodes.find((n) => n.custom !== null)!
    expect(node.op).toBe('twiceLog')
    expect(node.custom).toMatchObject({ kind: 'customJvp', name: 'twiceLog' })
    expect(node.custom!.rule).toContain('div(mul(2, xDot), x)')
    expect(node.rule.y).toContain('user-supplied forward rule')
    expect(node.rule.jvp).toContain('div(mul(2, xDot), x)')
    // the log inside is not shown
    expect(opNodes(e)).not.toContain('log')
    assertClose(out(e).tangent!, jvp(f, x, v)[1], TOL, TOL)
    assertClose(e.node('x')!.adjoint!, grad(f)(x), TOL, TOL)
    // independently: d/dx Σ x·g(x) with the rule's g' = 2/x is log(x) + 2
    assertClose(e.node('x')!.adjoint!, [Math.log(0.5) + 2, Math.log(2) + 2, Math.log(3) + 2], TOL, TOL)
    expect(e.toText()).toContain('v1 = twiceLog(x) (user rule: customJvp)')
    const svg = e.toSVG()
    expect(XMLValidator.validate(svg)).toBe(true)
    expect((svg.match(/data-custom="customJvp"/g) ?? []).length).toBe(1)
    expect((svg.match(/data-kind="op"/g) ?? []).length).toBe(opNodes(e).length)
    expect(e.toDOT()).toContain('twiceLog(x) (user rule: customJvp)')
  })

  it('expandCustom shows the function’s own equations, whose derivative is the true one', () => {
    const e = explain(f, { expandCustom: true })(x)
    expect(e.nodes.every((n) => n.custom === null)).toBe(true)
    expect(opNodes(e)).toContain('log')
    assertClose(e.node('x')!.adjoint!, [Math.log(0.5) + 1, Math.log(2) + 1, Math.log(3) + 1], TOL, TOL)
    // so the check of the custom node above can fail: the expanded values differ from grad(f)
    expect(() => assertClose(e.node('x')!.adjoint!, grad(f)(x), TOL, TOL)).toThrow()
  })

  it('customVjp: one named node; the adjoint is the user’s bwd, the tangent its transpose', () => {
    // a gradient-scaling identity: y = x, with x̄ = 3·ȳ by the user's rule
    const scaled = customVjp(
      (u: Tensor) => mul(u, 1),
      (u: Tensor) => [mul(u, 1), null] as const,
      (_res: null, yBar: Tensor) => mul(yBar, 3),
    )
    const h = (u: Tensor) => sum(mul(scaled(u), scaled(u)))
    const u = tensor([1, -2])
    const e = explain(h, { direction: tensor([1, 1]) })(u)
    const customs = e.nodes.filter((n) => n.custom !== null)
    expect(customs.length).toBe(2)
    expect(customs[0]!.op).toBe('customVjp')
    expect(customs[0]!.rule.vjp).toContain('mul(yBar, 3)')
    assertClose(e.node('x')!.adjoint!, grad(h)(u), TOL, TOL)
    // by hand: each of the two calls gets ȳ = u from the product and gives back 3·u: 6·u
    assertClose(e.node('x')!.adjoint!, [6, -12], TOL, TOL)
    assertClose(out(e).tangent!, jvp(h, u, tensor([1, 1]))[1], TOL, TOL)
  })

  it('staged custom rules keep the rule: trace, jit, grad of jit, vmap of jit', () => {
    const p = trace(f)(x)
    expect(p.eqns.map((q) => q.prim.name)).toContain('customJvp')
    expect(p.eqns.map((q) => q.prim.name)).not.toContain('log')
    const fj = jit(f)
    assertClose(fj(x), f(x), TOL)
    // differentiating the compiled program uses the user's rule, as differentiating f does
    assertClose(grad(fj)(x), grad(f)(x), TOL, TOL)
    assertClose(jvp(fj, x, v)[1], jvp(f, x, v)[1], TOL, TOL)
    const xs = tensor([
      [0.5, 2, 3],
      [1, 1.5, 4],
    ])
    assertClose(vmap(jit(grad(f)))(xs), vmap(grad(f))(xs), TOL, TOL)
  })

  it('a custom function that closes over a staged value is an escaped-tracer error, not a wrong number', () => {
    const g = (p: { w: Tensor; x: Tensor }) => {
      const scaled = customJvp(
        (u: Tensor) => mul(u, p.w),
        (u, uDot) => [mul(u, p.w), mul(uDot, p.w)],
      )
      return sum(scaled(p.x))
    }
    const args = { w: tensor([2, 3]), x: tensor([1, 1]) }
    expect(() => explain(g)(args)).toThrow(/escaped tracer/)
    expect(() => jit(g)(args)).toThrow(/escaped tracer/)
  })

  it('two custom functions on the same input stay two equations under jit (never merged)', () => {
    const a = customJvp(
      (u: Tensor) => sin(u),
      (u, uDot) => [sin(u), mul(uDot, 2)],
    )
    const b = customJvp(
      (u: Tensor) => exp(u),
      (u, uDot) => [exp(u), mul(uDot, 3)],
    )
    const h = (u: Tensor) => sum(add(a(u), b(u)))
    const u = tensor([0.1, 0.2])
    expect(trace(h)(u).toString()).toMatch(/customJvp\[name=customJvp id=\d+\]/)
    assertClose(jit(h)(u), Math.sin(0.1) + Math.sin(0.2) + Math.exp(0.1) + Math.exp(0.2), TOL)
    assertClose(grad(jit(h))(u), [5, 5], TOL, TOL)
    expect(opNodes(explain(h)(u)).filter((o) => o === 'customJvp').length).toBe(2)
  })

  it('the customJvp name option is checked', () => {
    expect(() =>
      customJvp(
        (y: Tensor) => y,
        (y, yDot) => [y, yDot],
        { nam: 'x' } as never,
      ),
    ).toThrow(/customJvp: unknown option 'nam'/)
    expect(() =>
      customJvp(
        (y: Tensor) => y,
        (y, yDot) => [y, yDot],
        { name: '' },
      ),
    ).toThrow(/non-empty string/)
  })
})

describe('an equation holding a sub-program is one node', () => {
  it('shows the sub-program as one node, swept with its primitive’s rules', () => {
    const body = trace((a: Tensor) => mul(sin(a), a))(scalar(0.5))
    // a call primitive holding a program, with rules from jvp/vjp of the program (the shape a
    // control-flow primitive has)
    const call: Primitive<{ readonly body: Program }> = {
      name: 'call',
      arity: 1,
      abstract: ([a]) => ({ shape: a!.shape, dtype: a!.dtype }),
      impl: ([a], p) => evalProgram(p.body, a) as never,
      jvp: [(aDot, [a], _y, p) => jvp((u: Tensor) => evalProgram(p.body, u) as Tensor, a!, aDot)[1]],
      vjp: [(yBar, [a], _y, p, R) => R.mul(yBar, grad((u: Tensor) => evalProgram(p.body, u) as Tensor)(a!))],
      batch: () => {
        throw new Error('not used')
      },
      domain: null,
      broadcasts: false,
    }
    const outer = trace((a: Tensor) => exp(a))(scalar(0.5))
    const mid = outer.eqns[0]!.out
    const last = { id: 1000, shape: mid.shape, dtype: mid.dtype, weak: false }
    const program = makeProgram({
      ...outer,
      eqns: [...outer.eqns, { prim: call, inputs: [mid], params: { body }, out: last }],
      outputs: [last],
    })
    const g = programGraph(program, [scalar(0.5)], { names: ['a'] })
    const e = explainGraph(g)
    expect(opNodes(e)).toEqual(['exp', 'call'])
    expect(e.nodes[2]!.params).toBe('body={2 equations}')
    const h = (a: Tensor) => mul(sin(exp(a)), exp(a))
    assertClose(out(e).primal, h(scalar(0.5)), TOL)
    assertClose(out(e).tangent!, jvp(h, scalar(0.5), scalar(1))[1], TOL)
    assertClose(e.node('a')!.adjoint!, grad(h)(scalar(0.5)), TOL)
    expect(e.toSVG()).toContain('call')
  })

  it('recordGraph and programGraph agree on names and values', () => {
    const f = (p: { w: Tensor; b: Tensor }) => sum(add(mul(p.w, p.w), p.b))
    const args = { w: tensor([1, 2]), b: tensor([3, 4]) }
    const g = recordGraph(f as never, [args])
    expect(g.vars.filter((v) => v.kind === 'input').map((v) => v.name)).toEqual(['b', 'w'])
    const g2 = programGraph(trace(f)(args), tree.leaves(args) as Tensor[])
    expect(g2.vars.map((v) => v.kind)).toEqual(g.vars.map((v) => v.kind))
  })
})
