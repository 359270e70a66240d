/**
 * The scenarios of `npm run histories`: each runs one or more workflows on a main path and keeps
 * their histories. One list on purpose: read together, it shows what the corpus covers.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { rolloutWorkflowId } from '../../src/schemas/firmware';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../../src/schemas/faults';
import { sagaIds } from '../../src/schemas/instance';
import { sledReplaceId, type SledReplaceRequest } from '../../src/schemas/sled';
import { type RackSagaBed } from '../../src/testing';
import { approveUpdate, diskCreate, firmwareReconciler, instanceCreate, instanceDelete, instanceMigrate, ping, pingAfter, rejectUpdate, remindPeople, sagaStatusQuery, sledReplace, ssdFirmwareRollout } from '../../src/workflows';
import { hardwareReplacedUpdate } from '../../src/workflows/sled-replace';
import { childrenOf, decide, quiescent, REQUEST, runsOf, settled, until } from './drive';

/** A history to write, as a scenario produces it. */
export interface Recorded {
  workflowType: string;
  path: string;
  workflowId: string;
  runId?: string;
  description: string;
}

/** What a scenario may use. */
export interface Beds {
  env: TestWorkflowEnvironment;
  /** Instances and disks (the default rack). */
  instances: RackSagaBed;
  /** Sled replacements: sled-0 is the roomiest, so instances land there first. */
  sleds: RackSagaBed;
  /** Firmware: 6 sleds × 2 SSDs in two redundancy groups, disks spread over them. */
  firmware: RackSagaBed;
}

export interface Scenario {
  /** The workflow types it writes (for `--only`). */
  types: string[];
  /** Which server it runs on: the dev server unless it waits on long timers. */
  server?: 'dev' | 'time-skipping';
  run(beds: Beds, keep: (r: Recorded) => Promise<void>): Promise<void>;
}


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

export const scenarios: Scenario[] = [
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

