/**
 * Checkpoints: `save` and `load` of any parameter tree as JSON or as safetensors.
 *
 * A JSON checkpoint is the object `{ "format": "purediff", "version": 1, "metadata": {...},
 * "tree": <TreeJSON> }` (see `tree.ts`: NaN, ±Infinity and -0 survive, empty arrays and
 * records too). A safetensors checkpoint is what `encodeSafetensors` writes; loading
 * rebuilds the tree from the key-path names (`layers[0].w`), or returns the tensors by name
 * with `flat: true` (for files written elsewhere, whose names are not key paths). Number
 * leaves come back from safetensors as rank-0 tensors, and empty arrays or records are not
 * stored at all, unless a schema says otherwise.
 *
 * Writes are atomic: the bytes go to a fresh temporary file in the target's directory,
 * which is flushed to disk and then renamed over the target, so a crash or an exception
 * mid-write leaves the old file (or no file) and never half a file; the temporary file is
 * removed on failure. Writing through a symbolic link replaces the file it names (the link
 * stays a link), and an existing file keeps its permission bits (a 0600 file stays 0600).
 *
 * What a crash leaves: if the process is killed mid-write (no chance to clean up), the target
 * is the old file (or absent) and a hidden temporary file `.NAME.PID.N.tmp` remains beside it,
 * up to the checkpoint's size. The next `save` or `load` of that path (and `saveState` or
 * `loadState`) removes every such file whose writer process PID no longer runs on this
 * machine; files of a live writer (or of a writer on another machine sharing the directory,
 * whose PID may look alive here) are left alone.
 *
 * Loading never throws on bad data: it returns `Either<PurediffDecodeError, _>` whose
 * `issues` name what is wrong and where, and a failed load returns nothing partial. It reads
 * only what each check needs: a safetensors file's 8-byte header length is checked against
 * the file size and the 100 MB limit before the header is read, and the header is checked
 * against the file before the tensor bytes are read. A `format` option
 * other than 'json' or 'safetensors' is a `PurediffError` from `save` and a `Left` from `load`.
 *
 * Purity: `save` and `load` perform I/O (they are the only effectful functions in io/);
 * everything they return is frozen.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as nodePath from 'node:path'
import { PurediffError } from '../errors.js'
import type { ConcreteTensor } from '../tensor/Tensor.js'
import type { Tree } from '../tree/Tree.js'
import { decodeError, issuesOf } from './DecodeError.js'
import type { DecodeErrorKind, DecodeIssue, PurediffDecodeError } from './DecodeError.js'
import { parseJSON } from './json.js'
import { describe, quote } from './report.js'
import { checkHeaderLength, decodeHeader, leafBytes, prepare, readTensors } from './safetensors.js'
import type { Metadata } from './safetensors.js'
import { TreeCodec, toJSON, treeFromPaths } from './tree.js'
import type { TreeJSON } from './tree.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** @category model @since 0.1.0 */
export type Format = 'json' | 'safetensors'

/**
 * Why a checkpoint could not be loaded: the boundary's one error shape,
 * `PurediffDecodeError`, with `kind` `ReadError` (the file could not be read), `FormatError`
 * (its bytes are not a well-formed checkpoint, or the `format` option names no format
 * purediff knows, in which case the file is not read) or `DecodeError` (its tree does not
 * match the schema); `source` is the file, `issues` every problem with its key path.
 * @category model
 * @since 0.1.0
 */
export type LoadError = PurediffDecodeError

/** @category model @since 0.1.0 */
export interface SaveOptions {
  /** Default: from the extension (`.safetensors`), else JSON. Any other value is a `PurediffError`. */
  readonly format?: Format
  /** Free-form strings stored with the tree (`__metadata__` in safetensors). */
  readonly metadata?: Metadata
}

/** Anything with an io-ts codec, e.g. a parameter schema (`schema.record({...})`). */
export interface HasCodec<A> {
  readonly codec: t.Decoder<unknown, A>
}

