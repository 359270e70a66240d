/**
 * `unwind list`'s own ListWorkflowExecutions call (src/client/visibility-wire.ts), held to the
 * SDK's protobuf definitions: the request it encodes decodes as Temporal's, and a response
 * Temporal's definitions encode (every field set, most of them skipped) reads as the client reads
 * it. Then over a real gRPC server with mutual TLS: the server name, the client's certificate,
 * the API key and the profile's headers arrive, pages follow their tokens — in-process and
 * through the CLI with its flags and variables.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from '../src/schemas/search-attributes';
import { collectSagas, summarize } from '../src/client/visibility';
import { decodeListResponse, encodeListRequest, openVisibility } from '../src/client/visibility-wire';
import { runUnwind } from './cli-helpers';

const { ListWorkflowExecutionsRequest, ListWorkflowExecutionsResponse } = temporal.api.workflowservice.v1;
const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/** A search attribute as the server sends it: JSON, its type in the metadata. */
function attribute(value: string, type: string): temporal.api.common.v1.IPayload {
  const payload = defaultPayloadConverter.toPayload(value);
  return { ...payload, metadata: { ...payload.metadata, type: Buffer.from(type) } };
}

const seconds = (iso: string) => ({ seconds: Long.fromNumber(Date.parse(iso) / 1000), nanos: 250_000_000 });

/** A WorkflowExecutionInfo as the server sends it: the fields a row reads, and others it skips. */
function execution(id: string, state: string, status: temporal.api.enums.v1.WorkflowExecutionStatus): temporal.api.workflow.v1.IWorkflowExecutionInfo {
  return {
    execution: { workflowId: id, runId: `run-of-${id}` },
    type: { name: 'diskCreate' },
    startTime: seconds('2026-11-28T10:00:00Z'),
    closeTime: status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING ? null : seconds('2026-11-28T10:05:00Z'),
    status,
    historyLength: Long.fromNumber(42),
    parentExecution: { workflowId: 'parent', runId: 'p' },
    executionTime: seconds('2026-11-28T10:00:00Z'),
    memo: { fields: { unwindOutcome: defaultPayloadConverter.toPayload({ undone: 3, skipped: [] }) } },
    searchAttributes: {
      indexedFields: {
        [UnwindSaga.name]: attribute('diskCreate', 'Keyword'),
        [UnwindState.name]: attribute(state, 'Keyword'),
        [UnwindStep.name]: attribute('ensure-region[1]', 'Keyword'),
        [UnwindProgressAt.name]: attribute('2026-11-28T10:04:00Z', 'Datetime'),
      },
    },
    taskQueue: 'unwind',
    stateTransitionCount: Long.fromNumber(9),
    executionDuration: { seconds: Long.fromNumber(300) },
    rootExecution: { workflowId: id, runId: 'root' },
  };
}

describe('the codec, against the SDK definitions', () => {
  it('encodes the request as Temporal decodes it', () => {
    const decoded = ListWorkflowExecutionsRequest.decode(
      encodeListRequest({ namespace: 'ns.acct', query: "UnwindSaga IS NOT NULL AND UnwindState = 'stuck'", pageSize: 250, nextPageToken: Buffer.from('token-2') }),
    );
    expect(decoded.namespace).toBe('ns.acct');
    expect(decoded.query).toBe("UnwindSaga IS NOT NULL AND UnwindState = 'stuck'");
    expect(decoded.pageSize).toBe(250);
    expect(Buffer.from(decoded.nextPageToken).toString()).toBe('token-2');
    expect(ListWorkflowExecutionsRequest.decode(encodeListRequest({ namespace: 'default', query: 'q', pageSize: 1 })).nextPageToken).toHaveLength(0);
  });

  it('reads a response as the client reads the SDK-decoded one, whatever else it carries', () => {
    const executions = [
      execution('disk-create/a', 'stuck', WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING),
      execution('disk-create/b', 'running', WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED),
      execution('disk-create/c', 'unwound', WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED),
      { ...execution('disk-create/d', 'stuck', WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED), searchAttributes: null },
    ];
    const bytes = ListWorkflowExecutionsResponse.encode({ executions, nextPageToken: Buffer.from('next') }).finish();
    const ours = decodeListResponse(bytes);
    const sdk = ListWorkflowExecutionsResponse.decode(bytes);
    expect(ours.executions.map(summarize)).toEqual(sdk.executions.map(summarize));
    expect(Buffer.from(ours.nextPageToken!).toString()).toBe('next');
    expect(ours.executions.map(summarize)).toEqual([
      {
        workflowId: 'disk-create/a',
        runId: 'run-of-disk-create/a',
        saga: 'diskCreate',
        state: 'stuck',
        step: 'ensure-region[1]',
        startTime: '2026-11-28T10:00:00.250Z',
        progressAt: '2026-11-28T10:04:00.000Z',
        closeTime: null,
        status: 'running',
      },
      expect.objectContaining({ workflowId: 'disk-create/b', state: 'failed', status: 'terminated', closeTime: '2026-11-28T10:05:00.250Z' }),
      expect.objectContaining({ workflowId: 'disk-create/c', state: 'unwound', status: 'completed' }),
      expect.objectContaining({ workflowId: 'disk-create/d', saga: 'diskCreate', state: null, step: null, progressAt: null, status: 'cancelled' }),
    ]);
  });
});

