/**
 * The law jit(f) ≡ f (`checkJit` from purediff/laws) on random programs from the program
 * arbitraries, over values, gradients, Hessian-vector products and jvps, in float64 and
 * float32. The tolerance derives from summation order: the compiler reorders no sum, so the
 * law demands equality bit for bit (0 ulps); fused reductions (`sum`/`max` over trailing
 * axes, `sum` over leading axes, inside a loop) keep the eager kernels' order, so they are
 * held to 0 ulps too (a trailing sum the eager path runs in WebAssembly, whose two-lane order
 * would differ by up to 2·γ(n−1)·Σ|x|, is left to that kernel: see compile.ts). The
 * suite is then shown to fail on a deliberately wrong fusion (a fused `sub` with its operands
 * swapped), on both the fused loops and the scalar straight-line code, and on deliberately
 * wrong fused reductions (a sum off by one ulp per term, which is the size of a reordering;
 * a max that drops NaN).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import {
  add,
  exp,
  grad,
  hvp,
  jit,
  jvp,
  logSoftmax,
  max,
  mul,
  sin,
  sub,
  sum,
  tanh,
  tensor,
  tree,
} from '../../src/index.js'
import { arbProgramCase, checkJit, formatViolation } from '../../laws/index.js'
import type { ProgramInputs } from '../../laws/index.js'
import { expressionTables, reductionTables } from '../../src/staging/compile.js'
import { wasmMinElements } from '../../src/kernels/backend.js'

const SEED = 20261202

const jitLaw = (dtype: 'float64' | 'float32', runs: number) =>
  fc.property(arbProgramCase({ dtype }), fc.nat(), ({ program, params }, k) => {
    const dir = tree.map(
      params,
      (l, path) => add(mul(l as Tensor, 0), ((path.length + k) % 3) - 1) as Tensor,
    ) as ProgramInputs
    const checks = [
      checkJit(program.f, [params]),
      // the loss is sum(f): its sum is fused into the loop that computes f
      checkJit(program.loss, [params]),
      checkJit(grad(program.loss), [params]),
      checkJit((p: ProgramInputs, v: ProgramInputs) => hvp(program.loss)(p, v), [params, dir]),
      checkJit((p: ProgramInputs, v: ProgramInputs) => jvp(program.f, p, v), [params, dir]),
    ]
    for (const c of checks) if (E.isLeft(c)) throw new Error(`${program.text}\n${formatViolation(c.left)}`)
    return runs > 0
  })

describe('jit(f) ≡ f on random programs', () => {
  it.each(['float64', 'float32'] as const)(
    'values, gradients, Hessian-vector products and jvps agree bit for bit (%s)',
    (dtype) => {
      fc.assert(jitLaw(dtype, 1), { seed: SEED, numRuns: 40 })
    },
  )

  it('the report says what was compared and how close', () => {
    const r = checkJit((x: Tensor) => sum(sin(x)), [tensor([1, 2])])
    expect(E.isRight(r) && r.right).toEqual({
      law: 'jit(f) = f',
      leaves: 1,
      maxUlps: 0,
      tolerance: expect.stringContaining('reorders no sum'),
    })
  })
})

describe('the law fails on a deliberately wrong fusion', () => {
  const withSwappedSub = (body: () => void): void => {
    const right = expressionTables.binary.sub as (x: string, y: string) => string
    expressionTables.binary.sub = (x, y) => `(${y} - ${x})`
    try {
      body()
    } finally {
      expressionTables.binary.sub = right
    }
  }

  it('on random programs (fused loops)', () => {
    withSwappedSub(() => {
      const run = () => fc.assert(jitLaw('float64', 1), { seed: SEED, numRuns: 60 })
      let err: unknown = null
      try {
        run()
      } catch (e) {
        err = e
      }
      // fast-check reports the shrunk program (it has a sub) and, as the cause, the law's report
      expect(String(err)).toMatch(/Property failed[\s\S]*sub\(/)
      expect(String((err as Error).cause)).toMatch(/jit\(f\) = f: element \d+ differs/)
    })
  })

  it('on a scalar program (straight-line code) and a tensor program', () => {
    withSwappedSub(() => {
      const f = (x: Tensor) => tanh(sub(sin(x), mul(x, 0.5)))
      const a = checkJit(f, [tensor(0.7)])
      const b = checkJit(
        grad((x: Tensor) => sum(f(x))),
        [tensor([0.7, -0.2])],
      )
      expect(E.isLeft(a) && a.left.message).toMatch(/differs/)
      expect(E.isLeft(b) && b.left.path).toBe('')
      // a long scalar program (the register machine)
      const long = (x: Tensor) => {
        let y: Tensor = x
        for (let i = 0; i < 300; i++) y = tanh(sub(sin(y), mul(x, 0.5)))
        return y
      }
      expect(E.isLeft(checkJit(grad(long), [tensor(0.7)]))).toBe(true)
    })
  })

  it('a tolerance in ulps is honoured and explained', () => {
    const r = checkJit((x: Tensor) => sum(x), [tensor([1, 2])], { ulps: 8 })
    expect(E.isRight(r) && r.right.tolerance).toContain('γ(n)')
  })
})

describe('fused reductions', () => {
  const x = tensor([
    [0.3, -1.2, 2.5, 0.1],
    [1e-8, 3.3, -0.7, 1e3],
    [NaN, 1, 2, 3],
  ])
  const chain = (t: Tensor) => [sum(exp(sin(t)), 1), max(mul(t, 2), 1), sum(mul(t, t))]

  it('a sum or max over trailing axes joins the loop that computes its input, bit for bit', () => {
    const jf = jit(chain)
    const r = checkJit(chain, [x])
    expect(E.isRight(r) && r.right.maxUlps).toBe(0)
    jf(x)
    const e = jf.entries()[0]!
    expect(e.fusedReductions).toBe(3)
    // over leading axes (a bias gradient): sum only, in both dtypes, bit for bit
    for (const dtype of ['float64', 'float32'] as const) {
      const xd = tensor(
        [
          [0.1, 0.2, 0.3],
          [1e8, -1e8, 3],
          [0.7, 1e-9, -2.5],
        ],
        dtype,
      )
      const lead = (t: Tensor) => [sum(mul(sin(t), 3), 0), sum(exp(t), 0)]
      const r0 = checkJit(lead, [xd])
      expect(E.isRight(r0) && r0.right.maxUlps).toBe(0)
      const jl = jit(lead)
      jl(xd)
      expect(jl.entries()[0]!.fusedReductions).toBe(2)
    }
    // the softmax cross-entropy of a batch, its gradient, in both dtypes
    for (const dtype of ['float64', 'float32'] as const) {
      const z = tensor(
        [
          [0.5, -1, 2, 0],
          [3, 0.25, -0.5, 1],
        ],
        dtype,
      )
      const loss = (t: Tensor) => sum(mul(logSoftmax(t), t))
      const jg = jit(grad(loss))
      expect(E.isRight(checkJit(grad(loss), [z]))).toBe(true)
      expect(E.isRight(checkJit(loss, [z]))).toBe(true)
      jg(z)
      expect(jg.entries()[0]!.fusedReductions).toBeGreaterThan(0)
    }
  })

  it('a trailing sum the eager kernel runs in WebAssembly stays with that kernel (max still fuses)', () => {
    const big = tensor(Array.from({ length: 40 }, (_, i) => Array.from({ length: 40 }, (_, j) => Math.sin(i * 40 + j))))
    const f = (t: Tensor) => [sum(exp(t), 1), max(mul(t, 3), 1)]
    const r = checkJit(f, [big])
    expect(E.isRight(r) && r.right.maxUlps).toBe(0)
    const jf = jit(f)
    jf(big)
    // 1 600 elements: at or above the threshold the sum is the WebAssembly kernel's, not fused
    expect(jf.entries()[0]!.fusedReductions).toBe(1600 >= wasmMinElements() ? 1 : 2)
  })

  const withPlanted = (name: 'sum' | 'max', entry: (typeof reductionTables)[string], body: () => void): void => {
    const right = reductionTables[name]!
    reductionTables[name] = entry
    try {
      body()
    } finally {
      reductionTables[name] = right
    }
  }

  it('the law fails on a fused sum off by one ulp per term (the size of a reordering)', () => {
    withPlanted('sum', { init: '0', step: (acc, t) => `${acc} += ${t} * (1 + 2 ** -52);` }, () => {
      const r = checkJit((t: Tensor) => sum(exp(t), 1), [tensor([[0.1, 0.2, 0.3]])])
      expect(E.isLeft(r) && r.left.message).toMatch(/differs/)
    })
  })

  it('the law fails on a fused leading-axes sum off by one ulp per term', () => {
    withPlanted('sum', { init: '0', step: (acc, t) => `${acc} += ${t} * (1 + 2 ** -52);` }, () => {
      const r = checkJit(
        (t: Tensor) => sum(exp(t), 0),
        [
          tensor([
            [0.1, 0.2],
            [0.3, 0.4],
            [0.5, 0.6],
          ]),
        ],
      )
      expect(E.isLeft(r) && r.left.message).toMatch(/differs/)
    })
  })

  it('the law fails on a fused max that drops NaN', () => {
    withPlanted('max', { init: '-Infinity', step: (acc, t) => `if (${t} > ${acc}) ${acc} = ${t};` }, () => {
      const r = checkJit((t: Tensor) => max(mul(t, 2), 1), [x])
      expect(E.isLeft(r) && r.left.message).toMatch(/differs/)
    })
  })

  it('the law fails on random programs when fused sums start from a wrong value', () => {
    withPlanted('sum', { init: '1', step: (acc, t) => `${acc} += ${t};` }, () => {
      let err: unknown = null
      try {
        fc.assert(jitLaw('float64', 1), { seed: SEED, numRuns: 60 })
      } catch (e) {
        err = e
      }
      expect(String(err)).toMatch(/Property failed/)
      expect(String((err as Error).cause)).toMatch(/jit\(f\) = f: element \d+ differs/)
    })
  })
})
