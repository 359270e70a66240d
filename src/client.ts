/**
 * The typed client the control plane uses to start sagas, follow them and act on them.
 *
 * ```ts
 * import { createUnwindClient, InvalidRequestError, SagaUnwoundError } from './client';
 *
 * const unwind = await createUnwindClient({ address: 'temporal.rack:7233' });
 * try {
 *   const saga = await unwind.instances.create({ name: 'web-1', cpus: 2, memoryGiB: 4, diskGiB: 20, requestId: 'r-1' });
 *   console.log(saga.workflowId, saga.existing); // 'instance-create/web-1/r-1', false on the first call
 *   const instance = await saga.result();        // throws SagaUnwoundError if it unwound
 *
 *   const paused = await unwind.sagas.list({ state: 'needs-operator' });
 *   await unwind.sagas.retry(paused[0]!.workflowId, { operator: 'alice', reason: 'sled back online' });
 * } catch (error) {
 *   if (error instanceof InvalidRequestError) console.error(error.problems); // every bad field
 * } finally {
 *   await unwind.close();
 * }
 * ```
 *
 * - Every request is parsed with its zod schema before anything starts: bad input throws an
 *   {@link InvalidRequestError} naming every bad field, and no workflow is created.
 * - Every request carries an idempotency key, its request id (generated when not given). A saga's
 *   workflow id names the object it works on and the request (`instance-create/<name>/<requestId>`,
 *   see `sagaIds`, `diskSagaIds`, `sledReplaceId`) and is never reused. The same request id with
 *   the same parameters returns the saga the first call started (`existing: true`), running or
 *   long finished; with other parameters it is refused ({@link RequestConflictError}, naming the
 *   fields that differ). A new request on the same object (a name used again once its resource
 *   is gone, a request made again after it unwound) starts a new saga.
 * - A start is refused while a saga that must not run alongside it runs on the same object (two
 *   creates of one name, a migrate and a delete of one instance, two replacements of one sled):
 *   {@link SagaConflictError} names the saga running. Whether a *live* resource already has the
 *   name is the rack's rule: its refusal unwinds the saga.
 * - A saga is listable from the moment it is started (`UnwindSaga`, `UnwindState = running` and
 *   `UnwindProgressAt` are set at start), so one that no worker ever picked up shows as stalled.
 */
