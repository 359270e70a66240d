/**
 * An approval that waits three months with hourly reminders keeps every history small: the
 * reminders run in a `remindPeople` child that continues as new, so the saga's own history holds
 * a handful of events however long the wait. Measured on the time-skipping server.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { useSagaTestBed, waitForStatus } from './helpers/saga-env';
import { approveUpdate, plannedSaga } from './workflows/saga-workflows';

const HOUR = 3_600_000;
const LIMIT = 2_000;
const bed = useSagaTestBed('approval-history');

/** The events of every run of workflow `workflowId`, first run first (following continue-as-new). */
async function runSizes(workflowId: string, firstRunId: string): Promise<number[]> {
  const sizes: number[] = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    const events: { workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string | null } | null }[] = (await bed.env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    sizes.push(events.length);
    const next: string | null | undefined = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    runId = next ?? undefined;
  }
  return sizes;
}

/** The first run id of the saga's child `workflowId`, from the saga's history. */
async function childRunId(handle: WorkflowHandle, workflowId: string): Promise<string> {
  const events = (await handle.fetchHistory()).events ?? [];
  const started = events.find((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId === workflowId);
  const runId = started?.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.runId;
  if (!runId) throw new Error(`the saga never started ${workflowId}`);
  return runId;
}

describe('an approval waiting three months with hourly reminders', () => {
  it(`keeps the saga's history and every reminder run under ${LIMIT} events`, { timeout: 600_000 }, async () => {
    const wallStart = Date.now();
    const handle = await bed.env.client.workflow.start(plannedSaga, {
      taskQueue: bed.taskQueue,
      workflowId: 'approval-three-months',
      args: [
        {
          plan: [
            { step: 'drain' },
            {
              approval: 'approve-power-off',
              options: {
                request: 'power off sled-7 for replacement',
                approvers: ['alice'],
                remindEvery: '1h',
                escalateAfter: '7d',
                escalateTo: ['lead'],
                expireAfter: '120d',
              },
            },
            { step: 'power-off' },
          ],
        },
      ],
    });
    const asking = await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    const t0 = Date.parse(asking.pendingApproval!.since);

    // Ninety days in steps of ten: each step's skipping (240 reminders) ends in one short call, where
    // one 90-day call on a loaded machine ran past the approval's 120-day expiry.
    for (let day = 0; day < 90; day += 10) await bed.env.sleep('10 days');
    const late = await waitForStatus(handle, (s) => typeof s.pendingApproval?.escalatedAt === 'string');
    expect(late.pendingApproval?.approvers).toEqual(['alice', 'lead']);
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'lead', comment: 'finally' }] });
    expect(await handle.result()).toMatchObject({ 'approve-power-off': 'approved' });

    const sent = bed.personNotifications.filter((n) => n.workflowId === handle.workflowId);
    const reminders = sent.filter((n) => n.kind === 'reminder');
    expect(reminders.length).toBeGreaterThanOrEqual(90 * 24 - 1);
    expect(reminders.slice(0, 3).map((n) => Math.round((Date.parse(n.at) - t0) / HOUR))).toEqual([1, 2, 3]);
    const escalation = sent.find((n) => n.kind === 'escalation');
    expect(escalation && Math.round((Date.parse(escalation.at) - t0) / HOUR)).toBe(7 * 24);
    expect(escalation?.to).toEqual(['alice', 'lead']);

    const sagaEvents = (await handle.fetchHistory()).events?.length ?? 0;
    console.log(`approval, 90 days with hourly reminders: saga history ${sagaEvents} events`);
    expect(sagaEvents).toBeLessThan(LIMIT);
    const remindersId = `${handle.workflowId}/reminders/approve-power-off/${asking.pendingApproval!.waitId}`;
    const runs = await runSizes(remindersId, await childRunId(handle, remindersId));
    console.log(
      `approval, 90 days with hourly reminders (${reminders.length} sent), ${Date.now() - wallStart} ms: ` +
        `saga history ${sagaEvents} events; reminder child ${runs.length} runs, largest ${Math.max(...runs)} events (${runs.join(', ')})`,
    );
    expect(sagaEvents).toBeLessThan(100);
    for (const size of runs) expect(size).toBeLessThan(LIMIT);
    expect(runs.length).toBeGreaterThan(1);
  });
});
