/**
 * Connection settings through Temporal's environment configuration: the TEMPORAL_* variables,
 * the TOML profile file, flags over both, and errors that name the file and where it was set.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnwindClientOptions } from '../src/client';
import type { CliIo } from '../src/cli/context';
import { ExitCode } from '../src/cli/exit-codes';
import { runCli } from '../src/cli/program';
import { ConnectionConfigError, connectionConfig, describeConnection, sdkConnectOptions } from '../src/temporal/connection';

let dir: string;
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
let cert: string;
let key: string;
let ca: string;
let profiles: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unwind-connection-'));
  cert = file('client.pem', 'CLIENT CERT');
  key = file('client.key', 'CLIENT KEY');
  ca = file('ca.pem', 'CA CERT');
  profiles = file(
    'temporal.toml',
    [
      '[profile.default]',
      'address = "file-default:7233"',
      'namespace = "file-ns"',
      '',
      '[profile.prod]',
      'address = "prod.example.com:7233"',
      'namespace = "prod"',
      'api_key = "file-key"',
      '[profile.prod.tls]',
      `client_cert_path = "${cert}"`,
      `client_key_path = "${key}"`,
      'server_name = "prod.internal"',
      '[profile.prod.grpc_meta]',
      'x-tenant = "rack-7"',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

describe('connectionConfig', () => {
  it('defaults to localhost:7233, namespace default, plaintext, when nothing is set', () => {
    const config = connectionConfig({}, {});
    expect(config).toEqual({ address: 'localhost:7233', namespace: 'default', sources: { address: 'the default address', namespace: 'the default namespace' } });
    expect(sdkConnectOptions(config)).toEqual({ address: 'localhost:7233', tls: false });
  });

  it('reads the standard variables; an API key turns TLS on unless TEMPORAL_TLS=false', () => {
    const env = { TEMPORAL_ADDRESS: 'cloud.example:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'secret-key' };
    const config = connectionConfig({}, env);
    expect(config).toMatchObject({ address: 'cloud.example:7233', namespace: 'ns.acct', apiKey: 'secret-key', tls: {} });
    expect(config.sources).toMatchObject({ address: 'TEMPORAL_ADDRESS', namespace: 'TEMPORAL_NAMESPACE', apiKey: 'TEMPORAL_API_KEY' });
    expect(sdkConnectOptions(config)).toEqual({ address: 'cloud.example:7233', tls: {}, apiKey: 'secret-key' });
    expect(sdkConnectOptions(connectionConfig({}, { ...env, TEMPORAL_TLS: 'false' }))).toEqual({ address: 'cloud.example:7233', tls: false, apiKey: 'secret-key' });
    expect(connectionConfig({}, { TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(describeConnection(config)).toBe('cloud.example:7233 (namespace ns.acct, TLS, API key)');
  });

  it('reads mTLS files named by the variables, with the server name, and gRPC headers', () => {
    const env = {
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_GRPC_META_X_TENANT: 'rack-1',
    };
    const options = sdkConnectOptions(connectionConfig({}, env));
    expect(options).toEqual({
      address: 'localhost:7233',
      tls: {
        serverNameOverride: 'temporal.internal',
        serverRootCACertificate: Buffer.from('CA CERT'),
        clientCertPair: { crt: Buffer.from('CLIENT CERT'), key: Buffer.from('CLIENT KEY') },
      },
      metadata: { 'x-tenant': 'rack-1' },
    });
    // PEM given inline.
    const inline = sdkConnectOptions(connectionConfig({}, { TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'INLINE CA' }));
    expect(inline.tls).toEqual({ serverRootCACertificate: Buffer.from('INLINE CA') });
  });

  it('still reads the older TEMPORAL_TLS_CERT/KEY/CA names; the standard names win', () => {
    const legacy = connectionConfig({}, { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca });
    expect(legacy.tls).toEqual({ cert: { path: cert }, key: { path: key }, ca: { path: ca } });
    expect(legacy.sources).toMatchObject({ cert: 'TEMPORAL_TLS_CERT', key: 'TEMPORAL_TLS_KEY', ca: 'TEMPORAL_TLS_CA' });
    const both = connectionConfig({}, { TEMPORAL_TLS_CA: '/old/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca });
    expect(both.tls?.ca).toEqual({ path: ca });
    expect(both.sources.ca).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  });

  it('reads a profile of the profile file: variables over the file, overrides over both', () => {
    const fromDefault = connectionConfig({}, { TEMPORAL_CONFIG_FILE: profiles });
    expect(fromDefault).toMatchObject({ address: 'file-default:7233', namespace: 'file-ns', profile: 'default', configFile: profiles });
    expect(fromDefault.tls).toBeUndefined();
    expect(fromDefault.sources.address).toBe(`address of profile 'default' in ${profiles}`);

    const prod = connectionConfig({}, { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'prod-env' });
    expect(prod).toMatchObject({
      address: 'prod.example.com:7233',
      namespace: 'prod-env',
      apiKey: 'file-key',
      tls: { cert: { path: cert }, key: { path: key }, serverName: 'prod.internal' },
      grpcMeta: { 'x-tenant': 'rack-7' },
      profile: 'prod',
    });
    expect(prod.sources).toMatchObject({ namespace: 'TEMPORAL_NAMESPACE', cert: `tls.client_cert_path of profile 'prod' in ${profiles}`, profile: 'TEMPORAL_PROFILE' });
    expect(sdkConnectOptions(prod)).toMatchObject({ apiKey: 'file-key', metadata: { 'x-tenant': 'rack-7' }, tls: { clientCertPair: { crt: Buffer.from('CLIENT CERT') } } });

    // The profile option wins over TEMPORAL_PROFILE; a TLS override replaces one field only.
    const flagged = connectionConfig(
      { profile: 'prod', address: 'flag:7233', tls: { caPath: ca }, sources: { profile: '--profile', address: '--address', ca: '--tls-ca' } },
      { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'default' },
    );
    expect(flagged).toMatchObject({ address: 'flag:7233', namespace: 'prod', tls: { cert: { path: cert }, ca: { path: ca }, serverName: 'prod.internal' } });
    expect(flagged.sources).toMatchObject({ address: '--address', profile: '--profile', ca: '--tls-ca' });
    expect(connectionConfig({ tls: false }, { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod' }).tls).toBeUndefined();
  });

  it('finds the profile file in the user config directory when TEMPORAL_CONFIG_FILE is unset', () => {
    const xdg = join(dir, 'xdg');
    const path = join(xdg, 'temporalio', 'temporal.toml');
    mkdirSync(join(xdg, 'temporalio'), { recursive: true });
    writeFileSync(path, '[profile.default]\naddress = "xdg:7233"\n');
    expect(connectionConfig({}, { XDG_CONFIG_HOME: xdg })).toMatchObject({ address: 'xdg:7233', configFile: path });
    expect(connectionConfig({}, { HOME: join(dir, 'no-home') }).configFile).toBeUndefined();
  });

  it('names the file and the flag, variable or profile key of a PEM file it cannot read', () => {
    const missing = join(dir, 'missing.pem');
    const fromVar = errorOf(() => sdkConnectOptions(connectionConfig({}, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing })));
    expect(fromVar).toBeInstanceOf(ConnectionConfigError);
    expect(fromVar.message).toBe(`cannot read the TLS server CA certificate ${missing} (from TEMPORAL_TLS_SERVER_CA_CERT_PATH): no such file`);
    const fromFlag = errorOf(() => sdkConnectOptions(connectionConfig({ tls: { certPath: missing, keyPath: key }, sources: { cert: '--tls-cert' } }, {})));
    expect(fromFlag.message).toContain(`client certificate ${missing} (from --tls-cert)`);
    const toml = file('broken-paths.toml', `[profile.default.tls]\nclient_cert_path = "${missing}"\nclient_key_path = "${key}"\n`);
    const fromFile = errorOf(() => sdkConnectOptions(connectionConfig({}, { TEMPORAL_CONFIG_FILE: toml })));
    expect(fromFile.message).toContain(`${missing} (from tls.client_cert_path of profile 'default' in ${toml})`);
  });

  it('refuses half a client pair, an unknown profile, a missing or broken profile file, and host verification off', () => {
    expect(errorOf(() => connectionConfig({}, { TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).message).toBe(
      'mTLS needs a client certificate and its key: the client certificate is set (TEMPORAL_TLS_CLIENT_CERT_PATH) but not the client key (--tls-key or TEMPORAL_TLS_CLIENT_KEY_PATH)',
    );
    expect(errorOf(() => connectionConfig({ profile: 'staging', sources: { profile: '--profile' } }, { TEMPORAL_CONFIG_FILE: profiles })).message).toBe(
      `profile 'staging' (--profile) not found: it is not in ${profiles}`,
    );
    expect(errorOf(() => connectionConfig({}, { TEMPORAL_PROFILE: 'prod' })).message).toMatch(/^profile 'prod' \(TEMPORAL_PROFILE\) not found: there is no profile file/);
    const missing = join(dir, 'nope.toml');
    expect(errorOf(() => connectionConfig({}, { TEMPORAL_CONFIG_FILE: missing })).message).toBe(`TEMPORAL_CONFIG_FILE=${missing}: no such file`);
    const broken = file('broken.toml', '[profile.default\naddress = 1');
    const parse = errorOf(() => connectionConfig({}, { TEMPORAL_CONFIG_FILE: broken }));
    expect(parse).toBeInstanceOf(ConnectionConfigError);
    expect(parse.message).toMatch(new RegExp(`^cannot read the Temporal profile file ${broken}: `));
    expect(errorOf(() => connectionConfig({}, { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).message).toMatch(/cannot skip host verification/);
  });
});

describe('the CLI', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv) {
    const out = { stdout: '', stderr: '', connected: [] as UnwindClientOptions[] };
    const io: CliIo = { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) }, env };
    const run = runCli(['node', 'unwind', ...args], {
      io,
      connectTemporal: async (options) => {
        out.connected.push(options);
        throw new Error('must not connect');
      },
    });
    return run.then((code) => ({ code, ...out }));
  }

  it('exits 2 before connecting when a PEM file, the profile or the encryption keys are unusable, naming them', async () => {
    const missing = join(dir, 'gone.pem');
    const pem = await cli(['show', 'disk-create/x'], { TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: key });
    expect(pem).toMatchObject({ code: ExitCode.Usage, connected: [] });
    expect(pem.stderr).toContain(`unwind: cannot read the TLS client certificate ${missing} (from TEMPORAL_TLS_CLIENT_CERT_PATH): no such file`);

    const flag = await cli(['--tls-ca', missing, 'show', 'disk-create/x'], {});
    expect(flag).toMatchObject({ code: ExitCode.Usage, connected: [] });
    expect(flag.stderr).toContain(`${missing} (from --tls-ca)`);

    const profile = await cli(['--profile', 'staging', 'show', 'disk-create/x'], { TEMPORAL_CONFIG_FILE: profiles });
    expect(profile).toMatchObject({ code: ExitCode.Usage, connected: [] });
    expect(profile.stderr).toContain(`profile 'staging' (--profile) not found: it is not in ${profiles}`);

    const address = await cli(['show', 'disk-create/x'], { TEMPORAL_CONFIG_FILE: file('bad-address.toml', '[profile.default]\naddress = "http://x:7233"\n') });
    expect(address).toMatchObject({ code: ExitCode.Usage, connected: [] });
    expect(address.stderr).toMatch(/address of profile 'default' in .*bad-address\.toml: 'http:\/\/x:7233' is not host:port/);

    const keys = await cli(['show', 'disk-create/x'], { UNWIND_ENCRYPTION_KEY_FILE: join(dir, 'no-keys.json') });
    expect(keys).toMatchObject({ code: ExitCode.Usage, connected: [] });
    expect(keys.stderr).toContain(`UNWIND_ENCRYPTION_KEY_FILE=${join(dir, 'no-keys.json')}: no such file`);
  });

  it('passes the flags and the environment to the client, which resolves the same settings', async () => {
    const env = { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_API_KEY: 'env-key' };
    const run = await cli(['--profile', 'prod', '--namespace', 'other', 'show', 'disk-create/x'], env);
    expect(run.code).toBe(ExitCode.Unreachable);
    expect(run.stderr).toContain('cannot connect to Temporal at prod.example.com:7233 (namespace other)');
    expect(run.connected).toHaveLength(1);
    const options = run.connected[0]!;
    expect(options).toMatchObject({ profile: 'prod', namespace: 'other', env });
    expect(connectionConfig(options, options.env)).toMatchObject({ address: 'prod.example.com:7233', namespace: 'other', apiKey: 'env-key', profile: 'prod' });
  });
});
