/**
 * The typed client end to end: a dev server (visibility, search attributes), a real worker
 * and the real rack simulator, exercised through `createUnwindClient` as Nexus would.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import {
  InvalidRequestError,
  OperatorActionRefusedError,
  SagaCancelledError,
  SagaUnwoundError,
  type SagaSummary,
  type UnwindClient,
  createUnwindClient,
  newRequestId,
  operatorWait,
  requestFingerprint,
  sagaConflictQuery,
  sagaListQuery,
  sagaState,
} from '../src/client';
import { diskSagaIds } from '../src/schemas/disk';
import { sagaIds } from '../src/schemas/instance';
import { differingFields } from '../src/schemas/request';
import { sledReplaceId } from '../src/schemas/sled';
import type { OperatorNotification, SagaState, SagaStatus, WaitingFor } from '../src/schemas/saga';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { createDevServerEnv } from '../src/testing/environments';
import { eventually } from './cli-helpers';
import { failureOf, startTestRack, type TestRack } from '../src/testing/rack';
import { createUnwindTestWorker } from '../src/testing/worker';

let env: TestWorkflowEnvironment;
let testRack: TestRack;
let worker: Worker;
let running: Promise<void>;
let client: UnwindClient;
const notifications: OperatorNotification[] = [];

beforeAll(async () => {
  [env, testRack] = await Promise.all([createDevServerEnv(), startTestRack()]);
  worker = await createUnwindTestWorker(env, {
    taskQueue: TASK_QUEUE,
    activities: createActivities({ rack: testRack.rack, backoff: { baseMs: 20, capMs: 200 }, notifications: (n) => void notifications.push(n) }),
  });
  running = worker.run();
  client = await createUnwindClient({ address: env.address, namespace: env.namespace ?? 'default' });
});

afterAll(async () => {
  await client?.close();
  worker?.shutdown();
  await running;
  await testRack?.stop();
  await env?.teardown();
});

/** Polls `read` until `done` holds (visibility and status are eventually consistent). */

const untilState = (workflowId: string, state: SagaState): Promise<SagaStatus> =>
  eventually(() => client.sagas.status(workflowId), (s) => s.state === state, `${workflowId} to be ${state}`);
const listed = (rows: SagaSummary[], workflowId: string) => rows.some((r) => r.workflowId === workflowId);
const escape = (text: string) => text.replace(/[[\]()]/g, '\\$&');

