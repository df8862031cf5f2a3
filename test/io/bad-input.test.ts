/**
 * Bad input, on purpose. Every case feeds one malformed input and checks that the answer is
 * a `Left` (or, for the `tensor` constructor, a thrown `PurediffError`) whose message says
 * what is wrong and where: never a crash, a hang or a half-loaded record. Cases are tables,
 * so `CASE_COUNT` at the bottom is the number of malformed inputs tried.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { mkdirSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import { TreeCodec, decodeSafetensors, encodeSafetensors, loadSync, schema } from '../../src/io/index.js'
import type { HasCodec, LoadError, LoadOptions, PurediffDecodeError } from '../../src/io/index.js'
import { key } from '../../src/random/index.js'
import { fromData, ones, tensor, zeros } from '../../src/tensor/Tensor.js'
import { tempDir } from './helpers.js'

let tmp: ReturnType<typeof tempDir>
beforeAll(() => {
  tmp = tempDir()
})
afterAll(() => tmp.cleanup())

let fileNo = 0
/** Write bytes to a fresh file and load it (sync), with the given extension. */
const loadBytes = (
  bytes: Uint8Array | string,
  ext: string,
  options: LoadOptions & { readonly schema?: HasCodec<unknown> } = {},
): E.Either<LoadError, unknown> => {
  const f = tmp.path(`case${++fileNo}${ext}`)
  writeFileSync(f, bytes)
  return loadSync(f, options as never) as E.Either<LoadError, unknown>
}

/** A safetensors file built by hand: length (default: the header's), header, data bytes. */
const st = (header: unknown, data: number | Uint8Array = 0, length?: bigint): Uint8Array => {
  const h =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header))
  const d = typeof data === 'number' ? new Uint8Array(data) : data
  const out = new Uint8Array(8 + h.length + d.length)
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true)
  out.set(h, 8)
  out.set(d, 8 + h.length)
  return out
}
const entry = (dtype: unknown, shape: unknown, offsets: unknown): Record<string, unknown> => ({
  dtype,
  shape,
  data_offsets: offsets,
})
const valid = encodeSafetensors(
  {
    b: tensor([1, 2]),
    w: tensor(
      [
        [1, 2],
        [3, 4],
      ],
      'float32',
    ),
  },
  { step: '1' },
)

const expectLeft = <A>(r: E.Either<PurediffDecodeError, A>, pattern: RegExp): void => {
  if (E.isRight(r)) throw new Error(`expected a Left matching ${pattern}, got a Right`)
  expect(r.left._tag).toBe('PurediffDecodeError')
  expect(r.left.errors.join('\n')).toMatch(pattern)
}
const expectLoadError = (r: E.Either<LoadError, unknown>, kind: LoadError['kind'], pattern: RegExp): void => {
  if (E.isRight(r)) throw new Error(`expected a ${kind} matching ${pattern}, got a Right`)
  expect(r.left._tag).toBe('PurediffDecodeError')
  expect(r.left.kind).toBe(kind)
  expect(r.left.message).toMatch(pattern)
}

// -------------------------------------------------------------------------------------
// safetensors bytes
// -------------------------------------------------------------------------------------

