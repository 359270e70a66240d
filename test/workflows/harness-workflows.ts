// unwind's workflows plus two deliberately broken sagas, to prove the harness catches them.
import { uuid4 } from '@temporalio/workflow';
import { DiskCreateParams, type DiskCreateResult } from '../../src/schemas/disk';
import { runSaga, type Saga } from '../../src/workflows/saga';
import { rackOneShot, rackUndo } from '../../src/workflows/steps/rack-proxies';

export * from '../../src/workflows';

async function diskWithOneRegion(saga: Saga, input: DiskCreateParams, options: { fresh?: () => string; undoRegion: boolean }) {
  const disk = await saga.step('create-disk', {
    action: (ctx) => {
      // A sloppy action makes up a new key (and a new name, which the rack would refuse twice) per call.
      const fresh = options.fresh?.();
      return rackOneShot.disksCreate({ name: fresh ? `${input.name}-${fresh}` : input.name, sizeGiB: input.sizeGiB }, fresh ? `${ctx.key}/${fresh}` : ctx.key);
    },
    undo: (ctx) => rackUndo.disksDelete({ actionKey: ctx.key }, `${ctx.key}/undo`),
  });
  const region = await saga.step('ensure-region', {
    action: (ctx) => rackOneShot.regionsEnsure({ diskId: disk.id }, ctx.key),
    ...(options.undoRegion && { undo: (ctx) => rackUndo.regionsDelete({ actionKey: ctx.key }, `${ctx.key}/undo`) }),
  });
  return { diskId: disk.id, regions: [{ regionId: region.id, sledId: region.sledId }] };
}

/** Its region step has no undo: unwinding cannot delete the disk the region still uses. */
export async function leakyDiskCreate(params: DiskCreateParams): Promise<DiskCreateResult> {
  return runSaga('leakyDiskCreate', (saga) => diskWithOneRegion(saga, params, { undoRegion: false }));
}

/** Its create-disk action makes up a new key per call: a repeated action creates a second disk. */
export async function sloppyDiskCreate(params: DiskCreateParams): Promise<DiskCreateResult> {
  return runSaga('sloppyDiskCreate', (saga) => diskWithOneRegion(saga, params, { fresh: () => uuid4().slice(0, 8), undoRegion: true }));
}

/** Its create-disk has no undo at all: an unwind leaves the disk behind, and nothing blocks. */
export async function undoLessDiskCreate(params: DiskCreateParams): Promise<{ diskId: string }> {
  return runSaga('undoLessDiskCreate', async (saga) => {
    const disk = await saga.step('create-disk', { action: (ctx) => rackOneShot.disksCreate({ name: params.name, sizeGiB: params.sizeGiB }, ctx.key) });
    return { diskId: disk.id };
  });
}

/** Its create-disk declares an undo that does nothing: the engine reports it undone, the disk stays. */
export async function forgetfulDiskCreate(params: DiskCreateParams): Promise<{ diskId: string }> {
  return runSaga('forgetfulDiskCreate', async (saga) => {
    const disk = await saga.step('create-disk', {
      action: (ctx) => rackOneShot.disksCreate({ name: params.name, sizeGiB: params.sizeGiB }, ctx.key),
      undo: async () => undefined,
    });
    return { diskId: disk.id };
  });
}
