/**
 * The step graph of `unwind show --graph` (and the console's saga page): Mermaid or Graphviz
 * dot, drawn from the step tree, the failed step outlined.
 */
import type { SagaSummary } from '../../client';
import type { SagaStatus, StepState, StepStatus } from '../../schemas/saga';
import { failedStep } from './cause';
import { stepTree, treeEdges, walkTree } from './step-tree';

/** The graph formats of `unwind show --graph`. */
export const GRAPH_FORMATS = ['mermaid', 'dot'] as const;
/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const FILL: Record<StepState, string> = {
  pending: '#f1f3f5',
  running: '#fff3bf',
  succeeded: '#d3f9d8',
  failed: '#ffc9c9',
  undoing: '#ffe8cc',
  undone: '#e9ecef',
  'undo-failed': '#ff8787',
  skipped: '#dee2e6',
};

/** The lines of a node's label: name, state (with attempts), undo, and whether its failure is why the saga unwound. */
function nodeLabel(step: StepStatus, cause: boolean): string[] {
  const lines = [step.name, `${step.state}${step.attempts > 1 ? ` ×${step.attempts}` : ''}`];
  if (step.undoAttempts > 0) lines.push(`undo ×${step.undoAttempts}`);
  if (!step.undoable) lines.push('no undo');
  if (cause) lines.push('failed here');
  return lines;
}

/** The colour of the step whose failure unwound the saga: its border. */
const CAUSE_COLOR = '#c92a2a';

/** How one graph language writes what the tree visitor meets, and the edges. */
interface GraphSyntax {
  step(step: StepStatus, id: string, cause: boolean): string;
  pivot: string;
  open(id: string, label: string): string[];
  close: string;
  edge(from: string, to: string): string;
}

/**
 * The executed steps (not `pending`) drawn with `syntax`: nodes in their boxes, then the edges.
 * `summary` helps name the failed step (see {@link failedStep}).
 */
function graphBody(status: SagaStatus, summary: SagaSummary | null, syntax: GraphSyntax): string[] {
  const tree = stepTree(status.steps.filter((s) => s.state !== 'pending'), status.pivoted);
  const cause = failedStep(status, summary)?.name;
  const lines: string[] = [];
  const indent = (depth: number) => '  '.repeat(depth + 1);
  walkTree(tree, {
    step: (step, id, depth) => lines.push(indent(depth) + syntax.step(step, id, step.name === cause)),
    pivot: (depth) => lines.push(indent(depth) + syntax.pivot),
    open: (id, label, depth) => lines.push(...syntax.open(id, label).map((line) => indent(depth) + line)),
    close: (depth) => lines.push(indent(depth) + syntax.close),
  });
  for (const [from, to] of treeEdges(tree)) lines.push(`  ${syntax.edge(from, to)}`);
  return lines;
}

/**
 * The executed steps as a Mermaid flowchart: one node per step (name, state, attempts, undo),
 * parallel groups as subgraphs with each member of several steps in its own, edges in the order
 * steps ran, the pivot as a hexagon, nodes classed (filled) by state, the failed step outlined.
 */
export function renderMermaid(status: SagaStatus, summary: SagaSummary | null = null): string {
  // Labels are quoted and hold `<br/>`: quotes and brackets of names become entities.
  const esc = (text: string) => text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
  const className = (state: StepState) => state.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  let causeId: string | undefined;
  const lines = [
    'flowchart TD',
    ...graphBody(status, summary, {
      step: (step, id, cause) => {
        if (cause) causeId = id;
        return `${id}["${nodeLabel(step, cause).map(esc).join('<br/>')}"]:::${className(step.state)}`;
      },
      pivot: 'pivot{{"pivot"}}',
      open: (id, label) => [`subgraph ${id}["${esc(label)}"]`],
      close: 'end',
      edge: (from, to) => `${from} --> ${to}`,
    }),
  ];
  const used = new Set(status.steps.filter((s) => s.state !== 'pending').map((s) => s.state));
  for (const state of used) lines.push(`  classDef ${className(state)} fill:${FILL[state]},stroke:#495057`);
  if (causeId) lines.push(`  style ${causeId} stroke:${CAUSE_COLOR},stroke-width:4px`);
  return lines.join('\n');
}

/**
 * The executed steps as a Graphviz digraph: one box per step (name, state, attempts, undo),
 * parallel groups as clusters with each member of several steps in its own, edges in the order
 * steps ran, the pivot as a hexagon, boxes filled by state, the failed step outlined.
 */
export function renderDot(status: SagaStatus, summary: SagaSummary | null = null): string {
  const esc = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [
    `digraph "${esc(status.workflowId)}" {`,
    `  label="${esc(`${status.sagaType} ${status.workflowId}: ${status.state}`)}";`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ...graphBody(status, summary, {
      step: (step, id, cause) =>
        `${id} [label="${nodeLabel(step, cause).map(esc).join('\\n')}", fillcolor="${FILL[step.state]}"${cause ? `, color="${CAUSE_COLOR}", penwidth=3` : ''}];`,
      pivot: 'pivot [label="pivot", shape=hexagon, style=filled, fillcolor="#e7f5ff"];',
      open: (id, label) => [`subgraph cluster_${id} {`, `  label="${esc(label)}";`, '  style=dashed;'],
      close: '}',
      edge: (from, to) => `${from} -> ${to};`,
    }),
    '}',
  ].join('\n');
}