/** A self-signed certificate for `name`, made by openssl: the server's, and the client's. */
function certificate(dir: string, name: string): { cert: Buffer; key: Buffer; certPath: string; keyPath: string } {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', keyPath, '-out', certPath], {
    stdio: 'ignore',
  });
  return { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath, keyPath };
}

describe('over gRPC with mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unwind-wire-'));
  const serverCert = certificate(dir, 'temporal.test');
  const clientCert = certificate(dir, 'operator.test');
  const calls: { request: temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest; metadata: Record<string, unknown> }[] = [];
  const server = new Server();
  let address = '';

  beforeAll(async () => {
    // Three sagas, served two to a page.
    const all = ['a', 'b', 'c'].map((id) => execution(`disk-create/${id}`, 'stuck', WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING));
    server.addService(
      {
        ListWorkflowExecutions: {
          path: '/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions',
          requestStream: false,
          responseStream: false,
          requestDeserialize: (bytes: Buffer) => ListWorkflowExecutionsRequest.decode(bytes),
          requestSerialize: (r: temporal.api.workflowservice.v1.IListWorkflowExecutionsRequest) => Buffer.from(ListWorkflowExecutionsRequest.encode(r).finish()),
          responseSerialize: (r: temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse) => Buffer.from(ListWorkflowExecutionsResponse.encode(r).finish()),
          responseDeserialize: (bytes: Buffer) => ListWorkflowExecutionsResponse.decode(bytes),
        },
      },
      {
        ListWorkflowExecutions: (
          call: ServerUnaryCall<temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest, unknown>,
          reply: sendUnaryData<temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse>,
        ) => {
          calls.push({ request: call.request, metadata: call.metadata.getMap() });
          const from = call.request.nextPageToken.length ? Number(Buffer.from(call.request.nextPageToken).toString()) : 0;
          const to = Math.min(from + Math.min(call.request.pageSize, 2), all.length);
          reply(null, { executions: all.slice(from, to), nextPageToken: to < all.length ? Buffer.from(String(to)) : null });
        },
      },
    );
    const credentials = ServerCredentials.createSsl(clientCert.cert, [{ cert_chain: serverCert.cert, private_key: serverCert.key }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const tls = () => ({ serverNameOverride: 'temporal.test', serverRootCACertificate: serverCert.cert, clientCertPair: { crt: clientCert.cert, key: clientCert.key } });

  it('sends the namespace, the API key and the headers, and follows the page tokens', async () => {
    calls.length = 0;
    const connection = openVisibility({ address, tls: tls(), apiKey: 'secret-key', metadata: { 'x-tenant': 'rack-7' } }, 'ns.acct');
    try {
      const rows = await collectSagas(connection.fetchPage, "UnwindState = 'stuck'", 100);
      expect(rows.map((r) => r.workflowId)).toEqual(['disk-create/a', 'disk-create/b', 'disk-create/c']);
      expect(calls.map((c) => [c.request.namespace, c.request.query, c.request.pageSize])).toEqual([
        ['ns.acct', "UnwindState = 'stuck'", 100],
        ['ns.acct', "UnwindState = 'stuck'", 98],
      ]);
      expect(calls[0]!.metadata).toMatchObject({ authorization: 'Bearer secret-key', 'x-tenant': 'rack-7', 'temporal-namespace': 'ns.acct' });
      // A limit stops the paging: the rows asked for, no more pages.
      calls.length = 0;
      expect(await collectSagas(connection.fetchPage, 'q', 1)).toHaveLength(1);
      expect(calls).toHaveLength(1);
    } finally {
      connection.close();
    }
  });

  it('refuses a server whose name does not match, and a client without a certificate', async () => {
    const wrongName = openVisibility({ address, tls: { ...tls(), serverNameOverride: 'other.test' } }, 'default', 5_000);
    await expect(wrongName.fetchPage({ query: 'q', pageSize: 1 })).rejects.toMatchObject({ code: 14 });
    wrongName.close();
    const noClientCert = openVisibility({ address, tls: { serverNameOverride: 'temporal.test', serverRootCACertificate: serverCert.cert } }, 'default', 5_000);
    await expect(noClientCert.fetchPage({ query: 'q', pageSize: 1 })).rejects.toMatchObject({ code: 14 });
    noClientCert.close();
  });

  it('is what `unwind list` uses, with the TLS flags, the API key and the headers from the environment', async () => {
    calls.length = 0;
    const run = await runUnwind(
      ['--address', address, '--namespace', 'ns.acct', '--tls-ca', serverCert.certPath, '--tls-server-name', 'temporal.test', '--tls-cert', clientCert.certPath, '--tls-key', clientCert.keyPath, 'list', '--state', 'stuck', '--json'],
      { TEMPORAL_API_KEY: 'env-key', TEMPORAL_GRPC_META_X_TENANT: 'rack-9' },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { workflowId: string; state: string }[]).map((r) => [r.workflowId, r.state])).toEqual([
      ['disk-create/a', 'stuck'],
      ['disk-create/b', 'stuck'],
      ['disk-create/c', 'stuck'],
    ]);
    expect(calls[0]!.request.query).toBe("UnwindSaga IS NOT NULL AND UnwindState = 'stuck' AND ExecutionStatus = 'Running'");
    expect(calls[0]!.metadata).toMatchObject({ authorization: 'Bearer env-key', 'x-tenant': 'rack-9', 'temporal-namespace': 'ns.acct' });
  });
});
