/**
 * One replacement of a sled at a time, held by the rack: the client refuses a second start while
 * visibility shows the first, but a start within visibility's lag (or while a restarted server
 * catches up) gets past that check. These tests start the workflows directly, as such a start
 * would, and check that the sagas themselves keep the second one out.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SledReplaceParams, sledReplaceId } from '../src/schemas/sled';
import type { SagaStatus } from '../src/schemas/saga';
import { FINAL_SAGA_STATES } from '../src/schemas/saga-states';
import { sagaUnwoundDetails } from '../src/testing';
import { rejectUpdate, sledReplace } from '../src/workflows';
import { LOADED_MACHINE_MS } from './helpers/eventually';
import { useRackTestBed } from './helpers/rack-bed';
import { waitForStatus } from './helpers/saga-env';

const taskQueue = 'sled-replace-one-at-a-time';
const bed = useRackTestBed({ taskQueue });
const rack = () => bed.testRack.rack;
const people = { approvers: ['alice'], technicians: ['tech-1'] };

const started: WorkflowHandle[] = [];
afterEach(async () => {
  // A replacement a failed test left waiting must not hold its sled for the next test.
  for (const handle of started.splice(0)) await handle.terminate('test ended').catch(() => undefined);
});

/** Starts a replacement past the client's check, as a start within visibility's lag would. */
async function startReplace(sledId: string, requestId: string) {
  const handle = await bed.env.client.workflow.start(sledReplace, {
    taskQueue,
    workflowId: sledReplaceId({ sledId, requestId }),
    args: [SledReplaceParams.parse({ sledId, ...people, requestId })],
  });
  started.push(handle);
  return handle;
}

const awaitingApproval = (handle: WorkflowHandle) => waitForStatus(handle, (s: SagaStatus) => s.state === 'awaiting-approval');

/** How the saga ended, or that it waits for approval; the unwind's details when it unwound. */
async function ending(handle: WorkflowHandle) {
  const { state } = await waitForStatus(handle, (s: SagaStatus) => FINAL_SAGA_STATES.includes(s.state) || s.state === 'awaiting-approval');
  return { state, details: state === 'unwound' ? sagaUnwoundDetails(await handle.result().catch((err: unknown) => err)) : undefined };
}

describe('one replacement of a sled at a time', () => {
  it('refuses a second replacement while the first runs: it unwinds at its first step, changing nothing', async () => {
    const first = await startReplace('sled-1', 'first');
    await awaitingApproval(first);
    const second = await startReplace('sled-1', 'second');
    const { state, details } = await ending(second);
    expect(state).toBe('unwound');
    expect(details).toMatchObject({ failedStep: 'mark-non-provisionable', skipped: [] });
    expect(details?.cause.type).toBe('Refused');
    expect(details?.cause.message).toBe(`sled sled-1 is being replaced by ${first.workflowId}: one replacement at a time; nothing was changed`);
    expect(await rack().get('sleds', 'sled-1')).toMatchObject({ provisionable: false, replacementId: first.workflowId });
    expect(bed.notifications.filter((n) => n.workflowId === second.workflowId)).toEqual([]);

    await first.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'not today' }] });
    await first.result().catch(() => undefined);
    expect(await rack().get('sleds', 'sled-1')).toMatchObject({ provisionable: true, replacementId: null });
  });

  it('takes over the marker a terminated replacement left; unwinding, it leaves the sled as it found it', async () => {
    const terminated = await startReplace('sled-2', 'terminated');
    await awaitingApproval(terminated);
    await terminated.terminate('operator ends the replacement');
    expect(await rack().get('sleds', 'sled-2')).toMatchObject({ provisionable: false, replacementId: terminated.workflowId });

    const next = await startReplace('sled-2', 'next');
    await awaitingApproval(next);
    expect(await rack().get('sleds', 'sled-2')).toMatchObject({ provisionable: false, replacementId: next.workflowId });
    await next.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'not today' }] });
    expect(sagaUnwoundDetails(await next.result().catch((err: unknown) => err))).toMatchObject({ undone: ['mark-non-provisionable'] });
    expect(await rack().get('sleds', 'sled-2')).toMatchObject({ provisionable: false, replacementId: terminated.workflowId });
    await rack().sleds.update({ sledId: 'sled-2', provisionable: true, replacementId: null }, 'test/release-sled-2');
  });

  it('loses to a replacement that marks the sled between its read and its mark: the mark is a compare-and-set', async () => {
    // The replacement's first mark is turned away (transiently, not applied); before its retry
    // another replacement marks the sled, as one that read it at the same moment would.
    await rack().faults.script({ operation: 'sleds.update', kind: 'transient', count: 1 });
    const late = await startReplace('sled-3', 'late');
    await vi.waitFor(async () => expect((await rack().faults.get()).scripted).toEqual([]), { timeout: LOADED_MACHINE_MS, interval: 20 });
    await rack().sleds.update({ sledId: 'sled-3', provisionable: false, replacementId: 'replacement-racing', expect: { replacementId: null } }, 'test/race');
    const { state, details } = await ending(late);
    expect(state).toBe('unwound');
    expect(details?.failedStep).toBe('mark-non-provisionable');
    expect(details?.cause.message).toMatch(/has replacementId "replacement-racing", expected null: another change got there first/);
    expect(await rack().get('sleds', 'sled-3')).toMatchObject({ provisionable: false, replacementId: 'replacement-racing' });
    await rack().sleds.update({ sledId: 'sled-3', provisionable: true, replacementId: null }, 'test/release-sled-3');
  });
});
