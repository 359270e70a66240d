/**
 * What a step's action and undo are given ({@link StepContext}): the step's idempotency key,
 * and the arguments of an undo that finds the action's effect by that key.
 */
import { idempotencyKey } from '../../schemas/saga';
import type { StepContext, UndoByKey } from './types';

/**
 * The arguments of an undo that finds its action's effect by the action's key `key`: the key
 * as the undo's input, and `<key>/undo` as the undo call's own idempotency key (apart from the
 * action's, so that the undo is applied at most once too). Spread it into the undo activity:
 * `rackUndo.v2pClear(...undoByKey(`${ctx.key}/${sledId}`))`.
 */
export function undoByKey(key: string): UndoByKey {
  return [{ actionKey: key }, `${key}/undo`];
}

/** The context of step `step` in workflow `workflowId`. */
export function stepContext(workflowId: string, step: string): StepContext {
  const key = idempotencyKey(workflowId, step);
  return Object.freeze({ step, key, undoKey: undoByKey(key) });
}