describe('starting sagas', () => {
  it('rejects bad input naming every bad field, and starts nothing', async () => {
    const error = await failureOf(client.instances.create({ name: 'web-1', cpus: 0, memoryGiB: 4.5, diskGiB: -1, nics: 9 }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    const invalid = error as InvalidRequestError;
    expect(invalid.problems.map((p) => p.field).sort()).toEqual(['cpus', 'diskGiB', 'memoryGiB', 'nics']);
    expect(invalid.message).toMatch(/^instances\.create: invalid request: /);
    for (const field of ['cpus', 'diskGiB', 'memoryGiB', 'nics']) expect(invalid.message).toContain(`${field}: `);

    const missing = (await failureOf(client.disks.create({ name: 'Data 1', extra: true } as never))) as InvalidRequestError;
    expect(missing.problems.map((p) => p.field).sort()).toEqual(['(input)', 'name', 'sizeGiB']);
    const migrate = (await failureOf(client.instances.migrate({ instanceId: '', requestId: 'a b' }))) as InvalidRequestError;
    expect(migrate.problems.map((p) => p.field).sort()).toEqual(['instanceId', 'requestId']);

    // Nothing exists under the id the request would have had, and nothing is listed.
    const named = await failureOf(client.instances.create({ name: 'web-1', cpus: 0, memoryGiB: 4, diskGiB: 20, requestId: 'bad-1' }));
    expect(named).toBeInstanceOf(InvalidRequestError);
    await expect(client.sagas.describe('instance-create/web-1/bad-1')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await client.sagas.list({ saga: 'instanceCreate' })).toEqual([]);
  });

  it('starts the same request once: the same request id returns the same saga, before and after it finished', async () => {
    const first = await client.disks.create({ name: 'same-1', sizeGiB: 10, requestId: 'req-1' });
    const second = await client.disks.create({ name: 'same-1', sizeGiB: 10, requestId: 'req-1' });
    expect(first.workflowId).toBe('disk-create/same-1/req-1');
    expect([first.existing, second.existing]).toEqual([false, true]);
    const result = await second.result();
    expect(result.regions).toHaveLength(3);
    const third = await client.disks.create({ name: 'same-1', sizeGiB: 10, requestId: 'req-1' });
    expect(third.existing).toBe(true);
    expect(await third.result()).toEqual(result);

    const rows = await eventually(() => client.sagas.list({ saga: 'diskCreate', state: 'completed' }), (r) => listed(r, first.workflowId), 'the saga listed');
    expect(rows.filter((r) => r.workflowId === first.workflowId)).toHaveLength(1);
    const executions = [];
    for await (const info of client.temporal.workflow.list({ query: `WorkflowId = '${first.workflowId}'` })) executions.push(info.runId);
    expect(executions).toHaveLength(1);
    expect(await testRack.rack.list('disks', { name: 'same-1' })).toHaveLength(1);
  });

  it('injects faults given at the start: the saga unwinds from the step named; bad faults start nothing', async () => {
    const handle = await client.disks.create({ name: 'faulted-1', sizeGiB: 10 }, { faults: { failStep: 'ensure-region[1]' } });
    const unwound = (await failureOf(handle.result())) as SagaUnwoundError;
    expect(unwound).toBeInstanceOf(SagaUnwoundError);
    expect(unwound.details.failedStep).toBe('ensure-region[1]');
    expect(unwound.details.cause.message).toContain('fault injected by memo unwindFaults');
    expect(await testRack.rack.list('disks', { name: 'faulted-1' })).toEqual([]);

    const bad = (await failureOf(client.disks.create({ name: 'faulted-2', sizeGiB: 10, requestId: 'bad-faults' }, { faults: { failAs: 'boom' } as never }))) as InvalidRequestError;
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect(bad.problems.map((p) => p.field)).toEqual(['faults.failAs']);
    await expect(client.sagas.describe('disk-create/faulted-2/bad-faults')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('starts any served workflow by its type, with faults; refuses a type the worker does not serve', async () => {
    const handle = await client.sagas.start<{ diskId: string }>('diskCreate', { input: { name: 'generic-client-1', sizeGiB: 1 }, faults: { failStep: 'create-disk', failWhen: 'before' } });
    expect(handle.workflowId).toMatch(/^disk-create\/[a-z0-9]{12}$/);
    expect(((await failureOf(handle.result())) as SagaUnwoundError).details.failedStep).toBe('create-disk');
    const unknown = (await failureOf(client.sagas.start('diskCreat'))) as InvalidRequestError;
    expect(unknown).toBeInstanceOf(InvalidRequestError);
    expect(unknown.message).toMatch(/unknown workflow type 'diskCreat': the worker serves .*diskCreate/);
  });

  it('makes a saga listable (and findable as stalled) from its start, before any worker runs it', async () => {
    const idle = await createUnwindClient({ address: env.address, taskQueue: 'no-worker-polls-this' });
    try {
      const handle = await idle.disks.create({ name: 'queued-1', sizeGiB: 1 });
      const stalled = await eventually(() => idle.sagas.list({ stalledFor: 200 }), (r) => listed(r, handle.workflowId), 'the unstarted saga listed as stalled');
      expect(stalled.find((r) => r.workflowId === handle.workflowId)).toMatchObject({ saga: 'diskCreate', state: 'running', step: null, status: 'running' });
      await handle.temporal.terminate('test: never meant to run');
    } finally {
      await idle.close();
    }
  });
});

describe('request identity, without a server', () => {
  it('workflow ids name the object and the request', () => {
    expect(sagaIds.instanceCreate({ name: 'web-1', requestId: 'r-1' })).toBe('instance-create/web-1/r-1');
    expect(sagaIds.instanceMigrate({ instanceId: 'i-1', targetSledId: 'sled-2', requestId: 'r-2' })).toBe('instance-migrate/i-1/r-2');
    expect(sagaIds.instanceDelete({ instanceId: 'i-1', requestId: 'r-3' })).toBe('instance-delete/i-1/r-3');
    expect(diskSagaIds.diskCreate({ name: 'data-1', requestId: 'r-4' })).toBe('disk-create/data-1/r-4');
    expect(sledReplaceId({ sledId: 'sled-3', requestId: 'r-5' })).toBe('sled-replace/sled-3/r-5');
    const ids = new Set(Array.from({ length: 1_000 }, newRequestId));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{12}$/);
  });

  it('fingerprints ignore key order and unset fields; differing fields are dotted paths', () => {
    expect(requestFingerprint({ a: 1, b: { c: 2, d: [1, 2] }, u: undefined })).toBe(requestFingerprint({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(requestFingerprint({ a: 1 })).not.toBe(requestFingerprint({ a: 2 }));
    expect(differingFields({ a: 1, b: { c: 2, d: [1, 2] }, e: 'x' }, { a: 1, b: { c: 3, d: [2, 1] }, f: 'y' })).toEqual(['b.c', 'b.d', 'e', 'f']);
    expect(differingFields({ a: 1, t: undefined }, { a: 1 })).toEqual([]);
  });

  it('finds the running sagas of each conflicting kind on the object', () => {
    const object = { what: 'instance i-1', sagas: [['instanceMigrate', 'instance-migrate/i-1/'], ['instanceDelete', "instance-delete/i'1/"]] } as const;
    expect(sagaConflictQuery(object)).toBe(
      "ExecutionStatus = 'Running' AND ((WorkflowType = 'instanceMigrate' AND WorkflowId STARTS_WITH 'instance-migrate/i-1/') OR " +
        "(WorkflowType = 'instanceDelete' AND WorkflowId STARTS_WITH 'instance-delete/i\\'1/'))",
    );
  });
});

describe('listing sagas', () => {
  it('builds a visibility query over the search attributes', () => {
    const now = new Date('2024-06-01T12:00:00.000Z');
    expect(sagaListQuery({}, now)).toBe('UnwindSaga IS NOT NULL');
    expect(sagaListQuery({ state: 'stuck', saga: 'instanceCreate', stalledFor: 600_000 }, now)).toBe(
      "UnwindSaga IS NOT NULL AND UnwindSaga = 'instanceCreate' AND UnwindState = 'stuck' AND " +
        "ExecutionStatus = 'Running' AND UnwindProgressAt < '2024-06-01T11:50:00.000Z'",
    );
    expect(sagaListQuery({ stalledFor: 600_000 }, now)).toBe(
      "UnwindSaga IS NOT NULL AND ExecutionStatus = 'Running' AND UnwindProgressAt < '2024-06-01T11:50:00.000Z'",
    );
  });

  it('lists a live state only on open workflows; failed and cancelled include workflows ended from outside', () => {
    const live = "('running', 'unwinding', 'needs-operator', 'stuck', 'awaiting-approval')";
    for (const state of ['running', 'unwinding', 'needs-operator', 'stuck', 'awaiting-approval'] as const) {
      expect(sagaListQuery({ state })).toBe(`UnwindSaga IS NOT NULL AND UnwindState = '${state}' AND ExecutionStatus = 'Running'`);
    }
    expect(sagaListQuery({ state: 'completed' })).toBe("UnwindSaga IS NOT NULL AND UnwindState = 'completed'");
    expect(sagaListQuery({ state: 'unwound' })).toBe("UnwindSaga IS NOT NULL AND UnwindState = 'unwound'");
    expect(sagaListQuery({ state: 'failed', saga: 'diskCreate' })).toBe(
      "UnwindSaga IS NOT NULL AND UnwindSaga = 'diskCreate' AND (UnwindState = 'failed' OR " +
        `(ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut') AND UnwindState IN ${live}))`,
    );
    expect(sagaListQuery({ state: 'cancelled' })).toBe(
      `UnwindSaga IS NOT NULL AND (UnwindState = 'cancelled' OR (ExecutionStatus = 'Canceled' AND UnwindState IN ${live}))`,
    );
  });

  it('reads a closed workflow whose UnwindState is still live by how it closed', () => {
    expect(sagaState('needs-operator', 'running')).toBe('needs-operator');
    expect(sagaState('running', 'terminated')).toBe('failed');
    expect(sagaState('stuck', 'timed_out')).toBe('failed');
    expect(sagaState('running', 'failed')).toBe('failed');
    expect(sagaState('awaiting-approval', 'cancelled')).toBe('cancelled');
    expect(sagaState('running', 'completed')).toBeNull();
    expect(sagaState('unwound', 'failed')).toBe('unwound');
    expect(sagaState('cancelled', 'cancelled')).toBe('cancelled');
    expect(sagaState('completed', 'terminated')).toBe('completed');
    expect(sagaState(null, 'terminated')).toBeNull();
  });

  it('rejects unknown filter values, naming each', async () => {
    const error = (await failureOf(client.sagas.list({ state: 'sleeping' as SagaState, saga: "x' OR '1'='1", stalledFor: -5, limit: 0 }))) as InvalidRequestError;
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.problems.map((p) => p.field).sort()).toEqual(['limit', 'saga', 'stalledFor', 'state']);
  });
});

describe('the wait a decision is for', () => {
  const wait = (step: string, waitId: number): WaitingFor => ({
    step,
    waitId,
    phase: 'action',
    actions: ['retry', 'unwind'],
    since: '2024-06-01T12:00:00.000Z',
    error: { type: 'NeedsOperator', message: 'sled offline' },
  });

  it('is the one open wait, or the one of the step named', () => {
    expect(operatorWait({ state: 'needs-operator', waiting: [wait('a', 3)] })).toEqual({ wait: wait('a', 3) });
    expect(operatorWait({ state: 'needs-operator', waiting: [wait('a', 3), wait('b', 4)] }, 'b')).toEqual({ wait: wait('b', 4) });
  });

  it('is refused when nothing waits, the step named does not, or several wait and none is named', () => {
    expect(operatorWait({ state: 'running', waiting: [] })).toEqual({ refusal: 'the saga is running and no step waits for an operator' });
    expect(operatorWait({ state: 'needs-operator', waiting: [wait('a', 3)] }, 'c')).toEqual({
      refusal: 'step "c" does not wait for an operator; waiting: "a" (wait 3: retry/unwind)',
    });
    expect(operatorWait({ state: 'needs-operator', waiting: [wait('a', 3), wait('b', 4)] })).toEqual({
      refusal: '2 steps wait: "a" (wait 3: retry/unwind), "b" (wait 4: retry/unwind); name one by its step or wait id',
    });
  });
});

describe('operator actions on a paused saga', () => {
  it('pauses on a needs-operator failure; lists it as needs-operator and stalled; retry resumes it', async () => {
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const handle = await client.disks.create({ name: 'paused-1', sizeGiB: 10 });
    const status = await untilState(handle.workflowId, 'needs-operator');
    expect(status.waitingFor).toMatchObject({ phase: 'action', actions: ['retry', 'unwind'], error: { type: 'NeedsOperator' } });
    expect(status.waitingFor?.step).toMatch(/^ensure-region\[\d\]$/);
    expect(notifications.some((n) => n.workflowId === handle.workflowId)).toBe(true);

    const paused = await eventually(() => client.sagas.list({ state: 'needs-operator' }), (r) => listed(r, handle.workflowId), 'needs-operator listed');
    expect(paused.find((r) => r.workflowId === handle.workflowId)).toMatchObject({ saga: 'diskCreate', step: status.waitingFor?.step, status: 'running' });
    const stalled = await eventually(() => client.sagas.list({ stalledFor: 300 }), (r) => listed(r, handle.workflowId), 'stalled listed');
    expect(stalled.every((r) => r.status === 'running')).toBe(true);
    expect(listed(await client.sagas.list({ stalledFor: 3_600_000 }), handle.workflowId)).toBe(false);

    await expect(client.sagas.skip(handle.workflowId, { operator: 'alice', reason: 'no undo waits' })).rejects.toBeInstanceOf(OperatorActionRefusedError);
    const empty = (await failureOf(client.sagas.retry(handle.workflowId, { operator: ' ', reason: '' }))) as InvalidRequestError;
    expect(empty.problems.map((p) => p.field).sort()).toEqual(['operator', 'reason']);

    const decision = await client.sagas.retry(handle.workflowId, { operator: 'alice', reason: 'sled back online' });
    expect(decision).toMatchObject({ action: 'retry', operator: 'alice', reason: 'sled back online', step: status.waitingFor?.step, waitId: status.waitingFor?.waitId });
    const result = await handle.result();
    expect(result.regions).toHaveLength(3);
    expect((await client.sagas.status(handle.workflowId)).decisions).toHaveLength(1);
  });

  it('unwinds a paused saga on request: result() throws SagaUnwoundError naming the failed step', async () => {
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const handle = await client.disks.create({ name: 'paused-2', sizeGiB: 10 });
    const status = await untilState(handle.workflowId, 'needs-operator');
    await client.sagas.unwind(handle.workflowId, { operator: 'bob', reason: 'sled being replaced' });
    const error = (await failureOf(client.sagas.result(handle.workflowId))) as SagaUnwoundError;
    expect(error).toBeInstanceOf(SagaUnwoundError);
    expect(error.details.failedStep).toBe(status.waitingFor?.step);
    expect(error.details.undone).toContain('create-disk');
    expect(await testRack.rack.list('disks', { name: 'paused-2' })).toEqual([]);
    const row = await eventually(() => client.sagas.describe(handle.workflowId), (r) => r.state === 'unwound', 'unwound in visibility');
    expect(row.status).toBe('failed');
  });
});

describe('a decision names the wait it decides', () => {
  it('fills in the open wait; a decision for a wait that has ended is refused, never applied to the next wait', async () => {
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const handle = await client.disks.create({ name: 'waits-1', sizeGiB: 10 });
    const first = (await untilState(handle.workflowId, 'needs-operator')).waitingFor;
    if (!first) throw new Error('no wait');

    // The retry fails again: the same step waits again, under a new wait id.
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const decided = await handle.retry({ operator: 'alice', reason: 'try again' });
    expect(decided).toMatchObject({ step: first.step, waitId: first.waitId });
    const second = await eventually(
      () => client.sagas.status(handle.workflowId),
      (s) => s.waitingFor !== null && s.waitingFor.waitId !== first.waitId,
      'the step to wait again',
    );
    expect(second.waitingFor).toMatchObject({ step: first.step });
    expect(second.waitingFor?.waitId).toBeGreaterThan(first.waitId);

    // The same decision again (a stale command) names the first wait: refused, saying how it ended.
    const stale = (await failureOf(handle.retry({ operator: 'bob', reason: 'try again', waitId: first.waitId }))) as OperatorActionRefusedError;
    expect(stale).toBeInstanceOf(OperatorActionRefusedError);
    expect(stale.reason).toMatch(new RegExp(`wait ${first.waitId} \\(step "${escape(first.step)}"\\) was already decided: retry by alice at `));
    const unknown = (await failureOf(handle.unwind({ operator: 'bob', reason: 'x', waitId: 99 }))) as OperatorActionRefusedError;
    expect(unknown).toBeInstanceOf(OperatorActionRefusedError);
    expect(unknown.reason).toMatch(/no wait 99/);
    const after = await client.sagas.status(handle.workflowId);
    expect(after.decisions).toHaveLength(1);
    expect(after.waitingFor?.waitId).toBe(second.waitingFor?.waitId);

    const bad = (await failureOf(handle.retry({ operator: 'bob', reason: 'x', waitId: 0 }))) as InvalidRequestError;
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect(bad.problems.map((p) => p.field)).toEqual(['waitId']);

    expect(await handle.retry({ operator: 'bob', reason: 'fixed', waitId: second.waitingFor?.waitId })).toMatchObject({ waitId: second.waitingFor?.waitId });
    expect((await handle.result()).regions).toHaveLength(3);
    expect((await client.sagas.status(handle.workflowId)).decisions.map((d) => [d.operator, d.waitId])).toEqual([
      ['alice', first.waitId],
      ['bob', second.waitingFor?.waitId],
    ]);
  });

  it('refuses to guess when several steps wait: the refusal lists them; naming the step decides its wait', async () => {
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator', count: 2 });
    const handle = await client.disks.create({ name: 'waits-2', sizeGiB: 10 });
    const status = await eventually(() => handle.status(), (s) => s.waiting.length === 2, 'two steps waiting');
    const [a, b] = status.waiting as [WaitingFor, WaitingFor];

    const refused = (await failureOf(handle.retry({ operator: 'alice', reason: 'which?' }))) as OperatorActionRefusedError;
    expect(refused).toBeInstanceOf(OperatorActionRefusedError);
    expect(refused.reason).toContain(`2 steps wait: "${a.step}" (wait ${a.waitId}: retry/unwind), "${b.step}" (wait ${b.waitId}: retry/unwind)`);
    expect((await handle.status()).decisions).toEqual([]);

    expect(await handle.retry({ operator: 'alice', reason: 'this one', step: b.step })).toMatchObject({ step: b.step, waitId: b.waitId });
    expect(await handle.retry({ operator: 'alice', reason: 'the other one' })).toMatchObject({ step: a.step, waitId: a.waitId });
    expect((await handle.result()).regions).toHaveLength(3);
  });
});

describe('sagas that ended other than by themselves', () => {
  it('a terminated saga is never listed as running: it is failed, with its execution status', async () => {
    const idle = await createUnwindClient({ address: env.address, taskQueue: 'no-worker-polls-this' });
    try {
      const handle = await idle.disks.create({ name: 'terminated-1', sizeGiB: 1 });
      await eventually(() => client.sagas.list({ state: 'running' }), (r) => listed(r, handle.workflowId), 'listed as running');
      await handle.temporal.terminate('test: ended from outside');
      const failed = await eventually(() => client.sagas.list({ state: 'failed' }), (r) => listed(r, handle.workflowId), 'listed as failed');
      expect(failed.find((r) => r.workflowId === handle.workflowId)).toMatchObject({ state: 'failed', status: 'terminated' });
      expect(listed(await client.sagas.list({ state: 'running' }), handle.workflowId)).toBe(false);
      expect(listed(await client.sagas.list({ stalledFor: 1 }), handle.workflowId)).toBe(false);
      expect(await client.sagas.describe(handle.workflowId)).toMatchObject({ state: 'failed', status: 'terminated' });
      const refused = (await failureOf(client.sagas.retry(handle.workflowId, { operator: 'alice', reason: 'too late' }))) as OperatorActionRefusedError;
      expect(refused).toBeInstanceOf(OperatorActionRefusedError);
      expect(refused.reason).toBe('the saga has finished (terminated)');
    } finally {
      await idle.close();
    }
  });

  it('a cancelled saga unwinds: result() throws SagaCancelledError with what was undone; listed as cancelled', async () => {
    await testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const handle = await client.disks.create({ name: 'cancelled-1', sizeGiB: 10 });
    await untilState(handle.workflowId, 'needs-operator');
    await handle.temporal.cancel();
    const error = (await failureOf(handle.result())) as SagaCancelledError;
    expect(error).toBeInstanceOf(SagaCancelledError);
    expect(error.details).toMatchObject({ failedStep: null, cause: { type: 'Cancelled' } });
    expect(error.details?.undone).toContain('create-disk');
    expect(await testRack.rack.list('disks', { name: 'cancelled-1' })).toEqual([]);
    const rows = await eventually(() => client.sagas.list({ state: 'cancelled' }), (r) => listed(r, handle.workflowId), 'listed as cancelled');
    expect(rows.find((r) => r.workflowId === handle.workflowId)).toMatchObject({ state: 'cancelled', status: 'cancelled' });
    expect(listed(await client.sagas.list({ state: 'unwinding' }), handle.workflowId)).toBe(false);
  });
});
