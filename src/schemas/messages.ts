/**
 * The sagas' message definitions (the engine's status query, the operator's and approvers'
 * updates, a sled replacement's hardware report), by name and type: exported constants
 * that the workflows register handlers for and the client sends, so that
 * `handle.executeUpdate(retryUpdate, { args: [{ operator, reason }] })` is typed end to end.
 *
 * Workflow-free: a definition is only `{ type, name }` (what `defineQuery`/`defineUpdate` of
 * `@temporalio/workflow` return), built here without loading the workflow SDK, so the client and
 * the CLI do not load workflow code to send a message.
 */
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { ApprovalDecisionInput, ApprovalRecord, OperatorDecisionInput, SagaDecision, SagaStatus } from './saga';
import type { HardwareReplaced, HardwareReport } from './sled';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as the SDK's own definitions
const update = <Ret, Args extends any[]>(name: string) => ({ type: 'update', name }) as UpdateDefinition<Ret, Args>;
const query = <Ret>(name: string) => ({ type: 'query', name }) as QueryDefinition<Ret, []>;

/** The saga's status: state, steps, what waits for an operator, decisions. */
export const sagaStatusQuery = query<SagaStatus>('sagaStatus');

/**
 * Runs the waiting step again: its action (`needs-operator`) or its undo (`stuck`).
 * Refused by the validator when no step waits for `retry`, or `operator`/`reason` is empty.
 * @returns the decision as recorded.
 */
export const retryUpdate = update<SagaDecision, [OperatorDecisionInput]>('retry');

/**
 * Gives up on a failed undo (`stuck`): the step is recorded as skipped, with the reason and
 * operator, and unwinding continues. Refused unless an undo waits.
 */
export const skipUpdate = update<SagaDecision, [OperatorDecisionInput]>('skip');

/**
 * Unwinds a saga paused before its pivot (`needs-operator`). Refused after the pivot, where
 * the saga can only go forward.
 */
export const unwindUpdate = update<SagaDecision, [OperatorDecisionInput]>('unwind');

/**
 * Approves the pending approval. Refused by the validator (nothing recorded) when no approval
 * is pending or the approver is not listed.
 * @returns the decision as recorded.
 */
export const approveUpdate = update<ApprovalRecord, [ApprovalDecisionInput]>('approve');

/** Rejects the pending approval; the saga unwinds. Same validation as {@link approveUpdate}. */
export const rejectUpdate = update<ApprovalRecord, [ApprovalDecisionInput]>('reject');


/**
 * A technician reports the new hardware is in: `{ serial, technician }` (`sledReplace`). Refused,
 * saying why, unless `technician` is one of the replacement's technicians and the saga takes
 * reports (from the power-off's approval until the new sled is verified). Returns the report as
 * recorded.
 */
export const hardwareReplacedUpdate = update<HardwareReport, [HardwareReplaced]>('hardwareReplaced');
