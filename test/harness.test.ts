import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskCreateParams } from '../src/schemas/disk';
import { createDevServerEnv, findOrphans, quietLogger, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { diskCreate } from '../src/workflows';
import { forgetfulDiskCreate, leakyDiskCreate, sloppyDiskCreate, undoLessDiskCreate } from './workflows/harness-workflows';

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;
let n = 0;
const makeParams = (): DiskCreateParams => ({ name: `disk-${++n}`, sizeGiB: 10 });

/** No disk of this run, no orphan, nothing but disks and their regions. */
async function verifyCleanSlate(params: DiskCreateParams, step: string): Promise<void> {
  const inventory = await bed.testRack.rack.inventory();
  expect(inventory.disks.map((d) => d.name), `disk left after failing at ${step}`).not.toContain(params.name);
  expect(findOrphans(inventory), `after failing at ${step}`).toEqual([]);
  expect(inventory.total, `unexpected allocations after failing at ${step}`).toBe(inventory.disks.length + inventory.regions.length);
}

beforeAll(async () => {
  env = await createDevServerEnv();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows', 'harness-workflows.ts'), logger: quietLogger });
  bed = await startRackSagaBed(env, { taskQueue: 'harness-disk', workflowBundle });
});

afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
});

describe('the unwind harness on diskCreate over the rack simulator (dev server)', () => {
  it('succeeds idempotently: every action twice, one effect each', async () => {
    const report = await bed.harness.succeedsIdempotently(diskCreate, makeParams, async (result, params) => {
      expect(new Set(result.regions.map((r) => r.sledId)).size).toBe(3);
      const disks = await bed.testRack.rack.list('disks', { name: params.name });
      expect(disks.map((d) => d.id)).toEqual([result.diskId]);
    });
    expect(report.steps).toEqual(['create-disk', 'ensure-region[0]', 'ensure-region[1]', 'ensure-region[2]']);
    console.log(`succeedsIdempotently(diskCreate): ${report.wallMs} ms`);
  });

  it('unwinds from every step, leaving no residue', async () => {
    const report = await bed.harness.unwindsFromEveryStep(diskCreate, makeParams, verifyCleanSlate);
    expect(report.steps).toHaveLength(4);
    console.log(`unwindsFromEveryStep(diskCreate): ${report.wallMs} ms for ${report.steps.length} steps`);
  });

  it('unwinds idempotently: every undo twice', async () => {
    const report = await bed.harness.unwindsIdempotently(diskCreate, makeParams, verifyCleanSlate);
    expect(report.steps).toHaveLength(4);
    console.log(`unwindsIdempotently(diskCreate): ${report.wallMs} ms for ${report.steps.length} steps`);
  });

  it('catches a saga whose step has no undo: its unwind gets stuck', async () => {
    await expect(bed.harness.unwindsFromEveryStep(leakyDiskCreate, makeParams, verifyCleanSlate)).rejects.toThrow(
      /is stuck waiting for retry\/skip on create-disk: Refused: .*still used by 1 regions/,
    );
  });

  it('proves every path of diskCreate: each step failed before and after its effect, undos twice, operator pauses both ways, cancellation in flight', async () => {
    const report = await bed.harness.proveSaga(diskCreate, makeParams, { verifyCleanSlate });
    const modes = ['fail-before', 'fail-after', 'undo-twice', 'needs-operator-unwind', 'needs-operator-retry', 'unknown-state-unwind', 'unknown-state-retry', 'cancel'];
    expect(report.rows).toHaveLength(1 + 4 * modes.length);
    for (const step of report.steps) expect(report.rows.filter((r) => r.step === step).map((r) => r.mode).sort()).toEqual([...modes].sort());
    expect(report.rows.filter((r) => r.mode === 'cancel').every((r) => r.outcome === 'cancelled')).toBe(true);
    expect(report.rows.filter((r) => r.mode.endsWith('retry')).every((r) => r.outcome === 'completed')).toBe(true);
    expect(report.table).toMatch(/proveSaga\(diskCreate\): 33 runs, 0 violations/);
  });

  it('catches, through the ledger, a step without an undo even when the clean-slate check checks nothing', async () => {
    await expect(bed.harness.proveSaga(undoLessDiskCreate, makeParams, { modes: ['fail-after'], print: null })).rejects.toThrow(
      /create-disk × fail-after: effects not reverted by an undo: create-disk: disks\.create created disk/,
    );
  });

  it('catches, through the ledger, an undo that reports success and reverts nothing', async () => {
    await expect(bed.harness.proveSaga(forgetfulDiskCreate, makeParams, { modes: ['fail-before', 'fail-after', 'cancel'], print: null })).rejects.toThrow(
      /create-disk × fail-after: effects not reverted by an undo[^\n]*\n\s+create-disk × cancel: effects not reverted/,
    );
  });

  it('catches an action that is not idempotent', async () => {
    await expect(bed.harness.succeedsIdempotently(sloppyDiskCreate, makeParams, async () => undefined)).rejects.toThrow(
      /applied more effects when its actions ran twice .*: create-disk disks.create ×2 \(once: ×1\)/,
    );
  });
});
