/**
 * Inputs and outputs of the disk sagas.
 */
import { z } from 'zod';

/** Names users give to rack resources: lowercase letters, digits and dashes, 1 to 63 characters. */
export const ResourceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected 1 to 63 lowercase letters, digits or dashes, starting with a letter');

/** `diskCreate`'s input. */
export const DiskCreateParams = z.strictObject({
  name: ResourceName,
  sizeGiB: z.int().min(1).max(16_384),
});
/** `diskCreate`'s input. */
export type DiskCreateParams = z.infer<typeof DiskCreateParams>;

/** Where one replica of a disk lives. */
export const RegionPlacement = z.object({ regionId: z.string(), sledId: z.string() });
/** Where one replica of a disk lives. */
export type RegionPlacement = z.infer<typeof RegionPlacement>;

/** A provisioned disk: its id and its replicas, on distinct sleds. */
export const DiskCreateResult = z.object({ diskId: z.string(), regions: z.array(RegionPlacement) });
/** A provisioned disk: its id and its replicas, on distinct sleds. */
export type DiskCreateResult = z.infer<typeof DiskCreateResult>;

/**
 * `diskCreate`'s workflow id derives from the request (the disk's name), so starting the same
 * request twice finds the same saga instead of creating a second disk.
 */
export const diskSagaIds = {
  diskCreate: (p: DiskCreateParams) => `disk-create/${p.name}`,
} as const;
