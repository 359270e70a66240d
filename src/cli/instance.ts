/**
 * `unwind instance …`: start the instance sagas (`instanceCreate`, `instanceMigrate`,
 * `instanceDelete`) the way the control plane does, through the typed client. Each prints the
 * saga's id; `--wait` follows it to the end (see saga-start.ts for the exit codes).
 */
import type { Command } from 'commander';
import type { InstanceCreateRequest } from '../schemas/instance';
import type { CliContext } from './context';
import { type StartOptions, numberish, startSaga, withStartOptions } from './saga-start';

const WAIT_HELP = `
With --wait: exit 0 when the saga completes, 1 when it unwound (the failed step and its cause
are printed), 6 when it paused for an operator (the 'unwind retry|unwind <id> …' to run is
printed; the saga keeps waiting). Starting the same request twice finds the same saga.`;

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
    .description('start instanceCreate: a VM with a boot disk and NICs (saga id instance-create/<name>)')
    .option('--name <name>', 'the instance name: lowercase letters, digits, dashes')
    .option('--cpus <n>', 'vCPUs, 1 to 64', numberish)
    .option('--memory <GiB>', 'memory in GiB, 1 to 1024', numberish)
    .option('--disk <GiB>', 'boot disk size in GiB, 1 to 16384', numberish)
    .option('--nics <n>', 'network interfaces, 1 to 4 (default 1)', numberish)
    .addHelpText(
      'after',
      `${WAIT_HELP}

Examples:
  $ unwind instance create --name web-1 --cpus 2 --memory 4 --disk 20
  $ unwind instance create --name db-1 --cpus 8 --memory 32 --disk 500 --nics 2 --wait --json`,
    )
    .action(async (opts: StartOptions & { name?: string; cpus?: number; memory?: number; disk?: number; nics?: number }) => {
      const request = { name: opts.name, cpus: opts.cpus, memoryGiB: opts.memory, diskGiB: opts.disk, nics: opts.nics };
      await startSaga(
        context,
        opts,
        { name: '--name', cpus: '--cpus', memoryGiB: '--memory', diskGiB: '--disk', nics: '--nics' },
        // Unchecked here on purpose: the client's schema reports every bad flag at once.
        (client) => client.instances.create(request as InstanceCreateRequest),
      );
    });

  withStartOptions(instance.command('migrate'))
    .description('start instanceMigrate: move a running instance to another sled')
    .argument('<instance>', 'the instance to move: its id, or its name (looked up in the rack)')
    .option('--to <sled>', 'the target sled (default: the sled with the most free capacity)')
    .option('--request-id <id>', 'tells two migrations of the same instance apart (letters, digits, . _ -)')
    .addHelpText(
      'after',
      `${WAIT_HELP}

Examples:
  $ unwind instance migrate inst-3 --wait
  $ unwind instance migrate inst-3 --to sled-2 --request-id drain-2024-06 --wait`,
    )
    .action(async (instance: string, opts: StartOptions & { to?: string; requestId?: string }) => {
      const request = { instanceId: await instanceIdOf(context, instance), targetSledId: opts.to, requestId: opts.requestId };
      await startSaga(
        context,
        opts,
        { instanceId: '<instance>', targetSledId: '--to', requestId: '--request-id' },
        (client) => client.instances.migrate(request),
      );
    });

  withStartOptions(instance.command('delete'))
    .description('start instanceDelete: stop an instance and remove its VMM, NICs and disk')
    .argument('<instance>', 'the instance to delete: its id, or its name (looked up in the rack)')
    .addHelpText(
      'after',
      `${WAIT_HELP}

Examples:
  $ unwind instance delete inst-3
  $ unwind instance delete web-1 --wait`,
    )
    .action(async (instance: string, opts: StartOptions) => {
      const instanceId = await instanceIdOf(context, instance);
      await startSaga(context, opts, { instanceId: '<instance>' }, (client) => client.instances.delete({ instanceId }));
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
