/**
 * The notify contract: the activities a saga calls to tell people something, and the one retry
 * profile it calls them with. `notifyOperator` runs when a saga pauses (`needs-operator`,
 * `stuck`: the operator desk, ./operator-desk.ts); `notifyPeople` carries an approval's request,
 * reminders, escalation and expiry (./approval.ts, ../remind-people.ts).
 *
 * The contract lives beside the engine, not in src/activities, so that the engine imports
 * nothing from the activities it calls: src/activities/notify-operator.ts implements this
 * interface, and every worker that runs sagas registers it (on the workflow's task queue, where
 * the engine proxies it by name).
 */
import type { ActivityOptions } from '@temporalio/workflow';
import type { OperatorNotification, PersonNotification } from '../../schemas/saga';

/** The notify activities, as the saga proxies them (`proxyActivities<OperatorActivities>(notifyProfile)`). */
export interface OperatorActivities {
  /** A saga paused for an operator (`needs-operator`, `stuck`). */
  notifyOperator(notification: OperatorNotification): Promise<void>;
  /** An approval was requested, is reminded, was escalated or expired. */
  notifyPeople(notification: PersonNotification): Promise<void>;
}

/**
 * How a saga calls the notify activities: 30 s per attempt, retried for up to 10 minutes. A
 * notification is best effort — the saga waits whether or not it got through — so the budget
 * is bounded and its failure only logged.
 */
export const notifyProfile = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute' },
} as const satisfies ActivityOptions;
