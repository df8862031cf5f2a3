/**
 * The safetensors format (the binary tensor format of Hugging Face and PyTorch), written
 * and read exactly as its reference implementation does:
 *
 *   bytes 0..8      N, the header length, an unsigned 64-bit little-endian integer
 *   bytes 8..8+N    the header: UTF-8 JSON `{ "__metadata__": { string: string },
 *                   "<name>": { "dtype": "F64", "shape": [2, 3], "data_offsets": [begin, end] }, ... }`,
 *                   padded with trailing spaces to a multiple of 8 bytes
 *   bytes 8+N..     the byte buffer: each tensor's row-major values, little-endian, at
 *                   `[begin, end)` relative to the start of the buffer
 *
 * Writing follows the reference writer byte for byte: tensors sorted by dtype alignment,
 * widest first (all F64 tensors, then all F32), then by name (code-point order, which is
 * UTF-8 byte order); laid out contiguously in that order with no gaps; the header is
 * compact JSON with `__metadata__` first (when given, its keys sorted) and then the tensors
 * in layout order, each as `dtype`, `shape`, `data_offsets`. When every tensor has one
 * dtype this is simply "keys sorted". Names are the tree's key paths (`layers[0].w`); a
 * number leaf is stored as a rank-0 F64 tensor.
 *
 * Reading checks everything before it trusts it: the file holds the 8 length bytes; the
 * header length fits the file and the 100 MB limit of the reference reader; the header is
 * UTF-8 JSON holding an object without duplicate keys; each entry has a supported dtype
 * (F64 or F32; BF16, I64 and the others are refused by name), a shape of non-negative
 * integers and offsets that match the shape; and the offsets tile the byte buffer exactly
 * (sorted by offset, each tensor starts where the previous ended, the last ends at the end
 * of the file: no gaps, overlaps, trailing bytes or data past the end). Every problem is a
 * line in a `Left`; nothing throws on bad bytes.
 *
 * Purity: the encoder builds a fresh `Uint8Array`; the decoder copies the bytes of each
 * tensor into a fresh typed array, so no tensor shares memory with the file buffer.
 */
import * as E from 'fp-ts/lib/Either.js'
import { PurediffError, fmtShape } from '../errors.js'
import { Tensor, dataOf, sizeOf, wrap } from '../tensor/Tensor.js'
import type { ConcreteTensor, DType } from '../tensor/Tensor.js'
import { flatten, keyPaths } from '../tree/Tree.js'
import { decodeErrorOf } from './DecodeError.js'
import type { PurediffDecodeError } from './DecodeError.js'
import { nestingDepth } from './json.js'
import { quote } from './report.js'
import type { Tree } from '../tree/Tree.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The free-form string-to-string map a safetensors header may carry as `__metadata__`.
 * @category model
 * @since 0.1.0
 */
export type Metadata = Readonly<Record<string, string>>

/**
 * A decoded safetensors file: tensors by name (in layout order) and the metadata, if any.
 * @category model
 * @since 0.1.0
 */
export interface Safetensors {
  readonly tensors: Readonly<Record<string, ConcreteTensor>>
  readonly metadata: Metadata | undefined
}

/**
 * The header length limit of the reference reader (100 MB), against absurd lengths.
 * @example
 * MAX_HEADER_BYTES // 100000000
 */
export const MAX_HEADER_BYTES = 100_000_000

const METADATA_KEY = '__metadata__'

