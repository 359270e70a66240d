/**
 * The simulated rack's HTTP API as a Hono app: the route table, the body limit, fault injection
 * around each call, and one log line per request. No socket here: src/rack/server.ts serves the
 * app over node:http, and tests call `app.request()` directly.
 *
 * Reads of SSDs and regions (and the inventory) first let the simulated hardware catch up
 * (`settleHardware`): drives come back from resets, regions finish resyncing.
 *
 * Bad input is a 400 naming what is wrong, and changes nothing: a URL that cannot be decoded
 * (`invalid-url`), a query parameter the route does not take or given twice, a body that is not
 * JSON, and a fault for an operation no call is ever decided for (`unknown-operation`). A body
 * over {@link MAX_BODY_BYTES} is a 413 `too-large`.
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { type Logger, silentLogger } from '../../logging';
import { type FaultInjector, unknownFaultOperation } from '../faults';
import {
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
} from '../schemas';
import {
  type RackDb,
  RackFailure,
  getResource,
  inventory,
  listLedger,
  listResource,
  parseInput,
  resetRack,
  runMutation,
  settleHardware,
} from '../store';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER, type RackHttpEnv } from './env';
import { asRackFailure, errorBody, failure, injectedError, noRoute } from './failures';
import { requestLog } from './request-log';
import { parseTarget } from './target';

/** The largest request body the rack reads; a larger one is refused with 413 `too-large`. */
export const MAX_BODY_BYTES = 1 << 20;

/** One change the rack applied (or refused), for {@link RackAppOptions.onChange}. */
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

/** What {@link createRackApp} serves. */
export interface RackAppOptions {
  /** The rack's state, open and seeded. */
  db: RackDb;
  /** The rack `POST /v1/admin/reset` restores unless its body names another. */
  seed: RackSeed;
  /** Fault injection (src/rack/faults.ts), also the simulated drives' faults. */
  faults: FaultInjector;
  /** Called after every mutation and hardware settlement, with the database in its new state. Must not write. */
  onChange?: (change: RackChange, db: RackDb) => void;
  /** Where request logs go; nowhere unless given. */
  logger?: Logger;
}

type RackContext = Context<RackHttpEnv>;

/** A 200 with a JSON body (kept for debug logs). */
function answer(c: RackContext, body: object, headers?: Record<string, string>) {
  c.set('responseBody', body);
  return c.json(body, 200, headers);
}

/** The answer to a thrown error (kept for the log line). */
function answerFailure(c: RackContext, error: unknown) {
  const rackFailure = asRackFailure(error);
  c.set('failure', rackFailure);
  if (!(error instanceof RackFailure) && rackFailure.status === 500) c.set('cause', error);
  const body = errorBody(rackFailure);
  c.set('responseBody', body);
  return c.json(body, rackFailure.status as ContentfulStatusCode);
}

/** The body as JSON: an empty body is `{}`. */
async function readJson(c: RackContext): Promise<unknown> {
  const text = (await c.req.text()).trim();
  c.set('requestBody', text);
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw failure(400, 'invalid-json', 'refused', `request body is not valid JSON (${(error as Error).message}): send a JSON object`);
  }
}

/** Refuses any query parameter: the route takes none. */
function noQuery(c: RackContext): void {
  c.get('query').only([]);
}

/** A fault rule or script may only name an operation some call is decided for: otherwise it never fires. */
function checkFaultOperation(operation: string, field: string): void {
  const unknown = unknownFaultOperation(operation);
  if (unknown !== undefined) throw failure(400, 'unknown-operation', 'refused', `${unknown}; a fault on it would never fire`, field);
}

/**
 * Refuses a body over {@link MAX_BODY_BYTES} with 413. A declared length is checked as it is
 * declared, and only a streamed (chunked) body goes through Hono's counting `bodyLimit`: that one
 * reads the request as a web stream, which costs every request a good part of its CPU time.
 */
function limitBody(): MiddlewareHandler<RackHttpEnv> {
  const tooLarge = () => failure(413, 'too-large', 'refused', `request body exceeds ${MAX_BODY_BYTES} bytes: send less`);
  const counted = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw tooLarge(); } });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    if (Number(declared) > MAX_BODY_BYTES) throw tooLarge();
    return next();
  };
}

/** SSDs and regions change by themselves (resets, resyncs): reading them lets the hardware catch up first. */
function observesHardware(resource: string): boolean {
  return resource === 'ssds' || resource === 'regions';
}

