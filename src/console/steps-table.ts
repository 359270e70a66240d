/**
 * A saga's steps, decisions and approvals as tables: the step tree the CLI draws (`stepTree`:
 * parallel groups and members as indented rows, the pivot as a rule), with tries, timings and
 * each step's full last error; then who decided what, when and why.
 */
import { type StepNode, stepTree } from '../cli/saga-view';
import { formatDuration } from '../cli/format';
import type { SagaStatus, StepStatus } from '../schemas/saga';
import { type Html, h } from './html';
import { ago, stepBadge } from './widgets';

type Row = { depth: number; label: string; step?: StepStatus; pivot?: boolean };

/** The tree flattened into rows in drawing order; a member gets a row of its own only when it runs several steps. */
function rows(nodes: readonly StepNode[], depth = 0, out: Row[] = []): Row[] {
  for (const node of nodes) {
    if (node.kind === 'step') out.push({ depth, label: node.step.name, step: node.step });
    else if (node.kind === 'pivot') out.push({ depth, label: 'pivot', pivot: true });
    else {
      out.push({ depth, label: `${node.name} (parallel)` });
      for (const member of node.members) {
        if (member.nodes.length === 1) rows(member.nodes, depth + 1, out);
        else {
          out.push({ depth: depth + 1, label: `${node.name} ▸ member ${member.index}` });
          rows(member.nodes, depth + 2, out);
        }
      }
    }
  }
  return out;
}

function span(from: string | null, to: string | null): string {
  if (!from) return '-';
  if (!to) return 'running';
  return formatDuration(Date.parse(to) - Date.parse(from));
}

function undoCell(step: StepStatus): string {
  if (!step.undoable) return 'none';
  if (step.undoAttempts === 0) return '-';
  return `${step.undoAttempts} ${step.undoAttempts === 1 ? 'try' : 'tries'}, took ${span(step.undoStartedAt, step.undoFinishedAt)}`;
}

/** The step table. */
export function stepsTable(status: SagaStatus, now: Date): Html {
  if (status.steps.length === 0) return h`<p class="muted">No steps yet.</p>`;
  const body = rows(stepTree(status.steps, status.pivoted)).map((row) => {
    const indent = `padding-left:${0.6 + row.depth * 1.4}rem`;
    if (row.pivot) return h`<tr><td colspan="8" style="${indent}"><strong>── pivot ──</strong> <span class="muted">steps below go forward only</span></td></tr>`;
    const s = row.step;
    if (!s) return h`<tr><th scope="rowgroup" colspan="8" style="${indent}">${row.label}</th></tr>`;
    const error = s.lastError ? h`<code>${s.lastError.type}</code>: ${s.lastError.message}` : h`<span class="muted">-</span>`;
    return h`<tr data-step="${s.name}"><th scope="row" style="${indent};font-weight:normal">${s.name}${s.afterPivot ? h` <span class="muted">(after pivot)</span>` : ''}</th>
<td>${stepBadge(s.state)}</td><td class="num">${s.attempts}</td><td>${ago(s.startedAt, now)}</td><td>${span(s.startedAt, s.finishedAt)}</td>
<td>${undoCell(s)}</td><td>${ago(s.undoFinishedAt, now)}</td><td>${error}</td></tr>`;
  });
  return h`<table aria-label="Steps"><thead><tr><th scope="col">Step</th><th scope="col">State</th><th scope="col" class="num">Tries</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Undo</th><th scope="col">Undone</th><th scope="col">Last error</th></tr></thead>
<tbody>${body}</tbody></table>`;
}

/** Operator decisions and approvals, oldest first: who, when, what and why. */
export function decisionsTable(status: SagaStatus, now: Date): Html {
  const rowsOut = [
    ...status.decisions.map((d) => ({ at: d.at, what: `${d.action} ${d.step}`, wait: d.waitId, by: d.operator, why: d.reason })),
    ...status.approvals.map((a) => ({ at: a.at, what: `${a.outcome} ${a.step} ("${a.request}")`, wait: a.waitId, by: a.by ?? '(expired)', why: a.comment ?? '' })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  if (rowsOut.length === 0) return h`<p class="muted">No decisions yet.</p>`;
  return h`<table aria-label="Decisions"><thead><tr><th scope="col">When</th><th scope="col">Decision</th><th scope="col" class="num">Wait</th><th scope="col">By</th><th scope="col">Why</th></tr></thead><tbody>
${rowsOut.map((r) => h`<tr><td>${ago(r.at, now)}</td><td>${r.what}</td><td class="num">${r.wait}</td><td>${r.by}</td><td>${r.why}</td></tr>`)}</tbody></table>`;
}
