import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The core suites (primitives, transforms, laws, layers) run four times: with the default
// kernel choice (WebAssembly above the size thresholds, JS below them), with every product,
// elementwise op and reduction in WebAssembly (thresholds 0), with the JS reference kernels
// forced, and as the second with every product split across two threads. `npm test` runs all.
const core = ['test/core/**/*.test.ts', 'test/laws/**/*.test.ts', 'test/nn/**/*.test.ts']

// Examples import the package by its name, as users do; here the name resolves to the sources
// (tsconfig.json's `paths` does the same for tsc and tsx). Exact matches only.
const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^purediff$/, replacement: source('./src/index.ts') },
      { find: /^purediff\/viz$/, replacement: source('./src/viz/index.ts') },
      { find: /^purediff\/laws$/, replacement: source('./laws/index.ts') },
      { find: /^purediff\/laws\/vitest$/, replacement: source('./laws/vitest.ts') },
    ],
  },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the default console report, plus a machine-readable one that .ci/run summarises
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'kernels-wasm',
          include: core,
          env: { PUREDIFF_WASM_MIN_FLOPS: '0', PUREDIFF_WASM_MIN_ELEMENTS: '0' },
        },
      },
      { extends: true, test: { name: 'kernels-js', include: core, env: { PUREDIFF_BACKEND: 'js' } } },
      // every product through WebAssembly and every splittable one across two threads (the worker pool)
      {
        extends: true,
        test: {
          name: 'kernels-threads',
          include: core,
          env: {
            PUREDIFF_WASM_MIN_FLOPS: '0',
            PUREDIFF_WASM_MIN_ELEMENTS: '0',
            PUREDIFF_THREADS: '2',
            PUREDIFF_THREAD_MIN_FLOPS: '0',
          },
        },
      },
    ],
  },
})
