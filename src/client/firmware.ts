/**
 * The firmware family of the client, `unwind.firmware`: the reconciler's Temporal Schedule,
 * triggering it by hand, starting a rollout, and reading every rollout's progress. The desired
 * versions themselves live in the rack (`firmware.setTarget`).
 *
 * Each operation is also a function of a Temporal client (and a task queue), for tests that
 * run their own worker on a queue of their own.
 */
import type { Client, ScheduleOverlapPolicy, WorkflowHandle } from '@temporalio/client';
import {
  type FirmwareRolloutStatus,
  type ReconcileResult,
  type RolloutOptionsInput,
  FirmwareRolloutInput,
  RECONCILER_SCHEDULE_ID,
  RECONCILER_WORKFLOW_ID,
  rolloutWorkflowId,
} from '../schemas/firmware';
import { TASK_QUEUE } from '../temporal/worker-config';

/** The rollout's status query, by name (src/workflows/firmware-messages.ts defines it). */
const STATUS_QUERY = 'firmwareRolloutStatus';
// The policies by value: the enum's values are these strings.
const SKIP = 'SKIP' as ScheduleOverlapPolicy;
const ALLOW_ALL = 'ALLOW_ALL' as ScheduleOverlapPolicy;

const isNamed = (err: unknown, name: string): boolean => err instanceof Error && err.name === name;

/** Options shared by the functions: where workflows run. */
export interface FirmwareClientOptions {
  /** The task queue of the unwind workers; `TASK_QUEUE` unless told. */
  taskQueue?: string;
}

/**
 * Creates (or updates) the Temporal Schedule that runs `firmwareReconciler` every `everyMs`.
 * Overlapping runs are skipped: a slow pass is never doubled.
 * @returns `created` false when the schedule existed and was updated.
 */
export async function ensureReconcilerSchedule(
  client: Client,
  options: FirmwareClientOptions & { everyMs: number },
): Promise<{ scheduleId: string; created: boolean }> {
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'firmwareReconciler',
    workflowId: `${RECONCILER_WORKFLOW_ID}:scheduled`,
    taskQueue,
    args: [],
  };
  const spec = { intervals: [{ every: options.everyMs }] };
  try {
    await client.schedule.create({
      scheduleId: RECONCILER_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: SKIP },
    });
    return { scheduleId: RECONCILER_SCHEDULE_ID, created: true };
  } catch (err) {
    if (!isNamed(err, 'ScheduleAlreadyRunning')) throw err;
    await client.schedule.getHandle(RECONCILER_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
    return { scheduleId: RECONCILER_SCHEDULE_ID, created: false };
  }
}

/**
 * Runs the reconciler now: through its schedule when there is one (so overlap rules hold),
 * else as a workflow of its own. Resolves once the run is started (schedule) or done (workflow).
 */
export async function triggerReconciler(
  client: Client,
  options: FirmwareClientOptions = {},
): Promise<{ via: 'schedule'; scheduleId: string } | { via: 'workflow'; workflowId: string; result: ReconcileResult }> {
  try {
    await client.schedule.getHandle(RECONCILER_SCHEDULE_ID).trigger(ALLOW_ALL);
    return { via: 'schedule', scheduleId: RECONCILER_SCHEDULE_ID };
  } catch (err) {
    if (!isNamed(err, 'ScheduleNotFoundError')) throw err;
  }
  const workflowId = `${RECONCILER_WORKFLOW_ID}:manual:${new Date().toISOString()}`;
  const result = (await client.workflow.execute('firmwareReconciler', {
    workflowId,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [],
  })) as ReconcileResult;
  return { via: 'workflow', workflowId, result };
}

/**
 * Starts the rollout of `version` to `model` directly (the reconciler does this on drift).
 * The input is validated first: bad input never creates an execution.
 */
export async function startRollout(
  client: Client,
  input: { model: string; version: string; options?: RolloutOptionsInput },
  options: FirmwareClientOptions = {},
): Promise<WorkflowHandle> {
  const parsed = FirmwareRolloutInput.parse(input);
  return client.workflow.start('ssdFirmwareRollout', {
    workflowId: rolloutWorkflowId(parsed.model, parsed.version),
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [{ model: parsed.model, version: parsed.version, options: input.options ?? {} }],
  });
}

/**
 * The status of every running rollout (optionally of one model), newest first. A rollout that
 * does not answer its query (no worker) is left out of the list and named in `unanswered`.
 */
export async function listRollouts(
  client: Client,
  filter: { model?: string; includeDone?: boolean } = {},
): Promise<{ rollouts: FirmwareRolloutStatus[]; unanswered: string[] }> {
  const rollouts: FirmwareRolloutStatus[] = [];
  const unanswered: string[] = [];
  const prefix = filter.model === undefined ? 'firmware-rollout:' : `${rolloutWorkflowId(filter.model, '')}`;
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'ssdFirmwareRollout' AND ExecutionStatus = 'Running'` })) {
    if (!execution.workflowId.startsWith(prefix)) continue;
    try {
      rollouts.push(await client.workflow.getHandle(execution.workflowId).query<FirmwareRolloutStatus, [{ includeDone?: boolean }]>(STATUS_QUERY, { includeDone: filter.includeDone }));
    } catch {
      unanswered.push(execution.workflowId);
    }
  }
  return { rollouts, unanswered };
}

/** What {@link triggerReconciler} did: triggered the schedule, or ran the reconciler itself. */
export type ReconcileOutcome = Awaited<ReturnType<typeof triggerReconciler>>;

/** Firmware rollouts: `unwind.firmware`. Workflows start on the client's task queue. */
export interface FirmwareApi {
  /**
   * Creates (or updates) the Temporal Schedule that runs `firmwareReconciler` every `everyMs`;
   * overlapping runs are skipped. @returns `created` false when the schedule existed.
   */
  schedule(options: { everyMs: number }): Promise<{ scheduleId: string; created: boolean }>;
  /** Runs the reconciler now: through its schedule when there is one, else as a workflow of its own (awaited). */
  reconcile(): Promise<ReconcileOutcome>;
  /** Starts the rollout of `version` to `model` (the reconciler does this on drift). @throws ZodError for bad input; nothing starts. */
  startRollout(input: { model: string; version: string; options?: RolloutOptionsInput }): Promise<WorkflowHandle>;
  /** Every running rollout's status (optionally of one model); one that does not answer (no worker) is named in `unanswered`. */
  rollouts(filter?: { model?: string; includeDone?: boolean }): Promise<{ rollouts: FirmwareRolloutStatus[]; unanswered: string[] }>;
}

/** The firmware API over `temporal`, starting workflows on `taskQueue`. */
export function firmwareApi(temporal: Client, taskQueue: string): FirmwareApi {
  return {
    schedule: ({ everyMs }) => ensureReconcilerSchedule(temporal, { everyMs, taskQueue }),
    reconcile: () => triggerReconciler(temporal, { taskQueue }),
    startRollout: (input) => startRollout(temporal, input, { taskQueue }),
    rollouts: (filter) => listRollouts(temporal, filter),
  };
}
