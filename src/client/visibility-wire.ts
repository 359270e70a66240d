/**
 * Temporal's ListWorkflowExecutions over gRPC without the SDK: what `unwind list` loads instead
 * of Temporal's client, whose protobuf definitions (every message of Temporal's API) take longer
 * to load than the whole command may. The request is encoded and the response decoded with
 * protobufjs's reader and writer, for the fields visibility.ts reads (field numbers from
 * temporal/api/workflowservice/v1/request_response.proto and the messages it names); every
 * other field is skipped. test/visibility-wire.test.ts holds the codec to the SDK's definitions.
 *
 * The connection is the client's (src/temporal/connection.ts resolves it): TLS with the same
 * files and server name, the API key as a bearer token, the gRPC headers of the profile.
 */
import { type ChannelOptions, Client, Metadata, credentials } from '@grpc/grpc-js';
import { Reader, Writer } from 'protobufjs/minimal';
import type { SdkConnectOptions } from '../temporal/connection';
import type { FetchVisibilityPage, VisibilityPage, WireExecutionInfo, WirePayload, WireTimestamp } from './visibility';

const LIST_WORKFLOW_EXECUTIONS = '/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions';

/** A visibility connection: pages of ListWorkflowExecutions, and `close()`. */
export interface VisibilityConnection {
  fetchPage: FetchVisibilityPage;
  close(): void;
}

/**
 * Opens a channel to the cluster `options` name (nothing is sent until a page is fetched).
 * @param deadlineMs how long one page may take, connecting included: the SDK's connect timeout.
 */
export function openVisibility(options: SdkConnectOptions, namespace: string, deadlineMs = 10_000): VisibilityConnection {
  const channelOptions: ChannelOptions = { 'grpc.max_receive_message_length': 128 * 1024 * 1024 };
  let channelCredentials = credentials.createInsecure();
  if (options.tls) {
    const { serverRootCACertificate, clientCertPair, serverNameOverride } = options.tls;
    channelCredentials = credentials.createSsl(serverRootCACertificate ?? null, clientCertPair?.key ?? null, clientCertPair?.crt ?? null);
    if (serverNameOverride !== undefined) {
      channelOptions['grpc.ssl_target_name_override'] = serverNameOverride;
      channelOptions['grpc.default_authority'] = serverNameOverride;
    }
  }
  const client = new Client(options.address, channelCredentials, channelOptions);
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(options.metadata ?? {})) metadata.set(name, value);
  metadata.set('temporal-namespace', namespace);
  if (options.apiKey !== undefined) metadata.set('authorization', `Bearer ${options.apiKey}`);

  const fetchPage: FetchVisibilityPage = (request) =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        LIST_WORKFLOW_EXECUTIONS,
        (r: typeof request) => encodeListRequest({ namespace, ...r }),
        decodeListResponse,
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error, page) => (error ? reject(error) : resolve(page!)),
      );
    });
  return { fetchPage, close: () => client.close() };
}

