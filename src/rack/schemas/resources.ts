/** The rack's resources as `GET /v1/<resource>` returns them (response shapes), and their registry. */
import { z } from 'zod';

/** A server of the rack; `cpusUsed`/`memoryGiBUsed` are the sums of its reservations. */
export const Sled = z.object({
  id: z.string(),
  serial: z.string(),
  cpus: z.int(),
  memoryGiB: z.int(),
  cpusUsed: z.int(),
  memoryGiBUsed: z.int(),
  state: z.enum(['online', 'offline']),
  provisionable: z.boolean(),
  /** The replacement that holds the sled (its workflow id), set and cleared by compare-and-set; null when none. */
  replacementId: z.string().nullable(),
});
/** A server of the rack; `cpusUsed`/`memoryGiBUsed` are the sums of its reservations. */
export type Sled = z.infer<typeof Sled>;

/** The health of an SSD or of a region replica. */
export const Health = z.enum(['healthy', 'degraded', 'failed']);
/** The health of an SSD or of a region replica. */
export type Health = z.infer<typeof Health>;

/**
 * Where an SSD is in its maintenance lifecycle: `online` serves its regions; `offline` was taken
 * out of service (`ssds.offline`); `resetting` was reset (`ssds.reset`) and has not come back yet.
 */
export const SsdState = z.enum(['online', 'offline', 'resetting']);
/** See {@link SsdState}. */
export type SsdState = z.infer<typeof SsdState>;

/**
 * A physical SSD; SSDs in one redundancy group must not be taken down together. `stagedFirmware`
 * is an image written by `ssds.updateFirmware` that the next `ssds.reset` activates.
 */
export const Ssd = z.object({
  id: z.string(),
  sledId: z.string(),
  model: z.string(),
  redundancyGroup: z.string(),
  firmwareVersion: z.string(),
  health: Health,
  state: SsdState,
  stagedFirmware: z.string().nullable(),
});
/** A physical SSD; SSDs in one redundancy group must not be taken down together. */
export type Ssd = z.infer<typeof Ssd>;

/** The lifecycle states an instance can be put in. */
export const InstanceState = z.enum(['creating', 'starting', 'running', 'stopping', 'stopped', 'migrating', 'failed']);
/** The lifecycle states an instance can be put in. */
export type InstanceState = z.infer<typeof InstanceState>;

/** A virtual machine as the user sees it; `migrationId` is the marker a migration sets by compare-and-set. */
export const Instance = z.object({
  id: z.string(),
  name: z.string(),
  state: InstanceState,
  sledId: z.string().nullable(),
  cpus: z.int(),
  memoryGiB: z.int(),
  migrationId: z.string().nullable(),
});
/** A virtual machine as the user sees it; `migrationId` is the marker a migration sets by compare-and-set. */
export type Instance = z.infer<typeof Instance>;

/** A hypervisor process running (part of) an instance on one sled. */
export const Vmm = z.object({
  id: z.string(),
  instanceId: z.string(),
  sledId: z.string(),
  state: z.enum(['starting', 'running', 'paused', 'stopped']),
});
/** A hypervisor process running (part of) an instance on one sled. */
export type Vmm = z.infer<typeof Vmm>;

/** A disk (the volume its regions belong to); `instanceId` is set while attached. */
export const Disk = z.object({
  id: z.string(),
  name: z.string(),
  sizeGiB: z.int(),
  instanceId: z.string().nullable(),
});
/** A disk (the volume its regions belong to); `instanceId` is set while attached. */
export type Disk = z.infer<typeof Disk>;

/**
 * One replica of a disk's data; a disk's replicas live on distinct sleds. `health` is the
 * replica's own health combined with its hardware: a replica whose SSD is not online, or whose
 * sled is offline, is `degraded`, and so is one still resyncing after its SSD came back
 * (`resyncing`); a replica on a failed SSD is `failed`.
 */
export const Region = z.object({
  id: z.string(),
  diskId: z.string(),
  sledId: z.string(),
  ssdId: z.string().nullable(),
  sizeGiB: z.int(),
  health: Health,
  resyncing: z.boolean(),
});
/** One replica of a disk's data; a disk's replicas live on distinct sleds. */
export type Region = z.infer<typeof Region>;

/** An address of the IP pool (only ever stored, never contacted). */
export const IpAddress = z.object({ id: z.string(), ip: z.string(), allocated: z.boolean() });
/** An address of the IP pool (only ever stored, never contacted). */
export type IpAddress = z.infer<typeof IpAddress>;

/** A network interface of an instance, holding one allocated IP. */
export const Nic = z.object({ id: z.string(), instanceId: z.string(), ip: z.string(), mac: z.string() });
/** A network interface of an instance, holding one allocated IP. */
export type Nic = z.infer<typeof Nic>;

/** A virtual-to-physical mapping programmed on `sledId`: packets for `virtualIp` go to `physicalSledId`. */
export const V2pMapping = z.object({
  id: z.string(),
  sledId: z.string(),
  virtualIp: z.string(),
  physicalSledId: z.string(),
});
/** A virtual-to-physical mapping programmed on `sledId`: packets for `virtualIp` go to `physicalSledId`. */
export type V2pMapping = z.infer<typeof V2pMapping>;

/** CPUs and memory set aside on a sled, optionally for an instance. */
export const Reservation = z.object({
  id: z.string(),
  sledId: z.string(),
  cpus: z.int(),
  memoryGiB: z.int(),
  instanceId: z.string().nullable(),
});
/** CPUs and memory set aside on a sled, optionally for an instance. */
export type Reservation = z.infer<typeof Reservation>;

/** The desired firmware of every SSD of a model: part of the rack's desired state. `id` is the model. */
export const FirmwareTarget = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  setAt: z.string(),
});
/** The desired firmware of every SSD of a model: part of the rack's desired state. `id` is the model. */
export type FirmwareTarget = z.infer<typeof FirmwareTarget>;

/** Every listable resource, by the name used in `GET /v1/<name>`. */
export const resources = {
  sleds: Sled,
  ssds: Ssd,
  instances: Instance,
  vmms: Vmm,
  disks: Disk,
  regions: Region,
  ips: IpAddress,
  nics: Nic,
  v2p: V2pMapping,
  reservations: Reservation,
  firmware: FirmwareTarget,
} as const;
/** The name of a listable resource. */
export type ResourceName = keyof typeof resources;
/** The row type of a listable resource. */
export type ResourceOf<R extends ResourceName> = z.infer<(typeof resources)[R]>;

/** True for the names of listable resources. */
export function isResourceName(name: string): name is ResourceName {
  return Object.hasOwn(resources, name);
}
