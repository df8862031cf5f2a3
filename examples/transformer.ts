/**
 * A tiny character-level transformer: one pre-norm block (causal multi-head attention and an
 * MLP, each with layer norm and a residual), token and position embeddings, trained with
 * AdamW under a warmup-cosine schedule on a generated text.
 *
 * The text is words drawn at random (from an explicit key) out of a list chosen so that the
 * previous character alone does not say what comes next: after "l" comes "l", "o" or "p"
 * depending on the word. The best any bigram model can do is the conditional entropy of the
 * next character given the previous one on this text, computed exactly from the bigram
 * counts. A model that attends to more context goes below it; that is what this shows.
 *
 *   npx tsx examples/transformer.ts --steps 300
 */
import { pipe } from 'fp-ts/lib/function.js'
import { add, fromData, fromTensors, gather, nn, optim, random, Stream, train, untilStep, type Tensor } from 'purediff'
import { isMain, runCli, type CliSpec } from './lib/cli.js'

const { denseLayer, embedding, layerNorm, multiHeadAttention, gelu, softmaxCrossEntropy } = nn
const { adamw, warmupCosineDecay } = optim
const { key, split, choice } = random

/** The words of the text. */
export const WORDS = ['hello', 'help', 'yellow', 'fellow', 'hollow', 'low', 'pole', 'hop'] as const

/** Options of `main`. */
export interface TransformerOptions {
  /** Characters of generated text (default 6000). */
  readonly chars?: number
  /** Context length (default 12). */
  readonly context?: number
  /** Model width (default 24) and heads (default 2). */
  readonly width?: number
  readonly heads?: number
  readonly batchSize?: number
  readonly steps?: number
  readonly seed?: number
}

/** What a run reports. */
export interface TransformerResult {
  readonly vocab: ReadonlyArray<string>
  /** The exact bigram conditional entropy of the text, in nats per character. */
  readonly bigram: number
  /** The mean loss per character over all windows: before training and after. */
  readonly initialLoss: number
  readonly finalLoss: number
  /** Minibatch losses of the run, step by step. */
  readonly losses: ReadonlyArray<number>
}

/** Words drawn uniformly (from `key`) and joined by spaces, `chars` characters long. */
export const generateText = (k: random.Key, chars: number): string => {
  const picks = choice(k, WORDS.length, Math.ceil(chars / 3))
  return picks
    .map((i) => WORDS[i])
    .join(' ')
    .slice(0, chars)
}

/** H(next | previous) of the text's bigram counts, in nats: the best bigram model's loss on it. */
export const bigramEntropy = (ids: ReadonlyArray<number>, vocab: number): number => {
  const counts = Array.from({ length: vocab }, () => new Array<number>(vocab).fill(0))
  for (let i = 1; i < ids.length; i++) (counts[ids[i - 1] as number] as number[])[ids[i] as number]! += 1
  let h = 0
  const n = ids.length - 1
  for (const row of counts) {
    const total = row.reduce((a, b) => a + b, 0)
    for (const c of row) if (c > 0) h -= (c / n) * Math.log(c / total)
  }
  return h
}

type Block = {
  readonly ln1: nn.NormParams
  readonly attn: nn.MultiHeadAttentionParams
  readonly ln2: nn.NormParams
  readonly up: nn.DenseParams
  readonly down: nn.DenseParams
}
export type Params = {
  readonly tok: nn.EmbeddingParams
  readonly pos: Tensor
  readonly block: Block
  readonly lnf: nn.NormParams
  readonly head: nn.DenseParams
}

/** The model: init and logits [batch, T, vocab] for ids [batch, T]. */
export const model = (vocab: number, context: number, width: number, heads: number) => {
  const tok = embedding(vocab, width)
  const attn = multiHeadAttention(width, heads)
  const ln = layerNorm(width)
  const up = denseLayer(width, 4 * width)
  const down = denseLayer(4 * width, width)
  const head = denseLayer(width, vocab)
  const init = (k: random.Key): Params => {
    const [k1, k2, k3, k4, k5, k6] = split(k, 6)
    return {
      tok: tok.init(k1!),
      pos: random.normal(k2!, [context, width], { std: 0.1 }),
      block: { ln1: ln.init(k3!), attn: attn.init(k3!), ln2: ln.init(k4!), up: up.init(k4!), down: down.init(k5!) },
      lnf: ln.init(k6!),
      head: head.init(k6!),
    }
  }
  const apply = (p: Params, ids: Tensor): Tensor => {
    const t = ids.shape[ids.rank - 1] as number
    let x = add(
      tok.apply(p.tok, ids),
      gather(
        p.pos,
        Array.from({ length: t }, (_, i) => i),
      ),
    )
    x = add(x, attn.apply(p.block.attn, ln.apply(p.block.ln1, x), { causal: true }))
    x = add(x, down.apply(p.block.down, gelu(up.apply(p.block.up, ln.apply(p.block.ln2, x)))))
    return head.apply(p.head, ln.apply(p.lnf, x))
  }
  return { init, apply }
}

