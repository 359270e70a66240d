/**
 * Bad input to every command of the `unwind` CLI, with nothing reachable: neither Temporal
 * (`--address 127.0.0.1:1`) nor the rack. Each must exit 2 with one line naming the flag the
 * operator typed, in plain words, never a schema's field name. Exit 2 proves the check came
 * first: with nothing reachable, any connection attempt ends in exit 3 (after 10 s for Temporal).
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExitCode, toCliError } from '../src/cli/exit-codes';
import { checkFlags, flagProblems, refuseEmptyValues } from '../src/cli/flags';
import { createProgram } from '../src/cli/program';
import { startTestRack } from '../src/testing/rack';
import { type CliRun, runUnwind } from './cli-helpers';

const NOWHERE = { UNWIND_RACK_URL: 'http://127.0.0.1:1' };

interface Case {
  args: string[];
  /** What the one line on stderr must contain or match: the flag, in plain words. */
  says: (string | RegExp)[];
  env?: Record<string, string>;
}

const long = (n: number) => 'x'.repeat(n);

/** At least one bad input for every command, keyed by its path. */
const CASES: Record<string, Case[]> = {
  start: [
    { args: ['start', 'noSuchSaga'], says: ["unknown workflow type 'noSuchSaga'", 'diskCreate'] },
    { args: ['start', 'diskCreate', '--input', '{name:'], says: ['--input is not JSON'] },
    { args: ['start', 'diskCreate', '--input', '{}', '--fault', '{"failWhen":"sometimes"}'], says: ['--fault is not a valid unwindFaults memo'] },
  ],
  list: [
    { args: ['list', '--state', 'bogus'], says: ["'--state <state>' argument 'bogus' is invalid", 'running'] },
    { args: ['list', '--stalled', '0'], says: ['--stalled', 'longer than zero'] },
    { args: ['list', '--limit', '0'], says: ['--limit', 'from 1 to 10000'] },
    { args: ['list', '--saga', 'not a saga!'], says: ["--saga must be a saga type such as instanceCreate (letters, digits, - or _) (got 'not a saga!')"] },
  ],
  show: [
    { args: ['show', ''], says: ['<id> must not be empty'] },
    { args: ['show', 'disk-create/d', '--graph', 'png'], says: ["'--graph <format>' argument 'png' is invalid"] },
    { args: ['show', 'disk-create/d'], env: { UNWIND_STATUS_TIMEOUT: 'soon' }, says: ["UNWIND_STATUS_TIMEOUT: 'soon' is not a duration"] },
  ],
  retry: [
    { args: ['retry', 'disk-create/d', '--as', 'ada'], says: ["required option '--reason <text>' not specified"] },
    { args: ['retry', 'disk-create/d', '--reason', '', '--as', 'ada'], says: ['--reason must not be empty'] },
    { args: ['retry', 'disk-create/d', '--reason', 'fixed', '--as', '  '], says: ['--as must not be empty'] },
    { args: ['retry', 'disk-create/d', '--reason', 'fixed', '--as', 'ada', '--wait-id', '0'], says: ["--wait-id: '0' is not a wait number"] },
  ],
  skip: [{ args: ['skip', 'disk-create/d', '--reason', 'gone', '--as', 'ada', '--step', ''], says: ['--step must not be empty'] }],
  unwind: [{ args: ['unwind', 'disk-create/d', '--reason', 'gone'], says: ["required option '--as <operator>' not specified"] }],
  approve: [
    { args: ['approve', 'sled-replace/sled-3', '--as', ''], says: ['--as must not be empty'] },
    { args: ['approve', 'sled-replace/sled-3', '--as', 'ada', '--comment', long(2_001)], says: ['--comment must be at most 2000 characters (got 2001)'] },
    { args: ['approve', '--as', 'ada'], says: ['give the saga <id>, or --all-waiting'] },
    { args: ['approve', 'sled-replace/sled-3', '--all-waiting', '--as', 'ada', '--yes'], says: ["give the saga <id> or --all-waiting, not both (got 'sled-replace/sled-3')"] },
    { args: ['approve', '--all-waiting', '--wait-id', '2', '--as', 'ada', '--yes'], says: ['--wait-id goes with one saga <id>, not --all-waiting'] },
    { args: ['approve', 'sled-replace/sled-3', '--as', 'ada', '--saga', 'sledReplace', '--yes'], says: ['--saga, --yes go with --all-waiting only'] },
    { args: ['approve', 'sled-replace/sled-3', '--as', 'ada', '--step', 'approve-power-off'], says: ['--step goes with --all-waiting only'] },
    { args: ['approve', '--all-waiting', '--as', 'ada', '--saga', 'not a saga!', '--yes'], says: ["--saga must be a saga type such as instanceCreate (letters, digits, - or _) (got 'not a saga!')"] },
    { args: ['approve', '--all-waiting', '--as', 'ada', '--step', '', '--yes'], says: ['--step must not be empty'] },
    { args: ['approve', '--all-waiting', '--as', 'ada', '--concurrency', '0', '--yes'], says: ['--concurrency must be a whole number from 1 to 500 (got 0)'] },
    { args: ['approve', '--all-waiting', '--as', 'ada', '--concurrency', 'lots', '--yes'], says: ["--concurrency must be a whole number from 1 to 500 (got 'lots')"] },
    { args: ['approve', '--all-waiting', '--as', 'ada', '--comment', long(2_001), '--yes'], says: ['--comment must be at most 2000 characters (got 2001)'] },
    { args: ['approve', '--all-waiting', '--saga', 'sledReplace', '--yes'], says: ["required option '--as <operator>' not specified"] },
    // Without a terminal to confirm on, --yes is needed: refused before connecting.
    { args: ['approve', '--all-waiting', '--as', 'ada'], says: ['--all-waiting asks to confirm the count on a terminal', '--yes'] },
  ],
  reject: [{ args: ['reject', 'sled-replace/sled-3', '--as', 'ada', '--wait-id', 'two'], says: ["--wait-id: 'two' is not a wait number"] }],
  errors: [
    { args: ['errors', '--since', 'yesterday'], says: ['--since'] },
    { args: ['errors', '--limit', '1000'], says: ['--limit', 'from 1 to 999'] },
  ],
  'instance create': [
    { args: ['instance', 'create', '--name', '', '--cpus', '2', '--memory', '4', '--disk', '20'], says: ['--name must not be empty'] },
    { args: ['instance', 'create'], says: ['--name is required', '--cpus is required', '--memory is required', '--disk is required'] },
    { args: ['instance', 'create', '--name', 'web-1', '--cpus', 'abc', '--memory', '4', '--disk', '20'], says: ["--cpus must be a whole number from 1 to 64 (got 'abc')"] },
  ],
  'instance migrate': [
    { args: ['instance', 'migrate', ''], says: ['<instance> must not be empty'] },
    { args: ['instance', 'migrate', 'inst-3', '--request-id', 'not an id!'], says: ['--request-id'] },
  ],
  'instance delete': [{ args: ['instance', 'delete', ' '], says: ['<instance> must not be empty'] }],
  'disk create': [
    { args: ['disk', 'create', '--name', 'data-1', '--size', ''], says: ['--size must not be empty'] },
    { args: ['disk', 'create', '--name', 'data-1', '--size', '0'], says: ['--size must be a whole number from 1 to 16384 (got 0)'] },
  ],
  'sled replace': [{ args: ['sled', 'replace', 'sled-3'], says: ['--approver', '--technician'] }],
  'sled hardware-replaced': [
    { args: ['sled', 'hardware-replaced', 'sled-replace/sled-3', '--serial', '', '--as', 'tom'], says: ['--serial must not be empty'] },
  ],
  'firmware set-target': [
    { args: ['firmware', 'set-target', '--model', 'SIM-NVME-3.2T'], says: ["required option '--version <version>' not specified"] },
    { args: ['firmware', 'set-target', '--model', '', '--version', '2.1.0'], says: ['--model must not be empty'] },
    { args: ['firmware', 'set-target', '--model', 'SIM-NVME-3.2T', '--version', long(65)], says: ['--version must be at most 64 characters (got 65)'] },
  ],
  'firmware targets': [{ args: ['firmware', 'targets', '--bogus'], says: ["unknown option '--bogus'"] }],
  'firmware status': [{ args: ['firmware', 'status', '--model', ''], says: ['--model must not be empty'] }],
  'firmware reconcile': [{ args: ['firmware', 'reconcile', '--bogus'], says: ["unknown option '--bogus'"] }],
  'firmware schedule': [
    { args: ['firmware', 'schedule', '--every', '0'], says: ['--every'] },
    { args: ['firmware', 'schedule', '--every', 'often'], says: ['--every'] },
  ],
  'rack status': [{ args: ['rack', 'status', '--bogus'], says: ["unknown option '--bogus'"] }],
  'rack inventory': [{ args: ['rack', 'inventory', 'extra'], says: ['too many arguments'] }],
  'rack list': [
    { args: ['rack', 'list', 'widgets'], says: ["'widgets'"] },
    { args: ['rack', 'list', 'sleds', '--filter', 'colour=red'], says: ["--filter: sleds have no field 'colour'"] },
  ],
  'rack get': [{ args: ['rack', 'get', 'sleds', ''], says: ['<id> must not be empty'] }],
  'rack ledger': [
    { args: ['rack', 'ledger', '--operation', 'regions.ensur'], says: ["'--operation <operation>' argument 'regions.ensur' is invalid"] },
    { args: ['rack', 'ledger', '--since', 'soon'], says: ['--since'] },
  ],
  'rack fault set': [
    { args: ['rack', 'fault', 'set', 'nosuch.op', '--rate', '0.5'], says: ["unknown operation 'nosuch.op'", 'sleds.reserve', 'v2p.clear', '<resource>.list', 'firmware'] },
    { args: ['rack', 'fault', 'set', 'regions.ensure', '--rate', '0.8', '--ambiguous-rate', '0.5'], says: ['--rate + --ambiguous-rate must be at most 1'] },
    { args: ['rack', 'fault', 'set', 'regions.ensure'], says: ['no fault given', '--rate'] },
  ],
  'rack fault next': [{ args: ['rack', 'fault', 'next', 'disks.create'], says: ["required option '--kind <kind>' not specified"] }],
  'rack fault list': [{ args: ['rack', 'fault', 'list', '--rate', '1'], says: ["unknown option '--rate'"] }],
  'rack fault clear': [{ args: ['rack', 'fault', 'clear', 'regions.ensur'], says: ["unknown operation 'regions.ensur'", 'regions.ensure, regions.delete'] }],
  'rack fault seed': [{ args: ['rack', 'fault', 'seed', '4294967296'], says: ['seed', 'from 0 to 4294967295'] }],
  'rack reset': [{ args: ['rack', 'reset'], says: ['--yes'] }],
};

