/**
 * Waiting on a condition, never on time: what sagas, visibility and processes reach eventually
 * is polled with `vi.waitFor`, within a limit sized for a loaded two-core machine.
 */
import { vi } from 'vitest';

/**
 * How long a condition may take to hold: several times what it takes on a quiet machine, so
 * that a suite run beside two busy loops still passes.
 */
export const LOADED_MACHINE_MS = 60_000;

/**
 * Reads until `done` holds (a read that throws counts as not yet) and returns the value that
 * satisfied it; fails after `timeoutMs` naming `what` and the last value or error seen.
 */
export function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = LOADED_MACHINE_MS,
  intervalMs = 200,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await read().catch((error: unknown) => {
        throw new Error(`${what} did not happen within ${timeoutMs} ms; the last read failed: ${(error as Error).message}`, { cause: error });
      });
      if (!done(value)) throw new Error(`${what} did not happen within ${timeoutMs} ms; last seen: ${JSON.stringify(value, null, 2)?.slice(0, 2_000)}`);
      return value;
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}

/**
 * `pending`, or a failure once it went `ms` unanswered, so a poll sends its next read instead:
 * a status query sent while a run continues as new can go unanswered for a minute on the
 * time-skipping server, while the same query sent again a moment later is answered at once.
 */
export function answeredWithin<T>(pending: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}
