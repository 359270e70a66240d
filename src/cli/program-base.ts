/**
 * What every `unwind` program shares, whichever way its commands are registered: the global
 * options and help, the index the build writes, and the one place where errors become an exit
 * code and a line on stderr.
 *
 * Two programs use it: program.ts registers every command group (the sources, the tests, the
 * build's index), and main.ts, the built CLI's entry, registers only the group of the command
 * it runs and lists the others from the index. This module loads no command group, nor zod.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { type CliContext, type CliContextOptions, type CliIo, DEFAULT_RACK_URL, createCliContext, parseAddress, parseRackUrl } from './context';
import { EXIT_CODES_HELP, ExitCode, toCliError } from './exit-codes';

/** A command group: registers its commands on the program and uses the shared context when run. */
export type RegisterCommands = (program: Command, context: CliContext) => void;

/** One top-level command as `unwind --help` lists it, and the command group that registers it. */
export interface CommandIndexEntry {
  group: string;
  name: string;
  /** The listing's left column, e.g. `show [options] <id>`. */
  term: string;
  description: string;
}

/** What `npm run build` records of the compiled CLI (src/cli/write-cli-index.ts writes it). */
export interface CliIndex {
  /** The top-level commands, from which `unwind --help` lists them without loading their groups. */
  commands: CommandIndexEntry[];
  /**
   * Every source file the CLI may load (e.g. `src/cli/sagas.ts`, relative to the root):
   * bin/unwind.js runs the sources instead of the build when one changed after the build began.
   */
  sources: string[];
}

/**
 * Where the built CLI keeps its index, beside the compiled program. The sources have none: run
 * through tsx, the CLI registers every group, so the index can never be older than the code.
 */
export const CLI_INDEX_FILE = join(__dirname, 'cli-index.json');

/** The index of the built CLI, or undefined when running from the sources. */
export function readCliIndex(): CliIndex | undefined {
  if (!existsSync(CLI_INDEX_FILE)) return undefined;
  return JSON.parse(readFileSync(CLI_INDEX_FILE, 'utf8')) as CliIndex;
}

/** The program with its global options and help, before any command is registered. */
export interface BareProgram {
  program: Command;
  context: CliContext;
  /**
   * Lists a command of the index under its name, term and description without registering it:
   * for help and for commander's "did you mean". It is never run: its group is loaded when
   * the command line names it.
   */
  listOnly(entry: CommandIndexEntry): void;
}

/**
 * Builds the program and its context with no command yet. Nothing connects until a command runs.
 *
 * Commander is told never to exit the process: its usage errors come back as exceptions so
 * that {@link runProgram} can apply the exit-code contract (usage errors exit 2, not commander's 1).
 */
export function bareProgram(options: CliContextOptions = {}): BareProgram {
  const io: CliIo = options.io ?? { stdout: process.stdout, stderr: process.stderr, env: process.env };
  const program = new Command('unwind');
  const context = createCliContext(program, { ...options, io });
  // A listed command has no options or arguments of its own: its term comes from the index.
  const listedTerms = new Map<Command, string>();

  program
    .description('Operate unwind sagas and the rack they run against.')
    // Only `-V` is the program's own flag: subcommands may take a `--version` (`firmware set-target`);
    // a leading `--version` still prints the version (runProgram maps it).
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
    .configureHelp({
      showGlobalOptions: true,
      subcommandTerm(this: Help, command: Command) {
        return listedTerms.get(command) ?? Help.prototype.subcommandTerm.call(this, command);
      },
    })
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
  return {
    program,
    context,
    listOnly(entry) {
      listedTerms.set(program.command(entry.name).description(entry.description), entry.term);
    },
  };
}

/**
 * Finishes the program once its commands are registered: empty values refused before every
 * parser (`refuseEmptyValues` from flags.ts, passed in so that this module loads no zod), and
 * commander's own usage errors reshaped into the CLI's one-line form.
 */
export function finishProgram(program: Command, refuseEmptyValues: ((command: Command) => void) | undefined): void {
  refuseEmptyValues?.(program);
  for (const command of walk(program)) {
    const path = commandPath(command);
    command.configureOutput({
      outputError: (text, write) => write(`unwind: ${commanderMessage(text)}; see '${path} --help'\n`),
    });
  }
}

/**
 * Runs the program `build` makes for `argv` (as `process.argv`: node, script, args…) and returns the exit code.
 * Never throws: every failure is printed as one line on stderr (plus the stack with
 * `UNWIND_DEBUG=1`) and mapped to the exit-code contract.
 */
export async function runProgram(argv: readonly string[], build: (argv: readonly string[]) => { program: Command; context: CliContext }): Promise<ExitCode> {
  const args = argv[2] === '--version' ? [...argv.slice(0, 2), '-V', ...argv.slice(3)] : [...argv];
  const { program, context } = build(args);
  const { io } = context;
  try {
    await program.parseAsync(args);
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

/**
 * The command `args` (the arguments after node and the script) runs: its first word that is
 * neither a global option nor an option's value; for `help <command>`, that command.
 */
export function commandNamed(program: Command, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (arg.startsWith('-')) {
      const option = program.options.find((o) => o.long === arg || o.short === arg);
      if (option && (option.required || option.optional)) i++; // `--address host:7233`, not `--address=…`
      continue;
    }
    return arg === 'help' ? commandNamed(program, args.slice(i + 1)) : arg;
  }
  return undefined;
}

/** An argument that is, or gives an option, an empty value: `''`, `'  '`, `--as=`. */
export function isBlankValue(arg: string): boolean {
  return arg.trim() === '' || /^--?[^=\s]+=\s*$/.test(arg);
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

/**
 * package.json's version. The program is compiled to dist/src/cli/ in a checkout and in the
 * Docker image (/app/dist/src/cli, package.json in /app), and runs as src/cli/ through tsx:
 * the nearest package.json above that is unwind's is the one.
 */
function packageVersion(): string {
  for (let dir = __dirname, parent = join(dir, '..'); dir !== parent; dir = parent, parent = join(dir, '..')) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'unwind' && manifest.version) return manifest.version;
  }
  return 'unknown';
}
