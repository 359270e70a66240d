/**
 * Bounded concurrency for workflow code: many children or activities, at most so many at a
 * time. Deterministic: items start in their order, the next one as soon as one ends, so what
 * starts when depends only on the order in which work ends — which the history records — and
 * a replay issues the same commands in the same order.
 */

/**
 * Runs `work` on each of `items`, at most `limit` at a time (at least one), in the items'
 * order: the next starts when one ends. `work` should not throw: an error ends the whole call,
 * as `Promise.all` does, and the items not yet started are never started.
 * @param options.stopWhen asked before each start: once true, no further item starts; the
 *   work in flight runs to its end.
 * @returns the items never started (none unless `stopWhen` said so).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  options: { stopWhen?: () => boolean } = {},
): Promise<T[]> {
  const queue = [...items];
  const stopped = options.stopWhen ?? (() => false);
  const lane = async (): Promise<void> => {
    while (!stopped() && queue.length > 0) await work(queue.shift() as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(limit, 1), queue.length) }, lane));
  return queue;
}
