// `npm run cluster` as a person runs it: it comes up with mutual TLS and prints the lines to
// export; the unwind CLI, given exactly those, runs a saga on it; Ctrl-C stops everything, and
// a second start on the same folder finds the saga and the rack as they were.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pickPort } from '../src/cluster/processes';

const root = resolve(__dirname, '..');

interface Running {
  child: ChildProcess;
  output: () => string;
}

/** Starts the cluster script; resolves once it says it is up, with the variables it printed. */
async function startCluster(env: NodeJS.ProcessEnv): Promise<Running & { exports: Record<string, string> }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'scripts', 'cluster.ts'), '--tls'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await new Promise<void>((done, fail) => {
    const timer = setInterval(() => {
      if (text.includes('Press Ctrl-C')) {
        clearInterval(timer);
        done();
      }
    }, 200);
    child.once('exit', (code) => {
      clearInterval(timer);
      fail(new Error(`npm run cluster exited ${code} before it was up:\n${text}`));
    });
  });
  const exports = Object.fromEntries([...text.matchAll(/^ {2}export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { child, output: () => text, exports };
}

async function interrupt(running: Running): Promise<number | null> {
  const exited = new Promise<number | null>((done) => running.child.once('exit', (code) => done(code)));
  running.child.kill('SIGINT');
  return exited;
}

describe('npm run cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'unwind-cluster-script-'));
  let current: Running | undefined;

  afterAll(async () => {
    if (current && current.child.exitCode === null) await interrupt(current);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the CLI through the variables it prints, and keeps everything across Ctrl-C and a restart', async () => {
    const env = {
      ...process.env,
      UNWIND_CLUSTER_DIR: dataDir,
      UNWIND_TEMPORAL_PORT: String(await pickPort()),
      UNWIND_PG_PORT: String(await pickPort()),
      UNWIND_RACK_PORT: String(await pickPort()),
      UNWIND_CONSOLE_PORT: String(await pickPort()),
      UNWIND_WORKERS: '1',
    };
    const first = await startCluster(env);
    current = first;
    expect(first.exports).toMatchObject({ TEMPORAL_TLS_CLIENT_CERT_PATH: expect.any(String), UNWIND_ENCRYPTION_KEY_FILE: join(dataDir, 'encryption-keys.json') });
    // Only what the script printed: no inherited TEMPORAL_* settings.
    const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...first.exports };
    const unwind = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'unwind.js'), ...args], { cwd: root, env: cliEnv, encoding: 'utf8', timeout: 120_000 });

    const created = unwind('instance', 'create', '--name', 'web-1', '--cpus', '1', '--memory', '1', '--disk', '10', '--request-id', 'script-1', '--wait');
    expect(created.status, created.stderr + created.stdout).toBe(0);
    // The console it printed shows the saga, decrypted through the cluster's key file.
    const consoleUrl = `http://127.0.0.1:${env.UNWIND_CONSOLE_PORT}`;
    expect(first.output()).toContain(`console         ${consoleUrl}`);
    const page = await fetch(`${consoleUrl}/saga?id=${encodeURIComponent('instance-create/web-1/script-1')}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('web-1');
    expect(await interrupt(first)).toBe(0);
    expect(first.output()).toMatch(/stopped; state kept/);

    const second = await startCluster(env);
    current = second;
    const listed = unwind('list', '--json');
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ workflowId: 'instance-create/web-1/script-1', state: 'completed' })]);
    const inventory = unwind('rack', 'inventory', '--json');
    expect(JSON.parse(inventory.stdout).instances).toEqual([expect.objectContaining({ name: 'web-1', state: 'running' })]);
    expect(await interrupt(second)).toBe(0);
  }, 300_000);
});
