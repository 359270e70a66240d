/**
 * `npm run histories`: records the replay corpus in test/histories — the history of every
 * workflow in src/workflows on its main paths (completed, unwound, paused and retried, a stuck
 * undo skipped, approvals approved, rejected and expired, continued as new, cancelled…), run
 * against a dev server and a real rack. test/replay.test.ts replays every one of them with the
 * current code: a change that would break a running execution fails it.
 *
 *   npm run histories                               # every workflow type
 *   npm run histories -- --only instanceCreate      # some types (comma-separated)
 *   npm run histories -- --list                     # what would be recorded, and where
 *   npm run histories -- --out /tmp/histories       # record elsewhere (to compare with the corpus)
 *
 * Files are `test/histories/<workflowType>/<path>.json`, or `<path>.<label>.json` once a type has
 * had a versioning change (`LABELS` below). A recording writes only the files of each type's
 * current label: the histories recorded before a versioning change are never overwritten — they
 * stand for the executions still running the old code, for as long as the patch stays.
 *
 * Inputs are fixed (names, request ids, workflow ids), so a refresh gives comparable files; ids
 * the rack hands out and timestamps differ from one recording to the next.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { rolloutWorkflowId } from '../src/schemas/firmware';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../src/schemas/faults';
import { sagaIds } from '../src/schemas/instance';
import type { SagaStatus } from '../src/schemas/saga';
import { sledReplaceId, type SledReplaceRequest } from '../src/schemas/sled';
import type { RackSeed } from '../src/rack/schemas';
import { createDevServerEnv, createTimeSkippingEnv, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { historyToJSON, type CorpusEntry } from '../src/testing/replay';
import {
  approveUpdate,
  diskCreate,
  firmwareReconciler,
  instanceCreate,
  instanceDelete,
  instanceMigrate,
  ping,
  pingAfter,
  rejectUpdate,
  remindPeople,
  retryUpdate,
  sagaStatusQuery,
  skipUpdate,
  sledReplace,
  ssdFirmwareRollout,
  unwindUpdate,
} from '../src/workflows';
import { hardwareReplacedUpdate } from '../src/workflows/sled-replace';

/** The corpus: test/histories, or the folder `--out` names (to compare a recording with it). */
let ROOT = join(__dirname, '..', 'test', 'histories');
const indexFile = () => join(ROOT, 'index.json');

/**
 * The label of the histories the current code records, per workflow type (none: `<path>.json`).
 * A versioning change to a type bumps its label — after the histories of the old code are
 * committed — so that they stay as they are and the new code's are recorded beside them.
 */
const LABELS: Readonly<Record<string, string>> = {
  // verify-placement, behind patched('instance-create-verify-placement'): src/workflows/instance-create.ts
  instanceCreate: 'v2',
};

/** A history to write, as a scenario produces it. */
interface Recorded {
  workflowType: string;
  path: string;
  workflowId: string;
  runId?: string;
  description: string;
}

/** What a scenario may use. */
interface Beds {
  env: TestWorkflowEnvironment;
  /** Instances and disks (the default rack). */
  instances: RackSagaBed;
  /** Sled replacements: sled-0 is the roomiest, so instances land there first. */
  sleds: RackSagaBed;
  /** Firmware: 6 sleds × 2 SSDs in two redundancy groups, disks spread over them. */
  firmware: RackSagaBed;
}

interface Scenario {
  /** The workflow types it writes (for `--only`). */
  types: string[];
  /** Which server it runs on: the dev server unless it waits on long timers. */
  server?: 'dev' | 'time-skipping';
  run(beds: Beds, keep: (r: Recorded) => Promise<void>): Promise<void>;
}

const REQUEST = 'histories';
const operator = { operator: 'ops', reason: 'recorded for the replay corpus' };

// ---------------------------------------------------------------------------------------------
// Scenarios

