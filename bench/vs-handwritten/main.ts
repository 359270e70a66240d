/**
 * `npm run bench -- vs-handwritten` (or `npx tsx bench/vs-handwritten/main.ts [flags]`): unwind
 * side by side with a hand-written Temporal saga in the compensation-array style doing the same
 * work — 10 steps, 8 in sequence and 2 in parallel, each with a compensation — on one dev
 * server, served by one worker in its own process (its CPU and RSS measured alone).
 *
 * Rounds (interleaved: hand-written then unwind, the next round unwind first), per activity
 * set (trivial in-process activities; the rack simulator over HTTP): N sagas at concurrency C,
 * giving throughput, per-saga latency, the worker's CPU and RSS delta; then one happy and one
 * failing-at-step-6 run per side, giving their history's event count. Then parking, per side on
 * a fresh worker: P sagas wait for an approval (hand-written: an `approve` signal and an expiry
 * timer; unwind: `saga.awaitApproval`, decided with the client's `sagas.approve`), giving the
 * worker's RSS, the events while parked and at the end, the time to decide one saga while all
 * wait, and the time to release them all, decisions sent with the same bounded concurrency.
 *
 * Prints `measure | hand-written | unwind | ratio | goal` (medians over rounds, the per-pair
 * ratio range) and writes the same as JSON. Progress goes to stderr. `--help` lists the flags;
 * each has an environment variable (for `npm run bench`, which passes no flags).
 * `--server cluster` (VS_SERVER) runs it all on the Temporal server on PostgreSQL that
 * `npm run cluster` runs, started for the run in a temporary folder.
 * `VS_WORKER_CPU_PROF=<dir>` writes the worker's V8 CPU profiles there (one per thread: the
 * workflow thread's shows where a workflow task's time goes).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { createUnwindClient } from '../../src/client';
import { createDevServerEnv, ledgerResidue, quietLogger, startTestRack } from '../../src/testing';
import { createClusterEnv } from '../../src/testing/cluster';
import type { ActivitySet } from './plan';
import { STEP_NAMES } from './plan';
import { formatTable, median, pairRow, quantile, type Row } from './stats';

Runtime.install({ logger: new DefaultLogger('ERROR') });
import { type Settings, readSettings } from './settings';
import { WorkerProcess } from './worker-process';
import { type Parts, type Side, SIDES, SEED, TASK_QUEUE, abort, bounded, eventDiff, eventTypes, MiB, pool, progress, range, start, diskName } from './common';
import { type ParkResult, park } from './park';

// ---------------------------------------------------------------------------------------
// The run

/** The server the run measures on: the dev server, or the cluster of `npm run cluster` (PostgreSQL, no TLS). */
async function startServer(server: Settings['server']): Promise<{ address: string; namespace: string; client: Client; stop(): Promise<void> }> {
  if (server === 'dev') {
    const env = await createDevServerEnv();
    return { address: env.address, namespace: env.namespace ?? 'default', client: env.client, stop: () => env.teardown() };
  }
  const cluster = await createClusterEnv({ progress: (line) => progress(`  ${line}`) });
  return { address: cluster.address, namespace: cluster.namespace, client: cluster.client, stop: () => cluster.stop() };
}


interface PhaseResult {
  side: Side;
  set: ActivitySet;
  round: number;
  sagas: number;
  wallMs: number;
  throughput: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  cpuMs: number;
  cpuMsPerSaga: number;
  rssBefore: number;
  rssAfter: number;
  /** Workflow tasks over 5 s in the phase: more than 0 means the machine starved the worker. */
  slowTasks: number;
}

interface HistoryResult {
  side: Side;
  set: ActivitySet;
  round: number;
  happy: number;
  unwound: number;
  happyTypes: Record<string, number>;
  unwoundTypes: Record<string, number>;
}


async function runSagas(parts: Parts, side: Side, set: ActivitySet, tag: string, count: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  await pool(range(count), concurrency, async (i) => {
    const started = performance.now();
    const handle = await start(parts, side, `vs/${parts.runId}/${side}/${set}/${tag}/${i}`, { set, name: diskName(parts, side, `${tag}-${i}`) });
    await bounded(handle.result(), parts.settings.sagaTimeoutMs, `saga ${handle.workflowId}`);
    latencies.push(performance.now() - started);
  });
  return latencies;
}

