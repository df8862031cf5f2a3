/**
 * The published package works for its users. `npm pack` builds the tarball exactly as
 * `npm publish` would (the `prepack` script runs the build), and the tarball is installed
 * into a fresh consumer outside this checkout: unpacked as `node_modules/purediff`, with
 * exactly the `dependencies` its packed package.json declares linked from this checkout's
 * node_modules (so an undeclared runtime dependency fails to resolve, and no network is
 * used). Four consumers then compile and run one small program that uses `grad`, `train`,
 * `io` and `purediff/laws`:
 *
 * - plain ESM (`import`), plain CommonJS (`require`, through Node's require(esm));
 * - TypeScript with `module: nodenext` (an ES module and a `.cts` CommonJS module), and
 *   TypeScript with `moduleResolution: bundler`, both type-checked with `skipLibCheck: false`.
 *
 * It also checks what ships: LICENSE, CHANGELOG.md, README.md, the declaration maps, and that
 * every source map points at a TypeScript file inside the package.
 */
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
// packing builds with tsc (about 15 s idle); a loaded 2-core machine can take minutes
const TIMEOUT = 900_000 // the whole file took 318 s with a load average of 25 on 2 cores

let work = ''
let pkg = ''
let consumer = ''
let tarball = ''

const sh = (cmd: string, args: readonly string[], cwd: string): string => {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    })
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`, { cause: e })
  }
}

const write = (file: string, text: string): void => {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
  )

// The program every consumer runs (TypeScript; the ESM and CommonJS consumers run its JavaScript twin).
// Fits y = 2x + 1 with `train`, checks `grad` by hand, round-trips the weights through `io`
// and checks the loss's gradients with `purediff/laws`.
const program = (imports: string, ts: boolean): string => {
  const T = (s: string): string => (ts ? s : '')
  return `${imports}
