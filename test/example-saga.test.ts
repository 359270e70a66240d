/**
 * A saga author's test of a new saga, as the README shows it: a dev server, a rack simulator
 * and a worker serving the saga (test/workflows/example-saga.ts), then one `proveSaga` call
 * that runs it once per step and failure mode and checks every unwind.
 */
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDevServerEnv, quietLogger, startRackSagaBed, type RackSagaBed } from '../src/testing';
import { type NetworkedInstanceParams, networkedInstance } from './workflows/example-saga';

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;

beforeAll(async () => {
  env = await createDevServerEnv(); // a Temporal dev server on a free port (npm run setup:temporal finds one)
  // The worker runs the workflows of this file's bundle: the new saga (and whatever else it exports).
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows', 'example-saga.ts'), logger: quietLogger });
  bed = await startRackSagaBed(env, { taskQueue: 'example-saga', workflowBundle }); // a rack on a fresh SQLite file, a worker, a harness
}, 300_000);

afterAll(async () => {
  await bed?.stop(); // the worker, then the rack and its files
  await env?.teardown(); // the dev server
});

it('networkedInstance completes idempotently and unwinds cleanly from every step', async () => {
  const rack = bed.testRack.rack;
  let n = 0;
  const makeParams = (): NetworkedInstanceParams => ({ name: `example-${++n}`, cpus: 1, memoryGiB: 1 });

  const report = await bed.harness.proveSaga(networkedInstance, makeParams, {
    verifyResult: async (result, params) => {
      const [nic] = await rack.list('nics', { instanceId: result.instanceId });
      expect(nic).toMatchObject({ id: result.nicId, ip: result.ip });
      expect((await rack.get('instances', result.instanceId)).name).toBe(params.name);
    },
    verifyCleanSlate: async (params, label) => {
      expect(await rack.list('instances', { name: params.name }), label).toEqual([]);
    },
  });

  // The harness prints report.table: step × mode → outcome, and the wall time.
  expect(report.steps).toEqual(['create-instance', 'allocate-ip', 'create-nic']);
}, 600_000);
