/**
 * `ssdFirmwareRollout`: brings every SSD of a model to a firmware version, progressively and
 * without ever diminishing data integrity. A reliable, persistent workflow: one per target
 * (workflow id from model and version), forward only, paused for an operator rather than failed.
 *
 * Each round plans a wave over the rack as it is (activity `firmwarePlanWave`): at most one SSD
 * per redundancy group out of service, no two SSDs holding replicas of one disk, and only SSDs
 * whose every mirror is healthy. The first wave is the canary; waves then grow by
 * `growthFactor` up to `maxWaveSize`. A wave runs as a child `ssdFirmwareWave` (a child saga per
 * SSD). After each wave, a failure rate above `maxFailureRate` halts the rollout: step
 * `halt[<wave>]` waits for an operator `retry` to resume. Cancelling the workflow stops it at a
 * safe point (also when halted): nothing new starts, the wave in flight settles, and it ends
 * cancelled with its progress in the outcome.
 *
 * - SSDs with a degraded mirror wait (`blocked`) while the rest go on; past
 *   `integrityWaitLimitMs` a step `integrity[<ssd>#n]` asks an operator, whose `retry`
 *   re-checks the mirrors. An escalation still open when the rollout continues as new is asked
 *   again at the start of the next run (`integrity[<ssd>#n+1]`, re-checking first; paged once
 *   per escalation), so it never drops out of the saga's status or out of reach of `retry`.
 * - SSDs on offline sleds are `deferred`; the reconciler's `rescan` picks them up once the sled is back.
 * - An SSD whose update pauses for an operator (a drive that never returns) is `blocked`; its
 *   saga goes on in its own workflow and reports back (`ssdSettled`).
 * - Cancellations from outside never page anyone: an SSD's update cancelled fails that SSD
 *   (`cancelled`, not counted towards the failure rate); a wave cancelled stops at a safe point
 *   and reports, and the SSDs it never started are planned again — as are those of a wave that
 *   ended without reporting (terminated). See `runWave`.
 * - When nothing is left to do the rollout is `idle`: it waits for `rescan` (new SSDs, returned
 *   sleds) — or completes, with `untilIdle`. A new target for the model supersedes it.
 * - The history stays short: a run continues as new past `stepsPerRun` steps or `eventsPerRun`
 *   events, carrying the per-SSD progress, the open escalations and the saga's wait numbering.
 */
