/**
 * A wave of an ssdFirmwareRollout terminated from outside, on the dev server against a real
 * rack: the time-skipping server never tells a parent that its child was terminated (no
 * ChildWorkflowExecutionTerminated event reaches the rollout's history), so this cannot run
 * beside the other rollout tests (test/firmware-rollout.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type FirmwareRolloutStatus, rolloutWorkflowId } from '../src/schemas/firmware';
import { ssdFirmwareRollout } from '../src/workflows';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';
import { useRackTestBed } from './helpers/rack-bed';
import { endOrPause } from './helpers/saga-env';

const taskQueue = 'firmware-wave-terminated';
const bed = useRackTestBed({ taskQueue, seed: fleetSeed(8, 4) });
const rack = () => bed.testRack.rack;

beforeAll(async () => {
  await createDisks(rack(), 12);
});

describe('ssdFirmwareRollout (dev server, real rack)', () => {
  it('a wave terminated from outside is planned again, paging no one', async () => {
    const target = '3.0.0';
    await rack().firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
    const all = (await rack().list('ssds')).map((x) => x.id);
    for (const ssdId of all) await rack().faults.drive({ ssdId, kind: 'never-returns' });
    const handle = await bed.env.client.workflow.start(ssdFirmwareRollout, {
      taskQueue,
      workflowId: rolloutWorkflowId(MODEL, target),
      args: [{ model: MODEL, version: target, options: { untilIdle: true, canarySize: 4, updateConcurrency: 1, pollIntervalMs: 500, returnTimeoutMs: 60 * 60_000 } }],
    });
    await expect.poll(async () => (await rack().list('ssds')).some((x) => x.state === 'resetting')).toBe(true);
    const wave = bed.env.client.workflow.getHandle(`${handle.workflowId}@${handle.firstExecutionRunId.slice(0, 8)}:wave-0`);
    for (const ssdId of all) await rack().faults.clearDrive(ssdId);
    await wave.terminate('operator ended the wave');
    const ended = await endOrPause<FirmwareRolloutStatus>(handle, (s) => s.state === 'needs-operator', 240_000);
    expect(ended).toHaveProperty('completed');
    const final = (ended as { completed: FirmwareRolloutStatus }).completed;
    // The update the wave had started runs on (abandoned, not cancelled) and finishes; the rack says so.
    expect(final.counts).toMatchObject({ done: 32, failed: 0, blocked: 0 });
    expect(final.waves[0]).toMatchObject({ index: 0, size: 4, replanned: 4 });
    expect((await rack().list('ssds')).every((x) => x.firmwareVersion === target)).toBe(true);
    expect(bed.notifications.filter((n) => n.sagaType === 'ssdFirmwareRollout')).toEqual([]);
  });
});
