/** The commands an operator runs on a waiting saga, as the view prints them. */
import type { WaitingFor } from '../../schemas/saga';

/**
 * The commands that resume or end a paused saga, one per action the waiting step accepts,
 * e.g. `unwind retry disk-create/d1 --wait-id 3 --reason "…" --as <you>`. The wait id pins the
 * decision to this wait: should the step fail again and wait anew, a late command is refused
 * rather than applied to a failure nobody looked at.
 */
export function operatorCommands(workflowId: string, waiting: readonly WaitingFor[]): string[] {
  return waiting.flatMap((w) => w.actions.map((action) => `unwind ${action} ${shellWord(workflowId)}${waitFlag(w.waitId)} --reason "…" --as <you>`));
}

// Statuses are read structurally (see ApprovalView): a wait without an id prints without one.
export const waitFlag = (waitId: number | undefined) => (waitId === undefined ? '' : ` --wait-id ${waitId}`);
export const waitLabel = (waitId: number | undefined) => (waitId === undefined ? '' : ` (wait ${waitId})`);

/** Quotes a word for a POSIX shell only when it needs it (step names hold brackets). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
