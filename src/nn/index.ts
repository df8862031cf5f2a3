/**
 * Neural-network building blocks as pure functions: initializers (`init.ts`), activations,
 * layers with their parameter initializers (`dense`, `mlp`, `conv2d`, `dropout`), losses and
 * metrics. A model is `apply(params, x)`; its weights come from `init(key)`.
 */
export * from './init.js'
export * from './activations.js'
export * from './layers.js'
export * from './losses.js'
export * from './pooling.js'
