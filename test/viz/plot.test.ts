import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  formatTick,
  lineChartSVG,
  linearTicks,
  logTicks,
  panelsSVG,
  writeFileAtomic,
  type Point,
} from '../../src/viz/plot.js'

/** A small XML well-formedness check: every tag closes in order, attributes are quoted. */
const checkWellFormed = (svg: string): void => {
  const stack: string[] = []
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g
  let last = 0
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    // text between tags must not contain a raw '<' or '>' (escaping worked)
    expect(svg.slice(last, m.index)).not.toMatch(/[<>]/)
    last = tag.lastIndex
    const [, close, name, , self] = m
    if (self === '/') continue
    if (close === '/') expect(stack.pop()).toBe(name)
    else stack.push(name!)
  }
  expect(svg.slice(last)).not.toMatch(/[<>]/)
  expect(stack).toEqual([])
}

const attr = (el: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(el)?.[1]

const seriesPaths = (svg: string): Map<string, string> =>
  new Map([...svg.matchAll(/<path class="series"[^>]*>/g)].map((m) => [attr(m[0], 'data-series')!, attr(m[0], 'd')!]))

/** Every coordinate of a path's M/L commands. */
const coords = (d: string): number[][] =>
  [...d.matchAll(/[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])])

const plotRect = (svg: string): { x0: number; y0: number; x1: number; y1: number } => {
  const r = /<clipPath[^>]*><rect ([^>]*)\/>/.exec(svg)![1]!
  const x0 = Number(attr(` ${r}`, 'x'))
  const y0 = Number(attr(` ${r}`, 'y'))
  return { x0, y0, x1: x0 + Number(attr(` ${r}`, 'width')), y1: y0 + Number(attr(` ${r}`, 'height')) }
}

describe('ticks', () => {
  it('linear ticks use steps of 1, 2 or 5 × 10^k and cover the data when extended', () => {
    // range 2.18 / 5 ≈ 0.44 → nice step 0.5; floor(0.13/0.5)=0, ceil(2.31/0.5)=5
    const t = linearTicks(0.13, 2.31, true)
    expect([t.lo, t.hi]).toEqual([0, 2.5])
    expect(t.labels).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0', '2.5'])
    // range 9 / 8 = 1.125 → step 1; not extended: ticks inside [1, 10]
    const x = linearTicks(1, 10, false, 8)
    expect([x.lo, x.hi]).toEqual([1, 10])
    expect(x.labels).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
  })

  it('labels have no float noise', () => {
    // 0.1 steps: 3 · 0.1 = 0.30000000000000004 in binary
    const t = linearTicks(0, 0.6, true, 6)
    expect(t.labels).toEqual(['0.0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6'])
    expect(formatTick(1.5e-5, 5e-6)).toBe('1.5e-5')
    expect(formatTick(2e6, 1e6)).toBe('2e6')
    expect(formatTick(-0.25, 0.05)).toBe('-0.25')
  })

  it('log ticks are 1, 2, 5 × 10^k inside the range, thinned for wide ranges', () => {
    expect(logTicks(0.04, 2.5).labels).toEqual(['0.05', '0.1', '0.2', '0.5', '1', '2'])
    // 1e-7 … 1e3: ten decades → whole decades every ⌈10/6⌉ = 2nd one
    expect(logTicks(1e-7, 1e3).labels).toEqual(['1e-7', '1e-5', '0.001', '0.1', '10', '1000'])
  })
})

