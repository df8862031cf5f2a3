/**
 * Regression: errors raised inside a model name the key path of the parameter involved
 * (they used to name only the op and the shapes).
 */
import { describe, expect, it } from 'vitest'
import { ones, tensor, zeros } from '../../src/index.js'
import { conv2d, dense, mlp } from '../../src/nn/index.js'
import { key } from '../../src/random/index.js'
import { throwsPurediff } from '../helpers/errors.js'

describe('key paths in layer errors', () => {
  it('dense names w when x does not fit it, and b when the bias is wrong', () => {
    const e = throwsPurediff(() => dense({ w: ones([3, 2]), b: ones([2]) }, ones([4, 5])))
    expect(e.path).toBe('w')
    expect(e.message).toBe(
      "dense: expected x [..., in], w [in, out] and b [out] (shapes [4, 5] and [3, 2] and [2]) at key path 'w'",
    )
    expect(throwsPurediff(() => dense({ w: ones([3, 2]), b: ones([3]) }, ones([4, 3]))).path).toBe('b')
    expect(throwsPurediff(() => dense({ w: ones([3, 2]), b: undefined as never }, ones([4, 3]))).path).toBe('b')
  })

  it('mlp.apply names the layer: layers[1].w', () => {
    const model = mlp([4, 3, 2])
    const p = model.init(key(0))
    const bad = { layers: [p.layers[0], { w: zeros([5, 2]), b: zeros([2]) }] } as typeof p
    const e = throwsPurediff(() => model.apply(bad, ones([1, 4])))
    expect(e.tag).toBe('ShapeError')
    expect(e.path).toBe('layers[1].w')
    expect(e.op).toBe('mlp.apply')
    expect(e.message).toMatch(
      /^mlp\.apply: expected x \[\.\.\., in\], w \[in, out\] and b \[out\] \(shapes \[1, 3\] and \[5, 2\] and \[2\]\) at key path 'layers\[1\]\.w'$/,
    )
    // an input of the wrong width is blamed on the first layer's w
    expect(throwsPurediff(() => model.apply(p, ones([1, 7]))).path).toBe('layers[0].w')
  })

  it('conv2d names w for a channel mismatch and b for a bias mismatch', () => {
    const x = zeros([1, 4, 4, 2])
    expect(throwsPurediff(() => conv2d({ w: zeros([3, 3, 1, 5]), b: zeros([5]) }, x)).path).toBe('w')
    expect(throwsPurediff(() => conv2d({ w: zeros([3, 3, 2, 5]), b: zeros([4]) }, x)).path).toBe('b')
    expect(conv2d({ w: zeros([3, 3, 2, 5]), b: tensor([0, 0, 0, 0, 0]) }, x).shape).toEqual([1, 2, 2, 5])
  })
})
