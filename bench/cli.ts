/**
 * `npm run bench -- cli` (or `npx tsx bench/cli.ts [--runs N] [--json FILE] [--no-build]`): how
 * fast the operator CLI starts, as an operator meets it — the wall time of the whole
 * `node bin/unwind.js …` process, from spawn to exit — for `--help`, `--version` and `list`
 * against a local dev server this bench starts (unwind's search attributes, a few finished sagas
 * to list). Node's own start (`node -e 0`) and loading Temporal's client alone are measured
 * beside them, for scale: the second is the floor of any command that goes through the client,
 * which `list` does not (it reads visibility over its own call: src/client/visibility-wire.ts).
 *
 * It builds a copy of the checkout at a commit (test/helpers/built-cli.ts; HEAD unless
 * --commit, CLI_BENCH_COMMIT) as `npm run build` does, and times that copy's bin/unwind.js: what
 * is measured is that commit, and an edit in the checkout meanwhile cannot send a run to the
 * sources (bin/unwind.js runs them when a CLI source changed since the build); it checks that the
 * build runs before and after timing. Runs are interleaved (help, version, list, node, help, …) so that the
 * machine's load drifts over all commands alike, after one untimed warm-up each. Prints the
 * median, p90 and min per command against the goals of issue 13 (`--help` ≤ 150 ms, `list`
 * ≤ 300 ms) and writes the same, every sample included, as JSON (bench/results/cli.json).
 *
 * Settings: --runs (CLI_BENCH_RUNS, 20), --json (CLI_BENCH_JSON), --commit (CLI_BENCH_COMMIT, HEAD).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import Table from 'cli-table3';
import { createDevServerEnv, startRackSagaBed } from '../src/testing';
import { diskCreate } from '../src/workflows';
import { type BuiltCli, buildCliCopy } from '../test/helpers/built-cli';
import { median, quantile } from './vs-handwritten/stats';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const root = resolve(__dirname, '..');
/** Sagas started (and finished) before timing, so that `list` renders rows. */
const LISTED_SAGAS = 5;

