/** How each undo removes what its action made. */
import type { MutationOutput, UndoName } from '../schemas';
import { type Ctx, refuseIfReferenced, updateRow } from './context';
import { needsOperator } from './errors';
import { settleHardware } from './hardware';
import { findResource } from './reads';
import { type Revertible, isRevertible, revertFirmwareWrite, revertWrites } from './reverts';

/** The action an undo named by its key: the key, and its stored result. */
export interface AppliedAction {
  key: string;
  body: Record<string, unknown>;
}

/** What an undo reports besides the resource id. */
export type UndoOutcome<N extends UndoName> = Omit<MutationOutput<N>, 'resourceId'>;

/** An undo that reverts an update of `resource`: by the update's key only (its input requires one). */
function reverting(resource: Revertible, resourceType: string) {
  return (ctx: Ctx, _id: string, action?: AppliedAction) => {
    if (action === undefined) throw new Error(`a revert of a ${resourceType} update needs the update's key`);
    return revertWrites(ctx, resource, resourceType, action.key);
  };
}

/**
 * How each undo removes what its action made. `action` is the action the undo named by its key
 * (absent when it named a resource id); `undone: false` when there is nothing (left) to remove.
 * An action that never applied never gets here: `undo` fences its key.
 */
export const undos: { [N in UndoName]: (ctx: Ctx, id: string, action?: AppliedAction) => UndoOutcome<N> } = {
  'sleds.release': (ctx, id) => ({ undone: deleteRow(ctx, 'reservations', 'reservation', id) }),
  'sleds.revert': reverting('sleds', 'sled'),
  'ssds.revert': reverting('ssds', 'ssd'),
  'instances.revert': reverting('instances', 'instance'),
  'vmms.revert': reverting('vmms', 'vmm'),
  'instances.delete': (ctx, id) => {
    refuseIfReferenced(ctx, 'instance', id, [
      ['VMMs', 'SELECT COUNT(*) AS n FROM vmms WHERE instance_id = ?'],
      ['NICs', 'SELECT COUNT(*) AS n FROM nics WHERE instance_id = ?'],
      ['attached disks', 'SELECT COUNT(*) AS n FROM disks WHERE instance_id = ?'],
      ['reservations', 'SELECT COUNT(*) AS n FROM reservations WHERE instance_id = ?'],
    ]);
    return { undone: deleteRow(ctx, 'instances', 'instance', id) };
  },
  'vmms.destroy': (ctx, id) => ({ undone: deleteRow(ctx, 'vmms', 'vmm', id) }),
  'disks.delete': (ctx, id) => {
    refuseIfReferenced(ctx, 'disk', id, [
      ['regions', 'SELECT COUNT(*) AS n FROM regions WHERE disk_id = ?'],
      ['instances (attached)', 'SELECT COUNT(*) AS n FROM disks WHERE id = ? AND instance_id IS NOT NULL'],
    ]);
    return { undone: deleteRow(ctx, 'disks', 'disk', id) };
  },
  'disks.detach': (ctx, id, action) => {
    const disk = findResource(ctx.db, 'disks', id);
    // Undoing an attach detaches only from the instance that attach chose.
    if (disk === undefined || disk.instanceId === null || (action && disk.instanceId !== action.body.instanceId)) return { undone: false };
    updateRow(ctx, 'disks', 'disk', id, { instance_id: null });
    return { undone: true };
  },
  'regions.delete': (ctx, id) => ({ undone: deleteRow(ctx, 'regions', 'region', id) }),
  'ssds.online': (ctx, id) => {
    settleHardware(ctx.db, ctx.sim, id);
    const ssd = findResource(ctx.db, 'ssds', id);
    if (ssd === undefined || ssd.state === 'online') return { undone: false };
    if (ssd.state === 'resetting') {
      throw needsOperator(
        'ssd-not-returned',
        `SSD ${id} has not come back from its reset: reseat or replace it, then retry (or skip, recording why)`,
      );
    }
    updateRow(ctx, 'ssds', 'ssd', id, { state: 'online' });
    // Its replicas missed every write while it was away: they resync before they count as healthy.
    ctx.db.prepare('UPDATE regions SET resyncing = 1 WHERE ssd_id = ?').run(id);
    return { undone: true };
  },
  'ssds.clearFirmware': (ctx, id, action) => {
    // By the write's key: the write is reverted, staged or booted (see revertFirmwareWrite).
    if (action !== undefined) return revertFirmwareWrite(ctx, id, action.key);
    const ssd = findResource(ctx.db, 'ssds', id);
    if (ssd?.stagedFirmware === null || ssd === undefined) return { undone: false, restored: {}, kept: [] };
    updateRow(ctx, 'ssds', 'ssd', id, { staged_firmware: null });
    return { undone: true, restored: { stagedFirmware: null }, kept: [] };
  },
  'ips.release': (ctx, ip) => {
    if (findResource(ctx.db, 'ips', ip)?.allocated !== true) return { undone: false };
    refuseIfReferenced(ctx, 'IP', ip, [['NICs', 'SELECT COUNT(*) AS n FROM nics WHERE ip = ?']]);
    ctx.db.prepare('UPDATE ips SET allocated = 0 WHERE ip = ?').run(ip);
    ctx.record('ip', ip, 'deleted');
    return { undone: true };
  },
  'nics.delete': (ctx, id) => ({ undone: deleteRow(ctx, 'nics', 'nic', id) }),
  'v2p.clear': (ctx, id) => ({ undone: deleteRow(ctx, 'v2p', 'v2p', id) }),
};

/** Deletes a row and records it; false when there was none (nothing left to undo). */
function deleteRow(ctx: Ctx, table: string, resourceType: string, id: string): boolean {
  const { changes } = ctx.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
  if (changes > 0) ctx.record(resourceType, id, 'deleted');
  // What updates of it replaced is of no use once it is gone.
  if (changes > 0 && isRevertible(table)) ctx.db.prepare('DELETE FROM field_writes WHERE resource = ? AND resource_id = ?').run(table, id);
  return changes > 0;
}
