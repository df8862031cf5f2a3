/**
 * The renderings of an explanation: a text listing, Graphviz source, an SVG drawing laid out
 * in layers by dagre (the Sugiyama method: rank, order to reduce crossings, position), and a
 * self-contained HTML page that steps through the two sweeps.
 *
 * Colours tell the sweeps apart everywhere: tangents (forward sweep) blue, adjoints (reverse
 * sweep) red. A tensor is shown whole when it has at most `maxEntries` entries, otherwise
 * summarised as its shape, its first entries and its Euclidean norm. A symbolic zero (no
 * dependence) shows as `–`.
 *
 * Purity: every function maps an explanation to a string. The HTML page loads nothing: its
 * style, drawing, data and script are inline.
 */
import { Graph, layout } from '@dagrejs/dagre'
import type { Tensor } from '../tensor/Tensor.js'
import { dataOf } from '../tensor/Tensor.js'
import type { ChainTerm, ExplainNode, Explanation } from './explanation.js'

// -------------------------------------------------------------------------------------
// utils: values
// -------------------------------------------------------------------------------------

/**
 * A number in at most six significant digits (exponent form outside [1e-4, 1e6)).
 * @example
 * formatValue(Math.PI) === '3.14159'
 * @category utils
 * @since 0.2.0
 */
export const formatValue = (v: number): string => {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a < 1e-4 || a >= 1e6) return v.toExponential(3).replace('e+', 'e')
  return String(Number(v.toPrecision(6)))
}

/**
 * A tensor as text: the value of a scalar, all entries of a small tensor, or the shape, the
 * first `maxEntries` entries and the norm of a large one; `–` for a symbolic zero.
 * @example
 * summarize(zeros([100, 10]), 4) === '[100×10] [0, 0, 0, 0, …] ‖·‖ = 0'
 * @category utils
 * @since 0.2.0
 */
export const summarize = (t: Tensor | null, maxEntries = 4): string => {
  if (t === null) return '–'
  const d = dataOf(t.concrete())
  if (t.shape.length === 0) return formatValue(d[0] as number)
  const head = Array.from(d.subarray(0, Math.min(d.length, maxEntries)), (v) => formatValue(v))
  if (d.length <= maxEntries) return `[${head.join(', ')}]`
  let s = 0
  for (let i = 0; i < d.length; i++) s += (d[i] as number) * (d[i] as number)
  return `[${t.shape.join('×')}] [${head.join(', ')}, …] ‖·‖ = ${formatValue(Math.sqrt(s))}`
}

/** A mark over a name's first letter, as v̇4 and v̄4 are written (Griewank's notation). */
const mark = (name: string, m: string): string =>
  /^[A-Za-z]/.test(name) ? `${name.slice(0, 1)}${m}${name.slice(1)}` : `${name}${m}`
/** The tangent of a variable: ẋ, v̇4. */
export const dot = (name: string): string => mark(name, '\u0307')
/** The adjoint of a variable: x̄, v̄4. */
export const bar = (name: string): string => mark(name, '\u0304')

const nameOf = (e: Explanation, id: number): string => e.nodes[id]?.name ?? `#${id}`

/** `v3 = sin(v1)` or `x (input)`. */
export const equationOf = (e: Explanation, n: ExplainNode): string => {
  if (n.kind === 'input') return `${n.name} (input)`
  if (n.kind === 'const') return `${n.name} (constant)`
  const args = n.inputs.map((j) => nameOf(e, j)).join(', ')
  const user = n.custom === null ? '' : ` (user rule: ${n.custom.kind})`
  return `${n.name} = ${n.op}(${args}${n.params === '' ? '' : `; ${n.params}`})${user}`
}

/** The fill of a node: inputs blue, constants grey, custom-rule calls amber, equations white. */
const fillOf = (n: ExplainNode): string =>
  n.kind === 'input' ? '#eaf2ff' : n.kind === 'const' ? '#f2f2f2' : n.custom !== null ? '#fff4dc' : '#ffffff'

const termForward = (e: Explanation, n: ExplainNode, t: ChainTerm): string =>
  `∂${n.name}/∂${nameOf(e, t.from)} · ${dot(nameOf(e, t.from))}`

/**
 * The forward sweep at a node: ẏ as the sum of its chain-rule terms, with the numbers when
 * the node is scalar (`v̇2 = ∂v2/∂x · ẋ = 0.877583 · 1 = 0.877583`).
 * @category utils
 * @since 0.2.0
 */
