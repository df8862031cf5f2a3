// CommonJS entry of `purediff/viz` (require(esm), Node >= 20.19): the same instance as the ES import.
module.exports = require('../dist/src/viz/index.js')
