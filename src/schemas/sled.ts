/**
 * Inputs, signals and outputs of `sledReplace`: replacing a faulty server, with approvals, a
 * technician, reminders and escalation.
 */
import { z } from 'zod';
import { checkWaitTimings, DurationText } from './duration';
import { RequestId } from './request';

export { DurationText } from './duration';

const People = z.array(z.string().trim().min(1)).max(32);

/**
 * `sledReplace`'s input. Durations have defaults suited to a staffed data centre; each is from
 * 1s to 365d (see ./duration.ts), and an approval's reminders and escalation come before it
 * expires.
 */
export const SledReplaceParams = z
  .strictObject({
    sledId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^/\s]*$/, 'must not contain "/" or whitespace'),
    /** Who may approve powering the sled off. */
    approvers: People.min(1, 'name at least one approver'),
    /** Who else is told, and may decide, once an approval or the technician is late. */
    escalateTo: People.default([]),
    /** Who swaps the hardware; reminded until they report it done. Only they may report it. */
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
    requestId: RequestId.optional(),
  })
  .superRefine((params, ctx) => checkWaitTimings(params.approval, ctx, ['approval']));
/** `sledReplace`'s input as a caller writes it (defaults optional). */
export type SledReplaceRequest = z.input<typeof SledReplaceParams>;
/** `sledReplace`'s input after parsing. */
export type SledReplaceParams = z.infer<typeof SledReplaceParams>;

/**
 * A technician's report that the new hardware is in: its serial, and who did it (one of the
 * replacement's `technicians`). The argument of the `hardwareReplaced` update (and of the
 * older signal of the same name).
 */
export const HardwareReplaced = z.strictObject({
  serial: z.string().trim().min(1).max(64),
  technician: z.string().trim().min(1),
});
/** See {@link HardwareReplaced}. */
export type HardwareReplaced = z.infer<typeof HardwareReplaced>;

/** A report as the replacement recorded it: the serial, who reported it and when. */
export const HardwareReport = HardwareReplaced.extend({
  /** When the saga took it (ISO). */
  at: z.iso.datetime(),
  /** 1 for the first report, 2 for the second… */
  report: z.int().positive(),
});
/** See {@link HardwareReport}. */
export type HardwareReport = z.infer<typeof HardwareReport>;

/**
 * The `hardware` report in a replacement's status: who is waited for since when, every report
 * taken (oldest first), and the latest (`replacedBy`, `serial`, `at`) once there is one: the
 * serial the sled is verified against.
 */
export const HardwareStatus = z.object({
  waitingFor: z.array(z.string()),
  since: z.iso.datetime(),
  reports: z.array(HardwareReport),
  replacedBy: z.string().optional(),
  serial: z.string().optional(),
  at: z.iso.datetime().optional(),
});
/** See {@link HardwareStatus}. */
export type HardwareStatus = z.infer<typeof HardwareStatus>;

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

/**
 * Progress of an evacuation (or a rebalance), as `sledReplace` reports it in its status, over
 * every run of the step: `migrated` accumulates, `failed` and `inProgress` are the current
 * run's. `attempts` lists each run's child migrations by workflow id (each run starts new ones,
 * with new ids and keys).
 */
export const EvacuationProgress = z.object({
  total: z.int(),
  migrated: z.array(z.string()),
  inProgress: z.array(z.string()),
  failed: z.array(z.object({ instanceId: z.string(), error: z.string(), workflowId: z.string().optional() })),
  attempts: z.array(z.object({ attempt: z.int().positive(), workflowIds: z.array(z.string()) })).optional(),
});
/** See {@link EvacuationProgress}. */
export type EvacuationProgress = z.infer<typeof EvacuationProgress>;

/**
 * The request id of a child migration a replacement starts (`evac` while evacuating, `rebal`
 * when moving instances back): `<kind>-<readable>-<hash>-<attempt>`, where `readable` is the
 * start of the parent's request id and `hash` a hash of the parent's whole workflow id, so two
 * replacements (or two runs of one step) never share a child id or its idempotency keys. Fits
 * {@link RequestId} (at most 64 letters, digits, `.`, `_`, `-`). Deterministic: workflows call it.
 */
export function childRequestId(kind: 'evac' | 'rebal', parentWorkflowId: string, attempt: number): string {
  const readable = (parentWorkflowId.split('/').at(-1) ?? '').replace(/[^A-Za-z0-9._-]/g, '_');
  const hash = cyrb53(parentWorkflowId).toString(36);
  const tail = `-${hash}-${attempt}`;
  const room = 64 - kind.length - 1 - tail.length;
  return `${kind}-${readable.slice(0, Math.max(room, 0))}${tail}`;
}

/** cyrb53: a fast 53-bit string hash (public domain); plenty to tell a sled's replacements apart. */
function cyrb53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The workflow id of a replacement: `sled-replace/<sledId>/<requestId>` (the client always gives
 * a request id); the same request names the same saga.
 */
export const sledReplaceId = (p: Pick<SledReplaceParams, 'sledId' | 'requestId'>) =>
  `sled-replace/${p.sledId}${p.requestId ? `/${p.requestId}` : ''}`;
