import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MutationName, type RackClient, type RackSeed, cidrHosts, openRackDb } from '../src/rack';
import { type TestRack, failureOf, startTestRack } from '../src/testing/rack';

let t: TestRack | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function rackWith(seed?: RackSeed): Promise<RackClient> {
  t = await startTestRack({ seed });
  return t.rack;
}

const smallRack = (sleds: number, ipPool = '10.1.0.0/29'): RackSeed => ({
  sleds: Array.from({ length: sleds }, () => ({ cpus: 16, memoryGiB: 64, ssds: [{}, {}] })),
  ipPool,
});

describe('seed', () => {
  it('the default rack has 8 sleds with SSDs and a /24 pool, the same on every start', async () => {
    const rack = await rackWith();
    const sleds = await rack.list('sleds');
    expect(sleds.map((s) => s.id)).toEqual(['sled-0', 'sled-1', 'sled-2', 'sled-3', 'sled-4', 'sled-5', 'sled-6', 'sled-7']);
    expect(sleds.every((s) => s.state === 'online' && s.provisionable && s.cpusUsed === 0)).toBe(true);
    expect(await rack.list('ssds', { sledId: 'sled-3' })).toHaveLength(4);
    expect(await rack.list('ips')).toHaveLength(254);
    expect((await rack.inventory()).total).toBe(0);
  });

  it('reset wipes state, keys and ledger, and can seed a custom rack', async () => {
    const rack = await rackWith();
    await rack.instances.create({ name: 'a', cpus: 1, memoryGiB: 1 }, 'k');
    await rack.reset({ sleds: [{ id: 'only', cpus: 4, memoryGiB: 8, ssds: [{ model: 'X1' }] }], ipPool: '192.168.0.0/30' });
    expect((await rack.list('sleds')).map((s) => s.id)).toEqual(['only']);
    expect(await rack.get('ssds', 'only-ssd-0')).toMatchObject({ model: 'X1', firmwareVersion: '1.0.0', redundancyGroup: 'rg-0' });
    expect((await rack.list('ips')).map((i) => i.ip)).toEqual(['192.168.0.1', '192.168.0.2']);
    expect(await rack.ledger()).toEqual([]);
    // The key is free again: a new effect, not a replay.
    await rack.instances.create({ name: 'b', cpus: 1, memoryGiB: 1 }, 'k');
    expect((await rack.list('instances')).map((i) => i.name)).toEqual(['b']);
  });

  it('refuses a bad seed naming the field', async () => {
    const rack = await rackWith();
    const error = await failureOf(rack.reset({ sleds: [{ cpus: 0, memoryGiB: 8 }], ipPool: '10.0.0.0/8' }));
    expect(error).toMatchObject({ status: 400 });
    expect(error).toHaveProperty('issues', expect.arrayContaining([
      expect.objectContaining({ field: 'seed.sleds.0.cpus' }),
      expect.objectContaining({ field: 'seed.ipPool' }),
    ]));
  });

  it('cidrHosts excludes the network and broadcast addresses', () => {
    expect(cidrHosts('10.0.0.0/30')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(cidrHosts('10.0.1.77/29')).toEqual(['10.0.1.73', '10.0.1.74', '10.0.1.75', '10.0.1.76', '10.0.1.77', '10.0.1.78']);
    expect(cidrHosts('172.16.0.0/16')).toHaveLength(65534);
  });
});

describe('capacity', () => {
  it('reserves until the sled is short, then refuses with no-capacity; release frees it', async () => {
    const rack = await rackWith(smallRack(2));
    const first = await rack.sleds.reserve({ sledId: 'sled-0', cpus: 12, memoryGiB: 32 }, 'r1');
    expect(await rack.get('sleds', 'sled-0')).toMatchObject({ cpusUsed: 12, memoryGiBUsed: 32 });
    const short = await failureOf(rack.sleds.reserve({ sledId: 'sled-0', cpus: 8, memoryGiB: 8 }, 'r2'));
    expect(short).toMatchObject({ status: 409, code: 'no-capacity', class: 'refused', field: 'sledId' });
    expect((short as Error).message).toContain('refused: no capacity on sled sled-0: 4 CPUs and 32 GiB free');
    expect(await failureOf(rack.sleds.reserve({ sledId: 'sled-0', cpus: 1, memoryGiB: 33 }, 'r3'))).toMatchObject({ code: 'no-capacity' });
    expect(await rack.list('reservations')).toEqual([first]);

    expect(await rack.sleds.release({ actionKey: 'r1' }, 'r1:undo')).toEqual({ undone: true, resourceId: first.id });
    expect(await rack.get('sleds', 'sled-0')).toMatchObject({ cpusUsed: 0, memoryGiBUsed: 0 });
    // r2 was refused, so its key is unused: now it fits and applies.
    expect((await rack.sleds.reserve({ sledId: 'sled-0', cpus: 8, memoryGiB: 8 }, 'r2')).cpus).toBe(8);
  });

  it('an offline sled needs an operator; a non-provisionable one is refused', async () => {
    const rack = await rackWith(smallRack(2));
    await rack.sleds.update({ sledId: 'sled-0', state: 'offline' }, 'off');
    await rack.sleds.update({ sledId: 'sled-1', provisionable: false }, 'drain');
    const offline = await failureOf(rack.sleds.reserve({ sledId: 'sled-0', cpus: 1, memoryGiB: 1 }, 'a'));
    expect(offline).toMatchObject({ code: 'sled-offline', class: 'needs-operator' });
    const drained = await failureOf(rack.sleds.reserve({ sledId: 'sled-1', cpus: 1, memoryGiB: 1 }, 'b'));
    expect(drained).toMatchObject({ code: 'sled-not-provisionable', class: 'refused' });
    expect(await rack.list('sleds', { provisionable: 'false' })).toHaveLength(1);
  });

  it('refuses an IP when the pool is exhausted', async () => {
    const rack = await rackWith(smallRack(1, '10.9.9.0/30'));
    expect((await rack.ips.allocate({}, 'a')).ip).toBe('10.9.9.1');
    expect((await rack.ips.allocate({}, 'b')).ip).toBe('10.9.9.2');
    expect(await failureOf(rack.ips.allocate({}, 'c'))).toMatchObject({ code: 'pool-exhausted', class: 'refused' });
  });
});

describe('regions', () => {
  it('places a disk\'s 3 regions on 3 distinct sleds, and no more', async () => {
    const rack = await rackWith();
    const disk = await rack.disks.create({ name: 'boot', sizeGiB: 20 }, 'disk');
    const regions = await Promise.all([0, 1, 2].map((i) => rack.regions.ensure({ diskId: disk.id }, `region[${i}]`)));
    expect(new Set(regions.map((r) => r.sledId)).size).toBe(3);
    expect(regions.every((r) => r.sizeGiB === 20 && r.ssdId !== null && r.ssdId.startsWith(r.sledId))).toBe(true);
    expect(await failureOf(rack.regions.ensure({ diskId: disk.id }, 'region[3]'))).toMatchObject({ code: 'replicas-complete' });

    await rack.regions.delete({ actionKey: 'region[2]' }, 'region[2]:undo');
    const taken = await failureOf(rack.regions.ensure({ diskId: disk.id, sledId: regions[0]?.sledId }, 'region[4]'));
    expect(taken).toMatchObject({ code: 'sled-taken', field: 'sledId', class: 'refused' });
    const placed = await rack.regions.ensure({ diskId: disk.id, sledId: 'sled-7', ssdId: 'sled-7-ssd-2' }, 'region[5]');
    expect(placed).toMatchObject({ sledId: 'sled-7', ssdId: 'sled-7-ssd-2' });
    expect(await rack.list('regions', { diskId: disk.id })).toHaveLength(3);
  });

  it('refuses when fewer than 3 usable sleds exist, and an SSD from another sled', async () => {
    const rack = await rackWith(smallRack(2));
    const disk = await rack.disks.create({ name: 'd', sizeGiB: 5 }, 'disk');
    await rack.regions.ensure({ diskId: disk.id }, 'a');
    const wrongSsd = await failureOf(rack.regions.ensure({ diskId: disk.id, sledId: 'sled-1', ssdId: 'sled-0-ssd-0' }, 'b'));
    expect(wrongSsd).toMatchObject({ code: 'ssd-not-on-sled', field: 'ssdId' });
    await rack.regions.ensure({ diskId: disk.id }, 'b');
    expect(await failureOf(rack.regions.ensure({ diskId: disk.id }, 'c'))).toMatchObject({ code: 'no-capacity', class: 'refused' });
  });

  it('moves a replica to a sled free of its disk, keeping its id, so the undo of its ensure still removes it', async () => {
    const rack = await rackWith();
    const disk = await rack.disks.create({ name: 'moving', sizeGiB: 5 }, 'disk');
    const regions = await Promise.all([0, 1, 2].map((i) => rack.regions.ensure({ diskId: disk.id }, `region[${i}]`)));
    const from = regions[0]!;
    const moved = await rack.regions.move({ regionId: from.id }, 'move');
    expect(moved.id).toBe(from.id);
    expect(regions.map((r) => r.sledId)).not.toContain(moved.sledId);
    expect(moved.ssdId?.startsWith(moved.sledId)).toBe(true);
    // Keyed: a retry answers the first move and moves nothing again.
    expect(await rack.regions.move({ regionId: from.id }, 'move')).toEqual(moved);
    expect(await failureOf(rack.regions.move({ regionId: from.id, sledId: regions[1]!.sledId }, 'move-2'))).toMatchObject({ code: 'sled-taken' });

    await rack.regions.delete({ actionKey: 'region[0]' }, 'region[0]:undo');
    expect((await rack.list('regions', { diskId: disk.id })).map((r) => r.id).sort()).toEqual([regions[1]!.id, regions[2]!.id].sort());
  });

  it('needs an operator to move a replica while another replica of its disk is not healthy', async () => {
    const rack = await rackWith();
    const disk = await rack.disks.create({ name: 'degraded', sizeGiB: 5 }, 'disk');
    const regions = await Promise.all([0, 1, 2].map((i) => rack.regions.ensure({ diskId: disk.id }, `region[${i}]`)));
    await rack.ssds.update({ ssdId: regions[1]!.ssdId!, health: 'degraded' }, 'degrade');
    const error = await failureOf(rack.regions.move({ regionId: regions[0]!.id }, 'move'));
    expect(error).toMatchObject({ code: 'mirror-degraded', class: 'needs-operator', field: 'regionId' });
    expect((error as Error).message).toMatch(/would leave disk .* with 1 healthy replica/);
    expect((await rack.get('regions', regions[0]!.id)).sledId).toBe(regions[0]!.sledId);
  });
});

describe('persistence', () => {
  it('keeps state, ledger and idempotency keys across a restart on the same file', async () => {
    const rack = await rackWith();
    const created = await rack.instances.create({ name: 'db-1', cpus: 4, memoryGiB: 16 }, 'wf/create');
    await rack.sleds.reserve({ sledId: 'sled-2', cpus: 4, memoryGiB: 16, instanceId: created.id }, 'wf/reserve');
    await t!.restart();
    const after = t!.rack;
    expect(await after.list('instances')).toEqual([created]);
    expect(await after.get('sleds', 'sled-2')).toMatchObject({ cpusUsed: 4, memoryGiBUsed: 16 });
    expect(await after.instances.create({ name: 'db-1', cpus: 4, memoryGiB: 16 }, 'wf/create')).toEqual(created);
    expect(await after.ledger()).toHaveLength(2);
    // The restart did not reseed: still the same 8 sleds.
    expect(await after.list('sleds')).toHaveLength(8);
  });
});

describe('reverting updates', () => {
  it('remembers what an update replaced across a restart', async () => {
    const rack = await rackWith(smallRack(2));
    await rack.sleds.update({ sledId: 'sled-1', provisionable: false }, 'op/drain');
    await rack.sleds.update({ sledId: 'sled-1', provisionable: false, state: 'offline' }, 'wf/mark');
    await t!.restart();
    expect(await t!.rack.sleds.revert({ actionKey: 'wf/mark' }, 'wf/mark/undo')).toMatchObject({
      undone: true, restored: { provisionable: false, state: 'online' },
    });
    expect(await t!.rack.get('sleds', 'sled-1')).toMatchObject({ provisionable: false, state: 'online' });
  });

  it('a database from before reverts gets the table of replaced values when opened', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'unwind-v3-')), 'rack.sqlite');
    const old = openRackDb(path);
    old.exec('DROP TABLE field_writes');
    old.close();
    const db = openRackDb(path);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'field_writes'").get()).toEqual({ name: 'field_writes' });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });

  it('a version-2 database gets the sleds\' replacement marker (none) when opened, keeping its rows', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'unwind-v2-')), 'rack.sqlite');
    const old = openRackDb(path);
    old.exec(`INSERT INTO sleds (id, serial, cpus, memory_gib, state, provisionable) VALUES ('sled-9', 'S9', 8, 64, 'online', 0);
      DROP VIEW sleds_v; DROP VIEW regions_v; ALTER TABLE sleds DROP COLUMN replacement_id; PRAGMA user_version = 2;`);
    old.close();
    const db = openRackDb(path);
    expect(db.prepare("SELECT id, provisionable, replacementId FROM sleds_v WHERE id = 'sled-9'").get()).toEqual({ id: 'sled-9', provisionable: 0, replacementId: null });
    expect(db.prepare('SELECT COUNT(*) AS n FROM regions_v').get()).toEqual({ n: 0 });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });

  it('reset forgets what updates replaced, with their keys', async () => {
    const rack = await rackWith(smallRack(2));
    await rack.sleds.update({ sledId: 'sled-1', provisionable: false }, 'wf/mark');
    await rack.reset(smallRack(2));
    // The key is unused again: the revert fences it and changes nothing.
    expect(await rack.sleds.revert({ actionKey: 'wf/mark' }, 'wf/mark/undo')).toMatchObject({ undone: false, resourceId: null });
    expect((await rack.get('sleds', 'sled-1')).provisionable).toBe(true);
  });
});

