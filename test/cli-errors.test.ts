/**
 * `unwind errors` over hundreds of real failures: diskCreate sagas started through the typed
 * client against a rack with standing faults, so they unwind (or pause) for real on a dev server
 * with a real worker. The grouped counts are checked against what every saga says of itself.
 */
import { describe, expect, it } from 'vitest';
import { type ErrorGroup, SagaUnwoundError } from '../src/client';
import { eventually, expectExit } from './cli-helpers';
import { useRackTestBed } from './helpers/rack-bed';

const taskQueue = 'cli-errors';
const bed = useRackTestBed({ taskQueue });
const rack = () => bed.testRack.rack;
const unwind = (...args: string[]) => bed.unwind(...args);

/** What one saga says of its own failure: the ground truth the grouping must agree with. */
interface Failure {
  workflowId: string;
  step: string | null;
  errorType: string;
  message: string;
}

/** Runs `fn` over `items`, `size` at a time. */
async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** Starts diskCreate sagas `prefix-0…` and waits for each to unwind. */
async function unwoundDisks(prefix: string, count: number): Promise<Failure[]> {
  return inBatches(Array.from({ length: count }, (_, i) => `${prefix}-${i}`), 120, async (name) => {
    const saga = await bed.client.disks.create({ name, sizeGiB: 1 });
    const error = await saga.result().then(
      () => new Error(`${name} completed`),
      (e: unknown) => e,
    );
    if (!(error instanceof SagaUnwoundError)) throw error;
    return { workflowId: saga.workflowId, step: error.details.failedStep, errorType: error.details.cause.type, message: error.details.cause.message };
  });
}

/** Starts diskCreate sagas `prefix-0…` and waits for each to pause for an operator. */
async function pausedDisks(prefix: string, count: number): Promise<Failure[]> {
  const sagas = await inBatches(Array.from({ length: count }, (_, i) => `${prefix}-${i}`), 120, (name) => bed.client.disks.create({ name, sizeGiB: 1 }));
  return inBatches(sagas, 20, async (saga) => {
    const status = await eventually(() => saga.status(), (s) => s.state === 'needs-operator', `${saga.workflowId} to pause`);
    const wait = status.waitingFor!;
    return { workflowId: saga.workflowId, step: wait.step, errorType: wait.error.type, message: wait.error.message };
  });
}

type Key = `${string}|${string}|${string}`;
const keyOf = (saga: string, step: string | null, errorType: string): Key => `${saga}|${step ?? '-'}|${errorType}`;

/** The groups the failures make: counts, and every member's message by id. */
function expectedGroups(failures: readonly Failure[]): Map<Key, Map<string, string>> {
  const groups = new Map<Key, Map<string, string>>();
  for (const f of failures) {
    const key = keyOf('diskCreate', f.step, f.errorType);
    const members = groups.get(key) ?? new Map<string, string>();
    members.set(f.workflowId, f.message);
    groups.set(key, members);
  }
  return groups;
}

/** Checks groups against the ground truth: exact counts, largest first, one real example each. */
function expectGroups(groups: readonly ErrorGroup[], failures: readonly Failure[]): void {
  const expected = expectedGroups(failures);
  expect(Object.fromEntries(groups.map((g) => [keyOf(g.saga, g.step, g.errorType), g.count]))).toEqual(
    Object.fromEntries([...expected].map(([key, members]) => [key, members.size])),
  );
  expect(groups).toHaveLength(expected.size);
  const counts = groups.map((g) => g.count);
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
  for (const g of groups) {
    const members = expected.get(keyOf(g.saga, g.step, g.errorType))!;
    expect(members.has(g.example.workflowId), `${g.example.workflowId} is one of its group`).toBe(true);
    expect(g.example.message).toBe(members.get(g.example.workflowId));
  }
}

