/**
 * Regressions: constructors and entry points given invalid input throw a PurediffError that
 * names the function and the argument (they used to return a wrong tensor silently, NaN, or
 * a bare RangeError/TypeError).
 */
import { describe, expect, it } from 'vitest'
import { arange, cast, eye, full, grad, linspace, random, reshape, tensor, toArray, zeros } from '../../src/index.js'
import { throwsPurediff } from '../helpers/errors.js'

const cases: ReadonlyArray<readonly [string, () => unknown, RegExp]> = [
  ['eye(-1)', () => eye(-1), /^eye: n must be a non-negative integer, got -1$/],
  ['eye(1.5)', () => eye(1.5), /^eye: n must be a non-negative integer, got 1\.5$/],
  ['eye(1e6): 10^12 elements', () => eye(1e6), /^eye: shape \[1000000, 1000000\] has 1000000000000 elements/],
  ['linspace(0, 1, NaN)', () => linspace(0, 1, NaN), /^linspace: n must be a non-negative integer, got NaN$/],
  ['linspace(0, 1, 2.5)', () => linspace(0, 1, 2.5), /^linspace: n must be a non-negative integer, got 2\.5$/],
  ['linspace(0, 1, -1)', () => linspace(0, 1, -1), /^linspace: n must be a non-negative integer, got -1$/],
  ['linspace(NaN, 1, 3)', () => linspace(NaN, 1, 3), /^linspace: start must be finite, got NaN$/],
  ['arange(0, 1, NaN)', () => arange(0, 1, NaN), /^arange: step must be finite, got NaN$/],
  ['arange(0, Infinity)', () => arange(0, Infinity), /^arange: stop must be finite, got Infinity$/],
  [
    'arange(0, 1e12)',
    () => arange(0, 1e12),
    /^arange: arange\(0, 1000000000000, 1\) has 1000000000000 elements; a tensor holds at most 2147483647/,
  ],
  [
    "cast(x, 'int32')",
    () => cast(tensor([1.5]), 'int32' as never),
    /^cast: unknown dtype "int32"; expected 'float64' or 'float32'$/,
  ],
  ["full([2], 'x')", () => full([2], 'x' as never), /^full: value must be a number, got "x"$/],
  [
    'reshape(zeros([0]), [0, 1e300])',
    () => reshape(zeros([0]), [0, 1e300]),
    /^reshape: shape \[0, 1e\+300\] has an axis of length 1e\+300/,
  ],
  ['grad(5)', () => grad(5 as never), /^grad: expected a function to differentiate, got number$/],
  [
    'toArray on a PRNG key',
    () => toArray(random.key(0) as never),
    /^toArray: expected a Tensor or a number, got a PRNG key/,
  ],
  ['toArray on a string', () => toArray('a' as never), /^toArray: expected a Tensor or a number, got "a"$/],
]

describe(`constructors and entries refuse bad input (${cases.length} cases)`, () => {
  it.each(cases)('%s', (_name, f, pattern) => {
    const e = throwsPurediff(f)
    expect(e.message).toMatch(pattern)
  })

  it('valid edge cases still work', () => {
    expect(eye(0).shape).toEqual([0, 0])
    expect(toArray(linspace(0, 1, 0))).toEqual([])
    expect(toArray(linspace(0, 1, 1))).toEqual([0])
    expect(toArray(arange(3))).toEqual([0, 1, 2])
    expect(toArray(arange(1, 0, -0.5))).toEqual([1, 0.5])
    expect(toArray(full([2], NaN))).toEqual([NaN, NaN])
    expect(reshape(zeros([0]), [0, 5]).shape).toEqual([0, 5])
    expect(cast(tensor([1.5]), 'float32').dtype).toBe('float32')
  })
})
