/**
 * Wire schemas of the simulated rack: every request body, every response body, and the
 * registry of named operations that the server, the store and the client share.
 *
 * Request objects are strict: an unknown field is a typo the caller wants to hear about,
 * not something to drop silently.
 */
import { z } from 'zod';

const Id = z.string().min(1).max(200);
const Count = z.int().min(1).max(1_000_000);

// ---------------------------------------------------------------------------------------
// Errors

/** The failure taxonomy of DESIGN.md: how the activity layer must treat an error. */
export const ErrorClass = z.enum(['transient', 'refused', 'needs-operator', 'unknown-state']);
/** The failure taxonomy of DESIGN.md: how the activity layer must treat an error. */
export type ErrorClass = z.infer<typeof ErrorClass>;

/** One invalid field of a request; `field` is a dotted path such as `seed.sleds.0.cpus`. */
export const FieldIssue = z.object({ field: z.string(), message: z.string() });
/** One invalid field of a request; `field` is a dotted path such as `seed.sleds.0.cpus`. */
export type FieldIssue = z.infer<typeof FieldIssue>;

/** The body of every non-2xx response. `field` names the first bad field of a 400. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    class: ErrorClass,
    field: z.string().optional(),
    issues: z.array(FieldIssue).optional(),
  }),
});
/** The body of every non-2xx response. `field` names the first bad field of a 400. */
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------
// Resources (response shapes)

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

// ---------------------------------------------------------------------------------------
// Operation inputs

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

const Version = z.string().min(1).max(64);

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

/**
 * The input of every undo: either the Idempotency-Key of the action to undo (it works even if
 * the caller never saw the action's response) or the id of the resource. Exactly one.
 */
export const UndoInput = z
  .strictObject({ actionKey: Id.optional(), id: Id.optional() })
  .refine((v) => (v.actionKey === undefined) !== (v.id === undefined), {
    message: 'give exactly one of actionKey (the key of the action to undo) or id (the resource id)',
    path: ['actionKey'],
  });
/**
 * The input of every undo: either the Idempotency-Key of the action to undo (it works even if
 * the caller never saw the action's response) or the id of the resource. Exactly one.
 */
export type UndoInput = z.infer<typeof UndoInput>;

/** What an undo did: `undone: false` when there was nothing (left) to undo, which is a success. */
export const UndoResult = z.object({ undone: z.boolean(), resourceId: z.string().nullable() });
/** What an undo did: `undone: false` when there was nothing (left) to undo, which is a success. */
export type UndoResult = z.infer<typeof UndoResult>;

/** A field's value as an update wrote it, in its wire form: what a revert restores or leaves. */
export const FieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A field's value as an update wrote it, in its wire form: what a revert restores or leaves. */
export type FieldValue = z.infer<typeof FieldValue>;

/**
 * The input of a revert: the Idempotency-Key of the update to revert. A revert names no
 * resource or value: the rack remembers which fields the update wrote and what they held before.
 */
export const RevertInput = z.strictObject({ actionKey: Id });
/** See {@link RevertInput}. */
export type RevertInput = z.infer<typeof RevertInput>;

/**
 * What a revert did, field by field (wire names). `restored`: fields put back to the values the
 * update replaced (one that already held it is listed, and changes nothing). `kept`: fields left
 * as they are because they no longer hold what the update set — someone changed them since
 * (`reason` says who) — or their resource is gone. `undone` is true when the revert changed
 * something; an update that never applied is fenced and nothing is restored or kept.
 */
export const RevertResult = UndoResult.extend({
  restored: z.record(z.string(), FieldValue).default({}),
  kept: z.array(z.object({ field: z.string(), value: FieldValue, reason: z.string() })).default([]),
});
/** See {@link RevertResult}. */
export type RevertResult = z.infer<typeof RevertResult>;

// ---------------------------------------------------------------------------------------
// The operation registry

/**
 * Every mutating operation, by name. The route is `POST /v1/<resource>/<verb>` for
 * `<resource>.<verb>`; an undo names the action whose effect it removes. Every undo, given the
 * key of an action that never applied, fences that key and changes nothing. An update is undone
 * by its `revert`, which puts back what the update replaced (see {@link RevertResult}).
 */
