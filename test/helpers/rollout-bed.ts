/**
 * The rollout tests' bed: a time-skipping server and a real rack of 8 sleds × 4 SSDs, with the
 * integrity and redundancy-group invariants checked after every change the rack applies (a test
 * fails on any break, after it ends), and what each test starts from.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterEach, expect } from 'vitest';
import type { RackChange, RackDb } from '../../src/rack';
import { type RolloutOptionsInput, rolloutWorkflowId } from '../../src/schemas/firmware';
import { ssdFirmwareRollout } from '../../src/workflows';
import { MODEL, createDisks, fleetSeed, groupViolations, integrityViolations } from './firmware';
import { useRackTestBed } from './rack-bed';

/** Uses a rollout bed for the file's tests, on `taskQueue`. */
export function useRolloutBed(taskQueue: string) {
  /** Every invariant broken after some change, with the change. */
  let violations: string[] = [];
  let checking = true;
  const checkInvariants = (change: RackChange, db: RackDb): void => {
    if (!checking) return;
    for (const v of integrityViolations(db)) violations.push(`${change.operation} ${change.key}: disk ${v.diskId} has ${v.healthy} healthy replicas`);
    for (const g of groupViolations(db)) violations.push(`${change.operation} ${change.key}: ${g.out} SSDs of ${g.group} out of service`);
  };
  const bed = useRackTestBed({ server: 'time-skipping', taskQueue, seed: fleetSeed(8, 4), onRackChange: checkInvariants });
  // A rollout a failed test left running would go on acting on the next test's rack: end it.
  const started: WorkflowHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((handle) => handle.terminate('the test ended').catch(() => undefined)));
  });
  afterEach(() => {
    expect(violations, 'integrity or redundancy-group invariant broken').toEqual([]);
  });

  let version = 1;
  const rollout = {
    bed,
    /** A new target firmware version, one per test. */
    nextVersion: () => `2.${version++}.0`,
    /**
     * Runs a test's set-up unchecked (a reset rack, disks placed by hand, degraded drives), then
     * checks every change again from a clean slate: no violations, no notifications.
     */
    async setUp<T>(prepare: () => Promise<T>): Promise<T> {
      checking = false;
      const result = await prepare();
      violations = [];
      bed.notifications.length = 0;
      checking = true;
      return result;
    },
    /** Stops checking: what follows (clean-up after a run) may break the invariants. */
    stopChecking() {
      checking = false;
    },
    /** A fresh rack (8 sleds × 4 SSDs, `disks` disks) and a new target version, set. */
    async freshRack(disks = 12): Promise<string> {
      await rollout.setUp(async () => {
        await bed.testRack.rack.reset(fleetSeed(8, 4));
        await createDisks(bed.testRack.rack, disks);
      });
      const target = rollout.nextVersion();
      await bed.testRack.rack.firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
      return target;
    },
    /** Starts the rollout to `target` (polling every 10 s unless told); it is ended with the test. */
    async startRollout(target: string, options: RolloutOptionsInput = {}) {
      const handle = await bed.env.client.workflow.start(ssdFirmwareRollout, {
        taskQueue,
        workflowId: rolloutWorkflowId(MODEL, target),
        args: [{ model: MODEL, version: target, options: { pollIntervalMs: 10_000, ...options } }],
      });
      started.push(handle);
      return handle;
    },
    /** Every SSD's firmware version, by id. */
    async versions(): Promise<Map<string, string>> {
      return new Map((await bed.testRack.rack.list('ssds')).map((s) => [s.id, s.firmwareVersion]));
    },
  };
  return rollout;
}
