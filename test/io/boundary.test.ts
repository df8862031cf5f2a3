/**
 * Regressions for data at the boundary: one error shape (`PurediffDecodeError`), depth bombs,
 * overflowing literals, tensors without a dtype, stale temporary files of killed writers, and
 * loaders that check the header length before reading the rest of a file.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, openSync, closeSync, readdirSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodeSafetensors,
  encodeSafetensors,
  formatError,
  fromJSON,
  isPurediffDecodeError,
  load,
  loadSync,
  parseCheckpoint,
  save,
  saveSync,
  schema,
  stringifyCheckpoint,
} from '../../src/io/index.js'
import type { PurediffDecodeError } from '../../src/io/index.js'
import { loadProgram } from '../../src/io/checkpoint.js'
import { tensor } from '../../src/tensor/Tensor.js'
import { loadStateSync, parseState, saveStateSync } from '../../src/train/index.js'
import { tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/** A safetensors file from a header text and `data` bytes of buffer. */
const st = (header: string, data = 0, length?: bigint): Uint8Array => {
  const h = new TextEncoder().encode(header)
  const out = new Uint8Array(8 + h.length + data)
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true)
  out.set(h, 8)
  return out
}

let n = 0
const file = (bytes: Uint8Array | string, ext: string): string => {
  const f = tmp.path(`case${n++}${ext}`)
  writeFileSync(f, bytes)
  return f
}

/** The Left of `r`, checked to be a PurediffDecodeError with a short report. */
const leftOf = (r: E.Either<PurediffDecodeError, unknown>): PurediffDecodeError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  expect(isPurediffDecodeError(r.left)).toBe(true)
  expect(r.left.message.length).toBeLessThan(2000)
  expect(formatError(r.left).length).toBeLessThan(2000)
  return r.left
}

describe('depth bombs are a Left, never a stack overflow, and never printed whole', () => {
  const deep = '['.repeat(1e4) + ']'.repeat(1e4)
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['a nested shape', `{"w":{"dtype":"F64","shape":${deep},"data_offsets":[0,8]}}`, /nests deeper than 3 levels/],
    ['nested data_offsets', `{"w":{"dtype":"F64","shape":[1],"data_offsets":${deep}}}`, /nests deeper than 3 levels/],
  ]
  it.each(cases)('%s in a safetensors header', async (_name, header, pattern) => {
    const bytes = st(header, 8)
    expect(leftOf(decodeSafetensors(bytes)).errors.join('\n')).toMatch(pattern)
    const f = file(bytes, '.safetensors')
    expect(leftOf(loadSync(f)).message).toMatch(pattern)
    expect(leftOf(await load(f)).message).toMatch(pattern)
  })

  it('a tensor name that is a 5000-level key path', async () => {
    const name = Array.from({ length: 5000 }, (_, i) => `a${i}`).join('.')
    const bytes = st(JSON.stringify({ [name]: { dtype: 'F64', shape: [], data_offsets: [0, 8] } }), 8)
    // As bytes it is a valid file (names are free strings) ...
    expect(E.isRight(decodeSafetensors(bytes))).toBe(true)
    // ... but no tree nests that deep: a Left naming the limit, with the name cut short.
    const f = file(bytes, '.safetensors')
    for (const r of [loadSync(f), await load(f)]) {
      const e = leftOf(r)
      expect(e.kind).toBe('FormatError')
      expect(e.message).toMatch(/cannot parse key path "a0\.a1\.a2.*\.\.\.": nested deeper than 256 levels/)
    }
    expect(E.isRight(loadSync(f, { flat: true }))).toBe(true)
  })

  it('a JSON checkpoint nested 10 000 levels deep, and a train state', () => {
    const text = `{"format":"purediff","version":1,"tree":${deep}}`
    expect(leftOf(parseCheckpoint(text)).errors).toEqual(['the JSON nests deeper than 512 levels'])
    expect(leftOf(loadSync(file(text, '.json'))).kind).toBe('FormatError')
    expect(leftOf(parseState(`{"params":${deep}}`)).errors).toEqual(['the JSON nests deeper than 512 levels'])
    // tensor data nested deeply inside an acceptable document
    const data = '['.repeat(400) + '1' + ']'.repeat(400)
    const r = parseCheckpoint(
      `{"format":"purediff","version":1,"tree":{"w":{"dtype":"float64","shape":[1],"data":${data}}}}`,
    )
    expect(leftOf(r).errors[0]).toMatch(/^at 'w\.data/)
  })
})