type STDType = 'F64' | 'F32'
const toST: Record<DType, STDType> = { float64: 'F64', float32: 'F32' }
const bytesPer: Record<STDType, number> = { F64: 8, F32: 4 }
/** Dtypes of the format that purediff does not read, so the message can say "unsupported", not "unknown". */
const OTHER_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'I64',
  'U64',
  'C64',
])

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Code-point order, which is the byte order of the UTF-8 encodings (and of Rust's `str::cmp`). */
export const compareCodePoints = (a: string, b: string): number => {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i) as number
    const y = b.codePointAt(j) as number
    if (x !== y) return x < y ? -1 : 1
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return a.length - i === b.length - j ? 0 : a.length - i < b.length - j ? -1 : 1
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

interface Entry {
  readonly name: string
  readonly dtype: STDType
  readonly shape: ReadonlyArray<number>
  readonly leaf: Tensor | number
  readonly begin: number
  readonly end: number
}

interface Prepared {
  readonly header: Uint8Array
  readonly entries: ReadonlyArray<Entry>
  readonly size: number
}

/** Layout and header of a tree (no tensor data is read yet). Throws on a tree that cannot be stored. */
export const prepare = (tree: Tree, metadata?: Metadata): Prepared => {
  const op = 'encodeSafetensors'
  const [leaves, def] = flatten(tree, op)
  const names = keyPaths(def)
  const items = leaves.map((leaf, i) => {
    const name = names[i] as string
    if (name === METADATA_KEY) {
      throw new PurediffError(
        'ValueError',
        `a leaf named ${METADATA_KEY} would collide with the reserved metadata key`,
        { op, path: name },
      )
    }
    if (LONE_SURROGATE.test(name))
      throw new PurediffError('ValueError', 'key is not valid Unicode (lone surrogate)', { op, path: name })
    const dtype: STDType = typeof leaf === 'number' ? 'F64' : toST[leaf.dtype]
    const shape: ReadonlyArray<number> = typeof leaf === 'number' ? [] : leaf.shape
    return { name, dtype, shape, leaf }
  })
  // The reference writer's order: widest dtype first, then by name.
  items.sort((a, b) => bytesPer[b.dtype] - bytesPer[a.dtype] || compareCodePoints(a.name, b.name))
  let offset = 0
  const entries: Entry[] = items.map((it) => {
    const begin = offset
    offset += sizeOf(it.shape) * bytesPer[it.dtype]
    return Object.freeze({ ...it, begin, end: offset })
  })
  const parts: string[] = []
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints)
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') {
        throw new PurediffError(
          'ValueError',
          `metadata values must be strings; ${JSON.stringify(k)} is ${typeof metadata[k]}`,
          { op },
        )
      }
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(metadata[k] as string)) {
        throw new PurediffError(
          'ValueError',
          `metadata entry ${JSON.stringify(k)} is not valid Unicode (lone surrogate)`,
          { op },
        )
      }
    }
    parts.push(
      `${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    )
  }
  for (const e of entries) {
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${e.begin},${e.end}]}`,
    )
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`)
  const padded = Math.ceil(json.length / 8) * 8
  const header = new Uint8Array(8 + padded)
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true)
  header.set(json, 8)
  header.fill(0x20, 8 + json.length)
  return { header, entries, size: header.length + offset }
}

/** The little-endian bytes of one leaf. May be a view on private memory: internal use only. */
export const leafBytes = (e: Entry): Uint8Array => {
  const n = e.end - e.begin
  if (typeof e.leaf === 'number') {
    const out = new Uint8Array(8)
    new DataView(out.buffer).setFloat64(0, e.leaf, true)
    return out
  }
  const ct = e.leaf.concrete()
  const d = dataOf(ct)
  if (d.byteLength !== n) {
    throw new PurediffError('ShapeError', `tensor holds ${d.byteLength} bytes, expected ${n}`, {
      op: 'encodeSafetensors',
      path: e.name,
      shapes: [ct.shape],
    })
  }
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  const out = new Uint8Array(n)
  const v = new DataView(out.buffer)
  if (e.dtype === 'F64') for (let i = 0; i < d.length; i++) v.setFloat64(8 * i, d[i] as number, true)
  else for (let i = 0; i < d.length; i++) v.setFloat32(4 * i, d[i] as number, true)
  return out
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Encode a parameter tree as safetensors bytes (names are key paths; see the module
 * header for the exact layout). Throws a `PurediffError` for a value that is not a tree,
 * a leaf named `__metadata__`, or non-string metadata.
 * @example
 * const bytes = encodeSafetensors({ b: tensor([0, 0]), w: tensor([[1, 2], [3, 4]]) }, { format: 'pt' })
 * // 8 bytes of header length, the JSON header, then 6 float64 values
 * const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
 * bytes.length === 8 + headerLength + 6 * 8
 * @category constructors
 * @since 0.1.0
 */
export const encodeSafetensors = (tree: Tree, metadata?: Metadata): Uint8Array => {
  const p = prepare(tree, metadata)
  const out = new Uint8Array(p.size)
  out.set(p.header, 0)
  for (const e of p.entries) out.set(leafBytes(e), p.header.length + e.begin)
  return out
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** A one-line description of a header value; never the value itself when it is a structure. */
const describeJSON = (u: unknown): string =>
  u === null
    ? 'null'
    : Array.isArray(u)
      ? `an array of length ${u.length}`
      : typeof u === 'object'
        ? 'an object'
        : typeof u === 'string'
          ? `the string ${quote(u)}`
          : `${typeof u} ${String(u)}`

/** A short list of numbers as written, or a description when it is anything else (never stringified whole). */
const describeList = (u: unknown): string =>
  Array.isArray(u) && u.length <= 8 && u.every((d: unknown) => typeof d === 'number')
    ? `[${u.join(', ')}]`
    : describeJSON(u)

/**
 * Duplicate keys in a JSON text that `JSON.parse` has accepted (it silently keeps the
 * last one; the format forbids them).
 */
const duplicateKeys = (text: string): string[] => {
  const found: string[] = []
  type Frame = {
    readonly obj: boolean
    readonly keys: Set<string>
    expectKey: boolean
    readonly where: string
    key: string
  }
  const stack: Frame[] = []
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    const top = stack[stack.length - 1]
    if (ch === '{' || ch === '[') {
      const where = top === undefined ? 'the header' : top.obj ? `header entry ${quote(top.key)}` : top.where
      stack.push({ obj: ch === '{', keys: new Set(), expectKey: ch === '{', where, key: '' })
    } else if (ch === '}' || ch === ']') stack.pop()
    else if (ch === ',' && top?.obj === true) top.expectKey = true
    else if (ch === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (top?.obj === true && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string
        if (top.keys.has(key)) found.push(`duplicate key ${quote(key)} in ${top.where}`)
        top.keys.add(key)
        top.key = key
        top.expectKey = false
      }
      i = j
    }
  }
  return found
}

/** The header of a safetensors file nests at most this deep (object, entry, shape). */
const MAX_HEADER_NESTING = 3

interface Info {
  readonly name: string
  readonly dtype: STDType
  readonly shape: number[]
  readonly begin: number
  readonly end: number
}

const checkInfo = (name: string, u: unknown, errors: string[]): Info | undefined => {
  const where = `tensor ${quote(name)}`
  if (!isObject(u)) {
    errors.push(`${where}: expected { dtype, shape, data_offsets }, got ${describeJSON(u)}`)
    return undefined
  }
  const before = errors.length
  for (const k of Object.keys(u)) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') errors.push(`${where}: unexpected key ${quote(k)}`)
  }
  for (const k of ['dtype', 'shape', 'data_offsets'])
    if (!(k in u)) errors.push(`${where}: missing ${JSON.stringify(k)}`)
  if (errors.length > before) return undefined
  const dtype = u['dtype']
  if (dtype !== 'F64' && dtype !== 'F32') {
    errors.push(
      typeof dtype === 'string' && OTHER_DTYPES.has(dtype)
        ? `${where}: dtype ${dtype} is not supported (purediff reads F64 and F32)`
        : `${where}: unknown dtype ${typeof dtype === 'string' ? quote(dtype) : describeJSON(dtype)} (purediff reads F64 and F32)`,
    )
  }
  const shape = u['shape']
  const okShape =
    Array.isArray(shape) && shape.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  if (!okShape) errors.push(`${where}: shape must be an array of non-negative integers, got ${describeList(shape)}`)
  const offs = u['data_offsets']
  const okOffs =
    Array.isArray(offs) &&
    offs.length === 2 &&
    offs.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  if (!okOffs)
    errors.push(`${where}: data_offsets must be two non-negative integers [begin, end], got ${describeList(offs)}`)
  if (errors.length > before) return undefined
  const [begin, end] = offs as [number, number]
  if (end < begin) {
    errors.push(`${where}: data_offsets [${begin}, ${end}] end before they begin`)
    return undefined
  }
  const st = dtype as STDType
  const n = (shape as number[]).reduce((a, b) => a * b, 1)
  const need = n * bytesPer[st]
  if (!Number.isSafeInteger(need) || need !== end - begin) {
    errors.push(
      `${where}: shape ${shapeText(shape as number[])} of ${st} needs ${Number.isSafeInteger(need) ? need : 'more than 2^53'} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
    )
    return undefined
  }
  return { name, dtype: st, shape: (shape as number[]).slice(), begin, end }
}

