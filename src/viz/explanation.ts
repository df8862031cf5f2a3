/**
 * The model of an explanation: its nodes, the chain-rule terms of the two sweeps, and the
 * `Explanation` record that `explain` returns and the renderers in `render.ts` read. The
 * types live apart from `explain.ts` so that `explain.ts` (which calls the renderers) and
 * `render.ts` (which reads these types) do not import each other. Types only, no code.
 */
import type { Tensor } from '../tensor/Tensor.js'
import type { RuleText } from './rules.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One contribution of the chain rule: along the edge from input `from`, the product
 * `factor · seed = value` (`factor` and `seed` are numbers when every value at the node is a
 * scalar, so the product can be shown with its numbers).
 * @category model
 * @since 0.2.0
 */
export interface ChainTerm {
  readonly from: number
  readonly value: Tensor
  readonly factor?: number
  readonly seed?: number
}

/**
 * A node of an explanation: an input, a constant, or one equation.
 * @category model
 * @since 0.2.0
 */
export interface ExplainNode {
  readonly id: number
  readonly name: string
  readonly kind: 'input' | 'const' | 'op'
  /** The primitive's name, or `input` / `const`. */
  readonly op: string
  /** The equation's parameters, as text (`axes=[0]`), or ''. */
  readonly params: string
  readonly inputs: ReadonlyArray<number>
  readonly shape: ReadonlyArray<number>
  /**
   * For a `customJvp` / `customVjp` call: which, its name, and the user's rule as source
   * text (the node's tangent and adjoint come from that rule). Otherwise null.
   */
  readonly custom: {
    readonly kind: 'customJvp' | 'customVjp'
    readonly name: string
    readonly rule: string
  } | null
  /** The primitive's rules as one line of math each (constant text for inputs and constants). */
  readonly rule: RuleText
  readonly primal: Tensor
  /** The forward sweep's tangent (null: a symbolic zero). */
  readonly tangent: Tensor | null
  /** The reverse sweep's adjoint, ∂(seeded output)/∂(this node) (null: a symbolic zero). */
  readonly adjoint: Tensor | null
  /** The forward sweep at this node: one term per input the tangent flows in from. */
  readonly forward: ReadonlyArray<ChainTerm>
  /** The reverse sweep at this node: one term per input the adjoint flows out to. */
  readonly reverse: ReadonlyArray<ChainTerm>
}

/**
 * A computation explained: its nodes in evaluation order, its input and output nodes, the
 * steps of the two sweeps, and four renderings.
 * @category model
 * @since 0.2.0
 */
export interface Explanation {
  readonly title: string
  readonly nodes: ReadonlyArray<ExplainNode>
  readonly inputs: ReadonlyArray<number>
  readonly outputs: ReadonlyArray<number>
  /** Nodes in the order the forward sweep computes their tangents (equations only). */
  readonly forwardOrder: ReadonlyArray<number>
  /** Nodes in the order the reverse sweep pulls their adjoints back (equations only). */
  readonly reverseOrder: ReadonlyArray<number>
  readonly maxEntries: number
  /** The node with this name (`x`, `v3`, `w`), if any. */
  readonly node: (name: string) => ExplainNode | undefined
  /** A listing: one line per node with its primal, tangent and adjoint, then the rules. */
  readonly toText: () => string
  /** Graphviz source. */
  readonly toDOT: () => string
  /** A layered drawing of the graph as SVG: values on the nodes, tangents blue, adjoints red. */
  readonly toSVG: () => string
  /** One self-contained page that steps through the forward sweep, then the reverse sweep. */
  readonly toHTML: () => string
}
