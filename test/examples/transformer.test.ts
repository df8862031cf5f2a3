import { describe, expect, it } from 'vitest'
import { bigramEntropy, generateText, main, WORDS } from '../../examples/transformer.js'
import { key } from '../../src/random/index.js'

describe('examples/transformer (small mode)', () => {
  it('the bigram baseline is the conditional entropy of the counts (checked on a hand-made text)', () => {
    // "abab": pairs ab, ba, ab → after a always b, after b always a: entropy 0
    expect(bigramEntropy([0, 1, 0, 1], 2)).toBe(0)
    // "aab": pairs aa, ab from a (½, ½) → H = log 2 (both pairs start at a)
    expect(bigramEntropy([0, 0, 1], 2)).toBeCloseTo(Math.log(2), 15)
    const t = generateText(key(1), 200)
    expect(t.length).toBe(200)
    expect(
      t
        .split(' ')
        .slice(0, -1)
        .every((w) => (WORDS as ReadonlyArray<string>).includes(w)),
    ).toBe(true)
  })
  it('trains below the exact bigram baseline', () => {
    const r = main({ chars: 2000, steps: 60 })
    expect(r.initialLoss).toBeGreaterThan(r.bigram)
    expect(r.finalLoss).toBeLessThan(r.bigram)
    expect(r.losses.length).toBe(60)
    expect(r.losses.every(Number.isFinite)).toBe(true)
  }, 600_000)
})
