/**
 * The `notifyOperator` activity the saga engine calls when a saga pauses (`needs-operator`,
 * `stuck`). The engine proxies it by name on the workflow's task queue, so every worker that
 * runs sagas registers it (spread {@link createOperatorActivities} into the activity object).
 */
import { Context } from '@temporalio/activity';
import { PersonNotification, OperatorNotification } from '../schemas/saga';
import type { OperatorActivities } from '../workflows/saga/notify';
import { withBoundaries, type BoundaryOptions } from './boundary';

/** Where notifications go: a pager, a chat room, a test's array. A throw counts as a failed delivery. */
export type OperatorNotificationSink = (notification: OperatorNotification) => void | Promise<void>;

/** Logs the notification on the activity logger at WARN: the default when no sink is given. */
export const logNotificationSink: OperatorNotificationSink = (n) => {
  Context.current().log.warn(`saga ${n.sagaType} ${n.workflowId} is ${n.state} at step "${n.step}": ${n.error.type}: ${n.error.message}`, {
    ...n,
  });
};

/** Where requests to people (approvals, hardware swaps), reminders and escalations go. */
export type PersonNotificationSink = (notification: PersonNotification) => void | Promise<void>;

/** Logs the notification to people at WARN: the default when no sink is given. */
export const logPersonSink: PersonNotificationSink = (n) => {
  Context.current().log.warn(`${n.kind} to ${n.to.join(', ')}: ${n.request} (saga ${n.sagaType} ${n.workflowId})`, { ...n });
};

/** Dependencies of {@link createOperatorActivities}. */
export interface OperatorActivityDeps {
  /** Default {@link logNotificationSink}. */
  readonly sink?: OperatorNotificationSink;
  /** Default {@link logPersonSink}. */
  readonly personSink?: PersonNotificationSink;
  /** Backoff of transient delivery failures. */
  readonly backoff?: BoundaryOptions;
}

/**
 * Creates the operator activities: `notifyOperator(notification)` (a saga paused) and
 * `notifyPeople(notification)` (an approval requested, reminded, escalated, expired) validate
 * the notification and hand it to its sink; a sink error is classified at the boundary.
 */
export function createOperatorActivities(deps: OperatorActivityDeps = {}): OperatorActivities {
  const sink = deps.sink ?? logNotificationSink;
  const personSink = deps.personSink ?? logPersonSink;
  return withBoundaries(
    {
      async notifyOperator(notification: OperatorNotification): Promise<void> {
        await sink(OperatorNotification.parse(notification));
      },
      async notifyPeople(notification: PersonNotification): Promise<void> {
        await personSink(PersonNotification.parse(notification));
      },
    },
    deps.backoff,
  );
}

/** The notify contract this module implements (src/workflows/saga/notify.ts); the engine proxies it by type. */
export type { OperatorActivities };
