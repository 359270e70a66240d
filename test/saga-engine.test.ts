/**
 * The saga engine's contract, clause by clause (one describe each), on the time-skipping server
 * with a worker serving planned test sagas over a fake ledger. One file past 400 lines on
 * purpose: every clause shares one server and worker, which a second file would start again.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SagaFaults } from '../src/schemas/faults';
import { OUTCOME_MEMO_KEY, SagaStatus, SagaUnwoundDetails } from '../src/schemas/saga';
import { UnwindSaga, UnwindState, UnwindStep } from '../src/schemas/search-attributes';
import { startSagaTestBed, waitForStatus, type SagaTestBed } from './helpers/saga-env';
import {
  approveUpdate,
  continueSignal,
  diskCreate,
  plannedSaga,
  releaseSignal,
  retryUpdate,
  sagaStatusQuery,
  skipUpdate,
  unwindUpdate,
  type PlannedSagaInput,
  type PlanItem,
} from './workflows/saga-workflows';

const taskQueue = 'saga-engine';
let bed: SagaTestBed;

beforeAll(async () => {
  bed = await startSagaTestBed(taskQueue);
});
afterAll(async () => bed?.teardown());

let counter = 0;
const nextId = (label: string) => `${label}-${++counter}-${Date.now().toString(36)}`;
const steps = (...names: string[]): PlanItem[] => names.map((step) => ({ step }));
const operator = { operator: 'ada', reason: 'checked the sled' };

function start(workflowId: string, plan: PlanItem[], options: Omit<PlannedSagaInput, 'plan'> & { faults?: SagaFaults } = {}) {
  const { faults, ...input } = options;
  return bed.env.client.workflow.start(plannedSaga, {
    taskQueue,
    workflowId,
    args: [{ plan, ...input }],
    ...(faults && { memo: { unwindFaults: faults } }),
  });
}

async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => new Error(`${handle.workflowId} completed; it should have failed`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

async function unwound(handle: WorkflowHandle): Promise<SagaUnwoundDetails> {
  const failure = await failureOf(handle);
  expect(failure.type).toBe('SagaUnwound');
  expect(failure.nonRetryable).toBe(true);
  return SagaUnwoundDetails.parse(failure.details?.[0]);
}

/** A cancelled saga: Temporal status CANCELED, state `cancelled`, the outcome in its memo. */
async function cancelled(handle: WorkflowHandle): Promise<SagaUnwoundDetails> {
  const err = await handle.result().then(
    () => new Error(`${handle.workflowId} completed; it should have been cancelled`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const description = await handle.describe();
  expect(description.status.name).toBe('CANCELLED');
  expect(description.typedSearchAttributes.get(UnwindState)).toBe('cancelled');
  expect((await status(handle)).state).toBe('cancelled');
  return SagaUnwoundDetails.parse(description.memo?.[OUTCOME_MEMO_KEY]);
}

async function status(handle: WorkflowHandle): Promise<SagaStatus> {
  return SagaStatus.parse(await handle.query(sagaStatusQuery));
}

function stepStatus(s: SagaStatus, name: string) {
  const found = s.steps.find((step) => step.name === name);
  if (!found) throw new Error(`no step ${name} in ${JSON.stringify(s.steps.map((x) => x.name))}`);
  return found;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => new Error('the update was accepted'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((err as WorkflowUpdateFailedError).cause?.message);
}

describe('completing', () => {
  it('runs each step once, returns their outputs and reports completed in status and search attributes', async () => {
    const id = nextId('complete');
    const handle = await start(id, steps('a', 'b', 'c'));
    expect(await handle.result()).toEqual({ a: `res:${id}/a`, b: `res:${id}/b`, c: `res:${id}/c` });
    const s = await status(handle);
    expect(s).toMatchObject({ sagaType: 'plannedSaga', workflowId: id, state: 'completed', pivoted: false, waitingFor: null, decisions: [] });
    expect(s.steps.map((x) => [x.name, x.state, x.attempts, x.undoAttempts])).toEqual([
      ['a', 'succeeded', 1, 0],
      ['b', 'succeeded', 1, 0],
      ['c', 'succeeded', 1, 0],
    ]);
    expect(Date.parse(stepStatus(s, 'c').finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(stepStatus(s, 'a').startedAt ?? ''));
    expect(bed.ledger.residue(id)).toEqual(['a', 'b', 'c']);
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(UnwindSaga)).toBe('plannedSaga');
    expect(typedSearchAttributes.get(UnwindState)).toBe('completed');
  });

  it('reads well as a ten-step saga with a parallel group and a pivot', async () => {
    const id = nextId('disk');
    const handle = await bed.env.client.workflow.start(diskCreate, { taskQueue, workflowId: id, args: [{ disk: 'd1' }] });
    const result = await handle.result();
    expect(result.regions).toEqual([0, 1, 2].map((i) => `res:${id}/ensure-region[${i}]`));
    const s = await status(handle);
    expect(s.steps).toHaveLength(10);
    expect(s.pivoted).toBe(true);
    expect(s.steps.filter((x) => x.group === 'regions').map((x) => x.name).sort()).toEqual([
      'ensure-region[0]',
      'ensure-region[1]',
      'ensure-region[2]',
    ]);
    expect(s.steps.filter((x) => x.afterPivot).map((x) => x.name)).toEqual(['publish-disk', 'notify-nexus']);
  });
  it('unwinds the ten-step saga from a failed group member: group first, then earlier steps last-first', async () => {
    const id = nextId('disk-fail');
    const handle = await bed.env.client.workflow.start(diskCreate, {
      taskQueue,
      workflowId: id,
      args: [{ disk: 'd2' }],
      memo: { unwindFaults: { failStep: 'ensure-region[1]' } satisfies SagaFaults },
    });
    const details = await unwound(handle);
    expect(details.failedStep).toBe('ensure-region[1]');
    expect(details.undone.slice(0, 3).sort()).toEqual(['ensure-region[0]', 'ensure-region[1]', 'ensure-region[2]']);
    expect(details.undone.slice(3)).toEqual(['reserve-capacity', 'allocate-ids']);
    expect(bed.ledger.residue(id)).toEqual(['validate-request']); // a step without undo keeps its effect
  });
});

describe('unwinding', () => {
  it('undoes last-registered first, including the step whose action failed', async () => {
    const id = nextId('order');
    bed.ledger.script('apply', `${id}/c`, { fail: 'refused', afterEffect: true });
    const handle = await start(id, steps('a', 'b', 'c', 'd'));
    const details = await unwound(handle);
    expect(details).toEqual({
      failedStep: 'c',
      cause: { type: 'Refused', message: expect.stringContaining('scripted refused failure') },
      undone: ['c', 'b', 'a'],
      skipped: [],
    });
    expect(bed.ledger.callsOf(id, 'revert').map((c) => c.step)).toEqual(['c', 'b', 'a']);
    expect(bed.ledger.callsOf(id, 'apply').map((c) => c.step)).not.toContain('d');
    expect(bed.ledger.residue(id)).toEqual([]);
    const { typedSearchAttributes } = await handle.describe();
    expect([typedSearchAttributes.get(UnwindState), typedSearchAttributes.get(UnwindStep)]).toEqual(['unwound', 'c']);
  });

  it('lets the other members of a failed parallel group settle, then undoes everything, group undos in parallel', async () => {
    const id = nextId('parallel');
    bed.ledger.script('apply', `${id}/y`, { fail: 'refused' });
    for (const m of ['x', 'z']) bed.ledger.delay('apply', `${id}/${m}`, 400);
    for (const m of ['x', 'y', 'z']) bed.ledger.delay('revert', `${id}/${m}`, 300);
    const handle = await start(id, [{ step: 'a' }, { group: 'g', members: [['x'], ['y'], ['z']] }, { step: 'b' }]);
    const details = await unwound(handle);
    expect(details.failedStep).toBe('y');
    expect(details.undone.slice(0, 3).sort()).toEqual(['x', 'y', 'z']);
    expect(details.undone[3]).toBe('a');

    const applies = bed.ledger.callsOf(id, 'apply');
    const failedAt = applies.find((c) => c.step === 'y')?.end ?? 0;
    for (const m of ['x', 'z']) {
      const call = applies.find((c) => c.step === m);
      expect(call?.outcome).toBe('ok'); // settled, not cancelled
      expect(call?.end ?? 0).toBeGreaterThan(failedAt);
    }
    expect(applies.map((c) => c.step)).not.toContain('b');

    const reverts = bed.ledger.callsOf(id, 'revert');
    const group = reverts.filter((c) => c.step !== 'a');
    expect(Math.max(...group.map((c) => c.start))).toBeLessThan(Math.min(...group.map((c) => c.end ?? 0)));
    expect(reverts.find((c) => c.step === 'a')?.start ?? 0).toBeGreaterThanOrEqual(Math.max(...group.map((c) => c.end ?? 0)));
    const s = await status(handle);
    expect(s.state).toBe('unwound');
    expect(['x', 'y', 'z'].map((m) => stepStatus(s, m).group)).toEqual(['g', 'g', 'g']);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('releases a group member waiting for an operator when a sibling fails', async () => {
    const id = nextId('release');
    bed.ledger.script('apply', `${id}/x`, { fail: 'needs-operator' });
    bed.ledger.script('apply', `${id}/y`, { fail: 'refused' });
    bed.ledger.delay('apply', `${id}/y`, 500);
    const details = await unwound(await start(id, [{ group: 'g', members: [['x'], ['y']] }]));
    expect(details.failedStep).toBe('y');
    expect(details.undone.sort()).toEqual(['x', 'y']);
  });

  it('starts no new step in a member once a sibling failed; steps in flight settle, then all is undone', async () => {
    const id = nextId('doomed-member');
    bed.ledger.delay('apply', `${id}/x1`, 600);
    bed.ledger.script('apply', `${id}/y`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { group: 'g', members: [['x1', 'x2'], ['y']] }]);
    const details = await unwound(handle);
    expect(details.failedStep).toBe('y');
    expect(bed.ledger.callsOf(id, 'apply').map((c) => c.step)).not.toContain('x2');
    expect(details.undone.slice(0, 2).sort()).toEqual(['x1', 'y']);
    expect(details.undone.slice(2)).toEqual(['a']);
    expect((await status(handle)).steps.map((x) => x.name)).not.toContain('x2');
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('unwinds a nested group: members of each group in parallel, a member last-first', async () => {
    const id = nextId('nested');
    bed.ledger.script('apply', `${id}/z`, { fail: 'refused' });
    bed.ledger.delay('apply', `${id}/z`, 300);
    const plan: PlanItem[] = [{ step: 'a' }, { group: 'outer', members: [['p', { group: 'inner', members: [['q1', 'q2'], ['r']] }], ['z']] }];
    const handle = await start(id, plan);
    const details = await unwound(handle);
    const order = details.undone;
    expect(order.indexOf('q2')).toBeLessThan(order.indexOf('q1'));
    for (const inner of ['q1', 'q2', 'r']) expect(order.indexOf(inner)).toBeLessThan(order.indexOf('p'));
    expect(order.at(-1)).toBe('a');
    const s = await status(handle);
    expect(stepStatus(s, 'q2').branch).toEqual([
      { group: 'outer', member: 0 },
      { group: 'inner', member: 0 },
    ]);
    expect(stepStatus(s, 'r').branch).toEqual([
      { group: 'outer', member: 0 },
      { group: 'inner', member: 1 },
    ]);
    expect(stepStatus(s, 'z').branch).toEqual([{ group: 'outer', member: 1 }]);
    expect(stepStatus(s, 'a')).toMatchObject({ branch: [], undoable: true });
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('lets a step the body did not await settle before any undo runs', async () => {
    const id = nextId('floating');
    bed.ledger.delay('apply', `${id}/f`, 800);
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { float: 'f' }, { step: 'b' }]);
    const details = await unwound(handle);
    expect(details.failedStep).toBe('b');
    expect(details.undone.sort()).toEqual(['a', 'b', 'f']);
    const applyF = bed.ledger.callsOf(id, 'apply').find((c) => c.step === 'f');
    const firstRevert = Math.min(...bed.ledger.callsOf(id, 'revert').map((c) => c.start));
    expect(firstRevert).toBeGreaterThanOrEqual(applyF?.end ?? Infinity);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('releases a step the body did not await when it waits for an operator and the saga unwinds', async () => {
    const id = nextId('floating-wait');
    bed.ledger.script('apply', `${id}/f`, { fail: 'needs-operator' });
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    bed.ledger.delay('apply', `${id}/b`, 500);
    const handle = await start(id, [{ float: 'f' }, { step: 'b' }]);
    const details = await unwound(handle);
    expect(details.failedStep).toBe('b');
    expect(details.undone.sort()).toEqual(['b', 'f']);
    expect(bed.ledger.residue(id)).toEqual([]);
  });
});

describe('cancellation', () => {
  it('before the pivot: unwinds, ends CANCELED, blames no step, and records the outcome in the memo', async () => {
    const id = nextId('cancel');
    bed.ledger.script('apply', `${id}/b`, { fail: 'needs-operator' });
    const handle = await start(id, steps('a', 'b', 'c'));
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.cancel();
    const details = await cancelled(handle);
    expect(details).toEqual({
      failedStep: null,
      cause: { type: 'Cancelled', message: 'a cancellation request unwound the saga (in flight: b)' },
      undone: ['b', 'a'],
      skipped: [],
    });
    expect((await status(handle)).cancelRequested).toEqual({ at: expect.any(String), effect: 'unwinds' });
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('undoes a step cancelled mid-action only after its action settled', async () => {
    const id = nextId('cancel-running');
    bed.ledger.delay('apply', `${id}/b`, 1_500);
    const handle = await start(id, steps('a', 'b'));
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'b' && x.state === 'running'));
    await handle.cancel();
    const details = await cancelled(handle);
    expect(details.cause.type).toBe('Cancelled');
    expect(details.undone).toEqual(['b', 'a']);
    const applyB = bed.ledger.callsOf(id, 'apply').find((c) => c.step === 'b');
    const revertB = bed.ledger.callsOf(id, 'revert').find((c) => c.step === 'b');
    expect(revertB?.start ?? 0).toBeGreaterThanOrEqual(applyB?.end ?? Infinity);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('holds a step in flight with holdStep until the saga is cancelled', async () => {
    const id = nextId('hold');
    const handle = await start(id, steps('a', 'b', 'c'), { faults: { holdStep: 'b' } });
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'b' && x.state === 'running' && x.attempts === 1));
    expect(bed.ledger.residue(id)).toEqual(['a', 'b']);
    await handle.cancel();
    expect((await cancelled(handle)).undone).toEqual(['b', 'a']);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('a child workflow cancelled from outside is a step failure: before the pivot the saga unwinds with that cause', async () => {
    const id = nextId('child-cancel');
    const handle = await start(id, [{ step: 'a' }, { child: 'c' }, { step: 'b' }]);
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'c' && x.state === 'running'));
    const child = bed.env.client.workflow.getHandle(`${id}/c/attempt-1`);
    await vi.waitFor(() => child.describe());
    await child.cancel();
    const details = await unwound(handle);
    expect(details).toMatchObject({ failedStep: 'c', cause: { type: 'Cancelled', message: `child workflow ${id}/c/attempt-1 was cancelled` }, undone: ['a'] });
    expect((await status(handle)).cancelRequested).toBeNull();
  });

  it('a child workflow cancelled from outside after the pivot pauses the saga; retry runs the step again', async () => {
    const id = nextId('child-cancel-pivot');
    const handle = await start(id, [{ step: 'a' }, { pivot: true }, { child: 'c' }]);
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'c' && x.state === 'running'));
    const first = bed.env.client.workflow.getHandle(`${id}/c/attempt-1`);
    await vi.waitFor(() => first.describe());
    await first.cancel();
    const paused = await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'c', actions: ['retry'], error: { type: 'Cancelled' } });
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    const second = bed.env.client.workflow.getHandle(`${id}/c/attempt-2`);
    await vi.waitFor(() => second.describe());
    await second.signal(releaseSignal);
    expect(await handle.result()).toMatchObject({ c: 'released' });
    expect(bed.ledger.callsOf(id, 'revert')).toEqual([]);
  });

  it('after the pivot: the request is recorded, changes nothing, and the saga finishes forward', async () => {
    const id = nextId('cancel-pivot');
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { pivot: true }, { step: 'b', undo: false }]);
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.cancel();
    const s = await waitForStatus(handle, (x) => x.cancelRequested !== null);
    expect(s).toMatchObject({ state: 'needs-operator', cancelRequested: { effect: 'goes-forward' } });
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(Object.keys(await handle.result())).toEqual(['a', 'b']);
    expect((await handle.describe()).typedSearchAttributes.get(UnwindState)).toBe('completed');
  });

  it('while stuck in its unwind: the request is recorded; the saga still waits for an operator and then unwinds', async () => {
    const id = nextId('cancel-stuck');
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    bed.ledger.script('revert', `${id}/a`, { fail: 'refused' });
    const handle = await start(id, steps('a', 'b'));
    await waitForStatus(handle, (s) => s.state === 'stuck');
    await handle.cancel();
    const s = await waitForStatus(handle, (x) => x.cancelRequested !== null);
    expect(s).toMatchObject({ state: 'stuck', cancelRequested: { effect: 'already-unwinding' } });
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(await unwound(handle)).toMatchObject({ failedStep: 'b', undone: ['b', 'a'] });
  });

  it('a stoppable saga past its pivot stops: a waiting step is released, nothing new starts, nothing is undone', async () => {
    const id = nextId('stop');
    bed.ledger.script('apply', `${id}/b`, { fail: 'needs-operator' });
    const handle = await start(id, [{ step: 'a' }, { pivot: true }, { step: 'b', undo: false }, { step: 'c', undo: false }], { stoppable: true });
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.cancel();
    const details = await cancelled(handle);
    expect(details).toMatchObject({ failedStep: null, undone: [], cause: { message: expect.stringContaining('stopped') }, reports: {} });
    expect(bed.ledger.callsOf(id).map((c) => `${c.op} ${c.step}`)).toEqual(['apply a', 'apply b']);
    expect((await status(handle)).cancelRequested?.effect).toBe('stops');
  });

  it('refuses a duplicate step name and unwinds what ran before it', async () => {
    const id = nextId('duplicate');
    const details = await unwound(await start(id, steps('a', 'b'), { duplicate: 'a' }));
    expect(details.failedStep).toBe('a');
    expect(details.cause.type).toBe('InvalidSaga');
    expect(details.cause.message).toMatch(/"a" is used twice/);
    expect(details.undone).toEqual(['a']);
  });
});

describe('stuck undos', () => {
  it('makes the saga stuck on a permanent undo failure; retry runs the undo again and the saga unwinds', async () => {
    const id = nextId('stuck-retry');
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    bed.ledger.script('revert', `${id}/a`, { fail: 'refused' });
    const handle = await start(id, steps('a', 'b'));
    const stuck = await waitForStatus(handle, (s) => s.state === 'stuck');
    expect(stuck.waitingFor).toMatchObject({ step: 'a', phase: 'undo', actions: ['retry', 'skip'], error: { type: 'Refused' } });
    expect(stepStatus(stuck, 'a').state).toBe('undo-failed');
    expect(await refusal(handle.executeUpdate(unwindUpdate, { args: [operator] }))).toMatch(/waits for retry or skip, not unwind/);
    await waitForStatus(handle, () => bed.notifications.some((n) => n.workflowId === id));
    expect(bed.notifications.filter((n) => n.workflowId === id)).toEqual([
      expect.objectContaining({ sagaType: 'plannedSaga', state: 'stuck', step: 'a', actions: ['retry', 'skip'] }),
    ]);

    const decision = await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(decision).toMatchObject({ action: 'retry', step: 'a', ...operator });
    const details = await unwound(handle);
    expect(details).toMatchObject({ failedStep: 'b', undone: ['b', 'a'], skipped: [] });
    const s = await status(handle);
    expect(stepStatus(s, 'a')).toMatchObject({ state: 'undone', undoAttempts: 2 });
    expect(s.decisions).toEqual([{ action: 'retry', step: 'a', waitId: 1, ...operator, at: expect.any(String) }]);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('records a skipped undo with its reason and operator, and leaves its residue', async () => {
    const id = nextId('stuck-skip');
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    bed.ledger.script('revert', `${id}/a`, { fail: 'bug' });
    const handle = await start(id, steps('a', 'b'));
    const stuck = await waitForStatus(handle, (s) => s.state === 'stuck');
    expect(stuck.waitingFor?.error.type).toBe('UnknownState');
    const skip = { operator: 'grace', reason: 'removed the volume by hand' };
    await handle.executeUpdate(skipUpdate, { args: [skip] });
    const details = await unwound(handle);
    expect(details.undone).toEqual(['b']);
    // The key finds what the skipped step's action did in the rack's ledger.
    expect(details.skipped).toEqual([{ step: 'a', key: `${id}/a`, ...skip }]);
    const s = await status(handle);
    expect(stepStatus(s, 'a').state).toBe('skipped');
    expect(s.decisions).toEqual([expect.objectContaining({ action: 'skip', step: 'a', ...skip })]);
    expect(bed.ledger.residue(id)).toEqual(['a']);
    // Not a clean unwind: the final state says so, in the status and in visibility.
    expect(s.state).toBe('unwound-with-residue');
    expect((await handle.describe()).typedSearchAttributes.get(UnwindState)).toBe('unwound-with-residue');
  });

  it('a cancellation that unwound with a skipped undo ends CANCELED, recorded as unwound with residue', async () => {
    const id = nextId('cancel-skip');
    bed.ledger.script('apply', `${id}/b`, { fail: 'needs-operator' });
    bed.ledger.script('revert', `${id}/a`, { fail: 'refused' });
    const handle = await start(id, steps('a', 'b'));
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.cancel();
    await waitForStatus(handle, (s) => s.state === 'stuck');
    await handle.executeUpdate(skipUpdate, { args: [operator] });
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(description.typedSearchAttributes.get(UnwindState)).toBe('unwound-with-residue');
    expect(SagaUnwoundDetails.parse(description.memo?.[OUTCOME_MEMO_KEY]).skipped).toEqual([{ step: 'a', key: `${id}/a`, ...operator }]);
    expect((await status(handle)).state).toBe('unwound-with-residue');
  });
});

describe('operator intervention on actions', () => {
  it('pauses on needs-operator and completes after an operator retry', async () => {
    const id = nextId('needs-operator');
    bed.ledger.script('apply', `${id}/a`, { fail: 'needs-operator' });
    const handle = await start(id, steps('a', 'b'));
    const paused = await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'a', phase: 'action', actions: ['retry', 'unwind'], error: { type: 'NeedsOperator' } });
    expect(Number.isNaN(Date.parse(paused.waitingFor?.since ?? ''))).toBe(false);
    expect(stepStatus(paused, 'a')).toMatchObject({ state: 'failed', attempts: 1, lastError: { type: 'NeedsOperator' } });
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(UnwindState)).toBe('needs-operator');

    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(Object.keys(await handle.result())).toEqual(['a', 'b']);
    const s = await status(handle);
    expect(stepStatus(s, 'a')).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(s.decisions).toHaveLength(1);
  });

  it('pauses on an unknown state; an operator unwind unwinds with that cause', async () => {
    const id = nextId('unknown');
    bed.ledger.script('apply', `${id}/b`, { fail: 'bug', afterEffect: true });
    const handle = await start(id, steps('a', 'b'));
    const paused = await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'b', error: { type: 'UnknownState', message: expect.stringContaining('scripted bug') } });
    expect(bed.ledger.callsOf(id, 'revert')).toEqual([]);
    await handle.executeUpdate(unwindUpdate, { args: [{ operator: 'ada', reason: 'rack state unclear, start over' }] });
    const details = await unwound(handle);
    expect(details).toMatchObject({ failedStep: 'b', cause: { type: 'UnknownState' }, undone: ['b', 'a'] });
    expect((await status(handle)).decisions).toEqual([expect.objectContaining({ action: 'unwind', step: 'b', operator: 'ada' })]);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('after the pivot, pauses for retry instead of unwinding, and refuses unwind', async () => {
    const id = nextId('pivot');
    bed.ledger.script('apply', `${id}/b`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { pivot: true }, { step: 'b', undo: false }]);
    const paused = await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(paused).toMatchObject({ pivoted: true, waitingFor: { step: 'b', actions: ['retry'], error: { type: 'Refused' } } });
    expect(await refusal(handle.executeUpdate(unwindUpdate, { args: [operator] }))).toMatch(/passed its pivot/);
    await waitForStatus(handle, () => bed.notifications.some((n) => n.workflowId === id && n.step === 'b'));
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect(Object.keys(await handle.result())).toEqual(['a', 'b']);
    expect(bed.ledger.callsOf(id, 'revert')).toEqual([]);
    expect(stepStatus(await status(handle), 'b').attempts).toBe(2);
  });

  it('refuses an undo declared after the pivot, and undoes nothing', async () => {
    const id = nextId('pivot-undo');
    const failure = await failureOf(await start(id, [{ step: 'a' }, { pivot: true }, { step: 'b' }]));
    expect(failure.type).toBe('InvalidSaga');
    expect(failure.message).toMatch(/"b" declares an undo after pivot/);
    expect(bed.ledger.callsOf(id).map((c) => `${c.op} ${c.step}`)).toEqual(['apply a']);
  });

  it('validator refuses actions nothing waits for, and empty operator or reason; nothing is recorded', async () => {
    const id = nextId('validator');
    bed.ledger.delay('apply', `${id}/a`, 1_000);
    bed.ledger.script('apply', `${id}/b`, { fail: 'needs-operator' });
    const handle = await start(id, steps('a', 'b'));
    await waitForStatus(handle, (s) => s.steps.some((x) => x.name === 'a' && x.state === 'running'));
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [operator] }))).toMatch(/running and no step waits for an operator/);

    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ operator: '', reason: 'x' }] }))).toMatch(/operator must name who decides/);
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ operator: 'ada', reason: '  ' }] }))).toMatch(/reason must say why/);
    expect(await refusal(handle.executeUpdate(skipUpdate, { args: [operator] }))).toMatch(/waits for retry or unwind, not skip/);
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, step: 'a' }] }))).toMatch(/step "a" does not wait/);
    expect((await status(handle)).decisions).toEqual([]);
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, step: 'b' }] });
    await handle.result();
  });
});

