import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import type { InstanceCreateParams, InstanceCreateResult, InstanceMigrateParams } from '../src/schemas/instance';
import type { SagaStatus } from '../src/schemas/saga';
import { findOrphans, sagaUnwoundDetails } from '../src/testing';
import { instanceCreate, instanceDelete, instanceMigrate, retryUpdate, sagaStatusQuery } from '../src/workflows';
import { eventually, LOADED_MACHINE_MS } from './helpers/eventually';
import { useRackTestBed } from './helpers/rack-bed';
import { waitForStatus } from './helpers/saga-env';

let n = 0;
const taskQueue = 'instances';
const bed = useRackTestBed({ taskQueue, deps: { stream: { chunkMs: 5 } } });
const rack = () => bed.testRack.rack;
const newInstance = (): InstanceCreateParams => ({ name: `vm-${++n}`, cpus: 2, memoryGiB: 4, diskGiB: 20, nics: 1 });

async function create(params: InstanceCreateParams): Promise<InstanceCreateResult> {
  return bed.env.client.workflow.execute(instanceCreate, { taskQueue, workflowId: `create-${params.name}`, args: [params] });
}

describe('instanceCreate', () => {
  /** No instance of this run, none of its disks, no orphan anywhere. */
  async function createLeftNothing(params: InstanceCreateParams, step: string) {
    const inventory = await rack().inventory();
    expect(inventory.instances.map((i) => i.name), `after failing at ${step}`).not.toContain(params.name);
    expect(inventory.disks.map((d) => d.name), `after failing at ${step}`).not.toContain(`${params.name}-boot`);
    expect(findOrphans(inventory), `after failing at ${step}`).toEqual([]);
  }

  it('provisions a running VM: sled reserved, 3 replicas on distinct sleds, NIC mapped on every sled', async () => {
    // Fresh params per run: the rack refuses a second live instance of one name.
    const result = await bed.harness.succeedsIdempotently(instanceCreate, newInstance, async (vm, params) => {
      const instance = await rack().get('instances', vm.instanceId);
      expect(instance).toMatchObject({ state: 'running', sledId: vm.sledId, name: params.name });
      const regions = await rack().list('regions', { diskId: vm.diskId });
      expect(new Set(regions.map((r) => r.sledId)).size).toBe(3);
      expect((await rack().get('disks', vm.diskId)).instanceId).toBe(vm.instanceId);
      const sleds = await rack().list('sleds');
      const mappings = (await rack().list('v2p')).filter((m) => m.virtualIp === vm.nics[0]!.ip);
      expect(mappings).toHaveLength(sleds.length);
      expect(new Set(mappings.map((m) => m.physicalSledId))).toEqual(new Set([vm.sledId]));
      expect(await rack().list('reservations', { instanceId: vm.instanceId })).toHaveLength(1);
    });
    expect(result.steps.length).toBeGreaterThanOrEqual(10);
  });

  it('unwinds from every step, leaving nothing behind', async () => {
    const report = await bed.harness.unwindsFromEveryStep(instanceCreate, newInstance, createLeftNothing);
    console.log(`unwindsFromEveryStep(instanceCreate): ${report.steps.length} steps in ${report.wallMs} ms`);
  });

  it('unwinds idempotently', async () => {
    const report = await bed.harness.unwindsIdempotently(instanceCreate, newInstance, createLeftNothing);
    console.log(`unwindsIdempotently(instanceCreate): ${report.steps.length} steps in ${report.wallMs} ms`);
  });

  it('shows nested parallel groups as paths in its status', async () => {
    const params = newInstance();
    await create(params);
    const status = await bed.env.client.workflow.getHandle(`create-${params.name}`).query(sagaStatusQuery);
    const groupOf = (name: string) => status.steps.find((s) => s.name === name)?.group;
    expect(groupOf('create-disk')).toBe('disk-and-nics');
    expect(groupOf('ensure-region[0]')).toBe('disk-and-nics/regions');
    expect(groupOf('allocate-ip[0]')).toBe('disk-and-nics/nics');
    expect(groupOf('create-vmm')).toBeNull();
  });

  it('unwinds with a reason a user understands when no sled has room', async () => {
    const params = { ...newInstance(), cpus: 64, memoryGiB: 1024 };
    const error = await create(params).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const details = sagaUnwoundDetails(error);
    expect(details?.failedStep).toBe('choose-sled');
    expect(details?.cause.message).toMatch(/no capacity: no online, provisionable sled has 64 free CPUs and 1024 GiB of free memory/);
    expect(details?.undone).toContain('create-instance');
    await createLeftNothing(params, 'choose-sled');
  });
});

