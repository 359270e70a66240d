/** The disk sagas: create, started with its request identity. */
import { DiskCreateParams, type DiskCreateResult, diskSagaIds } from '../schemas/disk';
import type { StartOptions } from './faults';
import type { SagaHandle } from './handle';
import type { SagaKind, StartSaga } from './request-identity';

/** Starting disk sagas. */
export interface DiskApi {
  /**
   * Starts `diskCreate` (id `disk-create/<name>/<requestId>`). Refused while another create of
   * the name runs. `options.faults` injects faults into the run (the fault memo).
   * @throws InvalidRequestError naming every bad field; RequestConflictError when the request id
   *   was used with other parameters; SagaConflictError when another create of the name runs.
   *   Nothing is started.
   */
  create(request: DiskCreateParams, options?: StartOptions): Promise<SagaHandle<DiskCreateResult>>;
}

/** The disk sagas the client starts. */
const diskCreate = {
  sagaType: 'diskCreate',
  request: 'disks.create',
  schema: DiskCreateParams,
  workflowId: diskSagaIds.diskCreate,
  object: (p) => ({ what: `disk name ${p.name}`, sagas: [['diskCreate', `disk-create/${p.name}/`]] }),
} satisfies SagaKind<typeof DiskCreateParams>;

/** The disk API over `start`. */
export function diskApi(start: StartSaga): DiskApi {
  return { create: (request, options) => start(diskCreate, request, options) };
}
