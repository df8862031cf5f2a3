/**
 * What every lesson shares: where its pictures go and how they are written. A lesson prints
 * an explanation as text and writes it as a picture (`.svg`) and as a page to step through
 * (`.html`, open it in any browser, it loads nothing).
 *
 * Purity contract: `writeExplanation` writes two files atomically and nothing else.
 */
import { join } from 'node:path'
import { writeFileAtomic, type Explanation } from 'purediff/viz'
import type { CliSpec } from './cli.js'

/** Options every lesson takes. */
export interface LessonOptions {
  /** Directory for the pictures (default `out/lessons`). */
  readonly out?: string
  /** Where the text goes (default console.log). */
  readonly log?: (line: string) => void
}

/** Write `<out>/<name>.svg` and `<out>/<name>.html`; returns both paths. */
export const writeExplanation = (
  e: Explanation,
  out: string,
  name: string,
): { readonly svg: string; readonly html: string } => {
  const svg = join(out, `${name}.svg`)
  const html = join(out, `${name}.html`)
  writeFileAtomic(svg, e.toSVG())
  writeFileAtomic(html, e.toHTML())
  return Object.freeze({ svg, html })
}

/** The command line of a lesson: `--out <dir>` and `--help`. */
export const lessonCli = (name: string, summary: string): CliSpec => ({
  name: `lessons/${name}`,
  summary,
  options: {
    out: { kind: 'string', default: 'out/lessons', description: 'directory for the .svg and .html explanations' },
  },
})

/** Lesson options from parsed command-line values. */
export const lessonOptions = (v: Readonly<Record<string, unknown>>): LessonOptions =>
  typeof v['out'] === 'string' ? { out: v['out'] } : {}