describe('instanceMigrate', () => {
  const sourceOf = new Map<string, string>();

  async function runningInstance(): Promise<InstanceMigrateParams> {
    const vm = await create(newInstance());
    sourceOf.set(vm.instanceId, vm.sledId);
    return { instanceId: vm.instanceId };
  }

  /** The instance runs at its source, unmarked, with one running VMM and the network pointing there. */
  async function runningAtSource(params: InstanceMigrateParams, step: string) {
    const source = sourceOf.get(params.instanceId);
    const instance = await rack().get('instances', params.instanceId);
    expect(instance, `after failing at ${step}`).toMatchObject({ state: 'running', sledId: source, migrationId: null });
    const vmms = await rack().list('vmms', { instanceId: params.instanceId });
    expect(vmms.map((v) => [v.sledId, v.state]), `after failing at ${step}`).toEqual([[source, 'running']]);
    const reservations = await rack().list('reservations', { instanceId: params.instanceId });
    expect(reservations.map((r) => r.sledId), `after failing at ${step}`).toEqual([source]);
    const ip = (await rack().list('nics', { instanceId: params.instanceId }))[0]!.ip;
    const targets = new Set((await rack().list('v2p')).filter((m) => m.virtualIp === ip).map((m) => m.physicalSledId));
    expect(targets, `after failing at ${step}`).toEqual(new Set([source]));
    expect(findOrphans(await rack().inventory())).toEqual([]);
  }

  it('moves a running instance: target VMM running, source released, network cut over', async () => {
    await bed.harness.succeedsIdempotently(instanceMigrate, runningInstance, async (moved) => {
      expect(moved.toSledId).not.toBe(moved.fromSledId);
      const instance = await rack().get('instances', moved.instanceId);
      expect(instance).toMatchObject({ state: 'running', sledId: moved.toSledId, migrationId: null });
      const vmms = await rack().list('vmms', { instanceId: moved.instanceId });
      expect(vmms.map((v) => [v.sledId, v.state])).toEqual([[moved.toSledId, 'running']]);
      const reservations = await rack().list('reservations', { instanceId: moved.instanceId });
      expect(reservations.map((r) => r.sledId)).toEqual([moved.toSledId]);
      const ip = (await rack().list('nics', { instanceId: moved.instanceId }))[0]!.ip;
      const targets = new Set((await rack().list('v2p')).filter((m) => m.virtualIp === ip).map((m) => m.physicalSledId));
      expect(targets).toEqual(new Set([moved.toSledId]));
    });
  });

  it('unwinds from every step before the pivot to the instance running at its source', async () => {
    const report = await bed.harness.unwindsFromEveryStep(instanceMigrate, runningInstance, runningAtSource);
    expect(report.steps).toEqual([
      'read-instance', 'choose-target', 'reserve-target', 'mark-migrating', 'create-target-vmm', 'stream-state', 'pause-source',
    ]);
    console.log(`unwindsFromEveryStep(instanceMigrate): ${report.steps.length} steps in ${report.wallMs} ms`);
  });

  it('unwinds idempotently', async () => {
    const report = await bed.harness.unwindsIdempotently(instanceMigrate, runningInstance, runningAtSource);
    console.log(`unwindsIdempotently(instanceMigrate): ${report.steps.length} steps in ${report.wallMs} ms`);
  });

  it('refuses a second concurrent migration of the same instance', async () => {
    const { instanceId } = await runningInstance();
    // Hold the first migration in stream-state long enough for the second to try.
    await rack().faults.setRule({ operation: 'vmms.create', latencyMs: 1_500 });
    try {
      const first = await bed.env.client.workflow.start(instanceMigrate, { taskQueue, workflowId: `migrate-a-${instanceId}`, args: [{ instanceId }] });
      await waitForStep(first.workflowId, 'create-target-vmm');
      const second = bed.env.client.workflow.execute(instanceMigrate, { taskQueue, workflowId: `migrate-b-${instanceId}`, args: [{ instanceId }] });
      const details = sagaUnwoundDetails(await second.catch((err: unknown) => err));
      expect(details?.failedStep).toBe('read-instance');
      expect(details?.cause.message).toMatch(/is migrating, not running/);
      const moved = await first.result();
      expect((await rack().get('instances', instanceId)).sledId).toBe(moved.toSledId);
    } finally {
      await rack().faults.clear();
    }
  });

  it('after the pivot, a failure waits for an operator and retry goes forward', async () => {
    const { instanceId } = await runningInstance();
    await rack().faults.script({ operation: 'v2p.set', kind: 'needs-operator', count: 1 });
    const handle = await bed.env.client.workflow.start(instanceMigrate, { taskQueue, workflowId: `migrate-pivot-${instanceId}`, args: [{ instanceId }] });
    const paused = await waitForState(handle.workflowId, 'needs-operator');
    expect(paused.pivoted).toBe(true);
    expect(paused.waitingFor).toMatchObject({ step: 'cutover-network', actions: ['retry'] });
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops@rack', reason: 'switch port fixed' }] });
    const moved = await handle.result();
    expect((await rack().get('instances', instanceId))).toMatchObject({ state: 'running', sledId: moved.toSledId });
  });
});

