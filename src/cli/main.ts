/**
 * Entry point of the `unwind` operator CLI (run by `bin/unwind.js`, built or through tsx).
 *
 * Built, it starts at once: the index `npm run build` writes beside it lists every command,
 * so only the command group the command line names is loaded (the others are listed for help
 * from the index), and `unwind --help` or `--version` load no group at all. Run from the
 * sources there is no index, and program.ts registers every group.
 *
 * Sets `process.exitCode` rather than calling `process.exit`, so piped stdout is flushed
 * completely before the process ends.
 */
import type { CommandGroupName } from './program';
import { type CliIndex, type RegisterCommands, bareProgram, commandNamed, finishProgram, isBlankValue, readCliIndex, runProgram } from './program-base';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on use; `require`, as tsx runs the sources through its CJS hook */
/** Each command group's module, loaded only when a command of it runs. */
const groupLoaders: Record<CommandGroupName, () => RegisterCommands> = {
  list: () => (require('./list') as typeof import('./list')).register,
  sagas: () => (require('./sagas') as typeof import('./sagas')).register,
  approvals: () => (require('./approvals') as typeof import('./approvals')).register,
  errors: () => (require('./errors') as typeof import('./errors')).register,
  start: () => (require('./start') as typeof import('./start')).register,
  instance: () => (require('./instance') as typeof import('./instance')).register,
  disk: () => (require('./disk') as typeof import('./disk')).register,
  sled: () => (require('./sled') as typeof import('./sled')).register,
  firmware: () => (require('./firmware') as typeof import('./firmware')).register,
  rack: () => (require('./rack') as typeof import('./rack')).register,
};

/** The program for `argv` from the index: the named command's group registered, the rest listed. */
function indexedProgram(index: CliIndex, argv: readonly string[]) {
  const { program, context, listOnly } = bareProgram();
  const name = commandNamed(program, argv.slice(2));
  const wanted = index.commands.find((entry) => entry.name === name)?.group as CommandGroupName | undefined;
  for (const [i, entry] of index.commands.entries()) {
    if (entry.group !== wanted) listOnly(entry);
    // Registered in full where its first command is listed, so the order of `--help` stays.
    else if (index.commands.findIndex((e) => e.group === wanted) === i) groupLoaders[wanted]()(program, context);
  }
  // flags.ts loads zod; only a blank value can trip its check, so a command line without one skips it.
  const refuse = argv.slice(2).some(isBlankValue) ? (require('./flags') as typeof import('./flags')).refuseEmptyValues : undefined;
  finishProgram(program, refuse);
  return { program, context };
}
/* eslint-enable @typescript-eslint/no-require-imports */

function run(argv: readonly string[]) {
  const index = readCliIndex();
  if (index) return runProgram(argv, (args) => indexedProgram(index, args));
  return (require('./program') as typeof import('./program')).runCli(argv); // eslint-disable-line @typescript-eslint/no-require-imports
}

// A reader that went away (`unwind list | head`) is not an error: stop quietly, as other tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runProgram handles every error; reaching this is a bug in the CLI itself.
    process.stderr.write(`unwind: internal error: ${error instanceof Error ? error.message : String(error)}; please report it\n`);
    process.exitCode = 1;
  },
);
