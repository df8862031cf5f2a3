import fc from 'fast-check'
import { XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { arbProgramCase, arbProgramInputs } from '../../laws/index.js'
import {
  add,
  exp,
  grad,
  hessian,
  hvp,
  jvp,
  matmul,
  mul,
  scalar,
  sin,
  sum,
  tanh,
  tensor,
  tree,
  vjp,
  vmap,
  zeros,
  type Tensor,
} from '../../src/index.js'
import { primitives } from '../../src/primitives/table.js'
import type { AnyPrimitive } from '../../src/primitives/types.js'
import { explain, explainGraph, recordGraph, RULES, summarize, type Explanation } from '../../src/viz/index.js'
import { assertClose } from '../helpers/allClose.js'

const TOL = 1e-12

const outputNode = (e: Explanation) => e.nodes[e.outputs[0]!]!
const inputAdjoints = (e: Explanation): Tensor[] =>
  e.inputs.map((id) => e.nodes[id]!.adjoint ?? zeros(e.nodes[id]!.shape))

describe('explain: values equal jvp and grad of the same function', () => {
  it('on random programs (scalar loss): output tangent = jvp, input adjoints = grad, primal = value', () => {
    fc.assert(
      fc.property(arbProgramCase(), arbProgramInputs(), ({ program, params }, direction) => {
        const e = explain(program.loss, { direction })(params)
        const [y, yDot] = jvp(program.loss, params, direction)
        assertClose(outputNode(e).primal, y, TOL, 0, 'primal')
        assertClose(outputNode(e).tangent ?? 0, yDot, TOL, TOL, 'tangent')
        const g = tree.leaves(grad(program.loss)(params)) as Tensor[]
        inputAdjoints(e).forEach((a, k) => assertClose(a, g[k]!, TOL, TOL, `adjoint of ${e.nodes[e.inputs[k]!]!.name}`))
      }),
      { numRuns: 60, seed: 13 },
    )
  })

  it('on random programs with a tensor output: adjoints = the pullback of the cotangent (vjp)', () => {
    fc.assert(
      fc.property(
        arbProgramCase(),
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 6, maxLength: 6 }),
        ({ program, params }, ct) => {
          const yBar = tensor([ct.slice(0, 3), ct.slice(3)])
          const e = explain(program.f, { cotangent: yBar })(params)
          const [, pullback] = vjp(program.f, params)
          const g = tree.leaves(pullback(yBar)) as Tensor[]
          inputAdjoints(e).forEach((a, k) => assertClose(a, g[k]!, TOL, TOL))
          // the default direction is the first basis direction of the first input
          const basis = tree.map(params, (l, path) =>
            path === e.nodes[e.inputs[0]!]!.name ? tensor([1, 0, 0]) : zeros((l as Tensor).shape),
          )
          assertClose(outputNode(e).tangent ?? zeros([2, 3]), jvp(program.f, params, basis)[1], TOL, TOL)
        },
      ),
      { numRuns: 30, seed: 7 },
    )
  })

  it('fails on a deliberately broken rule (the check above can fail)', () => {
    const f = (x: Tensor) => sum(sin(x))
    const x = tensor([0.3, -1.2, 2])
    const good = recordGraph(f, [x])
    const brokenSin: AnyPrimitive = { ...primitives.sin, jvp: [(xDot, [x0], _y, _p, R) => R.mul(xDot, R.sin(x0!))] }
    const broken = {
      ...good,
      vars: good.vars.map((v) => (v.kind === 'op' && v.prim.name === 'sin' ? { ...v, prim: brokenSin } : v)),
    }
    const e = explainGraph(broken)
    const [, yDot] = jvp(f, x, tensor([1, 0, 0]))
    expect(() => assertClose(outputNode(e).tangent!, yDot, TOL, TOL)).toThrow()
    expect(() => assertClose(outputNode(explainGraph(good)).tangent!, yDot, TOL, TOL)).not.toThrow()
  })

  it('explain(grad(f)) shows the backward pass: its tangent and adjoint are the second derivative', () => {
    const f = (x: Tensor) => mul(exp(tanh(x)), sin(x))
    const x = 0.7
    const e = explain(grad(f))(x)
    const f2 = (hessian(f)(scalar(x)) as Tensor).item()
    assertClose(outputNode(e).primal, grad(f)(scalar(x)), TOL)
    assertClose(outputNode(e).tangent!, f2, TOL)
    assertClose(e.nodes[e.inputs[0]!]!.adjoint!, f2, TOL)
    // more equations than the function itself: the backward pass is in the picture
    const ops = (ex: Explanation) => ex.nodes.filter((n) => n.kind === 'op').length
    expect(ops(e)).toBeGreaterThan(ops(explain(f)(x)))
    expect(e.nodes.some((n) => n.op === 'mulNoNan')).toBe(true)
  })

  it('explain(grad(f)) on a vector: tangent = Hessian-vector product', () => {
    const f = (w: Tensor) =>
      sum(
        tanh(
          matmul(
            tensor([
              [1, 2, 0.5],
              [-1, 0.3, 2],
            ]),
            w,
          ),
        ),
      )
    const w = tensor([0.2, -0.4, 0.9])
    const v = tensor([0.5, 1, -2])
    const e = explain(grad(f), { direction: v, cotangent: tensor([1, 1, 1]) })(w)
    assertClose(outputNode(e).tangent!, hvp(f)(w, v), TOL, TOL)
  })

  it('several arguments and records: inputs named by key path', () => {
    const e = explain((p: { w: Tensor; b: Tensor }, x: Tensor) => sum(add(mul(p.w, x), p.b)))(
      { w: tensor([1, 2]), b: tensor([0.5, 0.5]) },
      tensor([3, 4]),
    )
    expect(e.inputs.map((id) => e.nodes[id]!.name)).toEqual(['x[0].b', 'x[0].w', 'x[1]'])
    assertClose(e.node('x[1]')!.adjoint!, [1, 2], TOL)
  })

  it('explains functions that use vmap (the batched program is what is shown)', () => {
    const f = (x: Tensor) => sum(vmap((r: Tensor) => mul(sin(r), r))(x))
    const x = tensor([
      [0.1, 0.2],
      [0.3, -0.4],
    ])
    const e = explain(f, { cotangent: 1 })(x)
    assertClose(e.nodes[e.inputs[0]!]!.adjoint!, grad(f)(x), TOL, TOL)
  })

  it('names the problem when called on a value traced by an outer transform', () => {
    expect(() => grad((x: Tensor) => explain((y: Tensor) => sin(y))(x).nodes[0]!.primal)(tensor(1))).toThrow(
      /explain needs concrete inputs/,
    )
  })

  it('is frozen all the way down', () => {
    const e = explain((x: Tensor) => mul(x, x))(2)
    expect(Object.isFrozen(e)).toBe(true)
    expect(Object.isFrozen(e.nodes)).toBe(true)
    for (const n of e.nodes) expect(Object.isFrozen(n)).toBe(true)
  })

  it('the chain-rule products show the numbers for scalar nodes', () => {
    const e = explain((x: Tensor) => mul(sin(x), x))(0.5)
    // the tangent and adjoint marks are combining characters: compare in one normal form
    const text = e.toText().normalize('NFC')
    expect(text).toContain('v\u03071 = ∂v1/∂x · x\u0307 = 0.877583 · 1 = 0.877583'.normalize('NFC'))
    expect(text).toContain('x\u0304 += v\u03042 · ∂v2/∂x = 1 · 0.479426 = 0.479426'.normalize('NFC'))
    expect(e.node('x')!.adjoint!.item()).toBeCloseTo(Math.cos(0.5) * 0.5 + Math.sin(0.5), 14)
  })
})

