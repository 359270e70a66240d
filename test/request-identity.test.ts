/**
 * Request identity, end to end on a dev server with a real worker over the rack simulator:
 * a request carries an idempotency key (its request id, generated when not given); the same
 * key with the same parameters finds the first saga, with other parameters it is refused; a
 * name may be used again once its resource is gone; a request that unwound may be made again;
 * two sagas that must not run at once on one object are refused at start. Through the typed
 * client and through the CLI (exit 5 for a refusal, 2 for a bad name).
 *
 * Errors are checked by name, not class, so that this file also runs against a client that
 * lacks them (and fails there for the behaviour, not an import).
 */
import { describe, expect, it } from 'vitest';
import type { SagaHandle } from '../src/client';
import { DiskCreateParams } from '../src/schemas/disk';
import { InstanceCreateParams } from '../src/schemas/instance';
import type { SagaState, SagaStatus } from '../src/schemas/saga';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { failureOf } from '../src/testing/rack';
import { eventually, expectExit } from './cli-helpers';
import { useRackTestBed } from './helpers/rack-bed';

const bed = useRackTestBed({ taskQueue: TASK_QUEUE, deps: { stream: { chunkMs: 5 } } });

const rack = () => bed.testRack.rack;
const vm = (name: string, extra: Record<string, unknown> = {}) => ({ name, cpus: 1, memoryGiB: 2, diskGiB: 10, ...extra });
const untilState = (workflowId: string, state: SagaState): Promise<SagaStatus> =>
  eventually(() => bed.client.sagas.status(workflowId), (s) => s.state === state, `${workflowId} to be ${state}`);

/** Every workflow whose id starts with `prefix`, open or closed, as visibility lists them. */
async function executions(prefix: string): Promise<{ workflowId: string; type: string; status: string }[]> {
  const rows = [];
  for await (const info of bed.client.temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) {
    rows.push({ workflowId: info.workflowId, type: info.type, status: info.status.name });
  }
  return rows;
}

/** What a call threw, with the fields a refusal carries. */
async function refusal(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const error = await failureOf(call);
  expect(error).toBeInstanceOf(Error);
  return error as Error & Record<string, unknown>;
}

/** A running instance, created through the bed.client. */
async function runningInstance(name: string): Promise<{ instanceId: string; sledId: string }> {
  const created = await bed.client.instances.create(vm(name));
  return created.result();
}

/** A delete of `instanceId` paused for an operator at stop-instance: it runs, holding the instance. */
async function pausedDelete(instanceId: string): Promise<SagaHandle> {
  await rack().faults.script({ operation: 'instances.update', kind: 'needs-operator' });
  const deleting = await bed.client.instances.delete({ instanceId });
  await untilState(deleting.workflowId, 'needs-operator');
  return deleting;
}

describe('a name may be used again; a request that unwound may be made again', () => {
  it('create web-1, delete it, create web-1 again: a new saga and a new instance the second time', async () => {
    const first = await bed.client.instances.create(vm('web-1'));
    const made = await first.result();
    const deleted = await bed.client.instances.delete({ instanceId: made.instanceId });
    await deleted.result();
    expect((await rack().list('instances', { name: 'web-1' })).map((i) => i.id)).toEqual([]);

    const second = await bed.client.instances.create(vm('web-1'));
    expect(second.existing).toBe(false);
    expect(second.workflowId).not.toBe(first.workflowId);
    const again = await second.result();
    expect(again.instanceId).not.toBe(made.instanceId);
    expect(await rack().get('instances', again.instanceId)).toMatchObject({ name: 'web-1', state: 'running' });
  });

  it('a create that unwound may be requested again, and runs again', async () => {
    await rack().faults.script({ operation: 'instances.create', kind: 'refused' });
    const first = await bed.client.instances.create(vm('web-2'));
    expect(await refusal(first.result())).toMatchObject({ name: 'SagaUnwoundError' });

    const second = await bed.client.instances.create(vm('web-2'));
    expect(second.existing).toBe(false);
    const made = await second.result();
    expect(await rack().get('instances', made.instanceId)).toMatchObject({ name: 'web-2', state: 'running' });
  });

  it('a delete that unwound may be requested again, and removes the instance', async () => {
    const { instanceId } = await runningInstance('web-3');
    await rack().faults.script({ operation: 'instances.update', kind: 'refused' });
    const first = await bed.client.instances.delete({ instanceId });
    expect(await refusal(first.result())).toMatchObject({ name: 'SagaUnwoundError' });
    expect((await rack().get('instances', instanceId)).state).toBe('running');

    const second = await bed.client.instances.delete({ instanceId });
    expect(second.existing).toBe(false);
    expect((await second.result()).instanceId).toBe(instanceId);
    expect((await rack().list('instances')).map((i) => i.id)).not.toContain(instanceId);
  });
});

