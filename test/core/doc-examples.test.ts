/**
 * The `@example`s of the 0.2.0 exports of src/transforms and src/tree run as written (as
 * test/nn/doc-examples.test.ts does for nn, optim and random): each block is transpiled and
 * run with the package's names in scope; a line ending in `// ≈ value` must equal the value
 * to 12 significant digits.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as purediff from '../../src/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

const examplesOf = (dir: string, file: string): Example[] => {
  const lines = readFileSync(join(root, dir, file), 'utf8').split('\n')
  const out: Example[] = []
  lines.forEach((l, i) => {
    if (!/^\s*\*\s*@example\s*$/.test(l)) return
    const body: string[] = []
    let k = i + 1
    for (; k < lines.length; k++) {
      const m = /^\s*\*(?: (.*))?$/.exec(lines[k] as string)
      if (m === null || /^\s*@/.test(m[1] ?? '') || /\*\//.test(lines[k] as string)) break
      body.push(m[1] ?? '')
    }
    let since = false
    for (; k < lines.length && !/\*\//.test(lines[k - 1] ?? ''); k++)
      if (/@since 0\.2\.0/.test(lines[k] as string)) since = true
    if (since) out.push({ file: `${dir}/${file}`, line: i + 1, code: body.join('\n') })
  })
  return out
}

const examples = ['transforms', 'tree'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => examplesOf(dir, f)),
)

const withChecks = (code: string): string =>
  code
    .split('\n')
    .map((l) => {
      const m = /^(.*?)\s*\/\/ ≈ (.+)$/.exec(l)
      return m === null ? l : `__check(${m[1]?.replace(/;$/, '')}, ${m[2]})`
    })
    .join('\n')

const check = (actual: unknown, expected: unknown): void => {
  const a = actual instanceof purediff.Tensor ? purediff.toArray(actual) : actual
  const flatA = [a].flat(Infinity) as number[]
  const flatE = [expected].flat(Infinity) as number[]
  expect(flatA.length).toBe(flatE.length)
  flatE.forEach((e, i) =>
    expect(Math.abs((flatA[i] as number) - e)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e))),
  )
}

const run = (code: string): void => {
  const scope: Record<string, unknown> = Object.fromEntries(
    Object.entries({ ...purediff, __check: check }).filter(([k]) => /^[A-Za-z_$][\w$]*$/.test(k)),
  )
  const js = ts.transpileModule(withChecks(code), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const names = Object.keys(scope)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function(...names, `"use strict";\n${js}`)(...names.map((k) => scope[k]))
}

describe('doc-comment examples of the 0.2.0 exports of transforms and tree', () => {
  it('are found, and a wrong annotated value fails', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10)
    expect(() => run('vmap((x: Tensor) => sum(x))(tensor([[1, 2], [3, 4]])) // ≈ [3, 8]')).toThrow()
  })
  for (const e of examples) {
    it(`src/${e.file}:${e.line}: ${e.code.split('\n')[0] ?? ''}`, () => run(e.code))
  }
})
