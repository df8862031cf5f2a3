export * from '../dist/src/viz/index.js'
