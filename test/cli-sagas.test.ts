/**
 * The saga commands of the `unwind` CLI, spawned as a process the way operators run it,
 * against a dev server with a real worker over the rack simulator.
 */
import { describe, expect, it } from 'vitest';
import { renderOutcome } from '../src/cli/saga-start';
import { parseWaitId, settled } from '../src/cli/sagas';
import { type SagaSummary, createUnwindClient } from '../src/client';
import type { SagaState, SagaStatus } from '../src/schemas/saga';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { failureOf } from '../src/testing/rack';
import { eventually, expectExit, runUnwind } from './cli-helpers';
import { useRackTestBed } from './helpers/rack-bed';

const escape = (text: string) => text.replace(/[[\]()]/g, '\\$&');

const bed = useRackTestBed({ taskQueue: TASK_QUEUE, deps: { stream: { chunkMs: 5 } } });

const untilState = (workflowId: string, state: SagaState): Promise<SagaStatus> =>
  eventually(() => bed.client.sagas.status(workflowId), (s) => s.state === state, `${workflowId} to be ${state}`);
const untilListed = (workflowId: string, state: SagaState): Promise<SagaSummary[]> =>
  eventually(() => bed.client.sagas.list({ state }), (rows) => rows.some((r) => r.workflowId === workflowId), `${workflowId} listed as ${state}`);

/** A saga paused on a needs-operator failure of one replica, started with the CLI (request id `req-<name>`). */
async function pausedDisk(name: string): Promise<{ id: string; status: SagaStatus }> {
  await bed.testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
  const run = expectExit(await bed.unwind('disk', 'create', '--name', name, '--size', '10', '--request-id', `req-${name}`), 0);
  const id = run.stdout.trim();
  expect(id).toBe(`disk-create/${name}/req-${name}`);
  return { id, status: await untilState(id, 'needs-operator') };
}

