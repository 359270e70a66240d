/**
 * Sending a decision (an update) so that it arrives. The server drops an update together with
 * the workflow task that carried it when that task fails — e.g. the task completed the
 * workflow while an activity's result came in, and the server asked for a new task — and
 * answers the caller FAILED_PRECONDITION "unexpected workflow task failure". The decision was
 * not applied; sending it again is safe, because every decision names its wait: a repeat of one
 * that was applied after all is refused ("already decided"), never applied to a later wait.
 *
 * A server too busy to answer in time (DEADLINE_EXCEEDED: "context deadline exceeded") may
 * still have admitted the update: it is sent again under the same update id, which the server
 * answers with that update's outcome instead of running it twice.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { causeChain } from '../schemas/failures';

const FAILED_PRECONDITION = 9;
const DEADLINE_EXCEEDED = 4;
const ATTEMPTS = 5;

/** True for the server's answer to an update dropped with its workflow task. */
export function isDroppedUpdate(error: unknown): boolean {
  return causeChain(error).some((e) => {
    const { code, message } = e as { code?: unknown; message?: unknown };
    return code === FAILED_PRECONDITION && typeof message === 'string' && /workflow task failure/i.test(message);
  });
}

/** True when the update call ran out of time: the update may or may not have been admitted. */
export function isTimedOutUpdate(error: unknown): boolean {
  return causeChain(error).some((e) => e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (e as { code?: unknown }).code === DEADLINE_EXCEEDED);
}

/**
 * Executes `update` with `args`; when the call times out, sends it again under the same update
 * id; when the server drops it with its workflow task, asks
 * `recorded()` whether the saga recorded it after all (its answer is returned), else sends it
 * again, up to five times.
 */
export async function executeDecision<Ret, Arg>(
  handle: WorkflowHandle,
  update: UpdateDefinition<Ret, [Arg]>,
  args: [Arg],
  recorded: () => Promise<Ret | undefined>,
): Promise<Ret> {
  let updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(update, { args, updateId });
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      if (isTimedOutUpdate(error)) continue;
      if (!isDroppedUpdate(error)) throw error;
      // Dropped, so never admitted: a fresh id, in case the server still remembers the old one.
      updateId = randomUUID();
      const applied = await recorded().catch(() => undefined);
      if (applied !== undefined) return applied;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
