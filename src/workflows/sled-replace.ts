/**
 * `sledReplace`: replacing a faulty server, automated where it can be and human-directed where
 * it must be, over days or weeks.
 *
 *  1. mark the sled non-provisionable and held by this replacement, by compare-and-set (an
 *  unknown sled, or one another replacement still holds, is refused here, before anything changes);
 *  2. evacuate it (child `instanceMigrate`s, bounded concurrency);  3. move its region replicas
 *  elsewhere, never below two healthy replicas;  4. approval to power it off — the pivot;
 *  5. power off, and wait for a technician's report (the `hardwareReplaced` update), reminding
 *  and escalating meanwhile;  6. power on and verify the new hardware;  7. re-admit it;
 *  8. optionally migrate the evacuated instances back.
 *
 * Child migrations are new requests on every run of their step: their workflow ids
 * (`instance-migrate/<instanceId>/<evac|rebal>-<request>-<hash>-<run>`, see `childRequestId`)
 * and so their idempotency keys derive from this saga's own id and the run's number. An
 * operator's retry of `evacuate` after a migration failed (and unwound) starts a new migration;
 * it never replays the keys of the one that was undone.
 *
 * Only a listed technician may report the hardware, from the approval on until the new sled is
 * verified: a technician who reported a wrong serial reports again while `verify-new-sled` waits
 * for an operator, and the operator's retry verifies the latest report. Every report is kept
 * (status report `hardware`: who, when, which serial).
 *
 * Cancellation or rejection before the power-off unwinds: the undo of `mark-non-provisionable`
 * reverts that update by its key, which puts `provisionable` back to what it was before the saga
 * (a sled someone had already fenced stays fenced; one changed since keeps the newer value).
 * Instances already moved stay where they are — they run healthy on their new sleds, and moving them back
 * would cost every one of them another live migration for nothing the user can see; the status
 * report `evacuation` lists them, and a later rebalance may place work on the sled again.
 * Replicas already moved stay too, for the same reason. After the power-off a cancellation
 * request is recorded and the replacement goes forward: the sled is already dark, and stopping
 * half-way would leave it neither in service nor replaced (terminate the workflow to stop it).
 */
