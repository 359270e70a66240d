/**
 * `remindPeople`: reminds the people a saga waits on, every `remindEvery`, and escalates once
 * after `escalateAfter` — for as long as it takes. A saga runs it as a child while it waits for
 * a person and cancels it when the person acted. It continues as new when its history grows,
 * so a wait of weeks keeps every history small.
 */
import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { OperatorActivities } from '../activities/notify-operator';
import type { PersonNotification } from '../schemas/saga';

/** Who to remind of what; `remindersSent` and `escalated` carry over a continue-as-new. */
export interface RemindPeopleInput {
  sagaType: string;
  workflowId: string;
  step: string;
  request: string;
  to: string[];
  escalateTo: string[];
  remindEvery: Duration;
  escalateAfter?: Duration;
  /** When the wait began (ISO), so reminders keep their rhythm across runs. */
  since: string;
  remindersSent?: number;
  escalated?: boolean;
}

const { notifyPeople } = proxyActivities<OperatorActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute' },
});

/** Continue as new well before a history gets heavy: each reminder costs a handful of events. */
const EVENTS_PER_RUN = 500;

/** Runs until cancelled. */
export async function remindPeople(input: RemindPeopleInput): Promise<never> {
  const since = Date.parse(input.since);
  const every = msToNumber(input.remindEvery);
  const escalateAt = input.escalateAfter !== undefined && input.escalateTo.length ? since + msToNumber(input.escalateAfter) : Infinity;
  let sent = input.remindersSent ?? 0;
  let escalated = input.escalated ?? false;
  for (;;) {
    const nextReminder = since + (sent + 1) * every;
    const next = Math.min(nextReminder, escalated ? Infinity : escalateAt);
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
