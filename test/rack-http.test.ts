// The rack's HTTP layer without a socket: Hono's app.request() against an in-memory rack.
import { afterEach, describe, expect, it } from 'vitest';
import { type LogLevel, createLogger, parseLogLevel } from '../src/logging';
import { FaultInjector, MAX_BODY_BYTES, type RackDb, createRackApp, defaultRackSeed, listLedger, openRackDb, seedRack } from '../src/rack';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A response body: a resource, a list, or an error. */
interface Body {
  error: { code: string; message: string; class: string; field?: string };
  items: unknown[];
  entries: unknown[];
  total: number;
  id: string;
  [field: string]: unknown;
}

let db: RackDb | undefined;
afterEach(() => db?.close());

/** An in-memory rack's app, and the log lines it writes at `level`. */
function rackApp(options: { level?: LogLevel; onChange?: () => void } = {}) {
  db = openRackDb(':memory:');
  const seed = defaultRackSeed();
  seedRack(db, seed);
  const lines: LogLine[] = [];
  const logger = createLogger('rack', { level: options.level ?? 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  const app = createRackApp({ db, seed, faults: new FaultInjector(1), logger, onChange: options.onChange });
  const call = async (method: string, path: string, init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {}) => {
    const response = await app.request(path, { method, ...init, ...(init.body instanceof ReadableStream && { duplex: 'half' }) } as RequestInit);
    return { status: response.status, headers: response.headers, json: (await response.json()) as Body };
  };
  return { app, call, lines, db };
}

const instance = JSON.stringify({ name: 'web-1', cpus: 2, memoryGiB: 8 });

describe('routes', () => {
  it('serves the fixed routes, mutations and reads from one table', async () => {
    const { call } = rackApp();
    expect(await call('GET', '/v1/health')).toMatchObject({ status: 200, json: { ok: true } });
    const created = await call('POST', '/v1/instances/create', { body: instance, headers: { 'Idempotency-Key': 'r/1' } });
    expect(created).toMatchObject({ status: 200, json: { name: 'web-1', state: 'creating' } });
    expect(created.headers.get('Idempotent-Replayed')).toBeNull();
    const again = await call('POST', '/v1/instances/create', { body: instance, headers: { 'Idempotency-Key': 'r/1' } });
    expect(again.json).toEqual(created.json);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await call('GET', '/v1/instances')).json.items).toEqual([created.json]);
    expect((await call('GET', `/v1/instances/${created.json.id}`)).json).toEqual(created.json);
    expect((await call('GET', '/v1/ledger?key=r/1')).json.entries).toHaveLength(1);
    expect((await call('GET', '/v1/inventory')).json.total).toBe(1);
    expect((await call('GET', '/v1/faults')).json).toMatchObject({ rules: [], scripted: [] });
    // A trailing slash names the same route.
    expect((await call('GET', '/v1/sleds/')).json.items).toHaveLength(8);
  });

  it('answers a route it does not have with 404 no-such-route naming the method and path', async () => {
    const { call } = rackApp();
    for (const [method, path] of [
      ['GET', '/v2/health'],
      ['GET', '/v1'],
      ['DELETE', '/v1/instances'],
      ['POST', '/v1/instances/fly'],
      ['POST', '/v1/nosuch/create'],
      ['POST', '/v1/faults/bogus'],
      ['GET', '/v1/admin/reset'],
      ['GET', '/v1/instances/a/b'],
    ]) {
      const answer = await call(method!, path!, { headers: { 'Idempotency-Key': 'x' } });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json.error, `${method} ${path}`).toMatchObject({ code: 'no-such-route', class: 'refused' });
      expect(answer.json.error.message).toContain(`no route ${method} ${path}:`);
    }
  });

  it('decodes path segments once: an id may hold an encoded slash or percent sign', async () => {
    const { call } = rackApp();
    for (const [encoded, id] of [['a%2Fb', 'a/b'], ['x%2541', 'x%41'], ['sp%20ace', 'sp ace']]) {
      const answer = await call('GET', `/v1/instances/${encoded}`);
      expect(answer).toMatchObject({ status: 404, json: { error: { code: 'not-found', field: 'id' } } });
      expect(answer.json.error.message).toContain(`has id ${id} `);
    }
  });

  it('answers a path segment or query part that does not decode with 400 invalid-url', async () => {
    const { call } = rackApp();
    for (const path of ['/v1/instances/%E0%A4%A', '/v1/%zz', '/v1/instances?name=%']) {
      expect((await call('GET', path)).json.error, path).toMatchObject({ code: 'invalid-url', class: 'refused' });
    }
  });
});

