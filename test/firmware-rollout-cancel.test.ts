/**
 * ssdFirmwareRollout cancelled, on the time-skipping server against a real rack, with the
 * integrity invariant checked after every change the rack applies: the whole rollout while
 * halted, one SSD's update, a wave. Apart from the other rollout tests because a cancelled
 * workflow can keep the time-skipping server from letting time pass for the tests after it.
 */
import type { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { FirmwareRolloutStatus } from '../src/schemas/firmware';
import { OUTCOME_MEMO_KEY, SagaUnwoundDetails } from '../src/schemas/saga';
import { sagaStatusQuery } from '../src/workflows';
import { firmwareRolloutStatusQuery } from '../src/workflows/firmware-messages';
import { waitForRollout } from './helpers/firmware';
import { useRolloutBed } from './helpers/rollout-bed';
import { endOrPause } from './helpers/saga-env';

const { bed, freshRack, startRollout, versions } = useRolloutBed('firmware-rollout-cancel');

describe('ssdFirmwareRollout cancelled (time-skipping server, real rack)', () => {
  it('stops at a safe point when cancelled while halted: the wait is released, nothing new starts, progress in the outcome', async () => {
    const target = await freshRack();
    await bed.testRack.rack.faults.drive({ ssdId: 'sled-0-ssd-0', kind: 'update-fails' });
    const handle = await startRollout(target, { untilIdle: true });
    await waitForRollout(handle, (s) => s.phase === 'halted');
    const updatedBefore = (await bed.testRack.rack.list('ssds')).filter((x) => x.firmwareVersion === target).length;
    await handle.cancel();
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    const outcome = SagaUnwoundDetails.parse(description.memo?.[OUTCOME_MEMO_KEY]);
    expect(outcome).toMatchObject({ failedStep: null, undone: [], cause: { type: 'Cancelled' } });
    expect(outcome.reports?.firmware).toMatchObject({ phase: 'halted', counts: { failed: 1 } });
    const saga = await handle.query(sagaStatusQuery);
    expect(saga).toMatchObject({ state: 'cancelled', cancelRequested: { effect: 'stops' } });
    expect((await bed.testRack.rack.list('ssds')).filter((x) => x.firmwareVersion === target)).toHaveLength(updatedBefore);
  });

  it("an SSD's update cancelled from outside fails that SSD only, as cancelled: no halt, the rollout goes on", async () => {
    const target = await freshRack();
    // Every drive stays away after its reset: the canary's update waits in await-return, where the operator cancels it.
    const all = (await bed.testRack.rack.list('ssds')).map((x) => x.id);
    for (const ssdId of all) await bed.testRack.rack.faults.drive({ ssdId, kind: 'never-returns' });
    const handle = await startRollout(target, { untilIdle: true, returnTimeoutMs: 60 * 60_000 });
    await expect.poll(async () => (await bed.testRack.rack.list('ssds')).some((x) => x.state === 'resetting')).toBe(true);
    const canary = (await bed.testRack.rack.list('ssds')).find((x) => x.state === 'resetting')?.id as string;
    const updateId = (await handle.query(firmwareRolloutStatusQuery, {})).ssds.find((x) => x.ssdId === canary)?.detail as string;
    for (const ssdId of all) await bed.testRack.rack.faults.clearDrive(ssdId);
    await bed.env.client.workflow.getHandle(updateId).cancel();
    // A halt (the canary is a whole wave) would wait for an operator: the test would see it pause.
    const ended = await endOrPause<FirmwareRolloutStatus>(handle, (s) => s.state === 'needs-operator', 240_000);
    expect(ended).toHaveProperty('completed');
    const final = (ended as { completed: FirmwareRolloutStatus }).completed;
    expect(final.counts).toMatchObject({ done: 31, failed: 1, blocked: 0 });
    const entry = final.ssds.find((x) => x.ssdId === canary);
    expect(entry).toMatchObject({ state: 'failed', needsOperator: false });
    expect(entry?.detail).toMatch(/cancelled/);
    // Its update unwound: back online on its old firmware.
    expect(await bed.testRack.rack.get('ssds', canary)).toMatchObject({ state: 'online', firmwareVersion: '1.0.0' });
  });

  it('a wave cancelled from outside stops at a safe point and the rollout plans its SSDs again, paging no one', async () => {
    const target = await freshRack();
    const all = (await bed.testRack.rack.list('ssds')).map((x) => x.id);
    for (const ssdId of all) await bed.testRack.rack.faults.drive({ ssdId, kind: 'never-returns' });
    // A first wave of four, one update at a time: the first waits in await-return, three are queued.
    const handle = await startRollout(target, { untilIdle: true, canarySize: 4, updateConcurrency: 1, returnTimeoutMs: 60 * 60_000 });
    await expect.poll(async () => (await bed.testRack.rack.list('ssds')).some((x) => x.state === 'resetting')).toBe(true);
    const first = (await bed.testRack.rack.list('ssds')).find((x) => x.state === 'resetting')?.id as string;
    const wave = bed.env.client.workflow.getHandle(`${handle.workflowId}@${handle.firstExecutionRunId.slice(0, 8)}:wave-0`);
    await wave.cancel();
    // The drives come back only once the wave has taken the cancellation in (a workflow task
    // completed after it): otherwise, on a loaded machine, the first update could finish and the
    // wave start the next before it saw the request.
    await expect
      .poll(async () => {
        const events = (await wave.fetchHistory()).events ?? [];
        const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
        return requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes);
      })
      .toBe(true);
    for (const ssdId of all) await bed.testRack.rack.faults.clearDrive(ssdId);
    const ended = await endOrPause<FirmwareRolloutStatus>(handle, (s) => s.state === 'needs-operator', 240_000);
    expect(ended).toHaveProperty('completed');
    const final = (ended as { completed: FirmwareRolloutStatus }).completed;
    expect(final.counts).toMatchObject({ done: 32, failed: 0, blocked: 0 });
    // The update in flight finished; the three never started were planned again, in later waves.
    expect(final.waves[0]).toMatchObject({ index: 0, size: 4, done: 1, replanned: 3 });
    expect((await bed.testRack.rack.get('ssds', first)).firmwareVersion).toBe(target);
    expect([...(await versions()).values()].every((v) => v === target)).toBe(true);
    expect(bed.notifications.filter((n) => n.sagaType === 'ssdFirmwareRollout')).toEqual([]);
  });
});
