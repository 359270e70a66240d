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
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { createUnwindClient, type UnwindClient } from '../../src/client';
import type { RackSeed } from '../../src/rack/schemas';
import { createDevServerEnv, ledgerResidue, quietLogger, startTestRack, type TestRack } from '../../src/testing';
import { createClusterEnv } from '../../src/testing/cluster';
import { sagaStatusQuery } from '../../src/workflows/saga/messages';
import { approveUpdate } from '../../src/workflows/saga/messages';
import type { ActivitySet, VsSagaInput } from './plan';
import { STEP_NAMES } from './plan';
import { formatTable, median, pairRow, quantile, type Row } from './stats';
import type { DriverMessage, EffectiveOptions, WorkerMessage } from './worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });

type Side = 'handwritten' | 'unwind';
const SIDES: readonly Side[] = ['handwritten', 'unwind'];
const WORKFLOW_TYPE: Record<Side, string> = { handwritten: 'handwrittenVsSaga', unwind: 'unwindVsSaga' };
const APPROVER = 'bench';
const TASK_QUEUE = 'vs-handwritten';
const PARK = { expireAfter: '7d', remindEvery: '1d' } as const;
/** The approval step of a parked unwind saga (unwind-saga.ts). */
const PARK_STEP = 'approve';

/** Room for every saga a run completes: 16 large sleds, 65,534 addresses. */
const SEED: RackSeed = { ipPool: '10.0.0.0/16', sleds: Array.from({ length: 16 }, () => ({ cpus: 256, memoryGiB: 4096, ssds: [{}, {}] })) };

// ---------------------------------------------------------------------------------------
// Settings

interface Settings {
  rounds: number;
  sagas: number;
  concurrency: number;
  sets: ActivitySet[];
  warmup: number;
  failAt: number;
  park: number;
  releaseConcurrency: number;
  decideSamples: number;
  json: string;
  sagaTimeoutMs: number;
  deadlineMinutes: number;
  server: 'dev' | 'cluster';
}

const OPTIONS: { flag: string; env: string; key: keyof Settings; default: string; help: string }[] = [
  { flag: '--rounds', env: 'VS_ROUNDS', key: 'rounds', default: '5', help: 'rounds, each one hand-written and one unwind phase per activity set' },
  { flag: '--sagas', env: 'VS_SAGAS', key: 'sagas', default: '100', help: 'sagas per side, set and round' },
  { flag: '--concurrency', env: 'VS_CONCURRENCY', key: 'concurrency', default: '20', help: 'sagas in flight at once in a round' },
  { flag: '--sets', env: 'VS_SETS', key: 'sets', default: 'trivial,rack', help: 'activity sets: trivial, rack' },
  { flag: '--warmup', env: 'VS_WARMUP', key: 'warmup', default: '20', help: 'unmeasured sagas per side and set before the first round' },
  { flag: '--fail-at', env: 'VS_FAIL_AT', key: 'failAt', default: '6', help: 'the step the failing runs fail at (rack: 6 only)' },
  { flag: '--park', env: 'VS_PARK', key: 'park', default: '2000', help: 'sagas parked per side awaiting approval (0: no parking); --park-10k for 10000' },
  { flag: '--release-concurrency', env: 'VS_RELEASE_CONCURRENCY', key: 'releaseConcurrency', default: '50', help: 'starts and decisions in flight at once when parking and releasing' },
  { flag: '--decide-samples', env: 'VS_DECIDE_SAMPLES', key: 'decideSamples', default: '5', help: 'parked sagas decided one at a time while all wait' },
  { flag: '--json', env: 'VS_JSON', key: 'json', default: 'bench/results/vs-handwritten.json', help: 'where the JSON report goes' },
  { flag: '--saga-timeout-ms', env: 'VS_SAGA_TIMEOUT_MS', key: 'sagaTimeoutMs', default: '120000', help: 'longest wait for one saga' },
  { flag: '--server', env: 'VS_SERVER', key: 'server', default: 'dev', help: 'dev (the dev server) or cluster (the Temporal server on PostgreSQL, as npm run cluster)' },
  { flag: '--deadline-min', env: 'VS_DEADLINE_MIN', key: 'deadlineMinutes', default: '90', help: 'the whole run stops (cleanly, partial JSON) after this' },
];

