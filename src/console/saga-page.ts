/**
 * One saga's page: its state and pivot, who must act since when and what they can do (each a
 * link to the action's form), how it ended, its own reports, the step graph with its legend,
 * the step table and the decisions. The body is a live region: it re-renders from the server
 * every few seconds, so a saga moving on shows without a reload.
 */
import { residueKeys } from '../cli/saga-view';
import { reportFields } from '../cli/views/registry';
import type { SagaAction } from '../client';
import type { LedgerEntry } from '../rack';
import type { SagaStatus } from '../schemas/saga';
import { actionPath } from './action-specs';
import { type ConsoleContext, temporalUiLink } from './context';
import { graphLegend, stepGraphSvg } from './graph';
import { type Html, h } from './html';
import { liveRegion } from './layout';
import { type Ask, type SagaOutcome, type SagaView, whoMustAct } from './saga-data';
import { decisionsTable, stepsTable } from './steps-table';
import { ago, sagaBadge } from './widgets';

/** The path of a saga's page (ids hold `/`: they travel as a query parameter). */
export function sagaPagePath(workflowId: string, fragment = false): string {
  return `/saga?id=${encodeURIComponent(workflowId)}${fragment ? '&fragment=1' : ''}`;
}

function buttons(workflowId: string, actions: readonly { action: SagaAction; label: string; params?: Record<string, string | number> }[]): Html {
  return h`<div class="buttons">${actions.map((a) => h`<a class="button" href="${actionPath(workflowId, a.action, a.params)}">${a.label}</a>`)}</div>`;
}

const ACTION_LABELS: Record<'retry' | 'skip' | 'unwind', string> = { retry: 'Retry', skip: 'Skip the undo', unwind: 'Unwind the saga' };

/** One request for a person: what waits, since when, who may act, and the buttons to act. */
function askBox(workflowId: string, ask: Ask, now: Date): Html {
  switch (ask.kind) {
    case 'operator': {
      const w = ask.wait;
      const what = w.phase === 'action' ? 'its action failed' : 'its undo failed';
      return h`<section class="act" aria-label="Operator decision needed for ${w.step}">
<p><strong>An operator must act</strong> on step <code>${w.step}</code> (wait ${w.waitId}): ${what} ${ago(w.since, now)}.</p>
<p><code>${w.error.type}</code>: ${w.error.message}</p>
${buttons(workflowId, w.actions.map((action) => ({ action, label: `${ACTION_LABELS[action]} ${w.step}`, params: { step: w.step, waitId: w.waitId } })))}</section>`;
    }
    case 'approval': {
      const a = ask.approval;
      const escalated = a.escalatedAt ? h`; escalated ${ago(a.escalatedAt, now)}` : '';
      return h`<section class="act approval" aria-label="Approval needed for ${a.step}">
<p><strong>${a.approvers.join(' or ')}</strong> must approve or reject "${a.request}" (step <code>${a.step}</code>, wait ${a.waitId}), asked ${ago(a.since, now)}.</p>
<p>It expires ${ago(a.expiresAt, now)}, then the saga ${a.onExpire}s${escalated}.</p>
${buttons(workflowId, [
  { action: 'approve', label: 'Approve', params: { step: a.step, waitId: a.waitId } },
  { action: 'reject', label: 'Reject', params: { step: a.step, waitId: a.waitId } },
])}</section>`;
    }
    case 'person': {
      const p = ask.ask;
      return h`<section class="act approval" aria-label="${p.title}">
<p><strong>${p.who.join(' or ')}</strong> must ${p.task} (step <code>${p.step}</code>, waiting since ${ago(p.since, now)}).</p>
${buttons(workflowId, [{ action: p.action.name, label: p.action.label }])}</section>`;
    }
  }
}

function outcomeBox(outcome: SagaOutcome): Html {
  switch (outcome.kind) {
    case 'completed':
      return h`<div class="ok-box"><p><strong>Completed.</strong></p><pre>${JSON.stringify(outcome.result, null, 2)}</pre></div>`;
    case 'failed':
      return h`<div class="error-box"><p><strong>Failed</strong> without unwinding: ${outcome.message}</p></div>`;
    case 'unwound':
    case 'cancelled': {
      const d = outcome.details;
      if (!d) return h`<div class="error-box"><p><strong>Cancelled</strong>; it left no record of what it undid.</p></div>`;
      const failed = d.failedStep === null ? h`<p>Cause: <code>${d.cause.type}</code>: ${d.cause.message}</p>` : h`<p>Failed step: <strong class="failed-step">${d.failedStep}</strong>: <code>${d.cause.type}</code>: ${d.cause.message}</p>`;
      const skipped = d.skipped.length
        ? h`<p><strong>Residue</strong>: undos skipped, what their actions did stays in the rack:</p><ul>${d.skipped.map((s) => h`<li><code>${s.step}</code> by ${s.operator}: ${s.reason} (ledger key <code>${s.key}</code>)</li>`)}</ul>`
        : '';
      return h`<div class="error-box"><p><strong>${outcome.kind === 'unwound' ? 'Unwound' : 'Cancelled'}.</strong></p>${failed}
<p>Undone, in order: <span class="undone-steps">${d.undone.length ? d.undone.join(', ') : 'nothing'}</span></p>${skipped}</div>`;
    }
  }
}

