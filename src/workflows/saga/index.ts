/**
 * The unwind saga engine: write a saga as a workflow function that calls {@link runSaga}.
 *
 * ```ts
 * import { proxyActivities } from '@temporalio/workflow';
 * import type { RackActivities } from '../activities';
 * import { oneShot, undo } from '../schemas/retry-profiles';
 * import { runSaga } from './saga';
 *
 * const rackOneShot = proxyActivities<RackActivities>(oneShot);
 * const rackUndo = proxyActivities<RackActivities>(undo);
 *
 * export async function diskCreate(p: DiskCreateParams): Promise<DiskCreateResult> {
 *   return runSaga('diskCreate', async (saga) => {
 *     const ids = await saga.step('allocate-ids', {
 *       action: (ctx) => rackOneShot.allocateIds({ key: ctx.key }),
 *       undo: (ctx) => rackUndo.releaseIds(...ctx.undoKey),
 *     });
 *     const [r0, r1, r2] = await saga.parallel('regions', [
 *       (group) => group.step('ensure-region[0]', {
 *         action: (ctx) => rackOneShot.ensureRegion({ key: ctx.key, disk: ids.disk, index: 0 }),
 *         undo: (ctx) => rackUndo.deleteRegion(...ctx.undoKey),
 *       }),
 *       // … ensure-region[1], ensure-region[2]
 *     ] as const);
 *     await saga.step('record-disk', { action: (ctx) => rackOneShot.recordDisk({ key: ctx.key, regions: [r0, r1, r2] }) … });
 *     saga.pivot(); // from here on: forward only
 *     await saga.step('publish-disk', { action: (ctx) => rackOneShot.publishDisk({ key: ctx.key, disk: ids.disk }) });
 *     return { disk: ids.disk };
 *   });
 * }
 * ```
 *
 * - `ctx.key` (`<workflowId>/<step>`) is the idempotency key to pass to the activity; the undo
 *   gets the same key and finds what the action did by it (the action's output may be unknown):
 *   `...ctx.undoKey` passes it as `{ actionKey }` with `<key>/undo` as the undo call's own key.
 * - An undo is registered before its action runs, so a failed action is undone too.
 * - Before `pivot()`: a `Refused` failure (or transient retries exhausted, or any unclassified
 *   failure) unwinds; `NeedsOperator` / `UnknownState` pause the saga (`needs-operator`) until an
 *   operator sends {@link retryUpdate} or {@link unwindUpdate}. After it: every failure pauses for
 *   {@link retryUpdate}; nothing is undone.
 * - Unwinding runs undos last-registered-first (a group's members in parallel), shielded from
 *   cancellation; cancelling the workflow unwinds it. A permanently failing undo makes the saga
 *   `stuck` until {@link retryUpdate} or {@link skipUpdate}.
 * - `saga.askOperator(name, question)` is a gate a person opens: a step that pages an operator
 *   and waits for `retry` (a check as the question is run again on every retry).
 * - {@link forEachBounded} runs children or activities at most so many at a time, deterministically.
 * - An unwound saga fails with `ApplicationFailure` type `SagaUnwound` (`SagaUnwoundDetails`).
 * - {@link sagaStatusQuery} shows everything; `UnwindSaga`, `UnwindState`, `UnwindStep` and
 *   `UnwindProgressAt` are upserted on state changes (and progress at most once a minute).
 * - Workers register the `notifyOperator` activity (src/activities/notify-operator.ts), or the
 *   saga passes its own `notifyOperator` in {@link RunSagaOptions}.
 * - Faults are injected from the start-time memo `unwindFaults` (`SagaFaults`, src/schemas/faults.ts).
 * - A saga that continues as new carries `saga.continuation()` in its input and passes it back
 *   as {@link RunSagaOptions.continues}: wait numbers go on across runs. Open waits end with
 *   the run; the saga asks again in the new one.
 * - A skipped undo leaves residue: the saga ends `unwound-with-residue`, and
 *   `SagaUnwoundDetails.skipped` carries each skipped step's idempotency key.
 *
 * Retry profiles (`oneShot`, `reliable`, `undo`) belong to the activity proxies:
 * src/schemas/retry-profiles.ts.
 */
export { runSaga } from './engine';
export { forEachBounded } from './concurrency';
export { describeFailure } from './failures';
export { undoByKey } from './step-context';
export type { GroupMember, GroupResults, RunSagaOptions, Saga, SagaScope, StepContext, StepDefinition, UndoByKey } from './types';
export { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from './messages';
export type { ApprovalOptions, ApprovalResult } from './approval';
export type { OperatorQuestion } from './ask-operator';
export type { SagaContinuation } from '../../schemas/saga';
export { defineReport, type ReportDefinition, type ReportReader, type ReportReading } from '../../schemas/report';
export {
  isNeedsOperator,
  isRefused,
  isSagaUnwound,
  isTransient,
  isUnknownState,
  FailureType,
  SagaFailureType,
} from '../../schemas/failures';
