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
import { describe, expect, it } from 'vitest';
import { eventually } from './helpers/eventually';
import { useSagaTestBed, waitForStatus } from './helpers/saga-env';
import { approveUpdate, plannedSaga, type PlanItem } from './workflows/saga-workflows';

const taskQueue = 'approval-events';
// A dev server, as in production (the time-skipping server answers some tasks differently).
const bed = useSagaTestBed(taskQueue, { server: 'dev' });

const approval = (remindEvery: string): PlanItem => ({
  approval: 'approve-power-off',
  options: { request: 'power off sled-7 for replacement', approvers: ['alice'], remindEvery, expireAfter: '3 days' },
});

async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.map((e) => (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, ''));
}

/** The saga's history once the worker has answered every task: no activity and no workflow task pending. */
async function settledHistory(handle: WorkflowHandle): Promise<string[]> {
  const idle = (d: Awaited<ReturnType<WorkflowHandle['describe']>>) => !d.raw.pendingWorkflowTask && (d.raw.pendingActivities ?? []).length === 0;
  await eventually(() => handle.describe(), idle, `the worker to answer every task of ${handle.workflowId}`);
  return eventTypes(handle);
}

describe('a parked approval', () => {
  it('writes few events while it waits and when approved', async () => {
    const handle = await bed.env.client.workflow.start(plannedSaga, {
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
