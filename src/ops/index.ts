/** The public ops: primitives bound through the AD dispatch, and ops derived from them. */
export * from './ops.js'
/** Linear algebra: factorisations, solves, determinants, norms, einsum. */
export * from './linalg.js'
/** Special functions: erf family, log Γ, polygamma, inverse trigonometric and hyperbolic, logaddexp, xlogy, logit. */
export * from './special.js'
/** Array ops: scans, sorting, rearrangements, index updates. */
export * from './array.js'