/** `ListWorkflowExecutionsRequest`: namespace = 1, page_size = 2, next_page_token = 3, query = 4. */
export function encodeListRequest(request: { namespace: string; query: string; pageSize: number; nextPageToken?: Uint8Array }): Buffer {
  const w = Writer.create();
  w.uint32(tag(1, LEN)).string(request.namespace);
  w.uint32(tag(2, VARINT)).int32(request.pageSize);
  if (request.nextPageToken?.length) w.uint32(tag(3, LEN)).bytes(request.nextPageToken);
  w.uint32(tag(4, LEN)).string(request.query);
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `ListWorkflowExecutionsResponse`: executions = 1 (repeated), next_page_token = 2. */
export function decodeListResponse(bytes: Uint8Array): VisibilityPage {
  const r = Reader.create(bytes);
  const page: VisibilityPage = { executions: [] };
  readFields(r, bytes.length, (field, wire) => {
    if (field === 1 && wire === LEN) page.executions.push(executionInfo(r));
    else if (field === 2 && wire === LEN) page.nextPageToken = r.bytes();
    else return false;
    return true;
  });
  return page;
}

const VARINT = 0;
const LEN = 2;

function tag(field: number, wire: number): number {
  return (field << 3) | wire;
}

/**
 * Reads `length` bytes of fields from `r`: `read` consumes a field it knows and returns true,
 * or returns false and the field is skipped (as every decoder skips fields it does not know).
 */
function readFields(r: Reader, length: number, read: (field: number, wire: number) => boolean): void {
  const end = r.pos + length;
  while (r.pos < end) {
    const t = r.uint32();
    if (!read(t >>> 3, t & 7)) r.skipType(t & 7);
  }
}

/** A length-delimited field's message, read by `read`. */
function message<T extends object>(r: Reader, into: T, read: (into: T, field: number, wire: number) => boolean): T {
  readFields(r, r.uint32(), (field, wire) => read(into, field, wire));
  return into;
}

/** `WorkflowExecutionInfo`: execution = 1, type = 2, start_time = 3, close_time = 4, status = 5, search_attributes = 11. */
function executionInfo(r: Reader): WireExecutionInfo {
  return message(r, {} as WireExecutionInfo, (info, field, wire) => {
    if (wire === VARINT && field === 5) info.status = r.int32();
    else if (wire !== LEN) return false;
    else if (field === 1) info.execution = message(r, {} as { workflowId?: string; runId?: string }, (e, f, w) => strings(r, e, f, w, { 1: 'workflowId', 2: 'runId' }));
    else if (field === 2) info.type = message(r, {} as { name?: string }, (t, f, w) => strings(r, t, f, w, { 1: 'name' }));
    else if (field === 3) info.startTime = timestamp(r);
    else if (field === 4) info.closeTime = timestamp(r);
    else if (field === 11) info.searchAttributes = { indexedFields: message(r, {} as Record<string, WirePayload>, (fields, f, w) => mapEntry(r, fields, f, w, payload)) };
    else return false;
    return true;
  });
}

/** String fields by number into `into`. */
function strings<T extends object>(r: Reader, into: T, field: number, wire: number, names: Record<number, keyof T>): boolean {
  const name = names[field];
  if (name === undefined || wire !== LEN) return false;
  (into as Record<keyof T, string>)[name] = r.string();
  return true;
}

/** `google.protobuf.Timestamp`: seconds = 1, nanos = 2. */
function timestamp(r: Reader): WireTimestamp {
  return message(r, {} as WireTimestamp, (t, field, wire) => {
    if (wire !== VARINT) return false;
    if (field === 1) t.seconds = r.int64();
    else if (field === 2) t.nanos = r.int32();
    else return false;
    return true;
  });
}

/** `Payload`: metadata = 1 (map<string, bytes>), data = 2. */
function payload(r: Reader): WirePayload {
  return message(r, { metadata: {} } as WirePayload & { metadata: Record<string, Uint8Array> }, (p, field, wire) => {
    if (field === 2 && wire === LEN) {
      p.data = r.bytes();
      return true;
    }
    return mapEntry(r, p.metadata, field, wire, (reader) => reader.bytes());
  });
}

/**
 * A map field: each entry is a message of key = 1 and value = 2. Called for the map's own
 * field number 1 (`indexed_fields`, `metadata`): reads one entry into `into`.
 */
function mapEntry<V>(r: Reader, into: Record<string, V>, field: number, wire: number, value: (r: Reader) => V): boolean {
  if (field !== 1 || wire !== LEN) return false;
  let key = '';
  let entry: V | undefined;
  readFields(r, r.uint32(), (f, w) => {
    if (f === 1 && w === LEN) key = r.string();
    else if (f === 2 && w === LEN) entry = value(r);
    else return false;
    return true;
  });
  if (entry !== undefined) into[key] = entry;
  return true;
}
