import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI, deskew, main, optionsFromCli, type MnistResult } from '../../examples/mnist.js'
import { helpText, parseCli } from '../../examples/lib/cli.js'

const S = 28

/** Mass, centre of mass and the shear cov(i, j) / var(i) of one 28 × 28 image. */
const moments = (img: ArrayLike<number>) => {
  let m = 0
  let mi = 0
  let mj = 0
  for (let i = 0; i < S; i++)
    for (let j = 0; j < S; j++) {
      const v = img[i * S + j]!
      m += v
      mi += i * v
      mj += j * v
    }
  mi /= m
  mj /= m
  let vii = 0
  let vij = 0
  for (let i = 0; i < S; i++)
    for (let j = 0; j < S; j++) {
      const v = img[i * S + j]!
      vii += (i - mi) ** 2 * v
      vij += (i - mi) * (j - mj) * v
    }
  return { m, mi, mj, shear: vij / vii }
}

/** A slanted stroke: pixels (i, 6 + round(0.4·i)) for rows 4..23, off-centre on purpose. */
const slanted = (): Float64Array => {
  const img = new Float64Array(S * S)
  for (let i = 4; i < 24; i++) img[i * S + 6 + Math.round(0.4 * i)] = 1
  return img
}

describe('examples/mnist: deskew', () => {
  it('moves the centre of mass to the middle and makes the stroke upright', () => {
    const before = moments(slanted())
    expect(Math.abs(before.shear)).toBeGreaterThan(0.3)
    const after = moments(deskew(slanted(), 1))
    expect(Math.abs(after.mi - 13.5)).toBeLessThan(0.3)
    expect(Math.abs(after.mj - 13.5)).toBeLessThan(0.3)
    expect(Math.abs(after.shear)).toBeLessThan(0.05)
    // bilinear resampling keeps the ink (none of this stroke falls off the grid)
    expect(after.m).toBeCloseTo(before.m, 6)
  })

  it('leaves a blank image blank, handles each image of a batch alone, and does not touch its input', () => {
    const two = new Float64Array(2 * S * S)
    two.set(slanted(), S * S)
    const copy = two.slice()
    const out = deskew(two, 2)
    expect(out.subarray(0, S * S).every((v) => v === 0)).toBe(true)
    expect(Array.from(out.subarray(S * S))).toEqual(Array.from(deskew(slanted(), 1)))
    expect(Array.from(two)).toEqual(Array.from(copy))
  })
})

describe('examples/mnist: a small run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-mnist-'))
  const opts = { trainSize: 1000, testSize: 500, epochs: 5, hidden: 32, learningRate: 0.01 }
  const out: string[] = []
  const r = main({ ...opts, plot: join(dir, 'small.svg'), sink: { write: (s: string) => out.push(s) } })
  const text = out.join('')
  const lines = text.split('\n').filter((l) => l !== '')

  it('learns: the losses fall and most test digits are right', () => {
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5])
    // epoch means of minibatch losses with dropout are noisy once the rate has decayed, so
    // compare the ends of the run rather than every neighbouring pair
    const first = r.epochs[0]!
    const last = r.epochs[r.epochs.length - 1]!
    expect(last.trainLoss).toBeLessThan(0.5 * first.trainLoss)
    expect(last.testLoss).toBeLessThan(first.testLoss)
    // 1000 training digits, 40 steps: far above chance (0.1)
    expect(r.testAccuracy).toBeGreaterThan(0.75)
  })

  it('prints a progress line per epoch and ends with the test accuracy', () => {
    expect(lines.filter((l) => /^epoch\s+\d\/5 .*test acc 0\.\d{4}/.test(l)).length).toBe(5)
    expect(lines[lines.length - 1]).toBe(`test accuracy: ${r.testAccuracy.toFixed(4)}`)
    expect(text).toContain(`wrote the loss and accuracy curves to ${r.plotPath}`)
  })

  it('writes the loss and accuracy curves as SVG', () => {
    const svg = readFileSync(r.plotPath, 'utf8')
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('data-series="test accuracy"')
    expect(svg).not.toMatch(/NaN|Infinity/)
  })

  it('replays: the same options give the same run to the last bit', () => {
    const again = main({ ...opts, plot: join(dir, 'again.svg'), sink: { write: () => {} } })
    const strip = (x: MnistResult) => x.epochs.map(({ seconds: _, ...rest }) => rest)
    expect(strip(again)).toEqual(strip(r))
  })
})

