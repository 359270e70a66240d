/** What the rack reports about itself: the ledger of applied effects and the inventory of allocations. */
import { z } from 'zod';
import { Disk, Instance, IpAddress, Nic, Region, Reservation, V2pMapping, Vmm } from './resources';

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
