/**
 * The client's factory, {@link createUnwindClient}: connects, and builds the saga API and each
 * saga family's API over the connection. A family's module (and its schemas) loads on first use:
 * a command that only lists sagas never loads the instance, disk, sled or firmware code.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- families load on first use; `require`, as tsx runs the sources through its CJS hook */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { unwindDataConverter } from '../temporal/codec';
import { type ConnectionOverrides, connectionConfig, sdkConnectOptions } from '../temporal/connection';
import { TASK_QUEUE } from '../temporal/worker-config';
import type { DiskApi } from './disks';
import type { FirmwareApi } from './firmware';
import type { InstanceApi } from './instances';
import { type StartSaga, sagaStarter } from './request-identity';
import { type SagaApi, sagaApi } from './sagas';
import type { SledApi } from './sleds';

/**
 * Options of {@link createUnwindClient}; anything unset comes from Temporal's environment
 * configuration (the `TEMPORAL_*` variables and the profile file, see src/temporal/connection.ts).
 */
export type UnwindClientOptions = ConnectionOverrides & {
  /** The task queue sagas are started on; `TASK_QUEUE` (`UNWIND_TASK_QUEUE`, else `unwind`) unless told. */
  taskQueue?: string;
  /** The environment the connection and the encryption keys are read from; `process.env` unless told. */
  env?: NodeJS.ProcessEnv;
  /**
   * The data converter; unless told, the encryption codec when `UNWIND_ENCRYPTION_KEY_FILE` or
   * `UNWIND_ENCRYPTION_KEYS` is set (see src/temporal/codec.ts), else the SDK's default.
   */
  dataConverter?: DataConverter;
};

/** A connected unwind client. Call `close()` when done. */
export interface UnwindClient {
  readonly instances: InstanceApi;
  readonly disks: DiskApi;
  readonly sleds: SledApi;
  readonly firmware: FirmwareApi;
  readonly sagas: SagaApi;
  /** The underlying Temporal client, for what unwind does not wrap. */
  readonly temporal: Client;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects to the Temporal cluster unwind runs on.
 * @throws ConnectionConfigError for unusable connection settings (an unreadable TLS file, an
 *   unknown profile), EncryptionKeyError for unusable encryption keys, both before connecting;
 *   the SDK's error when the cluster cannot be reached.
 */
export async function createUnwindClient(options: UnwindClientOptions = {}): Promise<UnwindClient> {
  const env = options.env ?? process.env;
  const config = connectionConfig(options, env);
  const connectOptions = sdkConnectOptions(config);
  const dataConverter = options.dataConverter ?? unwindDataConverter(env);
  const connection = await Connection.connect(connectOptions);
  const temporal = new Client({ connection, namespace: config.namespace, ...(dataConverter && { dataConverter }) });
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const start: StartSaga = sagaStarter(temporal, taskQueue);
  const instances = once(() => (require('./instances') as typeof import('./instances')).instanceApi(start));
  const disks = once(() => (require('./disks') as typeof import('./disks')).diskApi(start));
  const sleds = once(() => (require('./sleds') as typeof import('./sleds')).sledApi(temporal, start));
  const firmware = once(() => (require('./firmware') as typeof import('./firmware')).firmwareApi(temporal, taskQueue));
  return {
    get instances() {
      return instances();
    },
    get disks() {
      return disks();
    },
    get sleds() {
      return sleds();
    },
    get firmware() {
      return firmware();
    },
    sagas: sagaApi(temporal, taskQueue),
    temporal,
    close: () => connection.close(),
  };
}

/** `make`, called on the first call only; its value after that. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
