/**
 * ssdFirmwareRollout on the time-skipping server against a real rack: waves, integrity,
 * operator pauses, deferred sleds, SSDs added mid-rollout, the failure-rate halt, and the
 * integrity invariant checked after every change the rack applies (test/helpers/rollout-bed.ts).
 * Cancellations: test/firmware-rollout-cancel.test.ts; a wave terminated from outside needs the
 * dev server: test/firmware-wave-terminated.test.ts.
 */
import { WorkflowNotFoundError, type WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../src/rack';
import { type FirmwareRolloutStatus, rolloutWorkflowId } from '../src/schemas/firmware';
import type { SagaStatus } from '../src/schemas/saga';
import { firmwareReconciler, retryUpdate, sagaStatusQuery } from '../src/workflows';
import { firmwareRolloutStatusQuery } from '../src/workflows/firmware-messages';
import { LOADED_MACHINE_MS } from './helpers/eventually';
import { MODEL, createDisks, fleetSeed, waitForRollout } from './helpers/firmware';
import { useRolloutBed } from './helpers/rollout-bed';

const taskQueue = 'firmware-rollout';
const rollout = useRolloutBed(taskQueue);
const { bed, freshRack, startRollout, versions } = rollout;

/** Every SSD holding a replica of a disk that also has a replica on `ssdId`. */
async function mirrorsOf(ssdId: string): Promise<Set<string>> {
  const regions = await bed.testRack.rack.list('regions');
  const disks = new Set(regions.filter((r) => r.ssdId === ssdId).map((r) => r.diskId));
  return new Set(regions.filter((r) => disks.has(r.diskId) && r.ssdId !== ssdId && r.ssdId !== null).map((r) => r.ssdId as string));
}

describe('ssdFirmwareRollout (time-skipping server, real rack)', () => {
  // First: it lets time pass, which a workflow an earlier test left open could keep the
  // time-skipping server from doing.
  it('keeps every disk at 2+ healthy replicas and every redundancy group at 1 SSD out, after every rack change, across a randomized run', async () => {
    const seed = Number(process.env.FIRMWARE_SEED ?? Date.now() % 1_000_000);
    console.log(`randomized rollout: FIRMWARE_SEED=${seed}`);
    const random = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const { failing, mirrors, target } = await rollout.setUp(async () => {
      await bed.testRack.rack.reset(fleetSeed(8, 4));
      await createDisks(bed.testRack.rack, 16, () => {
        const sleds = [0, 1, 2, 3, 4, 5, 6, 7].sort(() => random() - 0.5).slice(0, 3);
        return sleds.map((i) => [`sled-${i}`, `sled-${i}-ssd-${Math.floor(random() * 4)}`] as [string, string]);
      });
      const all = (await bed.testRack.rack.list('ssds')).map((s) => s.id);
      const degraded = pick(all);
      await bed.testRack.rack.ssds.update({ ssdId: degraded, health: 'degraded' }, 'test/degrade');
      const failing = new Set([pick(all), pick(all)].filter((id) => id !== degraded));
      for (const ssdId of failing) await bed.testRack.rack.faults.drive({ ssdId, kind: 'update-fails' });
      const mirrors = await mirrorsOf(degraded);
      const target = rollout.nextVersion();
      // The test's own set-up goes before the faults: they are for the rollout's calls.
      await bed.testRack.rack.firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
      await bed.testRack.rack.faults.seed(seed);
      await bed.testRack.rack.faults.setRule({ operation: '*', transientRate: 0.05, ambiguousRate: 0.05 });
      return { failing, mirrors, target };
    });
    const handle = await startRollout(target, { untilIdle: true, maxFailureRate: 1, growthFactor: 1 + random() * 3 });
    // It settles with the degraded mirror's SSDs blocked: move time on until then.
    let final = await handle.query(firmwareRolloutStatusQuery, {});
    for (let i = 0; i < 60; i++) {
      const settled = final.counts.done + final.counts.failed + final.counts.blocked;
      if (settled === 32) break;
      await bed.env.sleep('2 minutes');
      final = await handle.query(firmwareRolloutStatusQuery, {});
    }
    // With everything settled an untilIdle rollout may have completed on its own.
    await handle.terminate('randomized run checked').catch((e: unknown) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
    rollout.stopChecking();
    await bed.testRack.rack.faults.clear();
    const failed = final.ssds.filter((s) => s.state === 'failed').map((s) => s.ssdId);
    const blocked = final.ssds.filter((s) => s.state === 'blocked').map((s) => s.ssdId);
    expect(final.counts.done + failed.length + blocked.length, JSON.stringify(final.counts)).toBe(32);
    for (const id of failed) expect(failing.has(id), `${id} failed without an injected update failure`).toBe(true);
    for (const id of blocked) expect(mirrors.has(id), `${id} blocked without a degraded mirror`).toBe(true);
    console.log(`randomized rollout: ${final.waves.length} waves, ${final.counts.done} done, ${failed.length} failed, ${blocked.length} blocked`);
  });

  it('updates every SSD in a canary and growing waves, one SSD per redundancy group at a time', async () => {
    const target = await freshRack();
    const handle = await startRollout(target, { untilIdle: true, maxWaveSize: 8 });
    const status: FirmwareRolloutStatus = await handle.result();
    expect(status.phase).toBe('completed');
    expect(status.counts).toMatchObject({ done: 32, failed: 0, blocked: 0, deferred: 0, pending: 0, 'in-progress': 0 });
    expect([...(await versions()).values()].every((v) => v === target)).toBe(true);
    const sizes = status.waves.map((w) => w.size);
    expect(sizes[0]).toBe(1);
    // Four redundancy groups: no wave takes more than four SSDs out.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    console.log(`rollout of 32 SSDs: waves ${sizes.join(', ')}`);
  });

  it('blocks exactly the SSDs whose update would break a degraded mirror, asks an operator past the limit, updates the rest', async () => {
    const target = await freshRack();
    const degraded = 'sled-2-ssd-0';
    await bed.testRack.rack.ssds.update({ ssdId: degraded, health: 'degraded' }, 'test/degrade');
    const expected = await mirrorsOf(degraded);
    expect(expected.size).toBeGreaterThan(0);
    const handle = await startRollout(target, { untilIdle: true, integrityWaitLimitMs: 20 * 60_000 });
    // Time moves on only while nothing else happens; the blocked SSDs wait past the limit.
    let status: FirmwareRolloutStatus | undefined;
    for (let i = 0; i < 20 && !(status?.counts.done === 32 - expected.size && status.ssds.filter((s) => s.needsOperator).length === expected.size); i++) {
      await bed.env.sleep('5 minutes');
      status = await handle.query(firmwareRolloutStatusQuery, {});
    }
    const blocked = status?.ssds.filter((s) => s.state === 'blocked') ?? [];
    expect(new Set(blocked.map((s) => s.ssdId))).toEqual(expected);
    expect(blocked.every((s) => s.needsOperator && /mirrors not healthy/.test(s.detail ?? ''))).toBe(true);
    const now = await versions();
    for (const [id, v] of now) expect(v, id).toBe(expected.has(id) ? '1.0.0' : target);
    const saga = await handle.query(sagaStatusQuery);
    expect(saga.state).toBe('needs-operator');
    const waiting = saga.waiting.map((w) => w.step);
    expect(waiting).toHaveLength(expected.size);
    for (const id of expected) expect(waiting.some((step) => step.startsWith(`integrity[${id}#`)), id).toBe(true);
    await expect.poll(() => bed.notifications.filter((n) => n.sagaType === 'ssdFirmwareRollout').length).toBe(expected.size);
    expect((saga.reports as { firmware?: { counts?: unknown } }).firmware?.counts).toMatchObject({ blocked: expected.size });

    // Once the mirror is repaired, the operator's retries let the SSDs go.
    await bed.testRack.rack.ssds.update({ ssdId: degraded, health: 'healthy' }, 'test/repair');
    // Retried until none waits; then the result, which lets the server skip time (a query does not).
    await vi.waitFor(
      async () => {
        const open = (await handle.query(sagaStatusQuery)).waiting;
        for (const { step } of open) {
          await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'mirror repaired', step }] }).catch(() => undefined);
        }
        expect(open).toEqual([]);
      },
      { timeout: LOADED_MACHINE_MS, interval: 200 },
    );
    const final = await handle.result();
    expect(final.counts).toMatchObject({ done: 32, blocked: 0 });
  });

  it('carries every open integrity escalation across continue-as-new: still listed, still decidable by retry, with wait numbers that go on', async () => {
    const target = await freshRack();
    const degraded = 'sled-2-ssd-0';
    await bed.testRack.rack.ssds.update({ ssdId: degraded, health: 'degraded' }, 'test/degrade');
    const expected = await mirrorsOf(degraded);
    // A run continues as new after a few plans: the escalations wait across several runs.
    const handle = await startRollout(target, { untilIdle: true, integrityWaitLimitMs: 20 * 60_000, stepsPerRun: 10 });
    const escalated = (s: FirmwareRolloutStatus) => s.ssds.filter((x) => x.needsOperator).length === expected.size;
    let status = await handle.query(firmwareRolloutStatusQuery, {});
    for (let i = 0; i < 20 && !escalated(status); i++) {
      await bed.env.sleep('5 minutes');
      status = await handle.query(firmwareRolloutStatusQuery, {});
    }
    expect(status.ssds.filter((x) => x.needsOperator).map((x) => x.ssdId).sort()).toEqual([...expected].sort());
    const integrityWaits = (saga: SagaStatus) => saga.waiting.filter((w) => w.step.startsWith('integrity['));
    await expect.poll(async () => integrityWaits(await handle.query(sagaStatusQuery)).length).toBe(expected.size);
    const before = await handle.query(sagaStatusQuery);
    const oldWaitIds = integrityWaits(before).map((w) => w.waitId);
    const runsBefore = status.runs;
    const pages = () => bed.notifications.filter((n) => n.sagaType === 'ssdFirmwareRollout' && n.step.startsWith('integrity[')).length;
    await expect.poll(pages).toBe(expected.size);

    // Time goes on: the rollout keeps planning and continues as new with the escalations open.
    await bed.env.sleep('10 minutes');
    status = await handle.query(firmwareRolloutStatusQuery, {});
    expect(status.runs).toBeGreaterThan(runsBefore);
    expect(status.ssds.filter((x) => x.needsOperator).map((x) => x.ssdId).sort()).toEqual([...expected].sort());
    // The saga's own status (`unwind show`) lists every escalation again, one per SSD, numbered after the earlier runs' waits.
    await expect.poll(async () => integrityWaits(await handle.query(sagaStatusQuery)).length).toBe(expected.size);
    const after = integrityWaits(await handle.query(sagaStatusQuery));
    for (const id of expected) expect(after.filter((w) => w.step.startsWith(`integrity[${id}#`)), id).toHaveLength(1);
    expect(Math.min(...after.map((w) => w.waitId))).toBeGreaterThan(Math.max(...oldWaitIds));
    expect(after.every((w) => w.actions.join() === 'retry')).toBe(true);
    // Asked again, not paged again: one page per escalation.
    expect(pages()).toBe(expected.size);
    // A decision for a wait of an earlier run is refused, never applied to a new one.
    const stale = await handle
      .executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'late', waitId: oldWaitIds[0] }] })
      .then(() => 'accepted', (e: unknown) => String((e as WorkflowUpdateFailedError).cause?.message));
    expect(stale).toMatch(/began in an earlier run of this saga/);

    // Once the mirror is repaired, the operator's retries (by wait id, as `unwind retry --wait-id` sends them) let the SSDs go.
    // A retry finding another mirror still out for its own update is asked again: time moves on
    // between rounds, so that update can finish (on a loaded machine some are still in flight).
    await bed.testRack.rack.ssds.update({ ssdId: degraded, health: 'healthy' }, 'test/repair');
    await vi.waitFor(
      async () => {
        const open = integrityWaits(await handle.query(sagaStatusQuery));
        for (const { waitId } of open) {
          await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'mirror repaired', waitId }] }).catch(() => undefined);
        }
        if (open.length > 0) await bed.env.sleep('1 minute');
        expect(open).toEqual([]);
      },
      { timeout: LOADED_MACHINE_MS, interval: 200 },
    );
    const final = await handle.result();
    expect(final.counts).toMatchObject({ done: 32, blocked: 0 });
    expect(final.runs).toBeGreaterThan(runsBefore);
  });

  // Every simulated poll of the absent drive is an activity the server waits for in real time: minutes under load.
  it('pages an operator for a drive that never returns while the rollout goes on elsewhere; retry finishes it', { timeout: 600_000 }, async () => {
    const target = await freshRack();
    const stuck = 'sled-3-ssd-1';
    await bed.testRack.rack.faults.drive({ ssdId: stuck, kind: 'never-returns' });
    const mirrors = await mirrorsOf(stuck);
    // Waits for the stuck drive: its redundancy group (rg-1) and the SSDs holding its mirrors.
    const waits = (id: string) => id.endsWith('-ssd-1') || mirrors.has(id);
    const handle = await startRollout(target, { untilIdle: true, returnTimeoutMs: 10 * 60_000, });
    // Move time on until the drive's update gives up waiting and everything else that can run has
    // (the work itself takes real time: on a loaded machine, more steps of five minutes).
    const status = await vi.waitFor(
      async () => {
        await bed.env.sleep('5 minutes');
        const now = await handle.query(firmwareRolloutStatusQuery, {});
        const others = [...(await versions())].filter(([id]) => !waits(id));
        if (!now.ssds.some((s) => s.ssdId === stuck && s.needsOperator) || others.some(([, v]) => v !== target)) {
          throw new Error(`the stuck drive is not paused for an operator yet, or others still update: ${JSON.stringify(now.counts)}`);
        }
        return now;
      },
      { timeout: 4 * LOADED_MACHINE_MS, interval: 100 },
    );
    const entry = status.ssds.find((s) => s.ssdId === stuck);
    expect(entry).toMatchObject({ state: 'blocked', needsOperator: true });
    expect(entry?.detail).toMatch(/paused at await-return/);
    expect(bed.notifications.some((n) => n.sagaType === 'ssdFirmwareUpdate' && n.step === 'await-return')).toBe(true);
    // Every other SSD went on; rg-1 and the stuck drive's mirrors wait for it.
    const now = await versions();
    for (const [id, v] of now) if (!waits(id)) expect(v, id).toBe(target);
    // Its mirrors not updated before it went away wait for it (one cause, one page: not blocked
    // themselves). How many were updated first depends on how the waves interleaved.
    expect(status.ssds.filter((s) => s.state === 'blocked').map((s) => s.ssdId)).toEqual([stuck]);
    for (const id of [...mirrors].filter((m) => now.get(m) !== target)) {
      expect([undefined, 'pending'], id).toContain(status.ssds.find((s) => s.ssdId === id)?.state); // listed only once planned
    }
    expect((await bed.testRack.rack.get('ssds', stuck)).state).toBe('resetting');

    // The operator reseats the drive, then retries the paused step.
    await bed.testRack.rack.faults.clearDrive(stuck);
    const updateId = /\(([^)]+)\)/.exec(entry?.detail ?? '')?.[1] as string;
    await bed.env.client.workflow.getHandle(updateId).executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'drive reseated' }] });
    const final = await handle.result();
    expect(final.counts).toMatchObject({ done: 32, blocked: 0, failed: 0 });
    expect([...(await versions()).values()].every((v) => v === target)).toBe(true);
  });

  it('halts when a wave fails over the threshold (a failed canary), until an operator retries', async () => {
    const target = await freshRack();
    await bed.testRack.rack.faults.drive({ ssdId: 'sled-0-ssd-0', kind: 'update-fails' });
    const handle = await startRollout(target, { untilIdle: true });
    const halted = await waitForRollout(handle, (s) => s.phase === 'halted');
    expect(halted.reason).toMatch(/wave 0: 1 of 1 SSDs failed/);
    expect(halted.ssds.find((s) => s.ssdId === 'sled-0-ssd-0')).toMatchObject({ state: 'failed' });
    // The failed update unwound: the SSD is back online on its old firmware.
    expect(await bed.testRack.rack.get('ssds', 'sled-0-ssd-0')).toMatchObject({ state: 'online', firmwareVersion: '1.0.0' });
    const saga = await handle.query(sagaStatusQuery);
    expect(saga.state).toBe('needs-operator');
    expect(saga.waitingFor?.step).toBe('halt[0]');
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'one bad drive; go on' }] });
    const final = await handle.result();
    expect(final.counts).toMatchObject({ done: 31, failed: 1 });
  });

  it('updates an SSD added mid-rollout', async () => {
    const target = await freshRack();
    const handle = await startRollout(target, { untilIdle: true, maxWaveSize: 2 });
    await waitForRollout(handle, (s) => s.waves.length >= 2);
    await bed.testRack.rack.ssds.install({ sledId: 'sled-2', id: 'sled-2-ssd-new', model: MODEL, redundancyGroup: 'rg-9', firmwareVersion: '1.0.0' }, 'test/install');
    const final = await handle.result();
    expect(final.counts.done).toBe(33);
    expect((await bed.testRack.rack.get('ssds', 'sled-2-ssd-new')).firmwareVersion).toBe(target);
  });

  it('defers the SSDs of an offline sled, then updates them after the sled returns and the reconciler runs', async () => {
    await rollout.setUp(async () => {
      await bed.testRack.rack.reset(fleetSeed(8, 4));
      // No replica on sled-5, so its absence degrades no mirror.
      const sleds = [0, 1, 2, 3, 4, 6, 7];
      await createDisks(bed.testRack.rack, 12, (d) => [0, 1, 2].map((r) => {
        const sled = `sled-${sleds[(d + r * 2) % sleds.length]}`;
        return [sled, `${sled}-ssd-${d % 4}`] as [string, string];
      }));
      await bed.testRack.rack.sleds.update({ sledId: 'sled-5', state: 'offline' }, 'test/sled-5-off');
    });
    const target = rollout.nextVersion();
    await bed.testRack.rack.firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
    const handle = await startRollout(target);
    const idle = await waitForRollout(handle, (s) => s.phase === 'idle');
    expect(idle.counts).toMatchObject({ done: 28, deferred: 4 });
    expect(idle.ssds.filter((s) => s.state === 'deferred').map((s) => s.ssdId).sort()).toEqual([0, 1, 2, 3].map((j) => `sled-5-ssd-${j}`));

    // Nothing to do while the sled is away: the reconciler starts nothing.
    const before = await bed.env.client.workflow.execute(firmwareReconciler, { taskQueue, workflowId: `reconcile-${target}-a`, args: [] });
    expect(before.rollouts).toEqual([]);
    await bed.testRack.rack.sleds.update({ sledId: 'sled-5', state: 'online' }, 'test/sled-5-on');
    const after = await bed.env.client.workflow.execute(firmwareReconciler, { taskQueue, workflowId: `reconcile-${target}-b`, args: [] });
    expect(after.rollouts).toEqual([rolloutWorkflowId(MODEL, target)]);
    const done = await waitForRollout(handle, (s) => s.counts.done === 32 && s.phase === 'idle');
    expect(done.counts.deferred).toBe(0);
    // The reconciler nudged the running rollout: still the first run of that workflow id.
    expect((await handle.describe()).runId).toBe(handle.firstExecutionRunId);
    await handle.terminate('test done');
  });
});
