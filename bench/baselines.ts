/**
 * Hand-written plain-JavaScript baselines: what a careful programmer writes without
 * a framework. They set the floor purediff is compared against.
 *
 * - matmul: an i-k-j loop (streams rows of B and C) and a 4×4 register-tiled loop
 *   (a 4×4 block of C in sixteen locals while k runs, over a packed 4-column panel of B).
 * - MLP 784-128-10: forward, backward, SGD update and an exact Hessian-vector product
 *   written out by hand over flat row-major Float64Arrays, with preallocated scratch;
 *   the two large products (x·W1 and xᵀ·dh) take four rows at a time.
 * - scalar graphs: a micrograd-style engine (node objects with `.grad`, closures for
 *   the local backward rule, topological sort) and a hand-derived adjoint over a
 *   flat array of intermediate values.
 *
 * These baselines mutate their own buffers freely: they are baselines, not library code.
 */

// -------------------------------------------------------------------------------------
// deterministic data
// -------------------------------------------------------------------------------------

/** A small seeded generator (mulberry32) so every run benchmarks the same numbers. */
export const rng = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** n uniform numbers in [-scale, scale). */
export const uniformArray = (n: number, scale: number, seed: number): Float64Array => {
  const r = rng(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * scale
  return out
}

// -------------------------------------------------------------------------------------
// matmul
// -------------------------------------------------------------------------------------

/** C = A·B for row-major A: m×k, B: k×n, by the i-k-j loop order. */
export const matmulIKJ = (a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array => {
  const c = new Float64Array(m * n)
  for (let i = 0; i < m; i++) {
    const ci = i * n
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p] as number
      const bp = p * n
      for (let j = 0; j < n; j++) c[ci + j] = (c[ci + j] as number) + aip * (b[bp + j] as number)
    }
  }
  return c
}

/**
 * C = A·B with 4×4 register tiles; any array type (Float64Array or Float32Array).
 *
 * Columns are taken four at a time: the four columns of B are first copied into a
 * contiguous k×4 scratch panel (so the inner loop reads B sequentially instead of
 * striding n), then every block of four rows of A sweeps that panel with sixteen
 * accumulators. Rows and columns that do not fill a tile finish in a plain loop.
 */
export const matmulTiled4 = <T extends Float64Array | Float32Array>(
  a: T,
  b: T,
  m: number,
  k: number,
  n: number,
  out: T,
): T => {
  const m4 = m - (m % 4)
  const n4 = n - (n % 4)
  const panel = (a instanceof Float32Array ? new Float32Array(k * 4) : new Float64Array(k * 4)) as T
  for (let j = 0; j < n4; j += 4) {
    for (let p = 0, q = 0, src = j; p < k; p++, q += 4, src += n) {
      panel[q] = b[src] as number
      panel[q + 1] = b[src + 1] as number
      panel[q + 2] = b[src + 2] as number
      panel[q + 3] = b[src + 3] as number
    }
    for (let i = 0; i < m4; i += 4) {
      const a0 = i * k
      const a1 = a0 + k
      const a2 = a1 + k
      const a3 = a2 + k
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0
      for (let p = 0, q = 0; p < k; p++, q += 4) {
        const v0 = panel[q] as number
        const v1 = panel[q + 1] as number
        const v2 = panel[q + 2] as number
        const v3 = panel[q + 3] as number
        const u0 = a[a0 + p] as number
        const u1 = a[a1 + p] as number
        const u2 = a[a2 + p] as number
        const u3 = a[a3 + p] as number
        s00 += u0 * v0
        s01 += u0 * v1
        s02 += u0 * v2
        s03 += u0 * v3
        s10 += u1 * v0
        s11 += u1 * v1
        s12 += u1 * v2
        s13 += u1 * v3
        s20 += u2 * v0
        s21 += u2 * v1
        s22 += u2 * v2
        s23 += u2 * v3
        s30 += u3 * v0
        s31 += u3 * v1
        s32 += u3 * v2
        s33 += u3 * v3
      }
      let o = i * n + j
      out[o] = s00
      out[o + 1] = s01
      out[o + 2] = s02
      out[o + 3] = s03
      o += n
      out[o] = s10
      out[o + 1] = s11
      out[o + 2] = s12
      out[o + 3] = s13
      o += n
      out[o] = s20
      out[o + 1] = s21
      out[o + 2] = s22
      out[o + 3] = s23
      o += n
      out[o] = s30
      out[o + 1] = s31
      out[o + 2] = s32
      out[o + 3] = s33
    }
  }
  // edges: the cells not covered by a full tile
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[p * n + j] as number)
      out[i * n + j] = s
    }
  }
  return out
}

