/**
 * The processes a cluster is made of: each started in a process group of its own, its output
 * appended to a log file, and watched by a guard that SIGKILLs every group still registered
 * when this Node process dies — however it dies — so a failed test or a killed script leaves
 * no PostgreSQL or Temporal server behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

/**
 * A small Node program that reads `add <pgid>` / `del <pgid>` lines on stdin and, when stdin
 * closes (this process exited or was killed), SIGKILLs every group still added. Not a child of
 * the groups it kills, and in a group of its own, so a Ctrl-C at the terminal reaches neither
 * it nor them.
 */
const GUARD_SCRIPT = `
const groups = new Set();
let rest = '';
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const [verb, id] = line.split(' ');
    if (verb === 'add') groups.add(Number(id));
    if (verb === 'del') groups.delete(Number(id));
  }
});
process.stdin.on('end', () => {
  for (const group of groups) {
    try { process.kill(-group, 'SIGKILL'); } catch {}
  }
});
`;

let guard: ChildProcess | undefined;

function guardian(): ChildProcess {
  if (guard && guard.exitCode === null && guard.signalCode === null) return guard;
  guard = spawn(process.execPath, ['-e', GUARD_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  guard.unref();
  (guard.stdin as unknown as { unref?: () => void }).unref?.();
  guard.stdin!.on('error', () => undefined);
  return guard;
}

function guardWrite(line: string): void {
  guardian().stdin!.write(`${line}\n`);
}

/** A started process: its exit as a promise, its pid, and a way to end its whole group. */
export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** Sends `signal` to the process group (the process and every child it started). */
  signalGroup(signal: NodeJS.Signals): void;
}

/**
 * Starts `command` in a process group of its own, output appended to `log` (this process's
 * own stdout and stderr without one), registered with the guard until it exits.
 */
export function spawnGuarded(
  command: string,
  args: string[],
  options: { log?: string; cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): Spawned {
  let fd: number | undefined;
  if (options.log) {
    mkdirSync(dirname(options.log), { recursive: true });
    fd = openSync(options.log, 'a');
  }
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: fd === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', fd, fd],
    uid: options.uid,
    gid: options.gid,
  };
  let child: ChildProcess;
  try {
    child = spawn(command, args, spawnOptions);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const failedToStart = new Promise<never>((_, reject) => child.once('error', reject));
  failedToStart.catch(() => undefined);
  if (child.pid === undefined) {
    throw new Error(`Could not start ${command}${options.log ? `: see ${options.log}` : ''}`);
  }
  const pid = child.pid;
  guardWrite(`add ${pid}`);
  let done = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      guardWrite(`del ${pid}`);
      resolve({ code, signal });
    });
  });
  return {
    child,
    pid,
    exit,
    hasExited: () => done,
    signalGroup(signal) {
      if (done) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/** Signals the group, and SIGKILLs it when it has not exited within `graceMs`. */
export async function stopGroup(process: Spawned, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (process.hasExited()) return;
  process.signalGroup(signal);
  const timer = setTimeout(() => process.signalGroup('SIGKILL'), graceMs);
  await process.exit;
  clearTimeout(timer);
  // Children that outlived their parent (PostgreSQL backends) go with the group.
  process.signalGroup('SIGKILL');
}

/** The pids whose parent is `pid` (Linux: from /proc; elsewhere none). */
export function childrenOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return children;
}

/** SIGKILLs `pids` and resolves when none of them is alive any more. */
export async function killAndReap(pids: number[]): Promise<void> {
  // A zombie is as good as gone: it holds no memory, and its reaper may be slow.
  const alive = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Runs a command to completion; rejects with its exit code and the tail of its output. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (options.onLine) for (const line of text.split('\n').filter((l) => l.trim())) options.onLine(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else {
        const tail = output.trim().split('\n').slice(-20).join('\n');
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail}`));
      }
    });
  });
}

/** A TCP port nothing listens on right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A free port below the kernel's ephemeral range (32768 and up on Linux), so no outgoing
 * connection takes it while its server restarts — and a port Temporal can store: it keeps
 * membership ports in a smallint column.
 */
export async function pickPort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!exclude.has(port) && (await portIsFree(port))) return port;
  }
  throw new Error('No free port between 20000 and 32000 on 127.0.0.1.');
}

/** Whether `port` on 127.0.0.1 can be listened on. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer().listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    server.on('error', () => resolve(false));
  });
}

/** The log's last `lines` lines, for error messages. */
export function logTail(path: string, lines = 30, from = 0): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const text = readFileSync(path).subarray(from).toString();
  // Stack traces make a line of a JSON log kilobytes long: the start says what happened.
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
    .join('\n');
}

/** The log's size now: what a later {@link logTail} of only the new output starts from. */
export function logSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Runs `probe` until it resolves, failing early when `process` exits, or at `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  options: { timeoutMs: number; process?: Spawned; log?: string; logFrom?: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      const where = options.log ? `\nLast lines of ${options.log}:\n${logTail(options.log, 30, options.logFrom)}` : '';
      if (options.process?.hasExited()) {
        throw new Error(`${what}: the process exited before it was ready.${where}`, { cause: err });
      }
      if (Date.now() > deadline) {
        throw new Error(`${what}: not ready within ${options.timeoutMs / 1000}s (${(err as Error).message}).${where}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  }
}
