/**
 * Fleet SSD firmware rollout: the inputs, outputs, status and messages of `ssdFirmwareRollout`,
 * its waves (`ssdFirmwareWave`), its per-SSD sagas (`ssdFirmwareUpdate`) and the reconciler
 * (`firmwareReconciler`). Shared by the workflows, the firmware activities, the client and the CLI.
 */
import { z } from 'zod';
import { SagaContinuation } from './saga';

const Model = z.string().min(1).max(64);
const Version = z.string().min(1).max(64);
const Ms = z.int().min(0).max(365 * 24 * 3600 * 1000);

/** The workflow id of the rollout of `version` to `model`: one rollout per target, ever running at once. */
export function rolloutWorkflowId(model: string, version: string): string {
  return `firmware-rollout:${model}:${version}`;
}

/** The workflow id prefix of the reconciler started by hand (`unwind firmware reconcile`). */
export const RECONCILER_WORKFLOW_ID = 'firmware-reconciler';
/** The Temporal Schedule that runs the reconciler. */
export const RECONCILER_SCHEDULE_ID = 'unwind-firmware-reconciler';

/** How a rollout paces itself. Every field has a default: `{}` is a sensible rollout. */
export const RolloutOptions = z.strictObject({
  /** SSDs in the first wave, the canary: its failure halts the rollout before anything else moves. */
  canarySize: z.int().min(1).max(100).default(1),
  /** Each wave is this many times the size of the one before… */
  growthFactor: z.number().min(1).max(100).default(2),
  /** …up to this many SSDs (a wave is also bounded by one SSD per redundancy group). */
  maxWaveSize: z.int().min(1).max(2_000).default(200),
  /** SSD updates of one wave in flight at once (the rest of the wave queues): paces the control plane, not integrity. */
  updateConcurrency: z.int().min(1).max(2_000).default(100),
  /** A wave whose share of failed SSDs is above this halts the rollout for an operator decision. */
  maxFailureRate: z.number().min(0).max(1).default(0.1),
  /** How long an SSD may wait for a degraded mirror before an operator is asked. */
  integrityWaitLimitMs: Ms.default(30 * 60_000),
  /** How long a reset SSD may take to come back before an operator is asked. */
  returnTimeoutMs: Ms.default(15 * 60_000),
  /** How long an SSD's regions may take to resync before an operator is asked. */
  resyncTimeoutMs: Ms.default(2 * 3600_000),
  /** Between observations of a resetting or resyncing SSD, and between plans while SSDs wait. */
  pollIntervalMs: Ms.min(1).default(30_000),
  /** Complete once nothing is left to do now (deferred and blocked SSDs are reported), instead of staying for the reconciler. */
  untilIdle: z.boolean().default(false),
  /** A run continues as new past this many saga steps (its status lists every step of the run). */
  stepsPerRun: z.int().min(10).max(10_000).default(300),
  /** …or past this many history events (well under Temporal's limits, and the 10,000 the fleet test allows). */
  eventsPerRun: z.int().min(500).max(40_000).default(4_000),
});
/** Rollout options as given (every field optional). */
export type RolloutOptionsInput = z.input<typeof RolloutOptions>;
/** Rollout options with defaults applied. */
export type RolloutOptions = z.output<typeof RolloutOptions>;

/** Where one SSD is in the rollout. */
export const SsdRolloutState = z.enum(['pending', 'in-progress', 'done', 'deferred', 'blocked', 'failed']);
/** See {@link SsdRolloutState}. */
export type SsdRolloutState = z.infer<typeof SsdRolloutState>;

/** One SSD's progress, as the rollout records it (compact: it is carried across continue-as-new). */
export const SsdProgress = z.object({
  /** State. */
  s: SsdRolloutState,
  /** Why (blocked, deferred, failed), or where (in progress: the workflow id). */
  d: z.string().optional(),
  /** Since when (ISO), for blocked SSDs: the integrity wait limit counts from here. */
  t: z.string().optional(),
  /** How many times an update of this SSD was started. */
  a: z.int().min(0).default(0),
  /** Waiting for an operator (escalated past a limit, or its update paused). */
  op: z.boolean().optional(),
  /**
   * The number of its open integrity escalation (step `integrity[<ssd>#e]`), while one waits for
   * an operator: a run that continues the rollout asks again, under the next number.
   */
  e: z.int().min(1).optional(),
  /** True once an operator was paged about its open escalation: asking again after continue-as-new pages no one. */
  n: z.boolean().optional(),
});
/** See {@link SsdProgress}. */
export type SsdProgress = z.infer<typeof SsdProgress>;