async function phase(parts: Parts, side: Side, set: ActivitySet, round: number): Promise<PhaseResult> {
  const { sagas, concurrency } = parts.settings;
  const before = await parts.worker.usage();
  const started = performance.now();
  const latencies = await runSagas(parts, side, set, `r${round}`, sagas, concurrency);
  const wallMs = performance.now() - started;
  const after = await parts.worker.usage();
  const cpuMs = (after.cpuUs - before.cpuUs) / 1000;
  const result: PhaseResult = {
    side,
    set,
    round,
    sagas,
    wallMs,
    throughput: sagas / (wallMs / 1000),
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP95Ms: quantile(latencies, 0.95),
    cpuMs,
    cpuMsPerSaga: cpuMs / sagas,
    rssBefore: before.rss,
    rssAfter: after.rss,
    slowTasks: after.slowTasks - before.slowTasks,
  };
  progress(
    `round ${round} ${set} ${side}: ${result.throughput.toFixed(1)} sagas/s, p50 ${result.latencyP50Ms.toFixed(0)} ms, ` +
      `worker CPU ${result.cpuMsPerSaga.toFixed(1)} ms/saga, RSS ${(after.rss / MiB).toFixed(0)} MiB` +
      (result.slowTasks ? `, ${result.slowTasks} workflow tasks over 5 s (a starved worker)` : ''),
  );
  return result;
}

/** One happy and one failing run of `side`: their histories' event counts. */
async function histories(parts: Parts, side: Side, set: ActivitySet, round: number): Promise<HistoryResult> {
  const happy = await start(parts, side, `vs/${parts.runId}/${side}/${set}/h${round}/happy`, { set, name: diskName(parts, side, `h${round}-ok`) });
  await bounded(happy.result(), parts.settings.sagaTimeoutMs, `saga ${happy.workflowId}`);
  const failing = await start(parts, side, `vs/${parts.runId}/${side}/${set}/h${round}/fail`, {
    set,
    name: diskName(parts, side, `h${round}-fail`),
    failAt: parts.settings.failAt,
  });
  const outcome = await bounded(
    failing.result().then(
      () => new Error('completed'),
      (err: unknown) => err,
    ),
    parts.settings.sagaTimeoutMs,
    `saga ${failing.workflowId}`,
  );
  if (!(outcome instanceof WorkflowFailedError)) throw new Error(`${failing.workflowId} should have failed at step ${parts.settings.failAt}; it ${String(outcome)}`);
  if (side === 'unwind' && !(outcome.cause instanceof ApplicationFailure && outcome.cause.type === 'SagaUnwound')) {
    throw new Error(`${failing.workflowId} failed without unwinding: ${outcome.cause?.message}`);
  }
  if (set === 'rack') {
    // Both sides did the same work: what the failing run applied on the rack, it reverted.
    const residue = await ledgerResidue(parts.rack.rack, failing.workflowId, [...STEP_NAMES]);
    if (residue.length) throw new Error(`${failing.workflowId} left residue on the rack: ${residue.join('; ')}`);
  }
  const happyEvents = (await happy.fetchHistory()).events ?? [];
  const failEvents = (await failing.fetchHistory()).events ?? [];
  return {
    side,
    set,
    round,
    happy: happyEvents.length,
    unwound: failEvents.length,
    happyTypes: eventTypes(happyEvents),
    unwoundTypes: eventTypes(failEvents),
  };
}

// ---------------------------------------------------------------------------------------
// The report

