/**
 * `npm run cluster`: unwind on a real Temporal cluster on this machine — the Temporal server on
 * a PostgreSQL of its own, the rack simulator, and several workers — all state in one folder,
 * so Ctrl-C and a new start lose nothing. See `npm run cluster -- --help`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnConsoleProcess, spawnRackProcess, spawnWorkerProcess, TEMPORAL_SERVER_VERSION, TemporalCluster, type ManagedProcess } from '../src/cluster';
import { logSize, logTail, portIsFree, waitUntil } from '../src/cluster/processes';
import { newKeyFile } from '../src/temporal/codec';
import { ServerUnavailableError } from '../src/temporal/servers';

const HELP = `npm run cluster [-- --tls]

Runs unwind on a Temporal ${TEMPORAL_SERVER_VERSION} cluster on PostgreSQL on this machine: PostgreSQL,
the Temporal server (frontend, history, matching and system worker in one process), the rack
simulator, UNWIND_WORKERS unwind workers and the operator console. The first run builds the
server with Go (minutes, once) and sets up the database; later runs start in seconds and find
every workflow where it was.
Ctrl-C stops everything, workers first.

Options:
  --tls        mutual TLS on the frontend, with a CA and certificates made in the data folder
               (also UNWIND_CLUSTER_TLS=1)
  -h, --help   this text

Environment:
  UNWIND_CLUSTER_DIR    data folder (default .unwind-cluster): PostgreSQL, config, certificates,
                        logs, the rack's state, the encryption key file
  UNWIND_TEMPORAL_PORT  the frontend's gRPC port (default 7233)
  UNWIND_PG_PORT        PostgreSQL's port on 127.0.0.1 (default 5433)
  UNWIND_RACK_PORT      the rack simulator's port (default 7280)
  UNWIND_CONSOLE_PORT   the operator console's port (default 8234; 0: no console)
  UNWIND_WORKERS        how many workers (default 2)
  UNWIND_TEMPORAL_LOG_LEVEL  the server's log level: debug, info, warn (default), error
  UNWIND_TEMPORAL_SERVER, UNWIND_TEMPORAL_SQL_TOOL  existing server and schema tool binaries
  UNWIND_PG_BIN         the folder of initdb and postgres (default: PATH, /usr/lib/postgresql/*/bin)
`;

const root = resolve(__dirname, '..');

function fail(message: string, code = 1): never {
  console.error(`unwind cluster: ${message}`);
  process.exit(code);
}

function portFrom(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${variable}=${text} is not a TCP port: set it to a number from 1 to 65535`, 2);
  return port;
}

function options() {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const unknown = args.filter((a) => a !== '--tls');
  if (unknown.length > 0) fail(`unknown argument ${unknown.join(' ')}\n\n${HELP}`, 2);
  const workersText = process.env.UNWIND_WORKERS ?? '2';
  const workers = Number(workersText);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) fail(`UNWIND_WORKERS=${workersText}: give a number of workers from 0 to 64`, 2);
  return {
    dataDir: resolve(process.env.UNWIND_CLUSTER_DIR || join(root, '.unwind-cluster')),
    tls: args.includes('--tls') || ['1', 'true'].includes(process.env.UNWIND_CLUSTER_TLS ?? ''),
    temporalPort: portFrom('UNWIND_TEMPORAL_PORT', 7233),
    postgresPort: portFrom('UNWIND_PG_PORT', 5433),
    rackPort: portFrom('UNWIND_RACK_PORT', 7280),
    // As for npm start: 0 runs the cluster without the console.
    consolePort: process.env.UNWIND_CONSOLE_PORT?.trim() === '0' ? 0 : portFrom('UNWIND_CONSOLE_PORT', 8234),
    workers,
    logLevel: process.env.UNWIND_TEMPORAL_LOG_LEVEL || 'warn',
  };
}

let cluster: TemporalCluster | undefined;
let rack: ManagedProcess | undefined;
let operatorConsole: ManagedProcess | undefined;
const workers: ManagedProcess[] = [];
let stopping = false;

/** Workers first (they finish their tasks), then the rack, then the server and PostgreSQL. */
async function stopAll(exitCode: number): Promise<never> {
  if (stopping) {
    console.error('unwind cluster: stopping already; Ctrl-C again kills everything at once.');
    process.exit(130);
  }
  stopping = true;
  if (!cluster && !rack && workers.length === 0) process.exit(exitCode);
  console.log('unwind cluster: stopping (console, workers, rack, Temporal server, PostgreSQL)…');
  await operatorConsole?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await rack?.stop();
  await cluster?.stop();
  console.log('unwind cluster: stopped; state kept.');
  process.exit(exitCode);
}

/** Any part that dies on its own stops the others: a half-running cluster misleads. */
function watch(): void {
  const timer = setInterval(() => {
    if (stopping || !cluster) return;
    const dead = [
      cluster.serverPid === undefined && `the Temporal server (see ${cluster.logs.server})`,
      cluster.postgresPid === undefined && `PostgreSQL (see ${cluster.logs.postgres})`,
      rack?.exited() && `the rack simulator (see ${join(cluster.dataDir, 'logs', 'rack.log')})`,
      operatorConsole?.exited() && `the console (see ${join(cluster.dataDir, 'logs', 'console.log')})`,
      ...workers.map((w, i) => w.exited() && `worker ${i + 1} (see ${join(cluster!.dataDir, 'logs', `worker-${i + 1}.log`)})`),
    ].filter(Boolean);
    if (dead.length > 0) {
      clearInterval(timer);
      console.error(`unwind cluster: ${dead.join(', ')} exited unexpectedly; stopping the cluster.`);
      void stopAll(1);
    }
  }, 1_000);
}

