/**
 * A wave of an ssdFirmwareRollout terminated from outside, on the dev server against a real
 * rack: the time-skipping server never tells a parent that its child was terminated (no
 * ChildWorkflowExecutionTerminated event reaches the rollout's history), so this cannot run
 * beside the other rollout tests (test/firmware-rollout.test.ts). The wave's updates are
 * abandoned, not ended, with it: the rollout must not update their SSDs again while they run.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type FirmwareRolloutStatus, type RolloutOptionsInput, rolloutWorkflowId } from '../src/schemas/firmware';
import { ssdFirmwareRollout } from '../src/workflows';
import { firmwareRolloutStatusQuery } from '../src/workflows/firmware-messages';
import { LOADED_MACHINE_MS } from './helpers/eventually';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';
import { useRackTestBed } from './helpers/rack-bed';
import { endOrPause } from './helpers/saga-env';

const taskQueue = 'firmware-wave-terminated';
const bed = useRackTestBed({ taskQueue, seed: fleetSeed(8, 4) });
const rack = () => bed.testRack.rack;

beforeAll(async () => {
  await createDisks(rack(), 12);
});

/** A rollout to `target` whose first wave updates four SSDs one at a time, polling every 500 ms. */
function startRollout(target: string, options: RolloutOptionsInput = {}) {
  return bed.env.client.workflow.start(ssdFirmwareRollout, {
    taskQueue,
    workflowId: rolloutWorkflowId(MODEL, target),
    args: [{ model: MODEL, version: target, options: { untilIdle: true, canarySize: 4, updateConcurrency: 1, pollIntervalMs: 500, ...options } }],
  });
}

describe('ssdFirmwareRollout (dev server, real rack)', () => {
  it('a wave terminated from outside is planned again, paging no one', async () => {
    const target = '3.0.0';
    await rack().firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
    const all = (await rack().list('ssds')).map((x) => x.id);
    for (const ssdId of all) await rack().faults.drive({ ssdId, kind: 'never-returns' });
    const handle = await startRollout(target, { returnTimeoutMs: 60 * 60_000 });
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
  it('waits for an update the ended wave started before it updates that SSD again: never two updates of one SSD at once', async () => {
    const target = '3.1.0';
    await rack().firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
    // Every update stays at its first look at its SSD (ssds.get fails, transiently) until the
    // test lets it go; the planner's reads (lists) go through.
    await rack().faults.setRule({ operation: 'ssds.get', transientRate: 1, ambiguousRate: 0 });
    const handle = await startRollout(target);
    // The wave has started its first update, which is held before it took its SSD offline.
    const first = await vi.waitFor(
      async () => {
        const update = (await handle.query(firmwareRolloutStatusQuery, {})).ssds.find((x) => x.state === 'in-progress')?.detail;
        expect(update).toMatch(/:1$/);
        return update as string;
      },
      { timeout: LOADED_MACHINE_MS, interval: 200 },
    );
    await expect.poll(async () => (await bed.env.client.workflow.getHandle(first).describe().catch(() => undefined))?.status.name).toBe('RUNNING');
    const wave = bed.env.client.workflow.getHandle(`${handle.workflowId}@${handle.firstExecutionRunId.slice(0, 8)}:wave-0`);
    await wave.terminate('operator ended the wave');
    // The rollout has taken the wave's end in and decided: a next wave, or waiting for the update.
    await expect
      .poll(async () => {
        const status = await handle.query(firmwareRolloutStatusQuery, {});
        return status.waves.length > 1 || /still running/.test(status.reason ?? '');
      })
      .toBe(true);
    await rack().faults.clear('ssds.get');
    const ended = await endOrPause<FirmwareRolloutStatus>(handle, (s) => s.state === 'needs-operator', 240_000);
    expect(ended).toHaveProperty('completed');
    expect((ended as { completed: FirmwareRolloutStatus }).completed.counts).toMatchObject({ done: 32, failed: 0, blocked: 0 });
    // Per SSD, no update started while another ran.
    const updates: WorkflowExecutionInfo[] = [];
    for await (const info of bed.env.client.workflow.list({ query: `WorkflowType = 'ssdFirmwareUpdate' AND WorkflowId STARTS_WITH '${handle.workflowId}@'` })) updates.push(info);
    const bySsd = new Map<string, WorkflowExecutionInfo[]>();
    for (const u of updates) {
      const ssdId = u.workflowId.split(':').at(-2) as string; // <rollout>@<run>:<ssd>:<attempt>
      bySsd.set(ssdId, [...(bySsd.get(ssdId) ?? []), u]);
    }
    expect(bySsd.size).toBeGreaterThan(0);
    for (const [ssdId, runs] of bySsd) {
      const sorted = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      for (let i = 1; i < sorted.length; i++) {
        expect(sorted[i]!.startTime.getTime(), `${ssdId}: ${sorted[i]!.workflowId} started while ${sorted[i - 1]!.workflowId} ran`).toBeGreaterThanOrEqual(sorted[i - 1]!.closeTime!.getTime());
      }
    }
    expect(bed.notifications.filter((n) => n.sagaType === 'ssdFirmwareRollout')).toEqual([]);
  });
  it("counts an ended wave's update paused for an operator as blocked, and goes on once the operator retries it", async () => {
    const target = '3.2.0';
    await rack().firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
    const all = (await rack().list('ssds')).map((x) => x.id);
    for (const ssdId of all) await rack().faults.drive({ ssdId, kind: 'never-returns' });
    // Each update waits two seconds for its drive, then pauses for an operator; the wave goes on to the next.
    const handle = await startRollout(target, { returnTimeoutMs: 2_000 });
    const chain = `${handle.workflowId}@${handle.firstExecutionRunId.slice(0, 8)}`;
    const paused = async () => (await bed.client.sagas.list({ state: 'needs-operator', saga: 'ssdFirmwareUpdate' })).filter((s) => s.workflowId.startsWith(chain));
    await expect.poll(async () => (await paused()).length, { timeout: LOADED_MACHINE_MS }).toBeGreaterThan(0);
    await bed.env.client.workflow.getHandle(`${chain}:wave-0`).terminate('operator ended the wave');
    // An update still running when the wave ended pauses too; then every update the wave started
    // is blocked, and those it never started are planned again.
    const halted = await vi.waitFor(
      async () => {
        const status = await handle.query(firmwareRolloutStatusQuery, {});
        expect(status.waves[0]?.finishedAt).toBeTruthy();
        return status;
      },
      { timeout: LOADED_MACHINE_MS, interval: 500 },
    );
    const blocked = halted.ssds.filter((x) => x.state === 'blocked' && x.needsOperator);
    expect(blocked.length).toBeGreaterThan(0);
    expect(halted.waves[0]).toMatchObject({ blocked: blocked.length, replanned: 4 - blocked.length });
    const updates = blocked.map((x) => /\(([^)]+)\)/.exec(x.detail ?? '')?.[1] as string);
    for (const workflowId of updates) expect(workflowId.startsWith(`${chain}:`), workflowId).toBe(true);
    for (const ssdId of all) await rack().faults.clearDrive(ssdId);
    for (const workflowId of updates) await bed.client.sagas.retry(workflowId, { operator: 'ops', reason: 'drive reseated' });
    const ended = await endOrPause<FirmwareRolloutStatus>(handle, (s) => s.state === 'needs-operator', 240_000);
    expect(ended).toHaveProperty('completed');
    expect((ended as { completed: FirmwareRolloutStatus }).completed.counts).toMatchObject({ done: 32, failed: 0, blocked: 0 });
  });
});