// -------------------------------------------------------------------------------------
// MLP 784-128-10 by hand
// -------------------------------------------------------------------------------------

/** Flat row-major parameters of a one-hidden-layer MLP (relu hidden, softmax output). */
export interface PlainMlpParams {
  readonly w1: Float64Array // [nIn, nHidden]
  readonly b1: Float64Array // [nHidden]
  readonly w2: Float64Array // [nHidden, nOut]
  readonly b2: Float64Array // [nOut]
}

/** The gradient, same layout as the parameters. */
export type PlainMlpGrads = PlainMlpParams

/**
 * A hand-written MLP with mean softmax cross-entropy loss
 *   h = relu(x W1 + b1), z = h W2 + b2, loss = -(1/B) Σ_b Σ_c y_bc log softmax(z_b)_c,
 * and its backward pass
 *   dz = (softmax(z) - y) / B, dW2 = hᵀ dz, db2 = Σ_b dz, dh = (dz W2ᵀ) ⊙ [h > 0],
 *   dW1 = xᵀ dh, db1 = Σ_b dh.
 * Scratch buffers are allocated once for the batch size.
 */
export const makePlainMlp = (nIn: number, nHidden: number, nOut: number, batch: number) => {
  const h = new Float64Array(batch * nHidden)
  const z = new Float64Array(batch * nOut)
  const dz = new Float64Array(batch * nOut)
  const dh = new Float64Array(batch * nHidden)
  const g: PlainMlpGrads = {
    w1: new Float64Array(nIn * nHidden),
    b1: new Float64Array(nHidden),
    w2: new Float64Array(nHidden * nOut),
    b2: new Float64Array(nOut),
  }

  /** Forward pass into the scratch `h` and `z`; returns the loss. */
  const forward = (p: PlainMlpParams, x: Float64Array, y: Float64Array): number => {
    // h = relu(x W1 + b1)
    matmulBias4(x, p.w1, p.b1, h, batch, nIn, nHidden)
    for (let i = 0; i < h.length; i++) if ((h[i] as number) < 0) h[i] = 0
    // z = h W2 + b2, then the softmax cross-entropy, log-sum-exp shifted by the row max
    let loss = 0
    for (let b = 0; b < batch; b++) {
      const zb = b * nOut
      for (let c = 0; c < nOut; c++) z[zb + c] = p.b2[c] as number
      const hb = b * nHidden
      for (let j = 0; j < nHidden; j++) {
        const hv = h[hb + j] as number
        if (hv === 0) continue
        const wj = j * nOut
        for (let c = 0; c < nOut; c++) z[zb + c] = (z[zb + c] as number) + hv * (p.w2[wj + c] as number)
      }
      const lse = logSumExpRow(z, zb, nOut)
      for (let c = 0; c < nOut; c++) loss -= (y[zb + c] as number) * ((z[zb + c] as number) - lse)
    }
    return loss / batch
  }

  /** Loss and gradient into the shared `g` buffers (valid until the next call). */
  const lossAndGrad = (p: PlainMlpParams, x: Float64Array, y: Float64Array): number => {
    const loss = forward(p, x, y)
    // dz = (softmax(z) - y) / B
    for (let b = 0; b < batch; b++) {
      const zb = b * nOut
      const lse = logSumExpRow(z, zb, nOut)
      for (let c = 0; c < nOut; c++)
        dz[zb + c] = (Math.exp((z[zb + c] as number) - lse) - (y[zb + c] as number)) / batch
    }
    // dW2 = hᵀ dz, db2 = Σ dz
    g.w2.fill(0)
    g.b2.fill(0)
    for (let b = 0; b < batch; b++) {
      const zb = b * nOut
      for (let c = 0; c < nOut; c++) g.b2[c] = (g.b2[c] as number) + (dz[zb + c] as number)
      const hb = b * nHidden
      for (let j = 0; j < nHidden; j++) {
        const hv = h[hb + j] as number
        if (hv === 0) continue
        const wj = j * nOut
        for (let c = 0; c < nOut; c++) g.w2[wj + c] = (g.w2[wj + c] as number) + hv * (dz[zb + c] as number)
      }
    }
    // dh = (dz W2ᵀ) ⊙ [h > 0], db1 = Σ dh
    g.b1.fill(0)
    for (let b = 0; b < batch; b++) {
      const hb = b * nHidden
      const zb = b * nOut
      for (let j = 0; j < nHidden; j++) {
        if ((h[hb + j] as number) <= 0) {
          dh[hb + j] = 0
          continue
        }
        let s = 0
        const wj = j * nOut
        for (let c = 0; c < nOut; c++) s += (dz[zb + c] as number) * (p.w2[wj + c] as number)
        dh[hb + j] = s
        g.b1[j] = (g.b1[j] as number) + s
      }
    }
    // dW1 = xᵀ dh
    matmulTN4(x, dh, g.w1, batch, nIn, nHidden)
    return loss
  }

  /** One SGD step in place: p ← p - lr·∇loss. Returns the loss before the step. */
  const step = (p: PlainMlpParams, x: Float64Array, y: Float64Array, lr: number): number => {
    const loss = lossAndGrad(p, x, y)
    for (const key of ['w1', 'b1', 'w2', 'b2'] as const) {
      const pv = p[key]
      const gv = g[key]
      for (let i = 0; i < pv.length; i++) pv[i] = (pv[i] as number) - lr * (gv[i] as number)
    }
    return loss
  }

  // Hessian-vector product by Pearlmutter's R-operator: R{·} is the directional derivative
  // along v = (V1, c1, V2, c2) of every forward and backward quantity. relu's second
  // derivative is zero away from its kink, so only its mask [h > 0] carries over:
  //   Rh = (x V1 + c1) ⊙ [h > 0],  Rz = Rh W2 + h V2 + c2,
  //   R dz = softmax(z) ⊙ (Rz - ⟨softmax(z), Rz⟩) / B,
  //   R dW2 = Rhᵀ dz + hᵀ R dz,  R db2 = Σ_b R dz,
  //   R dh = (R dz W2ᵀ + dz V2ᵀ) ⊙ [h > 0],  R dW1 = xᵀ R dh,  R db1 = Σ_b R dh.
  const rh = new Float64Array(batch * nHidden)
  const rz = new Float64Array(nOut)
  const rdz = new Float64Array(batch * nOut)
  const rdh = new Float64Array(batch * nHidden)
  const hv: PlainMlpGrads = {
    w1: new Float64Array(nIn * nHidden),
    b1: new Float64Array(nHidden),
    w2: new Float64Array(nHidden * nOut),
    b2: new Float64Array(nOut),
  }

  /** H·v into the shared `hv` buffers (valid until the next call); also refreshes `g`. */
  const hvp = (p: PlainMlpParams, v: PlainMlpParams, x: Float64Array, y: Float64Array): PlainMlpGrads => {
    lossAndGrad(p, x, y) // fills h, z, dz, dh (dh already masked)
    matmulBias4(x, v.w1, v.b1, rh, batch, nIn, nHidden)
    hv.w2.fill(0)
    hv.b2.fill(0)
    hv.b1.fill(0)
    for (let b = 0; b < batch; b++) {
      const hb = b * nHidden
      const zb = b * nOut
      // Rh (x V1 + c1 was computed for the whole batch above)
      for (let j = 0; j < nHidden; j++) if ((h[hb + j] as number) <= 0) rh[hb + j] = 0
      // Rz
      for (let c = 0; c < nOut; c++) rz[c] = v.b2[c] as number
      for (let j = 0; j < nHidden; j++) {
        const a = rh[hb + j] as number
        const hh = h[hb + j] as number
        const wj = j * nOut
        for (let c = 0; c < nOut; c++)
          rz[c] = (rz[c] as number) + a * (p.w2[wj + c] as number) + hh * (v.w2[wj + c] as number)
      }
      // R dz
      const lse = logSumExpRow(z, zb, nOut)
      let dotPR = 0
      for (let c = 0; c < nOut; c++) dotPR += Math.exp((z[zb + c] as number) - lse) * (rz[c] as number)
      for (let c = 0; c < nOut; c++) {
        const r = (Math.exp((z[zb + c] as number) - lse) * ((rz[c] as number) - dotPR)) / batch
        rdz[zb + c] = r
        hv.b2[c] = (hv.b2[c] as number) + r
      }
      // R dW2 and R dh
      for (let j = 0; j < nHidden; j++) {
        const a = rh[hb + j] as number
        const hh = h[hb + j] as number
        const wj = j * nOut
        let s = 0
        for (let c = 0; c < nOut; c++) {
          const d = dz[zb + c] as number
          const r = rdz[zb + c] as number
          hv.w2[wj + c] = (hv.w2[wj + c] as number) + a * d + hh * r
          s += r * (p.w2[wj + c] as number) + d * (v.w2[wj + c] as number)
        }
        const m = hh > 0 ? s : 0
        rdh[hb + j] = m
        hv.b1[j] = (hv.b1[j] as number) + m
      }
    }
    // R dW1 = xᵀ R dh
    matmulTN4(x, rdh, hv.w1, batch, nIn, nHidden)
    return hv
  }

  return { forward, lossAndGrad, step, hvp, grads: g }
}

