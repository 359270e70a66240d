/**
 * Fault injection: the start-time memo `unwindFaults` (`SagaFaults`, src/schemas/faults.ts), read
 * once when the saga starts, makes a named step fail before or after its action's effect, hold
 * in flight, or run its action or undo more than once. The memo is part of the workflow's start
 * event, so an injected fault replays like any other command: the harness (`proveSaga`) proves
 * every step in every mode with it.
 */
import { ApplicationFailure, condition, workflowInfo } from '@temporalio/workflow';
import { FailureType, SagaFailureType } from '../../schemas/failures';
import { FAULTS_MEMO_KEY, repeatCount, type ResolvedSagaFaults, SagaFaults } from '../../schemas/faults';
import { formatIssues } from '../../schemas/validation';
import type { StepContext } from './types';

/** The faults the start-time memo asks for; `InvalidFaults` (non-retryable) when it is not valid. */
export function readFaults(): ResolvedSagaFaults {
  const raw = workflowInfo().memo?.[FAULTS_MEMO_KEY];
  const parsed = SagaFaults.safeParse(raw ?? {});
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: SagaFailureType.InvalidFaults,
      nonRetryable: true,
      message: `memo "${FAULTS_MEMO_KEY}" is not valid: ${formatIssues(parsed.error, { root: '(root)' })}. Fix the memo and start the saga again.`,
    });
  }
  return parsed.data;
}

const injectedType = { refused: FailureType.Refused, 'needs-operator': FailureType.NeedsOperator, 'unknown-state': FailureType.UnknownState } as const;

/** The faults of one saga run, applied to its steps' actions and undos. None until the memo is read. */
export class FaultInjection {
  constructor(private readonly faults: ResolvedSagaFaults = SagaFaults.parse({})) {}

  /** True when `step`'s first attempt is to fail (`failStep`); a retry by an operator runs clean. */
  failsFirstAttempt(step: string): boolean {
    return this.faults.failStep === step;
  }

  /** How many times `step`'s undo runs (`repeatUndos`; once unless told). */
  undoRepeats(step: string): number {
    return repeatCount(this.faults.repeatUndos, step);
  }

  /**
   * Runs an action as the faults say: fails before it (`failWhen: before`), runs it as many
   * times as `repeatActions` says (each an attempt), fails after its effect, or holds the step
   * in flight until the saga is cancelled (`holdStep`).
   * @param inject this attempt is the one {@link failsFirstAttempt} names.
   */
  async invokeAction<T>(
    record: { readonly name: string; attempts: number },
    ctx: StepContext,
    action: (ctx: StepContext) => Promise<T>,
    inject: boolean,
  ): Promise<T> {
    if (inject && this.faults.failWhen === 'before') throw this.injectedFailure(record.name);
    const times = repeatCount(this.faults.repeatActions, record.name);
    let result: T | undefined;
    for (let i = 0; i < times; i++) {
      record.attempts++;
      result = await action(ctx);
    }
    if (inject) throw this.injectedFailure(record.name);
    // Held in flight, its effect applied, until the saga is cancelled (the harness's cancellation mode).
    if (this.faults.holdStep === record.name) await condition(() => false);
    return result as T;
  }

  private injectedFailure(step: string): ApplicationFailure {
    return ApplicationFailure.create({
      type: injectedType[this.faults.failAs],
      nonRetryable: true,
      message: `fault injected by memo ${FAULTS_MEMO_KEY}: step "${step}" fails ${this.faults.failWhen} its action (${this.faults.failAs})`,
      details: [{ injected: true, failWhen: this.faults.failWhen, failAs: this.faults.failAs }],
    });
  }
}
