/**
 * Key paths in errors raised inside a transformed function. A transform knows the leaves of
 * its argument (the tracers it made, one per leaf of the parameter record, with their key
 * paths); an op that fails records its operands on the error (`ErrorDetails.operands`). When
 * such an error leaves the function, the transform names the parameter involved:
 *
 * 1. an operand that is one of its leaves (`matmul(x, p.layers[1].w)` names `layers[1].w`);
 * 2. otherwise, an operand computed from exactly one leaf, found by walking the reverse
 *    level's tape back from it (`matmul(x, transpose(p.w))` names `w`; an activation computed
 *    from several parameters names none of them).
 *
 * Inner levels' tracers (a `vmap` or `jvp` inside `grad`) are unwrapped to the value they
 * carry. An error that already names a key path keeps it. All of this runs only when an error
 * is thrown: the transforms' normal path does no extra work.
 */
import { Tracer, VjpTracer } from '../ad/trace.js'
import { PurediffError, operandsOf, withPath } from '../errors.js'

/** At most this many inner-level wrappers are unwrapped, and this many tape nodes visited. */
const MAX_UNWRAP = 64
const MAX_VISIT = 100_000

/** The leaf an operand is, unwrapping inner levels' tracers; undefined if it is none. */
const leafOf = (o: unknown, index: ReadonlyMap<unknown, string>): unknown => {
  let v = o
  for (let k = 0; k < MAX_UNWRAP && v instanceof Tracer; k++) {
    if (index.has(v)) return v
    v = (v as { readonly primal?: unknown }).primal
  }
  return index.has(v) ? v : undefined
}

/** The leaves a reverse-level value was computed from (walking the tape back). */
const leavesBehind = (o: unknown, index: ReadonlyMap<unknown, string>): Set<unknown> => {
  const found = new Set<unknown>()
  let v = o
  for (let k = 0; k < MAX_UNWRAP && v instanceof Tracer && !(v instanceof VjpTracer); k++)
    v = (v as { readonly primal?: unknown }).primal
  if (!(v instanceof VjpTracer)) return found
  const seen = new Set<unknown>()
  const todo: VjpTracer[] = [v]
  while (todo.length > 0 && seen.size < MAX_VISIT) {
    const t = todo.pop() as VjpTracer
    if (seen.has(t.node)) continue
    seen.add(t.node)
    if (index.has(t)) found.add(t)
    for (const p of t.node.parents) if (p !== null) todo.push(p)
  }
  return found
}

/**
 * `e`, naming the key path of the leaf of a transform's argument that reached the failing
 * op (see the module header); `leaves[i]` is the value the transform passed for the leaf at
 * `paths[i]` (null or a constant for a leaf it did not trace). Anything else is returned as
 * it is. @internal
 */
export const blameLeaf = (e: unknown, leaves: ReadonlyArray<unknown>, paths: ReadonlyArray<string>): unknown => {
  if (!(e instanceof PurediffError) || (e.path !== undefined && e.path !== '')) return e
  const operands = operandsOf(e)
  if (operands === undefined) return e
  const index = new Map<unknown, string>()
  leaves.forEach((l, i) => {
    const p = paths[i]
    if (l instanceof Tracer && p !== undefined && p !== '') index.set(l, p)
  })
  if (index.size === 0) return e
  for (const o of operands) {
    const l = leafOf(o, index)
    if (l !== undefined) return withPath(e, index.get(l) as string)
  }
  for (const o of operands) {
    const behind = leavesBehind(o, index)
    if (behind.size === 1) return withPath(e, index.get([...behind][0]) as string)
  }
  return e
}
