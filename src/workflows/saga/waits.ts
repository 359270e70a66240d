/**
 * Wait identities. Every time a saga waits for a person — an operator decision on a failed
 * action or undo, or an approval — the wait gets the next number. A decision names the wait it
 * decides, so a stale or repeated command (sent for a wait that has since ended) is refused with
 * what became of that wait, never applied to a later wait of the same step.
 */
import type { WaitId } from '../../schemas/saga';

/** Who decides a wait: an operator (`retry`/`skip`/`unwind`) or an approver (`approve`/`reject`). */
export type WaitKind = 'operator' | 'approval';

/**
 * The numbering of one saga run's waits: which are open, and how each ended. A run that
 * continues an earlier one (continue-as-new) numbers its waits after the earlier run's last, so
 * a wait number names one wait across the saga's whole chain of runs.
 */
export class WaitBook {
  private last: number;
  private readonly waits = new Map<WaitId, { step: string; kind: WaitKind; ended?: string }>();

  /** @param continuedAfter the last wait number of the run this one continues (0: the first run). */
  constructor(private readonly continuedAfter = 0) {
    this.last = continuedAfter;
  }

  /** The number of the last wait begun, in this run or the runs before it (0: none yet). */
  lastId(): number {
    return this.last;
  }

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
    if (!wait && id <= this.continuedAfter) {
      return (
        `wait ${id} began in an earlier run of this saga, which continued as new after wait ${this.continuedAfter}; ` +
        'a wait still open then is asked again under a new number: read the saga\'s status for it'
      );
    }
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
