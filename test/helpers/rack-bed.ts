/**
 * The stack most end-to-end tests run on, one per test file: a Temporal server (a dev server
 * unless told), the kit's bed over it (a rack on a fresh SQLite file, a worker with the real
 * activities, the harness), and the typed client on the bed's task queue.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type UnwindClient, createUnwindClient } from '../../src/client';
import { createDevServerEnv, createTimeSkippingEnv } from '../../src/testing/environments';
import { type RackSagaBed, type RackSagaBedOptions, startRackSagaBed } from '../../src/testing/saga-bed';
import { type CliRun, runUnwind } from '../cli-helpers';
import { useBed } from './use-bed';

/** Options of {@link startRackTestBed}: the kit bed's, and which server. */
export interface RackTestBedOptions extends RackSagaBedOptions {
  /** The time-skipping server for sagas that wait on timers; a dev server (visibility, as in production) unless told. */
  server?: 'dev' | 'time-skipping';
}

/** A running stack; `stop()` closes the client, stops the worker and rack, and tears the server down. */
export interface RackTestBed extends RackSagaBed {
  env: TestWorkflowEnvironment;
  client: UnwindClient;
  /** Runs the `unwind` CLI as a process against this bed's server, rack and task queue. */
  unwind(...args: string[]): Promise<CliRun>;
}

/** Starts a server, a rack, a worker and a client. */
export async function startRackTestBed(options: RackTestBedOptions): Promise<RackTestBed> {
  const env = await (options.server === 'time-skipping' ? createTimeSkippingEnv() : createDevServerEnv());
  try {
    const bed = await startRackSagaBed(env, options);
    const client = await createUnwindClient({ address: env.address, namespace: env.namespace ?? 'default', taskQueue: options.taskQueue }).catch(
      async (error: unknown) => {
        await bed.stop();
        throw error;
      },
    );
    return {
      ...bed,
      env,
      client,
      unwind: (...args) =>
        runUnwind(['--address', env.address, '--rack-url', bed.testRack.server.url, ...args], { UNWIND_TASK_QUEUE: options.taskQueue }),
      async stop() {
        await client.close();
        await bed.stop();
        await env.teardown();
      },
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}

/** A {@link RackTestBed} for this file's (or describe block's) tests: started before them, stopped after. */
export function useRackTestBed(options: RackTestBedOptions): RackTestBed {
  return useBed(() => startRackTestBed(options), (bed) => bed.stop());
}
