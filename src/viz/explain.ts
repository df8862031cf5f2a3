/**
 * `explain(f)(...args)`: a derivative being computed, node by node. The function is staged
 * into a `Program` (`trace`), whose equations `v = prim(inputs)` are evaluated once at the
 * arguments (see `graph.ts`), then swept twice with the primitives' own rules:
 * - the forward sweep pushes a tangent from the inputs to the outputs, ẏ = Σᵢ ∂y/∂xᵢ · ẋᵢ
 *   (the JVP: what `jvp(f, x, direction)` computes; dual numbers a + bε with ε² = 0);
 * - the reverse sweep pulls a cotangent from the outputs back, x̄ᵢ += ȳ · ∂y/∂xᵢ, in reverse
 *   order (the VJP: what `grad` computes for a scalar output seeded with 1).
 * Each node keeps its primal, tangent and adjoint, the rule that produced them as one line
 * of math, and the chain-rule product at that step with the numbers filled in. A tangent or
 * adjoint of `null` is a symbolic zero (the node does not depend on the direction, or does
 * not reach the output).
 *
 * Since transforms run their rules as ops, `explain(grad(f))` stages, and shows, the
 * backward-pass program itself: its tangent is a Hessian-vector product.
 *
 * A `customJvp` / `customVjp` call is one node whose rules are the user's (its rule text says
 * so and quotes the rule's source), unless `expandCustom` asks for the function's own
 * equations. An equation holding a sub-program (control flow) is one node.
 *
 * Purity: `f` is evaluated once; the explanation and everything in it are frozen. The
 * renderers are pure functions of it (see `render.ts`).
 */
import { R } from '../ad/trace.js'
import { PurediffError } from '../errors.js'
import type { JvpRule, VjpRule } from '../primitives/types.js'
import type { Tensor } from '../tensor/Tensor.js'
import { fromData, full, scalar, shapeEq, zeros } from '../tensor/Tensor.js'
import { customRuleOf } from '../transforms/customRule.js'
import { checkOptions } from '../transforms/options.js'
import { flatten } from '../tree/Tree.js'
import type { Graph, GraphVar } from './graph.js'
import { recordGraph } from './graph.js'
import { renderDOT, renderHTML, renderSVG, renderText } from './render.js'
import type { ChainTerm, ExplainNode, Explanation } from './explanation.js'
import type { RuleText } from './rules.js'
import { ruleOf } from './rules.js'

export type { ChainTerm, ExplainNode, Explanation } from './explanation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `explain`: the tangent `direction` (the same tree as the arguments; default the
 * first basis direction: 1 in the first entry of the first input, 0 elsewhere), the output
 * `cotangent` seed (the same tree as the output; default 1, or ones for a non-scalar
 * output, so the adjoints are the gradient of the sum), a `title`, and how many entries a
 * summarised tensor shows (`maxEntries`, default 4), and whether `customJvp` / `customVjp`
 * calls are expanded into their functions' own equations (`expandCustom`, default false:
 * one node carrying the user's rule).
 * @category model
 * @since 0.2.0
 */
export interface ExplainOptions {
  readonly direction?: unknown
  readonly cotangent?: unknown
  readonly title?: string
  readonly maxEntries?: number
  readonly expandCustom?: boolean
}

const OPTION_NAMES = ['direction', 'cotangent', 'title', 'maxEntries', 'expandCustom']

const checkExplainOptions = (options: ExplainOptions): void => {
  checkOptions('explain', options, OPTION_NAMES)
  const { title, maxEntries, expandCustom } = options
  if (title !== undefined && typeof title !== 'string')
    throw new PurediffError('ValueError', `title must be a string, got ${typeof title}`, { op: 'explain' })
  if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries >= 1))
    throw new PurediffError('ValueError', `maxEntries must be a positive integer, got ${String(maxEntries)}`, {
      op: 'explain',
    })
  if (expandCustom !== undefined && typeof expandCustom !== 'boolean')
    throw new PurediffError('ValueError', `expandCustom must be true or false, got ${String(expandCustom)}`, {
      op: 'explain',
    })
}

// -------------------------------------------------------------------------------------
// sweeps
// -------------------------------------------------------------------------------------

