/**
 * Module-resolution hook for one file: tfjs-core's gradient definitions.
 *
 * @tensorflow/tfjs-core's CommonJS bundle (its `main`) ships no gradients; the umbrella
 * `@tensorflow/tfjs` package adds them by importing `dist/register_all_gradients`, an ES
 * module whose relative imports have no file extension (written for bundlers). Node's ESM
 * resolver rejects those, so this hook appends `.js` (or `/index.js` for a folder) to
 * extensionless relative imports made from inside tfjs-core's dist folder, and leaves
 * every other import alone. The gradients then register into tfjs's global registry,
 * which the CommonJS engine shares.
 */
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? ''
  if (parent.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') && !/\.[cm]?js$/.test(specifier)) {
    const url = new URL(specifier, parent)
    const file = fileURLToPath(url)
    if (existsSync(`${file}.js`)) return next(`${url.href}.js`, context)
    if (existsSync(file) && statSync(file).isDirectory()) return next(`${url.href}/index.js`, context)
  }
  return next(specifier, context)
}
