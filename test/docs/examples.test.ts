/**
 * The `@example`s in the doc comments of the public modules under `src/` run as written (the
 * API pages of `npm run docs` show them). This is the one runner for them: each example runs
 * once. Each example is extracted from the source, transpiled (TypeScript → JavaScript, so
 * type annotations stay in the text) and run as an async function body, from a fresh
 * temporary directory, with console output muted, and with these names in scope (later ones
 * win):
 *
 * - the user-side names the examples assume (`params`, `grads`, `x`, `model`, `loss`,
 *   `config`, `state`, ...), defined below as small but real values;
 * - the members of the namespaces a user imports them from (`Stream.last`, `optim.adam`,
 *   `nn.accuracy`, `random.key`, `io.schema`, ...);
 * - the namespace of the example's folder (`schema`, `dense`, `explain`, ...);
 * - everything `purediff` and `purediff/laws` export, `fc` (fast-check), fp-ts's `pipe`,
 *   `flow`, `E`, `O`, `some`, `none`, `isRight`, `isLeft`;
 * - the example's own module, so an example in `src/dual/Dual.ts` calls the dual `add`.
 *
 * An example that throws fails its test. A top-level statement line (not indented, not
 * starting with a keyword such as `const` or `if`) may also make a claim that is checked:
 *
 * - `expression // literal` (a number, a '...' string, true/false or a JSON array of numbers,
 *   as in test/readme.test.ts, followed by nothing, by `:` or `(`, or by words): tensors are
 *   compared after `toArray`, numbers to 12 significant digits, everything else exactly;
 * - `expression // ≈ expected`, where `expected` is itself an expression in scope
 *   (`Math.LN2`, `[2 / (2 + 1e-8)]`): the two must have the same nesting, and each number must
 *   agree to 1e-12 relative (absolute below 1). The examples' values are exact in float64 up
 *   to a few roundings of a handful of operations, so 1e-12 is thousands of ulps above what a
 *   correct example can miss by, and far below what any wrong value is off by;
 * - a line holding `===`, `!==` or `<=` (and no `//` claim) must evaluate to `true`.
 *
 * A `// ≈` that the runner cannot turn into a check (inside a block, after a keyword) fails
 * the "are found" test, so no claim is silently skipped. laws/ has its own runner
 * (test/laws/examples.test.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { flow, pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as purediff from '../../src/index.js'
import * as laws from '../../laws/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const srcDir = join(root, 'src')

interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  )

/** Every `@example` block of a file: the comment lines after the tag, up to the next tag or the end of the comment. */
const examplesOf = (file: string): Example[] => {
  const lines = readFileSync(file, 'utf8').split('\n')
  const out: Example[] = []
  lines.forEach((l, i) => {
    if (!/^\s*\*\s*@example\s*$/.test(l)) return
    const body: string[] = []
    for (let k = i + 1; k < lines.length; k++) {
      const m = /^\s*\*(?: (.*))?$/.exec(lines[k] as string)
      if (m === null || /^\s*@/.test(m[1] ?? '') || /\*\//.test(lines[k] as string)) break
      body.push(m[1] ?? '')
    }
    out.push({ file: relative(root, file), line: i + 1, code: body.join('\n') })
  })
  return out
}

// ---------------------------------------------------------------------------------------
// claims: `expression // literal`
// ---------------------------------------------------------------------------------------

const LITERAL =
  /^(.*?\S)\s+\/\/ (-?\d+(?:\.\d+)?(?:e-?\d+)?|'[^']*'|true|false|\[[-\d.,\s[\]e]*\])(?=$|\s*[:(]|\s+[a-z])/
const APPROX = /^(.*?\S)\s+\/\/ ≈ (.+)$/
const TRUTHY = /(===|!==|<=)/
const STATEMENT_START =
  /^((import|export|const|let|var|type|interface|if|else|for|while|do|try|catch|finally|switch|throw|return|await|async|function|class)\b|\}|\)|\/\/)/

