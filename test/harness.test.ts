import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import type { DiskCreateParams } from '../src/schemas/disk';
import { createDevServerEnv } from '../src/testing/environments';
import { createSagaHarness, type SagaHarness } from '../src/testing/harness';
import { createUnwindTestWorker, quietLogger } from '../src/testing/worker';
import { diskCreate } from '../src/workflows';
import { startTestRack, type TestRack } from '../src/testing/rack';
import { leakyDiskCreate, sloppyDiskCreate } from './workflows/harness-workflows';

const taskQueue = 'harness-disk';
let env: TestWorkflowEnvironment;
let testRack: TestRack;
let worker: Worker;
let running: Promise<void>;
let harness: SagaHarness;
let n = 0;
const makeParams = (): DiskCreateParams => ({ name: `disk-${++n}`, sizeGiB: 10 });

/** No disk of this run, no region without its disk, no other allocation. */
async function verifyCleanSlate(params: DiskCreateParams, step: string): Promise<void> {
  const inventory = await testRack.rack.inventory();
  const diskIds = new Set(inventory.disks.map((d) => d.id));
  expect(inventory.disks.map((d) => d.name), `disk left after failing at ${step}`).not.toContain(params.name);
  expect(inventory.regions.filter((r) => !diskIds.has(r.diskId)), `orphan regions after failing at ${step}`).toEqual([]);
  expect(inventory.total, `unexpected allocations after failing at ${step}`).toBe(inventory.disks.length + inventory.regions.length);
}

beforeAll(async () => {
  env = await createDevServerEnv();
  testRack = await startTestRack();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows', 'harness-workflows.ts'), logger: quietLogger });
  worker = await createUnwindTestWorker(env, {
    taskQueue,
    workflowBundle,
    activities: createActivities({ rack: testRack.rack, backoff: { baseMs: 20, capMs: 200 } }),
  });
  running = worker.run();
  harness = createSagaHarness({
    client: env.client,
    taskQueue,
    appliedEffects: () => testRack.rack.ledger(),
  });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await testRack?.stop();
  await env?.teardown();
});

describe('the unwind harness on diskCreate over the rack simulator (dev server)', () => {
  it('succeeds idempotently: every action twice, one effect each', async () => {
    const report = await harness.succeedsIdempotently(diskCreate, makeParams, async (result, params) => {
      expect(new Set(result.regions.map((r) => r.sledId)).size).toBe(3);
      const disks = await testRack.rack.list('disks', { name: params.name });
      expect(disks.map((d) => d.id)).toEqual([result.diskId]);
    });
    expect(report.steps).toEqual(['create-disk', 'ensure-region[0]', 'ensure-region[1]', 'ensure-region[2]']);
    console.log(`succeedsIdempotently(diskCreate): ${report.wallMs} ms`);
  });

  it('unwinds from every step, leaving no residue', async () => {
    const report = await harness.unwindsFromEveryStep(diskCreate, makeParams, verifyCleanSlate);
    expect(report.steps).toHaveLength(4);
    console.log(`unwindsFromEveryStep(diskCreate): ${report.wallMs} ms for ${report.steps.length} steps`);
  });

  it('unwinds idempotently: every undo twice', async () => {
    const report = await harness.unwindsIdempotently(diskCreate, makeParams, verifyCleanSlate);
    expect(report.steps).toHaveLength(4);
    console.log(`unwindsIdempotently(diskCreate): ${report.wallMs} ms for ${report.steps.length} steps`);
  });

  it('catches a saga whose step has no undo: its unwind gets stuck', async () => {
    await expect(harness.unwindsFromEveryStep(leakyDiskCreate, makeParams, verifyCleanSlate)).rejects.toThrow(
      /is stuck waiting for retry\/skip on create-disk: Refused: .*still used by 1 regions/,
    );
  });

  it('catches an action that is not idempotent', async () => {
    await expect(harness.succeedsIdempotently(sloppyDiskCreate, makeParams, async () => undefined)).rejects.toThrow(
      /applied an effect twice .*: create-disk disks.create/,
    );
  });
});
