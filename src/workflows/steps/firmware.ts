/**
 * What the firmware workflows share: activity proxies and polling an observation until it holds.
 *
 * Firmware workflows run rack calls as local activities on the `reliable` profile: each is a
 * short keyed HTTP call, so recording it as a marker in the workflow task that ran it (rather
 * than scheduling it through the server) keeps a per-SSD saga to a handful of events and lets a
 * fleet of them run at the rate the rack allows. Retries are the same: without limit for
 * transient failures, classified at the activity boundary.
 */
import { ApplicationFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType } from '../../schemas/failures';
import { reliable, undo } from '../../schemas/retry-profiles';

/** Rack mutations and firmware reads as local activities, retried until an operator decides. */
export const rackLocalReliable = proxyLocalActivities<Activities>(reliable);
/** Undos as local activities: never abandoned. */
export const rackLocalUndo = proxyLocalActivities<Activities>(undo);
/** Activities that need the worker's Temporal client (starting rollouts): regular activities, reliable. */
export const remoteReliable = proxyActivities<Activities>(reliable);

/**
 * Observes with `observe` until `done` holds, sleeping `intervalMs` between observations.
 * @throws a `NeedsOperator` failure (the saga pauses for `retry`) when `timeoutMs` passes first;
 *   the message is `what` and the last observation.
 */
export async function pollUntil<T>(
  observe: () => Promise<T>,
  done: (observation: T) => boolean,
  options: { timeoutMs: number; intervalMs: number; what: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const observation = await observe();
    if (done(observation)) return observation;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw ApplicationFailure.create({
        type: FailureType.NeedsOperator,
        nonRetryable: true,
        message: `${options.what} (last seen: ${JSON.stringify(observation)})`,
      });
    }
    await sleep(Math.min(options.intervalMs, left));
  }
}
