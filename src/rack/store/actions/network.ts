/** Network actions: IP addresses of the pool, NICs, V2P mappings. */
import { type Actions, insertRow } from '../context';
import { needsOperator, refused } from '../errors';
import { getResource, listResource } from '../reads';

/** Network actions. */
export const networkActions: Actions<'ips.allocate' | 'nics.create' | 'v2p.set'> = {
  'ips.allocate': (ctx) => {
    const free = ctx.db.prepare('SELECT ip FROM ips WHERE allocated = 0 ORDER BY position LIMIT 1').get() as { ip: string } | undefined;
    if (free === undefined) throw refused('pool-exhausted', 'the IP pool has no free address: release addresses or reseed with a larger pool');
    ctx.db.prepare('UPDATE ips SET allocated = 1 WHERE ip = ?').run(free.ip);
    ctx.record('ip', free.ip, 'created');
    return getResource(ctx.db, 'ips', free.ip);
  },

  'nics.create': (ctx, input) => {
    const instance = getResource(ctx.db, 'instances', input.instanceId, 'instanceId');
    const ip = getResource(ctx.db, 'ips', input.ip, 'ip');
    if (!ip.allocated) throw refused('ip-not-allocated', `IP ${ip.ip} is not allocated: allocate it first with ips.allocate`, 'ip');
    const holder = ctx.db.prepare('SELECT id FROM nics WHERE ip = ?').get(ip.ip) as { id: string } | undefined;
    if (holder) throw refused('in-use', `IP ${ip.ip} is already held by NIC ${holder.id}: allocate another address`, 'ip');
    // The MAC is derived from the IP: unique because the IP is, and stable across replays.
    const mac = ['02', '00', ...ip.ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
    const id = insertRow(ctx, 'nics', 'nic', { instance_id: instance.id, ip: ip.ip, mac });
    return getResource(ctx.db, 'nics', id);
  },

  'v2p.set': (ctx, input) => {
    const sled = getResource(ctx.db, 'sleds', input.sledId, 'sledId');
    if (sled.state !== 'online') {
      throw needsOperator('sled-offline', `sled ${sled.id} is offline, its V2P table cannot be programmed: bring it online`, 'sledId');
    }
    getResource(ctx.db, 'sleds', input.physicalSledId, 'physicalSledId');
    const existing = listResource(ctx.db, 'v2p', { sledId: sled.id, virtualIp: input.virtualIp })[0];
    if (existing) {
      if (existing.physicalSledId === input.physicalSledId) return existing;
      throw refused(
        'conflict',
        `sled ${sled.id} already maps ${input.virtualIp} to sled ${existing.physicalSledId}: clear mapping ${existing.id} first`,
        'virtualIp',
      );
    }
    const id = insertRow(ctx, 'v2p', 'v2p', { sled_id: sled.id, virtual_ip: input.virtualIp, physical_sled_id: input.physicalSledId });
    return getResource(ctx.db, 'v2p', id);
  },
};
