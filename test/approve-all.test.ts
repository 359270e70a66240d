/**
 * Decisions in bursts: `sagas.approveAll` and `unwind approve --all-waiting` on a dev server,
 * against sagas parked at an approval. Each saga's outcome is reported — approved, or refused
 * with the saga's own reason (here: the approver is not listed on one of them) — and a refusal
 * never stops the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBurstQuery, createUnwindClient, InvalidRequestError, type ApprovalBurstProgress, type UnwindClient } from '../src/client';
import { failureOf } from '../src/testing/rack';
import { eventually, expectExit, runUnwind } from './cli-helpers';
import { useSagaTestBed } from './helpers/saga-env';
import { plannedSaga, type PlanItem } from './workflows/saga-workflows';

const taskQueue = 'approve-all';
const bed = useSagaTestBed(taskQueue, { server: 'dev' });
let client: UnwindClient;

beforeAll(async () => {
  client = await createUnwindClient({ address: bed.env.address, namespace: bed.env.namespace ?? 'default' });
});
afterAll(async () => client?.close());

const approval = (step: string, approvers: string[]): PlanItem => ({
  approval: step,
  options: { request: `${step} for the maintenance window`, approvers, remindEvery: '4h', expireAfter: '3 days' },
});

/** Starts sagas parked at approval `step`, one per approver list; waits until visibility lists them all. */
async function park(step: string, prefix: string, approverLists: string[][]): Promise<string[]> {
  const ids = approverLists.map((_, i) => `${prefix}-${i + 1}`);
  await Promise.all(
    approverLists.map((approvers, i) =>
      bed.env.client.workflow.start(plannedSaga, { taskQueue, workflowId: ids[i]!, args: [{ plan: [approval(step, approvers), { step: `${step}-after` }] }] }),
    ),
  );
  await eventually(() => client.sagas.awaitingApproval({ saga: 'plannedSaga', step }), (rows) => rows.length === ids.length, `${ids.length} sagas awaiting ${step}`);
  return ids;
}

