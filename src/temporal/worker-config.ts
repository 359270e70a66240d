/**
 * What every unwind worker shares: the task queue and where the workflow bundle's entry is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The task queue unwind's workers poll and its client starts workflows on. */
export const TASK_QUEUE = process.env.UNWIND_TASK_QUEUE ?? 'unwind';

const workflowsDir = join(__dirname, '..', 'workflows');

/**
 * The workflow bundle entry, bundled by the worker (and by the determinism-fence test): the
 * TypeScript source when unwind runs from source (tsx, vitest), the compiled `index.js` when it
 * runs from `dist/` (the container image).
 */
export const workflowsPath = existsSync(join(workflowsDir, 'index.ts')) ? join(workflowsDir, 'index.ts') : join(workflowsDir, 'index.js');

/** A worker setting given a value it cannot take: names the variable and what it expects. */
export class WorkerTuningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerTuningError';
  }
}

/** The workflow-cache settings of an unwind worker (see {@link workerTuning}). */
export interface WorkerTuning {
  /** Workflows kept in memory between tasks; evicted ones replay their history when next woken. */
  maxCachedWorkflows: number;
  /** One V8 context for every cached workflow, each workflow's globals swapped in and out. */
  reuseV8Context: boolean;
  /** How long a task waits on this worker's sticky queue before any worker may take it (replaying). */
  stickyQueueScheduleToStartTimeout: string;
  /** Workflow tasks this worker runs at once. */
  maxConcurrentWorkflowTaskExecutions: number;
}

/**
 * The defaults, chosen for a worker whose sagas mostly park (awaiting an approval or an
 * operator): memory stays bounded however many park, and a parked saga evicted from the cache
 * pays a replay of its history (a few dozen events, milliseconds) when it is decided.
 */
export const WORKER_TUNING_DEFAULTS: Readonly<WorkerTuning> = Object.freeze({
  // The SDK sizes the cache from the heap limit (~2,300 workflows for a 4 GiB heap, never given back).
  // A cached workflow holds its own instance of every module of the bundle, 3-4 MB: measured with
  // bench/parked/cache.ts at 10,000 parked, 100 keeps the worker at 0.7 GiB (250: 1.3 GiB).
  maxCachedWorkflows: 100,
  // The SDK's default: one context for all cached workflows costs far less memory than one context each.
  reuseV8Context: true,
  // The SDK's default (10s): a task for a worker that died is replayed elsewhere after that long; shorter only adds replays when the worker is busy.
  stickyQueueScheduleToStartTimeout: '10s',
  // Fewer than the cache (at most the cache): a burst of decisions on evicted sagas replays 40 at a time on 2 cores instead of thrashing.
  maxConcurrentWorkflowTaskExecutions: 40,
});

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DURATION_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback: number, what: string): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new WorkerTuningError(`${name}=${JSON.stringify(env[name])} is not valid: expected a whole number from ${min} to ${max} (${what}).`);
  }
  return Number(raw);
}

/**
 * Reads the worker's cache settings from the environment, each defaulting to
 * {@link WORKER_TUNING_DEFAULTS}:
 *
 * - `UNWIND_MAX_CACHED_WORKFLOWS`: 0 (no cache: every task replays) or 2..100000.
 * - `UNWIND_REUSE_V8_CONTEXT`: `true` or `false`.
 * - `UNWIND_STICKY_TIMEOUT`: a duration from 1s to 1h (`500ms`, `10s`, `2m`).
 * - `UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS`: 2..1000, and at most the cache when there is one.
 *
 * @throws {@link WorkerTuningError} naming the variable and what it expects.
 */
export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const d = WORKER_TUNING_DEFAULTS;
  const maxCachedWorkflows = integer(env, 'UNWIND_MAX_CACHED_WORKFLOWS', 0, 100_000, d.maxCachedWorkflows, '0 turns the cache off; otherwise at least 2');
  if (maxCachedWorkflows === 1) {
    throw new WorkerTuningError('UNWIND_MAX_CACHED_WORKFLOWS="1" is not valid: expected 0 (no cache) or a whole number from 2 to 100000.');
  }
  let reuseV8Context = d.reuseV8Context;
  const reuse = env.UNWIND_REUSE_V8_CONTEXT?.trim().toLowerCase();
  if (reuse !== undefined && reuse !== '') {
    if (reuse !== 'true' && reuse !== 'false') {
      throw new WorkerTuningError(`UNWIND_REUSE_V8_CONTEXT=${JSON.stringify(env.UNWIND_REUSE_V8_CONTEXT)} is not valid: expected true or false.`);
    }
    reuseV8Context = reuse === 'true';
  }
  let stickyQueueScheduleToStartTimeout = d.stickyQueueScheduleToStartTimeout;
  const sticky = env.UNWIND_STICKY_TIMEOUT?.trim();
  if (sticky !== undefined && sticky !== '') {
    const m = DURATION.exec(sticky);
    const ms = m ? Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS] : NaN;
    if (!(ms >= 1_000 && ms <= 3_600_000)) {
      throw new WorkerTuningError(`UNWIND_STICKY_TIMEOUT=${JSON.stringify(env.UNWIND_STICKY_TIMEOUT)} is not valid: expected a duration from 1s to 1h, such as 10s, 1500ms or 2m.`);
    }
    stickyQueueScheduleToStartTimeout = `${ms}ms`;
  }
  const cap = maxCachedWorkflows === 0 ? 1_000 : Math.min(1_000, maxCachedWorkflows);
  const maxConcurrentWorkflowTaskExecutions = integer(
    env,
    'UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS',
    2,
    cap,
    Math.min(d.maxConcurrentWorkflowTaskExecutions, Math.max(cap, 2)),
    maxCachedWorkflows === 0 ? 'workflow tasks at once' : `workflow tasks at once, at most UNWIND_MAX_CACHED_WORKFLOWS (${maxCachedWorkflows})`,
  );
  return { maxCachedWorkflows, reuseV8Context, stickyQueueScheduleToStartTimeout, maxConcurrentWorkflowTaskExecutions };
}
