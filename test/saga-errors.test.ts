/**
 * The pure parts of the operator commands for failures, approvals and sled replacement:
 * grouping failures, the `unwind errors` table, the approval line, the sled request from flags,
 * and what `unwind show` says of a replacement.
 */
import { describe, expect, it } from 'vitest';
import { sagaErrorsQuery } from '../src/client';
import { renderApprovalRecord } from '../src/cli/approvals';
import { renderErrorGroups } from '../src/cli/errors-view';
import { renderReports, renderSagaView } from '../src/cli/saga-view';
import { replaceRequest } from '../src/cli/sled';
import { type ErrorGroup, type FailureRow, groupFailures } from '../src/client/saga-errors';
import type { SagaStatus, StepStatus } from '../src/schemas/saga';
import { SledReplaceParams } from '../src/schemas/sled';

const now = new Date('2024-06-01T12:00:00.000Z');
const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1_000).toISOString();

function row(n: number, fields: Partial<FailureRow>): FailureRow {
  return { workflowId: `wf-${n}`, saga: 'diskCreate', step: 'create-disk', errorType: 'Refused', progressAt: at(1_000 - n), running: false, ...fields };
}

describe('groupFailures', () => {
  it('groups thousands of rows by saga, step and error type, largest first, the most recent as example', () => {
    const rows: FailureRow[] = [];
    for (let i = 0; i < 3_000; i++) {
      if (i % 3 === 0) rows.push(row(i, { step: 'ensure-region[1]' }));
      else if (i % 10 === 1) rows.push(row(i, { saga: 'instanceCreate', step: 'reserve', errorType: 'NeedsOperator', running: true }));
      else rows.push(row(i, {}));
    }
    const groups = groupFailures(rows);
    expect(groups.map((g) => [g.saga, g.step, g.errorType, g.count])).toEqual([
      ['diskCreate', 'create-disk', 'Refused', 1_800],
      ['diskCreate', 'ensure-region[1]', 'Refused', 1_000],
      ['instanceCreate', 'reserve', 'NeedsOperator', 200],
    ]);
    expect(groups.reduce((sum, g) => sum + g.count, 0)).toBe(3_000);
    // The most recent of each group (rows are oldest first here).
    expect(groups.map((g) => g.example.workflowId)).toEqual(['wf-2999', 'wf-2997', 'wf-2981']);
    expect(groups[2]?.example.running).toBe(true);
    expect(groups[0]?.lastAt).toBe(at(1_000 - 2_999));
  });

  it('keeps a null step apart, and breaks ties by recency then by name', () => {
    const groups = groupFailures([
      row(1, { step: null, errorType: 'Cancelled' }),
      row(2, { saga: 'b', errorType: 'X' }),
      row(3, { saga: 'a', errorType: 'X', progressAt: at(10_000) }),
      row(4, { saga: 'a', errorType: 'Y', progressAt: at(10_000) }),
    ]);
    expect(groups.map((g) => `${g.saga}/${g.step}/${g.errorType}`)).toEqual([
      'b/create-disk/X',
      'diskCreate/null/Cancelled',
      'a/create-disk/X',
      'a/create-disk/Y',
    ]);
  });

  it('queries visibility for sagas with an error that changed since the window began', () => {
    expect(sagaErrorsQuery(new Date('2024-06-01T11:00:00.000Z'))).toBe(
      "UnwindSaga IS NOT NULL AND UnwindError IS NOT NULL AND UnwindProgressAt > '2024-06-01T11:00:00.000Z'",
    );
  });
});

describe('renderErrorGroups', () => {
  const groups: ErrorGroup[] = [
    {
      saga: 'diskCreate',
      step: 'create-disk',
      errorType: 'Refused',
      count: 1_234,
      lastAt: at(30),
      example: { workflowId: 'disk-create/data-1234', message: `rack refused disks.create: ${'no capacity left on any sled '.repeat(5)}` },
    },
    { saga: 'sledReplace', step: 'approve-power-off', errorType: 'ApprovalRejected', count: 7, lastAt: at(600), example: { workflowId: 'sled-replace/sled-3', message: null } },
  ];

  it('is a heading and one line per group, counts aligned, long messages cut', () => {
    const text = renderErrorGroups(groups, { since: new Date(now.getTime() - 3_600_000), now });
    const lines = text.split('\n');
    expect(lines[0]).toBe('1241 failures in 2 groups since 1h ago (2024-06-01T11:00:00.000Z)');
    expect(lines.slice(2, 5)).toEqual([
      'COUNT  SAGA         STEP               ERROR             LAST     EXAMPLE                MESSAGE',
      ' 1234  diskCreate   create-disk        Refused           30s ago  disk-create/data-1234  rack refused disks.create: no capacity left on any sled no …',
      '    7  sledReplace  approve-power-off  ApprovalRejected  10m ago  sled-replace/sled-3    -',
    ]);
    expect(Math.max(...lines.slice(2, 5).map((l) => l.length))).toBeLessThan(170);
    expect(text).toContain("'unwind show <example>'");
  });

  it('says when the limit hid groups, and when there is nothing', () => {
    expect(renderErrorGroups(groups.slice(0, 1), { since: new Date(now.getTime() - 600_000), now, more: true }).split('\n')[0]).toBe(
      '1234 failures in the 1 largest groups since 10m ago (2024-06-01T11:50:00.000Z); more groups not shown: raise --limit',
    );
    expect(renderErrorGroups([], { since: new Date(now.getTime() - 3_600_000), now })).toBe('no failures since 1h ago (2024-06-01T11:00:00.000Z)');
  });
});

