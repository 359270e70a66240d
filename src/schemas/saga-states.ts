/**
 * A saga's states, without zod: what `unwind list` needs to check `--state` and read a row, so
 * that it loads no schema library (saga.ts builds the `SagaState` schema from the same list).
 */

/**
 * What a saga is doing; the value of the `UnwindState` search attribute. The last five are
 * final: `unwound` (every undo ran: a clean unwind), `unwound-with-residue` (it unwound — after
 * a failure or a cancellation request — and an operator skipped at least one undo, whose
 * action's effects stay in the rack: `SagaUnwoundDetails.skipped` lists them with their
 * keys), `cancelled` (a cancellation request unwound it cleanly, or stopped a stoppable saga),
 * `failed` (an error escaped the engine, e.g. after the pivot, where nothing is undone).
 */
export const SAGA_STATES = [
  'running',
  'unwinding',
  'needs-operator',
  'stuck',
  'awaiting-approval',
  'completed',
  'unwound',
  'unwound-with-residue',
  'cancelled',
  'failed',
] as const;

/** One of the {@link SAGA_STATES}. */
export type SagaState = (typeof SAGA_STATES)[number];

/** The states a saga ends in; in any other it is live (and its workflow open). */
export const FINAL_SAGA_STATES: readonly SagaState[] = ['completed', 'unwound', 'unwound-with-residue', 'cancelled', 'failed'];

/** The states of a saga still going (its workflow open): every state but the final ones. */
export const LIVE_SAGA_STATES: readonly SagaState[] = SAGA_STATES.filter((s) => !FINAL_SAGA_STATES.includes(s));

/** Whether `value` is a saga state. */
export function isSagaState(value: unknown): value is SagaState {
  return (SAGA_STATES as readonly unknown[]).includes(value);
}