const safetensorsCases: ReadonlyArray<readonly [string, () => Uint8Array, RegExp]> = [
  ['empty file', () => new Uint8Array(0), /the file is empty/],
  [
    'shorter than the 8 length bytes',
    () => new Uint8Array(5),
    /the file is 5 bytes, shorter than the 8-byte header length/,
  ],
  [
    'header length larger than the file',
    () => st('{}', 0, 1000n),
    /the header length 1000 runs past the end of the file \(10 bytes/,
  ],
  ['header length zero', () => st('{}', 0, 0n), /the header length is 0; the header must be a JSON object/],
  [
    'header length 2^60',
    () => st('{}', 0, 2n ** 60n),
    /the header length 1152921504606846976 is larger than the 100000000-byte limit/,
  ],
  [
    'header length 2^64 - 1',
    () => st('{}', 0, 2n ** 64n - 1n),
    /the header length 18446744073709551615 is larger than/,
  ],
  [
    'truncated inside the data',
    () => valid.subarray(0, valid.length - 4),
    /tensor "w" at \[16, 32\] runs past the end of the file \(the byte buffer has 28 bytes\)/,
  ],
  ['truncated inside the header', () => valid.subarray(0, 30), /runs past the end of the file \(30 bytes/],
  ['header not UTF-8', () => st(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /the header is not valid UTF-8/],
  ['byte-order mark before the header', () => st('\uFEFF{}'), /the header is not valid JSON/],
  ['header not JSON', () => st('{"w": {"dtype": "F64",'), /the header is not valid JSON/],
  ['header is an array', () => st('[]'), /the header must be a JSON object, got an array/],
  ['header is a string', () => st('"w"'), /the header must be a JSON object, got the string "w"/],
  ['header is a number', () => st('42'), /the header must be a JSON object, got number 42/],
  ['header is null', () => st('null'), /the header must be a JSON object, got null/],
  [
    'unknown dtype',
    () => st({ w: entry('Q7', [1], [0, 8]) }, 8),
    /tensor "w": unknown dtype "Q7" \(purediff reads F64 and F32\)/,
  ],
  [
    'unsupported dtype BF16',
    () => st({ w: entry('BF16', [2], [0, 4]) }, 4),
    /tensor "w": dtype BF16 is not supported \(purediff reads F64 and F32\)/,
  ],
  ['unsupported dtype I64', () => st({ w: entry('I64', [1], [0, 8]) }, 8), /tensor "w": dtype I64 is not supported/],
  ['dtype not a string', () => st({ w: entry(3, [1], [0, 8]) }, 8), /tensor "w": unknown dtype number 3/],
  [
    'shape and offsets disagree',
    () => st({ w: entry('F32', [3], [0, 8]) }, 8),
    /tensor "w": shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] span 8/,
  ],
  [
    'negative shape',
    () => st({ w: entry('F64', [-2], [0, 0]) }),
    /tensor "w": shape must be an array of non-negative integers, got \[-2\]/,
  ],
  [
    'fractional shape',
    () => st({ w: entry('F64', [1.5], [0, 12]) }, 12),
    /tensor "w": shape must be an array of non-negative integers, got \[1.5\]/,
  ],
  [
    'shape not an array',
    () => st({ w: entry('F64', '2', [0, 16]) }, 16),
    /tensor "w": shape must be an array of non-negative integers, got the string "2"/,
  ],
  [
    'offsets end before they begin',
    () => st({ w: entry('F64', [1], [8, 0]) }, 8),
    /tensor "w": data_offsets \[8, 0\] end before they begin/,
  ],
  [
    'one offset',
    () => st({ w: entry('F64', [1], [8]) }, 8),
    /tensor "w": data_offsets must be two non-negative integers \[begin, end\], got \[8\]/,
  ],
  [
    'fractional offsets',
    () => st({ w: entry('F64', [1], [0, 7.5]) }, 8),
    /tensor "w": data_offsets must be two non-negative integers/,
  ],
  [
    'offsets beyond 2^53',
    () => st({ w: entry('F64', [1], [0, 2 ** 60]) }, 8),
    /tensor "w": data_offsets must be two non-negative integers/,
  ],
  [
    'shape with more than 2^53 bytes',
    () => st({ w: entry('F64', [2 ** 30, 2 ** 30, 2 ** 30], [0, 8]) }, 8),
    /tensor "w": shape \[1073741824, 1073741824, 1073741824\] of F64 needs more than 2\^53 bytes/,
  ],
  [
    'overlapping tensors',
    () => st({ a: entry('F64', [1], [0, 8]), b: entry('F64', [1], [4, 12]) }, 12),
    /tensor "b" at \[4, 12\] overlaps tensor "a" at \[0, 8\]/,
  ],
  [
    'gap between tensors',
    () => st({ a: entry('F64', [1], [0, 8]), b: entry('F32', [1], [12, 16]) }, 16),
    /gap of 4 bytes in the byte buffer before tensor "b" at \[12, 16\]/,
  ],
  [
    'first tensor not at offset 0',
    () => st({ a: entry('F32', [1], [4, 8]) }, 8),
    /gap of 4 bytes in the byte buffer before tensor "a"/,
  ],
  [
    'data past the end of the file',
    () => st({ a: entry('F64', [2], [0, 16]) }, 8),
    /tensor "a" at \[0, 16\] runs past the end of the file \(the byte buffer has 8 bytes\)/,
  ],
  [
    'trailing bytes after the last tensor',
    () => st({ a: entry('F32', [1], [0, 4]) }, 8),
    /4 bytes after the last tensor are not described by the header/,
  ],
  [
    'duplicate tensor names',
    () =>
      st(
        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        4,
      ),
    /duplicate key "w" in the header/,
  ],
  [
    'duplicate field in an entry',
    () => st('{"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,8]}}', 8),
    /duplicate key "dtype" in header entry "w"/,
  ],
  [
    '__metadata__ not an object',
    () => st({ __metadata__: 'v1' }),
    /__metadata__ must be an object of strings, got the string "v1"/,
  ],
  [
    '__metadata__ with a number',
    () => st({ __metadata__: { step: 3 } }),
    /__metadata__: value of "step" must be a string, got number 3/,
  ],
  [
    'entry without data_offsets',
    () => st({ w: { dtype: 'F64', shape: [1] } }, 8),
    /tensor "w": missing "data_offsets"/,
  ],
  [
    'entry with an unknown field',
    () => st({ w: { ...entry('F64', [1], [0, 8]), offsets: [0, 8] } }, 8),
    /tensor "w": unexpected key "offsets"/,
  ],
  [
    'entry not an object',
    () => st({ w: [0, 8] }, 8),
    /tensor "w": expected \{ dtype, shape, data_offsets \}, got an array/,
  ],
]

describe(`safetensors files (${safetensorsCases.length} cases)`, () => {
  it.each(safetensorsCases)('%s', (_name, bytes, pattern) => {
    expectLeft(decodeSafetensors(bytes()), pattern)
    expectLoadError(loadBytes(bytes(), '.safetensors'), 'FormatError', pattern)
  })
})

/** Well-formed files whose names do not make a tree. */
const namingCases: ReadonlyArray<readonly [string, ReadonlyArray<string>, RegExp]> = [
  [
    'names that are not key paths',
    ['model.layers.0.weight'],
    /cannot parse key path "model.layers.0.weight": expected an identifier at character 13; to read tensors by name, load with \{ flat: true \}/,
  ],
  ['a name inside a leaf', ['a', 'a.b'], /"a" is a leaf, but "a.b" puts a value inside it/],
  ['array indices with a gap', ['l[0]', 'l[2]'], /array at 'l' has indices 0, 2 but not 1/],
  ['two names for one key path', ['a', '["a"]'], /"a" and "\[\\"a\\"\]" both name the key path 'a'/],
  ['a whole-tree leaf and another name', ['', 'a'], /"" is a leaf, but "a" puts a value inside it/],
  ['an index and a key at one level', ['l[0]', 'l.x'], /"l.x" uses key "x" at 'l', which other names use as an array/],
  ['an absurd array index', ['l[0]', 'l[9007199254740991]'], /array at 'l' has indices 0, 9007199254740991 but not 1/],
]

describe(`safetensors names (${namingCases.length} cases)`, () => {
  it.each(namingCases)('%s', (_name, names, pattern) => {
    const header = Object.fromEntries(names.map((n, i) => [n, entry('F64', [], [8 * i, 8 * i + 8])]))
    const bytes = st(header, 8 * names.length)
    expect(E.isRight(decodeSafetensors(bytes))).toBe(true)
    expectLoadError(loadBytes(bytes, '.safetensors'), 'FormatError', pattern)
  })
})

// -------------------------------------------------------------------------------------
// JSON checkpoints
// -------------------------------------------------------------------------------------

const ckpt = (tree: unknown): string => JSON.stringify({ format: 'purediff', version: 1, tree })
const t22 = (data: unknown[], extra: Record<string, unknown> = {}): unknown => ({
  w: { dtype: 'float64', shape: [2, 2], data, ...extra },
})
// Built as text: JSON.stringify itself cannot write this deep a value.
const deepText = `{"format":"purediff","version":1,"tree":${'['.repeat(10000)}1${']'.repeat(10000)}}`

const jsonCases: ReadonlyArray<readonly [string, string | Uint8Array, RegExp]> = [
  ['empty file', '', /the file is empty/],
  ['whitespace only', ' \n\t ', /the file is empty/],
  ['truncated JSON', ckpt(t22([1, 2, 3, 4])).slice(0, 40), /not valid JSON/],
  ['not UTF-8', new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), /the file is not valid UTF-8/],
  ['a number', '42', /expected a purediff checkpoint object .* got 42/],
  ['a string', '"params"', /expected a purediff checkpoint object .* got the string "params"/],
  ['null', 'null', /expected a purediff checkpoint object .* got null/],
  ['an array', '[1, 2]', /expected a purediff checkpoint object .* got an array of length 2/],
  [
    'wrong format tag',
    JSON.stringify({ format: 'pytorch', version: 1, tree: 1 }),
    /"format" must be "purediff", got the string "pytorch"/,
  ],
  [
    'unsupported version',
    JSON.stringify({ format: 'purediff', version: 2, tree: 1 }),
    /unsupported checkpoint version 2 \(this purediff reads version 1\)/,
  ],
  ['missing tree', JSON.stringify({ format: 'purediff', version: 1 }), /missing "tree"/],
  [
    'extra envelope key',
    JSON.stringify({ format: 'purediff', version: 1, tree: 1, weights: 2 }),
    /unexpected key "weights" in the checkpoint/,
  ],
  [
    'metadata with a number',
    JSON.stringify({ format: 'purediff', version: 1, tree: 1, metadata: { step: 3 } }),
    /"metadata" must be an object of strings/,
  ],
  [
    'a string in tensor data',
    ckpt(t22([1, 'two', 3, 4])),
    /at 'w.data\[1\]': expected a number or one of 'NaN', 'Infinity', '-Infinity', '-0', got the string "two"/,
  ],
  ['null in tensor data', ckpt(t22([1, 2, null, 4])), /at 'w.data\[2\]': expected a number .* got null/],
  [
    'a boolean in tensor data',
    ckpt(t22([true, 2, 3, 4])),
    /at 'w.data\[0\]': expected a number .* got the boolean true/,
  ],
  ['an object in tensor data', ckpt(t22([1, 2, 3, {}])), /at 'w.data\[3\]': expected a number .* got an object/],
  [
    'nested arrays in tensor data',
    ckpt(
      t22([
        [1, 2],
        [3, 4],
      ]),
    ),
    /at 'w.data': 2 values do not fill shape \[2, 2\] \(4 elements\)/,
  ],
  ['"nan" in lower case', ckpt(t22(['nan', 2, 3, 4])), /at 'w.data\[0\]': expected a number .* got the string "nan"/],
  [
    'negative shape',
    ckpt({ w: { dtype: 'float64', shape: [-2], data: [] } }),
    /at 'w.shape\[0\]': expected a non-negative integer, got -2/,
  ],
  [
    'fractional shape',
    ckpt({ w: { dtype: 'float64', shape: [2.5], data: [1, 2] } }),
    /at 'w.shape\[0\]': expected a non-negative integer, got 2.5/,
  ],
  [
    'shape not an array',
    ckpt({ w: { dtype: 'float64', shape: 4, data: [1, 2, 3, 4] } }),
    /at 'w.shape': expected a shape \(an array of non-negative integers\), got 4/,
  ],
  ['too few values', ckpt(t22([1, 2, 3])), /at 'w.data': 3 values do not fill shape \[2, 2\] \(4 elements\)/],
  ['too many values', ckpt(t22([1, 2, 3, 4, 5])), /at 'w.data': 5 values do not fill shape \[2, 2\] \(4 elements\)/],
  [
    'unknown dtype',
    ckpt({ w: { dtype: 'int8', shape: [1], data: [1] } }),
    /at 'w.dtype': unknown dtype "int8"; expected 'float64' or 'float32'/,
  ],
  ['tensor without data', ckpt({ w: { dtype: 'float64', shape: [1] } }), /at 'w': missing key 'data' in a tensor/],
  [
    'tensor with an extra key',
    ckpt(t22([1, 2, 3, 4], { strides: [2, 1] })),
    /at 'w.strides': unexpected key "strides" in a tensor/,
  ],
  [
    'float32 value out of range',
    ckpt({ w: { dtype: 'float32', shape: [1], data: [1e300] } }),
    /at 'w.data\[0\]': 1e\+300 overflows float32/,
  ],
  ['null leaf', ckpt({ a: { b: null } }), /at 'a.b': expected a tensor, a number, an array or a record, got null/],
  [
    'boolean leaf',
    ckpt([1, false]),
    /at '\[1\]': expected a tensor, a number, an array or a record, got the boolean false/,
  ],
  [
    'unknown string leaf',
    ckpt({ lr: 'fast' }),
    /at 'lr': expected a tensor, a number, an array or a record, got the string "fast"/,
  ],
  ['nested 10000 levels deep', deepText, /the JSON nests deeper than 512 levels/],
]

describe(`JSON checkpoints (${jsonCases.length} cases)`, () => {
  it.each(jsonCases)('%s', (_name, text, pattern) => {
    expectLoadError(loadBytes(text, '.json'), 'FormatError', pattern)
  })
})

const readCases: ReadonlyArray<readonly [string, () => string, RegExp]> = [
  ['missing file', () => tmp.path('nope.json'), /cannot read the file: ENOENT/],
  [
    'a directory',
    () => {
      mkdirSync(tmp.path('adir.safetensors'), { recursive: true })
      return tmp.path('adir.safetensors')
    },
    /cannot read the file: EISDIR/,
  ],
]

describe(`unreadable files (${readCases.length} cases)`, () => {
  it.each(readCases)('%s', (_name, file, pattern) => {
    expectLoadError(loadSync(file()), 'ReadError', pattern)
  })
})

// -------------------------------------------------------------------------------------
// schemas
// -------------------------------------------------------------------------------------

const net = schema.record({
  layers: schema.tuple(schema.record({ w: schema.tensor([2, 2]), b: schema.tensor([2]) })),
  lr: schema.number(),
  mask: schema.tensor([2], { allowInfinity: false, dtype: 'float32' }),
})
const good = (): Record<string, unknown> =>
  JSON.parse(JSON.stringify(net.codec.encode(net.init(key(0))))) as Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at decoded JSON freely
const edit = (f: (p: Record<string, any>) => void): Record<string, unknown> => {
  const p = good()
  f(p)
  return p
}

const schemaCases: ReadonlyArray<readonly [string, () => unknown, RegExp]> = [
  [
    'NaN where the schema forbids it',
    () => edit((p) => (p['layers'][0].w.data[1] = 'NaN')),
    /at 'layers\[0\].w.data\[1\]': NaN is not allowed here \(the schema sets allowNaN: false\)/,
  ],
  ['NaN in a number leaf', () => edit((p) => (p['lr'] = 'NaN')), /at 'lr': NaN is not allowed here/],
  [
    'Infinity where allowInfinity is false',
    () => edit((p) => (p['mask'].data[0] = '-Infinity')),
    /at 'mask.data\[0\]': -Infinity is not allowed here/,
  ],
  ['missing key', () => edit((p) => delete p['layers'][0].b), /at 'layers\[0\].b': missing key "b"/],
  [
    'extra key',
    () => edit((p) => (p['dropout'] = 0.5)),
    /at 'dropout': unexpected key "dropout" \(the schema has keys layers, lr, mask\)/,
  ],
  [
    'wrong shape',
    () => edit((p) => (p['layers'][0].b = { dtype: 'float64', shape: [3], data: [0, 0, 0] })),
    /at 'layers\[0\].b.shape': expected shape \[2\], got \[3\]/,
  ],
  [
    'wrong dtype',
    () => edit((p) => (p['mask'].dtype = 'float64')),
    /at 'mask.dtype': expected dtype float32, got float64/,
  ],
  [
    'array too short',
    () => edit((p) => (p['layers'] = [])),
    /at 'layers': expected an array of length 1, got length 0/,
  ],
  [
    'array where a record is declared',
    () => edit((p) => (p['layers'][0] = [1, 2])),
    /at 'layers\[0\]': expected a record with keys b, w, got an array of length 2/,
  ],
  [
    'record where a tensor is declared',
    () => edit((p) => (p['mask'] = { a: 1 })),
    /at 'mask.a': unexpected key "a" in a tensor/,
  ],
  [
    'string where a number is declared',
    () => edit((p) => (p['lr'] = 'fast')),
    /at 'lr': expected a number, got the string "fast"/,
  ],
  [
    'a tensor where a number is declared',
    () => edit((p) => (p['lr'] = { dtype: 'float64', shape: [1], data: [1] })),
    /at 'lr': expected a number, got a tensor of shape \[1\]/,
  ],
  [
    'a tensor where a record is declared',
    () => edit((p) => (p['layers'][0] = { dtype: 'float64', shape: [2], data: [1, 2] })),
    /at 'layers\[0\]': expected a record with keys b, w, got a tensor of shape \[2\]/,
  ],
  ['not a record at all', () => 42, /expected a record with keys layers, lr, mask, got 42/],
]

describe(`schema decoding (${schemaCases.length} cases)`, () => {
  it.each(schemaCases)('%s', (_name, input, pattern) => {
    expectLeft(net.decode(input()), pattern)
    // The same through a JSON checkpoint file: a Left, no partial record. Inputs that are not
    // trees at all fail as FormatError before the schema is consulted.
    const viaFile = loadBytes(ckpt(input()), '.json', { schema: net })
    const tag = E.isLeft(TreeCodec.decode(input())) ? 'FormatError' : 'DecodeError'
    expectLoadError(viaFile, tag, tag === 'DecodeError' ? pattern : /at '/)
  })
})

const stSchema = schema.record({ b: schema.tensor([2]), w: schema.tensor([2, 2], { dtype: 'float32' }) })
const stSchemaCases: ReadonlyArray<readonly [string, () => Uint8Array, RegExp]> = [
  [
    'safetensors with NaN, loaded against the schema',
    () =>
      encodeSafetensors({
        b: tensor([NaN, 1]),
        w: tensor(
          [
            [1, 2],
            [3, 4],
          ],
          'float32',
        ),
      }),
    /at 'b.data\[0\]': NaN is not allowed here/,
  ],
  ['safetensors missing a key', () => encodeSafetensors({ b: tensor([0, 1]) }), /at 'w': missing key "w"/],
  [
    'safetensors with an extra tensor',
    () =>
      encodeSafetensors({
        b: tensor([0, 1]),
        w: tensor(
          [
            [1, 2],
            [3, 4],
          ],
          'float32',
        ),
        v: tensor([1]),
      }),
    /at 'v': unexpected key "v"/,
  ],
  [
    'safetensors with F64 where float32 is declared',
    () =>
      encodeSafetensors({
        b: tensor([0, 1]),
        w: tensor([
          [1, 2],
          [3, 4],
        ]),
      }),
    /at 'w.dtype': expected dtype float32, got float64/,
  ],
  [
    'safetensors with a transposed shape',
    () => encodeSafetensors({ b: tensor([0, 1]), w: tensor([[1, 2, 3, 4]], 'float32') }),
    /at 'w.shape': expected shape \[2, 2\], got \[1, 4\]/,
  ],
]

describe(`safetensors against a schema (${stSchemaCases.length} cases)`, () => {
  it.each(stSchemaCases)('%s', (_name, bytes, pattern) => {
    expectLoadError(loadBytes(bytes(), '.safetensors', { schema: stSchema }), 'DecodeError', pattern)
  })
})

// -------------------------------------------------------------------------------------
// the tensor constructor (src/tensor/Tensor.ts)
// -------------------------------------------------------------------------------------

const constructorCases: ReadonlyArray<readonly [string, () => unknown, RegExp]> = [
  ['ragged rows', () => tensor([[1, 2], [3]]), /ragged data: expected length 2 at data\[1\], got length 1/],
  [
    'a number where a row is expected',
    () => tensor([[1, 2], 3] as never),
    /ragged data: expected an array of length 2 at data\[1\], got number/,
  ],
  ['a row where a number is expected', () => tensor([1, [2]] as never), /expected a number at data\[1\], got an array/],
  [
    'ragged three levels down',
    () =>
      tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    /ragged data: expected length 1 at data\[1\]\[1\], got length 2/,
  ],
  ['empty first row', () => tensor([[], [1]]), /ragged data: expected length 0 at data\[1\], got length 1/],
  [
    'typed arrays of different lengths',
    () => tensor([new Float64Array(2), new Float64Array(3)] as never),
    /ragged data: expected length 2 at data\[1\], got length 3/,
  ],
  ['a string', () => tensor([[1], ['a']] as never), /expected a number at data\[1\]\[0\], got string/],
  ['null', () => tensor([null] as never), /got null at data\[0\]/],
  ['a hole in a sparse array', () => tensor([1, , 3] as never), /expected a number at data\[1\], got undefined/],
  ['a boolean', () => tensor([true] as never), /got boolean at data\[0\]/],
  ['a bigint', () => tensor([1n] as never), /got bigint at data\[0\]/],
  ['an object', () => tensor({} as never), /got object at data/],
  ['an unknown dtype', () => tensor([1], 'int8' as never), /^tensor: unknown dtype "int8"/],
  ['fromData: too few values', () => fromData([1, 2], [3]), /fromData: 2 values do not fill shape \[3\]/],
  [
    'fromData: negative shape',
    () => fromData([], [-1]),
    /fromData: shape must be an array of non-negative integers, got \[-1\]/,
  ],
  ['fromData: fractional shape', () => fromData([1], [0.5]), /got \[0.5\]/],
  ['fromData: a non-number value', () => fromData(['a'] as never, [1]), /fromData: non-numeric value at index 0/],
  // Regressions (audit item 7): a shape too large to allocate used to escape as a bare
  // RangeError, and a string extent was printed as a number ("got [2]").
  [
    'zeros: 2^31 elements',
    () => zeros([2 ** 31]),
    /^full: shape \[2147483648\] has 2147483648 elements; a tensor holds at most 2147483647/,
  ],
  [
    'zeros: 2^31 elements over three axes',
    () => zeros([2 ** 11, 2 ** 10, 2 ** 10], 'float32'),
    /shape \[2048, 1024, 1024\] has 2147483648 elements; a tensor holds at most 2147483647/,
  ],
  [
    'zeros: an extent of 1e300',
    () => zeros([1e300]),
    /shape \[1e\+300\] has 1e\+300 elements; a tensor holds at most 2147483647/,
  ],
  [
    'ones: elements past 2^53',
    () => ones([2 ** 30, 2 ** 30, 2 ** 30]),
    /full: shape \[1073741824, 1073741824, 1073741824\] has 1\.2379400392853803e\+27 elements/,
  ],
  [
    'zeros: no elements, but an axis of 2^40',
    () => zeros([0, 2 ** 40]),
    /shape \[0, 1099511627776\] has an axis of length 1099511627776; an axis holds at most 2147483647/,
  ],
  [
    'fromData: 2^31 elements',
    () => fromData([], [2 ** 16, 2 ** 15]),
    /fromData: shape \[65536, 32768\] has 2147483648 elements/,
  ],
  [
    'zeros: a string extent',
    () => zeros(['2'] as never),
    /full: shape must be an array of non-negative integers, got \["2"\]$/,
  ],
  [
    'zeros: strings and numbers',
    () => zeros([2, '3', null, undefined, true, 1n, [1], {}] as never),
    /got \[2, "3", null, undefined, true, 1n, an array, an object\]$/,
  ],
  [
    'zeros: a string shape',
    () => zeros('2' as never),
    /full: shape must be an array of non-negative integers, got "2"$/,
  ],
  ['zeros: an object with no prototype', () => zeros([Object.create(null)] as never), /got \[an object\]$/],
  ['zeros: a hole in a sparse shape', () => zeros([, 2] as never), /got \[undefined, 2\]$/],
  ['zeros: NaN and Infinity', () => zeros([NaN, Infinity, -0.5] as never), /got \[NaN, Infinity, -0\.5\]$/],
  [
    'schema.tensor: a string extent',
    () => schema.tensor(['2'] as never),
    /schema\.tensor: shape must be an array of non-negative integers, got \["2"\]$/,
  ],
]

describe(`tensor constructor (${constructorCases.length} cases)`, () => {
  it.each(constructorCases)('%s', (_name, f, pattern) => {
    let thrown: unknown
    try {
      f()
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(PurediffError)
    expect((thrown as Error).message).toMatch(pattern)
  })

  // Former holes in src/tensor/Tensor.ts: shape inference recurses once per nesting level,
  // so these once overflowed the stack with a bare RangeError; now they are a PurediffError.
  const holes: ReadonlyArray<readonly [string, () => unknown]> = [
    [
      'nested 20000 levels deep',
      () => {
        let d: unknown = 1
        for (let i = 0; i < 20000; i++) d = [d]
        return tensor(d as never)
      },
    ],
    [
      'a cyclic array',
      () => {
        const c: unknown[] = []
        c.push(c)
        return tensor(c as never)
      },
    ],
  ]
  it.each(holes)('%s throws a PurediffError (regression: once a stack overflow)', (_name, f) => {
    expect(f).toThrow(PurediffError)
  })
})

// -------------------------------------------------------------------------------------
// fuzzing: never a throw, whatever the bytes
// -------------------------------------------------------------------------------------

const fuzzProperties = 4

describe(`fuzzing (${fuzzProperties} properties)`, () => {
  it('every truncation of a valid safetensors file is a Left', () => {
    for (let n = 0; n < valid.length; n++) expect(E.isLeft(decodeSafetensors(valid.subarray(0, n)))).toBe(true)
  })

  it('random byte edits of a valid file never throw; a Right still tiles the file', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (edits) => {
          const b = valid.slice()
          for (const [i, v] of edits) b[i] = v
          const r = decodeSafetensors(b)
          if (E.isRight(r)) {
            const bytes = Object.values(r.right.tensors).reduce(
              (n, t) => n + t.size * (t.dtype === 'float64' ? 8 : 4),
              0,
            )
            const hl = Number(new DataView(b.buffer).getBigUint64(0, true))
            expect(8 + hl + bytes).toBe(b.length)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('any JSON value given to the tree codec and to a schema codec never throws', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (u) => {
        TreeCodec.decode(u)
        net.decode(u)
      }),
      { numRuns: 1000 },
    )
  })

  it('any value at all (getters that throw included) gives a Left, not a throw', () => {
    const hostile = Object.defineProperty({}, 'dtype', {
      enumerable: true,
      get() {
        throw new Error('getter says no')
      },
    })
    expect(E.isLeft(TreeCodec.decode(hostile))).toBe(true)
    expect(E.isLeft(net.decode({ layers: hostile, lr: 1, mask: 1 }))).toBe(true)
    fc.assert(
      fc.property(
        fc.anything({ withTypedArray: true, withMap: true, withSet: true, withBigInt: true, withNullPrototype: true }),
        (u) => {
          TreeCodec.decode(u)
          net.decode(u)
        },
      ),
      { numRuns: 1000 },
    )
  })
})

/** The number of malformed inputs tried above, by table (fuzz properties counted once each). */
export const CASE_COUNT =
  safetensorsCases.length +
  namingCases.length +
  jsonCases.length +
  readCases.length +
  schemaCases.length +
  stSchemaCases.length +
  constructorCases.length +
  2 + // former holes: deep and cyclic nesting
  fuzzProperties

describe('case count', () => {
  it(`tries ${CASE_COUNT} kinds of bad input`, () => {
    expect(CASE_COUNT).toBeGreaterThan(100)
  })
})
