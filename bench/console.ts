/**
 * `npm run bench -- console` (or `npx tsx bench/console.ts`): how long the operator console takes
 * to answer its pages with 10,000 sagas listed (`CONSOLE_SAGAS` sets the count).
 *
 * A dev server gets N sagas started as the client starts them (their search attributes set at
 * start, spread over the live states and the last two hours), on a task queue no worker polls,
 * so nothing moves while it is measured. Then each page is fetched over HTTP from a console on
 * a free port, `CONSOLE_RUNS` times (7 unless told), and the list page is also loaded in
 * Chromium (to its load event). Prints the median and the slowest of each, and writes the same
 * as JSON to bench/results/console.json. Not run in CI.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import { LIVE_SAGA_STATES, createUnwindClient } from '../src/client';
import { requireChromium } from '../src/console/browser';
import { startConsole } from '../src/console/server';
import { UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from '../src/schemas/search-attributes';
import { createDevServerEnv } from '../src/testing/environments';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const SAGAS = Number(process.env.CONSOLE_SAGAS ?? 10_000);
const RUNS = Number(process.env.CONSOLE_RUNS ?? 7);
const START_CONCURRENCY = 64;
const QUEUE = 'bench-console-no-worker';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  for (const [name, value] of [['CONSOLE_SAGAS', SAGAS], ['CONSOLE_RUNS', RUNS]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number from 1 (got ${process.env[name]})`);
  }
  const executablePath = requireChromium();
  const env = await createDevServerEnv();
  const client = await createUnwindClient({ address: env.address });
  const browser = await chromium.launch({ executablePath });
  try {
    const startedAt = performance.now();
    let next = 0;
    const now = Date.now();
    const lane = async () => {
      for (let i = next++; i < SAGAS; i = next++) {
        await client.temporal.workflow.start('diskCreate', {
          taskQueue: QUEUE,
          workflowId: `disk-create/bench-${String(i).padStart(5, '0')}/r`,
          args: [{ name: `bench-${i}`, sizeGiB: 10, requestId: 'r' }],
          typedSearchAttributes: [
            { key: UnwindSaga, value: 'diskCreate' },
            { key: UnwindState, value: LIVE_SAGA_STATES[i % LIVE_SAGA_STATES.length]! },
            { key: UnwindStep, value: `ensure-region[${i % 3}]` },
            { key: UnwindProgressAt, value: new Date(now - (i % 120) * 60_000) },
          ],
        });
      }
    };
    await Promise.all(Array.from({ length: START_CONCURRENCY }, lane));
    process.stderr.write(`started ${SAGAS} sagas in ${ms(performance.now() - startedAt)}; waiting for visibility\n`);
    for (let seen = 0; seen < SAGAS; await new Promise((r) => setTimeout(r, 500))) seen = await client.sagas.count();

    const running = await startConsole({ client, rack: null, temporalUi: null, namespace: 'default', now: () => new Date() }, { port: 0 });
    const pages: [string, string][] = [
      ['list, first page (51 rows read)', '/sagas'],
      ['list, one state', '/sagas?state=needs-operator'],
      ['list, page 20 (1,001 rows read)', '/sagas?page=20'],
      ['list, id text (every row read)', '/sagas?q=bench-04242'],
      ['list, live fragment', '/sagas?fragment=1'],
      ['overview (11 counts)', '/'],
    ];
    const results: Record<string, { medianMs: number; maxMs: number }> = {};
    const report = (name: string, times: number[]) => {
      results[name] = { medianMs: Math.round(median(times)), maxMs: Math.round(Math.max(...times)) };
      console.log(`${name.padEnd(44)} median ${ms(median(times)).padStart(8)}   slowest ${ms(Math.max(...times)).padStart(8)}`);
    };
    console.log(`console pages with ${SAGAS} sagas, ${RUNS} runs each (HTTP, whole body):`);
    for (const [name, path] of pages) {
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const t0 = performance.now();
        const response = await fetch(`${running.url}${path}`);
        await response.text();
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        times.push(performance.now() - t0);
      }
      report(name, times);
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const loads: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      await page.goto(`${running.url}/sagas`, { waitUntil: 'load' });
      loads.push(performance.now() - t0);
    }
    report('list in Chromium, to the load event', loads);
    await running.close();

    const out = join(__dirname, 'results', 'console.json');
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify({ command: 'npm run bench -- console', sagas: SAGAS, runs: RUNS, at: new Date().toISOString(), cpus: cpus().length, loadAverage: loadavg(), pages: results }, null, 2)}\n`,
    );
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; JSON in ${out}`);
  } finally {
    await browser.close();
    await client.close();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