describe('number literals that overflow float64', () => {
  const ckpt = (dtype: string, lit: string): string =>
    `{"format":"purediff","version":1,"tree":{"w":{"dtype":"${dtype}","shape":[2],"data":[1,${lit}]},"lr":0.1}}`
  it.each(['float64', 'float32'])('"data":[1e400] is a Left in %s; the "Infinity" spelling loads', (dtype) => {
    for (const lit of ['1e400', '-1e400', '1e309']) {
      const e = leftOf(parseCheckpoint(ckpt(dtype, lit)))
      expect(e.kind).toBe('FormatError')
      expect(e.issues).toEqual([
        { path: 'w.data[1]', message: expect.stringMatching(/overflows float64/) as unknown as string },
      ])
      expect(leftOf(loadSync(file(ckpt(dtype, lit), '.json'))).issues[0]?.path).toBe('w.data[1]')
    }
    const ok = parseCheckpoint(ckpt(dtype, '"Infinity"'))
    expect(E.isRight(ok) && (ok.right.tree as unknown as { w: { toArray(): unknown } }).w.toArray()).toEqual([
      1,
      Infinity,
    ])
    // 1.7976931348623157e308 is the largest float64: it is not an overflow
    expect(E.isRight(parseCheckpoint(ckpt('float64', '1.7976931348623157e308')))).toBe(true)
  })

  it('a number leaf and a train state loss', () => {
    const e = leftOf(parseCheckpoint('{"format":"purediff","version":1,"tree":{"lr":1e999}}'))
    expect(e.issues[0]?.path).toBe('lr')
    expect(leftOf(parseState('{"loss":1e400}')).issues[0]?.path).toBe('loss')
  })
})

describe('a JSON tensor without "dtype"', () => {
  const net = schema.record({ w: schema.tensor([2]) })
  const noDtype = { w: { shape: [2], data: [1, 2] } }
  it('is a Left where a schema expects a tensor: in memory, through JSON and through a file', () => {
    expect(leftOf(net.decode(noDtype)).errors).toEqual(["at 'w': missing key 'dtype' in a tensor"])
    const f = file(JSON.stringify({ format: 'purediff', version: 1, tree: noDtype }), '.json')
    const e = leftOf(loadSync(f, { schema: net }))
    expect(e.kind).toBe('DecodeError')
    expect(e.errors).toEqual(["at 'w': missing key 'dtype' in a tensor"])
  })
  it('is a record of numbers only where any tree is allowed (no schema)', () => {
    const r = fromJSON(noDtype)
    expect(E.isRight(r) && Object.keys((r.right as { w: object }).w)).toEqual(['shape', 'data'])
  })
})

