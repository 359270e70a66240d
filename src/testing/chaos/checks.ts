/**
 * The chaos run's verdict, read from the engine's and the rack's own records rather than from
 * what the sagas returned: every saga ended completed or unwound; every unwind's bookkeeping
 * holds and its effects were reverted; the rack's inventory is exactly what the completed sagas
 * own; no idempotency key applied one effect twice; nothing is orphaned; every sled is back in
 * service.
 */
import type { SagaUnwoundDetails, StepStatus } from '../../schemas/saga';
import type { Inventory, RackClient } from '../../rack';
import { unwindBookkeepingViolation } from '../bookkeeping';
import { findOrphans, ledgerResidue } from '../rack';
import type { ChaosRequest } from './workload';

/** How a saga of the run ended. `refused`: the client refused to start it (its object was busy). */
export type ChaosOutcome = 'completed' | 'unwound' | 'cancelled' | 'failed' | 'refused' | 'unfinished';

/** One saga of the run and what became of it. */
export interface ChaosSaga {
  index: number;
  request: ChaosRequest;
  workflowId?: string;
  outcome: ChaosOutcome;
  /** The saga's result when it completed. */
  result?: Record<string, unknown>;
  /** What it undid, when it unwound. */
  details?: SagaUnwoundDetails;
  /** Why it failed, was refused or did not finish. */
  error?: string;
  /** The operator decisions the run made for it (`retry at ensure-region[1]`). */
  decisions: string[];
}

/** A broken promise, with the saga it concerns when there is one. */
export interface ChaosViolation {
  workflowId?: string;
  what: string;
}

/** Steps whose effects a saga keeps by design even when it unwinds (see each saga's header). */
const KEPT_ON_UNWIND: Partial<Record<ChaosRequest['type'], string[]>> = { sledReplace: ['re-replicate'] };

/**
 * Checks every saga's end, bookkeeping and residue, then the rack as a whole.
 * @param stepsOf the saga's steps as its status query reports them (a worker answers it)
 */
export async function checkChaos(
  sagas: readonly ChaosSaga[],
  rack: RackClient,
  stepsOf: (workflowId: string) => Promise<readonly StepStatus[]>,
): Promise<ChaosViolation[]> {
  const violations: ChaosViolation[] = [];
  for (const saga of sagas) {
    const { workflowId } = saga;
    if (saga.outcome !== 'completed' && saga.outcome !== 'unwound' && saga.outcome !== 'refused') {
      violations.push({ workflowId, what: `ended ${saga.outcome}${saga.error ? `: ${saga.error}` : ''}` });
    }
    if (saga.outcome !== 'unwound' || !workflowId || !saga.details) continue;
    const steps = await stepsOf(workflowId);
    const wrong = unwindBookkeepingViolation(steps, saga.details);
    if (wrong) violations.push({ workflowId, what: wrong });
    const kept = KEPT_ON_UNWIND[saga.request.type] ?? [];
    const checked = steps.filter((s) => !s.afterPivot && !kept.includes(s.name)).map((s) => s.name);
    for (const left of await ledgerResidue(rack, workflowId, checked)) violations.push({ workflowId, what: `not reverted: ${left}` });
  }
  violations.push(...(await checkLedger(rack)));
  violations.push(...checkInventory(sagas, await rack.inventory()));
  for (const sled of await rack.list('sleds')) {
    if (sled.state !== 'online' || !sled.provisionable || sled.replacementId !== null) {
      const held = sled.replacementId === null ? '' : `, held by ${sled.replacementId}`;
      violations.push({ what: `sled ${sled.id} is ${sled.state}${sled.provisionable ? '' : ', not provisionable'}${held} after the run` });
    }
  }
  return violations;
}

/** No key applied the same effect to the same resource twice. */
async function checkLedger(rack: RackClient): Promise<ChaosViolation[]> {
  const seen = new Map<string, number>();
  const violations: ChaosViolation[] = [];
  for (const entry of await rack.ledger()) {
    const id = `${entry.key} ${entry.operation} ${entry.effect} ${entry.resourceType} ${entry.resourceId}`;
    const before = seen.get(id);
    if (before !== undefined) violations.push({ what: `applied twice (ledger #${before} and #${entry.seq}): ${id}` });
    else seen.set(id, entry.seq);
  }
  return violations;
}

