/**
 * Errors raised by an op inside a transformed model name the key path of the parameter
 * involved (issue 7): `grad`, `valueAndGrad`, `vjp`, `jvp` and `train` label the leaves they
 * trace with their key paths, the failing op records its operands on the error, and the
 * transform names the leaf that reached it (directly, or through ops of that leaf alone).
 */
import { describe, expect, it } from 'vitest'
import {
  PurediffError,
  add,
  fromTensors,
  grad,
  hessian,
  jacrev,
  linearize,
  jvp,
  matmul,
  mean,
  ones,
  reshape,
  solve,
  split,
  square,
  sub,
  sum,
  tanh,
  train,
  transpose,
  valueAndGrad,
  vjp,
  vmap,
  zeros,
  type Tensor,
} from '../../src/index.js'
import * as optim from '../../src/optim/index.js'
import { mlp } from '../../src/nn/index.js'
import { key } from '../../src/random/index.js'
import { blameLeaf } from '../../src/transforms/keypaths.js'
import { throwsPurediff } from '../helpers/errors.js'

type Layer = { readonly w: Tensor; readonly b: Tensor }
type Params = { readonly layers: readonly Layer[] }

// two layers 3 → 4 → 2; the second layer's w has a wrong input extent (5, not 4)
const good: Params = {
  layers: [
    { w: ones([3, 4]), b: zeros([4]) },
    { w: ones([4, 2]), b: zeros([2]) },
  ],
}
const bad: Params = { layers: [good.layers[0]!, { w: ones([5, 2]), b: zeros([2]) }] }
const x = ones([6, 3])
const forward = (p: Params, input: Tensor): Tensor => p.layers.reduce((h, l) => add(matmul(tanh(h), l.w), l.b), input)