describe('bodies', () => {
  it('refuses a body over the limit with 413 too-large and applies nothing, whether its length is declared or streamed', async () => {
    const { call, db } = rackApp();
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES), cpus: 1, memoryGiB: 1 });
    const declared = await call('POST', '/v1/instances/create', {
      body: big,
      headers: { 'Idempotency-Key': 'big/1', 'content-length': String(Buffer.byteLength(big)) },
    });
    const streamed = await call('POST', '/v1/instances/create', {
      body: new Blob([big]).stream(),
      headers: { 'Idempotency-Key': 'big/2' },
    });
    for (const answer of [declared, streamed]) {
      expect(answer.status).toBe(413);
      expect(answer.json.error).toMatchObject({ code: 'too-large', class: 'refused' });
      expect(answer.json.error.message).toContain(`exceeds ${MAX_BODY_BYTES} bytes`);
    }
    expect(listLedger(db)).toEqual([]);
  });

  it('reads a body of exactly the limit', async () => {
    const { call } = rackApp();
    const body = JSON.stringify({ name: 'web-1', cpus: 2, memoryGiB: 8 }).padEnd(MAX_BODY_BYTES, ' ');
    const answer = await call('POST', '/v1/instances/create', { body: new Blob([body]).stream(), headers: { 'Idempotency-Key': 'edge' } });
    expect(answer).toMatchObject({ status: 200, json: { name: 'web-1' } });
  });

  it('answers malformed JSON with 400 invalid-json, and takes an empty body as {}', async () => {
    const { call, db } = rackApp();
    const bad = await call('POST', '/v1/disks/create', { body: '{"name":', headers: { 'Idempotency-Key': 'j' } });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid-json', class: 'refused' } } });
    expect(bad.json.error.message).toMatch(/not valid JSON .*send a JSON object/);
    expect(listLedger(db)).toEqual([]);
    expect(await call('POST', '/v1/ips/allocate', { headers: { 'Idempotency-Key': 'ip' } })).toMatchObject({ status: 200, json: { allocated: true } });
  });
});

describe('request logs', () => {
  it('writes one line per request; a refusal is one info line with its code and no stack', async () => {
    const { call, lines } = rackApp();
    await call('GET', '/v1/health');
    await call('POST', '/v1/sleds/reserve', {
      body: JSON.stringify({ sledId: 'sled-0', cpus: 1000, memoryGiB: 1 }),
      headers: { 'Idempotency-Key': 'wf/reserve' },
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, name: 'rack', method: 'GET', path: '/v1/health', status: 200, msg: 'GET /v1/health 200' });
    expect(lines[0]!.ms).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ level: 30, status: 409, key: 'wf/reserve', code: 'no-capacity', class: 'refused' });
    expect(lines[1]!.error).toContain('no capacity on sled sled-0');
    expect(lines[1]).not.toHaveProperty('err');
    expect(lines[1]).not.toHaveProperty('requestBody');
  });

  it('logs an injected 5xx as warn, and a bug in the simulator as error with its stack', async () => {
    let fail = false;
    const { call, lines } = rackApp({ onChange: () => { if (fail) throw new Error('invariant broken'); } });
    await call('POST', '/v1/faults/script', { body: JSON.stringify({ operation: 'sleds.list', kind: 'transient' }) });
    expect((await call('GET', '/v1/sleds')).status).toBe(503);
    fail = true;
    const bug = await call('POST', '/v1/instances/create', { body: instance, headers: { 'Idempotency-Key': 'bug' } });
    expect(bug).toMatchObject({ status: 500, json: { error: { code: 'internal-error', class: 'unknown-state' } } });
    expect(lines.map((l) => [l.status, l.level])).toEqual([[200, 30], [503, 40], [500, 50]]);
    expect(lines[1]).toMatchObject({ code: 'unavailable', class: 'transient' });
    expect(lines[1]).not.toHaveProperty('err');
    expect((lines[2]!.err as { stack: string }).stack).toContain('invariant broken');
  });

  it('adds request and response bodies at debug', async () => {
    const { call, lines } = rackApp({ level: 'debug' });
    const created = await call('POST', '/v1/instances/create', { body: instance, headers: { 'Idempotency-Key': 'dbg' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestBody: instance, responseBody: created.json });
  });
});

describe('UNWIND_LOG_LEVEL', () => {
  it('takes a level in any case, defaults to info, and names the variable and the levels for anything else', () => {
    expect(parseLogLevel(undefined)).toBe('info');
    expect(parseLogLevel('WARN')).toBe('warn');
    expect(parseLogLevel(' Debug ')).toBe('debug');
    expect(() => parseLogLevel('loud')).toThrow(/^UNWIND_LOG_LEVEL=loud is not a log level: set it to one of trace, debug, info, warn, error, fatal, silent/);
  });
});