/**
 * out = a·b + bias (bias broadcast over rows) for row-major a: m×k, b: k×n. Four rows
 * of `a` are processed together so each row of `b` is loaded once per four output rows.
 */
const matmulBias4 = (
  a: Float64Array,
  b: Float64Array,
  bias: Float64Array,
  out: Float64Array,
  m: number,
  k: number,
  n: number,
): void => {
  let r = 0
  for (; r + 3 < m; r += 4) {
    const o0 = r * n
    const o1 = o0 + n
    const o2 = o1 + n
    const o3 = o2 + n
    for (let j = 0; j < n; j++) {
      const bj = bias[j] as number
      out[o0 + j] = bj
      out[o1 + j] = bj
      out[o2 + j] = bj
      out[o3 + j] = bj
    }
    for (let p = 0; p < k; p++) {
      const a0 = a[r * k + p] as number
      const a1 = a[(r + 1) * k + p] as number
      const a2 = a[(r + 2) * k + p] as number
      const a3 = a[(r + 3) * k + p] as number
      const bp = p * n
      for (let j = 0; j < n; j++) {
        const bv = b[bp + j] as number
        out[o0 + j] = (out[o0 + j] as number) + a0 * bv
        out[o1 + j] = (out[o1 + j] as number) + a1 * bv
        out[o2 + j] = (out[o2 + j] as number) + a2 * bv
        out[o3 + j] = (out[o3 + j] as number) + a3 * bv
      }
    }
  }
  for (; r < m; r++) {
    const o = r * n
    for (let j = 0; j < n; j++) out[o + j] = bias[j] as number
    for (let p = 0; p < k; p++) {
      const av = a[r * k + p] as number
      const bp = p * n
      for (let j = 0; j < n; j++) out[o + j] = (out[o + j] as number) + av * (b[bp + j] as number)
    }
  }
}

