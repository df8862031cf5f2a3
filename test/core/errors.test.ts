/**
 * The one error class: its message holds the description once, and the tag is shown once
 * by `toString()` and the stack's first line (issue: "NonScalarOutput: NonScalarOutput: …").
 */
import { describe, expect, it } from 'vitest'
import { PurediffError, grad, mul, tensor } from '../../src/index.js'
import type { Tensor } from '../../src/index.js'
import { throwsPurediff } from '../helpers/errors.js'

describe('PurediffError', () => {
  const e = throwsPurediff(() => grad((x: Tensor) => mul(x, x))(tensor([1, 2])))

  it('message does not start with the tag; toString and the stack show it once', () => {
    expect(e.tag).toBe('NonScalarOutput')
    expect(e.message.startsWith('grad: ')).toBe(true)
    expect(e.message).not.toContain('NonScalarOutput')
    expect(String(e)).toBe(`PurediffError [NonScalarOutput]: ${e.message}`)
    const first = (e.stack ?? '').split('\n')[0] ?? ''
    expect(first).toBe(`PurediffError [NonScalarOutput]: ${e.message}`)
    // printed the common way, `${tag}: ${message}`, the tag appears exactly once
    expect(`${e.tag}: ${e.message}`.match(/NonScalarOutput/g)).toHaveLength(1)
  })

  it('a wrapped error does not repeat the inner tag', () => {
    const w = throwsPurediff(() => mul([{}] as never, 2))
    expect(String(w).match(/ValueError/g)).toHaveLength(1)
  })

  it('keeps name, tag, op and a multi-line message intact', () => {
    const m = new PurediffError('ValueError', 'line one\nline two', { op: 'f', path: 'a.b' })
    expect(m.name).toBe('PurediffError')
    expect(m.message).toBe("f: line one\nline two at key path 'a.b'")
    expect((m.stack ?? '').startsWith(`PurediffError [ValueError]: f: line one\nline two`)).toBe(true)
  })
})
