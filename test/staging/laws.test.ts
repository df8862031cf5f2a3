/**
 * The law jit(f) ≡ f (`checkJit` from purediff/laws) on random programs from the program
 * arbitraries, over values, gradients, Hessian-vector products and jvps, in float64 and
 * float32. The tolerance derives from summation order: the compiler reorders no sum, so the
 * law demands equality bit for bit (0 ulps). The suite is then shown to fail on a
 * deliberately wrong fusion (a fused `sub` with its operands swapped), on both the fused
 * loops and the scalar straight-line code.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import { add, grad, hvp, jvp, mul, sin, sub, sum, tanh, tensor, tree } from '../../src/index.js'
import { arbProgramCase, checkJit, formatViolation } from '../../laws/index.js'
import type { ProgramInputs } from '../../laws/index.js'
import { expressionTables } from '../../src/staging/compile.js'

const SEED = 20261202

const jitLaw = (dtype: 'float64' | 'float32', runs: number) =>
  fc.property(arbProgramCase({ dtype }), fc.nat(), ({ program, params }, k) => {
    const dir = tree.map(
      params,
      (l, path) => add(mul(l as Tensor, 0), ((path.length + k) % 3) - 1) as Tensor,
    ) as ProgramInputs
    const checks = [
      checkJit(program.f, [params]),
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
