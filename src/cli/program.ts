/**
 * The `unwind` program: global options, the command groups, and the one place where errors
 * become an exit code and a line on stderr.
 *
 * ## Adding a command group
 *
 * Write `src/cli/<group>.ts` exporting `register(program, context)` (a {@link RegisterCommands}),
 * add it to {@link commandGroups}, and in its actions:
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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { type CliContext, type CliContextOptions, type CliIo, DEFAULT_RACK_URL, createCliContext, parseAddress, parseRackUrl } from './context';
import { EXIT_CODES_HELP, ExitCode, toCliError } from './exit-codes';
import { refuseEmptyValues } from './flags';
import { register as registerApprovals } from './approvals';
import { register as registerErrors } from './errors';
import { register as registerFirmware } from './firmware';
import { register as registerDisk } from './disk';
import { register as registerInstance } from './instance';
import { register as registerRack } from './rack';
import { register as registerSagas } from './sagas';
import { register as registerSled } from './sled';

/** A command group: registers its commands on the program and uses the shared context when run. */
export type RegisterCommands = (program: Command, context: CliContext) => void;

/** Every command group, in the order `unwind --help` lists them. */
export const commandGroups: readonly RegisterCommands[] = [
  registerSagas,
  registerApprovals,
  registerErrors,
  registerInstance,
  registerDisk,
  registerSled,
  registerFirmware,
  registerRack,
];

/**
 * Builds the program and its context. Nothing connects until a command runs.
 *
 * Commander is told never to exit the process: its usage errors come back as exceptions so
 * that {@link runCli} can apply the exit-code contract (usage errors exit 2, not commander's 1).
 */
export function createProgram(options: CliContextOptions = {}): { program: Command; context: CliContext } {
  const io: CliIo = options.io ?? { stdout: process.stdout, stderr: process.stderr, env: process.env };
  const program = new Command('unwind');
  const context = createCliContext(program, { ...options, io });

  program
    .description('Operate unwind sagas and the rack they run against.')
    // Only `-V` is the program's own flag: subcommands may take a `--version` (`firmware set-target`);
    // a leading `--version` still prints the version (runCli maps it).
    .version(packageVersion(), '-V', 'print the version (or --version as the first argument)')
    .helpOption('-h, --help', 'show help for a command')
    .option('--address <host:port>', 'Temporal frontend address (env TEMPORAL_ADDRESS; default localhost:7233)', (v) => parseAddress(v, '--address'))
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--profile <name>', 'profile of the Temporal profile file (env TEMPORAL_PROFILE; default "default")')
    .option('--tls-cert <path>', 'client certificate (PEM) for mTLS (env TEMPORAL_TLS_CLIENT_CERT_PATH)')
    .option('--tls-key <path>', 'client private key (PEM) for mTLS (env TEMPORAL_TLS_CLIENT_KEY_PATH)')
    .option('--tls-ca <path>', 'CA certificate (PEM) of a private root (env TEMPORAL_TLS_SERVER_CA_CERT_PATH)')
    .option('--tls-server-name <name>', 'TLS server name override (env TEMPORAL_TLS_SERVER_NAME)')
    .option('--rack-url <url>', `the rack's base URL (env UNWIND_RACK_URL; default ${DEFAULT_RACK_URL})`, (v) => parseRackUrl(v))
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `\nExamples:\n` +
        `  $ unwind list --state needs-operator\n` +
        `  $ unwind show instance-create/web-1\n` +
        `  $ unwind retry instance-create/web-1 --reason 'sled-3 back online' --as alice\n` +
        `  $ unwind list --state awaiting-approval\n` +
        `  $ unwind approve sled-replace/sled-3 --as alice --comment 'evacuated, go'\n` +
        `  $ unwind errors --since 1h\n` +
        `  $ unwind instance create --name web-1 --cpus 2 --memory 4 --disk 20 --wait\n` +
        `  $ unwind rack status\n` +
        `\nConnection settings: flags over TEMPORAL_* variables over the profile (TEMPORAL_PROFILE) of the profile file\n` +
        `(TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml). TLS is used when any TLS flag or setting is set,\n` +
        `with TEMPORAL_TLS=true (server TLS only), or with an API key (TEMPORAL_API_KEY); TEMPORAL_TLS=false turns it off.\n` +
        `Payloads are encrypted when UNWIND_ENCRYPTION_KEY_FILE or UNWIND_ENCRYPTION_KEYS is set.\n` +
        `Set UNWIND_DEBUG=1 to see stack traces.\n\n${EXIT_CODES_HELP}\n`,
    );

  // Subcommands copy exitOverride and the output streams from their parent when created.
  for (const register of commandGroups) register(program, context);
  // After every group registered its parsers: an empty value is refused before them.
  refuseEmptyValues(program);
  for (const command of walk(program)) {
    const path = commandPath(command);
    command.configureOutput({
      // Commander's own usage errors, reshaped into the CLI's one-line form with a pointer to help.
      outputError: (text, write) => write(`unwind: ${commanderMessage(text)}; see '${path} --help'\n`),
    });
  }
  return { program, context };
}

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, args…) and returns the exit code.
 * Never throws: every failure is printed as one line on stderr (plus the stack with
 * `UNWIND_DEBUG=1`) and mapped to the exit-code contract.
 */
export async function runCli(argv: readonly string[], options: CliContextOptions = {}): Promise<ExitCode> {
  const { program, context } = createProgram(options);
  const { io } = context;
  try {
    await program.parseAsync(argv[2] === '--version' ? [...argv.slice(0, 2), '-V', ...argv.slice(3)] : [...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "exit" with 0; everything else commander rejects is usage, already printed.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const failure = toCliError(error, context.errorContext());
    io.stderr.write(`unwind: ${failure.message}\n`);
    if (io.env.UNWIND_DEBUG === '1') io.stderr.write(`${debugTrace(error)}\n`);
    return failure.exitCode;
  } finally {
    await context.close().catch(() => undefined);
  }
}

function* walk(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* walk(sub);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `error: unknown option '--x'\n(Did you mean --y?)` → `unknown option '--x' (Did you mean --y?)`. */
function commanderMessage(text: string): string {
  return text
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\.$/, '');
}

function debugTrace(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; depth++) {
    lines.push(depth === 0 ? '' : 'caused by:', e instanceof Error ? (e.stack ?? e.message) : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return lines.filter(Boolean).join('\n');
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
