import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  createProgress,
  formatBar,
  formatDuration,
  formatMetric,
  formatProgressLine,
  progressWriter,
} from '../../src/viz/progress.js'

const sink = (isTTY: boolean, columns?: number) => {
  const writes: string[] = []
  return {
    writes,
    isTTY,
    ...(columns !== undefined ? { columns } : {}),
    write: (s: string): boolean => {
      writes.push(s)
      return true
    },
  }
}

describe('formatting', () => {
  it('fills ⌊fraction · width⌋ cells and clamps', () => {
    expect(formatBar(0.7, 10)).toBe('███████░░░')
    expect(formatBar(0, 4)).toBe('░░░░')
    expect(formatBar(1, 4)).toBe('████')
    expect(formatBar(0.999, 10)).toBe('█████████░') // full only when done
    expect(formatBar(3, 3)).toBe('███')
    expect(formatBar(-1, 3)).toBe('░░░')
    expect(formatBar(NaN, 3)).toBe('░░░')
  })

  it('prints metrics with four decimals, or an exponent when tiny or huge', () => {
    expect(formatMetric(0.23124)).toBe('0.2312')
    expect(formatMetric(2.302585)).toBe('2.3026')
    expect(formatMetric(0)).toBe('0.0000')
    expect(formatMetric(1.5e-5)).toBe('1.500e-5')
    expect(formatMetric(123456)).toBe('1.235e5')
    expect(formatMetric(NaN)).toBe('NaN')
    expect(formatMetric(-Infinity)).toBe('-Inf')
  })

  it('prints durations in s, m s, h m', () => {
    expect(formatDuration(1.82)).toBe('1.8s')
    expect(formatDuration(59.94)).toBe('59.9s')
    expect(formatDuration(123)).toBe('2m03s') // 2·60 + 3
    expect(formatDuration(3725)).toBe('1h02m') // 3600 + 2·60 + 5
    expect(formatDuration(-1)).toBe('?s')
  })

  it('lays out a whole line', () => {
    expect(
      formatProgressLine({
        current: 3,
        total: 10,
        fraction: 0.7,
        metrics: { loss: 0.23124, acc: 0.94119 },
        seconds: 1.82,
      }),
    ).toBe('epoch  3/10  ███████░░░  loss 0.2312  acc 0.9412  1.8s')
    expect(formatProgressLine({ label: 'step', current: 50, total: 200, barWidth: 4, metrics: [['lr', 0.01]] })).toBe(
      'step  50/200  █░░░  lr 0.0100',
    )
  })
})

describe('progressWriter', () => {
  it('on a terminal, rewrites transient lines in place and keeps permanent ones', () => {
    const s = sink(true)
    const w = progressWriter(s)
    w.update('a')
    w.update('b')
    w.line('epoch 1')
    w.line('epoch 2')
    w.update('c')
    w.end()
    expect(s.writes.join('')).toBe('\r\x1b[2Ka\r\x1b[2Kb\r\x1b[2Kepoch 1\nepoch 2\n\r\x1b[2Kc\n')
  })

  it('in a log, drops transient lines and writes no control codes', () => {
    const s = sink(false)
    const w = progressWriter(s)
    w.update('a')
    w.line('epoch 1')
    w.update('b')
    w.line('epoch 2')
    w.end()
    expect(s.writes.join('')).toBe('epoch 1\nepoch 2\n')
  })

  it('cuts transient lines to the terminal width so \\r can rewrite them', () => {
    const s = sink(true, 8)
    progressWriter(s).update('██████████ long')
    expect(s.writes[0]).toBe('\r\x1b[2K' + '███████')
  })
})

describe('createProgress', () => {
  it('adds the elapsed time from the given clock', () => {
    const s = sink(false)
    let t = 1000
    const p = createProgress({ total: 4, sink: s, now: () => t })
    t = 3500
    p.line(2, { loss: 0.5 })
    p.log('done')
    expect(s.writes.join('')).toBe('epoch 2/4  █████░░░░░  loss 0.5000  2.5s\ndone\n')
  })
})

describe('in a real process whose stdout is a pipe', () => {
  it('withProgress on the default sink (process.stdout) writes nothing; with log: true only the epoch lines', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
    const script = (log: boolean) =>
      [
        "import { Stream } from 'purediff'",
        "import { withProgress } from 'purediff/viz'",
        'const states = [1, 2, 3, 4].map((step) => ({ step, epoch: step >> 1, epochEnd: step % 2 === 0, loss: 1 / step, metrics: {} }))',
        `const out = Stream.toArray(withProgress({ totalSteps: 4${log ? ', log: true' : ''} })(Stream.fromArray(states)))`,
        'process.stderr.write(`states ${out.length}\\n`)',
      ].join('\n')
    const run = (log: boolean) =>
      spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['--eval', script(log)], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      })
    const quiet = run(false)
    expect(quiet.stderr).toContain('states 4')
    expect(quiet.stdout).toBe('')
    const logged = run(true)
    expect(logged.stderr).toContain('states 4')
    expect(logged.stdout.split('\n').filter((l) => l !== '').length).toBe(2)
    expect(logged.stdout).not.toContain('\r')
    expect(logged.stdout).not.toContain('\x1b')
  }, 120_000)
})