const ruleAt = <F>(rules: ReadonlyArray<F | null> | ((i: number) => F | null), i: number): F | null =>
  typeof rules === 'function' ? rules(i) : (rules[i] ?? null)

const isScalar = (t: Tensor): boolean => t.size === 1
const num = (t: Tensor): number => t.item()

const fitTangent = (t: Tensor, y: Tensor): Tensor => {
  let out = shapeEq(t.shape, y.shape) ? t : R.broadcastTo(t, y.shape)
  if (out.dtype !== y.dtype) out = R.cast(out, y.dtype)
  return out
}
const fitCotangent = (t: Tensor, x: Tensor): Tensor => {
  let out = shapeEq(t.shape, x.shape) ? t : R.unbroadcast(t, x.shape)
  if (out.dtype !== x.dtype) out = R.cast(out, x.dtype)
  return out
}

/** Tangents of every variable, given the inputs' tangents (the JVP, rule by rule). */
const forwardSweep = (
  g: Graph,
  seeds: ReadonlyArray<Tensor>,
): { tangents: Array<Tensor | null>; terms: ChainTerm[][] } => {
  const tangents: Array<Tensor | null> = g.vars.map(() => null)
  const terms: ChainTerm[][] = g.vars.map(() => [])
  g.inputs.forEach((id, k) => {
    tangents[id] = seeds[k] as Tensor
  })
  g.vars.forEach((v, id) => {
    if (v.kind !== 'op') return
    const xs = v.inputs.map((j) => (g.vars[j] as GraphVar).value)
    const y = v.value
    const allScalar = isScalar(y) && xs.every(isScalar)
    let yDot: Tensor | null = null
    v.inputs.forEach((j, i) => {
      const xDot = tangents[j]
      if (xDot === null || xDot === undefined) return
      const rule = ruleAt<JvpRule<unknown>>(v.prim.jvp, i)
      if (rule === null) return
      const c = rule(xDot, xs, y, v.params, R)
      yDot = yDot === null ? c : R.add(yDot, c)
      const term: ChainTerm = allScalar
        ? { from: j, value: c, factor: num(rule(scalar(1, xDot.dtype), xs, y, v.params, R)), seed: num(xDot) }
        : { from: j, value: c }
      terms[id]!.push(Object.freeze(term))
    })
    tangents[id] = yDot === null ? null : fitTangent(yDot, y)
  })
  return { tangents, terms }
}

/** Adjoints of every variable reached from the seeded outputs (the VJP, rule by rule). */
const reverseSweep = (
  g: Graph,
  seeds: ReadonlyArray<Tensor>,
  active: ReadonlyArray<boolean>,
): { adjoints: Array<Tensor | null>; terms: ChainTerm[][] } => {
  const adjoints: Array<Tensor | null> = g.vars.map(() => null)
  const terms: ChainTerm[][] = g.vars.map(() => [])
  const accumulate = (id: number, t: Tensor): void => {
    const prev = adjoints[id]
    adjoints[id] = prev === null || prev === undefined ? t : R.add(prev, t)
  }
  g.outputs.forEach((id, k) => {
    if (active[id]) accumulate(id, seeds[k] as Tensor)
  })
  for (let id = g.vars.length - 1; id >= 0; id--) {
    const v = g.vars[id] as GraphVar
    const yBar = adjoints[id]
    if (v.kind !== 'op' || yBar === null || yBar === undefined) continue
    const xs = v.inputs.map((j) => (g.vars[j] as GraphVar).value)
    const y = v.value
    const allScalar = isScalar(y) && xs.every(isScalar)
    v.inputs.forEach((j, i) => {
      if (!active[j]) return
      const rule = ruleAt<VjpRule<unknown>>(v.prim.vjp, i)
      if (rule === null) return
      const x = xs[i] as Tensor
      const c = fitCotangent(rule(yBar, xs, y, v.params, R), x)
      accumulate(j, c)
      const term: ChainTerm = allScalar
        ? { from: j, value: c, factor: num(rule(scalar(1, yBar.dtype), xs, y, v.params, R)), seed: num(yBar) }
        : { from: j, value: c }
      terms[id]!.push(Object.freeze(term))
    })
  }
  return { adjoints, terms }
}