export const forwardProduct = (e: Explanation, n: ExplainNode): string => {
  if (n.kind === 'input') return `${dot(n.name)} = ${summarize(n.tangent, e.maxEntries)} (the direction)`
  if (n.forward.length === 0) return `${dot(n.name)} = 0 (no input carries a tangent)`
  const symbolic = n.forward.map((t) => termForward(e, n, t)).join(' + ')
  const numeric = n.forward.every((t) => t.factor !== undefined)
    ? ` = ${n.forward.map((t) => `${formatValue(t.factor as number)} · ${formatValue(t.seed as number)}`).join(' + ')}`
    : n.forward.length > 1
      ? ` = ${n.forward.map((t) => summarize(t.value, e.maxEntries)).join(' + ')}`
      : ''
  return `${dot(n.name)} = ${symbolic}${numeric} = ${summarize(n.tangent, e.maxEntries)}`
}

/**
 * The reverse sweep at a node: one line per input, x̄ += ȳ · ∂y/∂x, with the numbers when
 * the node is scalar.
 * @category utils
 * @since 0.2.0
 */
export const reverseProducts = (e: Explanation, n: ExplainNode): ReadonlyArray<string> =>
  n.reverse.map((t) => {
    const from = nameOf(e, t.from)
    const symbolic = `${bar(from)} += ${bar(n.name)} · ∂${n.name}/∂${from}`
    const numeric = t.factor !== undefined ? ` = ${formatValue(t.seed as number)} · ${formatValue(t.factor)}` : ''
    return `${symbolic}${numeric} = ${summarize(t.value, e.maxEntries)}`
  })

// -------------------------------------------------------------------------------------
// text
// -------------------------------------------------------------------------------------

const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - [...s].length))

/** The text listing (see `Explanation.toText`). */
export const renderText = (e: Explanation): string => {
  const rows = e.nodes.map((n) => [
    equationOf(e, n),
    summarize(n.primal, e.maxEntries),
    summarize(n.tangent, e.maxEntries),
    summarize(n.adjoint, e.maxEntries),
  ])
  const head = ['node', 'primal', 'tangent (forward)', 'adjoint (reverse)']
  const widths = head.map((h, c) => Math.max([...h].length, ...rows.map((r) => [...(r[c] as string)].length)))
  const line = (r: ReadonlyArray<string>): string =>
    r
      .map((s, c) => pad(s, widths[c] as number))
      .join('  ')
      .trimEnd()
  const nEq = e.nodes.filter((n) => n.kind === 'op').length
  const out = [`${e.title}: ${e.nodes.length} nodes, ${nEq} equation${nEq === 1 ? '' : 's'}`, line(head)]
  out.push(widths.map((w) => '-'.repeat(w)).join('  '))
  rows.forEach((r) => out.push(line(r)))
  out.push('', 'rules:')
  const seen = new Set<string>()
  for (const n of e.nodes) {
    if (n.kind !== 'op' || seen.has(n.op)) continue
    seen.add(n.op)
    out.push(`  ${pad(n.op, 12)} ${pad(n.rule.y, 22)} forward: ${pad(n.rule.jvp, 30)} reverse: ${n.rule.vjp}`)
  }
  out.push('', 'forward sweep (tangents, inputs to outputs):')
  for (const id of [...e.inputs, ...e.forwardOrder]) out.push(`  ${forwardProduct(e, e.nodes[id] as ExplainNode)}`)
  out.push('', 'reverse sweep (adjoints, outputs to inputs):')
  for (const id of e.outputs)
    out.push(`  ${bar(nameOf(e, id))} = ${summarize(e.nodes[id]?.adjoint ?? null, e.maxEntries)} (the seed)`)
  for (const id of e.reverseOrder) for (const l of reverseProducts(e, e.nodes[id] as ExplainNode)) out.push(`  ${l}`)
  return out.join('\n') + '\n'
}