interface Settings {
  runs: number;
  json: string;
  commit: string;
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      json: { type: 'string' },
      commit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npx tsx bench/cli.ts [--runs N] [--json FILE] [--commit REV]\n' +
        '  --runs N       timed runs per command (env CLI_BENCH_RUNS; default 20)\n' +
        '  --json FILE    where the results go (env CLI_BENCH_JSON; default bench/results/cli.json)\n' +
        '  --commit REV   the commit built and measured (env CLI_BENCH_COMMIT; default HEAD)\n',
    );
    process.exit(0);
  }
  const runsText = values.runs ?? process.env.CLI_BENCH_RUNS ?? '20';
  const runs = Number(runsText);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs (CLI_BENCH_RUNS) must be a whole number ≥ 1 (got '${runsText}')`);
  return {
    runs,
    json: resolve(root, values.json ?? process.env.CLI_BENCH_JSON ?? 'bench/results/cli.json'),
    commit: execFileSync('git', ['rev-parse', '--verify', `${values.commit ?? process.env.CLI_BENCH_COMMIT ?? 'HEAD'}^{commit}`], { cwd: root, encoding: 'utf8' }).trim(),
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node args…` in `cwd` to its end: wall time from spawn to exit, output collected. */
function timed(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Fails unless `bin` runs its build (it runs the sources when one changed since the build). */
async function expectBuiltCodeRuns(bin: string, when: string): Promise<void> {
  const run = await timed(root, [bin, '-V'], { UNWIND_DEBUG: '1' });
  if (run.code !== 0 || !run.stderr.includes('running the build')) {
    throw new Error(`${when}, ${bin} does not run its build: ${run.stderr.trim() || `exit ${run.code}`}`);
  }
}

interface Measured {
  command: string;
  args: readonly string[];
  /** What a run must print, or it does not count as working. */
  check: (run: Run) => boolean;
  goalMs?: number;
  samplesMs: number[];
}

async function main(): Promise<void> {
  const options = settings();
  process.stderr.write(`building ${options.commit.slice(0, 12)} in a copy of the checkout (npm run build)…\n`);
  const built = await buildCliCopy(options.commit);
  try {
    await measure(built, options);
  } finally {
    built.remove();
  }
}

async function measure({ root: cwd, bin }: BuiltCli, options: Settings): Promise<void> {
  await expectBuiltCodeRuns(bin, 'before timing');

  process.stderr.write(`starting a dev server and finishing ${LISTED_SAGAS} sagas to list…\n`);
  const env = await createDevServerEnv();
  try {
    const bed = await startRackSagaBed(env, { taskQueue: 'bench-cli' });
    try {
      for (let i = 0; i < LISTED_SAGAS; i++) {
        await env.client.workflow.execute(diskCreate, { taskQueue: bed.taskQueue, workflowId: `disk-create/bench-cli-${i}`, args: [{ name: `bench-cli-${i}`, sizeGiB: 1 }] });
      }
    } finally {
      // Only the server runs while timing: the worker and the rack would compete for the CPU.
      await bed.stop();
    }

    const measured: Measured[] = [
      { command: 'unwind --help', args: [bin, '--help'], check: (r) => r.stdout.includes('Commands:'), goalMs: 150, samplesMs: [] },
      { command: 'unwind --version', args: [bin, '--version'], check: (r) => /^\d+\.\d+\.\d+/.test(r.stdout), samplesMs: [] },
      {
        command: 'unwind list',
        args: [bin, '--address', env.address, 'list'],
        check: (r) => (r.stdout.match(/bench-cli-/g) ?? []).length >= LISTED_SAGAS,
        goalMs: 300,
        samplesMs: [],
      },
      { command: 'node -e 0 (node alone)', args: ['-e', '0'], check: (r) => r.code === 0, samplesMs: [] },
      // The floor of any command that goes through Temporal's client: loading it (protobuf, gRPC).
      {
        command: 'node: require the SDK client',
        args: ['-e', "require('@temporalio/client')"],
        check: (r) => r.code === 0,
        samplesMs: [],
      },
    ];
    // Visibility is eventually consistent: the warm-up list waits until every saga is listed.
    const deadline = Date.now() + 60_000;
    for (const m of measured) {
      for (;;) {
        const run = await timed(cwd, m.args);
        if (run.code === 0 && m.check(run)) break;
        if (Date.now() > deadline) throw new Error(`${m.command} does not work: exit ${run.code}\n${run.stdout}${run.stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    const load = { before: loadavg(), after: [] as number[] };
    process.stderr.write(`timing ${options.runs} runs of each (load average ${load.before.map((l) => l.toFixed(1)).join(' ')})…\n`);
    for (let i = 0; i < options.runs; i++) {
      for (const m of measured) {
        const run = await timed(cwd, m.args);
        if (run.code !== 0 || !m.check(run)) throw new Error(`${m.command} failed on run ${i + 1}: exit ${run.code}\n${run.stdout}${run.stderr}`);
        m.samplesMs.push(run.ms);
      }
    }
    load.after = loadavg();
    await expectBuiltCodeRuns(bin, 'after timing');
    report(measured, options, load);
  } finally {
    await env.teardown();
  }
}

function report(measured: readonly Measured[], options: Settings, load: { before: number[]; after: number[] }): void {
  const rows = measured.map((m) => {
    const medianMs = median(m.samplesMs);
    return {
      command: m.command,
      medianMs: Math.round(medianMs),
      p90Ms: Math.round(quantile(m.samplesMs, 0.9)),
      minMs: Math.round(Math.min(...m.samplesMs)),
      maxMs: Math.round(Math.max(...m.samplesMs)),
      goalMs: m.goalMs,
      met: m.goalMs === undefined ? undefined : medianMs <= m.goalMs,
      samplesMs: m.samplesMs.map((ms) => Math.round(ms)),
    };
  });
  const table = new Table({ head: ['command', 'median', 'p90', 'min', 'goal (median)', ''], style: { head: [], border: [] } });
  for (const r of rows) {
    table.push([r.command, `${r.medianMs} ms`, `${r.p90Ms} ms`, `${r.minMs} ms`, r.goalMs === undefined ? '' : `≤ ${r.goalMs} ms`, r.met === undefined ? '' : r.met ? 'met' : 'not met']);
  }
  const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(`${table.toString()}\n${options.runs} runs each, whole process wall time; load average ${loadText(load.before)} before, ${loadText(load.after)} after, on ${cpus().length} CPUs\n`);

  mkdirSync(dirname(options.json), { recursive: true });
  const result = {
    bench: 'cli',
    date: new Date().toISOString(),
    commit: options.commit,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage: { before: load.before, after: load.after } },
    runs: options.runs,
    measure: 'wall time of the whole process (spawn to exit), ms',
    results: rows,
  };
  writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written to ${relative(process.cwd(), options.json)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
