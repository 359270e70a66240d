/**
 * Issue 9 §1, "undoing what never happened succeeds": an undo is registered before its action
 * runs, so it also runs when the action never applied. For every saga and every step before its
 * pivot, the step is made to fail *before* its action runs (memo fault `failWhen: 'before'`): the
 * saga must unwind from that step and leave the rack exactly as it found it — no residue, and
 * nothing changed by the undo of the action that never ran.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { DiskCreateParams } from '../src/schemas/disk';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../src/schemas/faults';
import type { InstanceCreateParams } from '../src/schemas/instance';
import { SledReplaceParams } from '../src/schemas/sled';
import { sagaUnwoundDetails } from '../src/testing';
import {
  approveUpdate,
  diskCreate,
  hardwareReplacedUpdate,
  instanceCreate,
  instanceDelete,
  instanceMigrate,
  rejectUpdate,
  sagaStatusQuery,
  sledReplace,
} from '../src/workflows';
import { useRackTestBed } from './helpers/rack-bed';
import { endOrPause, waitForStatus, type SagaEnd } from './helpers/saga-env';

let n = 0;
const taskQueue = 'undo-never-applied';
const bed = useRackTestBed({ taskQueue, deps: { stream: { chunkMs: 1 } } });
const rack = () => bed.testRack.rack;

/** Everything a saga could change: every allocation, and every field of the hardware. */
async function snapshot() {
  const [inventory, sleds, ssds] = await Promise.all([rack().inventory(), rack().list('sleds'), rack().list('ssds')]);
  return { inventory, sleds, ssds };
}

function start<P>(saga: (params: P) => Promise<unknown>, workflowId: string, params: P, faults: SagaFaults = {}) {
  return bed.env.client.workflow.start(saga as Workflow, { taskQueue, workflowId, args: [params], memo: { [FAULTS_MEMO_KEY]: faults } });
}

/** The saga's outcome; a saga that pauses (an undo that cannot succeed makes it `stuck`) is terminated and reported with what it waits for. */
async function outcome(handle: WorkflowHandle): Promise<SagaEnd> {
  const end = await endOrPause(handle);
  if (!('paused' in end)) return end;
  await handle.terminate('test: the saga cannot finish on its own').catch(() => undefined);
  throw new Error(`${handle.workflowId} is ${end.paused.state} at ${end.paused.waitingFor?.step}: ${JSON.stringify(end.paused.waitingFor?.error)}`);
}

/** The `SagaUnwound` details of a saga that must have unwound. */
async function unwound(handle: WorkflowHandle) {
  const end = await outcome(handle);
  expect('failed' in end, `${handle.workflowId} succeeded, expected it to unwind`).toBe(true);
  return sagaUnwoundDetails('failed' in end && end.failed);
}

/** The result of a saga that must have completed. */
async function completed<R>(handle: WorkflowHandle): Promise<R> {
  const end = await outcome(handle);
  if ('failed' in end) throw new Error(`${handle.workflowId} failed: ${(end.failed as Error).message}; ${String((end.failed as Error).cause)}`);
  return (end as { completed: R }).completed;
}

/** The steps before the pivot, from a successful run's status. */
async function stepsBeforePivot(handle: WorkflowHandle): Promise<string[]> {
  const status = await handle.query(sagaStatusQuery);
  expect(status.state).toBe('completed');
  return status.steps.filter((s) => !s.afterPivot).map((s) => s.name);
}

/**
 * Runs `saga` with `step` failing before its action; it must unwind from that step, skip no
 * undo, leave the rack as `before`, and no effect may carry the step's key (its action never
 * ran, so neither it nor its undo may have changed anything).
 */
async function unwindsCleanlyFrom<P>(saga: (params: P) => Promise<unknown>, params: P, step: string, prefix: string): Promise<void> {
  const before = await snapshot();
  const workflowId = `${prefix}/fail-${step}/${++n}`;
  const details = await unwound(await start(saga, workflowId, params, { failStep: step, failWhen: 'before' }));
  expect(details?.failedStep, `${saga.name} failing at ${step}`).toBe(step);
  expect(details?.skipped, `${saga.name} failing at ${step}`).toEqual([]);
  expect(await snapshot(), `the rack after ${saga.name} unwound from ${step}`).toEqual(before);
  const key = `${workflowId}/${step}`;
  const effects = (await rack().ledger()).filter((e) => e.key === key || e.key.startsWith(`${key}/`));
  expect(effects, `effects under the key of ${step}, which never ran`).toEqual([]);
}

/** Runs `check` for every step, reporting each failing step rather than stopping at the first. */
async function forEveryStep(steps: string[], check: (step: string) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const step of steps) {
    try {
      await check(step);
    } catch (err) {
      failures.push(`${step}: ${(err as Error).message.split('\n').slice(0, 12).join('\n')}`);
    }
  }
  expect(failures).toEqual([]);
}