describe('lineChartSVG', () => {
  const svg = lineChartSVG({
    title: 'Loss & <accuracy>',
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      {
        name: 'train',
        points: [
          [1, 2.3],
          [2, 1.1],
          [3, NaN],
          [4, 0.4],
          [Infinity, 0.3],
          [6, 0.2],
        ],
      },
      {
        name: 'test "held out"',
        points: [
          [1, 2.0],
          [6, -Infinity],
          [6, 0.5],
        ],
      },
    ],
  })

  it('is well-formed SVG with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    checkWellFormed(svg)
    expect(svg).toContain('Loss &amp; &lt;accuracy&gt;')
  })

  it('draws one path per series and never prints NaN or Infinity', () => {
    const paths = seriesPaths(svg)
    expect([...paths.keys()]).toEqual(['train', 'test &quot;held out&quot;'])
    expect(svg).not.toMatch(/NaN|Infinity/)
    // 'train' breaks at the NaN and at the infinite x: segments [1,2] and [4] and [6] →
    // one two-point subpath; the lone points 4 and 6 become dots
    const d = paths.get('train')!
    expect(d.match(/M/g)!.length).toBe(1)
    expect(coords(d).length).toBe(2)
  })

  it('keeps every drawn point inside the plot area', () => {
    const r = plotRect(svg)
    for (const d of seriesPaths(svg).values()) {
      for (const [x, y] of coords(d)) {
        expect(x).toBeGreaterThanOrEqual(r.x0)
        expect(x).toBeLessThanOrEqual(r.x1)
        expect(y).toBeGreaterThanOrEqual(r.y0)
        expect(y).toBeLessThanOrEqual(r.y1)
      }
    }
  })

  it('draws a single point as a dot', () => {
    const one = lineChartSVG({ series: [{ name: 'p', points: [[3, 5]] }] })
    checkWellFormed(one)
    expect(one.match(/<circle /g)?.length).toBe(1)
    expect(one).not.toMatch(/NaN|Infinity/)
  })

  it('draws a scatter (line: false) as one dot per point and no line, with a dot in the legend', () => {
    const pts = Array.from({ length: 50 }, (_, i) => [i, Math.sin(i)] as const)
    const s = lineChartSVG({
      series: [
        { name: 'measured', points: pts, line: false },
        { name: 'fit', points: pts },
      ],
    })
    checkWellFormed(s)
    expect(seriesPaths(s).get('measured')).toBe('')
    expect(coords(seriesPaths(s).get('fit')!).length).toBe(50)
    // 50 scatter dots + 1 legend dot; the 50-point line has no markers by default
    expect(s.match(/<circle /g)?.length).toBe(51)
  })

  it('on a logarithmic x axis, maps decades to equal widths and skips x ≤ 0', () => {
    const s = lineChartSVG({
      xLog: true,
      series: [
        {
          name: 'd',
          points: [
            [0, 5],
            [1, 1],
            [10, 2],
            [100, 3],
            [1000, 4],
          ],
        },
      ],
    })
    checkWellFormed(s)
    expect(s).not.toMatch(/NaN|Infinity/)
    const xs = coords(seriesPaths(s).get('d')!).map(([x]) => x!)
    expect(xs.length).toBe(4) // x = 0 has no place on a log axis
    const widths = xs.slice(1).map((x, i) => x - xs[i]!)
    for (const w of widths) expect(w).toBeCloseTo(widths[0]!, 0)
  })

  it('gives a constant series a real range, with the line strictly inside it', () => {
    const flat = lineChartSVG({
      series: [
        {
          name: 'c',
          points: [
            [0, 5],
            [1, 5],
            [2, 5],
          ],
        },
      ],
      height: 300,
    })
    checkWellFormed(flat)
    const r = plotRect(flat)
    const ys = coords(seriesPaths(flat).get('c')!).map(([, y]) => y)
    expect(new Set(ys).size).toBe(1)
    expect(ys[0]!).toBeGreaterThan(r.y0)
    expect(ys[0]!).toBeLessThan(r.y1)
  })

  it('survives series with no usable point at all', () => {
    const empty = lineChartSVG({
      yLog: true,
      series: [
        {
          name: 'e',
          points: [
            [NaN, 1],
            [1, 0],
            [2, -3],
          ],
        },
      ],
    })
    checkWellFormed(empty)
    expect(empty).not.toMatch(/NaN|Infinity/)
    expect(seriesPaths(empty).get('e')).toBe('')
  })

  it('on a log scale, maps decades to equal heights and skips y ≤ 0', () => {
    const log = lineChartSVG({
      yLog: true,
      series: [
        {
          name: 'l',
          points: [
            [0, 100],
            [1, 10],
            [2, 0],
            [3, 1],
          ],
          markers: false,
        },
      ],
    })
    const pts = coords(seriesPaths(log).get('l')!)
    expect(pts.length).toBe(2) // [0,100]–[1,10]; the lone [3,1] is a dot
    const dot = /<circle cx="([\d.]+)" cy="([\d.]+)"/.exec(log)!
    const [y100, y10, y1] = [pts[0]![1]!, pts[1]![1]!, Number(dot[2])]
    // equal log steps: the pixel gaps 100→10 and 10→1 agree to the 0.1 px rounding
    expect(Math.abs(y10 - y100 - (y1 - y10))).toBeLessThanOrEqual(0.2)
  })
})

