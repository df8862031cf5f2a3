/**
 * JSON text from outside, parsed with two guards `JSON.parse` lacks.
 *
 * - Depth: brackets are counted (strings skipped) before parsing, and a text nested deeper
 *   than the limit is refused, so no later walk over the value (tree decoding, tensor shape
 *   inference) can overflow the stack.
 * - Overflow: JSON has no Infinity, yet `JSON.parse('[1e400]')` gives `[Infinity]`. A number
 *   literal too large for float64 is refused, with the key path where it stands; the explicit
 *   spellings `"Infinity"` and `"-Infinity"` are how a checkpoint holds infinities.
 *
 * Purity: a pure function of the text; the parsed value is the caller's.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DecodeIssue } from './DecodeError.js'
import { joinKey } from './report.js'

/** JSON documents from outside nest at most this deep (trees are at most 256 levels, tensors add their rank). */
export const MAX_JSON_DEPTH = 512

/** The deepest bracket nesting of a JSON text, stopping as soon as it passes `limit`. */
export const nestingDepth = (text: string, limit: number): number => {
  let depth = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x22) {
      i++
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) max = depth
      if (max > limit) return max
    } else if (ch === 0x7d || ch === 0x5d) depth--
  }
  return max
}

/** Key paths of non-finite numbers in a parsed value (iterative, at most `max` of them). */
const overflowPaths = (root: unknown, max: number): string[] => {
  const found: string[] = []
  const stack: Array<readonly [unknown, string]> = [[root, '']]
  while (stack.length > 0 && found.length < max) {
    const [v, path] = stack.pop() as readonly [unknown, string]
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) found.push(path)
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], joinKey(path, i)])
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v)
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i] as string
        stack.push([(v as Record<string, unknown>)[k], joinKey(path, k)])
      }
    }
  }
  return found
}

/**
 * Parse JSON text from outside: the value, or the problems (too deep, not JSON, a number
 * literal that overflows float64), each with its key path.
 * @internal
 */
export const parseJSON = (text: string, maxDepth = MAX_JSON_DEPTH): E.Either<ReadonlyArray<DecodeIssue>, unknown> => {
  if (nestingDepth(text, maxDepth) > maxDepth)
    return E.left([{ path: '', message: `the JSON nests deeper than ${maxDepth} levels` }])
  let overflow = false
  let doc: unknown
  try {
    doc = JSON.parse(text, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) overflow = true
      return v
    })
  } catch (e) {
    return E.left([
      { path: '', message: `not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : 'parse error'}` },
    ])
  }
  if (overflow) {
    return E.left(
      overflowPaths(doc, 10).map((path) => ({
        path,
        message:
          'a number literal overflows float64 (it would load as Infinity); write "Infinity" or "-Infinity" to store an infinity',
      })),
    )
  }
  return E.right(doc)
}