/** Which variables depend differentiably on an input (the ones a reverse level would tape). */
const activeVars = (g: Graph): boolean[] => {
  const active = g.vars.map((v) => v.kind === 'input')
  g.vars.forEach((v, id) => {
    if (v.kind !== 'op') return
    active[id] = v.inputs.some((j, i) => active[j] === true && ruleAt<VjpRule<unknown>>(v.prim.vjp, i) !== null)
  })
  return active
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const formatParam = (v: unknown): string => {
  if (v instanceof Int32Array || v instanceof Float64Array || v instanceof Float32Array) {
    return v.length <= 6 ? `[${Array.from(v).join(',')}]` : `[${v.length} values]`
  }
  if (Array.isArray(v)) return `[${v.map(formatParam).join(',')}]`
  if (typeof v === 'function') return 'ƒ'
  if (isProgram(v)) return `{${v.eqns.length} equations}`
  if (typeof v === 'object' && v !== null) return `{${formatParams(v)}}`
  return String(v)
}

/** A sub-program held by an equation (control flow): shown as one node with its size. */
const isProgram = (v: unknown): v is { readonly eqns: ReadonlyArray<unknown> } =>
  typeof v === 'object' && v !== null && Array.isArray((v as { eqns?: unknown }).eqns) && 'outputs' in v

const formatParams = (p: unknown): string =>
  typeof p !== 'object' || p === null
    ? ''
    : Object.entries(p as Record<string, unknown>)
        .map(([k, v]) => `${k}=${formatParam(v)}`)
        .join(' ')

const seedsFor = (given: unknown, like: ReadonlyArray<Tensor>, basis: boolean, what: string): Tensor[] => {
  if (given === undefined) {
    if (basis) return like.map((t, k) => (k === 0 ? firstBasis(t) : zeros(t.shape, t.dtype)))
    return like.map((t) => full(t.shape, 1, t.dtype))
  }
  const [leaves] = flatten(given, 'explain')
  if (leaves.length !== like.length) {
    throw new PurediffError(
      'TreeError',
      `the ${what} has ${leaves.length} leaves but the ${what === 'direction' ? 'arguments have' : 'output has'} ${like.length}`,
      { op: 'explain' },
    )
  }
  return leaves.map((l, k) => {
    const t = like[k] as Tensor
    const s = typeof l === 'number' ? full(t.shape, l, t.dtype) : l
    if (!shapeEq(s.shape, t.shape)) {
      throw new PurediffError('ShapeError', `the ${what} must have the shape of the value it goes with`, {
        op: 'explain',
        shapes: [s.shape, t.shape],
      })
    }
    return s
  })
}

type OpVar = Extract<GraphVar, { kind: 'op' }>

const customOf = (v: OpVar): ExplainNode['custom'] => {
  const c = customRuleOf(v.prim)
  return c === null ? null : Object.freeze({ kind: c.kind, name: c.name, rule: c.rule })
}

/** The rule text of a custom-rule node: the user's rule, named as such, with its source. */
const customRule = (v: OpVar): RuleText | null => {
  const c = customRuleOf(v.prim)
  if (c === null) return null
  return c.kind === 'customJvp'
    ? {
        y: `y = ${c.name}(x), with a user-supplied forward rule (customJvp)`,
        jvp: `ẏ = the user's rule(x, ẋ): ${c.rule}`,
        vjp: `x̄ += the transpose of the user's forward rule, applied to ȳ`,
      }
    : {
        y: `y = ${c.name}(x), with a user-supplied reverse rule (customVjp)`,
        jvp: `ẏ = the transpose of the user's reverse rule, applied to ẋ`,
        vjp: `x̄ += the user's rule bwd(residuals, ȳ): ${c.rule}`,
      }
}

const firstBasis = (t: Tensor): Tensor => {
  const z = new Float64Array(t.size)
  if (z.length > 0) z[0] = 1
  return fromData(z, t.shape, t.dtype)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Explain a graph (the step `explain` takes after staging: `programGraph` turns any staged
 * `Program` into a `Graph`).
 * @example
 * explainGraph(recordGraph((x: Tensor) => exp(x), [scalar(0)])).nodes[1]?.tangent?.item() // ≈ 1
 * @category constructors
 * @since 0.2.0
 */
export const explainGraph = (g: Graph, options: ExplainOptions = {}): Explanation => {
  checkExplainOptions(options)
  const inputValues = g.inputs.map((id) => (g.vars[id] as GraphVar).value)
  const outputValues = g.outputs.map((id) => (g.vars[id] as GraphVar).value)
  const direction = seedsFor(options.direction, inputValues, true, 'direction')
  const cotangent = seedsFor(options.cotangent, outputValues, false, 'cotangent')
  const active = activeVars(g)
  const fwd = forwardSweep(g, direction)
  const rev = reverseSweep(g, cotangent, active)
  const nodes: ExplainNode[] = g.vars.map((v, id) =>
    Object.freeze({
      id,
      name: v.name,
      kind: v.kind,
      op: v.kind === 'op' ? (customRuleOf(v.prim)?.name ?? v.prim.name) : v.kind,
      // a custom call's params (its name and number) are shown by its op and rule instead
      params: v.kind === 'op' && customRuleOf(v.prim) === null ? formatParams(v.params) : '',
      inputs: v.kind === 'op' ? v.inputs : Object.freeze([]),
      shape: v.value.shape,
      custom: v.kind === 'op' ? customOf(v) : null,
      rule:
        v.kind === 'op'
          ? (customRule(v) ?? ruleOf(v.prim.name))
          : v.kind === 'input'
            ? { y: 'x (an input)', jvp: 'ẋ = the direction', vjp: 'x̄ = ∂out/∂x, the gradient' }
            : { y: 'c (a constant)', jvp: 'ċ = 0', vjp: '(no adjoint)' },
      primal: v.value,
      tangent: fwd.tangents[id] ?? null,
      adjoint: active[id] === true ? (rev.adjoints[id] ?? null) : null,
      forward: Object.freeze(fwd.terms[id] ?? []),
      reverse: Object.freeze(rev.terms[id] ?? []),
    }),
  )
  const ops = nodes.filter((n) => n.kind === 'op')
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const base = {
    title: options.title ?? 'explain',
    nodes: Object.freeze(nodes),
    inputs: g.inputs,
    outputs: g.outputs,
    forwardOrder: Object.freeze(ops.filter((n) => n.tangent !== null).map((n) => n.id)),
    reverseOrder: Object.freeze(
      ops
        .filter((n) => n.adjoint !== null)
        .map((n) => n.id)
        .reverse(),
    ),
    maxEntries: options.maxEntries ?? 4,
  }
  const self: Explanation = Object.freeze({
    ...base,
    node: (name: string) => byName.get(name),
    toText: () => renderText(self),
    toDOT: () => renderDOT(self),
    toSVG: () => renderSVG(self),
    toHTML: () => renderHTML(self),
  })
  return self
}

/**
 * The arguments `explain(f)` takes: `f`'s, where a number may stand for a tensor argument.
 * @category model
 * @since 0.2.0
 */
export type ExplainArgs<A extends unknown[]> = { [K in keyof A]: A[K] extends Tensor ? Tensor | number : A[K] }

/**
 * Explain how `f` computes its derivative at `args`: every node's primal, its tangent in the
 * forward sweep (along `options.direction`) and its adjoint in the reverse sweep (seeded
 * with 1 at a scalar output), with the rule and the chain-rule product at each step. `f` is
 * staged (`trace`), so it may not read its arguments' values (use `where` for choices).
 * @example
 * const e = explain((x: Tensor) => mul(sin(x), x))(0.5)
 * // the derivative of x·sin(x) is sin(x) + x·cos(x), ≈ 0.918216819549389 at 0.5
 * e.node('x')?.adjoint?.item() // ≈ Math.sin(0.5) + 0.5 * Math.cos(0.5)
 * console.log(e.toText())
 * @category constructors
 * @since 0.2.0
 */
export const explain =
  <A extends unknown[]>(f: (...args: A) => unknown, options: ExplainOptions = {}) =>
  (...args: ExplainArgs<A>): Explanation => {
    checkExplainOptions(options)
    const g = recordGraph(f as (...args: never[]) => unknown, args, { expandCustom: options.expandCustom === true })
    return explainGraph(g, options)
  }
