/**
 * `instanceMigrate`: moves a running instance to another sled. Before the pivot (the source
 * is paused, the target holds the state) a failure unwinds to the instance running at its
 * source; after it the saga only goes forward, retrying or waiting for an operator.
 *
 * Cancelling it before the pivot unwinds it (the instance keeps running at its source); after
 * the pivot the request is recorded and the migration finishes forward. Only terminating the
 * workflow stops it then, leaving the rack as it is for an operator.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { InstanceMigrateParams, type InstanceMigrateResult } from '../schemas/instance';
import { reliable } from '../schemas/retry-profiles';
import { parseWorkflowInput } from '../schemas/validation';
import { runSaga } from './saga';
import { rackOneShot, rackReliable, rackUndo } from './steps/rack-proxies';

/**
 * Streaming memory takes as long as it takes; the heartbeat timeout notices a dead worker
 * within seconds, and the retry resumes from the last heartbeat.
 */
const streaming = proxyActivities<Activities>({ ...reliable, startToCloseTimeout: '2 hours', heartbeatTimeout: '10s' });

/** Migrates an instance; unwinds before the pivot, goes forward after it. */
export async function instanceMigrate(params: InstanceMigrateParams): Promise<InstanceMigrateResult> {
  const input = parseWorkflowInput(InstanceMigrateParams, params, 'instanceMigrate');
  const migrationId = workflowInfo().workflowId;
  return runSaga('instanceMigrate', async (saga) => {
    const parts = await saga.step('read-instance', {
      action: () => rackOneShot.readInstance({ instanceId: input.instanceId, mustBe: 'running' }),
    });
    const { instance } = parts;
    const fromSledId = instance.sledId ?? '';
    const sourceVmm = parts.vmms.find((v) => v.sledId === fromSledId);
    const sourceReservation = parts.reservations.find((r) => r.sledId === fromSledId);

    const { sledId: toSledId } = await saga.step('choose-target', {
      action: () =>
        rackOneShot.chooseSled({ cpus: instance.cpus, memoryGiB: instance.memoryGiB, excludeSledIds: [fromSledId], onlySledId: input.targetSledId }),
    });
    await saga.step('reserve-target', {
      action: (ctx) => rackOneShot.sledsReserve({ sledId: toSledId, cpus: instance.cpus, memoryGiB: instance.memoryGiB, instanceId: instance.id }, ctx.key),
      undo: (ctx) => rackUndo.sledsRelease(...ctx.undoKey),
    });
    // Compare-and-set: a second migration of the same instance finds the marker and is refused.
    await saga.step('mark-migrating', {
      action: (ctx) =>
        rackOneShot.instancesUpdate(
          { instanceId: instance.id, state: 'migrating', migrationId, expect: { state: 'running', migrationId: null } },
          ctx.key,
        ),
      undo: (ctx) => rackUndo.instancesRevert(...ctx.undoKey),
    });
    const targetVmm = await saga.step('create-target-vmm', {
      action: (ctx) => rackOneShot.vmmsCreate({ instanceId: instance.id, sledId: toSledId }, ctx.key),
      undo: (ctx) => rackUndo.vmmsDestroy(...ctx.undoKey),
    });
    const stream = await saga.step('stream-state', {
      action: () => streaming.streamInstanceState({ instanceId: instance.id, toSledId, memoryGiB: instance.memoryGiB }),
    });
    if (sourceVmm) {
      await saga.step('pause-source', {
        action: (ctx) => rackOneShot.vmmsUpdate({ vmmId: sourceVmm.id, state: 'paused' }, ctx.key),
        undo: (ctx) => rackUndo.vmmsRevert(...ctx.undoKey),
      });
    }

    saga.pivot();

    await saga.step('cutover-network', {
      action: (ctx) => rackReliable.cutoverV2p({ instanceId: instance.id, toSledId }, ctx.key),
    });
    await saga.step('resume-target', {
      action: (ctx) =>
        rackReliable.instancesUpdate(
          { instanceId: instance.id, state: 'running', sledId: toSledId, migrationId: null, expect: { migrationId } },
          ctx.key,
        ),
    });
    await saga.step('release-source', {
      action: (ctx) =>
        Promise.all([
          sourceVmm && rackReliable.vmmsDestroy({ id: sourceVmm.id }, `${ctx.key}/vmm`),
          sourceReservation && rackReliable.sledsRelease({ id: sourceReservation.id }, `${ctx.key}/reservation`),
        ]),
    });
    return { instanceId: instance.id, fromSledId, toSledId, vmmId: targetVmm.id, stream };
  });
}
