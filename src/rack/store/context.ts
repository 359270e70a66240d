/**
 * What every action and undo works with: the mutation's context (database, key, ledger) and the
 * row helpers that record each effect in the ledger.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type LedgerEntry, type MutationName, type MutationOutput, type UndoName, mutations } from '../schemas';
import type { RackDb } from './db';
import { needsOperator, refused } from './errors';
import type { SimulatedHardware } from './hardware';
import { getResource } from './reads';

/** One mutation in progress, inside its transaction. */
export interface Ctx {
  db: RackDb;
  operation: MutationName;
  key: string;
  now: string;
  sim: SimulatedHardware;
  /** Adds a ledger row: every applied effect gets exactly one. */
  record(resourceType: string, resourceId: string, effect: LedgerEntry['effect']): void;
}

/** A mutation that is not an undo. */
export type ActionName = Exclude<MutationName, UndoName>;
/** The parsed input of mutation `N`. */
export type Input<N extends MutationName> = z.infer<(typeof mutations)[N]['input']>;
/** How each of the actions `N` applies its input. */
export type Actions<N extends ActionName> = { [M in N]: (ctx: Ctx, input: Input<M>) => MutationOutput<M> };

/** A sled that new work may be placed on: online (else an operator must act) and provisionable. */
export function placeableSled(ctx: Ctx, sledId: string, field: string) {
  const sled = getResource(ctx.db, 'sleds', sledId, field);
  if (sled.state !== 'online') {
    throw needsOperator('sled-offline', `sled ${sledId} is offline: bring it back online or choose another sled`, field);
  }
  if (!sled.provisionable) {
    throw refused('sled-not-provisionable', `sled ${sledId} is marked not provisionable: choose another sled`, field);
  }
  return sled;
}

export function countRows(db: RackDb, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

/** Refuses to remove a resource that others still reference, naming what to remove first. */
export function refuseIfReferenced(ctx: Ctx, what: string, id: string, checks: [label: string, sql: string][]): void {
  const blockers = checks
    .map(([label, sql]) => [label, countRows(ctx.db, sql, id)] as const)
    .filter(([, n]) => n > 0)
    .map(([label, n]) => `${n} ${label}`);
  if (blockers.length) {
    throw refused('in-use', `${what} ${id} is still used by ${blockers.join(', ')}: remove those first`);
  }
}

export function insertRow(ctx: Ctx, table: string, resourceType: string, row: Record<string, unknown>): string {
  const id = (row.id as string | undefined) ?? randomUUID();
  const full = { ...row, id };
  const columns = Object.keys(full);
  ctx.db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...Object.values(full));
  ctx.record(resourceType, id, 'created');
  return id;
}

export function updateRow(ctx: Ctx, table: string, resourceType: string, id: string, changes: Record<string, unknown>): void {
  const set = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (!set.length) return;
  ctx.db.prepare(`UPDATE ${table} SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...set.map(([, v]) => v), id);
  ctx.record(resourceType, id, 'updated');
}

/**
 * A live resource's name is unique: the rack is where that rule lives, so two sagas racing for
 * one name cannot both win. A name is free again once its resource is gone.
 */
export function refuseTakenName(ctx: Ctx, table: 'instances' | 'disks', what: string, name: string): void {
  const holder = ctx.db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name) as { id: string } | undefined;
  if (holder) throw refused('name-taken', `${what === 'instance' ? 'an instance' : 'a disk'} named ${name} exists (${holder.id}): pick another name, or delete it first`, 'name');
}

/**
 * Compare-and-set: refuses (`precondition-failed`, naming `expect.<field>`) when a field `expect`
 * names holds another value in `current`; fields `expect` leaves out are not compared.
 */
export function refuseUnexpected<T extends { id: string }>(what: string, current: T, expect: Partial<T> = {}): void {
  for (const [field, wanted] of Object.entries(expect)) {
    const actual = current[field as keyof T];
    if (wanted !== undefined && wanted !== actual) {
      throw refused(
        'precondition-failed',
        `${what} ${current.id} has ${field} ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}: ` +
          `another change got there first; re-read the ${what} and decide again`,
        `expect.${field}`,
      );
    }
  }
}
