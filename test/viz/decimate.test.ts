import { pipe } from 'fp-ts/lib/function.js'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fromArray, toArray } from '../../src/train/Stream.js'
import { decimate, lineChartSVG, type Point } from '../../src/viz/plot.js'
import { withProgress, type ProgressState } from '../../src/viz/progress.js'

const wave = (n: number): Point[] =>
  Array.from({ length: n }, (_, i) => [i, Math.sin(i / 97) * Math.exp(-i / 9000) + (i % 1000 === 507 ? 3 : 0)] as const)

describe('decimate', () => {
  it('keeps short series as they are', () => {
    const pts = wave(999)
    expect(decimate(pts, 1000)).toBe(pts)
  })

  it('draws 20 000 points as at most 1 000, keeping both ends, every spike and each run’s extremes', () => {
    const pts = wave(20_000)
    const out = decimate(pts, 1000)
    expect(out.length).toBeLessThanOrEqual(1000)
    expect(out.length).toBeGreaterThan(500)
    expect(out[0]).toEqual(pts[0])
    expect(out[out.length - 1]).toEqual(pts[pts.length - 1])
    // x order kept
    for (let i = 1; i < out.length; i++) expect(out[i]![0]).toBeGreaterThan(out[i - 1]![0])
    // the 20 spikes (one per 1000 points) all survive
    expect(out.filter(([, y]) => y > 2).length).toBe(20)
    // the envelope is the same: over every run of 80 consecutive points, min and max are kept
    const runs = 250
    for (let r = 0; r < runs; r++) {
      const lo = Math.floor((r * pts.length) / runs)
      const hi = Math.floor(((r + 1) * pts.length) / runs)
      const ys = pts.slice(lo, hi).map(([, y]) => y)
      const kept = out.filter(([x]) => x >= lo && x < hi).map(([, y]) => y)
      expect(Math.min(...kept)).toBe(Math.min(...ys))
      expect(Math.max(...kept)).toBe(Math.max(...ys))
    }
  })

  it('fails a scheme that samples every k-th point (it loses the spikes)', () => {
    const pts = wave(20_000)
    const everyK = pts.filter((_, i) => i % 20 === 0)
    expect(everyK.filter(([, y]) => y > 2).length).toBe(0)
  })

  it('a chart of 20 000 points draws at most 1 000 vertices', () => {
    const svg = lineChartSVG({ title: 'long', series: [{ name: 'loss', points: wave(20_000) }] })
    const d = /class="series" data-series="loss" d="([^"]*)"/.exec(svg)?.[1] ?? ''
    const vertices = d.split(/[ML]/).filter((s) => s.length > 0).length
    expect(vertices).toBeGreaterThan(500)
    expect(vertices).toBeLessThanOrEqual(1000)
    const full = lineChartSVG({ title: 'long', maxPoints: 1e9, series: [{ name: 'loss', points: wave(20_000) }] })
    expect(full.length).toBeGreaterThan(svg.length * 10)
  })
})

const states = (n: number, perEpoch: number): ProgressState[] =>
  Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    epoch: Math.floor((i + 1) / perEpoch),
    epochEnd: (i + 1) % perEpoch === 0,
    loss: 1 / (i + 1),
    metrics: { acc: i / n },
  }))

const sink = (isTTY: boolean) => {
  const writes: string[] = []
  return { writes, isTTY, write: (s: string) => writes.push(s) }
}

describe('withProgress', () => {
  it('passes states through unchanged and writes nothing where the sink is not a terminal', () => {
    const s = sink(false)
    const xs = states(6, 3)
    const out = pipe(fromArray(xs), withProgress({ totalSteps: 6, sink: s }), toArray)
    expect(out).toEqual(xs)
    expect(s.writes).toEqual([])
  })

  it('logs only the epoch lines, without control codes, when asked', () => {
    const s = sink(false)
    pipe(fromArray(states(6, 3)), withProgress({ totalSteps: 6, sink: s, log: true, now: () => 0 }), toArray)
    expect(s.writes).toEqual([
      'epoch 1  step 3/6  █████░░░░░  loss 0.3333  acc 0.3333  0.0s\n',
      'epoch 2  step 6/6  ██████████  loss 0.1667  acc 0.8333  0.0s\n',
    ])
  })

  it('on a terminal rewrites a transient line per step and keeps the epoch lines', () => {
    const s = sink(true)
    pipe(fromArray(states(4, 2)), withProgress({ totalSteps: 4, sink: s, now: () => 0 }), toArray)
    const text = s.writes.join('')
    expect(s.writes.filter((w) => w.startsWith('\r\x1b[2K')).length).toBeGreaterThanOrEqual(4)
    expect(text).toContain('epoch 2  step 4/4  ██████████  loss 0.2500')
    expect(text.endsWith('\n')).toBe(true)
  })
})

describe('the core entry carries no rendering code', () => {
  it('no module outside src/viz imports src/viz', () => {
    const offenders: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) {
          if (p !== join('src', 'viz')) walk(p)
        } else if (p.endsWith('.ts') && /from '[^']*viz[^']*'/.test(readFileSync(p, 'utf8'))) offenders.push(p)
      }
    }
    walk('src')
    expect(offenders).toEqual([])
  })
})
