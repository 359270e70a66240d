import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { UnwindState } from '../src/schemas/search-attributes';
import { sagaUnwoundDetails } from '../src/testing';
import type { ApprovalOptions } from '../src/workflows/saga';
import { useSagaTestBed, waitForStatus } from './helpers/saga-env';
import { approveUpdate, plannedSaga, rejectUpdate, type PlanItem } from './workflows/saga-workflows';

const HOUR = 3_600_000;
const bed = useSagaTestBed('approval');
let n = 0;

const powerOff: PlanItem = {
  approval: 'approve-power-off',
  options: {
    request: 'power off sled-7 for replacement',
    approvers: ['alice', 'bob'],
    remindEvery: '4 hours',
    escalateAfter: '12 hours',
    escalateTo: ['oncall-lead'],
    expireAfter: '3 days',
    onExpire: 'reject',
  },
};

async function start(plan: PlanItem[]) {
  return bed.env.client.workflow.start(plannedSaga, {
    taskQueue: bed.taskQueue,
    workflowId: `approval-${++n}`,
    args: [{ plan }],
  });
}

/** Approval notifications of one saga, as hours after the request. */
function timeline(workflowId: string) {
  const ofSaga = bed.personNotifications.filter((x) => x.workflowId === workflowId);
  const t0 = Date.parse(ofSaga[0]!.at);
  return ofSaga.map((x) => ({ kind: x.kind, hours: Math.round((Date.parse(x.at) - t0) / HOUR), to: x.to }));
}

