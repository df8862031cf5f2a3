/**
 * Progress display for training output, such as
 * `epoch  3/10  ███████░░░  loss 0.2312  acc 0.9412  1.8s`.
 *
 * Formatting (bar, numbers, durations, the whole line) is pure and separate from writing.
 * The writer knows two kinds of line: a transient `update` (say, the step within an epoch)
 * and a permanent `line` (say, the end of an epoch). On a terminal an update rewrites the
 * current line in place (`\r`, then erase the line); in a log (CI, a pipe, a file) updates
 * are dropped so the log holds only permanent lines, one per line, without control codes.
 *
 * `withProgress` puts this on a training stream: a transient line per step and a permanent
 * line per epoch on a terminal, and nothing at all where the sink is not a terminal (CI logs
 * and pipes stay clean) unless asked to log the epoch lines.
 *
 * Purity contract: the `format*` functions are pure; the writer's only effect is writing to
 * the stream it was given, and its only state is whether a transient line is showing.
 */
import { fromGenerator, type Stream } from '../train/Stream.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Named numbers to show, in order. @category model */
export type Metrics = ReadonlyArray<readonly [string, number]> | Readonly<Record<string, number>>

/**
 * What one progress line shows. `fraction` fills the bar (default `current / total`).
 * @category model
 * @since 0.2.0
 */
export interface ProgressFields {
  readonly label?: string
  readonly current: number
  readonly total: number
  readonly fraction?: number
  readonly metrics?: Metrics
  readonly seconds?: number
  readonly barWidth?: number
}

/**
 * The part of a writable stream the writer needs (`process.stdout` fits).
 * @category model
 * @since 0.2.0
 */
