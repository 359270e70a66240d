/**
 * Waiting until a workflow is quiet: no activity pending, no workflow task, and no new event
 * between two looks, so no task is about to schedule one either. Cancelling then is the same on
 * every server: the time-skipping server mishandles an activity that completes while its
 * cancellation is being requested.
 */
import type { WorkflowHandle } from '@temporalio/client';

/** Resolves once `handle`'s workflow is quiet; rejects after `timeoutMs`. */
export async function whenQuiescent(handle: WorkflowHandle, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLength = -1;
  for (;;) {
    const { raw, historyLength } = await handle.describe();
    const idle = !raw.pendingActivities?.length && !raw.pendingWorkflowTask;
    if (idle && historyLength === lastLength) return;
    lastLength = idle ? historyLength : -1;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
