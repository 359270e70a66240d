/**
 * The request bodies of the rack's actions (`POST /v1/<resource>/<verb>`). Request objects are
 * strict: an unknown field is a typo the caller wants to hear about, not something to drop.
 */
import { z } from 'zod';
import { Count, Id, Version } from './fields';
import { Health, InstanceState, Sled } from './resources';

/** Sets aside capacity on a sled; refused with `no-capacity` when the sled is short. */
export const SledReserveInput = z.strictObject({
  sledId: Id,
  cpus: Count,
  memoryGiB: Count,
  instanceId: Id.optional(),
});
/** Sets aside capacity on a sled; refused with `no-capacity` when the sled is short. */
export type SledReserveInput = z.infer<typeof SledReserveInput>;

/** Changes a sled's power state or whether new work may be placed on it. */
export const SledUpdateInput = z.strictObject({
  sledId: Id,
  state: Sled.shape.state.optional(),
  provisionable: z.boolean().optional(),
  /** The serial new hardware reports after a technician replaced the sled. */
  serial: z.string().min(1).max(64).optional(),
  /** The replacement that holds the sled, or null to release it. */
  replacementId: Id.nullable().optional(),
  /** Compare-and-set: the change applies only if the sled's marker is this, else `precondition-failed`. */
  expect: z.strictObject({ replacementId: Id.nullable().optional() }).optional(),
});
/** Changes a sled's power state or whether new work may be placed on it. */
export type SledUpdateInput = z.infer<typeof SledUpdateInput>;

/** Changes an SSD's firmware version or health. */
export const SsdUpdateInput = z.strictObject({
  ssdId: Id,
  firmwareVersion: z.string().min(1).optional(),
  health: Health.optional(),
});
/** Changes an SSD's firmware version or health. */
export type SsdUpdateInput = z.infer<typeof SsdUpdateInput>;


/** Installs a new SSD in a sled (hardware added to a running rack); it starts online and healthy. */
export const SsdInstallInput = z.strictObject({
  sledId: Id,
  id: Id.optional(),
  model: z.string().min(1).max(64),
  redundancyGroup: z.string().min(1).max(64),
  firmwareVersion: Version,
});
/** Installs a new SSD in a sled (hardware added to a running rack); it starts online and healthy. */
export type SsdInstallInput = z.infer<typeof SsdInstallInput>;

/**
 * Takes an SSD out of service. Refused (`needs-operator`) when its sled is offline or when a
 * region with a replica on it has another replica that is not healthy (`mirror-degraded`);
 * `transient` (`redundancy-group-busy`) while another SSD of its redundancy group is not online.
 * Both checks run in the same transaction as the change, so no two callers can race past them.
 */
export const SsdOfflineInput = z.strictObject({ ssdId: Id });
/** See {@link SsdOfflineInput}. */
export type SsdOfflineInput = z.infer<typeof SsdOfflineInput>;

/** Writes a firmware image to an offline SSD; the next `ssds.reset` activates it. */
export const SsdUpdateFirmwareInput = z.strictObject({ ssdId: Id, version: Version });
/** Writes a firmware image to an offline SSD; the next `ssds.reset` activates it. */
export type SsdUpdateFirmwareInput = z.infer<typeof SsdUpdateFirmwareInput>;

/**
 * Resets an offline SSD: it goes away (`resetting`) and comes back `offline`, running its staged
 * firmware, the next time it is observed — unless a drive fault says it never returns or its
 * update fails (src/rack/faults.ts).
 */
export const SsdResetInput = z.strictObject({ ssdId: Id });
/** See {@link SsdResetInput}. */
export type SsdResetInput = z.infer<typeof SsdResetInput>;

/** Sets the desired firmware version of every SSD of `model`. */
export const FirmwareSetTargetInput = z.strictObject({ model: z.string().min(1).max(64), version: Version });
/** Sets the desired firmware version of every SSD of `model`. */
export type FirmwareSetTargetInput = z.infer<typeof FirmwareSetTargetInput>;

/** Records a new instance in state `creating`, not yet placed on a sled. */
export const InstanceCreateInput = z.strictObject({ name: z.string().min(1).max(63), cpus: Count, memoryGiB: Count });
/** Records a new instance in state `creating`, not yet placed on a sled. */
export type InstanceCreateInput = z.infer<typeof InstanceCreateInput>;

