/** The instance sagas: create, migrate and delete, each started with its request identity. */
import {
  InstanceCreateParams,
  type InstanceCreateRequest,
  type InstanceCreateResult,
  InstanceDeleteParams,
  type InstanceDeleteResult,
  InstanceMigrateParams,
  type InstanceMigrateResult,
  sagaIds,
} from '../schemas/instance';
import type { StartOptions } from './faults';
import type { SagaHandle } from './handle';
import type { SagaKind, SagaObject, StartSaga } from './request-identity';

/** Starting instance sagas. Each parses its request first and returns the saga's handle. */
export interface InstanceApi {
  /**
   * Starts `instanceCreate` (id `instance-create/<name>/<requestId>`). Refused while another
   * create of the name runs; a name may be used again once its instance is gone.
   * `options.faults` injects faults into the run (the fault memo; for tests and drills).
   * @throws InvalidRequestError naming every bad field (of the request or the faults);
   *   RequestConflictError when the request id was used with other parameters; SagaConflictError
   *   when another create of the name runs. Nothing is started.
   */
  create(request: InstanceCreateRequest, options?: StartOptions): Promise<SagaHandle<InstanceCreateResult>>;
  /**
   * Starts `instanceMigrate` (id `instance-migrate/<instance>/<requestId>`). Refused while a
   * migrate or delete of the instance runs.
   * @throws as {@link create}; nothing is started.
   */
  migrate(request: InstanceMigrateParams, options?: StartOptions): Promise<SagaHandle<InstanceMigrateResult>>;
  /**
   * Starts `instanceDelete` (id `instance-delete/<instance>/<requestId>`). Refused while a
   * migrate or delete of the instance runs.
   * @throws as {@link create}; nothing is started.
   */
  delete(request: InstanceDeleteParams, options?: StartOptions): Promise<SagaHandle<InstanceDeleteResult>>;
}

/** Migrates and deletes of one instance exclude each other. */
const instanceObject = (instanceId: string): SagaObject => ({
  what: `instance ${instanceId}`,
  sagas: [
    ['instanceMigrate', `instance-migrate/${instanceId}/`],
    ['instanceDelete', `instance-delete/${instanceId}/`],
  ],
});

/** The instance sagas the client starts. */
const instanceKinds = {
  instanceCreate: {
    sagaType: 'instanceCreate',
    request: 'instances.create',
    schema: InstanceCreateParams,
    workflowId: sagaIds.instanceCreate,
    object: (p) => ({ what: `instance name ${p.name}`, sagas: [['instanceCreate', `instance-create/${p.name}/`]] }),
  } satisfies SagaKind<typeof InstanceCreateParams>,
  instanceMigrate: {
    sagaType: 'instanceMigrate',
    request: 'instances.migrate',
    schema: InstanceMigrateParams,
    workflowId: sagaIds.instanceMigrate,
    object: (p) => instanceObject(p.instanceId),
  } satisfies SagaKind<typeof InstanceMigrateParams>,
  instanceDelete: {
    sagaType: 'instanceDelete',
    request: 'instances.delete',
    schema: InstanceDeleteParams,
    workflowId: sagaIds.instanceDelete,
    object: (p) => instanceObject(p.instanceId),
  } satisfies SagaKind<typeof InstanceDeleteParams>,
};

/** The instance API over `start`. */
export function instanceApi(start: StartSaga): InstanceApi {
  return {
    create: (request, options) => start(instanceKinds.instanceCreate, request, options),
    migrate: (request, options) => start(instanceKinds.instanceMigrate, request, options),
    delete: (request, options) => start(instanceKinds.instanceDelete, request, options),
  };
}
