/**
 * Provisioning a disk: its record, then its replicas on distinct sleds, in parallel. Shared by
 * every saga that creates a disk.
 */
import type { DiskCreateParams, DiskCreateResult } from '../../schemas/disk';
import type { SagaScope } from '../saga';
import { rackOneShot, rackUndo } from './rack-proxies';

/** How many replicas every disk has, each on its own sled. */
export const REPLICAS = 3;

/**
 * Runs `create-disk` (undo: delete it) and the group `regions` of `ensure-region[i]` (undo:
 * delete the region). `prefix` keeps step names unique when a saga creates several disks.
 */
export async function provisionDisk(saga: SagaScope, params: DiskCreateParams, prefix = ''): Promise<DiskCreateResult> {
  const disk = await saga.step(`${prefix}create-disk`, {
    action: (ctx) => rackOneShot.disksCreate({ name: params.name, sizeGiB: params.sizeGiB }, ctx.key),
    undo: (ctx) => rackUndo.disksDelete(...ctx.undoKey),
  });
  const regions = await saga.parallel(
    `${prefix}regions`,
    Array.from({ length: REPLICAS }, (_, i) => (group: SagaScope) =>
      group.step(`${prefix}ensure-region[${i}]`, {
        // The rack places each replica on a sled that holds none of this disk yet.
        action: (ctx) => rackOneShot.regionsEnsure({ diskId: disk.id }, ctx.key),
        undo: (ctx) => rackUndo.regionsDelete(...ctx.undoKey),
      }),
    ),
  );
  return { diskId: disk.id, regions: regions.map((r) => ({ regionId: r.id, sledId: r.sledId })) };
}
