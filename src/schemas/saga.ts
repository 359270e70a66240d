/**
 * The saga engine's public data: status (query), operator decisions (updates), notifications
 * and the details of a `SagaUnwound` failure. Shared by the engine (workflow bundle), the
 * activities, the client and the CLI; JSON-shaped (ISO strings, not `Date`).
 */
import { z } from 'zod';
import { SAGA_STATES } from './saga-states';

export { SAGA_UNWOUND } from './failures';

/** `<workflowId>/<step>`: the idempotency key an action is given; its undo gets the same key. */
export const IdempotencyKey = z.string().regex(/^[^/]+\/.+$/, 'an idempotency key is `<workflowId>/<step>`');
/** An idempotency key (see {@link IdempotencyKey}). */
export type IdempotencyKey = z.infer<typeof IdempotencyKey>;

/** Builds the idempotency key of `step` in workflow `workflowId`. */
export function idempotencyKey(workflowId: string, step: string): IdempotencyKey {
  return `${workflowId}/${step}`;
}

/** What a saga is doing: one of {@link SAGA_STATES} (see saga-states.ts for what each means). */
export const SagaState = z.enum(SAGA_STATES);
/** One of the {@link SagaState} values. */
export type SagaState = z.infer<typeof SagaState>;

export { FINAL_SAGA_STATES, LIVE_SAGA_STATES } from './saga-states';

/**
 * The number of a wait for a person (an operator decision or an approval): 1, 2, 3… in the order
 * the saga's waits began. With the step it identifies one wait, so a decision meant for it is
 * never applied to a later wait of the same step.
 */
export const WaitId = z.int().positive();
/** See {@link WaitId}. */
export type WaitId = z.infer<typeof WaitId>;

/**
 * What a saga's next run needs from this one when its workflow continues as new: the number of
 * the last wait this run began, so the next run numbers its waits after it and a decision for
 * a wait of an earlier run is refused, never applied to a wait of the new run. A saga gets it
 * from `saga.continuation()`, carries it in its continue-as-new input, and passes it back as
 * `runSaga(…, { continues })`.
 */
export const SagaContinuation = z.object({ lastWaitId: z.int().nonnegative() });
/** See {@link SagaContinuation}. */
export type SagaContinuation = z.infer<typeof SagaContinuation>;

/** What a step is doing. `failed` covers a step waiting for an operator after its action failed. */
export const StepState = z.enum(['pending', 'running', 'succeeded', 'failed', 'undoing', 'undone', 'undo-failed', 'skipped']);
/** One of the {@link StepState} values. */
export type StepState = z.infer<typeof StepState>;

/** A failure as data: its `ApplicationFailure` type (or error name) and message. */
export const ErrorSummary = z.object({ type: z.string(), message: z.string() });
/** See {@link ErrorSummary}. */
export type ErrorSummary = z.infer<typeof ErrorSummary>;

/** The operator actions the saga engine accepts (approval is not the engine's). */
export const OperatorAction = z.enum(['retry', 'skip', 'unwind']);
/** One of `'retry' | 'skip' | 'unwind'`. */
export type OperatorAction = z.infer<typeof OperatorAction>;

/**
 * The argument of the `retry`, `skip` and `unwind` updates. `waitId` names the wait decided
 * (see {@link WaitId}): a decision for a wait that has ended is refused, saying how it ended.
 * Without it, `step` picks the wait; with one wait open both may be left out.
 */
export const OperatorDecisionInput = z.object({
  operator: z.string().trim().min(1, 'operator must name who decides'),
  reason: z.string().trim().min(1, 'reason must say why'),
  step: z.string().min(1).optional(),
  waitId: WaitId.optional(),
});
/** See {@link OperatorDecisionInput}. */
export type OperatorDecisionInput = z.infer<typeof OperatorDecisionInput>;

/** An operator decision as recorded in the saga's status. */
export const SagaDecision = z.object({
  action: OperatorAction,
  operator: z.string(),
  reason: z.string(),
  step: z.string(),
  /** The wait decided. */
  waitId: WaitId,
  at: z.iso.datetime(),
});
/** See {@link SagaDecision}. */
export type SagaDecision = z.infer<typeof SagaDecision>;