/** A shape for a message: long shapes are cut. */
const shapeText = (shape: ReadonlyArray<number>): string =>
  shape.length <= 8 ? fmtShape(shape) : `${fmtShape(shape.slice(0, 8)).slice(0, -1)}, ...] (${shape.length} axes)`

const readTensor = (bytes: Uint8Array, start: number, info: Info): ConcreteTensor => {
  const n = info.end - info.begin
  // A fresh copy (not `slice`, which is a view for a Node Buffer), so tensors own their memory.
  const copy = new Uint8Array(n)
  copy.set(bytes.subarray(start + info.begin, start + info.end))
  const count = n / bytesPer[info.dtype]
  if (LITTLE_ENDIAN_HOST) {
    return wrap(
      info.dtype === 'F64' ? new Float64Array(copy.buffer, 0, count) : new Float32Array(copy.buffer, 0, count),
      info.shape,
    )
  }
  const v = new DataView(copy.buffer)
  const out = info.dtype === 'F64' ? new Float64Array(count) : new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = info.dtype === 'F64' ? v.getFloat64(8 * i, true) : v.getFloat32(4 * i, true)
  return wrap(out, info.shape)
}

type Lines = ReadonlyArray<string>

/**
 * Check the 8 length bytes against the file size, before anything else is read: the header
 * length N, or the problem. `fileSize` is the whole file's size in bytes. @internal
 */
