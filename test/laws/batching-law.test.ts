/**
 * Self-test of the batching law in purediff/laws: it holds for ordinary models (softmax, a
 * small network's per-example gradients, axis specs as trees) and it fails, naming the output
 * key path, on a function whose batched and looped runs differ (an impure function that
 * counts its calls: vmap calls it once, the loop once per example).
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/index.js'
import { add, gather, grad, matmul, mul, nn, reshape, softmax, sum, tanh, tensor, toArray } from '../../src/index.js'
import { arbTensor, batchingLaw, checkBatching } from '../../laws/index.js'

describe('batchingLaw / checkBatching', () => {
  it('holds for softmax over drawn batches, at either batch axis', () => {
    fc.assert(
      batchingLaw((x: Tensor) => softmax(x), fc.tuple(arbTensor({ shape: [4, 3] }))),
      { numRuns: 20, seed: 1 },
    )
    fc.assert(
      batchingLaw((x: Tensor) => softmax(x), fc.tuple(arbTensor({ shape: [4, 3] })), { inAxes: 1, outAxes: 1 }),
      { numRuns: 20, seed: 2 },
    )
  })

  it('holds for per-example gradients of a network (trees of axes, unbatched parameters)', () => {
    const loss = (p: { w: Tensor; b: Tensor }, x: Tensor) => sum(tanh(add(matmul(x, p.w), p.b)))
    const arb = fc.tuple(
      fc.record({ w: arbTensor({ shape: [3, 2] }), b: arbTensor({ shape: [2] }) }),
      arbTensor({ shape: [5, 3] }),
    )
    fc.assert(batchingLaw(grad(loss), arb, { inAxes: [null, 0] }), { numRuns: 10, seed: 3 })
    fc.assert(batchingLaw(grad(loss), arb, { inAxes: [{ w: null, b: null }, 0], outAxes: { w: 2, b: 0 } }), {
      numRuns: 5,
      seed: 4,
    })
  })

  it('fails on a function whose batched run differs from the loop, naming the output key path', () => {
    let calls = 0
    const impure = (x: Tensor) => ({ y: mul(x, ++calls) })
    const r = checkBatching(impure, [
      tensor([
        [1, 2],
        [3, 4],
      ]),
    ])
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) {
      expect(r.left.law).toBe('batching')
      expect(r.left.path).toBe('y')
    }
    calls = 0
    const details = fc.check(batchingLaw(impure, fc.tuple(arbTensor({ shape: [3, 2], min: 1, max: 2 }))), {
      numRuns: 5,
      seed: 5,
    })
    expect(details.failed).toBe(true)
  })

  it('holds for per-example gradients of a cross-entropy with integer labels (an index operand)', () => {
    const loss = (w: Tensor, x: Tensor, k: Tensor) => nn.softmaxCrossEntropy(matmul(x, w), k)
    const arb = fc.tuple(
      arbTensor({ shape: [3, 4] }),
      arbTensor({ shape: [5, 2, 3] }),
      fc
        .array(fc.integer({ min: 0, max: 3 }), { minLength: 10, maxLength: 10 })
        .map((ks) => reshape(tensor(ks), [5, 2])),
    )
    fc.assert(batchingLaw(grad(loss), arb, { inAxes: [null, 0, 0] }), { numRuns: 10, seed: 6 })
    // labels batched along their own axis 1 (examples are the columns)
    const arbT = fc.tuple(
      arbTensor({ shape: [3, 4] }),
      arbTensor({ shape: [2, 5, 3] }),
      fc
        .array(fc.integer({ min: 0, max: 3 }), { minLength: 10, maxLength: 10 })
        .map((ks) => reshape(tensor(ks), [2, 5])),
    )
    fc.assert(batchingLaw(grad(loss), arbT, { inAxes: [null, 1, 1] }), { numRuns: 5, seed: 7 })
  })

  it('fails on a function that reads its index operand as data (every example sees the whole batch of indices)', () => {
    // the defect the law exists for: toArray of a batched value reads every example's indices
    const readsIndices = (x: Tensor, k: Tensor) => gather(x, (toArray(k) as number[]).flat())
    const details = fc.check(
      batchingLaw(
        readsIndices,
        fc.tuple(
          arbTensor({ shape: [3, 4] }),
          fc
            .array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 })
            .map((ks) => reshape(tensor(ks), [3, 2])),
        ),
      ),
      { numRuns: 5, seed: 8 },
    )
    expect(details.failed).toBe(true)
    // the same function written with the index operand holds
    fc.assert(
      batchingLaw(
        (x: Tensor, k: Tensor) => gather(x, k),
        fc.tuple(
          arbTensor({ shape: [3, 4] }),
          fc
            .array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 })
            .map((ks) => reshape(tensor(ks), [3, 2])),
        ),
      ),
      { numRuns: 5, seed: 8 },
    )
  })

  it('reports the measured error on success', () => {
    const r = checkBatching(
      (x: Tensor) => mul(x, x),
      [
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      ],
    )
    expect(E.isRight(r) && r.right.batchSize === 3 && r.right.maxError === 0).toBe(true)
  })
})
