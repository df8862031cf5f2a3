/**
 * Timing harness for the benchmarks: warm-up, then several timed samples of a
 * calibrated number of calls each, summarised by the median and the spread.
 *
 * A sample times `iters` back-to-back calls and divides by `iters`, so a
 * sub-millisecond workload is not lost in timer resolution. `iters` is chosen
 * once, after warm-up, so that one sample lasts about `minSampleMs`. The spread is
 * reported two ways: the interquartile range and (max - min), both relative to the
 * median, because on a shared machine the outliers tell as much as the centre.
 *
 * Benchmarks are scripts, not tests: nothing here asserts a time.
 */
import { performance } from 'node:perf_hooks'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How long to warm up and how many samples to take. */
export interface TimingOptions {
  /** Warm-up lasts at least this many calls ... */
  readonly warmupCalls: number
  /** ... and at least this many milliseconds. */
  readonly warmupMs: number
  /** Number of timed samples. */
  readonly samples: number
  /** Target duration of one sample; calls are batched to reach it. */
  readonly minSampleMs: number
  /** Never batch more calls than this into one sample. */
  readonly maxItersPerSample: number
}

/** Summary of one measurement, all times in milliseconds per call. */
export interface Timing {
  readonly samplesMs: ReadonlyArray<number>
  readonly itersPerSample: number
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  /** (q3 - q1) / median */
  readonly iqrRel: number
  /** (max - min) / median */
  readonly rangeRel: number
}

export const defaultTiming: TimingOptions = Object.freeze({
  warmupCalls: 3,
  warmupMs: 300,
  samples: 9,
  minSampleMs: 60,
  maxItersPerSample: 100_000,
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (pos - lo)
}

/** Median, quartile and range summary of samples (ms per call). */
export const summarize = (samplesMs: ReadonlyArray<number>, itersPerSample: number): Timing => {
  const s = [...samplesMs].sort((x, y) => x - y)
  const med = quantile(s, 0.5)
  const min = s[0] as number
  const max = s[s.length - 1] as number
  return {
    samplesMs,
    itersPerSample,
    medianMs: med,
    minMs: min,
    maxMs: max,
    iqrRel: (quantile(s, 0.75) - quantile(s, 0.25)) / med,
    rangeRel: (max - min) / med,
  }
}

/**
 * Time `run` (one call = one unit of work). `run` may return a value; it is kept in
 * a sink so the JIT cannot drop the work.
 */
export const measure = (run: () => unknown, opts: TimingOptions = defaultTiming): Timing => {
  let sink: unknown
  // warm-up: at least warmupCalls calls and warmupMs milliseconds
  let calls = 0
  const w0 = performance.now()
  let perCall = Infinity
  while (calls < opts.warmupCalls || performance.now() - w0 < opts.warmupMs) {
    const t0 = performance.now()
    sink = run()
    perCall = Math.min(perCall, performance.now() - t0)
    calls++
  }
  const iters = Math.max(1, Math.min(opts.maxItersPerSample, Math.ceil(opts.minSampleMs / Math.max(perCall, 1e-6))))
  const samples: number[] = []
  for (let s = 0; s < opts.samples; s++) {
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) sink = run()
    samples.push((performance.now() - t0) / iters)
  }
  keep(sink)
  return summarize(samples, iters)
}

let kept: unknown = null
/** Hold on to a result so the work producing it is observable. */
export const keep = (x: unknown): void => {
  kept = x
}
/** The last kept value (read once at the end so `kept` is not dead). */
export const lastKept = (): unknown => kept

// -------------------------------------------------------------------------------------
// formatting
// -------------------------------------------------------------------------------------

/** A time in adaptive units (ns, µs, ms, s). */
export const fmtTime = (ms: number): string => {
  if (!Number.isFinite(ms)) return '—'
  if (ms < 1e-3) return `${(ms * 1e6).toPrecision(3)} ns`
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`
  if (ms < 1000) return `${ms.toPrecision(3)} ms`
  return `${(ms / 1000).toPrecision(3)} s`
}

/** A ratio such as 0.42× or 17.3×. */
export const fmtRatio = (r: number): string =>
  Number.isFinite(r) ? `${r < 10 ? r.toFixed(2) : r.toPrecision(3)}×` : '—'

/** A relative spread as a percentage. */
export const fmtPct = (r: number): string => (Number.isFinite(r) ? `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%` : '—')

/** Render rows as a Markdown table (also readable in a terminal). */
export const markdownTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: ReadonlyArray<string>): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`
  const sep = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), sep, ...rows.map(line)].join('\n')
}
