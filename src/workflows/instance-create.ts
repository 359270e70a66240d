/**
 * `instanceCreate`: VM provisioning. Records the instance, places it on a sled with room,
 * builds its boot disk and its NICs in parallel, starts its VMM, attaches the disk, and marks
 * it running. Every step has an undo; without capacity it unwinds with a reason a user reads.
 */
import { InstanceCreateParams, type InstanceCreateResult } from '../schemas/instance';
import { parseWorkflowInput } from '../schemas/validation';
import { runSaga, type SagaScope } from './saga';
import { provisionDisk } from './steps/disk';
import { provisionNic } from './steps/network';
import { rack, rackUndo } from './steps/rack-proxies';

/** Provisions a VM; unwinds on failure, leaving the rack as it was. */
export async function instanceCreate(params: InstanceCreateParams): Promise<InstanceCreateResult> {
  const input = parseWorkflowInput(InstanceCreateParams, params, 'instanceCreate');
  return runSaga('instanceCreate', async (saga) => {
    const instance = await saga.step('create-instance', {
      action: (ctx) => rack.instancesCreate({ name: input.name, cpus: input.cpus, memoryGiB: input.memoryGiB }, ctx.key),
      undo: (ctx) => rackUndo.instancesDelete({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    const { sledId } = await saga.step('choose-sled', {
      action: () => rack.chooseSled({ cpus: input.cpus, memoryGiB: input.memoryGiB }),
    });
    await saga.step('reserve-sled', {
      action: (ctx) => rack.sledsReserve({ sledId, cpus: input.cpus, memoryGiB: input.memoryGiB, instanceId: instance.id }, ctx.key),
      undo: (ctx) => rackUndo.sledsRelease({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    const allSledIds = await saga.step('list-sleds', { action: () => rack.listSledIds() });

    const [disk, nics] = await saga.parallel('disk-and-nics', [
      (group) => provisionDisk(group, { name: `${input.name}-boot`, sizeGiB: input.diskGiB }),
      (group) =>
        group.parallel(
          'nics',
          Array.from({ length: input.nics }, (_, index) => (nicGroup: SagaScope) =>
            provisionNic(nicGroup, { index, instanceId: instance.id, sledId, allSledIds }),
          ),
        ),
    ] as const);

    const vmm = await saga.step('create-vmm', {
      action: (ctx) => rack.vmmsCreate({ instanceId: instance.id, sledId }, ctx.key),
      undo: (ctx) => rackUndo.vmmsDestroy({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    await saga.step('attach-disk', {
      action: (ctx) => rack.disksAttach({ diskId: disk.diskId, instanceId: instance.id }, ctx.key),
      undo: (ctx) => rackUndo.disksDetach({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    await saga.step('start-instance', {
      action: (ctx) => rack.instancesUpdate({ instanceId: instance.id, state: 'starting', sledId }, ctx.key),
      undo: (ctx) => rackUndo.instancesRevert({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    await saga.step('record-running', {
      action: (ctx) => rack.instancesUpdate({ instanceId: instance.id, state: 'running' }, ctx.key),
      undo: (ctx) => rackUndo.instancesRevert({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    return { instanceId: instance.id, sledId, vmmId: vmm.id, diskId: disk.diskId, nics };
  });
}
