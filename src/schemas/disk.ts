/**
 * Inputs and outputs of the disk sagas.
 */
import { z } from 'zod';
import { RequestId } from './request';

/**
 * Why `name` is not a DNS label (RFC 1123: 1 to 63 lowercase letters, digits or dashes,
 * starting with a letter, ending with a letter or digit), or `undefined` when it is one.
 */
export function dnsLabelProblem(name: string): string | undefined {
  const rule = 'a name is 1 to 63 lowercase letters, digits or dashes, starting with a letter and ending with a letter or digit';
  let why: string | undefined;
  if (name.length === 0) why = 'it is empty';
  else if (name.length > 63) why = `it is ${name.length} characters long`;
  else if (!/^[a-z]/.test(name)) why = 'it does not start with a lowercase letter';
  else if (/[^a-z0-9-]/.test(name)) why = `it holds '${/[^a-z0-9-]/.exec(name)![0]}'`;
  else if (name.endsWith('-')) why = 'it ends with a dash';
  return why === undefined ? undefined : `'${name}' is not a DNS label: ${why} (${rule})`;
}

/** Names users give to instances and disks: DNS labels (see {@link dnsLabelProblem}). */
export const ResourceName = z.string().superRefine((name, ctx) => {
  const problem = dnsLabelProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** `diskCreate`'s input. */
export const DiskCreateParams = z.strictObject({
  name: ResourceName,
  sizeGiB: z.int().min(1).max(16_384),
  /** The request's idempotency key (see src/schemas/request.ts); the client fills it in when not given. */
  requestId: RequestId.optional(),
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
 * `diskCreate`'s workflow id names the disk and the request: `disk-create/<name>/<requestId>`.
 * The same request finds its saga; a new request for the name (after the disk is gone, or after
 * a create unwound) is a new saga. The client refuses a create while another runs for the name.
 */
export const diskSagaIds = {
  diskCreate: (p: { name: string; requestId: string }) => `disk-create/${p.name}/${p.requestId}`,
} as const;