export const mutations = {
  'sleds.reserve': { input: SledReserveInput, output: Reservation },
  'sleds.release': { input: UndoInput, output: UndoResult, undoes: 'sleds.reserve' },
  'sleds.update': { input: SledUpdateInput, output: Sled },
  'sleds.revert': { input: RevertInput, output: RevertResult, undoes: 'sleds.update' },
  'ssds.update': { input: SsdUpdateInput, output: Ssd },
  'ssds.revert': { input: RevertInput, output: RevertResult, undoes: 'ssds.update' },
  'ssds.install': { input: SsdInstallInput, output: Ssd },
  'ssds.offline': { input: SsdOfflineInput, output: Ssd },
  // Brings an SSD back into service (its regions resync); refused while it has not returned from a reset.
  'ssds.online': { input: UndoInput, output: UndoResult, undoes: 'ssds.offline' },
  'ssds.updateFirmware': { input: SsdUpdateFirmwareInput, output: Ssd },
  // By the write's key: a revert of the write. Still staged: what was staged before comes back. Booted by a
  // reset: an out-of-service drive goes back to the firmware it ran before (kept if updated since). By SSD id: clears it.
  'ssds.clearFirmware': { input: UndoInput, output: RevertResult, undoes: 'ssds.updateFirmware' },
  'ssds.reset': { input: SsdResetInput, output: Ssd },
  'firmware.setTarget': { input: FirmwareSetTargetInput, output: FirmwareTarget },
  'instances.create': { input: InstanceCreateInput, output: Instance },
  'instances.update': { input: InstanceUpdateInput, output: Instance },
  'instances.revert': { input: RevertInput, output: RevertResult, undoes: 'instances.update' },
  'instances.delete': { input: UndoInput, output: UndoResult, undoes: 'instances.create' },
  'vmms.create': { input: VmmCreateInput, output: Vmm },
  'vmms.destroy': { input: UndoInput, output: UndoResult, undoes: 'vmms.create' },
  'vmms.update': { input: VmmUpdateInput, output: Vmm },
  'vmms.revert': { input: RevertInput, output: RevertResult, undoes: 'vmms.update' },
  'disks.create': { input: DiskCreateInput, output: Disk },
  'disks.delete': { input: UndoInput, output: UndoResult, undoes: 'disks.create' },
  'disks.attach': { input: DiskAttachInput, output: Disk },
  'disks.detach': { input: UndoInput, output: UndoResult, undoes: 'disks.attach' },
  'regions.ensure': { input: RegionEnsureInput, output: Region },
  'regions.delete': { input: UndoInput, output: UndoResult, undoes: 'regions.ensure' },
  'ips.allocate': { input: IpAllocateInput, output: IpAddress },
  'ips.release': { input: UndoInput, output: UndoResult, undoes: 'ips.allocate' },
  'nics.create': { input: NicCreateInput, output: Nic },
  'nics.delete': { input: UndoInput, output: UndoResult, undoes: 'nics.create' },
  'v2p.set': { input: V2pSetInput, output: V2pMapping },
  'v2p.clear': { input: UndoInput, output: UndoResult, undoes: 'v2p.set' },
} as const;
/** The name of a mutating operation, e.g. `regions.ensure`. */
export type MutationName = keyof typeof mutations;
/** The request body of a mutating operation. */
export type MutationInput<N extends MutationName> = z.input<(typeof mutations)[N]['input']>;
/** The response body of a mutating operation. */
export type MutationOutput<N extends MutationName> = z.infer<(typeof mutations)[N]['output']>;
/** The name of an undo operation. */
export type UndoName = { [N in MutationName]: (typeof mutations)[N] extends { undoes: string } ? N : never }[MutationName];

/** The name of every operation faults can be set on: mutations and `<resource>.list|get` reads. */
export type OperationName = MutationName | `${ResourceName}.list` | `${ResourceName}.get`;

/** True for the names of mutating operations. */
export function isMutationName(name: string): name is MutationName {
  return Object.hasOwn(mutations, name);
}

/** True for the names of listable resources. */
export function isResourceName(name: string): name is ResourceName {
  return Object.hasOwn(resources, name);
}

// ---------------------------------------------------------------------------------------
// Ledger, inventory, seed

/** One applied effect; a repeated key never adds a second entry. */
export const LedgerEntry = z.object({
  seq: z.int(),
  operation: z.string(),
  key: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  effect: z.enum(['created', 'deleted', 'updated']),
  at: z.string(),
});
/** One applied effect; a repeated key never adds a second entry. */
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** Filters of `GET /v1/ledger` (query parameters of the same names). */
export const LedgerFilter = z.strictObject({
  operation: z.string().optional(),
  key: z.string().optional(),
  /** Keys starting with this (`<workflowId>/` for one saga, `<workflowId>/<step>` for one step and its sub-keys). */
  keyPrefix: z.string().min(1).optional(),
  resourceId: z.string().optional(),
});
/** Filters of `GET /v1/ledger` (query parameters of the same names). */
export type LedgerFilter = z.infer<typeof LedgerFilter>;

/** The ledger, oldest first. */
export const LedgerList = z.object({ entries: z.array(LedgerEntry) });
/** The ledger, oldest first. */
export type LedgerList = z.infer<typeof LedgerList>;

