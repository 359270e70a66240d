/**
 * What unwind reads from Temporal's visibility: the query a saga filter becomes, and the summary
 * row read back from a `WorkflowExecutionInfo` as the ListWorkflowExecutions call returns it
 * (Temporal's wire shape). Loads neither zod nor the SDK, so that `unwind list` can load it
 * alone (src/client/visibility-wire.ts is its transport); the client's `sagas.list`,
 * `describe` and approval listing read the same rows through the SDK's connection.
 *
 * A saga's state is read from its `UnwindState` and its workflow's execution status together,
 * so a workflow ended from outside is never listed as live.
 */
import { FINAL_SAGA_STATES, LIVE_SAGA_STATES, type SagaState, isSagaState } from '../schemas/saga-states';

/** A saga type as `UnwindSaga` holds it, e.g. `instanceCreate`: what `--saga` and the filter accept. */
export const SAGA_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Says what {@link SAGA_TYPE_PATTERN} expects, in errors. */
export const SAGA_TYPE_EXPECTED = 'a saga type such as instanceCreate (letters, digits, - or _)';

/** A saga list filter once checked (see `SagaListFilter` in list.ts, which checks it). */
export interface CheckedSagaListFilter {
  state?: SagaState;
  saga?: string;
  stalledFor?: number;
  changedSince?: Date;
  limit: number;
}

/** A Temporal execution status, lowercase: `running`, `completed`, `failed`, `terminated`, … */
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number] | 'unspecified' | 'unknown';

/** `temporal.api.enums.v1.WorkflowExecutionStatus`, by number from 1 (0 is unspecified). */
const EXECUTION_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out', 'paused'] as const;

/** One saga as visibility sees it: a row of `sagas.list`, or `sagas.describe`. */
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

/** `google.protobuf.Timestamp`: `seconds` is a `Long` as the SDK decodes it. */
export interface WireTimestamp {
  seconds?: number | { toString(): string } | null;
  nanos?: number | null;
}

/** `temporal.api.common.v1.Payload`. */
export interface WirePayload {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

/**
 * The fields of `temporal.api.workflow.v1.WorkflowExecutionInfo` a row is read from; the SDK's
 * decoded messages (`IWorkflowExecutionInfo`) have this shape, and so does the CLI's decoder.
 */
export interface WireExecutionInfo {
  execution?: { workflowId?: string | null; runId?: string | null } | null;
  type?: { name?: string | null } | null;
  startTime?: WireTimestamp | null;
  closeTime?: WireTimestamp | null;
  status?: number | null;
  searchAttributes?: { indexedFields?: Record<string, WirePayload> | null } | null;
}

/** One page of ListWorkflowExecutions. */
export interface VisibilityPage {
  executions: WireExecutionInfo[];
  /** Empty (or absent) on the last page. */
  nextPageToken?: Uint8Array | null;
}

/** Fetches one page of ListWorkflowExecutions for `query`, at most `pageSize` rows. */
export type FetchVisibilityPage = (request: { query: string; pageSize: number; nextPageToken?: Uint8Array }) => Promise<VisibilityPage>;

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
 * The visibility query of a checked filter, e.g.
 * `UnwindSaga IS NOT NULL AND UnwindState = 'needs-operator' AND ExecutionStatus = 'Running'`.
 * @param now the clock `stalledFor` counts back from.
 */
export function checkedSagaListQuery(f: Omit<CheckedSagaListFilter, 'limit'>, now: Date = new Date()): string {
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

/** The sagas `query` matches, newest first, at most `limit`: page after page until enough. */
export async function collectSagas(fetchPage: FetchVisibilityPage, query: string, limit: number): Promise<SagaSummary[]> {
  const rows: SagaSummary[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await fetchPage({ query, pageSize: Math.min(limit - rows.length, 1000), nextPageToken });
    for (const info of page.executions) if (rows.length < limit) rows.push(summarize(info));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken && rows.length < limit);
  return rows;
}

/** A visibility row as a {@link SagaSummary}. */
export function summarize(info: WireExecutionInfo): SagaSummary {
  const recorded = keyword(info, 'UnwindState');
  const progressAt = keyword(info, 'UnwindProgressAt');
  const status = executionStatus(info);
  return {
    workflowId: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    saga: keyword(info, 'UnwindSaga') ?? info.type?.name ?? '',
    state: sagaState(isSagaState(recorded) ? recorded : null, status),
    step: keyword(info, 'UnwindStep'),
    startTime: isoTime(info.startTime) ?? '',
    progressAt: progressAt === null ? null : new Date(progressAt).toISOString(),
    closeTime: isoTime(info.closeTime),
    status,
  };
}

/**
 * How a closed workflow ended, for refusals: its saga state when the saga recorded its end
 * (`unwound`, `cancelled`, …), else its execution status (`terminated`, `timed_out`).
 */
export function finishedState(info: WireExecutionInfo): string {
  const recorded = keyword(info, 'UnwindState');
  if (isSagaState(recorded) && FINAL_SAGA_STATES.includes(recorded)) return recorded;
  return executionStatus(info);
}

/** The execution status of `info`, lowercase. */
export function executionStatus(info: WireExecutionInfo): ExecutionStatus {
  const status = info.status ?? 0;
  return status === 0 ? 'unspecified' : (EXECUTION_STATUSES[status - 1] ?? 'unknown');
}

const utf8 = new TextDecoder();

/**
 * A search attribute of `info` as text (a Keyword, or a Datetime's ISO string), `null` when
 * unset. The server sends search attributes as JSON payloads (`json/plain`), never through the
 * client's codec, so they read the same whatever the encryption settings.
 */
function keyword(info: WireExecutionInfo, name: string): string | null {
  const payload = info.searchAttributes?.indexedFields?.[name];
  if (!payload?.data?.length) return null;
  const encoding = payload.metadata?.encoding;
  if (encoding && utf8.decode(encoding) !== 'json/plain') return null;
  const value: unknown = JSON.parse(utf8.decode(payload.data));
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' ? text : null;
}

function isoTime(time: WireTimestamp | null | undefined): string | null {
  if (!time?.seconds) return null;
  return new Date(Number(String(time.seconds)) * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString();
}
