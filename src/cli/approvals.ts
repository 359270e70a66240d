/**
 * `unwind approve` and `unwind reject`: deciding a saga's pending approval (state
 * `awaiting-approval`, e.g. a sled replacement's power-off). The saga checks who decides: anyone
 * not listed is refused (exit 5, the saga's message printed) and nothing is recorded.
 *
 * Like the operator actions, a decision names the approval it decides by its wait id
 * (`--wait-id`, else the one pending now): one for an approval that has ended is refused.
 *
 * `unwind approve --all-waiting [--saga T] [--step S] --as <approver>` approves every saga
 * awaiting approval (of type T, asked by step S) in a burst (`sagas.approveAll`): the count is
 * confirmed first (on a terminal; `--yes` skips it, and is needed without one), progress goes to
 * stderr, a summary to stdout; exit 0 when all were approved, 1 when some were refused or failed.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ApprovalBurstDecision, ApprovalBurstFilter, type ApprovalBurstProgress, type ApprovalBurstResult, ApprovalBurstSettings } from '../client';
import { ApprovalDecisionInput, type ApprovalRecord } from '../schemas/saga';
import type { CliContext } from './context';
import { ExitCode, usageError } from './exit-codes';
import type { OutputStream } from './format';
import { checkFlags, flagsError } from './flags';
import { parseWaitId } from './sagas';

/** The flag each field of an approval decision comes from. */
const DECISION_FLAGS = { approver: '--as', comment: '--comment', waitId: '--wait-id' } as const;

/** One line for a recorded decision: `approved approve-power-off (wait 2) of sled-replace/sled-3 by alice at …: go`. */
export function renderApprovalRecord(workflowId: string, record: ApprovalRecord): string {
  return `${record.outcome} ${record.step} (wait ${record.waitId}) of ${workflowId} by ${record.by ?? '-'} at ${record.at}${record.comment ? `: ${record.comment}` : ''}`;
}

/** The flag each field of a burst comes from. */
const BURST_FLAGS = { saga: '--saga', step: '--step', approver: '--as', comment: '--comment', concurrency: '--concurrency' } as const;

interface DecideOptions {
  as: string;
  comment?: string;
  waitId?: number;
  json?: boolean;
  allWaiting?: boolean;
  saga?: string;
  step?: string;
  concurrency?: string;
  yes?: boolean;
}

/** What `unwind approve --all-waiting` is asked, checked before connecting. */
interface Burst {
  filter: ApprovalBurstFilter;
  decision: ApprovalBurstDecision;
  concurrency: number;
}

/**
 * Checks the flags of `unwind approve` before anything connects: one saga (`<id>`, `--wait-id`)
 * or all waiting (`--all-waiting` with `--saga`, `--step`, `--concurrency`, `--yes`), never both.
 * @returns the burst asked, or `undefined` for one saga.
 */
export function checkBurstFlags(id: string | undefined, opts: DecideOptions, stdinIsTTY: boolean): Burst | undefined {
  const help = { help: 'unwind approve' };
  if (!opts.allWaiting) {
    const burstOnly = (['saga', 'step', 'concurrency', 'yes'] as const).filter((k) => opts[k] !== undefined).map((k) => `--${k}`);
    if (burstOnly.length > 0) throw flagsError([`${burstOnly.join(', ')} ${burstOnly.length > 1 ? 'go' : 'goes'} with --all-waiting only`], help);
    if (id === undefined) throw usageError('give the saga <id>, or --all-waiting to approve every saga awaiting approval', "see 'unwind approve --help'");
    return undefined;
  }
  if (id !== undefined) throw flagsError([`give the saga <id> or --all-waiting, not both (got '${id}')`], help);
  if (opts.waitId !== undefined) throw flagsError(['--wait-id goes with one saga <id>, not --all-waiting (each saga\'s pending approval is decided)'], help);
  const rawConcurrency = opts.concurrency?.trim();
  const concurrency = rawConcurrency !== undefined && /^\d+$/.test(rawConcurrency) ? Number(rawConcurrency) : rawConcurrency;
  const filter = checkFlags(ApprovalBurstFilter, { saga: opts.saga, step: opts.step }, BURST_FLAGS, help);
  const decision = checkFlags(ApprovalBurstDecision, { approver: opts.as, comment: opts.comment }, BURST_FLAGS, help);
  const settings = checkFlags(ApprovalBurstSettings, { concurrency }, BURST_FLAGS, help);
  if (!opts.yes && !stdinIsTTY) {
    throw usageError('--all-waiting asks to confirm the count on a terminal, and there is none', 'add --yes to approve without asking; nothing was done');
  }
  return { filter, decision, concurrency: settings.concurrency };
}

