/** Reads of the rack: resources in their wire shape (through the views), the ledger, the inventory. */
import { z } from 'zod';
import { type Inventory, type LedgerEntry, type LedgerFilter, type ResourceName, type ResourceOf, resources } from '../schemas';
import type { RackDb } from './db';
import { RackFailure } from './errors';

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