/**
 * out = aᵀ·d for row-major a: m×k and d: m×n (out: k×n, overwritten). Each output row
 * stays hot while four rows of `d` are folded into it at a time.
 */
const matmulTN4 = (a: Float64Array, d: Float64Array, out: Float64Array, m: number, k: number, n: number): void => {
  out.fill(0)
  for (let i = 0; i < k; i++) {
    const o = i * n
    let r = 0
    for (; r + 3 < m; r += 4) {
      const a0 = a[r * k + i] as number
      const a1 = a[(r + 1) * k + i] as number
      const a2 = a[(r + 2) * k + i] as number
      const a3 = a[(r + 3) * k + i] as number
      const d0 = r * n
      const d1 = d0 + n
      const d2 = d1 + n
      const d3 = d2 + n
      for (let j = 0; j < n; j++) {
        out[o + j] =
          (out[o + j] as number) +
          a0 * (d[d0 + j] as number) +
          a1 * (d[d1 + j] as number) +
          a2 * (d[d2 + j] as number) +
          a3 * (d[d3 + j] as number)
      }
    }
    for (; r < m; r++) {
      const av = a[r * k + i] as number
      const dr = r * n
      for (let j = 0; j < n; j++) out[o + j] = (out[o + j] as number) + av * (d[dr + j] as number)
    }
  }
}

const logSumExpRow = (z: Float64Array, off: number, n: number): number => {
  let mx = -Infinity
  for (let c = 0; c < n; c++) mx = Math.max(mx, z[off + c] as number)
  let se = 0
  for (let c = 0; c < n; c++) se += Math.exp((z[off + c] as number) - mx)
  return mx + Math.log(se)
}

// -------------------------------------------------------------------------------------
// scalar chains
// -------------------------------------------------------------------------------------

/**
 * A chain of scalar ops on one input x, as a repeating pattern of four:
 *   y ← y · c_i ;  y ← y + x ;  y ← sin(y) ;  y ← tanh(y)
 * (the `+ x` gives x many uses, so the gradient sums over fan-out). Constants c_i are
 * fixed and in [0.9, 1.3); values stay in [-1, 1] after each tanh.
 */
export interface ScalarChain {
  /** Number of scalar ops in the chain (a multiple of 4). */
  readonly nOps: number
  readonly consts: Float64Array
}

export const makeScalarChain = (nOps: number, seed = 7): ScalarChain => {
  const nBlocks = Math.ceil(nOps / 4)
  const r = rng(seed)
  const consts = new Float64Array(nBlocks)
  for (let i = 0; i < nBlocks; i++) consts[i] = 0.9 + 0.4 * r()
  return { nOps: nBlocks * 4, consts }
}

