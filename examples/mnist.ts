/**
 * A multilayer perceptron on the real handwritten digits of the `mnist` package (8495
 * training and 1505 test digits of 28 × 28 pixels, ten classes; see `lib/mnist.ts` for the
 * fixed split), trained with the pure training stream: Adam with a cosine learning-rate
 * decay, dropout drawn from each step's key, one progress line per epoch, and the curves of
 * loss and accuracy written as an SVG file. The last line printed is `test accuracy: 0.9xxx`.
 *
 *   npm run demo                     (this file at full size)
 *   npx tsx examples/mnist.ts --epochs 5 --hidden 64 --plot out/small.svg
 *   npx tsx examples/mnist.ts --epochs 2 --no-jit    (the step run eagerly, op by op)
 *
 * Preprocessing: every image is deskewed (LeCun et al. 1998 use it for their k-NN and SVM
 * rows): it is moved so its centre of mass is the image centre and sheared so its principal
 * axis is vertical, the shear estimated from its own second moments. The same pure function
 * of one image is applied to training and test digits. On this split it lifts 1-nearest-
 * neighbour accuracy from 0.93 to 0.96, and it lets a small MLP clear 0.95 in a few epochs.
 *
 * The test digits are used only to report accuracy after each epoch; no choice (epochs,
 * stopping) is made from them.
 */
import { pipe } from 'fp-ts/lib/function.js'
import {
  everyEpoch,
  fromData,
  fromTensors,
  nn,
  optim,
  random,
  relu,
  Stream,
  train,
  untilStep,
  withEpochLoss,
  withMetrics,
  type DType,
  type Key,
  type Tensor,
} from 'purediff'
import { createProgress, panelsSVG, writeFileAtomic, type TextSink } from 'purediff/viz'
import { isMain, runCli, type CliSpec, type CliValues } from './lib/cli.js'
import { IMAGE_SIZE, loadMnist, N_CLASSES, N_PIXELS } from './lib/mnist.js'

const { accuracy, dense, dropout, mlp, softmaxCrossEntropy } = nn
type MlpParams = nn.MlpParams
const { adam, cosineDecay } = optim
const { key } = random
const { map, tap, toArray } = Stream

// -------------------------------------------------------------------------------------
// options
// -------------------------------------------------------------------------------------

/** Options of `main`; the defaults are the full-size demo. */
export interface MnistOptions {
  /** Training digits (default: all 8495). A class-balanced prefix of the split. */
  readonly trainSize?: number
  /** Test digits (default: all 1505). */
  readonly testSize?: number
  readonly epochs?: number
  readonly hidden?: number
  readonly batchSize?: number
  /** Peak learning rate of Adam, decayed to 0 along half a cosine over the run. */
  readonly learningRate?: number
  /** Dropout rate on the hidden layer while training. */
  readonly dropout?: number
  readonly dtype?: DType
  readonly deskew?: boolean
  readonly seed?: number
  /**
   * Compile the training step with `jit` (default true: forward, backward and the Adam update
   * as one program, traced on the first step); false runs it eagerly, op by op. The weights
   * are the same either way.
   */
  readonly jit?: boolean
  /** Where to write the SVG curves (default `out/mnist-curve.svg`). */
  readonly plot?: string
  /** Where progress lines go (default stdout). */
  readonly sink?: TextSink
}

/** One epoch of the run. */
export interface EpochRecord {
  readonly epoch: number
  readonly step: number
  /** Mean minibatch loss over the epoch (with dropout). */
  readonly trainLoss: number
  readonly testLoss: number
  readonly testAccuracy: number
  /** Wall-clock seconds this epoch took, evaluation included. */
  readonly seconds: number
}

/** What `main` returns. */
export interface MnistResult {
  readonly epochs: ReadonlyArray<EpochRecord>
  readonly testAccuracy: number
  readonly plotPath: string
  readonly seconds: number
}

export const DEFAULTS = Object.freeze({
  epochs: 20,
  hidden: 128,
  batchSize: 128,
  learningRate: 2e-3,
  dropout: 0.2,
  dtype: 'float32' as DType,
  deskew: true,
  seed: 0,
  jit: true,
  plot: 'out/mnist-curve.svg',
})

// -------------------------------------------------------------------------------------
// preprocessing
// -------------------------------------------------------------------------------------

/**
 * Deskew n row-major 28 × 28 images: output pixel (i, j) samples the input, bilinearly, at
 * row i − c + ī and column j − c + j̄ + α(i − c), where (ī, j̄) is the image's centre of mass,
 * c = 13.5 the centre of the grid and α = cov(i, j) / var(i) its shear.
 */
