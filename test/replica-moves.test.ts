/**
 * Two sagas on one disk: a sled replacement moves a replica of a disk whose instanceCreate is
 * still open, then that instanceCreate unwinds. The undo of the step that made the replica must
 * remove it wherever it now lives, or the disk's own undo is refused ("still used by regions")
 * and the saga is stuck for good (first seen in a chaos run on a loaded machine).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createSledActivities } from '../src/activities/sleds';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../src/schemas/faults';
import type { InstanceCreateParams } from '../src/schemas/instance';
import type { SagaStatus } from '../src/schemas/saga';
import { createDevServerEnv, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { instanceCreate, sagaStatusQuery, unwindUpdate } from '../src/workflows';

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;
const taskQueue = 'replica-moves';

beforeAll(async () => {
  env = await createDevServerEnv();
  bed = await startRackSagaBed(env, { taskQueue });
});

afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
});

it("an unwinding instanceCreate removes its disk's replicas after a sled replacement moved one of them", async () => {
  const rack = bed.testRack.rack;
  const before = await rack.inventory();
  const params: InstanceCreateParams = { name: 'moved-replica', cpus: 1, memoryGiB: 1, diskGiB: 10, nics: 1 };
  const faults: SagaFaults = { failStep: 'create-vmm', failAs: 'needs-operator' };
  const handle = await env.client.workflow.start(instanceCreate, {
    taskQueue,
    workflowId: 'replica-moves/instance',
    args: [params],
    memo: { [FAULTS_MEMO_KEY]: faults },
  });
  const status = async () => (await handle.query(sagaStatusQuery).catch(() => undefined)) as SagaStatus | undefined;
  await vi.waitFor(async () => expect((await status())?.state).toBe('needs-operator'), { timeout: 120_000, interval: 200 });

  // The disk has its three replicas; the replacement of one's sled moves it elsewhere.
  const [disk] = await rack.list('disks', { name: `${params.name}-boot` });
  const regions = await rack.list('regions', { diskId: disk!.id });
  expect(regions).toHaveLength(3);
  const moved = regions[0]!;
  // As sledReplace does: the sled takes no new work, then its replicas move off it.
  await rack.sleds.update({ sledId: moved.sledId, provisionable: false }, 'replica-moves/mark');
  const { reReplicateRegion } = createSledActivities(rack);
  await reReplicateRegion({ regionId: moved.id, diskId: disk!.id }, `replica-moves/re-replicate/${moved.id}`);
  const after = await rack.list('regions', { diskId: disk!.id });
  expect(after).toHaveLength(3);
  expect(after.map((r) => r.sledId)).not.toContain(moved.sledId);

  await handle.executeUpdate(unwindUpdate, { args: [{ operator: 'test', reason: 'the replica moved under it' }] });
  const final = await vi.waitFor(
    async () => {
      const s = await status();
      expect(['unwound', 'stuck']).toContain(s?.state);
      return s!;
    },
    { timeout: 120_000, interval: 200 },
  );
  expect(final.waitingFor?.error.message, 'the saga is stuck on an undo').toBeUndefined();
  expect(final.state).toBe('unwound');
  await rack.sleds.revert({ actionKey: 'replica-moves/mark' }, 'replica-moves/mark/undo');
  expect(await rack.list('regions', { diskId: disk!.id })).toEqual([]);
  expect(await rack.inventory()).toEqual(before);
}, 300_000);