/** @category model @since 0.1.0 */
export interface LoadOptions {
  /** Default: from the extension, else sniffed from the first bytes. Any other value is a `FormatError`. */
  readonly format?: Format
  /** safetensors only: return the tensors by name instead of rebuilding the tree from key paths. */
  readonly flat?: boolean
}

/** @category model @since 0.1.0 */
export interface LoadSchemaOptions<A> extends LoadOptions {
  /** Decode the loaded tree against this schema (shapes, dtypes, NaN, missing and extra keys). */
  readonly schema: HasCodec<A>
}

/** A loaded checkpoint with its metadata. @category model @since 0.1.0 */
export interface Loaded<A> {
  readonly tree: A
  readonly metadata: Metadata | undefined
}

/** The JSON checkpoint envelope. @category model @since 0.1.0 */
export interface CheckpointJSON {
  readonly format: 'purediff'
  readonly version: 1
  readonly metadata?: Metadata
  readonly tree: TreeJSON
}

// -------------------------------------------------------------------------------------
// utils (atomic writes)
// -------------------------------------------------------------------------------------

let tmpCounter = 0
const tmpName = (file: string): string =>
  nodePath.join(nodePath.dirname(file), `.${nodePath.basename(file)}.${process.pid}.${++tmpCounter}.tmp`)

