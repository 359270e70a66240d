/**
 * `npm run bench [-- name…]`: unwind's speed and memory, measured on real parts — a dev server,
 * the rack simulator over HTTP, a worker with the real activities. Prints one line per measure.
 *
 *   harness      wall time of proveSaga (every path) on diskCreate and instanceCreate, on the dev
 *                server and on the time-skipping server
 *   throughput   instanceCreate sagas completed per second, 50 at once; worker memory after
 *   rack         rack simulator mutations per second over HTTP (keyed, one transaction each)
 *   fleet        (only when named) the firmware rollout of 10,000 SSDs on 1,000 sleds: wall time
 *                and every workflow's history size (test/firmware-fleet.test.ts at full scale,
 *                its own dev server; FLEET_SLEDS sets the scale, 10 SSDs per sled)
 *   chaos        (only when named) `npm run chaos` with 1,000 sagas on the PostgreSQL cluster
 *                (CHAOS_SAGAS sets the count); the report also in bench/chaos-report.json
 *   console      (only when named) the operator console's page times with 10,000 sagas listed
 *                (bench/console.ts; CONSOLE_SAGAS, CONSOLE_RUNS), JSON in bench/results/console.json
 *   vs-handwritten (only when named) unwind against a hand-written compensation-array saga doing the
 *                same work: throughput, CPU, history events, parked approvals (bench/vs-handwritten/; VS_* settings)
 *   cli          (only when named) the operator CLI's start: whole-process wall time of `unwind --help`,
 *                `--version` and `list` on its own dev server, median and p90 of CLI_BENCH_RUNS (20) runs
 *                against the goals; JSON in bench/results/cli.json (bench/cli.ts)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createDevServerEnv, createTimeSkippingEnv, startRackSagaBed, startTestRack, type RackSagaBed, type SagaWorkflow } from '../src/testing';
import type { RackSeed } from '../src/rack/schemas';
import { diskCreate, instanceCreate } from '../src/workflows';

Runtime.install({ logger: new DefaultLogger('ERROR') });

type Bench = (env: TestWorkflowEnvironment, bed: RackSagaBed) => Promise<void>;

/** Room for every saga the benches complete. */
const BENCH_SEED: RackSeed = { ipPool: '10.0.0.0/16', sleds: Array.from({ length: 16 }, () => ({ cpus: 256, memoryGiB: 4096, ssds: [{}, {}] })) };

const report = (name: string, value: string) => console.log(`${name.padEnd(44)} ${value}`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const benches: Record<string, Bench> = {
  async harness(_env, bed) {
    let n = 0;
    const prove = async (server: string, on: RackSagaBed) => {
      for (const [saga, makeParams] of [
        [diskCreate, () => ({ name: `bench-disk-${++n}`, sizeGiB: 10 })],
        [instanceCreate, () => ({ name: `bench-vm-${++n}`, cpus: 1, memoryGiB: 1, diskGiB: 10, nics: 1 })],
      ] as const) {
        const proof = await on.harness.proveSaga(saga as SagaWorkflow<unknown, unknown>, makeParams, { print: null });
        report(`proveSaga: ${saga.name} on the ${server} (${proof.rows.length} runs)`, `${(proof.wallMs / 1000).toFixed(1)} s`);
      }
    };
    await prove('dev server', bed);
    const timeSkipping = await createTimeSkippingEnv();
    const skippingBed = await startRackSagaBed(timeSkipping, { taskQueue: 'bench-harness', seed: BENCH_SEED });
    try {
      await prove('time-skipping server', skippingBed);
    } finally {
      await skippingBed.stop();
      await timeSkipping.teardown();
    }
  },

  async throughput(env, bed) {
    const count = 50;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        env.client.workflow.execute(instanceCreate, {
          taskQueue: bed.taskQueue,
          workflowId: `bench-${randomUUID()}`,
          args: [{ name: `tp-${i}-${randomUUID().slice(0, 6)}`, cpus: 1, memoryGiB: 1, diskGiB: 10, nics: 1 }],
        }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    report(`throughput: ${count} instanceCreate at once`, `${(count / seconds).toFixed(1)} sagas/s (${seconds.toFixed(1)} s)`);
    report('throughput: worker process RSS after', mib(process.memoryUsage().rss));
  },

  async rack() {
    const rack = await startTestRack();
    try {
      const count = 2_000;
      const started = Date.now();
      for (let i = 0; i < count; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => rack.rack.disks.create({ name: `d-${i + j}`, sizeGiB: 1 }, `bench/${i + j}`)),
        );
      }
      const seconds = (Date.now() - started) / 1000;
      report(`rack: ${count} keyed mutations, 50 in flight`, `${(count / seconds).toFixed(0)} /s`);
    } finally {
      await rack.stop();
    }
  },
};

