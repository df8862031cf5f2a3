/**
 * The arbitraries produce what they promise (checked against rules written out here, not
 * against the code that generates them), and random programs make "automatic derivatives
 * match numeric ones" a single property, which also catches a broken rule hidden in a
 * program.
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as ops from '../../src/index.js'
import { Tensor, broadcastShapes, cos, customJvp, io, mul, sin } from '../../src/index.js'
import type { Expr } from '../../laws/index.js'
import {
  arbBroadcastablePair,
  arbParams,
  arbProgram,
  arbProgramCase,
  arbShape,
  arbTensor,
  checkGrads,
  formatFailure,
  keyPathsOf,
} from '../../laws/index.js'

const run = { numRuns: 100, seed: 3 }

describe('shapes and tensors', () => {
  it('arbShape respects rank and dim bounds', () => {
    fc.assert(
      fc.property(arbShape({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }), (s) => {
        expect(s.length >= 1 && s.length <= 2).toBe(true)
        expect(s.every((d) => d >= 2 && d <= 3)).toBe(true)
      }),
      run,
    )
  })
  it('arbTensor respects shape, range and dtype (float32 values are exactly representable)', () => {
    fc.assert(
      fc.property(arbTensor({ shape: [2, 3], dtype: 'float32', min: -0.5, max: 4 }), (t) => {
        expect(t.shape).toEqual([2, 3])
        expect(t.dtype).toBe('float32')
        for (const v of t.toTypedArray()) {
          expect(v >= -0.5 && v <= 4).toBe(true)
          expect(Math.fround(v)).toBe(v)
        }
      }),
      run,
    )
  })
  it('wellConditioned: away from 0 and square matrices strictly diagonally dominant', () => {
    fc.assert(
      fc.property(arbTensor({ shape: [2, 3, 3], wellConditioned: true, min: -1, max: 1 }), (t) => {
        const v = Array.from(t.toTypedArray())
        expect(v.every((x) => Math.abs(x) >= 0.1)).toBe(true)
        for (let b = 0; b < 2; b++) {
          for (let i = 0; i < 3; i++) {
            const row = v.slice(b * 9 + i * 3, b * 9 + i * 3 + 3)
            const off = row.reduce((s, x, j) => (j === i ? s : s + Math.abs(x)), 0)
            expect(Math.abs(row[i] as number)).toBeGreaterThan(off)
          }
        }
      }),
      run,
    )
  })
  it('arbBroadcastablePair gives shapes that broadcast by NumPy rules', () => {
    // NumPy: align right; each pair of dims is equal or one of them is 1
    const compatible = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
      for (let i = 1; i <= Math.min(a.length, b.length); i++) {
        const x = a[a.length - i] as number
        const y = b[b.length - i] as number
        if (x !== y && x !== 1 && y !== 1) return false
      }
      return true
    }
    fc.assert(
      fc.property(arbBroadcastablePair(), ([a, b]) => {
        expect(compatible(a, b)).toBe(true)
        expect(() => broadcastShapes('test', a, b)).not.toThrow()
      }),
      run,
    )
    // and it does produce pairs that differ (otherwise it would test nothing)
    const samples = fc.sample(arbBroadcastablePair(), { numRuns: 200, seed: 1 })
    expect(samples.some(([a, b]) => a.length !== b.length)).toBe(true)
    expect(samples.some(([a, b]) => a.length === b.length && a.some((d, i) => d !== b[i]))).toBe(true)
  })
})

describe('arbParams', () => {
  it('builds records of tensors of the spec\'s shapes, numbers for "number", ranges per leaf', () => {
    const spec = {
      l1: { w: [3, 4], b: [4] },
      layers: [{ w: [2] }, { w: [1, 1] }],
      s: 'number',
      g: { shape: [2], min: 5, max: 6 },
    } as const
    fc.assert(
      fc.property(arbParams(spec), (p) => {
        expect(keyPathsOf(p)).toEqual(['g', 'l1.b', 'l1.w', 'layers[0].w', 'layers[1].w', 's'])
        expect(p.l1.w.shape).toEqual([3, 4])
        expect(p.layers[1].w.shape).toEqual([1, 1])
        expect(typeof p.s).toBe('number')
        expect(Array.from(p.g.toTypedArray()).every((v) => v >= 5 && v <= 6)).toBe(true)
        expect(Object.isFrozen(p)).toBe(true)
      }),
      { numRuns: 20 },
    )
  })
  describe('with a parameter schema (src/io/schema.ts) as the spec', () => {
    const { schema } = io
    const s = schema.record({
      w: schema.tensor([2, 3], { dtype: 'float32' }),
      lr: schema.number(),
      layers: schema.tuple(schema.tensor([2], { dtype: 'float32' }), schema.tensor([1, 1])),
    })
    it('every sample decodes with the schema codec: float32 stays float32, number leaves are numbers', () => {
      fc.assert(
        fc.property(arbParams(s, { min: -3, max: 3 }), (p) => {
          expect(E.isRight(s.codec.decode(p))).toBe(true)
          expect(p.w.dtype).toBe('float32')
          expect(p.layers[0].dtype).toBe('float32')
          expect(p.layers[1].dtype).toBe('float64')
          expect(typeof p.lr).toBe('number')
          expect(p.lr >= -3 && p.lr <= 3).toBe(true)
          for (const v of p.w.toTypedArray()) expect(v >= -3 && v <= 3).toBe(true)
        }),
        { numRuns: 50, seed: 1 },
      )
    })
    it('a schema nested in a plain spec is drawn from its own arbitrary too', () => {
      const [p] = fc.sample(arbParams({ head: s, extra: [2] }), { numRuns: 1, seed: 3 })
      expect(E.isRight(s.codec.decode(p?.head))).toBe(true)
      expect(p?.extra.shape).toEqual([2])
    })
    it('wellConditioned applies to its samples and keeps them decodable', () => {
      fc.assert(
        fc.property(arbParams(s, { wellConditioned: true }), (p) => {
          expect(E.isRight(s.codec.decode(p))).toBe(true)
          expect(Array.from(p.w.toTypedArray()).every((v) => Math.abs(v) >= 0.1 - 1e-7)).toBe(true)
          expect(Math.abs(p.lr)).toBeGreaterThanOrEqual(0.1)
        }),
        { numRuns: 30, seed: 2 },
      )
    })
    it('a dtype option is an error: the schema fixes its dtypes', () => {
      expect(() => arbParams(s, { dtype: 'float64' })).toThrow(TypeError)
    })
  })
  it('accepts a schema-like value with a shapeOf tree', () => {
    const [p] = fc.sample(arbParams({ shapeOf: { w: [2, 2], b: [] } }), { numRuns: 1, seed: 2 })
    expect(p?.w.shape).toEqual([2, 2])
    expect(p?.b.shape).toEqual([])
  })
})

describe('random programs', () => {
  const opNames = Object.keys(ops).filter((k) => typeof (ops as Record<string, unknown>)[k] === 'function')
  const opFns = opNames.map((k) => (ops as Record<string, unknown>)[k])
  it('print as purediff code that computes the same values', () => {
    fc.assert(
      fc.property(arbProgramCase(), ({ program, params }) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        const g = new Function(...opNames, `return ${program.text}`)(...opFns) as (p: unknown) => Tensor
        expect(g(params).toArray()).toEqual(program.f(params).toArray())
        expect(program.f(params).shape).toEqual([2, 3])
        for (const name of Object.keys(program.inputs)) expect(program.text).toContain(`p.${name}`)
      }),
      run,
    )
  })
  it('use only the ops asked for, and reach deep trees', () => {
    const progs = fc.sample(arbProgram({ ops: ['add', 'sin'] }), { numRuns: 200, seed: 4 })
    expect(progs.every((p) => p.ops.every((o) => o === 'add' || o === 'sin'))).toBe(true)
    const depth = (e: Expr): number =>
      e.kind === 'unary' ? 1 + depth(e.arg) : e.kind === 'binary' ? 1 + Math.max(depth(e.a), depth(e.b)) : 0
    expect(progs.some((p) => depth(p.expr) >= 4)).toBe(true)
    const all = new Set(fc.sample(arbProgram(), { numRuns: 400, seed: 5 }).flatMap((p) => p.ops))
    // every smooth op of the table shows up somewhere
    for (const o of [
      'neg',
      'exp',
      'log',
      'sin',
      'cos',
      'tan',
      'tanh',
      'sigmoid',
      'sqrt',
      'log1p',
      'expm1',
      'add',
      'sub',
      'mul',
      'div',
      'pow',
      'atan2',
    ]) {
      expect(all.has(o)).toBe(true)
    }
  })
  it('"gradients match central differences on random programs" is one property', () => {
    fc.assert(
      fc.property(arbProgramCase(), fc.nat(), ({ program, params }, seed) => {
        const r = checkGrads(program.loss, params, { seed })
        if (E.isLeft(r)) throw new Error(`${program.text}\n${formatFailure(r.left)}`)
      }),
      { numRuns: 150, seed: 11 },
    )
  })
  it('the same property catches a broken rule hidden inside random programs', () => {
    const badSin = customJvp(
      (x: Tensor) => sin(x),
      (x, xDot) => [sin(x), mul(mul(xDot, cos(x)), 1.01)],
    )
    const prop = fc.property(
      arbProgramCase({
        ops: ['add', 'mul'],
        extra: {
          unary: {
            badSin: { apply: (a) => badSin(a instanceof Tensor ? a : ops.scalar(a)), show: (a) => `badSin(${a})` },
          },
        },
      }),
      fc.nat(),
      ({ program, params }, seed) => {
        const r = checkGrads(program.loss, params, { seed })
        if (E.isLeft(r)) throw new Error(`${program.text}\n${formatFailure(r.left)}`)
      },
    )
    const d = fc.check(prop, { numRuns: 100, seed: 12, includeErrorInReport: true })
    expect(d.failed).toBe(true)
    const msg = fc.defaultReportMessage(d) ?? ''
    expect(msg).toContain('badSin(')
    expect(msg).toMatch(/key path '(x|y)\[\d\](\[\d\])?'/)
  })
})
