/**
 * What every command that starts a saga shares (`unwind instance create`, `unwind disk create`,
 * …): turning the client's field names back into the flags the operator typed, printing the
 * saga id, and `--wait`: following the saga until it completes, unwinds or pauses.
 *
 * Every start carries a request id (`--request-id`, generated when not given): the same id with
 * the same flags finds the saga it started; with other flags it is refused (exit 5, naming the
 * flags that differ), as is a start while a conflicting saga runs on the same object (exit 5,
 * naming it). Nothing is started then.
 *
 * With `--wait` the exit code says how it ended: 0 completed, 1 unwound (the rack is back where
 * it was) or cancelled (what it undid is printed), 6 paused for an operator (it holds what it
 * made until someone runs `unwind retry`, `skip` or `unwind`; the commands to run are printed).
 *
 * The client is only a type here: the SDK loads when a command connects, not when the CLI starts.
 */
import type { Command } from 'commander';
import type { SagaHandle, UnwindClient } from '../client';
import type { SagaStatus, SagaUnwoundDetails } from '../schemas/saga';
import type { CliContext } from './context';
import { CliError, ExitCode, usageError } from './exit-codes';
import { cellText, createProgress } from './format';
import { operatorCommands } from './saga-view';

/** The options every saga-starting command takes. */
export interface StartOptions {
  wait?: boolean;
  json?: boolean;
  requestId?: string;
}

/**
 * How a waited-for saga ended (or stopped: `paused` leaves it running). `cancelled` carries what
 * the saga left in its memo: what it undid and skipped (`null` when it left nothing).
 */
export type WaitOutcome =
  | { outcome: 'completed'; result: unknown }
  | { outcome: 'unwound'; unwound: SagaUnwoundDetails }
  | { outcome: 'cancelled'; cancelled: SagaUnwoundDetails | null }
  | { outcome: 'paused'; status: SagaStatus };

/** Adds `--wait` and `--json` to a saga-starting command. */
export function withStartOptions(command: Command): Command {
  return command
    .option('--wait', 'follow the saga until it completes (exit 0), unwinds or is cancelled (exit 1) or pauses for an operator (exit 6)')
    .option('--json', 'print machine-readable JSON');
}

/** What `--request-id` means, for every saga-starting command. */
export const REQUEST_ID_HELP =
  "the request's idempotency key (letters, digits, . _ -): the same id with the same flags finds the saga it started, " +
  'with other flags it is refused; generated when not given';

/**
 * What every saga-starting command says about request identity, after its own help.
 * `conflicts` says which running saga refuses a start, e.g. "another create of the same name runs".
 */
export function identityHelp(conflicts: string): string {
  return `
Every start is a new request (a generated --request-id) unless --request-id is given: the same
id with the same flags prints the saga it started (a note says so), the same id with other
flags is refused (exit 5, naming the flags that differ). A start while ${conflicts} is refused
(exit 5, naming the saga running). Nothing is started when refused.`;
}

/**
 * A numeric flag: a number when it looks like one, else the text as given, so the client's
 * schema reports every bad flag at once instead of commander stopping at the first.
 */