describe('instanceDelete', () => {
  it('removes the instance and everything allocated to it', async () => {
    const before = await rack().inventory();
    const vm = await create(newInstance());
    const result = await bed.env.client.workflow.execute(instanceDelete, {
      taskQueue,
      workflowId: `delete-${vm.instanceId}`,
      args: [{ instanceId: vm.instanceId }],
    });
    expect(result.removed).toContain(`instance ${vm.instanceId}`);
    const after = await rack().inventory();
    expect(after.total).toBe(before.total);
    expect(after.instances.map((i) => i.id)).not.toContain(vm.instanceId);
    expect(findOrphans(after)).toEqual([]);
  });

  it('refuses an instance a migration is moving, touching nothing; the migration ends as planned', async () => {
    const vm = await create(newInstance());
    // Hold the migration between marking the instance and its cutover.
    await rack().faults.setRule({ operation: 'vmms.create', latencyMs: 1_500 });
    try {
      const migration = await bed.env.client.workflow.start(instanceMigrate, { taskQueue, workflowId: `migrate-then-delete-${vm.instanceId}`, args: [{ instanceId: vm.instanceId }] });
      await waitForStep(migration.workflowId, 'create-target-vmm');
      const deletion = bed.env.client.workflow.execute(instanceDelete, { taskQueue, workflowId: `delete-while-migrating-${vm.instanceId}`, args: [{ instanceId: vm.instanceId }] });
      const details = sagaUnwoundDetails(await deletion.catch((err: unknown) => err));
      expect(details?.failedStep).toBe('read-instance');
      expect(details?.cause.message).toContain(`instance ${vm.instanceId} is being migrated by ${migration.workflowId}`);
      const moved = await migration.result();
      expect(await rack().get('instances', vm.instanceId)).toMatchObject({ state: 'running', sledId: moved.toSledId, migrationId: null });
      expect(findOrphans(await rack().inventory())).toEqual([]);
    } finally {
      await rack().faults.clear();
    }
  });

  it('deletes an instance a terminated migration left marked, with what that migration made', async () => {
    const before = await rack().inventory();
    const vm = await create(newInstance());
    // Hold the migration at pausing its source, once the target VMM runs; then terminate it.
    await rack().faults.setRule({ operation: 'vmms.update', transientRate: 1, ambiguousRate: 0 });
    try {
      const migration = await bed.env.client.workflow.start(instanceMigrate, { taskQueue, workflowId: `migrate-terminated-${vm.instanceId}`, args: [{ instanceId: vm.instanceId }] });
      await waitForStep(migration.workflowId, 'pause-source');
      await migration.terminate('operator stops the migration');
    } finally {
      await rack().faults.clear();
    }
    expect(await rack().get('instances', vm.instanceId)).toMatchObject({ state: 'migrating', migrationId: `migrate-terminated-${vm.instanceId}` });
    expect(await rack().list('vmms', { instanceId: vm.instanceId })).toHaveLength(2);
    const result = await bed.env.client.workflow.execute(instanceDelete, { taskQueue, workflowId: `delete-after-terminated-${vm.instanceId}`, args: [{ instanceId: vm.instanceId }] });
    expect(result.removed.filter((r) => r.startsWith('vmm '))).toHaveLength(2);
    const after = await rack().inventory();
    expect(after.total).toBe(before.total);
    expect(findOrphans(after)).toEqual([]);
  });

  it('unwinds when a migration marks the instance between its read and its stop: the stop is a compare-and-set', async () => {
    const vm = await create(newInstance());
    // The delete's first stop is turned away (transiently, not applied); before its retry a
    // migration marks the instance, as one that read it at the same moment would.
    await rack().faults.script({ operation: 'instances.update', kind: 'transient', count: 1 });
    const deletion = bed.env.client.workflow.execute(instanceDelete, { taskQueue, workflowId: `delete-raced-${vm.instanceId}`, args: [{ instanceId: vm.instanceId }] });
    await vi.waitFor(async () => expect((await rack().faults.get()).scripted).toEqual([]), { timeout: LOADED_MACHINE_MS, interval: 20 });
    const marker = { instanceId: vm.instanceId, state: 'migrating', migrationId: 'migration-racing-the-delete', expect: { state: 'running', migrationId: null } } as const;
    await rack().instances.update(marker, `test/mark/${vm.instanceId}`);
    const details = sagaUnwoundDetails(await deletion.catch((err: unknown) => err));
    expect(details?.failedStep).toBe('stop-instance');
    expect(details?.cause.message).toMatch(/expected null: another change got there first/);
    expect(await rack().get('instances', vm.instanceId)).toMatchObject({ state: 'migrating', migrationId: marker.migrationId });
    expect(await rack().list('vmms', { instanceId: vm.instanceId })).toHaveLength(1);
    await rack().instances.update({ instanceId: vm.instanceId, state: 'running', migrationId: null }, `test/unmark/${vm.instanceId}`);
  });
});

