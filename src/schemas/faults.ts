/**
 * Deterministic fault injection for sagas, read from the start-time memo key
 * {@link FAULTS_MEMO_KEY}. The memo is part of the workflow's history, so an injected
 * run replays, and works against any server.
 */
import { z } from 'zod';

/** The memo key the saga engine reads its faults from. */
export const FAULTS_MEMO_KEY = 'unwindFaults';

const repeatCounts = z
  .record(z.string().min(1), z.number().int().min(1).max(100))
  .describe("step name (or '*' for every step) → how many times to run it");

/**
 * Faults to inject into one saga run:
 * - `failStep`: the step that fails, once (its first invocation; an operator `retry` runs the
 *   action for real).
 * - `failWhen`: `'after'` (default): the action ran and its effect applied, then the step reports
 *   the failure; `'before'`: the action is not run at all.
 * - `failAs`: the failure's class: `refused` (default; unwinds before the pivot),
 *   `needs-operator` or `unknown-state` (the saga pauses for an operator).
 * - `holdStep`: the step whose action, once it has run, holds the step in flight until the saga
 *   is cancelled (to cancel a saga at a chosen step).
 * - `repeatActions`: run step X's action N times (the saga uses the last result). `'*'` applies
 *   to every step; a step's own entry wins over `'*'`.
 * - `repeatUndos`: run step X's undo N times; same rules.
 */
export const SagaFaults = z
  .object({
    failStep: z.string().min(1).optional(),
    failWhen: z.enum(['before', 'after']).default('after'),
    failAs: z.enum(['refused', 'needs-operator', 'unknown-state']).default('refused'),
    holdStep: z.string().min(1).optional(),
    repeatActions: repeatCounts.optional(),
    repeatUndos: repeatCounts.optional(),
  })
  .strict();
/** Faults as written into the memo (`failWhen`, `failAs` optional). */
export type SagaFaults = z.input<typeof SagaFaults>;
/** Faults as the engine reads them (defaults applied). */
export type ResolvedSagaFaults = z.output<typeof SagaFaults>;

/** How many times `step` runs under `counts` (1 when neither the step nor `'*'` is listed). */
export function repeatCount(counts: Record<string, number> | undefined, step: string): number {
  return counts?.[step] ?? counts?.['*'] ?? 1;
}