/** Asks on the terminal; true for y/yes. */
async function confirm(question: string, stderr: OutputStream): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: stderr as NodeJS.WritableStream, terminal: true });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Progress of a burst on stderr: a bar redrawn in place on a terminal, a line per tenth otherwise. */
export function burstProgress(stream: OutputStream, tty: boolean): { update(p: ApprovalBurstProgress): void; done(): void } {
  let lastTenth = 0;
  const counts = (p: ApprovalBurstProgress) => `${p.done}/${p.total}: ${p.approved} approved, ${p.refused} refused, ${p.failed} failed`;
  return {
    update(p) {
      if (tty) {
        const width = 30;
        const filled = Math.round((p.done / Math.max(p.total, 1)) * width);
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts(p)}`);
        return;
      }
      const tenth = Math.floor((p.done * 10) / Math.max(p.total, 1));
      if (tenth > lastTenth || p.done === p.total) {
        lastTenth = tenth;
        stream.write(`approving: ${counts(p)}\n`);
      }
    },
    done() {
      if (tty) stream.write('\r\x1b[2K');
    },
  };
}

/** The summary of a burst: a line of counts, then one line per saga not approved. */
export function renderBurst(result: ApprovalBurstResult, approver: string): string {
  const total = result.outcomes.length;
  const lines = [`approved ${result.approved} of ${total} saga${total === 1 ? '' : 's'} as ${approver}; ${result.refused} refused, ${result.failed} failed`];
  for (const o of result.outcomes) if (o.outcome !== 'approved') lines.push(`  ${o.outcome} ${o.workflowId}${o.step ? ` (${o.step})` : ''}: ${o.reason}`);
  return lines.join('\n');
}

async function approveAllWaiting(context: CliContext, burst: Burst, opts: DecideOptions): Promise<void> {
  const client = await context.temporal();
  const sagas = await client.sagas.awaitingApproval(burst.filter);
  const what = [burst.filter.saga && `of type ${burst.filter.saga}`, burst.filter.step && `at step ${burst.filter.step}`].filter(Boolean).join(' ');
  if (sagas.length === 0) {
    context.note(`no saga awaits approval${what ? ` ${what}` : ''}: nothing to approve`);
    context.emit(opts.json, { outcomes: [], approved: 0, refused: 0, failed: 0 } satisfies ApprovalBurstResult, (r) => renderBurst(r, burst.decision.approver));
    return;
  }
  if (!opts.yes) {
    const shown = sagas.slice(0, 5).map((s) => s.workflowId).join(', ');
    const question = `${sagas.length} saga${sagas.length === 1 ? '' : 's'} await${sagas.length === 1 ? 's' : ''} approval${what ? ` ${what}` : ''} (${shown}${sagas.length > 5 ? ', …' : ''}). Approve ${sagas.length === 1 ? 'it' : 'all'} as ${burst.decision.approver}? [y/N] `;
    if (!(await confirm(question, context.io.stderr))) {
      context.note('nothing was approved');
      context.exitCode = ExitCode.Failed;
      return;
    }
  }
  const progress = burstProgress(context.io.stderr, context.io.stderr.isTTY === true);
  let result: ApprovalBurstResult;
  try {
    result = await client.sagas.approveEach(sagas, burst.decision, { concurrency: burst.concurrency, onProgress: (p) => progress.update(p) });
  } finally {
    progress.done();
  }
  context.emit(opts.json, result, (r) => renderBurst(r, burst.decision.approver));
  if (result.approved < result.outcomes.length) context.exitCode = ExitCode.Failed;
}

/** Registers `unwind approve` and `unwind reject` on `program`. */
export function register(program: Command, context: CliContext): void {
  for (const action of ['approve', 'reject'] as const) {
    const outcome = action === 'approve' ? 'the saga goes on' : 'before its pivot the saga unwinds';
    const command = program
      .command(action)
      .description(`${action} a saga's pending approval (awaiting-approval): ${outcome}${action === 'approve' ? '; --all-waiting: every saga awaiting one' : ''}`);
    if (action === 'approve') command.argument('[id]', 'the saga (workflow) id, e.g. sled-replace/sled-3 (or --all-waiting)');
    else command.argument('<id>', 'the saga (workflow) id, e.g. sled-replace/sled-3');
    command
      .requiredOption('--as <operator>', 'who decides: must be one of the approvers the saga lists; recorded with the decision')
      .option('--comment <text>', 'why: recorded with the decision')
      .option('--wait-id <n>', "the approval decided, by its wait number ('unwind show <id>'); default: the one pending now", parseWaitId)
      .option('--json', 'print the recorded decision as JSON');
    if (action === 'approve') {
      command
        .option('--all-waiting', 'approve every saga awaiting approval (narrowed by --saga and --step), after confirming the count')
        .option('--saga <type>', 'with --all-waiting: only sagas of this type, e.g. sledReplace')
        .option('--step <step>', 'with --all-waiting: only approvals asked by this step, e.g. approve-power-off')
        .option('--concurrency <n>', 'with --all-waiting: decisions in flight at once, 1 to 500 (default 50)')
        .option('--yes', 'with --all-waiting: do not ask to confirm the count (needed without a terminal)');
    }
    command
      .addHelpText(
        'after',
        `
'unwind show <id>' says who may decide, since when, and the approval's wait number;
'unwind list --state awaiting-approval' lists every saga waiting for a decision. Without
--wait-id the decision is for the approval pending now. Exit 5 when the saga refuses (you are
not among the approvers, nothing is pending, that approval has ended, or it finished), with the
saga's message: nothing is recorded.${
          action === 'approve'
            ? `

--all-waiting approves every saga awaiting approval (of --saga, at --step), --concurrency at a
time, after asking to confirm how many (--yes: without asking). A refusal never stops the others;
the summary names each saga refused (with its reason) or failed. Exit 0 when all were approved,
1 when some were refused or failed.`
            : ''
        }

Examples:
  $ unwind list --state awaiting-approval
  $ unwind ${action} sled-replace/sled-3 --as alice${action === 'approve' ? " --comment 'evacuated; tech on site at 14:00'" : " --comment 'false alarm: the fan was unplugged'"}
  $ unwind ${action} sled-replace/sled-3 --as alice --wait-id 2 --json${
          action === 'approve' ? "\n  $ unwind approve --all-waiting --saga sledReplace --step approve-power-off --as alice --comment 'maintenance window'" : ''
        }`,
      )
      .action(async (id: string | undefined, opts: DecideOptions) => {
        // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
        if (action === 'approve') {
          const burst = checkBurstFlags(id, opts, process.stdin.isTTY === true);
          if (burst) return approveAllWaiting(context, burst, opts);
        }
        const decision = checkFlags(ApprovalDecisionInput, { approver: opts.as, comment: opts.comment, waitId: opts.waitId }, DECISION_FLAGS, {
          help: `unwind ${action}`,
        });
        const client = await context.temporal();
        const record = await client.sagas[action](id!, decision);
        context.emit(opts.json, record, (r) => renderApprovalRecord(id!, r));
      });
  }
}