describe('panelsSVG', () => {
  it('stacks panels that share x and colours series by name across panels', () => {
    const svg = panelsSVG({
      title: 'training',
      xLabel: 'epoch',
      panels: [
        {
          title: 'loss',
          yLog: true,
          series: [
            {
              name: 'train',
              points: [
                [1, 0.9],
                [2, 0.4],
              ],
            },
            {
              name: 'test',
              points: [
                [1, 1],
                [2, 0.5],
              ],
            },
          ],
        },
        {
          title: 'accuracy',
          yMin: 0,
          yMax: 1,
          series: [
            {
              name: 'test',
              points: [
                [1, 0.8],
                [2, 0.9],
              ],
            },
          ],
        },
      ],
    })
    checkWellFormed(svg)
    expect(svg.match(/<g class="panel"/g)?.length).toBe(2)
    const strokes = [...svg.matchAll(/<path class="series" data-series="([^"]*)"[^>]*stroke="([^"]*)"/g)].map((m) => [
      m[1],
      m[2],
    ])
    expect(strokes.length).toBe(3)
    const testColours = new Set(strokes.filter(([n]) => n === 'test').map(([, c]) => c))
    expect(testColours.size).toBe(1)
    expect(strokes.find(([n]) => n === 'train')![1]).not.toBe([...testColours][0])
    // shared x: the first point of 'test' has the same pixel x in both panels
    const ds = [...svg.matchAll(/data-series="test" d="M([\d.]+) /g)].map((m) => m[1])
    expect(ds.length).toBe(2)
    expect(ds[0]).toBe(ds[1])
  })
})

describe('writeFileAtomic', () => {
  it('writes, overwrites, creates the directory and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'purediff-plot-'))
    const path = join(dir, 'sub', 'chart.svg')
    writeFileAtomic(path, 'first')
    expect(readFileSync(path, 'utf8')).toBe('first')
    writeFileAtomic(path, 'second ✓')
    expect(readFileSync(path, 'utf8')).toBe('second ✓')
    expect(readdirSync(join(dir, 'sub'))).toEqual(['chart.svg'])
  })

  it('removes its temporary file when the rename fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'purediff-plot-'))
    const target = join(dir, 'is-a-dir')
    writeFileAtomic(join(target, 'inner'), 'x') // makes `target` a non-empty directory
    expect(() => writeFileAtomic(target, 'y')).toThrow()
    expect(readdirSync(dir)).toEqual(['is-a-dir'])
    expect(readdirSync(target)).toEqual(['inner'])
  })
})

describe('axes a reader can trust', () => {
  const epochs = (n: number): Point[] => Array.from({ length: n }, (_, i) => [i + 1, 1 / (i + 1)] as Point)
  const xTickLabels = (svg: string): string[] =>
    [
      ...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle" font-size="11" fill="#444">([^<]*)<\/text>/g),
    ].map((m) => m[1]!)

  it('marks a log axis as logarithmic in its label, and only a log axis', () => {
    const log = lineChartSVG({
      xLabel: 'epoch',
      yLabel: 'loss',
      yLog: true,
      series: [{ name: 'l', points: epochs(5) }],
    })
    expect(log).toContain('>loss (log scale)</text>')
    expect(log).toContain('>epoch</text>')
    const lin = lineChartSVG({ xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'l', points: epochs(5) }] })
    expect(lin).not.toContain('log scale')
    const xLog = lineChartSVG({ xLog: true, series: [{ name: 'l', points: epochs(100) }] })
    expect(xLog).toContain('>log scale</text>')
  })

  it('gives the first epoch a tick, without crowding its neighbour', () => {
    for (const n of [10, 30, 100, 7]) {
      const labels = xTickLabels(lineChartSVG({ xLabel: 'epoch', series: [{ name: 'l', points: epochs(n) }] }))
      expect(labels[0], `n = ${n}`).toBe('1')
      const values = labels.map(Number)
      const steps = values.slice(1).map((v, i) => v - values[i]!)
      // the ticks after the first keep one regular step, and the first is at least 0.4 of it away
      expect(Math.min(...steps)).toBeGreaterThanOrEqual(0.4 * Math.max(...steps))
    }
    // a run that starts at 0 keeps its nice ticks
    const zero = xTickLabels(
      lineChartSVG({
        series: [
          {
            name: 'l',
            points: [
              [0, 1],
              [10, 2],
            ] as Point[],
          },
        ],
      }),
    )
    expect(zero[0]).toBe('0')
  })
})
