/**
 * `remindPeople`: reminds the people a saga waits on, every `remindEvery`, and escalates once
 * after `escalateAfter` — for as long as it takes (nothing at or after `until`, when given). A saga runs it as a child
 * while it waits for a person (a technician, approvers) and cancels it when the person acted.
 * It continues as new when its history grows, so a wait of months keeps every history small:
 * the saga's own history holds the child's start and end, never its reminders.
 *
 * Its input is checked at entry: a bad input (a zero interval, no one to remind, …) fails the
 * workflow at once (`InvalidInput`, non-retryable) instead of reminding every millisecond or
 * failing its task forever.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { z } from 'zod';
import { Duration, durationMs } from '../schemas/duration';
import type { PersonNotification } from '../schemas/saga';
import { parseWorkflowInput } from '../schemas/validation';
import { notifyProfile, type OperatorActivities } from './saga/notify';

const Person = z.string().trim().min(1, 'must name someone');

/** Who to remind of what; `remindersSent` and `escalated` carry over a continue-as-new. */
export const RemindPeopleInput = z
  .strictObject({
    sagaType: z.string().min(1),
    /** The saga that waits (the reminders name it). */
    workflowId: z.string().min(1),
    step: z.string().min(1),
    /** What the people are asked to do. */
    request: z.string().min(1),
    to: z.array(Person).min(1, 'must name at least one person to remind').max(64),
    escalateTo: z.array(Person).max(64).default([]),
    remindEvery: Duration,
    escalateAfter: Duration.optional(),
    /** When the wait began (ISO), so reminders keep their rhythm across runs. */
    since: z.iso.datetime(),
    /**
     * When the wait ends on its own (an approval's expiry): nothing is sent at or after it. The
     * workflow still runs until cancelled: a child ending on its own as its parent's timer fires
     * hangs the time-skipping test server.
     */
    until: z.iso.datetime().optional(),
    remindersSent: z.int().nonnegative().optional(),
    escalated: z.boolean().optional(),
  })
  .superRefine((input, ctx) => {
    if (input.until !== undefined && Date.parse(input.until) <= Date.parse(input.since)) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `must be after since (${input.since})` });
    }
  });
/** `remindPeople`'s input as a caller writes it. */
export type RemindPeopleInput = z.input<typeof RemindPeopleInput>;

const { notifyPeople } = proxyActivities<OperatorActivities>(notifyProfile);

/** Continue as new well before a history gets heavy: each reminder costs a handful of events. */
const EVENTS_PER_RUN = 500;

/** Runs until cancelled. */
export async function remindPeople(params: RemindPeopleInput): Promise<void> {
  const input = parseWorkflowInput(RemindPeopleInput, params, 'remindPeople');
  const since = Date.parse(input.since);
  const until = input.until === undefined ? Infinity : Date.parse(input.until);
  // Parsed: both are durations within bounds.
  const every = durationMs(input.remindEvery)!;
  const escalateAt = input.escalateAfter !== undefined && input.escalateTo.length ? since + durationMs(input.escalateAfter)! : Infinity;
  let sent = input.remindersSent ?? 0;
  let escalated = input.escalated ?? false;
  for (;;) {
    const nextReminder = since + (sent + 1) * every;
    const next = Math.min(nextReminder, escalated ? Infinity : escalateAt);
    // Past the end of the wait nothing more is sent; the saga cancels the child when the wait ends.
    if (next >= until) return await condition(() => false);
    await sleep(Math.max(next - Date.now(), 1));
    const tell = async (kind: PersonNotification['kind']) => {
      const to = escalated ? [...new Set([...input.to, ...input.escalateTo])] : input.to;
      await notifyPeople({ kind, sagaType: input.sagaType, workflowId: input.workflowId, step: input.step, request: input.request, to, at: new Date().toISOString() }).catch(
        () => undefined, // best effort: the next reminder tries again
      );
    };
    if (!escalated && Date.now() >= escalateAt) {
      escalated = true;
      await tell('escalation');
    }
    if (Date.now() >= nextReminder) {
      sent += 1;
      await tell('reminder');
    }
    if (workflowInfo().historyLength > EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof remindPeople>({ ...input, remindersSent: sent, escalated });
    }
  }
}

/** The reminders of one wait, running in a child; {@link Reminders.stop} ends them. */
export interface Reminders {
  /** Cancels the child and resolves once it has ended (never rejects). */
  stop(): Promise<void>;
}

/**
 * Starts `remindPeople` as the child `workflowId` (never an id used before: one per wait) and
 * returns how to stop it. The child is shielded from the caller's cancellation and stopped only
 * by {@link Reminders.stop}, once its start has settled: a child cancelled while its start is
 * still in flight is never cancelled, and runs (and reminds) until the saga closes. `stop`
 * waits for the child to end, so the saga never closes with a cancellation in flight (the
 * time-skipping test server stops skipping time then). A child that cannot start is logged;
 * the wait goes on without reminders.
 */
export function startReminders(workflowId: string, input: RemindPeopleInput): Reminders {
  const scope = new CancellationScope({ cancellable: true, parent: new CancellationScope({ cancellable: false }) });
  let settle!: () => void;
  const started = new Promise<void>((resolve) => (settle = resolve));
  const ended = scope.run(async () => {
    try {
      const child = await startChild(remindPeople, {
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      }).finally(settle);
      await child.result();
    } catch (err) {
      settle();
      if (!scope.consideredCancelled) log.warn('the reminders stopped; the wait goes on regardless', { workflowId, error: String(err) });
    }
  });
  return {
    async stop() {
      await started;
      scope.cancel();
      await ended;
    },
  };
}