describe('wait identity', () => {
  it('applies a decision to the wait it names, and refuses a stale or repeated one saying what became of that wait', async () => {
    const id = nextId('wait-id');
    bed.ledger.script('apply', `${id}/a`, { fail: 'needs-operator' }, { fail: 'needs-operator' });
    const handle = await start(id, steps('a', 'b'));
    const first = await waitForStatus(handle, (s) => s.state === 'needs-operator');
    expect(first.waitingFor).toMatchObject({ step: 'a', waitId: 1 });
    expect(await handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 1 }] })).toMatchObject({ step: 'a', waitId: 1 });
    const second = await waitForStatus(handle, (s) => s.waitingFor?.waitId === 2);
    expect(second.waitingFor?.step).toBe('a');
    // The same command again (a double click, a retried request) must not decide wait 2.
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 1 }] }))).toMatch(
      /wait 1 \(step "a"\) was already decided: retry by ada at \d{4}-/,
    );
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 9 }] }))).toMatch(/no wait 9 has begun in this saga \(the latest is 2\)/);
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 2, step: 'b' }] }))).toMatch(/wait 2 is on step "a", not "b"/);
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ approver: 'ada', waitId: 2 }] }))).toMatch(/wait 2 \(step "a"\) waits for an operator/);
    expect((await status(handle)).decisions).toHaveLength(1);
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 2 }] });
    await handle.result();
    expect((await status(handle)).decisions.map((d) => d.waitId)).toEqual([1, 2]);
  });

  it('numbers approvals with the other waits and refuses an approval for a wait that ended', async () => {
    const id = nextId('wait-approval');
    bed.ledger.script('apply', `${id}/a`, { fail: 'needs-operator' });
    const options = { request: 'go on?', approvers: ['ada'], remindEvery: '1h', expireAfter: '1d' };
    const handle = await start(id, [{ step: 'a' }, { approval: 'ok', options }, { step: 'b' }]);
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    const awaiting = await waitForStatus(handle, (s) => s.state === 'awaiting-approval');
    expect(awaiting.pendingApproval?.waitId).toBe(2);
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ approver: 'ada', waitId: 1 }] }))).toMatch(/wait 1 \(step "a"\) was already decided/);
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 2 }] }))).toMatch(/wait 2 \(step "ok"\) is an approval/);
    expect(await handle.executeUpdate(approveUpdate, { args: [{ approver: 'ada', waitId: 2 }] })).toMatchObject({ waitId: 2, outcome: 'approved' });
    expect(Object.keys(await handle.result())).toEqual(['a', 'ok', 'b']);
  });

  it('closes a wait released by a failing sibling, and says so to a late decision', async () => {
    const id = nextId('wait-released');
    bed.ledger.script('apply', `${id}/x`, { fail: 'needs-operator' });
    bed.ledger.script('apply', `${id}/y`, { fail: 'refused' });
    bed.ledger.delay('apply', `${id}/y`, 500);
    bed.ledger.script('revert', `${id}/a`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { group: 'g', members: [['x'], ['y']] }]);
    const stuck = await waitForStatus(handle, (s) => s.state === 'stuck');
    expect(stuck.waitingFor).toMatchObject({ step: 'a', waitId: 2, phase: 'undo' });
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 1 }] }))).toMatch(
      /wait 1 \(step "x"\) ended without a decision: a step of its parallel group failed/,
    );
    await handle.executeUpdate(skipUpdate, { args: [{ ...operator, waitId: 2 }] });
    expect((await unwound(handle)).skipped).toEqual([{ step: 'a', key: `${id}/a`, ...operator }]);
  });
});

