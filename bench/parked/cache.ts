/**
 * Parked sagas and the worker's cache: starts N sagas that park at an approval on a dev server,
 * served by one worker with the cache settings of `workerTuning` (src/temporal/worker-config.ts,
 * UNWIND_* variables), and reports the process's RSS once they are parked, then how long
 * deciding one of the first parked (evicted from the cache when N exceeds it, so replayed)
 * takes: from the `approve` call to its answer, and to the saga's next step scheduled.
 *
 *   npx tsx bench/parked/cache.ts [N=1500]
 *   UNWIND_MAX_CACHED_WORKFLOWS=2300 npx tsx bench/parked/cache.ts 1500   # the SDK's default size, for comparison
 */
import { join } from 'node:path';
import { bundleWorkflowCode, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createOperatorActivities } from '../../src/activities/notify-operator';
import { createDevServerEnv, quietLogger } from '../../src/testing';
import { workerTuning } from '../../src/temporal/worker-config';
import { createLedgerActivities, FakeLedger } from '../../test/helpers/ledger';
import { approveUpdate, plannedSaga, sagaStatusQuery } from '../../test/workflows/saga-workflows';

const N = Number(process.argv[2] ?? 1500);
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tuning = workerTuning(process.env);
  const env = await createDevServerEnv();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, '..', '..', 'test', 'workflows', 'saga-workflows.ts'), logger: quietLogger });
  const taskQueue = 'parked-cache';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    ...tuning,
    activities: { ...createLedgerActivities(new FakeLedger()), ...createOperatorActivities({ sink: () => undefined, personSink: () => undefined }) },
  });
  const running = worker.run();
  const rss0 = process.memoryUsage().rss;
  const plan = [
    { approval: 'approve', options: { request: 'go', approvers: ['alice'], remindEvery: '4h', expireAfter: '3 days' } },
    { step: 'after' },
  ];
  const started = Date.now();
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, N - i) }, (_, j) => env.client.workflow.start(plannedSaga, { taskQueue, workflowId: `parked-${i + j}`, args: [{ plan }] })),
    );
  }
  // Parked: every saga's first task done (the last started answers its status query as awaiting).
  for (;;) {
    const s = await env.client.workflow.getHandle(`parked-${N - 1}`).query(sagaStatusQuery).catch(() => undefined);
    if (s?.state === 'awaiting-approval') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 3000));
  global.gc?.();
  const rss = process.memoryUsage().rss;
  console.log(`${N} sagas parked in ${Date.now() - started} ms; cache ${tuning.maxCachedWorkflows}, reuseV8Context ${tuning.reuseV8Context}; RSS ${mib(rss0)} MiB before, ${mib(rss)} MiB parked (${Math.round((rss - rss0) / Math.min(N, tuning.maxCachedWorkflows || 1) / 1024)} KiB per cached saga)`);

  const latencies: number[] = [];
  for (const i of [0, 1, 2, 3, 4, Math.floor(N / 3), Math.floor(N / 2)]) {
    const handle = env.client.workflow.getHandle(`parked-${i}`);
    const t0 = Date.now();
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    const answered = Date.now() - t0;
    const events = (await handle.fetchHistory()).events ?? [];
    const accepted = events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    // The step after the approval: the first activity scheduled once the update was accepted (the approvers' notice came before).
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes && Number(e.eventId) > Number(accepted?.eventId ?? Infinity));
    const ms = (e: typeof accepted) => (e?.eventTime ? Number(e.eventTime.seconds) * 1000 + Math.round((e.eventTime.nanos ?? 0) / 1e6) : NaN);
    latencies.push(answered);
    console.log(`decided parked-${i}: approve answered in ${answered} ms; next step scheduled ${ms(scheduled) - ms(accepted)} ms after the update was accepted`);
  }
  console.log(`decision latency: max ${Math.max(...latencies)} ms, RSS after ${mib(process.memoryUsage().rss)} MiB`);
  worker.shutdown();
  await running;
  await env.teardown();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
