/**
 * `npm start`: the embedded unwind stack on one machine — a Temporal dev server and the rack
 * simulator, each keeping its state in a SQLite file under the data folder, the unwind worker
 * and the operator console. Ctrl-C stops them all.
 *
 * Environment: UNWIND_DATA_DIR (default .unwind), UNWIND_TEMPORAL_PORT (7233),
 * UNWIND_UI_PORT (8233; 0 runs headless), UNWIND_RACK_PORT (7280), UNWIND_CONSOLE_PORT (8234;
 * 0 runs without the console).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../src/schemas/search-attributes';
import { ensureDevServer, ServerUnavailableError } from '../src/temporal/servers';

const root = resolve(__dirname, '..');
const dataDir = resolve(process.env.UNWIND_DATA_DIR ?? join(root, '.unwind'));
const temporalPort = Number(process.env.UNWIND_TEMPORAL_PORT ?? 7233);
const uiPort = Number(process.env.UNWIND_UI_PORT ?? 8233);
const rackPort = Number(process.env.UNWIND_RACK_PORT ?? 7280);
const consolePort = Number(process.env.UNWIND_CONSOLE_PORT ?? 8234);
const address = `127.0.0.1:${temporalPort}`;
const rackUrl = `http://127.0.0.1:${rackPort}`;

interface Service {
  name: string;
  child: ChildProcess;
}
const services: Service[] = [];
let stopping = false;

function startService(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Service {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const service = { name, child };
  services.push(service);
  console.log(`unwind: started ${name} (pid ${child.pid})`);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`unwind: ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack.`);
      void stopAll(1);
    }
  });
  return service;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/** Stops services in reverse start order (the worker before the server it talks to). */
async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  for (const { name, child } of [...services].reverse()) {
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      console.error(`unwind: ${name} did not stop within 15s; killing it.`);
      child.kill('SIGKILL');
    }, 15_000);
    await exited(child);
    clearTimeout(killer);
  }
  console.log('unwind: stack stopped.');
  process.exit(exitCode);
}

async function waitForServer(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`The Temporal dev server did not answer on ${address} within ${timeoutMs / 1000}s: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Waits until `url` answers 200 (the console's /health), or fails after `timeoutMs`. */
async function waitForHttp(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`The ${name} did not answer on ${url} within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const server = await ensureDevServer();
  if (server.type !== 'existing-path') throw new ServerUnavailableError('npm start needs a local Temporal CLI binary.');
  mkdirSync(dataDir, { recursive: true });
  const dbFile = join(dataDir, 'temporal.sqlite');
  const uiArgs = uiPort ? ['--ui-port', String(uiPort)] : ['--headless'];
  startService('temporal dev server', server.path, [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(temporalPort),
    ...uiArgs,
    '--db-filename', dbFile,
    '--log-level', 'error',
    ...searchAttributeFlags(),
  ]);
  const rackDb = join(dataDir, 'rack.sqlite');
  startService('rack simulator', process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'rack', 'main.ts')], {
    UNWIND_RACK_DB: rackDb,
    UNWIND_RACK_PORT: String(rackPort),
    UNWIND_RACK_HOST: '127.0.0.1',
  });
  await waitForServer(60_000);

  startService('unwind worker', process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'worker.ts')], {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    UNWIND_RACK_URL: rackUrl,
  });

  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  if (consolePort) {
    startService('unwind console', process.execPath, ['--require', 'tsx/cjs', join(root, 'scripts', 'console.ts'), '--port', String(consolePort)], {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      UNWIND_RACK_URL: rackUrl,
      UNWIND_TEMPORAL_UI: uiPort ? `http://127.0.0.1:${uiPort}` : '',
    });
    await waitForHttp('console', `${consoleUrl}/health`, 60_000);
  }

  console.log(
    [
      'unwind stack is up:',
      `  Temporal gRPC   ${address} (namespace default)`,
      uiPort ? `  Temporal UI     http://127.0.0.1:${uiPort}` : '  Temporal UI     off',
      consolePort ? `  console         ${consoleUrl}` : '  console         off',
      `  rack simulator  ${rackUrl}`,
      `  history         ${dbFile}`,
      `  rack state      ${rackDb}`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(`unwind: ${err instanceof Error ? err.message : String(err)}`);
  void stopAll(1);
});
