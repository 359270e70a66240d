/**
 * How unwind reaches a Temporal cluster: address, namespace, API key and TLS, read the way every
 * Temporal tool reads them (`@temporalio/envconfig`): a profile of the TOML profile file, then
 * the `TEMPORAL_*` variables over it, then explicit overrides (CLI flags, client options) over
 * both. The worker (`NativeConnection`), the client (`Connection`) and the CLI share it.
 *
 * | setting | variable | profile file key |
 * |---|---|---|
 * | address | `TEMPORAL_ADDRESS` (default `localhost:7233`) | `address` |
 * | namespace | `TEMPORAL_NAMESPACE` (default `default`) | `namespace` |
 * | API key | `TEMPORAL_API_KEY` (turns TLS on unless TLS is disabled) | `api_key` |
 * | TLS on/off | `TEMPORAL_TLS` (`true`/`1`, anything else off) | `tls.disabled` |
 * | client certificate | `TEMPORAL_TLS_CLIENT_CERT_PATH` / `_DATA` | `tls.client_cert_path` / `_data` |
 * | client key | `TEMPORAL_TLS_CLIENT_KEY_PATH` / `_DATA` | `tls.client_key_path` / `_data` |
 * | server CA | `TEMPORAL_TLS_SERVER_CA_CERT_PATH` / `_DATA` | `tls.server_ca_cert_path` / `_data` |
 * | server name (SNI) | `TEMPORAL_TLS_SERVER_NAME` | `tls.server_name` |
 * | gRPC headers | `TEMPORAL_GRPC_META_<NAME>` | `grpc_meta` |
 *
 * The profile is `TEMPORAL_PROFILE` (default `default`) of `TEMPORAL_CONFIG_FILE` (default
 * `~/.config/temporalio/temporal.toml`, or `$XDG_CONFIG_HOME/temporalio/temporal.toml`). Any TLS
 * setting turns TLS on. unwind's older names `TEMPORAL_TLS_CERT`, `TEMPORAL_TLS_KEY` and
 * `TEMPORAL_TLS_CA` are still read when the standard name is unset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type ClientConfigProfile, type ConfigDataSource, loadClientConfigProfile } from '@temporalio/envconfig';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

/** The settings whose origin {@link ConnectionConfig.sources} records. */
export type ConnectionSetting = 'address' | 'namespace' | 'apiKey' | 'profile' | 'tls' | 'cert' | 'key' | 'ca' | 'serverName';

/** Paths to PEM files and the server name, as flags and client options give them. */
export interface TlsConfig {
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  serverName?: string;
}

/** Explicit settings (flags, client options): each one set wins over the profile and the environment. */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  apiKey?: string;
  /** The profile of the profile file to read (else `TEMPORAL_PROFILE`, else `default`). */
  profile?: string;
  /**
   * Each TLS field set here replaces the same field from the profile and the environment and
   * turns TLS on; `true` turns TLS on, `false` off.
   */
  tls?: TlsConfig | boolean;
  /** Where each override came from (e.g. `--tls-cert`), for error messages; `the <name> option` otherwise. */
  sources?: Partial<Record<ConnectionSetting, string>>;
}

/** TLS as resolved: PEM material by path or inline, and the server name. */
export interface TlsSettings {
  cert?: ConfigDataSource;
  key?: ConfigDataSource;
  ca?: ConfigDataSource;
  serverName?: string;
}

/** Where and how to connect, resolved. */
export interface ConnectionConfig {
  address: string;
  namespace: string;
  apiKey?: string;
  /** Unset: a plaintext connection. */
  tls?: TlsSettings;
  /** gRPC headers sent with every call (`TEMPORAL_GRPC_META_*`, `grpc_meta`). */
  grpcMeta?: Record<string, string>;
  /** The profile read, when a profile file was found. */
  profile?: string;
  /** The profile file read, if any. */
  configFile?: string;
  /** Where each setting came from: a flag, a variable, `profile 'p' of <file>`, or a default. */
  sources: Partial<Record<ConnectionSetting, string>>;
}

