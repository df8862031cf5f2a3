/**
 * The browser test must not be skipped silently in CI: `.ci/run` installs Chromium when it
 * is missing and runs the suite with CI=true, under which a missing browser fails
 * test/viz/explain-browser.test.ts. Checked on the script's text (running it would install
 * packages) and by running the browser test file with a browser that does not exist.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const script = readFileSync(join(root, '.ci', 'run'), 'utf8')

describe('CI runs the browser test', () => {
  it('.ci/run installs Chromium when missing and sets CI=true before the tests', () => {
    const install = script.indexOf('apt-get install -y -qq chromium')
    const ci = script.search(/^export CI=true$/m)
    const test = script.search(/^npm test$/m)
    expect(install).toBeGreaterThan(0)
    expect(script).toContain('if [ ! -x /usr/bin/chromium ]; then')
    expect(ci).toBeGreaterThan(0)
    expect(test).toBeGreaterThan(ci)
  })

  it('with CI=true and no browser, the browser test file fails (not skipped)', () => {
    const run = (ci: string) =>
      spawnSync(
        process.execPath,
        [
          join(root, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          '--project',
          'default',
          // one reporter, so the nested run does not overwrite this run's .vitest-results.json
          '--reporter',
          'dot',
          'test/viz/explain-browser.test.ts',
        ],
        {
          cwd: root,
          env: { ...process.env, CI: ci, PUREDIFF_CHROMIUM: '/nonexistent/chromium' },
          encoding: 'utf8',
          timeout: 120_000,
        },
      )
    const inCI = run('true')
    expect(inCI.status, inCI.stdout + inCI.stderr).not.toBe(0)
    expect(inCI.stdout + inCI.stderr).toContain('no Chromium at /nonexistent/chromium')
    // outside CI the same run passes, saying it skipped
    const local = run('')
    expect(local.status, local.stdout + local.stderr).toBe(0)
    expect(local.stdout + local.stderr).toContain('SKIPPED the browser tests')
  }, 240_000)
})
