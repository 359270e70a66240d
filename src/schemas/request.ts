/**
 * Request identity: the idempotency key every saga request carries, and what the client records
 * of a request in its saga's start memo. Pure schemas (no Node modules): workflows import the
 * saga inputs that use them.
 *
 * A saga's workflow id names the object it works on and the request that started it
 * (`instance-create/<name>/<requestId>`, `instance-delete/<instanceId>/<requestId>`, …), so
 * - the same request (same id, same parameters) finds the saga it started, running or closed;
 * - the same request id with other parameters is refused, naming the fields that differ;
 * - a new request on the same object (a name used again after its resource is gone, a request
 *   made again after it unwound) is a new saga, with new idempotency keys for the rack.
 */
import { z } from 'zod';

/** A request's idempotency key: 1 to 64 letters, digits, dots, dashes or underscores. */
export const RequestId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores');
/** See {@link RequestId}. */
export type RequestId = z.infer<typeof RequestId>;

/** The start-memo key under which the client records the request a saga was started for. */
export const REQUEST_MEMO_KEY = 'unwindRequest';

/** What the start memo `unwindRequest` holds: the request id, a fingerprint and the parameters. */
export const RequestMemo = z.object({
  /** The request id (idempotency key). */
  id: RequestId,
  /** A hash of the parsed parameters (request id left out, defaults filled in). */
  fingerprint: z.string(),
  /** The parsed parameters, request id left out: what a conflicting request is compared with. */
  params: z.record(z.string(), z.unknown()),
});
/** See {@link RequestMemo}. */
export type RequestMemo = z.infer<typeof RequestMemo>;

/**
 * The dotted paths at which two parameter sets differ (objects are walked, arrays and other
 * values compared whole), in the order they appear in `a`, then those only in `b`.
 */
export function differingFields(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, prefix = ''): string[] {
  const out: string[] = [];
  const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    const path = `${prefix}${key}`;
    if (isPlainObject(x) && isPlainObject(y)) out.push(...differingFields(x, y, `${path}.`));
    else if (JSON.stringify(canonical(x)) !== JSON.stringify(canonical(y))) out.push(path);
  }
  return out;
}

/** `value` with object keys sorted and `undefined` fields dropped: key order never changes a request. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
