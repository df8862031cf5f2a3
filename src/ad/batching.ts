/**
 * The batching level (`vmap`). A batch tracer carries a batched value and the axis of it
 * that is the batch: to the function being mapped it looks like one example (its `shape`
 * is the value's shape without that axis), while every op on it runs once on the whole
 * batch. `bind` hands a primitive with a batch tracer at the top level to `bindBatch`,
 * which unwraps this level's tracers (other values are unbatched constants here) and asks
 * the primitive's batching rule for the batched output and its batch axis. The rule calls
 * the primitive (or others) one level down, so the levels below see ordinary ops: this is
 * what lets `vmap` nest with itself and with `jvp`/`grad` in every order.
 *
 * The law every rule obeys: `vmap(f)(xs)` is the stack of `f(x)` over the examples `x` of
 * `xs` (test/core/batching.test.ts checks it for every primitive and every batch axis).
 *
 * Purity: tracers are frozen; rules only build new values.
 */
import { PurediffError } from '../errors.js'
import * as P from '../primitives/table.js'
import type { Primitive } from '../primitives/types.js'
import type { ConcreteTensor, DType, Shape } from '../tensor/Tensor.js'
import type { Tensor } from '../tensor/Tensor.js'
import { R, Tracer, bind, levelBinds } from './trace.js'
import type { MainTrace } from './trace.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A value being mapped by `vmap`: a batched value and its batch axis. */
export class BatchTracer extends Tracer {
  readonly shape: Shape
  readonly dtype: DType
  constructor(
    readonly main: MainTrace,
    /** the batched value (one more axis than `shape`) */
    readonly primal: Tensor,
    /** where the batch axis is in `primal` */
    readonly bdim: number,
  ) {
    super()
    this.shape = Object.freeze(primal.shape.filter((_, i) => i !== bdim))
    this.dtype = primal.dtype
    Object.freeze(this)
  }
  /** The whole batch, batch axis first (reading a mapped value reads every example). */
  override concrete(): ConcreteTensor {
    const c = this.primal.concrete()
    if (this.bdim === 0) return c
    const perm = [this.bdim, ...c.shape.map((_, i) => i).filter((i) => i !== this.bdim)]
    return P.transpose.impl([c], { perm })
  }
  override toString(): string {
    return `Tracer<${this.main.transform}>(batch of ${this.primal.shape[this.bdim]} with shape [${this.shape.join(', ')}])`
  }
}

// -------------------------------------------------------------------------------------
// dispatch
// -------------------------------------------------------------------------------------

/** Apply a primitive at a batching level: unwrap, apply the batching rule, wrap. */
export const bindBatch = <P>(main: MainTrace, prim: Primitive<P>, args: ReadonlyArray<Tensor>, params: P): Tensor => {
  const xs = args.map((a) => (a instanceof BatchTracer && a.main === main ? a.primal : a))
  const dims = args.map((a) => (a instanceof BatchTracer && a.main === main ? a.bdim : null))
  const [y, d] = prim.batch(xs, dims, params, R, (ys, p) => bind(prim, ys, p))
  if (!Number.isInteger(d) || d < 0 || d >= y.rank) {
    throw new PurediffError(
      'ValueError',
      `the batching rule of '${prim.name}' returned batch axis ${d} for a value of rank ${y.rank}`,
      {
        op: main.transform,
        shapes: [y.shape],
      },
    )
  }
  return new BatchTracer(main, y, d)
}

levelBinds.batch = bindBatch

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Move axis `from` of `x` to position `to` (a transpose; nothing when they agree). */
export const moveAxis = (x: Tensor, from: number, to: number): Tensor => {
  if (from === to) return x
  const rest = x.shape.map((_, i) => i).filter((i) => i !== from)
  rest.splice(to, 0, from)
  return bind(P.transpose, [x], { perm: rest })
}
