export * from '../dist/src/pipeable.js'