const instanceParams = (name: string) => ({ name, cpus: 2, memoryGiB: 4, diskGiB: 20, nics: 1, requestId: REQUEST });

function startInstanceCreate(beds: Beds, name: string, faults?: SagaFaults) {
  const params = instanceParams(name);
  return beds.env.client.workflow.start(instanceCreate, {
    taskQueue: beds.instances.taskQueue,
    workflowId: sagaIds.instanceCreate({ name, requestId: REQUEST }),
    args: [params],
    ...(faults && { memo: { [FAULTS_MEMO_KEY]: faults } }),
  });
}

const scenarios: Scenario[] = [
  {
    types: ['instanceCreate'],
    async run(beds, keep) {
      const rack = beds.instances.testRack.rack;
      const t = 'instanceCreate';

      const completed = await startInstanceCreate(beds, 'hist-completed');
      await completed.result();
      await keep({ workflowType: t, path: 'completed', workflowId: completed.workflowId, description: 'provisions a VM: every step, parallel disk and NIC groups' });

      const unwound = await startInstanceCreate(beds, 'hist-unwound', { failStep: 'create-vmm' });
      await settled(unwound);
      await keep({ workflowType: t, path: 'unwound', workflowId: unwound.workflowId, description: 'create-vmm refused after its effect: every registered undo runs, last first' });

      const retried = await startInstanceCreate(beds, 'hist-retried', { failStep: 'attach-disk', failAs: 'needs-operator' });
      await decide(retried, 'needs-operator', 'retry');
      await retried.result();
      await keep({ workflowType: t, path: 'needs-operator-retried', workflowId: retried.workflowId, description: 'attach-disk pauses (NeedsOperator); an operator retries and it completes' });

      const unwoundByOperator = await startInstanceCreate(beds, 'hist-operator-unwind', { failStep: 'create-vmm', failAs: 'unknown-state' });
      await decide(unwoundByOperator, 'needs-operator', 'unwind');
      await settled(unwoundByOperator);
      await keep({
        workflowType: t,
        path: 'unknown-state-unwound',
        workflowId: unwoundByOperator.workflowId,
        description: 'create-vmm pauses (UnknownState); an operator unwinds it',
      });

      // The undo of start-instance fails permanently once: stuck, and the operator skips it.
      const skipped = await startInstanceCreate(beds, 'hist-skipped', { failStep: 'record-running', failWhen: 'before' });
      await rack.faults.script({ operation: 'instances.revert', kind: 'needs-operator', count: 1 });
      try {
        await decide(skipped, 'stuck', 'skip');
      } finally {
        await rack.faults.clear('instances.revert');
      }
      await settled(skipped);
      await keep({
        workflowType: t,
        path: 'stuck-skipped',
        workflowId: skipped.workflowId,
        description: 'record-running fails; the undo of start-instance fails (stuck); an operator skips it: unwound-with-residue',
      });

      const cancelled = await startInstanceCreate(beds, 'hist-cancelled', { holdStep: 'create-vmm' });
      await until(cancelled, 'create-vmm held', (s) => s.steps.some((x) => x.name === 'create-vmm' && x.state === 'running' && x.attempts > 0));
      await quiescent(cancelled);
      await cancelled.cancel();
      await settled(cancelled);
      await keep({ workflowType: t, path: 'cancelled', workflowId: cancelled.workflowId, description: 'cancelled with create-vmm in flight, before any pivot: unwinds, ends CANCELED' });
    },
  },
  {
    types: ['diskCreate'],
    async run(beds, keep) {
      const rack = beds.instances.testRack.rack;
      const start = (name: string, faults?: SagaFaults) =>
        beds.env.client.workflow.start(diskCreate, {
          taskQueue: beds.instances.taskQueue,
          workflowId: `disk-create/${name}/${REQUEST}`,
          args: [{ name, sizeGiB: 10, requestId: REQUEST }],
          ...(faults && { memo: { [FAULTS_MEMO_KEY]: faults } }),
        });
      const completed = await start('hist-disk-completed');
      await completed.result();
      await keep({ workflowType: 'diskCreate', path: 'completed', workflowId: completed.workflowId, description: 'a disk and three regions in a parallel group' });

      // The disk's undo fails once as needs-operator: stuck; the operator's retry runs it again.
      const stuck = await start('hist-disk-stuck', { failStep: 'ensure-region[2]' });
      await rack.faults.script({ operation: 'disks.delete', kind: 'needs-operator', count: 1 });
      try {
        await decide(stuck, 'stuck', 'retry');
      } finally {
        await rack.faults.clear('disks.delete');
      }
      await settled(stuck);
      await keep({
        workflowType: 'diskCreate',
        path: 'stuck-retried',
        workflowId: stuck.workflowId,
        description: 'ensure-region[2] refused; the undo of create-disk fails (stuck); an operator retries it: unwound',
      });
    },
  },
  {
    types: ['instanceMigrate', 'instanceDelete'],
    async run(beds, keep) {
      const rack = beds.instances.testRack.rack;
      const { client } = beds.env;
      const taskQueue = beds.instances.taskQueue;
      const create = async (name: string) => {
        const handle = await startInstanceCreate(beds, name);
        return handle.result();
      };

      const moving = await create('hist-migrated');
      const migrate = await client.workflow.start(instanceMigrate, {
        taskQueue,
        workflowId: sagaIds.instanceMigrate({ instanceId: moving.instanceId, requestId: `${REQUEST}-completed` }),
        args: [{ instanceId: moving.instanceId, requestId: `${REQUEST}-completed` }],
      });
      await migrate.result();
      await keep({ workflowType: 'instanceMigrate', path: 'completed', workflowId: migrate.workflowId, description: 'live migration to another sled: reserve, stream, pause, pivot, cut over, clean up' });

      const paused = await create('hist-migrate-paused');
      await rack.faults.script({ operation: 'v2p.set', kind: 'needs-operator', count: 1 });
      const afterPivot = await client.workflow.start(instanceMigrate, {
        taskQueue,
        workflowId: sagaIds.instanceMigrate({ instanceId: paused.instanceId, requestId: `${REQUEST}-pivot` }),
        args: [{ instanceId: paused.instanceId, requestId: `${REQUEST}-pivot` }],
      });
      await decide(afterPivot, 'needs-operator', 'retry');
      await afterPivot.result();
      await keep({
        workflowType: 'instanceMigrate',
        path: 'failed-after-pivot-retried',
        workflowId: afterPivot.workflowId,
        description: 'cutover-network fails after the pivot (NeedsOperator): nothing undone; an operator retries and it completes',
      });

      const doomed = await create('hist-deleted');
      const remove = await client.workflow.start(instanceDelete, {
        taskQueue,
        workflowId: sagaIds.instanceDelete({ instanceId: doomed.instanceId, requestId: REQUEST }),
        args: [{ instanceId: doomed.instanceId, requestId: REQUEST }],
      });
      await remove.result();
      await keep({ workflowType: 'instanceDelete', path: 'completed', workflowId: remove.workflowId, description: 'removes an instance and everything allocated to it' });
    },
  },
  {
    types: ['sledReplace', 'remindPeople'],
    async run(beds, keep) {
      const rack = beds.sleds.testRack.rack;
      const { client } = beds.env;
      const taskQueue = beds.sleds.taskQueue;
      const people = { approvers: ['alice'], escalateTo: ['lead'], technicians: ['tech-1'] };
      const start = (request: SledReplaceRequest) =>
        client.workflow.start(sledReplace, {
          taskQueue,
          workflowId: sledReplaceId({ sledId: request.sledId, requestId: request.requestId }),
          args: [request as never],
        });

      // One instance on sled-0 (the roomiest): the replacement evacuates it.
      const vm = await client.workflow.execute(instanceCreate, {
        taskQueue,
        workflowId: sagaIds.instanceCreate({ name: 'hist-evacuated', requestId: REQUEST }),
        args: [instanceParams('hist-evacuated')],
      });
      if (vm.sledId !== 'sled-0') throw new Error(`the instance landed on ${vm.sledId}, not sled-0: check the seed`);

      const approved = await start({ sledId: 'sled-0', ...people, requestId: `${REQUEST}-approved` });
      const asking = await until(approved, 'awaiting approval', (s) => s.state === 'awaiting-approval');
      await approved.executeUpdate(approveUpdate, { args: [{ approver: 'alice', comment: 'go', waitId: asking.pendingApproval!.waitId }] });
      await until(approved, 'await-hardware running', (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'));
      await rack.sleds.update({ sledId: 'sled-0', serial: 'NEW-0001' }, 'technician/swap-sled-0');
      await approved.executeUpdate(hardwareReplacedUpdate, { args: [{ serial: 'NEW-0001', technician: 'tech-1' }] });
      await approved.result();
      await keep({
        workflowType: 'sledReplace',
        path: 'approved',
        workflowId: approved.workflowId,
        description: 'evacuates one instance (a child migration), asks, is approved, powers off, takes the technician\'s report (update), verifies, re-admits',
      });
      await keep({
        workflowType: 'remindPeople',
        path: 'cancelled',
        workflowId: `${approved.workflowId}/reminders/await-hardware/1`,
        description: 'the technician\'s reminders of a replacement, cancelled by the saga once the technician reported (no reminder due yet)',
      });

      const rejected = await start({ sledId: 'sled-1', ...people, requestId: `${REQUEST}-rejected` });
      const pending = await until(rejected, 'awaiting approval', (s) => s.state === 'awaiting-approval');
      await rejected.executeUpdate(rejectUpdate, { args: [{ approver: 'alice', comment: 'false alarm', waitId: pending.pendingApproval!.waitId }] });
      await settled(rejected);
      await keep({ workflowType: 'sledReplace', path: 'rejected', workflowId: rejected.workflowId, description: 'the power-off is rejected: unwinds before the pivot' });

      // Seconds, not days: the dev server does not skip time.
      const expired = await start({
        sledId: 'sled-2',
        ...people,
        approval: { remindEvery: '1s', escalateAfter: '2s', expireAfter: '4s' },
        requestId: `${REQUEST}-expired`,
      });
      await settled(expired);
      await keep({
        workflowType: 'sledReplace',
        path: 'approval-expired',
        workflowId: expired.workflowId,
        description: 'nobody decides: reminded every second, escalated after 2 s, expired after 4 s into a rejection: unwinds',
      });
      const approvalWait = (await expired.query(sagaStatusQuery)).approvals[0]?.waitId ?? 1;
      await keep({
        workflowType: 'remindPeople',
        path: 'reminded-escalated-cancelled',
        workflowId: `${expired.workflowId}/reminders/approve-power-off/${approvalWait}`,
        description: 'the approvers\' reminders of an approval that expired: reminders, one escalation, then cancelled by the saga',
      });
    },
  },
  {
    types: ['remindPeople'],
    server: 'time-skipping',
    async run(beds, keep) {
      const { env } = beds;
      const workflowId = 'reminders/histories/continued-as-new';
      const since = new Date(Number(await env.currentTimeMs())).toISOString();
      const first = await env.client.workflow.start(remindPeople, {
        taskQueue: beds.instances.taskQueue,
        workflowId,
        args: [{ sagaType: 'histories', workflowId: 'histories-parent', step: 'wait', request: 'swap it', to: ['tech'], escalateTo: ['lead'], remindEvery: '1h', escalateAfter: '12h', since }],
      });
      // A run continues as new past 500 events: about 55 hourly reminders.
      await env.sleep('60h');
      const latest = env.client.workflow.getHandle(workflowId);
      const latestRun = (await latest.describe()).runId;
      if (latestRun === first.firstExecutionRunId) throw new Error('remindPeople did not continue as new within 60 simulated hours');
      await latest.cancel();
      await settled(latest);
      await keep({
        workflowType: 'remindPeople',
        path: 'continued-as-new',
        workflowId,
        runId: first.firstExecutionRunId,
        description: 'hourly reminders and an escalation until the history passes 500 events, then continue-as-new (time-skipping server)',
      });
      await keep({
        workflowType: 'remindPeople',
        path: 'after-continue-as-new',
        workflowId,
        runId: latestRun,
        description: 'the run after continue-as-new: reminders keep their rhythm from the carried count, then cancelled',
      });
    },
  },
  {
    types: ['ssdFirmwareRollout', 'ssdFirmwareWave', 'ssdFirmwareUpdate', 'firmwareReconciler'],
    async run(beds, keep) {
      const rack = beds.firmware.testRack.rack;
      const { client } = beds.env;
      const taskQueue = beds.firmware.taskQueue;
      const model = 'SIM-NVME-3.2T';
      const version = '2.0.0';
      for (let d = 0; d < 6; d++) {
        const disk = await rack.disks.create({ name: `fw-disk-${d}`, sizeGiB: 1 }, `seed/disk-${d}`);
        for (let r = 0; r < 3; r++) await rack.regions.ensure({ diskId: disk.id }, `seed/disk-${d}/region-${r}`);
      }
      await rack.firmware.setTarget({ model, version }, `histories/target-${version}`);
      // Its update comes back on the old firmware: that SSD's update unwinds, the rollout goes on.
      await rack.faults.drive({ ssdId: 'sled-3-ssd-1', kind: 'update-fails' });

      const rollout = await client.workflow.start(ssdFirmwareRollout, {
        taskQueue,
        workflowId: rolloutWorkflowId(model, version),
        args: [{ model, version, options: { untilIdle: true, pollIntervalMs: 200, stepsPerRun: 10, maxWaveSize: 2, maxFailureRate: 1 } }],
      });
      // The reconciler finds the drift while the rollout runs: it asks that rollout to rescan.
      const reconciler = await client.workflow.start(firmwareReconciler, { taskQueue, workflowId: `firmware-reconciler/${REQUEST}` });
      const reconciled = await reconciler.result();
      if (!reconciled.rollouts.includes(rollout.workflowId)) throw new Error(`the reconciler did not find the rollout: ${JSON.stringify(reconciled)}`);
      await keep({
        workflowType: 'firmwareReconciler',
        path: 'completed',
        workflowId: reconciler.workflowId,
        description: 'finds SSDs behind their target and asks the running rollout to rescan (signal-with-start from an activity)',
      });

      const final = await rollout.result();
      const runs = await runsOf(client, rollout.workflowId);
      if (runs.length < 2) throw new Error(`the rollout ran once (${final.runs} runs reported): it should continue as new past 10 steps`);
      await keep({
        workflowType: 'ssdFirmwareRollout',
        path: 'continued-as-new',
        workflowId: rollout.workflowId,
        runId: runs[0],
        description: 'canary and growing waves (children), one SSD per redundancy group, until 10 steps: continue-as-new',
      });
      await keep({
        workflowType: 'ssdFirmwareRollout',
        path: 'completed-after-continue-as-new',
        workflowId: rollout.workflowId,
        runId: runs.at(-1),
        description: 'the last run: plans and waves from the carried progress until nothing is left (untilIdle), completed',
      });

      const waves = await childrenOf(client, rollout.workflowId, runs[0]!);
      const canary = waves[0];
      if (!canary) throw new Error('the rollout started no wave');
      await keep({ workflowType: 'ssdFirmwareWave', path: 'completed', workflowId: canary, description: 'the canary wave: one SSD update child, awaited' });
      const updates = (await Promise.all(waves.map((w) => childrenOf(client, w)))).flat();
      const updated = updates.find((id) => !id.includes('sled-3-ssd-1'));
      const failed = updates.find((id) => id.includes('sled-3-ssd-1'));
      if (!updated || !failed) throw new Error(`expected a completed and a failed SSD update among ${updates.join(', ')}`);
      await keep({ workflowType: 'ssdFirmwareUpdate', path: 'completed', workflowId: updated, description: 'one SSD: offline, write, reset, await return, verify (pivot), online, resync' });
      await keep({ workflowType: 'ssdFirmwareUpdate', path: 'unwound', workflowId: failed, description: 'the drive came back on its old firmware: verify-version refused, unwound (brought back online as it was)' });
    },
  },
  {
    types: ['ping', 'pingAfter'],
    async run(beds, keep) {
      const { client } = beds.env;
      const taskQueue = beds.instances.taskQueue;
      const pong = await client.workflow.start(ping, { taskQueue, workflowId: 'ping/histories', args: ['histories'] });
      await pong.result();
      await keep({ workflowType: 'ping', path: 'completed', workflowId: pong.workflowId, description: 'answers at once' });
      const later = await client.workflow.start(pingAfter, { taskQueue, workflowId: 'ping-after/histories', args: ['histories', '1s'] });
      await later.result();
      await keep({ workflowType: 'pingAfter', path: 'completed', workflowId: later.workflowId, description: 'a durable timer of one second, then answers' });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Helpers

/** Waits for the run to end, whichever way. */
async function settled(handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
}

/** Polls the saga's status until `done` holds (60 s at most). */
async function until(handle: WorkflowHandle, what: string, done: (s: SagaStatus) => boolean): Promise<SagaStatus> {
  const deadline = Date.now() + 60_000;
  let last: SagaStatus | undefined;
  for (;;) {
    last = await handle.query(sagaStatusQuery).catch(() => last);
    if (last && done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: never ${what}; last state ${last?.state ?? 'unknown'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a pause in `state`, then decides it (by its wait id). */
async function decide(handle: WorkflowHandle, state: 'needs-operator' | 'stuck', action: 'retry' | 'skip' | 'unwind'): Promise<void> {
  const paused = await until(handle, state, (s) => s.state === state);
  const update = { retry: retryUpdate, skip: skipUpdate, unwind: unwindUpdate }[action];
  await handle.executeUpdate(update, { args: [{ ...operator, waitId: paused.waitingFor!.waitId }] });
}

/** Waits until nothing is pending: cancelling then is the same on every server (see the harness's cancel mode). */
async function quiescent(handle: WorkflowHandle): Promise<void> {
  let lastLength = -1;
  for (;;) {
    const { raw, historyLength } = await handle.describe();
    const idle = !raw.pendingActivities?.length && !raw.pendingWorkflowTask;
    if (idle && historyLength === lastLength) return;
    lastLength = idle ? historyLength : -1;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every run of a workflow, oldest first, following each run back to the one it continued. */
async function runsOf(c: TestWorkflowEnvironment['client'], workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for (let next: string | undefined = (await c.workflow.getHandle(workflowId).describe()).runId; next; ) {
    runs.unshift(next);
    const history = await c.workflow.getHandle(workflowId, next).fetchHistory();
    next = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

/** The workflow ids of the children a run started, in the order it started them. */
async function childrenOf(c: TestWorkflowEnvironment['client'], workflowId: string, runId?: string): Promise<string[]> {
  const history = await c.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const id = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    return id ? [id] : [];
  });
}

/** How a history ends, from its last event. */
function endOf(events: { eventType?: unknown }[]): string {
  const last = String(events.at(-1)?.eventType ?? '');
  const ends: [RegExp, string][] = [
    [/COMPLETED$/, 'COMPLETED'],
    [/CONTINUED_AS_NEW$/, 'CONTINUED_AS_NEW'],
    [/CANCELED$/, 'CANCELED'],
    [/TERMINATED$/, 'TERMINATED'],
    [/TIMED_OUT$/, 'TIMED_OUT'],
    [/FAILED$/, 'FAILED'],
  ];
  return ends.find(([pattern]) => pattern.test(last) && last.startsWith('EVENT_TYPE_WORKFLOW_EXECUTION'))?.[1] ?? 'RUNNING';
}

function readIndex(): CorpusEntry[] {
  return existsSync(indexFile()) ? (JSON.parse(readFileSync(indexFile(), 'utf8')) as CorpusEntry[]) : [];
}

function writeIndexAndReadme(entries: CorpusEntry[]): void {
  const kept = entries.filter((e) => existsSync(join(ROOT, e.file))).sort((a, b) => a.file.localeCompare(b.file));
  mkdirSync(ROOT, { recursive: true });
  writeFileSync(indexFile(), `${JSON.stringify(kept, null, 2)}\n`);
  const rows = kept.map((e) => `| \`${e.file}\` | ${e.label ?? '—'} | ${e.status} | ${e.events} | ${e.description} |`);
  const readme = [
    '# Replay corpus',
    '',
    'Histories of every workflow in `src/workflows/`, on its main paths, recorded against a dev server',
    '(a time-skipping server for the long waits) and a real rack. `test/replay.test.ts` replays every',
    'one of them with the current workflow code, one bundle for all: a change to a workflow that would',
    'make a running execution take another path — a step added, removed, renamed or reordered without',
    "`patched()` — fails that test, naming the history. It also fails when a workflow type exported from",
    '`src/workflows/index.ts` has no history here, or a named path of the corpus is missing.',
    '',
    '- `<workflowType>/<path>.json`: recorded by the code as the corpus began.',
    '- `<workflowType>/<path>.<label>.json` (`.v2`, …): recorded after a versioning change of that type.',
    '  The histories of the old code stay, unchanged, for as long as its patch does: they stand for the',
    '  executions still running it (see the README, "Changing a running saga type safely").',
    '- `index.json`: every file with its workflow id (replay needs it: child ids and keys derive from it),',
    '  how it ended, its size in events and what it shows. This table is generated from it.',
    '',
    'Refresh or extend with `npm run histories` (all types) or `npm run histories -- --only <type,…>`:',
    "it records each type's histories under that type's current label (`LABELS` in",
    '`scripts/record-histories.ts`) and never touches the files of other labels. After a versioning',
    "change of a type: commit its histories, bump its label, make the change, record it again.",
    'Inputs are fixed, so a refresh gives comparable files (rack ids and timestamps differ).',
    '',
    '| file | label | ended | events | what it shows |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'README.md'), readme);
}

// ---------------------------------------------------------------------------------------------
// Main

function parseArgs(argv: string[]): { only?: Set<string>; list: boolean; out?: string } {
  let only: Set<string> | undefined;
  let list = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only') {
      const value = argv[++i];
      if (!value) throw new Error('--only needs workflow types, e.g. --only instanceCreate,diskCreate');
      only = new Set(value.split(',').map((s) => s.trim()).filter(Boolean));
    } else if (arg.startsWith('--only=')) {
      only = new Set(arg.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean));
    } else if (arg === '--list') {
      list = true;
    } else if (arg === '--out') {
      out = argv[++i];
      if (!out) throw new Error('--out needs a folder');
    } else {
      throw new Error(`unknown argument ${arg}: use --only <type,…>, --out <folder> or --list`);
    }
  }
  const known = new Set(scenarios.flatMap((s) => s.types));
  for (const type of only ?? []) if (!known.has(type)) throw new Error(`no recording of ${type}; the types are ${[...known].sort().join(', ')}`);
  return { only, list, out };
}

const fileOf = (type: string, path: string) => `${type}/${path}${LABELS[type] ? `.${LABELS[type]}` : ''}.json`;

async function main(): Promise<void> {
  const { only, list, out } = parseArgs(process.argv.slice(2));
  if (out !== undefined) ROOT = resolve(out);
  const chosen = scenarios.filter((s) => !only || s.types.some((t) => only.has(t)));
  if (list) {
    for (const s of chosen) console.log(`${s.types.join(', ')} (${s.server ?? 'dev'} server) → ${s.types.map((t) => fileOf(t, '<path>')).join(', ')}`);
    return;
  }
  // Sagas that unwind are logged as failed workflows at WARN: expected here.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const started = Date.now();
  const index = readIndex();
  const written: string[] = [];
  const record = (c: TestWorkflowEnvironment['client']) => async (r: Recorded) => {
    if (only && !only.has(r.workflowType)) return;
    const history = await c.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
    const events = history.events ?? [];
    const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (type !== r.workflowType) throw new Error(`${r.workflowId} is a ${type}, not a ${r.workflowType}`);
    const file = fileOf(r.workflowType, r.path);
    const json = JSON.parse(historyToJSON(history)) as { events: { eventType?: unknown }[] };
    mkdirSync(join(ROOT, r.workflowType), { recursive: true });
    writeFileSync(join(ROOT, file), `${JSON.stringify(json)}\n`);
    const entry: CorpusEntry = {
      file,
      workflowType: r.workflowType,
      path: r.path,
      ...(LABELS[r.workflowType] && { label: LABELS[r.workflowType] }),
      workflowId: r.workflowId,
      status: endOf(json.events),
      events: events.length,
      description: r.description,
    };
    const at = index.findIndex((e) => e.file === file);
    if (at >= 0) index[at] = entry;
    else index.push(entry);
    written.push(`${file} (${entry.status}, ${entry.events} events)`);
    console.log(`  ${relative(process.cwd(), join(ROOT, file))}: ${entry.status}, ${entry.events} events`);
  };

  const onDev = chosen.filter((s) => (s.server ?? 'dev') === 'dev');
  const onTimeSkipping = chosen.filter((s) => s.server === 'time-skipping');
  for (const [server, list] of [['dev', onDev], ['time-skipping', onTimeSkipping]] as const) {
    if (list.length === 0) continue;
    const env = server === 'dev' ? await createDevServerEnv() : await createTimeSkippingEnv();
    const stops: (() => Promise<void>)[] = [];
    try {
      const bed = async (taskQueue: string, seed?: RackSeed) => {
        const b = await startRackSagaBed(env, { taskQueue, seed, deps: { stream: { chunkMs: 1 } } });
        stops.push(() => b.stop());
        return b;
      };
      const ssds = [{}, {}];
      const instances = await bed(`histories-instances-${server}`);
      const beds: Beds = {
        env,
        instances,
        sleds:
          server === 'dev'
            ? await bed('histories-sleds', {
                ipPool: '10.0.0.0/24',
                sleds: [{ cpus: 64, memoryGiB: 2048, ssds }, ...Array.from({ length: 5 }, () => ({ cpus: 64, memoryGiB: 256, ssds }))],
              })
            : instances,
        firmware:
          server === 'dev'
            ? await bed('histories-firmware', {
                ipPool: '10.0.0.0/24',
                sleds: Array.from({ length: 6 }, () => ({ cpus: 64, memoryGiB: 512, ssds: [{ redundancyGroup: 'rg-0' }, { redundancyGroup: 'rg-1' }] })),
              })
            : instances,
      };
      for (const scenario of list) {
        const t0 = Date.now();
        console.log(`${scenario.types.join(', ')} (${server} server)`);
        await scenario.run(beds, record(env.client));
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await env.teardown();
    }
  }
  writeIndexAndReadme(index);
  console.log(`recorded ${written.length} histories in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
