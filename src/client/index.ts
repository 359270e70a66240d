/**
 * The typed client the control plane uses to start sagas, follow them and act on them.
 *
 * ```ts
 * import { createUnwindClient, InvalidRequestError, SagaUnwoundError } from './client';
 *
 * const unwind = await createUnwindClient({ address: 'temporal.rack:7233' });
 * try {
 *   const saga = await unwind.instances.create({ name: 'web-1', cpus: 2, memoryGiB: 4, diskGiB: 20, requestId: 'r-1' });
 *   console.log(saga.workflowId, saga.existing); // 'instance-create/web-1/r-1', false on the first call
 *   const instance = await saga.result();        // throws SagaUnwoundError if it unwound
 *
 *   const paused = await unwind.sagas.list({ state: 'needs-operator' });
 *   await unwind.sagas.retry(paused[0]!.workflowId, { operator: 'alice', reason: 'sled back online' });
 * } catch (error) {
 *   if (error instanceof InvalidRequestError) console.error(error.problems); // every bad field
 * } finally {
 *   await unwind.close();
 * }
 * ```
 *
 * The modules, one concept each: connect.ts (the factory), errors.ts (the error classes), handle.ts (following and acting
 * on one saga), list.ts (the list filter and its visibility queries), sagas.ts (the saga API),
 * approvals.ts (decisions in bursts), saga-errors.ts (failure groups), request-identity.ts
 * (request ids, conflicts, a family's start), faults.ts (the fault memo a start may carry),
 * generic-start.ts (any workflow by its type), and one module per saga family: instances.ts,
 * disks.ts, sleds.ts, firmware.ts.
 *
 * - Every request is parsed with its zod schema before anything starts: bad input throws an
 *   {@link InvalidRequestError} naming every bad field, and no workflow is created.
 * - Every request carries an idempotency key, its request id (generated when not given). A saga's
 *   workflow id names the object it works on and the request (`instance-create/<name>/<requestId>`,
 *   see `sagaIds`, `diskSagaIds`, `sledReplaceId`) and is never reused. The same request id with
 *   the same parameters returns the saga the first call started (`existing: true`), running or
 *   long finished; with other parameters it is refused ({@link RequestConflictError}, naming the
 *   fields that differ). A new request on the same object (a name used again once its resource
 *   is gone, a request made again after it unwound) starts a new saga.
 * - A start is refused while a saga that must not run alongside it runs on the same object (two
 *   creates of one name, a migrate and a delete of one instance, two replacements of one sled):
 *   {@link SagaConflictError} names the saga running. Whether a *live* resource already has the
 *   name is the rack's rule: its refusal unwinds the saga.
 * - A saga is listable from the moment it is started (`UnwindSaga`, `UnwindState = running` and
 *   `UnwindProgressAt` are set at start), so one that no worker ever picked up shows as stalled.
 */
export { type UnwindClient, type UnwindClientOptions, createUnwindClient } from './connect';
export {
  InvalidRequestError,
  OperatorActionRefusedError,
  RequestConflictError,
  SagaCancelledError,
  SagaConflictError,
  SagaUnwoundError,
  sagaUnwoundDetailsOf,
  type FieldDifference,
  type RunningSaga,
  type SagaAction,
} from './errors';
export { type SagaHandle, operatorWait } from './handle';
export { LIVE_SAGA_STATES, SagaListFilter, type ExecutionStatus, type SagaSummary, sagaListQuery, sagaState, sagaStateClause } from './list';
export {
  ApprovalBurstDecision,
  ApprovalBurstFilter,
  ApprovalBurstSettings,
  type ApprovalBurstOptions,
  type ApprovalBurstOutcome,
  type ApprovalBurstProgress,
  type ApprovalBurstResult,
  approvalBurstQuery,
} from './approvals';
export { type ErrorGroup, SagaErrorsFilter, sagaErrorsQuery } from './saga-errors';
export { type SagaObject, newRequestId, requestFingerprint, sagaConflictQuery } from './request-identity';
export type { SagaApi } from './sagas';
export { type StartOptions, faultsMemo } from './faults';
export { type GenericStartOptions, kebabCase } from './generic-start';
export type { InstanceApi } from './instances';
export type { DiskApi } from './disks';
export { type FirmwareApi, type ReconcileOutcome, ensureReconcilerSchedule, firmwareApi, listRollouts, startRollout, triggerReconciler } from './firmware';
export type { SledApi } from './sleds';
