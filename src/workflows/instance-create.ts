/**
 * `instanceCreate`: VM provisioning. Records the instance, places it on a sled with room,
 * builds its boot disk and its NICs in parallel, starts its VMM, attaches the disk, verifies
 * the placement, and marks it running. Every step that changes the rack has an undo; without
 * capacity it unwinds with a reason a user reads.
 *
 * Versioning. `verify-placement` came later than the other steps: executions started before it
 * must replay without it, so it runs only where `patched(VERIFY_PLACEMENT_PATCH)` says so —
 * true for a new execution (which records the patch's marker), false when replaying a history
 * recorded before the change (test/histories/instanceCreate/*.json, kept as they were; the
 * `.v2` histories have the step). Without the guard those histories no longer replay
 * (test/versioning.test.ts proves it with test/fixtures/unpatched-workflows).
 *
 * Retiring the patch, in two deployments:
 *  1. Once no execution started before the patch can be running — instanceCreate runs take
 *     minutes; a paused one may wait for days, so check that visibility lists none:
 *     `WorkflowType = 'instanceCreate' AND ExecutionStatus = 'Running' AND StartTime < '<the
 *     deployment of the patch>'` — replace `patched(…)` by `deprecatePatch(VERIFY_PLACEMENT_PATCH)`
 *     and run the step unconditionally. New executions still record the marker, so workers of
 *     the patched code can replay them during the rollout. Remove the histories without the step
 *     (`instanceCreate/<path>.json`) from the corpus in the same change: they now fail to replay,
 *     as they should, and their executions are gone; the `.v2` ones become the corpus.
 *  2. Once no execution started by the patched code runs (the same query, after step 1's
 *     deployment), remove the `deprecatePatch` call.
 */
import { patched } from '@temporalio/workflow';
import { InstanceCreateParams, type InstanceCreateResult } from '../schemas/instance';
import { parseWorkflowInput } from '../schemas/validation';
import { runSaga, type SagaScope } from './saga';
import { provisionDisk } from './steps/disk';
import { provisionNic } from './steps/network';
import { rackOneShot, rackUndo } from './steps/rack-proxies';

/** The patch that added the step `verify-placement` (see the file header for its retirement). */
export const VERIFY_PLACEMENT_PATCH = 'instance-create-verify-placement';

/** Provisions a VM; unwinds on failure, leaving the rack as it was. */
export async function instanceCreate(params: InstanceCreateParams): Promise<InstanceCreateResult> {
  return provisionInstance(params, { verifyPlacement: () => patched(VERIFY_PLACEMENT_PATCH) });
}

/** Which versioned steps a run takes; `instanceCreate` asks `patched()`. */
export interface InstanceCreateVersions {
  /** Verify the placement before starting the instance (added by {@link VERIFY_PLACEMENT_PATCH}). */
  verifyPlacement: () => boolean;
}

/**
 * The body of `instanceCreate`, its versioned steps decided by `versions`. Not a workflow of its
 * own (src/workflows/index.ts does not export it): a test fixture runs it with the guards
 * removed, to show that the replay corpus catches such a change.
 */
export async function provisionInstance(params: InstanceCreateParams, versions: InstanceCreateVersions): Promise<InstanceCreateResult> {
  const input = parseWorkflowInput(InstanceCreateParams, params, 'instanceCreate');
  return runSaga('instanceCreate', async (saga) => {
    const instance = await saga.step('create-instance', {
      action: (ctx) => rackOneShot.instancesCreate({ name: input.name, cpus: input.cpus, memoryGiB: input.memoryGiB }, ctx.key),
      undo: (ctx) => rackUndo.instancesDelete(...ctx.undoKey),
    });
    const { sledId } = await saga.step('choose-sled', {
      action: () => rackOneShot.chooseSled({ cpus: input.cpus, memoryGiB: input.memoryGiB }),
    });
    await saga.step('reserve-sled', {
      action: (ctx) => rackOneShot.sledsReserve({ sledId, cpus: input.cpus, memoryGiB: input.memoryGiB, instanceId: instance.id }, ctx.key),
      undo: (ctx) => rackUndo.sledsRelease(...ctx.undoKey),
    });
    const allSledIds = await saga.step('list-sleds', { action: () => rackOneShot.listSledIds() });

    const [disk, nics] = await saga.parallel('disk-and-nics', [
      (group) => provisionDisk(group, { name: `${input.name}-boot`, sizeGiB: input.diskGiB }),
      (group) =>
        group.parallel(
          'nics',
          Array.from({ length: input.nics }, (_, index) => (nicGroup: SagaScope) =>
            provisionNic(nicGroup, { index, instanceId: instance.id, sledId, allSledIds }),
          ),
        ),
    ] as const);

    const vmm = await saga.step('create-vmm', {
      action: (ctx) => rackOneShot.vmmsCreate({ instanceId: instance.id, sledId }, ctx.key),
      undo: (ctx) => rackUndo.vmmsDestroy(...ctx.undoKey),
    });
    await saga.step('attach-disk', {
      action: (ctx) => rackOneShot.disksAttach({ diskId: disk.diskId, instanceId: instance.id }, ctx.key),
      undo: (ctx) => rackUndo.disksDetach(...ctx.undoKey),
    });
    if (versions.verifyPlacement()) {
      // Reads only: nothing to undo.
      await saga.step('verify-placement', {
        action: () => rackOneShot.verifyPlacement({ instanceId: instance.id, sledId, vmmId: vmm.id, diskId: disk.diskId }),
      });
    }
    await saga.step('start-instance', {
      action: (ctx) => rackOneShot.instancesUpdate({ instanceId: instance.id, state: 'starting', sledId }, ctx.key),
      undo: (ctx) => rackUndo.instancesRevert(...ctx.undoKey),
    });
    await saga.step('record-running', {
      action: (ctx) => rackOneShot.instancesUpdate({ instanceId: instance.id, state: 'running' }, ctx.key),
      undo: (ctx) => rackUndo.instancesRevert(...ctx.undoKey),
    });
    return { instanceId: instance.id, sledId, vmmId: vmm.id, diskId: disk.diskId, nics };
  });
}
