/**
 * The rack's SQLite database: its schema (tables, migrations, the views reads go through) and
 * how it is opened.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** An open rack database. */
export type RackDb = Database.Database;

const SCHEMA_VERSION = 3;

const TABLES_DDL = `
CREATE TABLE sleds (
  id TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, cpus INTEGER NOT NULL, memory_gib INTEGER NOT NULL,
  state TEXT NOT NULL, provisionable INTEGER NOT NULL, replacement_id TEXT);
CREATE TABLE ssds (
  id TEXT PRIMARY KEY, sled_id TEXT NOT NULL REFERENCES sleds(id), model TEXT NOT NULL,
  redundancy_group TEXT NOT NULL, firmware_version TEXT NOT NULL, health TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'online', staged_firmware TEXT, pending_firmware TEXT);
CREATE TABLE instances (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, sled_id TEXT REFERENCES sleds(id),
  cpus INTEGER NOT NULL, memory_gib INTEGER NOT NULL, migration_id TEXT);
CREATE TABLE reservations (
  id TEXT PRIMARY KEY, sled_id TEXT NOT NULL REFERENCES sleds(id), cpus INTEGER NOT NULL,
  memory_gib INTEGER NOT NULL, instance_id TEXT REFERENCES instances(id));
CREATE TABLE vmms (
  id TEXT PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instances(id),
  sled_id TEXT NOT NULL REFERENCES sleds(id), state TEXT NOT NULL);
CREATE TABLE disks (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, size_gib INTEGER NOT NULL, instance_id TEXT REFERENCES instances(id));
CREATE TABLE regions (
  id TEXT PRIMARY KEY, disk_id TEXT NOT NULL REFERENCES disks(id), sled_id TEXT NOT NULL REFERENCES sleds(id),
  ssd_id TEXT REFERENCES ssds(id), size_gib INTEGER NOT NULL, health TEXT NOT NULL,
  resyncing INTEGER NOT NULL DEFAULT 0, UNIQUE (disk_id, sled_id));
CREATE TABLE ips (ip TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE, allocated INTEGER NOT NULL DEFAULT 0);
CREATE TABLE nics (
  id TEXT PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instances(id),
  ip TEXT NOT NULL UNIQUE REFERENCES ips(ip), mac TEXT NOT NULL UNIQUE);
CREATE TABLE v2p (
  id TEXT PRIMARY KEY, sled_id TEXT NOT NULL REFERENCES sleds(id), virtual_ip TEXT NOT NULL,
  physical_sled_id TEXT NOT NULL REFERENCES sleds(id), UNIQUE (sled_id, virtual_ip));
CREATE TABLE idempotency (key TEXT PRIMARY KEY, operation TEXT NOT NULL, fingerprint TEXT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE fences (key TEXT PRIMARY KEY, operation TEXT NOT NULL, fenced_by TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT NOT NULL, key TEXT NOT NULL, resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL, effect TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX ledger_key ON ledger(key);
`;

// Schema version 2: SSD maintenance states, region resync, firmware targets. New databases get
// the columns from TABLES_DDL; version-1 databases get them from MIGRATE_V1.
const V2_DDL = `
CREATE TABLE firmware_targets (model TEXT PRIMARY KEY, version TEXT NOT NULL, set_at TEXT NOT NULL);
CREATE INDEX regions_ssd ON regions(ssd_id);
CREATE INDEX regions_disk ON regions(disk_id);
CREATE INDEX ssds_group ON ssds(redundancy_group);
CREATE INDEX ssds_state ON ssds(state);
CREATE INDEX regions_resyncing ON regions(resyncing);
`;
const MIGRATE_V1 = `
ALTER TABLE ssds ADD COLUMN state TEXT NOT NULL DEFAULT 'online';
ALTER TABLE ssds ADD COLUMN staged_firmware TEXT;
ALTER TABLE ssds ADD COLUMN pending_firmware TEXT;
ALTER TABLE regions ADD COLUMN resyncing INTEGER NOT NULL DEFAULT 0;
`;

// Schema version 3: the replacement that holds a sled (its marker, set by compare-and-set).
const MIGRATE_V2 = `
ALTER TABLE sleds ADD COLUMN replacement_id TEXT;
`;

// What each revertible update replaced (see rememberWrites). Added within schema version 2: the
// table is new and nothing else changed, so every open creates it when it is missing.
const FIELD_WRITES_DDL = `
CREATE TABLE IF NOT EXISTS field_writes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, resource TEXT NOT NULL, resource_id TEXT NOT NULL,
  field TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS field_writes_key ON field_writes(key);
CREATE INDEX IF NOT EXISTS field_writes_field ON field_writes(resource, resource_id, field, seq);
`;

