/**
 * A versioning change done safely, and the corpus catching one done unsafely. `instanceCreate`
 * gained the step `verify-placement` behind `patched('instance-create-verify-placement')`:
 *  - its histories recorded before the change (test/histories/instanceCreate/<path>.json) replay
 *    with the new code: on replay `patched()` is false where the history has no marker, and the
 *    old path is taken;
 *  - a new execution takes the new path: the step runs, and the patch's marker is in its history;
 *  - the same change without the guard (test/fixtures/unpatched-workflows) fails to replay those
 *    histories with a nondeterminism error, each one that got past `attach-disk`.
 */
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleUnwindWorkflows } from '../src/testing';
import { fetchHistories, readHistoryCorpus, replayHistories, type CorpusHistory } from '../src/testing/replay';
import { instanceCreate, ping, sagaStatusQuery } from '../src/workflows';
import { VERIFY_PLACEMENT_PATCH } from '../src/workflows/instance-create';
import { useRackTestBed } from './helpers/rack-bed';

type JsonEvent = {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
};
const eventsOf = (h: CorpusHistory) => (h.history as { events: JsonEvent[] }).events;
const scheduled = (h: CorpusHistory, activity: string) => eventsOf(h).some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
/** The patch ids of a history's patch markers (`{"id":…,"deprecated":…}` as JSON, base64 in a history file). */
const patchesOf = (events: JsonEvent[]) =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => (JSON.parse(Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? '', 'base64').toString()) as { id: string }).id);

const instanceCreateHistories = readHistoryCorpus(join(__dirname, 'histories')).filter((h) => h.entry.workflowType === 'instanceCreate');
/** Recorded before the change: no label. */
const before = instanceCreateHistories.filter((h) => h.entry.label === undefined);
const after = instanceCreateHistories.filter((h) => h.entry.label === 'v2');

describe('instanceCreate: verify-placement behind patched()', () => {
  it('keeps the histories recorded before the change, without the step, and the new ones with it', () => {
    expect(before.map((h) => h.entry.path).sort()).toEqual(after.map((h) => h.entry.path).sort());
    expect(before.length).toBeGreaterThanOrEqual(6);
    for (const h of before) {
      expect(scheduled(h, 'verifyPlacement'), h.label).toBe(false);
      expect(patchesOf(eventsOf(h)), h.label).toEqual([]);
    }
    const completed = after.find((h) => h.entry.path === 'completed')!;
    expect(scheduled(completed, 'verifyPlacement')).toBe(true);
    expect(patchesOf(eventsOf(completed))).toEqual([VERIFY_PLACEMENT_PATCH]);
  });

  it('replays every history recorded before the change with the new code: patched() is false there, the old path is taken', async () => {
    const report = await replayHistories(before);
    expect(report.failures.map((f) => `${f.label}: ${f.error.message}`)).toEqual([]);
    expect(report.replayed).toBe(before.length);
  });

  it('fails to replay them with the guard removed: a nondeterminism error for each that got past attach-disk', async () => {
    const report = await replayHistories(before, { workflowsPath: join(__dirname, 'fixtures', 'unpatched-workflows', 'index.ts') });
    expect(report.replayed).toBe(before.length);
    const reachedTheStep = before.filter((h) => scheduled(h, 'disksAttach') && scheduled(h, 'instancesUpdate')).map((h) => h.label).sort();
    // Not vacuous: the completed run, the retried one and the one whose last step failed got there.
    expect(reachedTheStep).toEqual(expect.arrayContaining(['instanceCreate/completed.json', 'instanceCreate/needs-operator-retried.json']));
    expect(report.failures.map((f) => f.label).sort()).toEqual(reachedTheStep);
    for (const failure of report.failures) {
      expect(failure.error.name, failure.label).toBe('DeterminismViolationError');
      expect(failure.error.message, failure.label).toMatch(/nondeterminism/i);
    }
  });
});

/** A stand-in for an encryption codec: every payload's bytes, reversed, under an encoding of its own. */
const reversingCodec: PayloadCodec = {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => ({
      metadata: { encoding: Buffer.from('binary/reversed') },
      data: Buffer.from(temporal.api.common.v1.Payload.encode(p).finish()).reverse(),
    }));
  },
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) =>
      Buffer.from(p.metadata?.encoding ?? []).toString() === 'binary/reversed' ? temporal.api.common.v1.Payload.decode(Buffer.from(p.data!).reverse()) : p,
    );
  },
};

describe('on a dev server', () => {
  const bed = useRackTestBed({ taskQueue: 'versioning', deps: { stream: { chunkMs: 1 } } });

  it('takes the new path: verify-placement runs between attach-disk and start-instance, and the patch is marked in its history', async () => {
    const handle = await bed.env.client.workflow.start(instanceCreate, {
      taskQueue: 'versioning',
      workflowId: 'versioning/new-run',
      args: [{ name: 'vm-versioning', cpus: 1, memoryGiB: 2, diskGiB: 10, nics: 1 }],
    });
    const vm = await handle.result();
    const steps = (await handle.query(sagaStatusQuery)).steps;
    const names = steps.map((s) => s.name);
    expect(names.indexOf('verify-placement')).toBe(names.indexOf('attach-disk') + 1);
    expect(names.indexOf('start-instance')).toBe(names.indexOf('verify-placement') + 1);
    const step = steps.find((s) => s.name === 'verify-placement')!;
    expect(step).toMatchObject({ state: 'succeeded', undoable: false });
    expect((await bed.testRack.rack.get('instances', vm.instanceId)).state).toBe('running');

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(markers).toHaveLength(1);
    const patch = JSON.parse(Buffer.from(markers[0]!.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!.data!).toString()) as { id: string };
    expect(patch.id).toBe(VERIFY_PLACEMENT_PATCH);
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'verifyPlacement')).toBe(true);

    // Fetched back by id, or by a visibility query, it replays with the code that ran it.
    const byId = await replayHistories(fetchHistories(bed.env.client, ['versioning/new-run']));
    expect(byId).toEqual({ replayed: 1, failures: [], stops: [] });
    // Visibility lists it eventually.
    await expect.poll(async () => (await replayHistories(fetchHistories(bed.env.client, { query: `WorkflowId = 'versioning/new-run'` }))).replayed).toBe(1);
  });

  it('replays histories whose payloads a codec encoded, given the same data converter', async () => {
    const dataConverter = { payloadCodecs: [reversingCodec] };
    const taskQueue = 'versioning-codec';
    const worker = await Worker.create({
      connection: bed.env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleUnwindWorkflows(),
      activities: {},
      dataConverter,
    });
    const client = new Client({ connection: bed.env.connection, dataConverter });
    await worker.runUntil(client.workflow.execute(ping, { taskQueue, workflowId: 'versioning/encoded', args: ['sealed'] }));
    const history = await client.workflow.getHandle('versioning/encoded').fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/reversed');

    expect(await replayHistories(fetchHistories(client, ['versioning/encoded']), { dataConverter })).toEqual({ replayed: 1, failures: [], stops: [] });
    // Without the codec the workflow cannot read its input: the replay fails, and says so.
    const blind = await replayHistories(fetchHistories(client, ['versioning/encoded']));
    expect(blind.failures).toHaveLength(1);
    expect(blind.failures[0]!.workflowId).toBe('versioning/encoded');
  });
});
