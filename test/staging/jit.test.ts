/**
 * `jit`: trace counting (a retrace on a new shape, dtype, structure or static value; none
 * on a repeated call or a new number), composition both ways (`jit(valueAndGrad)`,
 * `grad(jit)`, `jit(hessian)`, jitted functions under any order of differentiation), the
 * compiled paths (scalar straight-line code, fused loops, the interpreter) against eager
 * evaluation bit for bit, buffer reuse never visible, errors, and the bounded cache.
 */
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  derivative,
  exp,
  grad,
  hessian,
  jit,
  jvp,
  matmul,
  mean,
  mul,
  relu,
  sigmoid,
  sin,
  square,
  sub,
  sum,
  tanh,
  tensor,
  trace,
  valueAndGrad,
  where,
  greater,
  log,
  PurediffError,
  cos,
  neg,
  logSoftmax,
  maximum,
  pow,
  sqrt,
  jacfwd,
  jacrev,
  hvp,
  vjp,
  vmap,
} from '../../src/index.js'
import { CACHE_SIZE } from '../../src/staging/jit.js'
import { throwsPurediff } from '../helpers/errors.js'

const counted = <A extends unknown[], R>(f: (...a: A) => R): [(...a: A) => R, () => number] => {
  let n = 0
  return [(...a: A) => (n++, f(...a)), () => n]
}
const same = (a: unknown, b: unknown): void => expect(JSON.stringify(a)).toBe(JSON.stringify(b))

describe('tracing once per signature', () => {
  it('no retrace on a repeated call or new values; a retrace on a new shape, dtype or structure', () => {
    const [f, traces] = counted((x: Tensor) => sum(mul(sin(x), x)))
    const jf = jit(f)
    jf(tensor([1, 2]))
    expect(traces()).toBe(1)
    jf(tensor([3, 4]))
    jf(tensor([3, 4]))
    expect(traces()).toBe(1)
    jf(tensor([3, 4, 5]))
    expect(traces()).toBe(2)
    jf(tensor([3, 4], 'float32'))
    expect(traces()).toBe(3)
    jf(tensor([1, 1]))
    expect(traces()).toBe(3)
    expect(jf.entries().length).toBe(3)
  })

  it('a new number does not retrace and is never folded', () => {
    const [f, traces] = counted((x: Tensor, k: number) => mul(x, k))
    const jf = jit(f)
    same(jf(tensor([1, 2]), 2), mul(tensor([1, 2]), 2))
    same(jf(tensor([1, 2]), 3), mul(tensor([1, 2]), 3))
    expect(traces()).toBe(1)
  })

  it('static arguments: a new value retraces, the same value does not', () => {
    const [f, traces] = counted((x: Tensor, act: string) => (act === 'relu' ? relu(x) : tanh(x)))
    const jf = jit(f, { static: [1] })
    same(jf(tensor([-1, 2]), 'relu'), relu(tensor([-1, 2])))
    same(jf(tensor([-1, 2]), 'tanh'), tanh(tensor([-1, 2])))
    jf(tensor([-1, 3]), 'relu')
    expect(traces()).toBe(2)
  })

  it('strings and functions must be static', () => {
    const e = throwsPurediff(() => jit((x: Tensor, _s: string) => x)(tensor(1), 'a'))
    expect(e.message).toContain('static')
    expect(throwsPurediff(() => jit((x: Tensor, g: (t: Tensor) => Tensor) => g(x))(tensor(1), sin)).message).toContain(
      'args[1]',
    )
    same(jit((x: Tensor, g: (t: Tensor) => Tensor) => g(x), { static: [1] })(tensor(1), sin), sin(tensor(1)))
  })

  it('the cache is bounded', () => {
    const jf = jit((x: Tensor) => sum(x))
    for (let n = 1; n <= CACHE_SIZE + 6; n++) jf(tensor(Array.from({ length: n }, () => 1)))
    expect(jf.entries().length).toBe(CACHE_SIZE)
  })

  it('bad options are errors', () => {
    expect(throwsPurediff(() => jit(sin, { static: ['a'] as unknown as number[] })).tag).toBe('ValueError')
    expect(throwsPurediff(() => jit(sin, { statics: [1] } as never)).message).toContain("unknown option 'statics'")
  })
})

describe('a traced value used as a number', () => {
  it('raises ConcretizationError naming jit and suggesting where or static', () => {
    const e = throwsPurediff(() => jit((x: Tensor) => ((sum(x) as unknown as number) > 0 ? x : mul(x, 2)))(tensor([1])))
    expect(e).toBeInstanceOf(PurediffError)
    expect(e.tag).toBe('ConcretizationError')
    expect(e.message).toMatch(/^jit: /)
    expect(e.message).toContain('where')
    expect(e.message).toContain('jit(f, { static: [argIndex] })')
  })
})

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

