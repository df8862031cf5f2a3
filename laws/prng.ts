/**
 * A small seeded generator for the random directions and cotangents of the checks
 * (splitmix32 → uniforms, Box–Muller → normals). The checks are deterministic given their
 * seed, so a failure can be replayed exactly; fast-check properties draw that seed.
 *
 * Purity: `normals(seed, n)` is a pure function of its arguments.
 */

/** n standard normal numbers from a 32-bit seed. @category utils @since 0.1.0 */
export const normals = (seed: number, n: number): Float64Array => {
  let s = seed >>> 0
  const next = (): number => {
    // splitmix32 (Steele, Lea & Flood's SplitMix, 32-bit variant)
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    z = (z ^ (z >>> 16)) >>> 0
    return (z + 0.5) / 2 ** 32 // in (0, 1): safe for log
  }
  const out = new Float64Array(n)
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()))
    const th = 2 * Math.PI * next()
    out[i] = r * Math.cos(th)
    if (i + 1 < n) out[i + 1] = r * Math.sin(th)
  }
  return out
}

/** Derive a new seed from a seed and a stream number (so each use draws independent numbers). @category utils @since 0.1.0 */
export const subSeed = (seed: number, stream: number): number =>
  (Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x27d4eb2d) + Math.imul(stream + 1, 0x165667b1)) >>> 0