// sledReplace first, while the rack is empty: an evacuation that moved nothing leaves nothing
// moved (instances it did move stay on their new sleds by design, see sled-replace.ts).
describe('sledReplace', () => {
  const people = { approvers: ['alice'], escalateTo: ['lead'], technicians: ['tech-1'] };
  const request = (sledId: string, requestId?: string) => SledReplaceParams.parse({ sledId, requestId, ...people });
  let steps: string[] = [];

  it('discovers its steps from a replacement that completes', async () => {
    const handle = await start(sledReplace, 'replace/discover', request('sled-7'));
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice', comment: 'go' }] });
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    await rack().sleds.update({ sledId: 'sled-7', serial: 'NEW-7' }, 'technician/swap-sled-7');
    await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'NEW-7', technician: 'tech-1' }] });
    await completed(handle);
    steps = await stepsBeforePivot(handle);
    expect(steps).toEqual(['mark-non-provisionable', 'evacuate', 're-replicate', 'approve-power-off']);
  });

  it('unwinds from every step before the power-off, leaving the sled as it was', async () => {
    expect(await rack().list('instances', { sledId: 'sled-6' })).toEqual([]);
    await forEveryStep(steps, (step) => unwindsCleanlyFrom(sledReplace, request('sled-6'), step, 'replace'));
  });

  it('leaves a sled an operator drained by hand drained, from every step', async () => {
    try {
      await forEveryStep(steps, async (step) => {
        // Drained again before every run: a run that re-opened the sled must not hide the next one's.
        await rack().sleds.update({ sledId: 'sled-6', provisionable: false }, `operator/drain-sled-6-${step}`);
        await unwindsCleanlyFrom(sledReplace, request('sled-6'), step, 'replace-drained');
      });
    } finally {
      await rack().sleds.update({ sledId: 'sled-6', provisionable: true }, 'operator/undrain-sled-6');
    }
  });

  it('does not re-open a sled another replacement holds: the second is refused, and its unwind leaves the sled held', async () => {
    const before = await snapshot();
    const holder = await start(sledReplace, 'replace-held/a', request('sled-6', 'a'));
    await waitForStatus(holder, (s) => s.state === 'awaiting-approval');
    // Started past the client's check, as a start within visibility's lag would be.
    const second = await start(sledReplace, 'replace-held/b', request('sled-6', 'b'));
    expect(await unwound(second)).toMatchObject({ failedStep: 'mark-non-provisionable', undone: ['mark-non-provisionable'], skipped: [] });
    expect(await rack().get('sleds', 'sled-6'), 'the second unwound while the first replaces').toMatchObject({
      provisionable: false,
      replacementId: 'replace-held/a',
    });

    await holder.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'not this one' }] });
    expect(await unwound(holder)).toMatchObject({ failedStep: 'approve-power-off', skipped: [] });
    expect(await snapshot(), 'both unwound').toEqual(before);
  });
});

describe('diskCreate', () => {
  const params = (): DiskCreateParams => ({ name: `disk-${++n}`, sizeGiB: 10 });

  it('unwinds from every step, changing nothing', async () => {
    const handle = await start(diskCreate, 'disk/discover', params());
    await completed(handle);
    const steps = await stepsBeforePivot(handle);
    expect(steps).toHaveLength(4);
    await forEveryStep(steps, (step) => unwindsCleanlyFrom(diskCreate, params(), step, 'disk'));
  });
});

describe('instances', () => {
  const newInstance = (): InstanceCreateParams => ({ name: `vm-${++n}`, cpus: 2, memoryGiB: 4, diskGiB: 10, nics: 1 });
  const running = async () => {
    const vm = await completed<{ instanceId: string }>(await start(instanceCreate, `instance/running/${++n}`, newInstance()));
    return { instanceId: vm.instanceId };
  };

  it('instanceCreate unwinds from every step, changing nothing', async () => {
    const handle = await start(instanceCreate, 'create/discover', newInstance());
    await completed(handle);
    const steps = await stepsBeforePivot(handle);
    expect(steps).toEqual(expect.arrayContaining(['create-instance', 'start-instance', 'record-running']));
    await forEveryStep(steps, (step) => unwindsCleanlyFrom(instanceCreate, newInstance(), step, 'create'));
  });

  it('instanceMigrate unwinds from every step before the pivot, changing nothing', async () => {
    const handle = await start(instanceMigrate, 'migrate/discover', await running());
    await completed(handle);
    const steps = await stepsBeforePivot(handle);
    expect(steps).toEqual(['read-instance', 'choose-target', 'reserve-target', 'mark-migrating', 'create-target-vmm', 'stream-state', 'pause-source']);
    await forEveryStep(steps, async (step) => unwindsCleanlyFrom(instanceMigrate, await running(), step, 'migrate'));
  });

  it('instanceDelete unwinds from every step before the pivot, changing nothing', async () => {
    const handle = await start(instanceDelete, 'delete/discover', await running());
    await completed(handle);
    const steps = await stepsBeforePivot(handle);
    expect(steps).toEqual(['read-instance', 'stop-instance']);
    await forEveryStep(steps, async (step) => unwindsCleanlyFrom(instanceDelete, await running(), step, 'delete'));
  });
});
