/**
 * The trivial activity set of the vs-handwritten bench: in-process activities that return a
 * value at once, so the bench measures the workflow side (the engine or the hand-written
 * compensation array), not the work. The rack set uses unwind's real rack activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../src/schemas/failures';

/** What a trivial action is asked: its step, its idempotency key, and whether it must fail. */
export interface TrivialActionInput {
  step: string;
  key: string;
  /** Fail, refused (non-retryable), as a rack refusing the request would. */
  fail?: boolean;
}

/** What a trivial undo is asked: the step and the key of the action it undoes. */
export interface TrivialUndoInput {
  step: string;
  key: string;
}

/** The trivial activities, registered by the bench's worker next to unwind's own. */
export function createTrivialActivities() {
  return {
    async vsTrivialAction(input: TrivialActionInput): Promise<{ step: string; key: string; value: number }> {
      if (input.fail) {
        throw ApplicationFailure.create({ type: FailureType.Refused, nonRetryable: true, message: `step ${input.step} refused (the bench's injected failure)` });
      }
      return { step: input.step, key: input.key, value: input.key.length };
    },
    async vsTrivialUndo(input: TrivialUndoInput): Promise<{ undone: boolean; key: string }> {
      return { undone: true, key: input.key };
    },
  };
}

/** The trivial activities as workflow code sees them (`import type`). */
export type TrivialActivities = ReturnType<typeof createTrivialActivities>;
