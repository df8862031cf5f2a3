/**
 * jax-js baselines (`@jax-js/jax` 0.1.25, its `wasm` device; Node has no WebGPU): the matmul
 * and the MLP step and forward pass, in float64 and float32, with `jit` (kernel fusion) as
 * its README recommends for training.
 *
 * jax-js frees memory by reference counting with ownership: every function takes ownership
 * of its array arguments (the count drops by one), `a.ref` adds one for an array used again,
 * and `dataSync()` / `item()` read and release an array. The code below follows those rules
 * exactly: arrays kept across calls are passed as `.ref`, every result is read or disposed,
 * and the old parameters are consumed by the update that replaces them. Its operations are
 * lazy, so every timed call ends by reading a value back (as the other candidates do).
 *
 * Node 20 has no `Float16Array`, which jax-js tests with `instanceof`; an empty class stands
 * in (this bench never makes float16 arrays), set before the package is loaded.
 */
import type { Array as JArray } from '@jax-js/jax'

type Jax = typeof import('@jax-js/jax')

export interface JaxStatus {
  readonly ok: boolean
  readonly note: string
  readonly jax: Jax | null
}

let status: JaxStatus | null = null

/** Load jax-js and start its wasm device once. */
export const initJaxjs = async (): Promise<JaxStatus> => {
  if (status !== null) return status
  try {
    const g = globalThis as { Float16Array?: unknown }
    g.Float16Array ??= class Float16ArrayUnavailable {}
    const jax = await import('@jax-js/jax')
    const devices = await jax.init('wasm')
    if (!devices.includes('wasm')) throw new Error(`no wasm device (got ${devices.join(', ')})`)
    jax.defaultDevice('wasm')
    status = { ok: true, note: 'wasm device, jit', jax }
  } catch (e) {
    status = { ok: false, note: e instanceof Error ? e.message : String(e), jax: null }
  }
  return status
}

const dt = (jax: Jax, dtype: 'float64' | 'float32') => (dtype === 'float64' ? jax.numpy.float64 : jax.numpy.float32)

/** An array from float64 data, in `dtype`. */
export const jaxFrom = (jax: Jax, data: Float64Array, shape: number[], dtype: 'float64' | 'float32'): JArray =>
  jax.numpy.array(dtype === 'float64' ? data : Float32Array.from(data), { shape, dtype: dt(jax, dtype) })

/** C = A·B read back; A and B are kept (passed as `.ref`). */
export const jaxMatmul = (jax: Jax, a: JArray, b: JArray): ArrayLike<number> =>
  jax.numpy.matmul(a.ref, b.ref).dataSync()

export interface JaxParams {
  readonly w1: JArray
  readonly b1: JArray
  readonly w2: JArray
  readonly b2: JArray
}

/** The MLP's mean softmax cross-entropy in jax-js; each argument is used once (owned). */
const jaxLoss =
  (jax: Jax) =>
  (p: JaxParams, x: JArray, y: JArray): JArray => {
    const np = jax.numpy
    const h = jax.nn.relu(np.add(np.matmul(x, p.w1), p.b1))
    const z = np.add(np.matmul(h, p.w2), p.b2)
    return np.negative(np.mean(np.sum(np.multiply(y, jax.nn.logSoftmax(z, -1)), 1)))
  }

/** A stepper: `step()` runs one jit-compiled SGD step and returns the loss; `grads()` the first gradient. */
export const jaxMlp = (jax: Jax, p0: JaxParams, x: JArray, y: JArray, lr: number) => {
  const loss = jaxLoss(jax)
  const vg = jax.jit(jax.valueAndGrad(loss))
  const fwd = jax.jit(loss)
  const refs = (p: JaxParams): JaxParams => ({ w1: p.w1.ref, b1: p.b1.ref, w2: p.w2.ref, b2: p.b2.ref })
  let p = refs(p0) // p0 stays alive for grads() and forward()
  return {
    /** the gradient at the initial parameters, flattened (w1, b1, w2, b2) */
    grads: (): Float64Array => {
      const [l, g] = vg(refs(p0), x.ref, y.ref) as [JArray, JaxParams]
      l.dispose()
      const parts = [g.w1, g.b1, g.w2, g.b2].map((t) => Float64Array.from(t.dataSync()))
      const out = new Float64Array(parts.reduce((s, q) => s + q.length, 0))
      let o = 0
      for (const q of parts) {
        out.set(q, o)
        o += q.length
      }
      return out
    },
    step: (): number => {
      const [l, g] = vg(refs(p), x.ref, y.ref) as [JArray, JaxParams]
      const np = jax.numpy
      // the old parameters (last use, owned) and the gradients are consumed by the update
      p = {
        w1: np.subtract(p.w1, np.multiply(g.w1, lr)),
        b1: np.subtract(p.b1, np.multiply(g.b1, lr)),
        w2: np.subtract(p.w2, np.multiply(g.w2, lr)),
        b2: np.subtract(p.b2, np.multiply(g.b2, lr)),
      }
      return l.item()
    },
    forward: (): number => (fwd(refs(p0), x.ref, y.ref) as JArray).item(),
  }
}
