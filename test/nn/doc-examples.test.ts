/**
 * The `@example`s of every export tagged `@since 0.2.0` in src/nn, src/optim and src/random
 * run as written: each block is transpiled (TypeScript → JavaScript) and run with the
 * package's names in scope, plus the names of the module's own directory (`nn`, `optim` or
 * `random` exports; where a name is shared, the package's own wins: `zeros` is the tensor,
 * not the initializer). A block may end a line
 * with `// ≈ value` (a number or a JSON array): the line's expression must equal that value
 * to 12 significant digits.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as purediff from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import * as optim from '../../src/optim/index.js'
import * as random from '../../src/random/index.js'
import * as ops from '../../src/ops/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')
const dirs = { nn, optim, random, ops } as const

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
    // the rest of the comment must carry @since 0.2.0
    let since = false
    for (; k < lines.length && !/\*\//.test(lines[k - 1] ?? ''); k++)
      if (/@since 0\.2\.0/.test(lines[k] as string)) since = true
    if (since) out.push({ file: `${dir}/${file}`, line: i + 1, code: body.join('\n') })
  })
  return out
}

const examples = Object.keys(dirs).flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => examplesOf(dir, f)),
)

/** `expr // ≈ v` lines become checks. */
const withChecks = (code: string): string =>
  code
    .split('\n')
    .map((l) => {
      const m = /^(.*?)\s*\/\/ ≈ (.+)$/.exec(l)
      if (m === null) return l
      return `__check(${m[1]?.replace(/;$/, '')}, ${m[2]})`
    })
    .join('\n')

const toPlain = (x: unknown): unknown => (x instanceof purediff.Tensor ? purediff.toArray(x) : x)
const check = (actual: unknown, expected: unknown): void => {
  const a = toPlain(actual)
  const flatA = [a].flat(Infinity) as number[]
  const flatE = [expected].flat(Infinity) as number[]
  expect(flatA.length).toBe(flatE.length)
  flatE.forEach((e, i) => {
    const v = flatA[i] as number
    expect(Math.abs(v - e)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e)))
  })
}

const run = (dir: keyof typeof dirs, code: string): void => {
  const scope: Record<string, unknown> = Object.fromEntries(
    Object.entries({ ...dirs[dir], ...purediff, __check: check }).filter(([k]) => /^[A-Za-z_$][\w$]*$/.test(k)),
  )
  const js = ts.transpileModule(withChecks(code), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const names = Object.keys(scope)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function(...names, `"use strict";\n${js}`)(...names.map((k) => scope[k]))
}

describe('doc-comment examples of the 0.2.0 exports of nn, optim and random', () => {
  it('are found', () => {
    expect(examples.length).toBeGreaterThan(10)
  })
  it('a wrong annotated value fails its check', () => {
    expect(() => run('nn', 'l2(tensor([1, 3])) // ≈ 2.4')).toThrow()
    expect(() => run('nn', 'l2(tensor([1, 3])) // ≈ 2.5')).not.toThrow()
  })
  for (const e of examples) {
    it(`src/${e.file}:${e.line}: ${e.code.split('\n')[0] ?? ''}`, () => {
      const log = console.log
      console.log = () => undefined
      try {
        run(e.file.split('/')[0] as keyof typeof dirs, e.code)
      } finally {
        console.log = log
      }
    })
  }
})
