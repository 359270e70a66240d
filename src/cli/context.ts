/**
 * What every command group of the CLI shares: the global options, lazily built clients and
 * the output streams.
 *
 * Clients are built on first use, so `unwind rack …` never connects to Temporal and
 * `unwind --help` connects to nothing.
 */
import type { Command } from 'commander';
import type { UnwindClient, UnwindClientOptions } from '../client';
import type { VisibilityConnection } from '../client/visibility-wire';
import type { RackClient, RackClientOptions } from '../rack/client';
import { loadEncryptionKeys } from '../temporal/codec';
import {
  type ConnectionConfig,
  ConnectionConfigError,
  type ConnectionOverrides,
  type ConnectionSetting,
  type SdkConnectOptions,
  type TlsConfig,
  connectionConfig,
  sdkConnectOptions,
} from '../temporal/connection';
import { CliError, type ErrorContext, ExitCode, toCliError, usageError } from './exit-codes';
import { type OutputStream, type Styles, colorEnabled, styles } from './format';

/** The rack URL used when neither `--rack-url` nor `UNWIND_RACK_URL` is set. */
export const DEFAULT_RACK_URL = 'http://127.0.0.1:7280';

/** The global options as commander parses them (every one optional: defaults come from the env). */
export interface GlobalOptions {
  address?: string;
  namespace?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsServerName?: string;
  profile?: string;
  rackUrl?: string;
}

/** The global flags, named in errors about the settings they gave. */
const FLAG_SOURCES: Partial<Record<ConnectionSetting, string>> = {
  address: '--address',
  namespace: '--namespace',
  profile: '--profile',
  tls: 'a --tls-* flag',
  cert: '--tls-cert',
  key: '--tls-key',
  ca: '--tls-ca',
  serverName: '--tls-server-name',
};

/** The process around the CLI; tests pass their own. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
}

/** Builds the Temporal client; {@link createUnwindClient} unless a test passes a fake. */
export type ConnectTemporal = (options: UnwindClientOptions) => Promise<UnwindClient>;

/**
 * The shared context handed to every command group's `register(program, context)`.
 *
 * Accessors read the global options when called (after parsing), never at registration time.
 */
