/**
 * The architecture rules of `npm run lint` (.dependency-cruiser.cjs) can fail. A scratch
 * project with this checkout's rules holds one clean import and one violation of each rule:
 * a kernel importing AD, a layer importing a later layer, core code importing rendering code
 * (src/viz/ and the layout library), an import cycle through a type-only import (the shape of
 * the cycle that once joined src/optim/GradientTransformation.ts and src/optim/internal.ts),
 * and the library importing its own test helpers. Each must be reported by name, and nothing
 * else.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')

const files: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true },
  }),
  'package.json': JSON.stringify({ name: 'scratch', type: 'module' }),
  'node_modules/@dagrejs/dagre/package.json': JSON.stringify({ name: '@dagrejs/dagre', main: 'index.js' }),
  'node_modules/@dagrejs/dagre/index.js': 'export const layout = () => undefined\n',
  'src/errors.ts': 'export const oops = 1\n',
  'src/tensor/Tensor.ts': "import { oops } from '../errors.js'\nexport const t = oops\n",
  // clean: kernels import tensor
  'src/kernels/ok.ts': "import { t } from '../tensor/Tensor.js'\nexport const k = t\n",
  // kernels-no-ad (and layer-kernels)
  'src/kernels/bad.ts': "import { level } from '../ad/trace.js'\nexport const k2 = level\n",
  'src/ad/trace.ts': "import { t } from '../tensor/Tensor.js'\nexport const level = t\n",
  // layer-ops: ops imports transforms, a later layer
  'src/ops/ops.ts': "import { grad } from '../transforms/transforms.js'\nexport const add = grad\n",
  'src/transforms/transforms.ts': "import { level } from '../ad/trace.js'\nexport const grad = level\n",
  // rendering-only-in-viz: nn imports viz and the layout library
  'src/nn/layers.ts':
    "import { draw } from '../viz/plot.js'\nimport { layout } from '@dagrejs/dagre'\nexport const dense = [draw, layout]\n",
  'src/viz/plot.ts':
    "import { t } from '../tensor/Tensor.js'\nimport { layout } from '@dagrejs/dagre'\nexport const draw = [t, layout]\n",
  // no-cycles: a value import one way, a type-only import back
  'src/optim/GradientTransformation.ts':
    "import { stateless } from './internal.js'\nexport interface GradientTransformation { readonly n: number }\nexport const identity = stateless\n",
  'src/optim/internal.ts':
    "import type { GradientTransformation } from './GradientTransformation.js'\nexport const stateless = (g: GradientTransformation): number => g.n\n",
  // core-not-laws
  'src/train/train.ts': "import { checkGrads } from '../../laws/index.js'\nexport const train = checkGrads\n",
  'laws/index.ts': "import { t } from '../src/tensor/Tensor.js'\nexport const checkGrads = t\n",
}

let scratch = ''

describe('npm run lint: the architecture rules', () => {
  afterAll(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true })
  })

  it('report each planted violation by rule and file, and pass the clean imports', () => {
    scratch = mkdtempSync(join(tmpdir(), 'purediff-lint-'))
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, f)), { recursive: true })
      writeFileSync(join(scratch, f), text)
    }
    // the json report lists the violations (the exit code reports them only for the text output)
    const out = execFileSync(
      process.execPath,
      [depcruise, 'src', 'laws', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
      {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const result = JSON.parse(out) as {
      summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> }
    }
    const found = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()
    expect(found).toEqual(
      [
        'core-not-laws: src/train/train.ts -> laws/index.ts',
        'core-runtime-dependencies: src/nn/layers.ts -> node_modules/@dagrejs/dagre/index.js',
        'kernels-no-ad: src/kernels/bad.ts -> src/ad/trace.ts',
        'layer-kernels: src/kernels/bad.ts -> src/ad/trace.ts',
        'layer-nn: src/nn/layers.ts -> src/viz/plot.ts',
        'layer-ops: src/ops/ops.ts -> src/transforms/transforms.ts',
        'no-cycles: src/optim/GradientTransformation.ts -> src/optim/internal.ts',
        'rendering-only-in-viz: src/nn/layers.ts -> node_modules/@dagrejs/dagre/index.js',
        'rendering-only-in-viz: src/nn/layers.ts -> src/viz/plot.ts',
      ].sort(),
    )
  })
})
