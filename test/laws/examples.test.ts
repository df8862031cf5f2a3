/**
 * The `@example`s in the doc comments of `laws/` run as written: each is extracted from the
 * source, transpiled (TypeScript → JavaScript, so type arguments and annotations are kept in
 * the text) and run with purediff, purediff/laws, fast-check and fp-ts in scope, plus the
 * user-side names the examples assume (`model`, `sgd`). An example that throws (a law suite
 * that fails, a codec that is a factory used as a codec) fails its test.
 *
 * laws/vitest.ts is left out: its examples register vitest tests, which `test/laws/
 * vitest-helpers.test.ts` covers.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as N from 'fp-ts/lib/number.js'
import * as O from 'fp-ts/lib/Option.js'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as purediff from '../../src/index.js'
import { add, matmul, sum, tanh, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import { TensorCodec, tensorCodec } from '../../src/io/index.js'
import * as laws from '../../laws/index.js'

const lawsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'laws')

interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

/** Every `@example` block of a file: the comment lines after the tag, up to the next tag or the end of the comment. */
const examplesOf = (file: string): Example[] => {
  const lines = readFileSync(join(lawsDir, file), 'utf8').split('\n')
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
}

const X = tensor([
  [0.5, -1, 2],
  [1, 0.3, -0.2],
  [-0.7, 0.8, 0.1],
  [0.2, -0.4, 1.5],
])
const userNames: Record<string, unknown> = {
  // the model of the jvpMatchesNumeric example: parameters { w: [3, 2], b: [2] }
  model: (p: { readonly w: Tensor; readonly b: Tensor }) => sum(tanh(add(matmul(X, p.w), p.b))),
  sgd: purediff.optim.sgd,
}

const scope: Record<string, unknown> = Object.fromEntries(
  Object.entries({ ...purediff, ...laws, fc, E, O, N, TensorCodec, tensorCodec, ...userNames }).filter(([k]) =>
    /^[A-Za-z_$][\w$]*$/.test(k),
  ),
)

const run = (code: string): void => {
  const js = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const names = Object.keys(scope)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function(...names, `"use strict";\n${js}`)(...names.map((k) => scope[k]))
}

const files = readdirSync(lawsDir).filter((f) => f.endsWith('.ts') && f !== 'vitest.ts')
const examples = files.flatMap(examplesOf)

describe('doc-comment examples of purediff/laws', () => {
  it('are found, including the ones of functorLaws and codecLaws', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8)
    expect(examples.some((e) => e.code.includes('functorLaws('))).toBe(true)
    expect(examples.some((e) => e.code.includes('codecLaws('))).toBe(true)
  })
  for (const e of examples) {
    it(`laws/${e.file}:${e.line} runs: ${e.code.split('\n').filter((l) => !l.startsWith('//'))[0] ?? ''}`, () => {
      const log = console.log
      console.log = () => undefined
      try {
        expect(() => run(e.code)).not.toThrow()
      } finally {
        console.log = log
      }
    })
  }
})
