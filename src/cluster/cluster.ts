/**
 * A Temporal cluster on PostgreSQL on this machine, everything in one data folder:
 *
 *   <dataDir>/cluster.json     ports, the database password, which schemas are set up
 *   <dataDir>/postgres/        PostgreSQL's data (history and visibility)
 *   <dataDir>/config/          the server's configuration and dynamic configuration
 *   <dataDir>/tls/             CA, server and client certificates (with TLS)
 *   <dataDir>/logs/            postgres.log, temporal-server.log, schema.log
 *
 * Starting again on the same folder reuses all of it: PostgreSQL is initialised once, schemas
 * are set up once and migrated on every start, ports stay the same while they are free.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConnectionOptions } from '@temporalio/client';
import type { ProgressSink } from '../temporal/servers';
import { ensureClusterBinaries, findPostgresSchema, TEMPORAL_SERVER_VERSION, type ClusterBinaries } from './binaries';
import { ensureCertificates, type ClusterCertificates } from './certs';
import { findPostgres, letPostgresThrough, Postgres } from './postgres';
import { pickPort, portIsFree, runCommand } from './processes';
import { connectionOptions, ensureNamespace, TemporalServerProcess } from './server';
import { DYNAMIC_CONFIG, serverConfigYaml, type ServerPorts } from './server-config';

/** How to start a cluster. */
export interface ClusterOptions {
  dataDir: string;
  /** Mutual TLS on the frontend, with certificates made in the data folder. */
  tls?: boolean;
  /** The frontend's port; default: the one it had, else a free one. */
  frontendPort?: number;
  /** PostgreSQL's port; default: the one it had, else a free one. */
  postgresPort?: number;
  /** The server's log level (debug, info, warn, error); default warn. */
  logLevel?: string;
  progress?: ProgressSink;
}

/** What is remembered in `cluster.json` between starts. */
interface ClusterState {
  serverVersion: string;
  postgresPassword: string;
  postgresPort: number;
  ports: ServerPorts;
  schemaSetUp: string[];
}

const NAMESPACE = 'default';
const RETENTION_DAYS = 3;
const SERVER_ENV = 'unwind';
const DATABASES = [
  { name: 'temporal', schema: 'temporal' as const },
  { name: 'temporal_visibility', schema: 'visibility' as const },
];

/** A running cluster: its address, its TLS material, and its two processes to kill and start. */
export class TemporalCluster {
  readonly namespace = NAMESPACE;
  readonly address: string;

  private constructor(
    readonly dataDir: string,
    readonly tls: ClusterCertificates | undefined,
    private readonly state: ClusterState,
    private readonly postgres: Postgres,
    private readonly server: TemporalServerProcess,
  ) {
    this.address = `127.0.0.1:${state.ports.frontend}`;
  }

  /** Where the processes write. */
  get logs(): { server: string; postgres: string; schema: string } {
    return { server: this.server.log, postgres: join(this.dataDir, 'logs', 'postgres.log'), schema: join(this.dataDir, 'logs', 'schema.log') };
  }

  get postgresPort(): number {
    return this.state.postgresPort;
  }

  /** How to reach its PostgreSQL (databases `temporal` and `temporal_visibility`), for inspection. */
  get database(): { host: string; port: number; user: string; password: string } {
    return { host: '127.0.0.1', port: this.state.postgresPort, user: 'temporal', password: this.state.postgresPassword };
  }

  get serverPid(): number | undefined {
    return this.server.pid;
  }

  get postgresPid(): number | undefined {
    return this.postgres.pid;
  }

  /** `Connection.connect` options that reach the frontend (with the client certificate under TLS). */
  connectionOptions(): ConnectionOptions {
    return connectionOptions(this.address, this.tls);
  }

  /** The Temporal CLI's and envconfig's variables that reach this cluster. */
  clientEnv(): Record<string, string> {
    const env: Record<string, string> = { TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: this.namespace };
    if (this.tls) {
      Object.assign(env, {
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CLIENT_CERT_PATH: this.tls.clientCertPath,
        TEMPORAL_TLS_CLIENT_KEY_PATH: this.tls.clientKeyPath,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: this.tls.caPath,
        TEMPORAL_TLS_SERVER_NAME: this.tls.serverName,
      });
    }
    return env;
  }

