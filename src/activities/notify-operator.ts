/**
 * The `notifyOperator` activity the saga engine calls when a saga pauses (`needs-operator`,
 * `stuck`). The engine proxies it by name on the workflow's task queue, so every worker that
 * runs sagas registers it (spread {@link createOperatorActivities} into the activity object).
 */
import { Context } from '@temporalio/activity';
import { ApprovalNotification, OperatorNotification } from '../schemas/saga';
import { withBoundaries, type BoundaryOptions } from './boundary';

/** Where notifications go: a pager, a chat room, a test's array. A throw counts as a failed delivery. */
export type OperatorNotificationSink = (notification: OperatorNotification) => void | Promise<void>;

/** Logs the notification on the activity logger at WARN: the default when no sink is given. */
export const logNotificationSink: OperatorNotificationSink = (n) => {
  Context.current().log.warn(`saga ${n.sagaType} ${n.workflowId} is ${n.state} at step "${n.step}": ${n.error.type}: ${n.error.message}`, {
    ...n,
  });
};

/** Where approval requests, reminders and escalations go. */
export type ApprovalNotificationSink = (notification: ApprovalNotification) => void | Promise<void>;

/** Logs the approval notification at WARN: the default when no sink is given. */
export const logApprovalSink: ApprovalNotificationSink = (n) => {
  Context.current().log.warn(`approval ${n.kind} to ${n.to.join(', ')}: ${n.request} (saga ${n.sagaType} ${n.workflowId})`, { ...n });
};

/** Dependencies of {@link createOperatorActivities}. */
export interface OperatorActivityDeps {
  /** Default {@link logNotificationSink}. */
  readonly sink?: OperatorNotificationSink;
  /** Default {@link logApprovalSink}. */
  readonly approvalSink?: ApprovalNotificationSink;
  /** Backoff of transient delivery failures. */
  readonly backoff?: BoundaryOptions;
}

/**
 * Creates the operator activities: `notifyOperator(notification)` (a saga paused) and
 * `notifyApprovers(notification)` (an approval requested, reminded, escalated, expired) validate
 * the notification and hand it to its sink; a sink error is classified at the boundary.
 */
export function createOperatorActivities(deps: OperatorActivityDeps = {}) {
  const sink = deps.sink ?? logNotificationSink;
  const approvalSink = deps.approvalSink ?? logApprovalSink;
  return withBoundaries(
    {
      async notifyOperator(notification: OperatorNotification): Promise<void> {
        await sink(OperatorNotification.parse(notification));
      },
      async notifyApprovers(notification: ApprovalNotification): Promise<void> {
        await approvalSink(ApprovalNotification.parse(notification));
      },
    },
    deps.backoff,
  );
}

/** The activity object {@link createOperatorActivities} returns; the engine proxies it by type. */
export type OperatorActivities = ReturnType<typeof createOperatorActivities>;
