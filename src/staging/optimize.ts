/**
 * Program-to-program passes that change no value: constant folding, common-subexpression
 * elimination and dead-code elimination (in that order, so folding exposes duplicates and
 * both expose dead code).
 *
 * - Folding evaluates an equation whose inputs are all concrete constants at compile time
 *   (with the primitive's own kernel, so the value is the eager one, bit for bit). Staged
 *   inputs, numbers included, are never folded: a new number needs no new program. A
 *   `broadcastTo` that would turn a scalar into a large constant is left for the fused loops.
 * - CSE merges equations with the same primitive, params and inputs (rank-0 constants of
 *   equal value and dtype count as the same input).
 * - DCE keeps only what the outputs need.
 *
 * Purity: passes build a new frozen program; the input program is not touched.
 */
import type { Const, Eqn, Var } from '../ad/staging.js'
import { Tracer } from '../ad/trace.js'
import type { ConcreteTensor } from '../tensor/Tensor.js'
import { ConcreteTensor as CT } from '../tensor/Tensor.js'
import type { Program } from './program.js'
import { makeProgram } from './program.js'

/** Above this many elements a folded `broadcastTo` is left in the program (a loop reads the scalar). */
const FOLD_BROADCAST_LIMIT = 64

const paramsKeys = new WeakMap<object, string>()
/** A stable key for params (typed arrays as arrays), remembered per params object. */
const paramsKey = (p: unknown): string => {
  if (typeof p !== 'object' || p === null) return String(p)
  let k = paramsKeys.get(p)
  if (k === undefined) {
    k = JSON.stringify(p, (_k, v: unknown) => (v instanceof Int32Array ? Array.from(v) : v))
    paramsKeys.set(p, k)
  }
  return k
}

/** Rename variables through a substitution. */
const subst = (m: Map<number, Var>, v: Var): Var => m.get(v.id) ?? v

/** Constant folding, CSE and DCE. @internal */
export const optimize = (p: Program): Program => {
  const sub = new Map<number, Var>()
  const consts: Const[] = []
  const value = new Map<number, ConcreteTensor>()
  const literalOf = new Map<string, Var>()
  // rank-0 concrete constants of equal value and dtype become one variable
  const addConst = (c: Const): void => {
    if (c.value instanceof CT && !(c.value instanceof Tracer)) {
      if (c.value.rank === 0) {
        const key = `${c.value.dtype}:${Object.is(c.value.item(), -0) ? '-0' : String(c.value.item())}`
        const seen = literalOf.get(key)
        if (seen !== undefined) {
          sub.set(c.v.id, seen)
          return
        }
        literalOf.set(key, c.v)
      }
      value.set(c.v.id, c.value)
    }
    consts.push(c)
  }
  p.consts.forEach(addConst)
  const seen = new Map<string, Var>()
  const eqns: Eqn[] = []
  for (const e0 of p.eqns) {
    // substitute inputs (a copy only where one changes), check foldability, build the CSE key
    let inputs = e0.inputs
    let allConst = true
    let key = `${e0.prim.name}|${paramsKey(e0.params)}|`
    for (let i = 0; i < inputs.length; i++) {
      const v0 = inputs[i] as Var
      const v = sub.get(v0.id)
      if (v !== undefined) {
        if (inputs === e0.inputs) inputs = inputs.slice()
        ;(inputs as Var[])[i] = v
      }
      const id = (v ?? v0).id
      if (allConst && !value.has(id)) allConst = false
      key += i === 0 ? `${id}` : `,${id}`
    }
    const e: Eqn = inputs === e0.inputs ? e0 : Object.freeze({ ...e0, inputs: Object.freeze(inputs) })
    const foldable =
      allConst && !(e.prim.name === 'broadcastTo' && e.out.shape.reduce((s, d) => s * d, 1) > FOLD_BROADCAST_LIMIT)
    if (foldable) {
      const vals = inputs.map((v) => value.get(v.id) as ConcreteTensor)
      addConst(Object.freeze({ v: e.out, value: e.prim.impl(vals, e.params) }))
      continue
    }
    const dup = seen.get(key)
    if (dup !== undefined) {
      sub.set(e.out.id, dup)
      continue
    }
    seen.set(key, e.out)
    eqns.push(e)
  }
  const outputs = p.outputs.map((v) => subst(sub, v))
  // dead-code elimination, backwards from the outputs
  const live = new Set(outputs.map((v) => v.id))
  const kept: Eqn[] = []
  for (let i = eqns.length - 1; i >= 0; i--) {
    const e = eqns[i] as Eqn
    if (!live.has(e.out.id)) continue
    kept.push(e)
    for (const v of e.inputs) live.add(v.id)
  }
  kept.reverse()
  return makeProgram({
    ...p,
    consts: consts.filter((c) => live.has(c.v.id)),
    eqns: kept,
    outputs,
  })
}