import {
  condition,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { firmwareReport } from '../schemas/firmware-reports';
import {
  FirmwareRolloutInput,
  type FirmwareRolloutStatus,
  type FirmwareWaveResult,
  type PlanWaveResult,
  type RolloutCarry,
  type RolloutOptions,
  type RolloutPhase,
  type SsdProgress,
  type WaveSummary,
} from '../schemas/firmware';
import type { OperatorNotification } from '../schemas/saga';
import { parseWorkflowInput } from '../schemas/validation';
import { firmwareRolloutStatusQuery, rescanSignal, ssdSettledSignal } from './firmware-messages';
import { AWAIT_ABANDONED_UPDATES_PATCH, awaitAbandonedUpdates, endedFromOutside } from './firmware-ended-wave';
import { SsdLedger } from './firmware-ssd-ledger';
import { type OperatorQuestion, runSaga, type Saga } from './saga';
import { rackLocalReliable } from './steps/firmware';
import { ssdFirmwareWave } from './ssd-firmware-wave';
import { notifyProfile, type OperatorActivities } from './saga/notify';

/** How often an idle rollout looks at the rack again without being asked. */
const IDLE_RECHECK_MS = 3600_000;
/** Waves kept in the status. */
const WAVES_KEPT = 100;

const operator = proxyActivities<OperatorActivities>(notifyProfile);

class Rollout {
  private readonly model: string;
  private readonly version: string;
  private readonly options: RolloutOptions;
  private readonly workflowId = workflowInfo().workflowId;
  /** Prefix of child workflow ids: unique to this rollout's chain of runs, so keys never collide with an earlier rollout of the target. */
  private readonly chain = `${workflowInfo().workflowId}@${workflowInfo().firstExecutionRunId.slice(0, 8)}`;
  private readonly ssds: SsdLedger;
  private waves: WaveSummary[];
  private nextWave: number;
  private nextSize: number;
  private escalations: number;
  private readonly runs: number;
  private readonly startedAt: string;
  private phase: RolloutPhase = 'planning';
  private reason: string | null = null;
  private total = 0;
  private atVersion = 0;
  private rescan = false;
  private steps = 0;
  /** Escalations of earlier runs asked again in this one: not counted against `stepsPerRun`. */
  private readonly reasked = new Set<string>();
  /** The SSD each escalation step of this run asks about. */
  private readonly escalated = new Map<string, SsdProgress>();

  constructor(input: { model: string; version: string; options: RolloutOptions; carry?: RolloutCarry }) {
    this.model = input.model;
    this.version = input.version;
    this.options = input.options;
    const carry = input.carry;
    this.ssds = new SsdLedger(carry?.ssds);
    this.waves = carry?.waves ?? [];
    this.nextWave = carry?.nextWave ?? 0;
    this.nextSize = carry?.nextSize ?? input.options.canarySize;
    this.escalations = carry?.escalations ?? 0;
    this.runs = (carry?.runs ?? 0) + 1;
    this.startedAt = carry?.startedAt ?? new Date().toISOString();

    setHandler(firmwareRolloutStatusQuery, (args) => this.status(args?.includeDone ?? false));
    setHandler(rescanSignal, () => void (this.rescan = true));
    setHandler(ssdSettledSignal, (outcome) => {
      this.ssds.settle(outcome);
      // Its redundancy group and regions may be free now.
      this.rescan = true;
    });
  }

  async run(saga: Saga): Promise<FirmwareRolloutStatus> {
    // A rollout goes forward only: nothing it did is undone, failures wait for an operator.
    saga.pivot();
    // Continue-as-new ended the earlier run's waits: ask again about every SSD an operator was
    // asked about and has not answered, so each stays in the status and decidable by `retry`.
    for (const [ssdId, p] of this.ssds) if (p.op === true && p.e !== undefined) this.escalate(saga, ssdId, p, true);
    for (;;) {
      if (this.mustContinueAsNew()) {
        await continueAsNew<(input: FirmwareRolloutInput) => Promise<FirmwareRolloutStatus>>({
          model: this.model,
          version: this.version,
          options: this.options,
          carry: this.carry(saga),
        });
      }
      this.rescan = false;
      this.phase = 'planning';
      const plan = await this.step(saga, `plan[${this.runs}.${this.steps}]`, () =>
        rackLocalReliable.firmwarePlanWave({ model: this.model, version: this.version, size: this.nextSize, skip: this.ssds.skipList() }),
      );
      if (plan.target !== this.version) {
        this.phase = 'superseded';
        this.reason = plan.target === null ? `model ${this.model} has no firmware target any more` : `the target of ${this.model} is now ${plan.target}`;
        return this.status(false);
      }
      const waitingForMirrors = this.applyPlan(saga, plan);
      if (plan.wave.length > 0) {
        this.report(saga);
        await this.runWave(saga, plan.wave);
        this.report(saga);
        continue;
      }
      const waitingForOperator = this.ssds.waitingForOperator();
      if (plan.waiting > 0 || waitingForMirrors > 0 || (waitingForOperator > 0 && this.options.untilIdle)) {
        this.phase = 'waiting';
        this.reason =
          `${plan.waiting} SSDs wait for their redundancy group or a shared disk, ` +
          `${waitingForMirrors} for degraded mirrors, ${waitingForOperator} for an operator; looking again every ${this.options.pollIntervalMs} ms`;
        this.report(saga);
        await condition(() => this.rescan, this.options.pollIntervalMs);
        continue;
      }
      if (this.options.untilIdle) {
        this.phase = 'completed';
        this.reason = null;
        return this.status(false);
      }
      this.phase = 'idle';
      this.reason = 'nothing to do until the rack changes: the reconciler asks for a rescan';
      this.report(saga);
      await condition(() => this.rescan, IDLE_RECHECK_MS);
    }
  }

  /** Publishes the rollout's progress in the saga's own status (`unwind show`): counts and every SSD not done. */
  private report(saga: Saga): void {
    const { phase, reason, total, counts, ssds, waves } = this.status(false);
    saga.report(firmwareReport, { phase, reason, total, counts, waves: waves.length, ssds });
  }

  /** A forward-only step; counted, so a run continues-as-new before its status grows long. */
  private step<T>(saga: Saga, name: string, action: () => Promise<T>): Promise<T> {
    this.steps++;
    return saga.step(name, { action });
  }

  /** An operator gate: a step too, counted as one. */
  private askOperator(saga: Saga, name: string, question: OperatorQuestion): Promise<void> {
    this.steps++;
    return saga.askOperator(name, question);
  }

  private mustContinueAsNew(): boolean {
    const info = workflowInfo();
    // Escalations asked again at the start do not count: every run plans at least once.
    return info.continueAsNewSuggested || info.historyLength > this.options.eventsPerRun || this.steps - this.reasked.size > this.options.stepsPerRun;
  }

  /**
   * Pages an operator when a step waits — once per escalation: one asked again after
   * continue-as-new pages no one if its first page got through (else it pages now).
   */
  async notifyOperator(notification: OperatorNotification): Promise<void> {
    const p = this.escalated.get(notification.step);
    if (p?.n === true) return;
    await operator.notifyOperator(notification);
    if (p !== undefined && p.e !== undefined) p.n = true;
  }

  /** Records what the plan saw; escalates SSDs blocked past the limit. Returns how many SSDs wait for mirrors. */
  private applyPlan(saga: Saga, plan: PlanWaveResult): number {
    this.total = plan.total;
    this.atVersion = plan.atVersion;
    const now = Date.now();
    for (const id of plan.deferred) {
      const p = this.ssds.of(id);
      if (p.op === true) continue;
      p.s = 'deferred';
      p.d = 'its sled is offline: the reconciler picks it up when the sled is back';
    }
    const blockedNow = new Set<string>();
    let waiting = 0;
    for (const { ssdId, regions } of plan.blocked) {
      blockedNow.add(ssdId);
      const p = this.ssds.of(ssdId);
      if (p.op === true) continue;
      if (p.s !== 'blocked') {
        p.s = 'blocked';
        p.t = new Date(now).toISOString();
      }
      p.d = `mirrors not healthy: ${regions.join(', ')}`;
      if (now - Date.parse(p.t ?? new Date(now).toISOString()) >= this.options.integrityWaitLimitMs) this.escalate(saga, ssdId, p);
      else waiting++;
    }
    for (const [id, p] of this.ssds) {
      // A mirror repaired: the SSD is updatable again.
      if (p.s === 'blocked' && p.op !== true && !blockedNow.has(id)) {
        p.s = 'pending';
        delete p.t;
        delete p.d;
      }
    }
    return waiting;
  }

  /**
   * Asks an operator about an SSD that waited too long for its mirrors; their `retry` re-checks.
   * With `again`, asks again about an escalation a run before this one left open (its detail
   * already says why), under the next escalation number.
   */
  private escalate(saga: Saga, ssdId: string, p: SsdProgress, again = false): void {
    p.op = true;
    if (!again) p.d = `${p.d ?? 'mirrors not healthy'}; waited past ${this.options.integrityWaitLimitMs} ms: needs an operator`;
    p.e = ++this.escalations;
    const name = `integrity[${ssdId}#${p.e}]`;
    this.escalated.set(name, p);
    if (again) this.reasked.add(name);
    else delete p.n;
    void this.askOperator(saga, name, async () => {
      const check = await rackLocalReliable.firmwareCheckIntegrity(ssdId);
      if (check.healthy) return undefined;
      return (
        `SSD ${ssdId} cannot be updated: replicas ${check.degraded.join(', ')} of its regions are not healthy, ` +
        `and taking it offline would leave a region with fewer than 2 healthy replicas; repair them, then retry step ${name}`
      );
    }).then(
      () => {
        p.op = false;
        p.s = 'pending';
        delete p.e;
        delete p.n;
        delete p.t;
        delete p.d;
        this.rescan = true;
      },
      () => undefined, // only a cancellation gets here: the rollout is ending
    );
  }

  private async runWave(saga: Saga, ids: string[]): Promise<void> {
    const index = this.nextWave++;
    const requested = this.nextSize;
    this.nextSize = Math.min(this.options.maxWaveSize, Math.max(requested + 1, Math.ceil(requested * this.options.growthFactor)));
    const ssds = this.ssds.startWave(ids, this.chain);
    const summary: WaveSummary = { index, size: ids.length, done: 0, failed: 0, blocked: 0, deferred: 0, startedAt: new Date().toISOString(), finishedAt: null };
    this.waves = [...this.waves, summary].slice(-WAVES_KEPT);
    this.phase = 'wave';
    this.reason = `wave ${index}: ${ids.length} SSDs`;
    const pacing = { returnTimeoutMs: this.options.returnTimeoutMs, resyncTimeoutMs: this.options.resyncTimeoutMs, pollIntervalMs: this.options.pollIntervalMs };
    const waveId = `${this.chain}:wave-${index}`;
    const result: FirmwareWaveResult = await this.step(saga, `wave[${index}]`, async () => {
      try {
        return await executeChild(ssdFirmwareWave, {
          workflowId: waveId,
          args: [{ rolloutWorkflowId: this.workflowId, index, version: this.version, ssds, pacing, concurrency: this.options.updateConcurrency }],
        });
      } catch (err) {
        // A wave cancelled from outside stops at a safe point and reports (ssd-firmware-wave.ts);
        // one that still ends without a result — terminated, or cancelled by an older version —
        // is planned again rather than paused for an operator. A wave holds nothing an operator
        // could decide on: each SSD's update is a saga of its own, with its own waits, and the
        // rack says where every SSD is (an updated one is at the version, one still out of
        // service is not planned until it is back). A `retry` of this step would only run the
        // wave again under the same workflow ids and idempotency keys, replaying at the rack
        // effects an unwound update had undone; the next wave has new ones.
        const how = endedFromOutside(err);
        if (how === undefined) throw err;
        // Its updates run on without it (abandoned): one it started just before it ended may not
        // have taken its SSD out yet, and planned again that SSD would get a second update racing
        // the first at the rack. So the rollout first waits for them to end; one paused for an
        // operator is blocked, as the wave would have reported it.
        const blocked = patched(AWAIT_ABANDONED_UPDATES_PATCH)
          ? await awaitAbandonedUpdates(ssds, this.options.pollIntervalMs, (busy) => {
              this.reason = `wave ${index} ended from outside: waiting for its updates still running (${busy.join(', ')})`;
            })
          : [];
        const paused = new Set(blocked.map((b) => b.ssdId));
        const notStarted = ids.filter((id) => !paused.has(id));
        return { index, outcomes: [], blocked, notStarted, stopped: `its wave ${waveId} was ${how} from outside before it reported` };
      }
    });
    this.ssds.recordWave(result, summary);
    summary.finishedAt = new Date().toISOString();
    // The failure rate is the firmware's: updates cancelled from outside, and SSDs never
    // started, say nothing of it.
    const cancelled = result.outcomes.filter((o) => o.cancelled === true).length;
    const failed = summary.failed - cancelled;
    const tried = ids.length - (summary.replanned ?? 0) - cancelled;
    if (tried > 0 && failed / tried > this.options.maxFailureRate) await this.halt(saga, summary.index, failed, tried);
  }

  /** Halts for an operator decision: `retry` of `halt[<wave>]` resumes; cancelling the workflow stops. */
  private async halt(saga: Saga, index: number, failed: number, tried: number): Promise<void> {
    this.phase = 'halted';
    this.reason = `wave ${index}: ${failed} of ${tried} SSDs failed, over the ${Math.round(this.options.maxFailureRate * 100)}% allowed`;
    this.report(saga);
    await this.askOperator(saga, `halt[${index}]`, `${this.reason}: the rollout is halted; look at the failed SSDs, then retry this step to resume, or cancel the rollout`);
  }

  private carry(saga: Saga): RolloutCarry {
    return {
      saga: saga.continuation(),
      ssds: this.ssds.carry(),
      waves: this.waves,
      nextWave: this.nextWave,
      nextSize: this.nextSize,
      escalations: this.escalations,
      runs: this.runs,
      startedAt: this.startedAt,
    };
  }

  status(includeDone: boolean): FirmwareRolloutStatus {
    const { counts, ssds, total } = this.ssds.tally(includeDone, this.atVersion, this.total);
    return {
      workflowId: this.workflowId,
      model: this.model,
      version: this.version,
      phase: this.phase,
      reason: this.reason,
      total,
      counts,
      waves: this.waves.map((w) => ({ ...w })),
      ssds,
      runs: this.runs,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
    };
  }
}

/** Rolls firmware `version` out to every SSD of `model`; see the file header. */
export async function ssdFirmwareRollout(params: FirmwareRolloutInput): Promise<FirmwareRolloutStatus> {
  const input = parseWorkflowInput(FirmwareRolloutInput, params, 'ssdFirmwareRollout');
  const rollout = new Rollout(input);
  // Stoppable: cancelling the rollout stops it between waves' steps; what runs settles, nothing is undone.
  // Continues the wait numbering of the run before, if any: an operator's wait id names one wait across runs.
  return runSaga('ssdFirmwareRollout', (saga) => rollout.run(saga), {
    stoppable: true,
    continues: input.carry?.saga,
    notifyOperator: (notification) => rollout.notifyOperator(notification),
  });
}