describe('stale temporary files of killed writers', () => {
  /** A pid that was alive and has exited. */
  const deadPid = (): number => {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    return Number(r.stdout)
  }

  it.each([
    ['saveSync', (f: string) => saveSync(f, { w: tensor([1]) })],
    ['save', (f: string) => save(f, { w: tensor([1]) })],
    ['loadSync', (f: string) => loadSync(f)],
    ['load', (f: string) => load(f)],
    ['loadStateSync', (f: string) => loadStateSync(f)],
  ] as const)("%s removes the dead writers' temporary files of that path and keeps the rest", async (_name, run) => {
    const sub = tmp.path(`stale${n++}`)
    spawnSync('mkdir', ['-p', sub])
    const target = `${sub}/ckpt.json`
    writeFileSync(target, stringifyCheckpoint({ w: tensor([0]) }))
    const dead = deadPid()
    const stale = `${sub}/.ckpt.json.${dead}.1.tmp`
    const live = `${sub}/.ckpt.json.${process.pid}.999.tmp` // this process: maybe mid-write
    const other = `${sub}/.other.json.${dead}.1.tmp` // another path's
    const unrelated = `${sub}/.ckpt.json.notapid.tmp`
    for (const f of [stale, live, other, unrelated]) writeFileSync(f, 'x'.repeat(100))
    await run(target)
    expect(existsSync(stale)).toBe(false)
    expect(readdirSync(sub).sort()).toEqual(
      ['.ckpt.json.notapid.tmp', `.ckpt.json.${process.pid}.999.tmp`, `.other.json.${dead}.1.tmp`, 'ckpt.json'].sort(),
    )
  })

  it('saveState cleans too', () => {
    const sub = tmp.path(`stale${n++}`)
    spawnSync('mkdir', ['-p', sub])
    const dead = deadPid()
    writeFileSync(`${sub}/.s.json.${dead}.3.tmp`, 'x')
    const state = {
      step: 0,
      epoch: 0,
      epochEnd: false,
      loss: 1,
      metrics: {},
      key: [0, 0],
      params: { w: { dtype: 'float64', shape: [1], data: [1] } },
      optState: {},
    }
    const decoded = parseState(JSON.stringify({ format: 'purediff-train-state', version: 1, ...state }))
    if (E.isLeft(decoded)) throw new Error(decoded.left.message)
    saveStateSync(`${sub}/s.json`, decoded.right)
    expect(readdirSync(sub)).toEqual(['s.json'])
  })
})

describe('loaders check the header length before reading the file', () => {
  /** Run the load program against a fake file, recording every read. */
  const reads = (
    size: number,
    first: Uint8Array,
    name = 'x.safetensors',
  ): { total: number; result: E.Either<PurediffDecodeError, unknown> } => {
    const program = loadProgram(name, size, {})
    let total = 0
    let step = program.next()
    while (step.done !== true) {
      const { position, length } = step.value
      total += length
      const buf = new Uint8Array(length)
      buf.set(first.subarray(position, position + length))
      step = program.next(buf)
    }
    return { total, result: step.value }
  }

  it('a 1 GiB file declaring a huge header: 8 bytes read', () => {
    for (const declared of [2n ** 40n, 2n ** 30n, 200_000_000n]) {
      const head = new Uint8Array(8)
      new DataView(head.buffer).setBigUint64(0, declared, true)
      const { total, result } = reads(2 ** 30, head)
      expect(total).toBe(8)
      expect(leftOf(result).kind).toBe('FormatError')
    }
  })

  it('a bad header is refused before the tensor bytes are read', () => {
    const header = '{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}'
    const bytes = st(header, 0)
    const { total, result } = reads(2 ** 30, bytes) // the file claims 1 GiB of tensor bytes
    expect(total).toBe(8 + header.length)
    expect(leftOf(result).errors[0]).toMatch(/bytes after the last tensor are not described/)
  })

  it('without an extension, the format is sniffed from 9 bytes', () => {
    const good = encodeSafetensors({ w: tensor([1, 2]) })
    const { total, result } = reads(good.length, good, 'x')
    expect(E.isRight(result)).toBe(true)
    expect(total).toBe(9 + 8 + (good.length - 8 - 16) + 16) // sniff, length, header, tensor bytes
  })

  it('a real sparse 1 GiB file with a huge declared header length is a Left', async () => {
    const f = tmp.path('huge.safetensors')
    const fd = openSync(f, 'w')
    const head = new Uint8Array(8)
    new DataView(head.buffer).setBigUint64(0, 2n ** 40n, true)
    writeSync(fd, head)
    closeSync(fd)
    truncateSync(f, 2 ** 30) // sparse: no disk space, no memory
    expect(leftOf(loadSync(f)).errors[0]).toMatch(/header length 1099511627776 is larger than the 100000000-byte limit/)
    expect(leftOf(await load(f)).kind).toBe('FormatError')
  })
})
