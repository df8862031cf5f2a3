/**
 * Line charts as self-contained SVG text (no fonts, scripts or external references), for the
 * loss and accuracy curves the examples write, plus `writeFileAtomic` to save them.
 *
 * A chart is one or more panels stacked vertically that share the x axis (say, the epoch)
 * and each have their own y scale (loss on a log scale above, accuracy in [0, 1] below).
 * Axis ticks are "nice" numbers: steps of 1, 2 or 5 × 10ᵏ chosen so about five ticks span
 * the range (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990); on a log scale
 * ticks are 1, 2, 5 × 10ᵏ, thinned to whole decades when the range is wide. A log axis says
 * so in its label (`loss (log scale)`). A linear x axis whose data start at a whole number
 * (epoch 1) has a tick there, so the chart shows where the run starts.
 *
 * Long series are thinned before drawing (`decimate`): a series of more points than `maxPoints`
 * (default 1000) keeps, in each of maxPoints / 4 runs of consecutive points, the first, the
 * last, the lowest and the highest, so 20 000 points draw as at most 1 000 and every peak and
 * trough of the line is still there (the M4 scheme of Jugel et al., VLDB 2014, by index).
 *
 * Bad points never reach the picture: a non-finite x or y (and a value ≤ 0 on a log axis) is
 * skipped and breaks the line there; a lone point is drawn as a dot; a constant series gets
 * a padded range. A series keeps its colour in every panel, matched by name.
 *
 * Purity contract: the chart functions are pure functions from a spec to a string;
 * `writeFileAtomic` is the only effect, and it never leaves a half-written file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { PurediffError } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An (x, y) pair. @category model */
export type Point = readonly [number, number]

/**
 * One line: its legend name, its points in drawing order, an optional CSS colour.
 * @category model
 * @since 0.2.0
 */
export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<Point>
  readonly color?: string
  readonly dashed?: boolean
  /** Draw a dot at every point; by default only for series of at most 30 points. */
  readonly markers?: boolean
  /** Join the points with a line (default true); `false` draws a scatter of dots. */
  readonly line?: boolean
}

/**
 * One panel: a y axis and the series drawn against it. `yMin`/`yMax` fix the y range.
 * @category model
 * @since 0.2.0
 */
export interface Panel {
  readonly title?: string
  readonly yLabel?: string
  readonly series: ReadonlyArray<Series>
  readonly yLog?: boolean
  readonly yMin?: number
  readonly yMax?: number
}

/**
 * Stacked panels sharing the x axis. `height` is the whole picture's height.
 * @category model
 * @since 0.2.0
 */
export interface PanelsSpec {
  readonly title?: string
  readonly xLabel?: string
  /** A logarithmic x axis (points with x ≤ 0 are skipped), for runs of very different lengths. */
  readonly xLog?: boolean
  readonly panels: ReadonlyArray<Panel>
  readonly width?: number
  readonly height?: number
  /** Most points drawn per series (default 1000); longer series are thinned by `decimate`. */
  readonly maxPoints?: number
}

/**
 * A single-panel chart.
 * @category model
 * @since 0.2.0
 */
export interface ChartSpec {
  readonly title?: string
  readonly series: ReadonlyArray<Series>
  readonly xLabel?: string
  readonly yLabel?: string
  readonly width?: number
  readonly height?: number
  readonly xLog?: boolean
  readonly yLog?: boolean
  readonly yMin?: number
  readonly yMax?: number
  /** Most points drawn per series (default 1000); longer series are thinned by `decimate`. */
  readonly maxPoints?: number
}

/**
 * Axis ticks: the axis range `[lo, hi]` and the tick values with their labels.
 * @category model
 * @since 0.2.0
 */
export interface Ticks {
  readonly lo: number
  readonly hi: number
  readonly values: ReadonlyArray<number>
  readonly labels: ReadonlyArray<string>
}

/**
 * The colours plots give their series, in order (the ten of matplotlib's `tab10`).
 * @example
 * PALETTE.length // 10
 * PALETTE[0] // '#1f77b4'
 * @category model
 * @since 0.2.0
 */
export const PALETTE: ReadonlyArray<string> = Object.freeze([
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
])

