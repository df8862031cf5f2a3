/**
 * purediff/viz: pictures of computations and of training. `explain` shows a derivative being
 * computed (each node's primal, its tangent in the forward sweep and its adjoint in the
 * reverse sweep, with the rule that produced it) as text, Graphviz, SVG or a self-contained
 * HTML page; line charts draw loss and accuracy curves as SVG; `withProgress` shows a
 * training stream's progress on a terminal.
 *
 * This entry is separate from `purediff` so that the core import carries no rendering code
 * (layout, SVG, HTML). Every function here is pure except the writers (`writeFileAtomic`,
 * the progress writers), whose only effect is the file or stream they are given.
 *
 * @module purediff/viz
 */
// line charts
export {
  PALETTE,
  decimate,
  formatTick,
  linearTicks,
  logTicks,
  panelsSVG,
  lineChartSVG,
  writeFileAtomic,
} from './plot.js'
export type { Point, Series, Panel, PanelsSpec, ChartSpec, Ticks } from './plot.js'

// progress display
export {
  formatBar,
  formatMetric,
  formatDuration,
  formatProgressLine,
  progressWriter,
  createProgress,
  withProgress,
} from './progress.js'
export type {
  Metrics,
  ProgressFields,
  TextSink,
  ProgressWriter,
  ProgressState,
  WithProgressOptions,
} from './progress.js'

// explain: a derivative being computed, forward and reverse
export { explain, explainGraph } from './explain.js'
export type { Explanation, ExplainNode, ExplainOptions, ExplainArgs, ChainTerm } from './explain.js'
export { programGraph, recordGraph } from './graph.js'
export type { Graph, GraphVar, GraphOptions } from './graph.js'
export { RULES } from './rules.js'
export type { RuleText } from './rules.js'
export { formatValue, summarize } from './render.js'
