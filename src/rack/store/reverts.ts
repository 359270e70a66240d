/**
 * Updates and their reverts: what each revertible update replaced is remembered under its key
 * (table field_writes), so that its revert can put it back by compare-and-set.
 */
import { type FieldValue, type ResourceName, type ResourceOf, type RevertResult } from '../schemas';
import { type Ctx, updateRow } from './context';
import { needsOperator } from './errors';
import { settleHardware } from './hardware';
import { findResource, getResource } from './reads';

/**
 * The fields each revertible update may write: wire name → column. The table is the resource's.
 */
const revertibleFields = {
  sleds: { state: 'state', provisionable: 'provisionable', serial: 'serial', replacementId: 'replacement_id' },
  ssds: { firmwareVersion: 'firmware_version', health: 'health', stagedFirmware: 'staged_firmware' },
  instances: { state: 'state', sledId: 'sled_id', migrationId: 'migration_id' },
  vmms: { state: 'state' },
} as const satisfies Partial<Record<ResourceName, Record<string, string>>>;
export type Revertible = keyof typeof revertibleFields;
type RevertibleField<R extends Revertible> = keyof (typeof revertibleFields)[R] & string;

export function isRevertible(resource: string): resource is Revertible {
  return Object.hasOwn(revertibleFields, resource);
}

/**
 * Remembers, under the request's key, what each field an update names held before it (wire
 * values), so that the update's revert can put it back. Every named field is remembered, even
 * one that already held the value: the update holds that value now too (two replacements
 * marking one sled non-provisionable), and undoing the other holder must not release it.
 * Called before the update applies, in its transaction.
 */
export function rememberWrites<R extends Revertible>(
  ctx: Ctx,
  resource: R,
  current: ResourceOf<R>,
  changes: Partial<Record<RevertibleField<R>, FieldValue | undefined>>,
): void {
  const insert = ctx.db.prepare(
    'INSERT INTO field_writes (key, resource, resource_id, field, before, after) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const [field, after] of Object.entries(changes) as [string, FieldValue | undefined][]) {
    if (after === undefined) continue;
    const before = (current as Record<string, FieldValue>)[field] ?? null;
    insert.run(ctx.key, resource, current.id, field, JSON.stringify(before), JSON.stringify(after));
  }
}

interface FieldWrite {
  seq: number;
  key: string;
  resource_id: string;
  field: string;
  before: string;
  after: string;
}

/**
 * Reverts the update applied under `actionKey`: compare-and-set, field by field. A field the
 * update wrote goes back to what it held before — only if it still holds what the update set,
 * and no later update wrote it since. Otherwise the field is left as it is and listed in `kept`.
 *
 * Leaving it is a success, not a `needs-operator` or `unknown-state` failure: the undo's job is
 * to remove its action's effect, and a field someone changed since no longer carries that
 * effect — it carries a newer decision (an operator's, another saga's) that putting the old
 * value back would silently overwrite. Nothing is uncertain and nothing needs a person; pausing
 * every unwind whose field an operator touched would page people for normal operations. The
 * result says which fields were kept, with their value and who changed them.
 *
 * When the later update replaced exactly the value this one set, it now replaces what this one
 * replaced (this update is taken out of the field's history): so two replacements marking one
 * sled non-provisionable, reverted in either order, leave it closed until the last one is
 * reverted, and then as it was before both.
 */
export function revertWrites(ctx: Ctx, resource: Revertible, resourceType: string, actionKey: string): Omit<RevertResult, 'resourceId'> {
  const columns: Record<string, string> = revertibleFields[resource];
  const writes = ctx.db
    .prepare('SELECT seq, key, resource_id, field, before, after FROM field_writes WHERE key = ? AND resource = ? ORDER BY seq')
    .all(actionKey, resource) as FieldWrite[];
  const later = ctx.db.prepare(
    'SELECT seq, key, before FROM field_writes WHERE resource = ? AND resource_id = ? AND field = ? AND seq > ? ORDER BY seq LIMIT 1',
  );
  const restored: Record<string, FieldValue> = {};
  const kept: RevertResult['kept'] = [];
  const set = new Map<string, Record<string, unknown>>();
  for (const write of writes) {
    const { field, resource_id: id } = write;
    const current = findResource(ctx.db, resource, id) as Record<string, FieldValue> | undefined;
    const next = later.get(resource, id, field, write.seq) as Pick<FieldWrite, 'seq' | 'key' | 'before'> | undefined;
    if (current === undefined) {
      kept.push({ field, value: null, reason: `${resourceType} ${id} no longer exists` });
    } else if (next !== undefined) {
      if (next.before === write.after) {
        ctx.db.prepare('UPDATE field_writes SET before = ? WHERE seq = ?').run(write.before, next.seq);
      }
      kept.push({ field, value: current[field] ?? null, reason: `changed since by ${next.key}` });
    } else if (JSON.stringify(current[field] ?? null) === write.after) {
      const before = JSON.parse(write.before) as FieldValue;
      restored[field] = before;
      if (write.before !== write.after) {
        const changes = set.get(id) ?? {};
        changes[columns[field]!] = typeof before === 'boolean' ? Number(before) : before;
        set.set(id, changes);
      }
    } else {
      kept.push({
        field,
        value: current[field] ?? null,
        reason: `changed since: it holds ${JSON.stringify(current[field])}, not the ${JSON.stringify(JSON.parse(write.after))} this update set`,
      });
    }
    ctx.db.prepare('DELETE FROM field_writes WHERE seq = ?').run(write.seq);
  }
  for (const [id, changes] of set) updateRow(ctx, resource, resourceType, id, changes);
  return { undone: set.size > 0, restored, kept };
}

