/** The fault injection API's bodies (`/v1/faults`): rules, scripted faults, drive faults and the PRNG seed. */
import { z } from 'zod';
import { Id } from './fields';

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