describe('the same request id', () => {
  it('with the same parameters finds the first saga, running or closed; a request id is generated when not given', async () => {
    const first = await bed.client.disks.create({ name: 'same-1', sizeGiB: 10, requestId: 'nexus-1' });
    const second = await bed.client.disks.create({ name: 'same-1', sizeGiB: 10, requestId: 'nexus-1' });
    expect(first.workflowId).toBe('disk-create/same-1/nexus-1');
    expect([first.existing, second.existing]).toEqual([false, true]);
    expect(second.workflowId).toBe(first.workflowId);
    expect([first.requestId, second.requestId]).toEqual(['nexus-1', 'nexus-1']);
    const result = await second.result();
    const third = await bed.client.disks.create({ sizeGiB: 10, name: 'same-1', requestId: 'nexus-1' });
    expect(third).toMatchObject({ workflowId: first.workflowId, existing: true });
    expect(await third.result()).toEqual(result);
    expect(await rack().list('disks', { name: 'same-1' })).toHaveLength(1);

    const generated = await bed.client.disks.create({ name: 'gen-1', sizeGiB: 1 });
    expect(generated.requestId).toMatch(/^[a-z0-9]{12}$/);
    expect(generated.workflowId).toBe(`disk-create/gen-1/${generated.requestId}`);
    await generated.result();
  });

  it('with other parameters is refused naming the fields that differ, and starts nothing', async () => {
    const first = await bed.client.disks.create({ name: 'same-2', sizeGiB: 10, requestId: 'nexus-2' });
    await first.result();
    const error = await refusal(bed.client.disks.create({ name: 'same-2', sizeGiB: 20, requestId: 'nexus-2' }));
    expect(error).toMatchObject({
      name: 'RequestConflictError',
      request: 'disks.create',
      requestId: 'nexus-2',
      workflowId: first.workflowId,
      fields: ['sizeGiB'],
      differences: [{ field: 'sizeGiB', before: 10, now: 20 }],
    });
    expect(error.message).toContain('sizeGiB was 10, now 20');

    const instance = await bed.client.instances.create(vm('same-3', { requestId: 'nexus-3' }));
    const changed = await refusal(bed.client.instances.create(vm('same-3', { cpus: 2, nics: 2, requestId: 'nexus-3' })));
    expect(changed).toMatchObject({ name: 'RequestConflictError', workflowId: instance.workflowId, fields: ['cpus', 'nics'] });
    const { instanceId, sledId } = await instance.result();
    const move = await bed.client.instances.migrate({ instanceId, requestId: 'move-1' });
    await move.result();
    const target = (await rack().list('sleds')).find((s) => s.id !== sledId)!.id;
    expect(await refusal(bed.client.instances.migrate({ instanceId, targetSledId: target, requestId: 'move-1' }))).toMatchObject({
      name: 'RequestConflictError',
      workflowId: move.workflowId,
      differences: [{ field: 'targetSledId', before: undefined, now: target }],
    });

    // Nothing started: one saga per request in visibility (once it lists them), one disk in the rack.
    await expect.poll(() => executions('disk-create/same-2/')).toEqual([{ workflowId: first.workflowId, type: 'diskCreate', status: 'COMPLETED' }]);
    await expect.poll(async () => (await executions('instance-create/same-3/')).map((e) => e.workflowId)).toEqual([instance.workflowId]);
    await expect.poll(async () => (await executions(`instance-migrate/${instanceId}/`)).map((e) => e.workflowId)).toEqual([move.workflowId]);
    expect(await rack().list('disks', { name: 'same-2' })).toHaveLength(1);
  });
});

