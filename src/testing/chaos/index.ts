/**
 * The chaos run: a bounded, seeded stream of sagas against a real cluster while workers, the
 * Temporal server and its database are killed and restarted, with faults on the rack; then a
 * verdict from the engine's and the rack's own records (./checks.ts) and a replay of every
 * history the run produced. `npm run chaos` runs it on the PostgreSQL cluster; CI runs a short
 * one (test/chaos.test.ts); `npm run bench -- chaos` the full thousand.
 */
import { OperatorActionRefusedError, SagaCancelledError, SagaConflictError, SagaUnwoundError, type SagaHandle, type UnwindClient } from '../../client';
import { boundedMap } from '../../client/bounded-map';
import type { RackClient } from '../../rack';
import type { StepStatus } from '../../schemas/saga';
import { type ChaosOutcome, type ChaosSaga, type ChaosViolation, checkChaos } from './checks';
import { swapAndReport } from './technician';
import { type ChaosRequest, type ChaosSagaType, Workload } from './workload';

export { checkChaos, checkInventory, type ChaosOutcome, type ChaosSaga, type ChaosViolation } from './checks';
export { DEFAULT_MIX, type ChaosRequest, type ChaosSagaType, Workload } from './workload';

/** A part of the system the run kills (SIGKILL) and starts again. */
export interface Killable {
  readonly name: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** What a chaos run acts on. */
export interface ChaosTarget {
  client: UnwindClient;
  rack: RackClient;
  /** Sleds the run may replace (each at most once at a time). */
  sleds: readonly string[];
  /** The worker processes; one at a time is killed every `workerKillEveryMs`. */
  workers: readonly Killable[];
  /** The Temporal server, killed every `serverKillEveryMs`. */
  server?: Killable;
  /** The server's database, killed once, halfway through. */
  database?: Killable;
  /** Replays the histories of every workflow the run produced; returns those that do not replay. */
  replayAll(): Promise<{ replayed: number; failures: ChaosViolation[] }>;
}

/** The knobs of a run; every default suits the full run on two cores. */
export interface ChaosOptions {
  /** Sagas to run (1,000). */
  sagas?: number;
  seed?: number;
  /** Sagas in flight at once (16). */
  concurrency?: number;
  /** Kill a worker this often (20 s); 0 never. */
  workerKillEveryMs?: number;
  /** Kill the Temporal server this often (60 s); 0 never. */
  serverKillEveryMs?: number;
  /** Kill the database once, this far into the run (at half of the expected run, 90 s); 0 never. */
  databaseKillAtMs?: number;
  /** How long a killed part stays down (2 s). */
  downMs?: number;
  /** Rack faults on every operation: transient and ambiguous rates, latency. */
  faults?: { transientRate: number; ambiguousRate: number; latencyMs: number };
  /** One saga in this many meets a permanent fault an operator must decide (40). */
  permanentFaultEvery?: number;
  /** A saga not finished this long after its start is a violation (10 min). */
  sagaDeadlineMs?: number;
  /** Relative weights of the saga types ({@link DEFAULT_MIX}). */
  mix?: Readonly<Record<ChaosSagaType, number>>;
  /** Progress lines (one every few seconds). */
  progress?: (line: string) => void;
}

/** What the run did and found. */
export interface ChaosReport {
  seed: number;
  sagas: number;
  byState: Record<string, number>;
  byType: Record<string, Record<string, number>>;
  kills: Record<string, number>;
  faults: { transientRate: number; ambiguousRate: number; latencyMs: number; permanent: Record<string, number>; decisions: Record<string, number> };
  replayed: number;
  wallMs: number;
  violations: ChaosViolation[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const POLL_MS = 1_000;
const OPERATOR = 'chaos-run';

/**
 * Runs `fn` until it answers, riding out a server or database that is down: connection and
 * unavailability errors are retried every half second until `deadline`. Answers of the system
 * (refusals, conflicts, failures of the saga) pass through at once.
 */
async function persist<T>(fn: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isUnreachable(error) || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** gRPC codes a server or database being restarted answers with: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE. */
const RESTARTING_CODES = new Set([1, 4, 8, 13, 14]);

/** Whether `error` says a server or database is away (restarting), rather than answering. */
export function isUnreachable(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown; message?: string } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number' && RESTARTING_CODES.has(e.code)) return true;
    // A server just restarted answers "Namespace not found" (or "Namespace default is not found")
    // until its namespace registry has loaded.
    if (/ECONNREFUSED|ECONNRESET|No connection established|Connection dropped|Failed to connect|Namespace (\S+ is )?not found/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** Runs the chaos and returns its report; never throws for a violation (the report lists them). */
export async function runChaos(target: ChaosTarget, options: ChaosOptions = {}): Promise<ChaosReport> {
  const total = options.sagas ?? 1_000;
  const seed = options.seed ?? 1;
  const concurrency = options.concurrency ?? 16;
  const downMs = options.downMs ?? 2_000;
  const deadlineMs = options.sagaDeadlineMs ?? 10 * 60_000;
  const faults = options.faults ?? { transientRate: 0.05, ambiguousRate: 0.02, latencyMs: 5 };
  const permanentEvery = options.permanentFaultEvery ?? 40;
  const progress = options.progress ?? (() => undefined);
  const { client, rack } = target;
  const started = Date.now();
  const workload = new Workload(seed, target.sleds, options.mix);
  const sagas: ChaosSaga[] = [];
  const kills: Record<string, number> = {};
  const permanent: Record<string, number> = {};
  const decisions: Record<string, number> = {};
  const count = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

  await rack.faults.clear();
  await rack.faults.seed(seed);
  await rack.faults.setRule({ operation: '*', ...faults });

  // Killers: each waits for the part to be back before the next kill.
  let running = true;
  const killers: Promise<void>[] = [];
  const every = (ms: number | undefined, pick: () => Killable | undefined) => {
    if (!ms) return;
    killers.push(
      (async () => {
        for (let next = Date.now() + ms; running; next += ms) {
          while (running && Date.now() < next) await sleep(Math.min(250, next - Date.now()));
          const part = running ? pick() : undefined;
          if (!part) continue;
          progress(`chaos: SIGKILL ${part.name}`);
          await part.kill();
          count(kills, part.name.replace(/ \d+$/, ''));
          await sleep(downMs);
          await part.start();
          progress(`chaos: ${part.name} is back`);
        }
      })(),
    );
  };
  every(options.workerKillEveryMs ?? 20_000, () => target.workers[Math.floor(workload.draw() * target.workers.length)]);
  every(options.serverKillEveryMs ?? 60_000, () => target.server);
  let databaseKilled = false;
  every(options.databaseKillAtMs ?? 90_000, () => {
    if (databaseKilled) return undefined;
    databaseKilled = true;
    return target.database;
  });

  const decidedOn = new Map<string, string[]>();
  const deskFailures: ChaosViolation[] = [];

  /** Decides every open wait of a saga as an operator would: retry, or unwind where it is offered. */
  async function decideWaits(workflowId: string): Promise<void> {
    const { waiting } = await client.sagas.status(workflowId);
    for (const wait of waiting) {
      const action = wait.actions.includes('unwind') && workload.draw() < 0.5 ? 'unwind' : wait.actions.includes('retry') ? 'retry' : wait.actions[0]!;
      try {
        const decided = await client.sagas[action](workflowId, { operator: OPERATOR, reason: `chaos run decides ${action}`, waitId: wait.waitId, step: wait.step });
        decidedOn.set(workflowId, [...(decidedOn.get(workflowId) ?? []), `${decided.action} at ${decided.step}`]);
        count(decisions, decided.action);
      } catch (error) {
        if (!(error instanceof OperatorActionRefusedError)) throw error; // the wait ended meanwhile
      }
    }
  }

  /**
   * The operator's desk: every saga that waits for an operator — the run's own and the children
   * they start (a sled replacement's migrations) — found as an operator finds them (`unwind list
   * --state needs-operator`, `stuck`) and decided wait by wait.
   */
  async function operatorDesk(): Promise<void> {
    while (running) {
      try {
        const waiting = [...(await client.sagas.list({ state: 'needs-operator' })), ...(await client.sagas.list({ state: 'stuck' }))];
        for (const { workflowId } of waiting) await decideWaits(workflowId);
      } catch (error) {
        if (!isUnreachable(error)) deskFailures.push({ what: `the operator's desk could not decide: ${(error as Error).message}` });
      }
      await sleep(2 * POLL_MS);
    }
  }
  const desk = operatorDesk();

  /** Starts one saga and follows it to its end, approving it and reporting its hardware when asked. */
  async function runOne(index: number, request: ChaosRequest): Promise<ChaosSaga> {
    const saga: ChaosSaga = { index, request, outcome: 'unfinished', decisions: [] };
    const deadline = Date.now() + deadlineMs;
    if (index % permanentEvery === permanentEvery - 1) {
      // The next call of a mutation fails permanently: whichever saga meets it pauses for the run to decide.
      const kind = workload.draw() < 0.5 ? 'needs-operator' : 'unknown-state';
      const operations = ['regions.ensure', 'nics.create', 'vmms.create', 'instances.update', 'ips.allocate', 'disks.create'];
      const operation = operations[Math.floor(workload.draw() * operations.length)]!;
      await rack.faults.script({ operation, kind, count: 1 });
      count(permanent, `${kind} on ${operation}`);
    }
    let handle: SagaHandle;
    try {
      handle = await persist(() => start(client, request, `chaos-${seed}-${index}`), deadline);
    } catch (error) {
      if (error instanceof SagaConflictError) return { ...saga, outcome: 'refused', error: error.message };
      return { ...saga, outcome: 'failed', error: `could not start: ${(error as Error).message}` };
    }
    saga.workflowId = handle.workflowId;
    let approved = false;
    let reported = false;
    for (;;) {
      const summary = await persist(() => handle.describe(), deadline).catch(() => undefined);
      if (summary && summary.status !== 'running') break;
      if (Date.now() > deadline) return { ...saga, error: `still ${summary?.state ?? 'unknown'} at ${summary?.step ?? '?'} after ${deadlineMs / 1000}s` };
      const state = summary?.state;
      try {
        if (state === 'awaiting-approval') {
          await client.sagas.approve(handle.workflowId, { approver: 'chaos-approver', comment: 'chaos run approves' });
          approved = true;
        } else if (request.type === 'sledReplace' && approved && !reported) {
          // The technician swaps the sled and reports it; refused until the saga waits for hardware.
          const swap = { workflowId: handle.workflowId, sledId: request.sledId, serial: `CHAOS-${seed}-${index}`, key: `chaos/${seed}/${index}/swap` };
          reported = await swapAndReport(rack, client, swap, isUnreachable);
        }
      } catch (error) {
        // A refusal (the wait moved on), or the server away: look again.
        if (!(error instanceof OperatorActionRefusedError) && !isUnreachable(error)) throw error;
      }
      await sleep(POLL_MS);
    }
    try {
      saga.result = (await persist(() => handle.result(), deadline)) as Record<string, unknown>;
      saga.outcome = 'completed';
    } catch (error) {
      if (error instanceof SagaUnwoundError) Object.assign(saga, { outcome: 'unwound' as ChaosOutcome, details: error.details });
      else if (error instanceof SagaCancelledError) Object.assign(saga, { outcome: 'cancelled' as ChaosOutcome, error: error.message });
      else Object.assign(saga, { outcome: 'failed' as ChaosOutcome, error: (error as Error).message });
    }
    return saga;
  }

  // Bounded concurrency: a slot takes the next request only once one finishes, so deletes and
  // migrations act on instances that earlier creates finished.
  let lastReport = Date.now();
  const runNext = async (index: number) => {
    const request = workload.request(index);
    const saga = await runOne(index, request);
    workload.settled(request, { completed: saga.outcome === 'completed', instanceId: saga.result?.instanceId as string | undefined });
    sagas.push(saga);
    if (Date.now() - lastReport > 5_000) {
      lastReport = Date.now();
      progress(`chaos: ${sagas.length}/${total} sagas ended (${summarize(sagas)}) in ${Math.round((Date.now() - started) / 1000)}s`);
    }
  };
  try {
    await boundedMap(Array.from({ length: total }, (_, index) => index), concurrency, runNext);
  } finally {
    running = false;
    await Promise.all([...killers, desk]);
  }
  for (const saga of sagas) saga.decisions = (saga.workflowId && decidedOn.get(saga.workflowId)) || [];
  progress(`chaos: all ${total} sagas ended in ${Math.round((Date.now() - started) / 1000)}s; checking`);

  await rack.faults.clear();
  const stepsOf = async (workflowId: string): Promise<readonly StepStatus[]> =>
    (await persist(() => client.sagas.status(workflowId), Date.now() + 60_000)).steps;
  const violations = [...deskFailures, ...(await checkChaos(sagas, rack, stepsOf))];
  progress(`chaos: replaying every history`);
  const replay = await target.replayAll();
  violations.push(...replay.failures);

  const byType: Record<string, Record<string, number>> = {};
  const byState: Record<string, number> = {};
  for (const saga of sagas) {
    count(byState, saga.outcome);
    count((byType[saga.request.type] ??= {}), saga.outcome);
  }
  return {
    seed,
    sagas: total,
    byState,
    byType,
    kills,
    faults: { ...faults, permanent, decisions },
    replayed: replay.replayed,
    wallMs: Date.now() - started,
    violations,
  };
}

function summarize(sagas: readonly ChaosSaga[]): string {
  const by: Record<string, number> = {};
  for (const s of sagas) by[s.outcome] = (by[s.outcome] ?? 0) + 1;
  return Object.entries(by).map(([k, v]) => `${k} ${v}`).join(', ');
}

function start(client: UnwindClient, request: ChaosRequest, requestId: string): Promise<SagaHandle> {
  switch (request.type) {
    case 'instanceCreate': {
      const { type: _type, ...params } = request;
      return client.instances.create({ ...params, requestId });
    }
    case 'diskCreate':
      return client.disks.create({ name: request.name, sizeGiB: request.sizeGiB, requestId });
    case 'instanceDelete':
      return client.instances.delete({ instanceId: request.instanceId, requestId });
    case 'instanceMigrate':
      return client.instances.migrate({ instanceId: request.instanceId, requestId });
    case 'sledReplace':
      return client.sleds.replace({ sledId: request.sledId, approvers: ['chaos-approver'], technicians: ['chaos-technician'], requestId });
  }
}

/** The report as a person reads it: sagas per state and type, kills, faults, replay, violations. */
export function renderChaosReport(report: ChaosReport): string {
  const lines = [
    `chaos run: ${report.sagas} sagas, seed ${report.seed}, ${(report.wallMs / 1000).toFixed(0)} s`,
    `  by state     ${Object.entries(report.byState).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...Object.entries(report.byType).map(([type, states]) => `  ${type.padEnd(16)} ${Object.entries(states).map(([k, v]) => `${k} ${v}`).join(', ')}`),
    `  kills        ${Object.entries(report.kills).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`,
    `  rack faults  transient ${report.faults.transientRate}, ambiguous ${report.faults.ambiguousRate}, latency ${report.faults.latencyMs} ms on every operation`,
    `  permanent    ${Object.entries(report.faults.permanent).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}; decided ${Object.entries(report.faults.decisions).map(([k, v]) => `${k} ×${v}`).join(', ') || 'nothing'}`,
    `  replayed     ${report.replayed} histories`,
    report.violations.length === 0 ? '  violations   none' : `  violations   ${report.violations.length}:`,
    ...report.violations.slice(0, 50).map((v) => `    ${v.workflowId ?? '(rack)'}: ${v.what}`),
  ];
  if (report.violations.length > 50) lines.push(`    … and ${report.violations.length - 50} more`);
  return lines.join('\n');
}