export const deskew = (images: Float32Array | Float64Array, n: number): Float64Array => {
  const S = IMAGE_SIZE
  const c = (S - 1) / 2
  const out = new Float64Array(n * N_PIXELS)
  const at = (o: number, r: number, q: number): number =>
    r >= 0 && r < S && q >= 0 && q < S ? (images[o + r * S + q] as number) : 0
  for (let e = 0; e < n; e++) {
    const o = e * N_PIXELS
    let m = 0
    let mi = 0
    let mj = 0
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const v = images[o + i * S + j] as number
        m += v
        mi += i * v
        mj += j * v
      }
    }
    if (m === 0) continue // a blank image stays blank
    mi /= m
    mj /= m
    let vii = 0
    let vij = 0
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const v = images[o + i * S + j] as number
        vii += (i - mi) * (i - mi) * v
        vij += (i - mi) * (j - mj) * v
      }
    }
    const alpha = vii > 0 ? vij / vii : 0
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const r = i - c + mi
        const q = j - c + mj + alpha * (i - c)
        const r0 = Math.floor(r)
        const q0 = Math.floor(q)
        const fr = r - r0
        const fq = q - q0
        out[o + i * S + j] =
          (1 - fr) * ((1 - fq) * at(o, r0, q0) + fq * at(o, r0, q0 + 1)) +
          fr * ((1 - fq) * at(o, r0 + 1, q0) + fq * at(o, r0 + 1, q0 + 1))
      }
    }
  }
  return out
}

// -------------------------------------------------------------------------------------
// the program
// -------------------------------------------------------------------------------------

export const main = (opts: MnistOptions = {}): MnistResult => {
  const o = { ...DEFAULTS, ...opts }
  const sink = opts.sink ?? process.stdout
  const started = performance.now()
  const data = loadMnist({
    dtype: 'float64',
    ...(opts.trainSize !== undefined ? { trainSize: opts.trainSize } : {}),
    ...(opts.testSize !== undefined ? { testSize: opts.testSize } : {}),
  })
  const pixels = (images: Float64Array, n: number): Tensor =>
    fromData(o.deskew ? deskew(images, n) : images, [n, N_PIXELS], o.dtype)
  const x = pixels(data.train.images, data.nTrain)
  const xTest = pixels(data.test.images, data.nTest)
  // Labels ride along as a tensor so `fromTensors` gathers them with the images.
  const labels = fromData(Float64Array.from(data.train.labels), [data.nTrain])

  // The model: 784 → hidden (relu, dropout while training) → 10 logits.
  const model = mlp([N_PIXELS, o.hidden, N_CLASSES], { dtype: o.dtype })
  const logits = (p: MlpParams, images: Tensor, k?: Key): Tensor => {
    const [l1, l2] = p.layers as readonly [MlpParams['layers'][number], MlpParams['layers'][number]]
    const h = relu(dense(l1, images))
    return dense(l2, k === undefined ? h : dropout(k, o.dropout, h, true))
  }
  const loss = (p: MlpParams, b: { readonly x: Tensor; readonly y: Tensor }, k: Key): Tensor =>
    softmaxCrossEntropy(logits(p, b.x, k), b.y)
  const testMetrics = (p: MlpParams): { readonly loss: number; readonly accuracy: number } => {
    const z = logits(p, xTest)
    return { loss: softmaxCrossEntropy(z, data.test.labels).item(), accuracy: accuracy(z, data.test.labels) }
  }

  const stepsPerEpoch = Math.ceil(data.nTrain / o.batchSize)
  const totalSteps = o.epochs * stepsPerEpoch
  const config = {
    init: model.init,
    loss,
    optimizer: adam(cosineDecay(o.learningRate, totalSteps)),
    data: fromTensors({ x, y: labels }),
    batchSize: o.batchSize,
    key: key(o.seed),
    jit: o.jit,
  }

  sink.write(
    `MNIST: ${data.nTrain} training and ${data.nTest} test digits; MLP ${N_PIXELS}-${o.hidden}-${N_CLASSES}, ` +
      `${o.dtype}, Adam ${o.learningRate} (cosine decay), batch ${o.batchSize}, dropout ${o.dropout}, ${o.epochs} epochs, ` +
      `${o.jit ? 'jit-compiled step' : 'eager step'}\n`,
  )
  const progress = createProgress({ total: o.epochs, label: 'epoch', sink })
  let epochStart = performance.now()
  const records = pipe(
    // steps 1 to 6: the training stream, stopped after the step budget
    train(config),
    untilStep(totalSteps),
    withEpochLoss(),
    // a transient line per step on a terminal (dropped in logs)
    tap((s) => {
      const done = s.step - (s.epoch - (s.epochEnd ? 1 : 0)) * stepsPerEpoch
      progress.update(s.epoch + (s.epochEnd ? 0 : 1), { loss: s.metrics['epochLoss'] as number }, done / stepsPerEpoch)
    }),
    everyEpoch,
    withMetrics((s) => {
      const m = testMetrics(s.params)
      return { testLoss: m.loss, testAccuracy: m.accuracy }
    }),
    map((s): EpochRecord => {
      const now = performance.now()
      const r = {
        epoch: s.epoch,
        step: s.step,
        trainLoss: s.metrics['epochLoss'] as number,
        testLoss: s.metrics['testLoss'] as number,
        testAccuracy: s.metrics['testAccuracy'] as number,
        seconds: (now - epochStart) / 1000,
      }
      epochStart = now
      progress.line(r.epoch, { loss: r.trainLoss, 'test loss': r.testLoss, 'test acc': r.testAccuracy })
      return r
    }),
    toArray,
  )
  progress.end()
  const last = records[records.length - 1]
  const testAccuracy = last === undefined ? testMetrics(model.init(key(o.seed))).accuracy : last.testAccuracy

  const svg = panelsSVG({
    title: `MLP ${N_PIXELS}-${o.hidden}-${N_CLASSES} on MNIST (${data.nTrain} training digits)`,
    xLabel: 'epoch',
    panels: [
      {
        yLabel: 'loss',
        yLog: true,
        series: [
          {
            name: 'train (mean over the epoch, with dropout)',
            points: records.map((r) => [r.epoch, r.trainLoss] as const),
          },
          { name: 'test', points: records.map((r) => [r.epoch, r.testLoss] as const), dashed: true },
        ],
      },
      {
        yLabel: 'test accuracy',
        series: [{ name: 'test accuracy', points: records.map((r) => [r.epoch, r.testAccuracy] as const) }],
      },
    ],
  })
  writeFileAtomic(o.plot, svg)
  const seconds = (performance.now() - started) / 1000
  sink.write(`wrote the loss and accuracy curves to ${o.plot} (${seconds.toFixed(1)} s in all)\n`)
  sink.write(`test accuracy: ${testAccuracy.toFixed(4)}\n`)
  return Object.freeze({ epochs: Object.freeze(records), testAccuracy, plotPath: o.plot, seconds })
}

