import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RackClient, type RackServer, createRackClient, startRackServer } from '../src/rack';
import { type CliRun, freePort, runUnwind } from './cli-helpers';
import { failureOf } from '../src/testing/rack';

let dir: string;
let server: RackServer;
let rack: RackClient;
const unwind = (...args: string[]) => runUnwind(args, { UNWIND_RACK_URL: server.url });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unwind-cli-'));
  server = await startRackServer({ dbPath: join(dir, 'rack.sqlite'), port: 0 });
  rack = createRackClient({ baseUrl: server.url, timeoutMs: 5_000 });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await rack.reset();
});

/** A usage-style failure: the exit code, and exactly one `unwind: …` line on stderr, no stack. */
function expectOneLineError(run: CliRun, code: number): string {
  expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^unwind: .+; .+/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
}

describe('help', () => {
  it('documents global options, command groups and exit codes at the top, and subcommands at a nested level', async () => {
    const [top, fault, set] = await Promise.all([unwind('--help'), unwind('rack', 'fault', '--help'), unwind('rack', 'fault', 'set', '--help')]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: unwind');
    for (const flag of ['--address', '--namespace', '--tls-cert', '--tls-key', '--tls-ca', '--tls-server-name', '--rack-url']) {
      expect(top.stdout).toContain(flag);
    }
    expect(top.stdout).toMatch(/^\s+rack\s/m);
    expect(top.stdout).toContain('3  cannot connect');
    expect(fault.code).toBe(0);
    expect(fault.stdout).toContain('Usage: unwind rack fault');
    for (const sub of ['set', 'next', 'list', 'clear']) expect(fault.stdout).toMatch(new RegExp(`^\\s+${sub}\\b`, 'm'));
    expect(set.code).toBe(0);
    for (const flag of ['--rate', '--ambiguous-rate', '--latency', '--permanent', '--json']) expect(set.stdout).toContain(flag);
  });
});

describe('exit codes', () => {
  it('exits 2 on usage errors, naming the flag or argument and the expected value', async () => {
    const [rate, resource, operation, option, missing, none] = await Promise.all([
      unwind('rack', 'fault', 'set', 'regions.ensure', '--rate', '1.5'),
      unwind('rack', 'list', 'widgets'),
      unwind('rack', 'fault', 'set', 'regions.ensur', '--rate', '0.5'),
      unwind('rack', 'status', '--bogus'),
      unwind('rack', 'fault', 'next', 'disks.create'),
      unwind(),
    ]);
    expect(expectOneLineError(rate, 2)).toMatch(/--rate: '1\.5'.*from 0 to 1/);
    expect(expectOneLineError(resource, 2)).toMatch(/'widgets'.*sleds, ssds, instances/);
    expect(expectOneLineError(operation, 2)).toMatch(/'regions\.ensur'.*regions\.ensure/);
    expect(expectOneLineError(option, 2)).toContain("unknown option '--bogus'; see 'unwind rack status --help'");
    expect(expectOneLineError(missing, 2)).toContain('--kind');
    expect(none.code).toBe(2); // no command: help on stderr
    expect(none.stderr).toContain('Usage: unwind');
  });

  it('exits 3 when the rack is unreachable, saying where and which flag to fix', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runUnwind(['rack', 'status'], { UNWIND_RACK_URL: url });
    expect(expectOneLineError(run, 3)).toContain(`cannot reach the rack at ${url}`);
    expect(run.stderr).toContain('--rack-url');
  });

  it('exits 4 for a resource that does not exist', async () => {
    const run = await unwind('rack', 'get', 'sleds', 'sled-99');
    expect(expectOneLineError(run, 4)).toContain('sled-99');
  });

  it('checks a fault rule as the rack would before sending it: exit 2 naming the flags, nothing set', async () => {
    const run = await unwind('rack', 'fault', 'set', 'regions.ensure', '--rate', '0.8', '--ambiguous-rate', '0.5');
    expect(expectOneLineError(run, 2)).toContain('--rate + --ambiguous-rate must be at most 1');
    expect(run.stderr).not.toMatch(/transientRate|ambiguousRate/);
    expect((await rack.faults.get()).rules).toEqual([]);
  });

  it('exits 5 when the rack refuses, with its message and what to do', async () => {
    await rack.faults.setRule({ operation: 'firmware.setTarget', permanent: 'refused' });
    const run = await unwind('firmware', 'set-target', '--model', 'SIM-NVME-3.2T', '--version', '9.9.9');
    expect(expectOneLineError(run, 5)).toMatch(/^unwind: rack refused firmware\.setTarget: .*injected.*; .*unwind rack fault clear/);
    expect(await rack.list('firmware')).toEqual([]);
  });

  it('refuses a fault on an unknown operation (exit 2, before connecting: the CLI knows the operations), listing the valid ones', async () => {
    const [unknown, near] = await Promise.all([
      runUnwind(['rack', 'fault', 'set', 'nosuch.op', '--rate', '0.5'], { UNWIND_RACK_URL: `http://127.0.0.1:${await freePort()}` }),
      unwind('rack', 'fault', 'next', 'regions.ensur', '--kind', 'transient'),
    ]);
    expect(expectOneLineError(unknown, 2)).toMatch(/^unwind: unknown operation 'nosuch\.op'; valid operations are \* .*regions\.ensure/);
    expect(expectOneLineError(near, 2)).toContain("unknown operation 'regions.ensur'; the operations of regions are regions.ensure, regions.delete, regions.move, regions.list, regions.get");
    expect(await rack.faults.get()).toMatchObject({ rules: [], scripted: [] });
  });

  it('prints the stack only with UNWIND_DEBUG=1', async () => {
    const run = await runUnwind(['rack', 'get', 'sleds', 'sled-99'], { UNWIND_RACK_URL: server.url, UNWIND_DEBUG: '1' });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^unwind: /);
    expect(run.stderr).toMatch(/\n\s+at /);
  });
});

