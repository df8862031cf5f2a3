/**
 * The architecture of DESIGN.md as rules (`npm run lint` runs them): imports point one way
 * down the layer order, kernels never see AD, rendering stays behind `purediff/viz`, no cycles.
 *
 * LAYERS is the order of DESIGN.md, adjusted where today's code has a settled direction:
 * `tree` sits above `transforms` (a gradient is a tree: transforms import tree, and tree's
 * vector arithmetic uses ops), and `io` above `train` (training states are saved with io's
 * codecs). A module may import its own layer, any layer before it, and `src/errors.ts`.
 */
const LAYERS = [
  'tensor',
  'kernels',
  'primitives',
  'ad',
  'ops',
  'tree',
  'staging',
  'transforms',
  'numeric',
  'random',
  'dual',
  'nn',
  'optim',
  'io',
  'train',
  'viz',
]

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only the layers before it (${LAYERS.slice(0, i).join(', ') || 'none'}) and src/errors.ts`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}))

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'kernels-no-ad',
      comment: 'kernels are plain loops over typed arrays: no AD, no primitive table, no ops or transforms',
      severity: 'error',
      from: { path: '^src/kernels/' },
      to: { path: '^src/(ad|primitives|ops|staging|transforms)/' },
    },
    {
      name: 'rendering-only-in-viz',
      comment: 'rendering code (src/viz/, layout and drawing libraries) never enters the core import or purediff/laws',
      severity: 'error',
      from: { path: '^(src|laws)/', pathNot: '^src/viz/' },
      to: { path: '^src/viz/|node_modules/(@dagrejs|dagre|d3|elkjs|graphviz|vega|chart\\.js|canvas)' },
    },
    {
      name: 'core-not-laws',
      comment: 'the library never imports its test helpers (purediff/laws imports the library, not the other way)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(laws|test|examples|bench)/' },
    },
    {
      name: 'no-cycles',
      comment: 'no import cycles (type-only imports included)',
      severity: 'error',
      from: { path: '^(src|laws)/' },
      to: { circular: true },
    },
    {
      name: 'core-runtime-dependencies',
      comment:
        'the core import depends only on fp-ts, io-ts and fast-check (and node built-ins); viz may add its layout library',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/viz/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: 'node_modules/(fp-ts|io-ts|fast-check)/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    exclude: { path: '^dist/' },
  },
}
