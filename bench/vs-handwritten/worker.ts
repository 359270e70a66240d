/**
 * The vs-handwritten bench's worker, its own process so that its CPU (`process.cpuUsage`, every
 * thread of the process, the SDK's core included) and RSS are measured alone. It serves both
 * sides on one task queue: the hand-written saga, the unwind saga (with `remindPeople` for
 * approvals), unwind's real activities over the rack and the trivial activities.
 *
 * Started by main.ts with `fork` (an IPC channel): it answers `{ type: 'usage', id }` with its
 * CPU and memory, stops on `{ type: 'shutdown' }` and when the driver goes away.
 *
 * Environment: VS_ADDRESS, VS_NAMESPACE, VS_TASK_QUEUE, VS_RACK_URL, VS_BUNDLE (a bundled
 * workflow file). The SDK's default worker options unless set:
 *   UNWIND_MAX_CACHED_WORKFLOWS         maxCachedWorkflows (a whole number)
 *   UNWIND_REUSE_V8_CONTEXT             reuseV8Context (true/false, 1/0)
 *   UNWIND_STICKY_TIMEOUT               stickyQueueScheduleToStartTimeout (`10s`, or milliseconds)
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createRackClient } from '../../src/rack/client';
import { createTrivialActivities } from './activities';

/** What the worker tells the driver. */
export type WorkerMessage =
  | { type: 'ready'; options: EffectiveOptions; pid: number }
  | { type: 'usage'; id: number; cpuUs: number; rss: number; heapUsed: number; slowTasks: number }
  | { type: 'failed'; message: string };

/** What the driver asks. */
export type DriverMessage = { type: 'usage'; id: number } | { type: 'shutdown' };

/** The cache settings the worker runs with, as the SDK resolved them. */
export interface EffectiveOptions {
  maxCachedWorkflows: number;
  reuseV8Context: boolean;
  stickyQueueScheduleToStartTimeoutMs: number;
  maxConcurrentWorkflowTaskExecutions: number | undefined;
  maxConcurrentActivityTaskExecutions: number | undefined;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the bench's main.ts sets it)`);
  return value;
}

/** The cache settings read from UNWIND_*; unset ones are left to the SDK. */
export function cacheOptions(env: NodeJS.ProcessEnv = process.env): Pick<WorkerOptions, 'maxCachedWorkflows' | 'reuseV8Context' | 'stickyQueueScheduleToStartTimeout'> {
  const options: Pick<WorkerOptions, 'maxCachedWorkflows' | 'reuseV8Context' | 'stickyQueueScheduleToStartTimeout'> = {};
  const max = env.UNWIND_MAX_CACHED_WORKFLOWS;
  if (max !== undefined && max !== '') {
    if (!/^\d+$/.test(max)) throw new Error(`UNWIND_MAX_CACHED_WORKFLOWS must be a whole number (got '${max}')`);
    options.maxCachedWorkflows = Number(max);
  }
  const reuse = env.UNWIND_REUSE_V8_CONTEXT;
  if (reuse !== undefined && reuse !== '') {
    if (!/^(true|false|1|0)$/i.test(reuse)) throw new Error(`UNWIND_REUSE_V8_CONTEXT must be true or false (got '${reuse}')`);
    options.reuseV8Context = /^(true|1)$/i.test(reuse);
  }
  const sticky = env.UNWIND_STICKY_TIMEOUT;
  if (sticky !== undefined && sticky !== '') {
    if (/^\d+$/.test(sticky)) options.stickyQueueScheduleToStartTimeout = Number(sticky);
    else if (/^\d+(\.\d+)?\s*(ms|s|m|h)$/.test(sticky)) options.stickyQueueScheduleToStartTimeout = sticky as `${number}s`;
    else throw new Error(`UNWIND_STICKY_TIMEOUT must be a duration such as 10s or a number of milliseconds (got '${sticky}')`);
  }
  return options;
}

const send = (message: WorkerMessage) => process.send?.(message);

/** Workflow tasks that took over 5 s (core's TMPRL1104 warning) so far. */
let slowTasks = 0;

async function run(): Promise<void> {
  // Core's warnings come through the logger: a workflow task over 5 s (TMPRL1104, a worker
  // starved of CPU) is counted for the report instead of printed; errors are printed.
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      if (entry.message.includes('TMPRL1104')) slowTasks++;
      else if (entry.level === 'ERROR') console.error(`vs-handwritten worker: ${entry.message}`);
    }),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
  const connection = await NativeConnection.connect({ address: required('VS_ADDRESS') });
  const rack = createRackClient({ baseUrl: required('VS_RACK_URL') });
  const quiet = () => undefined;
  const worker = await Worker.create({
    connection,
    namespace: process.env.VS_NAMESPACE ?? 'default',
    taskQueue: required('VS_TASK_QUEUE'),
    workflowBundle: { codePath: required('VS_BUNDLE') },
    activities: { ...createActivities({ rack, notifications: quiet, personNotifications: quiet }), ...createTrivialActivities() },
    ...cacheOptions(),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    worker.shutdown();
    // Bounded: a shutdown that hangs must not leave a stray process.
    setTimeout(() => process.exit(2), 30_000).unref();
  };
  process.on('message', (message: DriverMessage) => {
    if (message.type === 'shutdown') stop();
    else if (message.type === 'usage') {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      send({ type: 'usage', id: message.id, cpuUs: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed, slowTasks });
    }
  });
  // The driver went away (crashed, killed): stop too.
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const running = worker.run();
  const o = worker.options;
  send({
    type: 'ready',
    pid: process.pid,
    options: {
      maxCachedWorkflows: o.maxCachedWorkflows,
      reuseV8Context: o.reuseV8Context ?? true,
      stickyQueueScheduleToStartTimeoutMs: o.stickyQueueScheduleToStartTimeoutMs,
      maxConcurrentWorkflowTaskExecutions: o.maxConcurrentWorkflowTaskExecutions,
      maxConcurrentActivityTaskExecutions: o.maxConcurrentActivityTaskExecutions,
    },
  });
  try {
    await running;
  } finally {
    await connection.close();
  }
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    console.error('vs-handwritten worker:', err);
    process.exit(1);
  },
);