// -------------------------------------------------------------------------------------
// utils: ticks
// -------------------------------------------------------------------------------------

const niceStep = (rough: number): number => {
  const mag = 10 ** Math.floor(Math.log10(rough))
  const r = rough / mag
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag
}

/** Decimals needed to print multiples of `step` exactly. */
const decimalsOf = (step: number): number => Math.max(0, -Math.floor(Math.log10(step) + 1e-9))

/**
 * Label a tick so that multiples of `step` print without float noise (0.3, not
 * 0.30000000000000004); very large or very small magnitudes switch to exponent form.
 * @example
 * formatTick(3 * 0.1, 0.1) // '0.3'
 * formatTick(2e6, 1e6) // '2e6'
 * @category utils
 * @since 0.2.0
 */
export const formatTick = (v: number, step: number): string => {
  // k · step can land a hair off zero (3 · 0.1 − 0.3); that tick is zero.
  const a = Math.abs(v) < step * 1e-9 ? 0 : Math.abs(v)
  if (a === 0 && (step >= 1e6 || step < 1e-4)) return '0'
  if (a === 0) return (0).toFixed(Math.min(20, decimalsOf(step)))
  if (a >= 1e6 || a < 1e-4) {
    const digits = Math.min(6, decimalsOf(step / 10 ** Math.floor(Math.log10(a))))
    // 1.50e-5 → 1.5e-5, 2.0e+6 → 2e6: trailing zeros say nothing the grid does not.
    return v
      .toExponential(digits)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e')
  }
  return v.toFixed(Math.min(20, decimalsOf(step)))
}

/**
 * Linear ticks at a nice step. With `extend`, the range grows to the enclosing ticks
 * (for y axes); otherwise the range is kept and only the ticks inside it are listed.
 * @example
 * linearTicks(0.13, 2.31, true).labels.join(' ') === '0.0 0.5 1.0 1.5 2.0 2.5'
 * @category utils
 * @since 0.2.0
 */
export const linearTicks = (lo: number, hi: number, extend: boolean, target = 5): Ticks => {
  const step = niceStep((hi - lo) / target)
  const k0 = extend ? Math.floor(lo / step + 1e-9) : Math.ceil(lo / step - 1e-9)
  const k1 = extend ? Math.ceil(hi / step - 1e-9) : Math.floor(hi / step + 1e-9)
  const values: number[] = []
  for (let k = k0; k <= k1; k++) values.push(k * step)
  return Object.freeze({
    lo: extend ? k0 * step : lo,
    hi: extend ? k1 * step : hi,
    values: Object.freeze(values),
    labels: Object.freeze(values.map((v) => formatTick(v, step))),
  })
}

const formatLogTick = (v: number): string => {
  const e = Math.floor(Math.log10(v) + 1e-9)
  const m = Math.round(v / 10 ** e)
  if (e >= -4 && e <= 5) return v.toFixed(Math.max(0, -e))
  return `${m}e${e}`
}

/**
 * Log-scale ticks for a positive range: 1, 2, 5 × 10ᵏ inside it, or whole decades (every
 * d-th, for wide ranges) when that would give more than about eight ticks.
 * @example
 * logTicks(1, 100).values // [1, 2, 5, 10, 20, 50, 100]
 * // 19 ticks of 1, 2, 5 would be too many: whole decades
 * logTicks(1, 1e6).values // [1, 10, 100, 1000, 10000, 100000, 1000000]
 * @category utils
 * @since 0.2.0
 */
export const logTicks = (lo: number, hi: number): Ticks => {
  const e0 = Math.floor(Math.log10(lo))
  const e1 = Math.ceil(Math.log10(hi))
  const inside = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)
  const candidates = (mults: ReadonlyArray<number>, every: number): number[] => {
    const out: number[] = []
    for (let e = e0; e <= e1; e++) {
      if ((e - e0) % every !== 0) continue
      for (const m of mults) {
        const v = Number((m * 10 ** e).toPrecision(12))
        if (inside(v)) out.push(v)
      }
    }
    return out
  }
  let values = candidates([1, 2, 5], 1)
  if (values.length > 8) values = candidates([1], Math.max(1, Math.ceil((e1 - e0) / 6)))
  if (values.length < 2) values = candidates([1, 2, 3, 4, 5, 6, 7, 8, 9], 1)
  return Object.freeze({ lo, hi, values: Object.freeze(values), labels: Object.freeze(values.map(formatLogTick)) })
}

