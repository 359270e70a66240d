/** What the rack's HTTP modules share: the idempotency headers, and a request's context (Hono variables). */
import type { RackFailure } from '../store';
import type { Query } from './target';

/** The header carrying a mutation's idempotency key. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** The response header set to `true` when a mutation's result was replayed from an earlier call. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The Hono environment of the rack's app. */
export interface RackHttpEnv {
  Variables: {
    /** The request's raw path (as sent, before decoding): what errors and logs name. */
    path: string;
    /** The request's query parameters, checked by the route. */
    query: Query;
    /** The body as read, kept for debug logs. */
    requestBody?: string;
    /** The body answered, kept for debug logs. */
    responseBody?: unknown;
    /** The failure answered, for the log line. */
    failure?: RackFailure;
    /** What was thrown when it was not a rack failure (a bug): logged with its stack. */
    cause?: unknown;
  };
}
