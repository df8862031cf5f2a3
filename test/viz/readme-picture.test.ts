/**
 * The picture in the README's Teaching section is this explanation's SVG, committed as
 * docs/explain-dual-numbers.svg. The test fails when the rendering changes and the picture was
 * not regenerated: run it with UPDATE_PICTURES=1 to write the file again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { add, mul, sin, type Tensor } from '../../src/index.js'
import { explain } from '../../src/viz/index.js'

const PATH = 'docs/explain-dual-numbers.svg'

describe('the README picture', () => {
  it('is the current rendering of the README example', () => {
    const f = (x: Tensor | number) => add(mul(x, sin(x)), mul(x, x))
    const svg = explain(f, { title: 'f(x) = x·sin(x) + x² at x = 0.5' })(0.5).toSVG()
    expect(XMLValidator.validate(svg)).toBe(true)
    if (process.env['UPDATE_PICTURES'] === '1' || !existsSync(PATH)) writeFileSync(PATH, svg)
    expect(readFileSync(PATH, 'utf8')).toBe(svg)
    expect(readFileSync('README.md', 'utf8')).toContain(`](${PATH})`)
  })
})
