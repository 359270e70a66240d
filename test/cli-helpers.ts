/**
 * Runs the `unwind` CLI as a real process, the way operators and scripts do.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';

/** What a CLI run left behind. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const root = join(__dirname, '..');

/** Runs `bin/unwind.js <args>` with `env` added to a colour-free environment. */
export function runUnwind(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'unwind.js'), ...args], {
      cwd: root,
      // A worker on a loaded machine may take longer than the 5 s an operator waits for a status.
      env: { ...process.env, UNWIND_DEBUG: undefined, NO_COLOR: '1', UNWIND_STATUS_TIMEOUT: '60s', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A loopback port nothing listens on (taken, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Asserts a CLI run's exit code, showing its output when it differs. */
export function expectExit(run: CliRun, code: number): CliRun {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
  return run;
}

/** The CLI's tests wait on what a saga or visibility reaches eventually, as every test does. */
export { eventually } from './helpers/eventually';