/** Bad global flags and environment: refused before any command connects. */
const GLOBAL_CASES: Case[] = [
  { args: ['--address', 'http://temporal:7233', 'list'], says: ["--address: 'http://temporal:7233' is not host:port"] },
  { args: ['--address', 'temporal:99999', 'list'], says: ["--address: 'temporal:99999' is not host:port"] },
  { args: ['list'], env: { TEMPORAL_ADDRESS: 'temporal:port' }, says: ["TEMPORAL_ADDRESS: 'temporal:port' is not host:port"] },
  { args: ['--namespace', '', 'list'], says: ['--namespace must not be empty'] },
  { args: ['--rack-url', 'ftp://rack', 'rack', 'status'], says: ["--rack-url: 'ftp://rack' is not an http(s) URL"] },
];

async function timed(c: Case): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  // Nothing listens on port 1; an address from the environment is the case's own.
  const address = c.env?.TEMPORAL_ADDRESS === undefined ? ['--address', '127.0.0.1:1'] : [];
  const run = await runUnwind([...address, ...c.args], { ...NOWHERE, ...c.env });
  return { ...run, ms: Date.now() - started };
}

/** Runs `cases` a few at a time (two cores are shared). */
async function runAll(cases: readonly Case[]): Promise<(CliRun & { ms: number })[]> {
  const results: (CliRun & { ms: number })[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < cases.length) {
        const i = next++;
        results[i] = await timed(cases[i]!);
      }
    }),
  );
  return results;
}