describe('continue-as-new', () => {
  it('numbers the next run\'s waits after the last of this one, and refuses a decision for a wait of an earlier run', async () => {
    const id = nextId('continues');
    for (const step of ['a', 'f', 'f#2']) bed.ledger.script('apply', `${id}/${step}`, { fail: 'needs-operator' });
    const handle = await start(id, [{ step: 'a' }, { float: 'f' }, { continueAsNew: true }], { next: [{ step: 'f#2' }] });
    await waitForStatus(handle, (s) => s.waitingFor?.waitId === 1);
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 1 }] });
    await waitForStatus(handle, (s) => s.waitingFor?.step === 'f' && s.waitingFor.waitId === 2);
    // The run continues as new while wait 2 is open: the saga re-opens it (here as step f#2).
    await handle.signal(continueSignal);
    // The handle `start` returned is bound to the first run; the saga goes on in the latest.
    const latest = bed.env.client.workflow.getHandle(id);
    const next = await waitForStatus(latest, (s) => s.waitingFor?.step === 'f#2');
    expect(next.waitingFor?.waitId).toBe(3);
    expect(await refusal(latest.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 2 }] }))).toMatch(
      /wait 2 began in an earlier run of this saga, which continued as new after wait 2/,
    );
    expect(await refusal(latest.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 4 }] }))).toMatch(/no wait 4 has begun in this saga \(the latest is 3\)/);
    expect(await latest.executeUpdate(retryUpdate, { args: [{ ...operator, waitId: 3 }] })).toMatchObject({ step: 'f#2', waitId: 3 });
    expect(Object.keys(await latest.result())).toEqual(['f#2']);
  });

  it('refuses a continuation that is not one', async () => {
    const id = nextId('continues-bad');
    const failure = await failureOf(await start(id, steps('a'), { continues: { lastWaitId: -1 } }));
    expect(failure.type).toBe('InvalidSaga');
    expect(failure.message).toMatch(/continues/);
    expect(bed.ledger.callsOf(id)).toEqual([]);
  });
});