import { ApplicationFailure, condition, executeChild, ParentClosePolicy, patched, setHandler, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { FailureType, SagaFailureType } from '../schemas/failures';
import { sagaIds } from '../schemas/instance';
import type { ReportDefinition } from '../schemas/report';
import {
  childRequestId,
  type EvacuationProgress,
  HardwareReplaced,
  type HardwareReport,
  type HardwareStatus,
  SledReplaceParams,
  type SledReplaceResult,
} from '../schemas/sled';
import { AWAIT_HARDWARE_STEP, evacuationReport, hardwareReport, rebalanceReport } from '../schemas/sled-reports';
import { formatIssues, parseWorkflowInput } from '../schemas/validation';
import { instanceMigrate } from './instance-migrate';
import { startReminders } from './remind-people';
import { describeFailure, forEachBounded, runSaga, type Saga } from './saga';
import { rackOneShot, rackReliable, rackUndo } from './steps/rack-proxies';

// Defined workflow-free, so the client sends it without loading this workflow.
import { hardwareReplacedUpdate } from '../schemas/messages';
export { hardwareReplacedUpdate };

/**
 * Runs that marked their sled before replacements held it by a marker replay without it; retire
 * the patch with `deprecatePatch` once none of them is open.
 */
export const SLED_REPLACEMENT_MARKER_PATCH = 'sled-replacement-marker';

/** Where the replacement stands for a technician's report. */
type HardwarePhase = 'before-approval' | 'taking-reports' | 'verified';

/** Replaces a sled; unwinds before the power-off, goes forward after it. */
export async function sledReplace(params: SledReplaceParams): Promise<SledReplaceResult> {
  const input = parseWorkflowInput(SledReplaceParams, params, 'sledReplace');
  const hardware = new HardwareDesk(input);
  setHandler(hardwareReplacedUpdate, (report) => hardware.take(report), { validator: (report) => void hardware.check(report) });

  return runSaga('sledReplace', async (saga) => {
    const { sledId } = input;
    hardware.saga = saga;
    // The replacement holds the sled by compare-and-set on the marker it read (none, or one a
    // terminated replacement left), read once: a second run of the action (an operator's retry)
    // sends the same request under the same key, and finds its own marker as the rack's answer.
    let read: { marker: string | null } | undefined;
    await saga.step('mark-non-provisionable', {
      action: async (ctx) => {
        await refuseUnknownSled(sledId);
        if (!patched(SLED_REPLACEMENT_MARKER_PATCH)) return rackOneShot.sledsUpdate({ sledId, provisionable: false }, ctx.key);
        read ??= { marker: await rackOneShot.sledReplacementMarker({ sledId }) };
        const hold = { replacementId: saga.workflowId, expect: { replacementId: read.marker } };
        return rackOneShot.sledsUpdate({ sledId, provisionable: false, ...hold }, ctx.key);
      },
      undo: (ctx) => rackUndo.sledsRevert(...ctx.undoKey),
    });
    const evacuation = newProgress(saga, evacuationReport);
    let evacuations = 0;
    const evacuated = await saga.step('evacuate', { action: () => evacuate(saga, input, evacuation, ++evacuations) });
    const reReplicated = await saga.step('re-replicate', {
      action: async (ctx) => {
        const regions = await rackOneShot.regionsOnSled({ sledId });
        for (const { regionId, diskId } of regions) {
          await rackOneShot.reReplicateRegion({ regionId, diskId }, `${ctx.key}/${regionId}`);
        }
        return regions.length;
      },
    });
    await saga.awaitApproval('approve-power-off', {
      request: `power off sled ${sledId} for replacement (${evacuated.length} instances moved, ${reReplicated} replicas moved)`,
      approvers: input.approvers,
      escalateTo: input.escalateTo,
      ...input.approval,
    });

    saga.pivot();
    hardware.phase = 'taking-reports';

    await saga.step('power-off', { action: (ctx) => rackReliable.sledsUpdate({ sledId, state: 'offline' }, ctx.key) });
    // An operator's retry runs the action again: each run numbers its own reminder child.
    let technicianWaits = 0;
    await saga.step(AWAIT_HARDWARE_STEP, { action: () => hardware.await(++technicianWaits) });
    await saga.step('power-on', {
      action: (ctx) => rackReliable.sledsUpdate({ sledId, state: 'online' }, ctx.key),
    });
    // An operator's retry verifies the latest report: a technician may have corrected the serial.
    const verified = await saga.step('verify-new-sled', {
      action: async () => {
        const { serial } = hardware.latest()!;
        await rackOneShot.verifySled({ sledId, serial });
        return serial;
      },
    });
    hardware.phase = 'verified';
    // Re-admitted, the sled is no longer held: another replacement may start.
    await saga.step('re-admit', { action: (ctx) => rackReliable.sledsUpdate({ sledId, provisionable: true, replacementId: null }, ctx.key) });
    let rebalances = 0;
    const rebalancing = input.rebalance ? newProgress(saga, rebalanceReport) : undefined;
    const rebalanced = rebalancing
      ? await saga.step('rebalance', { action: () => rebalance(saga, input, evacuated, rebalancing, ++rebalances) })
      : [];
    return { sledId, newSerial: verified, evacuated, reReplicatedRegions: reReplicated, rebalanced };
  });
}

/** Refuses (plainly, changing nothing) a sled the rack does not have: a typo must not page anyone. */
async function refuseUnknownSled(sledId: string): Promise<void> {
  const sleds = await rackOneShot.listSledIds();
  if (sleds.includes(sledId)) return;
  const shown = sleds.length > 8 ? `${sleds.slice(0, 8).join(', ')}, …` : sleds.join(', ');
  throw ApplicationFailure.create({
    type: FailureType.Refused,
    nonRetryable: true,
    message: `sled ${sledId} does not exist: check the id (the rack has ${sleds.length} sled${sleds.length === 1 ? '' : 's'}: ${shown}); nothing was changed`,
  });
}

/** Migration progress and the report it is published as, whenever it changes. */
interface ProgressReport {
  report: ReportDefinition<EvacuationProgress>;
  progress: EvacuationProgress;
}

/** A progress report, published at once (nothing moved yet). */
function newProgress(saga: Saga, report: ReportDefinition<EvacuationProgress>): ProgressReport {
  const progress: EvacuationProgress = { total: 0, migrated: [], inProgress: [], failed: [], attempts: [] };
  saga.report(report, progress);
  return { report, progress };
}

/**
 * Migrates every instance off the sled, `evacuationConcurrency` at a time, reporting progress.
 * An instance that could not move leaves the sled occupied: an operator must decide (retry
 * runs the evacuation again, with new migrations, for what is left).
 */
async function evacuate(
  saga: Saga,
  input: SledReplaceParams,
  report: ProgressReport,
  run: number,
): Promise<string[]> {
  const instances = await rackOneShot.instancesOnSled({ sledId: input.sledId });
  await migrateAll(saga, input, instances, report, childRequestId('evac', saga.workflowId, run), run);
  const left = await rackOneShot.instancesOnSled({ sledId: input.sledId });
  if (left.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.NeedsOperator,
      nonRetryable: true,
      message: `${left.length} instance(s) still run on sled ${input.sledId} (${left.join(', ')}): see the evacuation report, fix, then retry`,
    });
  }
  return [...report.progress.migrated];
}