const saga = (workflowId: string) => bed.env.client.workflow.getHandle(workflowId);

function waitForStep(workflowId: string, step: string): Promise<SagaStatus> {
  return waitForStatus(saga(workflowId), (s) => s.steps.some((x) => x.name === step && x.state === 'running'));
}

function waitForState(workflowId: string, state: SagaStatus['state']): Promise<SagaStatus> {
  return waitForStatus(saga(workflowId), (s) => s.state === state);
}

describe('a worker killed while streaming state', () => {
  it('resumes the stream from its last heartbeat on another worker', async () => {
    const { spawn } = await import('node:child_process');
    const { join } = await import('node:path');
    const crashQueue = 'instances-crash';
    const startWorker = (chunkMs: number) =>
      spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, '..', 'src', 'worker.ts')], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: bed.env.address,
          UNWIND_TASK_QUEUE: crashQueue,
          UNWIND_RACK_URL: bed.testRack.server.url,
          UNWIND_STREAM_CHUNK_MS: String(chunkMs),
        },
        stdio: 'ignore',
      });
    const vm = await create({ ...newInstance(), memoryGiB: 60 });
    const first = startWorker(100);
    const second: { process?: ReturnType<typeof startWorker> } = {};
    try {
      const handle = await bed.env.client.workflow.start(instanceMigrate, {
        taskQueue: crashQueue,
        workflowId: `migrate-crash-${vm.instanceId}`,
        args: [{ instanceId: vm.instanceId }],
      });
      // Kill the worker once the stream has heartbeated progress (the chunks done, 1 or more), long before its 60 chunks are done.
      const heartbeated = (pending: { activityType?: { name?: string | null } | null; heartbeatDetails?: unknown }[]) =>
        pending.some((a) => a.activityType?.name === 'streamInstanceState' && a.heartbeatDetails);
      // The worker process compiles and bundles first: minutes on a loaded machine.
      await eventually(async () => (await handle.describe()).raw.pendingActivities ?? [], heartbeated, 'the stream to heartbeat', 3 * LOADED_MACHINE_MS);
      first.kill('SIGKILL');
      second.process = startWorker(5);
      const moved = await handle.result();
      expect(moved.stream.chunks).toBe(60);
      expect(moved.stream.resumedFromChunk).toBeGreaterThan(0);
      expect(moved.stream.resumedFromChunk).toBeLessThan(60);
      expect(await rack().get('instances', vm.instanceId)).toMatchObject({ state: 'running', sledId: moved.toSledId });
    } finally {
      first.kill('SIGKILL');
      second.process?.kill('SIGTERM');
    }
  });
});
