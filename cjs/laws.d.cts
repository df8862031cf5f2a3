export * from '../dist/laws/index.js'
