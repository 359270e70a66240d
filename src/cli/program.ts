/**
 * The `unwind` program with every command group registered: what the sources run (tsx), what
 * tests drive in-process, and what the build's index is made from. The global options, help
 * and error handling are in program-base.ts; the built CLI (main.ts) registers only the group of
 * the command it runs.
 *
 * ## Adding a command group
 *
 * Write `src/cli/<group>.ts` exporting `register(program, context)` (a {@link RegisterCommands}),
 * add it to {@link commandGroups} and its loader to `groupLoaders` in main.ts (the compiler
 * holds the two to the same names), and in its actions:
 * - check every flag before connecting, so bad input exits 2 at once whether or not the
 *   servers are up (see flags.ts): parse-time `argParser`s throwing `usageError(...)`,
 *   `requiredOption`, choices, and `checkFlags(schema, request, flags)` for a request a schema
 *   checks (the client's or the rack's), named by the flags the operator typed. Empty values are
 *   refused for every option and argument by the program itself;
 * - then get clients from the context: `context.rack()`, `await context.temporal()` (lazy; the
 *   program closes them);
 * - print data with `context.emit(opts.json, data, render)` (add `--json` to commands that
 *   print data), notes and progress to stderr (`context.note`, `createProgress`);
 * - throw `usageError(...)` / `new CliError(ExitCode.X, what, hint)` for failures the operator
 *   must act on; client errors (rack, Temporal) may simply propagate: {@link toCliError} maps
 *   them to the exit-code contract of `exit-codes.ts`;
 * - set `context.exitCode` when the output is printed but the outcome is a failure.
 */
import type { Command } from 'commander';
import { createRackClient } from '../rack/client';
import type { CliContextOptions } from './context';
import type { ExitCode } from './exit-codes';
import { refuseEmptyValues } from './flags';
import { type CommandIndexEntry, type RegisterCommands, bareProgram, finishProgram, runProgram } from './program-base';
import { register as registerApprovals } from './approvals';
import { register as registerErrors } from './errors';
import { register as registerFirmware } from './firmware';
import { register as registerDisk } from './disk';
import { register as registerInstance } from './instance';
import { register as registerList } from './list';
import { register as registerRack } from './rack';
import { register as registerSagas } from './sagas';
import { register as registerSled } from './sled';
import { register as registerStart } from './start';

export type { RegisterCommands } from './program-base';

/** Every command group, in the order `unwind --help` lists them, named by its module (src/cli/<name>.ts). */
export const commandGroups = [
  { name: 'list', register: registerList },
  { name: 'sagas', register: registerSagas },
  { name: 'approvals', register: registerApprovals },
  { name: 'errors', register: registerErrors },
  { name: 'start', register: registerStart },
  { name: 'instance', register: registerInstance },
  { name: 'disk', register: registerDisk },
  { name: 'sled', register: registerSled },
  { name: 'firmware', register: registerFirmware },
  { name: 'rack', register: registerRack },
] as const satisfies readonly { name: string; register: RegisterCommands }[];

/** The name of a command group. */
export type CommandGroupName = (typeof commandGroups)[number]['name'];

/** Builds the program with every command and its context. Nothing connects until a command runs. */
export function createProgram(options: CliContextOptions = {}) {
  const { program, context } = bareProgram({ createRackClient, ...options });
  // Subcommands copy exitOverride and the output streams from their parent when created.
  for (const group of commandGroups) group.register(program, context);
  // After every group registered its parsers: an empty value is refused before them.
  finishProgram(program, refuseEmptyValues);
  return { program, context };
}

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, args…) and returns the exit code.
 * Never throws: every failure is printed as one line on stderr (plus the stack with
 * `UNWIND_DEBUG=1`) and mapped to the exit-code contract.
 */
export function runCli(argv: readonly string[], options: CliContextOptions = {}): Promise<ExitCode> {
  return runProgram(argv, () => createProgram(options));
}

/** The commands of the build's index: each group registered alone, its top-level commands listed. */
export function commandIndex(): CommandIndexEntry[] {
  return commandGroups.flatMap((group) => {
    const { program, context } = bareProgram();
    group.register(program, context);
    const help = program.createHelp();
    return program.commands.map((command: Command) => ({
      group: group.name,
      name: command.name(),
      term: help.subcommandTerm(command),
      description: help.subcommandDescription(command),
    }));
  });
}
