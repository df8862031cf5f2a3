/**
 * The `@example`s of the exports of src/viz run as written: each block is transpiled and run
 * with the names of `purediff` and `purediff/viz` in scope (plus `pipe`, `join` and
 * `tmpdir`). A line `expr // ≈ value` must equal the number to 12 significant digits; a
 * top-level line holding `===` or `<=` must be true.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as purediff from '../../src/index.js'
import * as viz from '../../src/viz/index.js'

interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

const vizDir = join(process.cwd(), 'src', 'viz')
const examples: Example[] = readdirSync(vizDir)
  .filter((f) => f.endsWith('.ts'))
  .flatMap((file) => {
    const lines = readFileSync(join(vizDir, file), 'utf8').split('\n')
    const out: Example[] = []
    lines.forEach((l, i) => {
      if (!/^\s*\*\s*@example\s*$/.test(l)) return
      const body: string[] = []
      for (let k = i + 1; k < lines.length; k++) {
        const m = /^\s*\*(?: (.*))?$/.exec(lines[k] as string)
        if (m === null || /^\s*@/.test(m[1] ?? '') || /\*\//.test(lines[k] as string)) break
        body.push(m[1] ?? '')
      }
      out.push({ file, line: i + 1, code: body.join('\n') })
    })
    return out
  })

const withChecks = (code: string): string =>
  code
    .split('\n')
    .map((l) => {
      const approx = /^(.*?)\s*\/\/ ≈ (-?[\d.e-]+)/.exec(l)
      if (approx !== null) return `__approx(${approx[1]?.replace(/;$/, '')}, ${approx[2]})`
      if (/^[A-Za-z_(]/.test(l) && !/^(const|let|import)\b/.test(l) && /(===|<=)/.test(l))
        return `__truthy(${l.replace(/;$/, '')})`
      return l
    })
    .join('\n')

const approx = (actual: unknown, expected: number): void => {
  expect(typeof actual).toBe('number')
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)))
}
const truthy = (v: unknown): void => expect(v).toBe(true)

const run = (code: string): void => {
  const scope: Record<string, unknown> = Object.fromEntries(
    Object.entries({ ...purediff, ...viz, pipe, join, tmpdir, __approx: approx, __truthy: truthy }).filter(([k]) =>
      /^[A-Za-z_$][\w$]*$/.test(k),
    ),
  )
  const js = ts.transpileModule(withChecks(code), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const names = Object.keys(scope)
  new Function(...names, `"use strict";\n${js}`)(...names.map((k) => scope[k]))
}

describe('doc-comment examples of purediff/viz', () => {
  it('are found, and checks can fail', () => {
    expect(examples.length).toBeGreaterThanOrEqual(15)
    expect(() => run("formatValue(Math.PI) === '3.1416'")).toThrow()
    expect(() => run('Math.sqrt(4) // ≈ 3')).toThrow()
    expect(() => run('Math.sqrt(4) // ≈ 2')).not.toThrow()
  })
  for (const e of examples) {
    it(`src/viz/${e.file}:${e.line}: ${e.code.split('\n')[0] ?? ''}`, () => {
      // examples that write files write them under a fresh temporary directory
      const cwd = process.cwd()
      process.chdir(mkdtempSync(join(tmpdir(), 'purediff-viz-doc-')))
      const log = console.log
      const write = process.stdout.write
      console.log = () => undefined
      process.stdout.write = (() => true) as typeof process.stdout.write
      try {
        run(e.code)
      } finally {
        console.log = log
        process.stdout.write = write
        process.chdir(cwd)
      }
    })
  }
})
