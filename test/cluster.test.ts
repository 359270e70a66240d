// A real Temporal cluster on PostgreSQL (src/cluster): sagas survive a SIGKILLed server and a
// SIGKILLed database, state survives a stop and a start, and mutual TLS turns away a client
// without the run's certificate. No skipping: a missing server or PostgreSQL fails the file
// with how to get it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import type { InstanceCreateParams } from '../src/schemas/instance';
import { createClusterEnv, findOrphans, startTestRack, type ClusterEnv, type TestRack } from '../src/testing';
import { bundleUnwindWorkflows } from '../src/testing/worker';
import { instanceCreate, ping } from '../src/workflows';
import { eventually, LOADED_MACHINE_MS } from './helpers/eventually';

const taskQueue = 'cluster-test';

/** Runs a worker serving unwind's workflows (real activities on `rack`) until the returned stop is called. */
async function startWorker(env: ClusterEnv, rack: TestRack | undefined): Promise<() => Promise<void>> {
  const connection = await NativeConnection.connect({
    address: env.address,
    tls: env.tls && {
      serverNameOverride: env.tls.serverName,
      serverRootCACertificate: readFileSync(env.tls.caPath),
      clientCertPair: { crt: readFileSync(env.tls.certPath), key: readFileSync(env.tls.keyPath) },
    },
  });
  const worker = await Worker.create({
    connection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await bundleUnwindWorkflows(),
    activities: rack ? createActivities({ rack: rack.rack, backoff: { baseMs: 50, capMs: 500 } }) : {},
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
}

describe('a Temporal cluster on PostgreSQL', () => {
  // Given by the test, so stopping the env keeps it for the second start.
  const dataDir = mkdtempSync(join(tmpdir(), 'unwind-cluster-test-'));
  let env: ClusterEnv;
  let rack: TestRack;
  let stopWorker: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    env = await createClusterEnv({ dataDir });
    rack = await startTestRack();
    // Every rack call takes 150 ms: a saga of 15 steps is mid-flight for a few seconds.
    await rack.rack.faults.setRule({ operation: '*', latencyMs: 150 });
    stopWorker = await startWorker(env, rack);
  });

  afterAll(async () => {
    await stopWorker?.();
    await rack?.stop();
    await env?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts instanceCreate and resolves once `steps` rack mutations of it are in the ledger. */
  async function startSagaAndWait(name: string, steps: number) {
    const params: InstanceCreateParams = { name, cpus: 2, memoryGiB: 4, diskGiB: 20, nics: 1 };
    const handle = await env.client.workflow.start(instanceCreate, { taskQueue, workflowId: `create-${name}`, args: [params] });
    await eventually(() => rack.rack.ledger({ keyPrefix: `${handle.workflowId}/` }), (ledger) => ledger.length >= steps, `${steps} rack mutations of ${handle.workflowId}`, LOADED_MACHINE_MS, 50);
    return handle;
  }

  it('finishes a saga whose server was SIGKILLed mid-flight, and one whose PostgreSQL was', async () => {
    const first = await startSagaAndWait('through-server-kill', 3);
    await env.killServer();
    const appliedWhileDown = (await rack.rack.ledger({ keyPrefix: `${first.workflowId}/` })).length;
    await new Promise((r) => setTimeout(r, 1_000)); // an outage of a second, not a wait for anything
    await env.startServer();
    const vm = await first.result();
    expect((await rack.rack.get('instances', vm.instanceId)).state).toBe('running');
    expect((await rack.rack.ledger({ keyPrefix: `${first.workflowId}/` })).length).toBeGreaterThan(appliedWhileDown);

    const second = await startSagaAndWait('through-postgres-kill', 3);
    await env.killPostgres();
    await new Promise((r) => setTimeout(r, 1_000));
    await env.startPostgres();
    const vm2 = await second.result();
    expect((await rack.rack.get('instances', vm2.instanceId)).state).toBe('running');

    expect(findOrphans(await rack.rack.inventory())).toEqual([]);
    const described = await env.client.workflow.getHandle(first.workflowId).describe();
    expect(described.status.name).toBe('COMPLETED');
  });

  it('keeps every workflow across a stop and a start on the same folder, without setting the schema up again', async () => {
    await stopWorker?.();
    stopWorker = undefined;
    await env.stop();
    expect(readFileSync(join(dataDir, 'cluster.json'), 'utf8')).toContain('temporal_visibility');
    env = await createClusterEnv({ dataDir });
    const listed: string[] = [];
    for await (const execution of env.client.workflow.list({ query: `WorkflowType = 'instanceCreate'` })) listed.push(execution.workflowId);
    expect(listed.sort()).toEqual(['create-through-postgres-kill', 'create-through-server-kill']);
    const setups = readFileSync(join(dataDir, 'logs', 'schema.log'), 'utf8').match(/ setup-schema /g) ?? [];
    expect(setups).toHaveLength(2);
  });
});

describe('a cluster without its parts', () => {
  it('fails, saying how to get PostgreSQL, when it is missing', async () => {
    const before = process.env.UNWIND_PG_BIN;
    process.env.UNWIND_PG_BIN = join(tmpdir(), 'no-postgresql-here');
    try {
      await expect(createClusterEnv()).rejects.toThrow(/holds no initdb and postgres.*apt-get install postgresql.*UNWIND_PG_BIN/s);
    } finally {
      if (before === undefined) delete process.env.UNWIND_PG_BIN;
      else process.env.UNWIND_PG_BIN = before;
    }
  });
});

describe('a cluster with mutual TLS', () => {
  let env: ClusterEnv;
  let stopWorker: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    env = await createClusterEnv({ tls: true });
    stopWorker = await startWorker(env, undefined);
  });

  afterAll(async () => {
    await stopWorker?.();
    await env?.stop();
  });

  async function systemInfo(options: Parameters<typeof Connection.connect>[0]): Promise<unknown> {
    const connection = await Connection.connect({ connectTimeout: 3_000, ...options });
    try {
      return await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
  }

  it('refuses a client without a certificate and serves one with the run\'s client certificate', async () => {
    const tls = env.tls!;
    const ca = readFileSync(tls.caPath);
    await expect(systemInfo({ address: env.address })).rejects.toThrow();
    await expect(systemInfo({ address: env.address, tls: { serverNameOverride: tls.serverName, serverRootCACertificate: ca } })).rejects.toThrow();
    await expect(
      systemInfo({
        address: env.address,
        tls: { serverNameOverride: tls.serverName, serverRootCACertificate: ca, clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } },
      }),
    ).resolves.toBeDefined();

    // The env's own client, and a worker, both over mutual TLS.
    expect(await env.client.workflow.execute(ping, { taskQueue, workflowId: 'tls-ping', args: ['tls'] })).toBe('pong: tls');
    expect(env.clientEnv()).toMatchObject({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TLS_CLIENT_CERT_PATH: tls.certPath,
      TEMPORAL_TLS_CLIENT_KEY_PATH: tls.keyPath,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caPath,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
  });
});
