/**
 * The command line of the examples: every example describes its options once and gets
 * `--help`, parsing, validation and clear errors from that description. A bad option (an
 * unknown flag, a missing value, `--epochs abc`, `--dtype float16`) prints one line naming
 * the option and what it accepts, plus a pointer to `--help`, and exits with status 2: no
 * stack trace. Errors raised later, by the run itself, are not caught here.
 *
 * Purity contract: `parseCli` is pure (it returns the values or an error message); `runCli`
 * adds the effects of a command line program (print, exit status).
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One option: its kind, a one-line description, and (for numbers) the range it accepts. */
export type OptionSpec =
  | {
      readonly kind: 'number'
      readonly description: string
      readonly default?: number
      readonly min?: number
      readonly max?: number
      readonly integer?: boolean
    }
  | {
      readonly kind: 'string'
      readonly description: string
      readonly default?: string
      readonly choices?: ReadonlyArray<string>
    }
  | { readonly kind: 'flag'; readonly description: string }

/** A program's command line: its name, what it does, and its options by flag name. */
export interface CliSpec {
  readonly name: string
  readonly summary: string
  readonly options: Readonly<Record<string, OptionSpec>>
}

/** The parsed values by flag name: numbers, strings, `true` for a flag given. */
export type CliValues = Readonly<Record<string, number | string | boolean>>

// -------------------------------------------------------------------------------------
// pure parts
// -------------------------------------------------------------------------------------

/** The `--help` text. */
export const helpText = (spec: CliSpec): string => {
  const rows: Array<readonly [string, string]> = Object.entries(spec.options).map(([flag, o]) => {
    const arg =
      o.kind === 'number'
        ? ` <${o.integer === true ? 'int' : 'number'}>`
        : o.kind === 'string'
          ? o.choices
            ? ` <${o.choices.join('|')}>`
            : ' <text>'
          : ''
    const dflt = o.kind !== 'flag' && o.default !== undefined ? ` (default ${o.default})` : ''
    return [`  --${flag}${arg}`, `${o.description}${dflt}`] as const
  })
  rows.push(['  -h, --help', 'print this help and exit'])
  const w = Math.max(...rows.map(([a]) => a.length)) + 2
  return (
    [
      `Usage: npx tsx examples/${spec.name}.ts [options]`,
      '',
      spec.summary,
      '',
      'Options:',
      ...rows.map(([a, b]) => a.padEnd(w) + b),
    ].join('\n') + '\n'
  )
}

const checkNumber = (flag: string, o: Extract<OptionSpec, { kind: 'number' }>, raw: string): number | string => {
  const v = raw.trim() === '' ? NaN : Number(raw)
  const what = `${o.integer === true ? 'an integer' : 'a number'}${o.min !== undefined ? ` ≥ ${o.min}` : ''}${o.max !== undefined ? ` ≤ ${o.max}` : ''}`
  if (
    !Number.isFinite(v) ||
    (o.integer === true && !Number.isInteger(v)) ||
    (o.min !== undefined && v < o.min) ||
    (o.max !== undefined && v > o.max)
  ) {
    return `--${flag} must be ${what}, got '${raw}'`
  }
  return v
}

/**
 * Parse a command line: `{ help: true }`, the values, or an error message naming the option.
 * @example
 * parseCli(spec, ['--epochs', 'abc']) // { error: "--epochs must be an integer ≥ 1, got 'abc'" }
 */
export const parseCli = (
  spec: CliSpec,
  argv: ReadonlyArray<string>,
): { readonly help: true } | { readonly values: CliValues } | { readonly error: string } => {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(spec.options).map(([flag, o]) => [
            flag,
            { type: o.kind === 'flag' ? ('boolean' as const) : ('string' as const) },
          ]),
        ),
      },
    })
  } catch (e) {
    // node's first sentence names the option; the rest is a hint about `--` and positionals
    const msg = e instanceof Error ? (e.message.split(/\.\s/)[0] ?? e.message).replace(/\.$/, '') : String(e)
    return { error: msg }
  }
  if (parsed.values['help'] === true) return { help: true }
  const values: Record<string, number | string | boolean> = {}
  for (const [flag, o] of Object.entries(spec.options)) {
    const raw = parsed.values[flag]
    if (raw === undefined) continue
    if (o.kind === 'flag') values[flag] = true
    else if (o.kind === 'number') {
      const v = checkNumber(flag, o, String(raw))
      if (typeof v === 'string') return { error: v }
      values[flag] = v
    } else {
      if (o.choices !== undefined && !o.choices.includes(String(raw)))
        return { error: `--${flag} must be one of ${o.choices.join(', ')}, got '${String(raw)}'` }
      values[flag] = String(raw)
    }
  }
  return { values: Object.freeze(values) }
}

// -------------------------------------------------------------------------------------
// effects
// -------------------------------------------------------------------------------------

/** Whether a module is the program being run (`npx tsx examples/x.ts`), not imported. */
export const isMain = (metaUrl: string): boolean =>
  process.argv[1] !== undefined && metaUrl === pathToFileURL(process.argv[1]).href

/**
 * Run a program from the command line: `--help` prints the help; a bad option prints one
 * clear line to stderr and sets exit status 2; otherwise `main` runs with the values.
 */
export const runCli = (
  spec: CliSpec,
  main: (values: CliValues) => unknown,
  argv: ReadonlyArray<string> = process.argv.slice(2),
): void => {
  const r = parseCli(spec, argv)
  if ('help' in r) {
    process.stdout.write(helpText(spec))
    return
  }
  if ('error' in r) {
    process.stderr.write(`${spec.name}: ${r.error}\nRun with --help to see the options.\n`)
    process.exitCode = 2
    return
  }
  main(r.values)
}
