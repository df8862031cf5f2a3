/** The transforms: grad, valueAndGrad, jvp, vjp, jacfwd, jacrev, hessian, hvp, derivative, custom rules. */
export * from './transforms.js'
export { stopGradient } from '../ops/ops.js'
export * from './vmap.js'
export * from './linearize.js'
export * from './control.js'
