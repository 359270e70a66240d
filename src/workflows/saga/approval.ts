/**
 * Human approval inside a saga: a request that notifies its approvers, reminds them on a
 * timer, escalates to more people after a while, and expires into a decided outcome. Only a
 * listed approver (or, once escalated, an escalation contact) may decide; the decision, who
 * made it and when land in the saga's status and in history (the update's event).
 */
import { ApplicationFailure, condition, log, proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { OperatorActivities } from '../../activities/notify-operator';
import { SagaFailureType } from '../../schemas/failures';
import {
  ApprovalDecisionInput,
  type PersonNotification,
  type ApprovalOutcome,
  type ApprovalRecord,
  type PendingApproval,
} from '../../schemas/saga';
import type { WaitBook } from './waits';

/** What {@link Saga.awaitApproval} asks of people, and how long it waits. */
export interface ApprovalOptions {
  /** What is asked, in words an approver acts on ("power off sled-7 for replacement"). */
  readonly request: string;
  /** Who may approve or reject. */
  readonly approvers: readonly string[];
  /** Reminds the approvers this often while no one decided. */
  readonly remindEvery: Duration;
  /** After this long, `escalateTo` are told and may decide too. */
  readonly escalateAfter?: Duration;
  readonly escalateTo?: readonly string[];
  /** After this long the request expires into `onExpire`. */
  readonly expireAfter: Duration;
  /** The outcome of an expired request; `reject` unless told. */
  readonly onExpire?: 'approve' | 'reject';
}

/** The outcome of an approval: approved (by whom) or not. */
export interface ApprovalResult {
  readonly outcome: ApprovalOutcome;
  readonly approved: boolean;
  readonly by: string | null;
  readonly comment: string | null;
  readonly at: string;
}

const notifyProfile = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute' },
} as const;

const now = (): string => new Date().toISOString();

/** The approval a saga waits for, and the decisions taken. Owned by one saga run. */
export class ApprovalDesk {
  private pending: (PendingApproval & { decision?: ApprovalRecord }) | undefined;
  private readonly records: ApprovalRecord[] = [];
  private readonly notifyPeople = proxyActivities<OperatorActivities>(notifyProfile).notifyPeople;

  constructor(
    private readonly saga: { sagaType: string; workflowId: string },
    /** Numbers the saga's waits; an approval is one. */
    private readonly waits: WaitBook,
    /** Called when the saga starts or stops awaiting approval: its state changes. */
    private readonly changed: (step: string) => void,
  ) {}

  /** The approval waited for, as the status shows it. */
  current(): PendingApproval | null {
    if (!this.pending) return null;
    const { decision: _decision, ...pending } = this.pending;
    return { ...pending, approvers: [...pending.approvers] };
  }

