/**
 * The record a staged custom-rule call carries. Under a staging level (`trace`, `jit`,
 * `explain`), `customJvp` and `customVjp` record one equation whose primitive is built for
 * that call: it computes the user's function, and its forward and reverse rules are the
 * user's rule (and its transpose). This module keeps, for each such primitive, what it came
 * from, so that `purediff/viz` can show the call as one node carrying the user's rule, or
 * expand it into the function's own equations. It is internal (not re-exported).
 *
 * Purity: a write-once weak map from a primitive record to frozen data.
 */
import type { AnyPrimitive } from '../primitives/types.js'
import type { Tensor } from '../tensor/Tensor.js'

/** What a staged custom-rule equation carries. @internal */
export interface CustomRuleInfo {
  /** the combinator that made it */
  readonly kind: 'customJvp' | 'customVjp'
  /** the name it shows under (the `name` option, else the function's own name, else the kind) */
  readonly name: string
  /** the user's rule (customJvp's `rule`, customVjp's `bwd`) as one line of its source text */
  readonly rule: string
  /** the user's function on the flat input leaves: what the equation computes */
  readonly call: (xs: ReadonlyArray<Tensor>) => Tensor
}

const infos = new WeakMap<AnyPrimitive, CustomRuleInfo>()

/** Remember what a custom-rule primitive came from. @internal */
export const registerCustomRule = (prim: AnyPrimitive, info: CustomRuleInfo): void => {
  infos.set(prim, Object.freeze({ ...info }))
}

/** The custom rule an equation's primitive carries (null: an ordinary primitive). @internal */
export const customRuleOf = (prim: AnyPrimitive): CustomRuleInfo | null => infos.get(prim) ?? null

/**
 * A function's source on one line, cut at `max` characters. Module-namespace prefixes that a
 * bundler or a test runner writes into compiled code (`(0, import_purediff.div)`) are
 * dropped, so the rule reads as the user wrote it (`div`). @internal
 */
export const oneLine = (fn: unknown, max = 160): string => {
  const s = String(fn)
    .replace(/\(0,\s*[A-Za-z_$][\w$]*\.([A-Za-z_$][\w$]*)\)/g, '$1')
    .replace(/\b(?:__vite_ssr_import_\d+__|import_[\w$]+)\.([A-Za-z_$][\w$]*)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim()
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}