type ClaimKind = 'literal' | 'approx' | 'truthy'

/** The claim a line makes, if any: only top-level statement lines make one. */
const claimOf = (l: string): { kind: ClaimKind; expr: string; expected: string } | null => {
  if (/^\s/.test(l) || STATEMENT_START.test(l.trim())) return null
  const a = APPROX.exec(l)
  if (a !== null) return { kind: 'approx', expr: (a[1] as string).replace(/;$/, ''), expected: a[2] as string }
  const m = LITERAL.exec(l)
  if (m !== null) return { kind: 'literal', expr: m[1] as string, expected: m[2] as string }
  const code = l.replace(/\s*;?\s*$/, '')
  if (TRUTHY.test(code) && !/\/\//.test(code) && !/[{(,[]$|=>$/.test(code))
    return { kind: 'truthy', expr: code, expected: 'true' }
  return null
}

const instrument = (code: string): string =>
  code
    .split('\n')
    // an example may show its import; the names are in scope already
    .map((l) => (/^import .* from '[^']+'$/.test(l) ? '' : l))
    .map((l, k) => {
      const c = claimOf(l)
      if (c === null) return l
      return c.kind === 'approx'
        ? `;__claim(${k + 1}, () => (${c.expr}), ${JSON.stringify(c.expected)}, 'approx', () => (${c.expected}))`
        : `;__claim(${k + 1}, () => (${c.expr}), ${JSON.stringify(c.expected)}, '${c.kind}')`
    })
    .join('\n')

const plain = (v: unknown): unknown => {
  if (v instanceof purediff.Tensor) return v.toArray()
  if (Array.isArray(v)) return v.map(plain)
  return v
}

const literalValue = (s: string): unknown => (s.startsWith("'") ? s.slice(1, -1) : JSON.parse(s))

/** Numbers to 12 significant digits (a doc writes 5e-4 for 0.0005000000000000001), everything else exactly. */
const rounded = (v: unknown): unknown =>
  typeof v === 'number'
    ? Number.isFinite(v) && v !== 0
      ? Number(v.toPrecision(12))
      : v
    : Array.isArray(v)
      ? v.map(rounded)
      : v

// ---------------------------------------------------------------------------------------
// the user-side names the examples assume
// ---------------------------------------------------------------------------------------

const {
  tensor,
  zeros,
  ones,
  add,
  matmul,
  mean,
  square,
  sub,
  sum,
  tanh,
  io,
  nn,
  optim,
  random,
  fromTensors,
  initialState,
  encodeState,
  Stream,
} = purediff
type Tensor = purediff.Tensor
type Params = { readonly w: Tensor; readonly b: Tensor }
// 64 examples of y = x·[1, 2, -1] + 0.5, exactly linear, so a run reaches any target loss
const x = random.normal(random.key(1), [64, 3])
const y = add(matmul(x, tensor([[1], [2], [-1]])), 0.5)
const params: Params = { w: tensor([[0.1], [0.2], [-0.3]]), b: tensor([0.05]) }
const predict = (p: Params, input: Tensor): Tensor => add(matmul(input, p.w), p.b)
const loss = (p: Params, batch: { readonly x: Tensor; readonly y: Tensor } = { x, y }): Tensor =>
  mean(square(sub(predict(p, batch.x), batch.y)))
const data = fromTensors({ x, y })
const config = { params, loss, optimizer: optim.sgd(0.1), data, batchSize: 16, key: random.key(0) }
const state = initialState(config)
const opt = optim.sgd(0.1)
// io-ts errors of a tensor whose shape has a negative extent
const decoded = io.TreeCodec.decode({ w: { dtype: 'float64', shape: [2, -3], data: [] } })

const fixtures: Record<string, unknown> = {
  x,
  y,
  params,
  grads: purediff.grad(loss)(params),
  loss,
  predict,
  model: { init: (k: purediff.Key) => ({ w: random.normal(k, [3, 1]), b: zeros([1]) }), apply: predict },
  data,
  validation: { x, y: zeros([64]) }, // one class: the model's single logit always wins
  valLoss: (p: Params) => loss(p).item(),
  config,
  state,
  text: JSON.stringify(encodeState(state)),
  errors: decoded._tag === 'Left' ? decoded.left : [],
  json: JSON.parse(JSON.stringify(io.toJSON(params))),
  svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
  opt,
  state0: opt.init(params),
  images: zeros([2, 784]),
  labels: [0, 1],
  h: ones([2, 3]),
  w0: tensor([1]),
  w1: tensor([2]),
  b: tensor([3]),
  step: 7,
  join,
  tmpdir,
  readFileSync,
  f: (v: Tensor) => sum(tanh(v)),
}

const scopeOf = async (file: string): Promise<Record<string, unknown>> => {
  const folder = dirname(file)
  const index = join(folder, 'index.ts')
  const own = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  const ns =
    folder !== srcDir && walk(folder).includes(index)
      ? ((await import(pathToFileURL(index).href)) as Record<string, unknown>)
      : {}
  const all = {
    ...fixtures,
    ...Stream,
    ...io,
    ...nn,
    ...optim,
    ...random,
    ...ns,
    ...purediff,
    ...laws,
    ...{ fc, E, O, pipe, flow, some: O.some, none: O.none, isRight: E.isRight, isLeft: E.isLeft },
    ...own,
    // a folder's pipeable.ts is that folder's namespace in data-last form (`tree.scale(-0.1)`)
    ...(file.endsWith('/pipeable.ts') && folder !== srcDir ? { [folder.split('/').pop() as string]: own } : {}),
  }
  return Object.fromEntries(Object.entries(all).filter(([k]) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default'))
}

type Claim = { line: number; kind: ClaimKind; actual: unknown; expected: unknown }

/** Same nesting, and every number within 1e-12 relative (absolute below 1); see the header. */
const close = (a: unknown, e: unknown): boolean =>
  Array.isArray(e)
    ? Array.isArray(a) && a.length === e.length && e.every((ei, i) => close(a[i], ei))
    : typeof e === 'number' && typeof a === 'number'
      ? a === e || Math.abs(a - e) <= 1e-12 * Math.max(1, Math.abs(e))
      : Object.is(a, e)

/** A failed claim shows both values; a passed one compares equal. */
const verdict = (c: Claim): { line: number; value: unknown } => ({
  line: c.line,
  value: c.kind === 'approx' && close(c.actual, c.expected) ? c.expected : c.actual,
})

const AsyncFunction = (async () => undefined).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>

const run = async (e: Example): Promise<Claim[]> => {
  const js = ts.transpileModule(instrument(e.code), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const scope = await scopeOf(join(root, e.file))
  const claims: Claim[] = []
  const claim = (
    line: number,
    f: () => unknown,
    literal: string,
    kind: ClaimKind = 'literal',
    g?: () => unknown,
  ): void => {
    const at = e.line + line
    if (kind === 'approx') claims.push({ line: at, kind, actual: plain(f()), expected: plain((g as () => unknown)()) })
    else if (kind === 'truthy') claims.push({ line: at, kind, actual: f(), expected: true })
    else claims.push({ line: at, kind, actual: rounded(plain(f())), expected: rounded(literalValue(literal)) })
  }
  const names = Object.keys(scope)
  // a block, so that an example may declare a name that is also in scope
  await new AsyncFunction('__claim', ...names, `"use strict";\n{\n${js}\n}`)(claim, ...names.map((k) => scope[k]))
  return claims
}

// ---------------------------------------------------------------------------------------
// the tests
// ---------------------------------------------------------------------------------------

const examples = walk(srcDir).flatMap(examplesOf)
const cwd = process.cwd()
let scratch = ''

describe('doc-comment examples of src/', () => {
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'purediff-examples-'))
    mkdirSync(join(scratch, 'out')) // where the examples write checkpoints
  })
  afterAll(() => {
    process.chdir(cwd)
    rmSync(scratch, { recursive: true, force: true })
  })

  it('are found in every public folder, and some make claims that are checked', () => {
    expect(examples.length).toBeGreaterThanOrEqual(500)
    const folders = new Set(examples.map((e) => e.file.split('/')[1]))
    for (const f of ['ops', 'transforms', 'tree', 'random', 'nn', 'optim', 'train', 'io', 'dual', 'numeric', 'viz'])
      expect(folders).toContain(f)
    const claims = examples.flatMap((e) => e.code.split('\n').flatMap((l) => claimOf(l) ?? []))
    // each kind of claim is recognised and in use (a sanity check of the parser, not a tolerance)
    for (const kind of ['literal', 'approx', 'truthy'] as const)
      expect(claims.filter((c) => c.kind === kind).length, kind).toBeGreaterThanOrEqual(5)
    expect(claims.length).toBeGreaterThanOrEqual(480)
  })

  it('every `// ≈` claim is checked (none sits where the runner cannot reach it)', () => {
    const unchecked = examples.flatMap((e) =>
      e.code
        .split('\n')
        .map((l, k) => ({ l, at: `${e.file}:${e.line + k + 1}` }))
        .filter(({ l }) => /\/\/ ≈/.test(l) && claimOf(l)?.kind !== 'approx')
        .map(({ at }) => at),
    )
    expect(unchecked).toEqual([])
  })

  it('a wrong claim fails, a right one passes (the checker is not vacuous)', async () => {
    const claimsOf = (code: string) => run({ file: 'src/ops/ops.ts', line: 0, code })
    const passes = (c: Claim): boolean => {
      const v = verdict(c)
      return c.kind === 'approx' ? v.value === c.expected : JSON.stringify(v.value) === JSON.stringify(c.expected)
    }
    const cases: [string, boolean][] = [
      ['sum(tensor([[1, 2], [3, 4]]), 0) // [4, 7]', false],
      ['sum(tensor([[1, 2], [3, 4]]), 0) // [4, 6]', true],
      ['exp(tensor([0, 1])) // ≈ [1, Math.E]', true],
      ['exp(tensor([0, 1])) // ≈ [1, Math.E + 1e-9]', false],
      ['exp(tensor([0, 1])) // ≈ [[1, Math.E]]', false], // the nesting counts
      ['log(2) // ≈ Math.LN2', true],
      ['Math.sqrt(4) // ≈ 2.0000001', false],
      ["'a' + 'b' === 'ab'", true],
      ["'a' + 'b' === 'ba'", false],
      ['sum(tensor([1, 2])).item() <= 3', true],
      ['sum(tensor([1, 2])).item() <= 2', false],
    ]
    for (const [code, ok] of cases) {
      const claims = await claimsOf(code)
      expect(claims, code).toHaveLength(1)
      expect(passes(claims[0]!), code).toBe(ok)
    }
    // a keyword line or a block's inner line is no claim
    expect(claimOf('const a = 1 === 1')).toBeNull()
    expect(claimOf('  x === 1')).toBeNull()
    // a name that merely starts like a keyword is a claim (`foriLoop`, `formatValue`, `typeOf`)
    expect(claimOf('foriLoop(0, 3, (i, s) => s + i, 0) // 3')?.kind).toBe('literal')
  })

  for (const e of examples) {
    const first = e.code.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('//'))[0] ?? ''
    it(`${e.file}:${e.line} runs and says what it shows: ${first}`, async () => {
      process.chdir(scratch)
      const log = console.log
      const write = process.stdout.write
      console.log = () => undefined
      process.stdout.write = (() => true) as typeof process.stdout.write
      try {
        const claims = await run(e)
        for (const c of claims) expect(verdict(c)).toEqual({ line: c.line, value: c.expected })
      } finally {
        console.log = log
        process.stdout.write = write
        process.chdir(cwd)
      }
    })
  }
})
