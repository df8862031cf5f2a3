// CommonJS entry of `purediff/laws` (require(esm), Node >= 20.19): the same instance as the ES import.
module.exports = require('../dist/laws/index.js')
