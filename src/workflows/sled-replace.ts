/**
 * `sledReplace`: replacing a faulty server, automated where it can be and human-directed where
 * it must be, over days or weeks.
 *
 *  1. mark the sled non-provisionable;  2. evacuate it (child `instanceMigrate`s, bounded
 *  concurrency);  3. move its region replicas elsewhere, never below two healthy replicas;
 *  4. approval to power it off — the pivot;  5. power off, and wait for a technician's
 *  `hardwareReplaced` signal, reminding and escalating meanwhile;  6. power on and verify the new
 *  hardware;  7. re-admit it;  8. optionally migrate the evacuated instances back.
 *
 * Cancellation or rejection before the power-off unwinds: the undo of `mark-non-provisionable`
 * reverts that update by its key, which puts `provisionable` back to what it was before the saga
 * (a sled someone had already fenced stays fenced; one changed since keeps the newer value).
 * Instances already moved stay where they are — they run healthy on their new sleds, and moving them back
 * would cost every one of them another live migration for nothing the user can see; the status
 * report `evacuation` lists them, and a later rebalance may place work on the sled again.
 * Replicas already moved stay too, for the same reason. After the power-off a cancellation
 * request is recorded and the replacement goes forward: the sled is already dark, and stopping
 * half-way would leave it neither in service nor replaced (terminate the workflow to stop it).
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  executeChild,
  ParentClosePolicy,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { FailureType } from '../schemas/failures';
import { sagaIds } from '../schemas/instance';
import { type EvacuationProgress, HardwareReplaced, SledReplaceParams, type SledReplaceResult } from '../schemas/sled';
import { parseWorkflowInput } from '../schemas/validation';
import { instanceMigrate } from './instance-migrate';
import { remindPeople } from './remind-people';
import { describeFailure, runSaga, type Saga } from './saga';
import { rack, rackForward, rackUndo } from './steps/rack-proxies';

/** A technician reports the new hardware is in: `{ serial, technician }`. */
export const hardwareReplacedSignal = defineSignal<[HardwareReplaced]>('hardwareReplaced');

