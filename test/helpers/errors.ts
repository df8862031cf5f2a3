import { expect } from 'vitest'
import { PurediffError } from '../../src/index.js'

/** Run `f`, expect it to throw a PurediffError, and return that error. */
export const throwsPurediff = (f: () => unknown): PurediffError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PurediffError)
    return e as PurediffError
  }
  throw new Error('expected a PurediffError, nothing was thrown')
}
