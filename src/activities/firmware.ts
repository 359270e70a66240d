/**
 * Firmware activities: what the rollout and the reconciler learn from the rack (reads) and the
 * one thing the reconciler does to Temporal (start or nudge a rollout). The rack mutations a
 * rollout performs (`ssds.offline`, `ssds.updateFirmware`, …) are plain rack activities
 * (src/activities/rack.ts).
 *
 * Planning is here, not in workflow code, because it is pure computation over a large read
 * (every SSD and region of the fleet): the workflow records only its small answer.
 */
import { Context } from '@temporalio/activity';
import type { RackClient } from '../rack/client';
import type { Region, Ssd } from '../rack/schemas';
import {
  type FirmwareDrift,
  type IntegrityCheck,
  type PlanWaveInput,
  type PlanWaveResult,
  type RescanRequest,
  type SsdObservation,
  rolloutWorkflowId,
} from '../schemas/firmware';
import { runningWorkflow, workerClient } from './workflow-lookup';

/** Options of {@link createFirmwareActivities}. */
export interface FirmwareActivityOptions {
  /** The task queue rollouts are started on; the calling activity's own unless told. */
  taskQueue?: string;
}

/** For every SSD, the ids of the other replicas of each region it holds. */
function mirrorsBySsd(regions: readonly Region[]): Map<string, { regionId: string; diskId: string; others: Region[] }[]> {
  const byDisk = new Map<string, Region[]>();
  for (const region of regions) byDisk.set(region.diskId, [...(byDisk.get(region.diskId) ?? []), region]);
  const bySsd = new Map<string, { regionId: string; diskId: string; others: Region[] }[]>();
  for (const region of regions) {
    if (region.ssdId === null) continue;
    const others = (byDisk.get(region.diskId) ?? []).filter((r) => r.id !== region.id);
    const list = bySsd.get(region.ssdId) ?? [];
    list.push({ regionId: region.id, diskId: region.diskId, others });
    bySsd.set(region.ssdId, list);
  }
  return bySsd;
}

/**
 * Plans the next wave over the rack as it is now (pure, for tests): SSDs of `model` not at
 * `version` and not in `skip`, on online sleds, online themselves, whose every region's other
 * replicas are healthy; at most one per redundancy group (counting SSDs of any model already out
 * of service), no two holding replicas of the same disk; at most `size`. An SSD with a mirror
 * that is degraded (not merely away for maintenance) is `blocked`; one whose mirror is away, or
 * whose group or disk is taken, `waiting`.
 */
export function planWave(input: PlanWaveInput, state: { ssds: Ssd[]; sledOnline: Map<string, boolean>; regions: Region[]; target: string | null }): PlanWaveResult {
  const skip = new Set(input.skip);
  const mine = state.ssds.filter((s) => s.model === input.model);
  const mirrors = mirrorsBySsd(state.regions);
  const busyGroups = new Set(state.ssds.filter((s) => s.state !== 'online').map((s) => s.redundancyGroup));
  const ssdState = new Map(state.ssds.map((s) => [s.id, s.state]));
  const takenDisks = new Set<string>();
  const wave: string[] = [];
  const deferred: string[] = [];
  const blocked: PlanWaveResult['blocked'] = [];
  let waiting = 0;
  for (const ssd of mine) {
    if (ssd.firmwareVersion === input.version || skip.has(ssd.id)) continue;
    if (state.sledOnline.get(ssd.sledId) !== true) {
      deferred.push(ssd.id);
      continue;
    }
    if (ssd.state !== 'online') {
      waiting++; // someone else has it out of service; look again later
      continue;
    }
    const held = mirrors.get(ssd.id) ?? [];
    const unhealthy = held.flatMap((h) => h.others.filter((o) => o.health !== 'healthy'));
    // A mirror away for maintenance (its SSD out of service, or resyncing after it) comes back on
    // its own: wait for it. Any other unhealthy mirror is a degraded one: blocked.
    const degraded = unhealthy.filter((o) => !o.resyncing && (o.ssdId === null || ssdState.get(o.ssdId) === 'online'));
    if (degraded.length > 0) {
      blocked.push({ ssdId: ssd.id, regions: degraded.map((o) => o.id) });
      continue;
    }
    if (
      unhealthy.length > 0 ||
      wave.length >= input.size ||
      busyGroups.has(ssd.redundancyGroup) ||
      held.some((h) => takenDisks.has(h.diskId))
    ) {
      waiting++;
      continue;
    }
    wave.push(ssd.id);
    busyGroups.add(ssd.redundancyGroup);
    for (const h of held) takenDisks.add(h.diskId);
  }
  return {
    target: state.target,
    wave,
    deferred,
    blocked,
    waiting,
    atVersion: mine.filter((s) => s.firmwareVersion === input.version).length,
    total: mine.length,
  };
}

