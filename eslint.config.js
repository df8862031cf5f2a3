// ESLint: the recommended rules of ESLint and typescript-eslint, for real bugs, with no style
// rules (layout is Prettier's business, `npm run format:check`). It runs without type
// information, so it stays fast. The architecture is checked by dependency-cruiser
// (.dependency-cruiser.cjs): the layer order, kernels without AD, rendering only in viz, and
// no import cycles. `npm run lint` runs both.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nodeGlobals = Object.fromEntries(
  [
    'console',
    'process',
    'performance',
    'WebAssembly',
    'URL',
    'URLSearchParams',
    'Buffer',
    'TextEncoder',
    'TextDecoder',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'queueMicrotask',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
)

export default tseslint.config(
  { ignores: ['dist/', 'docs/', 'out/', 'node_modules/', 'coverage/', '**/*.cjs', '**/*.d.cts'] },
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: nodeGlobals },
    rules: {
      // The compiler checks names (strict tsconfig); `any` is kept out of the public surface
      // by review, and is sometimes the honest type inside (the heterogeneous primitive table).
      '@typescript-eslint/no-explicit-any': 'off',
      // `Function` is the honest type where a tree walker only asks "is this a function?"
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Dead code is worth seeing but is not a bug: a warning. `_x` marks an argument kept for
      // its position (the optimizer `init(_params)` signature).
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Flags the `let open = false; try { ...; open = true }` pattern that finally blocks read.
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    rules: { 'no-undef': 'off' }, // typescript-eslint's advice: tsc resolves names better
  },
  {
    files: ['test/**'],
    rules: { 'no-sparse-arrays': 'off' }, // bad-input tests build holes on purpose
  },
)
