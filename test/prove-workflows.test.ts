/**
 * Every saga in src/workflows passes the full proof (src/testing/prove.ts) over the real rack:
 * each step failed before and after its effect, undos twice, operator pauses decided both ways,
 * cancellation with each step in flight, failures after the pivot retried — with the engine's
 * bookkeeping and the rack's ledger checked after every unwind. Approvals are decided by the
 * harness; the technician of a sled replacement by `onWaiting` below.
 *
 * Runs on the dev server, a real Temporal server. `PROVE_SERVER=time-skipping` runs it on the
 * time-skipping test server, faster, but that server mishandles an activity completing while
 * its cancellation is requested (ACTIVITY_UNKNOWN), which now and then hangs a cancelled run.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RackSeed } from '../src/rack/schemas';
import type { InstanceCreateParams } from '../src/schemas/instance';
import type { SagaStatus } from '../src/schemas/saga';
import type { SledReplaceParams } from '../src/schemas/sled';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  bundleUnwindWorkflows,
  createDevServerEnv,
  createTimeSkippingEnv,
  findOrphans,
  startRackSagaBed,
  type ProofReport,
  type RackSagaBed,
} from '../src/testing';
import {
  diskCreate,
  hardwareReplacedUpdate,
  instanceCreate,
  instanceDelete,
  instanceMigrate,
  sledReplace,
  ssdFirmwareUpdate,
} from '../src/workflows';
import { fleetSeed } from './helpers/firmware';

// Room for every run that completes (each keeps what it made) and SSDs in groups of their own,
// so that firmware updates running side by side never wait for one another.
const seed: RackSeed = { ...fleetSeed(12, 4, (sled, slot) => `rg-${sled}-${slot}`), ipPool: '10.0.0.0/20' };

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
/** One rack per family of sagas: a sled replacement or a firmware update changes what instances and disks may do. */
const beds = new Map<string, RackSagaBed>();
let bed: RackSagaBed;
let n = 0;
const rack = () => bed.testRack.rack;
const reports: ProofReport[] = [];
// A proof runs a saga a hundred times and more; on a loaded machine that takes minutes.
vi.setConfig({ testTimeout: 900_000 });

beforeAll(async () => {
  env = process.env.PROVE_SERVER === 'time-skipping' ? await createTimeSkippingEnv() : await createDevServerEnv();
  workflowBundle = await bundleUnwindWorkflows();
});

afterAll(async () => {
  for (const report of reports) console.log(`${report.saga}: ${report.rows.length} runs in ${(report.wallMs / 1000).toFixed(1)} s`);
  for (const b of beds.values()) await b.stop();
  await env?.teardown();
});

/** Makes `bed` the rack of `family`, started on first use. */
async function useRack(family: string): Promise<void> {
  let found = beds.get(family);
  if (!found) {
    // A run is slow only when the machine is busy: a generous limit, since a limit is no benchmark.
    found = await startRackSagaBed(env, { taskQueue: `prove-${family}`, seed, workflowBundle, deps: { stream: { chunkMs: 1 } }, sagaTimeoutMs: 240_000 });
    beds.set(family, found);
  }
  bed = found;
}

const newInstance = (): InstanceCreateParams => ({ name: `vm-${++n}`, cpus: 1, memoryGiB: 1, diskGiB: 1, nics: 1 });

async function runningInstance(): Promise<string> {
  const params = newInstance();
  const vm = await env.client.workflow.execute(instanceCreate, { taskQueue: bed.taskQueue, workflowId: `setup-${params.name}`, args: [params] });
  return vm.instanceId;
}

/** Nothing named by these params is left (other runs go on beside it: the rest of the rack is theirs). */
async function noneNamed(params: { name: string }, label: string): Promise<void> {
  const inventory = await rack().inventory();
  expect(inventory.instances.map((i) => i.name), label).not.toContain(params.name);
  expect(inventory.disks.map((d) => d.name), label).not.toContain(params.name);
  expect(inventory.disks.map((d) => d.name), label).not.toContain(`${params.name}-boot`);
}

/** After a proof, with nothing running any more: no allocation that nothing owns. */
async function noOrphans(): Promise<void> {
  expect(findOrphans(await rack().inventory())).toEqual([]);
}

function proven(report: ProofReport): void {
  reports.push(report);
  expect(report.rows.every((r) => r.outcome !== 'VIOLATION')).toBe(true);
  expect(report.rows.some((r) => r.mode === 'cancel' || r.mode === 'fail-after-pivot')).toBe(true);
}