describe('key paths in errors raised by ops inside a transform', () => {
  it('grad names the weight that reached matmul: layers[1].w', () => {
    const e = throwsPurediff(() => grad((p: Params) => sum(matmul(x, p.layers[1]!.w)))(bad))
    expect(e.tag).toBe('ShapeError')
    expect(e.op).toBe('matmul')
    expect(e.path).toBe('layers[1].w')
    expect(e.shapes).toEqual([
      [6, 3],
      [5, 2],
    ])
    expect(e.message).toBe(
      "matmul: inner dimensions differ (3 vs 5) (shapes [6, 3] and [5, 2]) at key path 'layers[1].w'",
    )
    // the stack still points at the op (its frames are the original error's)
    expect(e.stack).toMatch(/^PurediffError \[ShapeError\]: matmul: .* at key path 'layers\[1\]\.w'\n\s+at /)
  })

  it('a whole model: the failing layer is found through the activations of the others', () => {
    const loss = (p: Params) => mean(square(forward(p, x)))
    // the operands of the failing matmul are tanh(h) (from layers[0].w and b) and layers[1].w
    expect(throwsPurediff(() => grad(loss)(bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => valueAndGrad(loss)(bad)).path).toBe('layers[1].w')
    // a bias of the wrong length: add names it
    const badBias: Params = { layers: [good.layers[0]!, { w: ones([4, 2]), b: zeros([3]) }] }
    const e = throwsPurediff(() => grad(loss)(badBias))
    expect([e.op, e.path]).toEqual(['add', 'layers[1].b'])
    // and the model itself is fine
    expect(valueAndGrad(loss)(good)[0].item()).toBeGreaterThan(0)
  })

  it('an operand computed from one parameter alone names it (transpose, reshape)', () => {
    const p = { a: ones([2, 3]), w: ones([5, 2]) }
    const data = ones([2, 3])
    const viaT = throwsPurediff(() => grad((q: typeof p) => sum(matmul(data, transpose(q.w))))(p))
    expect(viaT.path).toBe('w')
    // when a leaf itself is an operand, it is the one named (here both operands are at fault)
    expect(throwsPurediff(() => grad((q: typeof p) => sum(matmul(q.a, transpose(q.w))))(p)).path).toBe('a')
    expect(throwsPurediff(() => grad((q: typeof p) => sum(reshape(q.w, [3, 3])))(p)).path).toBe('w')
  })

  it('an operand computed from several parameters names none (no guess)', () => {
    const p = { a: ones([2]), b: ones([2]), c: ones([3]) }
    // add(a + b, [1, 1, 1]): the operands are a + b (two leaves) and a constant
    const e = throwsPurediff(() => grad((q: typeof p) => sum(add(add(q.a, q.b), ones([3]))))(p))
    expect(e.op).toBe('add')
    expect(e.path).toBeUndefined()
  })

  it('vjp, jvp, argnums and nested transforms name it too; the wrt selection is respected', () => {
    const f = (p: Params) => sum(matmul(x, p.layers[1]!.w))
    expect(throwsPurediff(() => vjp(f, bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => jvp(f, bad, bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => hessian(f)(bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => jacrev((p: Params) => matmul(x, p.layers[1]!.w))(bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => linearize(f, bad)).path).toBe('layers[1].w')
    expect(throwsPurediff(() => valueAndGrad((p: Params) => [f(p), 0] as const, { hasAux: true })(bad)).path).toBe(
      'layers[1].w',
    )
    expect(throwsPurediff(() => grad((input: Tensor, p: Params) => f(p), { argnums: 1 })(x, bad)).path).toBe(
      'layers[1].w',
    )
    // a leaf held constant by wrt is not traced, so it is not named (it is data there)
    expect(throwsPurediff(() => grad(f, { wrt: 'layers.0' })(bad)).path).toBeUndefined()
    // vmap inside grad: the batch tracer is unwrapped to the leaf it carries
    const g = (p: { w: Tensor }) => sum(vmap((row: Tensor) => matmul(row, p.w))(x))
    expect(throwsPurediff(() => grad(g)({ w: ones([5, 2]) })).path).toBe('w')
  })

  it('an error that already names a key path keeps it (mlp names the layer itself)', () => {
    const model = mlp([4, 3, 2])
    const p = model.init(key(0))
    const wrong = { layers: [p.layers[0], { w: zeros([5, 2]), b: zeros([2]) }] } as typeof p
    const e = throwsPurediff(() => grad((q: typeof p) => sum(model.apply(q, ones([1, 4]))))(wrong))
    expect([e.op, e.path]).toEqual(['mlp.apply', 'layers[1].w'])
  })

  it('train names the parameter', () => {
    const data = fromTensors({ x, y: zeros([6, 2]) })
    const config = {
      params: bad,
      loss: (p: Params, b: { readonly x: Tensor; readonly y: Tensor }) => mean(square(sub(forward(p, b.x), b.y))),
      optimizer: optim.sgd(0.1),
      data,
      batchSize: 3,
      key: key(0),
    }
    const e = throwsPurediff(() => [...train(config)].slice(0, 1))
    expect(e.path).toBe('layers[1].w')
    expect(throwsPurediff(() => [...train({ ...config, jit: false })].slice(0, 1)).path).toBe('layers[1].w')
  })

  it('outside a transform the error is as before: the op and the shapes, no key path', () => {
    const e = throwsPurediff(() => matmul(x, bad.layers[1]!.w))
    expect(e.path).toBeUndefined()
    expect(e.message).toBe('matmul: inner dimensions differ (3 vs 5) (shapes [6, 3] and [5, 2])')
  })

  it('the check can fail: an op that does not record its operands gets no key path', () => {
    // a planted op that raises a shape error without its operands, as the ops did before
    const opWithoutOperands = (a: Tensor, b: Tensor): Tensor => {
      if (a.shape[1] !== b.shape[0])
        throw new PurediffError('ShapeError', 'inner dimensions differ', { op: 'planted', shapes: [a.shape, b.shape] })
      return matmul(a, b)
    }
    const e = throwsPurediff(() => grad((p: Params) => sum(opWithoutOperands(x, p.layers[1]!.w)))(bad))
    expect(e.path).toBeUndefined()
    // and blameLeaf leaves anything that is not a PurediffError as it is
    const plain = new RangeError('x')
    expect(blameLeaf(plain, [], [])).toBe(plain)
  })
})

describe('key paths: linear algebra and array ops, and where the path stops', () => {
  it('solve names a non-square matrix, split an axis that does not divide', () => {
    const p = { a: ones([2, 3]), v: ones([5]) }
    expect(throwsPurediff(() => grad((q: typeof p) => sum(solve(q.a, ones([2]))))(p)).path).toBe('a')
    expect(throwsPurediff(() => grad((q: typeof p) => sum(split(q.v, 2)[0]!))(p)).path).toBe('v')
  })
})
