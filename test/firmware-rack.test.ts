/**
 * The rack's side of firmware maintenance: targets, the SSD lifecycle, the integrity and
 * redundancy-group checks made in the same transaction as taking an SSD offline, drive faults,
 * region health from the hardware, and the planner over it.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planWave } from '../src/activities/firmware';
import { isRackError, openRackDb } from '../src/rack';
import { failureOf, startTestRack, type TestRack } from '../src/testing/rack';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';

let t: TestRack;
let n = 0;
const key = () => `fw-rack-${++n}`;

beforeAll(async () => {
  t = await startTestRack({ seed: fleetSeed(4, 2) });
});
afterAll(() => t?.stop());
beforeEach(async () => {
  await t.rack.reset(fleetSeed(4, 2));
  // One disk on slot 0 of sleds 0, 1, 2.
  await createDisks(t.rack, 1, () => [0, 1, 2].map((i) => [`sled-${i}`, `sled-${i}-ssd-0`] as [string, string]));
});

describe('rack firmware maintenance', () => {
  it('stores one target per model and lists it', async () => {
    await t.rack.firmware.setTarget({ model: MODEL, version: '2.0.0' }, key());
    await t.rack.firmware.setTarget({ model: MODEL, version: '2.1.0' }, key());
    expect(await t.rack.list('firmware')).toMatchObject([{ id: MODEL, model: MODEL, version: '2.1.0' }]);
  });

  it('takes an SSD through offline, firmware, reset and online; its replica is degraded until resynced', async () => {
    const ssdId = 'sled-0-ssd-0';
    await t.rack.ssds.offline({ ssdId }, key());
    const region = async () => (await t.rack.list('regions', { ssdId }))[0];
    expect(await region()).toMatchObject({ health: 'degraded' });
    await t.rack.ssds.updateFirmware({ ssdId, version: '2.0.0' }, key());
    expect(await t.rack.ssds.reset({ ssdId }, key())).toMatchObject({ state: 'resetting', stagedFirmware: null });
    expect(await t.rack.get('ssds', ssdId)).toMatchObject({ state: 'offline', firmwareVersion: '2.0.0' });
    expect(await t.rack.ssds.online({ id: ssdId }, key())).toEqual({ undone: true, resourceId: ssdId });
    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare("SELECT health FROM regions_v WHERE ssdId = ?").get(ssdId)).toEqual({ health: 'degraded' }); // resyncing
    db.close();
    expect(await region()).toMatchObject({ health: 'healthy', resyncing: false });
  });

  it('refuses a second SSD of a redundancy group (transient) and an SSD whose mirror is degraded (needs-operator)', async () => {
    await t.rack.ssds.offline({ ssdId: 'sled-0-ssd-0' }, key());
    const busy = await failureOf(t.rack.ssds.offline({ ssdId: 'sled-3-ssd-0' }, key()));
    expect(isRackError(busy) && busy.code).toBe('redundancy-group-busy');
    expect(isRackError(busy) && busy.class).toBe('transient');
    await t.rack.ssds.update({ ssdId: 'sled-1-ssd-0', health: 'degraded' }, key());
    await t.rack.ssds.online({ id: 'sled-0-ssd-0' }, key());
    await t.rack.list('regions'); // resync
    const degraded = await failureOf(t.rack.ssds.offline({ ssdId: 'sled-2-ssd-0' }, key()));
    expect(isRackError(degraded) && [degraded.code, degraded.class]).toEqual(['mirror-degraded', 'needs-operator']);
  });

  it('simulates a drive that never returns and a failed update', async () => {
    await t.rack.faults.drive({ ssdId: 'sled-0-ssd-1', kind: 'never-returns' });
    await t.rack.faults.drive({ ssdId: 'sled-1-ssd-1', kind: 'update-fails' });
    for (const ssdId of ['sled-0-ssd-1', 'sled-1-ssd-1']) {
      await t.rack.ssds.offline({ ssdId }, key()).catch(() => undefined);
    }
    // sled-1-ssd-1 shares rg-1 with sled-0-ssd-1: one at a time.
    await t.rack.ssds.updateFirmware({ ssdId: 'sled-0-ssd-1', version: '2.0.0' }, key());
    await t.rack.ssds.reset({ ssdId: 'sled-0-ssd-1' }, key());
    expect((await t.rack.get('ssds', 'sled-0-ssd-1')).state).toBe('resetting');
    const notBack = await failureOf(t.rack.ssds.online({ id: 'sled-0-ssd-1' }, key()));
    expect(isRackError(notBack) && notBack.code).toBe('ssd-not-returned');
    await t.rack.faults.clearDrive('sled-0-ssd-1');
    expect(await t.rack.get('ssds', 'sled-0-ssd-1')).toMatchObject({ state: 'offline', firmwareVersion: '2.0.0' });
    await t.rack.ssds.online({ id: 'sled-0-ssd-1' }, key());

    await t.rack.ssds.offline({ ssdId: 'sled-1-ssd-1' }, key());
    await t.rack.ssds.updateFirmware({ ssdId: 'sled-1-ssd-1', version: '2.0.0' }, key());
    await t.rack.ssds.reset({ ssdId: 'sled-1-ssd-1' }, key());
    expect(await t.rack.get('ssds', 'sled-1-ssd-1')).toMatchObject({ state: 'offline', firmwareVersion: '1.0.0' });
  });

  it('marks replicas on an offline sled degraded, and installs new SSDs', async () => {
    await t.rack.sleds.update({ sledId: 'sled-1', state: 'offline' }, key());
    expect((await t.rack.list('regions', { sledId: 'sled-1' }))[0]?.health).toBe('degraded');
    const ssd = await t.rack.ssds.install({ sledId: 'sled-3', model: MODEL, redundancyGroup: 'rg-7', firmwareVersion: '1.0.0' }, key());
    expect(ssd).toMatchObject({ id: 'sled-3-ssd-2', state: 'online', health: 'healthy' });
  });

  it('plans one SSD per group, no two on one disk, and blocks only behind a degraded mirror', async () => {
    const [ssds, sleds, regions] = await Promise.all([t.rack.list('ssds'), t.rack.list('sleds'), t.rack.list('regions')]);
    const sledOnline = new Map(sleds.map((s) => [s.id, true]));
    const plan = planWave({ model: MODEL, version: '2.0.0', size: 10, skip: [] }, { ssds, sledOnline, regions, target: '2.0.0' });
    expect(plan.wave).toEqual(['sled-0-ssd-0', 'sled-0-ssd-1']);
    expect(plan.waiting).toBe(6);
    const degraded = regions.map((r) => (r.ssdId === 'sled-1-ssd-0' ? { ...r, health: 'degraded' as const } : r));
    const blocked = planWave({ model: MODEL, version: '2.0.0', size: 10, skip: [] }, { ssds, sledOnline, regions: degraded, target: '2.0.0' });
    expect(blocked.blocked.map((b) => b.ssdId)).toEqual(['sled-0-ssd-0', 'sled-2-ssd-0']);
  });

  it('migrates a version-1 database to the current version', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'unwind-v1-')), 'rack.sqlite');
    const v1 = new Database(path);
    v1.exec(`CREATE TABLE sleds (id TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, cpus INTEGER NOT NULL, memory_gib INTEGER NOT NULL, state TEXT NOT NULL, provisionable INTEGER NOT NULL);
      CREATE TABLE ssds (id TEXT PRIMARY KEY, sled_id TEXT NOT NULL, model TEXT NOT NULL, redundancy_group TEXT NOT NULL, firmware_version TEXT NOT NULL, health TEXT NOT NULL);
      CREATE TABLE regions (id TEXT PRIMARY KEY, disk_id TEXT NOT NULL, sled_id TEXT NOT NULL, ssd_id TEXT, size_gib INTEGER NOT NULL, health TEXT NOT NULL);
      CREATE VIEW sleds_v AS SELECT 1; CREATE VIEW ssds_v AS SELECT 1; CREATE VIEW instances_v AS SELECT 1; CREATE VIEW reservations_v AS SELECT 1;
      CREATE VIEW vmms_v AS SELECT 1; CREATE VIEW disks_v AS SELECT 1; CREATE VIEW regions_v AS SELECT 1; CREATE VIEW ips_v AS SELECT 1;
      CREATE VIEW nics_v AS SELECT 1; CREATE VIEW v2p_v AS SELECT 1;
      CREATE TABLE instances (id TEXT); CREATE TABLE reservations (id TEXT, sled_id TEXT, cpus INTEGER, memory_gib INTEGER, instance_id TEXT);
      CREATE TABLE vmms (id TEXT); CREATE TABLE disks (id TEXT, name TEXT, size_gib INTEGER, instance_id TEXT); CREATE TABLE ips (ip TEXT, position INTEGER, allocated INTEGER);
      CREATE TABLE nics (id TEXT); CREATE TABLE v2p (id TEXT);
      INSERT INTO sleds VALUES ('s', 'S', 1, 1, 'online', 1); INSERT INTO ssds VALUES ('d', 's', 'M', 'rg', '1.0.0', 'healthy');
      PRAGMA user_version = 1;`);
    v1.close();
    const db = openRackDb(path);
    expect(db.prepare('SELECT state, stagedFirmware FROM ssds_v').get()).toEqual({ state: 'online', stagedFirmware: null });
    expect(db.prepare('SELECT provisionable, replacementId FROM sleds_v').get()).toEqual({ provisionable: 1, replacementId: null });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });
});
