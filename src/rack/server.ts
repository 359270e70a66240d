/**
 * The simulated rack as an HTTP JSON service (node:http, no framework).
 *
 * Routes:
 * - `POST /v1/<resource>/<verb>`: mutation `<resource>.<verb>`, header `Idempotency-Key` required;
 * - `GET /v1/<resource>` (query parameters filter by field) and `GET /v1/<resource>/<id>`;
 * - `GET /v1/ledger`, `GET /v1/inventory`, `POST /v1/admin/reset`, `GET /v1/health`;
 * - `GET|DELETE /v1/faults`, `POST /v1/faults/rules|script|seed|drives`, `DELETE /v1/faults/drives?ssdId=`.
 *
 * Reads of SSDs and regions (and the inventory) first let the simulated hardware catch up
 * (`settleHardware`): drives come back from resets, regions finish resyncing.
 *
 * Bad input is a 400 naming what is wrong, and changes nothing: a URL that cannot be decoded
 * (`invalid-url`), a query parameter the route does not take or given twice, a body that is not
 * JSON, and a fault for an operation no call is ever decided for (`unknown-operation`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultInjector, unknownFaultOperation } from './faults';
import {
  type ErrorBody,
  type FaultKind,
  type MutationName,
  type RackSeed,
  DriveFault,
  FaultRule,
  FaultSeedInput,
  LedgerFilter,
  ResetInput,
  ScriptedFault,
  isMutationName,
  isResourceName,
  mutations,
} from './schemas';
import {
  RackFailure,
  type RackDb,
  defaultRackSeed,
  getResource,
  inventory,
  isRackEmpty,
  listLedger,
  listResource,
  openRackDb,
  parseInput,
  resetRack,
  runMutation,
  seedRack,
  settleHardware,
} from './store';

/** One change the rack applied (or refused), for {@link RackServerOptions.onChange}. */
export interface RackChange {
  /** The mutation, or `sim.settle` when the simulated hardware caught up. */
  operation: string;
  /** The request's idempotency key (`sim` for the hardware). */
  key: string;
  /** False when the mutation was refused or failed (nothing applied). */
  ok: boolean;
  /** The rack's error code when not ok. */
  code?: string;
}

/** Options of {@link startRackServer}. */
export interface RackServerOptions {
  /** The SQLite file holding rack state; created (and seeded) when missing. */
  dbPath: string;
  /** The TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** The interface to listen on; loopback unless told. */
  host?: string;
  /** The rack to seed a new database with, and to reset to; the default rack unless told. */
  seed?: RackSeed;
  /** The fault PRNG's initial seed. */
  faultSeed?: number;
  /**
   * Called after every mutation (applied or not) and every hardware settlement, with the database
   * in its new state: tests check invariants "after every step" here. Must not write.
   */
  onChange?: (change: RackChange, db: RackDb) => void;
}

/** A running rack server. */
export interface RackServer {
  /** The base URL, e.g. `http://127.0.0.1:7280`. */
  url: string;
  /** The port actually listened on. */
  port: number;
  /** Stops listening, drops open connections and closes the database; safe to call twice. */
  close(): Promise<void>;
}