function usage(): string {
  return [
    'npx tsx bench/vs-handwritten/main.ts [flags]    (npm run bench -- vs-handwritten: the same, settings from the environment)',
    ...OPTIONS.map((o) => `  ${`${o.flag} <v>`.padEnd(28)} ${o.env.padEnd(24)} ${o.help} (default ${o.default})`),
    `  ${'--park-10k'.padEnd(28)} ${'VS_PARK=10000'.padEnd(24)} park 10,000 sagas per side`,
    '  worker cache settings: UNWIND_MAX_CACHED_WORKFLOWS, UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS, UNWIND_REUSE_V8_CONTEXT, UNWIND_STICKY_TIMEOUT (defaults: README, Worker tuning)',
  ].join('\n');
}

function fail(message: string): never {
  throw new Error(message);
}

function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, string> = {};
  for (const o of OPTIONS) raw[o.key] = env[o.env] || o.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(usage());
      process.exit(0);
    }
    if (arg === '--park-10k') {
      raw.park = '10000';
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const option = OPTIONS.find((o) => o.flag === flag);
    const value = inline ?? argv[++i];
    if (!option || value === undefined || value === '') throw new Error(`${arg}: unknown flag or missing value\n${usage()}`);
    raw[option.key] = value;
  }
  const whole = (key: keyof Settings, min: number): number => {
    const value = raw[key]!;
    if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`${key} must be a whole number ≥ ${min} (got '${value}')`);
    return Number(value);
  };
  const sets = raw.sets!.split(',').map((s) => s.trim());
  if (sets.length === 0 || sets.some((s) => s !== 'trivial' && s !== 'rack')) throw new Error(`sets must be trivial, rack or both (got '${raw.sets}')`);
  const settings: Settings = {
    rounds: whole('rounds', 1),
    sagas: whole('sagas', 1),
    concurrency: whole('concurrency', 1),
    sets: sets as ActivitySet[],
    warmup: whole('warmup', 0),
    failAt: whole('failAt', 1),
    park: whole('park', 0),
    releaseConcurrency: whole('releaseConcurrency', 1),
    decideSamples: whole('decideSamples', 1),
    json: raw.json!,
    sagaTimeoutMs: whole('sagaTimeoutMs', 1000),
    deadlineMinutes: whole('deadlineMinutes', 1),
    server: raw.server === 'dev' || raw.server === 'cluster' ? raw.server : fail(`server must be dev or cluster (got '${raw.server}')`),
  };
  if (settings.failAt > 10) throw new Error(`fail-at must be a step from 1 to 10 (got ${settings.failAt})`);
  if (settings.sets.includes('rack') && settings.failAt !== 6) throw new Error('on the rack set only step 6 can fail: --fail-at 6');
  if (settings.park > 0 && settings.park <= 2 * settings.decideSamples) throw new Error(`--park must exceed twice --decide-samples (${2 * settings.decideSamples})`);
  return settings;
}

// ---------------------------------------------------------------------------------------
// Helpers

