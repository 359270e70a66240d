/**
 * The saga handle: following a saga (status, result), and acting on it (operator decisions,
 * approvals). Decisions go as updates; the saga's validator refuses what it will not take, and
 * that refusal becomes an {@link OperatorActionRefusedError}.
 */
import {
  type Client,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ApprovalDecisionInput,
  type ApprovalRecord,
  OUTCOME_MEMO_KEY,
  type OperatorAction,
  OperatorDecisionInput,
  type SagaDecision,
  type SagaStatus,
  SagaUnwoundDetails,
  type WaitingFor,
} from '../schemas/saga';
import { executeDecision } from '../temporal/updates';
import { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from '../schemas/messages';
import { OperatorActionRefusedError, type SagaAction, SagaCancelledError, SagaUnwoundError, isCancelled, parseRequest, sagaUnwoundDetailsOf } from './errors';
import { type SagaSummary, finishedState, summarize } from './list';

/** How long a decision waits for the status that says which wait it decides. */
const STATUS_CHECK_TIMEOUT_MS = 10_000;

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
export async function liveStatus(
  client: Client,
  workflowId: string,
  action: SagaAction,
  check?: (info: WorkflowExecutionDescription) => string | undefined,
): Promise<SagaStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const info = await handle.describe();
  if (info.status.name !== 'RUNNING') throw new OperatorActionRefusedError(workflowId, action, `the saga has finished (${finishedState(info.raw.workflowExecutionInfo ?? {})})`);
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

/**
 * A handle on the saga `workflowId`: `existing` and `requestId` say how it was found (see
 * {@link SagaHandle}). No call is made until a method is.
 */
export function sagaHandle<R>(client: Client, workflowId: string, existing: boolean, requestId: string | null = null): SagaHandle<R> {
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
        if (closed) throw new OperatorActionRefusedError(workflowId, action, `the saga has finished (${finishedState(closed.raw.workflowExecutionInfo ?? {})})`, { cause: error });
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
    describe: async () => summarize((await handle.describe()).raw.workflowExecutionInfo ?? {}),
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
