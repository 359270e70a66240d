/**
 * A real rack server for tests: a SQLite file in a fresh temp dir, real HTTP over loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Inventory, type RackChange, type RackClient, type RackDb, type RackSeed, type RackServer, createRackClient, startRackServer } from '../rack';
import { mutations } from '../rack/schemas';

/** A started rack with its client; `restart()` closes it and starts again on the same file. */
export interface TestRack {
  server: RackServer;
  rack: RackClient;
  dbPath: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a rack on a new database file, seeded with `seed` (the default rack unless told). */
export async function startTestRack(
  options: { seed?: RackSeed; timeoutMs?: number; onChange?: (change: RackChange, db: RackDb) => void } = {},
): Promise<TestRack> {
  const dir = mkdtempSync(join(tmpdir(), 'unwind-rack-'));
  const dbPath = join(dir, 'rack.sqlite');
  const start = async () => {
    const server = await startRackServer({ dbPath, seed: options.seed, onChange: options.onChange });
    return { server, rack: createRackClient({ baseUrl: server.url, timeoutMs: options.timeoutMs ?? 5_000 }) };
  };
  const t: TestRack = {
    ...(await start()),
    dbPath,
    restart: async () => {
      await t.server.close();
      Object.assign(t, await start());
    },
    stop: async () => {
      await t.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Runs `promise`, expecting it to fail, and returns the error. */
export async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * Every allocation nothing owns any more: regions without their disk, NICs, VMMs and
 * reservations without their instance, pool addresses no NIC holds, V2P mappings of addresses
 * no NIC holds. A saga that unwound cleanly leaves none.
 */
export function findOrphans(inventory: Inventory): string[] {
  const instances = new Set(inventory.instances.map((i) => i.id));
  const disks = new Set(inventory.disks.map((d) => d.id));
  const heldIps = new Set(inventory.nics.map((n) => n.ip));
  return [
    ...inventory.regions.filter((r) => !disks.has(r.diskId)).map((r) => `region ${r.id} of missing disk ${r.diskId}`),
    ...inventory.nics.filter((n) => !instances.has(n.instanceId)).map((n) => `nic ${n.id} of missing instance ${n.instanceId}`),
    ...inventory.vmms.filter((v) => !instances.has(v.instanceId)).map((v) => `vmm ${v.id} of missing instance ${v.instanceId}`),
    ...inventory.reservations
      .filter((r) => r.instanceId !== null && !instances.has(r.instanceId))
      .map((r) => `reservation ${r.id} of missing instance ${r.instanceId}`),
    ...inventory.ips.filter((ip) => !heldIps.has(ip.ip)).map((ip) => `ip ${ip.ip} held by no nic`),
    ...inventory.v2p.filter((m) => !heldIps.has(m.virtualIp)).map((m) => `v2p ${m.sledId}:${m.virtualIp} of no nic`),
  ];
}

/** The rack's undo operations (`regions.delete`, `instances.revert`, …): those that revert an action. */
const undoOperations = new Set(Object.entries(mutations).filter(([, spec]) => 'undoes' in spec).map(([name]) => name));

/**
 * What `steps` of saga `workflowId` applied on the rack and no undo reverted, read from the
 * ledger: every resource an action touched under a step's keys (`<workflowId>/<step>[/…]`) must
 * be touched again, later, by an undo under the same step's keys. One line per leftover effect.
 */
export async function ledgerResidue(rack: RackClient, workflowId: string, steps: string[]): Promise<string[]> {
  const ledger = await rack.ledger({ keyPrefix: `${workflowId}/` });
  const left: string[] = [];
  for (const step of steps) {
    const prefix = `${workflowId}/${step}`;
    const rows = ledger.filter((e) => e.key === prefix || e.key.startsWith(`${prefix}/`));
    for (const applied of rows.filter((e) => !undoOperations.has(e.operation))) {
      const reverted = rows.some(
        (e) => undoOperations.has(e.operation) && e.seq > applied.seq && e.resourceType === applied.resourceType && e.resourceId === applied.resourceId,
      );
      if (!reverted) left.push(`${step}: ${applied.operation} ${applied.effect} ${applied.resourceType} ${applied.resourceId}`);
    }
  }
  return left;
}
