/**
 * A small WebAssembly binary emitter: a module builder (types, one imported memory,
 * functions, exports) and a function-body builder with one method per instruction,
 * including the SIMD instructions behind the 0xfd prefix. Kernels are written as code that
 * calls these methods, and the bytes are produced at runtime, so no toolchain, no native
 * addon and no download is ever needed: Node ≥ 20 and every browser with WebAssembly SIMD
 * run the result.
 *
 * The binary format (WebAssembly core spec 1.0 + fixed-width SIMD): a module is the magic
 * `\0asm`, version 1, then sections `id · size · payload` in increasing id order; integers
 * are LEB128 (unsigned for sizes and indices, signed for `i32.const`); a function body is
 * `locals · instructions · end`. The builder checks nothing a validator would catch (the
 * engine's `WebAssembly.Module` validates), but it does resolve names to indices and count
 * structured nesting so a missing `end` throws here, with the function's name.
 *
 * Purity contract: builders are private mutable scratch; `ModuleBuilder.bytes()` returns a
 * fresh `Uint8Array`. Nothing here touches tensors.
 *
 * Reuse (fused kernels): a caller declares a function with `mod.func(name, params, results,
 * (f) => { ... })`, reads its parameters with `f.get(i)`, declares locals with
 * `f.local(type)`, and composes structured control with `f.block`, `f.loop`, `f.if_` and the
 * `f.forRange` helper. Everything the kernels in this directory use is public.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Value types (their binary codes). */
export const i32 = 0x7f
export const i64 = 0x7e
export const f32 = 0x7d
export const f64 = 0x7c
export const v128 = 0x7b
export type ValType = typeof i32 | typeof i64 | typeof f32 | typeof f64 | typeof v128

/** A local (or parameter) of a function: its index and type. */
export interface Local {
  readonly index: number
  readonly type: ValType
}

/** Unsigned LEB128. */
export const uleb = (n: number, out: number[] = []): number[] => {
  let v = n >>> 0
  if (v !== n) throw new RangeError(`uleb: ${n} is not a u32`)
  do {
    let byte = v & 0x7f
    v >>>= 7
    if (v !== 0) byte |= 0x80
    out.push(byte)
  } while (v !== 0)
  return out
}

/** Signed LEB128 for 32-bit integers. */
export const sleb = (n: number, out: number[] = []): number[] => {
  let v = n | 0
  if (v !== n) throw new RangeError(`sleb: ${n} is not an i32`)
  for (;;) {
    const byte = v & 0x7f
    v >>= 7
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)]
const vec = (items: ReadonlyArray<ReadonlyArray<number>>): number[] => {
  const out = uleb(items.length)
  for (const it of items) out.push(...it)
  return out
}
const name = (s: string): number[] => {
  const b = utf8(s)
  return [...uleb(b.length), ...b]
}

// -------------------------------------------------------------------------------------
// function bodies
// -------------------------------------------------------------------------------------

/** Alignment (log2 of bytes) and constant byte offset of a memory access. */
export interface MemArg {
  readonly align?: number
  readonly offset?: number
}

/**
 * Emits one function body. Stack-machine style: each method appends one instruction and
 * returns `this`, so `f.get(a).get(b).i32Add()` pushes a + b.
 */
export class FuncBuilder {
  readonly code: number[] = []
  readonly params: ReadonlyArray<Local>
  private readonly locals: Local[] = []
  private depth = 0

  constructor(
    readonly name: string,
    params: ReadonlyArray<ValType>,
  ) {
    this.params = params.map((type, index) => ({ index, type }))
  }

  /** Parameter i. */
  param(i: number): Local {
    const p = this.params[i]
    if (p === undefined) throw new RangeError(`${this.name}: no parameter ${i}`)
    return p
  }

  /** Declare a fresh local of `type`. */
  local(type: ValType): Local {
    const l = { index: this.params.length + this.locals.length, type }
    this.locals.push(l)
    return l
  }

