import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { main as backprop, INIT, loss as backpropLoss } from '../../examples/lessons/backprop.js'
import { main as dualNumbers } from '../../examples/lessons/dual-numbers.js'
import { main as newton } from '../../examples/lessons/newton.js'
import { main as confusion } from '../../examples/lessons/perturbation-confusion.js'
import { main as reverseVsForward, SIZES } from '../../examples/lessons/reverse-vs-forward.js'
import { numGrad, type Tensor } from '../../src/index.js'
import { assertClose } from '../helpers/allClose.js'

const out = mkdtempSync(join(tmpdir(), 'purediff-lessons-'))
const quiet = (lines: string[]) => (l: string) => void lines.push(l)

const checkFiles = (files: { svg: string; html: string }) => {
  expect(existsSync(files.html)).toBe(true)
  expect(XMLValidator.validate(readFileSync(files.svg, 'utf8'))).toBe(true)
  expect(readFileSync(files.html, 'utf8')).toMatch(/^<!doctype html>/)
}

describe('lessons', () => {
  it('dual numbers: by hand, dual, jvp and explain agree with the derivative on paper', () => {
    const lines: string[] = []
    const r = dualNumbers({ out, log: quiet(lines) })
    const exact = Math.sin(0.5) + 0.5 * Math.cos(0.5) + 1
    expect(r.byHand.tangent).toBeCloseTo(exact, 14)
    expect(r.viaDual.tangent).toBeCloseTo(exact, 14)
    expect(r.viaJvp.tangent).toBeCloseTo(exact, 14)
    const e = r.explanation
    expect(e.nodes[e.outputs[0]!]!.tangent!.item()).toBeCloseTo(exact, 14)
    expect(e.nodes[e.inputs[0]!]!.adjoint!.item()).toBeCloseTo(exact, 14)
    expect(lines.join('\n')).toContain('forward sweep')
    checkFiles(r.files)
  })

  it('reverse vs forward: counted scalar operations, relative to one evaluation, stay flat on the right side and grow with n on the wrong one', () => {
    const r = reverseVsForward({ out, log: quiet([]) })
    const col = (k: 'lossReverse' | 'lossForward' | 'curveForward' | 'curveReverse') => r.rows.map((row) => row[k])
    expect(r.rows.map((row) => row.n)).toEqual([...SIZES])
    // reverse for the loss and forward for the curve cost a bounded multiple of one evaluation
    // (the "cheap gradient principle": a small constant, whatever n)
    for (const k of ['lossReverse', 'curveForward'] as const) {
      const c = col(k)
      expect(Math.max(...c)).toBeLessThan(5)
      expect(Math.max(...c.slice(2)) / Math.min(...c.slice(2))).toBeLessThan(1.2)
    }
    // the other two push n directions: their multiple grows linearly in n, a + b·n with b > 0,
    // so its increment doubles when n doubles (SIZES double). The increments are counted
    // exactly; only the terms of the program that do not scale with n (a seed, a reduction)
    // bend them at small n, so this is checked from n = 4 on, within 5 %
    for (const k of ['lossForward', 'curveReverse'] as const) {
      const c = col(k)
      for (let i = 3; i < SIZES.length; i++) {
        const step = c[i]! - c[i - 1]!
        const before = c[i - 1]! - c[i - 2]!
        expect(before).toBeGreaterThan(0)
        expect(step / before).toBeGreaterThan(1.9)
        expect(step / before).toBeLessThan(2.1)
      }
    }
    expect(col('lossForward')[SIZES.length - 1]!).toBeGreaterThan(5 * col('lossReverse')[SIZES.length - 1]!)
    checkFiles(r.files)
  })

  it('perturbation confusion: naive dual numbers give 2, purediff gives 1', () => {
    const r = confusion({ out, log: quiet([]) })
    expect(r.naive).toBe(2)
    expect(r.right).toBe(1)
    // the inner derivative is a constant node: x reaches the output only through the product
    const e = r.explanation
    expect(e.nodes.filter((n) => n.kind === 'op').map((n) => n.op)).toEqual(['mul'])
    checkFiles(r.files)
  })

  it("Newton: converges to √2, N'(1) = f f'' / f'² = -1/2 and N'(√2) = 0", () => {
    const r = newton({ out, log: quiet([]) })
    expect(Math.abs(r.iterates[r.iterates.length - 1]! - Math.SQRT2)).toBeLessThanOrEqual(2.3e-16)
    expect(r.slopeAtStart).toBeCloseTo(-0.5, 14)
    expect(Math.abs(r.slopeAtRoot)).toBeLessThan(1e-15)
    checkFiles(r.files)
  })

  it('backprop: the adjoints of the parameters are the gradient (checked against finite differences), and a step lowers the loss', () => {
    const r = backprop({ out, log: quiet([]) })
    expect(r.maxDiff).toBeLessThan(1e-15)
    const num = numGrad(backpropLoss)(INIT) as unknown as Readonly<Record<string, Tensor>>
    const e = r.explanation
    for (const id of e.inputs) assertClose(e.nodes[id]!.adjoint!, num[e.nodes[id]!.name]!, 1e-7, 1e-9)
    expect(r.lossAfter).toBeLessThan(r.lossBefore)
    checkFiles(r.files)
  })
})
