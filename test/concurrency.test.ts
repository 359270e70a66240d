import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../src/workflows/saga/concurrency';

/** Work that ends when the test says so, recording when it starts and ends. */
function controlledWork() {
  const events: string[] = [];
  const finish = new Map<string, () => void>();
  let inFlight = 0;
  let mostInFlight = 0;
  const work = (item: string) =>
    new Promise<void>((resolve) => {
      events.push(`start ${item}`);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      finish.set(item, () => {
        inFlight--;
        events.push(`end ${item}`);
        resolve();
      });
    });
  const end = async (item: string) => {
    finish.get(item)!();
    // Let the lane that ran `item` take its next one.
    await new Promise((r) => setImmediate(r));
  };
  return { events, work, end, mostInFlight: () => mostInFlight };
}

describe('forEachBounded', () => {
  it('keeps at most the limit in flight, starting the next item in order as any one ends', async () => {
    const w = controlledWork();
    const done = forEachBounded(['a', 'b', 'c', 'd'], 2, w.work);
    await new Promise((r) => setImmediate(r));
    expect(w.events).toEqual(['start a', 'start b']);
    await w.end('b');
    expect(w.events).toEqual(['start a', 'start b', 'end b', 'start c']);
    await w.end('a');
    await w.end('c');
    await w.end('d');
    expect(await done).toEqual([]);
    expect(w.events).toEqual(['start a', 'start b', 'end b', 'start c', 'end a', 'start d', 'end c', 'end d']);
    expect(w.mostInFlight()).toBe(2);
  });

  it('starts nothing more once told to stop, lets the work in flight end, and returns what never started', async () => {
    const w = controlledWork();
    let stop = false;
    const done = forEachBounded(['a', 'b', 'c', 'd'], 2, w.work, { stopWhen: () => stop });
    await new Promise((r) => setImmediate(r));
    stop = true;
    await w.end('a');
    await w.end('b');
    expect(await done).toEqual(['c', 'd']);
    expect(w.events).toEqual(['start a', 'start b', 'end a', 'end b']);
  });

  it('runs one at a time for a limit below one, and nothing for no items', async () => {
    const order: number[] = [];
    await forEachBounded([1, 2, 3], 0, async (n) => void order.push(n));
    expect(order).toEqual([1, 2, 3]);
    expect(await forEachBounded([], 4, async () => {})).toEqual([]);
  });
});
