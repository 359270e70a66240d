/**
 * The saga commands: `unwind show` and the operator actions `unwind retry`,
 * `unwind skip`, `unwind unwind`. They work on any unwind saga, whatever its type.
 *
 * An operator action decides one wait (its wait id, shown by `unwind show`): `--wait-id` names
 * it, else the client reads the wait open now and sends the decision for it, so a wait that
 * ends meanwhile refuses the decision instead of a later wait taking it.
 */
import { type Command, Option } from 'commander';
import { FINAL_SAGA_STATES, OperatorDecisionInput, type OperatorAction, type SagaState, type SagaStatus } from '../schemas/saga';
import type { CliContext } from './context';
import { CliError, ExitCode, usageError } from './exit-codes';
import { checkFlags } from './flags';
import { formatDuration, parseDuration } from './format';
import { GRAPH_FORMATS, type GraphFormat, renderDot, renderMermaid, renderSagaView, residueKeys } from './saga-view';

/** The flag each field of an operator decision comes from. */
const DECISION_FLAGS = { operator: '--as', reason: '--reason', step: '--step', waitId: '--wait-id' } as const;

/**
 * How long `unwind show` waits for a worker to answer the status query: `UNWIND_STATUS_TIMEOUT`
 * (a duration such as 30s), 5 s unless set — an operator waits no longer; scripts and tests on
 * a loaded machine may.
 */
function statusTimeoutMs(): number {
  const text = process.env.UNWIND_STATUS_TIMEOUT;
  return text === undefined || text.trim() === '' ? 5_000 : parseDuration(text, 'UNWIND_STATUS_TIMEOUT');
}

/** Registers `unwind show`, `retry`, `skip` and `unwind` on `program`. */
export function register(program: Command, context: CliContext): void {
  program
    .command('show')
    .description("one saga's step tree: state, who must act, each step's state, attempts, undo and last error")
    .argument('<id>', 'the saga (workflow) id, e.g. disk-create/data-1')
    .option('--json', 'print machine-readable JSON: { summary, status }')
    .addOption(new Option('--graph <format>', 'print the executed steps as a graph instead').choices(GRAPH_FORMATS))
    .addHelpText(
      'after',
      `
The steps come from the saga's status query, which a worker answers; without one, only what
visibility knows (state, step, times) is shown. A worker has 5 s to answer
(UNWIND_STATUS_TIMEOUT, e.g. 30s, to wait longer).

Examples:
  $ unwind show disk-create/data-1
  $ unwind show instance-create/web-1 --json
  $ unwind show instance-create/web-1 --graph mermaid > saga.mmd
  $ unwind show instance-create/web-1 --graph dot | dot -Tsvg > saga.svg`,
    )
    .action(async (id: string, opts: { json?: boolean; graph?: GraphFormat }) => {
      const timeoutMs = statusTimeoutMs();
      const client = await context.temporal();
      const [summary, answer] = await Promise.all([client.sagas.describe(id), statusOf((signal) => client.sagas.handle(id).status({ signal }), timeoutMs)]);
      const status = 'status' in answer ? settled(answer.status, summary) : null;
      const statusError = 'error' in answer ? answer.error : undefined;
      if (opts.graph) {
        if (!status) throw new CliError(ExitCode.Failed, `no status for ${id}: ${statusError}`, 'is a worker running for its task queue?');
        context.print(opts.graph === 'mermaid' ? renderMermaid(status) : renderDot(status));
        return;
      }
      // What a skipped undo left, by resource: the rack's ledger under the skipped steps' keys (best effort).
      const keys = status ? residueKeys(status) : [];
      const ledger = keys.length
        ? await Promise.all(
            keys.map(async (key) => (await context.rack().ledger({ keyPrefix: key })).filter((e) => e.key === key || e.key.startsWith(`${key}/`))),
          ).then((rows) => rows.flat(), () => undefined)
        : undefined;
      context.emit(opts.json, { summary, status, ...(statusError && { statusError }) }, () =>
        renderSagaView(summary, status, { style: context.style, color: context.color, statusError, ledger }),
      );
    });

  registerAction(program, context, 'retry', 'run the waiting step again: its action (needs-operator) or its undo (stuck)', [
    "  $ unwind retry disk-create/data-1 --reason 'sled-3 back online' --as alice",
    "  $ unwind retry disk-create/data-1 --wait-id 3 --reason 'sled-3 back online' --as alice",
    "  $ unwind retry instance-create/web-1 --step 'ensure-region[1]' --reason 'mirror rebuilt' --as bob",
  ]);
  registerAction(program, context, 'skip', "give up on a failed undo (stuck): its effect stays, recorded with the reason; unwinding goes on", [
    "  $ unwind skip disk-create/data-1 --reason 'region deleted by hand, ticket OPS-12' --as alice",
  ]);
  registerAction(program, context, 'unwind', 'unwind a saga paused before its pivot (needs-operator): undo every step done so far', [
    "  $ unwind unwind disk-create/data-1 --reason 'sled-3 is being replaced' --as alice",
  ]);
}

