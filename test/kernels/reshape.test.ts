/**
 * reshape of a contiguous tensor shares the frozen buffer instead of copying it (buffers are
 * never written after construction), and sharing is invisible: both tensors read their own
 * values, and the public `toTypedArray()` of each is a copy that a caller may change freely.
 */
import { describe, expect, it } from 'vitest'
import { arange, reshape } from '../../src/index.js'
import { dataOf } from '../../src/tensor/Tensor.js'

describe('reshape', () => {
  it('shares the buffer of its input', () => {
    const x = arange(6)
    const y = reshape(x, [2, 3])
    expect(dataOf(y.concrete())).toBe(dataOf(x.concrete()))
  })
  it('sharing is invisible to users: changing one tensor’s exported data changes neither tensor', () => {
    const x = arange(6)
    const y = reshape(x, [3, 2])
    const copy = y.toTypedArray()
    copy[0] = 99
    expect([...x.toTypedArray()]).toEqual([0, 1, 2, 3, 4, 5])
    expect([...y.toTypedArray()]).toEqual([0, 1, 2, 3, 4, 5])
  })
})