/** Every allocated resource; `total` is 0 on a clean slate. Hardware (sleds, SSDs) is not an allocation. */
export const Inventory = z.object({
  instances: z.array(Instance),
  vmms: z.array(Vmm),
  disks: z.array(Disk),
  regions: z.array(Region),
  ips: z.array(IpAddress),
  nics: z.array(Nic),
  v2p: z.array(V2pMapping),
  reservations: z.array(Reservation),
  total: z.int(),
});
/** Every allocated resource; `total` is 0 on a clean slate. Hardware (sleds, SSDs) is not an allocation. */
export type Inventory = z.infer<typeof Inventory>;

/** The hardware and address space a rack starts with. Omitted ids and serials are derived from positions. */
export const RackSeed = z.strictObject({
  sleds: z
    .array(
      z.strictObject({
        id: Id.optional(),
        serial: z.string().min(1).optional(),
        cpus: Count,
        memoryGiB: Count,
        state: Sled.shape.state.optional(),
        provisionable: z.boolean().optional(),
        ssds: z
          .array(
            z.strictObject({
              id: Id.optional(),
              model: z.string().min(1).optional(),
              redundancyGroup: z.string().min(1).optional(),
              firmwareVersion: z.string().min(1).optional(),
              health: Health.optional(),
            }),
          )
          .default([]),
      }),
    )
    .min(1),
  /** An IPv4 CIDR between /16 and /30; its host addresses form the pool. */
  ipPool: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2\d|30)$/, 'expected an IPv4 CIDR from /16 to /30, e.g. 10.0.0.0/24'),
});
/** The hardware and address space a rack starts with. Omitted ids and serials are derived from positions. */
export type RackSeed = z.input<typeof RackSeed>;

/** The body of `POST /v1/admin/reset`: an optional seed replacing the server's own. */
export const ResetInput = z.strictObject({ seed: RackSeed.optional() });
/** The body of `POST /v1/admin/reset`: an optional seed replacing the server's own. */
export type ResetInput = z.input<typeof ResetInput>;

// ---------------------------------------------------------------------------------------
// Faults

/** What an injected fault does. `ambiguous` applies and commits the effect, then answers an error; `crash` applies it, then rolls it back and answers 500. */
export const FaultKind = z.enum(['transient', 'ambiguous', 'crash', 'refused', 'needs-operator', 'unknown-state']);
/** What an injected fault does. `ambiguous` applies and commits the effect, then answers an error; `crash` applies it, then rolls it back and answers 500. */
export type FaultKind = z.infer<typeof FaultKind>;

const Rate = z.number().min(0).max(1);
const OperationPattern = z.string().min(1).describe('an operation name such as regions.ensure, or * for every operation');

/** A standing fault rule for an operation (`*` for every operation without its own rule). */
export const FaultRule = z
  .strictObject({
    operation: OperationPattern,
    transientRate: Rate.default(0),
    ambiguousRate: Rate.default(0),
    latencyMs: z.int().min(0).max(600_000).default(0),
    /** Every call fails with this permanent class, nothing applied. */
    permanent: z.enum(['refused', 'needs-operator', 'unknown-state']).optional(),
  })
  .refine((r) => r.transientRate + r.ambiguousRate <= 1, {
    message: 'transientRate + ambiguousRate must be at most 1',
    path: ['ambiguousRate'],
  });
/** A standing fault rule for an operation (`*` for every operation without its own rule). */
export type FaultRule = z.infer<typeof FaultRule>;

/** A one-shot fault: the next `count` calls of `operation` fail with `kind`. */
export const ScriptedFault = z.strictObject({
  operation: OperationPattern,
  kind: FaultKind,
  count: z.int().min(1).max(10_000).default(1),
  /** The HTTP status of a `transient` or `ambiguous` fault: 503 unless told. */
  status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
});
/** A one-shot fault: the next `count` calls of `operation` fail with `kind`. */
export type ScriptedFault = z.infer<typeof ScriptedFault>;

/**
 * A simulated drive behaviour for firmware maintenance: `never-returns` — after `ssds.reset` the
 * SSD stays `resetting` until the fault is cleared; `update-fails` — the reset brings it back on
 * its old firmware. `count` resets are affected (then the fault is used up).
 */
export const DriveFault = z.strictObject({
  ssdId: Id,
  kind: z.enum(['never-returns', 'update-fails']),
  count: z.int().min(1).max(10_000).default(1),
});
/** See {@link DriveFault}. */
export type DriveFault = z.infer<typeof DriveFault>;

/** The body of `POST /v1/faults/seed`: restarts the fault PRNG. */
export const FaultSeedInput = z.strictObject({ seed: z.int().min(0).max(0xffffffff) });
/** The body of `POST /v1/faults/seed`: restarts the fault PRNG. */
export type FaultSeedInput = z.infer<typeof FaultSeedInput>;

/** The fault configuration in force. */
export const FaultState = z.object({
  seed: z.int(),
  rules: z.array(FaultRule),
  scripted: z.array(ScriptedFault.extend({ count: z.int() })),
  drives: z.array(DriveFault).default([]),
});
/** The fault configuration in force. */
export type FaultState = z.infer<typeof FaultState>;
