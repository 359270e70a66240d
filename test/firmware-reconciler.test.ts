/**
 * The reconciler on the dev server: its Temporal Schedule, triggering it by hand, never a
 * second rollout of one target, and `unwind firmware status|set-target|targets` against it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program';
import { type UnwindClient, ensureReconcilerSchedule, firmwareApi, listRollouts, triggerReconciler } from '../src/client';
import { RECONCILER_SCHEDULE_ID, rolloutWorkflowId } from '../src/schemas/firmware';
import { eventually } from './helpers/eventually';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';
import { useRackTestBed } from './helpers/rack-bed';

const taskQueue = 'firmware-reconciler';
const bed = useRackTestBed({ taskQueue, seed: fleetSeed(8, 4) });

beforeAll(async () => {
  await createDisks(bed.testRack.rack, 8);
});

/** Runs the CLI against this test's servers; returns exit code and output. */
async function unwind(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => void (stdout += t) },
    stderr: { write: (t: string) => void (stderr += t) },
    env: { ...process.env, UNWIND_TASK_QUEUE: taskQueue, NO_COLOR: '1' },
  };
  const code = await runCli(['node', 'unwind', '--rack-url', bed.testRack.server.url, ...args], {
    io,
    // Only `firmware` is used by the firmware commands: the client's, on this test's client and queue.
    connectTemporal: async () => ({ firmware: firmwareApi(bed.env.client, taskQueue), close: async () => undefined }) as unknown as UnwindClient,
  });
  return { code, stdout, stderr };
}

describe('the firmware reconciler (dev server)', () => {
  it('runs from its schedule, starts one rollout per target however often it is triggered, and the CLI shows it', async () => {
    const set = await unwind('firmware', 'set-target', '--model', MODEL, '--version', '4.0.0', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).target).toMatchObject({ model: MODEL, version: '4.0.0' });

    const schedule = await ensureReconcilerSchedule(bed.env.client, { everyMs: 3600_000, taskQueue });
    expect(schedule).toEqual({ scheduleId: RECONCILER_SCHEDULE_ID, created: true });
    expect((await ensureReconcilerSchedule(bed.env.client, { everyMs: 1800_000, taskQueue })).created).toBe(false);
    expect(await triggerReconciler(bed.env.client, { taskQueue })).toMatchObject({ via: 'schedule' });
    await triggerReconciler(bed.env.client, { taskQueue });

    const id = rolloutWorkflowId(MODEL, '4.0.0');
    const listed = await eventually(
      () => listRollouts(bed.env.client, { model: MODEL }),
      ({ rollouts }) => rollouts.some((r) => r.workflowId === id && r.counts.done === 32 && r.phase === 'idle'),
      `rollout ${id} to finish its 32 SSDs`,
      120_000,
    );
    expect(listed.rollouts.find((r) => r.workflowId === id)?.counts).toMatchObject({ done: 32, failed: 0 });
    // However often the reconciler ran, there is one execution of the target's rollout: once one more run has ended.
    const reconciler = bed.env.client.schedule.getHandle(RECONCILER_SCHEDULE_ID);
    const taken = (await reconciler.describe()).info.numActionsTaken;
    await triggerReconciler(bed.env.client, { taskQueue });
    await eventually(() => reconciler.describe(), ({ info }) => info.numActionsTaken > taken && info.runningActions.length === 0, 'one more reconciler run to end');
    const executions: string[] = [];
    for await (const e of bed.env.client.workflow.list({ query: `WorkflowId = '${id}'` })) executions.push(e.runId);
    expect(executions).toHaveLength(1);
    const scheduled: string[] = [];
    for await (const e of bed.env.client.workflow.list({ query: `WorkflowType = 'firmwareReconciler'` })) scheduled.push(e.workflowId);
    expect(scheduled.length).toBeGreaterThanOrEqual(2);

    const status = await unwind('firmware', 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${MODEL} -> 4.0.0`);
    expect(status.stdout).toMatch(/\[#{30}\] 100%\s+32\/32 done/);
    const json = await unwind('firmware', 'status', '--json', '--all');
    expect(JSON.parse(json.stdout).rollouts[0].ssds).toHaveLength(32);
    const targets = await unwind('firmware', 'targets');
    expect(targets.stdout).toMatch(new RegExp(`${MODEL}\\s+4\\.0\\.0\\s+\\[#{20}\\] 100%\\s+32/32`));

    await bed.env.client.schedule.getHandle(RECONCILER_SCHEDULE_ID).delete();
    await bed.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('refuses a bad duration and a missing flag as usage errors', async () => {
    expect((await unwind('firmware', 'schedule', '--every', 'soon')).code).toBe(2);
    expect((await unwind('firmware', 'set-target', '--model', MODEL)).code).toBe(2);
  });
});