describe('unwind errors', () => {
  it('groups 240 failures by saga, step and error type with exact counts and one example each', async () => {
    const wallStart = Date.now();

    // 1. create-disk refused: 120 sagas unwind at once.
    await rack().faults.setRule({ operation: 'disks.create', permanent: 'refused' });
    const refused = await unwoundDisks('refused', 120);
    const afterFirst = new Date();

    // 2. create-disk needs an operator: 60 sagas pause (they stay running, holding nothing).
    await rack().faults.setRule({ operation: 'disks.create', permanent: 'needs-operator' });
    const paused = await pausedDisks('paused', 60);

    // 3. a replica refused: 60 sagas unwind from whichever ensure-region[i] failed first.
    await rack().faults.clear('disks.create');
    await rack().faults.setRule({ operation: 'regions.ensure', permanent: 'refused' });
    const replicas = await unwoundDisks('replica', 60);
    await rack().faults.clear();
    const created = Date.now() - wallStart;

    const all = [...refused, ...paused, ...replicas];
    expect(all).toHaveLength(240);
    expect(new Set(refused.map((f) => `${f.step} ${f.errorType}`))).toEqual(new Set(['create-disk Refused']));
    expect(new Set(paused.map((f) => `${f.step} ${f.errorType}`))).toEqual(new Set(['create-disk NeedsOperator']));
    expect(replicas.every((f) => /^ensure-region\[\d\]$/.test(f.step ?? '') && f.errorType === 'Refused')).toBe(true);

    // Visibility is eventually consistent: wait until it counts every failure.
    const since = new Date(wallStart - 60_000);
    await eventually(
      () => bed.client.sagas.errors({ since }),
      (groups) => groups.reduce((n, g) => n + g.count, 0) === all.length,
      'visibility to count every failure',
    );

    // The CLI, as an operator runs it.
    const cliStart = Date.now();
    const json = expectExit(await unwind('errors', '--since', '1h', '--json'), 0);
    const cliMs = Date.now() - cliStart;
    const report = JSON.parse(json.stdout) as { since: string; groups: ErrorGroup[]; more: boolean };
    expect(report.more).toBe(false);
    expectGroups(report.groups, all);
    expect(report.groups[0]).toMatchObject({ saga: 'diskCreate', step: 'create-disk', errorType: 'Refused', count: 120 });
    expect(report.groups[1]).toMatchObject({ saga: 'diskCreate', step: 'create-disk', errorType: 'NeedsOperator', count: 60 });

    const text = expectExit(await unwind('errors', '--since', '1h'), 0).stdout.split('\n');
    expect(text[0]).toMatch(new RegExp(`^240 failures in ${report.groups.length} groups since 1h ago \\(`));
    expect(text[2]).toMatch(/^COUNT\s+SAGA\s+STEP\s+ERROR\s+LAST\s+EXAMPLE\s+MESSAGE$/);
    expect(text[3]).toMatch(/^ {2}120 {2}diskCreate {2}create-disk\s+Refused\s+.+ago {2}disk-create\/refused-\d+\/\S+\s+\S/);
    expect(text[4]).toMatch(/^ {3}60 {2}diskCreate {2}create-disk\s+NeedsOperator\s+.+ago {2}disk-create\/paused-\d+\/\S+\s+\S/);
    expect(text.filter((line) => /^\s+\d+ {2}diskCreate/.test(line))).toHaveLength(report.groups.length);

    const limited = expectExit(await unwind('errors', '--limit', '1'), 0).stdout;
    expect(limited.split('\n')[0]).toMatch(/^120 failures in the 1 largest groups since 1h ago .*; more groups not shown: raise --limit$/);

    // Through the client: small pages (every one read), and a window that leaves the first batch out.
    expectGroups(await bed.client.sagas.errors({ since, pageSize: 25 }), all);
    expectGroups(await bed.client.sagas.errors({ since: afterFirst }), [...paused, ...replicas]);
    const bad = expectExit(await unwind('errors', '--since', 'yesterday'), 2);
    expect(bad.stderr).toContain("--since: 'yesterday' is not a duration");

    console.log(`unwind errors: ${all.length} failures made in ${created} ms; unwind errors --json took ${cliMs} ms; test wall time ${Date.now() - wallStart} ms`);
  });
});