describe('examples/mnist: --jit and --no-jit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-mnist-jit-'))
  const opts = { trainSize: 200, testSize: 100, epochs: 2, hidden: 16, learningRate: 0.01 }
  const run = (jit: boolean) => {
    const out: string[] = []
    const r = main({ ...opts, jit, plot: join(dir, `${jit}.svg`), sink: { write: (s: string) => out.push(s) } })
    return { r, text: out.join('') }
  }
  const compiled = run(true)
  const eager = run(false)

  it('both modes give the same run to the last bit (fused sums keep the eager order)', () => {
    const strip = (x: MnistResult) => x.epochs.map(({ seconds: _, ...rest }) => rest)
    expect(strip(eager.r)).toEqual(strip(compiled.r))
    expect(compiled.r.epochs.length).toBe(2)
  })

  it('the first line says which mode ran', () => {
    expect(compiled.text.split('\n')[0]).toMatch(/, jit-compiled step$/)
    expect(eager.text.split('\n')[0]).toMatch(/, eager step$/)
  })

  it('the flags map to the option, are listed by --help, and contradict each other', () => {
    const values = (argv: string[]) => {
      const p = parseCli(CLI, argv)
      if (!('values' in p)) throw new Error('expected values')
      return p.values
    }
    expect(optionsFromCli(values(['--no-jit'])).jit).toBe(false)
    expect(optionsFromCli(values(['--jit'])).jit).toBe(true)
    expect(optionsFromCli(values([])).jit).toBeUndefined()
    expect(() => optionsFromCli(values(['--jit', '--no-jit']))).toThrow(/contradict/)
    const help = helpText(CLI)
    expect(help).toContain('--no-jit')
    expect(help).toContain('--jit')
  })
})

// The full-size demos (20 epochs on all 8495 digits, test accuracy ≥ 0.95; `--model cnn`, ≥ 0.975) are `npm run demo`
// and `bench/demo.ts`; it is not run here, so the suite passes on a slow or busy machine.

describe('examples/mnist --model cnn: a small run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purediff-mnist-cnn-'))
  const opts = { model: 'cnn' as const, trainSize: 400, testSize: 200, epochs: 3 }
  const out: string[] = []
  const r = main({ ...opts, plot: join(dir, 'cnn.svg'), sink: { write: (s: string) => out.push(s) } })
  const text = out.join('')

  it('trains the convolutional network: the loss falls and most test digits are right', () => {
    expect(text).toContain('CNN conv3x3-16, pool2, conv3x3-32, pool2, dense-10')
    expect(text).toContain('batch 32')
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
    const first = r.epochs[0]!
    const last = r.epochs[r.epochs.length - 1]!
    expect(last.trainLoss).toBeLessThan(0.5 * first.trainLoss)
    expect(last.testLoss).toBeLessThan(first.testLoss)
    // 400 training digits, 39 steps of 32: far above chance (0.1)
    expect(r.testAccuracy).toBeGreaterThan(0.75)
    expect(text.trimEnd().split('\n').pop()).toBe(`test accuracy: ${r.testAccuracy.toFixed(4)}`)
  })

  it('replays: the same options give the same run to the last bit', () => {
    const again = main({ ...opts, plot: join(dir, 'again.svg'), sink: { write: () => {} } })
    const strip = (x: MnistResult) => x.epochs.map(({ seconds: _, ...rest }) => rest)
    expect(strip(again)).toEqual(strip(r))
  })
})