// -------------------------------------------------------------------------------------
// Graphviz
// -------------------------------------------------------------------------------------

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`

/** The Graphviz source (see `Explanation.toDOT`). */
export const renderDOT = (e: Explanation): string => {
  const out = [
    'digraph explain {',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
    `  label=${dotString(`${e.title}: tangents (forward sweep) blue, adjoints (reverse sweep) red`)}; labelloc=t;`,
  ]
  const outputs = new Set(e.outputs)
  for (const n of e.nodes) {
    const label =
      `<<b>${htmlEscape(equationOf(e, n))}</b><br/>primal ${htmlEscape(summarize(n.primal, e.maxEntries))}` +
      `<br/><font color="#1f5fbf">tangent ${htmlEscape(summarize(n.tangent, e.maxEntries))}</font>` +
      `<br/><font color="#c0392b">adjoint ${htmlEscape(summarize(n.adjoint, e.maxEntries))}</font>>`
    const fill = fillOf(n)
    out.push(`  n${n.id} [label=${label}, fillcolor="${fill}"${outputs.has(n.id) ? ', penwidth=2.5' : ''}];`)
  }
  for (const n of e.nodes) for (const j of n.inputs) out.push(`  n${j} -> n${n.id};`)
  out.push('}')
  return out.join('\n') + '\n'
}

// -------------------------------------------------------------------------------------
// SVG
// -------------------------------------------------------------------------------------

const htmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

const num1 = (v: number): string => (Math.round(v * 10) / 10).toString()

const LINE_H = 15
const CHAR_W = 6.8
const FONT = 'font-family="\'DejaVu Sans Mono\', Menlo, Consolas, monospace"'
export const TANGENT_COLOUR = '#1f5fbf'
export const ADJOINT_COLOUR = '#c0392b'

interface Layout {
  readonly width: number
  readonly height: number
  readonly nodes: ReadonlyArray<{
    readonly x: number
    readonly y: number
    readonly w: number
    readonly h: number
    readonly lines: ReadonlyArray<string>
  }>
  readonly edges: ReadonlyArray<{
    readonly from: number
    readonly to: number
    readonly points: ReadonlyArray<{ x: number; y: number }>
  }>
}

const nodeLines = (e: Explanation, n: ExplainNode): string[] => [
  equationOf(e, n),
  `primal  ${summarize(n.primal, e.maxEntries)}`,
  `tangent ${summarize(n.tangent, e.maxEntries)}`,
  `adjoint ${summarize(n.adjoint, e.maxEntries)}`,
]

const layoutOf = (e: Explanation): Layout => {
  const g = new Graph({ multigraph: true })
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 16, marginy: 16 })
  g.setDefaultEdgeLabel(() => ({}))
  const lines = e.nodes.map((n) => nodeLines(e, n))
  e.nodes.forEach((n, i) => {
    const ls = lines[i] as string[]
    g.setNode(String(n.id), {
      width: Math.max(...ls.map((l) => [...l].length)) * CHAR_W + 18,
      height: ls.length * LINE_H + 10,
    })
  })
  const edges: Array<{ from: number; to: number }> = []
  e.nodes.forEach((n) =>
    n.inputs.forEach((j, k) => {
      g.setEdge(String(j), String(n.id), {}, `${j}-${n.id}-${k}`)
      edges.push({ from: j, to: n.id })
    }),
  )
  layout(g)
  const graph = g.graph()
  return {
    width: graph.width ?? 100,
    height: graph.height ?? 100,
    nodes: e.nodes.map((n, i) => {
      const p = g.node(String(n.id))
      return { x: p.x, y: p.y, w: p.width, h: p.height, lines: lines[i] as string[] }
    }),
    edges: e.nodes.flatMap((n) =>
      n.inputs.map((j, k) => ({
        from: j,
        to: n.id,
        points: g.edge({ v: String(j), w: String(n.id), name: `${j}-${n.id}-${k}` })?.points ?? [],
      })),
    ),
  }
}

/** SVG body pieces shared by `renderSVG` and the HTML page. */
const svgOf = (e: Explanation, extraAttrs: (n: ExplainNode) => string = () => ''): string => {
  const lay = layoutOf(e)
  const legendH = 26
  const width = Math.max(lay.width, 420)
  const height = lay.height + legendH
  const outputs = new Set(e.outputs)
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="explain" width="${num1(width)}" height="${num1(height)}" viewBox="0 0 ${num1(width)} ${num1(height)}" ${FONT} font-size="11">`,
  )
  out.push(`<title>${htmlEscape(e.title)}</title>`)
  out.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#777"/></marker></defs>`,
  )
  out.push(`<rect class="background" x="0" y="0" width="${num1(width)}" height="${num1(height)}" fill="#ffffff"/>`)
  out.push(
    `<g class="legend"><text x="12" y="17" fill="#222">primal</text><text x="70" y="17" fill="${TANGENT_COLOUR}">tangent (forward sweep)</text>` +
      `<text x="250" y="17" fill="${ADJOINT_COLOUR}">adjoint (reverse sweep)</text></g>`,
  )
  out.push(`<g transform="translate(0 ${legendH})">`)
  lay.edges.forEach((ed) => {
    const d = ed.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num1(p.x)} ${num1(p.y)}`).join('')
    out.push(
      `<path class="edge" id="edge-${ed.from}-${ed.to}" data-from="${ed.from}" data-to="${ed.to}" d="${d}" fill="none" stroke="#999" stroke-width="1.3" marker-end="url(#arrow)"/>`,
    )
  })
  e.nodes.forEach((n, i) => {
    const p = lay.nodes[i]!
    const x0 = p.x - p.w / 2
    const y0 = p.y - p.h / 2
    const fill = fillOf(n)
    const stroke = outputs.has(n.id) ? ' stroke-width="2.5"' : ' stroke-width="1"'
    out.push(
      `<g class="node" id="node-${n.id}" data-id="${n.id}" data-kind="${n.kind}" data-name="${htmlEscape(n.name)}"${n.custom === null ? '' : ` data-custom="${n.custom.kind}"`}${extraAttrs(n)}>`,
    )
    out.push(
      `<rect x="${num1(x0)}" y="${num1(y0)}" width="${num1(p.w)}" height="${num1(p.h)}" rx="5" fill="${fill}" stroke="#555"${stroke}/>`,
    )
    const cls = ['equation', 'primal', 'tangent', 'adjoint']
    const colours = ['#111', '#333', TANGENT_COLOUR, ADJOINT_COLOUR]
    p.lines.forEach((l, k) => {
      const weight = k === 0 ? ' font-weight="bold"' : ''
      out.push(
        `<text class="${cls[k]}" x="${num1(x0 + 8)}" y="${num1(y0 + 5 + LINE_H * (k + 1) - 3)}" fill="${colours[k]}"${weight}>${htmlEscape(l)}</text>`,
      )
    })
    out.push(`</g>`)
  })
  out.push(`</g></svg>`)
  return out.join('\n')
}

/** The SVG drawing (see `Explanation.toSVG`). */
export const renderSVG = (e: Explanation): string => svgOf(e) + '\n'

// -------------------------------------------------------------------------------------
// HTML
// -------------------------------------------------------------------------------------

interface Step {
  readonly phase: 'forward' | 'reverse'
  readonly nodes: ReadonlyArray<number>
  readonly edges: ReadonlyArray<readonly [number, number]>
  readonly title: string
  readonly rule: string
  readonly product: string
  readonly value: string
}

const stepsOf = (e: Explanation): { steps: Step[]; tangentAt: number[]; adjointAt: number[] } => {
  const steps: Step[] = []
  const never = 1e9
  const tangentAt = e.nodes.map(() => never)
  const adjointAt = e.nodes.map(() => never)
  steps.push({
    phase: 'forward',
    nodes: e.inputs,
    edges: [],
    title: 'forward sweep: seed the inputs with the direction',
    rule: 'ẋ = the direction (a tangent for each input)',
    product: e.inputs.map((id) => forwardProduct(e, e.nodes[id] as ExplainNode)).join('\n'),
    value: e.inputs
      .map((id) => `${dot(nameOf(e, id))} = ${summarize(e.nodes[id]?.tangent ?? null, e.maxEntries)}`)
      .join('   '),
  })
  for (const id of e.inputs) tangentAt[id] = 0
  for (const id of e.forwardOrder) {
    const n = e.nodes[id] as ExplainNode
    tangentAt[id] = steps.length
    steps.push({
      phase: 'forward',
      nodes: [id],
      edges: n.forward.map((t) => [t.from, id] as const),
      title: `forward: ${equationOf(e, n)}`,
      rule: n.rule.jvp,
      product: forwardProduct(e, n),
      value: `${dot(n.name)} = ${summarize(n.tangent, e.maxEntries)}`,
    })
  }
  const seedStep = steps.length
  steps.push({
    phase: 'reverse',
    nodes: e.outputs,
    edges: [],
    title: 'reverse sweep: seed the output with ȳ = 1',
    rule: 'ȳ = 1 at the output (the derivative of the output with respect to itself)',
    product: e.outputs
      .map((id) => `${bar(nameOf(e, id))} = ${summarize(e.nodes[id]?.adjoint ?? null, e.maxEntries)}`)
      .join('\n'),
    value: e.outputs
      .map((id) => `${bar(nameOf(e, id))} = ${summarize(e.nodes[id]?.adjoint ?? null, e.maxEntries)}`)
      .join('   '),
  })
  for (const id of e.outputs) adjointAt[id] = seedStep
  for (const id of e.reverseOrder) {
    const n = e.nodes[id] as ExplainNode
    adjointAt[id] = Math.min(adjointAt[id] as number, steps.length)
    for (const t of n.reverse) if (e.nodes[t.from]?.kind !== 'op') adjointAt[t.from] = steps.length
    steps.push({
      phase: 'reverse',
      nodes: [id],
      edges: n.reverse.map((t) => [t.from, id] as const),
      title: `reverse: ${equationOf(e, n)}`,
      rule: n.rule.vjp,
      product: reverseProducts(e, n).join('\n'),
      value: `${bar(n.name)} = ${summarize(n.adjoint, e.maxEntries)}`,
    })
  }
  return { steps, tangentAt, adjointAt }
}

const PAGE_STYLE = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; }
#controls button { font-size: 14px; padding: 4px 12px; margin-right: 6px; }
#counter { margin-left: 8px; color: #555; }
#panel { border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; margin: 10px 0; min-height: 96px; font-family: 'DejaVu Sans Mono', Menlo, monospace; font-size: 13px; white-space: pre-wrap; }
#phase.forward { color: ${TANGENT_COLOUR}; } #phase.reverse { color: ${ADJOINT_COLOUR}; }
#phase { font-weight: bold; }
#value { font-weight: bold; margin-top: 4px; }
svg.explain .node .tangent, svg.explain .node .adjoint { visibility: hidden; }
svg.explain .node.show-tangent .tangent, svg.explain .node.show-adjoint .adjoint { visibility: visible; }
svg.explain .node.current rect { fill: #fff3b0; stroke: #e0a000; stroke-width: 3; }
svg.explain .edge.forward { stroke: ${TANGENT_COLOUR}; stroke-width: 3; }
svg.explain .edge.reverse { stroke: ${ADJOINT_COLOUR}; stroke-width: 3; }
`

const PAGE_SCRIPT = `
(function () {
  var steps = JSON.parse(document.getElementById('steps').textContent);
  var k = -1;
  var el = function (id) { return document.getElementById(id); };
  var nodes = Array.prototype.slice.call(document.querySelectorAll('svg.explain .node'));
  var edges = Array.prototype.slice.call(document.querySelectorAll('svg.explain .edge'));
  function show() {
    nodes.forEach(function (n) {
      n.classList.toggle('show-tangent', k >= Number(n.getAttribute('data-tangent-at')));
      n.classList.toggle('show-adjoint', k >= Number(n.getAttribute('data-adjoint-at')));
      n.classList.remove('current');
    });
    edges.forEach(function (e) { e.classList.remove('forward'); e.classList.remove('reverse'); });
    el('counter').textContent = (k + 1) + ' / ' + steps.length;
    el('prev').disabled = k < 0;
    el('next').disabled = k >= steps.length - 1;
    if (k < 0) {
      el('phase').className = ''; el('phase').textContent = 'press next to start the forward sweep';
      el('equation').textContent = ''; el('rule').textContent = ''; el('product').textContent = ''; el('value').textContent = '';
      return;
    }
    var s = steps[k];
    el('phase').className = s.phase;
    el('phase').textContent = s.phase === 'forward' ? 'forward sweep (tangents)' : 'reverse sweep (adjoints)';
    el('equation').textContent = s.title;
    el('rule').textContent = 'rule: ' + s.rule;
    el('product').textContent = s.product;
    el('value').textContent = s.value;
    s.nodes.forEach(function (id) { var n = el('node-' + id); if (n) n.classList.add('current'); });
    s.edges.forEach(function (p) { var e = el('edge-' + p[0] + '-' + p[1]); if (e) e.classList.add(s.phase); });
  }
  el('next').addEventListener('click', function () { if (k < steps.length - 1) { k++; show(); } });
  el('prev').addEventListener('click', function () { if (k >= 0) { k--; show(); } });
  el('reset').addEventListener('click', function () { k = -1; show(); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowRight') el('next').click();
    if (ev.key === 'ArrowLeft') el('prev').click();
  });
  show();
})();
`

/** The self-contained page (see `Explanation.toHTML`). */
export const renderHTML = (e: Explanation): string => {
  const { steps, tangentAt, adjointAt } = stepsOf(e)
  const svg = svgOf(e, (n) => ` data-tangent-at="${tangentAt[n.id]}" data-adjoint-at="${adjointAt[n.id]}"`)
  // JSON inside a script element: '<' is escaped so no text can close the element early.
  const data = JSON.stringify(steps).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(e.title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>${htmlEscape(e.title)}</h1>
<div id="controls"><button id="reset" type="button">reset</button><button id="prev" type="button">◀ back</button><button id="next" type="button">next ▶</button><span id="counter"></span></div>
<div id="panel"><div id="phase"></div><div id="equation"></div><div id="rule"></div><div id="product"></div><div id="value"></div></div>
<div id="graph">${svg}</div>
<script id="steps" type="application/json">${data}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`
}