// -------------------------------------------------------------------------------------
// utils: decimation
// -------------------------------------------------------------------------------------

/**
 * Thin a run of points to at most `maxPoints` (at least 4) while keeping its shape: the
 * points are cut into ⌊maxPoints / 4⌋ runs of consecutive points and each run keeps its
 * first, last, lowest-y and highest-y point, in their original order. Every local extreme
 * that spans a run survives, so the drawn envelope is the same line; the global minimum and
 * maximum and both end points are always kept. Points are returned unchanged (the same
 * array) when there are few enough.
 * @example
 * decimate(Array.from({ length: 20000 }, (_, i) => [i, Math.sin(i / 100)] as const), 1000).length <= 1000
 * @category utils
 * @since 0.2.0
 */
export const decimate = (points: ReadonlyArray<Point>, maxPoints = 1000): ReadonlyArray<Point> => {
  const n = points.length
  const budget = Math.max(4, Math.floor(maxPoints))
  if (n <= budget) return points
  const runs = Math.floor(budget / 4)
  const out: Point[] = []
  for (let r = 0; r < runs; r++) {
    const lo = Math.floor((r * n) / runs)
    const hi = Math.floor(((r + 1) * n) / runs) - 1
    let iMin = lo
    let iMax = lo
    for (let i = lo + 1; i <= hi; i++) {
      const y = (points[i] as Point)[1]
      if (y < (points[iMin] as Point)[1]) iMin = i
      if (y > (points[iMax] as Point)[1]) iMax = i
    }
    const keep = [...new Set([lo, iMin, iMax, hi])].sort((a, b) => a - b)
    for (const i of keep) out.push(points[i] as Point)
  }
  return Object.freeze(out)
}

// -------------------------------------------------------------------------------------
// utils: ranges and text
// -------------------------------------------------------------------------------------

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

/** Pixel coordinates with one decimal: a tenth of a pixel is below what anyone can see. */
const px = (v: number): string => {
  if (!Number.isFinite(v)) throw new PurediffError('ValueError', `non-finite coordinate ${v}`, { op: 'plot' })
  const s = v.toFixed(1)
  return s.endsWith('.0') ? s.slice(0, -2) : s
}

/** Rough width of a string in the sans-serif fonts SVG viewers fall back to. */
const textWidth = (s: string, size: number): number => s.length * size * 0.6

const FONT = "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\""

const finiteRange = (values: ReadonlyArray<number>): [number, number] | undefined => {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo <= hi ? [lo, hi] : undefined
}

const yUsable =
  (log: boolean) =>
  (y: number): boolean =>
    Number.isFinite(y) && (!log || y > 0)

const yTicksFor = (panel: Panel, log: boolean, xOk: (x: number) => boolean): Ticks => {
  const ok = yUsable(log)
  const ys = panel.series.flatMap((s) => s.points.filter(([x, y]) => xOk(x) && ok(y)).map(([, y]) => y))
  const data = finiteRange(ys)
  let lo = panel.yMin !== undefined && ok(panel.yMin) ? panel.yMin : (data?.[0] ?? (log ? 1 : 0))
  let hi = panel.yMax !== undefined && ok(panel.yMax) ? panel.yMax : (data?.[1] ?? (log ? 10 : 1))
  if (hi < lo) [lo, hi] = [hi, lo]
  if (log) {
    if (hi / lo < 1.5) {
      const mid = Math.sqrt(lo * hi)
      ;[lo, hi] = [mid / 1.5, mid * 1.5]
    }
    // 4 % headroom in log space so the extreme points do not sit on the frame.
    const pad = (hi / lo) ** 0.04
    return logTicks(panel.yMin !== undefined ? lo : lo / pad, panel.yMax !== undefined ? hi : hi * pad)
  }
  if (hi - lo <= Math.abs(hi) * 1e-12) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1
    ;[lo, hi] = [lo - pad, hi + pad]
  }
  return linearTicks(lo, hi, true)
}

