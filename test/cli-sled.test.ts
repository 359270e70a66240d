/**
 * Replacing a sled through the `unwind` CLI, spawned as a process the way operators run it,
 * against a dev server with a real worker over the rack simulator: listing by state, who must
 * act, approving (and being refused), the technician's report, and a rejection that unwinds.
 *
 * The dev server has no time skipping: the reminders and escalations run on real, short timers.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaUnwoundError, type UnwindClient, createUnwindClient } from '../src/client';
import type { RackSeed } from '../src/rack/schemas';
import type { SagaStatus } from '../src/schemas/saga';
import { createDevServerEnv } from '../src/testing/environments';
import { startRackSagaBed, type RackSagaBed } from '../src/testing/saga-bed';
import { eventually, expectExit, runUnwind } from './cli-helpers';

const taskQueue = 'cli-sled';
const ssds = [{}, {}];
// sled-0 is the roomiest, so new instances land there first.
const seed: RackSeed = {
  ipPool: '10.0.0.0/24',
  sleds: [{ cpus: 64, memoryGiB: 2048, ssds }, ...Array.from({ length: 4 }, () => ({ cpus: 64, memoryGiB: 256, ssds }))],
};

let env: TestWorkflowEnvironment;
let bed: RackSagaBed;
let client: UnwindClient;
const rack = () => bed.testRack.rack;

beforeAll(async () => {
  env = await createDevServerEnv();
  bed = await startRackSagaBed(env, { taskQueue, seed, deps: { stream: { chunkMs: 1 } } });
  client = await createUnwindClient({ address: env.address, taskQueue });
});

afterAll(async () => {
  await client?.close();
  await bed?.stop();
  await env?.teardown();
});

const unwind = (...args: string[]) => runUnwind(['--address', env.address, ...args], { UNWIND_TASK_QUEUE: taskQueue });



const statusOf = (id: string, done: (s: SagaStatus) => boolean, what: string) => eventually(() => client.sagas.status(id), done, `${id}: ${what}`);

let created = 0;
/** Creates instances until `count` of them run on `sledId`. */
async function fill(sledId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let tries = 0; ids.length < count; tries++) {
    if (tries > 20) throw new Error(`20 instances created, only ${ids.length} on ${sledId}`);
    const vm = await (await client.instances.create({ name: `vm-${++created}`, cpus: 1, memoryGiB: 2, diskGiB: 10, nics: 1 })).result();
    if (vm.sledId === sledId) ids.push(vm.instanceId);
  }
  return ids;
}

const fast = ['--remind-every', '1s', '--escalate-after', '1h', '--expire-after', '1d', '--hardware-remind-every', '1s', '--hardware-escalate-after', '2s'];