describe('rack fault', () => {
  it('set, then list shows the rule, and the rack really fails until clear', async () => {
    const set = await unwind('rack', 'fault', 'set', 'disks.create', '--permanent', 'refused', '--latency', '10ms');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('disks.create');

    const [table, json] = await Promise.all([unwind('rack', 'fault', 'list'), unwind('rack', 'fault', 'list', '--json')]);
    expect(table.stdout).toMatch(/^disks\.create\s+0\s+0\s+10ms\s+refused$/m);
    expect(JSON.parse(json.stdout)).toMatchObject({
      rules: [{ operation: 'disks.create', transientRate: 0, ambiguousRate: 0, latencyMs: 10, permanent: 'refused' }],
    });

    expect(await failureOf(rack.disks.create({ name: 'd', sizeGiB: 10 }, 'cli-test/disk'))).toMatchObject({ code: 'injected-refusal' });
    expect((await unwind('rack', 'fault', 'clear', 'disks.create')).code).toBe(0);
    await expect(rack.disks.create({ name: 'd', sizeGiB: 10 }, 'cli-test/disk-2')).resolves.toMatchObject({ name: 'd' });
  });

  it('next scripts one-shot failures: the next call fails, the one after succeeds', async () => {
    const next = await unwind('rack', 'fault', 'next', 'instances.create', '--kind', 'transient', '--json');
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ scripted: [{ operation: 'instances.create', kind: 'transient', count: 1 }] });
    expect(await failureOf(rack.instances.create({ name: 'a', cpus: 1, memoryGiB: 1 }, 'k1'))).toMatchObject({ status: 503 });
    await expect(rack.instances.create({ name: 'a', cpus: 1, memoryGiB: 1 }, 'k1')).resolves.toMatchObject({ name: 'a' });
    expect((await unwind('rack', 'fault', 'list')).stdout).toContain('no faults set');
  });
});

