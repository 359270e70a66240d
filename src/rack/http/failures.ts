/**
 * The rack's failures as HTTP answers: the error body every non-2xx response carries, the
 * errors injected faults show the caller, and what anything else thrown becomes.
 */
import type { ErrorBody, FaultKind } from '../schemas';
import { RackFailure } from '../store';

/** A failure answered with `status`. */
export function failure(status: number, code: string, errorClass: RackFailure['errorClass'], message: string, field?: string): RackFailure {
  return new RackFailure({ status, code, errorClass, message, field });
}

/** The error the caller sees for an injected fault. */
export function injectedError(kind: FaultKind, status: number, operation: string): RackFailure {
  switch (kind) {
    case 'transient':
    case 'ambiguous':
      // Both look the same to the caller on purpose: only the ledger tells them apart.
      return failure(status, 'unavailable', 'transient',
        `rack unavailable while handling ${operation}: the outcome is unknown; retry with the same Idempotency-Key`);
    case 'crash':
      return failure(500, 'internal', 'transient',
        `rack failed while handling ${operation}: the outcome is unknown; retry with the same Idempotency-Key`);
    case 'refused':
      return failure(409, 'injected-refusal', 'refused', `${operation} refused (injected fault): the caller should give up and unwind`);
    case 'needs-operator':
      return failure(409, 'injected-needs-operator', 'needs-operator', `${operation} needs an operator (injected fault): pause and notify`);
    case 'unknown-state':
      return failure(409, 'injected-unknown-state', 'unknown-state', `${operation} found the rack in an unexpected state (injected fault): pause and notify`);
  }
}

/** The 404 of a request no route takes. */
export function noRoute(method: string, path: string): RackFailure {
  return failure(404, 'no-such-route', 'refused',
    `no route ${method} ${path}: mutations are POST /v1/<resource>/<verb>, reads GET /v1/<resource>[/<id>]`);
}

/**
 * What `error` is answered with: a {@link RackFailure} as it is; a busy database as a transient
 * 503; anything else is a bug in the simulator — nothing was committed (the transaction rolled
 * back), but a caller must not retry a bug forever, so it is `unknown-state` and a person looks.
 */
export function asRackFailure(error: unknown): RackFailure {
  if (error instanceof RackFailure) return error;
  if ((error as { code?: unknown } | null)?.code === 'SQLITE_BUSY') {
    return failure(503, 'busy', 'transient', 'the rack database is busy: retry with the same Idempotency-Key');
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure(500, 'internal-error', 'unknown-state', `rack simulator error: ${message}; report it with the request`);
}

/** The body of the answer to `error`. */
export function errorBody(error: RackFailure): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      class: error.errorClass,
      ...(error.field !== undefined && { field: error.field }),
      ...(error.issues !== undefined && { issues: error.issues }),
    },
  };
}