describe('status is never stale', () => {
  it('an error escaping the engine after the pivot ends the saga failed, in status and search attributes', async () => {
    const id = nextId('failed');
    const handle = await start(id, [{ step: 'a' }, { pivot: true }, { step: 'b' }]);
    expect((await failureOf(handle)).type).toBe('InvalidSaga');
    expect((await status(handle)).state).toBe('failed');
    expect((await handle.describe()).typedSearchAttributes.get(UnwindState)).toBe('failed');
  });

  it('an invalid faults memo ends the saga failed', async () => {
    const id = nextId('failed-faults');
    const handle = await start(id, steps('a'), { faults: { failWhen: 'never' } as unknown as SagaFaults });
    expect((await failureOf(handle)).type).toBe('InvalidFaults');
    expect((await handle.describe()).typedSearchAttributes.get(UnwindState)).toBe('failed');
  });
});

describe('parallel waits', () => {
  it('needs the step named when two group members wait, and resumes each on its own retry', async () => {
    const id = nextId('two-waits');
    for (const m of ['x', 'y']) bed.ledger.script('apply', `${id}/${m}`, { fail: 'needs-operator' });
    const handle = await start(id, [{ group: 'g', members: [['x'], ['y']] }]);
    const paused = await waitForStatus(handle, (s) => s.waiting.length === 2);
    expect(paused.state).toBe('needs-operator');
    expect(paused.waiting.map((w) => w.step).sort()).toEqual(['x', 'y']);
    expect(await refusal(handle.executeUpdate(retryUpdate, { args: [operator] }))).toMatch(/2 steps wait.*name one with `step`/);
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, step: 'x' }] });
    const oneLeft = await waitForStatus(handle, (s) => s.waiting.length === 1);
    expect(oneLeft.waitingFor?.step).toBe('y');
    await handle.executeUpdate(retryUpdate, { args: [{ ...operator, step: 'y' }] });
    expect(Object.keys(await handle.result()).sort()).toEqual(['x', 'y']);
    expect((await status(handle)).decisions.map((d) => d.step)).toEqual(['x', 'y']);
  });
});

