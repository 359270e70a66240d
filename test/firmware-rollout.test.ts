/**
 * ssdFirmwareRollout on the time-skipping server against a real rack: waves, integrity,
 * operator pauses, deferred sleds, SSDs added mid-rollout, the failure-rate halt, and the
 * integrity invariant checked after every change the rack applies.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import type { RackChange, RackDb } from '../src/rack';
import { type FirmwareRolloutStatus, type RolloutOptionsInput, rolloutWorkflowId } from '../src/schemas/firmware';
import type { OperatorNotification } from '../src/schemas/saga';
import { createTimeSkippingEnv } from '../src/testing/environments';
import { startTestRack, type TestRack } from '../src/testing/rack';
import { createUnwindTestWorker } from '../src/testing/worker';
import { firmwareReconciler, retryUpdate, sagaStatusQuery, ssdFirmwareRollout } from '../src/workflows';
import { MODEL, createDisks, fleetSeed, groupViolations, integrityViolations, waitForRollout } from './helpers/firmware';

const taskQueue = 'firmware-rollout';
let env: TestWorkflowEnvironment;
let testRack: TestRack;
let worker: Worker;
let running: Promise<void>;
const notifications: OperatorNotification[] = [];
/** Every invariant broken after some change, with the change. */
let violations: string[] = [];
let checking = true;

function checkInvariants(change: RackChange, db: RackDb): void {
  if (!checking) return;
  for (const v of integrityViolations(db)) violations.push(`${change.operation} ${change.key}: disk ${v.diskId} has ${v.healthy} healthy replicas`);
  for (const g of groupViolations(db)) violations.push(`${change.operation} ${change.key}: ${g.out} SSDs of ${g.group} out of service`);
}

let version = 1;
/** A fresh rack (8 sleds × 4 SSDs, 12 disks) and a new target version for this test. */
async function freshRack(disks = 12): Promise<string> {
  checking = false;
  await testRack.rack.reset(fleetSeed(8, 4));
  await createDisks(testRack.rack, disks);
  violations = [];
  notifications.length = 0;
  checking = true;
  const target = `2.${version++}.0`;
  await testRack.rack.firmware.setTarget({ model: MODEL, version: target }, `test/target-${target}`);
  return target;
}

function startRollout(target: string, options: RolloutOptionsInput = {}) {
  return env.client.workflow.start(ssdFirmwareRollout, {
    taskQueue,
    workflowId: rolloutWorkflowId(MODEL, target),
    args: [{ model: MODEL, version: target, options: { pollIntervalMs: 10_000, ...options } }],
  });
}

async function versions(): Promise<Map<string, string>> {
  return new Map((await testRack.rack.list('ssds')).map((s) => [s.id, s.firmwareVersion]));
}

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  testRack = await startTestRack({ seed: fleetSeed(8, 4), onChange: checkInvariants });
  worker = await createUnwindTestWorker(env, {
    taskQueue,
    activities: createActivities({ rack: testRack.rack, backoff: { baseMs: 20, capMs: 200 }, notifications: (n) => void notifications.push(n) }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await testRack?.stop();
  await env?.teardown();
});

afterEach(() => {
  expect(violations, 'integrity or redundancy-group invariant broken').toEqual([]);
});

describe('ssdFirmwareRollout (time-skipping server, real rack)', () => {
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
});