export interface TextSink {
  write(text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

/**
 * Writes progress lines: `update` is transient, `line` permanent, `end` closes a
 * transient line.
 * @category model
 * @since 0.2.0
 */
export interface ProgressWriter {
  readonly update: (text: string) => void
  readonly line: (text: string) => void
  readonly end: () => void
}

// -------------------------------------------------------------------------------------
// utils: formatting
// -------------------------------------------------------------------------------------

/**
 * A bar of `width` cells, the first ⌊fraction · width⌋ full: a bar is full only when done.
 * @example
 * formatBar(0.7, 10) === '███████░░░'
 * @category utils
 * @since 0.2.0
 */
export const formatBar = (fraction: number, width = 10): string => {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
  // The epsilon keeps 0.7 · 10 = 6.999… from losing a cell.
  const full = Math.min(width, Math.floor(f * width + 1e-9))
  return '█'.repeat(full) + '░'.repeat(width - full)
}

/**
 * A metric with four decimals; exponent form for magnitudes outside [1e-3, 1e5).
 * @example
 * formatMetric(0.23124) === '0.2312' && formatMetric(1.5e-5) === '1.500e-5'
 * @category utils
 * @since 0.2.0
 */
export const formatMetric = (v: number): string => {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf'
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace('e+', 'e')
  return v.toFixed(4)
}

/**
 * A duration: `0.4s`, `12.3s`, `2m03s`, `1h02m`.
 * @example
 * formatDuration(0.42) // '0.4s'
 * formatDuration(123) // '2m03s'
 * formatDuration(3720) // '1h02m'
 * @category utils
 * @since 0.2.0
 */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '?s'
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const s = Math.floor(seconds)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

const metricPairs = (m: Metrics): ReadonlyArray<readonly [string, number]> =>
  Array.isArray(m) ? (m as ReadonlyArray<readonly [string, number]>) : Object.entries(m)

/**
 * One progress line: label, counter padded to the width of the total, bar, metrics, time.
 * @example
 * formatProgressLine({ current: 3, total: 10, fraction: 0.7,
 *   metrics: { loss: 0.23124, acc: 0.94119 }, seconds: 1.82 })
 * // 'epoch  3/10  ███████░░░  loss 0.2312  acc 0.9412  1.8s'
 * @category utils
 * @since 0.2.0
 */
export const formatProgressLine = (p: ProgressFields): string => {
  const total = String(p.total)
  const parts = [
    `${p.label ?? 'epoch'} ${String(p.current).padStart(total.length)}/${total}`,
    formatBar(p.fraction ?? (p.total > 0 ? p.current / p.total : 0), p.barWidth ?? 10),
    ...metricPairs(p.metrics ?? []).map(([k, v]) => `${k} ${formatMetric(v)}`),
  ]
  if (p.seconds !== undefined) parts.push(formatDuration(p.seconds))
  return parts.join('  ')
}

// -------------------------------------------------------------------------------------
// constructors: writers
// -------------------------------------------------------------------------------------

const ERASE_LINE = '\r\x1b[2K'

/**
 * A writer over a text sink; terminal behaviour when `sink.isTTY` is true.
 * @example
 * const w = progressWriter(process.stdout)
 * w.update(formatProgressLine({ label: 'step', current: 40, total: 100 }))
 * w.line(formatProgressLine({ current: 1, total: 10, metrics: { loss: 0.31 } }))
 * // into a file or a pipe (not a terminal), transient updates are dropped and lines kept
 * const written: string[] = []
 * const log = progressWriter({ write: (s: string) => written.push(s) })
 * log.update('step 40/100')
 * log.line('epoch 1/10')
 * written // ['epoch 1/10\n']
 * @category constructors
 * @since 0.2.0
 */
export const progressWriter = (sink: TextSink = process.stdout): ProgressWriter => {
  const tty = sink.isTTY === true
  let showing = false
  // A line that wraps cannot be rewritten by `\r`, so transient lines are cut to the width.
  const fit = (text: string): string => {
    const cols = sink.columns
    if (cols === undefined || cols < 2) return text
    const chars = [...text]
    return chars.length < cols ? text : chars.slice(0, cols - 1).join('')
  }
  return Object.freeze({
    update: (text: string): void => {
      if (!tty) return
      sink.write(ERASE_LINE + fit(text))
      showing = true
    },
    line: (text: string): void => {
      sink.write((showing ? ERASE_LINE : '') + text + '\n')
      showing = false
    },
    end: (): void => {
      if (showing) sink.write('\n')
      showing = false
    },
  })
}

/**
 * Progress for a loop of `total` units: `update`/`line` take the counter and metrics, and
 * add the time since creation read from `now` (milliseconds; `performance.now` by default).
 * @example
 * const p = createProgress({ total: 10 })
 * p.line(1, { loss: 0.52, acc: 0.87 }) // epoch  1/10  █░░░░░░░░░  loss 0.5200  acc 0.8700  0.9s
 * @category constructors
 * @since 0.2.0
 */
export const createProgress = (options: {
  readonly total: number
  readonly label?: string
  readonly barWidth?: number
  readonly sink?: TextSink
  readonly now?: () => number
}) => {
  const now = options.now ?? (() => performance.now())
  const start = now()
  const writer = progressWriter(options.sink ?? process.stdout)
  const fields = (current: number, metrics: Metrics, fraction?: number): ProgressFields => ({
    current,
    total: options.total,
    metrics,
    seconds: (now() - start) / 1000,
    ...(options.label !== undefined ? { label: options.label } : {}),
    ...(options.barWidth !== undefined ? { barWidth: options.barWidth } : {}),
    ...(fraction !== undefined ? { fraction } : {}),
  })
  return Object.freeze({
    /** Transient: on a terminal, rewrite the line; `fraction` fills the bar (say, steps done in this epoch). */
    update: (current: number, metrics: Metrics = [], fraction?: number): void =>
      writer.update(formatProgressLine(fields(current, metrics, fraction))),
    /** Permanent: one line, kept in logs. */
    line: (current: number, metrics: Metrics = [], fraction?: number): void =>
      writer.line(formatProgressLine(fields(current, metrics, fraction))),
    /** Print any other text as a permanent line, clearing a transient one first. */
    log: (text: string): void => writer.line(text),
    end: (): void => writer.end(),
  })
}

// -------------------------------------------------------------------------------------
// combinators: training streams
// -------------------------------------------------------------------------------------

/**
 * The fields of a training state that the progress display reads (`TrainState` fits).
 * @category model
 * @since 0.2.0
 */
export interface ProgressState {
  readonly step: number
  readonly epoch: number
  readonly epochEnd: boolean
  readonly loss: number
  readonly metrics: Readonly<Record<string, number>>
}

/**
 * Options of `withProgress`. `totalSteps` fills the bar; `log: true` also writes the epoch
 * lines where the sink is not a terminal (by default nothing is written there).
 * @category model
 * @since 0.2.0
 */
export interface WithProgressOptions {
  readonly totalSteps: number
  readonly sink?: TextSink
  readonly log?: boolean
  readonly barWidth?: number
  readonly now?: () => number
}

/**
 * Show a training stream's progress as it is pulled: on a terminal, a transient line per
 * step (`step 40/400 ███░░ loss 0.2312 1.2s`) and a permanent line at every epoch end
 * (`epoch 3 step 120/400 … loss 0.2312`, with the state's metrics); elsewhere quiet, unless
 * `log` is set. The stream's states pass through unchanged; each replay starts its own clock.
 * @example
 * const states = [1, 2, 3, 4].map((step) => ({ step, epoch: step >> 1, epochEnd: step % 2 === 0, loss: 1 / step, metrics: {} }))
 * pipe(Stream.fromArray(states), withProgress({ totalSteps: 4 }), Stream.toArray).length === 4
 * // in a program: pipe(train(config), untilStep(400), withProgress({ totalSteps: 400 }), Stream.last)
 * @category combinators
 * @since 0.2.0
 */
export const withProgress =
  (options: WithProgressOptions) =>
  <S extends ProgressState>(self: Stream<S>): Stream<S> =>
    fromGenerator(function* () {
      const sink = options.sink ?? process.stdout
      const tty = sink.isTTY === true
      const now = options.now ?? (() => performance.now())
      const start = now()
      const writer = progressWriter(sink)
      const total = options.totalSteps
      const fields = (s: S, label: string, current: number, epochTotal: number): ProgressFields => ({
        label,
        current,
        total: epochTotal,
        fraction: total > 0 ? s.step / total : 0,
        metrics: [['loss', s.loss] as const, ...Object.entries(s.metrics)],
        seconds: (now() - start) / 1000,
        ...(options.barWidth !== undefined ? { barWidth: options.barWidth } : {}),
      })
      try {
        for (const s of self) {
          if (tty) writer.update(formatProgressLine(fields(s, 'step', s.step, total)))
          if (s.epochEnd && (tty || options.log === true)) {
            writer.line(`epoch ${s.epoch}  ` + formatProgressLine(fields(s, 'step', s.step, total)))
          }
          yield s
        }
      } finally {
        writer.end()
      }
    })
