/**
 * Inputs and outputs of the instance sagas: `instanceCreate`, `instanceMigrate`,
 * `instanceDelete`. The client parses requests with these before starting anything; the
 * workflows parse them again at entry.
 */
import { z } from 'zod';
import { ResourceName } from './disk';
import { RequestId } from './request';

/**
 * A rack id (an instance's UUID, a sled's name): 1 to 128 characters, no `/` or whitespace,
 * so that it names one object in a saga's workflow id.
 */
const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(128)
  .regex(/^[^/\s]*$/, 'must not contain "/" or whitespace');

/** `instanceCreate`'s input: a VM with a boot disk and NICs. */
export const InstanceCreateParams = z.strictObject({
  name: ResourceName,
  cpus: z.int().min(1).max(64),
  memoryGiB: z.int().min(1).max(1024),
  diskGiB: z.int().min(1).max(16_384),
  nics: z.int().min(1).max(4).default(1),
  /** The request's idempotency key (see src/schemas/request.ts); the client fills it in when not given. */
  requestId: RequestId.optional(),
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
 * capacity. `requestId` is the request's idempotency key: the same id with the same target finds
 * the same saga; the client fills it in when not given.
 */
export const InstanceMigrateParams = z.strictObject({
  instanceId: Id,
  targetSledId: Id.optional(),
  requestId: RequestId.optional(),
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
export const InstanceDeleteParams = z.strictObject({
  instanceId: Id,
  /** The request's idempotency key (see src/schemas/request.ts); the client fills it in when not given. */
  requestId: RequestId.optional(),
});
/** `instanceDelete`'s input. */
export type InstanceDeleteParams = z.infer<typeof InstanceDeleteParams>;

/** What `instanceDelete` removed. */
export const InstanceDeleteResult = z.object({ instanceId: z.string(), removed: z.array(z.string()) });
/** What `instanceDelete` removed. */
export type InstanceDeleteResult = z.infer<typeof InstanceDeleteResult>;

/**
 * Workflow ids name the object a saga works on and the request that started it:
 * `instance-create/<name>/<requestId>`, `instance-migrate/<instanceId>/<requestId>`,
 * `instance-delete/<instanceId>/<requestId>`. The same request finds its saga; a new request
 * (a name used again, a request made again after it unwound) is a new saga with new idempotency
 * keys. The client refuses a start while a conflicting saga runs on the object (see
 * `sagaObjects`): another create of the name, a migrate or delete of the instance.
 *
 * `instanceMigrate` keeps the signature `sledReplace` calls for its child migrations (without a
 * request id it ends in `/migrate`), so they are under the instance's prefix too.
 */
export const sagaIds = {
  instanceCreate: (p: { name: string; requestId: string }) => `instance-create/${p.name}/${p.requestId}`,
  instanceMigrate: (p: InstanceMigrateParams) => `instance-migrate/${p.instanceId}/${p.requestId ?? 'migrate'}`,
  instanceDelete: (p: { instanceId: string; requestId: string }) => `instance-delete/${p.instanceId}/${p.requestId}`,
} as const;