const xTicksFor = (panels: ReadonlyArray<Panel>, log: boolean): Ticks => {
  const xOk = yUsable(log)
  const xs = panels.flatMap((p) => {
    const ok = yUsable(p.yLog ?? false)
    return p.series.flatMap((s) => s.points.filter(([x, y]) => xOk(x) && ok(y)).map(([x]) => x))
  })
  let [lo, hi] = finiteRange(xs) ?? (log ? [1, 10] : [0, 1])
  if (log) {
    if (hi / lo < 10) [lo, hi] = [lo / 2, hi * 2]
    // 2 % margins in log space
    const pad = (hi / lo) ** 0.02
    return logTicks(lo / pad, hi * pad)
  }
  if (hi - lo <= Math.abs(hi) * 1e-12) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1
    ;[lo, hi] = [lo - pad, hi + pad]
  }
  // 2 % margins so the first and last points (and their dots) clear the frame.
  const margin = (hi - lo) * 0.02
  return withFirstTick(linearTicks(lo - margin, hi + margin, false, 8), lo)
}

/**
 * Give the first x a tick when it is a whole number (epoch 1, step 1) that the nice ticks
 * miss, so a chart says where the run starts: `1, 5, 10, …` rather than `5, 10, …`. A nice
 * tick closer than 0.4 of a step to it gives way, so labels do not collide.
 */
const withFirstTick = (t: Ticks, first: number): Ticks => {
  if (!Number.isInteger(first) || t.values.length < 2 || t.values.includes(first)) return t
  const step = (t.values[1] as number) - (t.values[0] as number)
  if (step < 1) return t
  const kept = t.values.filter((v) => Math.abs(v - first) >= 0.4 * step)
  const values = [first, ...kept].sort((a, b) => a - b)
  return Object.freeze({
    lo: t.lo,
    hi: t.hi,
    values: Object.freeze(values),
    labels: Object.freeze(values.map((v) => formatTick(v, step))),
  })
}

/** An axis label, marked as logarithmic on a log axis. */
const axisLabel = (label: string | undefined, log: boolean): string | undefined =>
  log ? (label === undefined ? 'log scale' : `${label} (log scale)`) : label

