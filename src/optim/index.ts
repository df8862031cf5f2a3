/**
 * Optax-style pure optimizers: gradient transformations `{ init, update }`, `chain`,
 * `applyUpdates`, the building blocks (scaling, momentum, Adam/RMS/RSS rescaling,
 * clipping, weight decay), the usual optimizers and learning-rate schedules.
 */
export * from './GradientTransformation.js'
export * from './transforms.js'
export * from './optimizers.js'
export * from './schedules.js'
export * from './adaptive.js'
export * from './combinators.js'
export * from './lbfgs.js'
