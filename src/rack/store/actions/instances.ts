/** Actions on instances and the VMMs that run them. */
import { type Actions, insertRow, placeableSled, refuseTakenName, updateRow } from '../context';
import { refused } from '../errors';
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
    const expect = input.expect ?? {};
    for (const field of ['state', 'migrationId'] as const) {
      if (expect[field] !== undefined && expect[field] !== instance[field]) {
        throw refused(
          'precondition-failed',
          `instance ${instance.id} has ${field} ${JSON.stringify(instance[field])}, expected ${JSON.stringify(expect[field])}: ` +
            'another change got there first; re-read the instance and decide again',
          `expect.${field}`,
        );
      }
    }
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
