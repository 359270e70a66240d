import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevServerEnv, createTimeSkippingEnv } from '../src/testing/environments';
import { ping, pingAfter } from '../src/workflows';
import { workflowsPath } from '../src/temporal/worker-config';

let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger() });
});

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

async function runWorkerWith<T>(env: TestWorkflowEnvironment, taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
  return worker.runUntil(fn);
}

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => env?.teardown());

  it('runs a workflow round trip', async () => {
    const result = await runWorkerWith(env, 'platform-dev', () =>
      env.client.workflow.execute(ping, { taskQueue: 'platform-dev', workflowId: 'ping-dev', args: ['rack'] }),
    );
    expect(result).toBe('pong: rack');
  });

  it('has the unwind search attributes registered', async () => {
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(
      expect.arrayContaining(['UnwindSaga', 'UnwindState', 'UnwindStep', 'UnwindProgressAt']),
    );
  });
});

describe('on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => env?.teardown());

  // Not timed: a real 30-day wait could never end within the test's limit, on any machine.
  it('finishes a 30-day sleep without waiting for it: its clock moves on 30 days', async () => {
    const simulatedStart = (await env.currentTimeMs()) as number;
    const result = await runWorkerWith(env, 'platform-ts', () =>
      env.client.workflow.execute(pingAfter, { taskQueue: 'platform-ts', workflowId: 'ping-30d', args: ['rack', '30 days'] }),
    );
    expect(result).toBe('pong after 30 days: rack');
    expect(Number(await env.currentTimeMs()) - simulatedStart).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000);
  });
});