import {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  type DataConverter,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/common';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DiskCreateParams, type DiskCreateResult, diskSagaIds } from './schemas/disk';
import {
  InstanceCreateParams,
  type InstanceCreateRequest,
  type InstanceCreateResult,
  InstanceDeleteParams,
  type InstanceDeleteResult,
  InstanceMigrateParams,
  type InstanceMigrateResult,
  sagaIds,
} from './schemas/instance';
import {
  ApprovalDecisionInput,
  type ApprovalRecord,
  FINAL_SAGA_STATES,
  OUTCOME_MEMO_KEY,
  type OperatorAction,
  OperatorDecisionInput,
  SAGA_UNWOUND,
  type SagaDecision,
  SagaState,
  type SagaStatus,
  SagaUnwoundDetails,
  type WaitingFor,
} from './schemas/saga';
import { UnwindError, UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from './schemas/search-attributes';
import { HardwareReplaced, type HardwareReport, HardwareStatus, SledReplaceParams, type SledReplaceRequest, type SledReplaceResult, sledReplaceId } from './schemas/sled';
import { REQUEST_MEMO_KEY, RequestMemo, canonical, differingFields } from './schemas/request';
import { ErrorGrouper, type ErrorGroup, type ErrorGroupDraft } from './saga-errors';
import { type FieldProblem, describeProblems, fieldProblems } from './schemas/validation';
import { TASK_QUEUE } from './temporal/worker-config';
import { unwindDataConverter } from './temporal/codec';
import { connectionConfig, sdkConnectOptions, type ConnectionOverrides } from './temporal/connection';
import { executeDecision } from './temporal/updates';
import { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from './workflows/saga/messages';
import { hardwareReplacedUpdate } from './workflows/sled-replace';

export type { ErrorGroup } from './saga-errors';

// ---------------------------------------------------------------------------------------
// Errors

/**
 * A request (saga input, list filter or operator decision) failed validation; nothing was
 * started or sent. `problems` names every bad field; the message lists them all.
 */
export class InvalidRequestError extends Error {
  /** What was being asked for, e.g. `instances.create`. */
  readonly request: string;
  /** Every bad field, in input order. */
  readonly problems: readonly FieldProblem[];

  constructor(request: string, problems: readonly FieldProblem[]) {
    super(`${request}: invalid request: ${describeProblems([...problems])}`);
    this.name = 'InvalidRequestError';
    this.request = request;
    this.problems = problems;
  }
}

/** A saga failed and was unwound: the rack is back where it started (minus any `skipped` undos). */
export class SagaUnwoundError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The failed step, its cause, what was undone and what an operator skipped. */
  readonly details: SagaUnwoundDetails;

  constructor(workflowId: string, details: SagaUnwoundDetails, options?: { cause?: unknown }) {
    const at = details.failedStep === null ? '' : ` at ${details.failedStep}`;
    super(`saga ${workflowId} unwound: failed${at}: ${details.cause.type}: ${details.cause.message}`, options);
    this.name = 'SagaUnwoundError';
    this.workflowId = workflowId;
    this.details = details;
  }
}

/**
 * A saga was cancelled (Temporal status `CANCELED`): before its pivot it unwound, a stoppable
 * saga past its pivot stopped. `details` are what it left in its memo (`unwindOutcome`): what
 * was undone and skipped, its last reports; `null` when it left none (e.g. cancelled before a
 * worker ran it).
 */
export class SagaCancelledError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The cancellation (`cause.type` `Cancelled`), what was undone and skipped; `null` when unknown. */
  readonly details: SagaUnwoundDetails | null;

  constructor(workflowId: string, details: SagaUnwoundDetails | null, options?: { cause?: unknown }) {
    const undone = details === null ? '' : `: undone ${details.undone.length ? details.undone.join(', ') : 'nothing'}`;
    super(`saga ${workflowId} was cancelled${undone}`, options);
    this.name = 'SagaCancelledError';
    this.workflowId = workflowId;
    this.details = details;
  }
}

/** One field a repeated request changed: its dotted path, the first request's value and this one's. */
export interface FieldDifference {
  field: string;
  before: unknown;
  now: unknown;
}

/**
 * The request id was used before with other parameters: the saga it started (`workflowId`)
 * stands, and nothing was started. Make the same request again, or a new one with a new
 * request id.
 */
export class RequestConflictError extends Error {
  /** What was being asked for, e.g. `instances.create`. */
  readonly request: string;
  /** The request id both requests carried. */
  readonly requestId: string;
  /** The saga the first request started. */
  readonly workflowId: string;
  /** The fields that differ (dotted paths), e.g. `['cpus', 'approval.expireAfter']`. */
  readonly fields: readonly string[];
  /** Each differing field with the first request's value and this one's. */
  readonly differences: readonly FieldDifference[];

  constructor(request: string, requestId: string, workflowId: string, differences: readonly FieldDifference[]) {
    const text = differences.map((d) => `${d.field} was ${shown(d.before)}, now ${shown(d.now)}`).join('; ');
    super(
      `${request}: request ${requestId} was made before with other parameters (${text}): it started saga ${workflowId}; ` +
        'nothing was started: repeat it unchanged, or make a new request with a new request id',
    );
    this.name = 'RequestConflictError';
    this.request = request;
    this.requestId = requestId;
    this.workflowId = workflowId;
    this.fields = differences.map((d) => d.field);
    this.differences = differences;
  }
}

/** A running saga a start conflicts with. */
export interface RunningSaga {
  workflowId: string;
  /** Its saga type, e.g. `instanceDelete`. */
  saga: string;
  /** The request that started it (its memo), `null` when it has none (e.g. a saga's child). */
  requestId: string | null;
  /** ISO time it started. */
  startTime: string;
}

/**
 * A saga that must not run alongside the one asked for runs on the same object (another create
 * of the name, a migrate or delete of the instance, a replacement of the sled): nothing was
 * started. `running` names it; make the request again once it has ended.
 */
export class SagaConflictError extends Error {
  /** What was being asked for, e.g. `instances.migrate`. */
  readonly request: string;
  /** The object both sagas work on, e.g. `instance 4f0c…` or `instance name web-1`. */
  readonly object: string;
  /** The saga running on it. */
  readonly running: RunningSaga;

  constructor(request: string, object: string, running: RunningSaga) {
    const by = running.requestId === null ? '' : ` (request ${running.requestId})`;
    super(
      `${request}: refused: saga ${running.saga} ${running.workflowId}${by} is running on ${object} since ${running.startTime}; ` +
        'nothing was started: make the request again once it has ended',
    );
    this.name = 'SagaConflictError';
    this.request = request;
    this.object = object;
    this.running = running;
  }
}

/** A value as a refusal shows it: JSON, `unset` for a missing one. */
function shown(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

/** What a person can ask of a saga: an operator decision, an approval, or reporting new hardware. */
export type SagaAction = OperatorAction | 'approve' | 'reject' | 'hardwareReplaced';

/**
 * The saga refused an operator action (its update validator said no): e.g. `retry` while no
 * step waits, `unwind` after the pivot, `approve` by someone not listed, a decision for a wait
 * that has ended (`waitId`), `hardwareReplaced` while no hardware is awaited, or any action once
 * the saga finished. Also raised by the client before sending, when it fills in the wait and
 * there is none, or several and none was named. Nothing was recorded.
 */
export class OperatorActionRefusedError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The refused action. */
  readonly action: SagaAction;
  /** Why the saga refused, in its own words. */
  readonly reason: string;

  constructor(workflowId: string, action: SagaAction, reason: string, options?: { cause?: unknown }) {
    super(`saga ${workflowId} refused ${action}: ${reason}`, options);
    this.name = 'OperatorActionRefusedError';
    this.workflowId = workflowId;
    this.action = action;
    this.reason = reason;
  }
}

/**
 * If `error` is an unwound saga's final failure (as `result()` throws it, or its cause), the
 * failure's details; otherwise `undefined`.
 */
export function sagaUnwoundDetailsOf(error: unknown): SagaUnwoundDetails | undefined {
  const failure = error instanceof WorkflowFailedError ? error.cause : error;
  if (!(failure instanceof ApplicationFailure) || failure.type !== SAGA_UNWOUND) return undefined;
  const parsed = SagaUnwoundDetails.safeParse(failure.details?.[0]);
  return parsed.success ? parsed.data : undefined;
}

/** True when `error` is a workflow's cancellation, as `handle.result()` throws it. */
function isCancelled(error: unknown): boolean {
  return error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure;
}

function parseRequest<S extends z.ZodType>(schema: S, input: unknown, request: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new InvalidRequestError(request, fieldProblems(result.error));
  return result.data;
}

// ---------------------------------------------------------------------------------------
// Listing

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
function quote(value: string): string {
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

function summarize(info: Omit<WorkflowExecutionInfo, 'raw'>): SagaSummary {
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

// ---------------------------------------------------------------------------------------
// Handles

/** A saga the client started or found: follow it, query it, act on it. */
export interface SagaHandle<R = unknown> {
  /** The saga's workflow id (`<kind>/<object>/<requestId>` for sagas this client starts). */
  readonly workflowId: string;
  /**
   * The request id the start carried (given, or generated when not); `null` for a handle from
   * {@link SagaApi.handle}.
   */
  readonly requestId: string | null;
  /**
   * True when a start found this saga already there (the same request, same id and same
   * parameters, was made before): nothing new was started. Always true for a handle from
   * {@link SagaApi.handle}.
   */
  readonly existing: boolean;
  /**
   * The saga's status (query; a worker answers it, so without one it waits until `signal`
   * aborts or the server gives up).
   */
  status(options?: { signal?: AbortSignal }): Promise<SagaStatus>;
  /** Visibility's view of the saga: works without a worker. */
  describe(): Promise<SagaSummary>;
  /**
   * Waits for the saga to finish. Abort `signal` to stop waiting (the saga goes on): the wait
   * is a long poll that would otherwise hold the connection open.
   * @throws SagaUnwoundError when it unwound; SagaCancelledError when it was cancelled (with
   *   what it undid, from its memo); other workflow failures as the SDK throws them.
   */
  result(options?: { signal?: AbortSignal }): Promise<R>;
  /** See {@link SagaApi.retry}. */
  retry(decision: OperatorDecisionInput): Promise<SagaDecision>;
  /** See {@link SagaApi.skip}. */
  skip(decision: OperatorDecisionInput): Promise<SagaDecision>;
  /** See {@link SagaApi.unwind}. */
  unwind(decision: OperatorDecisionInput): Promise<SagaDecision>;
  /** See {@link SagaApi.approve}. */
  approve(decision: ApprovalDecisionInput): Promise<ApprovalRecord>;
  /** See {@link SagaApi.reject}. */
  reject(decision: ApprovalDecisionInput): Promise<ApprovalRecord>;
  /** The Temporal handle, for what unwind does not wrap. */
  readonly temporal: WorkflowHandle;
}

const operatorUpdates = { retry: retryUpdate, skip: skipUpdate, unwind: unwindUpdate } as const;
const approvalUpdates = { approve: approveUpdate, reject: rejectUpdate } as const;

/** `"ensure-region[1]" (wait 3: retry/unwind)`: an open wait, as refusals list them. */
function describeWait(wait: Pick<WaitingFor, 'step' | 'waitId' | 'actions'>): string {
  return `"${wait.step}" (wait ${wait.waitId}: ${wait.actions.join('/')})`;
}

/**
 * The open operator wait a decision without `waitId` is meant for: the one waiting step, or the
 * one named `step`. When there is none, or several and no step was named, the refusal says
 * why (listing what waits): the decision is not sent.
 */
export function operatorWait(status: Pick<SagaStatus, 'state' | 'waiting'>, step?: string): { wait: WaitingFor } | { refusal: string } {
  const open = status.waiting;
  if (open.length === 0) return { refusal: `the saga is ${status.state} and no step waits for an operator` };
  const list = open.map(describeWait).join(', ');
  const candidates = step === undefined ? open : open.filter((w) => w.step === step);
  const [wait] = candidates;
  if (wait === undefined) return { refusal: `step "${step}" does not wait for an operator; waiting: ${list}` };
  if (candidates.length > 1) {
    return { refusal: `${open.length} steps wait: ${list}; name one by its step or wait id` };
  }
  return { wait };
}

/**
 * The status of a saga about to be acted on, read to fill in what the action needs (the wait it
 * decides). Refuses when the workflow has closed; bounded in time, because a worker must answer.
 * `check` may refuse from visibility's view first (no worker needed).
 */
async function liveStatus(
  client: Client,
  workflowId: string,
  action: SagaAction,
  check?: (info: WorkflowExecutionDescription) => string | undefined,
): Promise<SagaStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const info = await handle.describe();
  if (info.status.name !== 'RUNNING') throw new OperatorActionRefusedError(workflowId, action, `the saga has finished (${finishedState(info)})`);
  const refusal = check?.(info);
  if (refusal !== undefined) throw new OperatorActionRefusedError(workflowId, action, refusal);
  const signal = AbortSignal.timeout(STATUS_CHECK_TIMEOUT_MS);
  try {
    return await client.withAbortSignal(signal, () => handle.query(sagaStatusQuery));
  } catch (error) {
    if (!signal.aborted) throw error;
    throw new Error(`${workflowId}: no worker answered its status query within ${STATUS_CHECK_TIMEOUT_MS / 1_000} s; nothing was sent: is a worker running?`, { cause: error });
  }
}

/** A cancelled saga's outcome, from its memo (`unwindOutcome`); `null` when it left none. */
async function cancelledOutcome(handle: WorkflowHandle): Promise<SagaUnwoundDetails | null> {
  const info = await handle.describe().catch(() => undefined);
  const parsed = SagaUnwoundDetails.safeParse(info?.memo?.[OUTCOME_MEMO_KEY]);
  return parsed.success ? parsed.data : null;
}

function sagaHandle<R>(client: Client, workflowId: string, existing: boolean, requestId: string | null = null): SagaHandle<R> {
  const handle = client.workflow.getHandle(workflowId);
  /** Sends an update; the validator's refusal, or a finished saga, becomes OperatorActionRefusedError. */
  const send = async <T>(action: SagaAction, update: () => Promise<T>): Promise<T> => {
    try {
      return await update();
    } catch (error) {
      // The validator's refusal arrives as the update's failure; anything else (not found,
      // unreachable) is the SDK's error, unchanged.
      if (error instanceof WorkflowUpdateFailedError) {
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        throw new OperatorActionRefusedError(workflowId, action, reason, { cause: error });
      }
      // A finished saga takes no updates, and the server says "not found": tell that apart
      // from an unknown id.
      if (error instanceof WorkflowNotFoundError) {
        const closed = await handle.describe().catch(() => undefined);
        if (closed) throw new OperatorActionRefusedError(workflowId, action, `the saga has finished (${finishedState(closed)})`, { cause: error });
      }
      throw error;
    }
  };
  // Async, so that bad input rejects the promise rather than throwing at the call.
  const act = async (action: OperatorAction, decision: OperatorDecisionInput): Promise<SagaDecision> => {
    const input = parseRequest(OperatorDecisionInput, decision, `sagas.${action}`);
    // Without a wait id, the wait open now is the one decided: sent with its id, the decision
    // is refused if that wait ends before it arrives, never applied to a later one.
    let sent = input;
    if (input.waitId === undefined) {
      const picked = operatorWait(await liveStatus(client, workflowId, action), input.step);
      if ('refusal' in picked) throw new OperatorActionRefusedError(workflowId, action, picked.refusal);
      sent = { ...input, step: picked.wait.step, waitId: picked.wait.waitId };
    }
    const recorded = async () => (await handle.query(sagaStatusQuery)).decisions.find((d) => d.waitId === sent.waitId && d.action === action);
    return await send(action, () => executeDecision(handle, operatorUpdates[action], [sent], recorded));
  };
  const decide = async (action: 'approve' | 'reject', decision: ApprovalDecisionInput): Promise<ApprovalRecord> => {
    const input = parseRequest(ApprovalDecisionInput, decision, `sagas.${action}`);
    let sent = input;
    // Named by its step, the decision goes at once (one round trip): the saga's validator
    // refuses it unless that step's approval is pending.
    if (input.waitId === undefined && input.step === undefined) {
      const status = await liveStatus(client, workflowId, action);
      const pending = status.pendingApproval;
      if (!pending) throw new OperatorActionRefusedError(workflowId, action, `no approval is pending: the saga is ${status.state}`);
      sent = { ...input, waitId: pending.waitId };
    }
    const recorded = async () =>
      (await handle.query(sagaStatusQuery)).approvals.find(
        (r) => (sent.waitId === undefined ? r.step === sent.step : r.waitId === sent.waitId) && r.by === sent.approver,
      );
    return await send(action, () => executeDecision(handle, approvalUpdates[action], [sent], recorded));
  };
  return {
    workflowId,
    requestId,
    existing,
    temporal: handle,
    status: ({ signal } = {}) =>
      signal ? client.withAbortSignal(signal, () => handle.query(sagaStatusQuery)) : handle.query(sagaStatusQuery),
    describe: async () => summarize(await handle.describe()),
    async result(options = {}) {
      try {
        const { signal } = options;
        return (await (signal ? client.withAbortSignal(signal, () => handle.result()) : handle.result())) as R;
      } catch (error) {
        const details = sagaUnwoundDetailsOf(error);
        if (details) throw new SagaUnwoundError(workflowId, details, { cause: error });
        if (isCancelled(error)) throw new SagaCancelledError(workflowId, await cancelledOutcome(handle), { cause: error });
        throw error;
      }
    },
    retry: (decision) => act('retry', decision),
    skip: (decision) => act('skip', decision),
    unwind: (decision) => act('unwind', decision),
    approve: (decision) => decide('approve', decision),
    reject: (decision) => decide('reject', decision),
  };
}

/**
 * How a closed workflow ended, for refusals: its saga state when the saga recorded its end
 * (`unwound`, `cancelled`, …), else its execution status (`terminated`, `timed_out`).
 */
function finishedState(info: Omit<WorkflowExecutionInfo, 'raw'>): string {
  const recorded = SagaState.safeParse(info.typedSearchAttributes.get(UnwindState));
  if (recorded.success && FINAL_SAGA_STATES.includes(recorded.data)) return recorded.data;
  return info.status.name.toLowerCase();
}

// ---------------------------------------------------------------------------------------
// Request identity

/**
 * The object a saga works on, as starts check it: what to call it in a refusal, and the sagas
 * (type and workflow-id prefix) that must not run alongside a new one on it.
 */
export interface SagaObject {
  /** E.g. `instance 4f0c…`, `instance name web-1`, `sled sled-3`. */
  what: string;
  /** `[workflow type, workflow id prefix]` of each kind of saga that excludes a new one. */
  sagas: readonly (readonly [type: string, prefix: string])[];
}

/** How the client starts one kind of saga: its type, request name, schema, id and object. */
interface SagaKind<S extends z.ZodType> {
  sagaType: string;
  /** The request's name in errors, e.g. `instances.create`. */
  request: string;
  schema: S;
  /** The workflow id of a request (its request id filled in). */
  workflowId: (params: z.infer<S> & { requestId: string }) => string;
  object: (params: z.infer<S>) => SagaObject;
}

const instanceObject = (instanceId: string): SagaObject => ({
  what: `instance ${instanceId}`,
  sagas: [
    ['instanceMigrate', `instance-migrate/${instanceId}/`],
    ['instanceDelete', `instance-delete/${instanceId}/`],
  ],
});

/** Every kind of saga the client starts. */
const sagaKinds = {
  instanceCreate: {
    sagaType: 'instanceCreate',
    request: 'instances.create',
    schema: InstanceCreateParams,
    workflowId: sagaIds.instanceCreate,
    object: (p) => ({ what: `instance name ${p.name}`, sagas: [['instanceCreate', `instance-create/${p.name}/`]] }),
  } satisfies SagaKind<typeof InstanceCreateParams>,
  instanceMigrate: {
    sagaType: 'instanceMigrate',
    request: 'instances.migrate',
    schema: InstanceMigrateParams,
    workflowId: sagaIds.instanceMigrate,
    object: (p) => instanceObject(p.instanceId),
  } satisfies SagaKind<typeof InstanceMigrateParams>,
  instanceDelete: {
    sagaType: 'instanceDelete',
    request: 'instances.delete',
    schema: InstanceDeleteParams,
    workflowId: sagaIds.instanceDelete,
    object: (p) => instanceObject(p.instanceId),
  } satisfies SagaKind<typeof InstanceDeleteParams>,
  diskCreate: {
    sagaType: 'diskCreate',
    request: 'disks.create',
    schema: DiskCreateParams,
    workflowId: diskSagaIds.diskCreate,
    object: (p) => ({ what: `disk name ${p.name}`, sagas: [['diskCreate', `disk-create/${p.name}/`]] }),
  } satisfies SagaKind<typeof DiskCreateParams>,
  sledReplace: {
    sagaType: 'sledReplace',
    request: 'sleds.replace',
    schema: SledReplaceParams,
    workflowId: sledReplaceId,
    object: (p) => ({ what: `sled ${p.sledId}`, sagas: [['sledReplace', `sled-replace/${p.sledId}/`]] }),
  } satisfies SagaKind<typeof SledReplaceParams>,
};

/**
 * The visibility query for the running sagas a new saga on `object` must not run alongside, e.g.
 * `ExecutionStatus = 'Running' AND ((WorkflowType = 'instanceMigrate' AND WorkflowId STARTS_WITH
 * 'instance-migrate/i-1/') OR (…))`.
 */
export function sagaConflictQuery(object: SagaObject): string {
  const each = object.sagas.map(([type, prefix]) => `(WorkflowType = ${quote(type)} AND WorkflowId STARTS_WITH ${quote(prefix)})`);
  return `ExecutionStatus = 'Running' AND (${each.join(' OR ')})`;
}

/** A new request id: 12 random lowercase letters and digits. */
export function newRequestId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The fingerprint of a request's parsed parameters (request id left out): key order does not matter. */
export function requestFingerprint(params: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(JSON.stringify(canonical(params))).digest('hex').slice(0, 32);
}

// ---------------------------------------------------------------------------------------
// The client

/**
 * Options of {@link createUnwindClient}; anything unset comes from Temporal's environment
 * configuration (the `TEMPORAL_*` variables and the profile file, see src/temporal/connection.ts).
 */
export type UnwindClientOptions = ConnectionOverrides & {
  /** The task queue sagas are started on; `TASK_QUEUE` (`UNWIND_TASK_QUEUE`, else `unwind`) unless told. */
  taskQueue?: string;
  /** The environment the connection and the encryption keys are read from; `process.env` unless told. */
  env?: NodeJS.ProcessEnv;
  /**
   * The data converter; unless told, the encryption codec when `UNWIND_ENCRYPTION_KEY_FILE` or
   * `UNWIND_ENCRYPTION_KEYS` is set (see src/temporal/codec.ts), else the SDK's default.
   */
  dataConverter?: DataConverter;
};

/** Starting instance sagas. Each parses its request first and returns the saga's handle. */
export interface InstanceApi {
  /**
   * Starts `instanceCreate` (id `instance-create/<name>/<requestId>`). Refused while another
   * create of the name runs; a name may be used again once its instance is gone.
   * @throws InvalidRequestError naming every bad field; RequestConflictError when the request id
   *   was used with other parameters; SagaConflictError when another create of the name runs.
   *   Nothing is started.
   */
  create(request: InstanceCreateRequest): Promise<SagaHandle<InstanceCreateResult>>;
  /**
   * Starts `instanceMigrate` (id `instance-migrate/<instance>/<requestId>`). Refused while a
   * migrate or delete of the instance runs.
   * @throws as {@link create}; nothing is started.
   */
  migrate(request: InstanceMigrateParams): Promise<SagaHandle<InstanceMigrateResult>>;
  /**
   * Starts `instanceDelete` (id `instance-delete/<instance>/<requestId>`). Refused while a
   * migrate or delete of the instance runs.
   * @throws as {@link create}; nothing is started.
   */
  delete(request: InstanceDeleteParams): Promise<SagaHandle<InstanceDeleteResult>>;
}

/** Starting disk sagas. */
export interface DiskApi {
  /**
   * Starts `diskCreate` (id `disk-create/<name>/<requestId>`). Refused while another create of
   * the name runs.
   * @throws InvalidRequestError naming every bad field; RequestConflictError when the request id
   *   was used with other parameters; SagaConflictError when another create of the name runs.
   *   Nothing is started.
   */
  create(request: DiskCreateParams): Promise<SagaHandle<DiskCreateResult>>;
}

/** Replacing sleds: the `sledReplace` saga and what its technician reports. */
export interface SledApi {
  /**
   * Starts `sledReplace` (id `sled-replace/<sledId>/<requestId>`): evacuate, re-replicate,
   * ask to power off, wait for the technician, verify, re-admit. The same request finds the
   * same saga (`existing: true`); refused while another replacement of the sled runs.
   * @throws InvalidRequestError naming every bad field; RequestConflictError when the request id
   *   was used with other parameters; SagaConflictError when the sled is being replaced already.
   *   Nothing is started.
   */
  replace(request: SledReplaceRequest): Promise<SagaHandle<SledReplaceResult>>;
  /**
   * Tells the replacement `workflowId` that the new hardware is in (the `hardwareReplaced`
   * update). The saga takes reports from its listed technicians, from the power-off's approval
   * until the new sled is verified: a technician who reported a wrong serial reports again while
   * `verify-new-sled` waits, and the operator's retry verifies the latest report.
   * @returns the report as the saga recorded it (its number among the reports, and when).
   * @throws InvalidRequestError when `serial` or `technician` is empty; WorkflowNotFoundError for
   *   an unknown id; OperatorActionRefusedError when the saga is not a sled replacement, has
   *   finished, or refused the report (saying why: a technician not listed, the power-off not
   *   approved yet, the new sled verified already) — nothing is recorded.
   */
  hardwareReplaced(workflowId: string, report: HardwareReplaced): Promise<HardwareReport>;
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

// ---------------------------------------------------------------------------------------
// Decisions in bursts

/** Which sagas awaiting approval {@link SagaApi.approveAll} decides; every field optional, all given must match. */
export const ApprovalBurstFilter = z.strictObject({
  /** Only sagas of this type (`UnwindSaga`), e.g. `sledReplace`. */
  saga: SagaListFilter.shape.saga,
  /** Only approvals asked by this step (`UnwindStep`), e.g. `approve-power-off`. */
  step: z.string().trim().min(1, 'must name a step').max(200).optional(),
  /** At most this many sagas (oldest first); 10000 unless told. */
  limit: z.int().min(1).max(10_000).default(10_000),
});
/** See {@link ApprovalBurstFilter}. */
export type ApprovalBurstFilter = z.input<typeof ApprovalBurstFilter>;

/** The decision {@link SagaApi.approveAll} sends each saga: who approves and why (each saga's own pending approval is decided). */
export const ApprovalBurstDecision = ApprovalDecisionInput.omit({ waitId: true, step: true }).strict();
/** See {@link ApprovalBurstDecision}. */
export type ApprovalBurstDecision = z.input<typeof ApprovalBurstDecision>;

/** How a burst runs: `concurrency` decisions in flight at once (50 unless told). */
export const ApprovalBurstSettings = z.strictObject({ concurrency: z.int().min(1).max(500).default(50) });

/** What became of one saga of a burst. */
export type ApprovalBurstOutcome =
  | { workflowId: string; saga: string; step: string | null; outcome: 'approved'; record: ApprovalRecord }
  /** The saga refused (nothing recorded): `reason` in its own words (not an approver, no longer pending, finished). */
  | { workflowId: string; saga: string; step: string | null; outcome: 'refused'; reason: string }
  /** The decision could not be sent or its outcome not learnt (timeout, connection): `reason` says what failed. */
  | { workflowId: string; saga: string; step: string | null; outcome: 'failed'; reason: string };

/** Counts of a burst so far, given to `onProgress` after each saga. */
export interface ApprovalBurstProgress {
  total: number;
  done: number;
  approved: number;
  refused: number;
  failed: number;
  /** The saga just decided. */
  last: ApprovalBurstOutcome;
}

/** Options of {@link SagaApi.approveAll} and {@link SagaApi.approveEach}. */
export interface ApprovalBurstOptions {
  /** Decisions in flight at once: 1 to 500, 50 unless told. */
  concurrency?: number;
  /** Called after each saga, in the order they finish. */
  onProgress?: (progress: ApprovalBurstProgress) => void;
}

/** The outcome of a burst: one entry per saga, in the order given (or listed). */
export interface ApprovalBurstResult {
  outcomes: ApprovalBurstOutcome[];
  approved: number;
  refused: number;
  failed: number;
}

/** The visibility query of the sagas a burst decides: awaiting approval, of `saga`, at `step`. */
export function approvalBurstQuery(filter: ApprovalBurstFilter = {}): string {
  const f = parseRequest(ApprovalBurstFilter, filter, 'sagas.approveAll');
  const query = sagaListQuery({ state: 'awaiting-approval', ...(f.saga !== undefined && { saga: f.saga }) });
  return f.step === undefined ? query : `${query} AND UnwindStep = ${quote(f.step)}`;
}

/** Runs `each` over `items`, at most `concurrency` at once; results in the order of `items`. */
async function boundedMap<T, R>(items: readonly T[], concurrency: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await each(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** Finding sagas, reading their status and sending operator decisions. */
export interface SagaApi {
  /** A handle on the saga `workflowId` (no call is made). */
  handle<R = unknown>(workflowId: string): SagaHandle<R>;
  /** The saga's status (query; needs a worker). @throws WorkflowNotFoundError for an unknown id. */
  status(workflowId: string): Promise<SagaStatus>;
  /** Visibility's view of one saga (no worker needed). @throws WorkflowNotFoundError for an unknown id. */
  describe(workflowId: string): Promise<SagaSummary>;
  /**
   * Sagas matching `filter`, newest first (visibility is eventually consistent: a saga started
   * a moment ago may take a second to appear). A live state lists only open workflows; `failed`
   * and `cancelled` include workflows ended from outside (see {@link sagaStateClause}).
   * @throws InvalidRequestError naming every bad filter field (e.g. an unknown state).
   */
  list(filter?: SagaListFilter): Promise<SagaSummary[]>;
  /**
   * How many sagas match `filter` (visibility counts them: no rows are read, `limit` is ignored).
   * Eventually consistent, like {@link list}.
   * @throws InvalidRequestError naming every bad filter field.
   */
  count(filter?: SagaListFilter): Promise<number>;
  /**
   * Runs the waiting step again: its action (`needs-operator`) or its undo (`stuck`).
   *
   * A decision decides one wait (`waitId`, as the status shows it in `waiting`). Given, it is
   * sent as is: the saga refuses it if that wait has ended, saying how. Left out, the client
   * reads the saga's status (a worker must answer, within 10 s) and sends the decision for the
   * wait open now — the one named by `step`, needed only when several steps wait — so a wait
   * that ends in the meantime is refused, never replaced by a later one.
   * @returns the decision as the saga recorded it (with its `waitId`).
   * @throws InvalidRequestError when `operator` or `reason` is empty; OperatorActionRefusedError
   *   when the saga refuses (nothing waits for `retry`, the wait has ended, it finished) or, with
   *   no `waitId`, when nothing waits or several steps do and no `step` was named.
   */
  retry(workflowId: string, decision: OperatorDecisionInput): Promise<SagaDecision>;
  /** Gives up on a failed undo (`stuck`); the residue is recorded with the reason. Throws as {@link retry}. */
  skip(workflowId: string, decision: OperatorDecisionInput): Promise<SagaDecision>;
  /** Unwinds a saga paused before its pivot (`needs-operator`). Throws as {@link retry}. */
  unwind(workflowId: string, decision: OperatorDecisionInput): Promise<SagaDecision>;
  /**
   * Approves the saga's pending approval (state `awaiting-approval`). Like {@link retry}, the
   * decision names the approval by its `waitId` (`pendingApproval.waitId`), filled in from the
   * status when left out.
   * @returns the decision as the saga recorded it (who, when, comment, wait).
   * @throws InvalidRequestError when `approver` is empty; OperatorActionRefusedError with the
   *   saga's own message when it refuses (the approver is not listed, nothing is pending, that
   *   approval has ended, it finished) — nothing is recorded.
   */
  approve(workflowId: string, decision: ApprovalDecisionInput): Promise<ApprovalRecord>;
  /** Rejects the saga's pending approval: before its pivot the saga unwinds. Throws as {@link approve}. */
  reject(workflowId: string, decision: ApprovalDecisionInput): Promise<ApprovalRecord>;
  /**
   * The sagas awaiting approval (visibility, oldest first) that {@link approveAll} would decide:
   * of type `filter.saga`, asked by step `filter.step`.
   * @throws InvalidRequestError naming every bad field.
   */
  awaitingApproval(filter?: ApprovalBurstFilter): Promise<SagaSummary[]>;
  /**
   * Approves, as `decision.approver`, the pending approval of every saga {@link awaitingApproval}
   * lists, `concurrency` at a time (50 unless told). Never stops at a refusal: each saga's outcome
   * is `approved` (with the record), `refused` (the saga's reason: not an approver, no longer
   * pending, finished — nothing recorded) or `failed` (the decision could not be sent or
   * confirmed). A saga listed but decided meanwhile is refused, never decided twice.
   * @throws InvalidRequestError for a bad filter, decision or concurrency (nothing is sent).
   */
  approveAll(filter: ApprovalBurstFilter, decision: ApprovalBurstDecision, options?: ApprovalBurstOptions): Promise<ApprovalBurstResult>;
  /** As {@link approveAll}, for sagas already listed (e.g. by {@link awaitingApproval}, after a person confirmed the count). */
  approveEach(sagas: readonly Pick<SagaSummary, 'workflowId' | 'saga' | 'step'>[], decision: ApprovalBurstDecision, options?: ApprovalBurstOptions): Promise<ApprovalBurstResult>;
  /**
   * Recent failures grouped by saga type, step and error type, largest group first, with one
   * example each (the most recent; its message read from that one saga only). Reads every
   * saga with `UnwindError` set and `UnwindProgressAt` after `since` from visibility, however
   * many: visibility alone does the counting.
   * @throws InvalidRequestError naming every bad filter field.
   */
  errors(filter?: SagaErrorsFilter): Promise<ErrorGroup[]>;
  /** Waits for the saga's result. @throws SagaUnwoundError when it unwound, SagaCancelledError when it was cancelled. */
  result<R = unknown>(workflowId: string): Promise<R>;
}

/** A connected unwind client. Call `close()` when done. */
export interface UnwindClient {
  readonly instances: InstanceApi;
  readonly disks: DiskApi;
  readonly sleds: SledApi;
  readonly sagas: SagaApi;
  /** The underlying Temporal client, for what unwind does not wrap. */
  readonly temporal: Client;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects to the Temporal cluster unwind runs on.
 * @throws ConnectionConfigError for unusable connection settings (an unreadable TLS file, an
 *   unknown profile), EncryptionKeyError for unusable encryption keys, both before connecting;
 *   the SDK's error when the cluster cannot be reached.
 */
export async function createUnwindClient(options: UnwindClientOptions = {}): Promise<UnwindClient> {
  const env = options.env ?? process.env;
  const config = connectionConfig(options, env);
  const connectOptions = sdkConnectOptions(config);
  const dataConverter = options.dataConverter ?? unwindDataConverter(env);
  const connection = await Connection.connect(connectOptions);
  const temporal = new Client({ connection, namespace: config.namespace, ...(dataConverter && { dataConverter }) });
  const taskQueue = options.taskQueue ?? TASK_QUEUE;

  /**
   * Parses, then starts `kind`'s saga for the request, or finds the saga the same request started:
   * 1. the request id given was used before (the workflow id exists): the same parameters return
   *    that saga (`existing`), other parameters throw RequestConflictError;
   * 2. a conflicting saga runs on the object (visibility): SagaConflictError;
   * 3. start; a start that loses a race for the same id reads the winner as in 1.
   */
  async function start<S extends z.ZodType<{ requestId?: string | undefined }>, R>(kind: SagaKind<S>, input: unknown): Promise<SagaHandle<R>> {
    const parsed = parseRequest(kind.schema, input, kind.request);
    const given = parsed.requestId;
    const requestId = given ?? newRequestId();
    const params = { ...parsed, requestId } as z.infer<S> & { requestId: string };
    const { requestId: _omitted, ...compared } = params as Record<string, unknown>;
    const memo: RequestMemo = { id: requestId, fingerprint: requestFingerprint(compared), params: compared };
    const workflowId = kind.workflowId(params);
    const handle = temporal.workflow.getHandle(workflowId);

    /** The saga the same request id started: this one if the parameters match, else refused. */
    const sameRequest = (found: WorkflowExecutionDescription): SagaHandle<R> => {
      const first = RequestMemo.safeParse(found.memo?.[REQUEST_MEMO_KEY]);
      if (first.success && first.data.fingerprint !== memo.fingerprint) {
        const fields = differingFields(first.data.params, compared);
        if (fields.length > 0) {
          const at = (p: Record<string, unknown>, field: string) => field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p);
          throw new RequestConflictError(kind.request, requestId, workflowId, fields.map((field) => ({ field, before: at(first.data.params, field), now: at(compared, field) })));
        }
      }
      return sagaHandle<R>(temporal, workflowId, true, requestId);
    };

    // A generated id is new: only a request id given can have been used before.
    if (given !== undefined) {
      const found = await handle.describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
      if (found) return sameRequest(found);
    }
    const object = kind.object(params);
    const running = await runningOn(object, workflowId);
    if (running) throw new SagaConflictError(kind.request, object.what, running);
    try {
      await temporal.workflow.start(kind.sagaType, {
        taskQueue,
        workflowId,
        args: [params],
        memo: { [REQUEST_MEMO_KEY]: memo },
        // A workflow id names one request: never run twice, never reused after it closed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        // Listable (and findable as stalled) before any worker picks it up; the engine takes over.
        typedSearchAttributes: [
          { key: UnwindSaga, value: kind.sagaType },
          { key: UnwindState, value: 'running' },
          { key: UnwindProgressAt, value: new Date() },
        ],
      });
      return sagaHandle<R>(temporal, workflowId, false, requestId);
    } catch (error) {
      // The same request started meanwhile (another caller, or a retry of this call).
      if (error instanceof WorkflowExecutionAlreadyStartedError) return sameRequest(await handle.describe());
      throw error;
    }
  }

  /** The oldest running saga on `object` that a new saga there must not run alongside, if any. */
  async function runningOn(object: SagaObject, except: string): Promise<RunningSaga | undefined> {
    const query = sagaConflictQuery(object);
    let oldest: RunningSaga | undefined;
    for await (const info of temporal.workflow.list({ query, pageSize: 100 })) {
      // STARTS_WITH may match more loosely than a prefix (SQL LIKE): check each id.
      const excluded = object.sagas.some(([type, prefix]) => info.type === type && info.workflowId.startsWith(prefix));
      if (!excluded || info.workflowId === except) continue;
      const request = RequestMemo.safeParse(info.memo?.[REQUEST_MEMO_KEY]);
      const found: RunningSaga = {
        workflowId: info.workflowId,
        saga: info.typedSearchAttributes.get(UnwindSaga) ?? info.type,
        requestId: request.success ? request.data.id : null,
        startTime: info.startTime.toISOString(),
      };
      if (!oldest || found.startTime < oldest.startTime) oldest = found;
    }
    return oldest;
  }

  const sagas: SagaApi = {
    handle: (workflowId) => sagaHandle(temporal, workflowId, true),
    status: (workflowId) => sagaHandle(temporal, workflowId, true).status(),
    describe: (workflowId) => sagaHandle(temporal, workflowId, true).describe(),
    async list(filter = {}) {
      const { limit } = parseRequest(SagaListFilter, filter, 'sagas.list');
      const query = sagaListQuery(filter);
      const rows: SagaSummary[] = [];
      for await (const info of temporal.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
        rows.push(summarize(info));
        if (rows.length >= limit) break;
      }
      return rows;
    },
    async count(filter = {}) {
      return (await temporal.workflow.count(sagaListQuery(filter))).count;
    },
    retry: (workflowId, decision) => sagaHandle(temporal, workflowId, true).retry(decision),
    skip: (workflowId, decision) => sagaHandle(temporal, workflowId, true).skip(decision),
    unwind: (workflowId, decision) => sagaHandle(temporal, workflowId, true).unwind(decision),
    approve: (workflowId, decision) => sagaHandle(temporal, workflowId, true).approve(decision),
    reject: (workflowId, decision) => sagaHandle(temporal, workflowId, true).reject(decision),
    async awaitingApproval(filter = {}) {
      const { limit } = parseRequest(ApprovalBurstFilter, filter, 'sagas.approveAll');
      const rows: SagaSummary[] = [];
      for await (const info of temporal.workflow.list({ query: approvalBurstQuery(filter), pageSize: Math.min(limit, 1000) })) {
        rows.push(summarize(info));
        if (rows.length >= limit) break;
      }
      // Oldest first: the sagas that waited longest are decided first.
      return rows.sort((a, b) => a.startTime.localeCompare(b.startTime));
    },
    async approveAll(filter, decision, options = {}) {
      // Everything checked before listing: a bad decision sends nothing.
      parseRequest(ApprovalBurstDecision, decision, 'sagas.approveAll');
      parseRequest(ApprovalBurstSettings, { concurrency: options.concurrency }, 'sagas.approveAll');
      return sagas.approveEach(await sagas.awaitingApproval(filter), decision, options);
    },
    async approveEach(listed, decision, options = {}) {
      const sent = parseRequest(ApprovalBurstDecision, decision, 'sagas.approveAll');
      const { concurrency } = parseRequest(ApprovalBurstSettings, { concurrency: options.concurrency }, 'sagas.approveAll');
      const tally = { total: listed.length, done: 0, approved: 0, refused: 0, failed: 0 };
      const outcomes = await boundedMap(listed, concurrency, async ({ workflowId, saga, step }): Promise<ApprovalBurstOutcome> => {
        let outcome: ApprovalBurstOutcome;
        try {
          // Named by the listed step: one update per saga, no status read first.
          const record = await sagaHandle(temporal, workflowId, true).approve({ ...sent, ...(step !== null && { step }) });
          outcome = { workflowId, saga, step, outcome: 'approved', record };
        } catch (error) {
          outcome =
            error instanceof OperatorActionRefusedError
              ? { workflowId, saga, step, outcome: 'refused', reason: error.reason }
              : error instanceof WorkflowNotFoundError
                ? { workflowId, saga, step, outcome: 'refused', reason: 'no such saga (deleted since it was listed)' }
                : { workflowId, saga, step, outcome: 'failed', reason: error instanceof Error ? error.message : String(error) };
        }
        tally.done++;
        tally[outcome.outcome]++;
        try {
          options.onProgress?.({ ...tally, last: outcome });
        } catch {
          // A progress display that throws does not stop the burst.
        }
        return outcome;
      });
      return { outcomes, approved: tally.approved, refused: tally.refused, failed: tally.failed };
    },
    result: <R>(workflowId: string) => sagaHandle<R>(temporal, workflowId, true).result(),
    async errors(filter = {}) {
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
      return mapBounded(groups, EXAMPLE_CONCURRENCY, async (group): Promise<ErrorGroup> => ({
        ...group,
        example: { workflowId: group.example.workflowId, message: await exampleMessage(temporal, group) },
      }));
    },
  };

  const sleds: SledApi = {
    replace: (request) => start(sagaKinds.sledReplace, request),
    async hardwareReplaced(workflowId, report) {
      const input = parseRequest(HardwareReplaced, report, 'sleds.hardwareReplaced');
      const status = await liveStatus(temporal, workflowId, 'hardwareReplaced', (info) => {
        const sagaType = info.typedSearchAttributes.get(UnwindSaga) ?? info.type;
        return sagaType === 'sledReplace' ? undefined : `it is a ${sagaType} saga, not a sled replacement`;
      });
      // The saga's validator decides (who, when) and says why not; a report dropped with its
      // workflow task is sent again unless the saga recorded it after all.
      const reportsOf = (s: SagaStatus) => HardwareStatus.safeParse(s.reports.hardware).data?.reports ?? [];
      const before = reportsOf(status).length;
      const handle = temporal.workflow.getHandle(workflowId);
      const recorded = async () =>
        reportsOf(await handle.query(sagaStatusQuery))
          .slice(before)
          .find((r) => r.serial === input.serial && r.technician === input.technician);
      try {
        return await executeDecision(handle, hardwareReplacedUpdate, [input], recorded);
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          const reason = error.cause instanceof Error ? error.cause.message : error.message;
          throw new OperatorActionRefusedError(workflowId, 'hardwareReplaced', reason, { cause: error });
        }
        throw error;
      }
    },
  };

  return {
    instances: {
      create: (request) => start(sagaKinds.instanceCreate, request),
      migrate: (request) => start(sagaKinds.instanceMigrate, request),
      delete: (request) => start(sagaKinds.instanceDelete, request),
    },
    disks: {
      create: (request) => start(sagaKinds.diskCreate, request),
    },
    sleds,
    sagas,
    temporal,
    close: () => connection.close(),
  };
}

/** How long `sleds.hardwareReplaced` waits for the status that says whether hardware is awaited. */
const STATUS_CHECK_TIMEOUT_MS = 10_000;
/** How many example sagas `errors` reads at once. */
const EXAMPLE_CONCURRENCY = 8;
/** How long `errors` waits for one example's message (a status query needs a worker). */
const EXAMPLE_TIMEOUT_MS = 3_000;

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

/** Maps `items` with at most `limit` calls in flight, keeping the order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