describe('help', () => {
  it('has examples at every level of the sled, approval and errors commands', async () => {
    const runs = await Promise.all(
      [['sled'], ['sled', 'replace'], ['sled', 'hardware-replaced'], ['approve'], ['reject'], ['errors']].map((args) => unwind(...args, '--help')),
    );
    for (const run of runs) {
      expectExit(run, 0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toMatch(/\$ unwind /);
    }
    const top = expectExit(await unwind('--help'), 0).stdout;
    for (const command of ['approve', 'reject', 'errors', 'sled']) expect(top).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(top).toContain('$ unwind approve sled-replace/sled-3 --as alice');
  });

  it('names every bad flag of a replacement (exit 2) before connecting', async () => {
    const run = expectExit(await runUnwind(['--address', '127.0.0.1:1', 'sled', 'replace', 'sled-3', '--remind-every', 'soon', '--concurrency', '99']), 2);
    expect(run.stderr).toMatch(
      /^unwind: --approver: name at least one approver; --technician: name at least one technician; --remind-every must be a duration from 1s to 365d, such as 30m, 4h, 3d or 2w \(got 'soon'\); --concurrency must be a whole number from 1 to 16 \(got 99\); fix the flags named \(see 'unwind sled replace --help'\); nothing was done/,
    );
  });

  it('refuses zero, negative and absurd durations, and reminders or escalation not before the expiry, naming the flags (exit 2)', async () => {
    const replace = (...flags: string[]) => runUnwind(['--address', '127.0.0.1:1', 'sled', 'replace', 'sled-3', '--approver', 'alice', '--technician', 'tom', ...flags]);
    const cases: Array<[string[], RegExp]> = [
      [['--remind-every', '0s'], /--remind-every must be a duration from 1s to 365d, such as 30m, 4h, 3d or 2w: zero and negative durations are refused \(got '0s'\)/],
      [['--hardware-remind-every', '-8h'], /--hardware-remind-every must be a duration from 1s to 365d/],
      [['--hardware-escalate-after', '500ms'], /--hardware-escalate-after must be a duration .*: at least a second \(got '500ms'\)/],
      [['--expire-after', '400d'], /--expire-after must be a duration .*: more than a year is refused \(got '400d'\)/],
      [
        ['--expire-after', '2h'],
        /--remind-every must be shorter than --expire-after \(4h is not shorter than 2h\): no reminder would ever be sent; --escalate-after must be shorter than --expire-after \(12h is not shorter than 2h\)/,
      ],
    ];
    const runs = await Promise.all(cases.map(([flags]) => replace(...flags)));
    runs.forEach((run, i) => expect(expectExit(run, 2).stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]));
  });
});

