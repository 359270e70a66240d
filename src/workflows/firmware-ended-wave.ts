/**
 * A rollout's wave that ended from outside (cancelled or terminated by an operator) without
 * reporting: how it ended, and the updates it abandoned. Its SSD updates were started to run on
 * without it (`ParentClosePolicy.ABANDON`), so one it started just before it ended may not have
 * taken its SSD out yet: planned again meanwhile, that SSD would get a second update racing the
 * first at the rack ("someone else has it out of service"). The rollout waits for them first.
 */
import { CancellationScope, ChildWorkflowFailure, isCancellation, sleep, TerminatedFailure } from '@temporalio/workflow';
import type { BlockedUpdate } from '../schemas/firmware';
import { remoteReliable } from './steps/firmware';

/**
 * Runs that reached a wave ended from outside before the rollout waited for its updates replay
 * without the wait; retire the patch with `deprecatePatch` once none of them is open.
 */
export const AWAIT_ABANDONED_UPDATES_PATCH = 'rollout-awaits-abandoned-updates';

/**
 * How a wave child ended without a result when it was ended from outside (`cancelled`,
 * `terminated`), else `undefined`. The rollout's own cancellation is not from outside: it
 * propagates (the saga stops).
 */
export function endedFromOutside(err: unknown): string | undefined {
  if (!(err instanceof ChildWorkflowFailure)) return undefined;
  if (isCancellation(err)) return CancellationScope.current().consideredCancelled ? undefined : 'cancelled';
  return err.cause instanceof TerminatedFailure ? 'terminated' : undefined;
}

/**
 * Waits until none of an ended wave's `updates` runs, looking every `pollIntervalMs` (`waiting`
 * is told which do), except those paused for an operator: returned as blocked, as the wave would
 * have reported them (each tells the rollout its end, `ssdSettled`).
 */
export async function awaitAbandonedUpdates(
  updates: readonly { ssdId: string; workflowId: string }[],
  pollIntervalMs: number,
  waiting: (workflowIds: string[]) => void,
): Promise<BlockedUpdate[]> {
  for (;;) {
    const running = await remoteReliable.firmwareUpdatesRunning(updates.map((u) => u.workflowId));
    const busy = running.filter((r) => !r.paused).map((r) => r.workflowId);
    if (busy.length === 0) {
      return running.map((r) => ({
        ssdId: updates.find((u) => u.workflowId === r.workflowId)?.ssdId ?? r.workflowId,
        workflowId: r.workflowId,
        step: r.step ?? 'unknown',
        error: `waits for an operator: see 'unwind show ${r.workflowId}'`,
      }));
    }
    waiting(busy);
    await sleep(pollIntervalMs);
  }
}