describe('rule text', () => {
  it('every primitive has a one-line forward and reverse rule', () => {
    for (const name of Object.keys(primitives)) {
      const r = (RULES as Record<string, { jvp: string; vjp: string }>)[name]
      expect(r, name).toBeDefined()
      expect(r!.jvp).not.toContain('\n')
      expect(r!.vjp).not.toContain('\n')
    }
  })
})

describe('summaries', () => {
  it('large tensors show shape, first entries and norm; symbolic zeros a dash', () => {
    expect(
      summarize(
        tensor([
          [3, 4, 0],
          [0, 0, 0],
        ]),
        4,
      ),
    ).toBe('[2×3] [3, 4, 0, 0, …] ‖·‖ = 5')
    expect(summarize(tensor([1, 2]), 4)).toBe('[1, 2]')
    expect(summarize(scalar(Math.PI))).toBe('3.14159')
    expect(summarize(null)).toBe('–')
  })
})

describe('renderings', () => {
  const f = (x: Tensor) => sum(mul(tanh(x), x))
  const e = explain(f, { title: 'sum(tanh(x) · x) <&>' })(tensor([0.5, -1, 2, 0.1, 3]))

  it('SVG: well-formed XML with one node per variable, one per equation among them, one edge per input', () => {
    const svg = e.toSVG()
    expect(XMLValidator.validate(svg)).toBe(true)
    const groups = svg.match(/<g class="node"/g) ?? []
    expect(groups.length).toBe(e.nodes.length)
    expect((svg.match(/data-kind="op"/g) ?? []).length).toBe(e.nodes.filter((n) => n.kind === 'op').length)
    expect((svg.match(/<path class="edge"/g) ?? []).length).toBe(e.nodes.reduce((s, n) => s + n.inputs.length, 0))
    expect(svg).toContain('&lt;&amp;&gt;')
    // both sweeps' values are drawn, in their colours
    expect(svg).toContain('class="tangent"')
    expect(svg).toContain('class="adjoint"')
  })

  it('DOT: one node line per variable and one edge line per input', () => {
    const d = e.toDOT()
    expect(d.startsWith('digraph explain {')).toBe(true)
    expect((d.match(/^ {2}n\d+ \[label=/gm) ?? []).length).toBe(e.nodes.length)
    expect((d.match(/^ {2}n\d+ -> n\d+;$/gm) ?? []).length).toBe(e.nodes.reduce((s, n) => s + n.inputs.length, 0))
  })

  it('text: a row per node with primal, tangent and adjoint columns', () => {
    const t = e.toText()
    expect(t).toContain('primal')
    expect(t).toContain('tangent (forward)')
    expect(t).toContain('adjoint (reverse)')
    for (const n of e.nodes) expect(t).toContain(n.name)
  })

  it('HTML: self-contained (no external reference), with the steps as data', () => {
    const h = e.toHTML()
    expect(h).not.toMatch(/(src|href)=["']?(https?:)?\/\//)
    expect(h).not.toMatch(/@import|url\(http/)
    const steps = JSON.parse(
      /<script id="steps" type="application\/json">([\s\S]*?)<\/script>/.exec(h)![1]!,
    ) as unknown[]
    expect(steps.length).toBe(2 + e.forwardOrder.length + e.reverseOrder.length)
  })
})
