/**
 * `unwind start <workflowType>`: any saga the worker serves, with JSON input and the fault memo,
 * spawned as a process against a dev server with a real worker over the rack simulator.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_TYPES } from '../src/schemas/workflow-types';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import * as workflows from '../src/workflows';
import { createDevServerEnv, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { eventually, expectExit, runUnwind } from './cli-helpers';

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;
const rack = () => bed.testRack.rack;

beforeAll(async () => {
  env = await createDevServerEnv();
  // A rack and a worker serving unwind's workflows on the task queue the CLI starts them on.
  bed = await startRackSagaBed(env, { taskQueue: TASK_QUEUE });
});

afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
});

const unwind = (...args: string[]) =>
  runUnwind(['--address', env.address, '--rack-url', bed.testRack.server.url, ...args], { UNWIND_TASK_QUEUE: TASK_QUEUE });

describe('the workflow types unwind start knows', () => {
  it('are every workflow function the bundle exports, so starting loads no workflow code', () => {
    const exported = Object.entries(workflows).filter(([, value]) => typeof value === 'function').map(([name]) => name);
    expect([...WORKFLOW_TYPES].sort()).toEqual(exported.sort());
  });
});

describe('bad input: exit 2 before connecting, naming the flag', () => {
  it('refuses an unknown workflow type, listing those the worker serves', async () => {
    const run = expectExit(await runUnwind(['--address', '127.0.0.1:1', 'start', 'diskCreat', '--input', '{}']), 2);
    expect(run.stderr).toContain("unknown workflow type 'diskCreat'");
    expect(run.stderr).toMatch(/the worker serves: .*diskCreate, .*instanceCreate/);
  });

  it('refuses --input and --fault that are not JSON, and a fault the memo schema refuses', async () => {
    const [input, fault, invalid] = await Promise.all([
      runUnwind(['--address', '127.0.0.1:1', 'start', 'diskCreate', '--input', "{name:'d'}"]),
      runUnwind(['--address', '127.0.0.1:1', 'start', 'diskCreate', '--input', '{}', '--fault', 'failStep=x']),
      runUnwind(['--address', '127.0.0.1:1', 'start', 'diskCreate', '--input', '{}', '--fault', '{"failStep":"create-disk","failAs":"boom"}']),
    ]);
    expect(expectExit(input, 2).stderr).toContain('--input is not JSON');
    expect(expectExit(fault, 2).stderr).toContain('--fault is not JSON');
    expect(expectExit(invalid, 2).stderr).toMatch(/--fault is not a valid unwindFaults memo: failAs: .*refused/);
  });

  it('has help with examples', async () => {
    const run = expectExit(await runUnwind(['start', '--help']), 0);
    expect(run.stdout).toContain('Usage: unwind start [options] <workflowType>');
    expect(run.stdout).toContain("$ unwind start diskCreate --input '{\"name\":\"data-2\",\"sizeGiB\":10}' --fault");
  });
});

describe('against a worker', () => {
  it('starts a saga with its input and follows it to completion', async () => {
    const run = expectExit(await unwind('start', 'diskCreate', '--input', '{"name":"generic-1","sizeGiB":10}', '--workflow-id', 'generic/disk-1', '--wait', '--json'), 0);
    expect(JSON.parse(run.stdout)).toMatchObject({ workflowId: 'generic/disk-1', workflowType: 'diskCreate', outcome: 'completed' });
    expect(await rack().list('disks', { name: 'generic-1' })).toHaveLength(1);
  });

  it('injects the fault memo: the saga unwinds from the step named, and the rack keeps nothing of it', async () => {
    const run = expectExit(
      await unwind('start', 'diskCreate', '--input', '{"name":"generic-2","sizeGiB":10}', '--fault', '{"failStep":"ensure-region[1]"}', '--wait'),
      1,
    );
    const workflowId = run.stdout.split(' ')[0]!;
    expect(workflowId).toMatch(/^disk-create\/[a-z0-9]{12}$/);
    expect(run.stdout).toContain('unwound: step ensure-region[1] failed: Refused: fault injected by memo unwindFaults');
    expect(run.stdout).toMatch(/undone: .*create-disk/);
    expect(await rack().list('disks', { name: 'generic-2' })).toEqual([]);
  });

  it('pauses for an operator with failAs needs-operator (exit 6), and refuses an id in use (exit 5)', async () => {
    const paused = expectExit(
      await unwind('start', 'diskCreate', '--input', '{"name":"generic-3","sizeGiB":10}', '--fault', '{"failStep":"create-disk","failAs":"needs-operator"}', '--workflow-id', 'generic/disk-3', '--wait'),
      6,
    );
    expect(paused.stdout).toContain('generic/disk-3 paused: needs-operator');
    const again = expectExit(await unwind('start', 'diskCreate', '--input', '{"name":"generic-4","sizeGiB":10}', '--workflow-id', 'generic/disk-3'), 5);
    expect(again.stderr).toContain('workflow id generic/disk-3 is in use: a workflow was started with it before; nothing was started');
    // Paused holding the disk its create-disk made (failWhen after): the operator's unwind removes it.
    expectExit(await unwind('unwind', 'generic/disk-3', '--reason', 'done with the example', '--as', 'test'), 0);
    await eventually(() => rack().list('disks', { name: 'generic-3' }), (disks) => disks.length === 0, 'the disk of generic/disk-3 to be deleted');
  });
});