/** The rack's HTTP API over `options.db`. */
export function createRackApp(options: RackAppOptions): Hono<RackHttpEnv> {
  const { db, faults } = options;

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
    if (returned.length + resynced.length === 0) return;
    options.onChange?.({ operation: 'sim.settle', key: 'sim', ok: true }, db);
    options.logger?.debug({ returned, resynced }, 'simulated hardware settled');
  }

  async function mutate(c: RackContext, operation: MutationName) {
    const body = await readJson(c);
    const key = c.req.header(IDEMPOTENCY_HEADER);
    if (key === undefined || key.length === 0 || key.length > 200) {
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
    return answer(c, result.body, result.replayed ? { [REPLAYED_HEADER]: 'true' } : undefined);
  }

  /** A `POST /v1/faults/…` route: no query, a body of `schema`, applied; answers the fault state. */
  function faultSetting<S extends z.ZodType>(schema: S, apply: (input: z.infer<S>) => void) {
    return async (c: RackContext) => {
      noQuery(c);
      apply(parseInput(schema, await readJson(c)));
      return answer(c, faults.state());
    };
  }

  /** The resource a `/v1/:resource…` route names, or a 404 when it names none. */
  function resourceOf(c: RackContext) {
    const resource = c.req.param('resource') ?? '';
    if (!isResourceName(resource)) throw noRoute(c.req.method, c.get('path'));
    return resource;
  }

  const app = new Hono<RackHttpEnv>({ strict: false });
  app.use(requestLog(options.logger ?? silentLogger()));
  app.use(async (c, next) => {
    const url = c.req.url;
    const { path, query } = parseTarget(url.slice(url.indexOf('/', url.indexOf('//') + 2)));
    c.set('path', path);
    c.set('query', query);
    await next();
  });
  app.use(limitBody());

  app.get('/v1/health', (c) => {
    noQuery(c);
    return answer(c, { ok: true });
  });
  app.get('/v1/ledger', (c) =>
    answer(c, { entries: listLedger(db, parseInput(LedgerFilter, c.get('query').only(Object.keys(LedgerFilter.shape)), 'query')) }));
  app.get('/v1/inventory', (c) => {
    noQuery(c);
    settle();
    return answer(c, inventory(db));
  });
  app.post('/v1/admin/reset', async (c) => {
    noQuery(c);
    const input = parseInput(ResetInput, await readJson(c));
    resetRack(db, input.seed ?? options.seed);
    faults.clear();
    return answer(c, { ok: true });
  });

  app.get('/v1/faults', (c) => {
    noQuery(c);
    return answer(c, faults.state());
  });
  app.delete('/v1/faults', (c) => {
    const { operation } = c.get('query').only(['operation']);
    if (operation !== undefined) checkFaultOperation(operation, 'query.operation');
    faults.clear(operation);
    return answer(c, faults.state());
  });
  app.post('/v1/faults/rules', faultSetting(FaultRule, (rule) => {
    checkFaultOperation(rule.operation, 'operation');
    faults.setRule(rule);
  }));
  app.post('/v1/faults/script', faultSetting(ScriptedFault, (script) => {
    checkFaultOperation(script.operation, 'operation');
    faults.script(script);
  }));
  app.post('/v1/faults/seed', faultSetting(FaultSeedInput, ({ seed }) => faults.setSeed(seed)));
  app.post('/v1/faults/drives', faultSetting(DriveFault, (drive) => faults.setDrive(drive)));
  app.delete('/v1/faults/drives', (c) => {
    const { ssdId } = c.get('query').only(['ssdId'], ['ssdId']);
    faults.clearDrive(ssdId ?? '');
    return answer(c, faults.state());
  });

  // Mutations and reads of every resource, after the fixed routes above (first match wins).
  app.post('/v1/:resource/:verb', (c) => {
    const operation = `${resourceOf(c)}.${c.req.param('verb')}`;
    if (!isMutationName(operation)) throw noRoute(c.req.method, c.get('path'));
    noQuery(c);
    return mutate(c, operation);
  });
  app.get('/v1/:resource', async (c) => {
    const resource = resourceOf(c);
    // Any field of the resource filters the list; listResource names an unknown one.
    const filter = c.get('query').once();
    if (observesHardware(resource)) settle();
    await readFault(`${resource}.list`);
    return answer(c, { items: listResource(db, resource, filter) });
  });
  app.get('/v1/:resource/:id', async (c) => {
    const resource = resourceOf(c);
    noQuery(c);
    if (observesHardware(resource)) settle();
    await readFault(`${resource}.get`);
    return answer(c, getResource(db, resource, c.req.param('id')));
  });

  app.notFound((c) => answerFailure(c, noRoute(c.req.method, c.get('path') ?? new URL(c.req.url).pathname)));
  app.onError((error, c) => answerFailure(c, error));
  return app;
}