export const checkHeaderLength = (first8: Uint8Array, fileSize: number): E.Either<Lines, number> => {
  if (fileSize === 0) return E.left(['the file is empty; a safetensors file starts with an 8-byte header length'])
  if (fileSize < 8 || first8.length < 8) {
    return E.left([
      `the file is ${fileSize} bytes, shorter than the 8-byte header length a safetensors file starts with`,
    ])
  }
  const n64 = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true)
  if (n64 === 0n) return E.left(['the header length is 0; the header must be a JSON object'])
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    return E.left([
      `the header length ${n64} is larger than the ${MAX_HEADER_BYTES}-byte limit (the file is ${fileSize} bytes)`,
    ])
  }
  const n = Number(n64)
  if (8 + n > fileSize) {
    return E.left([
      `the header length ${n} runs past the end of the file (${fileSize} bytes, so at most ${fileSize - 8} are left for the header)`,
    ])
  }
  return E.right(n)
}

/** A checked header: where each tensor lies in the byte buffer, and the metadata. @internal */
export interface Header {
  readonly infos: ReadonlyArray<Info>
  readonly metadata: Metadata | undefined
}

/**
 * Parse and check the header bytes (the N bytes after the length) against the size of the
 * byte buffer that follows them, before any tensor byte is read. @internal
 */
