// CommonJS entry of `purediff`: Node >= 20.19 loads the ES module with require(esm), so
// `require('purediff')` and `import 'purediff'` share one instance (one Tensor class).
module.exports = require('../dist/src/index.js')
