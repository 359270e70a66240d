/** Why an unfinished saga did not finish: the step whose failure unwound it, or the cancellation. */
import type { SagaSummary } from '../../client';
import type { SagaState, SagaStatus, StepState, StepStatus } from '../../schemas/saga';
import { when } from './view-options';

/** The states a failure (or a cancellation) can have brought about: unwinding, or ended without finishing. */
const UNFINISHED: readonly SagaState[] = ['unwinding', 'stuck', 'unwound', 'unwound-with-residue', 'failed', 'cancelled'];

/** Error types that pause a saga rather than unwind it (FailureType in src/schemas/failures.ts, not imported: it loads the SDK). */
const PAUSING_ERRORS: readonly string[] = ['NeedsOperator', 'UnknownState'];

/**
 * The step whose failure unwound (or ended) the saga, if one did. Visibility's `step` names it
 * once the saga unwound; without it, an operator's `unwind` decision does; else the first
 * failure, passing over errors that pause: such a step unwinds only by a decision or because a
 * sibling's failure released it, and then the sibling is the cause.
 */
export function failedStep(status: SagaStatus, summary: SagaSummary | null = null): StepStatus | undefined {
  if (!UNFINISHED.includes(status.state) || cancelledByRequest(status)) return undefined;
  // A succeeded step got past its error; an undo's error is not why the saga unwound.
  const candidates = status.steps.filter(
    (s) => s.lastError !== null && s.lastError.type !== 'Cancelled' && !(['succeeded', 'undo-failed', 'skipped'] as StepState[]).includes(s.state),
  );
  const named = (name: string | null | undefined) => candidates.find((s) => s.name === name);
  const unwindDecision = status.decisions.filter((d) => d.action === 'unwind').at(-1);
  const unwinding = candidates.filter((s) => !PAUSING_ERRORS.includes(s.lastError?.type ?? ''));
  const finished = (s: StepStatus) => (s.finishedAt === null ? Number.POSITIVE_INFINITY : Date.parse(s.finishedAt));
  const first = [...(unwinding.length > 0 ? unwinding : candidates)].sort((a, b) => finished(a) - finished(b))[0];
  return named(summary?.step) ?? named(unwindDecision?.step) ?? first;
}

export function cancelledByRequest(status: SagaStatus): boolean {
  const effect = status.cancelRequested?.effect;
  return effect === 'unwinds' || effect === 'stops';
}

/**
 * Why an unfinished saga did not finish, in full (the table cuts errors short): the failed step
 * and its error, or the cancellation request and the steps in flight when it came.
 */
export function renderCause(summary: SagaSummary | null, status: SagaStatus, now: Date): string | undefined {
  if (!UNFINISHED.includes(status.state)) return undefined;
  const cancel = status.cancelRequested;
  if (cancel && cancelledByRequest(status)) {
    const at = Date.parse(cancel.at);
    const inFlight = status.steps.filter(
      (s) => s.startedAt !== null && Date.parse(s.startedAt) <= at && (s.finishedAt === null || Date.parse(s.finishedAt) >= at),
    );
    return `cancelled by request at ${when(cancel.at, now)}; in flight then: ${inFlight.map((s) => s.name).join(', ') || 'nothing'}`;
  }
  const failed = failedStep(status, summary);
  if (failed?.lastError) return `failed at ${failed.name}: ${failed.lastError.type}: ${failed.lastError.message}`;
  if (status.state === 'failed') return 'failed outside any step: the error is in the workflow history';
  if (status.state === 'cancelled') return 'cancelled by request';
  return undefined;
}
