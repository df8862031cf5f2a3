/**
 * Every public value (function, constant, class) of `purediff`, `purediff/viz` and their
 * namespaces has a doc comment with an `@example` (its API page shows it), except the names
 * in `missing-examples.json`: the ones that had none when this check was added (the list is
 * empty now: every public value has one). That list may only shrink: a new export comes with
 * its example, and a name that gains one must leave the list (the test says which). The public names are read from the entry points with the
 * TypeScript checker, following re-exports and `export * as` namespaces.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const entries: Record<string, string> = { purediff: 'src/index.ts', 'purediff/viz': 'src/viz/index.ts' }
const allowed = new Set(
  JSON.parse(readFileSync(join(root, 'test', 'docs', 'missing-examples.json'), 'utf8')) as string[],
)

const publicValues = (): Map<string, boolean> => {
  const program = ts.createProgram(
    Object.values(entries).map((f) => join(root, f)),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
  )
  const checker = program.getTypeChecker()
  const out = new Map<string, boolean>()
  const hasExample = (s: ts.Symbol): boolean =>
    (s.declarations ?? []).some(
      (d) =>
        ts.getJSDocTags(d).some((t) => t.tagName.text === 'example') ||
        ts.getJSDocTags(ts.isVariableDeclaration(d) ? d.parent.parent : d).some((t) => t.tagName.text === 'example'),
    )
  const visit = (moduleSymbol: ts.Symbol, prefix: string, depth: number): void => {
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const s = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const name = `${prefix}.${exported.name}`
      if (s.flags & ts.SymbolFlags.ValueModule && depth < 3) visit(s, name, depth + 1)
      else if (s.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable | ts.SymbolFlags.Class))
        out.set(name, hasExample(s))
    }
  }
  for (const [name, file] of Object.entries(entries)) {
    const sf = program.getSourceFile(join(root, file))
    const symbol = sf === undefined ? undefined : checker.getSymbolAtLocation(sf)
    if (symbol !== undefined) visit(symbol, name, 0)
  }
  // A data-last form (`pipeable.mul(b)(a)` is `mul(a, b)`) is documented by the data-first
  // function it curries, whose page has the example; the module's own example shows the form.
  for (const [name, ok] of out) {
    const m = /^purediff\.pipeable\.(tree\.)?(.+)$/.exec(name)
    if (!ok && m !== null) out.set(name, out.get(`purediff.${m[1] ?? ''}${m[2]}`) === true)
  }
  return out
}

describe('API docs', () => {
  const values = publicValues()

  it('reads the public surface (the check is not vacuous)', () => {
    expect(values.size).toBeGreaterThan(300)
    expect(values.get('purediff.grad')).toBe(true)
    expect(values.get('purediff/viz.explain')).toBe(true)
  })

  it('every public value has an @example, except the names listed as missing one', () => {
    const missing = [...values].filter(([name, ok]) => !ok && !allowed.has(name)).map(([name]) => name)
    expect(missing, 'new public names without an @example').toEqual([])
  })

  it('the list of names missing an example only shrinks', () => {
    const documented = [...allowed].filter((name) => values.get(name) === true)
    expect(documented, 'these now have an example: remove them from test/docs/missing-examples.json').toEqual([])
  })
})
