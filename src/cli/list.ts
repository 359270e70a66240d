/**
 * `unwind list`: sagas by state, type or lack of progress, newest first. The command an operator
 * runs most, so it starts at once: it reads visibility over its own small gRPC call
 * (src/client/visibility-wire.ts) and checks its flags here, loading neither Temporal's client
 * nor zod. The client's `sagas.list` reads the same rows (src/client/visibility.ts).
 */
import { type Command, Option } from 'commander';
import { SAGA_TYPE_EXPECTED, SAGA_TYPE_PATTERN, checkedSagaListQuery, collectSagas } from '../client/visibility';
import { SAGA_STATES, type SagaState } from '../schemas/saga-states';
import type { CliContext } from './context';
import { usageError } from './exit-codes';
import { formatDuration, parseDuration } from './format';
import { renderSagaList } from './saga-view/list';

/** Registers `unwind list` on `program`. */
export function register(program: Command, context: CliContext): void {
  program
    .command('list')
    .description('list sagas by state, type or lack of progress, newest first')
    .addOption(new Option('--state <state>', 'only sagas in this state (see below)').choices(SAGA_STATES))
    .option('--saga <type>', 'only sagas of this type, e.g. instanceCreate', parseSagaType)
    .option('--stalled <duration>', 'only running sagas with no progress for this long, e.g. 10m, 2h', (v) => positiveDuration(v, '--stalled'))
    .option('--limit <n>', 'at most this many rows (default 100)', (v) => parseLimit(v))
    .option('--json', 'print machine-readable JSON')
    .addHelpText(
      'after',
      `
States: running, unwinding, needs-operator, stuck and awaiting-approval list only sagas whose
workflow is still open. completed, unwound, unwound-with-residue (an operator skipped an undo:
what its action did stays; see 'unwind show') and cancelled are how a saga ended; failed is a saga
an error escaped (e.g. after its pivot, where nothing is undone) or whose workflow was ended
from outside (terminated, timed out) before it could record its end: the STATE column then says
how, e.g. 'failed (terminated)'. A workflow cancelled from outside likewise shows as cancelled.

"Progress" is the saga's last state change or step start (recorded at most once a minute
while it runs). A saga paused for an operator makes none, so --stalled finds it too.

Examples:
  $ unwind list
  $ unwind list --state needs-operator
  $ unwind list --state failed --saga sledReplace
  $ unwind list --saga instanceMigrate --stalled 10m --json`,
    )
    .action(async (opts: { state?: SagaState; saga?: string; stalled?: number; limit?: number; json?: boolean }) => {
      const visibility = await context.visibility();
      const query = checkedSagaListQuery({ state: opts.state, saga: opts.saga, stalledFor: opts.stalled });
      const rows = await collectSagas(visibility.fetchPage, query, opts.limit ?? 100);
      context.emit(opts.json, rows, (list) => renderSagaList(list, { color: context.color, filter: describeFilter(opts) }));
    });
}

function describeFilter(opts: { state?: string; saga?: string; stalled?: number }): string {
  return [
    opts.state && `--state ${opts.state}`,
    opts.saga && `--saga ${opts.saga}`,
    opts.stalled !== undefined && `--stalled ${formatDuration(opts.stalled)}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** `--saga`: what the client's filter accepts (its schema holds the same pattern). */
function parseSagaType(value: string): string {
  if (!SAGA_TYPE_PATTERN.test(value)) throw usageError(`--saga must be ${SAGA_TYPE_EXPECTED} (got '${value}')`, "fix the flag named (see 'unwind list --help'); nothing was done");
  return value;
}

function positiveDuration(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms <= 0) throw usageError(`${flag}: '${value}' must be longer than zero`, 'e.g. 10m');
  return ms;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw usageError(`--limit: '${value}' is not a count`, 'give a whole number from 1 to 10000');
  return n;
}
