/** `unwind list` as a table. */
import type { SagaSummary } from '../../client';
import { formatAgo, renderTable } from '../format';
import type { ViewOptions } from './view-options';

/**
 * `unwind list` as a table: id, saga, state, step, when it started, when it last progressed.
 * A workflow that ended without the saga finishing (terminated, timed out) shows its
 * execution status beside the state.
 */
export function renderSagaList(rows: readonly SagaSummary[], options: ViewOptions & { filter?: string } = {}): string {
  if (rows.length === 0) return `no sagas${options.filter ? ` matching ${options.filter}` : ''}`;
  const now = options.now ?? new Date();
  return renderTable(
    ['ID', 'SAGA', 'STATE', 'STEP', 'STARTED', 'LAST PROGRESS'],
    rows.map((r) => [
      r.workflowId,
      r.saga,
      r.status === 'running' || r.status === 'completed' || r.status === 'failed' ? r.state : `${r.state ?? '-'} (${r.status})`,
      r.step,
      formatAgo(r.startTime, now),
      formatAgo(r.progressAt, now),
    ]),
    { color: options.color ?? false, maxCellWidth: 64 },
  );
}
