export * from '../dist/laws/vitest.js'