  /** Append raw bytes (an escape hatch for instructions without a method). */
  raw(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b)
    return this
  }

  private op(byte: number): this {
    this.code.push(byte)
    return this
  }

  private mem(byte: number, defaultAlign: number, m: MemArg): this {
    this.code.push(byte)
    uleb(m.align ?? defaultAlign, this.code)
    uleb(m.offset ?? 0, this.code)
    return this
  }

  private simd(sub: number): this {
    this.code.push(0xfd)
    uleb(sub, this.code)
    return this
  }

  private simdMem(sub: number, defaultAlign: number, m: MemArg): this {
    this.simd(sub)
    uleb(m.align ?? defaultAlign, this.code)
    uleb(m.offset ?? 0, this.code)
    return this
  }

  // ---- variables
  get(l: Local | number): this {
    this.code.push(0x20)
    uleb(typeof l === 'number' ? this.param(l).index : l.index, this.code)
    return this
  }
  set(l: Local): this {
    this.code.push(0x21)
    uleb(l.index, this.code)
    return this
  }
  tee(l: Local): this {
    this.code.push(0x22)
    uleb(l.index, this.code)
    return this
  }

  // ---- structured control (blocks take no params and yield no results)
  /** `block … end`; `br 0` inside jumps past the end. */
  block(body: () => void): this {
    return this.nest(0x02, body)
  }
  /** `loop … end`; `br 0` inside jumps back to the start. */
  loop(body: () => void): this {
    return this.nest(0x03, body)
  }
  /** `if … else … end` on the i32 on the stack. */
  if_(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40)
    this.depth++
    then()
    if (otherwise !== undefined) {
      this.code.push(0x05)
      otherwise()
    }
    this.depth--
    return this.op(0x0b)
  }
  private nest(opcode: number, body: () => void): this {
    this.code.push(opcode, 0x40)
    this.depth++
    body()
    this.depth--
    return this.op(0x0b)
  }
  br(depth: number): this {
    this.code.push(0x0c)
    uleb(depth, this.code)
    return this
  }
  brIf(depth: number): this {
    this.code.push(0x0d)
    uleb(depth, this.code)
    return this
  }
  return_(): this {
    return this.op(0x0f)
  }
  drop(): this {
    return this.op(0x1a)
  }
  select(): this {
    return this.op(0x1b)
  }

  /**
   * `for (i = start; i < end; i += step) body()` over i32 locals or constants; the body
   * runs zero times when start ≥ end (the test is at the top).
   */
  forRange(i: Local, start: Local | number, end: Local | number, step: number, body: () => void): this {
    const push = (v: Local | number): void => void (typeof v === 'number' ? this.i32Const(v) : this.get(v))
    push(start)
    this.set(i)
    return this.block(() => {
      this.loop(() => {
        this.get(i)
        push(end)
        this.i32GeS().brIf(1)
        body()
        this.get(i).i32Const(step).i32Add().set(i)
        this.br(0)
      })
    })
  }

  // ---- constants
  i32Const(v: number): this {
    this.code.push(0x41)
    sleb(v, this.code)
    return this
  }
  f32Const(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer)
    this.code.push(0x43, ...b)
    return this
  }
  f64Const(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer)
    this.code.push(0x44, ...b)
    return this
  }

  // ---- memory
  i32Load(m: MemArg = {}): this {
    return this.mem(0x28, 2, m)
  }
  f32Load(m: MemArg = {}): this {
    return this.mem(0x2a, 2, m)
  }
  f64Load(m: MemArg = {}): this {
    return this.mem(0x2b, 3, m)
  }
  i32Store(m: MemArg = {}): this {
    return this.mem(0x36, 2, m)
  }
  f32Store(m: MemArg = {}): this {
    return this.mem(0x38, 2, m)
  }
  f64Store(m: MemArg = {}): this {
    return this.mem(0x39, 3, m)
  }

  // ---- i32 arithmetic and comparison
  i32Eqz(): this {
    return this.op(0x45)
  }
  i32Eq(): this {
    return this.op(0x46)
  }
  i32Ne(): this {
    return this.op(0x47)
  }
  i32LtS(): this {
    return this.op(0x48)
  }
  i32LtU(): this {
    return this.op(0x49)
  }
  i32GtS(): this {
    return this.op(0x4a)
  }
  i32LeS(): this {
    return this.op(0x4c)
  }
  i32GeS(): this {
    return this.op(0x4e)
  }
  i32GeU(): this {
    return this.op(0x4f)
  }
  i32Add(): this {
    return this.op(0x6a)
  }
  i32Sub(): this {
    return this.op(0x6b)
  }
  i32Mul(): this {
    return this.op(0x6c)
  }
  i32And(): this {
    return this.op(0x71)
  }
  i32Or(): this {
    return this.op(0x72)
  }
  i32Shl(): this {
    return this.op(0x74)
  }
  i32ShrU(): this {
    return this.op(0x76)
  }

  // ---- float scalar arithmetic
  f32Add(): this {
    return this.op(0x92)
  }
  f32Sub(): this {
    return this.op(0x93)
  }
  f32Mul(): this {
    return this.op(0x94)
  }
  f32Div(): this {
    return this.op(0x95)
  }
  f64Add(): this {
    return this.op(0xa0)
  }
  f64Sub(): this {
    return this.op(0xa1)
  }
  f64Mul(): this {
    return this.op(0xa2)
  }
  f64Div(): this {
    return this.op(0xa3)
  }

  // ---- SIMD (fixed-width 128-bit, prefix 0xfd)
  v128Load(m: MemArg = {}): this {
    return this.simdMem(0x00, 4, m)
  }
  v128Load32Splat(m: MemArg = {}): this {
    return this.simdMem(0x09, 2, m)
  }
  v128Load64Splat(m: MemArg = {}): this {
    return this.simdMem(0x0a, 3, m)
  }
  v128Store(m: MemArg = {}): this {
    return this.simdMem(0x0b, 4, m)
  }
  /** v128.const with sixteen zero bytes. */
  v128Zero(): this {
    this.simd(0x0c)
    for (let i = 0; i < 16; i++) this.code.push(0)
    return this
  }
  f32x4Splat(): this {
    return this.simd(0x13)
  }
  f64x2Splat(): this {
    return this.simd(0x14)
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f).raw(lane)
  }
  f64x2ExtractLane(lane: number): this {
    return this.simd(0x21).raw(lane)
  }
  f32x4Add(): this {
    return this.simd(0xe4)
  }
  f32x4Sub(): this {
    return this.simd(0xe5)
  }
  f32x4Mul(): this {
    return this.simd(0xe6)
  }
  f32x4Div(): this {
    return this.simd(0xe7)
  }
  f64x2Add(): this {
    return this.simd(0xf0)
  }
  f64x2Sub(): this {
    return this.simd(0xf1)
  }
  f64x2Mul(): this {
    return this.simd(0xf2)
  }
  f64x2Div(): this {
    return this.simd(0xf3)
  }

  /** The encoded body: locals (run-length grouped by type), code, `end`. */
  body(): number[] {
    if (this.depth !== 0) throw new Error(`${this.name}: unbalanced blocks`)
    const groups: Array<[number, ValType]> = []
    for (const l of this.locals) {
      const last = groups[groups.length - 1]
      if (last !== undefined && last[1] === l.type) last[0]++
      else groups.push([1, l.type])
    }
    const b = vec(groups.map(([n, t]) => [...uleb(n), t]))
    b.push(...this.code, 0x0b)
    return [...uleb(b.length), ...b]
  }
}

