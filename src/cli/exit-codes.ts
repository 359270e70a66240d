/**
 * The exit-code contract of the `unwind` CLI, and the mapping from every error the CLI can
 * meet to one code and one line of text.
 *
 * Scripts rely on these numbers: never renumber them, only add.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | ok |
 * | 1 | the operation failed (e.g. a saga unwound while waiting for it; the rack answered 5xx) |
 * | 2 | usage error: bad flags, arguments or input, found before connecting; the command was not attempted |
 * | 3 | cannot connect: Temporal or the rack is unreachable |
 * | 4 | not found: the saga, workflow or rack resource does not exist |
 * | 5 | refused by the server: validation or precondition failed (input the CLI could not check itself) |
 * | 6 | waiting for an operator: a saga waited for (`--wait`) paused (`needs-operator` or `stuck`) |
 */

/** The exit codes of the `unwind` CLI. See the module documentation for the contract. */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Unreachable: 3,
  NotFound: 4,
  Refused: 5,
  /** `--wait` stopped because the saga paused for an operator: it holds resources until someone acts. */
  NeedsOperator: 6,
} as const;
/** One of the exit codes of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The contract as help text, printed after `unwind --help` so operators need not find this file. */
export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  ok',
  '  1  the operation failed (e.g. a saga unwound while waiting for it)',
  '  2  usage error (bad flags, arguments or input; nothing was attempted)',
  '  3  cannot connect (Temporal or the rack is unreachable)',
  '  4  not found',
  '  5  refused by the server (validation or precondition)',
  '  6  waiting for an operator (a saga waited for paused: retry, skip or unwind it)',
].join('\n');

/**
 * An error the CLI reports as `unwind: <what>; <hint>` and exits with `exitCode`.
 *
 * Commands throw it for anything the operator must act on; `hint` says what to do next.
 */
export class CliError extends Error {
  /** The process exit code, from {@link ExitCode}. */
  readonly exitCode: ExitCode;
  /** What went wrong, with the ids involved. */
  readonly what: string;
  /** What to do about it; omitted when there is nothing useful to say. */
  readonly hint: string | undefined;

