/** Actions on sleds and their SSDs as hardware: reservations, updates, installs, taking an SSD offline. */
import { type Actions, countRows, insertRow, placeableSled, refuseUnexpected, updateRow } from '../context';
import { busy, needsOperator, refused } from '../errors';
import { findResource, getResource } from '../reads';
import { rememberWrites } from '../reverts';

/** Sled and SSD actions. */
export const sledActions: Actions<'sleds.reserve' | 'sleds.update' | 'ssds.update' | 'ssds.install' | 'ssds.offline'> = {
  'sleds.reserve': (ctx, input) => {
    const sled = placeableSled(ctx, input.sledId, 'sledId');
    if (input.instanceId !== undefined) getResource(ctx.db, 'instances', input.instanceId, 'instanceId');
    const freeCpus = sled.cpus - sled.cpusUsed;
    const freeMemory = sled.memoryGiB - sled.memoryGiBUsed;
    if (input.cpus > freeCpus || input.memoryGiB > freeMemory) {
      throw refused(
        'no-capacity',
        `refused: no capacity on sled ${sled.id}: ${freeCpus} CPUs and ${freeMemory} GiB free, ` +
          `${input.cpus} CPUs and ${input.memoryGiB} GiB asked; choose another sled or release reservations`,
        'sledId',
      );
    }
    const id = insertRow(ctx, 'reservations', 'reservation', {
      sled_id: sled.id, cpus: input.cpus, memory_gib: input.memoryGiB, instance_id: input.instanceId ?? null,
    });
    return getResource(ctx.db, 'reservations', id);
  },

  'sleds.update': (ctx, input) => {
    const sled = getResource(ctx.db, 'sleds', input.sledId, 'sledId');
    refuseUnexpected('sled', sled, input.expect);
    rememberWrites(ctx, 'sleds', sled, { state: input.state, provisionable: input.provisionable, serial: input.serial, replacementId: input.replacementId });
    const provisionable = input.provisionable === undefined ? undefined : input.provisionable ? 1 : 0;
    updateRow(ctx, 'sleds', 'sled', sled.id, { state: input.state, provisionable, serial: input.serial, replacement_id: input.replacementId });
    return getResource(ctx.db, 'sleds', sled.id);
  },

  'ssds.update': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    rememberWrites(ctx, 'ssds', ssd, { firmwareVersion: input.firmwareVersion, health: input.health });
    updateRow(ctx, 'ssds', 'ssd', ssd.id, { firmware_version: input.firmwareVersion, health: input.health });
    return getResource(ctx.db, 'ssds', ssd.id);
  },

  'ssds.install': (ctx, input) => {
    const sled = getResource(ctx.db, 'sleds', input.sledId, 'sledId');
    const slot = countRows(ctx.db, 'SELECT COUNT(*) AS n FROM ssds WHERE sled_id = ?', sled.id);
    const id = input.id ?? `${sled.id}-ssd-${slot}`;
    if (findResource(ctx.db, 'ssds', id) !== undefined) {
      throw refused('conflict', `an SSD with id ${id} is already installed: choose another id`, 'id');
    }
    insertRow(ctx, 'ssds', 'ssd', {
      id, sled_id: sled.id, model: input.model, redundancy_group: input.redundancyGroup,
      firmware_version: input.firmwareVersion, health: 'healthy', state: 'online',
    });
    return getResource(ctx.db, 'ssds', id);
  },

  'ssds.offline': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    if (ssd.state !== 'online') {
      throw refused('ssd-not-online', `SSD ${ssd.id} is ${ssd.state}, not online: someone else has it out of service`, 'ssdId');
    }
    const sled = getResource(ctx.db, 'sleds', ssd.sledId);
    if (sled.state !== 'online') {
      throw needsOperator('sled-offline', `SSD ${ssd.id} is in sled ${sled.id}, which is offline: bring the sled online first`, 'ssdId');
    }
    const sibling = ctx.db
      .prepare("SELECT id, state FROM ssds WHERE redundancy_group = ? AND id != ? AND state != 'online' LIMIT 1")
      .get(ssd.redundancyGroup, ssd.id) as { id: string; state: string } | undefined;
    if (sibling !== undefined) {
      throw busy(
        'redundancy-group-busy',
        `SSD ${sibling.id} of redundancy group ${ssd.redundancyGroup} is ${sibling.state}: one SSD per group may be out of service; retry once it is back`,
        'ssdId',
      );
    }
    const degraded = ctx.db
      .prepare(
        `SELECT o.id, o.health FROM regions mine JOIN regions_v o ON o.diskId = mine.disk_id AND o.id != mine.id
         WHERE mine.ssd_id = ? AND o.health != 'healthy' ORDER BY o.id`,
      )
      .all(ssd.id) as { id: string; health: string }[];
    if (degraded.length > 0) {
      throw needsOperator(
        'mirror-degraded',
        `SSD ${ssd.id} holds replicas whose mirrors are not healthy (${degraded.map((r) => `${r.id} ${r.health}`).join(', ')}): ` +
          'taking it offline would leave a region with fewer than 2 healthy replicas; repair the mirrors first',
        'ssdId',
      );
    }
    updateRow(ctx, 'ssds', 'ssd', ssd.id, { state: 'offline' });
    return getResource(ctx.db, 'ssds', ssd.id);
  },
};
