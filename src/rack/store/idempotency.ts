/**
 * Idempotency keys and fences: each mutation runs in one transaction together with its key
 * record and its ledger rows, so a request either applies completely (and is remembered under
 * its key) or not at all; an undo of a key that never applied fences it.
 */
import { createHash } from 'node:crypto';
import { type MutationName, type MutationOutput, type UndoName, mutations } from '../schemas';
import { actions } from './actions';
import type { ActionName, Ctx } from './context';
import type { RackDb } from './db';
import { parseInput, refused } from './errors';
import { type SimulatedHardware, healthyHardware } from './hardware';
import { type AppliedAction, type UndoOutcome, undos } from './undos';

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