/** A setting that cannot be used: the message names it and where it came from. */
export class ConnectionConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionConfigError';
  }
}

/** The standard TLS variables, and unwind's older names read when the standard one is unset. */
const TLS_VARIABLES = {
  cert: { path: 'TEMPORAL_TLS_CLIENT_CERT_PATH', data: 'TEMPORAL_TLS_CLIENT_CERT_DATA', legacy: 'TEMPORAL_TLS_CERT', toml: 'client_cert' },
  key: { path: 'TEMPORAL_TLS_CLIENT_KEY_PATH', data: 'TEMPORAL_TLS_CLIENT_KEY_DATA', legacy: 'TEMPORAL_TLS_KEY', toml: 'client_key' },
  ca: { path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', legacy: 'TEMPORAL_TLS_CA', toml: 'server_ca_cert' },
} as const;
type PemKind = keyof typeof TLS_VARIABLES;
const PEM_NAMES: Record<PemKind, string> = { cert: 'client certificate', key: 'client key', ca: 'server CA certificate' };
const OPTION_NAMES: Record<ConnectionSetting, string> = {
  address: 'address',
  namespace: 'namespace',
  apiKey: 'apiKey',
  profile: 'profile',
  tls: 'tls',
  cert: 'tls.certPath',
  key: 'tls.keyPath',
  ca: 'tls.caPath',
  serverName: 'tls.serverName',
};

/**
 * Resolves the connection: the profile file's profile, the `TEMPORAL_*` variables over it,
 * `overrides` over both, then the defaults.
 * @throws ConnectionConfigError for a profile file that is missing or not TOML, an unknown
 *   profile, a client certificate without its key (or the reverse), or a setting unwind cannot honour.
 */
export function connectionConfig(overrides: ConnectionOverrides = {}, env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const vars = withLegacyNames(env);
  const configFile = profileFilePath(vars);
  const profileName = overrides.profile ?? vars.TEMPORAL_PROFILE;
  const profileSource = overrides.profile !== undefined ? (overrides.sources?.profile ?? 'the profile option') : 'TEMPORAL_PROFILE';
  const fromFile = readProfile({ profile: overrides.profile, disableEnv: true, overrideEnvVars: vars }, configFile, profileName, profileSource);
  const merged = readProfile({ profile: overrides.profile, overrideEnvVars: vars }, configFile, profileName, profileSource);
  const usedProfile = configFile === undefined ? undefined : (profileName ?? 'default');
  const inFile = (key: string) => `${key} of profile '${usedProfile}' in ${configFile}`;

  const sources: Partial<Record<ConnectionSetting, string>> = {};
  const override = (setting: ConnectionSetting) => overrides.sources?.[setting] ?? `the ${OPTION_NAMES[setting]} option`;
  const origin = (setting: ConnectionSetting, given: unknown, variable: string, fileKey: string, fileValue: unknown, fallback?: string) => {
    const source =
      given !== undefined ? override(setting) : vars[variable] !== undefined ? variable : fileValue !== undefined ? inFile(fileKey) : fallback;
    if (source !== undefined) sources[setting] = source;
  };

  origin('address', overrides.address, 'TEMPORAL_ADDRESS', 'address', fromFile.address, 'the default address');
  origin('namespace', overrides.namespace, 'TEMPORAL_NAMESPACE', 'namespace', fromFile.namespace, 'the default namespace');
  origin('apiKey', overrides.apiKey, 'TEMPORAL_API_KEY', 'api_key', fromFile.apiKey);
  if (overrides.profile !== undefined) sources.profile = profileSource;
  else if (vars.TEMPORAL_PROFILE !== undefined) sources.profile = 'TEMPORAL_PROFILE';

  if (envFlag(vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION)) {
    throw new ConnectionConfigError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is set, but the TypeScript SDK cannot skip host verification; ' +
        "unset it and set TEMPORAL_TLS_SERVER_NAME (or --tls-server-name) to the name in the server's certificate",
    );
  }

  // TLS: the profile and variables (as envconfig merged them), then each flag over its field.
  const flagTls = typeof overrides.tls === 'object' ? definedOnly(overrides.tls) : {};
  let tlsOn: boolean | undefined = merged.tls === undefined ? undefined : merged.tls.disabled !== true;
  if (merged.tls !== undefined) {
    sources.tls = vars.TEMPORAL_TLS !== undefined ? 'TEMPORAL_TLS' : fromFile.tls?.disabled !== undefined ? inFile('tls.disabled') : 'the TLS settings';
  }
  if (overrides.tls === false || overrides.tls === true || Object.keys(flagTls).length > 0) {
    tlsOn = overrides.tls !== false;
    sources.tls = override('tls');
  }
  const apiKey = overrides.apiKey ?? merged.apiKey;
  // As envconfig and the SDK do: an API key alone means TLS.
  if (tlsOn === undefined && apiKey !== undefined) {
    tlsOn = true;
    sources.tls = `${sources.apiKey} (an API key turns TLS on)`;
  }

  let tls: TlsSettings | undefined;
  if (tlsOn) {
    const pem = (kind: PemKind, flagPath: string | undefined, fromEnv: ConfigDataSource | undefined, fileValue: ConfigDataSource | undefined) => {
      const v = TLS_VARIABLES[kind];
      if (flagPath !== undefined) {
        sources[kind] = override(kind);
        return { path: flagPath };
      }
      if (fromEnv === undefined) return undefined;
      sources[kind] =
        vars[v.path] !== undefined
          ? env[v.path] === undefined ? v.legacy : v.path
          : vars[v.data] !== undefined ? v.data : inFile(`tls.${v.toml}_${fileValue && 'path' in fileValue ? 'path' : 'data'}`);
      return fromEnv;
    };
    const cert = pem('cert', flagTls.certPath, merged.tls?.clientCert, fromFile.tls?.clientCert);
    const key = pem('key', flagTls.keyPath, merged.tls?.clientKey, fromFile.tls?.clientKey);
    const ca = pem('ca', flagTls.caPath, merged.tls?.serverCACert, fromFile.tls?.serverCACert);
    const serverName = flagTls.serverName ?? merged.tls?.serverName;
    if (flagTls.serverName !== undefined) sources.serverName = override('serverName');
    else if (serverName !== undefined) sources.serverName = vars.TEMPORAL_TLS_SERVER_NAME !== undefined ? 'TEMPORAL_TLS_SERVER_NAME' : inFile('tls.server_name');
    if (Boolean(cert) !== Boolean(key)) {
      const [given, missing]: PemKind[] = cert ? ['cert', 'key'] : ['key', 'cert'];
      const names = missing === 'key' ? `--tls-key or ${TLS_VARIABLES.key.path}` : `--tls-cert or ${TLS_VARIABLES.cert.path}`;
      throw new ConnectionConfigError(`mTLS needs a client certificate and its key: the ${PEM_NAMES[given!]} is set (${sources[given!]}) but not the ${PEM_NAMES[missing!]} (${names})`);
    }
    tls = definedOnly({ cert, key, ca, serverName });
  }

  const grpcMeta = merged.grpcMeta && Object.keys(merged.grpcMeta).length > 0 ? merged.grpcMeta : undefined;
  return {
    address: overrides.address ?? merged.address ?? DEFAULT_ADDRESS,
    namespace: overrides.namespace ?? merged.namespace ?? DEFAULT_NAMESPACE,
    ...(apiKey !== undefined && { apiKey }),
    ...(tls && { tls }),
    ...(grpcMeta && { grpcMeta }),
    ...(usedProfile !== undefined && { profile: usedProfile }),
    ...(configFile !== undefined && { configFile }),
    sources,
  };
}