/**
 * Changes an instance's state, sled or migration marker. With `expect`, the change applies
 * only if the instance's current values match (compare-and-set), else `precondition-failed`.
 */
export const InstanceUpdateInput = z.strictObject({
  instanceId: Id,
  state: InstanceState.optional(),
  sledId: Id.nullable().optional(),
  migrationId: Id.nullable().optional(),
  expect: z
    .strictObject({ state: InstanceState.optional(), migrationId: Id.nullable().optional() })
    .optional(),
});
/**
 * Changes an instance's state, sled or migration marker. With `expect`, the change applies
 * only if the instance's current values match (compare-and-set), else `precondition-failed`.
 */
export type InstanceUpdateInput = z.infer<typeof InstanceUpdateInput>;

/** Starts a VMM for an instance on a sled. */
export const VmmCreateInput = z.strictObject({ instanceId: Id, sledId: Id });
/** Starts a VMM for an instance on a sled. */
export type VmmCreateInput = z.infer<typeof VmmCreateInput>;

/** Pauses or resumes a VMM (a migration pauses the source before the cutover). */
export const VmmUpdateInput = z.strictObject({ vmmId: Id, state: z.enum(['running', 'paused']) });
/** Pauses or resumes a VMM (a migration pauses the source before the cutover). */
export type VmmUpdateInput = z.infer<typeof VmmUpdateInput>;

/** Records a new, detached disk. */
export const DiskCreateInput = z.strictObject({ name: z.string().min(1).max(63), sizeGiB: Count });
/** Records a new, detached disk. */
export type DiskCreateInput = z.infer<typeof DiskCreateInput>;

/** Attaches a disk to an instance. */
export const DiskAttachInput = z.strictObject({ diskId: Id, instanceId: Id });
/** Attaches a disk to an instance. */
export type DiskAttachInput = z.infer<typeof DiskAttachInput>;

/**
 * Creates one replica of a disk on a sled. Without `sledId` the rack picks a provisionable
 * online sled that holds no replica of this disk yet; without `ssdId` it picks that sled's
 * least-used healthy SSD.
 */
export const RegionEnsureInput = z.strictObject({ diskId: Id, sledId: Id.optional(), ssdId: Id.optional() });
/**
 * Creates one replica of a disk on a sled. Without `sledId` the rack picks a provisionable
 * online sled that holds no replica of this disk yet; without `ssdId` it picks that sled's
 * least-used healthy SSD.
 */
export type RegionEnsureInput = z.infer<typeof RegionEnsureInput>;

/**
 * Moves one replica off its sled, keeping its id, so an undo of the `regions.ensure` that made
 * it still removes it. Without `sledId` the rack picks as `regions.ensure` does (a sled holding
 * no replica of the disk); without `ssdId`, that sled's least-used healthy SSD. Needs an
 * operator when the disk's other replicas are not all healthy: moving this one would leave
 * fewer than two while it resyncs.
 */
export const RegionMoveInput = z.strictObject({ regionId: Id, sledId: Id.optional(), ssdId: Id.optional() });
/** See {@link RegionMoveInput}. */
export type RegionMoveInput = z.infer<typeof RegionMoveInput>;

/** Takes the lowest free address of the IP pool. */
export const IpAllocateInput = z.strictObject({});
/** Takes the lowest free address of the IP pool. */
export type IpAllocateInput = z.infer<typeof IpAllocateInput>;

/** Creates a NIC for an instance on an already allocated IP. */
export const NicCreateInput = z.strictObject({ instanceId: Id, ip: z.string().min(1) });
/** Creates a NIC for an instance on an already allocated IP. */
export type NicCreateInput = z.infer<typeof NicCreateInput>;

/** Programs a V2P mapping on a sled. Setting the same mapping again is a no-op; a different target is refused. */
export const V2pSetInput = z.strictObject({ sledId: Id, virtualIp: z.string().min(1), physicalSledId: Id });
/** Programs a V2P mapping on a sled. Setting the same mapping again is a no-op; a different target is refused. */
export type V2pSetInput = z.infer<typeof V2pSetInput>;