/** Replaces a sled; unwinds before the power-off, goes forward after it. */
export async function sledReplace(params: SledReplaceParams): Promise<SledReplaceResult> {
  const input = parseWorkflowInput(SledReplaceParams, params, 'sledReplace');
  let replaced: HardwareReplaced | undefined;
  setHandler(hardwareReplacedSignal, (signal) => {
    const parsed = HardwareReplaced.safeParse(signal);
    if (parsed.success) replaced ??= parsed.data;
  });

  return runSaga('sledReplace', async (saga) => {
    const { sledId } = input;
    await saga.step('mark-non-provisionable', {
      action: (ctx) => rack.sledsUpdate({ sledId, provisionable: false }, ctx.key),
      undo: (ctx) => rackUndo.sledsRevert({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    const evacuated = await saga.step('evacuate', { action: () => evacuate(saga, input) });
    const reReplicated = await saga.step('re-replicate', {
      action: async (ctx) => {
        const regions = await rack.regionsOnSled({ sledId });
        for (const { regionId, diskId } of regions) {
          await rack.reReplicateRegion({ regionId, diskId }, `${ctx.key}/${regionId}`);
        }
        return regions.length;
      },
    });
    await saga.awaitApproval('approve-power-off', {
      request: `power off sled ${sledId} for replacement (${evacuated.length} instances moved, ${reReplicated} replicas moved)`,
      approvers: input.approvers,
      escalateTo: input.escalateTo,
      ...input.approval,
    });

    saga.pivot();

    await saga.step('power-off', { action: (ctx) => rackForward.sledsUpdate({ sledId, state: 'offline' }, ctx.key) });
    // An operator's retry runs the action again: each run numbers its own reminder child.
    let technicianWaits = 0;
    const hardware = await saga.step('await-hardware', {
      action: () => awaitTechnician(saga, input, () => replaced, ++technicianWaits),
    });
    await saga.step('power-on', {
      action: (ctx) => rackForward.sledsUpdate({ sledId, state: 'online' }, ctx.key),
    });
    await saga.step('verify-new-sled', { action: () => rack.verifySled({ sledId, serial: hardware.serial }) });
    await saga.step('re-admit', { action: (ctx) => rackForward.sledsUpdate({ sledId, provisionable: true }, ctx.key) });
    const rebalanced = input.rebalance
      ? await saga.step('rebalance', { action: () => migrateAll(saga, input, evacuated, 'rebalance', sledId) })
      : [];
    return { sledId, newSerial: hardware.serial, evacuated, reReplicatedRegions: reReplicated, rebalanced };
  });
}

/**
 * Migrates every instance off the sled, `evacuationConcurrency` at a time, reporting progress.
 * An instance that could not move leaves the sled occupied: an operator must decide (retry
 * runs the evacuation again for what is left).
 */
async function evacuate(saga: Saga, input: SledReplaceParams): Promise<string[]> {
  const instances = await rack.instancesOnSled({ sledId: input.sledId });
  const moved = await migrateAll(saga, input, instances, 'evacuation');
  const left = await rack.instancesOnSled({ sledId: input.sledId });
  if (left.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.NeedsOperator,
      nonRetryable: true,
      message: `${left.length} instance(s) still run on sled ${input.sledId} (${left.join(', ')}): see the evacuation report, fix, then retry`,
    });
  }
  return moved;
}

/** Runs one `instanceMigrate` child per instance, a bounded number at a time. */
async function migrateAll(
  saga: Saga,
  input: SledReplaceParams,
  instanceIds: string[],
  report: 'evacuation' | 'rebalance',
  targetSledId?: string,
): Promise<string[]> {
  const progress: EvacuationProgress = { total: instanceIds.length, migrated: [], inProgress: [], failed: [] };
  saga.report(report, progress);
  const queue = [...instanceIds];
  const worker = async () => {
    for (let instanceId = queue.shift(); instanceId !== undefined; instanceId = queue.shift()) {
      const request = { instanceId, targetSledId, requestId: `${report}-${input.sledId}`.slice(0, 64) };
      progress.inProgress.push(instanceId);
      saga.report(report, progress);
      try {
        await executeChild(instanceMigrate, {
          workflowId: sagaIds.instanceMigrate(request),
          args: [request],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        });
        progress.migrated.push(instanceId);
      } catch (err) {
        progress.failed.push({ instanceId, error: describeFailure(err).message });
      } finally {
        progress.inProgress.splice(progress.inProgress.indexOf(instanceId), 1);
        saga.report(report, progress);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.evacuationConcurrency, instanceIds.length) }, worker));
  return progress.migrated;
}

/**
 * Waits for the `hardwareReplaced` signal. Reminders and escalation run in a child workflow
 * that continues as new on its own, so weeks of reminders never weigh on this history.
 * `wait` numbers this run of the step's action (1, 2, … as operators retry it).
 */
async function awaitTechnician(
  saga: Saga,
  input: SledReplaceParams,
  replaced: () => HardwareReplaced | undefined,
  wait: number,
): Promise<HardwareReplaced> {
  // Once reported, there is nobody to remind: a retry after a failure past the pivot, or a
  // technician quicker than the power-off, goes straight on with the reported hardware.
  if (replaced() === undefined) await remindUntilReplaced(saga, input, replaced, wait);
  const hardware = replaced()!;
  saga.report('hardware', { replacedBy: hardware.technician, serial: hardware.serial, at: new Date().toISOString() });
  return hardware;
}

/** Runs the reminders child until the technician reports, then cancels it. */
async function remindUntilReplaced(saga: Saga, input: SledReplaceParams, replaced: () => HardwareReplaced | undefined, wait: number): Promise<void> {
  saga.report('hardware', { waitingFor: input.technicians, since: new Date().toISOString() });
  await CancellationScope.cancellable(async () => {
    const reminders = await startChild(remindPeople, {
      // One id per run of the action, never the id of an earlier run's reminders: those may still
      // be closing after their cancellation (the start would fail), and the time-skipping server
      // refuses to cancel one child id twice ("cancellation already requested"), so the workflow
      // task cancelling the second run would never complete and the saga would hang.
      workflowId: `${saga.workflowId}/reminders/await-hardware/${wait}`,
      args: [
        {
          sagaType: saga.sagaType,
          workflowId: saga.workflowId,
          step: 'await-hardware',
          request: `replace the hardware of sled ${input.sledId}, then report its serial (unwind sled hardware-replaced)`,
          to: input.technicians,
          escalateTo: input.escalateTo,
          remindEvery: input.hardware.remindEvery,
          escalateAfter: input.hardware.escalateAfter,
          since: new Date().toISOString(),
        },
      ],
    });
    await condition(() => replaced() !== undefined);
    // Cancelling the scope cancels the reminders; their result (a cancellation) is not awaited.
    CancellationScope.current().cancel();
    void reminders.result().catch(() => undefined);
  }).catch((err: unknown) => {
    if (replaced() === undefined) throw err;
  });
}