// -------------------------------------------------------------------------------------
// command line
// -------------------------------------------------------------------------------------

export const CLI: CliSpec = {
  name: 'mnist',
  summary: 'Train an MLP on the MNIST digits of the `mnist` package and write its loss and accuracy curves as SVG.',
  options: {
    epochs: {
      kind: 'number',
      integer: true,
      min: 1,
      default: DEFAULTS.epochs,
      description: 'passes over the training digits',
    },
    hidden: {
      kind: 'number',
      integer: true,
      min: 1,
      default: DEFAULTS.hidden,
      description: 'units in the hidden layer',
    },
    batch: { kind: 'number', integer: true, min: 1, default: DEFAULTS.batchSize, description: 'minibatch size' },
    lr: {
      kind: 'number',
      min: 0,
      default: DEFAULTS.learningRate,
      description: 'peak learning rate of Adam (cosine decay to 0)',
    },
    dropout: {
      kind: 'number',
      min: 0,
      max: 0.95,
      default: DEFAULTS.dropout,
      description: 'dropout rate on the hidden layer',
    },
    dtype: {
      kind: 'string',
      choices: ['float32', 'float64'],
      default: DEFAULTS.dtype,
      description: 'precision of the weights and images',
    },
    seed: {
      kind: 'number',
      integer: true,
      min: 0,
      default: DEFAULTS.seed,
      description: 'seed of the initial weights, shuffling and dropout',
    },
    'train-size': {
      kind: 'number',
      integer: true,
      min: 10,
      description: 'use this many training digits (default all 8495)',
    },
    'test-size': { kind: 'number', integer: true, min: 1, description: 'use this many test digits (default all 1505)' },
    plot: { kind: 'string', default: DEFAULTS.plot, description: 'where to write the SVG curves' },
    'no-deskew': { kind: 'flag', description: 'feed the raw images, without deskewing' },
    jit: {
      kind: 'flag',
      description: 'compile the training step with jit: one program per step (the default)',
    },
    'no-jit': { kind: 'flag', description: 'run the training step eagerly, op by op (same weights, slower)' },
  },
}

/** The options of `main` from parsed command-line values. */
export const optionsFromCli = (v: CliValues): MnistOptions => {
  const entries: Array<[keyof MnistOptions, unknown]> = [
    ['epochs', v['epochs']],
    ['hidden', v['hidden']],
    ['batchSize', v['batch']],
    ['learningRate', v['lr']],
    ['dropout', v['dropout']],
    ['dtype', v['dtype']],
    ['seed', v['seed']],
    ['trainSize', v['train-size']],
    ['testSize', v['test-size']],
    ['plot', v['plot']],
    ['deskew', v['no-deskew'] === true ? false : undefined],
    ['jit', v['no-jit'] === true ? false : v['jit'] === true ? true : undefined],
  ]
  if (v['jit'] === true && v['no-jit'] === true) throw new Error('--jit and --no-jit contradict each other')
  return Object.fromEntries(entries.filter(([, x]) => x !== undefined)) as MnistOptions
}

if (isMain(import.meta.url)) {
  runCli(CLI, (v) => {
    if (v['jit'] === true && v['no-jit'] === true) {
      process.stderr.write(`mnist: --jit and --no-jit contradict each other\nRun with --help to see the options.\n`)
      process.exitCode = 2
      return
    }
    main(optionsFromCli(v))
  })
}