describe('approvals and sled replacement in the CLI', () => {
  it('prints a recorded decision on one line', () => {
    const record = { step: 'approve-power-off', waitId: 1, request: 'power off sled-3', outcome: 'approved' as const, approved: true, by: 'alice', comment: 'go', at: at(0) };
    expect(renderApprovalRecord('sled-replace/sled-3', record)).toBe(`approved approve-power-off (wait 1) of sled-replace/sled-3 by alice at ${at(0)}: go`);
    expect(renderApprovalRecord('x', { ...record, outcome: 'rejected', comment: null })).toBe(`rejected approve-power-off (wait 1) of x by alice at ${at(0)}`);
  });

  it('turns the flags into a sledReplace request, defaults for what is not given', () => {
    const request = replaceRequest('sled-3', { approver: ['alice', 'bob'], technician: ['tom'], remindEvery: '1s', hardwareEscalateAfter: '2d', concurrency: 8 });
    expect(SledReplaceParams.parse(request)).toEqual({
      sledId: 'sled-3',
      approvers: ['alice', 'bob'],
      technicians: ['tom'],
      escalateTo: [],
      approval: { remindEvery: '1s', escalateAfter: '12h', expireAfter: '3d' },
      hardware: { remindEvery: '8h', escalateAfter: '2d' },
      evacuationConcurrency: 8,
      rebalance: false,
    });
  });

  const step = (name: string, state: StepStatus['state'], afterPivot = false): StepStatus => ({
    name,
    group: null,
    branch: [],
    undoable: !afterPivot,
    afterPivot,
    state,
    attempts: 1,
    undoAttempts: 0,
    lastError: null,
    startedAt: at(3_600),
    finishedAt: state === 'running' ? null : at(3_000),
    undoStartedAt: null,
    undoFinishedAt: null,
  });
  const replacing: SagaStatus = {
    sagaType: 'sledReplace',
    workflowId: 'sled-replace/sled-3',
    state: 'running',
    pivoted: true,
    waitingFor: null,
    waiting: [],
    steps: [step('mark-non-provisionable', 'succeeded'), step('evacuate', 'succeeded'), step('power-off', 'succeeded', true), step('await-hardware', 'running', true)],
    decisions: [],
    pendingApproval: null,
    approvals: [],
    reports: {
      evacuation: { total: 5, migrated: ['i-1', 'i-2', 'i-3'], inProgress: ['i-4'], failed: [{ instanceId: 'i-5', error: 'no sled has room' }] },
      hardware: { waitingFor: ['tom', 'tina'], since: at(7_200) },
    },
    cancelRequested: null,
  };

  it('unwind show names the technicians who must act, since when, the command, and the evacuation', () => {
    const text = renderSagaView(null, replacing, { now });
    expect(text).toMatch(/waiting:\s+await-hardware: the new hardware, since 2h ago/);
    expect(text).toMatch(/who:\s+tom or tina must swap the hardware and report its serial \(since 2h ago\)/);
    expect(text).toMatch(/run:\s+unwind sled hardware-replaced sled-replace\/sled-3 --serial <serial> --as <technician>/);
    expect(text).toMatch(/evacuate:\s+3 of 5 instances moved, 1 moving \(i-4\), 1 failed \(i-5: no sled has room\)/);
  });

  it('once replaced, says by whom, with which serial', () => {
    const done: SagaStatus = {
      ...replacing,
      steps: replacing.steps.map((s) => ({ ...s, state: 'succeeded' as const })),
      reports: { ...replacing.reports, hardware: { replacedBy: 'tom', serial: 'SN-9', at: at(60) }, rebalance: { total: 1, migrated: ['i-1'], inProgress: [], failed: [] } },
    };
    expect(renderReports(done, { now })).toEqual([
      'evacuate: 3 of 5 instances moved, 1 moving (i-4), 1 failed (i-5: no sled has room)',
      'rebalance: 1 of 1 instance moved',
      'hardware: replaced by tom, serial SN-9, reported 1m ago',
    ]);
    expect(renderSagaView(null, done, { now })).not.toContain('must swap');
  });
});
