/**
 * Examples are written as users write them: they import the library by its package name
 * (`purediff`, `purediff/viz`, `purediff/laws`, resolved by package self-reference), never a
 * path into `src/` or `laws/`, so any example can be copied into a user's project. Relative
 * imports stay inside `examples/`; anything else is a dependency in package.json or a Node
 * built-in.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const examples = join(root, 'examples')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  readonly name: string
  readonly exports: Record<string, unknown>
  readonly dependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
}
const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})])

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  )

/** The module specifiers of a file's static and dynamic imports and `require` calls. */
const specifiers = (text: string): string[] =>
  [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!)

/** What is wrong with one import of `file` (null: fine). */
const problem = (file: string, spec: string): string | null => {
  if (spec.startsWith('.')) {
    const target = resolve(dirname(file), spec)
    return relative(examples, target).startsWith('..') ? `reaches outside examples/ (${spec})` : null
  }
  if (spec.startsWith('node:')) return null
  if (spec === pkg.name || spec.startsWith(`${pkg.name}/`)) {
    const sub = spec === pkg.name ? '.' : `./${spec.slice(pkg.name.length + 1)}`
    return sub in pkg.exports ? null : `${spec} is not an export of the package`
  }
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
  return deps.has(name) ? null : `${spec} is not a dependency in package.json`
}

describe('examples import purediff by its package name', () => {
  const files = walk(examples)

  it('finds the examples and lessons', () => {
    expect(files.some((f) => f.endsWith(join('lessons', 'backprop.ts')))).toBe(true)
    expect(files.some((f) => f.endsWith('mnist.ts'))).toBe(true)
  })

  it('every import is the package by name, a file inside examples/, a dependency or a Node built-in', () => {
    const bad = files.flatMap((f) =>
      specifiers(readFileSync(f, 'utf8')).flatMap((s) => {
        const p = problem(f, s)
        return p === null ? [] : [`${relative(root, f)}: ${p}`]
      }),
    )
    expect(bad).toEqual([])
  })

  it('every example and lesson imports purediff by name', () => {
    const mains = files.filter((f) => !f.includes(`${join('examples', 'lib')}`))
    for (const f of mains) expect(specifiers(readFileSync(f, 'utf8')), relative(root, f)).toContain('purediff')
  })

  it('the check fails on an import of the sources', () => {
    const f = join(examples, 'mnist.ts')
    expect(problem(f, '../src/index.js')).toMatch(/outside examples/)
    expect(problem(f, 'purediff/src/index.js')).toMatch(/not an export/)
    expect(problem(f, 'left-pad')).toMatch(/not a dependency/)
    expect(problem(f, './lib/cli.js')).toBeNull()
  })
})