/** Train and report the losses against the bigram baseline. */
export const main = (o: TransformerOptions = {}): TransformerResult => {
  const chars = o.chars ?? 6000
  const T = o.context ?? 12
  const steps = o.steps ?? 300
  const [textKey, runKey] = split(key(o.seed ?? 0), 2)
  const text = generateText(textKey!, chars)
  const vocab = [...new Set(text)].sort()
  const ids = [...text].map((c) => vocab.indexOf(c))
  const bigram = bigramEntropy(ids, vocab.length)
  // all windows of T + 1 characters: inputs and next-character targets
  const n = ids.length - T
  const xs = new Float64Array(n * T)
  const ys = new Float64Array(n * T)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < T; j++) {
      xs[i * T + j] = ids[i + j]!
      ys[i * T + j] = ids[i + j + 1]!
    }
  const data = { x: fromData(xs, [n, T]), y: fromData(ys, [n, T]) }
  const m = model(vocab.length, T, o.width ?? 24, o.heads ?? 2)
  const loss = (p: Params, b: { x: Tensor; y: Tensor }): Tensor => softmaxCrossEntropy(m.apply(p, b.x), b.y)
  const optimizer = adamw(warmupCosineDecay(0, 1e-2, Math.max(1, Math.floor(steps / 10)), steps, { endValue: 1e-3 }), {
    weightDecay: 1e-4,
  })
  const run = train({
    init: m.init,
    loss: (p: Params, b: { x: Tensor; y: Tensor }) => loss(p, b),
    optimizer,
    data: fromTensors(data),
    batchSize: o.batchSize ?? 32,
    key: runKey!,
  })
  const states = Stream.toArray(pipe(run, untilStep(steps)))
  const lastState = states[states.length - 1]
  if (lastState === undefined) throw new Error('steps must be at least 1')
  // the loss over every window, in slices of 256 to keep the tensors small
  const fullLoss = (p: Params): number => {
    let s = 0
    for (let i = 0; i < n; i += 256) {
      const k = Math.min(256, n - i)
      const idx = Array.from({ length: k }, (_, j) => i + j)
      s += loss(p, { x: gather(data.x, idx), y: gather(data.y, idx) }).item() * k
    }
    return s / n
  }
  const initial = m.init(split(runKey!, 3)[0]!)
  return {
    vocab,
    bigram,
    initialLoss: fullLoss(initial),
    finalLoss: fullLoss(lastState.params),
    losses: states.map((s) => s.loss),
  }
}

/** The command line: `--help` lists these. */
export const CLI: CliSpec = {
  name: 'transformer',
  summary:
    'Train a one-block character transformer on generated text and compare its loss with the exact bigram baseline.',
  options: {
    steps: { kind: 'number', integer: true, min: 1, default: 300, description: 'AdamW steps' },
    seed: { kind: 'number', integer: true, min: 0, default: 0, description: 'seed of the text and the weights' },
  },
}

if (isMain(import.meta.url)) {
  runCli(CLI, (v) => {
    const steps = v['steps'] !== undefined ? Number(v['steps']) : 300
    const r = main({ steps, ...(v['seed'] !== undefined ? { seed: Number(v['seed']) } : {}) })
    console.log(`vocabulary: ${JSON.stringify(r.vocab.join(''))}`)
    console.log(`bigram baseline (exact): ${r.bigram.toFixed(4)} nats/char`)
    console.log(`transformer: ${r.initialLoss.toFixed(4)} → ${r.finalLoss.toFixed(4)} nats/char after ${steps} steps`)
  })
}
