/**
 * What the saga engine's tests share: a server with unwind's search attributes registered (the
 * time-skipping server unless told), one worker per test file serving the test sagas with fake
 * activities, and polling of a saga's status.
 */
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { vi } from 'vitest';
import { createDevServerEnv, createTimeSkippingEnv } from '../../src/testing/environments';
import { quietLogger } from '../../src/testing/worker';
import { createOperatorActivities } from '../../src/activities/notify-operator';
import type { PersonNotification, OperatorNotification, SagaStatus } from '../../src/schemas/saga';
import { sagaStatusQuery } from '../../src/workflows/saga';
import { answeredWithin, eventually, LOADED_MACHINE_MS } from './eventually';
import { createLedgerActivities, FakeLedger } from './ledger';
import { useBed } from './use-bed';

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

/** Which server: a dev server where a test needs production's answers or visibility. */
export interface SagaTestBedOptions {
  server?: 'time-skipping' | 'dev';
}

/** Starts the server (time-skipping unless told), registers the search attributes and runs a worker on `taskQueue`. */
export async function startSagaTestBed(taskQueue: string, options: SagaTestBedOptions = {}): Promise<SagaTestBed> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, '..', 'workflows', 'saga-workflows.ts'), logger: quietLogger });
  const env = await (options.server === 'dev' ? createDevServerEnv() : createTimeSkippingEnv());
  const ledger = new FakeLedger();
  const notifications: OperatorNotification[] = [];
  const personNotifications: PersonNotification[] = [];
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
  }).catch(async (error: unknown) => {
    await env.teardown();
    throw error;
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

/** A {@link SagaTestBed} for this file's tests: started before them, torn down after. */
export function useSagaTestBed(taskQueue: string, options: SagaTestBedOptions = {}): SagaTestBed {
  return useBed(() => startSagaTestBed(taskQueue, options), (bed) => bed.teardown());
}

/** Polls the saga's status until `predicate` holds; fails with the last status after `timeoutMs`. */
export function waitForStatus(handle: WorkflowHandle, predicate: (s: SagaStatus) => boolean, timeoutMs = LOADED_MACHINE_MS): Promise<SagaStatus> {
  // A query the worker answers in milliseconds: one unanswered for 10 s is sent again.
  return eventually(() => answeredWithin(handle.query(sagaStatusQuery), 10_000), predicate, `the status of ${handle.workflowId} to match`, timeoutMs, 50);
}

/** How a saga ended, or the status it paused in. */
export type SagaEnd<R = unknown> = { completed: R } | { failed: unknown } | { paused: SagaStatus };

const waitsForOperator = (s: SagaStatus) => s.state === 'stuck' || s.state === 'needs-operator';

/**
 * The saga's result (or failure), or its status once `paused` holds (an operator wait, unless
 * told), whichever comes first: a saga that waits for someone is reported, not waited for.
 */
export function endOrPause<R = unknown>(
  handle: WorkflowHandle,
  paused: (s: SagaStatus) => boolean = waitsForOperator,
  timeoutMs = 2 * LOADED_MACHINE_MS,
): Promise<SagaEnd<R>> {
  let end: SagaEnd<R> | undefined;
  void handle.result().then(
    (value: R) => (end = { completed: value }),
    (error: unknown) => (end = { failed: error }),
  );
  return vi.waitFor(
    async (): Promise<SagaEnd<R>> => {
      if (end) return end;
      const status = await handle.query(sagaStatusQuery);
      if (end) return end;
      if (paused(status)) return { paused: status };
      throw new Error(`${handle.workflowId} neither ended nor paused within ${timeoutMs} ms; last status: ${JSON.stringify(status, null, 2)}`);
    },
    { timeout: timeoutMs, interval: 100 },
  );
}
