/**
 * `unwind sled …`: replacing a faulty sled. `replace` starts the `sledReplace` saga through the
 * typed client; `hardware-replaced` is what the technician runs once the new hardware is in.
 * The approval in between is `unwind approve|reject` (approvals.ts).
 */
import type { Command } from 'commander';
import { SledReplaceParams, type SledReplaceRequest } from '../schemas/sled';
import type { CliContext } from './context';
import { checkFlags, type FlagNames } from './flags';
import { REQUEST_ID_HELP, type StartOptions, identityHelp, numberish, startSaga, withStartOptions } from './saga-start';

/** A repeatable flag: every occurrence, in order. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface ReplaceOptions extends StartOptions {
  approver?: string[];
  technician?: string[];
  escalateTo?: string[];
  remindEvery?: string;
  escalateAfter?: string;
  expireAfter?: string;
  hardwareRemindEvery?: string;
  hardwareEscalateAfter?: string;
  concurrency?: number;
  rebalance?: boolean;
}

/** The flag each field of a `sledReplace` request comes from, so bad input names what was typed. */
const REPLACE_FLAGS: FlagNames = {
  sledId: '<sledId>',
  approvers: '--approver',
  technicians: '--technician',
  escalateTo: '--escalate-to',
  'approval.remindEvery': '--remind-every',
  'approval.escalateAfter': '--escalate-after',
  'approval.expireAfter': '--expire-after',
  'hardware.remindEvery': '--hardware-remind-every',
  'hardware.escalateAfter': '--hardware-escalate-after',
  evacuationConcurrency: '--concurrency',
  rebalance: '--rebalance',
  requestId: '--request-id',
};

/** The `sledReplace` request the flags describe (unchecked: {@link checkFlags} names every bad flag). */
export function replaceRequest(sledId: string, opts: ReplaceOptions): SledReplaceRequest {
  return {
    sledId,
    approvers: opts.approver ?? [],
    technicians: opts.technician ?? [],
    escalateTo: opts.escalateTo,
    approval: { remindEvery: opts.remindEvery, escalateAfter: opts.escalateAfter, expireAfter: opts.expireAfter },
    hardware: { remindEvery: opts.hardwareRemindEvery, escalateAfter: opts.hardwareEscalateAfter },
    evacuationConcurrency: opts.concurrency,
    rebalance: opts.rebalance,
    requestId: opts.requestId,
  } as SledReplaceRequest;
}

