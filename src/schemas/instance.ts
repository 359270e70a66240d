/**
 * Inputs and outputs of the instance sagas: `instanceCreate`, `instanceMigrate`,
 * `instanceDelete`. The client parses requests with these before starting anything; the
 * workflows parse them again at entry.
 */
import { z } from 'zod';
import { ResourceName } from './disk';

const Id = z.string().min(1).max(128);

/** `instanceCreate`'s input: a VM with a boot disk and NICs. */
export const InstanceCreateParams = z.strictObject({
  name: ResourceName,
  cpus: z.int().min(1).max(64),
  memoryGiB: z.int().min(1).max(1024),
  diskGiB: z.int().min(1).max(16_384),
  nics: z.int().min(1).max(4).default(1),
});
/** `instanceCreate`'s input as the caller writes it (`nics` optional). */
export type InstanceCreateRequest = z.input<typeof InstanceCreateParams>;
/** `instanceCreate`'s input after parsing. */
export type InstanceCreateParams = z.infer<typeof InstanceCreateParams>;

/** A NIC of an instance: its id and address. */
export const NicPlacement = z.object({ nicId: z.string(), ip: z.string() });

/** A running instance and where its parts are. */
export const InstanceCreateResult = z.object({
  instanceId: z.string(),
  sledId: z.string(),
  vmmId: z.string(),
  diskId: z.string(),
  nics: z.array(NicPlacement),
});
/** A running instance and where its parts are. */
export type InstanceCreateResult = z.infer<typeof InstanceCreateResult>;

/**
 * `instanceMigrate`'s input. Without `targetSledId` the saga picks the sled with the most free
 * capacity. `requestId` tells two migrations of the same instance apart; the same request
 * (instance, target, request id) always names the same saga.
 */
export const InstanceMigrateParams = z.strictObject({
  instanceId: Id,
  targetSledId: Id.optional(),
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1 to 64 letters, digits, dots, dashes or underscores')
    .optional(),
});
/** `instanceMigrate`'s input. */
export type InstanceMigrateParams = z.infer<typeof InstanceMigrateParams>;

/** Where a migrated instance runs now, and how its memory was streamed (resumed after a crash?). */
export const InstanceMigrateResult = z.object({
  instanceId: z.string(),
  fromSledId: z.string(),
  toSledId: z.string(),
  vmmId: z.string(),
  stream: z.object({ chunks: z.int(), resumedFromChunk: z.int() }),
});
/** Where a migrated instance runs now, and how its memory was streamed. */
export type InstanceMigrateResult = z.infer<typeof InstanceMigrateResult>;

/** `instanceDelete`'s input. */
export const InstanceDeleteParams = z.strictObject({ instanceId: Id });
/** `instanceDelete`'s input. */
export type InstanceDeleteParams = z.infer<typeof InstanceDeleteParams>;

/** What `instanceDelete` removed. */
export const InstanceDeleteResult = z.object({ instanceId: z.string(), removed: z.array(z.string()) });
/** What `instanceDelete` removed. */
export type InstanceDeleteResult = z.infer<typeof InstanceDeleteResult>;

/**
 * Workflow ids derive from the request, so starting the same request twice finds the same
 * saga instead of starting a second one.
 */
export const sagaIds = {
  instanceCreate: (p: InstanceCreateParams) => `instance-create/${p.name}`,
  instanceMigrate: (p: InstanceMigrateParams) =>
    `instance-migrate/${p.instanceId}/${p.targetSledId ?? 'any'}${p.requestId ? `/${p.requestId}` : ''}`,
  instanceDelete: (p: InstanceDeleteParams) => `instance-delete/${p.instanceId}`,
} as const;