/** The header carrying a mutation's idempotency key. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** The response header set to `true` when a mutation's result was replayed from an earlier call. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const MAX_BODY_BYTES = 1 << 20;

class HttpResult {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function failure(status: number, code: string, errorClass: RackFailure['errorClass'], message: string, field?: string) {
  return new RackFailure({ status, code, errorClass, message, field });
}

/** The error the caller sees for an injected fault. */
function injectedError(kind: FaultKind, status: number, operation: string): RackFailure {
  switch (kind) {
    case 'transient':
    case 'ambiguous':
      // Both look the same to the caller on purpose: only the ledger tells them apart.
      return failure(status, 'unavailable', 'transient',
        `rack unavailable while handling ${operation}: the outcome is unknown; retry with the same Idempotency-Key`);
    case 'crash':
      return failure(500, 'internal', 'transient',
        `rack failed while handling ${operation}: the outcome is unknown; retry with the same Idempotency-Key`);
    case 'refused':
      return failure(409, 'injected-refusal', 'refused', `${operation} refused (injected fault): the caller should give up and unwind`);
    case 'needs-operator':
      return failure(409, 'injected-needs-operator', 'needs-operator', `${operation} needs an operator (injected fault): pause and notify`);
    case 'unknown-state':
      return failure(409, 'injected-unknown-state', 'unknown-state', `${operation} found the rack in an unexpected state (injected fault): pause and notify`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw failure(413, 'too-large', 'refused', `request body exceeds ${MAX_BODY_BYTES} bytes: send less`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw failure(400, 'invalid-json', 'refused', `request body is not valid JSON (${(error as Error).message}): send a JSON object`);
  }
}

function toErrorBody(error: RackFailure): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      class: error.errorClass,
      ...(error.field !== undefined && { field: error.field }),
      ...(error.issues !== undefined && { issues: error.issues }),
    },
  };
}