const x = tensor([[0], [1], [2], [3]])
const y = tensor([[1], [3], [5], [7]])
${T('type P = { w: Tensor; b: Tensor }\n')}const loss = (p${T(': P')}, batch${T(': { x: Tensor; y: Tensor }')}) => mean(square(sub(add(matmul(batch.x, p.w), p.b), batch.y)))
const p0${T(': P')} = { w: tensor([[0]]), b: tensor([0]) }
// d/dw mean((w·x + b - y)²) at w = b = 0 is mean(-2·x·y) = -2·(0 + 3 + 10 + 21)/4 = -17
const g = grad(loss)(p0, { x, y })
if (g.w.item() !== -17) throw new Error('grad: ' + g.w.item())
const run = pipe(train({ params: p0, loss, optimizer: optim.adam(0.1), data: fromTensors({ x, y }), batchSize: 4, key: random.key(0) }), untilStep(300))
const final = Stream.last(run)
if (final._tag !== 'Some') throw new Error('train: empty stream')
const fit = final.value.params
if (!(Math.abs(fit.w.item() - 2) < 0.05 && Math.abs(fit.b.item() - 1) < 0.1)) throw new Error('train: ' + fit.w.item() + ' ' + fit.b.item())
const back = io.fromJSON(JSON.parse(JSON.stringify(io.toJSON(fit))))
if (back._tag !== 'Right') throw new Error('io: ' + JSON.stringify(back))
const checked = checkGrads((p${T(': P')}) => loss(p, { x, y }), fit)
if (checked._tag !== 'Right') throw new Error('laws: ' + JSON.stringify(checked.left))
const svg = explain((v${T(': Tensor')}) => square(v))(3).toSVG()
if (!svg.startsWith('<svg')) throw new Error('viz: ' + svg.slice(0, 40))
console.log('ok', fit.w.item().toFixed(1), fit.b.item().toFixed(1))
${T(`// the type check is not vacuous: tsc fails on an unused @ts-expect-error
// @ts-expect-error a gradient of a record is a record, not a string
const wrong: string = g\n`)}`
}

const NAMES = 'add, fromTensors, grad, io, matmul, mean, optim, random, square, Stream, sub, tensor, train, untilStep'
const esm = (ts: boolean): string =>
  program(
    `import { pipe } from 'fp-ts/lib/function.js'\nimport { ${NAMES}${ts ? ', type Tensor' : ''} } from 'purediff'\nimport { checkGrads } from 'purediff/laws'\nimport { explain } from 'purediff/viz'`,
    ts,
  )
const cjs = (ts: boolean): string =>
  program(
    ts
      ? `import { pipe } from 'fp-ts/lib/function.js'\nimport { ${NAMES}, type Tensor } from 'purediff'\nimport { checkGrads } from 'purediff/laws'\nimport { explain } from 'purediff/viz'`
      : `const { pipe } = require('fp-ts/lib/function.js')\nconst { ${NAMES} } = require('purediff')\nconst { checkGrads } = require('purediff/laws')\nconst { explain } = require('purediff/viz')`,
    ts,
  )

describe('the packed tarball', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'purediff-pack-'))
    const out = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], root)) as Array<{
      filename: string
    }>
    const tgz = join(work, out[0]!.filename)
    tarball = tgz
    mkdirSync(join(work, 'unpacked'))
    sh('tar', ['-xzf', tgz, '-C', join(work, 'unpacked')], work)
    consumer = join(work, 'consumer')
    pkg = join(consumer, 'node_modules', 'purediff')
    mkdirSync(dirname(pkg), { recursive: true })
    renameSync(join(work, 'unpacked', 'package'), pkg)
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    for (const dep of Object.keys(manifest.dependencies)) {
      const target = join(consumer, 'node_modules', dep)
      mkdirSync(dirname(target), { recursive: true })
      symlinkSync(join(root, 'node_modules', dep), target, 'dir')
    }
  }, TIMEOUT)

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true })
  })

  it('ships LICENSE, CHANGELOG.md, README.md, the CommonJS entries and declaration maps, and no tests', () => {
    for (const f of [
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'cjs/index.cjs',
      'cjs/laws.d.cts',
      'cjs/viz.cjs',
      'dist/src/index.d.ts.map',
      'src/index.ts',
      'laws/index.ts',
    ]) {
      expect({ f, exists: existsSync(join(pkg, f)) }).toEqual({ f, exists: true })
    }
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    expect(existsSync(join(pkg, 'test'))).toBe(false)
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(manifest).toHaveProperty('repository')
    expect(manifest).toHaveProperty('homepage')
    expect(manifest).toHaveProperty('keywords')
  })

  it('every source map and declaration map points at a TypeScript file that ships', () => {
    const maps = walk(join(pkg, 'dist')).filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(50)
    const missing = maps.flatMap((m) =>
      (JSON.parse(readFileSync(m, 'utf8')) as { sources: string[] }).sources
        .map((s) => resolve(dirname(m), s))
        .filter((s) => !s.endsWith('.ts') || !existsSync(s))
        .map((s) => `${relative(pkg, m)} -> ${relative(pkg, s)}`),
    )
    expect(missing).toEqual([])
  })

  it(
    '@arethetypeswrong/cli finds no problem for the node16 (CommonJS and ESM) and bundler resolutions',
    () => {
      const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
      // attw exits non-zero on a problem; the report lists every problem by resolution kind
      const report = JSON.parse(
        sh(process.execPath, [attw, tarball, '--profile', 'node16', '--format', 'json'], work),
      ) as {
        analysis: { problems: Array<{ kind: string; entrypoint: string; resolutionKind?: string }> }
      }
      const problems = report.analysis.problems.filter((p) => p.resolutionKind !== 'node10')
      expect(problems).toEqual([])
      // node10 (no "exports") is outside Node >= 20; it resolves the root through main/types
      expect(report.analysis.problems.filter((p) => p.entrypoint === '.')).toEqual([])
    },
    TIMEOUT,
  )

  it(
    'an ES module consumer imports purediff and purediff/laws',
    () => {
      write(join(consumer, 'esm', 'main.mjs'), esm(false))
      expect(sh(process.execPath, ['main.mjs'], join(consumer, 'esm'))).toBe('ok 2.0 1.0\n')
    },
    TIMEOUT,
  )

  it(
    'a CommonJS consumer requires purediff and purediff/laws (Node >= 20.19 require(esm))',
    () => {
      write(join(consumer, 'cjs', 'main.cjs'), cjs(false))
      expect(sh(process.execPath, ['main.cjs'], join(consumer, 'cjs'))).toBe('ok 2.0 1.0\n')
      // require and import share one instance: one Tensor class, so tensors cross between them
      write(
        join(consumer, 'cjs', 'same.mjs'),
        `import { createRequire } from 'node:module'\nimport * as m from 'purediff'\n` +
          `const r = createRequire(import.meta.url)('purediff')\nconsole.log(r.Tensor === m.Tensor, r.grad === m.grad)\n`,
      )
      expect(sh(process.execPath, ['same.mjs'], join(consumer, 'cjs'))).toBe('true true\n')
    },
    TIMEOUT,
  )

  it(
    'a TypeScript consumer with module nodenext type-checks and runs, as an ES module and as a .cts',
    () => {
      const dir = join(consumer, 'ts-nodenext')
      write(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
      write(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            strict: true,
            skipLibCheck: false,
            types: [],
            outDir: 'out',
          },
          include: ['main.ts', 'legacy.cts'],
        }),
      )
      write(join(dir, 'main.ts'), esm(true))
      write(join(dir, 'legacy.cts'), cjs(true))
      sh(process.execPath, [tsc, '-p', '.'], dir)
      expect(sh(process.execPath, ['out/main.js'], dir)).toBe('ok 2.0 1.0\n')
      expect(readFileSync(join(dir, 'out', 'legacy.cjs'), 'utf8')).toContain('require("purediff")')
      expect(sh(process.execPath, ['out/legacy.cjs'], dir)).toBe('ok 2.0 1.0\n')
    },
    TIMEOUT,
  )

  it(
    'a TypeScript consumer with moduleResolution bundler type-checks and runs',
    () => {
      const dir = join(consumer, 'ts-bundler')
      write(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
      write(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'esnext',
            moduleResolution: 'bundler',
            target: 'es2022',
            strict: true,
            skipLibCheck: false,
            types: [],
            outDir: 'out',
          },
          include: ['main.ts'],
        }),
      )
      write(join(dir, 'main.ts'), esm(true))
      sh(process.execPath, [tsc, '-p', '.'], dir)
      expect(sh(process.execPath, ['out/main.js'], dir)).toBe('ok 2.0 1.0\n')
    },
    TIMEOUT,
  )
})
