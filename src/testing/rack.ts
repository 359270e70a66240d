/**
 * A real rack server for tests: a SQLite file in a fresh temp dir, real HTTP over loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RackClient, type RackSeed, type RackServer, createRackClient, startRackServer } from '../rack';

/** A started rack with its client; `restart()` closes it and starts again on the same file. */
export interface TestRack {
  server: RackServer;
  rack: RackClient;
  dbPath: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a rack on a new database file, seeded with `seed` (the default rack unless told). */
export async function startTestRack(options: { seed?: RackSeed; timeoutMs?: number } = {}): Promise<TestRack> {
  const dir = mkdtempSync(join(tmpdir(), 'unwind-rack-'));
  const dbPath = join(dir, 'rack.sqlite');
  const start = async () => {
    const server = await startRackServer({ dbPath, seed: options.seed });
    return { server, rack: createRackClient({ baseUrl: server.url, timeoutMs: options.timeoutMs ?? 5_000 }) };
  };
  const t: TestRack = {
    ...(await start()),
    dbPath,
    restart: async () => {
      await t.server.close();
      Object.assign(t, await start());
    },
    stop: async () => {
      await t.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Runs `promise`, expecting it to fail, and returns the error. */
export async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
