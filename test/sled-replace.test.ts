import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RackSeed } from '../src/rack/schemas';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../src/schemas/faults';
import type { SagaStatus } from '../src/schemas/saga';
import { childRequestId, SledReplaceParams, sledReplaceId, type SledReplaceRequest } from '../src/schemas/sled';
import { evacuationReport, hardwareReport } from '../src/schemas/sled-reports';
import { RequestId } from '../src/schemas/request';
import { createTimeSkippingEnv, sagaUnwoundDetails, startRackSagaBed, type RackSagaBed } from '../src/testing';
import {
  approveUpdate,
  hardwareReplacedUpdate,
  instanceCreate,
  rejectUpdate,
  remindPeople,
  retryUpdate,
  sagaStatusQuery,
  sledReplace,
} from '../src/workflows';

const HOUR = 3_600_000;
const ssds = [{}, {}];
// sled-0 is the roomiest, so new instances land there first.
const seed: RackSeed = {
  ipPool: '10.0.0.0/24',
  sleds: [{ cpus: 64, memoryGiB: 2048, ssds }, ...Array.from({ length: 5 }, () => ({ cpus: 64, memoryGiB: 256, ssds }))],
};

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;
let n = 0;
const taskQueue = 'sled-replace';
const rack = () => bed.testRack.rack;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bed = await startRackSagaBed(env, { taskQueue, seed, deps: { stream: { chunkMs: 1 } } });
});
afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
});

/** Creates instances until `count` of them run on `sledId`. */
async function fill(sledId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let tries = 0; ids.length < count; tries++) {
    if (tries > 20) throw new Error(`20 instances created, only ${ids.length} on ${sledId}: is it provisionable?`);
    const vm = await env.client.workflow.execute(instanceCreate, {
      taskQueue,
      workflowId: `create-${++n}`,
      args: [{ name: `vm-${n}`, cpus: 1, memoryGiB: 2, diskGiB: 10, nics: 1 }],
    });
    if (vm.sledId === sledId) ids.push(vm.instanceId);
  }
  return ids;
}

async function startReplace(request: SledReplaceRequest, faults?: SagaFaults) {
  return env.client.workflow.start(sledReplace, {
    taskQueue,
    workflowId: sledReplaceId({ sledId: request.sledId, requestId: request.requestId }),
    args: [request as never],
    ...(faults && { memo: { [FAULTS_MEMO_KEY]: faults } }),
  });
}

