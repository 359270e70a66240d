/**
 * Operator gates: a saga that must not go on until a person has looked (a rollout halted by
 * failures, a drive whose mirrors stay degraded) asks as a step whose action needs an operator.
 * The step's wait is an ordinary operator wait — paged, shown in the status, decided by `retry`
 * (or `unwind` before the pivot) — so a gate needs no machinery of its own.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../schemas/failures';
import type { StepDefinition } from './types';

/**
 * What a gate asks an operator: a question, asked once (their `retry` opens the gate); or a
 * check, run at once and again on every `retry`, that returns the question while it stands and
 * `undefined` once the gate may open.
 */
export type OperatorQuestion = string | (() => Promise<string | undefined>);

/** The step of an operator gate: its action fails `NeedsOperator` with the question while it stands. */
export function operatorGate(question: OperatorQuestion): StepDefinition<void> {
  let asked = false;
  return {
    action: async () => {
      const standing = typeof question === 'string' ? (asked ? undefined : question) : await question();
      asked = true;
      if (standing !== undefined) throw ApplicationFailure.create({ type: FailureType.NeedsOperator, nonRetryable: true, message: standing });
    },
  };
}
