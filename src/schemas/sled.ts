/**
 * Inputs, signals and outputs of `sledReplace`: replacing a faulty server, with approvals, a
 * technician, reminders and escalation.
 */
import { z } from 'zod';

/** A duration as Temporal reads it: `90s`, `4h`, `3d`, `2 weeks`. */
export const DurationText = z
  .string()
  .regex(
    /^\d+\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/,
    'expected a duration such as 30m, 4h, 3d or 2 weeks',
  );

const People = z.array(z.string().trim().min(1)).max(32);

/** `sledReplace`'s input. Durations have defaults suited to a staffed data centre. */
export const SledReplaceParams = z.strictObject({
  sledId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^/\s]*$/, 'must not contain "/" or whitespace'),
  /** Who may approve powering the sled off. */
  approvers: People.min(1, 'name at least one approver'),
  /** Who else is told, and may decide, once an approval or the technician is late. */
  escalateTo: People.default([]),
  /** Who swaps the hardware; reminded until they report it done. */
  technicians: People.min(1, 'name at least one technician'),
  approval: z
    .strictObject({
      remindEvery: DurationText.default('4h'),
      escalateAfter: DurationText.default('12h'),
      expireAfter: DurationText.default('3d'),
    })
    .default({ remindEvery: '4h', escalateAfter: '12h', expireAfter: '3d' }),
  hardware: z
    .strictObject({ remindEvery: DurationText.default('8h'), escalateAfter: DurationText.default('2d') })
    .default({ remindEvery: '8h', escalateAfter: '2d' }),
  /** How many instances migrate off the sled at once. */
  evacuationConcurrency: z.int().min(1).max(16).default(4),
  /** After re-admission, migrate the evacuated instances back. */
  rebalance: z.boolean().default(false),
  /**
   * The request's idempotency key: the same id with the same parameters finds the same
   * replacement; the client fills it in when not given (a sled can fail twice in its life).
   */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1 to 64 letters, digits, dots, dashes or underscores')
    .optional(),
});
/** `sledReplace`'s input as a caller writes it (defaults optional). */
export type SledReplaceRequest = z.input<typeof SledReplaceParams>;
/** `sledReplace`'s input after parsing. */
export type SledReplaceParams = z.infer<typeof SledReplaceParams>;

/** The signal a technician sends when the new hardware is in: its serial, and who did it. */
export const HardwareReplaced = z.strictObject({
  serial: z.string().trim().min(1).max(64),
  technician: z.string().trim().min(1),
});
/** See {@link HardwareReplaced}. */
export type HardwareReplaced = z.infer<typeof HardwareReplaced>;

/** What a replacement did. */
export const SledReplaceResult = z.object({
  sledId: z.string(),
  newSerial: z.string(),
  evacuated: z.array(z.string()),
  reReplicatedRegions: z.int(),
  rebalanced: z.array(z.string()),
});
/** See {@link SledReplaceResult}. */
export type SledReplaceResult = z.infer<typeof SledReplaceResult>;

/** Progress of an evacuation, as `sledReplace` reports it in its status. */
export const EvacuationProgress = z.object({
  total: z.int(),
  migrated: z.array(z.string()),
  inProgress: z.array(z.string()),
  failed: z.array(z.object({ instanceId: z.string(), error: z.string() })),
});
/** See {@link EvacuationProgress}. */
export type EvacuationProgress = z.infer<typeof EvacuationProgress>;

/**
 * The workflow id of a replacement: `sled-replace/<sledId>/<requestId>` (the client always gives
 * a request id); the same request names the same saga.
 */
export const sledReplaceId = (p: Pick<SledReplaceParams, 'sledId' | 'requestId'>) =>
  `sled-replace/${p.sledId}${p.requestId ? `/${p.requestId}` : ''}`;
