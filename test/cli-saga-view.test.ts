import { describe, expect, it } from 'vitest';
import type { SagaSummary } from '../src/client';
import { describeProgress, renderOutcome } from '../src/cli/saga-start';
import { operatorCommands, renderDot, renderMermaid, renderSagaList, renderSagaView, stepUnits } from '../src/cli/saga-view';
import { styles } from '../src/cli/format';
import type { SagaStatus, StepStatus } from '../src/schemas/saga';

const now = new Date('2024-06-01T12:10:00.000Z');
const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

function step(name: string, fields: Partial<StepStatus> = {}): StepStatus {
  return {
    name,
    group: null,
    afterPivot: false,
    state: 'succeeded',
    attempts: 1,
    undoAttempts: 0,
    lastError: null,
    startedAt: at(9),
    finishedAt: at(8),
    undoStartedAt: null,
    undoFinishedAt: null,
    ...fields,
  };
}

// Approval fields by spread: sagas without approvals answer without them.
const noApprovals = { pendingApproval: null, approvals: [], reports: {} };

const paused: SagaStatus = {
  ...noApprovals,
  sagaType: 'diskCreate',
  workflowId: 'disk-create/data-1',
  state: 'needs-operator',
  pivoted: false,
  waitingFor: {
    step: 'ensure-region[1]',
    phase: 'action',
    actions: ['retry', 'unwind'],
    since: at(3),
    error: { type: 'NeedsOperator', message: 'sled-3 offline' },
  },
  waiting: [],
  steps: [
    step('create-disk'),
    step('ensure-region[0]', { group: 'regions' }),
    step('ensure-region[1]', { group: 'regions', state: 'failed', lastError: { type: 'NeedsOperator', message: 'sled-3 offline' } }),
    step('ensure-region[2]', { group: 'regions' }),
  ],
  decisions: [],
};
paused.waiting = paused.waitingFor ? [paused.waitingFor] : [];

const unwound: SagaStatus = {
  ...paused,
  state: 'unwound',
  waitingFor: null,
  waiting: [],
  steps: [
    step('create-disk', { state: 'undone', undoAttempts: 1 }),
    step('ensure-region[0]', { group: 'regions', state: 'undone', undoAttempts: 1 }),
    step('ensure-region[1]', { group: 'regions', state: 'undone', undoAttempts: 2, lastError: { type: 'NeedsOperator', message: 'sled-3 "offline"' } }),
    step('ensure-region[2]', { group: 'regions', state: 'undone', undoAttempts: 1 }),
    step('publish-disk', { state: 'pending', startedAt: null, finishedAt: null }),
  ],
  decisions: [{ action: 'unwind', operator: 'alice', reason: 'sled-3 replaced', step: 'ensure-region[1]', at: at(1) }],
};

const pivoted: SagaStatus = {
  ...paused,
  state: 'completed',
  pivoted: true,
  waitingFor: null,
  waiting: [],
  steps: [step('create-disk'), step('attach-disk'), step('publish-disk', { afterPivot: true })],
};

const summary: SagaSummary = {
  workflowId: 'disk-create/data-1',
  runId: 'run-1',
  saga: 'diskCreate',
  state: 'needs-operator',
  step: 'ensure-region[1]',
  startTime: at(9),
  progressAt: at(3),
  closeTime: null,
  status: 'running',
};

