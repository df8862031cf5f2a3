import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

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
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the default console report, plus a machine-readable one that .ci/run summarises
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
})
