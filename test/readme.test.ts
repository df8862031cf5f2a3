/**
 * The README's code runs. Every ```ts block whose first line is an `import` is a complete
 * program: it is written to a module (with `purediff` and `purediff/laws` pointed at this
 * checkout), imported, and its claims are checked:
 *
 * - a statement line ending in `// <literal>` (a number, a '...' string or a JSON array)
 *   asserts that the expression equals the literal (numbers exactly, arrays after `toArray`);
 * - when a plain ``` block follows the code block, it is what the program prints.
 *
 * Blocks that are excerpts (no leading import) are not run; they mirror the examples, which
 * have tests of their own.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { Tensor } from '../src/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const cache = join(root, 'node_modules', '.cache', 'purediff-readme')

interface Block {
  readonly line: number
  readonly lang: string
  readonly code: string
}

const blocks = (md: string): Block[] => {
  const out: Block[] = []
  const lines = md.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!)
    out.push({ line: start + 1, lang: open[1] ?? '', code: body.join('\n') })
  }
  return out
}

const LITERAL = /^(.*?\S)\s+\/\/ (-?\d[\d.]*(?:e-?\d+)?|'[^']*'|\[[-\d.,\s[\]e]*\])(?=$|[\s:(])/
const STATEMENT_START = /^(import|export|const|let|type|interface|if|for|return|\}|\)|\/\/)/

/** Rewrite a block into a module that records the value of every annotated line. */
const instrument = (code: string): string => {
  const body = code
    .replace(/from 'purediff\/laws'/g, `from ${JSON.stringify(join(root, 'laws', 'index.ts'))}`)
    .replace(/from 'purediff\/viz'/g, `from ${JSON.stringify(join(root, 'src', 'viz', 'index.ts'))}`)
    .replace(/from 'purediff'/g, `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`)
    .split('\n')
    .map((l, k) => {
      const m = LITERAL.exec(l)
      if (m === null || STATEMENT_START.test(l.trim()) || /^\s/.test(l)) return l
      return `__claim(${k + 1}, () => (${m[1]}), ${JSON.stringify(m[2])})`
    })
    .join('\n')
  return `const __claim = (globalThis as any).__readmeClaim\n${body}\n`
}

const plain = (v: unknown): unknown => {
  if (v instanceof Tensor) return v.toArray()
  if (Array.isArray(v)) return v.map(plain)
  return v
}

const literalValue = (s: string): unknown => (s.startsWith("'") ? s.slice(1, -1) : JSON.parse(s))

const g = globalThis as unknown as { __readmeClaim?: (line: number, f: () => unknown, literal: string) => void }

describe('README code blocks', () => {
  const all = blocks(readme)
  const runnable = all
    .map((b, i) => ({ ...b, next: all[i + 1] }))
    .filter((b) => b.lang === 'ts' && b.code.trimStart().startsWith('import '))

  afterAll(() => rmSync(cache, { recursive: true, force: true }))

  it('has runnable blocks', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(5)
  })

  for (const [n, b] of runnable.entries()) {
    it(`the block at README.md line ${b.line} runs and says what it shows`, async () => {
      mkdirSync(cache, { recursive: true })
      const file = join(cache, `block-${n}.ts`)
      writeFileSync(file, instrument(b.code))
      const claims: Array<{ line: number; actual: unknown; expected: unknown }> = []
      g.__readmeClaim = (line, f, literal) =>
        claims.push({ line: b.line + line, actual: plain(f()), expected: literalValue(literal) })
      const printed: string[] = []
      const log = console.log
      console.log = (...args: unknown[]) => printed.push(format(...args))
      try {
        await import(pathToFileURL(file).href)
      } finally {
        console.log = log
        delete g.__readmeClaim
      }
      for (const c of claims) expect({ line: c.line, value: c.actual }).toEqual({ line: c.line, value: c.expected })
      if (b.next !== undefined && b.next.lang === '' && b.next.line <= b.line + b.code.split('\n').length + 4) {
        expect(printed.join('\n')).toBe(b.next.code)
      }
    })
  }

  it('annotations are found (the checker is not vacuous)', () => {
    const annotated = runnable.flatMap((b) =>
      b.code.split('\n').filter((l) => LITERAL.test(l) && !STATEMENT_START.test(l.trim())),
    )
    expect(annotated.length).toBeGreaterThanOrEqual(6)
  })
})