// Views present rows in their wire shape, so reads and filters are one generic query.
const VIEWS_DDL = `
CREATE VIEW sleds_v AS SELECT s.rowid AS _order, s.id, s.serial, s.cpus, s.memory_gib AS memoryGiB,
  (SELECT COALESCE(SUM(r.cpus), 0) FROM reservations r WHERE r.sled_id = s.id) AS cpusUsed,
  (SELECT COALESCE(SUM(r.memory_gib), 0) FROM reservations r WHERE r.sled_id = s.id) AS memoryGiBUsed,
  s.state, s.provisionable, s.replacement_id AS replacementId FROM sleds s;
CREATE VIEW ssds_v AS SELECT rowid AS _order, id, sled_id AS sledId, model, redundancy_group AS redundancyGroup,
  firmware_version AS firmwareVersion, health, state, staged_firmware AS stagedFirmware FROM ssds;
CREATE VIEW instances_v AS SELECT rowid AS _order, id, name, state, sled_id AS sledId, cpus, memory_gib AS memoryGiB,
  migration_id AS migrationId FROM instances;
CREATE VIEW reservations_v AS SELECT rowid AS _order, id, sled_id AS sledId, cpus, memory_gib AS memoryGiB,
  instance_id AS instanceId FROM reservations;
CREATE VIEW vmms_v AS SELECT rowid AS _order, id, instance_id AS instanceId, sled_id AS sledId, state FROM vmms;
CREATE VIEW disks_v AS SELECT rowid AS _order, id, name, size_gib AS sizeGiB, instance_id AS instanceId FROM disks;
-- A replica is only as healthy as the hardware under it: see Region in schemas.ts.
CREATE VIEW regions_v AS SELECT r.rowid AS _order, r.id, r.disk_id AS diskId, r.sled_id AS sledId, r.ssd_id AS ssdId,
  r.size_gib AS sizeGiB,
  CASE
    WHEN r.health = 'failed' OR d.health = 'failed' THEN 'failed'
    WHEN r.health = 'degraded' OR d.health = 'degraded' OR d.state != 'online' OR s.state != 'online' OR r.resyncing = 1
      THEN 'degraded'
    ELSE 'healthy'
  END AS health,
  r.resyncing AS resyncing
  FROM regions r LEFT JOIN ssds d ON d.id = r.ssd_id JOIN sleds s ON s.id = r.sled_id;
CREATE VIEW firmware_v AS SELECT rowid AS _order, model AS id, model, version, set_at AS setAt FROM firmware_targets;
CREATE VIEW ips_v AS SELECT position AS _order, ip AS id, ip, allocated FROM ips;
CREATE VIEW nics_v AS SELECT rowid AS _order, id, instance_id AS instanceId, ip, mac FROM nics;
CREATE VIEW v2p_v AS SELECT rowid AS _order, id, sled_id AS sledId, virtual_ip AS virtualIp,
  physical_sled_id AS physicalSledId FROM v2p;
`;

/** Every table, children first, so deleting in this order never breaks a foreign key. */
export const TABLES_CHILDREN_FIRST = [
  'firmware_targets', 'field_writes', 'ledger', 'fences', 'idempotency', 'v2p', 'nics', 'ips', 'regions', 'disks', 'vmms', 'reservations',
  'instances', 'ssds', 'sleds',
] as const;

/**
 * Opens (creating if needed) the rack database at `path` in WAL mode with foreign keys on.
 * Use `:memory:` for a throwaway store.
 */
export function openRackDb(path: string): RackDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // WAL with NORMAL sync survives a crash of the process (only power loss may drop the last
  // commits): right for a simulator, and it makes a fleet of 10,000 SSDs feasible on a laptop.
  db.pragma('synchronous = NORMAL');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    // Each older version takes the steps after it; the views are made anew over the new tables.
    db.transaction(() => {
      if (version === 0) db.exec(TABLES_DDL + V2_DDL);
      if (version === 1) db.exec(MIGRATE_V1 + V2_DDL);
      if (version === 1 || version === 2) db.exec(MIGRATE_V2);
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'view'").all() as { name: string }[]) {
        db.exec(`DROP VIEW "${name}"`);
      }
      db.exec(VIEWS_DDL);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  } else if (version !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `rack database ${path} has schema version ${version}, this build knows ${SCHEMA_VERSION}: ` +
        'delete the file (it is simulator state) or run the matching unwind version',
    );
  }
  db.exec(FIELD_WRITES_DDL);
  return db;
}