/** Migrates the evacuated instances back onto the re-admitted sled (those not there already). */
async function rebalance(
  saga: Saga,
  input: SledReplaceParams,
  evacuated: readonly string[],
  report: ProgressReport,
  run: number,
): Promise<string[]> {
  const there = new Set(await rackOneShot.instancesOnSled({ sledId: input.sledId }));
  const toMove = evacuated.filter((id) => !there.has(id));
  await migrateAll(saga, input, toMove, report, childRequestId('rebal', saga.workflowId, run), run, input.sledId);
  return [...report.progress.migrated];
}

/**
 * Runs one `instanceMigrate` child per instance, a bounded number at a time, as request
 * `requestId` (new for every run of the step). `migrated` accumulates over runs; `failed` is
 * this run's.
 */
async function migrateAll(
  saga: Saga,
  input: SledReplaceParams,
  instanceIds: string[],
  { report, progress }: ProgressReport,
  requestId: string,
  run: number,
  targetSledId?: string,
): Promise<void> {
  const attempt = { attempt: run, workflowIds: [] as string[] };
  progress.attempts = [...(progress.attempts ?? []), attempt];
  progress.total = progress.migrated.length + instanceIds.length;
  progress.failed = [];
  saga.report(report, progress);
  await forEachBounded(instanceIds, input.evacuationConcurrency, async (instanceId) => {
    const request = { instanceId, targetSledId, requestId };
    const workflowId = sagaIds.instanceMigrate(request);
    attempt.workflowIds.push(workflowId);
    progress.inProgress.push(instanceId);
    saga.report(report, progress);
    try {
      await executeChild(instanceMigrate, {
        workflowId,
        args: [request],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // A migration's id is never run twice: a second run would replay the first one's keys.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      progress.migrated.push(instanceId);
    } catch (err) {
      progress.failed.push({ instanceId, error: describeFailure(err).message, workflowId });
    } finally {
      progress.inProgress.splice(progress.inProgress.indexOf(instanceId), 1);
      saga.report(report, progress);
    }
  });
}

/**
 * The technician's side of a replacement: who may report, when, every report taken, and the
 * wait for the first one (with its reminders).
 */
class HardwareDesk {
  phase: HardwarePhase = 'before-approval';
  /** Set once the saga runs: reports go to its status. */
  saga: Saga | undefined;
  private readonly reports: HardwareReport[] = [];
  private since: string | undefined;

  constructor(private readonly input: SledReplaceParams) {}

  /** The latest report, or `undefined` before the first. */
  latest(): HardwareReport | undefined {
    return this.reports.at(-1);
  }

  /** Validates a report: the parsed report, or an `InvalidOperatorAction` failure saying why not. */
  check(report: unknown): HardwareReplaced {
    const refuse = (why: string) =>
      ApplicationFailure.create({
        type: SagaFailureType.InvalidOperatorAction,
        nonRetryable: true,
        message: `hardwareReplaced refused for saga sledReplace ${this.saga?.workflowId ?? `of sled ${this.input.sledId}`}: ${why}`,
      });
    const parsed = HardwareReplaced.safeParse(report);
    if (!parsed.success) throw refuse(formatIssues(parsed.error, { root: 'argument' }));
    const { technician } = parsed.data;
    if (!this.input.technicians.includes(technician)) {
      throw refuse(`${technician} is not a technician of this replacement; the technicians are ${this.input.technicians.join(', ')}.`);
    }
    if (this.phase === 'before-approval') {
      throw refuse(`it is not waiting for hardware: the sled is powered off for the swap only once the power-off is approved (then step ${AWAIT_HARDWARE_STEP} waits).`);
    }
    if (this.phase === 'verified') {
      const last = this.latest()!;
      throw refuse(`the new hardware was verified already (serial ${last.serial}, reported by ${last.technician} at ${last.at}); there is nothing more to report.`);
    }
    return parsed.data;
  }

  /** Takes a report (checked again: a signal has no validator): recorded, and the latest is what is verified. */
  take(report: unknown): HardwareReport {
    const { serial, technician } = this.check(report);
    const taken: HardwareReport = { serial, technician, at: new Date().toISOString(), report: this.reports.length + 1 };
    this.reports.push(taken);
    this.publish();
    return { ...taken };
  }

  /**
   * Waits for the first report. Reminders and escalation run in a child workflow that continues
   * as new on its own, so weeks of reminders never weigh on this history. `wait` numbers this run
   * of the step's action (1, 2, … as operators retry it). A report already taken (a retry after a
   * failure past the pivot, a technician quicker than the power-off) goes straight on.
   */
  async await(wait: number): Promise<HardwareReport> {
    if (this.latest() === undefined) await this.remindUntilReported(wait);
    return { ...this.latest()! };
  }

  private async remindUntilReported(wait: number): Promise<void> {
    const saga = this.saga!;
    this.since = new Date().toISOString();
    this.publish();
    // One child per run of the action, never the id of an earlier run's reminders.
    const reminders = startReminders(`${saga.workflowId}/reminders/${AWAIT_HARDWARE_STEP}/${wait}`, {
      sagaType: saga.sagaType,
      workflowId: saga.workflowId,
      step: AWAIT_HARDWARE_STEP,
      request: `replace the hardware of sled ${this.input.sledId}, then report its serial (unwind sled hardware-replaced)`,
      to: this.input.technicians,
      escalateTo: this.input.escalateTo,
      remindEvery: this.input.hardware.remindEvery,
      escalateAfter: this.input.hardware.escalateAfter,
      since: this.since,
    });
    try {
      await condition(() => this.latest() !== undefined);
    } finally {
      await reminders.stop();
    }
  }

  private publish(): void {
    const latest = this.latest();
    const status: HardwareStatus = {
      waitingFor: [...this.input.technicians],
      since: this.since ?? new Date().toISOString(),
      reports: this.reports.map((r) => ({ ...r })),
      ...(latest && { replacedBy: latest.technician, serial: latest.serial, at: latest.at }),
    };
    this.saga?.report(hardwareReport, status);
  }
}
