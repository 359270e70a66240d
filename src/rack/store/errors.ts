/**
 * The failures the rack reports to its callers, and the input validation that names every bad
 * field. Throwing one inside a mutation rolls the mutation back.
 */
import { z } from 'zod';
import type { FailureClass } from '../../schemas/failures';
import { describeProblems } from '../../schemas/validation';
import type { FieldIssue } from '../schemas';

/**
 * A failure the rack reports to its caller: an HTTP status, a stable code, the taxonomy class
 * and, for invalid input, the offending field(s). Throwing one inside a mutation rolls it back.
 */
export class RackFailure extends Error {
  /** The HTTP status the server answers with. */
  readonly status: number;
  /** A stable, machine-readable code such as `no-capacity`. */
  readonly code: string;
  /** How the caller must treat the failure (DESIGN.md's taxonomy). */
  readonly errorClass: FailureClass;
  /** The first offending field, when the failure is about one. */
  readonly field: string | undefined;
  /** Every offending field of an invalid request. */
  readonly issues: FieldIssue[] | undefined;

  constructor(opts: { status: number; code: string; errorClass: FailureClass; message: string; field?: string; issues?: FieldIssue[] }) {
    super(opts.message);
    this.name = 'RackFailure';
    this.status = opts.status;
    this.code = opts.code;
    this.errorClass = opts.errorClass;
    this.field = opts.field;
    this.issues = opts.issues;
  }
}

/** A 409 the caller should unwind on: the rack said no. */
export function refused(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 409, code, errorClass: 'refused', message, field });
}

/** A 409 that pauses the saga: a person must resolve it. */
export function needsOperator(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 409, code, errorClass: 'needs-operator', message, field });
}

/** A 503: retry later with the same key. */
export function busy(code: string, message: string, field?: string): RackFailure {
  return new RackFailure({ status: 503, code, errorClass: 'transient', message, field });
}

/**
 * Validates `body` against `schema`, or throws a 400 `invalid-request` naming every bad field.
 * `where` prefixes the field paths (e.g. `query` for query parameters).
 */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown, where?: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.flatMap((issue) => {
    const base = [where, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
    // An unknown key is reported at its parent; name the key itself so the caller can find it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'unknown field: remove it or check its spelling' }));
    }
    return [{ field: base || '(body)', message: issue.message }];
  });
  throw invalidRequest(issues);
}

/** A 400 `invalid-request` naming every bad field (the first as `field`). */
export function invalidRequest(issues: FieldIssue[]): RackFailure {
  return new RackFailure({
    status: 400,
    code: 'invalid-request',
    errorClass: 'refused',
    message: `invalid request: ${describeProblems(issues)}`,
    field: issues[0]?.field,
    issues,
  });
}