/** The run's result, or a failure naming where it stood once `ms` passed (a hung run never settles). */
async function resultWithin<R>(handle: { result: () => Promise<R>; query: (q: typeof sagaStatusQuery) => Promise<SagaStatus> }, ms: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void handle.query(sagaStatusQuery).then(
        (s) => reject(new Error(`no result within ${ms} ms; state ${s.state}, steps ${s.steps.map((x) => `${x.name}:${x.state}`).join(' ')}`)),
        (err: unknown) => reject(new Error(`no result within ${ms} ms (${String(err)})`)),
      );
    }, ms);
  });
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(handle: { query: (q: typeof sagaStatusQuery) => Promise<SagaStatus> }, done: (s: SagaStatus) => boolean): Promise<SagaStatus> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await handle.query(sagaStatusQuery).catch(() => undefined);
    if (status && done(status)) return status;
    if (Date.now() > deadline) throw new Error(`never reached; last status ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const people = { approvers: ['alice'], escalateTo: ['lead'], technicians: ['tech-1'] };

describe('sledReplace on the time-skipping server', () => {
  it('completes a three-week replacement in seconds: evacuates, re-replicates, asks, waits, verifies, re-admits', async () => {
    const wallStart = Date.now();
    const instances = await fill('sled-0', 3);
    const handle = await startReplace({ sledId: 'sled-0', ...people, requestId: 'three-weeks' });

    const asking = await waitFor(handle, (s) => s.state === 'awaiting-approval');
    expect(asking.reports.evacuation).toMatchObject({ total: 3, failed: [], inProgress: [] });
    expect(evacuationReport.read(asking)!.migrated.sort()).toEqual([...instances].sort());
    expect(await rack().list('instances', { sledId: 'sled-0' })).toEqual([]);
    expect(await rack().list('regions', { sledId: 'sled-0' })).toEqual([]);
    expect((await rack().get('sleds', 'sled-0')).provisionable).toBe(false);

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice', comment: 'go' }] });
    await waitFor(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    expect((await rack().get('sleds', 'sled-0')).state).toBe('offline');

    const simulatedStart = Number(await env.currentTimeMs());
    await env.sleep('21 days');
    await rack().sleds.update({ sledId: 'sled-0', serial: 'NEW-0001' }, 'technician/swap-sled-0');
    await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'NEW-0001', technician: 'tech-1' }] });
    const result = await handle.result();

    expect(result).toMatchObject({ sledId: 'sled-0', newSerial: 'NEW-0001' });
    expect(result.evacuated.sort()).toEqual([...instances].sort());
    expect(await rack().get('sleds', 'sled-0')).toMatchObject({ state: 'online', provisionable: true, serial: 'NEW-0001' });
    for (const id of instances) expect((await rack().get('instances', id)).state).toBe('running');

    const toTechnicians = bed.personNotifications.filter((x) => x.workflowId === handle.workflowId && x.step === 'await-hardware');
    const hours = (x: { at: string }) => Math.round((Date.parse(x.at) - simulatedStart) / HOUR);
    const reminders = toTechnicians.filter((x) => x.kind === 'reminder');
    expect(reminders.length).toBeGreaterThanOrEqual(62); // every 8 h for 21 days
    expect(reminders.slice(0, 3).map(hours)).toEqual([8, 16, 24]);
    const escalation = toTechnicians.find((x) => x.kind === 'escalation');
    expect(escalation && hours(escalation)).toBe(48);
    expect(escalation?.to).toEqual(['tech-1', 'lead']);

    // Weeks of reminders never weigh on one history: the reminder child continues as new.
    const parentEvents = (await handle.fetchHistory()).events?.length ?? 0;
    const reminderHandle = env.client.workflow.getHandle(`${handle.workflowId}/reminders/await-hardware/1`);
    const reminderEvents = (await reminderHandle.fetchHistory()).events?.length ?? 0;
    expect(parentEvents).toBeLessThan(1_000);
    expect(reminderEvents).toBeLessThan(600);
    console.log(`sledReplace: 3 weeks simulated in ${Date.now() - wallStart} ms; history: saga ${parentEvents} events, reminder run ${reminderEvents}`);
    expect(Date.now() - wallStart).toBeLessThan(120_000);
  });

  it('unwinds when the power-off is rejected: provisionable is put back, moved instances stay where they run', async () => {
    const instances = await fill('sled-0', 1);
    const handle = await startReplace({ sledId: 'sled-0', ...people, requestId: 'rejected' });
    await waitFor(handle, (s) => s.state === 'awaiting-approval');
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'false alarm' }] });
    const details = sagaUnwoundDetails(await handle.result().catch((err: unknown) => err));
    expect(details).toMatchObject({ failedStep: 'approve-power-off', undone: ['mark-non-provisionable'] });
    expect(await rack().get('sleds', 'sled-0')).toMatchObject({ state: 'online', provisionable: true });
    const moved = await rack().get('instances', instances[0]!);
    expect(moved.state).toBe('running');
    expect(moved.sledId).not.toBe('sled-0');
  });

  it('refuses to move a replica off the sled while the disk has a degraded mirror, until it is repaired', async () => {
    await fill('sled-0', 1);
    const region = (await rack().list('regions', { sledId: 'sled-0' }))[0]!;
    const mirror = (await rack().list('regions', { diskId: region.diskId })).find((r) => r.id !== region.id)!;
    await rack().ssds.update({ ssdId: mirror.ssdId!, health: 'degraded' }, `test/degrade-${mirror.ssdId}`);
    const handle = await startReplace({ sledId: 'sled-0', ...people, requestId: 'degraded' });
    const paused = await waitFor(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 're-replicate', error: { type: 'NeedsOperator' } });
    expect(paused.waitingFor?.error.message).toMatch(/would leave disk .* with 1 healthy replica/);
    expect((await rack().get('regions', region.id)).sledId).toBe('sled-0');

    await rack().ssds.update({ ssdId: mirror.ssdId!, health: 'healthy' }, `test/repair-${mirror.ssdId}`);
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'mirror repaired' }] });
    await waitFor(handle, (s) => s.state === 'awaiting-approval');
    expect(await rack().list('regions', { sledId: 'sled-0' })).toEqual([]);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await rack().get('sleds', 'sled-0')).provisionable).toBe(true);
  });

  it('pages an operator when the new hardware reports another serial', async () => {
    const handle = await startReplace({ sledId: 'sled-1', ...people, requestId: 'wrong-serial' });
    await waitFor(handle, (s) => s.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    await waitFor(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    await rack().sleds.update({ sledId: 'sled-1', serial: 'ACTUAL-9' }, 'technician/swap-sled-1');
    await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'TYPO-9', technician: 'tech-1' }] });
    const paused = await waitFor(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'verify-new-sled', actions: ['retry'] });
    expect(paused.waitingFor?.error.message).toMatch(/reports serial ACTUAL-9, but the technician reported TYPO-9/);
    await rack().sleds.update({ sledId: 'sled-1', serial: 'TYPO-9' }, 'technician/reseat-sled-1');
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'serial checked on the chassis' }] });
    expect(await handle.result()).toMatchObject({ newSerial: 'TYPO-9' });
  });

  it('completes when await-hardware fails after the technician reported and an operator retries it', async () => {
    const handle = await startReplace({ sledId: 'sled-2', ...people, requestId: 'retry-after-report' }, { failStep: 'await-hardware' });
    await waitFor(handle, (s) => s.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    await waitFor(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    await rack().sleds.update({ sledId: 'sled-2', serial: 'NEW-2' }, 'technician/swap-sled-2');
    await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'NEW-2', technician: 'tech-1' }] });

    // The action ran (the hardware is reported), then the injected failure past the pivot pauses the saga.
    const paused = await waitFor(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'await-hardware', actions: ['retry'], error: { type: 'Refused' } });
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'the hardware is in', waitId: paused.waitingFor!.waitId }] });

    expect(await resultWithin(handle, 30_000)).toMatchObject({ sledId: 'sled-2', newSerial: 'NEW-2' });
    expect(await rack().get('sleds', 'sled-2')).toMatchObject({ state: 'online', provisionable: true, serial: 'NEW-2' });
    // The retry starts no second reminder run: the first was cancelled when the technician reported.
    const firstReminders = env.client.workflow.getHandle(`${handle.workflowId}/reminders/await-hardware/1`);
    expect((await firstReminders.describe()).status.name).toBe('CANCELLED');
    await expect(env.client.workflow.getHandle(`${handle.workflowId}/reminders/await-hardware/2`).describe()).rejects.toThrow();
  });
});

describe('sledReplace: retries, typos and technicians', () => {
  it('retries a failed evacuation with new migrations (new ids and keys): the instances end running on other sleds, the replacement goes on', async () => {
    await fill('sled-0', 1);
    const instances = (await rack().list('instances', { sledId: 'sled-0' })).map((i) => i.id).sort();
    // Every migration's pause of its source fails (refused): each child unwinds, the instances keep running on sled-0.
    await rack().faults.setRule({ operation: 'vmms.update', permanent: 'refused' });
    const handle = await startReplace({ sledId: 'sled-0', ...people, requestId: 'evac-retry' });
    let paused: SagaStatus;
    try {
      paused = await waitFor(handle, (s) => s.state === 'needs-operator');
    } finally {
      await rack().faults.clear('vmms.update');
    }
    expect(paused.waitingFor).toMatchObject({ step: 'evacuate', error: { type: 'NeedsOperator' } });
    const failedRun = evacuationReport.read(paused)!;
    expect(failedRun.migrated).toEqual([]);
    expect(failedRun.failed.map((f) => f.instanceId).sort()).toEqual(instances);
    for (const id of instances) expect(await rack().get('instances', id)).toMatchObject({ state: 'running', sledId: 'sled-0', migrationId: null });

    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'fault cleared', waitId: paused.waitingFor!.waitId }] });
    const asking = await waitFor(handle, (s) => s.state === 'awaiting-approval' || (s.state === 'needs-operator' && s.waitingFor?.waitId !== paused.waitingFor!.waitId));
    expect(asking.state, JSON.stringify(asking.waitingFor)).toBe('awaiting-approval');
    for (const id of instances) {
      const moved = await rack().get('instances', id);
      expect(moved).toMatchObject({ state: 'running', migrationId: null });
      expect(moved.sledId).not.toBe('sled-0');
      expect((await rack().list('vmms', { instanceId: id })).map((v) => [v.sledId, v.state])).toEqual([[moved.sledId, 'running']]);
    }
    // Two runs, each with migrations of its own: new ids under the instances' prefix, never the first run's again.
    const evacuation = evacuationReport.read(asking)!;
    expect(evacuation).toMatchObject({ total: instances.length, failed: [], inProgress: [] });
    expect([...evacuation.migrated].sort()).toEqual(instances);
    const [first, second] = evacuation.attempts!.map((a) => a.workflowIds);
    expect(evacuation.attempts!.map((a) => a.attempt)).toEqual([1, 2]);
    for (const ids of [first!, second!]) {
      expect(ids.map((id) => id.split('/')[1]).sort()).toEqual(instances);
      for (const id of ids) expect(id).toMatch(/^instance-migrate\/[^/]+\/evac-evac-retry-[a-z0-9]+-[12]$/);
    }
    expect(second!.filter((id) => first!.includes(id))).toEqual([]);

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    await waitFor(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    await rack().sleds.update({ sledId: 'sled-0', serial: 'EVAC-1' }, 'technician/evac-retry-sled-0');
    await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'EVAC-1', technician: 'tech-1' }] });
    const result = await resultWithin(handle, 30_000);
    expect(result).toMatchObject({ sledId: 'sled-0', newSerial: 'EVAC-1' });
    expect([...result.evacuated].sort()).toEqual(instances);
  });

  it('takes reports from listed technicians only, once approved; a wrong serial is reported again while verification waits, every report kept', async () => {
    const handle = await startReplace({ sledId: 'sled-3', ...people, technicians: ['tech-1', 'tech-2'], requestId: 'report-again' });
    const refusal = async (report: { serial: string; technician: string }) => {
      const err = await handle.executeUpdate(hardwareReplacedUpdate, { args: [report] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      return String((err as WorkflowUpdateFailedError).cause?.message);
    };
    await waitFor(handle, (s) => s.state === 'awaiting-approval');
    expect(await refusal({ serial: 'EARLY', technician: 'tech-1' })).toMatch(/it is not waiting for hardware: .*once the power-off is approved/);
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
    await waitFor(handle, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
    expect(await refusal({ serial: 'ACTUAL-3', technician: 'mallory' })).toMatch(/mallory is not a technician of this replacement; the technicians are tech-1, tech-2/);

    await rack().sleds.update({ sledId: 'sled-3', serial: 'ACTUAL-3' }, 'technician/swap-sled-3');
    expect(await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'TYPO-3', technician: 'tech-1' }] })).toMatchObject({ serial: 'TYPO-3', technician: 'tech-1', report: 1 });
    const paused = await waitFor(handle, (s) => s.state === 'needs-operator');
    expect(paused.waitingFor).toMatchObject({ step: 'verify-new-sled', actions: ['retry'] });
    // The technician corrects the serial while verification waits; the operator's retry verifies it.
    expect(await handle.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'ACTUAL-3', technician: 'tech-2' }] })).toMatchObject({ serial: 'ACTUAL-3', report: 2 });
    const reported = hardwareReport.read(await handle.query(sagaStatusQuery))!;
    expect(reported).toMatchObject({ replacedBy: 'tech-2', serial: 'ACTUAL-3', waitingFor: ['tech-1', 'tech-2'] });
    expect(reported.reports).toEqual([
      { serial: 'TYPO-3', technician: 'tech-1', at: expect.any(String), report: 1 },
      { serial: 'ACTUAL-3', technician: 'tech-2', at: expect.any(String), report: 2 },
    ]);
    await handle.executeUpdate(retryUpdate, { args: [{ operator: 'ops', reason: 'serial corrected', waitId: paused.waitingFor!.waitId }] });
    expect(await resultWithin(handle, 30_000)).toMatchObject({ sledId: 'sled-3', newSerial: 'ACTUAL-3' });
    expect(await rack().get('sleds', 'sled-3')).toMatchObject({ state: 'online', provisionable: true, serial: 'ACTUAL-3' });
  });

  it('refuses an unknown sled at the first step, plainly, and unwinds clean: no operator is paged', async () => {
    const handle = await startReplace({ sledId: 'sled-99', ...people, requestId: 'typo' });
    const details = sagaUnwoundDetails(await resultWithin(handle, 30_000).catch((err: unknown) => err));
    expect(details).toMatchObject({ failedStep: 'mark-non-provisionable', undone: ['mark-non-provisionable'], skipped: [] });
    expect(details?.cause.type).toBe('Refused');
    expect(details?.cause.message).toMatch(/sled sled-99 does not exist/);
    expect(bed.notifications.filter((x) => x.workflowId === handle.workflowId)).toEqual([]);
  });
});

describe('remindPeople', () => {
  it('fails at once on bad input (non-retryable InvalidInput), reminding no one', async () => {
    const since = new Date(Number(await env.currentTimeMs())).toISOString();
    const good = { sagaType: 'test', workflowId: 'parent-bad', step: 'wait', request: 'swap it', to: ['tech'], escalateTo: [], remindEvery: '8h', since };
    for (const [label, bad, says] of [
      ['zero interval', { ...good, remindEvery: '0s' }, /remindEvery: must be a duration from 1s to 365d.*zero/],
      ['negative escalation', { ...good, escalateAfter: '-1h' }, /escalateAfter: must be a duration from 1s to 365d/],
      ['beyond a year', { ...good, remindEvery: '400d' }, /remindEvery: .*more than a year/],
      ['no one to remind', { ...good, to: [] }, /to: must name at least one person/],
      ['not a time', { ...good, since: 'yesterday' }, /since:/],
      ['unknown field', { ...good, every: '1h' }, /every/],
    ] as const) {
      const handle = await env.client.workflow.start(remindPeople, { taskQueue, workflowId: `reminders-bad-${label.replace(/ /g, '-')}`, args: [bad as never] });
      const failure = await resultWithin(handle as never, 20_000).catch((err: unknown) => err);
      expect(failure, label).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as { type?: string; message: string; nonRetryable?: boolean };
      expect(cause.type, label).toBe('InvalidInput');
      expect(cause.nonRetryable, label).toBe(true);
      expect(cause.message, label).toMatch(says);
    }
    expect(bed.personNotifications.filter((x) => x.workflowId === 'parent-bad')).toEqual([]);
  });

  it('continues as new on long waits: ten weeks of reminders, every run small', async () => {
    const first = await env.client.workflow.start(remindPeople, {
      taskQueue,
      workflowId: 'reminders-ten-weeks',
      args: [{ sagaType: 'test', workflowId: 'parent', step: 'wait', request: 'swap it', to: ['tech'], escalateTo: [], remindEvery: '8h', since: new Date(Number(await env.currentTimeMs())).toISOString() }],
    });
    await env.sleep('70 days');
    const latest = env.client.workflow.getHandle('reminders-ten-weeks');
    const runId = (await latest.describe()).runId;
    expect(runId).not.toBe(first.firstExecutionRunId);
    const firstRun = env.client.workflow.getHandle('reminders-ten-weeks', first.firstExecutionRunId);
    expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
    expect((await firstRun.fetchHistory()).events?.length).toBeLessThan(600);
    const sent = bed.personNotifications.filter((x) => x.workflowId === 'parent' && x.kind === 'reminder');
    expect(sent.length).toBeGreaterThanOrEqual(200); // 70 days / 8 h = 210
    await latest.terminate('test done');
  });
});

describe('sledReplace input', () => {
  const base = { sledId: 'sled-3', approvers: ['alice'], technicians: ['tom'] };
  const problems = (request: object) => {
    const parsed = SledReplaceParams.safeParse(request);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses zero, negative, absurd and malformed durations, naming the field', () => {
    expect(problems({ ...base, approval: { remindEvery: '0s' } })).toEqual([expect.stringMatching(/^approval\.remindEvery: must be a duration from 1s to 365d.*zero.*\(got '0s'\)$/)]);
    expect(problems({ ...base, hardware: { remindEvery: '-4h' } })).toEqual([expect.stringMatching(/^hardware\.remindEvery: must be a duration from 1s to 365d/)]);
    expect(problems({ ...base, approval: { expireAfter: '2y' } })).toEqual([expect.stringMatching(/^approval\.expireAfter: must be a duration/)]);
    expect(problems({ ...base, approval: { expireAfter: '400d' } })).toEqual([expect.stringMatching(/^approval\.expireAfter: .*more than a year/)]);
    expect(problems({ ...base, hardware: { escalateAfter: '500ms' } })).toEqual([expect.stringMatching(/^hardware\.escalateAfter: .*at least a second/)]);
    expect(problems({ ...base, approval: { remindEvery: 'soon' } })).toEqual([expect.stringMatching(/^approval\.remindEvery: must be a duration .*\(got 'soon'\)/)]);
    expect(problems({ ...base, approval: { remindEvery: '30m', escalateAfter: '2 hours', expireAfter: '52w' }, hardware: { remindEvery: '1s' } })).toEqual([]);
  });

  it('checks how the approval timers relate: reminders and escalation before the expiry', () => {
    expect(problems({ ...base, approval: { expireAfter: '2h' } })).toEqual([
      'approval.remindEvery: must be shorter than expireAfter (4h is not shorter than 2h): no reminder would ever be sent',
      'approval.escalateAfter: must be shorter than expireAfter (12h is not shorter than 2h): no one would ever be escalated to',
    ]);
    expect(problems({ ...base, approval: { remindEvery: '1d', escalateAfter: '1d', expireAfter: '1d' } })).toHaveLength(2);
    expect(problems({ ...base, approval: { remindEvery: '1h', escalateAfter: '2h', expireAfter: '3h' } })).toEqual([]);
  });

  it('gives each run of a step its own child request id, derived from the saga id, within the request id rule', () => {
    const a = childRequestId('evac', 'sled-replace/sled-3/rma-1042', 1);
    expect(a).toMatch(/^evac-rma-1042-[a-z0-9]+-1$/);
    expect(childRequestId('evac', 'sled-replace/sled-3/rma-1042', 2)).not.toBe(a);
    expect(childRequestId('evac', 'sled-replace/sled-4/rma-1042', 1)).not.toBe(a);
    expect(childRequestId('rebal', 'sled-replace/sled-3/rma-1042', 1)).not.toBe(a);
    const long = childRequestId('rebal', `sled-replace/${'s'.repeat(128)}/${'r'.repeat(64)}`, 12345);
    expect(RequestId.safeParse(long).success).toBe(true);
    expect(RequestId.safeParse(childRequestId('evac', 'replace/odd id:with+chars', 1)).success).toBe(true);
  });
});
