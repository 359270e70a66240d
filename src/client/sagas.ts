/**
 * The saga API, generic over saga types: finding sagas, reading their status, sending operator
 * decisions and approvals (one at a time or in bursts), and grouping recent failures.
 */
import type { Client } from '@temporalio/client';
import type { ApprovalDecisionInput, ApprovalRecord, OperatorDecisionInput, SagaDecision, SagaStatus } from '../schemas/saga';
import {
  ApprovalBurstDecision,
  type ApprovalBurstFilter,
  type ApprovalBurstOptions,
  type ApprovalBurstResult,
  ApprovalBurstSettings,
  approveEach,
  awaitingApproval,
} from './approvals';
import { parseRequest } from './errors';
import { type GenericStartOptions, startWorkflow } from './generic-start';
import { type SagaHandle, sagaHandle } from './handle';
import { SagaListFilter, type SagaSummary, sagaListQuery, visibilityPages } from './list';
import { collectSagas } from './visibility';
import { type ErrorGroup, type SagaErrorsFilter, sagaErrors } from './saga-errors';

/** Finding sagas, reading their status and sending operator decisions. */
export interface SagaApi {
  /**
   * Starts any workflow the worker serves by its type (`unwind start`), with `input` as its one
   * argument and, optionally, `faults` injected (the fault memo). No request identity: each call
   * starts a new workflow, with id `options.workflowId` or `<type in kebab case>/<random>`.
   * @throws InvalidRequestError for a type the worker does not serve or bad faults;
   *   WorkflowExecutionAlreadyStartedError for a workflow id in use. Nothing starts then.
   */
  start<R = unknown>(workflowType: string, options?: GenericStartOptions): Promise<SagaHandle<R>>;
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

/** The saga API over `temporal`; `start` starts workflows on `taskQueue`. */
export function sagaApi(temporal: Client, taskQueue: string): SagaApi {
  const sagas: SagaApi = {
    start: (workflowType, options) => startWorkflow(temporal, taskQueue, workflowType, options),
    handle: (workflowId) => sagaHandle(temporal, workflowId, true),
    status: (workflowId) => sagaHandle(temporal, workflowId, true).status(),
    describe: (workflowId) => sagaHandle(temporal, workflowId, true).describe(),
    async list(filter = {}) {
      const { limit } = parseRequest(SagaListFilter, filter, 'sagas.list');
      return collectSagas(visibilityPages(temporal), sagaListQuery(filter), limit);
    },
    async count(filter = {}) {
      return (await temporal.workflow.count(sagaListQuery(filter))).count;
    },
    retry: (workflowId, decision) => sagaHandle(temporal, workflowId, true).retry(decision),
    skip: (workflowId, decision) => sagaHandle(temporal, workflowId, true).skip(decision),
    unwind: (workflowId, decision) => sagaHandle(temporal, workflowId, true).unwind(decision),
    approve: (workflowId, decision) => sagaHandle(temporal, workflowId, true).approve(decision),
    reject: (workflowId, decision) => sagaHandle(temporal, workflowId, true).reject(decision),
    awaitingApproval: (filter) => awaitingApproval(temporal, filter),
    async approveAll(filter, decision, options = {}) {
      // Everything checked before listing: a bad decision sends nothing.
      parseRequest(ApprovalBurstDecision, decision, 'sagas.approveAll');
      parseRequest(ApprovalBurstSettings, { concurrency: options.concurrency }, 'sagas.approveAll');
      return sagas.approveEach(await sagas.awaitingApproval(filter), decision, options);
    },
    approveEach: (listed, decision, options) => approveEach(temporal, listed, decision, options),
    result: <R>(workflowId: string) => sagaHandle<R>(temporal, workflowId, true).result(),
    errors: (filter) => sagaErrors(temporal, filter),
  };
  return sagas;
}
