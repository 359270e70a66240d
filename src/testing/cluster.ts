/**
 * A real Temporal cluster for tests and chaos runs: the pinned Temporal server on a PostgreSQL
 * of its own (see src/cluster), with a client on it, and processes to kill and restart —
 * the server, PostgreSQL, workers, the rack simulator. Never skips: when the server cannot be
 * built or PostgreSQL is missing, it fails and says how to get them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TemporalCluster } from '../cluster';
import type { ProgressSink } from '../temporal/servers';

export { spawnRackProcess, spawnWorkerProcess, type ManagedProcess } from '../cluster';

/** A running cluster and a client on it. */
export interface ClusterEnv {
  /** host:port of the frontend. */
  address: string;
  /** `default`. */
  namespace: string;
  dataDir: string;
  /** A client on {@link connection}, in {@link namespace}. */
  client: Client;
  /** A connection to the frontend (with the run's client certificate under TLS). */
  connection: Connection;
  /** Its PostgreSQL (databases `temporal` and `temporal_visibility`), for tests that read the rows. */
  database: { host: string; port: number; user: string; password: string };
  /** The run's certificates, when the cluster requires mutual TLS. */
  tls?: { caPath: string; certPath: string; keyPath: string; serverName: string };
  /**
   * The TEMPORAL_* environment variables (envconfig's standard names: TEMPORAL_ADDRESS,
   * TEMPORAL_NAMESPACE, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
   * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME) that reach it.
   */
  clientEnv(): Record<string, string>;
  /** SIGKILLs the Temporal server process; resolves when it has exited. */
  killServer(): Promise<void>;
  /** Starts it again on the same ports and data; resolves when the frontend answers. */
  startServer(): Promise<void>;
  /** SIGKILLs the postmaster (and its backends); resolves when it has exited. */
  killPostgres(): Promise<void>;
  /** Starts PostgreSQL again; resolves when it accepts connections. */
  startPostgres(): Promise<void>;
  /** Stops the server, then PostgreSQL; removes dataDir unless it was given by the caller. */
  stop(): Promise<void>;
}

/**
 * Starts a cluster in `dataDir` (a new temp folder unless given; an existing cluster folder is
 * resumed with every workflow it holds), with mutual TLS when `tls` is true.
 */
export async function createClusterEnv(options: { dataDir?: string; tls?: boolean; progress?: ProgressSink } = {}): Promise<ClusterEnv> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'unwind-cluster-'));
  let cluster: TemporalCluster;
  try {
    cluster = await TemporalCluster.start({ dataDir, tls: options.tls, progress: options.progress });
  } catch (err) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let connection: Connection;
  try {
    connection = await Connection.connect(cluster.connectionOptions());
  } catch (err) {
    await cluster.stop();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const certs = cluster.tls;
  let stopped = false;
  return {
    address: cluster.address,
    namespace: cluster.namespace,
    dataDir: cluster.dataDir,
    connection,
    client: new Client({ connection, namespace: cluster.namespace }),
    database: cluster.database,
    tls: certs && { caPath: certs.caPath, certPath: certs.clientCertPath, keyPath: certs.clientKeyPath, serverName: certs.serverName },
    clientEnv: () => cluster.clientEnv(),
    killServer: () => cluster.killServer(),
    startServer: () => cluster.startServer(),
    killPostgres: () => cluster.killPostgres(),
    startPostgres: () => cluster.startPostgres(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await connection.close().catch(() => undefined);
      await cluster.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
