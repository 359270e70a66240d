/**
 * Named activity option profiles, for `proxyActivities<Activities>(profile)` in workflow code.
 *
 * They live here rather than in src/activities because workflow code (which calls
 * `proxyActivities`) may import only src/schemas, zod and Temporal's workflow package.
 *
 * The activity boundary (src/activities/boundary.ts) sets `nextRetryDelay` on every transient
 * failure (full-jitter capped exponential backoff), so the `retry` backoff below is only the
 * fallback for failures that never passed the boundary (a worker crash, a start-to-close timeout).
 *
 * Every profile waits for a cancelled activity to finish (`WAIT_CANCELLATION_COMPLETED`): a
 * cancelled saga then undoes a step only after its action has settled, never while it runs.
 */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/common';
import { FailureType } from './failures';

const nonRetryableErrorTypes = [FailureType.Refused, FailureType.NeedsOperator, FailureType.UnknownState];

/** One-shot sagas: a short bounded budget (5 attempts, 2 minutes), then the saga unwinds. */
export const oneShot = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Reliable sagas: transient failures retry without limit (no maximum attempts, no schedule-to-close). */
export const reliable = {
  startToCloseTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/**
 * Undos, whatever the saga's kind: transient failures retry without limit, because an undo
 * never abandons work; a non-retryable failure makes the saga `stuck` for an operator.
 */
export const undo = {
  startToCloseTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const satisfies ActivityOptions;
