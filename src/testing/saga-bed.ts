/**
 * A saga test bed over the real rack simulator: a rack on a fresh SQLite file, a worker
 * serving unwind's workflows with the real activities on the given environment, and a harness
 * whose effect check reads the rack's ledger.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { RackChange, RackDb } from '../rack';
import type { RackSeed } from '../rack/schemas';
import type { PersonNotification, OperatorNotification } from '../schemas/saga';
import { createSagaHarness, type SagaHarness } from './harness';
import { ledgerResidue, startTestRack, type TestRack } from './rack';
import { createUnwindTestWorker } from './worker';

/** A running bed; `stop()` shuts the worker down and removes the rack's files. */
export interface RackSagaBed {
  testRack: TestRack;
  worker: Worker;
  harness: SagaHarness;
  taskQueue: string;
  /** What the sagas told operators (paused, stuck), oldest first. */
  notifications: OperatorNotification[];
  /** What the sagas told approvers (requests, reminders, escalations, expiries), oldest first. */
  personNotifications: PersonNotification[];
  stop(): Promise<void>;
}

/** Options of {@link startRackSagaBed}. */
export interface RackSagaBedOptions {
  taskQueue: string;
  seed?: RackSeed;
  /** How long the activities' rack client waits for an answer (5 s unless told; a large rack's set-up may need more). */
  rackTimeoutMs?: number;
  /** Called after every change the rack commits, with its database: for invariants checked at each change. */
  onRackChange?: (change: RackChange, db: RackDb) => void;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Activity dependencies other than the rack; backoff defaults to 20 ms base, 200 ms cap. */
  deps?: Omit<ActivityDeps, 'rack'>;
  /** How long one saga run of the harness may take (the harness's `sagaTimeoutMs`; 60 s unless told). */
  sagaTimeoutMs?: number;
}

/** Starts a rack, a worker and a harness on `env`. */
export async function startRackSagaBed(env: TestWorkflowEnvironment, options: RackSagaBedOptions): Promise<RackSagaBed> {
  const testRack = await startTestRack({ seed: options.seed, timeoutMs: options.rackTimeoutMs, onChange: options.onRackChange });
  const notifications: OperatorNotification[] = [];
  const personNotifications: PersonNotification[] = [];
  const worker = await createUnwindTestWorker(env, {
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle,
    activities: createActivities({
      backoff: { baseMs: 20, capMs: 200 },
      notifications: (n) => void notifications.push(n),
      personNotifications: (n) => void personNotifications.push(n),
      ...options.deps,
      rack: testRack.rack,
    }),
  }).catch(async (error: unknown) => {
    await testRack.stop(); // no bed to stop: leave no rack behind
    throw error;
  });
  const running = worker.run();
  const harness = createSagaHarness({
    client: env.client,
    taskQueue: options.taskQueue,
    appliedEffects: () => testRack.rack.ledger(),
    residue: (workflowId, steps) => ledgerResidue(testRack.rack, workflowId, steps),
    sagaTimeoutMs: options.sagaTimeoutMs,
  });
  return {
    testRack,
    worker,
    harness,
    taskQueue: options.taskQueue,
    notifications,
    personNotifications,
    async stop() {
      worker.shutdown();
      await running;
      await testRack.stop();
    },
  };
}