/**
 * The chain with any scalar arithmetic: purediff, tfjs and micrograd all run this
 * same code with their own `mul`, `add`, `sin`, `tanh`.
 */
export interface ScalarAlgebra<S> {
  readonly mulC: (y: S, c: number) => S
  readonly add: (y: S, x: S) => S
  readonly sin: (y: S) => S
  readonly tanh: (y: S) => S
}

export const runChain = <S>(alg: ScalarAlgebra<S>, chain: ScalarChain, x: S): S => {
  let y = x
  for (let i = 0; i < chain.consts.length; i++) {
    y = alg.mulC(y, chain.consts[i] as number)
    y = alg.add(y, x)
    y = alg.sin(y)
    y = alg.tanh(y)
  }
  return y
}

/**
 * Value and derivative of the chain by a hand-derived adjoint: a forward sweep stores
 * the intermediate values, a reverse sweep applies each op's local derivative
 *   d(y·c) = c, d(y + x) = 1 (and 1 into x̄), d sin y = cos y, d tanh y = 1 - tanh² y.
 * This is the floor: no graph, no allocation beyond one scratch array.
 */
export const makeHandChain = (chain: ScalarChain) => {
  const nb = chain.consts.length
  const ySin = new Float64Array(nb) // input of sin in block i
  const yTanhOut = new Float64Array(nb) // output of tanh in block i
  return (x: number): [number, number] => {
    let y = x
    for (let i = 0; i < nb; i++) {
      y = y * (chain.consts[i] as number) + x
      ySin[i] = y
      y = Math.tanh(Math.sin(y))
      yTanhOut[i] = y
    }
    let yBar = 1
    let xBar = 0
    for (let i = nb - 1; i >= 0; i--) {
      const t = yTanhOut[i] as number
      yBar *= 1 - t * t
      yBar *= Math.cos(ySin[i] as number)
      xBar += yBar
      yBar *= chain.consts[i] as number
    }
    return [y, xBar + yBar]
  }
}

// -------------------------------------------------------------------------------------
// micrograd-style engine
// -------------------------------------------------------------------------------------

/** A scalar node: value, accumulated gradient, parents and a local backward rule. */
export class Value {
  grad = 0
  backwardFn: () => void = noop
  constructor(
    public data: number,
    readonly parents: ReadonlyArray<Value> = [],
  ) {}

  mul(c: number): Value {
    const out = new Value(this.data * c, [this])
    out.backwardFn = () => {
      this.grad += c * out.grad
    }
    return out
  }

  add(o: Value): Value {
    const out = new Value(this.data + o.data, [this, o])
    out.backwardFn = () => {
      this.grad += out.grad
      o.grad += out.grad
    }
    return out
  }

  sin(): Value {
    const out = new Value(Math.sin(this.data), [this])
    out.backwardFn = () => {
      this.grad += Math.cos(this.data) * out.grad
    }
    return out
  }

  tanh(): Value {
    const t = Math.tanh(this.data)
    const out = new Value(t, [this])
    out.backwardFn = () => {
      this.grad += (1 - t * t) * out.grad
    }
    return out
  }

  /** Reverse sweep in topological order (iterative DFS, so long chains do not overflow the stack). */
  backward(): void {
    const topo: Value[] = []
    const visited = new Set<Value>()
    const stack: Array<[Value, number]> = [[this, 0]]
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [Value, number]
      const [v, i] = top
      if (i === 0) {
        if (visited.has(v)) {
          stack.pop()
          continue
        }
        visited.add(v)
      }
      if (i < v.parents.length) {
        top[1] = i + 1
        const p = v.parents[i] as Value
        if (!visited.has(p)) stack.push([p, 0])
      } else {
        stack.pop()
        topo.push(v)
      }
    }
    this.grad = 1
    for (let k = topo.length - 1; k >= 0; k--) (topo[k] as Value).backwardFn()
  }
}

const noop = (): void => {}

export const microAlgebra: ScalarAlgebra<Value> = {
  mulC: (y, c) => y.mul(c),
  add: (y, x) => y.add(x),
  sin: (y) => y.sin(),
  tanh: (y) => y.tanh(),
}

/** Value and derivative of the chain by the micrograd-style engine. */
export const microChain =
  (chain: ScalarChain) =>
  (x0: number): [number, number] => {
    const x = new Value(x0)
    const y = runChain(microAlgebra, chain, x)
    y.backward()
    return [y.data, x.grad]
  }
