/**
 * What a parked approval writes to the saga's history: a saga that does nothing but await one
 * approval and then complete, its events listed while it waits and once approved, on a dev
 * server. A hand-written workflow waiting for a signal with a timer writes 5 events while parked
 * and 11 at the end. Unwind's lean approval (src/workflows/saga/approval.ts) writes besides: the
 * saga's first state upsert and the approval's, the request's notice (an activity: scheduled,
 * started, completed and the task it wakes), the update's second event and the final state
 * upsert — and, while LEAN_APPROVAL_PATCH is in place, the patch's marker and
 * TemporalChangeVersion upsert (2 events, gone when the patch is retired). No reminders child is
 * started for a wait decided before its first reminder, and the expiry timer of a saga that ends
 * in the deciding task is left, not cancelled.
 *
 *   npx vitest run test/approval-events.test.ts     # prints both lists
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createOperatorActivities } from '../src/activities/notify-operator';
import { createDevServerEnv, quietLogger } from '../src/testing';
import { waitForStatus } from './helpers/saga-env';
import { createLedgerActivities, FakeLedger } from './helpers/ledger';
import { approveUpdate, plannedSaga, type PlanItem } from './workflows/saga-workflows';

const taskQueue = 'approval-events';
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

// A dev server, as in production (the time-skipping server answers some tasks differently).
beforeAll(async () => {
  env = await createDevServerEnv();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows', 'saga-workflows.ts'), logger: quietLogger });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: { ...createLedgerActivities(new FakeLedger()), ...createOperatorActivities({ sink: () => undefined, personSink: () => undefined }) },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const approval = (remindEvery: string): PlanItem => ({
  approval: 'approve-power-off',
  options: { request: 'power off sled-7 for replacement', approvers: ['alice'], remindEvery, expireAfter: '3 days' },
});

async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.map((e) => (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, ''));
}

/** Waits until the saga's history stops growing (the worker has answered every task). */
async function settledHistory(handle: WorkflowHandle): Promise<string[]> {
  let last = await eventTypes(handle);
  for (let same = 0; same < 4; ) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const now = await eventTypes(handle);
    same = now.length === last.length ? same + 1 : 0;
    last = now;
  }
  return last;
}

describe('a parked approval', () => {
  it('writes few events while it waits and when approved', async () => {
    const handle = await env.client.workflow.start(plannedSaga, {
      taskQueue,
      workflowId: 'approval-events-1',
      args: [{ plan: [approval('4h')] }],
    });
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    const parked = await settledHistory(handle);
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    await handle.result();
    const ended = await eventTypes(handle);
    console.log(`parked approval: ${parked.length} events while parked, ${ended.length} at the end\n  parked: ${parked.join(', ')}\n  end: ${ended.slice(parked.length).join(', ')}`);
    const patch = 2; // the patch's marker and TemporalChangeVersion upsert, until it is retired
    expect(parked.length).toBeLessThanOrEqual(13 + patch);
    expect(ended.length).toBeLessThanOrEqual(20 + patch);
    expect(ended.filter((t) => t === 'MARKER_RECORDED')).toHaveLength(1);
    expect(ended).not.toContain('START_CHILD_WORKFLOW_EXECUTION_INITIATED');
    expect(ended).not.toContain('TIMER_CANCELED');
    expect(ended.filter((t) => t === 'WORKFLOW_TASK_COMPLETED')).toHaveLength(3);
  });
});
