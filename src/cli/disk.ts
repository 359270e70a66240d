/**
 * `unwind disk …`: start the disk sagas (`diskCreate`) through the typed client. Prints the
 * saga's id; `--wait` follows it to the end (see saga-start.ts for the exit codes).
 */
import type { Command } from 'commander';
import { DiskCreateParams } from '../schemas/disk';
import type { CliContext } from './context';
import { checkFlags } from './flags';
import { REQUEST_ID_HELP, type StartOptions, identityHelp, numberish, startSaga, withStartOptions } from './saga-start';

/** Registers `unwind disk create` on `program`. */
export function register(program: Command, context: CliContext): void {
  const disk = program
    .command('disk')
    .description('create disks: start their sagas')
    .addHelpText('after', '\nExamples:\n  $ unwind disk create --name data-1 --size 100 --wait');

  withStartOptions(disk.command('create'))
    .description('start diskCreate: a disk and three replicas on distinct sleds (saga id disk-create/<name>/<request-id>)')
    .option('--name <name>', 'the disk name, a DNS label: 1 to 63 lowercase letters, digits or dashes, starting with a letter, not ending with a dash')
    .option('--size <GiB>', 'size in GiB, 1 to 16384', numberish)
    .option('--request-id <id>', REQUEST_ID_HELP)
    .addHelpText(
      'after',
      `
With --wait: exit 0 when the saga completes, 1 when it unwound, 6 when it paused for an
operator (the command to run is printed).
${identityHelp('another create of the same name runs')} A name may be used again once
its disk is gone; whether a live disk has it is the rack's rule (a refusal unwinds).

Examples:
  $ unwind disk create --name data-1 --size 100
  $ unwind disk create --name data-1 --size 100 --wait --json
  $ unwind disk create --name data-1 --size 100 --request-id nexus-7f3a   # repeatable safely`,
    )
    .action(async (opts: StartOptions & { name?: string; size?: number }) => {
      const flags = { name: '--name', sizeGiB: '--size', requestId: '--request-id' };
      // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
      const request = checkFlags(DiskCreateParams, { name: opts.name, sizeGiB: opts.size, requestId: opts.requestId }, flags, { help: 'unwind disk create' });
      await startSaga(context, opts, flags, (client) => client.disks.create(request));
    });
}