/** Starts the rack server; the database is seeded first if it holds no rack yet. */
export async function startRackServer(options: RackServerOptions): Promise<RackServer> {
  const seed = options.seed ?? defaultRackSeed();
  const db: RackDb = openRackDb(options.dbPath);
  if (isRackEmpty(db)) seedRack(db, seed);
  const faults = new FaultInjector(options.faultSeed);

  /** Applies latency and any fault decided for `operation`; throws the fault's error when it fails the call before handling. */
  async function preFault(operation: string) {
    const decision = faults.decide(operation);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.kind !== null && decision.kind !== 'ambiguous' && decision.kind !== 'crash') {
      throw injectedError(decision.kind, decision.status, operation);
    }
    return decision;
  }

  /** Faults of a read: an ambiguous or crashed read just lost its answer, so it fails like a transient one. */
  async function readFault(operation: string) {
    const decision = await preFault(operation);
    if (decision.kind !== null) throw injectedError('transient', decision.status === 409 ? 503 : decision.status, operation);
  }

  /** The simulated hardware catches up before SSDs or regions are observed. */
  function settle() {
    const { returned, resynced } = settleHardware(db, faults);
    if (returned.length + resynced.length > 0) options.onChange?.({ operation: 'sim.settle', key: 'sim', ok: true }, db);
  }

  async function mutate(req: IncomingMessage, operation: MutationName): Promise<HttpResult> {
    const body = await readJson(req);
    const key = req.headers[IDEMPOTENCY_HEADER.toLowerCase()];
    if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
      throw failure(400, 'missing-idempotency-key', 'refused',
        `${operation} needs an ${IDEMPOTENCY_HEADER} header of 1 to 200 characters: name the request, e.g. <workflowId>/<step>`,
        IDEMPOTENCY_HEADER);
    }
    // Validate before deciding faults, so bad input is always a 400 whatever faults are set.
    parseInput(mutations[operation].input, body);
    const decision = await preFault(operation);
    const crash = decision.kind === 'crash'
      ? () => { throw injectedError('crash', 500, operation); }
      : undefined;
    let result;
    try {
      result = runMutation(db, operation, key, body, crash, faults);
    } catch (error) {
      options.onChange?.({ operation, key, ok: false, code: (error as { code?: string }).code ?? 'error' }, db);
      throw error;
    }
    options.onChange?.({ operation, key, ok: true }, db);
    if (decision.kind === 'ambiguous') throw injectedError('ambiguous', decision.status, operation);
    return new HttpResult(200, result.body, result.replayed ? { [REPLAYED_HEADER]: 'true' } : {});
  }

  async function faultRoute(req: IncomingMessage, method: string, sub: string | undefined, query: Query): Promise<HttpResult> {
    if (method === 'GET' && sub === undefined) {
      query.only([]);
      return new HttpResult(200, faults.state());
    }
    if (method === 'DELETE' && sub === undefined) {
      const { operation } = query.only(['operation']);
      if (operation !== undefined) checkFaultOperation(operation, 'query.operation');
      faults.clear(operation);
      return new HttpResult(200, faults.state());
    }
    if (method === 'DELETE' && sub === 'drives') {
      const { ssdId } = query.only(['ssdId'], ['ssdId']);
      faults.clearDrive(ssdId ?? '');
      return new HttpResult(200, faults.state());
    }
    if (method !== 'POST' || !['rules', 'script', 'seed', 'drives'].includes(sub ?? '')) {
      return noRoute(method, `/v1/faults${sub ? `/${sub}` : ''}`);
    }
    query.only([]);
    const body = await readJson(req);
    if (sub === 'rules') {
      const rule = parseInput(FaultRule, body);
      checkFaultOperation(rule.operation, 'operation');
      faults.setRule(rule);
    } else if (sub === 'script') {
      const script = parseInput(ScriptedFault, body);
      checkFaultOperation(script.operation, 'operation');
      faults.script(script);
    } else if (sub === 'seed') faults.setSeed(parseInput(FaultSeedInput, body).seed);
    else faults.setDrive(parseInput(DriveFault, body));
    return new HttpResult(200, faults.state());
  }

  async function route(req: IncomingMessage): Promise<HttpResult> {
    const method = req.method ?? 'GET';
    const { path, segments, query } = parseTarget(req.url ?? '/');
    const [version, first, second, ...rest] = segments;
    if (version !== 'v1' || first === undefined || rest.length > 0) return noRoute(method, path);

    if (first === 'health' && method === 'GET' && second === undefined) {
      query.only([]);
      return new HttpResult(200, { ok: true });
    }
    if (first === 'faults') return faultRoute(req, method, second, query);
    if (first === 'ledger' && method === 'GET' && second === undefined) {
      return new HttpResult(200, { entries: listLedger(db, parseInput(LedgerFilter, query.only(Object.keys(LedgerFilter.shape)), 'query')) });
    }
    if (first === 'inventory' && method === 'GET' && second === undefined) {
      query.only([]);
      settle();
      return new HttpResult(200, inventory(db));
    }
    if (first === 'admin' && second === 'reset' && method === 'POST') {
      query.only([]);
      const input = parseInput(ResetInput, await readJson(req));
      resetRack(db, input.seed ?? seed);
      faults.clear();
      return new HttpResult(200, { ok: true });
    }
    if (isResourceName(first)) {
      if (method === 'POST' && second !== undefined) {
        const operation = `${first}.${second}`;
        if (isMutationName(operation)) {
          query.only([]);
          return mutate(req, operation);
        }
      }
      if (method === 'GET' && second === undefined) {
        // Any field of the resource filters the list; listResource names an unknown one.
        const filter = query.once();
        if (first === 'ssds' || first === 'regions') settle();
        await readFault(`${first}.list`);
        return new HttpResult(200, { items: listResource(db, first, filter) });
      }
      if (method === 'GET' && second !== undefined) {
        query.only([]);
        if (first === 'ssds' || first === 'regions') settle();
        await readFault(`${first}.get`);
        return new HttpResult(200, getResource(db, first, second));
      }
    }
    return noRoute(method, path);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let result: HttpResult;
    try {
      result = await route(req);
    } catch (error) {
      result = errorResult(error);
    }
    res.writeHead(result.status, { 'content-type': 'application/json', ...result.headers });
    res.end(JSON.stringify(result.body));
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  // Closing twice (a test's own close, then its cleanup) must not fail.
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }).finally(() => db.close())),
  };
}

function noRoute(method: string, path: string): never {
  throw failure(404, 'no-such-route', 'refused',
    `no route ${method} ${path}: mutations are POST /v1/<resource>/<verb>, reads GET /v1/<resource>[/<id>]`);
}

