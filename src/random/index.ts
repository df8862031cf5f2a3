/**
 * Random numbers from explicit keys: Threefry-2x32 counter-based PRNG keys (`key`, `split`,
 * `foldIn`, `randomBits`) and samplers that turn a key into a tensor (`uniform`, `normal`,
 * `truncatedNormal`, `bernoulli`, `randint`) or into indices (`permutation`, `choice`).
 * There is no hidden state and no `Math.random`: the same key always gives the same numbers.
 * This layer sits below `nn/` and depends only on `tensor/` and the error class.
 */
export { type Key, key, keyFromData, isKey, split, foldIn, randomBits } from './Key.js'
export { type Words, threefry2x32 } from './threefry.js'
export {
  type UniformOptions,
  type NormalOptions,
  type DTypeOptions,
  uniform,
  normal,
  truncatedNormal,
  bernoulli,
  randint,
  permutation,
  choice,
} from './distributions.js'
export {
  type LocScaleOptions,
  exponential,
  laplace,
  logistic,
  cauchy,
  gumbel,
  gamma,
  beta,
  dirichlet,
  studentT,
  poisson,
  categorical,
  multivariateNormal,
  uniformSphere,
  ball,
  orthogonal,
} from './more.js'
export { normalReparam, gammaReparam } from './reparam.js'