/** `.name.PID.N.tmp` beside `name`: the temporary files `tmpName` makes for it, with the writer's pid. */
const tempPattern = (base: string): RegExp =>
  new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.\\d+\\.tmp$`)

/** Is process `pid` alive on this machine? (EPERM: alive, another user's.) */
const alive = (pid: number): boolean => {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return !isCode(e, 'ESRCH')
  }
}

/** The stale temporary files for `file`: written by a process that no longer runs. */
const staleTemps = (file: string, names: ReadonlyArray<string>): string[] => {
  const re = tempPattern(nodePath.basename(file))
  const dir = nodePath.dirname(file)
  const out: string[] = []
  for (const n of names) {
    const m = re.exec(n)
    if (m !== null && !alive(Number(m[1]))) out.push(nodePath.join(dir, n))
  }
  return out
}

/**
 * Remove the temporary files a killed writer left beside `file` (best effort: a file that
 * cannot be listed or removed is left, and a writer that is still running keeps its own).
 * @internal
 */
export const removeStaleTemps = async (file: string): Promise<void> => {
  try {
    const real = await fsp.realpath(file).catch(() => file)
    const names = await fsp.readdir(nodePath.dirname(real))
    await Promise.all(staleTemps(real, names).map((f) => fsp.unlink(f).catch(() => undefined)))
  } catch {
    // the directory cannot be listed: nothing to clean
  }
}

/** The synchronous twin of `removeStaleTemps`. */
export const removeStaleTempsSync = (file: string): void => {
  try {
    let real = file
    try {
      real = fs.realpathSync(file)
    } catch {
      // a new file: its directory is the one to clean
    }
    for (const f of staleTemps(real, fs.readdirSync(nodePath.dirname(real)))) {
      try {
        fs.unlinkSync(f)
      } catch {
        // removed meanwhile, or not ours to remove
      }
    }
  } catch {
    // the directory cannot be listed: nothing to clean
  }
}

const isCode = (e: unknown, code: string): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code

/** How many symbolic links are followed before giving up (Linux's limit). */
const MAX_SYMLINKS = 40

const loopError = (file: string): Error =>
  Object.assign(new Error(`ELOOP: too many symbolic links encountered, open '${file}'`), {
    code: 'ELOOP',
    syscall: 'open',
    path: file,
  })

/** What an existing target file had, to give to its replacement. */
interface Keep {
  readonly mode: number
  readonly uid: number
  readonly gid: number
}

/** Where to write, and what to keep of the file being replaced (undefined for a new file). */
interface Target {
  readonly file: string
  readonly keep: Keep | undefined
}

const keepOf = (st: fs.Stats | undefined): Keep | undefined =>
  st !== undefined && st.isFile() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : undefined

/**
 * The file a write to `file` must replace: `file` itself, or, if it is a symbolic link, the
 * file the link (chain) names, so the rename replaces the real file and the link stays a
 * link. A dangling link names a file that does not exist yet; it is created, as
 * `fs.writeFile` would. A link loop is an `ELOOP` error.
 */
const resolveTarget = async (file: string): Promise<Target> => {
  let p = file
  for (let i = 0; i <= MAX_SYMLINKS; i++) {
    try {
      const real = await fsp.realpath(p)
      return { file: real, keep: keepOf(await fsp.stat(real).catch(() => undefined)) }
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e
    }
    // Nothing at `p`, or a link to nothing: follow the link by hand.
    let st: fs.Stats
    try {
      st = await fsp.lstat(p)
    } catch (e) {
      if (isCode(e, 'ENOENT')) return { file: p, keep: undefined }
      throw e
    }
    if (!st.isSymbolicLink()) return { file: p, keep: undefined }
    p = nodePath.resolve(await fsp.realpath(nodePath.dirname(p)), await fsp.readlink(p))
  }
  throw loopError(file)
}

/** The synchronous twin of `resolveTarget`. */
const resolveTargetSync = (file: string): Target => {
  let p = file
  for (let i = 0; i <= MAX_SYMLINKS; i++) {
    try {
      const real = fs.realpathSync(p)
      let st: fs.Stats | undefined
      try {
        st = fs.statSync(real)
      } catch {
        st = undefined
      }
      return { file: real, keep: keepOf(st) }
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e
    }
    let st: fs.Stats
    try {
      st = fs.lstatSync(p)
    } catch (e) {
      if (isCode(e, 'ENOENT')) return { file: p, keep: undefined }
      throw e
    }
    if (!st.isSymbolicLink()) return { file: p, keep: undefined }
    p = nodePath.resolve(fs.realpathSync(nodePath.dirname(p)), fs.readlinkSync(p))
  }
  throw loopError(file)
}

/**
 * Write chunks to `file` atomically: to a new temporary file in the same directory, flushed,
 * then renamed over `file`. If producing or writing a chunk throws, the temporary file is
 * removed, `file` is untouched and the error is rethrown.
 *
 * The file replaced is the real one: if `file` is a symbolic link, the temporary file goes
 * beside the file the link names and is renamed over it, so the link stays a link. An
 * existing file keeps its permission bits (a 0600 checkpoint stays private; the temporary
 * file is created with them, so its contents are never more visible than the old file's)
 * and, where the process may set them, its owner and group. A new file gets the default
 * mode 0666 less the umask, as `fs.writeFile` gives.
 * @example
 * const bytes = new TextEncoder().encode(stringifyCheckpoint({ b: tensor([1, 2]) }))
 * await writeFileAtomic('out/b.json', [bytes])
 * const r = loadSync('out/b.json')
 * isRight(r) && toArray((r.right as { b: Tensor }).b) // [1, 2]
 * @category utils
 * @since 0.1.0
 */
export const writeFileAtomic = async (file: string, chunks: Iterable<Uint8Array>): Promise<void> => {
  const target = await resolveTarget(file)
  await removeStaleTemps(target.file)
  const keep = target.keep
  let tmp = tmpName(target.file)
  let fh: fsp.FileHandle
  for (;;) {
    try {
      fh = await fsp.open(tmp, 'wx', keep === undefined ? 0o666 : keep.mode & 0o777)
      break
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e
      tmp = tmpName(target.file)
    }
  }
  try {
    if (keep !== undefined) {
      const own = await fh.stat()
      // Best effort: only a privileged process may give a file to another user.
      if (own.uid !== keep.uid || own.gid !== keep.gid) await fh.chown(keep.uid, keep.gid).catch(() => undefined)
      await fh.chmod(keep.mode)
    }
    for (const chunk of chunks) {
      let off = 0
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten
    }
    await fh.sync()
    await fh.close()
    await fsp.rename(tmp, target.file)
  } catch (e) {
    await fh.close().catch(() => undefined)
    await fsp.unlink(tmp).catch(() => undefined)
    throw e
  }
  await syncDir(nodePath.dirname(target.file))
}

/**
 * The synchronous twin of `writeFileAtomic`.
 * @example
 * const bytes = new TextEncoder().encode(stringifyCheckpoint({ b: tensor([1, 2]) }))
 * writeFileAtomicSync('out/b.json', [bytes])
 * const r = loadSync('out/b.json')
 * isRight(r) && toArray((r.right as { b: Tensor }).b) // [1, 2]
 * @category utils
 * @since 0.1.0
 */
export const writeFileAtomicSync = (file: string, chunks: Iterable<Uint8Array>): void => {
  const target = resolveTargetSync(file)
  removeStaleTempsSync(target.file)
  const keep = target.keep
  let tmp = tmpName(target.file)
  let fd: number
  for (;;) {
    try {
      fd = fs.openSync(tmp, 'wx', keep === undefined ? 0o666 : keep.mode & 0o777)
      break
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e
      tmp = tmpName(target.file)
    }
  }
  try {
    if (keep !== undefined) {
      const own = fs.fstatSync(fd)
      if (own.uid !== keep.uid || own.gid !== keep.gid) {
        try {
          fs.fchownSync(fd, keep.uid, keep.gid)
        } catch {
          // Best effort: only a privileged process may give a file to another user.
        }
      }
      fs.fchmodSync(fd, keep.mode)
    }
    for (const chunk of chunks) {
      let off = 0
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off)
    }
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = -1
    fs.renameSync(tmp, target.file)
  } catch (e) {
    if (fd >= 0) {
      try {
        fs.closeSync(fd)
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      fs.unlinkSync(tmp)
    } catch {
      // the temporary file may not exist any more
    }
    throw e
  }
  try {
    const dfd = fs.openSync(nodePath.dirname(target.file), 'r')
    try {
      fs.fsyncSync(dfd)
    } finally {
      fs.closeSync(dfd)
    }
  } catch {
    // Directory fsync is not possible everywhere (e.g. Windows); the rename is still atomic.
  }
}

/** Make the rename durable where the platform allows it. */
const syncDir = async (dir: string): Promise<void> => {
  try {
    const d = await fsp.open(dir, 'r')
    try {
      await d.sync()
    } finally {
      await d.close()
    }
  } catch {
    // Directory fsync is not possible everywhere (e.g. Windows); the rename is still atomic.
  }
}

// -------------------------------------------------------------------------------------
// constructors (encoding)
// -------------------------------------------------------------------------------------

const formatOf = (file: string): Format | undefined => {
  const ext = nodePath.extname(file).toLowerCase()
  return ext === '.safetensors' ? 'safetensors' : ext === '.json' ? 'json' : undefined
}

const isFormat = (u: unknown): u is Format => u === 'json' || u === 'safetensors'

/** The message for a `format` option that is neither 'json' nor 'safetensors'. */
const unknownFormat = (u: unknown): string =>
  `unknown format ${typeof u === 'string' ? JSON.stringify(u) : describe(u)}; the format option must be 'json' or 'safetensors'`

/** The format to write: the option (checked), else from the extension, else JSON. */
const saveFormat = (file: string, options: SaveOptions, op: string): Format => {
  const f: unknown = options.format
  if (f === undefined) return formatOf(file) ?? 'json'
  if (!isFormat(f)) throw new PurediffError('ValueError', unknownFormat(f), { op })
  return f
}

/**
 * A JSON checkpoint as a string (the envelope `{ format, version, metadata?, tree }`).
 * @example
 * const j = JSON.parse(stringifyCheckpoint({ b: tensor([1]) }, { step: '3' }))
 * j.tree.b.data // [1]
 * j.metadata.step // '3'
 * @category constructors
 * @since 0.1.0
 */
export const stringifyCheckpoint = (tree: Tree, metadata?: Metadata): string => {
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new PurediffError('ValueError', `metadata values must be strings; ${JSON.stringify(k)} is ${typeof v}`, {
          op: 'save',
        })
      }
    }
  }
  const doc: CheckpointJSON =
    metadata === undefined
      ? { format: 'purediff', version: 1, tree: toJSON(tree) }
      : { format: 'purediff', version: 1, metadata, tree: toJSON(tree) }
  return JSON.stringify(doc)
}

/** The bytes of a checkpoint, as chunks, computed lazily after the layout has been checked. */
const chunksOf = (tree: Tree, format: Format, metadata: Metadata | undefined): Iterable<Uint8Array> => {
  if (format === 'json') return [new TextEncoder().encode(stringifyCheckpoint(tree, metadata))]
  const p = prepare(tree, metadata)
  return (function* () {
    yield p.header
    for (const e of p.entries) yield leafBytes(e)
  })()
}

/**
 * Save a parameter tree to `file` atomically (temporary file + rename), as JSON or
 * safetensors. Throws a `PurediffError` for a value that is not a tree or an unknown `format`
 * option (before touching the disk); rejects with the system error if the file cannot be
 * written (the old file is then untouched).
 * @example
 * await save('params.safetensors', params, { metadata: { step: '1000' } })
 * const r = await loadWithMetadata('params.safetensors')
 * isRight(r) && r.right.metadata?.step // '1000'
 * @category constructors
 * @since 0.1.0
 */
export const save = async (file: string, tree: Tree, options: SaveOptions = {}): Promise<void> => {
  const format = saveFormat(file, options, 'save')
  const chunks = chunksOf(tree, format, options.metadata)
  await writeFileAtomic(file, chunks)
}

/**
 * The synchronous twin of `save`.
 * @example
 * saveSync('out/params.json', params)
 * const r = loadSync('out/params.json')
 * isRight(r) && toArray((r.right as typeof params).b) // [0.05]
 * @category constructors
 * @since 0.1.0
 */
export const saveSync = (file: string, tree: Tree, options: SaveOptions = {}): void => {
  const format = saveFormat(file, options, 'saveSync')
  writeFileAtomicSync(file, chunksOf(tree, format, options.metadata))
}

// -------------------------------------------------------------------------------------
// constructors (decoding)
// -------------------------------------------------------------------------------------

type Result<A> = E.Either<LoadError, A>

const loadError = (
  kind: DecodeErrorKind,
  file: string,
  format: Format | undefined,
  issues: ReadonlyArray<DecodeIssue>,
): LoadError => decodeError(kind, issues, { source: file, format })

const lines = (messages: ReadonlyArray<string>): ReadonlyArray<DecodeIssue> =>
  messages.map((message) => ({ path: '', message }))

/** Guess the format from the first bytes: a safetensors file starts with a plausible length and then '{'. */
const sniff = (first: Uint8Array, size: number): Format => {
  if (first.length >= 9) {
    const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true)
    if (n > 0n && n <= BigInt(size - 8) && first[8] === 0x7b) return 'safetensors'
  }
  return 'json'
}

const ENVELOPE_KEYS = new Set(['format', 'version', 'metadata', 'tree'])

/** `parseCheckpoint` with the problems as issues (paths relative to the tree). */
const parseCheckpointIssues = (text: string): E.Either<ReadonlyArray<DecodeIssue>, Loaded<Tree>> => {
  if (text.trim() === '') return E.left(lines(['the file is empty']))
  const parsed = parseJSON(text)
  if (E.isLeft(parsed)) {
    // Overflow paths point into the document; the tree's own paths are what users know.
    return E.left(
      parsed.left.map((i) =>
        i.path === 'tree' || i.path.startsWith('tree.') || i.path.startsWith('tree[')
          ? { ...i, path: i.path.slice(i.path.startsWith('tree.') ? 5 : 4) }
          : i,
      ),
    )
  }
  const doc = parsed.right
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return E.left(
      lines([
        `expected a purediff checkpoint object { "format": "purediff", "version": 1, "tree": ... }, got ${describe(doc)}`,
      ]),
    )
  }
  const o = doc as Record<string, unknown>
  const errors: string[] = []
  if (o['format'] !== 'purediff') errors.push(`"format" must be "purediff", got ${describe(o['format'])}`)
  if (o['version'] !== 1)
    errors.push(`unsupported checkpoint version ${describe(o['version'])} (this purediff reads version 1)`)
  for (const k of Object.keys(o)) if (!ENVELOPE_KEYS.has(k)) errors.push(`unexpected key ${quote(k)} in the checkpoint`)
  if (!('tree' in o)) errors.push('missing "tree"')
  const md = o['metadata']
  if (
    md !== undefined &&
    (typeof md !== 'object' || md === null || Array.isArray(md) || Object.values(md).some((v) => typeof v !== 'string'))
  ) {
    errors.push(`"metadata" must be an object of strings, got ${describe(md)}`)
  }
  if (errors.length > 0) return E.left(lines(errors))
  const tree = TreeCodec.decode(o['tree'])
  if (E.isLeft(tree)) return E.left(issuesOf(tree.left))
  return E.right(
    Object.freeze({
      tree: tree.right,
      metadata: md === undefined ? undefined : (Object.freeze({ ...md }) as Metadata),
    }),
  )
}

/**
 * Parse a JSON checkpoint's text into its tree and metadata, or a `PurediffDecodeError`
 * (kind `FormatError`) whose issues name key paths in the tree. Number literals that
 * overflow float64 (`1e400`) and documents nested deeper than 512 levels are refused.
 * @example
 * parseCheckpoint(stringifyCheckpoint({ w: tensor([1, 2]) })) // Right({ tree: { w }, metadata: undefined })
 * isRight(parseCheckpoint(stringifyCheckpoint({ w: tensor([1, 2]) }))) // true
 * @category constructors
 * @since 0.1.0
 */
export const parseCheckpoint = (text: string): E.Either<PurediffDecodeError, Loaded<Tree>> =>
  E.mapLeft((issues: ReadonlyArray<DecodeIssue>) => decodeError('FormatError', issues, { format: 'json' }))(
    parseCheckpointIssues(text),
  )

type AnyOptions = LoadOptions & { readonly schema?: HasCodec<unknown> }

/** A read of `length` bytes at `position` (fewer if the file is shorter). */
interface ReadRequest {
  readonly position: number
  readonly length: number
}

/**
 * Loading as a program of reads, run by an async or a sync driver (so `load` and `loadSync`
 * share one decoder). It reads only what each check needs: the first bytes to learn the
 * format and the header length, then the header, then (once the header fits the file) the
 * tensor bytes. A safetensors file with an absurd or oversized header length is refused
 * after reading 9 bytes.
 * @internal
 */
export function* loadProgram(
  file: string,
  size: number,
  options: AnyOptions,
): Generator<ReadRequest, Result<Loaded<unknown>>, Uint8Array> {
  let format: Format | undefined = options.format ?? formatOf(file)
  if (format === undefined) format = sniff(yield { position: 0, length: Math.min(9, size) }, size)
  let loaded: Loaded<Tree>
  if (format === 'json') {
    const bytes = yield { position: 0, length: size }
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      return E.left(loadError('FormatError', file, format, lines(['the file is not valid UTF-8'])))
    }
    const r = parseCheckpointIssues(text)
    if (E.isLeft(r)) return E.left(loadError('FormatError', file, format, r.left))
    loaded = r.right
  } else {
    const n = checkHeaderLength(yield { position: 0, length: Math.min(8, size) }, size)
    if (E.isLeft(n)) return E.left(loadError('FormatError', file, format, lines(n.left)))
    const start = 8 + n.right
    const h = decodeHeader(yield { position: 8, length: n.right }, size - start)
    if (E.isLeft(h)) return E.left(loadError('FormatError', file, format, lines(h.left)))
    const { tensors, metadata } = readTensors(h.right, yield { position: start, length: size - start })
    if (options.flat === true) loaded = { tree: tensors, metadata }
    else {
      const t = treeFromPaths(Object.entries(tensors) as Array<[string, ConcreteTensor]>)
      if (E.isLeft(t)) {
        return E.left(
          loadError('FormatError', file, format, [
            ...t.left.issues,
            { path: '', message: 'to read tensors by name, load with { flat: true }' },
          ]),
        )
      }
      loaded = { tree: t.right, metadata }
    }
  }
  if (options.schema === undefined) return E.right(Object.freeze(loaded))
  let d: t.Validation<unknown>
  try {
    d = options.schema.codec.decode(loaded.tree)
  } catch (e) {
    return E.left(
      loadError(
        'DecodeError',
        file,
        format,
        lines([`could not decode the tree: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`]),
      ),
    )
  }
  if (E.isLeft(d)) return E.left(loadError('DecodeError', file, format, issuesOf(d.left)))
  return E.right(Object.freeze({ tree: d.right, metadata: loaded.metadata }))
}

const readError = (file: string, format: Format | undefined, e: unknown): LoadError =>
  loadError('ReadError', file, format, lines([`cannot read the file: ${e instanceof Error ? e.message : String(e)}`]))

/** A `format` option that is neither 'json' nor 'safetensors' is a Left before the file is read. */
const checkFormatOption = (file: string, options: AnyOptions): LoadError | undefined =>
  options.format === undefined || isFormat(options.format)
    ? undefined
    : loadError('FormatError', file, undefined, lines([unknownFormat(options.format)]))

/** A file whose size changed while it was read: report, don't guess. */
const shortRead = (file: string, format: Format | undefined): LoadError =>
  loadError('ReadError', file, format, lines(['the file changed size while it was read']))

const loadAny = async (file: string, options: AnyOptions): Promise<Result<Loaded<unknown>>> => {
  const bad = checkFormatOption(file, options)
  if (bad !== undefined) return E.left(bad)
  await removeStaleTemps(file)
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(file, 'r')
  } catch (e) {
    return E.left(readError(file, options.format, e))
  }
  try {
    const size = (await fh.stat()).size
    const program = loadProgram(file, size, options)
    let step = program.next()
    while (step.done !== true) {
      const { position, length } = step.value
      const buf = new Uint8Array(length)
      let got = 0
      while (got < length) {
        const r = await fh.read(buf, got, length - got, position + got)
        if (r.bytesRead === 0) break
        got += r.bytesRead
      }
      if (got < length) return E.left(shortRead(file, options.format))
      step = program.next(buf)
    }
    return step.value
  } catch (e) {
    return E.left(readError(file, options.format, e))
  } finally {
    await fh.close().catch(() => undefined)
  }
}

const loadAnySync = (file: string, options: AnyOptions): Result<Loaded<unknown>> => {
  const bad = checkFormatOption(file, options)
  if (bad !== undefined) return E.left(bad)
  removeStaleTempsSync(file)
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (e) {
    return E.left(readError(file, options.format, e))
  }
  try {
    const size = fs.fstatSync(fd).size
    const program = loadProgram(file, size, options)
    let step = program.next()
    while (step.done !== true) {
      const { position, length } = step.value
      const buf = new Uint8Array(length)
      let got = 0
      while (got < length) {
        const n = fs.readSync(fd, buf, got, length - got, position + got)
        if (n === 0) break
        got += n
      }
      if (got < length) return E.left(shortRead(file, options.format))
      step = program.next(buf)
    }
    return step.value
  } catch (e) {
    return E.left(readError(file, options.format, e))
  } finally {
    try {
      fs.closeSync(fd)
    } catch {
      // closing a read-only descriptor cannot lose data
    }
  }
}

const treeOf = E.map((l: Loaded<unknown>) => l.tree)

/**
 * Load a checkpoint with its metadata; never throws on bad data.
 * @example
 * await save('out/p.safetensors', params, { metadata: { step: '7' } })
 * const r = await loadWithMetadata('out/p.safetensors')
 * isRight(r) && r.right.metadata?.step // '7'
 * @category constructors
 * @since 0.1.0
 */
export function loadWithMetadata<A>(file: string, options: LoadSchemaOptions<A>): Promise<Result<Loaded<A>>>
export function loadWithMetadata(file: string, options?: LoadOptions): Promise<Result<Loaded<Tree>>>
export function loadWithMetadata(file: string, options: AnyOptions = {}): Promise<Result<Loaded<unknown>>> {
  return loadAny(file, options)
}

/**
 * The synchronous twin of `loadWithMetadata`.
 * @example
 * saveSync('out/p.json', params, { metadata: { step: '7' } })
 * const r = loadWithMetadataSync('out/p.json')
 * isRight(r) && r.right.metadata?.step // '7'
 * @category constructors
 * @since 0.1.0
 */
export function loadWithMetadataSync<A>(file: string, options: LoadSchemaOptions<A>): Result<Loaded<A>>
export function loadWithMetadataSync(file: string, options?: LoadOptions): Result<Loaded<Tree>>
export function loadWithMetadataSync(file: string, options: AnyOptions = {}): Result<Loaded<unknown>> {
  return loadAnySync(file, options)
}

/**
 * Load a checkpoint: `Right(tree)` or `Left(LoadError)` naming every problem and where.
 * With `schema`, the tree is decoded against it (shapes, dtypes, NaN, missing and extra keys).
 * @example
 * await save('params.safetensors', params)
 * const Params = schema.record({ w: schema.tensor([3, 1]), b: schema.tensor([1]) })
 * const r = await load('params.safetensors', { schema: Params })
 * isRight(r) && toArray(r.right.b) // [0.05]
 * if (isRight(r)) train({ ...config, params: r.right })
 * // a shape the schema does not expect is a Left, not an exception
 * const wrong = await load('params.safetensors', { schema: schema.record({ w: schema.tensor([2, 2]), b: schema.tensor([1]) }) })
 * isLeft(wrong) // true
 * @category constructors
 * @since 0.1.0
 */
export function load<A>(file: string, options: LoadSchemaOptions<A>): Promise<Result<A>>
export function load(file: string, options?: LoadOptions): Promise<Result<Tree>>
export async function load(file: string, options: AnyOptions = {}): Promise<Result<unknown>> {
  return treeOf(await loadAny(file, options))
}

/**
 * The synchronous twin of `load`.
 * @example
 * saveSync('out/params.safetensors', params)
 * const r = loadSync('out/params.safetensors')
 * isRight(r) && toArray((r.right as typeof params).w) // [[0.1], [0.2], [-0.3]]
 * isLeft(loadSync('out/no-such-file.json')) // true
 * @category constructors
 * @since 0.1.0
 */
export function loadSync<A>(file: string, options: LoadSchemaOptions<A>): Result<A>
export function loadSync(file: string, options?: LoadOptions): Result<Tree>
export function loadSync(file: string, options: AnyOptions = {}): Result<unknown> {
  return treeOf(loadAnySync(file, options))
}
