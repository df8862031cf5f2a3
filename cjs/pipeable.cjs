// CommonJS entry of `purediff/pipeable` (require(esm), Node >= 20.19): the same instance as the ES import.
module.exports = require('../dist/src/pipeable.js')