describe('determinism', () => {
  it('replays the history of a saga that paused, got stuck, took operator decisions and unwound', async () => {
    const id = nextId('replay');
    bed.ledger.script('apply', `${id}/c`, { fail: 'needs-operator' });
    bed.ledger.script('revert', `${id}/a`, { fail: 'refused' });
    const handle = await start(id, [{ step: 'a' }, { group: 'g', members: [['b1'], ['b2']] }, { step: 'c' }], { faults: { repeatUndos: { b1: 2 } } });
    await waitForStatus(handle, (s) => s.state === 'needs-operator');
    await handle.executeUpdate(unwindUpdate, { args: [operator] });
    await waitForStatus(handle, (s) => s.state === 'stuck');
    await handle.executeUpdate(retryUpdate, { args: [operator] });
    expect((await unwound(handle)).undone).toEqual(['c', expect.stringMatching(/^b[12]$/), expect.stringMatching(/^b[12]$/), 'a']);
    const history = await handle.fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: bed.workflowBundle }, history, id)).resolves.toBeUndefined();
  });
});

describe('transient failures', () => {
  it('retry inside the activity with the boundary backoff, then the step succeeds', async () => {
    const id = nextId('transient');
    bed.ledger.script('apply', `${id}/a`, { fail: 'network' }, { fail: 'network' }, { fail: 'network' });
    const handle = await start(id, steps('a'), { profile: 'reliable' });
    expect(await handle.result()).toEqual({ a: `res:${id}/a` });
    expect(bed.ledger.callsOf(id, 'apply').map((c) => [c.attempt, c.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'ok'],
    ]);
    expect(stepStatus(await status(handle), 'a').attempts).toBe(1);
  });

  it('unwind a one-shot saga once its attempts are exhausted', async () => {
    const id = nextId('exhausted');
    bed.ledger.script('apply', `${id}/b`, ...Array.from({ length: 6 }, () => ({ fail: 'network' as const })));
    const details = await unwound(await start(id, steps('a', 'b')));
    expect(details).toMatchObject({ failedStep: 'b', cause: { type: 'Transient' }, undone: ['b', 'a'] });
    expect(bed.ledger.callsOf(id, 'apply').filter((c) => c.step === 'b')).toHaveLength(5);
  });
});

