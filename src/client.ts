/**
 * The typed client the control plane uses to start sagas and act on them.
 */
import { Client, Connection } from '@temporalio/client';
import { connectionConfig, sdkTlsOptions, type ConnectionConfig } from './temporal/connection';

/** Options of {@link createUnwindClient}; anything unset comes from the environment. */
export type UnwindClientOptions = Partial<ConnectionConfig>;

/** A connected unwind client. Call `close()` when done. */
export interface UnwindClient {
  /** The underlying Temporal client, for what unwind does not wrap. */
  readonly temporal: Client;
  close(): Promise<void>;
}

/**
 * Connects to the Temporal cluster unwind runs on.
 * @throws when the cluster cannot be reached or TLS files cannot be read.
 */
export async function createUnwindClient(options: UnwindClientOptions = {}): Promise<UnwindClient> {
  const config = connectionConfig(options);
  const connection = await Connection.connect({ address: config.address, tls: sdkTlsOptions(config.tls) });
  const temporal = new Client({ connection, namespace: config.namespace });
  return { temporal, close: () => connection.close() };
}
