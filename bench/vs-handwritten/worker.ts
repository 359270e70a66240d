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
 * workflow file). The worker settings are unwind's own, `workerTuning()`: its defaults unless
 * UNWIND_MAX_CACHED_WORKFLOWS, UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS, UNWIND_REUSE_V8_CONTEXT or
 * UNWIND_STICKY_TIMEOUT say otherwise (README, "Worker tuning").
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createRackClient } from '../../src/rack/client';
import { workerTuning } from '../../src/temporal/worker-config';
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
    // The settings unwind's worker runs with (src/temporal/worker-config.ts), defaults included.
    ...workerTuning(),
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
