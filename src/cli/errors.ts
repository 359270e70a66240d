/**
 * `unwind errors`: recent saga failures grouped by saga, step and error type, with counts and
 * one example each. Visibility does the counting (`UnwindError`, `UnwindStep`, `UnwindSaga`), so
 * it stays fast with thousands of failures: only one saga per group is read for its message.
 */
import type { Command } from 'commander';
import type { CliContext } from './context';
import { renderErrorGroups } from './errors-view';
import { usageError } from './exit-codes';
import { parseDuration } from './format';

/** Registers `unwind errors` on `program`. */
export function register(program: Command, context: CliContext): void {
  program
    .command('errors')
    .description('recent failures grouped by saga, step and error type: counts and one example each')
    .option('--since <duration>', 'failures of sagas that changed state within this long, e.g. 30m, 1h, 2d (default 1h)', (v) => sinceFlag(v), 3_600_000)
    .option('--limit <n>', 'at most this many groups, largest first (default 50)', (v) => limitFlag(v))
    .option('--json', 'print machine-readable JSON: { since, groups: [{ saga, step, errorType, count, example }] }')
    .addHelpText(
      'after',
      `
A failure is a saga that unwound from an error, or that waits on one (needs-operator, stuck):
its error type is Refused, NeedsOperator, UnknownState, ApprovalRejected, Cancelled, … Each
group's example is its most recent failure, with the message that saga shows.

Examples:
  $ unwind errors
  $ unwind errors --since 24h --limit 10
  $ unwind errors --since 30m --json | jq '.groups[] | select(.errorType == "NeedsOperator")'`,
    )
    .action(async (opts: { since: number; limit?: number; json?: boolean }) => {
      const client = await context.temporal();
      const since = new Date(Date.now() - opts.since);
      const limit = opts.limit ?? 50;
      // One more than asked: whether the limit cut groups off.
      const groups = await client.sagas.errors({ since, limit: Math.min(limit + 1, 1_000) });
      const shown = groups.slice(0, limit);
      context.emit(opts.json, { since: since.toISOString(), groups: shown, more: groups.length > limit }, () =>
        renderErrorGroups(shown, { since, more: groups.length > limit, color: context.color }),
      );
    });
}

function sinceFlag(value: string): number {
  const ms = parseDuration(value, '--since');
  if (ms <= 0) throw usageError(`--since: '${value}' must be longer than zero`, 'e.g. 1h');
  return ms;
}

function limitFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 999) throw usageError(`--limit: '${value}' is not a count`, 'give a whole number from 1 to 999');
  return n;
}
