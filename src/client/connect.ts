/**
 * The client's factory, {@link createUnwindClient}: connects, and builds the saga API and each
 * saga family's API over the connection. What the CLI loads to connect: no workflow code (the
 * messages the client sends are defined in src/schemas/messages.ts), nor the public exports.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { unwindDataConverter } from '../temporal/codec';
import { type ConnectionOverrides, connectionConfig, sdkConnectOptions } from '../temporal/connection';
import { TASK_QUEUE } from '../temporal/worker-config';
import { type DiskApi, diskApi } from './disks';
import { type FirmwareApi, firmwareApi } from './firmware';
import { type InstanceApi, instanceApi } from './instances';
import { sagaStarter } from './request-identity';
import { type SagaApi, sagaApi } from './sagas';
import { type SledApi, sledApi } from './sleds';

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
  const start = sagaStarter(temporal, taskQueue);
  return {
    instances: instanceApi(start),
    disks: diskApi(start),
    sleds: sledApi(temporal, start),
    firmware: firmwareApi(temporal, taskQueue),
    sagas: sagaApi(temporal, taskQueue),
    temporal,
    close: () => connection.close(),
  };
}