describe('sagas that must not run at once on one object', () => {
  it('a migrate (or another delete) while a delete of the instance runs is refused naming it; once it ended, a migrate runs', async () => {
    const { instanceId } = await runningInstance('busy-1');
    const deleting = await pausedDelete(instanceId);

    const migrate = await refusal(bed.client.instances.migrate({ instanceId }));
    expect(migrate).toMatchObject({
      name: 'SagaConflictError',
      request: 'instances.migrate',
      object: `instance ${instanceId}`,
      running: { workflowId: deleting.workflowId, saga: 'instanceDelete', requestId: deleting.requestId },
    });
    expect(migrate.message).toContain(`saga instanceDelete ${deleting.workflowId} (request ${deleting.requestId}) is running on instance ${instanceId}`);
    expect(await refusal(bed.client.instances.delete({ instanceId }))).toMatchObject({ name: 'SagaConflictError', running: { workflowId: deleting.workflowId } });
    // Once visibility lists the delete (started before the refusals), it lists no migrate.
    await expect.poll(async () => (await executions(`instance-delete/${instanceId}/`)).map((e) => e.workflowId)).toEqual([deleting.workflowId]);
    expect(await executions(`instance-migrate/${instanceId}/`)).toEqual([]);

    await bed.client.sagas.unwind(deleting.workflowId, { operator: 'test', reason: 'keep the instance' });
    await expect(deleting.result()).rejects.toMatchObject({ name: 'SagaUnwoundError' });
    const moved = await bed.client.instances.migrate({ instanceId });
    expect((await moved.result()).instanceId).toBe(instanceId);
  });

  it('a second create of a name while the first runs is refused naming it', async () => {
    await rack().faults.script({ operation: 'instances.create', kind: 'needs-operator' });
    const first = await bed.client.instances.create(vm('busy-2'));
    await untilState(first.workflowId, 'needs-operator');
    expect(await refusal(bed.client.instances.create(vm('busy-2', { cpus: 4 })))).toMatchObject({
      name: 'SagaConflictError',
      object: 'instance name busy-2',
      running: { workflowId: first.workflowId, saga: 'instanceCreate', requestId: first.requestId },
    });
    // Another name is another object.
    const other = await bed.client.instances.create(vm('busy-3'));
    await other.result();

    await bed.client.sagas.retry(first.workflowId, { operator: 'test', reason: 'rack back' });
    await first.result();
  });

  it('two replacements of one sled: the second is refused naming the first; a rejected one may be requested again', async () => {
    // A sled nothing runs on: the evacuation has nothing to move.
    const sleds = await rack().list('sleds');
    const occupied = new Set((await rack().list('instances')).map((i) => i.sledId));
    const sledId = (sleds.find((s) => !occupied.has(s.id)) ?? sleds[0]!).id;
    const request = { sledId, approvers: ['alice'], technicians: ['tom'], requestId: 'rma-1' };
    const first = await bed.client.sleds.replace(request);
    expect(first.workflowId).toBe(`sled-replace/${sledId}/rma-1`);
    await untilState(first.workflowId, 'awaiting-approval');

    expect(await bed.client.sleds.replace(request)).toMatchObject({ workflowId: first.workflowId, existing: true });
    const changed = await refusal(bed.client.sleds.replace({ ...request, approval: { expireAfter: '5d' } }));
    expect(changed).toMatchObject({ name: 'RequestConflictError', fields: ['approval.expireAfter'], differences: [{ field: 'approval.expireAfter', before: '3d', now: '5d' }] });
    const second = await refusal(bed.client.sleds.replace({ ...request, requestId: 'rma-2' }));
    expect(second).toMatchObject({ name: 'SagaConflictError', object: `sled ${sledId}`, running: { workflowId: first.workflowId, requestId: 'rma-1' } });

    await bed.client.sagas.reject(first.workflowId, { approver: 'alice', comment: 'false alarm' });
    await expect(first.result()).rejects.toMatchObject({ name: 'SagaUnwoundError' });
    const again = await bed.client.sleds.replace({ ...request, requestId: 'rma-2' });
    expect(again.existing).toBe(false);
    await untilState(again.workflowId, 'awaiting-approval');
    await bed.client.sagas.reject(again.workflowId, { approver: 'alice', comment: 'done testing' });
    await expect(again.result()).rejects.toMatchObject({ name: 'SagaUnwoundError' });
  });
});

