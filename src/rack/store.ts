/**
 * The simulated rack's state: SQLite schema and every operation, as plain functions over a
 * better-sqlite3 Database. No HTTP here; the server maps these onto routes.
 *
 * Each mutation runs in one transaction together with its idempotency record and its ledger
 * rows, so a request either applies completely (and is remembered under its key) or not at all.
 */
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import {
  type ErrorClass,
  type FieldIssue,
  type FieldValue,
  type Inventory,
  type LedgerEntry,
  type LedgerFilter,
  type MutationName,
  type MutationOutput,
  type RackSeed,
  type ResourceName,
  type ResourceOf,
  type RevertResult,
  type UndoName,
  RackSeed as RackSeedSchema,
  mutations,
  resources,
} from './schemas';

/** An open rack database. */
export type RackDb = Database.Database;

/** How many replicas every disk gets; they must sit on distinct sleds. */
export const REGION_REPLICAS = 3;

const SCHEMA_VERSION = 2;

/**
 * A failure the rack reports to its caller: an HTTP status, a stable code, the taxonomy class
 * and, for invalid input, the offending field(s). Throwing one inside a mutation rolls it back.
 */
export class RackFailure extends Error {
  /** The HTTP status the server answers with. */
  readonly status: number;
  /** A stable, machine-readable code such as `no-capacity`. */
  readonly code: string;
  /** How the caller must treat the failure (DESIGN.md's taxonomy). */
  readonly errorClass: ErrorClass;
  /** The first offending field, when the failure is about one. */
  readonly field: string | undefined;
  /** Every offending field of an invalid request. */
  readonly issues: FieldIssue[] | undefined;

  constructor(opts: { status: number; code: string; errorClass: ErrorClass; message: string; field?: string; issues?: FieldIssue[] }) {
    super(opts.message);
    this.name = 'RackFailure';
    this.status = opts.status;
    this.code = opts.code;
    this.errorClass = opts.errorClass;
    this.field = opts.field;
    this.issues = opts.issues;
  }
}

function refused(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 409, code, errorClass: 'refused', message, field });
}

function needsOperator(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 409, code, errorClass: 'needs-operator', message, field });
}

function busy(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 503, code, errorClass: 'transient', message, field });
}

