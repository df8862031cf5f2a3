/**
 * The explanation page in a real browser: Chromium from the system (Debian's package, which
 * `.ci/run` installs when it is missing), driven by playwright-core. The test steps through
 * the forward sweep and then the reverse sweep with the page's own buttons, reads the values
 * the page shows back, checks that the page asks for nothing over the network, and that a
 * screenshot is not blank. Where there is no browser the suite says so; in CI (CI=true) a
 * missing browser is a failure, never a silent skip.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mul, sin, sum, tanh, tensor, type Tensor } from '../../src/index.js'
import { explain, summarize } from '../../src/viz/index.js'
import { bar, dot } from '../../src/viz/render.js'

const CHROMIUM = process.env['PUREDIFF_CHROMIUM'] ?? '/usr/bin/chromium'
const haveBrowser = existsSync(CHROMIUM)
const inCI = process.env['CI'] === 'true'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Distinct byte values of a PNG's decompressed pixel rows (a blank image has very few). */
const pngPixelBytes = (png: Buffer): Uint8Array => {
  const idat: Buffer[] = []
  let off = 8
  while (off < png.length) {
    const len = png.readUInt32BE(off)
    const type = png.toString('latin1', off + 4, off + 8)
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len))
    off += 12 + len
  }
  return inflateSync(Buffer.concat(idat))
}
const distinctBytes = (b: Uint8Array): number => new Set(b).size

const nfc = (s: string | null): string => (s ?? '').normalize('NFC')

describe('explain: the HTML page in a headless browser', () => {
  it('has a browser to run in (required in CI)', () => {
    if (!haveBrowser) {
      const msg = `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set PUREDIFF_CHROMIUM`
      if (inCI) throw new Error(msg)
      console.warn(`SKIPPED the browser tests: ${msg}`)
    }
    expect(haveBrowser || !inCI).toBe(true)
  })

  const f = (x: Tensor): Tensor => sum(mul(sin(x), tanh(x)))
  const e = explain(f, { title: 'sum(sin(x) · tanh(x))' })(tensor([0.5, -1.25, 2]))
  const html = e.toHTML()
  let context: BrowserContext | undefined
  let page: Page
  let userDir = ''
  const requests: string[] = []

  beforeAll(async () => {
    if (!haveBrowser) return
    userDir = mkdtempSync(join(tmpdir(), 'purediff-chromium-'))
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS })
    page = context.pages()[0] ?? (await context.newPage())
    await page.route('**/*', (route) => {
      requests.push(route.request().url())
      return route.abort()
    })
    await page.setViewportSize({ width: 1200, height: 900 })
    await page.setContent(html, { waitUntil: 'load' })
  })

  afterAll(async () => {
    await context?.close()
    if (userDir !== '') rmSync(userDir, { recursive: true, force: true })
  })

  it.runIf(haveBrowser)(
    'steps through the forward sweep, then the reverse sweep, showing the values of the explanation',
    async () => {
      const text = async (sel: string): Promise<string> => nfc(await page.textContent(sel))
      expect(await text('#counter')).toBe(`0 / ${2 + e.forwardOrder.length + e.reverseOrder.length}`)
      const before = await page.screenshot()

      // forward sweep: the seed, then one step per equation
      await page.click('#next')
      expect(await text('#phase')).toContain('forward')
      const afterOne = await page.screenshot()
      expect(Buffer.compare(before, afterOne)).not.toBe(0) // the page changed: the inputs are highlighted
      for (const id of e.forwardOrder) {
        await page.click('#next')
        const n = e.nodes[id]!
        expect(await text('#phase')).toContain('forward')
        expect(await text('#value')).toBe(nfc(`${dot(n.name)} = ${summarize(n.tangent, e.maxEntries)}`))
        expect(await page.getAttribute(`#node-${id}`, 'class')).toContain('current')
        expect(await text('#product')).toContain('=')
      }
      // the output's tangent is the directional derivative: shown on its node now
      const out = e.nodes[e.outputs[0]!]!
      expect(await page.isVisible(`#node-${out.id} .tangent`)).toBe(true)
      expect(await text(`#node-${out.id} .tangent`)).toBe(`tangent ${summarize(out.tangent, e.maxEntries)}`)
      expect(await page.isVisible(`#node-${out.id} .adjoint`)).toBe(false)

      // reverse sweep: the seed, then one step per equation, outputs to inputs
      await page.click('#next')
      expect(await text('#phase')).toContain('reverse')
      expect(await text('#value')).toBe(nfc(`${bar(out.name)} = 1`))
      for (const id of e.reverseOrder) {
        await page.click('#next')
        const n = e.nodes[id]!
        expect(await text('#phase')).toContain('reverse')
        expect(await text('#value')).toBe(nfc(`${bar(n.name)} = ${summarize(n.adjoint, e.maxEntries)}`))
        expect(await text('#product')).toContain('+=')
      }
      expect(await page.isDisabled('#next')).toBe(true)
      // the gradient is on the input node
      const x = e.nodes[e.inputs[0]!]!
      expect(await page.isVisible(`#node-${x.id} .adjoint`)).toBe(true)
      expect(await text(`#node-${x.id} .adjoint`)).toBe(`adjoint ${summarize(x.adjoint, e.maxEntries)}`)

      // back one step, then reset
      await page.click('#prev')
      expect(await text('#counter')).toBe(
        `${1 + e.forwardOrder.length + e.reverseOrder.length} / ${2 + e.forwardOrder.length + e.reverseOrder.length}`,
      )
      await page.click('#reset')
      expect(await text('#counter')).toBe(`0 / ${2 + e.forwardOrder.length + e.reverseOrder.length}`)
      expect(await page.isVisible(`#node-${out.id} .tangent`)).toBe(false)
    },
  )

  it.runIf(haveBrowser)('draws something: a screenshot is not blank', async () => {
    const shot = await page.screenshot({ fullPage: true })
    const pixels = pngPixelBytes(shot)
    expect(pixels.length).toBeGreaterThan(1000)
    expect(distinctBytes(pixels)).toBeGreaterThan(32)
    // and a blank page is recognised as blank by the same measure
    const blank = await context!.newPage()
    await blank.setContent('<html><body style="background:#fff"></body></html>')
    expect(distinctBytes(pngPixelBytes(await blank.screenshot()))).toBeLessThan(8)
    await blank.close()
  })

  it.runIf(haveBrowser)('asks for nothing over the network', () => {
    expect(requests).toEqual([])
  })
})
