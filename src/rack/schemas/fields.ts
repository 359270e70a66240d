/** Field shapes shared by the rack's request schemas. */
import { z } from 'zod';

/** A resource id or idempotency key as a request names it. */
export const Id = z.string().min(1).max(200);
/** A positive count of CPUs, GiB and the like. */
export const Count = z.int().min(1).max(1_000_000);
/** A firmware version. */
export const Version = z.string().min(1).max(64);