describe('clean slate', () => {
  it('undoing every step of a provisioning run, twice, leaves an empty inventory', async () => {
    const rack = await rackWith();
    const inst = await rack.instances.create({ name: 'web', cpus: 2, memoryGiB: 4 }, 's/instance');
    await rack.sleds.reserve({ sledId: 'sled-0', cpus: 2, memoryGiB: 4, instanceId: inst.id }, 's/reserve');
    await rack.instances.update({ instanceId: inst.id, state: 'starting', sledId: 'sled-0', expect: { state: 'creating' } }, 's/place');
    await rack.vmms.create({ instanceId: inst.id, sledId: 'sled-0' }, 's/vmm');
    const disk = await rack.disks.create({ name: 'boot', sizeGiB: 10 }, 's/disk');
    for (const i of [0, 1, 2]) await rack.regions.ensure({ diskId: disk.id }, `s/region[${i}]`);
    await rack.disks.attach({ diskId: disk.id, instanceId: inst.id }, 's/attach');
    const ip = await rack.ips.allocate({}, 's/ip');
    const nic = await rack.nics.create({ instanceId: inst.id, ip: ip.ip }, 's/nic');
    expect(nic.mac).toBe('02:00:0a:00:00:01');
    for (const sled of ['sled-1', 'sled-2']) {
      await rack.v2p.set({ sledId: sled, virtualIp: ip.ip, physicalSledId: 'sled-0' }, `s/v2p[${sled}]`);
    }
    const full = await rack.inventory();
    expect(full.total).toBe(1 + 1 + 1 + 1 + 3 + 1 + 1 + 2); // instance reservation vmm disk regions ip nic v2p×2

    // Last registered, first undone; every undo names its action's key.
    const undoSteps: [MutationName, string][] = [
      ['v2p.clear', 's/v2p[sled-2]'], ['v2p.clear', 's/v2p[sled-1]'], ['nics.delete', 's/nic'], ['ips.release', 's/ip'],
      ['disks.detach', 's/attach'], ['regions.delete', 's/region[2]'], ['regions.delete', 's/region[1]'],
      ['regions.delete', 's/region[0]'], ['disks.delete', 's/disk'], ['vmms.destroy', 's/vmm'],
      ['instances.revert', 's/place'], ['sleds.release', 's/reserve'], ['instances.delete', 's/instance'],
    ];
    for (const round of [1, 2]) {
      for (const [operation, actionKey] of undoSteps) {
        const result = await rack.call(operation, { actionKey }, `${actionKey}:undo#${round}`);
        expect(result).toMatchObject({ undone: round === 1 });
      }
    }
    expect(await rack.inventory()).toMatchObject({ total: 0, instances: [], regions: [], ips: [], v2p: [], reservations: [] });
    expect(await rack.get('sleds', 'sled-0')).toMatchObject({ cpusUsed: 0 });
    // One effect per undo in the first round (the detach and the revert are updates), none in the second.
    const ledger = await rack.ledger();
    expect(ledger.filter((e) => e.key.endsWith(':undo#1'))).toHaveLength(13);
    expect(ledger.filter((e) => e.key.endsWith(':undo#2'))).toEqual([]);
  });

  it('compare-and-set on the migration marker admits one migration at a time', async () => {
    const rack = await rackWith();
    const inst = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'c');
    const set = (migrationId: string, key: string) =>
      rack.instances.update({ instanceId: inst.id, migrationId, state: 'migrating', expect: { migrationId: null } }, key);
    expect((await set('m1', 'mig-1')).migrationId).toBe('m1');
    expect(await failureOf(set('m2', 'mig-2'))).toMatchObject({ code: 'precondition-failed', field: 'expect.migrationId' });
    expect((await rack.get('instances', inst.id)).migrationId).toBe('m1');
  });

  it('compare-and-set on the replacement marker admits one replacement of a sled; its revert releases the sled', async () => {
    const rack = await rackWith(smallRack(2));
    const mark = (replacementId: string, key: string) =>
      rack.sleds.update({ sledId: 'sled-1', provisionable: false, replacementId, expect: { replacementId: null } }, key);
    expect(await mark('r1', 'r1/mark')).toMatchObject({ provisionable: false, replacementId: 'r1' });
    expect(await failureOf(mark('r2', 'r2/mark'))).toMatchObject({ code: 'precondition-failed', field: 'expect.replacementId' });
    expect(await rack.get('sleds', 'sled-1')).toMatchObject({ provisionable: false, replacementId: 'r1' });
    await rack.sleds.revert({ actionKey: 'r1/mark' }, 'r1/mark/undo');
    expect(await rack.get('sleds', 'sled-1')).toMatchObject({ provisionable: true, replacementId: null });
  });
});