async function main(): Promise<void> {
  const opts = options();
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // The workers reach this cluster only: no profile or key of the calling shell leaks in.
  for (const name of Object.keys(process.env)) if (name.startsWith('TEMPORAL_')) delete process.env[name];

  for (const [port, variable] of [
    [opts.temporalPort, 'UNWIND_TEMPORAL_PORT'],
    [opts.postgresPort, 'UNWIND_PG_PORT'],
    [opts.rackPort, 'UNWIND_RACK_PORT'],
    ...(opts.consolePort ? ([[opts.consolePort, 'UNWIND_CONSOLE_PORT']] as const) : []),
  ] as const) {
    if (!(await portIsFree(port))) fail(`port ${port} on 127.0.0.1 is in use (is the cluster, or npm start, running already?): stop it, or set ${variable}`);
  }

  const started = Date.now();
  cluster = await TemporalCluster.start({
    dataDir: opts.dataDir,
    tls: opts.tls,
    frontendPort: opts.temporalPort,
    postgresPort: opts.postgresPort,
    logLevel: opts.logLevel,
    progress: (line) => console.log(`unwind cluster: ${line}`),
  });
  const dataDir = cluster.dataDir;
  const logs = join(dataDir, 'logs');

  const keyFile = join(dataDir, 'encryption-keys.json');
  if (!existsSync(keyFile)) {
    newKeyFile(keyFile);
    console.log(`unwind cluster: encryption key file created at ${keyFile}`);
  }

  const rackUrl = `http://127.0.0.1:${opts.rackPort}`;
  const rackLog = join(logs, 'rack.log');
  const rackFrom = logSize(rackLog);
  rack = spawnRackProcess({ port: opts.rackPort, dbPath: join(dataDir, 'rack.sqlite'), log: rackLog });
  const rackProcess = rack;
  await waitUntil(
    `The rack simulator on ${rackUrl}`,
    async () => {
      if (rackProcess.exited()) throw new Error(`it exited:\n${logTail(rackLog, 20, rackFrom)}`);
      const response = await fetch(`${rackUrl}/v1/health`);
      if (!response.ok) throw new Error(`health answered ${response.status}`);
    },
    { timeoutMs: 60_000 },
  );

  const workerEnv = { ...cluster.clientEnv(), UNWIND_RACK_URL: rackUrl, UNWIND_ENCRYPTION_KEY_FILE: keyFile };
  // Started together: each bundles the workflows first, which takes seconds.
  await Promise.all(
    Array.from({ length: opts.workers }, (_, index) => {
      const n = index + 1;
      const log = join(logs, `worker-${n}.log`);
      const from = logSize(log);
      const worker = spawnWorkerProcess({ env: workerEnv, name: `worker-${n}`, log });
      workers.push(worker);
      return waitUntil(
        `Worker ${n}`,
        async () => {
          if (worker.exited()) throw new Error(`it exited:\n${logTail(log, 20, from)}`);
          if (!/polling task queue/.test(logTail(log, 200, from))) throw new Error('not polling yet');
        },
        { timeoutMs: 120_000 },
      );
    }),
  );
  const consoleUrl = `http://127.0.0.1:${opts.consolePort}`;
  if (opts.consolePort) {
    const log = join(logs, 'console.log');
    const from = logSize(log);
    const started = spawnConsoleProcess({ port: opts.consolePort, env: { ...workerEnv, UNWIND_TEMPORAL_UI: '' }, log });
    operatorConsole = started;
    await waitUntil(
      `The console on ${consoleUrl}`,
      async () => {
        if (started.exited()) throw new Error(`it exited:\n${logTail(log, 20, from)}`);
        if (!(await fetch(`${consoleUrl}/health`)).ok) throw new Error('not answering yet');
      },
      { timeoutMs: 60_000 },
    );
  }
  watch();

  const exports = Object.entries({ ...cluster.clientEnv(), UNWIND_RACK_URL: rackUrl, UNWIND_ENCRYPTION_KEY_FILE: keyFile })
    .map(([name, value]) => `  export ${name}=${value}`)
    .join('\n');
  console.log(
    [
      `unwind cluster is up in ${((Date.now() - started) / 1000).toFixed(1)}s:`,
      `  Temporal gRPC   ${cluster.address} (namespace ${cluster.namespace})${cluster.tls ? ', mutual TLS' : ''}`,
      `  PostgreSQL      127.0.0.1:${cluster.postgresPort} (databases temporal, temporal_visibility)`,
      `  rack simulator  ${rackUrl}`,
      opts.consolePort ? `  console         ${consoleUrl}` : '  console         off',
      `  workers         ${opts.workers}`,
      `  data folder     ${dataDir}`,
      `  logs            ${logs}`,
      ...(cluster.tls ? [`  certificates    ${join(dataDir, 'tls')}`] : []),
      'For the unwind CLI and the Temporal CLI, in another shell:',
      exports,
      'Press Ctrl-C to stop (state is kept).',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(`unwind cluster: ${err instanceof ServerUnavailableError ? err.message : err instanceof Error ? err.message : String(err)}`);
  void stopAll(1);
});