describe('composition', () => {
  it('jit(valueAndGrad(loss)) equals valueAndGrad(loss) bit for bit, in float64 and float32', () => {
    for (const dt of ['float64', 'float32'] as const) {
      const p = {
        w1: tensor(params.w1.toArray(), dt),
        b1: tensor(params.b1.toArray(), dt),
        w2: tensor(params.w2.toArray(), dt),
        b2: tensor(params.b2.toArray(), dt),
      }
      const x = tensor(X.toArray(), dt)
      const y = tensor(Y.toArray(), dt)
      const jf = jit(valueAndGrad(mlpLoss))
      same(jf(p, x, y), valueAndGrad(mlpLoss)(p, x, y))
      expect(jf.entries()[0]!.mode).toBe('fused')
    }
  })

  it('grad(jit(f)), jit(hessian(f)), hessian(jit(f)), jvp(jit(f)) and derivative towers', () => {
    const f = (x: Tensor) => sum(mul(sin(x), exp(x)))
    const x = tensor([0.3, -0.7, 1.1])
    same(grad(jit(f))(x), grad(f)(x))
    same(jit(hessian(f))(x), hessian(f)(x))
    same(hessian(jit(f))(x), hessian(f)(x))
    same(jvp(jit(f), x, tensor([1, 0, 2])), jvp(f, x, tensor([1, 0, 2])))
    const g = (u: Tensor) => tanh(sin(u))
    let d: (u: Tensor) => Tensor = jit(g)
    let e: (u: Tensor) => Tensor = g
    for (let k = 0; k < 4; k++) {
      d = jit(derivative(d))
      e = derivative(e)
    }
    same(d(tensor(0.4)), e(tensor(0.4)))
  })

  it('a closure over an outer tracer is differentiated (and not cached)', () => {
    const outer = (x: Tensor) => jit((y: Tensor) => mul(mul(x, x), y))(tensor(3))
    expect((grad(outer)(tensor(2)) as Tensor).item()).toBe(12)
    expect((grad(outer)(tensor(5)) as Tensor).item()).toBe(30)
  })

  it('a jitted function inside trace is inlined', () => {
    const inner = jit((u: Tensor) => sin(u))
    const p = trace((x: Tensor) => sum(inner(x)))(tensor([1, 2]))
    expect(p.eqns.map((e) => e.prim.name)).toEqual(['sin', 'sum'])
  })

  it('a number argument gives a number gradient back, as the eager transform does', () => {
    const vg = jit(valueAndGrad((x: number) => tanh(sin(add(mul(x, 0.5), x)))))
    const [v, g] = vg(0.3)
    const [v0, g0] = valueAndGrad((x: number) => tanh(sin(add(mul(x, 0.5), x))))(0.3)
    expect(typeof g).toBe('number')
    expect(g).toBe(g0)
    expect(v.item()).toBe(v0.item())
    expect(vg.entries()[0]!.mode).toBe('scalar')
  })
})

