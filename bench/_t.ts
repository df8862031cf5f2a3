import { hvp, grad, tensor, sum, mul, matmul, relu, add, tanh, fromData } from '../src/index.js'
import type { Tensor } from '../src/index.js'
import { uniformArray } from './baselines.js'
const A = fromData(uniformArray(6, 1, 1), [2, 3]), w = fromData(uniformArray(3, 1, 2), [3, 1]), v = fromData(uniformArray(3, 1, 3), [3, 1])
const fs: Record<string, (u: Tensor) => Tensor> = {
  mm2: (u) => sum(mul(matmul(A, u), matmul(A, u))),
  tanh: (u) => sum(tanh(matmul(A, u))),
  relusq: (u) => sum(mul(relu(matmul(A, u)), relu(matmul(A, u)))),
  addb: (u) => sum(tanh(add(matmul(A, u), 0.3))),
}
for (const [k, f] of Object.entries(fs)) {
  const h = (hvp(f)(w, v) as Tensor).toTypedArray()
  const e = 1e-5
  const gp = (grad(f)(add(w, mul(e, v))) as Tensor).toTypedArray(), gm = (grad(f)(add(w, mul(-e, v))) as Tensor).toTypedArray()
  console.log(k, Array.from(h), Array.from(gp).map((a, i) => (a - gm[i]!) / (2 * e)))
}