function summarize(settings: Settings, phases: PhaseResult[], hist: HistoryResult[], parks: ParkResult[]): Row[] {
  const rows: Row[] = [];
  const pairs = <T>(items: T[], sideOf: (t: T) => Side, roundOf: (t: T) => number, value: (t: T) => number) =>
    [...new Set(items.map(roundOf))].flatMap((round) => {
      const hw = items.find((t) => roundOf(t) === round && sideOf(t) === 'handwritten');
      const uw = items.find((t) => roundOf(t) === round && sideOf(t) === 'unwind');
      return hw && uw ? [{ handwritten: value(hw), unwind: value(uw) }] : [];
    });
  const atMost = (limit: number) => ({ text: `≤ ${limit}×`, check: (r: Row) => r.ratio <= limit });
  const atLeast = (limit: number) => ({ text: `≥ ${limit}×`, check: (r: Row) => r.ratio >= limit });
  const plus = (limit: number) => ({ text: `≤ +${limit}`, check: (r: Row) => (r.difference ?? Infinity) <= limit });
  for (const set of settings.sets) {
    const ofSet = phases.filter((p) => p.set === set);
    const section = `${set} activities: ${settings.sagas} sagas at ${settings.concurrency} at once, ${settings.rounds} rounds (median; ratio = unwind / hand-written)`;
    const p = (value: (r: PhaseResult) => number) => pairs(ofSet, (r) => r.side, (r) => r.round, value);
    rows.push(pairRow(section, 'throughput', 'sagas/s', p((r) => r.throughput), atLeast(0.95)));
    rows.push(pairRow(section, 'latency p50', 'ms', p((r) => r.latencyP50Ms)));
    rows.push(pairRow(section, 'latency p95', 'ms', p((r) => r.latencyP95Ms)));
    rows.push(pairRow(section, 'worker CPU per saga', 'ms', p((r) => r.cpuMsPerSaga), atMost(1.05)));
    rows.push(pairRow(section, 'worker RSS at the end of the phase', 'MiB', p((r) => r.rssAfter / MiB)));
  }
  for (const set of settings.sets) {
    const ofSet = hist.filter((h) => h.set === set);
    const section = `history events, ${set} activities (unwind − hand-written)`;
    const p = (value: (r: HistoryResult) => number) => pairs(ofSet, (r) => r.side, (r) => r.round, value);
    rows.push(pairRow(section, 'happy path', 'events', p((r) => r.happy), plus(2)));
    rows.push(pairRow(section, `unwound from step ${settings.failAt}`, 'events', p((r) => r.unwound), plus(4)));
  }
  const hw = parks.find((p) => p.side === 'handwritten');
  const uw = parks.find((p) => p.side === 'unwind');
  if (hw && uw) {
    const section = `parking: ${hw.parked} sagas per side awaiting approval, fresh worker per side, ${settings.releaseConcurrency} decisions in flight`;
    const one = (value: (r: ParkResult) => number) => [{ handwritten: value(hw), unwind: value(uw) }];
    rows.push(pairRow(section, 'worker RSS with all parked', 'MiB', one((r) => r.parkedRss / MiB), { text: '≤ 1024 MiB at 10,000', check: (r) => r.unwind <= 1024 }));
    rows.push(pairRow(section, 'worker RSS growth over the idle worker', 'MiB', one((r) => (r.parkedRss - r.idleRss) / MiB)));
    rows.push(pairRow(section, 'time to park them all', 's', one((r) => r.parkWallMs / 1000)));
    rows.push(pairRow(section, 'worker CPU to park them all', 's', one((r) => r.parkCpuMs / 1000)));
    rows.push(pairRow(section, 'history events while parked', 'events', one((r) => r.eventsWhileParked), plus(4)));
    rows.push(pairRow(section, 'history events at the end', 'events', one((r) => r.eventsAtEnd), plus(4)));
    rows.push(pairRow(section, 'decide one while all wait: decision sent', 'ms', one((r) => median(r.decideSendMs))));
    rows.push(
      pairRow(section, 'decide one while all wait: first step scheduled', 'ms', one((r) => median(r.decideActedMs)), {
        text: 'each ≤ 1000 ms',
        check: () => Math.max(...uw.decideActedMs) <= 1000,
      }),
    );
    rows.push(pairRow(section, 'decide one while all wait: saga completed', 'ms', one((r) => median(r.decideCompleteMs))));
    rows.push(pairRow(section, `release ${hw.released}: decisions sent`, 's', one((r) => r.releaseSendMs / 1000)));
    rows.push(pairRow(section, `release ${hw.released}: all completed`, 's', one((r) => r.releaseCompleteMs / 1000), atMost(1.5)));
    rows.push(pairRow(section, 'worker CPU for the release', 's', one((r) => r.releaseCpuMs / 1000)));
  }
  return rows;
}