export const decodeHeader = (headerBytes: Uint8Array, bufferLength: number): E.Either<Lines, Header> => {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes)
  } catch {
    return E.left(['the header is not valid UTF-8'])
  }
  if (nestingDepth(text, MAX_HEADER_NESTING) > MAX_HEADER_NESTING) {
    return E.left([
      `the header nests deeper than ${MAX_HEADER_NESTING} levels (an object of { dtype, shape, data_offsets } entries)`,
    ])
  }
  let header: unknown
  try {
    header = JSON.parse(text)
  } catch (e) {
    return E.left([`the header is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : 'parse error'}`])
  }
  if (!isObject(header)) return E.left([`the header must be a JSON object, got ${describeJSON(header)}`])
  const errors: string[] = duplicateKeys(text)

  let metadata: Metadata | undefined
  const infos: Info[] = []
  for (const name of Object.keys(header)) {
    const value = header[name]
    if (name === METADATA_KEY) {
      if (!isObject(value)) {
        errors.push(`${METADATA_KEY} must be an object of strings, got ${describeJSON(value)}`)
        continue
      }
      const bad = Object.keys(value).filter((k) => typeof value[k] !== 'string')
      for (const k of bad)
        errors.push(`${METADATA_KEY}: value of ${quote(k)} must be a string, got ${describeJSON(value[k])}`)
      if (bad.length === 0) metadata = Object.freeze(Object.fromEntries(Object.entries(value))) as Metadata
      continue
    }
    const info = checkInfo(name, value, errors)
    if (info !== undefined) infos.push(info)
  }
  if (errors.length > 0) return E.left(errors)

  // The offsets must tile the byte buffer exactly.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end)
  let at = 0
  let prev: Info | undefined
  for (const info of infos) {
    const span = `[${info.begin}, ${info.end}]`
    if (info.begin < at) {
      errors.push(
        `tensor ${quote(info.name)} at ${span} overlaps tensor ${quote(prev?.name ?? '')} at [${prev?.begin}, ${prev?.end}]`,
      )
    } else if (info.begin > at) {
      errors.push(`gap of ${info.begin - at} bytes in the byte buffer before tensor ${quote(info.name)} at ${span}`)
    }
    if (info.end > bufferLength) {
      errors.push(
        `tensor ${quote(info.name)} at ${span} runs past the end of the file (the byte buffer has ${bufferLength} bytes)`,
      )
    }
    at = Math.max(at, info.end)
    prev = info
  }
  if (errors.length === 0 && at < bufferLength) {
    errors.push(`${bufferLength - at} bytes after the last tensor are not described by the header`)
  }
  if (errors.length > 0) return E.left(errors)
  return E.right({ infos, metadata })
}

/** The tensors of a checked header, copied out of the byte buffer. @internal */
export const readTensors = (header: Header, buffer: Uint8Array): Safetensors =>
  Object.freeze({
    tensors: Object.freeze(Object.fromEntries(header.infos.map((info) => [info.name, readTensor(buffer, 0, info)]))),
    metadata: header.metadata,
  })

/** `decodeSafetensors` with the problems as lines. @internal */
export const decodeSafetensorsLines = (bytes: Uint8Array): E.Either<Lines, Safetensors> => {
  if (!(bytes instanceof Uint8Array)) return E.left([`expected bytes (a Uint8Array), got ${describeJSON(bytes)}`])
  const n = checkHeaderLength(bytes.subarray(0, 8), bytes.length)
  if (E.isLeft(n)) return n
  const start = 8 + n.right
  const h = decodeHeader(bytes.subarray(8, start), bytes.length - start)
  if (E.isLeft(h)) return h
  return E.right(readTensors(h.right, bytes.subarray(start)))
}

/**
 * Decode safetensors bytes into tensors by name and the metadata, or a `Left`
 * (`PurediffDecodeError`, kind `FormatError`) listing every problem found; never throws.
 * Only F64 and F32 tensors are read.
 * @example
 * decodeSafetensors(encodeSafetensors({ w: tensor([1, 2]) })) // Right({ tensors: { w }, metadata: undefined })
 * isRight(decodeSafetensors(encodeSafetensors({ w: tensor([1, 2]) }))) // true
 * @category constructors
 * @since 0.1.0
 */
export const decodeSafetensors = (bytes: Uint8Array): E.Either<PurediffDecodeError, Safetensors> =>
  E.mapLeft((lines: Lines) => decodeErrorOf('FormatError', lines, { format: 'safetensors' }))(
    decodeSafetensorsLines(bytes),
  )