const progress = (line: string) => process.stderr.write(`[vs-handwritten ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const MiB = 2 ** 20;

/** Stops everything when the deadline passes or a signal comes: every wait checks it. */
const abort = new AbortController();

function checkAbort(): void {
  if (abort.signal.aborted) throw new Error(`stopped: ${String(abort.signal.reason)}`);
}

/** `promise`, or an error after `ms` (or as soon as the run is aborted). */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
        onAbort = () => reject(new Error(`${what}: stopped (${String(abort.signal.reason)})`));
        abort.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) abort.signal.removeEventListener('abort', onAbort);
  }
}

/** Runs `fn` over `items`, `concurrency` at a time; the first error stops new work and is thrown. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      checkAbort();
      const index = next++;
      try {
        await fn(items[index]!, index);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure !== undefined) throw failure;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Counts a history's events by type (`ActivityTaskScheduled`, …), read from which attributes each event carries. */
function eventTypes(events: readonly object[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    const key = Object.entries(event).find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0] ?? 'unknown';
    const name = key.replace(/EventAttributes$/, '');
    const type = name.charAt(0).toUpperCase() + name.slice(1);
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** unwind's counts minus hand-written's, by event type (only the types that differ). */
function eventDiff(hw: Record<string, number>, uw: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const type of new Set([...Object.keys(hw), ...Object.keys(uw)])) {
    const d = (uw[type] ?? 0) - (hw[type] ?? 0);
    if (d !== 0) diff[type] = d;
  }
  return diff;
}

// ---------------------------------------------------------------------------------------
// The worker process

interface Usage {
  cpuUs: number;
  rss: number;
  heapUsed: number;
  /** Workflow tasks over 5 s so far: the worker was starved (a loaded machine). */
  slowTasks: number;
}

class WorkerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (usage: Usage) => void>();
  private exited: Promise<number | null>;
  options: EffectiveOptions | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'usage') {
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      }
    });
  }

  /** Forks the worker and waits until it polls. */
  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    const child = fork(join(__dirname, 'worker.ts'), [], {
      cwd: resolve(__dirname, '..', '..'),
      execArgv: ['--import', 'tsx', ...(process.env.VS_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VS_WORKER_CPU_PROF}`] : [])],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new WorkerProcess(child);
    try {
      worker.options = await bounded(
        new Promise<EffectiveOptions>((resolveReady, reject) => {
          child.on('message', (message: WorkerMessage) => {
            if (message.type === 'ready') resolveReady(message.options);
            if (message.type === 'failed') reject(new Error(`the worker failed: ${message.message}`));
          });
          child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready`)));
        }),
        120_000,
        'starting the worker',
      );
    } catch (err) {
      await worker.stop();
      throw err;
    }
    return worker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async usage(): Promise<Usage> {
    const id = this.nextId++;
    const answered = new Promise<Usage>((r) => this.waiting.set(id, r));
    this.child.send({ type: 'usage', id } satisfies DriverMessage);
    return bounded(answered, 30_000, 'the worker answering a usage request');
  }

  /** Asks the worker to stop; kills it (by its pid) if it has not within 45 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'shutdown' } satisfies DriverMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 45_000);
    await this.exited;
    clearTimeout(timer);
  }
}

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

interface Parts {
  client: Client;
  unwind: UnwindClient;
  rack: TestRack;
  workerEnv: Record<string, string>;
  worker: WorkerProcess;
  settings: Settings;
  runId: string;
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

function start(parts: Parts, side: Side, workflowId: string, input: VsSagaInput): Promise<WorkflowHandle> {
  return parts.client.workflow.start(WORKFLOW_TYPE[side], { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

/** A name for the rack's disks: unique in the run. */
const diskName = (parts: Parts, side: Side, tag: string) => `${parts.runId}-${side === 'handwritten' ? 'hw' : 'uw'}-${tag}`;

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
// Parking

interface ParkResult {
  side: Side;
  parked: number;
  idleRss: number;
  parkedRss: number;
  parkedHeapUsed: number;
  parkWallMs: number;
  parkCpuMs: number;
  eventsWhileParked: number;
  eventsAtEnd: number;
  typesWhileParked: Record<string, number>;
  typesAtEnd: Record<string, number>;
  /**
   * One decision while all wait, ms: sending it (a signal: accepted by the server; unwind's
   * approve: describe, status query, and the update completed by the worker), from sending it to
   * the first step scheduled (the saga acted on it), and to the saga completed (10 steps later).
   */
  decideSendMs: number[];
  decideActedMs: number[];
  decideCompleteMs: number[];
  /** unwind only: what its client's approve is made of, measured apart on other parked sagas. */
  breakdown?: { describeMs: number[]; statusQueryMs: number[]; updateWithWaitIdMs: number[] };
  released: number;
  releaseSendMs: number;
  releaseCompleteMs: number;
  releaseCpuMs: number;
  /** Workflow tasks over 5 s while parking and releasing: more than 0 means a starved worker. */
  slowTasks: number;
  workerOptions: EffectiveOptions | undefined;
}

async function countRunning(parts: Parts, side: Side): Promise<number> {
  const { count } = await parts.client.workflow.count(`WorkflowType = '${WORKFLOW_TYPE[side]}' AND ExecutionStatus = 'Running'`);
  return count;
}

/** True once the saga has taken its first decisions and waits: no task, activity or child start pending. */
async function isParked(parts: Parts, workflowId: string): Promise<boolean> {
  const d = await parts.client.workflow.getHandle(workflowId).describe();
  const raw = d.raw;
  return (
    d.historyLength >= 5 &&
    !raw.pendingWorkflowTask &&
    (raw.pendingActivities ?? []).length === 0 &&
    (raw.pendingChildren ?? []).every((c) => Boolean(c.runId))
  );
}

async function decide(parts: Parts, side: Side, workflowId: string): Promise<void> {
  if (side === 'handwritten') await parts.client.workflow.getHandle(workflowId).signal('approve', { approver: APPROVER });
  else await parts.unwind.sagas.approve(workflowId, { approver: APPROVER });
}

async function park(parts: Parts, side: Side): Promise<ParkResult> {
  const { park: count, releaseConcurrency, decideSamples, sagaTimeoutMs } = parts.settings;
  // A fresh worker per side: its RSS holds this side's parked sagas only.
  await parts.worker.stop();
  parts.worker = await WorkerProcess.start(parts.workerEnv);
  await sleep(2_000);
  const idle = await parts.worker.usage();
  const ids = range(count).map((i) => `vs/${parts.runId}/${side}/park/${i}`);
  const runningBefore = await countRunning(parts, side);
  if (runningBefore !== 0) throw new Error(`${runningBefore} ${WORKFLOW_TYPE[side]} still running before parking`);

  progress(`parking ${count} ${side} sagas (${releaseConcurrency} starts in flight)`);
  const started = performance.now();
  await pool(ids, releaseConcurrency, async (id, i) => {
    await start(parts, side, id, { set: 'trivial', name: diskName(parts, side, `park-${i}`), park: PARK });
  });
  // Parked: every saga took its first task and waits. Checked in passes until all are.
  // However loaded the machine, the run waits while sagas keep parking; 120 s without one is a failure.
  let waiting = ids;
  let progressedAt = performance.now();
  while (waiting.length > 0) {
    if (performance.now() - progressedAt > 120_000) throw new Error(`${waiting.length} ${side} sagas not parked, none parked in the last 120 s`);
    const before = waiting.length;
    const still: string[] = [];
    await pool(waiting, releaseConcurrency, async (id) => {
      if (!(await isParked(parts, id))) still.push(id);
    });
    waiting = still;
    if (waiting.length < before) progressedAt = performance.now();
    if (waiting.length > 0) {
      progress(`  ${count - waiting.length}/${count} parked`);
      await sleep(1_000);
    }
  }
  const parkWallMs = performance.now() - started;
  await sleep(2_000);
  const parked = await parts.worker.usage();
  progress(`  ${count} parked in ${(parkWallMs / 1000).toFixed(1)} s; worker RSS ${(parked.rss / MiB).toFixed(0)} MiB (idle ${(idle.rss / MiB).toFixed(0)} MiB)`);

  const sample = parts.client.workflow.getHandle(ids[0]!);
  const parkedHistory = (await sample.fetchHistory()).events ?? [];

  // One saga decided while all the others wait.
  const decideSendMs: number[] = [];
  const decideActedMs: number[] = [];
  const decideCompleteMs: number[] = [];
  for (const id of ids.slice(0, decideSamples)) {
    const sentAt = Date.now();
    const t0 = performance.now();
    await decide(parts, side, id);
    const t1 = performance.now();
    const handle = parts.client.workflow.getHandle(id);
    await bounded(handle.result(), sagaTimeoutMs, `saga ${id}`);
    decideSendMs.push(t1 - t0);
    decideCompleteMs.push(performance.now() - t0);
    // Acted on: the server's time of the first step's ActivityTaskScheduled (the step's own
    // activity: an approval may schedule others before it parks), from the same clock.
    const first = ((await handle.fetchHistory()).events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'vsTrivialAction');
    const seconds = Number(first?.eventTime?.seconds ?? NaN);
    decideActedMs.push(seconds * 1000 + (first?.eventTime?.nanos ?? 0) / 1e6 - sentAt);
  }
  progress(
    `  decide one: ${median(decideSendMs).toFixed(0)} ms to send, ${median(decideActedMs).toFixed(0)} ms to its first step, ` +
      `${median(decideCompleteMs).toFixed(0)} ms to completed (median of ${decideSamples})`,
  );
  let breakdown: ParkResult['breakdown'];
  let rest = ids.slice(decideSamples);
  if (side === 'unwind') {
    // The client's approve, taken apart: describe (is it running?), the status query (which wait?), the update.
    breakdown = { describeMs: [], statusQueryMs: [], updateWithWaitIdMs: [] };
    for (const id of rest.slice(0, decideSamples)) {
      const handle = parts.client.workflow.getHandle(id);
      let t = performance.now();
      await handle.describe();
      breakdown.describeMs.push(performance.now() - t);
      t = performance.now();
      const status = await handle.query(sagaStatusQuery);
      breakdown.statusQueryMs.push(performance.now() - t);
      const waitId = status.pendingApproval?.waitId;
      if (waitId === undefined) throw new Error(`${id} has no pending approval`);
      t = performance.now();
      await handle.executeUpdate(approveUpdate, { args: [{ approver: APPROVER, waitId }] });
      breakdown.updateWithWaitIdMs.push(performance.now() - t);
      await bounded(handle.result(), sagaTimeoutMs, `saga ${id}`);
    }
    rest = rest.slice(decideSamples);
  } else {
    // The same number decided on the hand-written side, so both release the same count.
    for (const id of rest.slice(0, decideSamples)) {
      await decide(parts, side, id);
      await bounded(parts.client.workflow.getHandle(id).result(), sagaTimeoutMs, `saga ${id}`);
    }
    rest = rest.slice(decideSamples);
  }
  const decided = parts.client.workflow.getHandle(ids[1]!);
  const endHistory = (await decided.fetchHistory()).events ?? [];

  progress(`  releasing ${rest.length} (${releaseConcurrency} decisions in flight)`);
  const beforeRelease = await parts.worker.usage();
  const releaseStarted = performance.now();
  if (side === 'handwritten') await pool(rest, releaseConcurrency, (id) => decide(parts, side, id));
  else {
    // The client's bulk path, as `unwind approve --all-waiting` sends it: one update per saga, named by its step.
    const listed = rest.map((workflowId) => ({ workflowId, saga: WORKFLOW_TYPE.unwind, step: PARK_STEP }));
    const burst = await parts.unwind.sagas.approveEach(listed, { approver: APPROVER }, { concurrency: releaseConcurrency });
    if (burst.approved !== rest.length) throw new Error(`approveEach approved ${burst.approved} of ${rest.length}: ${JSON.stringify(burst.outcomes.find((o) => o.outcome !== 'approved'))}`);
  }
  const releaseSendMs = performance.now() - releaseStarted;
  // Released sagas run their 10 steps: wait while they make progress, however long that takes.
  let stalledSince = performance.now();
  for (let last = Infinity; ; ) {
    const running = await countRunning(parts, side);
    if (running === 0) break;
    if (running < last) [last, stalledSince] = [running, performance.now()];
    if (performance.now() - stalledSince > 120_000) throw new Error(`${running} ${side} sagas still running, none finished in the last 120 s`);
    checkAbort();
    await sleep(250);
  }
  const releaseCompleteMs = performance.now() - releaseStarted;
  const afterRelease = await parts.worker.usage();
  const { count: completed } = await parts.client.workflow.count(
    `WorkflowType = '${WORKFLOW_TYPE[side]}' AND ExecutionStatus = 'Completed' AND WorkflowId STARTS_WITH 'vs/${parts.runId}/${side}/park/'`,
  );
  if (completed !== count) throw new Error(`${completed} of ${count} parked ${side} sagas completed`);
  progress(`  released: decisions sent in ${(releaseSendMs / 1000).toFixed(1)} s, all completed in ${(releaseCompleteMs / 1000).toFixed(1)} s`);
  return {
    side,
    parked: count,
    idleRss: idle.rss,
    parkedRss: parked.rss,
    parkedHeapUsed: parked.heapUsed,
    parkWallMs,
    parkCpuMs: (parked.cpuUs - idle.cpuUs) / 1000,
    eventsWhileParked: parkedHistory.length,
    eventsAtEnd: endHistory.length,
    typesWhileParked: eventTypes(parkedHistory),
    typesAtEnd: eventTypes(endHistory),
    decideSendMs,
    decideActedMs,
    decideCompleteMs,
    ...(breakdown && { breakdown }),
    released: rest.length,
    releaseSendMs,
    releaseCompleteMs,
    releaseCpuMs: (afterRelease.cpuUs - beforeRelease.cpuUs) / 1000,
    slowTasks: afterRelease.slowTasks - idle.slowTasks,
    workerOptions: parts.worker.options,
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
