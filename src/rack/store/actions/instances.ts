/** Actions on instances and the VMMs that run them. */
import { type Actions, insertRow, placeableSled, refuseTakenName, refuseUnexpected, updateRow } from '../context';
import { getResource } from '../reads';
import { rememberWrites } from '../reverts';

/** Instance and VMM actions. */
export const instanceActions: Actions<'instances.create' | 'instances.update' | 'vmms.create' | 'vmms.update'> = {
  'instances.create': (ctx, input) => {
    refuseTakenName(ctx, 'instances', 'instance', input.name);
    const id = insertRow(ctx, 'instances', 'instance', {
      name: input.name, state: 'creating', sled_id: null, cpus: input.cpus, memory_gib: input.memoryGiB, migration_id: null,
    });
    return getResource(ctx.db, 'instances', id);
  },

  'instances.update': (ctx, input) => {
    const instance = getResource(ctx.db, 'instances', input.instanceId, 'instanceId');
    refuseUnexpected('instance', instance, input.expect);
    if (input.sledId) getResource(ctx.db, 'sleds', input.sledId, 'sledId');
    rememberWrites(ctx, 'instances', instance, { state: input.state, sledId: input.sledId, migrationId: input.migrationId });
    updateRow(ctx, 'instances', 'instance', instance.id, {
      state: input.state, sled_id: input.sledId, migration_id: input.migrationId,
    });
    return getResource(ctx.db, 'instances', instance.id);
  },

  'vmms.create': (ctx, input) => {
    const instance = getResource(ctx.db, 'instances', input.instanceId, 'instanceId');
    const sled = placeableSled(ctx, input.sledId, 'sledId');
    const id = insertRow(ctx, 'vmms', 'vmm', { instance_id: instance.id, sled_id: sled.id, state: 'running' });
    return getResource(ctx.db, 'vmms', id);
  },

  'vmms.update': (ctx, input) => {
    const vmm = getResource(ctx.db, 'vmms', input.vmmId, 'vmmId');
    rememberWrites(ctx, 'vmms', vmm, { state: input.state });
    if (vmm.state !== input.state) updateRow(ctx, 'vmms', 'vmm', vmm.id, { state: input.state });
    return getResource(ctx.db, 'vmms', vmm.id);
  },
};