describe('every saga in src/workflows passes proveSaga', () => {
  it('instanceCreate', async () => {
    await useRack('instances');
    proven(
      await bed.harness.proveSaga(instanceCreate, newInstance, {
        verifyCleanSlate: noneNamed,
        verifyResult: async (vm) => expect((await rack().get('instances', vm.instanceId)).state).toBe('running'),
      }),
    );
    await noOrphans();
  });

  it('diskCreate', async () => {
    await useRack('instances');
    proven(await bed.harness.proveSaga(diskCreate, () => ({ name: `disk-${++n}`, sizeGiB: 1 }), { verifyCleanSlate: noneNamed }));
    await noOrphans();
  });

  it('instanceMigrate', async () => {
    await useRack('instances');
    proven(
      await bed.harness.proveSaga(instanceMigrate, async () => ({ instanceId: await runningInstance() }), {
        verifyCleanSlate: async (params, label) => {
          const instance = await rack().get('instances', params.instanceId);
          expect(instance, label).toMatchObject({ state: 'running', migrationId: null });
          expect((await rack().list('vmms', { instanceId: params.instanceId })).map((v) => v.state), label).toEqual(['running']);
        },
        verifyResult: async (result) => expect((await rack().get('instances', result.instanceId)).sledId).toBe(result.toSledId),
      }),
    );
  });

  it('instanceDelete', async () => {
    await useRack('instances');
    proven(
      await bed.harness.proveSaga(instanceDelete, async () => ({ instanceId: await runningInstance() }), {
        verifyCleanSlate: async (params, label) => expect((await rack().get('instances', params.instanceId)).state, label).toBe('running'),
        verifyResult: async (result) => expect((await rack().inventory()).instances.map((i) => i.id)).not.toContain(result.instanceId),
      }),
    );
  });

  it('sledReplace, approvals decided by the harness and the technician by onWaiting', async () => {
    await useRack('sleds');
    let sled = 0;
    const replaced = new Set<string>();
    const params = (): SledReplaceParams => ({ sledId: `sled-${sled++ % 12}`, approvers: ['alice'], technicians: ['tech-1'], requestId: `prove-${++n}` }) as SledReplaceParams;
    // The technician swaps the hardware once the saga waits for it, then reports the new serial.
    const technician = async (handle: WorkflowHandle, status: SagaStatus, p: SledReplaceParams) => {
      if (replaced.has(handle.workflowId) || !status.steps.some((s) => s.name === 'await-hardware' && s.state === 'running')) return;
      replaced.add(handle.workflowId);
      const serial = `SN-${replaced.size}`;
      await rack().sleds.update({ sledId: p.sledId, serial }, `technician/${handle.workflowId}`);
      await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial, technician: 'tech-1' }] });
    };
    proven(
      await bed.harness.proveSaga(sledReplace, params, {
        // One replacement at a time: two at once would each power off a sled the other's evacuation may need.
        concurrency: 1,
        keeps: ['re-replicate'],
        onWaiting: technician,
        verifyCleanSlate: async (p, label) => expect((await rack().get('sleds', p.sledId)).provisionable, label).toBe(true),
        verifyResult: async (result) => expect(await rack().get('sleds', result.sledId)).toMatchObject({ state: 'online', provisionable: true }),
      }),
    );
  });

  it('ssdFirmwareUpdate', async () => {
    await useRack('firmware');
    let ssd = 0;
    const ssdIds = (await rack().list('ssds')).map((s) => s.id);
    const params = () => ({
      ssdId: ssdIds[ssd++ % ssdIds.length]!,
      version: `3.0.${++n}`,
      rolloutWorkflowId: 'no-rollout',
      pacing: { returnTimeoutMs: 60_000, resyncTimeoutMs: 60_000, pollIntervalMs: 50 },
    });
    proven(
      await bed.harness.proveSaga(ssdFirmwareUpdate, params, {
        // A reset cannot be undone: the drive reboots on whatever firmware it has; the rollout re-plans it.
        keeps: ['reset'],
        verifyCleanSlate: async (p, label) => expect((await rack().get('ssds', p.ssdId)).state, label).toBe('online'),
        verifyResult: async (outcome) => expect(outcome.outcome).toBe('done'),
      }),
    );
  });
});