describe('the step tree', () => {
  it('gathers a parallel group under its name, in order of first appearance', () => {
    const units = stepUnits([step('a'), step('b[0]', { group: 'g' }), step('c'), step('b[1]', { group: 'g' })]);
    expect(units.map((u) => (u.kind === 'step' ? u.step.name : `${u.name}:${u.steps.map((s) => s.name).join(',')}`))).toEqual([
      'a',
      'g:b[0],b[1]',
      'c',
    ]);
  });

  it('shows the saga, its state, who must act since when, the commands to run, and the steps with groups indented', () => {
    const text = renderSagaView(summary, paused, { now });
    const lines = text.split('\n');
    expect(lines[0]).toBe('diskCreate disk-create/data-1');
    expect(text).toMatch(/state:\s+needs-operator/);
    expect(text).toMatch(/pivot:\s+not reached/);
    expect(text).toMatch(/time:\s+started 9m ago, last progress 3m ago/);
    expect(text).toMatch(/waiting:\s+ensure-region\[1\]: its action failed 3m ago: NeedsOperator: sled-3 offline/);
    expect(text).toMatch(/who:\s+an operator must act \(since 3m ago\): retry \| unwind/);
    expect(text).toContain(`unwind retry disk-create/data-1 --reason "…" --as <you>`);
    expect(text).toContain(`unwind unwind disk-create/data-1 --reason "…" --as <you>`);
    const table = lines.slice(lines.findIndex((l) => l.startsWith('STEP')));
    expect(table[0]).toMatch(/^STEP\s+STATE\s+TRIES\s+UNDO\s+TOOK\s+LAST ERROR$/);
    expect(table[1]).toMatch(/^create-disk\s+succeeded\s+1\s+-\s+1m\s+-$/);
    expect(table[2]).toBe('regions (parallel)');
    expect(table[3]).toMatch(/^ {2}ensure-region\[0\]\s+succeeded/);
    expect(table[4]).toMatch(/^ {2}ensure-region\[1\]\s+failed\s+1\s+-\s+1m\s+NeedsOperator: sled-3 offline$/);
  });

  it('shows undo state, repeated undos and the decisions at the end', () => {
    const text = renderSagaView({ ...summary, state: 'unwound', status: 'failed', closeTime: at(1) }, unwound, { now });
    expect(text).toMatch(/ensure-region\[1\]\s+undone\s+1\s+undone ×2/);
    expect(text).toMatch(/publish-disk\s+pending/);
    expect(text).toMatch(/decisions:\n {2}1m ago {2}unwind ensure-region\[1\] by alice: sled-3 replaced$/);
    expect(text).toContain('closed 1m ago');
    expect(text).not.toContain('waiting:');
  });

  it('marks the pivot between the last compensable step and the first after it', () => {
    const lines = renderSagaView(null, pivoted, { now }).split('\n');
    const names = lines.slice(lines.findIndex((l) => l.startsWith('STEP')) + 1).map((l) => l.split(/\s{2,}/)[0]);
    expect(names).toEqual(['create-disk', 'attach-disk', '── pivot ──', 'publish-disk']);
    expect(lines.join('\n')).toMatch(/pivot:\s+passed/);
  });

  it('colours step states on a TTY without breaking column alignment', () => {
    const text = renderSagaView(summary, paused, { now, style: styles(true), color: true });
    expect(text).toContain('\x1b[32msucceeded\x1b[39m');
    expect(text).toContain('\x1b[31mfailed\x1b[39m');
    // Strip the escapes: the columns line up exactly as without colour.
    // eslint-disable-next-line no-control-regex
    const plain = text.replace(/\x1b\[\d+m/g, '');
    expect(plain).toBe(renderSagaView(summary, paused, { now }));
  });

  it('names the approvers who must act, since when, and the approvals decided', () => {
    const pendingApproval = {
      step: 'approve-swap',
      request: 'replace sled-3',
      approvers: ['alice', 'bob'],
      since: at(5),
      remindersSent: 1,
      escalatedAt: null,
      expiresAt: new Date(now.getTime() + 2 * 86_400_000).toISOString(),
      onExpire: 'reject' as const,
    };
    const approvals = [{ step: 'approve-drain', request: 'drain sled-3', outcome: 'approved' as const, approved: true, by: 'carol', comment: 'ok', at: at(7) }];
    const status = { ...paused, state: 'awaiting-approval' as const, waitingFor: null, waiting: [], pendingApproval, approvals };
    const text = renderSagaView(null, status, { now });
    expect(text).toMatch(/waiting:\s+approve-swap: approval of "replace sled-3" requested 5m ago/);
    expect(text).toMatch(/who:\s+alice or bob must approve or reject \(since 5m ago; expires in 2d, then rejects\)/);
    expect(text).toMatch(/run:\s+unwind approve disk-create\/data-1 --as <you> --comment "…"\n {2}run:\s+unwind reject disk-create\/data-1 --as <you>/);
    expect(text).toMatch(/approvals:\n {2}7m ago {2}approved approve-drain \("drain sled-3"\) by carol: ok$/);
  });

  it('says why the steps are missing when no worker answered', () => {
    const text = renderSagaView(summary, null, { now, statusError: 'no worker answered the status query within 5s' });
    expect(text).toMatch(/state:\s+needs-operator/);
    expect(text).toContain('steps unavailable: no worker answered the status query within 5s');
  });

  it('names the step in operator commands only when several wait, quoting it for the shell', () => {
    const w = paused.waiting[0]!;
    expect(operatorCommands('x/1', [w])).toEqual(['unwind retry x/1 --reason "…" --as <you>', 'unwind unwind x/1 --reason "…" --as <you>']);
    expect(operatorCommands('x/1', [w, { ...w, step: 'ensure-region[2]', actions: ['retry'] }])).toContain(
      `unwind retry x/1 --step 'ensure-region[2]' --reason "…" --as <you>`,
    );
  });
});

describe('the list table', () => {
  it('shows id, saga, state, step, started and last progress as "ago"', () => {
    const text = renderSagaList([summary, { ...summary, workflowId: 'disk-create/data-2', state: 'running', status: 'terminated', step: null }], { now });
    const [header, first, second] = text.split('\n');
    expect(header).toMatch(/^ID\s+SAGA\s+STATE\s+STEP\s+STARTED\s+LAST PROGRESS$/);
    expect(first).toMatch(/^disk-create\/data-1\s+diskCreate\s+needs-operator\s+ensure-region\[1\]\s+9m ago\s+3m ago$/);
    expect(second).toMatch(/running \(terminated\)\s+-\s+9m ago/);
  });

  it('says when nothing matches, and what the filter was', () => {
    expect(renderSagaList([], { filter: '--state stuck' })).toBe('no sagas matching --state stuck');
  });
});

describe('graphs', () => {
  it('renders executed steps as a Mermaid flowchart with the group as a subgraph and undo states', () => {
    const text = renderMermaid(unwound);
    expect(text.split('\n')[0]).toBe('flowchart TD');
    expect(text).toContain('s0["create-disk<br/>undone<br/>undo ×1"]:::undone');
    expect(text).toMatch(/subgraph g1\["regions \(parallel\)"\]\n {4}s1\[.*\n {4}s2\["ensure-region\[1\]<br\/>undone<br\/>undo ×2"\]:::undone\n {4}s3\[.*\n {2}end/);
    expect(text).not.toContain('publish-disk'); // pending: never executed
    for (const edge of ['s0 --> s1', 's0 --> s2', 's0 --> s3']) expect(text).toContain(edge);
    expect(text).toMatch(/classDef undone fill:#[0-9a-f]{6}/);
  });

  it('renders the pivot as a node between the last compensable step and the first after it', () => {
    const mermaid = renderMermaid(pivoted);
    expect(mermaid).toContain('pivot{{"pivot"}}');
    expect(mermaid).toContain('s1 --> pivot');
    expect(mermaid).toContain('pivot --> s2');
    const dot = renderDot(pivoted);
    expect(dot).toContain('s1 -> pivot;');
    expect(dot).toContain('pivot -> s2;');
  });

  it('renders a Graphviz digraph with the group as a cluster, escaping quotes', () => {
    const text = renderDot(unwound);
    expect(text.split('\n')[0]).toBe('digraph "disk-create/data-1" {');
    expect(text).toMatch(/subgraph cluster_1 \{\n {4}label="regions \(parallel\)";/);
    expect(text).toContain('s2 [label="ensure-region[1]\\nundone\\nundo ×2", fillcolor="#e9ecef"];');
    for (const edge of ['s0 -> s1;', 's0 -> s2;', 's0 -> s3;']) expect(text).toContain(edge);
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(renderDot({ ...unwound, workflowId: 'a"b' })).toContain('digraph "a\\"b" {');
  });
});

describe('--wait output', () => {
  it('names the steps in flight while waiting', () => {
    expect(describeProgress({ ...paused, state: 'running', steps: [step('a'), step('b', { state: 'running' })] })).toBe('running: b');
  });

  it('prints the result, or the failed step and what was undone, or what to run', () => {
    expect(renderOutcome('d/1', { outcome: 'completed', result: { diskId: 'disk-1' } })).toBe('d/1 completed\n  diskId: disk-1');
    expect(
      renderOutcome('d/1', {
        outcome: 'unwound',
        unwound: { failedStep: 'ensure-region[1]', cause: { type: 'Refused', message: 'no capacity' }, undone: ['ensure-region[0]', 'create-disk'], skipped: [] },
      }),
    ).toBe('d/1 unwound: step ensure-region[1] failed: Refused: no capacity\n  undone: ensure-region[0], create-disk');
    const text = renderOutcome('d/1', { outcome: 'paused', status: paused });
    expect(text).toContain('d/1 paused: needs-operator; an operator must act');
    expect(text).toContain('ensure-region[1] (action) failed: NeedsOperator: sled-3 offline');
    expect(text).toContain('unwind retry d/1 --reason "…" --as <you>');
  });
});
