// CommonJS entry of `purediff/laws/vitest` (require(esm), Node >= 20.19). vitest itself is ESM-only.
module.exports = require('../dist/laws/vitest.js')
