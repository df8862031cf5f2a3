import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PurediffError } from '../../src/errors.js'
import {
  load,
  loadSync,
  loadWithMetadata,
  save,
  saveSync,
  schema,
  toJSON,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/io/index.js'
import { key } from '../../src/random/index.js'
import { ConcreteTensor, Tensor, tensor } from '../../src/tensor/Tensor.js'
import type { DType, Shape } from '../../src/tensor/Tensor.js'
import type { Tree } from '../../src/tree/Tree.js'
import { arbTensorTree, arbTree, deepFrozen, tempDir, treeDiff } from './helpers.js'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

/** A tensor whose values cannot be read: writing it fails after the header is out. */
class Exploding extends Tensor {
  readonly shape: Shape = Object.freeze([2])
  readonly dtype: DType = 'float64'
  override concrete(): ConcreteTensor {
    throw new Error('boom: the device went away')
  }
}

const params = schema.record({ w: schema.tensor([2, 2], { init: 'glorotUniform' }), b: schema.tensor([2]) })

describe('save and load', () => {
  it('JSON: load ∘ save = identity on random trees (NaN, ±Inf, -0, empty containers)', async () => {
    await fc.assert(
      fc.asyncProperty(arbTree, async (t) => {
        const f = tmp.path('t.json')
        await save(f, t)
        const r = await load(f)
        if (E.isLeft(r)) throw new Error(r.left.message)
        expect(treeDiff(r.right, t)).toBeUndefined()
        expect(deepFrozen(r.right)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  it('safetensors: load ∘ save = identity on random tensor trees', async () => {
    await fc.assert(
      fc.asyncProperty(arbTensorTree, async (t) => {
        const f = tmp.path('t.safetensors')
        await save(f, t)
        const r = await load(f)
        if (E.isLeft(r)) throw new Error(r.left.message)
        expect(treeDiff(r.right, t)).toBeUndefined()
      }),
      { numRuns: 40 },
    )
  })

  it('sync variants agree with the async ones, and metadata comes back', async () => {
    const t = params.init(key(1))
    for (const name of ['p.json', 'p.safetensors']) {
      saveSync(tmp.path(name), t, { metadata: { step: '10', note: 'ünïcode' } })
      const a = loadSync(tmp.path(name), { schema: params })
      const b = await loadWithMetadata(tmp.path(name), { schema: params })
      if (E.isLeft(a) || E.isLeft(b)) throw new Error('load failed')
      expect(treeDiff(a.right, t)).toBeUndefined()
      expect(treeDiff(b.right.tree, t)).toBeUndefined()
      expect(b.right.metadata).toEqual({ step: '10', note: 'ünïcode' })
    }
  })

  it('chooses the format from the extension, an explicit option, or the first bytes', async () => {
    const t = { w: tensor([1, 2]) }
    await save(tmp.path('a.safetensors'), t)
    expect(readFileSync(tmp.path('a.safetensors'))[8]).toBe(0x7b) // '{' right after the length
    await save(tmp.path('a.json'), t)
    expect(JSON.parse(readFileSync(tmp.path('a.json'), 'utf8'))).toMatchObject({ format: 'purediff', version: 1 })
    await save(tmp.path('a.bin'), t, { format: 'safetensors' })
    await save(tmp.path('a.ckpt'), t)
    for (const f of ['a.bin', 'a.ckpt']) {
      const r = await load(tmp.path(f))
      expect(E.isRight(r) && treeDiff(r.right, t)).toBeUndefined()
    }
  })

  it('flat: true returns tensors by name, for files whose names are not key paths', async () => {
    const f = tmp.path('hf.safetensors')
    // Hugging Face style names: "model.layers.0.weight" is not a purediff key path.
    await save(f, { w: tensor([1]) })
    const bytes = readFileSync(f)
    const patched = Buffer.from(bytes.toString('latin1').replace('"w"', '"0"'), 'latin1')
    writeFileSync(f, patched)
    const r = await load(f)
    expect(E.isLeft(r) && r.left.errors).toEqual([
      'cannot parse key path "0": expected an identifier at character 0',
      'to read tensors by name, load with { flat: true }',
    ])
    const flat = await load(f, { flat: true })
    expect(E.isRight(flat) && Object.keys(flat.right)).toEqual(['0'])
  })
})

describe('atomic writes', () => {
  const listDir = (): string[] => readdirSync(tmp.dir).sort()

  it('a write that throws mid-way leaves the old file intact and no temporary file', async () => {
    const f = tmp.path('ckpt.bin')
    writeFileSync(f, 'old contents')
    let sawPartial = false
    function* chunks(): Generator<Uint8Array> {
      yield new TextEncoder().encode('new header ')
      // Mid-way: a temporary file exists beside the target and already holds the first chunk.
      const tmps = listDir().filter((n) => n !== 'ckpt.bin')
      sawPartial = tmps.length === 1 && readFileSync(tmp.path(tmps[0] as string), 'utf8') === 'new header '
      throw new Error('crash mid-write')
    }
    await expect(writeFileAtomic(f, chunks())).rejects.toThrow('crash mid-write')
    expect(sawPartial).toBe(true)
    expect(readFileSync(f, 'utf8')).toBe('old contents')
    expect(listDir()).toEqual(['ckpt.bin'])
  })

  it('the same for the sync writer', () => {
    const f = tmp.path('ckpt.bin')
    writeFileSync(f, 'old contents')
    function* chunks(): Generator<Uint8Array> {
      yield new Uint8Array(1000)
      throw new Error('crash mid-write')
    }
    expect(() => writeFileAtomicSync(f, chunks())).toThrow('crash mid-write')
    expect(readFileSync(f, 'utf8')).toBe('old contents')
    expect(listDir()).toEqual(['ckpt.bin'])
  })

  it('save of a tree whose tensor fails after the header is out leaves the old checkpoint loadable', async () => {
    const f = tmp.path('p.safetensors')
    const old = params.init(key(0))
    await save(f, old)
    const bad = { b: tensor([1, 2]), w: new Exploding() }
    await expect(save(f, bad)).rejects.toThrow('boom')
    expect(() => saveSync(f, bad)).toThrow('boom')
    expect(listDir()).toEqual(['p.safetensors'])
    const r = await load(f, { schema: params })
    expect(E.isRight(r) && treeDiff(r.right, old)).toBeUndefined()
  })

  it('save of a value that is not a tree throws before touching the disk', async () => {
    const f = tmp.path('p.json')
    await expect(save(f, { a: null } as never)).rejects.toMatchObject({ tag: 'TreeError' })
    expect(listDir()).toEqual([])
  })

  it('concurrent saves to one path: the result is one complete checkpoint, nothing left over', async () => {
    const f = tmp.path('p.safetensors')
    const trees = Array.from({ length: 12 }, (_, i) => ({ w: tensor(Array.from({ length: 200 }, () => i)) }))
    await Promise.all(trees.map((t) => save(f, t)))
    expect(listDir()).toEqual(['p.safetensors'])
    const r = await load(f)
    if (E.isLeft(r)) throw new Error(r.left.message)
    const w = (r.right as { w: Tensor }).w.toTypedArray()
    expect(new Set(w).size).toBe(1)
  })

  it('a failed rename (the target is a directory) cleans up the temporary file', async () => {
    const f = tmp.path('dir.json')
    mkdirSync(tmp.path('dir.json/sub'), { recursive: true })
    await expect(save(f, { a: 1 })).rejects.toThrow()
    expect(listDir()).toEqual(['dir.json'])
    expect(readdirSync(f)).toEqual(['sub'])
  })

  it('a missing directory is a rejected save, with nothing created', async () => {
    await expect(save(tmp.path('missing/p.json'), 1)).rejects.toThrow(/ENOENT/)
    expect(listDir()).toEqual([])
  })
})

// Regression (audit item 4): an unknown `format` used to write and read safetensors silently.
describe('the format option', () => {
  it('save and saveSync refuse an unknown format with a PurediffError naming the option, writing nothing', async () => {
    const f = tmp.path('x.bin')
    for (const format of ['xml', 'JSON', '', 'safetensor', 1, null]) {
      await expect(save(f, { w: tensor([1]) }, { format: format as never })).rejects.toSatisfy(
        (e: unknown) =>
          e instanceof PurediffError &&
          /save: unknown format .*; the format option must be 'json' or 'safetensors'/.test(e.message),
      )
      expect(() => saveSync(f, { w: tensor([1]) }, { format: format as never })).toThrow(PurediffError)
      expect(() => saveSync(f, { w: tensor([1]) }, { format: format as never })).toThrow(/format option/)
    }
    expect(readdirSync(tmp.dir)).toEqual([])
  })

  it('load and loadSync give a Left for an unknown format, even for a readable file', async () => {
    const f = tmp.path('x.safetensors')
    await save(f, { w: tensor([1]) })
    for (const r of [
      await load(f, { format: 'xml' as never }),
      loadSync(f, { format: 'xml' as never }),
      await loadWithMetadata(f, { format: 'xml' as never }),
    ]) {
      expect(E.isLeft(r) && r.left.kind).toBe('FormatError')
      expect(E.isLeft(r) && r.left.errors).toEqual([
        `unknown format "xml"; the format option must be 'json' or 'safetensors'`,
      ])
    }
    const withSchema = loadSync(f, { format: 'xml' as never, schema: schema.record({ w: schema.tensor([1]) }) })
    expect(E.isLeft(withSchema) && withSchema.left.kind).toBe('FormatError')
    // The valid spellings still work.
    expect(E.isRight(await load(f, { format: 'safetensors' }))).toBe(true)
    await save(tmp.path('y.bin'), { w: tensor([1]) }, { format: 'json' })
    expect(E.isRight(loadSync(tmp.path('y.bin'), { format: 'json' }))).toBe(true)
  })
})

// Regression (audit item 5): the rename used to replace a symlink with a regular file and
// give a 0600 checkpoint the default 0644 mode.
describe.skipIf(process.platform === 'win32')('atomic writes keep the target file', () => {
  const modeOf = (f: string): number => statSync(f).mode & 0o7777

  it('an existing file keeps its mode (0600 stays private, 0640 and 0755 too), async and sync', async () => {
    for (const mode of [0o600, 0o640, 0o755]) {
      for (const name of ['p.json', 'p.safetensors']) {
        const f = tmp.path(name)
        writeFileSync(f, 'old')
        chmodSync(f, mode)
        await save(f, { w: tensor([1, 2]) })
        expect(modeOf(f)).toBe(mode)
        chmodSync(f, mode)
        saveSync(f, { w: tensor([3, 4]) })
        expect(modeOf(f)).toBe(mode)
        const r = loadSync(f)
        expect(E.isRight(r) && treeDiff(r.right, { w: tensor([3, 4]) })).toBeUndefined()
        writeFileAtomicSync(f, [new Uint8Array([1])])
        expect(modeOf(f)).toBe(mode)
        await writeFileAtomic(f, [new Uint8Array([2])])
        expect(modeOf(f)).toBe(mode)
        rmSync(f)
      }
    }
  })

  it('a new file gets the default mode (0666 less the umask), as fs.writeFile gives', async () => {
    writeFileSync(tmp.path('ref'), 'x')
    await save(tmp.path('new.json'), 1)
    saveSync(tmp.path('new2.json'), 1)
    expect(modeOf(tmp.path('new.json'))).toBe(modeOf(tmp.path('ref')))
    expect(modeOf(tmp.path('new2.json'))).toBe(modeOf(tmp.path('ref')))
  })

  it('saving through a symlink writes the real target and leaves the link a link', async () => {
    mkdirSync(tmp.path('real'))
    mkdirSync(tmp.path('links'))
    const target = tmp.path('real/p.json')
    writeFileSync(target, 'old')
    chmodSync(target, 0o600)
    // a relative link in another directory, and a link to that link
    symlinkSync('../real/p.json', tmp.path('links/p.json'))
    symlinkSync('p.json', tmp.path('links/q.json'))
    const writes: ReadonlyArray<readonly [string, (f: string, t: Tree) => Promise<void> | void]> = [
      ['links/p.json', save],
      ['links/q.json', saveSync],
      [
        'links/p.json',
        (f, t) =>
          writeFileAtomicSync(f, [
            new TextEncoder().encode(JSON.stringify({ format: 'purediff', version: 1, tree: toJSON(t) })),
          ]),
      ],
      [
        'links/q.json',
        (f, t) =>
          writeFileAtomic(f, [
            new TextEncoder().encode(JSON.stringify({ format: 'purediff', version: 1, tree: toJSON(t) })),
          ]),
      ],
    ]
    let i = 0
    for (const [link, write] of writes) {
      const t = { step: ++i }
      await write(tmp.path(link), t)
      expect(lstatSync(tmp.path('links/p.json')).isSymbolicLink()).toBe(true)
      expect(lstatSync(tmp.path('links/q.json')).isSymbolicLink()).toBe(true)
      expect(readlinkSync(tmp.path('links/p.json'))).toBe('../real/p.json')
      expect(lstatSync(target).isFile()).toBe(true)
      expect(modeOf(target)).toBe(0o600)
      const r = loadSync(target)
      expect(E.isRight(r) && r.right).toEqual(t)
      // no temporary file left anywhere
      expect(readdirSync(tmp.path('real'))).toEqual(['p.json'])
      expect(readdirSync(tmp.path('links')).sort()).toEqual(['p.json', 'q.json'])
    }
  })

  it('a dangling symlink is written through (the target is created), as fs.writeFile does', async () => {
    mkdirSync(tmp.path('real'))
    symlinkSync('real/new.json', tmp.path('link.json'))
    await save(tmp.path('link.json'), { a: 1 })
    expect(lstatSync(tmp.path('link.json')).isSymbolicLink()).toBe(true)
    const r = loadSync(tmp.path('real/new.json'))
    expect(E.isRight(r) && r.right).toEqual({ a: 1 })
  })

  it('a symlink loop is a rejected save, with nothing written', async () => {
    symlinkSync('b.json', tmp.path('a.json'))
    symlinkSync('a.json', tmp.path('b.json'))
    await expect(save(tmp.path('a.json'), 1)).rejects.toThrow(/ELOOP/)
    expect(() => saveSync(tmp.path('a.json'), 1)).toThrow(/ELOOP/)
    expect(readdirSync(tmp.dir).sort()).toEqual(['a.json', 'b.json'])
  })
})