/** Registers `unwind sled replace|hardware-replaced` on `program`. */
export function register(program: Command, context: CliContext): void {
  const sled = program
    .command('sled')
    .description('replace a faulty sled: evacuate it, approve the power-off, swap the hardware, re-admit it')
    .addHelpText(
      'after',
      `
A replacement goes: mark the sled non-provisionable, migrate its instances off, move its
region replicas elsewhere, ask to power it off (the pivot: a rejection before it unwinds),
power off, wait for the technician, power on, verify the new serial, re-admit, optionally
rebalance. One replacement of a sled at a time: the replacement holds the sled (see
'unwind rack status', HELD BY) until it re-admits it, and a second one is refused. Follow it
with 'unwind show <id>'.

Examples:
  $ unwind sled replace sled-3 --approver alice --approver bob --technician tom --escalate-to lead --request-id rma-1042
  $ unwind list --state awaiting-approval
  $ unwind approve sled-replace/sled-3/rma-1042 --as alice --comment 'evacuated, go'
  $ unwind sled hardware-replaced sled-replace/sled-3/rma-1042 --serial SN-9F31 --as tom`,
    );

  withStartOptions(sled.command('replace'))
    .description('start sledReplace for a sled (saga id sled-replace/<sledId>/<request-id>)')
    .argument('<sledId>', 'the sled to replace, e.g. sled-3')
    .option('--approver <name>', 'who may approve the power-off (repeat for several; at least one)', collect)
    .option('--technician <name>', 'who swaps the hardware and reports it (repeat for several; at least one)', collect)
    .option('--escalate-to <name>', 'who is told, and may decide, once an approval or the technician is late (repeatable)', collect)
    .option('--remind-every <duration>', 'remind the approvers this often (default 4h)')
    .option('--escalate-after <duration>', 'escalate an undecided approval after this long (default 12h)')
    .option('--expire-after <duration>', 'an undecided approval expires (and rejects) after this long (default 3d)')
    .option('--hardware-remind-every <duration>', 'remind the technicians this often (default 8h)')
    .option('--hardware-escalate-after <duration>', 'escalate the hardware wait after this long (default 2d)')
    .option('--concurrency <n>', 'instances migrated off at once, 1 to 16 (default 4)', numberish)
    .option('--rebalance', 'after re-admission, migrate the evacuated instances back')
    .option('--request-id <id>', REQUEST_ID_HELP)
    .addHelpText(
      'after',
      `
Durations are a number and a unit: 30s, 10m, 4h, 3d, 2w, from 1s to 365d (zero, negative and
longer durations are refused); --remind-every and --escalate-after must be shorter than
--expire-after. The approvers are asked at once and reminded; the escalation contacts join them
after --escalate-after. The saga's status shows the
evacuation's progress and who must act since when ('unwind show <id>').

With --wait: follows the saga through the approval and the technician's wait (days, usually):
exit 0 when the sled is back, 1 when it unwound (e.g. the power-off was rejected) or was
cancelled, 6 when it paused for an operator. Interrupting the wait leaves the saga running.
${identityHelp('another replacement of the same sled runs')} A replacement that unwound (e.g.
rejected) may be requested again: it is a new request.

Examples:
  $ unwind sled replace sled-3 --approver alice --technician tom
  $ unwind sled replace sled-3 --approver alice --approver bob --technician tom --escalate-to lead \\
      --remind-every 2h --escalate-after 8h --expire-after 2d --concurrency 8 --rebalance
  $ unwind sled replace sled-3 --approver alice --technician tom --request-id second-failure --json`,
    )
    .action(async (sledId: string, opts: ReplaceOptions) => {
      const request = replaceRequest(sledId, opts);
      // Checked before connecting: bad flags (a duration of zero, or beyond a year, reminders
      // no more often than the expiry…) are exit 2 whether or not Temporal is up.
      checkFlags(SledReplaceParams, request, REPLACE_FLAGS, { help: 'unwind sled replace' });
      await startSaga(context, opts, REPLACE_FLAGS, (client) => client.sleds.replace(request));
    });

  sled
    .command('hardware-replaced')
    .description("report that a replacement's new hardware is in: the saga powers it on and verifies the serial")
    .argument('<id>', 'the replacement saga id, e.g. sled-replace/sled-3/rma-1042')
    .requiredOption('--serial <serial>', "the new sled's serial, as printed on the chassis")
    .requiredOption('--as <technician>', 'who swapped it: recorded in the saga')
    .option('--json', 'print the report as sent, as JSON')
    .addHelpText(
      'after',
      `
Only a technician named by --technician when the replacement started may report (--as).
Refused (exit 5, nothing sent) unless the saga waits for the hardware, i.e. the power-off was
approved and done. A serial the sled does not report pauses the saga for an operator
(step verify-new-sled); the technician may then report the right serial, and the operator's
'unwind retry' verifies it. Every report is kept: 'unwind show <id> --json' lists them.

Examples:
  $ unwind sled hardware-replaced sled-replace/sled-3/rma-1042 --serial SN-9F31 --as tom
  $ unwind sled hardware-replaced sled-replace/sled-3/second-failure --serial SN-A002 --as tom`,
    )
    .action(async (id: string, opts: { serial: string; as: string; json?: boolean }) => {
      const client = await context.temporal();
      // The report as the saga recorded it: `report` numbers it among the technicians' reports.
      const sent = await client.sleds.hardwareReplaced(id, { serial: opts.serial, technician: opts.as });
      context.emit(opts.json, { workflowId: id, ...sent }, (r) =>
        r.report > 1
          ? `reported to ${id}: new hardware serial ${r.serial}, replaced by ${r.technician} (report ${r.report}: the saga verifies the latest; ` +
            `if verify-new-sled waits for an operator, 'unwind retry ${id}' verifies this serial)`
          : `reported to ${id}: new hardware serial ${r.serial}, replaced by ${r.technician}; the saga now powers it on and verifies it (unwind show ${id})`,
      );
    });
}