/** A step waiting for an operator: which actions it accepts, since when, after which error. */
export const WaitingFor = z.object({
  step: z.string(),
  /** The wait's number: pass it with the decision (`waitId`). */
  waitId: WaitId,
  /** `action`: the step's action failed; `undo`: its undo failed (the saga is stuck). */
  phase: z.enum(['action', 'undo']),
  actions: z.array(OperatorAction),
  since: z.iso.datetime(),
  error: ErrorSummary,
});
/** See {@link WaitingFor}. */
export type WaitingFor = z.infer<typeof WaitingFor>;

/** One step of a saga as the status query shows it. */
export const StepStatus = z.object({
  name: z.string(),
  /** The parallel group the step ran in, as a path for nested groups (`disk-and-nics/regions`), or `null`. */
  group: z.string().nullable(),
  /**
   * Where the step ran: each enclosing parallel group, outermost first, with the index of the
   * member that ran it (`[]` at the saga's top level). Steps with the same branch ran one after
   * another; different members of a group ran side by side.
   */
  branch: z.array(z.object({ group: z.string(), member: z.int().nonnegative() })),
  /** True when the step registered an undo: an unwind must undo (or an operator skip) it. */
  undoable: z.boolean(),
  /** True for a step started after the pivot: it is never undone, and its failure pauses the saga. */
  afterPivot: z.boolean(),
  state: StepState,
  /** Times the workflow invoked the action: operator retries and injected repeats count, activity retries do not. */
  attempts: z.number().int(),
  /** Times the workflow invoked the undo. */
  undoAttempts: z.number().int(),
  lastError: ErrorSummary.nullable(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  undoStartedAt: z.iso.datetime().nullable(),
  undoFinishedAt: z.iso.datetime().nullable(),
});
/** See {@link StepStatus}. */
export type StepStatus = z.infer<typeof StepStatus>;

// ---------------------------------------------------------------------------------------
// Human approval

/** How an approval ended. `expired` applies the request's `onExpire` outcome. */
export const ApprovalOutcome = z.enum(['approved', 'rejected', 'expired']);
/** See {@link ApprovalOutcome}. */
export type ApprovalOutcome = z.infer<typeof ApprovalOutcome>;

/** The argument of the `approve` and `reject` updates. */
export const ApprovalDecisionInput = z.object({
  approver: z.string().trim().min(1, 'approver must name who decides'),
  comment: z.string().max(2_000).optional(),
  /** The approval decided (see {@link WaitId}); a decision for one that has ended is refused. */
  waitId: WaitId.optional(),
  /**
   * The step whose approval is decided: refused when the pending approval is another step's. With
   * it (and no wait id) the client sends the decision at once, without reading the status first.
   */
  step: z.string().trim().min(1, 'step must name the approval step').optional(),
});
/** See {@link ApprovalDecisionInput}. */
export type ApprovalDecisionInput = z.infer<typeof ApprovalDecisionInput>;

/** An approval waiting for a decision, as the status shows it: who must act and since when. */
export const PendingApproval = z.object({
  step: z.string(),
  waitId: WaitId,
  request: z.string(),
  /** Who may decide now: the approvers, plus the escalation contacts once escalated. */
  approvers: z.array(z.string()),
  since: z.iso.datetime(),
  /** Reminders due by the workflow's clock (the reminder child sends them; between the saga's wake-ups it may lag). */
  remindersSent: z.int(),
  escalatedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime(),
  onExpire: z.enum(['approve', 'reject']),
});
/** See {@link PendingApproval}. */
export type PendingApproval = z.infer<typeof PendingApproval>;

/** A finished approval: the decision, who made it and when (`by` is `null` when it expired). */
export const ApprovalRecord = z.object({
  step: z.string(),
  waitId: WaitId,
  request: z.string(),
  outcome: ApprovalOutcome,
  /** What the saga does: an expiry resolves to its `onExpire` outcome. */
  approved: z.boolean(),
  by: z.string().nullable(),
  comment: z.string().nullable(),
  at: z.iso.datetime(),
});
/** See {@link ApprovalRecord}. */
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/**
 * What the people a saga waits on (approvers, technicians) are told: a new request, a reminder,
 * an escalation, or that the request expired.
 */
export const PersonNotification = z.object({
  kind: z.enum(['request', 'reminder', 'escalation', 'expired']),
  sagaType: z.string(),
  workflowId: z.string(),
  step: z.string(),
  request: z.string(),
  to: z.array(z.string()),
  at: z.iso.datetime(),
});
/** See {@link PersonNotification}. */
export type PersonNotification = z.infer<typeof PersonNotification>;

/**
 * A cancellation request as the saga took it:
 * - `unwinds`: before the pivot, the saga unwinds and ends cancelled;
 * - `stops`: a stoppable saga past its pivot starts nothing new, lets what runs settle, and ends cancelled;
 * - `goes-forward`: past the pivot the saga finishes forward; the request changes nothing;
 * - `already-unwinding`: the saga was unwinding already; it finishes unwinding (a stuck undo
 *   still waits for an operator).
 */
export const CancelRequest = z.object({
  at: z.iso.datetime(),
  effect: z.enum(['unwinds', 'stops', 'goes-forward', 'already-unwinding']),
});
/** See {@link CancelRequest}. */
export type CancelRequest = z.infer<typeof CancelRequest>;

/** The answer of the `sagaStatus` query. */
export const SagaStatus = z.object({
  sagaType: z.string(),
  workflowId: z.string(),
  state: SagaState,
  pivoted: z.boolean(),
  /** The step waiting for an operator (the longest-waiting one), or `null`. */
  waitingFor: WaitingFor.nullable(),
  /** Every step waiting for an operator: more than one only when parallel steps wait at once. */
  waiting: z.array(WaitingFor),
  steps: z.array(StepStatus),
  decisions: z.array(SagaDecision),
  /** The approval the saga waits for (state `awaiting-approval`), or `null`. */
  pendingApproval: PendingApproval.nullable(),
  /** Every finished approval, oldest first. */
  approvals: z.array(ApprovalRecord),
  /** What the saga reports of its own progress (e.g. `evacuation: { total, migrated }`), by name. */
  reports: z.record(z.string(), z.unknown()),
  /** A cancellation request, once one came, and what it does (see {@link CancelRequest}). */
  cancelRequested: CancelRequest.nullable(),
});
/** See {@link SagaStatus}. */
export type SagaStatus = z.infer<typeof SagaStatus>;

/**
 * A skipped undo, as recorded: the residue an operator accepted, who accepted it and why.
 * `key` is the step's idempotency key (`<workflowId>/<step>`): what its action did is in the
 * rack's ledger under that key (and under keys it prefixes, `<key>/…`, for actions that make
 * several calls), so the residue can be listed by resource.
 */
export const SkippedUndo = z.object({ step: z.string(), key: IdempotencyKey, reason: z.string(), operator: z.string() });
/** See {@link SkippedUndo}. */
export type SkippedUndo = z.infer<typeof SkippedUndo>;

/** The details (first element) of the `SagaUnwound` failure an unwound saga ends with. */
export const SagaUnwoundDetails = z.object({
  /** The step whose failure unwound the saga; `null` when a cancellation request (or the saga's own code) did. */
  failedStep: z.string().nullable(),
  /** `Cancelled` when a cancellation request unwound it (its message names the steps in flight). */
  cause: ErrorSummary,
  /** Steps undone, in the order their undos finished. */
  undone: z.array(z.string()),
  skipped: z.array(SkippedUndo),
  /** A cancelled saga's last reports (its progress), by name; absent otherwise. */
  reports: z.record(z.string(), z.unknown()).optional(),
});
/** See {@link SagaUnwoundDetails}. */
export type SagaUnwoundDetails = z.infer<typeof SagaUnwoundDetails>;

/**
 * The memo key under which a cancelled saga leaves its {@link SagaUnwoundDetails}: Temporal's
 * cancellation carries no details, so the client reads them from the workflow's memo.
 */
export const OUTCOME_MEMO_KEY = 'unwindOutcome';

/** What the saga engine tells an operator when a saga pauses (argument of the `notifyOperator` activity). */
export const OperatorNotification = z.object({
  sagaType: z.string(),
  workflowId: z.string(),
  state: z.enum(['needs-operator', 'stuck']),
  step: z.string(),
  actions: z.array(OperatorAction),
  error: ErrorSummary,
  at: z.iso.datetime(),
});
/** See {@link OperatorNotification}. */
export type OperatorNotification = z.infer<typeof OperatorNotification>;
