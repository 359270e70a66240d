/**
 * Grouping recent saga failures for `unwind errors`: pure functions over visibility rows, so
 * the grouping is unit-tested and the client only has to list and fetch one example per group.
 *
 * A failure is a saga whose `UnwindError` is set: it waits on an error (`needs-operator`,
 * `stuck`) or unwound from one. It is grouped by saga type, step (`UnwindStep`) and error type.
 */

/** One failed (or failing) saga as visibility sees it. */
export interface FailureRow {
  workflowId: string;
  saga: string;
  /** The step that failed or waits (`UnwindStep`); `null` when the saga failed outside a step. */
  step: string | null;
  /** The failure type (`UnwindError`), e.g. `Refused`, `NeedsOperator`, `ApprovalRejected`. */
  errorType: string;
  /** ISO time of the saga's last state change (`UnwindProgressAt`). */
  progressAt: string | null;
  /** True while the workflow runs (the saga waits on its error): its status, not its result, has the message. */
  running: boolean;
}

/** One example of a group: a saga, and the failure message it shows. */
export interface ErrorExample {
  workflowId: string;
  /** The failure's message (from the saga's status or its final failure); `null` when unavailable. */
  message: string | null;
}

/** Failures of one saga type, at one step, of one error type. */
export interface ErrorGroup {
  saga: string;
  step: string | null;
  errorType: string;
  count: number;
  /** The most recent failure of the group. */
  example: ErrorExample;
  /** ISO time of the most recent failure of the group (`UnwindProgressAt`). */
  lastAt: string | null;
}

/** A group before its example message is fetched. */
export type ErrorGroupDraft = Omit<ErrorGroup, 'example'> & { example: { workflowId: string; running: boolean } };

/** Accumulates failure rows into groups, one row at a time (thousands of rows, a few groups). */
export class ErrorGrouper {
  private readonly groups = new Map<string, ErrorGroupDraft>();
  /** How many rows were added. */
  total = 0;

  add(row: FailureRow): void {
    this.total++;
    const key = JSON.stringify([row.saga, row.step, row.errorType]);
    const group = this.groups.get(key);
    if (!group) {
      this.groups.set(key, { saga: row.saga, step: row.step, errorType: row.errorType, count: 1, example: { workflowId: row.workflowId, running: row.running }, lastAt: row.progressAt });
      return;
    }
    group.count++;
    // The most recent failure is the example: it is the one an operator is likeliest to look at.
    if (row.progressAt !== null && (group.lastAt === null || row.progressAt > group.lastAt)) {
      group.lastAt = row.progressAt;
      group.example = { workflowId: row.workflowId, running: row.running };
    }
  }

  /** The groups, largest first (ties: most recent first, then by saga, step, error type). */
  result(): ErrorGroupDraft[] {
    return sortGroups([...this.groups.values()]);
  }
}

/** Groups failure rows by saga, step and error type; see {@link ErrorGrouper}. */
export function groupFailures(rows: Iterable<FailureRow>): ErrorGroupDraft[] {
  const grouper = new ErrorGrouper();
  for (const row of rows) grouper.add(row);
  return grouper.result();
}

/** Sorts groups largest first; ties most recent first, then by saga, step and error type. */
export function sortGroups<G extends Omit<ErrorGroup, 'example'>>(groups: G[]): G[] {
  return groups.sort(
    (a, b) =>
      b.count - a.count ||
      (b.lastAt ?? '').localeCompare(a.lastAt ?? '') ||
      a.saga.localeCompare(b.saga) ||
      (a.step ?? '').localeCompare(b.step ?? '') ||
      a.errorType.localeCompare(b.errorType),
  );
}
