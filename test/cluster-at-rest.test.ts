// The cluster as a deployment runs it: mutual TLS on the frontend, every payload encrypted. The
// worker process and the unwind client reach it through the standard TEMPORAL_* settings
// (envconfig) and share the key file; PostgreSQL's rows then hold no plaintext of a saga's
// input — while a payload written without the codec is found there, so the scan can fail.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnwindClient, SagaUnwoundError, type UnwindClient } from '../src/client';
import { newKeyFile } from '../src/temporal/codec';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { createClusterEnv, spawnWorkerProcess, startTestRack, type ClusterEnv, type ManagedProcess, type TestRack } from '../src/testing';

const APPROVER = 'approver-7c1e9d0b';
const TECHNICIAN = 'technician-52a4ff31';
const CONTROL = 'control-plaintext-90d1';

/** Every table and text or binary column of a database, each row's value searched for `needle`. */
async function rowsContaining(env: ClusterEnv, database: string, needle: string): Promise<string[]> {
  const db = new pg.Client({ ...env.database, database });
  await db.connect();
  try {
    const columns = await db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('bytea', 'text', 'character varying', 'jsonb', 'json')`,
    );
    const hits: string[] = [];
    for (const { table_name: table, column_name: column } of columns.rows) {
      const rows = await db.query<{ value: Buffer | string | object | null }>(`SELECT "${column}" AS value FROM "${table}"`);
      for (const { value } of rows.rows) {
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value ?? ''));
        if (bytes.includes(needle)) hits.push(`${table}.${column}`);
      }
    }
    return hits;
  } finally {
    await db.end();
  }
}

describe('a cluster with mutual TLS and encrypted payloads', () => {
  let env: ClusterEnv;
  let rack: TestRack;
  let worker: ManagedProcess;
  let client: UnwindClient;
  let keyEnv: Record<string, string>;

  beforeAll(async () => {
    env = await createClusterEnv({ tls: true });
    const keyFile = join(env.dataDir, 'encryption-keys.json');
    newKeyFile(keyFile);
    keyEnv = { UNWIND_ENCRYPTION_KEY_FILE: keyFile };
    rack = await startTestRack();
    worker = spawnWorkerProcess({
      env: { ...env.clientEnv(), ...keyEnv, UNWIND_RACK_URL: rack.server.url, UNWIND_LOG_LEVEL: 'ERROR' },
      log: join(env.dataDir, 'logs', 'worker.log'),
    });
    client = await createUnwindClient({ env: { ...env.clientEnv(), ...keyEnv } });
  });

  afterAll(async () => {
    await client?.close();
    await worker?.stop();
    await rack?.stop();
    await env?.stop();
  });

  it('runs a saga over mTLS, and the history in PostgreSQL holds no plaintext of its input', async () => {
    const handle = await client.sleds.replace({ sledId: 'sled-0', approvers: [APPROVER], technicians: [TECHNICIAN], requestId: 'at-rest' });
    // The unwind client decodes what the worker encrypted.
    await expect.poll(async () => (await handle.describe()).state, { timeout: 60_000, interval: 250 }).toBe('awaiting-approval');
    expect((await handle.status()).pendingApproval?.approvers).toEqual([APPROVER]);
    await handle.reject({ approver: APPROVER, comment: `not now, ${TECHNICIAN}` });
    await expect(handle.result()).rejects.toBeInstanceOf(SagaUnwoundError);

    // Control: a workflow started without the codec leaves its input readable in the same rows.
    await env.client.workflow.start('ping', { taskQueue: TASK_QUEUE, workflowId: 'plaintext-control', args: [CONTROL] });
    // Its result the worker encrypted: only a client with the keys reads it.
    expect(await client.temporal.workflow.getHandle('plaintext-control').result()).toBe(`pong: ${CONTROL}`);
    expect(await rowsContaining(env, 'temporal', CONTROL)).toContain('history_node.data');
    // The workflow id is not a payload: it is kept as it is, so the scan sees the saga's rows.
    expect((await rowsContaining(env, 'temporal', 'sled-replace/sled-0/at-rest')).length).toBeGreaterThan(0);

    for (const secret of [APPROVER, TECHNICIAN, '"approvers"', 'not now']) {
      expect(await rowsContaining(env, 'temporal', secret), `rows of temporal holding ${secret}`).toEqual([]);
      expect(await rowsContaining(env, 'temporal_visibility', secret), `rows of temporal_visibility holding ${secret}`).toEqual([]);
    }
  });

  it('refuses the unwind client that has no client certificate', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...serverOnly } = env.clientEnv();
    const attempt = async () => {
      const bare = await createUnwindClient({ env: { ...serverOnly, ...keyEnv } });
      try {
        await bare.sagas.list({ limit: 1 });
      } finally {
        await bare.close();
      }
    };
    await expect(attempt()).rejects.toThrow();
  });
});
