/**
 * The saga engine's message definitions: exported constants, so a client's
 * `handle.executeUpdate(retryUpdate, { args: [{ operator, reason }] })` is typed end to end.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecisionInput, ApprovalRecord, OperatorDecisionInput, SagaDecision, SagaStatus } from '../../schemas/saga';

/** The saga's status: state, steps, what waits for an operator, decisions. */
export const sagaStatusQuery = defineQuery<SagaStatus>('sagaStatus');

/**
 * Runs the waiting step again: its action (`needs-operator`) or its undo (`stuck`).
 * Refused by the validator when no step waits for `retry`, or `operator`/`reason` is empty.
 * @returns the decision as recorded.
 */
export const retryUpdate = defineUpdate<SagaDecision, [OperatorDecisionInput]>('retry');

/**
 * Gives up on a failed undo (`stuck`): the step is recorded as skipped, with the reason and
 * operator, and unwinding continues. Refused unless an undo waits.
 */
export const skipUpdate = defineUpdate<SagaDecision, [OperatorDecisionInput]>('skip');

/**
 * Unwinds a saga paused before its pivot (`needs-operator`). Refused after the pivot, where
 * the saga can only go forward.
 */
export const unwindUpdate = defineUpdate<SagaDecision, [OperatorDecisionInput]>('unwind');

/**
 * Approves the pending approval. Refused by the validator (nothing recorded) when no approval
 * is pending or the approver is not listed.
 * @returns the decision as recorded.
 */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalDecisionInput]>('approve');

/** Rejects the pending approval; the saga unwinds. Same validation as {@link approveUpdate}. */
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalDecisionInput]>('reject');
