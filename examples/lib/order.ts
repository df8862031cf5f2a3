/**
 * Deterministic orderings for the example data sets: a pure 32-bit integer hash and a
 * class-interleaving order. Data loaders use them instead of a random shuffle so that every
 * machine, every run, sees the same samples in the same order without any generator state.
 *
 * The interleaving visits the classes in rounds: round r takes the r-th sample of every class
 * that still has one, and the classes within a round are ordered by `hash32(r · 2¹⁶ + class)`.
 * So any prefix of length k·(number of classes) is exactly class-balanced (while no class has
 * run out), yet labels do not repeat in a fixed 0, 1, 2, … pattern.
 *
 * Purity contract: every function here is a pure function of its arguments; the returned
 * arrays are fresh and frozen.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A sample's place in its source: the class it belongs to and its index within that class.
 * @category model
 * @since 0.1.0
 */
export interface SampleRef {
  readonly label: number
  readonly index: number
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * A bijective 32-bit integer mix ("lowbias32", C. Wellons, 2018): xorshift-multiply rounds
 * with constants chosen for low bias. Distinct inputs give distinct outputs.
 * @example
 * hash32(0) === 0 && hash32(1) !== hash32(2)
 * @category utils
 * @since 0.1.0
 */
export const hash32 = (n: number): number => {
  let x = n >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

/**
 * Interleave per-class sample lists in hashed rounds (see the module header).
 * `counts[c]` is how many samples class `c` contributes; sample `i` of class `c` is
 * `{ label: c, index: offsets[c] + i }`, so a caller can take, say, the tail of each class.
 * @example
 * interleaveClasses([2, 1]) // three refs: both classes in round 0, class 0 alone in round 1
 * @category utils
 * @since 0.1.0
 */
export const interleaveClasses = (
  counts: ReadonlyArray<number>,
  offsets: ReadonlyArray<number> = counts.map(() => 0),
): ReadonlyArray<SampleRef> => {
  const rounds = counts.reduce((m, c) => Math.max(m, c), 0)
  const out: SampleRef[] = []
  for (let r = 0; r < rounds; r++) {
    const present: number[] = []
    counts.forEach((count, label) => {
      if (r < count) present.push(label)
    })
    // hash32 is a bijection, so keys of distinct classes never tie.
    present.sort((a, b) => hash32(r * 65536 + a) - hash32(r * 65536 + b))
    for (const label of present) {
      out.push(Object.freeze({ label, index: (offsets[label] ?? 0) + r }))
    }
  }
  return Object.freeze(out)
}
