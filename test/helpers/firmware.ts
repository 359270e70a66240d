/**
 * What the firmware rollout tests share: racks with disks spread over SSDs, the integrity
 * invariant read straight from the rack's database, and waiting on a rollout's status.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { RackClient, RackDb, RackSeed } from '../../src/rack';
import type { FirmwareRolloutStatus } from '../../src/schemas/firmware';
import { firmwareRolloutStatusQuery } from '../../src/workflows/firmware-messages';
import { eventually, LOADED_MACHINE_MS } from './eventually';

export const MODEL = 'SIM-NVME-3.2T';

/** A rack of `sleds` sleds with `ssdsPerSled` SSDs each, redundancy group = slot, firmware 1.0.0. */
export function fleetSeed(sleds: number, ssdsPerSled: number, group: (sled: number, slot: number) => string = (_, slot) => `rg-${slot}`): RackSeed {
  return {
    sleds: Array.from({ length: sleds }, (_, i) => ({
      cpus: 64,
      memoryGiB: 512,
      ssds: Array.from({ length: ssdsPerSled }, (_, j) => ({ redundancyGroup: group(i, j) })),
    })),
    ipPool: '10.0.0.0/24',
  };
}

/**
 * Creates `count` disks of three replicas on distinct sleds, placed by `placement` (sled index →
 * replicas' `[sledId, ssdId]`), or by the rack when not given.
 */
export async function createDisks(
  rack: RackClient,
  count: number,
  placement?: (disk: number) => [string, string][],
  concurrency = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let d = next++; d < count; d = next++) {
      const disk = await rack.disks.create({ name: `fw-disk-${d}`, sizeGiB: 1 }, `seed/disk-${d}`);
      const where = placement?.(d);
      for (let r = 0; r < 3; r++) {
        const at = where?.[r];
        await rack.regions.ensure({ diskId: disk.id, ...(at && { sledId: at[0], ssdId: at[1] }) }, `seed/disk-${d}/region-${r}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Disks with fewer than 2 healthy replicas, read from the rack's database (the view the rack serves). */
export function integrityViolations(db: RackDb): { diskId: string; healthy: number }[] {
  return db
    .prepare(
      `SELECT diskId, SUM(CASE WHEN health = 'healthy' THEN 1 ELSE 0 END) AS healthy FROM regions_v
       GROUP BY diskId HAVING healthy < 2`,
    )
    .all() as { diskId: string; healthy: number }[];
}

/** Redundancy groups with more than one SSD out of service. */
export function groupViolations(db: RackDb): { group: string; out: number }[] {
  return db
    .prepare(`SELECT redundancy_group AS "group", COUNT(*) AS out FROM ssds WHERE state != 'online' GROUP BY redundancy_group HAVING out > 1`)
    .all() as { group: string; out: number }[];
}

/** Polls the rollout's status until `predicate` holds; fails with the last status after `timeoutMs`. */
export function waitForRollout(
  handle: WorkflowHandle,
  predicate: (s: FirmwareRolloutStatus) => boolean,
  timeoutMs = 2 * LOADED_MACHINE_MS,
): Promise<FirmwareRolloutStatus> {
  return eventually(() => handle.query(firmwareRolloutStatusQuery, {}), predicate, `rollout ${handle.workflowId} to match`, timeoutMs, 100);
}