// -------------------------------------------------------------------------------------
// modules
// -------------------------------------------------------------------------------------

interface FuncEntry {
  readonly type: number
  readonly fn: FuncBuilder
  readonly exported: boolean
}

/**
 * A module with one imported memory (`env.memory`) and the functions added to it. Every
 * function is exported under its name unless `exported` is false.
 */
export class ModuleBuilder {
  private readonly types: number[][] = []
  private readonly funcs: FuncEntry[] = []

  constructor(
    private readonly memory: { readonly min: number; readonly max?: number; readonly shared?: boolean } = { min: 1 },
  ) {}

  private typeIndex(params: ReadonlyArray<ValType>, results: ReadonlyArray<ValType>): number {
    const t = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]
    const key = t.join(',')
    const found = this.types.findIndex((x) => x.join(',') === key)
    if (found >= 0) return found
    this.types.push(t)
    return this.types.length - 1
  }

  /** Add a function; `build` emits its body. Returns the function's index. */
  func(
    fname: string,
    params: ReadonlyArray<ValType>,
    results: ReadonlyArray<ValType>,
    build: (f: FuncBuilder) => void,
    exported = true,
  ): number {
    const fn = new FuncBuilder(fname, params)
    build(fn)
    this.funcs.push({ type: this.typeIndex(params, results), fn, exported })
    return this.funcs.length - 1
  }

  /** The module's binary. */
  bytes(): Uint8Array {
    const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload]
    const { min, max, shared } = this.memory
    const limits =
      max === undefined ? [0x00, ...uleb(min)] : [shared === true ? 0x03 : 0x01, ...uleb(min), ...uleb(max)]
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
    out.push(...section(1, vec(this.types)))
    out.push(...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])))
    out.push(...section(3, vec(this.funcs.map((f) => uleb(f.type)))))
    const exports = this.funcs.flatMap((f, i) => (f.exported ? [[...name(f.fn.name), 0x00, ...uleb(i)]] : []))
    out.push(...section(7, vec(exports)))
    out.push(...section(10, vec(this.funcs.map((f) => f.fn.body()))))
    return Uint8Array.from(out)
  }
}

// -------------------------------------------------------------------------------------
// the engine
// -------------------------------------------------------------------------------------

/** The slice of the `WebAssembly` global the kernels use (typed here: lib ES2022 has none). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown }
  readonly Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory
  validate(bytes: Uint8Array): boolean
}

/** The engine's `WebAssembly`, or undefined where there is none. */
export const wasmApi = (): WasmApi | undefined => {
  const w = (globalThis as { WebAssembly?: WasmApi }).WebAssembly
  return typeof w === 'object' && typeof w.validate === 'function' ? w : undefined
}

/** Whether this engine validates a module that uses SIMD (v128 values and f64x2.add). */
export const simdSupported = (): boolean => {
  const w = wasmApi()
  if (w === undefined) return false
  try {
    const m = new ModuleBuilder()
    m.func('probe', [], [f64], (f) => {
      f.v128Zero().v128Zero().f64x2Add().f64x2ExtractLane(0)
    })
    return w.validate(m.bytes())
  } catch {
    return false
  }
}