export interface CliContext {
  /** The streams and environment of the process. */
  readonly io: CliIo;
  /**
   * Temporal address, namespace, API key and TLS: flags over `TEMPORAL_*` env over the profile
   * file over defaults. @throws a usage error (exit 2) for unusable settings (unknown profile, …).
   */
  connection(): ConnectionConfig;
  /** The rack's base URL: `--rack-url`, else `UNWIND_RACK_URL`, else {@link DEFAULT_RACK_URL}. */
  rackUrl(): string;
  /** The rack client, built once on first call. */
  rack(): RackClient;
  /**
   * The connected unwind (Temporal) client, built once on first call and closed by the
   * program after the command. Connection failures reject with a {@link CliError} (exit 3);
   * unreadable TLS files, unusable profiles and encryption keys with a usage error (exit 2),
   * before connecting.
   */
  temporal(): Promise<UnwindClient>;
  /**
   * A connection for reading visibility alone (`unwind list`), without Temporal's client: the
   * same settings and connection checks as {@link temporal} (not the encryption keys: search
   * attributes never pass through the codec), built once and closed with it. Nothing is sent
   * until a page is fetched; a failure to connect rejects then, as the client's would.
   */
  visibility(): Promise<VisibilityConnection>;
  /** Writes a line (or lines) of text to stdout. */
  print(text: string): void;
  /** Writes `data` to stdout as indented JSON: the `--json` form of a command's output. */
  printJson(data: unknown): void;
  /** Prints `data` as JSON when `json` is set, else the text `render` makes of it. */
  emit<T>(json: boolean | undefined, data: T, render: (data: T) => string): void;
  /** Writes a note to stderr (progress, warnings): never mixed into data on stdout. */
  note(text: string): void;
  /** Styles for stdout: colour only when stdout is a TTY and `NO_COLOR` is unset. */
  readonly style: Styles;
  /** True when stdout gets colour; pass to `renderTable`'s `color`. */
  readonly color: boolean;
  /**
   * The exit code once the command returns; 0 unless a command sets it. Set it when the
   * command printed its result but the outcome is a failure (e.g. the saga unwound: 1).
   */
  exitCode: ExitCode;
  /** Where the CLI was connecting, for error messages. */
  errorContext(): ErrorContext;
  /** Closes what was opened (the Temporal connection). Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@link createCliContext}. */
export interface CliContextOptions {
  io?: CliIo;
  /** How to connect to Temporal; tests pass a fake. */
  connectTemporal?: ConnectTemporal;
  /** The rack client's per-request timeout; 10 s unless told. */
  rackTimeoutMs?: number;
  /**
   * Builds the rack client: `createRackClient` of src/rack/client.ts, which program.ts passes.
   * Without it the module is loaded on first use, as it loads zod: the built CLI's `--help` does
   * without (a bare `require` of a .ts file works under tsx, not under vitest).
   */
  createRackClient?: (options: RackClientOptions) => RackClient;
}

/**
 * Creates the context for `program`: the global options are read from `program.opts()` the
 * first time an accessor needs them.
 */
export function createCliContext(program: Command, options: CliContextOptions = {}): CliContext {
  const io = options.io ?? { stdout: process.stdout, stderr: process.stderr, env: process.env };
  const color = colorEnabled(io.stdout, io.env);
  let rack: RackClient | undefined;
  let temporal: Promise<UnwindClient> | undefined;
  let visibility: Promise<VisibilityConnection> | undefined;
  const globals = () => program.opts<GlobalOptions>();

  const context: CliContext = {
    io,
    color,
    style: styles(color),
    exitCode: ExitCode.Ok,
    connection() {
      try {
        return connectionConfig(flagOverrides(globals()), io.env);
      } catch (error) {
        if (error instanceof ConnectionConfigError) throw usageError(error.message, CONNECTION_HINT);
        throw error;
      }
    },
    rackUrl() {
      return globals().rackUrl ?? io.env.UNWIND_RACK_URL ?? DEFAULT_RACK_URL;
    },
    rack() {
      if (!rack) {
        const source = globals().rackUrl !== undefined ? '--rack-url' : io.env.UNWIND_RACK_URL !== undefined ? 'UNWIND_RACK_URL' : 'default';
        // The client module only: the rack barrel would load the server's SQLite store too.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const create = options.createRackClient ?? (require('../rack/client') as typeof import('../rack/client')).createRackClient;
        rack = create({ baseUrl: parseRackUrl(context.rackUrl(), source), timeoutMs: options.rackTimeoutMs ?? 10_000 });
      }
      return rack;
    },
    temporal() {
      temporal ??= Promise.resolve().then(() => connect(context.connection(), flagOverrides(globals()), io.env, options.connectTemporal));
      return temporal;
    },
    visibility() {
      visibility ??= Promise.resolve().then(() => {
        const config = context.connection();
        const sdkOptions = checkedConnection(config);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, as the client is
        const { openVisibility } = require('../client/visibility-wire') as typeof import('../client/visibility-wire');
        return openVisibility(sdkOptions, config.namespace);
      });
      return visibility;
    },
    print(text) {
      io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    printJson(data) {
      io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    },
    emit(json, data, render) {
      if (json) context.printJson(data);
      else context.print(render(data));
    },
    note(text) {
      io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    errorContext() {
      let temporalAddress: string | undefined;
      try {
        temporalAddress = context.connection().address;
      } catch {
        temporalAddress = undefined;
      }
      return { rackUrl: safeRackUrl(context), temporalAddress };
    },
    async close() {
      const pending = temporal;
      const reader = visibility;
      temporal = undefined;
      visibility = undefined;
      (await reader?.catch(() => undefined))?.close();
      if (!pending) return;
      const client = await pending.catch(() => undefined);
      await client?.close();
    },
  };
  return context;
}

const CONNECTION_HINT = 'fix the flag, the TEMPORAL_* variable or the profile file named';

/** The connection settings the global flags give; a TLS flag replaces that one field and turns TLS on. */
function flagOverrides(g: GlobalOptions): ConnectionOverrides {
  const tls: TlsConfig = Object.fromEntries(
    Object.entries({ certPath: g.tlsCert, keyPath: g.tlsKey, caPath: g.tlsCa, serverName: g.tlsServerName }).filter(([, v]) => v !== undefined),
  );
  return Object.fromEntries(
    Object.entries({ address: g.address, namespace: g.namespace, profile: g.profile, tls: Object.keys(tls).length > 0 ? tls : undefined, sources: FLAG_SOURCES }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}

function safeRackUrl(context: CliContext): string | undefined {
  try {
    return context.rackUrl();
  } catch {
    return undefined;
  }
}

/**
 * Checks a rack URL early, so a typo is a usage error naming the flag rather than a
 * confusing network failure.
 * @throws a usage error (exit 2)
 */
export function parseRackUrl(value: string, source = '--rack-url'): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw usageError(`${source}: '${value}' is not an http(s) URL`, 'give one like http://127.0.0.1:7280 with --rack-url or UNWIND_RACK_URL');
  }
  return value;
}

/**
 * Checks a Temporal address (`host`, `host:port`, `[v6]:port`) before anything dials it: the SDK
 * refuses a URL (`http://…`) only when connecting, which the CLI would report as an outage.
 * @param source the flag or variable it came from, named in the error
 * @throws a usage error (exit 2)
 */
export function parseAddress(value: string, source = '--address'): string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
    throw usageError(`${source}: '${value}' is not host:port`, 'give one like localhost:7233 or temporal.example.com:7233 (no scheme) with --address or TEMPORAL_ADDRESS');
  }
  return value.trim();
}

/**
 * Checks what came from the environment or the profile file as the flags were checked when
 * parsed (a typo is exit 2, not an outage after a 10 s timeout) and reads the TLS files (a
 * missing file is the operator's typo, not an outage).
 * @returns the options to connect with.
 */
function checkedConnection(config: ConnectionConfig): SdkConnectOptions {
  parseAddress(config.address, config.sources.address);
  if (config.namespace.trim() === '') throw usageError(`${config.sources.namespace ?? 'the namespace'} must not be empty`, "give a namespace, e.g. 'default'");
  try {
    return sdkConnectOptions(config);
  } catch (error) {
    if (error instanceof ConnectionConfigError) throw usageError(error.message, CONNECTION_HINT);
    throw error;
  }
}

async function connect(config: ConnectionConfig, overrides: ConnectionOverrides, env: NodeJS.ProcessEnv, connectTemporal: ConnectTemporal | undefined): Promise<UnwindClient> {
  checkedConnection(config);
  // The encryption keys too: a missing key file is a typo (exit 2).
  try {
    loadEncryptionKeys(env);
  } catch (error) {
    throw usageError((error as Error).message, 'fix UNWIND_ENCRYPTION_KEY_FILE or UNWIND_ENCRYPTION_KEYS, or unset both to send payloads unencrypted');
  }
  // The factory alone: connecting loads no saga family (see src/client/connect.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const doConnect = connectTemporal ?? (require('../client/connect') as typeof import('../client/connect')).createUnwindClient;
  try {
    return await doConnect({ ...overrides, env });
  } catch (error) {
    const mapped = toCliError(error, { temporalAddress: config.address });
    if (mapped.exitCode !== ExitCode.Failed) throw mapped;
    // Whatever else fails while connecting is still "cannot connect": say where.
    throw new CliError(
      ExitCode.Unreachable,
      `cannot connect to Temporal at ${config.address} (namespace ${config.namespace}): ${(error as Error).message ?? String(error)}`,
      'is the server running? set --address/--namespace or TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE',
      { cause: error },
    );
  }
}

/**
 * Loads the client (src/client) on demand: the Temporal SDK takes about half a second to load, which
 * every rack command would pay for nothing. (A dynamic `import()` would bypass tsx's CJS
 * hook that runs the sources, hence `require`.)
 */
export function loadUnwindClient(): typeof import('../client') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../client') as typeof import('../client');
}