/**
 * Validates `body` against `schema`, or throws a 400 `invalid-request` naming every bad field.
 * `where` prefixes the field paths (e.g. `query` for query parameters).
 */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown, where?: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.flatMap((issue) => {
    const base = [where, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
    // An unknown key is reported at its parent; name the key itself so the caller can find it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'unknown field: remove it or check its spelling' }));
    }
    return [{ field: base || '(body)', message: issue.message }];
  });
  throw new RackFailure({
    status: 400,
    code: 'invalid-request',
    errorClass: 'refused',
    message: `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    field: issues[0]?.field,
    issues,
  });
}

// ---------------------------------------------------------------------------------------
// Schema

const TABLES_DDL = `
CREATE TABLE sleds (
  id TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, cpus INTEGER NOT NULL, memory_gib INTEGER NOT NULL,
  state TEXT NOT NULL, provisionable INTEGER NOT NULL);
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
DROP VIEW sleds_v; DROP VIEW ssds_v; DROP VIEW instances_v; DROP VIEW reservations_v; DROP VIEW vmms_v;
DROP VIEW disks_v; DROP VIEW regions_v; DROP VIEW ips_v; DROP VIEW nics_v; DROP VIEW v2p_v;
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
  s.state, s.provisionable FROM sleds s;
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
const TABLES_CHILDREN_FIRST = [
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
  if (version === 0 || version === 1) {
    db.transaction(() => {
      db.exec(version === 0 ? TABLES_DDL : MIGRATE_V1);
      db.exec(V2_DDL);
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

// ---------------------------------------------------------------------------------------
// Seeding

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

// ---------------------------------------------------------------------------------------
// Reads

// Boolean columns are stored as 0/1; the wire schemas say which fields are booleans.
const booleanFields: { [R in ResourceName]: string[] } = Object.fromEntries(
  Object.entries(resources).map(([name, schema]) => [
    name,
    Object.entries(schema.shape)
      .filter(([, field]) => field instanceof z.ZodBoolean)
      .map(([key]) => key),
  ]),
) as { [R in ResourceName]: string[] };

function columnsOf(resource: ResourceName): string[] {
  return Object.keys(resources[resource].shape);
}

function toWire<R extends ResourceName>(resource: R, row: Record<string, unknown>): ResourceOf<R> {
  const out: Record<string, unknown> = {};
  for (const column of columnsOf(resource)) out[column] = row[column];
  for (const field of booleanFields[resource]) out[field] = out[field] === 1;
  return out as ResourceOf<R>;
}

/**
 * Lists a resource, oldest first, optionally filtered by exact field values (e.g.
 * `{ diskId: 'd1' }`; booleans as `true`/`false`). An unknown filter field is a 400.
 */
export function listResource<R extends ResourceName>(db: RackDb, resource: R, filter: Record<string, string> = {}): ResourceOf<R>[] {
  const columns = columnsOf(resource);
  const where: string[] = [];
  const values: unknown[] = [];
  for (const [field, value] of Object.entries(filter)) {
    if (!columns.includes(field)) {
      throw new RackFailure({
        status: 400,
        code: 'invalid-request',
        errorClass: 'refused',
        field,
        message: `cannot filter ${resource} by ${field}: filter by one of ${columns.join(', ')}`,
      });
    }
    where.push(`"${field}" = ?`);
    values.push(booleanFields[resource].includes(field) ? (value === 'true' ? 1 : 0) : value);
  }
  const sql = `SELECT * FROM ${resource}_v ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY _order`;
  return (db.prepare(sql).all(...values) as Record<string, unknown>[]).map((row) => toWire(resource, row));
}

/** One resource by id, or undefined. */
export function findResource<R extends ResourceName>(db: RackDb, resource: R, id: string): ResourceOf<R> | undefined {
  const row = db.prepare(`SELECT * FROM ${resource}_v WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
  return row === undefined ? undefined : toWire(resource, row);
}

/** One resource by id, or a 404 `not-found` naming `field` (the input field that held the id). */
export function getResource<R extends ResourceName>(db: RackDb, resource: R, id: string, field = 'id'): ResourceOf<R> {
  const found = findResource(db, resource, id);
  if (found === undefined) {
    throw new RackFailure({
      status: 404,
      code: 'not-found',
      errorClass: 'refused',
      field,
      message: `no ${resource} entry has id ${id} (from ${field}): check the id, GET /v1/${resource} lists them`,
    });
  }
  return found;
}

/** The ledger of applied effects, oldest first, filtered by operation, key and/or resource id. */
export function listLedger(db: RackDb, filter: LedgerFilter = {}): LedgerEntry[] {
  const columns = { operation: 'operation', key: 'key', resourceId: 'resource_id' } as const;
  const clauses: Array<{ sql: string; values: unknown[] }> = [];
  for (const [field, column] of Object.entries(columns)) {
    const value = filter[field as keyof typeof columns];
    if (value !== undefined) clauses.push({ sql: `${column} = ?`, values: [value] });
  }
  // substr, not LIKE: a key may hold % and _, and the prefix must match them as they are.
  if (filter.keyPrefix !== undefined) clauses.push({ sql: 'substr(key, 1, ?) = ?', values: [filter.keyPrefix.length, filter.keyPrefix] });
  const sql =
    'SELECT seq, operation, key, resource_type AS resourceType, resource_id AS resourceId, effect, at FROM ledger' +
    (clauses.length ? ` WHERE ${clauses.map((c) => c.sql).join(' AND ')}` : '') +
    ' ORDER BY seq';
  return db.prepare(sql).all(...clauses.flatMap((c) => c.values)) as LedgerEntry[];
}

/** Every allocated resource: the rack is on a clean slate when `total` is 0. */
export function inventory(db: RackDb): Inventory {
  const parts = {
    instances: listResource(db, 'instances'),
    vmms: listResource(db, 'vmms'),
    disks: listResource(db, 'disks'),
    regions: listResource(db, 'regions'),
    ips: listResource(db, 'ips', { allocated: 'true' }),
    nics: listResource(db, 'nics'),
    v2p: listResource(db, 'v2p'),
    reservations: listResource(db, 'reservations'),
  };
  return { ...parts, total: Object.values(parts).reduce((sum, list) => sum + list.length, 0) };
}

// ---------------------------------------------------------------------------------------
// Mutations

/**
 * The simulated hardware's behaviours that are test configuration rather than rack state (drive
 * faults, src/rack/faults.ts): a `FaultInjector` is one.
 */
export interface SimulatedHardware {
  /** The drive fault of `ssdId` in force, without using it up. */
  driveFault(ssdId: string): 'never-returns' | 'update-fails' | undefined;
  /** Uses up one reset's worth of the drive fault of `ssdId`. */
  takeDriveFault(ssdId: string): 'never-returns' | 'update-fails' | undefined;
}

const healthyHardware: SimulatedHardware = { driveFault: () => undefined, takeDriveFault: () => undefined };

/** What {@link settleHardware} changed. */
export interface HardwareSettlement {
  /** SSDs that came back from a reset. */
  returned: string[];
  /** SSDs whose regions finished resyncing. */
  resynced: string[];
}

/**
 * Lets the simulated hardware catch up with time: SSDs that were reset come back (unless a drive
 * fault says they never return) running the firmware the reset activated, and regions whose SSD
 * is back online finish resyncing. The rack applies this whenever SSDs or regions are observed
 * (reads, and mutations that depend on it), in one transaction with ledger rows under key `sim`.
 */
export function settleHardware(db: RackDb, sim: SimulatedHardware = healthyHardware, ssdId?: string): HardwareSettlement {
  const scope = ssdId === undefined ? '' : ' AND id = ?';
  const args = ssdId === undefined ? [] : [ssdId];
  const resetting = db.prepare(`SELECT id FROM ssds WHERE state = 'resetting'${scope}`).all(...args) as { id: string }[];
  const resyncing = db
    .prepare(
      `SELECT DISTINCT d.id FROM ssds d JOIN regions r ON r.ssd_id = d.id WHERE r.resyncing = 1 AND d.state = 'online'${scope.replace('id', 'd.id')}`,
    )
    .all(...args) as { id: string }[];
  const returned = resetting.map((r) => r.id).filter((id) => sim.driveFault(id) !== 'never-returns');
  if (returned.length === 0 && resyncing.length === 0) return { returned: [], resynced: [] };
  const now = new Date().toISOString();
  const ledger = db.prepare("INSERT INTO ledger (operation, key, resource_type, resource_id, effect, at) VALUES (?, 'sim', ?, ?, 'updated', ?)");
  db.transaction(() => {
    for (const id of returned) {
      db.prepare(
        "UPDATE ssds SET state = 'offline', firmware_version = COALESCE(pending_firmware, firmware_version), pending_firmware = NULL WHERE id = ?",
      ).run(id);
      ledger.run('sim.ssdReturned', 'ssd', id, now);
    }
    for (const { id } of resyncing) {
      db.prepare('UPDATE regions SET resyncing = 0 WHERE ssd_id = ?').run(id);
      ledger.run('sim.regionsResynced', 'ssd', id, now);
    }
  })();
  return { returned, resynced: resyncing.map((r) => r.id) };
}

interface Ctx {
  db: RackDb;
  operation: MutationName;
  key: string;
  now: string;
  sim: SimulatedHardware;
  /** Adds a ledger row: every applied effect gets exactly one. */
  record(resourceType: string, resourceId: string, effect: LedgerEntry['effect']): void;
}

type ActionName = Exclude<MutationName, UndoName>;
type Input<N extends MutationName> = z.infer<(typeof mutations)[N]['input']>;

/** A sled that new work may be placed on: online (else an operator must act) and provisionable. */
function placeableSled(ctx: Ctx, sledId: string, field: string) {
  const sled = getResource(ctx.db, 'sleds', sledId, field);
  if (sled.state !== 'online') {
    throw needsOperator('sled-offline', `sled ${sledId} is offline: bring it back online or choose another sled`, field);
  }
  if (!sled.provisionable) {
    throw refused('sled-not-provisionable', `sled ${sledId} is marked not provisionable: choose another sled`, field);
  }
  return sled;
}

function countRows(db: RackDb, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

/** Refuses to remove a resource that others still reference, naming what to remove first. */
function refuseIfReferenced(ctx: Ctx, what: string, id: string, checks: [label: string, sql: string][]): void {
  const blockers = checks
    .map(([label, sql]) => [label, countRows(ctx.db, sql, id)] as const)
    .filter(([, n]) => n > 0)
    .map(([label, n]) => `${n} ${label}`);
  if (blockers.length) {
    throw refused('in-use', `${what} ${id} is still used by ${blockers.join(', ')}: remove those first`);
  }
}

function insertRow(ctx: Ctx, table: string, resourceType: string, row: Record<string, unknown>): string {
  const id = (row.id as string | undefined) ?? randomUUID();
  const full = { ...row, id };
  const columns = Object.keys(full);
  ctx.db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...Object.values(full));
  ctx.record(resourceType, id, 'created');
  return id;
}

function updateRow(ctx: Ctx, table: string, resourceType: string, id: string, changes: Record<string, unknown>): void {
  const set = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (!set.length) return;
  ctx.db.prepare(`UPDATE ${table} SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...set.map(([, v]) => v), id);
  ctx.record(resourceType, id, 'updated');
}

const actions: { [N in ActionName]: (ctx: Ctx, input: Input<N>) => MutationOutput<N> } = {
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
    rememberWrites(ctx, 'sleds', sled, { state: input.state, provisionable: input.provisionable, serial: input.serial });
    const provisionable = input.provisionable === undefined ? undefined : input.provisionable ? 1 : 0;
    updateRow(ctx, 'sleds', 'sled', sled.id, { state: input.state, provisionable, serial: input.serial });
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

  'ssds.updateFirmware': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    if (ssd.state !== 'offline') {
      throw refused('ssd-not-offline', `SSD ${ssd.id} is ${ssd.state}: take it offline (ssds.offline) before writing firmware`, 'ssdId');
    }
    // The write also remembers the version the drive runs now: once a reset boots the image, its
    // undo rolls the drive back to it (see revertFirmwareWrite).
    rememberWrites(ctx, 'ssds', ssd, { stagedFirmware: input.version, firmwareVersion: input.version });
    updateRow(ctx, 'ssds', 'ssd', ssd.id, { staged_firmware: input.version });
    return getResource(ctx.db, 'ssds', ssd.id);
  },

  'ssds.reset': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    if (ssd.state !== 'offline') {
      throw refused('ssd-not-offline', `SSD ${ssd.id} is ${ssd.state}: only an offline SSD may be reset`, 'ssdId');
    }
    // A failed update leaves the drive on its old firmware; the caller finds out by verifying.
    const failed = ctx.sim.takeDriveFault(ssd.id) === 'update-fails';
    updateRow(ctx, 'ssds', 'ssd', ssd.id, {
      state: 'resetting',
      pending_firmware: failed ? ssd.firmwareVersion : (ssd.stagedFirmware ?? ssd.firmwareVersion),
      staged_firmware: null,
    });
    return getResource(ctx.db, 'ssds', ssd.id);
  },

  'firmware.setTarget': (ctx, input) => {
    const existed = findResource(ctx.db, 'firmware', input.model) !== undefined;
    ctx.db
      .prepare(
        `INSERT INTO firmware_targets (model, version, set_at) VALUES (?, ?, ?)
         ON CONFLICT (model) DO UPDATE SET version = excluded.version, set_at = excluded.set_at`,
      )
      .run(input.model, input.version, ctx.now);
    ctx.record('firmware', input.model, existed ? 'updated' : 'created');
    return getResource(ctx.db, 'firmware', input.model);
  },

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
    const sledId = input.sledId ?? pickSledForRegion(ctx, disk.id);
    const sled = placeableSled(ctx, sledId, 'sledId');
    if (countRows(ctx.db, 'SELECT COUNT(*) AS n FROM regions WHERE disk_id = ? AND sled_id = ?', disk.id, sled.id) > 0) {
      throw refused(
        'sled-taken',
        `disk ${disk.id} already has a region on sled ${sled.id}: replicas must be on distinct sleds, choose another sled`,
        'sledId',
      );
    }
    const ssdId = input.ssdId === undefined ? pickSsd(ctx, sled.id) : checkSsd(ctx, input.ssdId, sled.id);
    const id = insertRow(ctx, 'regions', 'region', {
      disk_id: disk.id, sled_id: sled.id, ssd_id: ssdId, size_gib: disk.sizeGiB, health: 'healthy',
    });
    return getResource(ctx.db, 'regions', id);
  },

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

/**
 * The fields each revertible update may write: wire name → column. The table is the resource's.
 */
const revertibleFields = {
  sleds: { state: 'state', provisionable: 'provisionable', serial: 'serial' },
  ssds: { firmwareVersion: 'firmware_version', health: 'health', stagedFirmware: 'staged_firmware' },
  instances: { state: 'state', sledId: 'sled_id', migrationId: 'migration_id' },
  vmms: { state: 'state' },
} as const satisfies Partial<Record<ResourceName, Record<string, string>>>;
type Revertible = keyof typeof revertibleFields;
type RevertibleField<R extends Revertible> = keyof (typeof revertibleFields)[R] & string;

function isRevertible(resource: string): resource is Revertible {
  return Object.hasOwn(revertibleFields, resource);
}

/**
 * Remembers, under the request's key, what each field an update names held before it (wire
 * values), so that the update's revert can put it back. Every named field is remembered, even
 * one that already held the value: the update holds that value now too (two replacements
 * marking one sled non-provisionable), and undoing the other holder must not release it.
 * Called before the update applies, in its transaction.
 */
function rememberWrites<R extends Revertible>(
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
function revertWrites(ctx: Ctx, resource: Revertible, resourceType: string, actionKey: string): Omit<RevertResult, 'resourceId'> {
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
function revertFirmwareWrite(ctx: Ctx, id: string, key: string): Omit<RevertResult, 'resourceId'> {
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

/** The action an undo named by its key: the key, and its stored result. */
interface AppliedAction {
  key: string;
  body: Record<string, unknown>;
}

/** What an undo reports besides the resource id. */
type UndoOutcome<N extends UndoName> = Omit<MutationOutput<N>, 'resourceId'>;

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
const undos: { [N in UndoName]: (ctx: Ctx, id: string, action?: AppliedAction) => UndoOutcome<N> } = {
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

/**
 * A live resource's name is unique: the rack is where that rule lives, so two sagas racing for
 * one name cannot both win. A name is free again once its resource is gone.
 */
function refuseTakenName(ctx: Ctx, table: 'instances' | 'disks', what: string, name: string): void {
  const holder = ctx.db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name) as { id: string } | undefined;
  if (holder) throw refused('name-taken', `${what === 'instance' ? 'an instance' : 'a disk'} named ${name} exists (${holder.id}): pick another name, or delete it first`, 'name');
}

function deleteRow(ctx: Ctx, table: string, resourceType: string, id: string): boolean {
  const { changes } = ctx.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
  if (changes > 0) ctx.record(resourceType, id, 'deleted');
  // What updates of it replaced is of no use once it is gone.
  if (changes > 0 && isRevertible(table)) ctx.db.prepare('DELETE FROM field_writes WHERE resource = ? AND resource_id = ?').run(table, id);
  return changes > 0;
}

interface KeyRecord {
  operation: string;
  fingerprint: string;
  body: string;
}

function undo<N extends UndoName>(ctx: Ctx, name: N, input: { actionKey?: string; id?: string }): MutationOutput<N> {
  const spec = mutations[name];
  const actionName = spec.undoes;
  let id = input.id;
  let action: AppliedAction | undefined;
  if (input.actionKey !== undefined) {
    const prior = ctx.db.prepare('SELECT operation, body FROM idempotency WHERE key = ?').get(input.actionKey) as KeyRecord | undefined;
    if (prior === undefined) {
      // The action never applied. Fence its key so that a late delivery (a retry still in
      // flight) is refused rather than leaking a resource nobody will undo; change nothing.
      ctx.db
        .prepare('INSERT OR IGNORE INTO fences (key, operation, fenced_by, at) VALUES (?, ?, ?, ?)')
        .run(input.actionKey, actionName, ctx.key, ctx.now);
      return spec.output.parse({ undone: false, resourceId: null }) as MutationOutput<N>;
    }
    if (prior.operation !== actionName) {
      throw refused(
        'key-mismatch',
        `key ${input.actionKey} was used for ${prior.operation}, but ${name} undoes ${actionName}: pass the key of the ${actionName} call`,
        'actionKey',
      );
    }
    const body = JSON.parse(prior.body) as Record<string, unknown>;
    action = { key: input.actionKey, body };
    id = String(body.id);
  }
  const target = id as string;
  const outcome = (undos[name] as (ctx: Ctx, id: string, action?: AppliedAction) => UndoOutcome<N>)(ctx, target, action);
  return { ...outcome, resourceId: target } as MutationOutput<N>;
}

// Key order must not change a request's identity, so fingerprints hash a canonical form.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** The outcome of a mutation: its result, and whether it was replayed from an earlier call with the same key. */
export interface MutationResult<N extends MutationName> {
  /** The response body: the first result under this key. */
  body: MutationOutput<N>;
  /** True when the key had already been applied and nothing changed now. */
  replayed: boolean;
}

/**
 * Applies mutation `name` under idempotency key `key`, in one transaction with its ledger rows
 * and key record. A key already applied returns its first result and changes nothing; a failed
 * call applies nothing and leaves the key unused. `beforeCommit` runs after the effect, inside
 * the transaction: throwing from it rolls everything back (how the server simulates a crash).
 * `sim` supplies the simulated hardware's drive faults (none unless told).
 */
export function runMutation<N extends MutationName>(
  db: RackDb,
  name: N,
  key: string,
  input: unknown,
  beforeCommit?: () => void,
  sim: SimulatedHardware = healthyHardware,
): MutationResult<N> {
  const spec = mutations[name];
  const parsed = parseInput(spec.input, input);
  const fingerprint = createHash('sha256').update(JSON.stringify(canonical(parsed))).digest('hex');
  return db.transaction((): MutationResult<N> => {
    const prior = db.prepare('SELECT operation, fingerprint, body FROM idempotency WHERE key = ?').get(key) as KeyRecord | undefined;
    if (prior !== undefined) {
      if (prior.operation !== name || prior.fingerprint !== fingerprint) {
        throw refused(
          'key-reused',
          `Idempotency-Key ${key} was first used for a different request (${prior.operation}): a key names one request; use a new key`,
          'Idempotency-Key',
        );
      }
      return { body: JSON.parse(prior.body) as MutationOutput<N>, replayed: true };
    }
    const fence = db.prepare('SELECT fenced_by FROM fences WHERE key = ?').get(key) as { fenced_by: string } | undefined;
    if (fence !== undefined) {
      throw refused(
        'key-undone',
        `Idempotency-Key ${key} was undone (by ${fence.fenced_by}) before its ${name} ran, so it will not run: use a new key if the effect is still wanted`,
        'Idempotency-Key',
      );
    }
    const now = new Date().toISOString();
    const ledger = db.prepare('INSERT INTO ledger (operation, key, resource_type, resource_id, effect, at) VALUES (?, ?, ?, ?, ?, ?)');
    const ctx: Ctx = {
      db, operation: name, key, now, sim,
      record: (resourceType, resourceId, effect) => void ledger.run(name, key, resourceType, resourceId, effect, now),
    };
    const body = (
      'undoes' in spec
        ? undo(ctx, name as UndoName, parsed as { actionKey?: string; id?: string })
        : (actions[name as ActionName] as (ctx: Ctx, input: unknown) => unknown)(ctx, parsed)
    ) as MutationOutput<N>;
    db.prepare('INSERT INTO idempotency (key, operation, fingerprint, body, at) VALUES (?, ?, ?, ?, ?)')
      .run(key, name, fingerprint, JSON.stringify(body), now);
    beforeCommit?.();
    return { body, replayed: false };
  })();
}