function registerAction(program: Command, context: CliContext, action: OperatorAction, description: string, examples: string[]): void {
  program
    .command(action)
    .description(description)
    .argument('<id>', 'the saga (workflow) id')
    .requiredOption('--reason <text>', 'why: recorded in the saga with the decision')
    .requiredOption('--as <operator>', 'who decides: recorded in the saga with the decision')
    .option('--wait-id <n>', "the wait decided, as 'unwind show <id>' numbers it; default: the wait open now", parseWaitId)
    .option('--step <step>', 'the waiting step; needed only when several steps wait at once')
    .option('--json', 'print the recorded decision as JSON')
    .addHelpText(
      'after',
      `
Each pause of a saga is a wait with a number (1, 2, 3… in the saga), shown by 'unwind show <id>'.
A decision decides one wait: --wait-id names it; without it, the wait open now is read from the
saga (--step picks one when several steps wait) and the decision is sent for that wait. Either
way, if the wait ended before the decision arrived (someone else decided it, the saga began
unwinding), the saga refuses it and says what happened; it is never applied to a later wait.

Exit 5 when the saga refuses (e.g. nothing waits for ${action}, or the wait has ended), with the
saga's message; see 'unwind show <id>'.

Examples:
${examples.join('\n')}`,
    )
    .action(async (id: string, opts: { reason: string; as: string; waitId?: number; step?: string; json?: boolean }) => {
      // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
      const input = checkFlags(OperatorDecisionInput, { operator: opts.as, reason: opts.reason, step: opts.step, waitId: opts.waitId }, DECISION_FLAGS, {
        help: `unwind ${action}`,
      });
      const client = await context.temporal();
      const decision = await client.sagas[action](id, input);
      context.emit(opts.json, decision, (d) => `${d.action} recorded on ${id} at step ${d.step} (wait ${d.waitId}) by ${d.operator}: ${d.reason}`);
    });
}

/**
 * `--wait-id`: a wait's number, a whole number from 1.
 * @throws a usage error (exit 2) naming the flag, before anything connects.
 */
export function parseWaitId(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw usageError(`--wait-id: '${value}' is not a wait number`, "give a whole number from 1, as 'unwind show <id>' numbers the waits");
  }
  return n;
}

/**
 * The status to show beside visibility's view: a closed workflow's status query (replayed from
 * history) still says where the saga was when its workflow was ended from outside (terminated,
 * timed out); its state is then visibility's (e.g. failed), and nothing waits any more.
 */
export function settled(status: SagaStatus, summary: { state: SagaState | null; status: string }): SagaStatus {
  if (summary.status === 'running' || summary.status === 'paused' || FINAL_SAGA_STATES.includes(status.state)) return status;
  return { ...status, state: summary.state ?? status.state, waitingFor: null, waiting: [], pendingApproval: null };
}

/** The status query, bounded in time: without a worker it would wait for one indefinitely. */
async function statusOf(query: (signal: AbortSignal) => Promise<SagaStatus>, timeoutMs: number): Promise<{ status: SagaStatus } | { error: string }> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  try {
    return { status: await query(stop.signal) };
  } catch (error) {
    if (stop.signal.aborted) return { error: `no worker answered the status query within ${formatDuration(timeoutMs)}` };
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