describe('awaitApproval', () => {
  it('waits as awaiting-approval and goes on when a listed approver approves; who and when are recorded', async () => {
    const handle = await start([{ step: 'drain' }, powerOff, { step: 'power-off' }]);
    const waiting = await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    expect(waiting.pendingApproval).toMatchObject({ step: 'approve-power-off', approvers: ['alice', 'bob'], remindersSent: 0 });
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(UnwindState)).toBe('awaiting-approval');

    const record = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', comment: 'window agreed' }] });
    expect(record).toMatchObject({ outcome: 'approved', by: 'bob', comment: 'window agreed' });
    expect(await handle.result()).toMatchObject({ 'approve-power-off': 'approved', 'power-off': expect.any(String) });
    const done = await waitForStatus(handle, (s) => s.state === 'completed');
    expect(done.approvals).toEqual([expect.objectContaining({ step: 'approve-power-off', outcome: 'approved', by: 'bob' })]);
    expect(done.pendingApproval).toBeNull();
  });

  it('refuses a decision from someone not listed, recording nothing', async () => {
    const handle = await start([powerOff]);
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    const refusal = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'mallory' }] }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refusal as WorkflowUpdateFailedError).cause?.message)).toMatch(/mallory may not decide .*approvers are alice, bob/);
    const status = await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    expect(status.approvals).toEqual([]);
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'not this week' }] });
    await expect(handle.result()).rejects.toThrow();
  });

  it('unwinds when rejected, naming who rejected', async () => {
    const handle = await start([{ step: 'drain' }, powerOff, { step: 'power-off' }]);
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'customer freeze' }] });
    const details = sagaUnwoundDetails(await handle.result().catch((err: unknown) => err));
    expect(details).toMatchObject({ failedStep: 'approve-power-off', undone: ['drain'] });
    expect(details?.cause).toMatchObject({ type: 'ApprovalRejected' });
    expect(details?.cause.message).toMatch(/rejected by alice: customer freeze/);
  });

  it('reminds every 4 hours, escalates after 12, and expires after 3 days into a rejection', async () => {
    const handle = await start([{ step: 'drain' }, powerOff]);
    const details = sagaUnwoundDetails(await handle.result().catch((err: unknown) => err));
    expect(details?.cause.message).toMatch(/expired without a decision/);
    const events = timeline(handle.workflowId);
    expect(events[0]).toEqual({ kind: 'request', hours: 0, to: ['alice', 'bob'] });
    const reminders = events.filter((e) => e.kind === 'reminder').map((e) => e.hours);
    expect(reminders).toEqual(Array.from({ length: 17 }, (_, i) => 4 * (i + 1))); // 4h … 68h; 72h is the expiry
    expect(events.find((e) => e.kind === 'escalation')).toEqual({ kind: 'escalation', hours: 12, to: ['alice', 'bob', 'oncall-lead'] });
    expect(events.filter((e) => e.kind === 'reminder' && e.hours > 12).every((e) => e.to.includes('oncall-lead'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'expired', hours: 72 });
  });

  it('lets an escalation contact decide once escalated, not before', async () => {
    const handle = await start([powerOff]);
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    const early = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'oncall-lead' }] }).catch((err: unknown) => err);
    expect(early).toBeInstanceOf(WorkflowUpdateFailedError);
    await bed.env.sleep('13 hours');
    const escalated = await waitForStatus(handle, (s) => typeof s.pendingApproval?.escalatedAt === 'string');
    expect(escalated.pendingApproval?.approvers).toContain('oncall-lead');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'oncall-lead' }] });
    expect(await handle.result()).toMatchObject({ 'approve-power-off': 'approved' });
  });

  it('expires into an approval when told to', async () => {
    const handle = await start([{ approval: 'approve-firmware', options: { ...powerOff.options, onExpire: 'approve' } }]);
    expect(await handle.result()).toEqual({ 'approve-firmware': 'expired' });
  });

  it('refuses bad timings at once: the approval step fails plainly and the saga unwinds, no one is asked', async () => {
    const cases: Array<[Partial<Record<keyof ApprovalOptions, unknown>>, RegExp]> = [
      [{ remindEvery: '0s' }, /remindEvery: must be a duration from 1s to 365d.*zero/],
      [{ remindEvery: -5 }, /remindEvery: must be a duration .*zero/],
      [{ expireAfter: '400 days' }, /expireAfter: .*more than a year/],
      [{ expireAfter: 'never' }, /expireAfter: must be a duration/],
      [{ remindEvery: '3 days' }, /remindEvery: must be shorter than expireAfter \(3 days is not shorter than 3 days\)/],
      [{ escalateAfter: '4 days' }, /escalateAfter: must be shorter than expireAfter/],
    ];
    for (const [bad, says] of cases) {
      const handle = await start([{ step: 'drain' }, { approval: 'approve-power-off', options: { ...powerOff.options, ...bad } as ApprovalOptions }]);
      const details = sagaUnwoundDetails(await handle.result().catch((err: unknown) => err));
      expect(details, JSON.stringify(bad)).toMatchObject({ failedStep: 'approve-power-off', undone: ['drain'], cause: { type: 'InvalidInput' } });
      expect(details?.cause.message).toMatch(says);
      expect(bed.personNotifications.filter((x) => x.workflowId === handle.workflowId)).toEqual([]);
    }
  });

  it('runs the reminders in a child, started when the first reminder is due, that ends with the approval, also when the saga is cancelled while it waits', async () => {
    const handle = await start([{ step: 'drain' }, powerOff]);
    const waiting = await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    // No child before a reminder is due: a wait decided within 4 hours never starts one.
    expect((await handle.fetchHistory()).events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    await bed.env.sleep('5 hours');
    const reminders = bed.env.client.workflow.getHandle(`${handle.workflowId}/reminders/approve-power-off/${waiting.pendingApproval!.waitId}`);
    await expect.poll(async () => (await reminders.describe().catch(() => undefined))?.type, { message: 'the reminder child started' }).toBe('remindPeople');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await reminders.describe()).status.name).toBe('CANCELLED');
    expect(bed.ledger.callsOf(handle.workflowId).map((c) => c.op)).toEqual(['apply', 'revert']);
  });
});
