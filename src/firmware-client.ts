/**
 * The control plane's side of firmware rollouts: the reconciler's Temporal Schedule, triggering
 * it by hand, starting a rollout, and reading every rollout's progress. Used by the CLI
 * (`unwind firmware …`) and by tests; the desired versions themselves live in the rack
 * (`firmware.setTarget`).
 */
// Types only: the CLI loads this module for every command, and the Temporal SDK is slow to load.
import type { Client, ScheduleOverlapPolicy, WorkflowHandle } from '@temporalio/client';
import {
  type FirmwareRolloutStatus,
  type ReconcileResult,
  type RolloutOptionsInput,
  FirmwareRolloutInput,
  RECONCILER_SCHEDULE_ID,
  RECONCILER_WORKFLOW_ID,
  rolloutWorkflowId,
} from './schemas/firmware';
import { TASK_QUEUE } from './temporal/worker-config';

/** The rollout's status query, by name (src/workflows/firmware-messages.ts defines it). */
const STATUS_QUERY = 'firmwareRolloutStatus';
const SKIP = 'SKIP' as ScheduleOverlapPolicy;
const ALLOW_ALL = 'ALLOW_ALL' as ScheduleOverlapPolicy;

const isNamed = (err: unknown, name: string): boolean => err instanceof Error && err.name === name;

/** Options shared by the helpers: where workflows run. */
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