/** A 400 for a request target that cannot be read. */
function badUrl(target: string, why: string): RackFailure {
  return failure(400, 'invalid-url', 'refused',
    `malformed URL ${JSON.stringify(target.slice(0, 200))}: ${why}; percent-encode each path segment and query value (encodeURIComponent)`);
}

/** A fault rule or script may only name an operation some call is decided for: otherwise it never fires. */
function checkFaultOperation(operation: string, field: string): void {
  const unknown = unknownFaultOperation(operation);
  if (unknown !== undefined) throw failure(400, 'unknown-operation', 'refused', `${unknown}; a fault on it would never fire`, field);
}

/** The query parameters of one request, checked by the route that handles it. */
interface Query {
  /** Every parameter, each given at most once. */
  once(): Record<string, string>;
  /** As {@link once}, refusing any parameter not in `allowed` and requiring those in `required`. */
  only(allowed: readonly string[], required?: readonly string[]): Record<string, string | undefined>;
}

/**
 * Splits a request target into its path, decoded segments and query, refusing (400) what cannot
 * be decoded: a malformed percent-escape is the caller's mistake, not the rack's.
 */
function parseTarget(target: string): { path: string; segments: string[]; query: Query } {
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const search = mark < 0 ? '' : target.slice(mark + 1);
  if (!path.startsWith('/')) throw badUrl(target, 'the path must start with /');
  const decode = (text: string, what: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw badUrl(target, `${what} ${JSON.stringify(text.slice(0, 100))} holds a broken percent-escape`);
    }
  };
  const segments = path.split('/').filter(Boolean).map((segment) => decode(segment, 'path segment'));
  const pairs = search
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      return [decode(name.replace(/\+/g, ' '), 'query parameter'), decode(value.replace(/\+/g, ' '), 'query value')] as const;
    });
  const invalid = (issues: { field: string; message: string }[]) =>
    new RackFailure({
      status: 400,
      code: 'invalid-request',
      errorClass: 'refused',
      message: `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      field: issues[0]?.field,
      issues,
    });
  const once = () => {
    const seen: Record<string, string> = {};
    const repeated = new Set<string>();
    for (const [name, value] of pairs) {
      if (Object.hasOwn(seen, name)) repeated.add(name);
      seen[name] = value;
    }
    if (repeated.size > 0) {
      throw invalid([...repeated].map((name) => ({ field: `query.${name}`, message: 'given more than once: give it once' })));
    }
    return seen;
  };
  const takes = (allowed: readonly string[]) => (allowed.length === 0 ? 'this route takes no query parameters' : `this route takes ${allowed.join(', ')}`);
  return {
    path,
    segments,
    query: {
      once,
      only(allowed, required = []) {
        const params = once();
        const issues = [
          ...Object.keys(params)
            .filter((name) => !allowed.includes(name))
            .map((name) => ({ field: `query.${name}`, message: `unknown query parameter: ${takes(allowed)}` })),
          ...required.filter((name) => !params[name]).map((name) => ({ field: `query.${name}`, message: 'required: give it' })),
        ];
        if (issues.length > 0) throw invalid(issues);
        return params;
      },
    },
  };
}

function errorResult(error: unknown): HttpResult {
  if (error instanceof RackFailure) return new HttpResult(error.status, toErrorBody(error));
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY') {
    return new HttpResult(503, toErrorBody(failure(503, 'busy', 'transient', 'the rack database is busy: retry with the same Idempotency-Key')));
  }
  // A bug in the simulator: nothing was committed (the transaction rolled back), but do not
  // let a caller retry a bug forever; make a person look.
  const message = error instanceof Error ? error.message : String(error);
  return new HttpResult(500, toErrorBody(failure(500, 'internal-error', 'unknown-state', `rack simulator error: ${message}; report it with the request`)));
}
