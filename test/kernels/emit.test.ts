/**
 * The WebAssembly emitter: LEB128 round-trips through an independent decoder (the spec's
 * definition: 7 bits per byte, low first, high bit = more), and small modules built with the
 * builder validate and compute what their code says (scalar, loops, memory, SIMD lanes).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ModuleBuilder, f64, i32, simdSupported, sleb, uleb, v128, wasmApi } from '../../src/kernels/wasm/emit.js'

const decodeU = (b: number[]): number => b.reduce((acc, byte, i) => acc + (byte & 0x7f) * 2 ** (7 * i), 0)
const decodeS = (b: number[]): number => {
  const u = decodeU(b)
  const bits = 7 * b.length
  return (b[b.length - 1]! & 0x40) !== 0 ? u - 2 ** bits : u
}

const instantiate = (
  mod: ModuleBuilder,
  pages = 1,
): { exports: Record<string, (...a: number[]) => number>; memory: { buffer: ArrayBuffer } } => {
  const W = wasmApi()!
  const memory = new W.Memory({ initial: pages })
  const inst = new W.Instance(new W.Module(mod.bytes()), { env: { memory } })
  return { exports: inst.exports as Record<string, (...a: number[]) => number>, memory }
}

describe('LEB128', () => {
  it('unsigned: every u32 round-trips; continuation bits on all but the last byte', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), (n) => {
        const b = uleb(n)
        expect(decodeU(b)).toBe(n)
        b.forEach((byte, i) => expect(byte >= 0x80).toBe(i < b.length - 1))
      }),
      { seed: 8301 },
    )
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]) // the example in the LEB128 literature
  })
  it('signed: every i32 round-trips', () => {
    fc.assert(
      fc.property(fc.integer(), (n) => {
        expect(decodeS(sleb(n))).toBe(n | 0)
      }),
      { seed: 8302 },
    )
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78])
  })
  it('rejects what is not a u32 or an i32', () => {
    expect(() => uleb(-1)).toThrow(RangeError)
    expect(() => sleb(2 ** 31)).toThrow(RangeError)
  })
})

describe('ModuleBuilder', () => {
  it('a loop summing 0..n-1 (forRange, locals, i32 arithmetic)', () => {
    const mod = new ModuleBuilder()
    mod.func('tri', [i32], [i32], (f) => {
      const i = f.local(i32)
      const s = f.local(i32)
      f.forRange(i, 0, f.param(0), 1, () => void f.get(s).get(i).i32Add().set(s))
      f.get(s)
    })
    const { exports } = instantiate(mod)
    for (const n of [0, 1, 2, 10, 1000]) expect(exports['tri']!(n)).toBe((n * (n - 1)) / 2 || 0)
  })
  it('memory: f64 loads and stores; if/else', () => {
    const mod = new ModuleBuilder()
    mod.func('absAt', [i32], [], (f) => {
      f.get(0).f64Load().f64Const(0).raw(0x63) // f64.lt
      f.if_(
        () => void f.get(0).f64Const(0).get(0).f64Load().f64Sub().f64Store(),
        () => void f.get(0).get(0).f64Load().f64Store(),
      )
    })
    const { exports, memory } = instantiate(mod)
    const view = new Float64Array(memory.buffer)
    view[3] = -2.5
    exports['absAt']!(24)
    expect(view[3]).toBe(2.5)
  })
  it.runIf(simdSupported())('SIMD: f64x2 lanes multiply and add independently', () => {
    const mod = new ModuleBuilder()
    mod.func('axpy2', [i32, i32, i32], [], (f) => {
      const t = f.local(v128)
      f.get(0).v128Load64Splat().set(t) // a scalar, splat
      f.get(2).get(t).get(1).v128Load().f64x2Mul().get(2).v128Load().f64x2Add().v128Store()
    })
    mod.func('lane1', [i32], [f64], (f) => void f.get(0).v128Load().f64x2ExtractLane(1))
    const { exports, memory } = instantiate(mod)
    const view = new Float64Array(memory.buffer)
    view.set([3, 0, 1, -2, 10, 20], 0) // a = 3 at 0; x = [1, -2] at 16; y = [10, 20] at 32
    exports['axpy2']!(0, 16, 32)
    expect([view[4], view[5]]).toEqual([13, 14])
    expect(exports['lane1']!(32)).toBe(14)
  })
  it('an unbalanced body is an error naming the function', () => {
    const mod = new ModuleBuilder()
    expect(() =>
      mod.func('bad', [], [], (f) => {
        f.raw(0x02, 0x40) // a block with no end, written raw
        ;(f as unknown as { depth: number }).depth++
      }),
    ).not.toThrow()
    expect(() => mod.bytes()).toThrow(/bad: unbalanced blocks/)
  })
})
