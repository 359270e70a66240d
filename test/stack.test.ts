import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { freePort } from './cli-helpers';
import { LOADED_MACHINE_MS } from './helpers/eventually';

const root = join(__dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'unwind-stack-'));

interface RunningStack {
  process: ChildProcess;
  output: () => string;
  pids: number[];
}

/** Starts `scripts/start.ts` as `npm start` does, and waits until the worker polls. */
async function startStack(port: number, rackPort: number, consolePort: number): Promise<RunningStack> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'scripts', 'start.ts')], {
    cwd: root,
    env: { ...process.env, UNWIND_DATA_DIR: dataDir, UNWIND_TEMPORAL_PORT: String(port), UNWIND_UI_PORT: '0', UNWIND_RACK_PORT: String(rackPort), UNWIND_CONSOLE_PORT: String(consolePort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`the stack exited early:\n${output}`))));
  exited.catch(() => undefined); // once up, its later exit is stopStack's business
  const timeout = 2 * LOADED_MACHINE_MS;
  const up = vi.waitFor(
    () => {
      if (!/polling task queue/.test(output)) throw new Error(`the stack did not come up within ${timeout} ms:\n${output}`);
    },
    { timeout, interval: 200 },
  );
  await Promise.race([up, exited]);
  const pids = [...output.matchAll(/started .* \(pid (\d+)\)/g)].map((m) => Number(m[1]));
  return { process: child, output: () => output, pids };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopStack(stack: RunningStack): Promise<number | null> {
  stack.process.kill('SIGINT');
  return new Promise((resolve) => stack.process.once('exit', (code) => resolve(code)));
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start: the embedded stack', () => {
  it('serves workflows, stops cleanly on Ctrl-C, and keeps history across a restart', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;

    const rackPort = await freePort();
    const consolePort = await freePort();
    const first = await startStack(port, rackPort, consolePort);
    // The Temporal server, the rack, the worker and the operator console.
    expect(first.pids).toHaveLength(4);
    expect(first.output()).toContain(`console         http://127.0.0.1:${consolePort}`);
    expect((await fetch(`http://127.0.0.1:${consolePort}/health`)).status).toBe(200);
    let connection = await Connection.connect({ address });
    let client = new Client({ connection });
    const result = await client.workflow.execute('ping', { taskQueue: TASK_QUEUE, workflowId: 'stack-ping', args: ['rack'] });
    expect(result).toBe('pong: rack');
    await connection.close();

    expect(await stopStack(first)).toBe(0);
    expect(first.output()).toContain('stack stopped');
    expect(first.pids.filter(isAlive)).toEqual([]);

    const second = await startStack(port, rackPort, consolePort);
    connection = await Connection.connect({ address });
    client = new Client({ connection });
    const description = await client.workflow.getHandle('stack-ping').describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(await client.workflow.getHandle('stack-ping').result()).toBe('pong: rack');
    await connection.close();
    expect(await stopStack(second)).toBe(0);
    expect(second.pids.filter(isAlive)).toEqual([]);
  }, 6 * LOADED_MACHINE_MS); // two starts and stops of the whole stack
});