  constructor(exitCode: ExitCode, what: string, hint?: string, options?: { cause?: unknown }) {
    super(hint === undefined ? what : `${what}; ${hint}`, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.what = what;
    this.hint = hint;
  }
}

/** A {@link CliError} with exit code 2: bad flags or input, nothing was attempted. */
export function usageError(what: string, hint?: string): CliError {
  return new CliError(ExitCode.Usage, what, hint);
}

/** Where the CLI was trying to connect, so "cannot connect" messages can say which flag to fix. */
export interface ErrorContext {
  /** The rack URL in use. */
  rackUrl?: string;
  /** The Temporal address in use. */
  temporalAddress?: string;
}

// Duck-typed so that mapping an error never loads the Temporal SDK (a slow import) for
// commands that only talk to the rack. Field names are those of src/rack/client.ts and the SDK.
interface RackErrorLike {
  name: 'RackError';
  status: number;
  code: string;
  class: string;
  field?: string;
  issues?: { field: string; message: string }[];
  operation: string;
  message: string;
}

function isNamed<N extends string>(error: unknown, name: N): error is Error & { name: N } {
  return error instanceof Error && error.name === name;
}

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) the CLI tells apart.
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function grpcCode(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * Maps any error to the CLI's contract: a {@link CliError} passes through; rack client errors,
 * Temporal client errors and gRPC statuses get their exit code and a hint; anything else is
 * exit 1 with its message.
 */
export function toCliError(error: unknown, context: ErrorContext = {}): CliError {
  if (error instanceof CliError) return error;
  const cause = { cause: error };

  if (isNamed(error, 'RackUnreachableError')) {
    const where = context.rackUrl ?? 'the configured URL';
    return new CliError(
      ExitCode.Unreachable,
      `cannot reach the rack at ${where} (${innermostMessage(error)})`,
      'is the rack running? set --rack-url or UNWIND_RACK_URL',
      cause,
    );
  }
  if (isNamed(error, 'RackError')) return fromRackError(error as unknown as RackErrorLike, cause);

  // The unwind client's own errors (src/client.ts), by name for the same reason as above.
  if (isNamed(error, 'InvalidRequestError')) {
    return new CliError(ExitCode.Usage, error.message, 'fix the fields named; nothing was started', cause);
  }
  if (isNamed(error, 'OperatorActionRefusedError')) {
    return new CliError(ExitCode.Refused, error.message, "see what the saga waits for with 'unwind show <id>'", cause);
  }

  if (isNamed(error, 'WorkflowNotFoundError')) {
    return new CliError(ExitCode.NotFound, error.message, 'check the id with `unwind list`', cause);
  }
  if (isNamed(error, 'WorkflowExecutionAlreadyStartedError')) {
    return new CliError(ExitCode.Refused, error.message, 'pick another id, or act on the running one', cause);
  }
  if (isNamed(error, 'WorkflowUpdateFailedError')) {
    // An update rejected by its validator: the server refused the operator action.
    return new CliError(ExitCode.Refused, rootMessage(error), undefined, cause);
  }
  if (isNamed(error, 'WorkflowFailedError')) {
    return new CliError(ExitCode.Failed, rootMessage(error), undefined, cause);
  }

  const grpc = grpcCode(error);
  if (grpc !== undefined && error instanceof Error) {
    if (grpc === GRPC_UNAVAILABLE || grpc === GRPC_DEADLINE_EXCEEDED) {
      const where = context.temporalAddress ? ` at ${context.temporalAddress}` : '';
      return new CliError(
        ExitCode.Unreachable,
        `cannot reach Temporal${where} (${innermostMessage(error)})`,
        'is the server running? set --address or TEMPORAL_ADDRESS',
        cause,
      );
    }
    if (grpc === GRPC_NOT_FOUND) return new CliError(ExitCode.NotFound, rootMessage(error), undefined, cause);
    if (grpc === GRPC_INVALID_ARGUMENT || grpc === GRPC_FAILED_PRECONDITION || grpc === GRPC_ALREADY_EXISTS) {
      return new CliError(ExitCode.Refused, rootMessage(error), undefined, cause);
    }
  }

  return new CliError(ExitCode.Failed, error instanceof Error ? error.message : String(error), undefined, cause);
}

function fromRackError(error: RackErrorLike, cause: { cause: unknown }): CliError {
  const message = error.message.startsWith(`${error.operation}: `) ? error.message.slice(error.operation.length + 2) : error.message;
  const fields = error.issues?.length
    ? error.issues.map((i) => `${i.field}: ${i.message}`).join(', ')
    : error.field !== undefined
      ? `field ${error.field}`
      : undefined;
  // The rack's messages usually name their field already; repeat it only when they do not.
  const detail = fields === undefined || message.includes(error.field ?? fields) ? message : `${message} (${fields})`;
  const injected = error.code.startsWith('injected-') || (error.code === 'unavailable' && /injected/.test(message));
  if (error.code === 'no-such-route') {
    return new CliError(ExitCode.Failed, `rack ${error.operation}: ${detail}`, 'is the rack the same version as this CLI?', cause);
  }
  if (error.status === 404) {
    const [resource, verb] = error.operation.split('.');
    const list = verb === 'get' ? `unwind rack list ${resource}` : 'unwind rack list <resource>';
    return new CliError(ExitCode.NotFound, `rack ${error.operation}: ${detail}`, `see what exists with '${list}'`, cause);
  }
  if (error.status >= 400 && error.status < 500) {
    const hint = injected
      ? `an injected fault (code ${error.code}): see 'unwind rack fault list', remove it with 'unwind rack fault clear'`
      : error.status === 400
        ? `fix the input (code ${error.code})`
        : `code ${error.code}, class ${error.class}`;
    return new CliError(ExitCode.Refused, `rack refused ${error.operation}: ${detail}`, hint, cause);
  }
  return new CliError(
    ExitCode.Failed,
    `rack ${error.operation} failed: ${detail}`,
    error.class === 'transient' ? "transient: retry; 'unwind rack fault list' shows injected faults" : `code ${error.code}, class ${error.class}`,
    cause,
  );
}

/** The innermost message of a cause chain: the SDK wraps the useful text several times. */
function rootMessage(error: Error): string {
  let e: Error = error;
  for (let depth = 0; e.cause instanceof Error && depth < 5; depth++) e = e.cause;
  return e === error ? error.message : `${error.message}: ${e.message}`;
}

/** Only the innermost message: for connection failures, the socket error is the useful part. */
function innermostMessage(error: Error): string {
  let e: Error = error;
  for (let depth = 0; e.cause instanceof Error && depth < 5; depth++) e = e.cause;
  return e.message;
}