/** The first write of `field` of SSD `id` after write `seq`, under any key: who changed it since. */
function laterSsdWrite(ctx: Ctx, id: string, field: string, seq: number): Pick<FieldWrite, 'seq' | 'key' | 'before'> | undefined {
  return ctx.db
    .prepare("SELECT seq, key, before FROM field_writes WHERE resource = 'ssds' AND resource_id = ? AND field = ? AND seq > ? ORDER BY seq LIMIT 1")
    .get(id, field, seq) as Pick<FieldWrite, 'seq' | 'key' | 'before'> | undefined;
}

/**
 * Reverts the firmware write applied under `key` to SSD `id` (`ssds.clearFirmware` by the key).
 *
 * Why more than the staged slot: an image is staged only until the next reset boots it. From
 * then on the write's effect is the firmware the drive runs, and clearing an empty slot would
 * leave a drive whose saga unwound on the new firmware — not the rack as the saga found it. So
 * the write remembers (under its key, as `firmwareVersion`) the version the drive ran before,
 * and once the drive booted the image its undo activates that version again, as a real SSD
 * activates its previous firmware slot. Only while the drive is out of service: a saga undoes
 * its write before it brings the drive back online, and a drive someone put back in service on
 * the new firmware is their decision. Compare-and-set like every revert: a drive running
 * something else (updated since) is left as it is and reported in `kept`; a drive that came
 * back on its old firmware (the update failed) needs nothing; a drive not back from its reset
 * yet pauses for an operator, since what it booted is not known. An image still staged, or
 * replaced in the slot by a later write, never ran: the slot is reverted as before.
 */
export function revertFirmwareWrite(ctx: Ctx, id: string, key: string): Omit<RevertResult, 'resourceId'> {
  const own = (field: string) =>
    ctx.db
      .prepare("SELECT seq, key, resource_id, field, before, after FROM field_writes WHERE key = ? AND resource = 'ssds' AND resource_id = ? AND field = ?")
      .get(key, id, field) as FieldWrite | undefined;
  const forget = (write: FieldWrite) => void ctx.db.prepare('DELETE FROM field_writes WHERE seq = ?').run(write.seq);
  const staged = own('stagedFirmware');
  const ran = own('firmwareVersion');
  // A write recorded before writes remembered the running version, or a drive since removed: the slot only.
  if (staged === undefined || ran === undefined || findResource(ctx.db, 'ssds', id) === undefined) {
    return revertWrites(ctx, 'ssds', 'ssd', key);
  }
  settleHardware(ctx.db, ctx.sim, id); // a drive back from its reset shows what it booted
  const ssd = getResource(ctx.db, 'ssds', id);
  const replaced = laterSsdWrite(ctx, id, 'stagedFirmware', staged.seq);
  if (replaced === undefined ? JSON.stringify(ssd.stagedFirmware) === staged.after : replaced.before === staged.after) {
    // Never booted: the drive runs what it ran before; the slot is reverted (or kept) as always.
    forget(ran);
    return revertWrites(ctx, 'ssds', 'ssd', key);
  }
  // The image left the slot (a reset took it, or it was cleared): what it changed is the running firmware.
  forget(staged);
  forget(ran);
  const previous = JSON.parse(ran.before) as string;
  const image = JSON.parse(ran.after) as string;
  const running = ssd.firmwareVersion;
  const next = laterSsdWrite(ctx, id, 'firmwareVersion', ran.seq);
  const kept: RevertResult['kept'] = [];
  if (next !== undefined) {
    // As in revertWrites: a later write that replaced what this one set now replaces what this one replaced.
    if (next.before === ran.after) ctx.db.prepare('UPDATE field_writes SET before = ? WHERE seq = ?').run(ran.before, next.seq);
    if (running !== previous) kept.push({ field: 'firmwareVersion', value: running, reason: `changed since by ${next.key}` });
    return { undone: false, restored: {}, kept };
  }
  if (ssd.state === 'resetting') {
    throw needsOperator(
      'ssd-not-returned',
      `SSD ${id} has not come back from its reset, so the firmware it booted is not known and cannot be rolled back: reseat or replace it, then retry (or skip, recording why)`,
    );
  }
  if (running === previous) return { undone: false, restored: {}, kept }; // back on its old firmware: the update failed
  if (running !== image) {
    kept.push({ field: 'firmwareVersion', value: running, reason: `changed since: it runs ${JSON.stringify(running)}, not the ${JSON.stringify(image)} this write staged` });
  } else if (ssd.state === 'online') {
    kept.push({ field: 'firmwareVersion', value: running, reason: `SSD ${id} was brought back online on it since: a rollback needs it out of service` });
  } else {
    updateRow(ctx, 'ssds', 'ssd', id, { firmware_version: previous });
    return { undone: true, restored: { firmwareVersion: previous }, kept };
  }
  return { undone: false, restored: {}, kept };
}