  /** Finished approvals, oldest first. */
  history(): ApprovalRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /**
   * Validates an `approve` / `reject` update: refused (nothing recorded) when no approval is
   * pending, the named wait (`waitId`) is not the pending approval, or the caller is not among
   * those who may decide now.
   */
  validate(kind: 'approve' | 'reject', input: unknown): ApprovalDecisionInput {
    const refuse = (why: string) =>
      ApplicationFailure.create({
        type: SagaFailureType.InvalidOperatorAction,
        nonRetryable: true,
        message: `${kind} refused for saga ${this.saga.sagaType} ${this.saga.workflowId}: ${why}`,
      });
    const parsed = ApprovalDecisionInput.safeParse(input);
    if (!parsed.success) throw refuse(parsed.error.issues.map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`).join('; '));
    const pending = this.pending;
    const { waitId } = parsed.data;
    if (waitId !== undefined) {
      const why = this.waits.refusal(waitId, 'approval');
      if (why !== undefined) throw refuse(`${why}.`);
    }
    if (!pending || pending.decision) throw refuse('no approval is pending.');
    if (!pending.approvers.includes(parsed.data.approver)) {
      throw refuse(`${parsed.data.approver} may not decide "${pending.request}"; the approvers are ${pending.approvers.join(', ')}.`);
    }
    return parsed.data;
  }

  /** Records a validated decision; the waiting approval resolves with it. */
  decide(kind: 'approve' | 'reject', input: ApprovalDecisionInput): ApprovalRecord {
    const decided = this.validate(kind, input);
    const pending = this.pending!;
    pending.decision = {
      step: pending.step,
      waitId: pending.waitId,
      request: pending.request,
      outcome: kind === 'approve' ? 'approved' : 'rejected',
      approved: kind === 'approve',
      by: decided.approver,
      comment: decided.comment ?? null,
      at: now(),
    };
    return { ...pending.decision };
  }

  /** Waits for a decision on `options.request`, reminding, escalating and expiring on timers. */
  async await(step: string, options: ApprovalOptions): Promise<ApprovalResult> {
    if (this.pending) throw new Error(`approval "${step}" requested while "${this.pending.step}" is pending; ask one at a time.`);
    const started = Date.now();
    const remindEvery = msToNumber(options.remindEvery);
    const expiresAt = started + msToNumber(options.expireAfter);
    const escalateAt = options.escalateAfter !== undefined && options.escalateTo?.length ? started + msToNumber(options.escalateAfter) : Infinity;
    const pending: PendingApproval & { decision?: ApprovalRecord } = {
      step,
      waitId: this.waits.open(step, 'approval'),
      request: options.request,
      approvers: [...options.approvers],
      since: new Date(started).toISOString(),
      remindersSent: 0,
      escalatedAt: null,
      expiresAt: new Date(expiresAt).toISOString(),
      onExpire: options.onExpire ?? 'reject',
    };
    this.pending = pending;
    this.changed(step);
    try {
      void this.tell('request', pending, pending.approvers);
      let nextReminder = started + remindEvery;
      for (;;) {
        const nextEvent = Math.min(nextReminder, pending.escalatedAt === null ? escalateAt : Infinity, expiresAt);
        if (await condition(() => pending.decision !== undefined, Math.max(nextEvent - Date.now(), 1))) break;
        const t = Date.now();
        if (t >= expiresAt) {
          void this.tell('expired', pending, pending.approvers);
          pending.decision = {
            step,
            waitId: pending.waitId,
            request: pending.request,
            outcome: 'expired',
            approved: pending.onExpire === 'approve',
            by: null,
            comment: null,
            at: new Date(t).toISOString(),
          };
          break;
        }
        if (pending.escalatedAt === null && t >= escalateAt) {
          pending.escalatedAt = new Date(t).toISOString();
          const added = (options.escalateTo ?? []).filter((who) => !pending.approvers.includes(who));
          pending.approvers.push(...added);
          void this.tell('escalation', pending, pending.approvers);
        }
        if (t >= nextReminder) {
          pending.remindersSent += 1;
          nextReminder += remindEvery;
          void this.tell('reminder', pending, pending.approvers);
        }
      }
      const record = pending.decision!;
      this.records.push(record);
      return { outcome: record.outcome, approved: record.approved, by: record.by, comment: record.comment, at: record.at };
    } finally {
      const d = pending.decision;
      const how =
        d === undefined
          ? 'ended without a decision: the saga was cancelled'
          : d.outcome === 'expired'
            ? `expired at ${d.at}`
            : `was already decided: ${d.outcome} by ${d.by} at ${d.at}`;
      this.waits.close(pending.waitId, how);
      this.pending = undefined;
      this.changed(step);
    }
  }

  /** Best effort: the approval waits whether or not a notification got through. */
  private async tell(kind: PersonNotification['kind'], pending: PendingApproval, to: readonly string[]): Promise<void> {
    try {
      await this.notifyPeople({
        kind,
        sagaType: this.saga.sagaType,
        workflowId: this.saga.workflowId,
        step: pending.step,
        request: pending.request,
        to: [...to],
        at: now(),
      });
    } catch (err) {
      log.warn('could not notify approvers; the approval waits regardless', { step: pending.step, kind, error: String(err) });
    }
  }
}
