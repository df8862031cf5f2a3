import { describe, expect, it } from 'vitest'
import { main } from '../../examples/seven-steps.js'
import { loadIris } from '../../examples/lib/iris.js'
import { key, normal } from '../../src/random/index.js'

/**
 * The same softmax regression written out by hand over plain arrays: logits = x·w + b,
 * loss = −mean log softmax(logits)[y], ∂loss/∂w = xᵀ(p − Y)/n, ∂loss/∂b = mean(p − Y),
 * and the same stop rule (the first iterate with loss < target, at most maxSteps steps).
 */
const handWritten = (maxSteps: number, targetLoss: number, lr: number, seed: number) => {
  const iris = loadIris()
  const { nTrain: n, nFeatures: d, nClasses: c } = iris
  const x = iris.train.features
  const y = iris.train.labels
  const w = Array.from(normal(key(seed), [d, c], { std: 0.1 }).toTypedArray())
  const b = new Array<number>(c).fill(0)
  const forward = (): { loss: number; gw: number[]; gb: number[] } => {
    let loss = 0
    const gw = new Array<number>(d * c).fill(0)
    const gb = new Array<number>(c).fill(0)
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: c }, (_, k) => {
        let s = b[k]!
        for (let j = 0; j < d; j++) s += x[i * d + j]! * w[j * c + k]!
        return s
      })
      const m = Math.max(...z)
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0))
      loss += (lse - z[y[i]!]!) / n
      for (let k = 0; k < c; k++) {
        const g = (Math.exp(z[k]! - lse) - (k === y[i] ? 1 : 0)) / n
        gb[k]! += g
        for (let j = 0; j < d; j++) gw[j * c + k]! += x[i * d + j]! * g
      }
    }
    return { loss, gw, gb }
  }
  let steps = 0
  let f = forward()
  const initialLoss = f.loss
  while (!(f.loss < targetLoss) && steps < maxSteps) {
    for (let i = 0; i < w.length; i++) w[i]! -= lr * f.gw[i]!
    for (let k = 0; k < c; k++) b[k]! -= lr * f.gb[k]!
    steps++
    f = forward()
  }
  return { steps, initialLoss, finalLoss: f.loss }
}

describe('examples/seven-steps', () => {
  const lines: string[] = []
  const result = main({ log: (l) => lines.push(l) })

  it('takes the same steps and reaches the same loss as gradient descent written out by hand', () => {
    const ref = handWritten(500, 0.1, 0.5, 0)
    expect(result.steps).toBe(ref.steps)
    expect(result.initialLoss).toBeCloseTo(ref.initialLoss, 12)
    expect(Math.abs(result.finalLoss - ref.finalLoss)).toBeLessThanOrEqual(1e-10 * ref.finalLoss)
  })

  it('stops on the target loss within the budget and classifies unseen flowers', () => {
    expect(result.finalLoss).toBeLessThan(0.1)
    expect(result.steps).toBeLessThan(500)
    expect(result.initialLoss).toBeGreaterThan(1) // ≈ log 3 at small random weights
    // 30 test flowers; a softmax regression on iris gets nearly all of them
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.9)
    expect(lines[lines.length - 1]).toMatch(/^test accuracy: \d\.\d{4}$/)
  })

  it('with a small budget stops on the budget', () => {
    const short = main({ maxSteps: 5, log: () => {} })
    expect(short.steps).toBe(5)
    expect(short.finalLoss).toBeCloseTo(handWritten(5, 0.1, 0.5, 0).finalLoss, 12)
  })
})
