/**
 * Listing sagas: the filter, the visibility queries it becomes, and the summary row read back.
 * A saga's state is read from its `UnwindState` and its workflow's execution status together,
 * so a workflow ended from outside is never listed as live.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { FINAL_SAGA_STATES, SagaState } from '../schemas/saga';
import { UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from '../schemas/search-attributes';
import { parseRequest } from './errors';

/** Filter of {@link SagaApi.list}; every field optional, all given fields must match. */
export const SagaListFilter = z.strictObject({
  /** Only sagas in this state (see {@link sagaStateClause} for what each state matches). */
  state: SagaState.optional(),
  /** Only sagas of this type (`UnwindSaga`), e.g. `instanceCreate`. */
  saga: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'expected a saga type such as instanceCreate (letters, digits, - or _)')
    .optional(),
  /** Only running sagas that made no progress for this many milliseconds (`UnwindProgressAt`). */
  stalledFor: z.number().int().positive().optional(),
  /** Only sagas whose last state change or progress (`UnwindProgressAt`) is after this time: what a window shows. */
  changedSince: z.union([z.date(), z.iso.datetime({ offset: true }).transform((t) => new Date(t))]).optional(),
  /** At most this many rows (newest first); 100 unless told. */
  limit: z.int().min(1).max(10_000).default(100),
});
/** See {@link SagaListFilter}. */
export type SagaListFilter = z.input<typeof SagaListFilter>;

/** A Temporal execution status, lowercase: `running`, `completed`, `failed`, `terminated`, … */
export type ExecutionStatus = Lowercase<WorkflowExecutionInfo['status']['name']>;

/** One saga as visibility sees it: a row of {@link SagaApi.list}, or {@link SagaApi.describe}. */
export interface SagaSummary {
  workflowId: string;
  runId: string;
  /** The saga's type (`UnwindSaga`); the workflow type when the attribute is missing. */
  saga: string;
  /**
   * The saga's state (`UnwindState`); `null` before the saga set it. Never stale: a closed
   * workflow whose `UnwindState` still says it is live (terminated or timed out from outside,
   * so the saga never recorded its end) is `failed`, or `cancelled` when it was cancelled;
   * `status` says how it closed (see {@link sagaState}).
   */
  state: SagaState | null;
  /** The step it is at or waits on (`UnwindStep`). */
  step: string | null;
  /** ISO time the workflow started. */
  startTime: string;
  /** ISO time of its last state change or progress (`UnwindProgressAt`). */
  progressAt: string | null;
  /** ISO time the workflow closed, or `null` while it runs. */
  closeTime: string | null;
  /** The Temporal execution status: `running` while the saga is not finished. */
  status: ExecutionStatus;
}

/** The states of a saga still going (its workflow open): every state but the final ones. */
export const LIVE_SAGA_STATES: readonly SagaState[] = SagaState.options.filter((s) => !FINAL_SAGA_STATES.includes(s));

/**
 * A saga's state from its recorded `UnwindState` and its workflow's execution status: the
 * recorded state, except that a closed workflow cannot be live. One closed with a live state
 * was ended from outside (terminated, timed out, cancelled before the saga could record it):
 * `cancelled` when its workflow was cancelled, `failed` when it failed, was terminated or timed
 * out, `null` (unknown) otherwise.
 */
export function sagaState(recorded: SagaState | null, status: ExecutionStatus): SagaState | null {
  if (recorded === null || status === 'running' || status === 'paused' || FINAL_SAGA_STATES.includes(recorded)) return recorded;
  if (status === 'cancelled') return 'cancelled';
  if (status === 'failed' || status === 'terminated' || status === 'timed_out') return 'failed';
  return null;
}

/** Quotes a value for a visibility query (the values are validated; this is belt and braces). */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const liveStatesList = `(${LIVE_SAGA_STATES.map(quote).join(', ')})`;

/**
 * The visibility clause for sagas in `state`, as {@link sagaState} reads them (the search
 * attribute alone may be stale when a workflow was ended from outside):
 * - a live state (`running`, `unwinding`, `needs-operator`, `stuck`, `awaiting-approval`):
 *   that `UnwindState` on a running workflow — a closed workflow is never listed as live;
 * - `failed`: `UnwindState = 'failed'` (an error escaped the saga), or a workflow closed as
 *   Failed, Terminated or TimedOut whose `UnwindState` is still live;
 * - `cancelled`: `UnwindState = 'cancelled'`, or a workflow closed as Canceled whose
 *   `UnwindState` is still live;
 * - `completed`, `unwound`: that `UnwindState`.
 */
export function sagaStateClause(state: SagaState): string {
  const recorded = `UnwindState = ${quote(state)}`;
  if (LIVE_SAGA_STATES.includes(state)) return `${recorded} AND ExecutionStatus = 'Running'`;
  if (state === 'failed') return `(${recorded} OR (ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut') AND UnwindState IN ${liveStatesList}))`;
  if (state === 'cancelled') return `(${recorded} OR (ExecutionStatus = 'Canceled' AND UnwindState IN ${liveStatesList}))`;
  return recorded;
}

/**
 * The visibility query of a {@link SagaListFilter}, e.g.
 * `UnwindSaga IS NOT NULL AND UnwindState = 'needs-operator' AND ExecutionStatus = 'Running'`.
 * See {@link sagaStateClause} for what each state matches.
 * @param now the clock `stalledFor` counts back from.
 * @throws InvalidRequestError naming every bad field.
 */
export function sagaListQuery(filter: SagaListFilter = {}, now: Date = new Date()): string {
  const f = parseRequest(SagaListFilter, filter, 'sagas.list');
  const clauses = ['UnwindSaga IS NOT NULL'];
  if (f.saga !== undefined) clauses.push(`UnwindSaga = ${quote(f.saga)}`);
  if (f.state !== undefined) clauses.push(sagaStateClause(f.state));
  if (f.stalledFor !== undefined) {
    const running = `ExecutionStatus = 'Running'`;
    if (!clauses.some((c) => c.endsWith(running))) clauses.push(running);
    clauses.push(`UnwindProgressAt < ${quote(new Date(now.getTime() - f.stalledFor).toISOString())}`);
  }
  if (f.changedSince !== undefined) clauses.push(`UnwindProgressAt > ${quote(f.changedSince.toISOString())}`);
  return clauses.join(' AND ');
}

/** A visibility row as a {@link SagaSummary}. */
export function summarize(info: Omit<WorkflowExecutionInfo, 'raw'>): SagaSummary {
  const attrs = info.typedSearchAttributes;
  const recorded = SagaState.safeParse(attrs.get(UnwindState));
  const progressAt = attrs.get(UnwindProgressAt);
  const status = info.status.name.toLowerCase() as ExecutionStatus;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    saga: attrs.get(UnwindSaga) ?? info.type,
    state: sagaState(recorded.success ? recorded.data : null, status),
    step: attrs.get(UnwindStep) ?? null,
    startTime: info.startTime.toISOString(),
    progressAt: progressAt ? progressAt.toISOString() : null,
    closeTime: info.closeTime ? info.closeTime.toISOString() : null,
    status,
  };
}

/**
 * How a closed workflow ended, for refusals: its saga state when the saga recorded its end
 * (`unwound`, `cancelled`, …), else its execution status (`terminated`, `timed_out`).
 */
export function finishedState(info: Omit<WorkflowExecutionInfo, 'raw'>): string {
  const recorded = SagaState.safeParse(info.typedSearchAttributes.get(UnwindState));
  if (recorded.success && FINAL_SAGA_STATES.includes(recorded.data)) return recorded.data;
  return info.status.name.toLowerCase();
}
