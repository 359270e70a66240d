/**
 * Durations people give a saga (how often to remind, when to escalate, when an approval
 * expires): one schema for the CLI, the client, workflow inputs, approval options and the
 * reminder child, so that every one of them refuses the same values with the same words.
 *
 * A duration is text Temporal reads (`90s`, `4h`, `3d`, `2 weeks`), parsed by `ms`, the parser
 * the Temporal SDK itself uses, or, where code passes one, a number of milliseconds. It is at least a second and at most a year: zero sent a reminder every
 * second and grew a history until it broke; a duration beyond a year is a typo, not a plan.
 * Pure (no Node modules): workflows import it.
 */
import ms from 'ms';
import { z } from 'zod';

/** The shortest duration taken: a second. */
export const MIN_DURATION_MS = 1_000;
/** The longest duration taken: a year (365 days). */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** What a duration must be, in the words every refusal uses. */
export const DURATION_RULE = 'a duration from 1s to 365d, such as 30m, 4h, 3d or 2w';

/**
 * The milliseconds of a duration (`4h` → 14 400 000; a number is milliseconds already), or
 * `undefined` when it is not one. Bounds are not checked here: see {@link Duration}.
 *
 * Text is read by `ms` with two differences, both kept from before it: the text is trimmed and
 * any run of whitespace reads as one space (`ms` takes spaces only), and a unit is required —
 * `ms` reads bare digits as milliseconds, which is never what `--expire-after 30` meant.
 * Workflows call this, so a value parses to the same milliseconds on every replay.
 */
export function durationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim().replace(/\s+/g, ' ');
  if (!/[a-z]$/i.test(text)) return undefined;
  let parsed: number;
  try {
    parsed = ms(text);
  } catch {
    return undefined; // empty, or longer than ms reads (100 characters)
  }
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Why `millis` is not a duration a saga takes, or `undefined` when it is. */
function boundsProblem(millis: number): string | undefined {
  if (millis <= 0) return `must be ${DURATION_RULE}: zero and negative durations are refused`;
  if (millis < MIN_DURATION_MS) return `must be ${DURATION_RULE}: at least a second`;
  if (millis > MAX_DURATION_MS) return `must be ${DURATION_RULE}: more than a year is refused`;
  return undefined;
}

function shownValue(value: string | number): string {
  return typeof value === 'number' ? `${value} ms` : `'${value}'`;
}

/** A duration as text: `30s`, `10m`, `4h`, `3d`, `2w`, `2 weeks` — from 1s to 365d. */
export const DurationText = z.string().superRefine((text, ctx) => {
  const millis = durationMs(text);
  const problem = millis === undefined ? `must be ${DURATION_RULE}` : boundsProblem(millis);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${problem} (got ${shownValue(text)})` });
});
/** See {@link DurationText}. */
export type DurationText = z.infer<typeof DurationText>;

/** A duration as text (see {@link DurationText}) or a number of milliseconds, within the same bounds. */
export const Duration = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  const millis = durationMs(value);
  const problem = millis === undefined ? `must be ${DURATION_RULE}` : boundsProblem(millis);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${problem} (got ${shownValue(value)})` });
});
/** See {@link Duration}. */
export type Duration = z.infer<typeof Duration>;

/** The timers of a wait for people, as {@link checkWaitTimings} relates them. */
export interface WaitTimings {
  remindEvery?: string | number;
  escalateAfter?: string | number;
  expireAfter?: string | number;
}

/**
 * Checks how a wait's timers relate: reminders come more often than the expiry (else none is
 * ever sent), and escalation comes before the expiry (else no one is ever escalated to).
 * Durations that are not valid on their own are left to their own issues. Each issue is on
 * the field at fault (`path` prefixes it), naming the other field by its name.
 */
export function checkWaitTimings(timings: WaitTimings, ctx: z.RefinementCtx, path: readonly (string | number)[] = []): void {
  const millis = (v: string | number | undefined) => (v === undefined ? undefined : durationMs(v));
  const expire = millis(timings.expireAfter);
  if (expire === undefined) return;
  const remind = millis(timings.remindEvery);
  const escalate = millis(timings.escalateAfter);
  const shown = (v: string | number | undefined) => (typeof v === 'number' ? `${v} ms` : String(v));
  if (remind !== undefined && remind >= expire) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'remindEvery'],
      message: `must be shorter than expireAfter (${shown(timings.remindEvery)} is not shorter than ${shown(timings.expireAfter)}): no reminder would ever be sent`,
    });
  }
  if (escalate !== undefined && escalate >= expire) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'escalateAfter'],
      message: `must be shorter than expireAfter (${shown(timings.escalateAfter)} is not shorter than ${shown(timings.expireAfter)}): no one would ever be escalated to`,
    });
  }
}
