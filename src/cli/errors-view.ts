/**
 * How `unwind errors` shows grouped failures: one row per group (saga, step, error type), the
 * count first, so thousands of failures read as a few lines. Pure: unit-tested, loads instantly.
 */
import type { ErrorGroup } from '../client';
import { formatAgo, renderTable } from './format';

/** Options of {@link renderErrorGroups}. */
export interface ErrorsViewOptions {
  /** The start of the window, for the heading. */
  since: Date;
  /** The clock "3m ago" counts from; now unless told. */
  now?: Date;
  /** True when more groups exist than are shown (the limit cut them). */
  more?: boolean;
  /** Bold headers. */
  color?: boolean;
  /** Width of the message column; 60 unless told. */
  messageWidth?: number;
}

/**
 * A heading (`243 failures in 3 groups since 1h ago`), then a table, largest group first:
 * COUNT, SAGA, STEP, ERROR, LAST (most recent failure), EXAMPLE (a saga id) and its MESSAGE,
 * truncated so each group stays one line.
 */
export function renderErrorGroups(groups: readonly ErrorGroup[], options: ErrorsViewOptions): string {
  const now = options.now ?? new Date();
  const window = `since ${formatAgo(options.since, now)} (${options.since.toISOString()})`;
  if (groups.length === 0) return `no failures ${window}`;
  const total = groups.reduce((sum, g) => sum + g.count, 0);
  const heading = options.more
    ? `${total} failures in the ${groups.length} largest groups ${window}; more groups not shown: raise --limit`
    : `${total} failure${total === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'} ${window}`;
  const table = renderTable(
    [
      { header: 'COUNT', align: 'right' },
      { header: 'SAGA', maxWidth: 24 },
      { header: 'STEP', maxWidth: 28 },
      { header: 'ERROR', maxWidth: 24 },
      { header: 'LAST' },
      { header: 'EXAMPLE', maxWidth: 48 },
      { header: 'MESSAGE', maxWidth: options.messageWidth ?? 60 },
    ],
    groups.map((g) => [g.count, g.saga, g.step, g.errorType, formatAgo(g.lastAt, now), g.example.workflowId, g.example.message]),
    { color: options.color ?? false },
  );
  return `${heading}\n\n${table}\n\n'unwind show <example>' shows one failure in full.`;
}
