import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the default console report, plus a machine-readable one that .ci/run summarises
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
})