/** Soft: one run reports every command that fails, not only the first. */
function expectRefusedAtOnce(c: Case, run: CliRun & { ms: number }): void {
  const label = `unwind ${c.args.map((a) => (a.length > 40 ? `${a.slice(0, 10)}…` : a)).join(' ')}`;
  // Not timed (a loaded machine starts the CLI slowly): exit 3 would say it tried to connect.
  expect.soft(run.code, `${label} (${run.ms} ms)\nstderr: ${run.stderr}`).toBe(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect.soft(lines, `${label}: one line`).toHaveLength(1);
  expect.soft(lines[0], label).toMatch(/^unwind: .+; .+/);
  for (const said of c.says) {
    if (typeof said === 'string') expect.soft(lines[0], label).toContain(said);
    else expect.soft(lines[0], label).toMatch(said);
  }
  expect.soft(run.stdout, label).toBe('');
}

function leafCommands(command: Command, path: string[] = []): string[] {
  if (command.commands.length === 0) return [path.join(' ')];
  return command.commands.flatMap((sub) => leafCommands(sub, [...path, sub.name()]));
}

describe('bad input with nothing reachable: exit 2 at once, naming the flag', () => {
  it('has a case for every command', () => {
    const { program } = createProgram();
    const covered = new Set(Object.keys(CASES));
    expect(leafCommands(program).filter((c) => !covered.has(c))).toEqual([]);
  });

  it('every command refuses bad flags and arguments before connecting', { timeout: 300_000 }, async () => {
    const cases = Object.values(CASES).flat();
    const runs = await runAll(cases);
    cases.forEach((c, i) => expectRefusedAtOnce(c, runs[i]!));
  });

  it('bad global flags and environment are refused before connecting', async () => {
    const runs = await runAll(GLOBAL_CASES);
    GLOBAL_CASES.forEach((c, i) => expectRefusedAtOnce(c, runs[i]!));
  });
});

describe('checkFlags: a request checked by its schema, named by the flags', () => {
  const Request = z.strictObject({
    name: z.string().min(1).max(8),
    cpus: z.int().min(1).max(64),
    ratio: z.number().min(0).max(1).optional(),
    nics: z.int().min(1).default(1),
    kind: z.enum(['a', 'b']).optional(),
    approver: z.string().trim().min(1, 'approver must name who decides'),
    people: z.array(z.string()).min(1, 'name at least one person'),
    limits: z.object({ every: z.string().regex(/^\d+[smhd]$/, 'expected a duration such as 10m') }).optional(),
    requestId: z.string().regex(/^[a-z]+$/, 'must be lowercase letters').optional(),
  });
  const FLAGS = {
    name: '--name', cpus: '--cpus', ratio: '--ratio', nics: '--nics', kind: '--kind', approver: '--as', people: '--person', 'limits.every': '--every', requestId: '--request-id',
  };
  const ok = { name: 'web-1', cpus: 2, approver: 'ada', people: ['bo'] };

  it('returns the parsed request when every flag is good', () => {
    expect(checkFlags(Request, ok, FLAGS)).toEqual({ ...ok, nics: 1 });
  });

  it('says each problem in plain words, naming the flag, never the field', () => {
    const problems = (input: object) => flagProblems(Request, input, FLAGS);
    expect(problems({ ...ok, name: undefined, cpus: undefined })).toEqual(['--name is required', '--cpus is required']);
    expect(problems({ ...ok, cpus: 'abc' })).toEqual(["--cpus must be a whole number from 1 to 64 (got 'abc')"]);
    expect(problems({ ...ok, cpus: 65 })).toEqual(['--cpus must be a whole number from 1 to 64 (got 65)']);
    expect(problems({ ...ok, cpus: 1.5 })).toEqual(['--cpus must be a whole number from 1 to 64 (got 1.5)']);
    expect(problems({ ...ok, nics: 0 })).toEqual(['--nics must be a whole number of at least 1 (got 0)']);
    expect(problems({ ...ok, ratio: 2 })).toEqual(['--ratio must be a number from 0 to 1 (got 2)']);
    expect(problems({ ...ok, name: '' })).toEqual(['--name must not be empty']);
    expect(problems({ ...ok, name: 'much-too-long' })).toEqual(['--name must be at most 8 characters (got 13)']);
    expect(problems({ ...ok, kind: 'c' })).toEqual(["--kind must be one of a, b (got 'c')"]);
    expect(problems({ ...ok, approver: ' ' })).toEqual(['--as must name who decides']);
    expect(problems({ ...ok, people: [] })).toEqual(['--person: name at least one person']);
    expect(problems({ ...ok, limits: { every: 'often' } })).toEqual(["--every must be a duration such as 10m (got 'often')"]);
    expect(problems({ ...ok, requestId: 'No!' })).toEqual(["--request-id must be lowercase letters (got 'No!')"]);
  });

  it('names flags inside a message that mentions fields, and lists every problem in one usage error', () => {
    const Rates = z
      .strictObject({ transientRate: z.number().min(0).max(1), ambiguousRate: z.number().min(0).max(1) })
      .refine((r) => r.transientRate + r.ambiguousRate <= 1, { message: 'transientRate + ambiguousRate must be at most 1', path: ['ambiguousRate'] });
    const flags = { transientRate: '--rate', ambiguousRate: '--ambiguous-rate' };
    expect(flagProblems(Rates, { transientRate: 0.8, ambiguousRate: 0.5 }, flags)).toEqual(['--rate + --ambiguous-rate must be at most 1']);
    let error: unknown;
    try {
      checkFlags(Request, { ...ok, name: undefined, cpus: 0 }, FLAGS, { help: 'unwind thing create' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      exitCode: 2,
      message: "--name is required; --cpus must be a whole number from 1 to 64 (got 0); fix the flags named (see 'unwind thing create --help'); nothing was done",
    });
  });
});

describe('an operation the rack does not know', () => {
  it('is exit 2 when the CLI catches it (above), and exit 5 naming it when a rack refuses it', async () => {
    // The CLI checks operations against the list it shares with the rack; a rack of another
    // version refusing one is "refused by the server: validation" (exit 5), as README says.
    const t = await startTestRack();
    try {
      const error = await t.rack.faults.setRule({ operation: 'nosuch.op', transientRate: 0.5 }).catch((e: unknown) => e);
      const failure = toCliError(error, { rackUrl: t.server.url });
      expect(failure.exitCode).toBe(ExitCode.Refused);
      expect(failure.message).toMatch(/^rack refused faults\.rules: unknown operation 'nosuch\.op': valid operations are .*; fix the input \(code unknown-operation\)$/);
      expect((await t.rack.faults.get()).rules).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});

describe('refuseEmptyValues', () => {
  it('refuses an empty or blank value for any option or argument, and leaves the rest as commander parses them', () => {
    const parse = (args: string[]) => {
      let seen: unknown;
      const program = new Command('t')
        .exitOverride()
        .option('--many <v...>')
        .option('--count <n>', 'a parsed one', (v) => Number(v))
        .option('--flag')
        .argument('[xs...]')
        .action((xs: string[], opts: object) => void (seen = { xs, ...opts }));
      refuseEmptyValues(program);
      program.parse(args, { from: 'user' });
      return seen;
    };
    expect(parse(['a', 'b', '--many', '1', '2', '--count', '3', '--flag'])).toEqual({ xs: ['a', 'b'], many: ['1', '2'], count: 3, flag: true });
    expect(() => parse(['--count', ' '])).toThrow(/^--count must not be empty; give one, or leave --count out \(see 't --help'\)$/);
    expect(() => parse(['a', ''])).toThrow(/^<xs> must not be empty/);
  });
});