/** The inventory is exactly what the completed sagas own, whole and running. */
export function checkInventory(sagas: readonly ChaosSaga[], inventory: Inventory): ChaosViolation[] {
  const violations: ChaosViolation[] = [];
  const owner = new Map<string, string>();
  const nicsWanted = new Map<string, number>();
  const expectedDisks = new Map<string, string>();
  for (const saga of sagas.filter((s) => s.outcome === 'completed')) {
    const result = saga.result ?? {};
    if (saga.request.type === 'instanceCreate') {
      owner.set(String(result.instanceId), saga.workflowId!);
      nicsWanted.set(String(result.instanceId), saga.request.nics);
      expectedDisks.set(String(result.diskId), saga.workflowId!);
    }
    if (saga.request.type === 'diskCreate') expectedDisks.set(String(result.diskId), saga.workflowId!);
  }
  for (const saga of sagas.filter((s) => s.outcome === 'completed' && s.request.type === 'instanceDelete')) {
    const instanceId = (saga.request as { instanceId: string }).instanceId;
    const creator = sagas.find((s) => s.request.type === 'instanceCreate' && s.result?.instanceId === instanceId);
    owner.delete(instanceId);
    if (creator) expectedDisks.delete(String(creator.result?.diskId));
  }

  const instances = new Map(inventory.instances.map((i) => [i.id, i]));
  for (const [id, workflowId] of owner) {
    const instance = instances.get(id);
    if (!instance) {
      violations.push({ workflowId, what: `instance ${id} of a completed create is missing` });
      continue;
    }
    if (instance.state !== 'running' || instance.migrationId !== null) {
      violations.push({ workflowId, what: `instance ${id} is ${instance.state}${instance.migrationId ? ` (migration ${instance.migrationId})` : ''}, not running` });
    }
    const vmms = inventory.vmms.filter((v) => v.instanceId === id);
    if (vmms.length !== 1 || vmms[0]!.sledId !== instance.sledId || vmms[0]!.state !== 'running') {
      violations.push({ workflowId, what: `instance ${id} on ${instance.sledId} has VMMs ${JSON.stringify(vmms.map((v) => `${v.id}@${v.sledId}:${v.state}`))}` });
    }
    const reservations = inventory.reservations.filter((r) => r.instanceId === id);
    if (reservations.length !== 1 || reservations[0]!.sledId !== instance.sledId) {
      violations.push({ workflowId, what: `instance ${id} on ${instance.sledId} has reservations on [${reservations.map((r) => r.sledId)}]` });
    }
    const nics = inventory.nics.filter((n) => n.instanceId === id).length;
    if (nics !== nicsWanted.get(id)) violations.push({ workflowId, what: `instance ${id} has ${nics} NICs, ${nicsWanted.get(id)} asked for` });
  }
  for (const instance of inventory.instances.filter((i) => !owner.has(i.id))) {
    violations.push({ what: `instance ${instance.id} (${instance.name}) exists, but no completed saga owns it` });
  }
  const disks = new Set(inventory.disks.map((d) => d.id));
  for (const [id, workflowId] of expectedDisks) if (!disks.has(id)) violations.push({ workflowId, what: `disk ${id} of a completed saga is missing` });
  for (const disk of inventory.disks.filter((d) => !expectedDisks.has(d.id))) {
    violations.push({ what: `disk ${disk.id} (${disk.name}) exists, but no completed saga owns it` });
  }
  const unheld = inventory.reservations.filter((r) => r.instanceId === null);
  for (const r of unheld) violations.push({ what: `reservation ${r.id} on ${r.sledId} holds no instance` });
  for (const orphan of findOrphans(inventory)) violations.push({ what: `orphan: ${orphan}` });
  return violations;
}