/** Colour by series name, in order of first appearance, so panels agree. */
const colourMap = (panels: ReadonlyArray<Panel>): ReadonlyMap<string, string> => {
  const m = new Map<string, string>()
  for (const p of panels) {
    for (const s of p.series) {
      if (!m.has(s.name)) m.set(s.name, s.color ?? PALETTE[m.size % PALETTE.length]!)
    }
  }
  return m
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const TITLE_H = 34
const HEADER_H = 24
const XTICK_H = 22
const GAP_H = 14
const XLABEL_H = 22
const MARGIN_L = 74
const MARGIN_R = 22

/**
 * Render stacked panels sharing one x axis as an SVG document.
 * @example
 * const svg = panelsSVG({ title: 'MLP on MNIST', xLabel: 'epoch', panels: [
 *   { yLabel: 'loss', yLog: true, series: [{ name: 'train', points: [[1, 0.6], [2, 0.3]] }] },
 *   { yLabel: 'accuracy', yMin: 0, yMax: 1, series: [{ name: 'test', points: [[1, 0.9], [2, 0.95]] }] },
 * ] })
 * svg.includes('MLP on MNIST') && svg.includes('loss (log scale)') && svg.includes('accuracy') // true
 * @category constructors
 * @since 0.2.0
 */
export const panelsSVG = (spec: PanelsSpec): string => {
  const panels = spec.panels.length > 0 ? spec.panels : [{ series: [] }]
  const width = Math.max(240, spec.width ?? 720)
  const top = spec.title !== undefined ? TITLE_H : 8
  const perPanelFixed = HEADER_H + XTICK_H
  const fixed = top + panels.length * perPanelFixed + (panels.length - 1) * GAP_H + XLABEL_H + 6
  const height = Math.max(spec.height ?? fixed + panels.length * 220, fixed + panels.length * 60)
  const plotH = (height - fixed) / panels.length
  const left = MARGIN_L
  const right = width - MARGIN_R
  const xLog = spec.xLog ?? false
  const xOk = yUsable(xLog)
  const xt = xTicksFor(panels, xLog)
  const xTr = (v: number): number => (xLog ? Math.log10(v) : v)
  const xOf = (x: number): number => left + ((xTr(x) - xTr(xt.lo)) / (xTr(xt.hi) - xTr(xt.lo))) * (right - left)
  const colours = colourMap(panels)

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" ${FONT}>`,
  )
  out.push(`<rect x="0" y="0" width="${px(width)}" height="${px(height)}" fill="#ffffff"/>`)
  if (spec.title !== undefined) {
    out.push(
      `<text x="${px(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${escapeXml(spec.title)}</text>`,
    )
  }

  panels.forEach((panel, pi) => {
    const log = panel.yLog ?? false
    const ok = yUsable(log)
    const yt = yTicksFor(panel, log, xOk)
    const pTop = top + pi * (perPanelFixed + plotH + GAP_H) + HEADER_H
    const pBot = pTop + plotH
    const tr = (v: number): number => (log ? Math.log10(v) : v)
    const yOf = (y: number): number => pBot - ((tr(y) - tr(yt.lo)) / (tr(yt.hi) - tr(yt.lo))) * plotH
    const clipId = `plot-area-${pi}`

    out.push(`<g class="panel" data-panel="${pi}">`)
    out.push(
      `<defs><clipPath id="${clipId}"><rect x="${px(left)}" y="${px(pTop)}" width="${px(right - left)}" height="${px(plotH)}"/></clipPath></defs>`,
    )
    // grid and tick labels
    const grid: string[] = []
    yt.values.forEach((v, i) => {
      const y = yOf(v)
      grid.push(`M${px(left)} ${px(y)}H${px(right)}`)
      out.push(
        `<text x="${px(left - 6)}" y="${px(y + 4)}" text-anchor="end" font-size="11" fill="#444">${escapeXml(yt.labels[i] ?? '')}</text>`,
      )
    })
    xt.values.forEach((v, i) => {
      const x = xOf(v)
      grid.push(`M${px(x)} ${px(pTop)}V${px(pBot)}`)
      out.push(
        `<text x="${px(x)}" y="${px(pBot + 15)}" text-anchor="middle" font-size="11" fill="#444">${escapeXml(xt.labels[i] ?? '')}</text>`,
      )
    })
    if (grid.length > 0) out.push(`<path d="${grid.join('')}" stroke="#e6e6e6" stroke-width="1" fill="none"/>`)
    out.push(
      `<rect x="${px(left)}" y="${px(pTop)}" width="${px(right - left)}" height="${px(plotH)}" fill="none" stroke="#888" stroke-width="1"/>`,
    )
    const yLabel = axisLabel(panel.yLabel, log)
    if (yLabel !== undefined) {
      const cy = (pTop + pBot) / 2
      out.push(
        `<text class="y-label" x="16" y="${px(cy)}" transform="rotate(-90 16 ${px(cy)})" text-anchor="middle" font-size="12" fill="#222">${escapeXml(yLabel)}</text>`,
      )
    }
    if (panel.title !== undefined) {
      out.push(
        `<text x="${px(left)}" y="${px(pTop - 8)}" font-size="12" font-weight="bold" fill="#222">${escapeXml(panel.title)}</text>`,
      )
    }

    // series
    out.push(`<g clip-path="url(#${clipId})">`)
    for (const s of panel.series) {
      const colour = escapeXml(colours.get(s.name) ?? PALETTE[0]!)
      const runs: Point[][] = [[]]
      let nFinite = 0
      for (const point of s.points) {
        const [x, y] = point
        if (!xOk(x) || !ok(y)) {
          if (runs[runs.length - 1]!.length > 0) runs.push([])
          continue
        }
        nFinite++
        runs[runs.length - 1]!.push(point)
      }
      // Thin long series: each unbroken run gets its share of the budget.
      const budget = spec.maxPoints ?? 1000
      const segments: string[][] = runs.map((run) =>
        (nFinite > budget ? decimate(run, Math.max(4, Math.floor((budget * run.length) / nFinite))) : run).map(
          ([x, y]) => `${px(xOf(x))} ${px(yOf(y))}`,
        ),
      )
      const dots: string[] = []
      const line = s.line ?? true
      const markers = !line || (s.markers ?? nFinite <= 30)
      const d = !line
        ? ''
        : segments
            .filter((seg) => seg.length > 1)
            .map((seg) => `M${seg.join('L')}`)
            .join('')
      for (const seg of segments) {
        for (const p of markers || seg.length === 1 ? seg : []) dots.push(p)
      }
      const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
      out.push(
        `<path class="series" data-series="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${dash}/>`,
      )
      for (const p of dots) {
        const [cx, cy] = p.split(' ')
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.8" fill="${colour}"/>`)
      }
    }
    out.push(`</g>`)

    // legend, right-aligned in the header row
    let lx = right
    const ly = pTop - 12
    const items: string[] = []
    for (const s of [...panel.series].reverse()) {
      const colour = escapeXml(colours.get(s.name) ?? PALETTE[0]!)
      const w = textWidth(s.name, 11)
      lx -= w
      items.push(`<text x="${px(lx)}" y="${px(ly + 4)}" font-size="11" fill="#222">${escapeXml(s.name)}</text>`)
      lx -= 24
      const dash = s.dashed === true ? ' stroke-dasharray="4 3"' : ''
      items.push(
        s.line === false
          ? `<circle cx="${px(lx + 9)}" cy="${px(ly)}" r="3.2" fill="${colour}"/>`
          : `<path d="M${px(lx)} ${px(ly)}H${px(lx + 18)}" stroke="${colour}" stroke-width="2.5"${dash} stroke-linecap="round"/>`,
      )
      lx -= 14
    }
    out.push(`<g class="legend">${items.join('')}</g>`)
    out.push(`</g>`)
  })

  const xLabel = axisLabel(spec.xLabel, xLog)
  if (xLabel !== undefined) {
    out.push(
      `<text class="x-label" x="${px((left + right) / 2)}" y="${px(height - 10)}" text-anchor="middle" font-size="12" fill="#222">${escapeXml(xLabel)}</text>`,
    )
  }
  out.push(`</svg>`)
  return out.join('\n') + '\n'
}

