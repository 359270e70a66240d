/**
 * Grouping recent saga failures, for `unwind errors` and `sagas.errors`: the grouping is pure
 * functions over visibility rows (unit-tested alone); the client lists the rows and reads one
 * example per group for its message.
 *
 * A failure is a saga whose `UnwindError` is set: it waits on an error (`needs-operator`,
 * `stuck`) or unwound from one. It is grouped by saga type, step (`UnwindStep`) and error type.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { UnwindError, UnwindProgressAt, UnwindSaga, UnwindStep } from '../schemas/search-attributes';
import { boundedMap } from './bounded-map';
import { SagaCancelledError, SagaUnwoundError, parseRequest } from './errors';
import { sagaHandle } from './handle';
import { quote } from './list';

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

/** Filter of {@link SagaApi.errors}. */
export const SagaErrorsFilter = z.strictObject({
  /** Failures whose saga last changed state after this time; an hour ago unless told. */
  since: z.union([z.date(), z.iso.datetime({ offset: true }).transform((t) => new Date(t))]).optional(),
  /** At most this many groups, largest first; 50 unless told. */
  limit: z.int().min(1).max(1_000).default(50),
  /** Visibility page size: every matching saga is read, this many per request. */
  pageSize: z.int().min(1).max(1_000).default(1_000),
});
/** See {@link SagaErrorsFilter}. */
export type SagaErrorsFilter = z.input<typeof SagaErrorsFilter>;

/** The visibility query of {@link SagaApi.errors}: sagas with a failure, changed since `since`. */
export function sagaErrorsQuery(since: Date): string {
  return `UnwindSaga IS NOT NULL AND UnwindError IS NOT NULL AND UnwindProgressAt > ${quote(since.toISOString())}`;
}

/** How many example sagas `errors` reads at once. */
const EXAMPLE_CONCURRENCY = 8;
/** How long `errors` waits for one example's message (a status query needs a worker). */
const EXAMPLE_TIMEOUT_MS = 3_000;

/** Recent failures, grouped, each with one example's message: see {@link SagaApi.errors}. */
export async function sagaErrors(temporal: Client, filter: SagaErrorsFilter = {}): Promise<ErrorGroup[]> {
  const f = parseRequest(SagaErrorsFilter, filter, 'sagas.errors');
  const since = f.since ?? new Date(Date.now() - 3_600_000);
  const grouper = new ErrorGrouper();
  for await (const info of temporal.workflow.list({ query: sagaErrorsQuery(since), pageSize: f.pageSize })) {
    const attrs = info.typedSearchAttributes;
    const errorType = attrs.get(UnwindError);
    if (!errorType) continue;
    grouper.add({
      workflowId: info.workflowId,
      saga: attrs.get(UnwindSaga) ?? info.type,
      step: attrs.get(UnwindStep) ?? null,
      errorType,
      progressAt: attrs.get(UnwindProgressAt)?.toISOString() ?? null,
      running: info.status.name === 'RUNNING',
    });
  }
  const groups = grouper.result().slice(0, f.limit);
  // One saga per group is read for its message, a few at a time.
  return boundedMap(groups, EXAMPLE_CONCURRENCY, async (group): Promise<ErrorGroup> => ({
    ...group,
    example: { workflowId: group.example.workflowId, message: await exampleMessage(temporal, group) },
  }));
}

/**
 * The failure message of a group's example: what its step waits on (status query) while the
 * saga runs, else the cause of its final failure. `null` when neither can be read in time.
 */
async function exampleMessage(client: Client, group: ErrorGroupDraft): Promise<string | null> {
  const handle = sagaHandle(client, group.example.workflowId, true);
  if (!group.example.running) {
    // Closed: its final failure is in history, no worker needed.
    const signal = AbortSignal.timeout(EXAMPLE_TIMEOUT_MS);
    try {
      await handle.result({ signal });
      return null;
    } catch (error) {
      if (error instanceof SagaUnwoundError) return error.details.cause.message;
      if (error instanceof SagaCancelledError) return error.details?.cause.message ?? error.message;
      if (!signal.aborted) return error instanceof Error ? error.message : String(error);
    }
  }
  // Running (paused on the error), or closed a moment ago: its status says what it waits on.
  const status = await handle.status({ signal: AbortSignal.timeout(EXAMPLE_TIMEOUT_MS) }).catch(() => undefined);
  if (!status) return null;
  const wait = status.waiting.find((w) => w.step === group.step) ?? status.waitingFor;
  return wait?.error.message ?? status.steps.find((s) => s.name === group.step)?.lastError?.message ?? null;
}
