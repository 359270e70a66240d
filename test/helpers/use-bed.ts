/**
 * A test bed that lives as long as a test file: started in `beforeAll`, stopped in `afterAll`.
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers `start` before this file's (or describe block's) tests and `stop` after them. The
 * object returned is empty until `beforeAll` has run, then holds what `start` returned: read
 * its fields inside tests and hooks, never at the top level.
 */
export function useBed<T extends object>(start: () => Promise<T>, stop: (bed: T) => Promise<void>): T {
  const bed = {} as T;
  let started = false;
  beforeAll(async () => {
    Object.assign(bed, await start());
    started = true;
  });
  afterAll(async () => {
    if (started) await stop(bed);
  });
  return bed;
}