describe('help', () => {
  it('has examples at every level of the saga commands', async () => {
    const runs = await Promise.all(
      [['list'], ['show'], ['retry'], ['skip'], ['unwind'], ['instance'], ['instance', 'create'], ['instance', 'migrate'], ['instance', 'delete'], ['disk', 'create']].map(
        (args) => bed.unwind(...args, '--help'),
      ),
    );
    for (const run of runs) {
      expectExit(run, 0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toMatch(/\$ unwind /);
    }
    const top = expectExit(await bed.unwind('--help'), 0);
    for (const command of ['list', 'show', 'retry', 'skip', 'unwind', 'instance', 'disk']) expect(top.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(top.stdout).toContain('6  waiting for an operator');
  });
});

describe('--wait-id and what the commands print, without a server', () => {
  it('takes a whole number from 1, naming the flag otherwise', () => {
    expect(parseWaitId('3')).toBe(3);
    expect(parseWaitId('12')).toBe(12);
    for (const bad of ['0', '-1', '1.5', 'three', '', '1e3', '99999999999999999999']) {
      expect(() => parseWaitId(bad)).toThrow(/^--wait-id: '.*' is not a wait number/);
    }
  });

  it('exits 2 on a bad --wait-id before connecting', async () => {
    const runs = await Promise.all([
      runUnwind(['--address', '127.0.0.1:1', 'retry', 'disk-create/x', '--reason', 'r', '--as', 'alice', '--wait-id', '0']),
      runUnwind(['--address', '127.0.0.1:1', 'skip', 'disk-create/x', '--reason', 'r', '--as', 'alice', '--wait-id', 'last']),
      runUnwind(['--address', '127.0.0.1:1', 'approve', 'sled-replace/sled-3', '--as', 'alice', '--wait-id', '2.5']),
    ]);
    for (const run of runs) expect(expectExit(run, 2).stderr).toMatch(/^unwind: --wait-id: '.+' is not a wait number; /);
  });

  it('documents --wait-id and what --state matches', async () => {
    const [retry, approve, list] = await Promise.all([bed.unwind('retry', '--help'), bed.unwind('approve', '--help'), bed.unwind('list', '--help')]);
    expect(expectExit(retry, 0).stdout).toContain('--wait-id <n>');
    expect(retry.stdout).toContain('$ unwind retry disk-create/data-1 --wait-id 3');
    expect(expectExit(approve, 0).stdout).toContain('--wait-id <n>');
    expect(expectExit(list, 0).stdout).toMatch(/failed is a saga\s+an error escaped/);
  });

  it('prints a cancelled saga with what it undid', () => {
    const cancelled = { failedStep: null, cause: { type: 'Cancelled', message: 'cancelled during ensure-region[1]' }, undone: ['ensure-region[0]', 'create-disk'], skipped: [] };
    expect(renderOutcome('d/1', { outcome: 'cancelled', cancelled })).toBe('d/1 cancelled: cancelled during ensure-region[1]\n  undone: ensure-region[0], create-disk');
    expect(renderOutcome('d/1', { outcome: 'cancelled', cancelled: null })).toBe("d/1 cancelled; it left no record of what it undid: see 'unwind show d/1'");
  });

  it('shows a closed workflow by how it closed: its status query no longer says who must act', () => {
    const status = { state: 'needs-operator', waitingFor: {}, waiting: [{}], pendingApproval: null } as unknown as SagaStatus;
    expect(settled(status, { state: 'failed', status: 'terminated' })).toMatchObject({ state: 'failed', waitingFor: null, waiting: [] });
    expect(settled(status, { state: 'needs-operator', status: 'running' })).toBe(status);
    const done = { ...status, state: 'unwound' } as SagaStatus;
    expect(settled(done, { state: 'unwound', status: 'failed' })).toBe(done);
  });
});

describe('starting sagas', () => {
  it('prints the saga id; --wait follows it to completion (exit 0); the same request again finds the same saga', async () => {
    const waited = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-ok', '--size', '10', '--request-id', 'ok-1', '--wait'), 0);
    expect(waited.stdout).toMatch(/^disk-create\/cli-ok\/ok-1 completed\n {2}diskId: \S+\n {2}regions: \[/);
    expect(waited.stderr).toContain('started saga disk-create/cli-ok/ok-1 (request ok-1)');
    const again = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-ok', '--size', '10', '--request-id', 'ok-1', '--json'), 0);
    expect(JSON.parse(again.stdout)).toEqual({ workflowId: 'disk-create/cli-ok/ok-1', requestId: 'ok-1', existing: true });
    expect(again.stderr).toContain('already exists');
    expect(await bed.testRack.rack.list('disks', { name: 'cli-ok' })).toHaveLength(1);
  });

  it('refuses bad input naming every bad flag (exit 2), and starts nothing', async () => {
    const [disk, instance] = await Promise.all([
      bed.unwind('disk', 'create', '--name', 'Bad_Name', '--size', 'lots'),
      bed.unwind('instance', 'create', '--name', 'web-9', '--cpus', '0', '--memory', '1.5', '--nics', '7'),
    ]);
    expectExit(disk, 2);
    expect(disk.stderr).toMatch(/^unwind: --name: 'Bad_Name' is not a DNS label: .+; --size must be a whole number from 1 to 16384 \(got 'lots'\); fix the flags named \(see 'unwind disk create --help'\); nothing was done\n$/);
    expectExit(instance, 2);
    expect(instance.stderr).toContain('--cpus must be a whole number from 1 to 64 (got 0); --memory must be a whole number from 1 to 1024 (got 1.5); --disk is required; --nics must be a whole number from 1 to 4 (got 7)');
    expect(instance.stderr).not.toContain('--name');
    expect(await bed.client.sagas.list({ saga: 'instanceCreate' })).toEqual([]);
  });

  it('--wait exits 1 when the saga unwound, naming the failed step and cause', async () => {
    await bed.testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'refused' });
    const run = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-refused', '--size', '10', '--wait'), 1);
    expect(run.stdout).toMatch(/^disk-create\/cli-refused\/[a-z0-9]{12} unwound: step ensure-region\[\d\] failed: Refused: .+\n {2}undone: .*create-disk/);
    expect(await bed.testRack.rack.list('disks', { name: 'cli-refused' })).toEqual([]);
  });

  it('--wait exits 6 when the saga pauses for an operator, printing what to run', async () => {
    await bed.testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const run = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-wait-paused', '--size', '10', '--request-id', 'p-1', '--wait', '--json'), 6);
    const out = JSON.parse(run.stdout) as { outcome: string; waiting: { step: string; actions: string[] }[] };
    expect(out.outcome).toBe('needs-operator');
    expect(out.waiting[0]?.actions).toEqual(['retry', 'unwind']);
    // The same request again follows the same saga; another request for the name is refused while it runs.
    const text = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-wait-paused', '--size', '10', '--request-id', 'p-1', '--wait'), 6);
    expect(text.stdout).toContain('disk-create/cli-wait-paused/p-1 paused: needs-operator; an operator must act');
    expect(text.stdout).toMatch(/unwind retry disk-create\/cli-wait-paused\/p-1 --wait-id \d+ --reason "…" --as <you>/);
    const other = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-wait-paused', '--size', '10', '--wait'), 5);
    expect(other.stderr).toMatch(/^unwind: refused: saga diskCreate disk-create\/cli-wait-paused\/p-1 \(request p-1\) is running on disk name cli-wait-paused since /);
    await bed.client.sagas.unwind('disk-create/cli-wait-paused/p-1', { operator: 'test', reason: 'cleanup' });
  });
});

describe('a paused saga, seen and resumed from the CLI', () => {
  it('lists it by state, type and stall (table and JSON), shows its tree, refuses a wrong action (exit 5), and resumes on retry', async () => {
    const { id, status } = await pausedDisk('cli-paused');
    const waitingStep = status.waitingFor?.step ?? '';
    await untilListed(id, 'needs-operator');
    // `--stalled 1s` below finds it once it has made no progress for a second.
    await eventually(() => bed.client.sagas.list({ stalledFor: 1_000 }), (rows) => rows.some((r) => r.workflowId === id), `${id} stalled for 1s`);

    const [byState, byStateJson, bySaga, stalled, notStalled, badState, show, showJson] = await Promise.all([
      bed.unwind('list', '--state', 'needs-operator'),
      bed.unwind('list', '--state', 'needs-operator', '--json'),
      bed.unwind('list', '--saga', 'diskCreate', '--json'),
      bed.unwind('list', '--stalled', '1s', '--json'),
      bed.unwind('list', '--stalled', '1h', '--json'),
      bed.unwind('list', '--state', 'sleeping'),
      bed.unwind('show', id),
      bed.unwind('show', id, '--json'),
    ]);
    const lines = expectExit(byState, 0).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SAGA\s+STATE\s+STEP\s+STARTED\s+LAST PROGRESS$/);
    expect(lines.find((l) => l.startsWith(id))).toMatch(new RegExp(`^${id}\\s+diskCreate\\s+needs-operator\\s+ensure-region\\[\\d\\]\\s+\\d+s ago\\s+\\d+s ago$`));
    const rows = JSON.parse(expectExit(byStateJson, 0).stdout) as SagaSummary[];
    expect(rows.find((r) => r.workflowId === id)).toMatchObject({ saga: 'diskCreate', state: 'needs-operator', step: waitingStep, status: 'running' });
    expect(rows.every((r) => r.state === 'needs-operator')).toBe(true);
    const sagaRows = JSON.parse(expectExit(bySaga, 0).stdout) as SagaSummary[];
    expect(sagaRows.map((r) => r.workflowId)).toEqual(expect.arrayContaining([id, 'disk-create/cli-ok/ok-1']));
    expect((JSON.parse(expectExit(stalled, 0).stdout) as SagaSummary[]).map((r) => r.workflowId)).toContain(id);
    expect(JSON.parse(expectExit(notStalled, 0).stdout)).toEqual([]);
    expect(expectExit(badState, 2).stderr).toMatch(/--state.*sleeping/);

    const text = expectExit(show, 0).stdout;
    expect(text.split('\n')[0]).toBe(`diskCreate ${id}`);
    expect(text).toMatch(/state:\s+needs-operator/);
    expect(text).toMatch(/pivot:\s+not reached/);
    expect(text).toMatch(new RegExp(`waiting:\\s+ensure-region\\[\\d\\] \\(wait ${status.waitingFor?.waitId}\\): its action failed .*ago: NeedsOperator: `));
    expect(text).toMatch(/who:\s+an operator must act \(since .*ago\): retry \| unwind/);
    expect(text).toContain(`unwind retry ${id} --wait-id ${status.waitingFor?.waitId} --reason "…" --as <you>`);
    expect(text).toMatch(/^create-disk\s+succeeded\s+1\s+-/m);
    expect(text).toMatch(/^regions \(parallel\)$/m);
    expect(text).toMatch(new RegExp(`^ {2}${waitingStep.replace(/[[\]]/g, '\\$&')}\\s+failed\\s+1\\s+-\\s+\\S+\\s+NeedsOperator: `, 'm'));
    const json = JSON.parse(expectExit(showJson, 0).stdout) as { summary: SagaSummary; status: SagaStatus };
    expect(json.summary).toMatchObject({ workflowId: id, state: 'needs-operator' });
    expect(json.status.waitingFor?.step).toBe(waitingStep);

    const [skip, noReason, noOperator, missing] = await Promise.all([
      bed.unwind('skip', id, '--reason', 'nothing to skip', '--as', 'alice'),
      bed.unwind('retry', id, '--as', 'alice'),
      bed.unwind('retry', id, '--reason', 'sled back'),
      bed.unwind('show', 'disk-create/no-such-saga'),
    ]);
    expect(expectExit(skip, 5).stderr).toMatch(new RegExp(`^unwind: saga ${id} refused skip: .+`));
    expect(expectExit(noReason, 2).stderr).toContain('--reason');
    expect(expectExit(noOperator, 2).stderr).toContain('--as');
    expectExit(missing, 4);

    const retry = expectExit(await bed.unwind('retry', id, '--reason', 'sled back online', '--as', 'alice'), 0);
    expect(retry.stdout.trim()).toBe(`retry recorded on ${id} at step ${waitingStep} (wait ${status.waitingFor?.waitId}) by alice: sled back online`);
    const result = await bed.client.sagas.result<{ regions: unknown[] }>(id);
    expect(result.regions).toHaveLength(3);

    const [after, mermaid, dot] = await Promise.all([bed.unwind('show', id), bed.unwind('show', id, '--graph', 'mermaid'), bed.unwind('show', id, '--graph', 'dot')]);
    expect(expectExit(after, 0).stdout).toMatch(/state:\s+completed/);
    expect(after.stdout).toMatch(new RegExp(`decisions:\\n {2}.*ago {2}retry ${waitingStep.replace(/[[\]]/g, '\\$&')} by alice: sled back online`));
    const graph = expectExit(mermaid, 0).stdout;
    expect(graph.split('\n')[0]).toBe('flowchart TD');
    expect(graph).toMatch(/subgraph g\d+\["regions \(parallel\)"\]/);
    expect(graph).toMatch(/s0\["create-disk<br\/>succeeded"\]:::succeeded/);
    expect(graph).toContain(`${waitingStep}<br/>succeeded ×2`);
    const digraph = expectExit(dot, 0).stdout;
    expect(digraph).toContain(`digraph "${id}" {`);
    expect(digraph).toMatch(/subgraph cluster_\w+ \{\n\s+label="regions \(parallel\)";/);
    expect(digraph).toMatch(/s0 -> s[123];/);
  });

  it('unwinds a paused saga on `unwind unwind`; the graph shows the undone steps; acting on a finished saga is refused', async () => {
    const { id, status } = await pausedDisk('cli-unwind');
    const run = expectExit(await bed.unwind('unwind', id, '--reason', 'sled-3 being replaced', '--as', 'bob', '--json'), 0);
    expect(JSON.parse(run.stdout)).toMatchObject({ action: 'unwind', operator: 'bob', step: status.waitingFor?.step });
    const error = await failureOf(bed.client.sagas.result(id));
    expect((error as Error).name).toBe('SagaUnwoundError');
    expect(await bed.testRack.rack.list('disks', { name: 'cli-unwind' })).toEqual([]);

    const [show, mermaid, again] = await Promise.all([
      bed.unwind('show', id),
      bed.unwind('show', id, '--graph', 'mermaid'),
      bed.unwind('retry', id, '--reason', 'too late', '--as', 'bob'),
    ]);
    expect(expectExit(show, 0).stdout).toMatch(/state:\s+unwound/);
    expect(show.stdout).toMatch(/^create-disk\s+undone\s+1\s+undone/m);
    expect(expectExit(mermaid, 0).stdout).toMatch(/s0\["create-disk<br\/>undone<br\/>undo ×1"\]:::undone/);
    expect(expectExit(again, 5).stderr).toMatch(new RegExp(`^unwind: saga ${id} refused retry: the saga has finished \\(unwound\\); `));
  });
});

describe('instance commands', () => {
  it('create, migrate and delete an instance, each followed with --wait', async () => {
    const create = expectExit(await bed.unwind('instance', 'create', '--name', 'vm-1', '--cpus', '2', '--memory', '4', '--disk', '10', '--wait', '--json'), 0);
    const created = JSON.parse(create.stdout) as { workflowId: string; requestId: string; existing: boolean; outcome: string; result: { instanceId: string; sledId: string } };
    expect(created).toMatchObject({ workflowId: `instance-create/vm-1/${created.requestId}`, existing: false, outcome: 'completed' });
    expect(created.requestId).toMatch(/^[a-z0-9]{12}$/);
    const { instanceId, sledId } = created.result;
    expect((await bed.testRack.rack.get('instances', instanceId)).state).toBe('running');

    const target = (await bed.testRack.rack.list('sleds')).find((s) => s.id !== sledId && s.state === 'online' && s.provisionable);
    expect(target).toBeDefined();
    const migrate = expectExit(await bed.unwind('instance', 'migrate', instanceId, '--to', target?.id ?? '', '--request-id', 'move-1', '--wait'), 0);
    expect(migrate.stdout).toMatch(new RegExp(`^instance-migrate/${instanceId}/move-1 completed\n`));
    expect(migrate.stdout).toContain(`fromSledId: ${sledId}`);
    expect(migrate.stdout).toContain(`toSledId: ${target?.id}`);
    expect((await bed.testRack.rack.get('instances', instanceId)).sledId).toBe(target?.id);

    const remove = expectExit(await bed.unwind('instance', 'delete', instanceId, '--request-id', 'rm-1', '--wait'), 0);
    expect(remove.stdout).toMatch(new RegExp(`^instance-delete/${instanceId}/rm-1 completed\n`));
    expect((await bed.testRack.rack.list('instances')).map((i) => i.id)).not.toContain(instanceId);
  });

  it('names bad migrate input by its flag and argument (exit 2)', async () => {
    const run = expectExit(await bed.unwind('instance', 'migrate', 'inst-1', '--request-id', 'not ok!'), 2);
    expect(run.stderr).toMatch(/^unwind: --request-id must be 1 to 64 letters.* \(got 'not ok!'\); fix the flag named/);
  });
});

describe('operator commands name the wait they decide', () => {
  it('fills in the open wait; a stale --wait-id is refused (exit 5) with the saga\'s message', async () => {
    const { id, status } = await pausedDisk('cli-waits');
    const first = status.waitingFor;
    if (!first) throw new Error('no wait');
    // The retry fails again: the step waits again, under a new wait id.
    await bed.testRack.rack.faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const retry = expectExit(await bed.unwind('retry', id, '--reason', 'sled back', '--as', 'ada'), 0);
    expect(retry.stdout.trim()).toBe(`retry recorded on ${id} at step ${first.step} (wait ${first.waitId}) by ada: sled back`);
    const again = await eventually(
      () => bed.client.sagas.status(id),
      (s) => s.waitingFor !== null && s.waitingFor.waitId !== first.waitId,
      'the step to wait again',
    );
    const second = again.waitingFor?.waitId ?? 0;

    // Someone repeats the first decision: refused, saying what happened to that wait; nothing recorded.
    const stale = expectExit(await bed.unwind('retry', id, '--wait-id', String(first.waitId), '--reason', 'sled back', '--as', 'bob'), 5);
    expect(stale.stderr).toMatch(new RegExp(`^unwind: saga ${id} refused retry: .*wait ${first.waitId} \\(step "${escape(first.step)}"\\) was already decided: retry by ada at `));
    const unknown = expectExit(await bed.unwind('unwind', id, '--wait-id', '99', '--reason', 'x', '--as', 'bob'), 5);
    expect(unknown.stderr).toMatch(/no wait 99/);
    expect((await bed.client.sagas.status(id)).decisions).toHaveLength(1);

    const decided = expectExit(await bed.unwind('retry', id, '--wait-id', String(second), '--reason', 'really back', '--as', 'bob', '--json'), 0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ action: 'retry', step: first.step, waitId: second, operator: 'bob' });
    expect((await bed.client.sagas.result<{ regions: unknown[] }>(id)).regions).toHaveLength(3);
  });
});