export function numberish(value: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/**
 * Starts a saga through `start` and reports it: the workflow id on stdout (a note on stderr
 * says whether it is new), or with `--wait` how it ended. Sets the exit code accordingly.
 *
 * @param flags the flag (or argument) each request field came from, so input errors name what
 *   the operator typed
 */
export async function startSaga(
  context: CliContext,
  options: StartOptions,
  flags: Readonly<Record<string, string>>,
  start: (client: UnwindClient) => Promise<SagaHandle>,
): Promise<void> {
  const client = await context.temporal();
  let handle: SagaHandle;
  try {
    handle = await start(client);
  } catch (error) {
    throw asFlagError(error, flags);
  }
  const { workflowId, existing, requestId } = handle;
  context.note(
    existing
      ? `saga ${workflowId} already exists: request ${requestId ?? '?'} was made before with the same parameters; nothing new was started`
      : `started saga ${workflowId} (request ${requestId ?? '?'})`,
  );
  if (!options.wait) {
    context.emit(options.json, { workflowId, requestId, existing }, () => workflowId);
    return;
  }
  const ended = await waitForSaga(context, handle);
  context.exitCode = ended.outcome === 'completed' ? ExitCode.Ok : ended.outcome === 'paused' ? ExitCode.NeedsOperator : ExitCode.Failed;
  context.emit(options.json, { workflowId, requestId, existing, ...jsonOutcome(ended) }, () => renderOutcome(workflowId, ended));
}

function jsonOutcome(ended: WaitOutcome): Record<string, unknown> {
  if (ended.outcome === 'paused') return { outcome: ended.status.state, waiting: ended.status.waiting };
  return { ...ended };
}

/** The outcome as text for stdout: the result, or what failed and what was undone, or what to run. */
export function renderOutcome(workflowId: string, ended: WaitOutcome): string {
  switch (ended.outcome) {
    case 'completed': {
      const result = ended.result;
      const fields = result !== null && typeof result === 'object' ? Object.entries(result) : [['result', result] as const];
      return [`${workflowId} completed`, ...fields.map(([k, v]) => `  ${k}: ${cellText(v)}`)].join('\n');
    }
    case 'unwound': {
      const u = ended.unwound;
      return [`${workflowId} unwound: ${u.failedStep === null ? 'failed' : `step ${u.failedStep} failed`}: ${u.cause.type}: ${u.cause.message}`, ...undoneLines(u)].join('\n');
    }
    case 'cancelled': {
      const c = ended.cancelled;
      if (c === null) return `${workflowId} cancelled; it left no record of what it undid: see 'unwind show ${workflowId}'`;
      return [`${workflowId} cancelled: ${c.cause.message}`, ...undoneLines(c)].join('\n');
    }
    case 'paused': {
      const s = ended.status;
      const lines = [`${workflowId} paused: ${s.state}; an operator must act`];
      for (const w of s.waiting) lines.push(`  ${w.step} (${w.phase}) failed: ${w.error.type}: ${w.error.message}`);
      lines.push('  run one of:', ...operatorCommands(workflowId, s.waiting).map((c) => `    ${c}`));
      return lines.join('\n');
    }
  }
}

/** What an unwound or cancelled saga undid, and the undos an operator skipped. */
function undoneLines(u: SagaUnwoundDetails): string[] {
  const lines = [`  undone: ${u.undone.length ? u.undone.join(', ') : 'nothing'}`];
  for (const s of u.skipped) lines.push(`  skipped undo ${s.step} (by ${s.operator}: ${s.reason}): its effect remains`);
  return lines;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows `handle` until its workflow ends (completed, unwound, cancelled) or the saga pauses
 * for an operator (`needs-operator`, `stuck`), showing the state and current step on stderr.
 * `awaiting-approval` keeps waiting: an approver is expected. Polls the status query every `pollMs` (500 ms unless told).
 */
export async function waitForSaga(context: CliContext, handle: SagaHandle, pollMs = 500): Promise<WaitOutcome> {
  const progress = createProgress(`waiting for ${handle.workflowId}`, { stream: context.io.stderr, color: context.color });
  // Stops the result's long poll when the wait ends without a result, so the CLI exits at once.
  const stop = new AbortController();
  const ended: Promise<WaitOutcome> = handle.result({ signal: stop.signal }).then(
    (result) => ({ outcome: 'completed', result }),
    (error: unknown) => {
      // By name: the client (src/client) is loaded only once a command connects.
      if (error instanceof Error && error.name === 'SagaUnwoundError') {
        return { outcome: 'unwound', unwound: (error as Error & { details: SagaUnwoundDetails }).details };
      }
      if (error instanceof Error && error.name === 'SagaCancelledError') {
        return { outcome: 'cancelled', cancelled: (error as Error & { details: SagaUnwoundDetails | null }).details };
      }
      throw error;
    },
  );
  try {
    for (;;) {
      const finished = await Promise.race([ended, sleep(pollMs).then(() => undefined)]);
      if (finished) return finished;
      const status = await handle.status().catch(() => undefined);
      if (!status) {
        progress.update('no worker has answered yet');
        continue;
      }
      if (status.state === 'needs-operator' || status.state === 'stuck') return { outcome: 'paused', status };
      progress.update(describeProgress(status));
    }
  } finally {
    progress.done();
    ended.catch(() => undefined);
    stop.abort();
  }
}

/** `running: ensure-region[0], ensure-region[1]`: the state and the steps in flight. */
export function describeProgress(status: SagaStatus): string {
  const active = status.steps.filter((s) => s.state === 'running' || s.state === 'undoing').map((s) => s.name);
  return `${status.state}${active.length ? `: ${active.join(', ')}` : ''}`;
}

/**
 * The client's refusals of a start, in the operator's terms: bad input is a usage error (exit 2)
 * naming the flags typed; a request id used with other flags, or a conflicting saga running,
 * is refused (exit 5). By name: the client (src/client) is loaded only once a command connects.
 */
function asFlagError(error: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'InvalidRequestError') {
    return invalidFlags((error as Error & { problems: readonly { field: string; message: string }[] }).problems, flags);
  }
  if (error.name === 'RequestConflictError') {
    const conflict = error as Error & { requestId: string; workflowId: string; differences: readonly { field: string; before: unknown; now: unknown }[] };
    const flag = (field: string) => flags[field] ?? field;
    const text = conflict.differences.map((d) => `${flag(d.field)} was ${shownValue(d.before)}, now ${shownValue(d.now)}`).join('; ');
    return new CliError(
      ExitCode.Refused,
      `request ${conflict.requestId} was made before with other flags (${text}): it started saga ${conflict.workflowId}; nothing was started`,
      `repeat it unchanged, or drop --request-id (or give a new one) to make a new request; see it with 'unwind show ${conflict.workflowId}'`,
      { cause: error },
    );
  }
  if (error.name === 'SagaConflictError') {
    const conflict = error as Error & { object: string; running: { workflowId: string; saga: string; requestId: string | null; startTime: string } };
    const { running } = conflict;
    const by = running.requestId === null ? '' : ` (request ${running.requestId})`;
    return new CliError(
      ExitCode.Refused,
      `refused: saga ${running.saga} ${running.workflowId}${by} is running on ${conflict.object} since ${running.startTime}; nothing was started`,
      `follow it with 'unwind show ${running.workflowId}', and make the request again once it has ended`,
      { cause: error },
    );
  }
  return error;
}

/** A request value as a refusal shows it. */
function shownValue(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

/**
 * The usage error (exit 2) for a request's bad fields, named by the flags the operator typed.
 * Commands that check a request before connecting throw it themselves.
 */
export function invalidFlags(problems: readonly { field: string; message: string }[], flags: Readonly<Record<string, string>>): Error {
  // `approvers.1` is the second `--approver`: an element of a list names the list's flag.
  const flag = (field: string) => flags[field] ?? flags[field.replace(/\.\d+$/, '')] ?? field;
  const text = problems.map((p) => `${flag(p.field)}: ${p.message}`).join('; ');
  return usageError(`invalid request: ${text}`, 'fix the flags named; nothing was started');
}
