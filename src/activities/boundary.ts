/**
 * The activities' failure boundary: every error an activity throws is classified once, here,
 * into the taxonomy of DESIGN.md ("Failure taxonomy"), and leaves as an `ApplicationFailure`
 * whose `type` is a {@link FailureType}. Workflow code then decides by type, never by message.
 *
 * The contract with the clients activities use (the rack client first): an error that knows
 * its class carries it as a `class` property ({@link ClassifiedError}). Everything else is
 * classified here by shape:
 *  - network failures (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, … anywhere in the cause chain;
 *    `fetch` failing with `TypeError: fetch failed`; `AbortError` / `TimeoutError`) → transient;
 *  - a `ZodError` (the activity's input or a response failed validation) → refused: retrying the
 *    same request cannot help, and the saga unwinds;
 *  - anything else → unknown-state. An unclassified exception is a bug or a situation nobody
 *    anticipated, and we do not know whether the effect happened. Retrying it blindly would
 *    either hide the bug forever (reliable sagas) or unwind on a guess (one-shot sagas);
 *    unknown-state pauses the saga and asks an operator, who can `retry` once it is fixed or
 *    `unwind`. The remedy for a noisy unknown-state is to classify the error in its client.
 *
 * Transient failures get `nextRetryDelay` from {@link fullJitterDelay} (full-jitter capped
 * exponential backoff over the activity's attempt number); the activity's retry policy then
 * only bounds the number of attempts.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { causeChain, failureClassOfType, FailureClass, failureTypeOfClass, type FailureType } from '../schemas/failures';

/** An error that knows its failure class: what the rack client (and any client) throws. */
export interface ClassifiedError extends Error {
  readonly class: FailureClass;
}

/** Creates a {@link ClassifiedError}, e.g. `classifiedError('refused', 'no capacity on sled 7')`. */
export function classifiedError(failureClass: FailureClass, message: string, options?: { cause?: unknown }): ClassifiedError {
  return Object.assign(new Error(message, options), { class: failureClass });
}

/** Error codes of Node sockets, DNS and undici that mean "try again". */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function ownClass(err: unknown): FailureClass | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const parsed = FailureClass.safeParse((err as { class?: unknown }).class);
  if (parsed.success) return parsed.data;
  if (err instanceof ApplicationFailure) return failureClassOfType(err.type);
  return undefined;
}

function isNetworkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  return err instanceof TypeError && message === 'fetch failed';
}

/**
 * Maps any thrown value to its failure class. The outermost error that states a class (a
 * `class` property, or a taxonomy `ApplicationFailure`) wins; then network errors anywhere in
 * the cause chain are transient; a `ZodError` is refused; anything else is unknown-state.
 */
export function classify(err: unknown): FailureClass {
  const chain = causeChain(err);
  for (const e of chain) {
    const own = ownClass(e);
    if (own) return own;
  }
  if (chain.some(isNetworkError)) return 'transient';
  if (chain.some((e) => e instanceof Error && e.name === 'ZodError')) return 'refused';
  return 'unknown-state';
}

/** Backoff of transient failures. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, ms. Default 1 000. */
  readonly baseMs?: number;
  /** Delay ceiling of any retry, ms. Default 60 000. */
  readonly capMs?: number;
  /** Uniform random in [0, 1); default `Math.random` (activities may be random). */
  readonly random?: () => number;
}

/** Default {@link BackoffOptions}: 1 s base, 60 s cap. */
export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000 } as const;

/**
 * Full-jitter capped exponential backoff: `random(0, min(cap, base · 2^(attempt−1)))`, in whole
 * ms, at least 1 (a zero delay would make Temporal fall back to the retry policy's backoff).
 * @param attempt the attempt that just failed, from 1 (`Context.current().info.attempt`).
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(cap, base * 2 ** Math.min(exponent, 1_000));
  return Math.max(1, Math.floor(random() * ceiling));
}

/** Options of {@link withBoundary} / {@link withBoundaries}. */
export type BoundaryOptions = BackoffOptions;

function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called outside an activity (a unit test): behave as a first attempt
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The `ApplicationFailure` an activity throws for `err`: its class as `type`, non-retryable
 * unless transient, transient with a jittered `nextRetryDelay`, the original error as `cause`.
 */
export function toApplicationFailure(err: unknown, options: BoundaryOptions = {}, attempt = currentAttempt()): ApplicationFailure {
  const failureClass = classify(err);
  const type: FailureType = failureTypeOfClass[failureClass];
  const transient = failureClass === 'transient';
  return ApplicationFailure.create({
    type,
    message: messageOf(err),
    nonRetryable: !transient,
    nextRetryDelay: transient ? fullJitterDelay(attempt, options) : undefined,
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * Wraps one activity function: whatever it throws leaves classified (see {@link classify}).
 * Cancellations pass through untouched, and so does an `ApplicationFailure` the activity threw
 * on purpose with a type outside the taxonomy.
 */
export function withBoundary<A extends unknown[], R>(fn: (...args: A) => Promise<R>, options: BoundaryOptions = {}): (...args: A) => Promise<R> {
  const wrapped = async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      if (err instanceof ApplicationFailure && failureClassOfType(err.type) === undefined) throw err;
      throw toApplicationFailure(err, options);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activity arguments are any JSON
type ActivityFunction = (...args: any[]) => Promise<unknown>;

/**
 * Wraps every activity of an activity object (what a factory returns) with {@link withBoundary};
 * the result has the same type, so the worker registers it and workflows proxy it unchanged.
 */
export function withBoundaries<T extends Record<string, ActivityFunction>>(activities: T, options: BoundaryOptions = {}): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, withBoundary(fn, options)])) as T;
}