/** Builds the firmware activities over a rack client. */
export function createFirmwareActivities(rack: RackClient, options: FirmwareActivityOptions = {}) {
  return {
    /** The next wave, and what blocks or defers the rest (see {@link planWave}). */
    async firmwarePlanWave(input: PlanWaveInput): Promise<PlanWaveResult> {
      const [ssds, sleds, regions, targets] = await Promise.all([
        rack.list('ssds'),
        rack.list('sleds'),
        rack.list('regions'),
        rack.list('firmware', { model: input.model }),
      ]);
      const sledOnline = new Map(sleds.map((s) => [s.id, s.state === 'online']));
      return planWave(input, { ssds, sledOnline, regions, target: targets[0]?.version ?? null });
    },

    /**
     * One SSD's maintenance state and firmware, and — when asked, as each costs a read — whether
     * its sled is online (`null` unless asked) and how many of its replicas still resync (`null` unless asked).
     */
    async firmwareObserveSsd(ssdId: string, include: { sled?: boolean; resync?: boolean } = {}): Promise<SsdObservation> {
      const [ssd, regions] = await Promise.all([
        rack.get('ssds', ssdId),
        include.resync === true ? rack.list('regions', { ssdId }) : undefined,
      ]);
      const sled = include.sled === true ? await rack.get('sleds', ssd.sledId) : undefined;
      return {
        ssdId,
        state: ssd.state,
        firmwareVersion: ssd.firmwareVersion,
        sledOnline: sled === undefined ? null : sled.state === 'online',
        resyncing: regions === undefined ? null : regions.filter((r) => r.resyncing).length,
      };
    },

    /** Whether every other replica of every region on `ssdId` is healthy. */
    async firmwareCheckIntegrity(ssdId: string): Promise<IntegrityCheck> {
      const mine = await rack.list('regions', { ssdId });
      const others = (await Promise.all(mine.map((r) => rack.list('regions', { diskId: r.diskId })))).flat();
      const degraded = others.filter((o) => o.ssdId !== ssdId && o.health !== 'healthy').map((o) => o.id);
      return { ssdId, healthy: degraded.length === 0, degraded };
    },

    /** Desired against actual firmware, for every model with a target. */
    async firmwareDrift(): Promise<FirmwareDrift[]> {
      const [targets, ssds, sleds] = await Promise.all([rack.list('firmware'), rack.list('ssds'), rack.list('sleds')]);
      const sledOnline = new Map(sleds.map((s) => [s.id, s.state === 'online']));
      return targets.map((t) => {
        const mine = ssds.filter((s) => s.model === t.model);
        const behind = mine.filter((s) => s.firmwareVersion !== t.version);
        const reachable = behind.filter((s) => sledOnline.get(s.sledId) === true);
        return {
          model: t.model,
          version: t.version,
          total: mine.length,
          atVersion: mine.length - behind.length,
          actionable: reachable.length,
          unreachable: behind.length - reachable.length,
        };
      });
    },

    /**
     * Starts the rollout of `version` to `model`, or — when it is already running — asks it to
     * rescan the rack (signal-with-start on the id derived from model and version, so there is
     * never a second rollout of one target).
     * @returns the rollout's workflow id.
     */
    async firmwareEnsureRollout(input: { model: string; version: string; reason: string }): Promise<string> {
      const client = workerClient();
      const workflowId = rolloutWorkflowId(input.model, input.version);
      const request: RescanRequest = { reason: input.reason };
      await client.workflow.signalWithStart('ssdFirmwareRollout', {
        workflowId,
        taskQueue: options.taskQueue ?? Context.current().info.taskQueue,
        args: [{ model: input.model, version: input.version }],
        signal: 'rescan',
        signalArgs: [request],
      });
      return workflowId;
    },

    /**
     * Which of `workflowIds` (the SSD updates of a wave that ended from outside, abandoned with
     * it) still run, and whether each waits for an operator; an id never started is not running.
     */
    async firmwareUpdatesRunning(workflowIds: string[]): Promise<RunningUpdate[]> {
      const running: RunningUpdate[] = [];
      for (const workflowId of workflowIds) {
        const update = await runningWorkflow(workflowId);
        if (update) running.push({ workflowId, paused: update.state === 'needs-operator' || update.state === 'stuck', step: update.step });
      }
      return running;
    },
  };
}

/** An SSD update still running: see `firmwareUpdatesRunning`. */
export interface RunningUpdate {
  workflowId: string;
  /** It waits for an operator (`needs-operator`, `stuck`), and ends only when one decides. */
  paused: boolean;
  /** The step it is at (`UnwindStep`). */
  step: string | null;
}

/** The firmware activities, as workflows proxy them. */
export type FirmwareActivities = ReturnType<typeof createFirmwareActivities>;