/** Benches too long to run unless named; each runs on its own servers. */
const namedOnly: Record<string, () => number> = {
  fleet() {
    const result = spawnSync('npx', ['vitest', 'run', 'test/firmware-fleet.test.ts'], {
      cwd: join(__dirname, '..'),
      stdio: 'inherit',
      env: { ...process.env, FLEET_SLEDS: process.env.FLEET_SLEDS ?? '1000', FLEET_TIMEOUT_MS: process.env.FLEET_TIMEOUT_MS ?? '3600000' },
    });
    return result.status ?? 1;
  },
  chaos() {
    // The full chaos run on the PostgreSQL cluster; its report also lands in bench/chaos-report.json.
    const result = spawnSync('npx', ['tsx', 'scripts/chaos.ts', '--sagas', process.env.CHAOS_SAGAS ?? '1000', '--json', 'bench/chaos-report.json'], {
      cwd: join(__dirname, '..'),
      stdio: 'inherit',
    });
    return result.status ?? 1;
  },
  console() {
    // The console's pages with 10,000 sagas (CONSOLE_SAGAS, CONSOLE_RUNS); JSON in bench/results/console.json.
    const result = spawnSync('npx', ['tsx', 'bench/console.ts'], { cwd: join(__dirname, '..'), stdio: 'inherit' });
    return result.status ?? 1;
  },
  'vs-handwritten'() {
    // Settings from VS_ROUNDS, VS_SAGAS, VS_PARK, … (`npx tsx bench/vs-handwritten/main.ts --help`); JSON in bench/results/.
    const result = spawnSync('npx', ['tsx', 'bench/vs-handwritten/main.ts'], { cwd: join(__dirname, '..'), stdio: 'inherit' });
    return result.status ?? 1;
  },
  cli() {
    // Settings from CLI_BENCH_RUNS, CLI_BENCH_JSON, CLI_BENCH_BUILD (`npx tsx bench/cli.ts --help`).
    const result = spawnSync('npx', ['tsx', 'bench/cli.ts'], { cwd: join(__dirname, '..'), stdio: 'inherit' });
    return result.status ?? 1;
  },
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  for (const name of requested.filter((n) => n in namedOnly)) {
    const status = namedOnly[name]?.() ?? 1;
    if (status !== 0) throw new Error(`bench ${name} failed (exit ${status})`);
  }
  const wanted = requested.filter((n) => !(n in namedOnly));
  if (requested.length > 0 && wanted.length === 0) return;
  const unknown = wanted.filter((name) => !(name in benches));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${[...Object.keys(benches), ...Object.keys(namedOnly)].join(', ')}`);
  const env = await createDevServerEnv();
  const bed = await startRackSagaBed(env, { taskQueue: 'bench', seed: BENCH_SEED });
  try {
    for (const [name, bench] of Object.entries(benches)) {
      if (wanted.length === 0 || wanted.includes(name)) await bench(env, bed);
    }
  } finally {
    await bed.stop();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