describe('fault injection from the unwindFaults memo', () => {
  it('failStep (after): the action ran, then the step fails and the saga unwinds from it', async () => {
    const id = nextId('fail-after');
    const details = await unwound(await start(id, steps('a', 'b', 'c'), { faults: { failStep: 'b' } }));
    expect(details).toMatchObject({ failedStep: 'b', cause: { type: 'Refused', message: expect.stringContaining('fault injected') }, undone: ['b', 'a'] });
    expect(bed.ledger.callsOf(id, 'apply').map((c) => c.step)).toEqual(['a', 'b']);
    expect(bed.ledger.residue(id)).toEqual([]);
  });

  it('failStep (before): the action never runs, its undo still does', async () => {
    const id = nextId('fail-before');
    const details = await unwound(await start(id, steps('a', 'b'), { faults: { failStep: 'b', failWhen: 'before' } }));
    expect(details.undone).toEqual(['b', 'a']);
    expect(bed.ledger.callsOf(id, 'apply').map((c) => c.step)).toEqual(['a']);
    expect(bed.ledger.callsOf(id, 'revert').map((c) => c.step)).toEqual(['b', 'a']);
  });

  it('repeatActions runs every action N times without a double effect', async () => {
    const id = nextId('repeat');
    const handle = await start(id, [{ step: 'a' }, { group: 'g', members: [['x'], ['y']] }], { faults: { repeatActions: { '*': 2, y: 3 } } });
    await handle.result();
    const applies = bed.ledger.callsOf(id, 'apply');
    expect(applies.filter((c) => c.step === 'a')).toHaveLength(2);
    expect(applies.filter((c) => c.step === 'y')).toHaveLength(3);
    expect(stepStatus(await status(handle), 'y').attempts).toBe(3);
    expect(bed.ledger.effects.filter((k) => k.startsWith(`${id}/`)).sort()).toEqual([`${id}/a`, `${id}/x`, `${id}/y`]);
  });

  it('repeatUndos runs every undo N times', async () => {
    const id = nextId('repeat-undo');
    const handle = await start(id, steps('a', 'b'), { faults: { failStep: 'b', repeatUndos: { '*': 2 } } });
    expect((await unwound(handle)).undone).toEqual(['b', 'a']);
    expect(bed.ledger.callsOf(id, 'revert').map((c) => c.step)).toEqual(['b', 'b', 'a', 'a']);
    expect(stepStatus(await status(handle), 'a').undoAttempts).toBe(2);
  });

  it('failAs needs-operator and unknown-state pause the saga at the step; the injected failure fails once', async () => {
    for (const failAs of ['needs-operator', 'unknown-state'] as const) {
      const id = nextId(`fail-as-${failAs}`);
      const handle = await start(id, steps('a', 'b'), { faults: { failStep: 'b', failAs } });
      const paused = await waitForStatus(handle, (s) => s.state === 'needs-operator');
      expect(paused.waitingFor).toMatchObject({ step: 'b', error: { type: failAs === 'needs-operator' ? 'NeedsOperator' : 'UnknownState' } });
      await handle.executeUpdate(retryUpdate, { args: [operator] });
      expect(Object.keys(await handle.result())).toEqual(['a', 'b']);
    }
  });

  it('fails a saga whose faults memo is invalid, before any step', async () => {
    const id = nextId('bad-faults');
    const failure = await failureOf(await start(id, steps('a'), { faults: { failWhen: 'sometimes' } as unknown as SagaFaults }));
    expect(failure.type).toBe('InvalidFaults');
    expect(failure.message).toMatch(/failWhen/);
    expect(bed.ledger.callsOf(id)).toEqual([]);
  });
});
