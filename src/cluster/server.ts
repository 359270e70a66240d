/**
 * The Temporal server process of a cluster, and the checks that it serves: the frontend
 * answers, the namespace exists, unwind's search attributes are registered.
 */
import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import ms from 'ms';
import { searchAttributeRegistration, unwindSearchAttributes } from '../schemas/search-attributes';
import type { ClusterCertificates } from './certs';
import { logSize, spawnGuarded, stopGroup, waitUntil, type Spawned } from './processes';

/** How a client reaches the frontend: `Connection.connect` options. */
export function connectionOptions(address: string, tls: ClusterCertificates | undefined): ConnectionOptions {
  return {
    address,
    connectTimeout: 2_000,
    tls: tls
      ? {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: readFileSync(tls.caPath),
          clientCertPair: { crt: readFileSync(tls.clientCertPath), key: readFileSync(tls.clientKeyPath) },
        }
      : undefined,
  };
}

/** `temporal-server start` with the configuration in `<root>/config/<env>.yaml`. */
export class TemporalServerProcess {
  private process: Spawned | undefined;

  constructor(
    private readonly binary: string,
    private readonly root: string,
    private readonly env: string,
    readonly log: string,
  ) {}

  get pid(): number | undefined {
    return this.process && !this.process.hasExited() ? this.process.pid : undefined;
  }

  /** Starts the server; resolves when its frontend answers `connection`'s options. */
  async start(connect: ConnectionOptions): Promise<void> {
    if (this.pid !== undefined) return;
    const from = logSize(this.log);
    const server = spawnGuarded(this.binary, ['--root', this.root, '--config', 'config', '--env', this.env, '--allow-no-auth', 'start'], {
      log: this.log,
      cwd: this.root,
    });
    this.process = server;
    await waitUntil(
      `The Temporal server's frontend on ${connect.address}`,
      () => withConnection(connect, (c) => c.workflowService.getSystemInfo({})),
      { timeoutMs: 120_000, process: server, log: this.log, logFrom: from, intervalMs: 250 },
    );
  }

  /** SIGKILL; resolves when it has exited. */
  async kill(): Promise<void> {
    if (this.process) await stopGroup(this.process, 'SIGKILL', 0);
  }

  /** SIGTERM (a graceful stop that hands shards back); SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (this.process) await stopGroup(this.process, 'SIGTERM', 20_000);
  }
}

/** Opens a connection, runs `work` on it, closes it. */
export async function withConnection<T>(options: ConnectionOptions, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect(options);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

const ALREADY_EXISTS = 6;

type RetentionPeriod = Parameters<Connection['workflowService']['registerNamespace']>[0]['workflowExecutionRetentionPeriod'];

/**
 * `days` as the protobuf Duration a namespace's retention is. Its type names only the `Long`
 * class for the seconds, but protobufjs encodes an int64 given as a number just the same, which
 * spares a dependency on `long` (or on the SDK's internal time helpers) for one field.
 */
function retentionPeriod(days: number): RetentionPeriod {
  return { seconds: Math.round(ms(`${days}d`) / 1_000), nanos: 0 } as unknown as RetentionPeriod;
}

/**
 * Registers `namespace` (when missing) and unwind's search attributes (those missing), and
 * waits until workflows can be listed in it. Safe to repeat.
 */
export async function ensureNamespace(options: ConnectionOptions, namespace: string, retentionDays: number): Promise<void> {
  await withConnection(options, async (connection) => {
    const service = connection.workflowService;
    try {
      await service.describeNamespace({ namespace });
    } catch {
      try {
        await service.registerNamespace({
          namespace,
          description: 'unwind sagas',
          workflowExecutionRetentionPeriod: retentionPeriod(retentionDays),
        });
      } catch (err) {
        if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
      }
    }
    const listed = await waitUntil(
      `Namespace ${namespace}`,
      () => connection.operatorService.listSearchAttributes({ namespace }),
      { timeoutMs: 30_000 },
    );
    const missing = unwindSearchAttributes.filter((key) => !(key.name in (listed.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: searchAttributeRegistration(missing),
      });
    }
    // The frontend learns of a new namespace from its cache, refreshed every few seconds.
    await waitUntil(`Listing workflows in ${namespace}`, () => service.countWorkflowExecutions({ namespace, query: 'UnwindState IS NOT NULL' }), {
      timeoutMs: 30_000,
    });
  });
}
