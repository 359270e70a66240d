import { WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { executeDecision, isDroppedUpdate } from '../src/temporal/updates';
import { retryUpdate } from '../src/workflows/saga/messages';
import type { SagaDecision } from '../src/schemas/saga';

const dropped = Object.assign(new Error('9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.'), { code: 9 });
const decision: SagaDecision = { action: 'retry', operator: 'ada', reason: 'x', step: 'a', waitId: 1, at: '2026-11-28T00:00:00.000Z' };
const input = { operator: 'ada', reason: 'x', waitId: 1 };

/** A handle whose executeUpdate answers from a script, counting the sends and keeping each send's update id. */
function scripted(...answers: Array<Error | SagaDecision>) {
  let sends = 0;
  const updateIds: (string | undefined)[] = [];
  const handle = {
    executeUpdate: async (_update: unknown, options: { updateId?: string }) => {
      updateIds.push(options.updateId);
      const answer = answers[sends++];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as WorkflowHandle;
  return { handle, sends: () => sends, updateIds };
}

/** The client's error for an update call that ran out of time (a server too busy to answer). */
const timedOut = new WorkflowUpdateRPCTimeoutOrCancelledError('Timed out or cancelled waiting for Workflow Update', {
  cause: Object.assign(new Error('4 DEADLINE_EXCEEDED: context deadline exceeded'), { code: 4 }),
});

describe('sending a decision so that it arrives', () => {
  it('tells an update dropped with its workflow task from any other failure', () => {
    expect(isDroppedUpdate(dropped)).toBe(true);
    expect(isDroppedUpdate(new Error('wrapper', { cause: dropped }))).toBe(true);
    expect(isDroppedUpdate(Object.assign(new Error('9 FAILED_PRECONDITION: something else'), { code: 9 }))).toBe(false);
    expect(isDroppedUpdate(new Error('refused'))).toBe(false);
  });

  it('sends a dropped decision again when the saga has no record of it', async () => {
    const { handle, sends } = scripted(dropped, decision);
    await expect(executeDecision(handle, retryUpdate, [input], async () => undefined)).resolves.toEqual(decision);
    expect(sends()).toBe(2);
  });

  it('returns the record when the dropped decision was applied after all, without sending it again', async () => {
    const { handle, sends } = scripted(dropped);
    await expect(executeDecision(handle, retryUpdate, [input], async () => decision)).resolves.toEqual(decision);
    expect(sends()).toBe(1);
  });

  it('sends a decision whose call timed out again under the same update id, so the server applies it once', async () => {
    const plain = Object.assign(new Error('4 DEADLINE_EXCEEDED: context deadline exceeded'), { code: 4 });
    for (const failure of [timedOut, plain]) {
      const { handle, sends, updateIds } = scripted(failure, decision);
      await expect(executeDecision(handle, retryUpdate, [input], async () => undefined)).resolves.toEqual(decision);
      expect(sends()).toBe(2);
      expect(updateIds[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(updateIds[1]).toBe(updateIds[0]);
    }
  });

  it('passes any other failure through at once', async () => {
    const refused = new Error('retry refused: wait 1 was already decided');
    const { handle, sends } = scripted(refused);
    await expect(executeDecision(handle, retryUpdate, [input], async () => undefined)).rejects.toBe(refused);
    expect(sends()).toBe(1);
  });

  it('gives up after five drops', async () => {
    const { handle, sends } = scripted(dropped, dropped, dropped, dropped, dropped, decision);
    await expect(executeDecision(handle, retryUpdate, [input], async () => undefined)).rejects.toBe(dropped);
    expect(sends()).toBe(5);
  });
});
