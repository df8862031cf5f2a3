/**
 * The full-size demo as a check (`npm run bench:demo`): 20 epochs of the MNIST MLP on all
 * 8495 training digits, then the accuracy bar the README promises (≥ 0.95 on the 1505
 * held-out digits). It is not part of `npm test`, whose suite must pass on a slow or busy
 * machine; the test suite runs the same code in a small mode (`test/examples/mnist.test.ts`).
 * Exits non-zero when the bar is missed.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../examples/mnist.js'

const BAR = 0.95
const dir = mkdtempSync(join(tmpdir(), 'purediff-demo-'))
const r = main({ plot: join(dir, 'demo.svg'), sink: { write: () => {} } })
const ok = r.epochs.length === 20 && r.testAccuracy >= BAR
console.log(
  `full demo: ${r.epochs.length} epochs, test accuracy ${r.testAccuracy.toFixed(4)} (bar ${BAR}), ${r.seconds.toFixed(1)} s: ${ok ? 'ok' : 'FAILED'}`,
)
process.exitCode = ok ? 0 : 1