describe('the compiled program', () => {
  it('removes dead code and common subexpressions, folds constants', () => {
    const jf = jit(grad(mlpLoss))
    jf(params, X, Y)
    const { program, optimized } = jf.entries()[0]!
    const names = (p: typeof program) => p.eqns.map((e) => e.prim.name)
    // the loss value (sum, div) is dead in a gradient; the two mulNoNan a m are one
    expect(names(program).filter((n) => n === 'mulNoNan').length).toBe(3)
    expect(names(optimized).filter((n) => n === 'mulNoNan').length).toBe(2)
    expect(names(optimized)).not.toContain('div')
    const folded = jit((x: Tensor) => mul(x, exp(tensor(1))))
    folded(tensor([1]))
    expect(folded.entries()[0]!.optimized.eqns.map((e) => e.prim.name)).toEqual(['mul'])
  })

  it('scalar programs become straight-line code; equal to eager bit for bit (float64 and float32)', () => {
    for (const dt of ['float64', 'float32'] as const) {
      const f = (x: Tensor) => {
        let y: Tensor = x
        for (let i = 0; i < 50; i++) y = tanh(sin(add(mul(y, 0.5 + i / 100), x)))
        return sigmoid(y)
      }
      const jf = jit(valueAndGrad(f))
      const x = tensor(0.3, dt)
      same(jf(x), valueAndGrad(f)(x))
      expect(jf.entries()[0]!.mode).toBe('scalar')
    }
  })

  it('a long scalar program runs on the register machine, equal to eager bit for bit (float64 and float32)', () => {
    for (const dt of ['float64', 'float32'] as const) {
      const f = (x: Tensor) => {
        let y: Tensor = x
        for (let i = 0; i < 300; i++) y = tanh(sin(add(mul(y, 0.5 + (i % 7) / 10), x)))
        return y
      }
      const jf = jit(valueAndGrad(f))
      same(jf(tensor(0.3, dt)), valueAndGrad(f)(tensor(0.3, dt)))
      same(jf(tensor(-1.1, dt)), valueAndGrad(f)(tensor(-1.1, dt)))
      expect(jf.entries()[0]!.mode).toBe('machine')
    }
  })

  it('fused loops equal eager bit for bit, and reused buffers are never seen', () => {
    const f = (x: Tensor, b: Tensor) => {
      const h = tanh(add(mul(x, 2), b))
      const s = sum(h, 1)
      return [mul(sub(h, 1), log(add(square(x), 1))), add(s, 1), where(greater(x, 0), x, mul(x, 0.1))]
    }
    const jf = jit(f)
    const x1 = tensor([
      [0.1, -0.4, 2],
      [1, 0, -3],
    ])
    const b = tensor([0.5, -0.5, 0])
    const r1 = jf(x1, b)
    const before = JSON.stringify(r1)
    const r2 = jf(
      tensor([
        [5, 4, 3],
        [2, 1, 0],
      ]),
      b,
    )
    expect(JSON.stringify(r1)).toBe(before) // the second call wrote nothing the first returned
    same(r1, f(x1, b))
    same(
      r2,
      f(
        tensor([
          [5, 4, 3],
          [2, 1, 0],
        ]),
        b,
      ),
    )
    expect(r1[0]).not.toBe(r2[0])
    expect(Object.isFrozen(r1[0])).toBe(true)
    expect(jf.entries()[0]!.fusedLoops).toBeGreaterThan(0)
  })

  it('the interpreter (no generated code) gives the same results', () => {
    const jf = jit(valueAndGrad(mlpLoss), { codegen: false })
    same(jf(params, X, Y), valueAndGrad(mlpLoss)(params, X, Y))
    expect(jf.entries()[0]!.mode).toBe('interpreted')
  })
})

describe('the transforms through jit', () => {
  // the transform suite's functions, each transform applied inside and outside jit
  const fns: ReadonlyArray<readonly [string, (x: Tensor) => Tensor, Tensor]> = [
    [
      'quadratic form + cos',
      (x) =>
        add(
          mul(
            0.5,
            sum(
              mul(
                x,
                matmul(
                  tensor([
                    [2, 1, 0],
                    [1, 3, 1],
                    [0, 1, 4],
                  ]),
                  x,
                ),
              ),
            ),
          ),
          sum(cos(x)),
        ),
      tensor([0.3, -0.2, 0.9]),
    ],
    ['softmax cross-entropy', (x) => neg(sum(mul(tensor([0, 1, 0]), logSoftmax(x)))), tensor([0.5, -1, 2])],
    [
      'maximum and where (kinks away from the point)',
      (x) => sum(where(greater(x, 0), maximum(x, 0.1), mul(x, x))),
      tensor([0.5, -1, 2]),
    ],
    ['pow, sqrt, log', (x) => sum(pow(sqrt(add(mul(x, x), 1)), log(add(exp(x), 1)))), tensor([0.1, 0.7, -0.4])],
  ]
  it.each(fns)('%s: grad, jacfwd, jacrev, hessian, hvp, jvp and vjp agree bit for bit', (_name, f, x) => {
    const v = tensor([1, -0.5, 2])
    same(jit(grad(f))(x), grad(f)(x))
    same(jit(jacfwd(grad(f)))(x), jacfwd(grad(f))(x))
    same(jit(jacrev(grad(f)))(x), jacrev(grad(f))(x))
    same(jit(hessian(f))(x), hessian(f)(x))
    same(jit(hvp(f))(x, v), hvp(f)(x, v))
    same(jit((u: Tensor, t: Tensor) => jvp(f, u, t))(x, v), jvp(f, x, v))
    same(jit((u: Tensor) => vjp(f, u)[1](tensor(1)))(x), vjp(f, x)[1](tensor(1)))
    same(grad(jit(f))(x), grad(f)(x))
    same(hessian(jit(f))(x), hessian(f)(x))
  })

  it('vmap composes with jit both ways', () => {
    const f = (x: Tensor) => sum(mul(sin(x), x))
    const xs = tensor([
      [0.1, 0.2],
      [0.3, -0.4],
      [1, 2],
    ])
    same(jit(vmap(grad(f)))(xs), vmap(grad(f))(xs))
    same(vmap(jit(grad(f)))(xs), vmap(grad(f))(xs))
  })
})
