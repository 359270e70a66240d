/**
 * unwind's own processes next to a cluster — workers, the rack simulator and the operator
 * console — run from source
 * through tsx as `npm start` runs them, each killable and restartable, none outliving the
 * process that started them.
 */
import { join, resolve } from 'node:path';
import { spawnGuarded, stopGroup, type Spawned } from './processes';

const root = resolve(__dirname, '..', '..');

/** A process that can be killed (SIGKILL unless told), restarted and stopped. */
export interface ManagedProcess {
  /** The pid of the current run; `undefined` once it has exited. */
  readonly pid: number | undefined;
  /** Sends `signal` (default SIGKILL); resolves when it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kills the current run if it still runs, and starts a new one. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 15 s; resolves when it has exited. */
  stop(): Promise<void>;
  exited(): boolean;
}

/** A {@link ManagedProcess} of `command args`, its output appended to `log` (or inherited). */
export function manageProcess(command: string, args: string[], options: { env: NodeJS.ProcessEnv; log?: string; cwd?: string }): ManagedProcess {
  const start = (): Spawned => spawnGuarded(command, args, { env: options.env, log: options.log, cwd: options.cwd ?? root });
  let current = start();
  return {
    get pid() {
      return current.hasExited() ? undefined : current.pid;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      current.signalGroup(signal);
      await current.exit;
    },
    async restart() {
      await stopGroup(current, 'SIGKILL', 0);
      current = start();
    },
    stop: () => stopGroup(current, 'SIGTERM', 15_000),
    exited: () => current.hasExited(),
  };
}

/** `node --require tsx/cjs <root>/<entry>`: unwind's TypeScript, run from source. */
function tsxArgs(entry: string): string[] {
  return ['--require', 'tsx/cjs', join(root, entry)];
}

/**
 * An unwind worker (`src/worker.ts`) with `env` on top of this process's environment; `name`
 * is appended to its command line, for `ps` (the worker ignores it).
 */
export function spawnWorkerProcess(options: { env: Record<string, string>; name?: string; log?: string }): ManagedProcess {
  return manageProcess(process.execPath, [...tsxArgs(join('src', 'worker.ts')), ...(options.name ? [options.name] : [])], {
    env: { ...process.env, ...options.env },
    log: options.log,
  });
}

/** The rack simulator (`src/rack/main.ts`) on 127.0.0.1:`port`, its state in `dbPath`. */
export function spawnRackProcess(options: { port: number; dbPath: string; log?: string }): ManagedProcess {
  return manageProcess(process.execPath, tsxArgs(join('src', 'rack', 'main.ts')), {
    env: { ...process.env, UNWIND_RACK_DB: options.dbPath, UNWIND_RACK_PORT: String(options.port), UNWIND_RACK_HOST: '127.0.0.1' },
    log: options.log,
  });
}

/** The operator console (`scripts/console.ts`) on 127.0.0.1:`port`, reaching the cluster through `env`. */
export function spawnConsoleProcess(options: { port: number; env: Record<string, string>; log?: string }): ManagedProcess {
  return manageProcess(process.execPath, [...tsxArgs(join('scripts', 'console.ts')), '--port', String(options.port)], {
    env: { ...process.env, ...options.env },
    log: options.log,
  });
}
