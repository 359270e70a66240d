/** `unwind show` as text: the header, the cause, the residue, the steps, the decisions. */
import type { SagaSummary } from '../../client';
import type { LedgerEntry } from '../../rack/schemas';
import type { SagaStatus } from '../../schemas/saga';
import { formatAgo } from '../format';
import { renderCause } from './cause';
import { approvalsOf, renderHeader } from './header';
import { renderResidue } from './residue';
import { renderSteps } from './steps-table';
import { resolveViewOptions, type ViewOptions } from './view-options';

/**
 * `unwind show` as text: the header (saga, state, pivot, who must act and since when, the
 * commands to run), why it did not finish, the residue of skipped undos, the steps in order
 * with parallel groups indented, then the decisions.
 *
 * @param summary visibility's row (times, execution status); `null` if unavailable
 * @param status the status query's answer; `null` when no worker answered (`statusError` says why)
 * @param options.ledger the rack's ledger rows under the keys of the skipped undos
 *   (`residueKeys`): the residue is then listed by resource; without it, by step and key
 */
export function renderSagaView(
  summary: SagaSummary | null,
  status: SagaStatus | null,
  options: ViewOptions & { statusError?: string; ledger?: readonly LedgerEntry[] } = {},
): string {
  const o = resolveViewOptions(options);
  const out = renderHeader(summary, status, o);
  out.push('');
  if (!status) {
    out.push(`steps unavailable: ${options.statusError ?? 'no worker answered the status query'}`);
    return out.join('\n');
  }
  const cause = renderCause(summary, status, o.now);
  if (cause) out.push(cause, '');
  const residue = renderResidue(status, options.ledger, o);
  if (residue.length > 0) out.push(...residue, '');
  out.push(...renderSteps(status, o));
  if (status.decisions.length > 0) {
    out.push('', o.style.bold('decisions:'));
    for (const d of status.decisions) out.push(`  ${formatAgo(d.at, o.now)}  ${d.action} ${d.step} by ${d.operator}: ${d.reason}`);
  }
  const approvals = approvalsOf(status).approvals ?? [];
  if (approvals.length > 0) {
    out.push('', o.style.bold('approvals:'));
    for (const a of approvals) {
      out.push(`  ${formatAgo(a.at, o.now)}  ${a.outcome} ${a.step} ("${a.request}")${a.by ? ` by ${a.by}` : ''}${a.comment ? `: ${a.comment}` : ''}`);
    }
  }
  return out.join('\n');
}