describe('rack inspection', () => {
  it('inventory: "clean: no allocations" on a clean slate, every allocation otherwise, exit 0 both ways', async () => {
    const clean = await unwind('rack', 'inventory');
    expect(clean).toMatchObject({ code: 0, stdout: 'clean: no allocations\n' });

    const instance = await rack.instances.create({ name: 'web-1', cpus: 2, memoryGiB: 8 }, 'cli-test/instance');
    const [table, json] = await Promise.all([unwind('rack', 'inventory'), unwind('rack', 'inventory', '--json')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^instances\\s+${instance.id}\\s+name=web-1 `, 'm'));
    expect(table.stdout).toContain('1 allocation\n');
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, instances: [{ id: instance.id }] });
  });

  it('status shows every sled with used/total and the counts', async () => {
    await rack.sleds.reserve({ sledId: 'sled-1', cpus: 4, memoryGiB: 16 }, 'cli-test/reserve');
    await rack.sleds.update({ sledId: 'sled-2', state: 'offline' }, 'cli-test/offline');
    await rack.sleds.update({ sledId: 'sled-4', provisionable: false, replacementId: 'sled-replace/sled-4/rma-7' }, 'cli-test/hold');
    const [table, json] = await Promise.all([unwind('rack', 'status'), unwind('rack', 'status', '--json')]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^SLED\s+SERIAL\s+STATE\s+PROVISIONABLE\s+CPUS USED\/TOTAL\s+MEMORY GIB USED\/TOTAL\s+HELD BY$/m);
    expect(table.stdout).toMatch(/^sled-1\s+\S+\s+online\s+yes\s+4\/64\s+16\/512\s+-$/m);
    expect(table.stdout).toMatch(/^sled-4\s+\S+\s+online\s+no\s+0\/64\s+0\/512\s+sled-replace\/sled-4\/rma-7$/m);
    expect(table.stdout).toMatch(/^sled-2\s+\S+\s+offline\s/m);
    expect(table.stdout).toContain('instances: 0  disks: 0  regions: 0');
    const parsed = JSON.parse(json.stdout) as { sleds: unknown[]; counts: Record<string, number> };
    expect(parsed.sleds).toHaveLength(8);
    expect(parsed.counts).toEqual({ instances: 0, disks: 0, regions: 0 });
  });

  it('list filters by field (and rejects an unknown field), ledger filters by operation', async () => {
    await rack.sleds.update({ sledId: 'sled-3', state: 'offline' }, 'cli-test/offline');
    const [offline, badField, ledger, ledgerJson] = await Promise.all([
      unwind('rack', 'list', 'sleds', '--filter', 'state=offline', '--json'),
      unwind('rack', 'list', 'sleds', '--filter', 'colour=red'),
      unwind('rack', 'ledger', '--operation', 'sleds.update'),
      unwind('rack', 'ledger', '--key', 'cli-test/offline', '--json'),
    ]);
    expect((JSON.parse(offline.stdout) as { id: string }[]).map((s) => s.id)).toEqual(['sled-3']);
    expect(expectOneLineError(badField, 2)).toMatch(/--filter: sleds have no field 'colour'.*state/);
    expect(ledger.stdout).toMatch(/^\s*\d+\s+(just now|\d+s ago)\s+sleds\.update\s+updated\s+sled\/sled-3\s+cli-test\/offline$/m);
    expect(JSON.parse(ledgerJson.stdout)).toMatchObject([{ key: 'cli-test/offline', resourceId: 'sled-3' }]);
  });

  it('reset refuses without --yes (exit 2, nothing lost) and resets with it', async () => {
    await rack.instances.create({ name: 'keep', cpus: 1, memoryGiB: 1 }, 'cli-test/keep');
    expect(expectOneLineError(await unwind('rack', 'reset'), 2)).toContain('--yes');
    expect((await rack.inventory()).total).toBe(1);
    const reset = await unwind('rack', 'reset', '--yes');
    expect(reset.code, reset.stderr).toBe(0);
    expect((await rack.inventory()).total).toBe(0);
  });
});
