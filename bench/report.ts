/**
 * Result records shared by every workload, and their rendering: one table per
 * workload with absolute numbers and ratios against each purediff variant.
 *
 * Every ratio is a ratio of median times, purediff / baseline: below 1× purediff is
 * faster, above 1× it is slower by that factor. For matmul this equals
 * GFLOP/s(baseline) / GFLOP/s(purediff).
 */
import type { Timing } from './harness.js'
import { fmtPct, fmtRatio, fmtTime, markdownTable } from './harness.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One measured (or failed) candidate on one workload. */
export interface Row {
  readonly candidate: string
  readonly dtype: 'float64' | 'float32'
  readonly isPurediff: boolean
  /** null when the candidate could not run; `note` says why. */
  readonly timing: Timing | null
  /** Derived throughput, e.g. GFLOP/s for matmul. */
  readonly throughput?: { readonly unit: string; readonly value: number }
  /** Time per scalar op, for the scalar-graph workload (ms). */
  readonly perOpMs?: number
  /** Agreement with the float64 reference: max |a - b| / max |b| (null if not checked). */
  readonly relErr?: number | null
  readonly note?: string
}

/** A workload's results. */
export interface WorkloadResult {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly rows: ReadonlyArray<Row>
  /** Free-form extra facts (e.g. what tfjs did on second order). */
  readonly notes?: ReadonlyArray<string>
  /** Extra derived numbers (e.g. hvp / gradient cost). */
  readonly derived?: Readonly<Record<string, number | string>>
}

// -------------------------------------------------------------------------------------
// rendering
// -------------------------------------------------------------------------------------

const label = (r: Row): string => `${r.candidate} (${r.dtype === 'float64' ? 'f64' : 'f32'})`

/** One purediff-vs-baseline comparison: ratios of median times and of best times. */
export interface Ratio {
  readonly purediff: string
  readonly baseline: string
  readonly medianRatio: number
  readonly minRatio: number
}

/** Time ratios purediff / baseline for every (purediff, baseline) pair. */
export const ratios = (w: WorkloadResult): Ratio[] => {
  const out: Ratio[] = []
  for (const p of w.rows) {
    if (!p.isPurediff || p.timing === null) continue
    for (const b of w.rows) {
      if (b.isPurediff || b.timing === null) continue
      out.push({
        purediff: label(p),
        baseline: label(b),
        medianRatio: p.timing.medianMs / b.timing.medianMs,
        minRatio: p.timing.minMs / b.timing.minMs,
      })
    }
  }
  return out
}

/** A Markdown table for a workload: absolute numbers, spread, and time ratios against purediff. */
export const renderWorkload = (w: WorkloadResult): string => {
  const pds = w.rows.filter((r) => r.isPurediff && r.timing !== null)
  const hasTp = w.rows.some((r) => r.throughput !== undefined)
  const hasPerOp = w.rows.some((r) => r.perOpMs !== undefined)
  const hasErr = w.rows.some((r) => r.relErr !== undefined)
  const header = [
    'candidate',
    'median',
    'IQR',
    'min–max',
    ...(hasTp ? [w.rows.find((r) => r.throughput)?.throughput?.unit ?? ''] : []),
    ...(hasPerOp ? ['per op'] : []),
    ...pds.map((p) => `${label(p)} / this`),
    ...(hasErr ? ['rel. err'] : []),
  ]
  const rows = w.rows.map((r) => {
    const t = r.timing
    return [
      label(r),
      t ? fmtTime(t.medianMs) : 'failed',
      t ? fmtPct(t.iqrRel) : '—',
      t ? `${fmtTime(t.minMs)}–${fmtTime(t.maxMs)}` : '—',
      ...(hasTp ? [r.throughput ? r.throughput.value.toFixed(2) : '—'] : []),
      ...(hasPerOp ? [r.perOpMs !== undefined ? fmtTime(r.perOpMs) : '—'] : []),
      ...pds.map((p) => (t && p.timing ? (p === r ? '1' : fmtRatio(p.timing.medianMs / t.medianMs)) : '—')),
      ...(hasErr ? [r.relErr === undefined || r.relErr === null ? '—' : r.relErr.toExponential(1)] : []),
    ]
  })
  const lines = [`### ${w.title}`, '', w.description, '', markdownTable(header, rows)]
  const failed = w.rows.filter((r) => r.note !== undefined)
  for (const r of failed) lines.push(`- ${label(r)}: ${r.note}`)
  for (const n of w.notes ?? []) lines.push(`- ${n}`)
  if (w.derived)
    for (const [k, v] of Object.entries(w.derived))
      lines.push(`- ${k}: ${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v}`)
  return lines.join('\n')
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** max |a - b| / max |ref|, the error measure used for every agreement check. */
export const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  if (a.length !== ref.length) return Infinity
  let num = 0
  let den = 0
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (ref[i] as number)))
    den = Math.max(den, Math.abs(ref[i] as number))
  }
  return den === 0 ? num : num / den
}

/** Run `f`; on a thrown error return its message instead. */
export const attempt = <T>(f: () => T): { ok: true; value: T } | { ok: false; error: string } => {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }
  }
}
