import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { type CliIo, type ConnectTemporal, createCliContext } from '../src/cli/context';
import { CliError, ExitCode, toCliError } from '../src/cli/exit-codes';
import { runCli } from '../src/cli/program';
import { RackError, RackUnreachableError } from '../src/rack';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  const value: CliIo = {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    env,
  };
  return { io: value, out };
}

function contextFor(args: string[], env: NodeJS.ProcessEnv, connectTemporal?: ConnectTemporal) {
  const program = new Command('unwind')
    .option('--address <a>')
    .option('--namespace <n>')
    .option('--tls-cert <p>')
    .option('--tls-key <p>')
    .option('--tls-ca <p>')
    .option('--tls-server-name <n>')
    .option('--profile <p>')
    .option('--rack-url <u>');
  program.parse(args, { from: 'user' });
  return createCliContext(program, { io: io(env).io, connectTemporal });
}

describe('the shared context', () => {
  it('takes flags over TEMPORAL_* and UNWIND_RACK_URL, and the defaults when neither is set', () => {
    expect(contextFor([], {}).connection()).toMatchObject({ address: 'localhost:7233', namespace: 'default', sources: { address: 'the default address' } });
    expect(contextFor([], {}).connection().tls).toBeUndefined();
    expect(contextFor([], {}).rackUrl()).toBe('http://127.0.0.1:7280');
    const env = { TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_NAMESPACE: 'prod', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/env/ca.pem', UNWIND_RACK_URL: 'http://rack:1' };
    expect(contextFor([], env).connection()).toMatchObject({ address: 'env:7233', namespace: 'prod', tls: { ca: { path: '/env/ca.pem' } } });
    const flagged = contextFor(['--address', 'flag:7233', '--tls-server-name', 'temporal.local', '--rack-url', 'http://other:2'], env);
    expect(flagged.connection()).toMatchObject({
      address: 'flag:7233',
      namespace: 'prod',
      tls: { ca: { path: '/env/ca.pem' }, serverName: 'temporal.local' },
      sources: { address: '--address', namespace: 'TEMPORAL_NAMESPACE', ca: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', serverName: '--tls-server-name' },
    });
    expect(flagged.rackUrl()).toBe('http://other:2');
  });

  it('connects to Temporal lazily, once, and maps a connection failure to exit 3', async () => {
    let calls = 0;
    const unavailable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
    const context = contextFor(['--address', 'nowhere:7233'], {}, async () => {
      calls++;
      throw new Error('Failed to connect before the deadline', { cause: unavailable });
    });
    expect(calls).toBe(0);
    const error = await context.temporal().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: ExitCode.Unreachable });
    expect((error as CliError).message).toMatch(/^cannot reach Temporal at nowhere:7233 .*; .*--address/);
    await context.temporal().catch(() => undefined);
    expect(calls).toBe(1);
  });

  it('reports an unreadable TLS file as a usage error naming the file, without connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unwind-cli-'));
    try {
      const missing = join(dir, 'client.pem');
      const context = contextFor(['--tls-cert', missing, '--tls-key', missing], {}, () => Promise.reject(new Error('must not connect')));
      const error = await context.temporal().catch((e: unknown) => e);
      expect(error).toMatchObject({ exitCode: ExitCode.Usage });
      expect((error as Error).message).toContain(missing);
      expect((error as Error).message).toContain('--tls-cert');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('toCliError', () => {
  it('maps rack and Temporal failures onto the exit-code contract', () => {
    const rack = (status: number, code: string) => new RackError('sleds.get', status, { code, class: 'refused', message: 'm' });
    expect(toCliError(rack(404, 'not-found')).exitCode).toBe(ExitCode.NotFound);
    expect(toCliError(rack(400, 'invalid-request')).exitCode).toBe(ExitCode.Refused);
    expect(toCliError(rack(409, 'precondition-failed')).exitCode).toBe(ExitCode.Refused);
    expect(toCliError(new RackError('x', 503, { code: 'unavailable', class: 'transient', message: 'm' })).exitCode).toBe(ExitCode.Failed);
    expect(toCliError(new RackUnreachableError('x', 'network', new Error('ECONNREFUSED')), { rackUrl: 'http://r:1' })).toMatchObject({
      exitCode: ExitCode.Unreachable,
      what: 'cannot reach the rack at http://r:1 (ECONNREFUSED)',
    });
    const named = (name: string) => Object.assign(new Error('wf-1'), { name });
    expect(toCliError(named('WorkflowNotFoundError')).exitCode).toBe(ExitCode.NotFound);
    expect(toCliError(named('WorkflowUpdateFailedError')).exitCode).toBe(ExitCode.Refused);
    expect(toCliError(named('WorkflowFailedError')).exitCode).toBe(ExitCode.Failed);
    expect(toCliError(Object.assign(new Error('5 NOT_FOUND'), { code: 5 })).exitCode).toBe(ExitCode.NotFound);
    expect(toCliError(Object.assign(new Error('9 FAILED_PRECONDITION'), { code: 9 })).exitCode).toBe(ExitCode.Refused);
    expect(toCliError(new Error('boom')).exitCode).toBe(ExitCode.Failed);
  });
});

describe('runCli', () => {
  it('returns 0 for help, 2 for usage errors, and prints errors as one line', async () => {
    const help = io();
    expect(await runCli(['node', 'unwind', 'rack', '--help'], { io: help.io })).toBe(0);
    expect(help.out.stdout).toContain('Usage: unwind rack');
    const bad = io();
    expect(await runCli(['node', 'unwind', 'rack', 'nonsense'], { io: bad.io })).toBe(2);
    expect(bad.out.stderr).toBe("unwind: unknown command 'nonsense'; see 'unwind rack --help'\n");
    const url = io();
    expect(await runCli(['node', 'unwind', '--rack-url', 'ftp://x', 'rack', 'status'], { io: url.io })).toBe(2);
    expect(url.out.stderr).toMatch(/^unwind: --rack-url: 'ftp:\/\/x' is not an http\(s\) URL; .*\n$/);
  });
});