describe('status is never stale', () => {
  it('a terminated saga is not listed as running; --state failed shows it with its execution status', async () => {
    const idle = await createUnwindClient({ address: bed.env.address, taskQueue: 'no-worker-polls-this' });
    try {
      const handle = await idle.disks.create({ name: 'cli-terminated', sizeGiB: 1 });
      await untilListed(handle.workflowId, 'running');
      await handle.temporal.terminate('test: ended from outside');
      await untilListed(handle.workflowId, 'failed');
      const [running, failed, failedJson] = await Promise.all([
        bed.unwind('list', '--state', 'running', '--json'),
        bed.unwind('list', '--state', 'failed'),
        bed.unwind('list', '--state', 'failed', '--json'),
      ]);
      expect((JSON.parse(expectExit(running, 0).stdout) as SagaSummary[]).map((r) => r.workflowId)).not.toContain(handle.workflowId);
      expect(expectExit(failed, 0).stdout).toMatch(new RegExp(`^${handle.workflowId}\\s+diskCreate\\s+failed \\(terminated\\)\\s`, 'm'));
      expect((JSON.parse(expectExit(failedJson, 0).stdout) as SagaSummary[]).find((r) => r.workflowId === handle.workflowId)).toMatchObject({
        state: 'failed',
        status: 'terminated',
      });
    } finally {
      await idle.close();
    }
  });

  it('a cancelled saga is listed as cancelled; following it exits 1 with what was undone', async () => {
    const { id } = await pausedDisk('cli-cancelled');
    await bed.client.sagas.handle(id).temporal.cancel();
    await untilListed(id, 'cancelled');
    const [list, unwinding] = await Promise.all([bed.unwind('list', '--state', 'cancelled', '--json'), bed.unwind('list', '--state', 'unwinding', '--json')]);
    expect((JSON.parse(expectExit(list, 0).stdout) as SagaSummary[]).find((r) => r.workflowId === id)).toMatchObject({ state: 'cancelled', status: 'cancelled' });
    expect((JSON.parse(expectExit(unwinding, 0).stdout) as SagaSummary[]).map((r) => r.workflowId)).not.toContain(id);
    // The same request again finds the cancelled saga; --wait reports how it ended.
    const waited = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-cancelled', '--size', '10', '--request-id', 'req-cli-cancelled', '--wait'), 1);
    expect(waited.stdout).toMatch(/^disk-create\/cli-cancelled\/req-cli-cancelled cancelled: .+\n {2}undone: .*create-disk/);
    const json = expectExit(await bed.unwind('disk', 'create', '--name', 'cli-cancelled', '--size', '10', '--request-id', 'req-cli-cancelled', '--wait', '--json'), 1);
    expect(JSON.parse(json.stdout)).toMatchObject({ workflowId: id, existing: true, outcome: 'cancelled', cancelled: { cause: { type: 'Cancelled' } } });
    const refused = expectExit(await bed.unwind('retry', id, '--reason', 'too late', '--as', 'ada'), 5);
    expect(refused.stderr).toContain(`refused retry: the saga has finished (cancelled)`);
  });
});