/** The options `Connection.connect` and `NativeConnection.connect` share. */
export interface SdkConnectOptions {
  address: string;
  /** `false`: plaintext (also with an API key). */
  tls: false | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * The options of `Connection.connect` / `NativeConnection.connect`, with the PEM files read.
 * @throws ConnectionConfigError when a PEM file cannot be read; the message names the file and
 *   the flag, variable or profile key that named it.
 */
export function sdkConnectOptions(config: ConnectionConfig): SdkConnectOptions {
  let tls: SdkConnectOptions['tls'] = false;
  if (config.tls) {
    const read = (kind: PemKind): Buffer | undefined => {
      const source = config.tls?.[kind];
      if (!source) return undefined;
      if ('data' in source) return Buffer.from(source.data);
      try {
        return readFileSync(source.path);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
        throw new ConnectionConfigError(`cannot read the TLS ${PEM_NAMES[kind]} ${source.path} (from ${config.sources[kind]}): ${reason}`, { cause: err });
      }
    };
    const crt = read('cert');
    const key = read('key');
    const ca = read('ca');
    tls = definedOnly({ serverNameOverride: config.tls.serverName, serverRootCACertificate: ca, clientCertPair: crt && key ? { crt, key } : undefined });
  }
  return {
    address: config.address,
    tls,
    ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
    ...(config.grpcMeta && { metadata: config.grpcMeta }),
  };
}

/** One line for logs: `host:port (namespace n, TLS, mTLS, API key, profile p)`. */
export function describeConnection(config: ConnectionConfig): string {
  const parts = [`namespace ${config.namespace}`];
  if (config.tls) parts.push(config.tls.cert ? 'mTLS' : 'TLS');
  if (config.apiKey !== undefined) parts.push('API key');
  if (config.profile !== undefined) parts.push(`profile ${config.profile} of ${config.configFile}`);
  return `${config.address} (${parts.join(', ')})`;
}

/**
 * The profile file envconfig reads: `TEMPORAL_CONFIG_FILE`, else the user's config directory
 * (as envconfig finds it); undefined when there is none.
 * @throws ConnectionConfigError when `TEMPORAL_CONFIG_FILE` names a file that does not exist
 *   (envconfig would silently read no profile).
 */
function profileFilePath(vars: Record<string, string>): string | undefined {
  const explicit = vars.TEMPORAL_CONFIG_FILE;
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new ConnectionConfigError(`TEMPORAL_CONFIG_FILE=${explicit}: no such file`);
    return explicit;
  }
  let dir: string | undefined;
  switch (platform()) {
    case 'win32':
      dir = vars.APPDATA || undefined;
      break;
    case 'darwin':
      dir = vars.HOME ? join(vars.HOME, 'Library', 'Application Support') : undefined;
      break;
    default: {
      const xdg = vars.XDG_CONFIG_HOME;
      dir = xdg ? (isAbsolute(xdg) ? xdg : undefined) : vars.HOME ? join(vars.HOME, '.config') : undefined;
    }
  }
  const path = dir === undefined ? undefined : join(dir, 'temporalio', 'temporal.toml');
  return path !== undefined && existsSync(path) ? path : undefined;
}

function readProfile(
  options: Parameters<typeof loadClientConfigProfile>[0] & {},
  configFile: string | undefined,
  profileName: string | undefined,
  profileSource: string,
): ClientConfigProfile {
  try {
    return loadClientConfigProfile(options);
  } catch (err) {
    const message = (err as Error).message;
    if (/^Profile '.*' not found/.test(message)) {
      const where = configFile === undefined ? 'there is no profile file (TEMPORAL_CONFIG_FILE, ~/.config/temporalio/temporal.toml)' : `it is not in ${configFile}`;
      throw new ConnectionConfigError(`profile '${profileName}' (${profileSource}) not found: ${where}`, { cause: err });
    }
    throw new ConnectionConfigError(`cannot read the Temporal profile file ${configFile}: ${message.split('\n')[0]}`, { cause: err });
  }
}

/** The environment as envconfig takes it (strings only), with unwind's older TLS names mapped. */
function withLegacyNames(env: NodeJS.ProcessEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) vars[name] = value;
  for (const { path, legacy } of Object.values(TLS_VARIABLES)) {
    if (vars[path] === undefined && vars[legacy] !== undefined) vars[path] = vars[legacy];
  }
  return vars;
}

function envFlag(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
