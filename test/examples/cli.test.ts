import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { helpText, parseCli, type CliSpec } from '../../examples/lib/cli.js'

const spec: CliSpec = {
  name: 'demo',
  summary: 'A demo.',
  options: {
    epochs: { kind: 'number', integer: true, min: 1, default: 3, description: 'passes' },
    lr: { kind: 'number', min: 0, description: 'rate' },
    dtype: { kind: 'string', choices: ['float32', 'float64'], description: 'precision' },
    quiet: { kind: 'flag', description: 'say less' },
  },
}

describe('parseCli', () => {
  it('parses numbers, choices and flags', () => {
    expect(parseCli(spec, ['--epochs', '5', '--lr=0.1', '--dtype', 'float64', '--quiet'])).toEqual({
      values: { epochs: 5, lr: 0.1, dtype: 'float64', quiet: true },
    })
    expect(parseCli(spec, [])).toEqual({ values: {} })
    expect(parseCli(spec, ['-h'])).toEqual({ help: true })
  })

  it.each([
    [['--epochs', 'abc'], "--epochs must be an integer ≥ 1, got 'abc'"],
    [['--epochs', '2.5'], "--epochs must be an integer ≥ 1, got '2.5'"],
    [['--epochs', '0'], "--epochs must be an integer ≥ 1, got '0'"],
    [['--lr', ''], "--lr must be a number ≥ 0, got ''"],
    [['--dtype', 'float16'], "--dtype must be one of float32, float64, got 'float16'"],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--epochs'], "Option '--epochs <value>' argument missing"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('rejects %j with a message naming the option', (argv, message) => {
    expect(parseCli(spec, argv)).toEqual({ error: message })
  })

  it('help lists every option with its default', () => {
    const h = helpText(spec)
    expect(h).toContain('Usage: npx tsx examples/demo.ts [options]')
    expect(h).toMatch(/--epochs <int>\s+passes \(default 3\)/)
    expect(h).toMatch(/--dtype <float32\|float64>\s+precision/)
    expect(h).toMatch(/-h, --help/)
  })
})

const programs = [
  ...readdirSync('examples')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `examples/${f}`),
  ...(existsSync('examples/lessons') ? readdirSync('examples/lessons') : [])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `examples/lessons/${f}`),
]
const tsx = (args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', ...args], { encoding: 'utf8', timeout: 120_000 })

describe('every example, run as users run it', () => {
  it.each(programs)('%s --help prints its options and exits 0', (file) => {
    const r = tsx([file, '--help'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Usage: npx tsx examples\//)
    expect(r.stdout).toContain('--help')
  })

  it.each(programs)('%s --no-such-option fails with one clear line, no stack trace', (file) => {
    const r = tsx([file, '--no-such-option'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/Unknown option '--no-such-option'\nRun with --help to see the options\.\n$/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('a bad value is named: mnist --epochs abc', () => {
    const r = tsx(['examples/mnist.ts', '--epochs', 'abc'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe("mnist: --epochs must be an integer ≥ 1, got 'abc'\nRun with --help to see the options.\n")
  })
})