/** One wave as the status shows it. */
export const WaveSummary = z.object({
  index: z.int(),
  size: z.int(),
  done: z.int(),
  failed: z.int(),
  blocked: z.int(),
  deferred: z.int(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** SSDs of the wave given back to planning: the wave was cancelled from outside before their updates started (or ended without a result). */
  replanned: z.int().optional(),
});
/** See {@link WaveSummary}. */
export type WaveSummary = z.infer<typeof WaveSummary>;

/** What a run hands to the next one on continue-as-new. */
export const RolloutCarry = z.object({
  ssds: z.record(z.string(), SsdProgress),
  waves: z.array(WaveSummary),
  nextWave: z.int(),
  nextSize: z.int(),
  escalations: z.int(),
  runs: z.int(),
  startedAt: z.string(),
  /** The saga's own continuation: wait numbers go on in the next run. */
  saga: SagaContinuation.optional(),
});
/** See {@link RolloutCarry}. */
export type RolloutCarry = z.infer<typeof RolloutCarry>;

/** The input of `ssdFirmwareRollout`. */
export const FirmwareRolloutInput = z.strictObject({
  model: Model,
  version: Version,
  options: RolloutOptions.prefault({}),
  /** Set by the rollout itself on continue-as-new. */
  carry: RolloutCarry.optional(),
});
/** The input of `ssdFirmwareRollout` as given. */
export type FirmwareRolloutInput = z.input<typeof FirmwareRolloutInput>;

/** Where a rollout as a whole is. */
export const RolloutPhase = z.enum(['planning', 'wave', 'waiting', 'halted', 'idle', 'superseded', 'completed']);
/** See {@link RolloutPhase}. */
export type RolloutPhase = z.infer<typeof RolloutPhase>;

/** Counts of SSDs per state. */
export const RolloutCounts = z.record(SsdRolloutState, z.int());
/** See {@link RolloutCounts}. */
export type RolloutCounts = z.infer<typeof RolloutCounts>;

/** The answer of `firmwareRolloutStatus`, and the rollout's result. */
export const FirmwareRolloutStatus = z.object({
  workflowId: z.string(),
  model: z.string(),
  version: z.string(),
  phase: RolloutPhase,
  /** Why the rollout is halted, waiting or superseded. */
  reason: z.string().nullable(),
  total: z.int(),
  counts: RolloutCounts,
  waves: z.array(WaveSummary),
  /** Every SSD the rollout knows that is not done (all of them with `includeDone`). */
  ssds: z.array(z.object({ ssdId: z.string(), state: SsdRolloutState, detail: z.string().nullable(), since: z.string().nullable(), needsOperator: z.boolean() })),
  runs: z.int(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
/** See {@link FirmwareRolloutStatus}. */
export type FirmwareRolloutStatus = z.infer<typeof FirmwareRolloutStatus>;

/** Timeouts and polling of one SSD's update. */
export const SsdUpdatePacing = RolloutOptions.pick({ returnTimeoutMs: true, resyncTimeoutMs: true, pollIntervalMs: true });
/** See {@link SsdUpdatePacing}. */
export type SsdUpdatePacing = z.output<typeof SsdUpdatePacing>;

/** The input of `ssdFirmwareUpdate`: one SSD's saga. */
export const SsdFirmwareUpdateInput = z.strictObject({
  ssdId: z.string().min(1),
  version: Version,
  /** The rollout to tell when an update that paused for an operator settles. */
  rolloutWorkflowId: z.string().min(1),
  pacing: SsdUpdatePacing,
});
/** See {@link SsdFirmwareUpdateInput}. */
export type SsdFirmwareUpdateInput = z.input<typeof SsdFirmwareUpdateInput>;

/** How one SSD's update ended. */
export const SsdUpdateOutcome = z.object({
  ssdId: z.string(),
  outcome: z.enum(['done', 'failed', 'deferred']),
  detail: z.string().nullable(),
  /**
   * The update was cancelled from outside (an operator's `temporal workflow cancel`): it failed,
   * but says nothing of the firmware, so it does not count towards a wave's failure rate.
   */
  cancelled: z.boolean().optional(),
});
/** See {@link SsdUpdateOutcome}. */
export type SsdUpdateOutcome = z.infer<typeof SsdUpdateOutcome>;

/** The input of `ssdFirmwareWave`. */
export const FirmwareWaveInput = z.strictObject({
  rolloutWorkflowId: z.string().min(1),
  index: z.int().min(0),
  version: Version,
  ssds: z.array(z.object({ ssdId: z.string(), workflowId: z.string() })),
  pacing: SsdUpdatePacing,
  /** Updates in flight at once. */
  concurrency: z.int().min(1).default(100),
});
/** See {@link FirmwareWaveInput}. */
export type FirmwareWaveInput = z.input<typeof FirmwareWaveInput>;

/** An SSD whose update paused for an operator: it goes on in its own workflow, outside the wave. */
export const BlockedUpdate = z.object({ ssdId: z.string(), workflowId: z.string(), step: z.string(), error: z.string() });
/** See {@link BlockedUpdate}. */
export type BlockedUpdate = z.infer<typeof BlockedUpdate>;

/** The result of `ssdFirmwareWave`. */
export const FirmwareWaveResult = z.object({
  index: z.int(),
  outcomes: z.array(SsdUpdateOutcome),
  blocked: z.array(BlockedUpdate),
  /** SSDs whose update the wave never started: it was cancelled first. The rollout plans them again. */
  notStarted: z.array(z.string()).optional(),
  /** Why the wave stopped before starting every update (a cancellation request), if it did. */
  stopped: z.string().optional(),
});
/** See {@link FirmwareWaveResult}. */
export type FirmwareWaveResult = z.infer<typeof FirmwareWaveResult>;

/** The input of the planning activity: the next wave of at most `size` SSDs, leaving out `skip`. */
export const PlanWaveInput = z.object({ model: Model, version: Version, size: z.int().min(0), skip: z.array(z.string()) });
/** See {@link PlanWaveInput}. */
export type PlanWaveInput = z.infer<typeof PlanWaveInput>;

/** What the rack looks like to the rollout now, and the next wave. */
export const PlanWaveResult = z.object({
  /** The model's desired version now (null: no target): another version means the rollout is superseded. */
  target: z.string().nullable(),
  /** The next wave: at most one SSD per redundancy group, no two sharing a region, every mirror healthy. */
  wave: z.array(z.string()),
  /** SSDs on offline sleds. */
  deferred: z.array(z.string()),
  /** SSDs that would leave a region with fewer than 2 healthy replicas, with the degraded replicas. */
  blocked: z.array(z.object({ ssdId: z.string(), regions: z.array(z.string()) })),
  /** Updatable SSDs left for later waves (their group or a region is busy now). */
  waiting: z.int(),
  /** How many SSDs of the model are already at the version. */
  atVersion: z.int(),
  /** SSDs of the model. */
  total: z.int(),
});
/** See {@link PlanWaveResult}. */
export type PlanWaveResult = z.infer<typeof PlanWaveResult>;

/** What the rollout learns of one SSD. */
export const SsdObservation = z.object({
  ssdId: z.string(),
  state: z.enum(['online', 'offline', 'resetting']),
  firmwareVersion: z.string(),
  /** Whether its sled is online; null when not asked. */
  sledOnline: z.boolean().nullable(),
  /** Replicas on it still resyncing; null when not asked. */
  resyncing: z.int().nullable(),
});
/** See {@link SsdObservation}. */
export type SsdObservation = z.infer<typeof SsdObservation>;

/** The mirrors of one SSD's regions. */
export const IntegrityCheck = z.object({ ssdId: z.string(), healthy: z.boolean(), degraded: z.array(z.string()) });
/** See {@link IntegrityCheck}. */
export type IntegrityCheck = z.infer<typeof IntegrityCheck>;

/** Desired against actual for one model. */
export const FirmwareDrift = z.object({
  model: z.string(),
  version: z.string(),
  total: z.int(),
  atVersion: z.int(),
  /** SSDs at another version that could be updated now (sled online). */
  actionable: z.int(),
  /** SSDs at another version on offline sleds. */
  unreachable: z.int(),
});
/** See {@link FirmwareDrift}. */
export type FirmwareDrift = z.infer<typeof FirmwareDrift>;

/** What one reconciler run did. */
export const ReconcileResult = z.object({
  drift: z.array(FirmwareDrift),
  /** Rollouts started or asked to rescan, by workflow id. */
  rollouts: z.array(z.string()),
});
/** See {@link ReconcileResult}. */
export type ReconcileResult = z.infer<typeof ReconcileResult>;

/** The argument of the rollout's `rescan` signal. */
export const RescanRequest = z.object({ reason: z.string() });
/** See {@link RescanRequest}. */
export type RescanRequest = z.infer<typeof RescanRequest>;