describe('sagas.approveAll', () => {
  it('approves every saga awaiting approval at a step, reporting the one that refused with its reason', async () => {
    const ids = await park('approve-drain', 'burst', [['alice'], ['alice', 'bob'], ['bob'], ['alice']]);
    const progress: ApprovalBurstProgress[] = [];
    const result = await client.sagas.approveAll({ saga: 'plannedSaga', step: 'approve-drain' }, { approver: 'alice', comment: 'window agreed' }, { concurrency: 2, onProgress: (p) => progress.push(p) });

    expect(result).toMatchObject({ approved: 3, refused: 1, failed: 0 });
    expect(result.outcomes.map((o) => [o.workflowId, o.outcome]).sort()).toEqual([
      [ids[0], 'approved'],
      [ids[1], 'approved'],
      [ids[2], 'refused'],
      [ids[3], 'approved'],
    ]);
    const refused = result.outcomes.find((o) => o.outcome === 'refused');
    expect(refused).toMatchObject({ workflowId: ids[2], step: 'approve-drain' });
    expect(refused?.outcome === 'refused' && refused.reason).toMatch(/alice may not decide .*the approvers are bob/);
    const approved = result.outcomes.find((o) => o.workflowId === ids[0]);
    expect(approved?.outcome === 'approved' && approved.record).toMatchObject({ outcome: 'approved', by: 'alice', comment: 'window agreed', step: 'approve-drain' });
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4]);
    expect(progress.at(-1)).toMatchObject({ total: 4, approved: 3, refused: 1, failed: 0 });

    // The approved went on; the refused one still waits, decided by nobody.
    for (const id of [ids[0]!, ids[1]!, ids[3]!]) expect(await client.sagas.result(id)).toMatchObject({ 'approve-drain': 'approved' });
    expect((await client.sagas.status(ids[2]!)).state).toBe('awaiting-approval');
    await client.sagas.approve(ids[2]!, { approver: 'bob' });
  });

  it('sends each decision named by the listed step, so a listing gone stale is refused by the saga, not applied to another approval', async () => {
    const [id] = await park('approve-firmware', 'stale', [['alice']]);
    // Listed while it waited at another step (as a listing read before the saga moved on would say).
    const result = await client.sagas.approveEach([{ workflowId: id!, saga: 'plannedSaga', step: 'approve-reboot' }], { approver: 'alice' });
    expect(result).toMatchObject({ approved: 0, refused: 1, failed: 0 });
    expect(result.outcomes[0]?.outcome === 'refused' && result.outcomes[0].reason).toMatch(/the pending approval is step "approve-firmware", not "approve-reboot"/);
    expect((await client.sagas.status(id!)).pendingApproval?.step).toBe('approve-firmware');
    // Named by its own step, the decision goes straight to the saga and is recorded.
    expect(await client.sagas.approve(id!, { approver: 'alice', step: 'approve-firmware' })).toMatchObject({ outcome: 'approved', by: 'alice', step: 'approve-firmware' });
    expect(await client.sagas.result(id!)).toMatchObject({ 'approve-firmware': 'approved' });
  });

  it('refuses a bad filter, decision or concurrency before sending anything', async () => {
    const bad = await failureOf(client.sagas.approveAll({ saga: 'not a saga!' }, { approver: 'alice' }));
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect((bad as InvalidRequestError).problems.map((p) => p.field)).toEqual(['saga']);
    expect(await failureOf(client.sagas.approveAll({}, { approver: ' ' }))).toBeInstanceOf(InvalidRequestError);
    expect(await failureOf(client.sagas.approveAll({}, { approver: 'alice' }, { concurrency: 0 }))).toBeInstanceOf(InvalidRequestError);
    expect(await failureOf(client.sagas.approveAll({}, { approver: 'alice', waitId: 2 } as never))).toBeInstanceOf(InvalidRequestError);
    expect(await failureOf(client.sagas.approveAll({}, { approver: 'alice', step: 'x' } as never))).toBeInstanceOf(InvalidRequestError);
  });

  it('lists by type and step', () => {
    expect(approvalBurstQuery({ saga: 'sledReplace', step: "it's" })).toBe(
      "UnwindSaga IS NOT NULL AND UnwindSaga = 'sledReplace' AND UnwindState = 'awaiting-approval' AND ExecutionStatus = 'Running' AND UnwindStep = 'it\\'s'",
    );
  });
});

describe('unwind approve --all-waiting', () => {
  it('approves all at once with --yes, prints a summary naming the refused saga, exits 1', async () => {
    const ids = await park('approve-cli', 'cli-burst', [['alice'], ['carol'], ['alice']]);
    const run = await runUnwind(['--address', bed.env.address, 'approve', '--all-waiting', '--saga', 'plannedSaga', '--step', 'approve-cli', '--as', 'alice', '--yes', '--concurrency', '2']);
    expectExit(run, 1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('approved 2 of 3 sagas as alice; 1 refused, 0 failed');
    expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^  refused ${ids[1]} \\(approve-cli\\): .*alice may not decide`))]);
    // Not a terminal: progress lines on stderr.
    expect(run.stderr).toContain('approving: 3/3: 2 approved, 1 refused, 0 failed');

    await client.sagas.approve(ids[1]!, { approver: 'carol' });
    const none = await runUnwind(['--address', bed.env.address, 'approve', '--all-waiting', '--saga', 'plannedSaga', '--step', 'approve-cli', '--as', 'alice', '--yes', '--json']);
    expectExit(none, 0);
    expect(JSON.parse(none.stdout)).toEqual({ outcomes: [], approved: 0, refused: 0, failed: 0 });
    expect(none.stderr).toContain('no saga awaits approval of type plannedSaga at step approve-cli');
  });
});
