/**
 * Failure description: the failures the engine raises about a saga (an invalid saga, a step that
 * failed or never started, an approval refused, a decision its desks refuse) and how any failure reads as data (`describeFailure`, the
 * step it names). Everything that shows a failure — the status, `UnwindError`,
 * `SagaUnwoundDetails`, an operator's notification — describes it here, so they all name the
 * same essential error: the first of the cause chain that is not a wrapper.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, isCancellation } from '@temporalio/workflow';
import { causeChain, SagaFailureType } from '../../schemas/failures';
import type { ErrorSummary } from '../../schemas/saga';
import type { ApprovalResult } from './approval';

/** The saga is written or run wrongly (a duplicate step name, an undo after the pivot, a bad option): it ends `failed`. */
export function invalidSaga(message: string, step: string | null): ApplicationFailure {
  return ApplicationFailure.create({ type: SagaFailureType.InvalidSaga, message, nonRetryable: true, details: [{ step }] });
}

/**
 * `SagaStepNotStarted`: a step or parallel group `name` asked to start when the saga will not go
 * on (`why`: it unwinds, stops, a sibling failed). Nothing was registered.
 */
export function notStarted(kind: 'step' | 'parallel group', name: string, why: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: SagaFailureType.StepNotStarted,
    nonRetryable: true,
    message: `${kind} "${name}" was not started: ${why}`,
    details: [{ step: name }],
  });
}

/** `ApprovalRejected`: approval `request` was rejected, or expired into a rejection; the saga unwinds. */
export function approvalRejected(request: string, result: ApprovalResult): ApplicationFailure {
  const how = result.outcome === 'expired' ? 'expired without a decision' : `was rejected by ${result.by}`;
  return ApplicationFailure.create({
    type: SagaFailureType.ApprovalRejected,
    nonRetryable: true,
    message: `approval "${request}" ${how}${result.comment ? `: ${result.comment}` : ''}`,
    details: [result],
  });
}

/**
 * A decision refused by its update's validator (`InvalidOperatorAction`): nothing is recorded,
 * and the caller is told why ("retry refused for saga diskCreate disk-7: …").
 */
export function decisionRefused(action: string, saga: { readonly sagaType: string; readonly workflowId: string }, why: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: SagaFailureType.InvalidOperatorAction,
    nonRetryable: true,
    message: `${action} refused for saga ${saga.sagaType} ${saga.workflowId}: ${why}`,
  });
}

/** `SagaStepFailed`: step `step` failed with `cause` and the saga must unwind. */
export function stepFailed(step: string, cause: unknown): ApplicationFailure {
  const summary = describeFailure(cause);
  return ApplicationFailure.create({
    type: SagaFailureType.StepFailed,
    message: `step "${step}" failed: ${summary.type}: ${summary.message}`,
    nonRetryable: true,
    details: [{ step }],
    cause: cause instanceof Error ? cause : undefined,
  });
}

/** A failure that only carries another one: an activity's, a child workflow's, a step's. */
function isWrapper(err: unknown): boolean {
  return (
    err instanceof ActivityFailure ||
    err instanceof ChildWorkflowFailure ||
    (err instanceof ApplicationFailure && err.type === SagaFailureType.StepFailed)
  );
}

/**
 * A failure as data: the first error of the cause chain that is not a wrapper
 * (`ActivityFailure`, `ChildWorkflowFailure`, `SagaStepFailed`). An `ApplicationFailure` gives its
 * `type`, a cancellation `Cancelled` (naming the child workflow or activity that was cancelled),
 * anything else its error name.
 */
export function describeFailure(err: unknown): ErrorSummary {
  const chain = causeChain(err);
  const essential = chain.find((e) => !isWrapper(e)) ?? chain.at(-1);
  if (isCancellation(essential)) return { type: 'Cancelled', message: `${cancelledWhat(chain)} was cancelled` };
  if (essential instanceof ApplicationFailure) return { type: essential.type ?? 'Error', message: essential.message };
  if (essential instanceof Error) return { type: essential.name, message: essential.message };
  return { type: 'Error', message: String(essential) };
}

function cancelledWhat(chain: unknown[]): string {
  for (const e of chain) {
    if (e instanceof ChildWorkflowFailure) return `child workflow ${e.execution.workflowId}`;
    if (e instanceof ActivityFailure) return `activity ${e.activityType}`;
  }
  return 'the step';
}

/** The step a `SagaStepFailed` or `InvalidSaga` in the cause chain names, or `null`. */
export function stepOf(err: unknown): string | null {
  for (const e of causeChain(err)) {
    if (e instanceof ApplicationFailure && (e.type === SagaFailureType.StepFailed || e.type === SagaFailureType.InvalidSaga)) {
      const step = (e.details?.[0] as { step?: unknown } | undefined)?.step;
      return typeof step === 'string' ? step : null;
    }
  }
  return null;
}