describe('instance and disk names are DNS labels', () => {
  const bad = ['web-', 'Web-1', '1web', 'web_1', '-web', 'a'.repeat(64), ''];
  const good = ['a', 'web-1', 'db-01', `a${'-'.repeat(61)}z`];

  it('refuses a name that is not one, naming the field and why', async () => {
    for (const name of bad) {
      for (const parsed of [InstanceCreateParams.safeParse(vm(name)), DiskCreateParams.safeParse({ name, sizeGiB: 1 })]) {
        expect(parsed.success, name).toBe(false);
        expect(parsed.error?.issues.map((i) => i.path.join('.')), name).toEqual(['name']);
        expect(parsed.error?.issues[0]?.message, name).toMatch(new RegExp(`^'${name}' is not a DNS label: `));
      }
    }
    expect(InstanceCreateParams.safeParse(vm('web-')).error?.issues[0]?.message).toContain('it ends with a dash');
    expect(DiskCreateParams.safeParse({ name: 'Web-1', sizeGiB: 1 }).error?.issues[0]?.message).toContain('does not start with a lowercase letter');
    for (const name of good) expect(InstanceCreateParams.safeParse(vm(name)).success, name).toBe(true);

    const error = await refusal(bed.client.instances.create(vm('web-')));
    expect(error).toMatchObject({ name: 'InvalidRequestError', problems: [{ field: 'name' }] });
    expect(error.message).toMatch(/^instances\.create: invalid request: name: 'web-' is not a DNS label: it ends with a dash/);
    expect(await executions('instance-create/web-/')).toEqual([]);
  });
});

describe('the CLI', () => {
  it('--request-id: the same flags find the saga (exit 0); other flags are refused (exit 5) naming the flags; nothing started', async () => {
    const first = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-same', '--size', '10', '--request-id', 'ops-1', '--wait'), 0);
    expect(first.stdout).toMatch(/^disk-create\/cli-same\/ops-1 completed\n/);
    expect(first.stderr).toContain('started saga disk-create/cli-same/ops-1 (request ops-1)');
    const again = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-same', '--size', '10', '--request-id', 'ops-1', '--json'), 0);
    expect(JSON.parse(again.stdout)).toEqual({ workflowId: 'disk-create/cli-same/ops-1', requestId: 'ops-1', existing: true });
    expect(again.stderr).toContain('already exists: request ops-1 was made before with the same parameters');

    const other = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-same', '--size', '20', '--request-id', 'ops-1'), 5);
    expect(other.stderr).toMatch(
      /^unwind: request ops-1 was made before with other flags \(--size was 10, now 20\): it started saga disk-create\/cli-same\/ops-1; nothing was started; /,
    );
    expect(other.stdout).toBe('');
    expect((await executions('disk-create/cli-same/')).map((e) => e.workflowId)).toEqual(['disk-create/cli-same/ops-1']);

    // Without --request-id every start is a new request: the name is used again once the disk is gone.
    const fresh = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-new', '--size', '1', '--json'), 0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ workflowId: expect.stringMatching(/^disk-create\/cli-new\/[a-z0-9]{12}$/), existing: false });
  });

  it('a migrate while a delete of the instance runs is refused (exit 5) naming the delete', async () => {
    const { instanceId } = await runningInstance('cli-busy');
    const deleting = await pausedDelete(instanceId);
    const run = expectExit(await bed.unwind('instance', 'migrate', instanceId), 5);
    expect(run.stderr).toMatch(
      new RegExp(`^unwind: refused: saga instanceDelete ${deleting.workflowId} \\(request ${deleting.requestId}\\) is running on instance ${instanceId} since \\S+; nothing was started; follow it with 'unwind show ${deleting.workflowId}'`),
    );
    expect(await executions(`instance-migrate/${instanceId}/`)).toEqual([]);
    await bed.client.sagas.retry(deleting.workflowId, { operator: 'test', reason: 'go on' });
    await deleting.result();
  });

  it('a name that is not a DNS label exits 2 naming --name', async () => {
    const run = expectExit(await bed.unwind('instance', 'create', '--name', 'web-', '--cpus', '1', '--memory', '1', '--disk', '1'), 2);
    expect(run.stderr).toMatch(/^unwind: --name: 'web-' is not a DNS label: it ends with a dash/);
  });
});