/**
 * Render one panel of line series as an SVG document.
 * @example
 * const svg = lineChartSVG({ title: 'loss', xLabel: 'step', yLabel: 'loss', yLog: true,
 *   series: [{ name: 'train', points: [[0, 2.3], [100, 0.4], [200, 0.2]] }] })
 * svg.startsWith('<svg') && svg.includes('loss (log scale)') // true
 * @category constructors
 * @since 0.2.0
 */
export const lineChartSVG = (spec: ChartSpec): string => {
  const panel: Panel = {
    series: spec.series,
    ...(spec.yLabel !== undefined ? { yLabel: spec.yLabel } : {}),
    ...(spec.yLog !== undefined ? { yLog: spec.yLog } : {}),
    ...(spec.yMin !== undefined ? { yMin: spec.yMin } : {}),
    ...(spec.yMax !== undefined ? { yMax: spec.yMax } : {}),
  }
  return panelsSVG({
    panels: [panel],
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    ...(spec.xLabel !== undefined ? { xLabel: spec.xLabel } : {}),
    ...(spec.xLog !== undefined ? { xLog: spec.xLog } : {}),
    ...(spec.width !== undefined ? { width: spec.width } : {}),
    ...(spec.maxPoints !== undefined ? { maxPoints: spec.maxPoints } : {}),
    height: spec.height ?? 420,
  })
}

// -------------------------------------------------------------------------------------
// effects
// -------------------------------------------------------------------------------------

let tmpCounter = 0

/**
 * Write a file so that readers see either the old contents or the new, never a part:
 * write a temporary file beside it, flush it to disk, then rename it over the target
 * (rename is atomic within one file system). Creates the parent directory if needed.
 * @example
 * writeFileAtomic('curve.svg', lineChartSVG({ series: [{ name: 'loss', points: [[1, 2], [2, 1]] }] }))
 * readFileSync('curve.svg', 'utf8').startsWith('<svg') // true
 * @category effects
 * @since 0.2.0
 */
export const writeFileAtomic = (path: string, contents: string | Uint8Array): void => {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`)
  try {
    const fd = openSync(tmp, 'w')
    try {
      const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
