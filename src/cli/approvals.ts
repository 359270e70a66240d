/**
 * `unwind approve` and `unwind reject`: deciding a saga's pending approval (state
 * `awaiting-approval`, e.g. a sled replacement's power-off). The saga checks who decides: anyone
 * not listed is refused (exit 5, the saga's message printed) and nothing is recorded.
 */
import type { Command } from 'commander';
import type { ApprovalRecord } from '../schemas/saga';
import type { CliContext } from './context';

/** One line for a recorded decision: `approved approve-power-off of sled-replace/sled-3 by alice: go`. */
export function renderApprovalRecord(workflowId: string, record: ApprovalRecord): string {
  return `${record.outcome} ${record.step} of ${workflowId} by ${record.by ?? '-'} at ${record.at}${record.comment ? `: ${record.comment}` : ''}`;
}

/** Registers `unwind approve` and `unwind reject` on `program`. */
export function register(program: Command, context: CliContext): void {
  for (const action of ['approve', 'reject'] as const) {
    const outcome = action === 'approve' ? 'the saga goes on' : 'before its pivot the saga unwinds';
    program
      .command(action)
      .description(`${action} a saga's pending approval (awaiting-approval): ${outcome}`)
      .argument('<id>', 'the saga (workflow) id, e.g. sled-replace/sled-3')
      .requiredOption('--as <operator>', 'who decides: must be one of the approvers the saga lists; recorded with the decision')
      .option('--comment <text>', 'why: recorded with the decision')
      .option('--json', 'print the recorded decision as JSON')
      .addHelpText(
        'after',
        `
'unwind show <id>' says who may decide and since when; 'unwind list --state awaiting-approval'
lists every saga waiting for a decision. Exit 5 when the saga refuses (you are not among the
approvers, nothing is pending, or it finished): nothing is recorded.

Examples:
  $ unwind list --state awaiting-approval
  $ unwind ${action} sled-replace/sled-3 --as alice${action === 'approve' ? " --comment 'evacuated; tech on site at 14:00'" : " --comment 'false alarm: the fan was unplugged'"}
  $ unwind ${action} sled-replace/sled-3 --as alice --json`,
      )
      .action(async (id: string, opts: { as: string; comment?: string; json?: boolean }) => {
        const client = await context.temporal();
        const record = await client.sagas[action](id, { approver: opts.as, comment: opts.comment });
        context.emit(opts.json, record, (r) => renderApprovalRecord(id, r));
      });
  }
}
