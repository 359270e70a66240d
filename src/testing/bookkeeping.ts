/**
 * The engine's own bookkeeping after an unwind, checked from what the saga reports: the steps
 * it says it undid are exactly those that registered an undo, each once, nothing skipped, and
 * last-registered-first within each branch. Shared by the proof harness and the chaos run.
 */
import type { SagaUnwoundDetails, StepStatus } from '../schemas/saga';

/**
 * What is wrong with an unwind's bookkeeping, or `undefined` when nothing is.
 * @param steps the saga's steps as its status reports them after the unwind
 * @param details what the unwind reported (`SagaUnwound` details or the cancellation memo)
 */
export function unwindBookkeepingViolation(steps: readonly StepStatus[], details: SagaUnwoundDetails): string | undefined {
  if (details.skipped.length > 0) return `skipped undos: ${details.skipped.map((s) => s.step).join(', ')}`;
  const registered = steps.filter((s) => s.undoable).map((s) => s.name);
  const missing = registered.filter((name) => !details.undone.includes(name));
  const extra = details.undone.filter((name) => !registered.includes(name));
  const repeated = details.undone.filter((name, i) => details.undone.indexOf(name) !== i);
  if (missing.length || extra.length || repeated.length) {
    return `undone steps are not the registered undos: missing [${missing}], unexpected [${extra}], twice [${repeated}]`;
  }
  return orderViolation(steps.filter((s) => s.undoable), details.undone);
}

/**
 * The first pair of undos out of order: where one step's branch contains the other's (the same
 * sequence, or a group nested in it), the later-registered must be undone first.
 */
function orderViolation(registered: StepStatus[], undone: string[]): string | undefined {
  const contains = (outer: StepStatus['branch'], inner: StepStatus['branch']) =>
    outer.every((b, i) => inner[i]?.group === b.group && inner[i]?.member === b.member);
  for (let i = 0; i < registered.length; i++) {
    for (let j = i + 1; j < registered.length; j++) {
      const [a, b] = [registered[i]!, registered[j]!];
      if (!contains(a.branch, b.branch) && !contains(b.branch, a.branch)) continue; // side by side
      if (undone.indexOf(b.name) > undone.indexOf(a.name)) return `${a.name} was undone before ${b.name}, registered after it`;
    }
  }
  return undefined;
}
