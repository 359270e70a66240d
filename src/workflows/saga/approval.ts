/**
 * Human approval inside a saga: a request that notifies its approvers, reminds them on a
 * timer, escalates to more people after a while, and expires into a decided outcome. Only a
 * listed approver (or, once escalated, an escalation contact) may decide; the decision, who
 * made it and when land in the saga's status and in history (the update's event).
 *
 * The reminders run in a child workflow, `remindPeople` (../remind-people.ts), that continues
 * as new on its own: the saga's history holds the request, the child's start and end, the
 * escalation and expiry timers and the decision — a handful of events however long the wait
 * and however often the reminders. The worker must register `remindPeople` (src/workflows
 * exports it); the approval waits regardless if the child cannot start (logged).
 *
 * Lean approvals ({@link LEAN_APPROVAL_PATCH}, every approval a new execution asks): what a
 * parked approval writes is what it needs while parked. The reminders child starts only when its
 * first reminder (or the escalation) is due — a wait decided before then has no child at all
 * (no start, no cancellation, no task for either); one timer wakes the saga for the next of
 * reminder-due, escalation and expiry, and is cancelled only if the saga goes on in the task
 * that decided (a saga that ends there leaves it); the saga's search attributes are upserted
 * once per workflow task (./visibility.ts). The request's notice stays an activity: as a local
 * activity (one marker instead of an activity's three events and a task) it held the saga's
 * first workflow task open while it ran — under load, tasks of a burst of new sagas timed out —
 * and it broke the time-skipping test server's clock (a 90-day sleep ran on to the expiry).
 * Histories recorded before the patch (no marker) replay the older path: the child started with
 * the wait, a timer cancelled when decided, an upsert per state change.
 *
 * Its options are checked when it is asked: durations from 1s to 365d, reminders and escalation
 * before the expiry (src/schemas/duration.ts). Bad options fail the approval's step at once
 * (`InvalidInput`, non-retryable): the saga unwinds with a plain message.
 */
