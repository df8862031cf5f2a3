/**
 * Staged programs: the abstract rule of every primitive against its kernel, `trace` listings
 * (a golden listing for a small MLP and its gradient), `evalProgram` against the function
 * and under `grad`, and the concretization errors.
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  evalProgram,
  full,
  grad,
  greater,
  hessian,
  jvp,
  matmul,
  mean,
  mul,
  sin,
  square,
  sub,
  sum,
  tanh,
  tensor,
  trace,
  where,
} from '../../src/index.js'
import { bind } from '../../src/ad/trace.js'
import { primitives } from '../../src/primitives/table.js'
import type { AnyPrimitive } from '../../src/primitives/types.js'
import { throwsPurediff } from '../helpers/errors.js'

type P = { readonly w1: Tensor; readonly b1: Tensor; readonly w2: Tensor; readonly b2: Tensor }
const mlpLoss = (p: P, x: Tensor, y: Tensor): Tensor =>
  mean(square(sub(add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)))
const params: P = {
  w1: tensor([
    [0.1, 0.2],
    [0.3, -0.1],
    [0.2, 0.5],
  ]),
  b1: tensor([0, 0.1]),
  w2: tensor([[0.3], [-0.2]]),
  b2: tensor([0.05]),
}
const X = tensor([
  [1, 2, 3],
  [0, 1, -1],
])
const Y = tensor([[1], [0]])

describe('abstract evaluation', () => {
  const cases = Object.values(primitives as Record<string, AnyPrimitive>).flatMap((prim) =>
    (prim.domain?.cases ?? []).flatMap((c, k) =>
      (['float64', 'float32'] as const).map((dt) => [`${prim.name} case ${k} ${dt}`, prim, c, dt] as const),
    ),
  )
  it.each(cases)('%s: the abstract rule gives the kernel output shape and dtype', (_name, prim, c, dt) => {
    // integer-valued operands (indices: no rule) hold a valid index, 0
    const live = (i: number) => (typeof prim.jvp === 'function' ? prim.jvp(i) : prim.jvp[i]) != null
    const xs = c.shapes.map((s, i) => full(s, live(i) ? 0.5 : 0, dt))
    const y = bind(prim, xs, c.params)
    const a = prim.abstract(xs, c.params)
    expect([...a.shape]).toEqual([...y.shape])
    expect(a.dtype).toBe(y.dtype)
  })
  it('primitives without a domain too (comparisons, cast)', () => {
    const x = full([2, 1], 1, 'float32')
    const z = full([3], 2, 'float32')
    for (const prim of [primitives.greater, primitives.equal, primitives.isFinite, primitives.sign]) {
      const args = prim.arity === 2 ? [x, z] : [x]
      const y = bind(prim, args, {} as never)
      expect(prim.abstract(args, {} as never)).toEqual({ shape: y.shape, dtype: y.dtype })
    }
    expect(primitives.cast.abstract([x], { dtype: 'float64' })).toEqual({ shape: [2, 1], dtype: 'float64' })
    for (const prim of [primitives.argmax, primitives.argmin]) {
      for (const axis of [0, 1]) {
        const y = bind(prim, [x], { axis })
        expect(prim.abstract([x], { axis })).toEqual({ shape: y.shape, dtype: y.dtype })
      }
    }
  })
})

describe('trace', () => {
  it('prints a small program in the style of make_jaxpr', () => {
    expect(trace((x: Tensor) => sum(sin(x)))(tensor([1, 2, 3])).toString()).toBe(
      ['{ lambda ; a:f64[3]. let', '    b:f64[3] = sin a', '    c:f64[] = sum[axes=[0]] b', '  in (c) }'].join('\n'),
    )
  })

  it('golden listing: a 3-2-1 MLP loss (inputs in key order b1, b2, w1, w2, then x, y)', () => {
    expect(trace(mlpLoss)(params, X, Y).toString())
      .toBe(`{ lambda ; a:f64[2] b:f64[1] c:f64[3,2] d:f64[2,1] e:f64[2,3] f:f64[2,1]. let
    g:f64[2,2] = matmul e c
    h:f64[2,2] = add g a
    i:f64[2,2] = tanh h
    j:f64[2,1] = matmul i d
    k:f64[2,1] = add j b
    l:f64[2,1] = sub k f
    m:f64[2,1] = mul l l
    n:f64[] = sum[axes=[0,1]] m
    o:f64[] = div n 2.0:f64[]
  in (o) }`)
  })

  it('golden listing: the MLP gradient is the whole forward and backward program', () => {
    // the constant a is the cotangent of the mean's sum broadcast to [2, 1] (1/2 each);
    // mul's rule sends it to both factors (q, r); tanh' = 1 - tanh² (y, z); matmul's reverse
    // rules use the NaN-safe product matmulNoNan
    expect(trace(grad(mlpLoss))(params, X, Y).toString())
      .toBe(`{ lambda a:f64[2,1]; b:f64[2] c:f64[1] d:f64[3,2] e:f64[2,1] f:f64[2,3] g:f64[2,1]. let
    h:f64[2,2] = matmul f d
    i:f64[2,2] = add h b
    j:f64[2,2] = tanh i
    k:f64[2,1] = matmul j e
    l:f64[2,1] = add k c
    m:f64[2,1] = sub l g
    n:f64[2,1] = mul m m
    o:f64[] = sum[axes=[0,1]] n
    p:f64[] = div o 2.0:f64[]
    q:f64[2,1] = mulNoNan a m
    r:f64[2,1] = mulNoNan a m
    s:f64[2,1] = add q r
    t:f64[1] = sum[axes=[0]] s
    u:f64[1,2] = transpose[perm=[1,0]] e
    v:f64[2,2] = matmulNoNan s u
    w:f64[2,2] = transpose[perm=[1,0]] j
    x:f64[2,1] = matmulNoNan w s
    y:f64[2,2] = mul j j
    z:f64[2,2] = sub 1.0:f64[] y
    ba:f64[2,2] = mulNoNan v z
    bb:f64[2] = sum[axes=[0]] ba
    bc:f64[3,2] = transpose[perm=[1,0]] f
    bd:f64[3,2] = matmulNoNan bc ba
  in (bb, t, bd, x) }`)
  })

  it('records structure, abstract values and constants; the program is frozen', () => {
    const p = trace((q: P, x: Tensor) => ({ out: mul(matmul(x, q.w1), 2), n: 3 }))(params, X)
    expect(Object.isFrozen(p)).toBe(true)
    expect(Object.isFrozen(p.eqns)).toBe(true)
    expect(p.inputs.map((v) => [...v.shape])).toEqual([[2], [1], [3, 2], [2, 1], [2, 3]])
    expect(p.outTree).toEqual({
      kind: 'record',
      keys: ['n', 'out'],
      children: [{ kind: 'number' }, { kind: 'tensor' }],
    })
    expect(p.eqns.map((e) => e.prim.name)).toEqual(['matmul', 'mul'])
    expect(p.consts.map((c) => c.value.item())).toEqual([2, 3])
    expect(evalProgram(p, params, X)).toEqual({ n: 3, out: expect.anything() })
  })

  it('number arguments are staged as weakly typed scalars: float32 stays float32', () => {
    const p = trace((x: Tensor, k: number) => mul(x, k))(tensor([1, 2], 'float32'), 3)
    expect(p.toString()).toBe(
      [
        '{ lambda ; a:f32[2] b:f64[]. let',
        '    c:f32[] = cast[dtype=float32] b',
        '    d:f32[2] = mul a c',
        '  in (d) }',
      ].join('\n'),
    )
    expect((evalProgram(p, tensor([1, 2], 'float32'), 0.1) as Tensor).toTypedArray()).toEqual(
      mul(tensor([1, 2], 'float32'), 0.1).toTypedArray(),
    )
  })
})

describe('evalProgram', () => {
  it('computes what the function computes, bit for bit', () => {
    const p = trace(grad(mlpLoss))(params, X, Y)
    const x2 = tensor([
      [0.5, -1, 2],
      [1, 1, 1],
    ])
    expect(JSON.stringify(evalProgram(p, params, x2, Y))).toBe(JSON.stringify(grad(mlpLoss)(params, x2, Y)))
  })

  it('is differentiable like any function: grad, hessian and jvp of an evaluated program', () => {
    const f = (x: Tensor) => sum(mul(sin(x), x))
    const p = trace(f)(tensor([0, 0]))
    const x = tensor([0.3, -1.2])
    const viaProgram = (u: Tensor) => evalProgram(p, u) as Tensor
    expect(grad(viaProgram)(x).toArray()).toEqual(grad(f)(x).toArray())
    expect(hessian(viaProgram)(x).toArray()).toEqual(hessian(f)(x).toArray())
    expect(jvp(viaProgram, x, tensor([1, 2]))[1].toArray()).toEqual(jvp(f, x, tensor([1, 2]))[1].toArray())
  })

  it('checks the arguments against the program inputs', () => {
    const p = trace((x: Tensor) => sum(x))(tensor([1, 2]))
    expect(throwsPurediff(() => evalProgram(p, tensor([1, 2, 3]))).message).toContain(
      "does not match the program's input f64[2]",
    )
  })
})

describe('concretization', () => {
  it('a staged value used for JS control flow names the transform and suggests where or static', () => {
    const e = throwsPurediff(() =>
      trace((x: Tensor) => ((sum(x) as unknown as number) > 0 ? x : mul(x, 2)))(tensor([1])),
    )
    expect(e.tag).toBe('ConcretizationError')
    expect(e.message).toContain('trace')
    expect(e.message).toContain('where(cond, a, b)')
    expect(e.message).toContain('static')
  })
  it('reading a staged value (item) is a ConcretizationError too, also inside grad', () => {
    expect(throwsPurediff(() => trace((x: Tensor) => mul(x, sum(x).item()))(tensor([1]))).tag).toBe(
      'ConcretizationError',
    )
    expect(throwsPurediff(() => trace(grad((x: Tensor) => mul(x, x.toArray() as number)))(tensor(1))).tag).toBe(
      'ConcretizationError',
    )
  })
  it('where is the staged way to choose', () => {
    const f = (x: Tensor) => sum(where(greater(x, 0), x, mul(x, 2)))
    const p = trace(f)(tensor([1, -1]))
    expect((evalProgram(p, tensor([3, -4])) as Tensor).item()).toBe(-5)
  })
})
