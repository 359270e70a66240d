/**
 * `unwind instance …`: start the instance sagas (`instanceCreate`, `instanceMigrate`,
 * `instanceDelete`) the way the control plane does, through the typed client. Each prints the
 * saga's id; `--wait` follows it to the end (see saga-start.ts for the exit codes).
 */
import type { Command } from 'commander';
import { InstanceCreateParams, InstanceDeleteParams, InstanceMigrateParams } from '../schemas/instance';
import type { CliContext } from './context';
import { checkFlags } from './flags';
import { REQUEST_ID_HELP, type StartOptions, identityHelp, numberish, startSaga, withStartOptions } from './saga-start';

const WAIT_HELP = `
With --wait: exit 0 when the saga completes, 1 when it unwound (the failed step and its cause
are printed), 6 when it paused for an operator (the 'unwind retry|unwind <id> …' to run is
printed; the saga keeps waiting).`;

/** Migrate and delete exclude each other on one instance. */
const INSTANCE_BUSY = 'a migrate or a delete of the same instance runs';

/** Registers `unwind instance create|migrate|delete` on `program`. */
export function register(program: Command, context: CliContext): void {
  const instance = program
    .command('instance')
    .description('create, migrate and delete instances (VMs): start their sagas')
    .addHelpText(
      'after',
      `
Examples:
  $ unwind instance create --name web-1 --cpus 2 --memory 4 --disk 20 --wait
  $ unwind instance migrate inst-3 --to sled-2 --wait
  $ unwind instance delete inst-3`,
    );

  withStartOptions(instance.command('create'))
    .description('start instanceCreate: a VM with a boot disk and NICs (saga id instance-create/<name>/<request-id>)')
    .option('--name <name>', 'the instance name, a DNS label: 1 to 63 lowercase letters, digits or dashes, starting with a letter, not ending with a dash')
    .option('--cpus <n>', 'vCPUs, 1 to 64', numberish)
    .option('--memory <GiB>', 'memory in GiB, 1 to 1024', numberish)
    .option('--disk <GiB>', 'boot disk size in GiB, 1 to 16384', numberish)
    .option('--nics <n>', 'network interfaces, 1 to 4 (default 1)', numberish)
    .option('--request-id <id>', REQUEST_ID_HELP)
    .addHelpText(
      'after',
      `${WAIT_HELP}
${identityHelp('another create of the same name runs')} A name may be used again once
its instance is gone; whether a live instance has it is the rack's rule (a refusal unwinds).

Examples:
  $ unwind instance create --name web-1 --cpus 2 --memory 4 --disk 20
  $ unwind instance create --name db-1 --cpus 8 --memory 32 --disk 500 --nics 2 --wait --json`,
    )
    .action(async (opts: StartOptions & { name?: string; cpus?: number; memory?: number; disk?: number; nics?: number }) => {
      const flags = { name: '--name', cpus: '--cpus', memoryGiB: '--memory', diskGiB: '--disk', nics: '--nics', requestId: '--request-id' };
      // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
      const request = checkFlags(
        InstanceCreateParams,
        { name: opts.name, cpus: opts.cpus, memoryGiB: opts.memory, diskGiB: opts.disk, nics: opts.nics, requestId: opts.requestId },
        flags,
        { help: 'unwind instance create' },
      );
      await startSaga(context, opts, flags, (client) => client.instances.create(request));
    });

  withStartOptions(instance.command('migrate'))
    .description('start instanceMigrate: move a running instance to another sled (saga id instance-migrate/<instance>/<request-id>)')
    .argument('<instance>', 'the instance to move: its id, or its name (looked up in the rack)')
    .option('--to <sled>', 'the target sled (default: the sled with the most free capacity)')
    .option('--request-id <id>', REQUEST_ID_HELP)
    .addHelpText(
      'after',
      `${WAIT_HELP}
${identityHelp(INSTANCE_BUSY)}

Examples:
  $ unwind instance migrate inst-3 --wait
  $ unwind instance migrate inst-3 --to sled-2 --request-id drain-2024-06 --wait`,
    )
    .action(async (instance: string, opts: StartOptions & { to?: string }) => {
      // Checked before connecting (and before the rack lookup of a name).
      checkFlags(InstanceMigrateParams, { instanceId: instance, targetSledId: opts.to, requestId: opts.requestId },
        { instanceId: '<instance>', targetSledId: '--to', requestId: '--request-id' }, { help: 'unwind instance migrate' });
      const request = { instanceId: await instanceIdOf(context, instance), targetSledId: opts.to, requestId: opts.requestId };
      await startSaga(
        context,
        opts,
        { instanceId: '<instance>', targetSledId: '--to', requestId: '--request-id' },
        (client) => client.instances.migrate(request),
      );
    });

  withStartOptions(instance.command('delete'))
    .description('start instanceDelete: stop an instance and remove its VMM, NICs and disk (saga id instance-delete/<instance>/<request-id>)')
    .argument('<instance>', 'the instance to delete: its id, or its name (looked up in the rack)')
    .option('--request-id <id>', REQUEST_ID_HELP)
    .addHelpText(
      'after',
      `${WAIT_HELP}
${identityHelp(INSTANCE_BUSY)} A delete that unwound may be made again: it is a new request.

Examples:
  $ unwind instance delete inst-3
  $ unwind instance delete web-1 --wait`,
    )
    .action(async (instance: string, opts: StartOptions) => {
      checkFlags(InstanceDeleteParams, { instanceId: instance, requestId: opts.requestId },
        { instanceId: '<instance>', requestId: '--request-id' }, { help: 'unwind instance delete' });
      const request = { instanceId: await instanceIdOf(context, instance), requestId: opts.requestId };
      await startSaga(context, opts, { instanceId: '<instance>', requestId: '--request-id' }, (client) => client.instances.delete(request));
    });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id of the instance an operator named: an id (a UUID) as it is, a name looked up in the
 * rack; a name the rack does not know is passed on as an id, and the saga reports it unknown.
 */
async function instanceIdOf(context: CliContext, idOrName: string): Promise<string> {
  if (UUID.test(idOrName)) return idOrName;
  const named = await context.rack().list('instances', { name: idOrName });
  return named.length === 1 ? named[0]!.id : idOrName;
}
