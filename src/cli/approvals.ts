/**
 * `unwind approve` and `unwind reject`: deciding a saga's pending approval (state
 * `awaiting-approval`, e.g. a sled replacement's power-off). The saga checks who decides: anyone
 * not listed is refused (exit 5, the saga's message printed) and nothing is recorded.
 *
 * Like the operator actions, a decision names the approval it decides by its wait id
 * (`--wait-id`, else the one pending now): one for an approval that has ended is refused.
 */
import type { Command } from 'commander';
import { ApprovalDecisionInput, type ApprovalRecord } from '../schemas/saga';
import type { CliContext } from './context';
import { checkFlags } from './flags';
import { parseWaitId } from './sagas';

/** The flag each field of an approval decision comes from. */
const DECISION_FLAGS = { approver: '--as', comment: '--comment', waitId: '--wait-id' } as const;

/** One line for a recorded decision: `approved approve-power-off (wait 2) of sled-replace/sled-3 by alice at …: go`. */
export function renderApprovalRecord(workflowId: string, record: ApprovalRecord): string {
  return `${record.outcome} ${record.step} (wait ${record.waitId}) of ${workflowId} by ${record.by ?? '-'} at ${record.at}${record.comment ? `: ${record.comment}` : ''}`;
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
      .option('--wait-id <n>', "the approval decided, by its wait number ('unwind show <id>'); default: the one pending now", parseWaitId)
      .option('--json', 'print the recorded decision as JSON')
      .addHelpText(
        'after',
        `
'unwind show <id>' says who may decide, since when, and the approval's wait number;
'unwind list --state awaiting-approval' lists every saga waiting for a decision. Without
--wait-id the decision is for the approval pending now. Exit 5 when the saga refuses (you are
not among the approvers, nothing is pending, that approval has ended, or it finished), with the
saga's message: nothing is recorded.

Examples:
  $ unwind list --state awaiting-approval
  $ unwind ${action} sled-replace/sled-3 --as alice${action === 'approve' ? " --comment 'evacuated; tech on site at 14:00'" : " --comment 'false alarm: the fan was unplugged'"}
  $ unwind ${action} sled-replace/sled-3 --as alice --wait-id 2 --json`,
      )
      .action(async (id: string, opts: { as: string; comment?: string; waitId?: number; json?: boolean }) => {
        // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
        const decision = checkFlags(ApprovalDecisionInput, { approver: opts.as, comment: opts.comment, waitId: opts.waitId }, DECISION_FLAGS, {
          help: `unwind ${action}`,
        });
        const client = await context.temporal();
        const record = await client.sagas[action](id, decision);
        context.emit(opts.json, record, (r) => renderApprovalRecord(id, r));
      });
  }
}