import { ApplicationFailure, CancellationScope, condition, log, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import { z } from 'zod';
import { checkWaitTimings, Duration, durationMs } from '../../schemas/duration';
import {
  ApprovalDecisionInput,
  type PersonNotification,
  type ApprovalOutcome,
  type ApprovalRecord,
  type PendingApproval,
} from '../../schemas/saga';
import { formatIssues, INVALID_INPUT } from '../../schemas/validation';
import { startReminders, type Reminders } from '../remind-people';
import { now } from './clock';
import { decisionRefused } from './failures';
import { approveUpdate, rejectUpdate } from './messages';
import { notifyProfile, type OperatorActivities } from './notify';
import type { WaitBook } from './waits';

/** What {@link Saga.awaitApproval} asks of people, and how long it waits. */
export interface ApprovalOptions {
  /** What is asked, in words an approver acts on ("power off sled-7 for replacement"). */
  readonly request: string;
  /** Who may approve or reject. */
  readonly approvers: readonly string[];
  /** Reminds the approvers this often while no one decided (`4h`, or milliseconds); shorter than `expireAfter`. */
  readonly remindEvery: string | number;
  /** After this long, `escalateTo` are told and may decide too; shorter than `expireAfter`. */
  readonly escalateAfter?: string | number;
  readonly escalateTo?: readonly string[];
  /** After this long the request expires into `onExpire`. At most a year. */
  readonly expireAfter: string | number;
  /** The outcome of an expired request; `reject` unless told. */
  readonly onExpire?: 'approve' | 'reject';
}

const Person = z.string().trim().min(1, 'must name someone');

/** {@link ApprovalOptions} as the desk checks them when an approval is asked. */
export const ApprovalOptionsSchema = z
  .object({
    request: z.string().trim().min(1, 'must say what is asked'),
    approvers: z.array(Person).min(1, 'must name at least one approver').max(64),
    remindEvery: Duration,
    escalateAfter: Duration.optional(),
    escalateTo: z.array(Person).max(64).optional(),
    expireAfter: Duration,
    onExpire: z.enum(['approve', 'reject']).optional(),
  })
  .superRefine((options, ctx) => checkWaitTimings(options, ctx));

/** The outcome of an approval: approved (by whom) or not. */
export interface ApprovalResult {
  readonly outcome: ApprovalOutcome;
  readonly approved: boolean;
  readonly by: string | null;
  readonly comment: string | null;
  readonly at: string;
}

/**
 * The patch of lean approvals (see the file header). Retire it as src/workflows/instance-create.ts
 * says for its own: `deprecatePatch` once no execution that began an approval before the patch
 * runs, then remove the call — which also drops the marker and the TemporalChangeVersion upsert
 * (2 events) from every approval's history.
 */
export const LEAN_APPROVAL_PATCH = 'unwind-lean-approval';

/** What the engine lends an approval: a call at the end of the current workflow task (skipped once the saga has ended). */
export interface ApprovalEngineHooks {
  atEndOfTask(fn: () => void): void;
}

/** The approval a saga waits for, and the decisions taken. Owned by one saga run. */
export class ApprovalDesk {
  private pending: (PendingApproval & { decision?: ApprovalRecord; remindEveryMs: number }) | undefined;
  private readonly records: ApprovalRecord[] = [];
  private readonly notifyPeople = proxyActivities<OperatorActivities>(notifyProfile).notifyPeople;

  constructor(
    private readonly saga: { sagaType: string; workflowId: string },
    /** Numbers the saga's waits; an approval is one. */
    private readonly waits: WaitBook,
    /** Called when the saga starts or stops awaiting approval: its state changes. */
    private readonly changed: (step: string) => void,
    private readonly hooks: ApprovalEngineHooks = { atEndOfTask: (fn) => fn() },
  ) {}

  /** Installs the `approve` and `reject` updates: {@link validate} validates, {@link decide} records. */
  handleUpdates(): void {
    for (const [definition, kind] of [[approveUpdate, 'approve'], [rejectUpdate, 'reject']] as const) {
      setHandler(definition, (input) => this.decide(kind, input), {
        validator: (input) => void this.validate(kind, input),
      });
    }
  }

  /**
   * The approval waited for, as the status shows it. The reminders are the child's, so
   * `remindersSent` counts those due by the workflow's clock: the time of the saga's last
   * activity (a query does not move it).
   */
  current(): PendingApproval | null {
    if (!this.pending) return null;
    const { decision: _decision, remindEveryMs, ...pending } = this.pending;
    const since = Date.parse(pending.since);
    const upTo = Math.min(Date.now(), Date.parse(pending.expiresAt) - 1);
    const remindersSent = Math.max(0, Math.floor((upTo - since) / remindEveryMs));
    return { ...pending, approvers: [...pending.approvers], remindersSent };
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
    const refuse = (why: string) => decisionRefused(kind, this.saga, why);
    const parsed = ApprovalDecisionInput.safeParse(input);
    if (!parsed.success) throw refuse(formatIssues(parsed.error, { root: 'argument' }));
    const pending = this.pending;
    const { waitId } = parsed.data;
    if (waitId !== undefined) {
      const why = this.waits.refusal(waitId, 'approval');
      if (why !== undefined) throw refuse(`${why}.`);
    }
    if (!pending || pending.decision) throw refuse('no approval is pending.');
    if (parsed.data.step !== undefined && parsed.data.step !== pending.step) {
      throw refuse(`the pending approval is step "${pending.step}", not "${parsed.data.step}".`);
    }
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

  /**
   * Waits for a decision on `options.request`: escalation and expiry on the saga's own timers,
   * reminders (and the escalation's notice) in a `remindPeople` child.
   * @param lean the approval takes the lean path ({@link LEAN_APPROVAL_PATCH}, decided by the engine).
   * @throws `InvalidInput` (non-retryable) when the options are not valid: nothing is asked.
   */
  async await(step: string, options: ApprovalOptions, lean = false): Promise<ApprovalResult> {
    if (this.pending) throw new Error(`approval "${step}" requested while "${this.pending.step}" is pending; ask one at a time.`);
    const parsed = ApprovalOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw ApplicationFailure.create({
        type: INVALID_INPUT,
        nonRetryable: true,
        message: `approval "${step}" of saga ${this.saga.sagaType} ${this.saga.workflowId} was asked with invalid options: ${formatIssues(parsed.error)}`,
      });
    }
    const opts = parsed.data;
    const started = Date.now();
    const remindEveryMs = durationMs(opts.remindEvery)!;
    const expiresAt = started + durationMs(opts.expireAfter)!;
    const escalateTo = opts.escalateTo ?? [];
    const escalateAt = opts.escalateAfter !== undefined && escalateTo.length ? started + durationMs(opts.escalateAfter)! : Infinity;
    const pending: PendingApproval & { decision?: ApprovalRecord; remindEveryMs: number } = {
      step,
      waitId: this.waits.open(step, 'approval'),
      request: opts.request,
      approvers: [...opts.approvers],
      since: new Date(started).toISOString(),
      remindersSent: 0,
      escalatedAt: null,
      expiresAt: new Date(expiresAt).toISOString(),
      onExpire: opts.onExpire ?? 'reject',
      remindEveryMs,
    };
    this.pending = pending;
    this.changed(step);
    try {
      void this.tell('request', pending, pending.approvers);
      const startChild = () =>
        startReminders(`${this.saga.workflowId}/reminders/${step}/${pending.waitId}`, {
          sagaType: this.saga.sagaType,
          workflowId: this.saga.workflowId,
          step,
          request: pending.request,
          to: [...opts.approvers],
          escalateTo: [...escalateTo],
          remindEvery: opts.remindEvery,
          ...(opts.escalateAfter !== undefined && { escalateAfter: opts.escalateAfter }),
          since: pending.since,
          until: pending.expiresAt,
        });
      // Lean: the child starts when it has something to say — the first reminder or the
      // escalation's notice — and never when the wait ends before.
      let reminders: Reminders | undefined = lean ? undefined : startChild();
      const childDue = lean ? Math.min(started + remindEveryMs, escalateAt) : Infinity;
      try {
        for (;;) {
          const wakeForChild = reminders === undefined && childDue < expiresAt ? childDue : Infinity;
          const nextEvent = Math.min(pending.escalatedAt === null ? escalateAt : Infinity, expiresAt, wakeForChild);
          const timeout = Math.max(nextEvent - Date.now(), 1);
          if (await (lean ? this.decidedOrTimedOut(pending, timeout) : condition(() => pending.decision !== undefined, timeout))) break;
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
            // The reminder child tells them; from now on they may decide.
            pending.escalatedAt = new Date(t).toISOString();
            pending.approvers.push(...escalateTo.filter((who) => !pending.approvers.includes(who)));
          }
          if (reminders === undefined && t >= childDue) reminders = startChild();
        }
      } finally {
        // Decided, expired or cancelled: nobody is reminded any more; the approval ends once the child has.
        await reminders?.stop();
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

  /**
   * `condition(decided, timeout)` without its timer's cancellation in the same breath: true when
   * decided, false when the timer fired. A decided wait's timer is cancelled at the end of the
   * workflow task, and only if the saga has not ended in it (a closed workflow's timer needs no
   * cancellation: one event fewer). Cancelling the saga cancels the timer with the wait.
   */
  private async decidedOrTimedOut(pending: { decision?: ApprovalRecord }, timeoutMs: number): Promise<boolean> {
    const timerScope = new CancellationScope();
    let fired = false;
    const timer = timerScope.run(() => sleep(timeoutMs)).then(
      () => void (fired = true),
      () => undefined,
    );
    try {
      await condition(() => pending.decision !== undefined || fired);
    } catch (err) {
      timerScope.cancel();
      await timer;
      throw err;
    }
    if (!fired) this.hooks.atEndOfTask(() => timerScope.cancel());
    return !fired;
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
