import { join } from 'node:path';
/**
 * What the saga engine's tests share: a time-skipping server with unwind's search attributes
 * registered, one worker per test file serving the test sagas with fake activities, and
 * polling of a saga's status.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createTimeSkippingEnv } from '../../src/testing/environments';
import { createOperatorActivities } from '../../src/activities/notify-operator';
import type { PersonNotification, OperatorNotification, SagaStatus } from '../../src/schemas/saga';
import { sagaStatusQuery } from '../../src/workflows/saga';
import { createLedgerActivities, FakeLedger } from './ledger';


const quietLogger = () => {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
};

/** A running test bed: server, worker, fakes. */
export interface SagaTestBed {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  ledger: FakeLedger;
  notifications: OperatorNotification[];
  personNotifications: PersonNotification[];
  workflowBundle: WorkflowBundleWithSourceMap;
  teardown(): Promise<void>;
}

/** Starts the time-skipping server, registers the search attributes and runs a worker on `taskQueue`. */
export async function startSagaTestBed(taskQueue: string): Promise<SagaTestBed> {
  const env = await createTimeSkippingEnv();
  const ledger = new FakeLedger();
  const notifications: OperatorNotification[] = [];
  const personNotifications: PersonNotification[] = [];
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, '..', 'workflows', 'saga-workflows.ts'), logger: quietLogger() });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: {
      ...createLedgerActivities(ledger),
      ...createOperatorActivities({
        sink: (n) => void notifications.push(n),
        personSink: (n) => void personNotifications.push(n),
      }),
    },
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    ledger,
    notifications,
    personNotifications,
    workflowBundle,
    async teardown() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** Polls the saga's status until `predicate` holds; fails with the last status after `timeoutMs`. */
export async function waitForStatus(handle: WorkflowHandle, predicate: (s: SagaStatus) => boolean, timeoutMs = 20_000): Promise<SagaStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: SagaStatus | undefined;
  for (;;) {
    try {
      last = await handle.query(sagaStatusQuery);
      if (predicate(last)) return last;
    } catch {
      // not started yet
    }
    if (Date.now() > deadline) throw new Error(`status of ${handle.workflowId} never matched; last: ${JSON.stringify(last, null, 2)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