/**
 * What skipped undos left in the rack, by resource: the rack's ledger under each skipped step's
 * key (as `unwind show` lists it); without a rack, the command that lists it.
 */
async function residueSection(context: ConsoleContext, status: SagaStatus): Promise<Html> {
  const keys = residueKeys(status);
  if (keys.length === 0) return h``;
  const { rack } = context;
  const under = (key: string, e: LedgerEntry) => e.key === key || e.key.startsWith(`${key}/`);
  const rows = rack ? await Promise.all(keys.map(async (key) => (await rack.ledger({ keyPrefix: key })).filter((e) => under(key, e)))).then((r) => r.flat(), () => null) : null;
  const heading = h`<h2>Residue</h2><p>Skipped undos: what their actions did stays in the rack.</p>`;
  if (!rows) return h`${heading}<p>${keys.map((k) => h`<code>unwind rack ledger --key ${k}</code> `)}</p>`;
  if (rows.length === 0) return h`${heading}<p>No effect under their keys in the rack's ledger: their actions never applied.</p>`;
  return h`${heading}<table aria-label="Residue by resource"><thead><tr><th scope="col">Key</th><th scope="col">Resource</th><th scope="col">Effect</th><th scope="col">Operation</th></tr></thead><tbody>
${rows.map((e) => h`<tr><td><code>${e.key}</code></td><td>${e.resourceType} ${e.resourceId}</td><td>${e.effect}</td><td>${e.operation}</td></tr>`)}</tbody></table>`;
}

/** The live part of the page: everything below the title. */
export async function sagaBody(context: ConsoleContext, view: SagaView): Promise<Html> {
  const now = context.now();
  const { summary, status } = view;
  const ui = temporalUiLink(context, summary.workflowId, summary.runId);
  const odd = summary.status !== 'running' && summary.status !== 'completed' && summary.status !== 'failed' ? h` <span class="muted">(workflow ${summary.status})</span>` : '';
  const asks = whoMustAct(status);
  const reports = status ? reportFields(status, now) : [];
  const otherReports = status ? Object.keys(status.reports) : [];
  return h`<div class="saga-top"><dl class="facts">
<dt>Type</dt><dd>${summary.saga}</dd>
<dt>State</dt><dd>${sagaBadge(status?.state ?? summary.state)}${odd}</dd>
<dt>Pivot</dt><dd>${status ? (status.pivoted ? 'passed: steps after it go forward only' : 'not reached: a failure unwinds') : '-'}</dd>
<dt>Started</dt><dd>${ago(summary.startTime, now)}</dd>
<dt>Last progress</dt><dd>${ago(summary.progressAt, now)}</dd>
${summary.closeTime ? h`<dt>Closed</dt><dd>${ago(summary.closeTime, now)}</dd>` : ''}
${status?.cancelRequested ? h`<dt>Cancel</dt><dd>requested ${ago(status.cancelRequested.at, now)}: ${status.cancelRequested.effect}</dd>` : ''}
<dt>History</dt><dd>${ui ? h`<a href="${ui}" rel="noopener">this run in the Temporal UI ↗</a>` : h`<span class="muted">no Temporal UI configured</span>`}</dd>
</dl>
<section aria-labelledby="who-must-act"><h2 id="who-must-act">Who must act</h2>
${asks.length ? asks.map((a) => askBox(summary.workflowId, a, now)) : h`<p>Nobody: the saga ${summary.closeTime ? 'has ended' : 'waits on no person'}.</p>`}</section></div>
${view.outcome ? h`<h2>Outcome</h2>${outcomeBox(view.outcome)}` : ''}
${reports.length || otherReports.length ? h`<h2>Reports</h2>${reports.length ? h`<ul>${reports.map((r) => h`<li>${r.label}: ${r.text}</li>`)}</ul>` : ''}
<details><summary>Every report, as the saga wrote it (${otherReports.join(', ')})</summary><pre>${JSON.stringify(status?.reports, null, 2)}</pre></details>` : ''}
${status ? await residueSection(context, status) : ''}
${status ? h`<h2>Step graph</h2>${graphLegend()}${await stepGraphSvg(status, summary)}
<h2>Steps</h2>${stepsTable(status, now)}
<h2>Decisions</h2>${decisionsTable(status, now)}` : h`<p class="error-box">Steps unavailable: ${view.statusError ?? 'no worker answered the status query'}. Visibility's view is above.</p>`}
<p class="muted">Read at ${now.toISOString()} through the unwind client; <code>unwind show ${summary.workflowId}</code> shows the same.</p>`;
}

/** The page's content: title and live body. */
export async function sagaPage(context: ConsoleContext, view: SagaView): Promise<Html> {
  const id = view.summary.workflowId;
  const live = !view.summary.closeTime;
  const body = await sagaBody(context, view);
  return h`<h1>${view.summary.saga} <span class="muted">${id}</span></h1>
${live ? liveRegion('saga', sagaPagePath(id, true), body, 3_000) : body}`;
}
