import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorActivities } from '../src/activities/notify-operator';
import type { OperatorNotification } from '../src/schemas/saga';
import { createTimeSkippingEnv } from '../src/testing/environments';
import { quietLogger } from '../src/testing/worker';
import { waitForStatus } from './helpers/saga-env';
import { checkedGate, questionGate, repairSignal, retryUpdate, unwindUpdate } from './workflows/gate-workflows';

const taskQueue = 'ask-operator';
const operator = { operator: 'ada', reason: 'looked at it' };
const notifications: OperatorNotification[] = [];
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows', 'gate-workflows.ts'), logger: quietLogger });
  env = await createTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createOperatorActivities({ sink: (n) => void notifications.push(n), personSink: () => undefined }),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

let counter = 0;
const nextId = (label: string) => `${label}-${++counter}-${Date.now().toString(36)}`;

async function waitsAt(handle: WorkflowHandle, step: string, message: string | RegExp) {
  const status = await waitForStatus(handle, (s) => s.state === 'needs-operator' && s.waiting[0]?.step === step);
  expect(status.waiting).toHaveLength(1);
  expect(status.waiting[0]!.error).toMatchObject({ type: 'NeedsOperator', message: expect.stringMatching(message) });
  return status.waiting[0]!;
}

describe('saga.askOperator', () => {
  it('pages an operator with the question and goes on when they retry', async () => {
    const workflowId = nextId('question');
    const handle = await env.client.workflow.start(questionGate, { taskQueue, workflowId, args: [{ question: 'wave 3 failed: look, then retry' }] });
    const wait = await waitsAt(handle, 'halt', /^wave 3 failed: look, then retry$/);
    expect(wait.actions).toEqual(['retry', 'unwind']);
    await expect.poll(() => notifications.filter((n) => n.workflowId === workflowId).map((n) => [n.state, n.step])).toEqual([['needs-operator', 'halt']]);
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: wait.waitId }] });
    expect(await handle.result()).toBe('went on');
  });

  it('unwinds the saga when the operator says unwind before the pivot', async () => {
    const handle = await env.client.workflow.start(questionGate, { taskQueue, workflowId: nextId('question-unwind'), args: [{ question: 'stop?' }] });
    await waitsAt(handle, 'halt', /^stop\?$/);
    await handle.executeUpdate(unwindUpdate, { args: [operator] });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('SagaUnwound');
  });

  it('offers only retry after the pivot', async () => {
    const handle = await env.client.workflow.start(questionGate, { taskQueue, workflowId: nextId('question-pivot'), args: [{ question: 'halted', pivot: true }] });
    expect((await waitsAt(handle, 'halt', /^halted$/)).actions).toEqual(['retry']);
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(await handle.result()).toBe('went on');
  });

  it('runs its check again on every retry and asks again until the check passes', async () => {
    const handle = await env.client.workflow.start(checkedGate, { taskQueue, workflowId: nextId('checked') });
    await waitsAt(handle, 'mirrors', /\(check 1\)/);
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    await waitsAt(handle, 'mirrors', /\(check 2\)/);
    await handle.signal(repairSignal);
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(await handle.result()).toBe(3);
  });
});
