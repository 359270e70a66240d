/** The hardware and address space a rack starts with, and the reset that restores it. */
import { z } from 'zod';
import { Count, Id } from './fields';
import { Health, Sled } from './resources';

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