  /**
   * Starts (or resumes) the cluster in `options.dataDir`: binaries, PostgreSQL, schemas, server,
   * namespace and search attributes. On failure, whatever it started is stopped again.
   */
  static async start(options: ClusterOptions): Promise<TemporalCluster> {
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const dataDir = resolve(options.dataDir);
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    letPostgresThrough(dataDir);
    findPostgres(); // Before a build of minutes: a missing PostgreSQL is told at once.
    const binaries = await ensureClusterBinaries({ progress });
    const schema = await findPostgresSchema();
    const state = await loadState(dataDir, options);
    const tls = options.tls ? await ensureCertificates(join(dataDir, 'tls')) : undefined;
    writeServerConfig(dataDir, state, tls, options.logLevel ?? 'warn');

    const postgres = new Postgres(join(dataDir, 'postgres'), state.postgresPort, state.postgresPassword, join(dataDir, 'logs', 'postgres.log'));
    const server = new TemporalServerProcess(binaries.server, dataDir, SERVER_ENV, join(dataDir, 'logs', 'temporal-server.log'));
    const cluster = new TemporalCluster(dataDir, tls, state, postgres, server);
    try {
      if (await postgres.initialise()) progress(`PostgreSQL initialised in ${postgres.dataDir}`);
      await postgres.start();
      progress(`PostgreSQL listening on 127.0.0.1:${state.postgresPort}`);
      await setUpSchemas(binaries, schema, state, dataDir, progress);
      await cluster.startServer();
      progress(`Temporal server ${TEMPORAL_SERVER_VERSION} serving on ${cluster.address}${tls ? ' (mutual TLS)' : ''}, namespace ${NAMESPACE}`);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Starts the server again on the same ports and data; resolves when the namespace serves. */
  async startServer(): Promise<void> {
    await this.server.start(this.connectionOptions());
    await ensureNamespace(this.connectionOptions(), NAMESPACE, RETENTION_DAYS);
  }

  /** SIGKILLs the server; resolves when it has exited. */
  killServer(): Promise<void> {
    return this.server.kill();
  }

  /** Stops the server gracefully. */
  stopServer(): Promise<void> {
    return this.server.stop();
  }

  /** Starts PostgreSQL again; resolves when it accepts connections. */
  startPostgres(): Promise<void> {
    return this.postgres.start();
  }

  /** SIGKILLs the postmaster and its backends; resolves when they have exited. */
  killPostgres(): Promise<void> {
    return this.postgres.kill();
  }

  /** Stops the server, then PostgreSQL, both gracefully. Safe to repeat. */
  async stop(): Promise<void> {
    await this.server.stop();
    await this.postgres.stop();
  }
}

async function loadState(dataDir: string, options: ClusterOptions): Promise<ClusterState> {
  const file = join(dataDir, 'cluster.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterState) : undefined;
  const taken = new Set<number>();
  // A port it had is kept while it is free (a restart finds everything where it was).
  const pick = async (wanted: number | undefined, had: number | undefined, what: string): Promise<number> => {
    if (wanted !== undefined) {
      if (!(await portIsFree(wanted))) throw new Error(`Port ${wanted} (${what}) on 127.0.0.1 is in use: stop what listens there or choose another port.`);
      taken.add(wanted);
      return wanted;
    }
    if (had !== undefined && !taken.has(had) && (await portIsFree(had))) {
      taken.add(had);
      return had;
    }
    const port = await pickPort(taken);
    taken.add(port);
    return port;
  };
  const had = previous?.ports;
  const state: ClusterState = {
    serverVersion: TEMPORAL_SERVER_VERSION,
    postgresPassword: previous?.postgresPassword ?? randomBytes(18).toString('base64url'),
    postgresPort: await pick(options.postgresPort, previous?.postgresPort, 'PostgreSQL'),
    ports: {
      frontend: await pick(options.frontendPort, had?.frontend, 'Temporal frontend'),
      frontendMembership: await pick(undefined, had?.frontendMembership, 'membership'),
      history: await pick(undefined, had?.history, 'history'),
      historyMembership: await pick(undefined, had?.historyMembership, 'membership'),
      matching: await pick(undefined, had?.matching, 'matching'),
      matchingMembership: await pick(undefined, had?.matchingMembership, 'membership'),
      worker: await pick(undefined, had?.worker, 'worker'),
      workerMembership: await pick(undefined, had?.workerMembership, 'membership'),
    },
    schemaSetUp: previous?.schemaSetUp ?? [],
  };
  saveState(dataDir, state);
  return state;
}

function saveState(dataDir: string, state: ClusterState): void {
  writeFileSync(join(dataDir, 'cluster.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function writeServerConfig(dataDir: string, state: ClusterState, tls: ClusterCertificates | undefined, logLevel: string): void {
  const configDir = join(dataDir, 'config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigPath = join(configDir, 'dynamicconfig.yaml');
  if (!existsSync(dynamicConfigPath)) writeFileSync(dynamicConfigPath, DYNAMIC_CONFIG);
  const yaml = serverConfigYaml({
    ports: state.ports,
    postgres: { port: state.postgresPort, password: state.postgresPassword },
    numHistoryShards: 4,
    dynamicConfigPath,
    logLevel,
    tls,
  });
  writeFileSync(join(configDir, `${SERVER_ENV}.yaml`), yaml, { mode: 0o600 });
}

/**
 * Creates and sets up each database once (`setup-schema -v 0.0`, remembered in cluster.json),
 * then migrates it to the newest version the server's source holds (`update-schema`, a no-op
 * when it is there already).
 */
async function setUpSchemas(
  binaries: ClusterBinaries,
  schema: { temporal: string; visibility: string },
  state: ClusterState,
  dataDir: string,
  progress: ProgressSink,
): Promise<void> {
  const log = join(dataDir, 'logs', 'schema.log');
  for (const database of DATABASES) {
    const tool = (...args: string[]) => {
      appendFileSync(log, `$ temporal-sql-tool --db ${database.name} ${args.join(' ')}\n`);
      return runCommand(
        binaries.sqlTool,
        ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(state.postgresPort), '-u', 'temporal', '--db', database.name, ...args],
        {
          env: { ...process.env, SQL_PASSWORD: state.postgresPassword },
          // eslint-disable-next-line no-control-regex
          onLine: (line) => appendFileSync(log, `${line.replace(/\x1b\[[0-9;]*m/g, '')}\n`),
        },
      );
    };
    if (!state.schemaSetUp.includes(database.name)) {
      progress(`Creating the ${database.name} database…`);
      // Both steps are safe on a database an interrupted setup left: an existing database is
      // kept, and setup-schema -v 0.0 only adds the version tables when they are missing.
      await tool('create-database').catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
      await tool('setup-schema', '-v', '0.0');
      state.schemaSetUp.push(database.name);
      saveState(dataDir, state);
    }
    await tool('update-schema', '-d', schema[database.schema]);
  }
  progress('Schemas of temporal and temporal_visibility up to date');
}
