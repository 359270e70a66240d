/**
 * The simulated rack as an HTTP JSON service: the Hono app of src/rack/http/app.ts (routes,
 * body limit, faults, request logs) served over node:http by @hono/node-server.
 *
 * Routes:
 * - `POST /v1/<resource>/<verb>`: mutation `<resource>.<verb>`, header `Idempotency-Key` required;
 * - `GET /v1/<resource>` (query parameters filter by field) and `GET /v1/<resource>/<id>`;
 * - `GET /v1/ledger`, `GET /v1/inventory`, `POST /v1/admin/reset`, `GET /v1/health`;
 * - `GET|DELETE /v1/faults`, `POST /v1/faults/rules|script|seed|drives`, `DELETE /v1/faults/drives?ssdId=`.
 */
import { RequestError, getRequestListener } from '@hono/node-server';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging';
import { FaultInjector } from './faults';
import { type RackChange, createRackApp } from './http/app';
import { asRackFailure, errorBody, failure } from './http/failures';
import type { RackSeed } from './schemas';
import { type RackDb, defaultRackSeed, isRackEmpty, openRackDb, seedRack } from './store';

export { type RackChange, type RackAppOptions, MAX_BODY_BYTES, createRackApp } from './http/app';
export { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from './http/env';

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
  /**
   * Where request logs go (one line per request, src/rack/http/request-log.ts). None unless
   * given: the rack process (src/rack/main.ts) passes `createLogger('rack')`, tests stay quiet.
   */
  logger?: Logger;
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

/** Starts the rack server; the database is seeded first if it holds no rack yet. */
export async function startRackServer(options: RackServerOptions): Promise<RackServer> {
  const seed = options.seed ?? defaultRackSeed();
  const db: RackDb = openRackDb(options.dbPath);
  if (isRackEmpty(db)) seedRack(db, seed);
  const app = createRackApp({ db, seed, faults: new FaultInjector(options.faultSeed), onChange: options.onChange, logger: options.logger });
  const listener = getRequestListener(app.fetch, {
    // A target the adapter cannot turn into a URL never reaches the app: answer it the app's way.
    errorHandler: (error) => {
      const refusal = error instanceof RequestError
        ? failure(400, 'invalid-url', 'refused', `unreadable request (${error.message}): send a path starting with /v1/ and a Host header`)
        : asRackFailure(error);
      options.logger?.info({ status: refusal.status, code: refusal.code, error: refusal.message }, 'unreadable request');
      return Response.json(errorBody(refusal), { status: refusal.status });
    },
  });
  const server = createServer((req, res) => void listener(req, res));
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
