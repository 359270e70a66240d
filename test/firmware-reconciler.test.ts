/**
 * The reconciler on the dev server: its Temporal Schedule, triggering it by hand, never a
 * second rollout of one target, and `unwind firmware status|set-target|targets` against it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { runCli } from '../src/cli/program';
import { type UnwindClient, ensureReconcilerSchedule, firmwareApi, listRollouts, triggerReconciler } from '../src/client';
import { RECONCILER_SCHEDULE_ID, rolloutWorkflowId } from '../src/schemas/firmware';
import { createDevServerEnv } from '../src/testing/environments';
import { startTestRack, type TestRack } from '../src/testing/rack';
import { createUnwindTestWorker } from '../src/testing/worker';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';

const taskQueue = 'firmware-reconciler';
let env: TestWorkflowEnvironment;
let testRack: TestRack;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await createDevServerEnv();
  testRack = await startTestRack({ seed: fleetSeed(8, 4) });
  await createDisks(testRack.rack, 8);
  worker = await createUnwindTestWorker(env, {
    taskQueue,
    activities: createActivities({ rack: testRack.rack, backoff: { baseMs: 20, capMs: 200 } }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await testRack?.stop();
  await env?.teardown();
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
  const code = await runCli(['node', 'unwind', '--rack-url', testRack.server.url, ...args], {
    io,
    // Only `firmware` is used by the firmware commands: the client's, on this test's client and queue.
    connectTemporal: async () => ({ firmware: firmwareApi(env.client, taskQueue), close: async () => undefined }) as unknown as UnwindClient,
  });
  return { code, stdout, stderr };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the firmware reconciler (dev server)', () => {
  it('runs from its schedule, starts one rollout per target however often it is triggered, and the CLI shows it', async () => {
    const set = await unwind('firmware', 'set-target', '--model', MODEL, '--version', '4.0.0', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).target).toMatchObject({ model: MODEL, version: '4.0.0' });

    const schedule = await ensureReconcilerSchedule(env.client, { everyMs: 3600_000, taskQueue });
    expect(schedule).toEqual({ scheduleId: RECONCILER_SCHEDULE_ID, created: true });
    expect((await ensureReconcilerSchedule(env.client, { everyMs: 1800_000, taskQueue })).created).toBe(false);
    expect(await triggerReconciler(env.client, { taskQueue })).toMatchObject({ via: 'schedule' });
    await triggerReconciler(env.client, { taskQueue });

    const id = rolloutWorkflowId(MODEL, '4.0.0');
    const done = await until(async () => {
      const { rollouts } = await listRollouts(env.client, { model: MODEL });
      const mine = rollouts.find((r) => r.workflowId === id);
      return mine?.counts.done === 32 && mine.phase === 'idle' ? mine : undefined;
    }, 120_000);
    expect(done.counts).toMatchObject({ done: 32, failed: 0 });
    // However often the reconciler ran, there is one execution of the target's rollout.
    await triggerReconciler(env.client, { taskQueue });
    await new Promise((r) => setTimeout(r, 2_000));
    const executions: string[] = [];
    for await (const e of env.client.workflow.list({ query: `WorkflowId = '${id}'` })) executions.push(e.runId);
    expect(executions).toHaveLength(1);
    const scheduled: string[] = [];
    for await (const e of env.client.workflow.list({ query: `WorkflowType = 'firmwareReconciler'` })) scheduled.push(e.workflowId);
    expect(scheduled.length).toBeGreaterThanOrEqual(2);

    const status = await unwind('firmware', 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${MODEL} -> 4.0.0`);
    expect(status.stdout).toMatch(/\[#{30}\] 100%\s+32\/32 done/);
    const json = await unwind('firmware', 'status', '--json', '--all');
    expect(JSON.parse(json.stdout).rollouts[0].ssds).toHaveLength(32);
    const targets = await unwind('firmware', 'targets');
    expect(targets.stdout).toMatch(new RegExp(`${MODEL}\\s+4\\.0\\.0\\s+\\[#{20}\\] 100%\\s+32/32`));

    await env.client.schedule.getHandle(RECONCILER_SCHEDULE_ID).delete();
    await env.client.workflow.getHandle(id).terminate('test done');
  });

  it('refuses a bad duration and a missing flag as usage errors', async () => {
    expect((await unwind('firmware', 'schedule', '--every', 'soon')).code).toBe(2);
    expect((await unwind('firmware', 'set-target', '--model', MODEL)).code).toBe(2);
  });
});
