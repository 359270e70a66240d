/**
 * The built CLI as a user runs it: `npm run build` in a copy of the checkout (see
 * helpers/built-cli.ts), then `bin/unwind.js` of that copy as a child process.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIndex } from '../src/cli/program-base';
import { createDevServerEnv, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { type BuiltCli, buildCliCopy } from './helpers/built-cli';

const repo = join(__dirname, '..');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const execFileAsync = promisify(execFile);

let built: BuiltCli;
let root: string;
let env: TestWorkflowEnvironment;
let bed: RackSagaBed;

/** Runs `node <copy>/bin/unwind.js args…`; rejects, with its output, when it exits non-zero. */
function unwind(args: readonly string[], extraEnv: Record<string, string> = {}) {
  return execFileAsync(process.execPath, [built.bin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', UNWIND_DEBUG: undefined, UNWIND_CLI_FROM_SOURCE: undefined, ...extraEnv },
  });
}

/** What the copy's build recorded. */
const cliIndex = () => JSON.parse(readFileSync(join(root, 'dist', 'src', 'cli', 'cli-index.json'), 'utf8')) as CliIndex;

beforeAll(async () => {
  const server = createDevServerEnv().then(async (e) => {
    env = e;
    bed = await startRackSagaBed(env, { taskQueue: 'cli-build' });
  });
  [built] = await Promise.all([buildCliCopy(), server]);
  root = built.root;
}, 600_000);

afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
  built?.remove();
});

describe('the built CLI', () => {
  it('runs the build, and its --help lists every command, as the sources do', async () => {
    const built = await unwind(['--help'], { UNWIND_DEBUG: '1' });
    expect(built.stderr).toContain('unwind: running the build (dist/src/cli/main.js)');
    const names = cliIndex().commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['list', 'show', 'retry', 'approve', 'errors', 'instance', 'disk', 'sled', 'firmware', 'rack']));
    for (const name of names) expect(built.stdout).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'));
    // The index lists what registering every group lists, word for word.
    const fromSources = await unwind(['--help'], { UNWIND_CLI_FROM_SOURCE: '1' });
    expect(built.stdout).toBe(fromSources.stdout);
  });

  it("prints package.json's version, from the checkout and from the Docker image's layout", async () => {
    expect((await unwind(['--version'])).stdout).toBe(`${version}\n`);
    expect((await unwind(['-V'])).stdout).toBe(`${version}\n`);
    // The image: /app/package.json, /app/node_modules, /app/dist (no bin/, no src/), compiled by
    // tsc alone, so without the index: the compiled program registers every group.
    const app = join(root, 'image-app');
    mkdirSync(app);
    copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
    cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
    rmSync(join(app, 'dist', 'src', 'cli', 'cli-index.json'));
    symlinkSync(join(repo, 'node_modules'), join(app, 'node_modules'), 'dir');
    const inImage = (...args: string[]) => execFileAsync(process.execPath, ['dist/src/cli/main.js', ...args], { cwd: app, env: { ...process.env, NO_COLOR: '1' } });
    expect((await inImage('--version')).stdout).toBe(`${version}\n`);
    expect((await inImage('--help')).stdout).toBe((await unwind(['--help'])).stdout);
  });

  it('starts a saga and lists it against a dev server', { timeout: 300_000 }, async () => {
    const connection = ['--address', env.address, '--rack-url', bed.testRack.server.url];
    const started = await unwind([...connection, 'disk', 'create', '--name', 'built-1', '--size', '1', '--request-id', 'built', '--wait'], {
      UNWIND_TASK_QUEUE: bed.taskQueue,
    });
    expect(started.stdout).toMatch(/^disk-create\/built-1\/built completed\n/);
    // Visibility catches up with the saga's end eventually.
    await expect
      .poll(async () => JSON.parse((await unwind([...connection, 'list', '--json'])).stdout) as { workflowId: string; state: string }[], { timeout: 60_000, interval: 500 })
      .toEqual(expect.arrayContaining([expect.objectContaining({ workflowId: 'disk-create/built-1/built', state: 'completed' })]));
  });

  it("lists without loading Temporal's client, zod or workflow code", async () => {
    // Every module the process loaded, written as it exits.
    const loaded = join(root, 'loaded-modules.json');
    const hook = join(root, 'record-modules.js');
    writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`);
    await unwind(['--address', env.address, 'list'], { NODE_OPTIONS: `--require ${hook}` });
    const modules = JSON.parse(readFileSync(loaded, 'utf8')) as string[];
    expect(modules.some((m) => m.endsWith(join('dist', 'src', 'client', 'visibility-wire.js'))), 'visibility was read').toBe(true);
    const unwanted = [join('dist', 'src', 'workflows'), join('@temporalio', 'workflow'), join('@temporalio', 'client'), join('@temporalio', 'proto'), join('node_modules', 'zod')];
    expect(modules.filter((m) => unwanted.some((u) => m.includes(u)))).toEqual([]);
  });

  it('runs the sources once a source it loads changed since the build, and only then', async () => {
    const { sources } = cliIndex();
    const elsewhere = ['src/worker.ts', 'src/rack/server.ts'].find((file) => existsSync(join(root, file)) && !sources.includes(file));
    expect(elsewhere, 'a source the CLI does not load').toBeDefined();
    const touch = (file: string) => utimesSync(join(root, file), new Date(), new Date()); // a new ctime, as an edit makes
    touch(elsewhere!);
    expect((await unwind(['-V'], { UNWIND_DEBUG: '1' })).stderr).toContain('running the build');

    touch('src/cli/sagas.ts');
    const stale = await unwind(['-V'], { UNWIND_DEBUG: '1' });
    expect(stale.stderr).toContain('src/cli/sagas.ts changed since the last build: running the sources through tsx');
    expect(stale.stdout).toBe(`${version}\n`);
  });
});
