/**
 * Wait identities. Every time a saga waits for a person — an operator decision on a failed
 * action or undo, or an approval — the wait gets the next number. A decision names the wait it
 * decides, so a stale or repeated command (sent for a wait that has since ended) is refused with
 * what became of that wait, never applied to a later wait of the same step.
 */
import type { WaitId } from '../../schemas/saga';

/** Who decides a wait: an operator (`retry`/`skip`/`unwind`) or an approver (`approve`/`reject`). */
export type WaitKind = 'operator' | 'approval';

/** The numbering of one saga run's waits: which are open, and how each ended. */
export class WaitBook {
  private last = 0;
  private readonly waits = new Map<WaitId, { step: string; kind: WaitKind; ended?: string }>();

  /** Opens a wait on `step`; returns its identity. */
  open(step: string, kind: WaitKind): WaitId {
    this.waits.set(++this.last, { step, kind });
    return this.last;
  }

  /** Records how wait `id` ended: "was already decided: retry by ada at …", "ended without a decision: …". */
  close(id: WaitId, how: string): void {
    const wait = this.waits.get(id);
    if (wait) wait.ended = how;
  }

  /** Why a decision of `kind` cannot apply to wait `id`, or `undefined` when the wait is open and of that kind. */
  refusal(id: WaitId, kind: WaitKind): string | undefined {
    const wait = this.waits.get(id);
    if (!wait) return `no wait ${id} has begun in this saga (the latest is ${this.last || 'none'})`;
    if (wait.ended !== undefined) return `wait ${id} (step "${wait.step}") ${wait.ended}`;
    if (wait.kind !== kind) {
      return wait.kind === 'approval'
        ? `wait ${id} (step "${wait.step}") is an approval: approve or reject it`
        : `wait ${id} (step "${wait.step}") waits for an operator (retry, skip or unwind), not an approval`;
    }
    return undefined;
  }
}