describe('unwind sled replace, approve and hardware-replaced', () => {
  it('lists the saga awaiting approval, refuses a non-approver, approves, waits for the technician and completes', async () => {
    const instances = await fill('sled-0', 2);
    const start = expectExit(
      await unwind('sled', 'replace', 'sled-0', '--approver', 'alice', '--approver', 'bob', '--technician', 'tom', '--escalate-to', 'lead', ...fast, '--concurrency', '2'),
      0,
    );
    const id = start.stdout.trim();
    expect(id).toMatch(/^sled-replace\/sled-0\/[a-z0-9]{12}$/);
    expect(start.stderr).toContain(`started saga ${id}`);

    // Evacuated and re-replicated, it asks to power off.
    const asking = await statusOf(id, (s) => s.state === 'awaiting-approval', 'awaiting approval');
    expect(asking.pendingApproval).toMatchObject({ step: 'approve-power-off', approvers: ['alice', 'bob'] });
    expect(await rack().list('instances', { sledId: 'sled-0' })).toEqual([]);

    // unwind list --state awaiting-approval shows it (visibility catches up within a moment).
    const listed = await eventually(
      () => unwind('list', '--state', 'awaiting-approval'),
      (run) => run.code === 0 && run.stdout.includes(id),
      `${id} in unwind list --state awaiting-approval`,
    );
    expect(listed.stdout.split('\n').find((line) => line.startsWith(id))).toMatch(/sledReplace\s+awaiting-approval\s+approve-power-off/);

    // unwind show says who must act, since when, what to run, and how the evacuation went.
    const shown = expectExit(await unwind('show', id), 0).stdout;
    expect(shown).toMatch(/state:\s+awaiting-approval/);
    expect(shown).toMatch(/waiting:\s+approve-power-off \(wait \d+\): approval of "power off sled sled-0 for replacement \(2 instances moved, \d+ replicas moved\)" requested (just now|\d+s ago)/);
    expect(shown).toMatch(/who:\s+alice or bob must approve or reject \(since (just now|\d+s ago); expires in (23h|1d)/);
    expect(shown).toMatch(new RegExp(`run: {6}unwind approve ${id} --wait-id \\d+ --as <you>`));
    expect(shown).toMatch(/evacuate:\s+2 of 2 instances moved$/m);

    // The technician is early: nothing is sent.
    const early = expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'NEW-0', '--as', 'tom'), 5);
    expect(early.stderr).toMatch(/^unwind: saga sled-replace\/sled-0\/[a-z0-9]{12} refused hardwareReplaced: .*it is not waiting for hardware/);

    // Someone not listed: refused with the saga's message, exit 5, nothing recorded.
    const mallory = expectExit(await unwind('approve', id, '--as', 'mallory', '--comment', 'ship it'), 5);
    expect(mallory.stderr).toMatch(/mallory may not decide "power off sled sled-0 .*"; the approvers are alice, bob/);
    const still = await client.sagas.status(id);
    expect(still.state).toBe('awaiting-approval');
    expect(still.approvals).toEqual([]);
    expect(expectExit(await unwind('approve', id), 2).stderr).toContain("required option '--as <operator>' not specified");

    const approved = expectExit(await unwind('approve', id, '--as', 'alice', '--comment', 'evacuated, go'), 0);
    expect(approved.stdout).toMatch(/^approved approve-power-off \(wait \d+\) of sled-replace\/sled-0\/[a-z0-9]{12} by alice at \S+: evacuated, go\n$/);

    // Powered off, it waits for the technician: show says who and since when; reminders and escalation run.
    await statusOf(id, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'), 'waiting for hardware');
    expect((await rack().get('sleds', 'sled-0')).state).toBe('offline');
    const waiting = expectExit(await unwind('show', id), 0).stdout;
    expect(waiting).toMatch(/who:\s+tom must swap the hardware and report its serial \(since (just now|\d+s ago)\)/);
    expect(waiting).toContain(`run:      unwind sled hardware-replaced ${id} --serial <serial> --as <technician>`);
    expect(waiting).toMatch(/approvals:\n.*approved approve-power-off \("power off sled sled-0.*"\) by alice: evacuated, go/);
    await eventually(
      async () => bed.personNotifications.filter((n) => n.workflowId === id && n.step === 'await-hardware'),
      (sent) => sent.some((n) => n.kind === 'reminder') && sent.some((n) => n.kind === 'escalation'),
      'a reminder and an escalation to the technician',
    );
    const escalation = bed.personNotifications.find((n) => n.workflowId === id && n.step === 'await-hardware' && n.kind === 'escalation');
    expect(escalation?.to).toEqual(['tom', 'lead']);

    // The technician swaps it and reports; the saga verifies the serial and re-admits the sled.
    await rack().sleds.update({ sledId: 'sled-0', serial: 'NEW-0001' }, 'technician/swap-sled-0');
    const reported = expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'NEW-0001', '--as', 'tom'), 0);
    expect(reported.stdout).toContain(`reported to ${id}: new hardware serial NEW-0001, replaced by tom`);
    const result = await client.sagas.result<{ newSerial: string; evacuated: string[] }>(id);
    expect(result.newSerial).toBe('NEW-0001');
    expect(result.evacuated.sort()).toEqual([...instances].sort());
    expect(await rack().get('sleds', 'sled-0')).toMatchObject({ state: 'online', provisionable: true, serial: 'NEW-0001' });

    const done = expectExit(await unwind('show', id), 0).stdout;
    expect(done).toMatch(/state:\s+completed/);
    expect(done).toMatch(/hardware:\s+replaced by tom, serial NEW-0001, reported/);
    expect(done).not.toContain('must swap');
    const late = expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'NEW-0002', '--as', 'tom'), 5);
    expect(late.stderr).toContain('the saga has finished (completed)');
    expect(expectExit(await unwind('approve', id, '--as', 'alice'), 5).stderr).toContain('the saga has finished (completed)');
  });

  it('takes the hardware from listed technicians only; a wrong serial is reported again while verification waits, and the retry verifies it', async () => {
    const id = 'sled-replace/sled-2/reports';
    expectExit(await unwind('sled', 'replace', 'sled-2', '--approver', 'alice', '--technician', 'tom', '--technician', 'tim', ...fast, '--request-id', 'reports'), 0);
    await statusOf(id, (s) => s.state === 'awaiting-approval', 'awaiting approval');
    expectExit(await unwind('approve', id, '--as', 'alice'), 0);
    await statusOf(id, (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'), 'waiting for hardware');

    const mallory = expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'ACTUAL-2', '--as', 'mallory'), 5);
    expect(mallory.stderr).toContain('mallory is not a technician of this replacement; the technicians are tom, tim');
    await rack().sleds.update({ sledId: 'sled-2', serial: 'ACTUAL-2' }, 'technician/swap-sled-2');
    expect(expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'TYPO-2', '--as', 'tom'), 0).stdout).toContain('new hardware serial TYPO-2, replaced by tom');
    const paused = await statusOf(id, (s) => s.state === 'needs-operator', 'verification paused');
    expect(paused.waitingFor).toMatchObject({ step: 'verify-new-sled' });

    const again = expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'ACTUAL-2', '--as', 'tim'), 0);
    expect(again.stdout).toContain(`new hardware serial ACTUAL-2, replaced by tim (report 2: the saga verifies the latest; if verify-new-sled waits for an operator, 'unwind retry ${id}' verifies this serial)`);
    expectExit(await unwind('retry', id, '--reason', 'serial corrected by tim', '--as', 'ops'), 0);
    expect(await client.sagas.result(id)).toMatchObject({ newSerial: 'ACTUAL-2' });
    const shown = JSON.parse(expectExit(await unwind('show', id, '--json'), 0).stdout) as { status: { reports: { hardware: { reports: unknown[] } } } };
    expect(shown.status.reports.hardware.reports).toEqual([
      { serial: 'TYPO-2', technician: 'tom', at: expect.any(String), report: 1 },
      { serial: 'ACTUAL-2', technician: 'tim', at: expect.any(String), report: 2 },
    ]);
    expect(expectExit(await unwind('sled', 'hardware-replaced', id, '--serial', 'LATE-2', '--as', 'tim'), 5).stderr).toContain('the saga has finished (completed)');
  });

  it('a rejection unwinds the replacement (--wait exits 1), the sled is re-admitted, and unwind errors shows it', async () => {
    const args = ['sled', 'replace', 'sled-1', '--approver', 'alice', '--technician', 'tom', ...fast, '--request-id', 'rejected'];
    const waiting = unwind(...args, '--wait');
    const id = 'sled-replace/sled-1/rejected';
    await statusOf(id, (s) => s.state === 'awaiting-approval', 'awaiting approval');
    const again = expectExit(await unwind(...args, '--json'), 0);
    expect(JSON.parse(again.stdout)).toEqual({ workflowId: id, requestId: 'rejected', existing: true });

    const rejected = expectExit(await unwind('reject', id, '--as', 'alice', '--comment', 'false alarm', '--json'), 0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ step: 'approve-power-off', outcome: 'rejected', approved: false, by: 'alice', comment: 'false alarm' });
    const waited = expectExit(await waiting, 1);
    expect(waited.stdout).toMatch(/^sled-replace\/sled-1\/rejected unwound: step approve-power-off failed: ApprovalRejected: .+\n {2}undone: mark-non-provisionable/);
    await expect(client.sagas.result(id)).rejects.toBeInstanceOf(SagaUnwoundError);
    expect((await rack().get('sleds', 'sled-1')).provisionable).toBe(true);

    const errors = await eventually(
      () => unwind('errors', '--since', '10m', '--json'),
      (run) => run.code === 0 && (JSON.parse(run.stdout) as { groups: unknown[] }).groups.length > 0,
      'the rejection in unwind errors',
    );
    const { groups } = JSON.parse(errors.stdout) as { groups: { saga: string; step: string; errorType: string; count: number; example: { workflowId: string; message: string } }[] };
    expect(groups).toEqual([
      { saga: 'sledReplace', step: 'approve-power-off', errorType: 'ApprovalRejected', count: 1, lastAt: expect.any(String), example: { workflowId: id, message: expect.stringMatching(/rejected by alice/) } },
    ]);
  });
});