/** The commit measured, and the files under src/ that differ from it (others may be editing them). */
function sourceState(): { commit: string; uncommittedInSrc: string[] } | { error: string } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: resolve(__dirname, '..', '..'), encoding: 'utf8' }).trim();
    return { commit: git('rev-parse', 'HEAD'), uncommittedInSrc: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = readSettings(process.argv.slice(2), process.env);
  const wallStarted = performance.now();
  const deadline = setTimeout(() => abort.abort(`the deadline of ${settings.deadlineMinutes} min passed`), settings.deadlineMinutes * 60_000);
  deadline.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort(`${signal} received`));

  const report: Record<string, unknown> = {
    bench: 'vs-handwritten',
    startedAt: new Date().toISOString(),
    complete: false,
    settings,
    source: sourceState(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version, loadAverageAtStart: loadavg() },
  };
  const phases: PhaseResult[] = [];
  const hist: HistoryResult[] = [];
  const parks: ParkResult[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const writeReport = () => {
    const path = resolve(settings.json);
    mkdirSync(dirname(path), { recursive: true });
    const rows = summarize(settings, phases, hist, parks);
    const hwHist = hist.filter((h) => h.side === 'handwritten');
    const uwHist = hist.filter((h) => h.side === 'unwind');
    const diffs = settings.sets.flatMap((set) => {
      const h = hwHist.find((x) => x.set === set);
      const u = uwHist.find((x) => x.set === set);
      return h && u ? [{ set, happy: eventDiff(h.happyTypes, u.happyTypes), unwound: eventDiff(h.unwoundTypes, u.unwoundTypes) }] : [];
    });
    const parkDiff =
      parks.length === 2
        ? { whileParked: eventDiff(parks[0]!.typesWhileParked, parks[1]!.typesWhileParked), atEnd: eventDiff(parks[0]!.typesAtEnd, parks[1]!.typesAtEnd) }
        : undefined;
    Object.assign(report, {
      wallSeconds: (performance.now() - wallStarted) / 1000,
      loadAverageAtEnd: loadavg(),
      table: rows,
      eventDifferencesByType: { rounds: diffs, parking: parkDiff },
      phases,
      histories: hist,
      parking: parks,
    });
    writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    return { rows, path };
  };

  try {
    progress(`${settings.server === 'dev' ? 'dev server' : 'Temporal cluster on PostgreSQL'}, rack, workflow bundle (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    const env = await startServer(settings.server);
    cleanups.push(() => env.stop());
    const rack = await startTestRack({ seed: SEED });
    cleanups.push(() => rack.stop());
    const bundleDir = mkdtempSync(join(tmpdir(), 'unwind-vs-'));
    cleanups.push(async () => rmSync(bundleDir, { recursive: true, force: true }));
    const bundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows.ts'), logger: quietLogger });
    const bundlePath = join(bundleDir, 'workflows.js');
    writeFileSync(bundlePath, bundle.code);
    const unwind = await createUnwindClient({ address: env.address, namespace: env.namespace, taskQueue: TASK_QUEUE, env: {} });
    cleanups.push(() => unwind.close());
    const workerEnv = { VS_ADDRESS: env.address, VS_NAMESPACE: env.namespace, VS_TASK_QUEUE: TASK_QUEUE, VS_RACK_URL: rack.server.url, VS_BUNDLE: bundlePath };
    const parts: Parts = {
      client: env.client,
      unwind,
      rack,
      workerEnv,
      worker: await WorkerProcess.start(workerEnv),
      settings,
      runId: randomBytes(3).toString('hex'),
    };
    cleanups.push(() => parts.worker.stop());
    report.workerOptions = parts.worker.options;
    progress(`worker ${parts.worker.pid} ready: ${JSON.stringify(parts.worker.options)}`);

    if (settings.warmup > 0) {
      progress(`warm-up: ${settings.warmup} sagas per side and set`);
      for (const set of settings.sets) for (const side of SIDES) await runSagas(parts, side, set, 'warmup', settings.warmup, settings.concurrency);
    }
    for (let round = 1; round <= settings.rounds; round++) {
      const order = round % 2 === 1 ? SIDES : [...SIDES].reverse();
      for (const set of settings.sets) for (const side of order) phases.push(await phase(parts, side, set, round));
      for (const set of settings.sets) for (const side of order) hist.push(await histories(parts, side, set, round));
      const last = hist.slice(-2 * settings.sets.length);
      progress(`round ${round} history events: ${last.map((h) => `${h.set} ${h.side} ${h.happy}/${h.unwound}`).join(', ')}`);
      writeReport();
    }
    if (settings.park > 0) {
      for (const side of SIDES) {
        parks.push(await park(parts, side));
        writeReport();
      }
    }
    report.complete = true;
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    clearTimeout(deadline);
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => progress(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
    }
    const { rows, path } = writeReport();
    console.log(formatTable(rows));
    const slow = phases.reduce((n, p) => n + p.slowTasks, 0) + parks.reduce((n, p) => n + p.slowTasks, 0);
    const load = loadavg()[0]!;
    if (slow > 0 || load > cpus().length) {
      console.log(`\nnote: load average ${load.toFixed(1)} on ${cpus().length} CPUs, ${slow} workflow tasks over 5 s: the machine was busy; ratios are noise-dominated`);
    }
    console.log(`\nwall time ${((performance.now() - wallStarted) / 1000).toFixed(0)} s; JSON in ${path}${report.complete ? '' : ' (partial)'}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`vs-handwritten: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

