/**
 * The step graph as a picture: the CLI's Graphviz (`renderDot`, which already draws parallel
 * members as branches, nested groups as clusters, each step filled by its state and the failed
 * step outlined) laid out by Graphviz itself, compiled to WebAssembly (@viz-js/viz), and inlined
 * as SVG. No layout is written here, and the colours of the legend are read from that same dot.
 */
import { instance } from '@viz-js/viz';
import type { SagaSummary } from '../client';
import { renderDot } from '../cli/saga-view';
import { type SagaStatus, StepState, type StepStatus } from '../schemas/saga';
import { type Html, h, raw } from './html';

type Viz = Awaited<ReturnType<typeof instance>>;
let viz: Promise<Viz> | undefined;

/** Graphviz, loaded once per process (compiling its WebAssembly takes a moment). */
function graphviz(): Promise<Viz> {
  viz ??= instance();
  return viz;
}

/** The saga's executed steps as inline SVG, or a note saying why there is no picture. */
export async function stepGraphSvg(status: SagaStatus, summary: SagaSummary | null): Promise<Html> {
  if (!status.steps.some((s) => s.state !== 'pending')) return h`<p class="muted">No step has run yet.</p>`;
  const result = (await graphviz()).render(renderDot(status, summary), { format: 'svg' });
  if (result.status !== 'success') {
    return h`<p class="error-box">The step graph could not be drawn: ${result.errors.map((e) => e.message).join('; ')}</p>`;
  }
  // The XML prologue and doctype are for a file of its own, not a fragment inside HTML.
  const svg = result.output.replace(/^[\s\S]*?(<svg\b)/, '$1').replace('<svg', `<svg role="img" aria-labelledby="graph-caption"`);
  return h`<figure class="graph"><figcaption id="graph-caption" class="muted">Steps as they ran: parallel members side by side, groups boxed, the pivot as a hexagon. The table below says the same in words.</figcaption>${raw(svg)}</figure>`;
}

/** A stand-in step in `state`, to read the colour `renderDot` gives that state. */
function sample(state: StepState): StepStatus {
  const never = { lastError: null, startedAt: null, finishedAt: null, undoStartedAt: null, undoFinishedAt: null };
  return { name: `legend-${state}`, group: null, branch: [], undoable: true, afterPivot: false, state, attempts: 1, undoAttempts: 0, ...never };
}

let colours: [StepState, string][] | undefined;

/** Each drawn step state with its fill, read from the dot of one sample step per state. */
function legendColours(): [StepState, string][] {
  if (colours) return colours;
  const status = { sagaType: 'legend', workflowId: 'legend', state: 'running', pivoted: false, steps: StepState.options.map(sample) } as SagaStatus;
  const dot = renderDot(status);
  colours = StepState.options.flatMap((state): [StepState, string][] => {
    const fill = new RegExp(`label="legend-${state}\\\\n[^\\n]*fillcolor="(#[0-9a-fA-F]{6})"`).exec(dot)?.[1];
    return fill ? [[state, fill]] : [];
  });
  return colours;
}

/** The legend: a swatch per step state, the failed step's outline and the pivot. */
export function graphLegend(): Html {
  const items = legendColours().map(([state, fill]) => h`<span><span class="swatch" style="background:${fill}"></span>${state}</span>`);
  return h`<div class="legend" aria-label="Legend of the step graph"><strong>Legend:</strong> ${items}
<span><span class="swatch" style="background:#fff;border:3px solid #c92a2a"></span>thick red outline, "failed here": the step whose failure unwound the saga</span>
<span>⬡ pivot: steps after it go forward only</span></div>`;
}
