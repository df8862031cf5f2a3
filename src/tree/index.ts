/** Parameter records: structure (flatten, unflatten, map, zipWith, key paths). */
export * from './Tree.js'
export * from './vector.js'
