/** The rack's hardware and IP pool as a seed lays them down, and the reset back to a seed. */
import { type RackSeed, RackSeed as RackSeedSchema } from '../schemas';
import { type RackDb, TABLES_CHILDREN_FIRST } from './db';
import { parseInput } from './errors';

/** The default rack: 8 sleds of 64 CPUs and 512 GiB, 4 SSDs each, and the pool 10.0.0.0/24. */
export function defaultRackSeed(): RackSeed {
  return {
    sleds: Array.from({ length: 8 }, () => ({ cpus: 64, memoryGiB: 512, ssds: [{}, {}, {}, {}] })),
    ipPool: '10.0.0.0/24',
  };
}

/** The host addresses of an IPv4 CIDR (network and broadcast addresses excluded). */
export function cidrHosts(cidr: string): string[] {
  const [base = '', bitsText = ''] = cidr.split('/');
  const octets = base.split('.').map(Number);
  const bits = Number(bitsText);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !(bits >= 16 && bits <= 30)) {
    throw new Error(`invalid IPv4 CIDR ${cidr}: expected a.b.c.d/n with n from 16 to 30`);
  }
  const size = 2 ** (32 - bits);
  const network = Math.floor(octets.reduce((acc, o) => acc * 256 + o, 0) / size) * size;
  return Array.from({ length: size - 2 }, (_, i) => {
    const n = network + 1 + i;
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
  });
}

/** True when the rack has no hardware yet (a new database). */
export function isRackEmpty(db: RackDb): boolean {
  return db.prepare('SELECT 1 FROM sleds LIMIT 1').get() === undefined;
}

/** Adds a rack's hardware and IP pool. Deterministic: the same seed always gives the same ids. */
export function seedRack(db: RackDb, seed: RackSeed): void {
  const spec = parseInput(RackSeedSchema, seed, 'seed');
  const insertSled = db.prepare('INSERT INTO sleds (id, serial, cpus, memory_gib, state, provisionable) VALUES (?, ?, ?, ?, ?, ?)');
  const insertSsd = db.prepare(
    'INSERT INTO ssds (id, sled_id, model, redundancy_group, firmware_version, health) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertIp = db.prepare('INSERT INTO ips (ip, position) VALUES (?, ?)');
  db.transaction(() => {
    spec.sleds.forEach((sled, i) => {
      const sledId = sled.id ?? `sled-${i}`;
      const serial = sled.serial ?? `SIM${String(i).padStart(6, '0')}`;
      insertSled.run(sledId, serial, sled.cpus, sled.memoryGiB, sled.state ?? 'online', sled.provisionable === false ? 0 : 1);
      sled.ssds.forEach((ssd, j) => {
        insertSsd.run(
          ssd.id ?? `${sledId}-ssd-${j}`,
          sledId,
          ssd.model ?? 'SIM-NVME-3.2T',
          ssd.redundancyGroup ?? `rg-${j}`,
          ssd.firmwareVersion ?? '1.0.0',
          ssd.health ?? 'healthy',
        );
      });
    });
    cidrHosts(spec.ipPool).forEach((ip, i) => insertIp.run(ip, i));
  })();
}

/** Deletes every row (hardware, allocations, keys, ledger) and seeds the rack again. */
export function resetRack(db: RackDb, seed: RackSeed): void {
  db.transaction(() => {
    for (const table of TABLES_CHILDREN_FIRST) db.prepare(`DELETE FROM ${table}`).run();
    db.prepare("DELETE FROM sqlite_sequence WHERE name IN ('ledger', 'field_writes')").run();
    seedRack(db, seed);
  })();
}
