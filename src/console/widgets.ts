/**
 * Small pieces every console page draws the same way: a saga or step state as a coloured badge
 * (the CLI's colours; the colour only repeats what the text says), a moment as "3m ago" with the exact time on
 * hover, a progress bar, and links to a saga.
 */
import { type Styles, formatAgo } from '../cli/format';
import { styleSagaState, styleStepState } from '../cli/saga-view';
import type { SagaState, StepState } from '../schemas/saga';
import { type Html, h } from './html';

type Tone = 'red' | 'yellow' | 'green' | 'grey';

/**
 * The tone the CLI paints with (saga-view's `styleSagaState` and `styleStepState`), read by
 * painting with styles that record the colour instead of writing escapes: one colour policy.
 */
function toneOf(paint: (style: Styles) => string): Tone {
  let tone: Tone = 'grey';
  const mark = (t: Tone) => (text: string) => ((tone = t), text);
  paint({ red: mark('red'), green: mark('green'), yellow: mark('yellow'), dim: mark('grey'), bold: (text) => text });
  return tone;
}

/** A saga state as a badge; `-` before the saga recorded one. */
export function sagaBadge(state: SagaState | null): Html {
  return state === null ? h`<span class="badge grey">-</span>` : h`<span class="badge ${toneOf((style) => styleSagaState(state, style))}">${state}</span>`;
}

/** A step state as a badge. */
export function stepBadge(state: StepState): Html {
  return h`<span class="badge ${toneOf((style) => styleStepState(state, style))}">${state}</span>`;
}

/** "3m ago", with the exact ISO time as a tooltip and in `datetime`. */
export function ago(time: string | null | undefined, now: Date): Html {
  if (!time) return h`<span class="muted">-</span>`;
  return h`<time datetime="${time}" title="${time}">${formatAgo(time, now)}</time>`;
}

/** A progress bar with its figures written out beside it (for screen readers too). */
export function progress(done: number, total: number, label: string): Html {
  const share = total === 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const percent = Math.floor(share * 100);
  return h`<div role="progressbar" aria-label="${label}" aria-valuemin="0" aria-valuemax="${total}" aria-valuenow="${done}" style="display:flex;gap:.6rem;align-items:center">
<div class="bar" style="flex:1"><span style="width:${percent}%"></span></div><span>${done}/${total} (${percent}%)</span></div>`;
}

/** The console's path of a saga's page (workflow ids hold `/`: encoded whole). */
export function sagaPath(workflowId: string): string {
  return `/saga/${encodeURIComponent(workflowId)}`;
}

/** A link to a saga's page, its id as text. */
export function sagaLink(workflowId: string): Html {
  return h`<a href="${sagaPath(workflowId)}">${workflowId}</a>`;
}
