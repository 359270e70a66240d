/** Actions on disks and their regions (replicas on distinct sleds). */
import { type Actions, type Ctx, countRows, insertRow, placeableSled, refuseTakenName, updateRow } from '../context';
import { needsOperator, refused } from '../errors';
import { getResource } from '../reads';

/** How many replicas every disk gets; they must sit on distinct sleds. */
export const REGION_REPLICAS = 3;
/** A replica may move only while the disk keeps this many healthy replicas besides it. */
export const MIN_HEALTHY_REPLICAS = 2;

/** Disk and region actions. */
export const diskActions: Actions<'disks.create' | 'disks.attach' | 'regions.ensure' | 'regions.move'> = {
  'disks.create': (ctx, input) => {
    refuseTakenName(ctx, 'disks', 'disk', input.name);
    const id = insertRow(ctx, 'disks', 'disk', { name: input.name, size_gib: input.sizeGiB, instance_id: null });
    return getResource(ctx.db, 'disks', id);
  },

  'disks.attach': (ctx, input) => {
    const disk = getResource(ctx.db, 'disks', input.diskId, 'diskId');
    const instance = getResource(ctx.db, 'instances', input.instanceId, 'instanceId');
    if (disk.instanceId !== null && disk.instanceId !== instance.id) {
      throw refused('in-use', `disk ${disk.id} is attached to instance ${disk.instanceId}: detach it first`, 'diskId');
    }
    if (disk.instanceId === null) updateRow(ctx, 'disks', 'disk', disk.id, { instance_id: instance.id });
    return getResource(ctx.db, 'disks', disk.id);
  },

  'regions.ensure': (ctx, input) => {
    const disk = getResource(ctx.db, 'disks', input.diskId, 'diskId');
    const replicas = countRows(ctx.db, 'SELECT COUNT(*) AS n FROM regions WHERE disk_id = ?', disk.id);
    if (replicas >= REGION_REPLICAS) {
      throw refused('replicas-complete', `disk ${disk.id} already has its ${REGION_REPLICAS} regions: delete one before adding another`, 'diskId');
    }
    const place = placeRegion(ctx, disk.id, input);
    const id = insertRow(ctx, 'regions', 'region', {
      disk_id: disk.id, sled_id: place.sledId, ssd_id: place.ssdId, size_gib: disk.sizeGiB, health: 'healthy',
    });
    return getResource(ctx.db, 'regions', id);
  },

  'regions.move': (ctx, input) => {
    const region = getResource(ctx.db, 'regions', input.regionId, 'regionId');
    const others = ctx.db
      // The view's health: a replica is only as healthy as the SSD and sled under it.
      .prepare('SELECT id, sledId, health FROM regions_v WHERE diskId = ? AND id <> ? ORDER BY _order')
      .all(region.diskId, region.id) as { id: string; sledId: string; health: string }[];
    const healthy = others.filter((r) => r.health === 'healthy').length;
    if (healthy < MIN_HEALTHY_REPLICAS) {
      throw needsOperator(
        'mirror-degraded',
        `moving region ${region.id} would leave disk ${region.diskId} with ${healthy} healthy replica(s) ` +
          `(${others.map((r) => `${r.id} on ${r.sledId}: ${r.health}`).join(', ')}); repair the degraded replicas, then retry`,
        'regionId',
      );
    }
    const place = placeRegion(ctx, region.diskId, input);
    updateRow(ctx, 'regions', 'region', region.id, { sled_id: place.sledId, ssd_id: place.ssdId });
    return getResource(ctx.db, 'regions', region.id);
  },
};

/** Where a replica of `diskId` goes: the sled and SSD asked for, checked, or the rack's pick. */
function placeRegion(ctx: Ctx, diskId: string, ask: { sledId?: string; ssdId?: string }): { sledId: string; ssdId: string | null } {
  const sledId = ask.sledId ?? pickSledForRegion(ctx, diskId);
  const sled = placeableSled(ctx, sledId, 'sledId');
  if (countRows(ctx.db, 'SELECT COUNT(*) AS n FROM regions WHERE disk_id = ? AND sled_id = ?', diskId, sled.id) > 0) {
    throw refused(
      'sled-taken',
      `disk ${diskId} already has a region on sled ${sled.id}: replicas must be on distinct sleds, choose another sled`,
      'sledId',
    );
  }
  return { sledId: sled.id, ssdId: ask.ssdId === undefined ? pickSsd(ctx, sled.id) : checkSsd(ctx, ask.ssdId, sled.id) };
}

function pickSledForRegion(ctx: Ctx, diskId: string): string {
  // Spread replicas: the online provisionable sled holding the fewest regions, in rack order.
  const row = ctx.db
    .prepare(
      `SELECT s.id FROM sleds_v s WHERE s.state = 'online' AND s.provisionable = 1
         AND s.id NOT IN (SELECT sled_id FROM regions WHERE disk_id = ?)
       ORDER BY (SELECT COUNT(*) FROM regions r WHERE r.sled_id = s.id), s._order LIMIT 1`,
    )
    .get(diskId) as { id: string } | undefined;
  if (row === undefined) {
    throw refused('no-capacity', `refused: no capacity: no online provisionable sled is free of a region of disk ${diskId}`, 'sledId');
  }
  return row.id;
}

function pickSsd(ctx: Ctx, sledId: string): string | null {
  const row = ctx.db
    .prepare(
      `SELECT d.id FROM ssds d WHERE d.sled_id = ? AND d.health = 'healthy' AND d.state = 'online'
       ORDER BY (SELECT COUNT(*) FROM regions r WHERE r.ssd_id = d.id), d.rowid LIMIT 1`,
    )
    .get(sledId) as { id: string } | undefined;
  return row?.id ?? null;
}

function checkSsd(ctx: Ctx, ssdId: string, sledId: string): string {
  const ssd = getResource(ctx.db, 'ssds', ssdId, 'ssdId');
  if (ssd.sledId !== sledId) throw refused('ssd-not-on-sled', `SSD ${ssd.id} is in sled ${ssd.sledId}, not sled ${sledId}: pick an SSD of that sled`, 'ssdId');
  if (ssd.health === 'failed') throw refused('ssd-failed', `SSD ${ssd.id} has failed: pick another SSD`, 'ssdId');
  if (ssd.state !== 'online') throw refused('ssd-not-online', `SSD ${ssd.id} is ${ssd.state}: pick an online SSD`, 'ssdId');
  return ssd.id;
}
