/**
 * What an operator sees first: the saga, its state, its pivot, who must act on what since when
 * and the commands to run, the cancellation request, and the fields its type draws from its
 * reports (src/cli/views/registry.ts).
 */
import type { SagaSummary } from '../../client';
import type { CancelRequest, SagaState, SagaStatus } from '../../schemas/saga';
import { formatAgo } from '../format';
import { personAsks, reportFields } from '../views/registry';
import { operatorCommands, shellWord, waitFlag, waitLabel } from './commands';
import { styleSagaState } from './state-styles';
import { type ResolvedViewOptions, type ViewOptions, when } from './view-options';

/** What an operator sees first: the saga, its state, and who must act on what. */
export function renderHeader(summary: SagaSummary | null, status: SagaStatus | null, o: ResolvedViewOptions): string[] {
  const s = o.style;
  const sagaType = status?.sagaType ?? summary?.saga ?? '?';
  const workflowId = status?.workflowId ?? summary?.workflowId ?? '?';
  const state = status?.state ?? summary?.state ?? null;
  const lines = [`${s.bold(sagaType)} ${workflowId}`];
  const field = (name: string, value: string) => lines.push(`  ${`${name}:`.padEnd(10)}${value}`);

  const execution = summary && summary.status !== 'running' && summary.status !== 'completed' && summary.status !== 'failed'
    ? ` (workflow ${summary.status})`
    : '';
  field('state', `${styleSagaState(state, s)}${execution}`);
  if (status) field('pivot', status.pivoted ? 'passed: steps after it go forward only' : 'not reached: a failure unwinds');
  if (summary) {
    const times = [`started ${formatAgo(summary.startTime, o.now)}`, `last progress ${formatAgo(summary.progressAt, o.now)}`];
    if (summary.closeTime) times.push(`closed ${formatAgo(summary.closeTime, o.now)}`);
    field('time', times.join(', '));
  }
  if (status && status.waiting.length > 0) {
    for (const w of status.waiting) {
      const what = w.phase === 'action' ? 'its action failed' : 'its undo failed';
      field('waiting', `${s.bold(w.step)}${waitLabel(w.waitId)}: ${what} ${formatAgo(w.since, o.now)}: ${w.error.type}: ${w.error.message}`);
    }
    const first = status.waiting[0];
    field('who', `an operator must act (since ${formatAgo(first?.since, o.now)}): ${[...new Set(status.waiting.flatMap((w) => w.actions))].join(' | ')}`);
    for (const command of operatorCommands(workflowId, status.waiting)) field('run', command);
  } else if (approvalsOf(status).pendingApproval) {
    const a = approvalsOf(status).pendingApproval;
    if (a) {
      field('waiting', `${s.bold(a.step)}${waitLabel(a.waitId)}: approval of "${a.request}" requested ${formatAgo(a.since, o.now)}`);
      const escalated = a.escalatedAt ? `; escalated ${formatAgo(a.escalatedAt, o.now)}` : '';
      field(
        'who',
        `${a.approvers.join(' or ')} must approve or reject (since ${formatAgo(a.since, o.now)}; expires ${formatAgo(a.expiresAt, o.now)}, then ${a.onExpire}s${escalated})`,
      );
      for (const verb of ['approve', 'reject']) field('run', `unwind ${verb} ${shellWord(workflowId)}${waitFlag(a.waitId)} --as <you> --comment "…"`);
    }
  } else if (state === 'awaiting-approval') {
    field('who', 'an approver must decide');
  } else if (status) {
    for (const ask of personAsks(status)) {
      field('waiting', `${s.bold(ask.step)}: ${ask.waitsFor}, since ${formatAgo(ask.since, o.now)}`);
      field('who', `${ask.who.join(' or ')} must ${ask.task} (since ${formatAgo(ask.since, o.now)})`);
      field('run', ask.command);
    }
  }
  if (status?.cancelRequested) field('cancel', `requested at ${when(status.cancelRequested.at, o.now)}; ${cancelEffect(status.cancelRequested, status.state)}`);
  if (status) lines.push(...renderReports(status, o).map((line) => `  ${line}`));
  return lines;
}

/** What a cancellation request does to a saga in `state`. */
function cancelEffect(request: CancelRequest, state: SagaState): string {
  const ended = state === 'cancelled' || state === 'unwound-with-residue';
  switch (request.effect) {
    case 'goes-forward':
      return 'past the pivot, the saga goes forward';
    case 'already-unwinding':
      return state === 'stuck' ? 'already unwinding; waits for an operator' : 'already unwinding';
    case 'unwinds':
      return ended ? 'unwound' : 'unwinding';
    case 'stops':
      return ended ? 'stopped at a safe point' : 'stopping at a safe point';
  }
}

/**
 * The approval fields of a status, read structurally: sagas of every version answer the
 * query, and those without approvals leave them out.
 */
interface ApprovalView {
  pendingApproval?: {
    step: string;
    waitId?: number;
    request: string;
    approvers: string[];
    since: string;
    escalatedAt: string | null;
    expiresAt: string;
    onExpire: string;
  } | null;
  approvals?: { step: string; request: string; outcome: string; by: string | null; comment: string | null; at: string }[];
}

export function approvalsOf(status: SagaStatus | null): ApprovalView {
  return (status ?? {}) as ApprovalView;
}

/**
 * The fields a saga's type draws from its reports (src/cli/views/registry.ts), one a line:
 * `evacuate: 3 of 5 instances moved`. A report that is not what its schema says reads as
 * unreadable.
 */
export function renderReports(status: SagaStatus, options: ViewOptions = {}): string[] {
  return reportFields(status, options.now ?? new Date()).map(({ label, text }) => `${`${label}: `.padEnd(10)}${text}`);
}
