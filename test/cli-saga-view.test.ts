/**
 * The CLI's saga views rendered from statuses built here: the step tree, `unwind show`, residue,
 * the list table, graphs and `--wait` output. One file past 400 lines on purpose: every view
 * reads the same status fixtures, built once at its top.
 */
import { describe, expect, it } from 'vitest';
import type { SagaSummary } from '../src/client';
import { describeProgress, renderOutcome } from '../src/cli/saga-start';
import { operatorCommands, renderDot, renderMermaid, renderSagaList, renderSagaView, residueKeys, stepTree, styleSagaState } from '../src/cli/saga-view';
import { styles } from '../src/cli/format';
import type { SagaStatus, StepStatus } from '../src/schemas/saga';

const now = new Date('2024-06-01T12:10:00.000Z');
const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

function step(name: string, fields: Partial<StepStatus> = {}): StepStatus {
  return {
    name,
    group: null,
    branch: [],
    undoable: true,
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

/** A step of member `member` of the top-level group `group`. */
const inGroup = (group: string, member: number) => ({ group, branch: [{ group, member }] });

// Approval fields by spread: sagas without approvals answer without them.
const noApprovals = { pendingApproval: null, approvals: [], reports: {}, cancelRequested: null };

const paused: SagaStatus = {
  ...noApprovals,
  sagaType: 'diskCreate',
  workflowId: 'disk-create/data-1',
  state: 'needs-operator',
  pivoted: false,
  waitingFor: {
    step: 'ensure-region[1]',
    waitId: 3,
    phase: 'action',
    actions: ['retry', 'unwind'],
    since: at(3),
    error: { type: 'NeedsOperator', message: 'sled-3 offline' },
  },
  waiting: [],
  steps: [
    step('create-disk'),
    step('ensure-region[0]', inGroup('regions', 0)),
    step('ensure-region[1]', { ...inGroup('regions', 1), state: 'failed', lastError: { type: 'NeedsOperator', message: 'sled-3 offline' } }),
    step('ensure-region[2]', inGroup('regions', 2)),
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
    step('ensure-region[0]', { ...inGroup('regions', 0), state: 'undone', undoAttempts: 1 }),
    step('ensure-region[1]', { ...inGroup('regions', 1), state: 'undone', undoAttempts: 2, lastError: { type: 'NeedsOperator', message: 'sled-3 "offline"' } }),
    step('ensure-region[2]', { ...inGroup('regions', 2), state: 'undone', undoAttempts: 1 }),
    step('publish-disk', { state: 'pending', startedAt: null, finishedAt: null }),
  ],
  decisions: [{ action: 'unwind', operator: 'alice', reason: 'sled-3 replaced', step: 'ensure-region[1]', waitId: 3, at: at(1) }],
};

const pivoted: SagaStatus = {
  ...paused,
  state: 'completed',
  pivoted: true,
  waitingFor: null,
  waiting: [],
  steps: [step('create-disk'), step('attach-disk'), step('publish-disk', { afterPivot: true, undoable: false })],
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

/**
 * An instanceCreate-like saga: two steps, then `disk-and-nics` runs the disk (a step, then the
 * `regions` group) beside the `nics` group (each NIC three steps in sequence), then the VMM.
 * Steps are listed in the order they started, members interleaved, as the engine records them.
 */
function instanceSteps(fields: Record<string, Partial<StepStatus>> = {}): StepStatus[] {
  const dn = (member: number) => ({ group: 'disk-and-nics', member });
  const where = {
    disk: { group: 'disk-and-nics', branch: [dn(0)] },
    region: (i: number) => ({ group: 'disk-and-nics/regions', branch: [dn(0), { group: 'regions', member: i }] }),
    nic: (i: number) => ({ group: 'disk-and-nics/nics', branch: [dn(1), { group: 'nics', member: i }] }),
  };
  const steps = [
    step('create-instance'),
    step('choose-sled', { undoable: false }),
    step('create-disk', where.disk),
    step('allocate-ip[0]', where.nic(0)),
    step('allocate-ip[1]', where.nic(1)),
    step('create-nic[0]', where.nic(0)),
    step('ensure-region[0]', where.region(0)),
    step('ensure-region[1]', where.region(1)),
    step('create-nic[1]', where.nic(1)),
    step('ensure-region[2]', where.region(2)),
    step('set-v2p[0]', where.nic(0)),
    step('set-v2p[1]', where.nic(1)),
    step('create-vmm'),
  ];
  return steps.map((s) => ({ ...s, ...fields[s.name] }));
}

const instance: SagaStatus = {
  ...noApprovals,
  sagaType: 'instanceCreate',
  workflowId: 'instance-create/web-1',
  state: 'completed',
  pivoted: false,
  waitingFor: null,
  waiting: [],
  steps: instanceSteps(),
  decisions: [],
};

const refusal = `rack refused regions.ensure: no SSD on sled-7 has 20 GiB free (${'checked u.2 slot; '.repeat(8)}the last was full)`;

/** The instance saga unwound after ensure-region[1] was refused; the VMM never started. */
const instanceUnwound: SagaStatus = {
  ...instance,
  state: 'unwound',
  steps: instanceSteps({
    'create-instance': { state: 'undone', undoAttempts: 1 },
    'create-disk': { state: 'undone', undoAttempts: 1 },
    'ensure-region[0]': { state: 'undone', undoAttempts: 1 },
    'ensure-region[1]': { state: 'undone', undoAttempts: 1, finishedAt: at(7), lastError: { type: 'Refused', message: refusal } },
    'ensure-region[2]': { state: 'undone', undoAttempts: 1 },
    // A sibling released when the group failed: its error came first but did not unwind the saga.
    'allocate-ip[1]': { state: 'undone', undoAttempts: 1, finishedAt: at(8.5), lastError: { type: 'NeedsOperator', message: 'ip pool locked' } },
    'create-vmm': { state: 'pending', startedAt: null, finishedAt: null },
  }),
};

/** The names of the step table, indentation kept, pivot rule included. */
function tableNames(text: string): string[] {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.startsWith('STEP'));
  const width = lines[header]?.indexOf('STATE') ?? 0;
  const end = lines.findIndex((l, i) => i > header && l === '');
  return lines.slice(header + 1, end === -1 ? undefined : end).map((l) => l.slice(0, width).trimEnd());
}

/** A graph read back: step name by node id, edges by step name, and each step's enclosing subgraph labels. */
interface ParsedGraph {
  edges: string[];
  containers: Map<string, string[]>;
  nodeLines: Map<string, string>;
}

function parseGraph(text: string, format: 'mermaid' | 'dot'): ParsedGraph {
  const names = new Map<string, string>([['pivot', 'pivot']]);
  const nodeLines = new Map<string, string>();
  const containers = new Map<string, string[]>();
  const stack: string[] = [];
  const rawEdges: [string, string][] = [];
  const syntax =
    format === 'mermaid'
      ? { node: /^\s*(s\d+)\["([^"<]*)/, edge: /^\s*(\w+) --> (\w+)$/, open: /^\s*subgraph \w+\["(.*)"\]$/, close: /^\s*end$/, label: null }
      : { node: /^\s*(s\d+) \[label="([^"\\]*)/, edge: /^\s*(\w+) -> (\w+);$/, open: /^\s*subgraph cluster_\w+ \{$/, close: /^\s*\}$/, label: /^\s*label="(.*)";$/ };
  for (const line of text.split('\n')) {
    const open = syntax.open.exec(line);
    if (open) {
      stack.push(open[1] ?? '');
      continue;
    }
    const label = syntax.label?.exec(line);
    if (label && stack.at(-1) === '') {
      stack[stack.length - 1] = label[1] ?? '';
      continue;
    }
    if (syntax.close.test(line)) {
      stack.pop();
      continue;
    }
    const edge = syntax.edge.exec(line);
    if (edge) {
      rawEdges.push([edge[1] ?? '', edge[2] ?? '']);
      continue;
    }
    const node = syntax.node.exec(line);
    if (node) {
      names.set(node[1] ?? '', node[2] ?? '');
      nodeLines.set(node[2] ?? '', line);
      containers.set(node[2] ?? '', [...stack]);
    }
  }
  const edges = rawEdges.map(([from, to]) => `${names.get(from)} -> ${names.get(to)}`);
  return { edges, containers, nodeLines };
}

const instanceEdges = [
  'create-instance -> choose-sled',
  // disk-and-nics forks to the first step of each member (the nics member starts with a group).
  'choose-sled -> create-disk',
  'choose-sled -> allocate-ip[0]',
  'choose-sled -> allocate-ip[1]',
  // member 0: the disk, then its regions side by side
  'create-disk -> ensure-region[0]',
  'create-disk -> ensure-region[1]',
  'create-disk -> ensure-region[2]',
  // member 1: each NIC's steps in sequence
  'allocate-ip[0] -> create-nic[0]',
  'create-nic[0] -> set-v2p[0]',
  'allocate-ip[1] -> create-nic[1]',
  'create-nic[1] -> set-v2p[1]',
  // and the group joins from the last step of each member
  'ensure-region[0] -> create-vmm',
  'ensure-region[1] -> create-vmm',
  'ensure-region[2] -> create-vmm',
  'set-v2p[0] -> create-vmm',
  'set-v2p[1] -> create-vmm',
].sort();

describe('the step tree', () => {
  it('puts each member of a parallel group in its own branch, steps of one member in sequence, nested groups inside their member', () => {
    const tree = stepTree(instance.steps, false);
    const shape = (nodes: ReturnType<typeof stepTree>): unknown[] =>
      nodes.map((n) =>
        n.kind === 'step' ? n.step.name : n.kind === 'pivot' ? 'pivot' : { [n.name]: n.members.map((m) => ({ [m.index]: shape(m.nodes) })) },
      );
    expect(shape(tree)).toEqual([
      'create-instance',
      'choose-sled',
      {
        'disk-and-nics': [
          { 0: ['create-disk', { regions: [{ 0: ['ensure-region[0]'] }, { 1: ['ensure-region[1]'] }, { 2: ['ensure-region[2]'] }] }] },
          { 1: [{ nics: [{ 0: ['allocate-ip[0]', 'create-nic[0]', 'set-v2p[0]'] }, { 1: ['allocate-ip[1]', 'create-nic[1]', 'set-v2p[1]'] }] }] },
        ],
      },
      'create-vmm',
    ]);
  });

  it('places the pivot before the first top-level step after it, or last when none follows', () => {
    const names = (steps: StepStatus[]) => stepTree(steps, true).map((n) => (n.kind === 'step' ? n.step.name : n.kind));
    expect(names(pivoted.steps)).toEqual(['create-disk', 'attach-disk', 'pivot', 'publish-disk']);
    expect(names([step('a'), step('b')])).toEqual(['a', 'b', 'pivot']);
    expect(names([step('a', { afterPivot: true })])).toEqual(['pivot', 'a']);
  });
});

describe('unwind show', () => {
  it('shows the saga, its state, who must act since when, the wait and the commands to run, and the steps with groups indented', () => {
    const text = renderSagaView(summary, paused, { now });
    const lines = text.split('\n');
    expect(lines[0]).toBe('diskCreate disk-create/data-1');
    expect(text).toMatch(/state:\s+needs-operator/);
    expect(text).toMatch(/pivot:\s+not reached/);
    expect(text).toMatch(/time:\s+started 9m ago, last progress 3m ago/);
    expect(text).toMatch(/waiting:\s+ensure-region\[1\] \(wait 3\): its action failed 3m ago: NeedsOperator: sled-3 offline/);
    expect(text).toMatch(/who:\s+an operator must act \(since 3m ago\): retry \| unwind/);
    expect(text).toContain(`run:      unwind retry disk-create/data-1 --wait-id 3 --reason "…" --as <you>`);
    expect(text).toContain(`run:      unwind unwind disk-create/data-1 --wait-id 3 --reason "…" --as <you>`);
    const table = lines.slice(lines.findIndex((l) => l.startsWith('STEP')));
    expect(table[0]).toMatch(/^STEP\s+STATE\s+TRIES\s+UNDO\s+TOOK\s+LAST ERROR$/);
    expect(table[1]).toMatch(/^create-disk\s+succeeded\s+1\s+-\s+1m\s+-$/);
    expect(table[2]).toBe('regions (parallel)');
    expect(table[3]).toMatch(/^ {2}ensure-region\[0\]\s+succeeded/);
    expect(table[4]).toMatch(/^ {2}ensure-region\[1\]\s+failed\s+1\s+-\s+1m\s+NeedsOperator: sled-3 offline$/);
  });

  it('indents each member that runs several steps under a header, nested groups inside their member, as the graph draws them', () => {
    expect(tableNames(renderSagaView(null, instance, { now }))).toEqual([
      'create-instance',
      'choose-sled',
      'disk-and-nics (parallel)',
      '  disk-and-nics ▸ member 0',
      '    create-disk',
      '    regions (parallel)',
      '      ensure-region[0]',
      '      ensure-region[1]',
      '      ensure-region[2]',
      '  nics (parallel)',
      '    nics ▸ member 0',
      '      allocate-ip[0]',
      '      create-nic[0]',
      '      set-v2p[0]',
      '    nics ▸ member 1',
      '      allocate-ip[1]',
      '      create-nic[1]',
      '      set-v2p[1]',
      'create-vmm',
    ]);
  });

  it('says which steps have no undo to run', () => {
    const text = renderSagaView(null, instanceUnwound, { now });
    expect(text).toMatch(/\nchoose-sled\s+succeeded\s+1\s+none\s+1m\s+-\n/);
    expect(text).toMatch(/\ncreate-instance\s+undone\s+1\s+undone\s+1m\s+-\n/);
  });

  it('opens an unwound saga with the step that failed and its cause in full, before the steps', () => {
    const text = renderSagaView({ ...summary, saga: 'instanceCreate', state: 'unwound', status: 'failed', closeTime: at(1) }, instanceUnwound, { now });
    const lines = text.split('\n');
    const afterHeader = lines[lines.indexOf('') + 1];
    expect(afterHeader).toBe(`failed at ensure-region[1]: Refused: ${refusal}`);
    // The table still cuts it to fit.
    expect(lines.find((l) => l.includes('ensure-region[1]') && l.includes('undone'))).toContain('…');
  });

  it('finds the step that failed from the status alone: the decision that unwound it, else the first failure', () => {
    const firstLine = (status: SagaStatus) => {
      const lines = renderSagaView(null, status, { now }).split('\n');
      return lines[lines.indexOf('') + 1];
    };
    expect(firstLine(unwound)).toBe('failed at ensure-region[1]: NeedsOperator: sled-3 "offline"');
    const failedForward: SagaStatus = {
      ...pivoted,
      state: 'failed',
      steps: [step('create-disk'), step('publish-disk', { afterPivot: true, undoable: false, state: 'failed', lastError: { type: 'Error', message: 'boom' } })],
    };
    expect(firstLine(failedForward)).toBe('failed at publish-disk: Error: boom');
    expect(firstLine({ ...failedForward, steps: [step('create-disk')] })).toBe('failed outside any step: the error is in the workflow history');
    // A live saga that waits has its failure on the waiting line, not above the steps.
    expect(firstLine(paused)).toMatch(/^STEP/);
  });

  it('opens a cancelled saga with when the request came and what was in flight then', () => {
    const cancelled: SagaStatus = {
      ...instance,
      state: 'cancelled',
      cancelRequested: { at: at(6), effect: 'unwinds' },
      steps: instanceSteps({
        'create-disk': { startedAt: at(7), finishedAt: at(6.5), state: 'undone' },
        'allocate-ip[0]': { startedAt: at(7), finishedAt: at(5), state: 'undone' },
        'allocate-ip[1]': { startedAt: at(6.5), finishedAt: at(5.5), state: 'undone', lastError: { type: 'Cancelled', message: 'the saga was cancelled' } },
        'ensure-region[0]': { startedAt: at(6.2), finishedAt: null, state: 'undone' },
        ...Object.fromEntries(['create-nic[0]', 'create-nic[1]', 'ensure-region[1]', 'ensure-region[2]', 'set-v2p[0]', 'set-v2p[1]', 'create-vmm'].map((n) => [n, { state: 'pending', startedAt: null, finishedAt: null }])),
        'create-instance': { startedAt: at(9), finishedAt: at(8), state: 'undone' },
        'choose-sled': { startedAt: at(8), finishedAt: at(7) },
      }),
    };
    const lines = renderSagaView(null, cancelled, { now }).split('\n');
    expect(lines[lines.indexOf('') + 1]).toBe(`cancelled by request at ${at(6)} (6m ago); in flight then: allocate-ip[0], allocate-ip[1], ensure-region[0]`);
    expect(lines.join('\n')).toMatch(/cancel:\s+requested at .* \(6m ago\); unwound/);
  });

  it.each([
    ['goes-forward', 'running', 'past the pivot, the saga goes forward'],
    ['already-unwinding', 'stuck', 'already unwinding; waits for an operator'],
    ['already-unwinding', 'unwinding', 'already unwinding'],
    ['unwinds', 'unwinding', 'unwinding'],
    ['stops', 'running', 'stopping at a safe point'],
    ['stops', 'cancelled', 'stopped at a safe point'],
  ] as const)('shows a cancellation request that %s while %s: "%s"', (effect, state, says) => {
    const text = renderSagaView(null, { ...instance, state, cancelRequested: { at: at(2), effect } }, { now });
    expect(text.split('\n')).toContain(`  cancel:   requested at ${at(2)} (2m ago); ${says}`);
  });

  it('says nothing of cancellation when none was requested', () => {
    expect(renderSagaView(null, instance, { now })).not.toContain('cancel');
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
    const text = renderSagaView(null, pivoted, { now });
    expect(tableNames(text)).toEqual(['create-disk', 'attach-disk', '── pivot ──', 'publish-disk']);
    expect(text).toMatch(/pivot:\s+passed/);
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

  it('colours the final states: failed as alarming as a wait, cancelled as neither success nor failure', () => {
    const style = styles(true);
    expect(styleSagaState('failed', style)).toBe(style.bold(style.red('failed')));
    expect(styleSagaState('cancelled', style)).toBe(style.yellow('cancelled'));
    expect(styleSagaState('unwound', style)).toBe(style.red('unwound'));
  });

  it('names the approvers who must act, since when, the wait, and the approvals decided', () => {
    const pendingApproval = {
      step: 'approve-swap',
      waitId: 2,
      request: 'replace sled-3',
      approvers: ['alice', 'bob'],
      since: at(5),
      remindersSent: 1,
      escalatedAt: null,
      expiresAt: new Date(now.getTime() + 2 * 86_400_000).toISOString(),
      onExpire: 'reject' as const,
    };
    const approvals = [{ step: 'approve-drain', waitId: 1, request: 'drain sled-3', outcome: 'approved' as const, approved: true, by: 'carol', comment: 'ok', at: at(7) }];
    const status = { ...paused, state: 'awaiting-approval' as const, waitingFor: null, waiting: [], pendingApproval, approvals };
    const text = renderSagaView(null, status, { now });
    expect(text).toMatch(/waiting:\s+approve-swap \(wait 2\): approval of "replace sled-3" requested 5m ago/);
    expect(text).toMatch(/who:\s+alice or bob must approve or reject \(since 5m ago; expires in 2d, then rejects\)/);
    expect(text).toMatch(/run:\s+unwind approve disk-create\/data-1 --wait-id 2 --as <you> --comment "…"\n {2}run:\s+unwind reject disk-create\/data-1 --wait-id 2 --as <you>/);
    expect(text).toMatch(/approvals:\n {2}7m ago {2}approved approve-drain \("drain sled-3"\) by carol: ok$/);
  });

  it('says why the steps are missing when no worker answered', () => {
    const text = renderSagaView(summary, null, { now, statusError: 'no worker answered the status query within 5s' });
    expect(text).toMatch(/state:\s+needs-operator/);
    expect(text).toContain('steps unavailable: no worker answered the status query within 5s');
  });

  it('names the wait in every operator command, so a decision never lands on a later wait', () => {
    const w = paused.waiting[0]!;
    expect(operatorCommands('x/1', [w])).toEqual(['unwind retry x/1 --wait-id 3 --reason "…" --as <you>', 'unwind unwind x/1 --wait-id 3 --reason "…" --as <you>']);
    expect(operatorCommands(`it's/1`, [w, { ...w, step: 'ensure-region[2]', waitId: 4, actions: ['retry'] }])).toEqual([
      `unwind retry 'it'\\''s/1' --wait-id 3 --reason "…" --as <you>`,
      `unwind unwind 'it'\\''s/1' --wait-id 3 --reason "…" --as <you>`,
      `unwind retry 'it'\\''s/1' --wait-id 4 --reason "…" --as <you>`,
    ]);
  });

  it('shows every stuck undo with its wait and command', () => {
    const stuck: SagaStatus = {
      ...unwound,
      state: 'stuck',
      waiting: [
        { step: 'ensure-region[0]', waitId: 5, phase: 'undo', actions: ['retry', 'skip'], since: at(2), error: { type: 'NeedsOperator', message: 'sled-1 gone' } },
        { step: 'ensure-region[2]', waitId: 6, phase: 'undo', actions: ['retry', 'skip'], since: at(1), error: { type: 'NeedsOperator', message: 'sled-2 gone' } },
      ],
    };
    const text = renderSagaView(null, stuck, { now });
    expect(text).toMatch(/waiting:\s+ensure-region\[0\] \(wait 5\): its undo failed 2m ago: NeedsOperator: sled-1 gone/);
    expect(text).toMatch(/waiting:\s+ensure-region\[2\] \(wait 6\): its undo failed 1m ago/);
    expect(text).toContain(`unwind skip disk-create/data-1 --wait-id 6 --reason "…" --as <you>`);
    // Why it was unwinding at all.
    expect(text).toContain('failed at ensure-region[1]: NeedsOperator: sled-3 "offline"');
  });
});

describe('residue: undos an operator skipped', () => {
  const skipped: SagaStatus = {
    ...unwound,
    state: 'unwound-with-residue',
    steps: [
      step('create-disk', { state: 'skipped', undoAttempts: 1, lastError: { type: 'Refused', message: 'disk busy' } }),
      step('ensure-region[0]', { ...inGroup('regions', 0), state: 'undone', undoAttempts: 1 }),
      step('ensure-region[1]', { ...inGroup('regions', 1), state: 'undone', undoAttempts: 1, lastError: { type: 'Refused', message: 'no space' } }),
      step('ensure-region[2]', { ...inGroup('regions', 2), state: 'skipped', undoAttempts: 2, lastError: { type: 'NeedsOperator', message: 'sled-2 gone' } }),
    ],
    decisions: [
      { action: 'skip', operator: 'grace', reason: 'sled-2 is being replaced', step: 'ensure-region[2]', waitId: 4, at: at(3) },
      { action: 'skip', operator: 'ada', reason: 'OPS-12: delete by hand', step: 'create-disk', waitId: 5, at: at(2) },
    ],
  };
  const ledgerRow = (seq: number, key: string, resourceType: string, resourceId: string, effect: 'created' | 'deleted' | 'updated', operation: string) => ({
    seq,
    key,
    resourceType,
    resourceId,
    effect,
    operation,
    at: at(8),
  });

  it('lists each skipped undo with who skipped it and why, and the key to find its effects by', () => {
    const text = renderSagaView({ ...summary, state: 'unwound-with-residue', status: 'failed' }, skipped, { now });
    expect(text).toMatch(/state:\s+unwound-with-residue\n/);
    const lines = text.split('\n');
    const at0 = lines.indexOf('residue: 2 skipped undos left what their actions did in the rack');
    expect(at0).toBeGreaterThan(0);
    // In the order they were skipped, before the steps.
    expect(lines.slice(at0 + 1, at0 + 5)).toEqual([
      '  ensure-region[2] (wait 4): undo skipped by grace 3m ago: sled-2 is being replaced',
      "    key disk-create/data-1/ensure-region[2]; its effects: unwind rack ledger --key 'disk-create/data-1/ensure-region[2]'",
      '  create-disk (wait 5): undo skipped by ada 2m ago: OPS-12: delete by hand',
      '    key disk-create/data-1/create-disk; its effects: unwind rack ledger --key disk-create/data-1/create-disk',
    ]);
    expect(at0).toBeLessThan(lines.findIndex((l) => l.startsWith('STEP')));
    expect(residueKeys(skipped)).toEqual(['disk-create/data-1/ensure-region[2]', 'disk-create/data-1/create-disk']);
  });

  it('lists the residue by resource type and id when given the ledger rows under the skipped keys', () => {
    const ledger = [
      ledgerRow(1, 'disk-create/data-1/create-disk', 'disk', 'disk-7', 'created', 'disks.create'),
      ledgerRow(2, 'disk-create/data-1/ensure-region[0]', 'region', 'reg-1', 'created', 'regions.ensure'),
      ledgerRow(3, 'disk-create/data-1/ensure-region[2]', 'region', 'reg-3', 'created', 'regions.ensure'),
      ledgerRow(4, 'disk-create/data-1/ensure-region[2]/sled-2', 'sled', 'sled-2', 'updated', 'sleds.reserve'),
      ledgerRow(5, 'disk-create/data-1/ensure-region[2]/undo', 'region', 'reg-3', 'updated', 'regions.detach'),
    ];
    const lines = renderSagaView(null, skipped, { now, ledger }).split('\n');
    const at0 = lines.findIndex((l) => l.startsWith('residue:'));
    expect(lines.slice(at0 + 1, at0 + 8)).toEqual([
      '  ensure-region[2] (wait 4): undo skipped by grace 3m ago: sled-2 is being replaced',
      '    key disk-create/data-1/ensure-region[2]',
      '    region reg-3: created (regions.ensure); updated by its undo (regions.detach)',
      '    sled sled-2: updated (sleds.reserve)',
      '  create-disk (wait 5): undo skipped by ada 2m ago: OPS-12: delete by hand',
      '    key disk-create/data-1/create-disk',
      '    disk disk-7: created (disks.create)',
    ]);
    // A region undone cleanly is not residue.
    expect(lines.join('\n')).not.toContain('reg-1');
    const none = renderSagaView(null, skipped, { now, ledger: [] }).split('\n');
    expect(none).toContain("    no effect under this key in the rack's ledger: its action never applied");
  });

  it('shows no residue section for a clean unwind, and colours the residue state as one a person must look at', () => {
    expect(renderSagaView(null, unwound, { now })).not.toContain('residue');
    const style = styles(true);
    expect(styleSagaState('unwound-with-residue', style)).toBe(style.bold(style.red('unwound-with-residue')));
    // Its cause is shown like any unwind's, and a cancellation that unwound it has ended.
    expect(renderSagaView(null, skipped, { now })).toContain('failed at ensure-region[1]: Refused: no space');
    const cancelled = { ...skipped, cancelRequested: { at: at(4), effect: 'unwinds' as const } };
    expect(renderSagaView(null, cancelled, { now })).toMatch(/cancel:\s+requested at .*; unwound\n/);
  });

  it('tells a residue from a clean unwind in the list', () => {
    const text = renderSagaList([{ ...summary, state: 'unwound-with-residue', status: 'failed' }, { ...summary, workflowId: 'disk-create/data-2', state: 'unwound', status: 'failed' }], { now });
    expect(text.split('\n')[1]).toMatch(/^disk-create\/data-1\s+diskCreate\s+unwound-with-residue\s/);
    expect(text.split('\n')[2]).toMatch(/^disk-create\/data-2\s+diskCreate\s+unwound\s/);
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
  describe.each(['mermaid', 'dot'] as const)('%s', (format) => {
    const render = format === 'mermaid' ? renderMermaid : renderDot;

    it('draws the members of a group side by side, the steps of one member in sequence, in the order they ran', () => {
      const { edges } = parseGraph(render(instance), format);
      expect([...edges].sort()).toEqual(instanceEdges);
      expect(edges).not.toContain('allocate-ip[0] -> allocate-ip[1]');
      expect(edges).not.toContain('allocate-ip[0] -> ensure-region[0]');
    });

    it('draws nested groups inside the member that ran them, and a member of several steps as its own box', () => {
      const { containers } = parseGraph(render(instance), format);
      expect(containers.get('create-instance')).toEqual([]);
      expect(containers.get('create-disk')).toEqual(['disk-and-nics (parallel)', 'disk-and-nics ▸ member 0']);
      expect(containers.get('ensure-region[1]')).toEqual(['disk-and-nics (parallel)', 'disk-and-nics ▸ member 0', 'regions (parallel)']);
      expect(containers.get('set-v2p[1]')).toEqual(['disk-and-nics (parallel)', 'nics (parallel)', 'nics ▸ member 1']);
      expect(containers.get('create-vmm')).toEqual([]);
    });

    it('leaves out the steps that never ran, and joins the group into the pivot', () => {
      const status: SagaStatus = { ...instanceUnwound, pivoted: true };
      const { edges, containers } = parseGraph(render(status), format);
      expect(containers.has('create-vmm')).toBe(false);
      expect(edges).toContain('set-v2p[1] -> pivot');
      expect(edges).toContain('ensure-region[2] -> pivot');
      expect(edges.filter((e) => e.startsWith('pivot'))).toEqual([]);
    });

    it('marks the step whose failure unwound the saga, and the steps with no undo', () => {
      const { nodeLines } = parseGraph(render(instanceUnwound), format);
      const text = render(instanceUnwound);
      expect(nodeLines.get('ensure-region[1]')).toContain('failed here');
      expect(nodeLines.get('allocate-ip[1]')).not.toContain('failed here');
      expect(nodeLines.get('choose-sled')).toContain('no undo');
      expect(nodeLines.get('create-disk')).not.toContain('no undo');
      if (format === 'mermaid') {
        const id = /^\s*(s\d+)/.exec(nodeLines.get('ensure-region[1]') ?? '')?.[1];
        expect(text).toContain(`style ${id} stroke:#c92a2a,stroke-width:4px`);
      } else expect(nodeLines.get('ensure-region[1]')).toContain('color="#c92a2a", penwidth=3');
      expect(render(instance)).not.toContain('failed here');
    });
  });

  it('renders executed steps as a Mermaid flowchart with nodes classed by their undo state', () => {
    const text = renderMermaid(unwound);
    expect(text.split('\n')[0]).toBe('flowchart TD');
    expect(text).toContain('s0["create-disk<br/>undone<br/>undo ×1"]:::undone');
    expect(text).toMatch(/subgraph g0\["regions \(parallel\)"\]\n {4}s1\[.*\n {4}s2\["ensure-region\[1\]<br\/>undone<br\/>undo ×2<br\/>failed here"\]:::undone\n {4}s3\[.*\n {2}end/);
    expect(text).not.toContain('publish-disk'); // pending: never executed
    for (const edge of ['s0 --> s1', 's0 --> s2', 's0 --> s3']) expect(text).toContain(edge);
    expect(text).toMatch(/classDef undone fill:#[0-9a-f]{6}/);
    const stuck = renderMermaid({ ...unwound, state: 'stuck', steps: [step('create-disk', { state: 'undo-failed' }), step('ensure-region[0]', { state: 'skipped' })] });
    expect(stuck).toContain(':::undoFailed');
    expect(stuck).toContain(':::skipped');
    expect(stuck).toMatch(/classDef undoFailed fill:#[0-9a-f]{6}/);
  });

  it('keeps quotes and angle brackets in names from breaking the Mermaid syntax', () => {
    const text = renderMermaid({ ...instance, steps: [step('say "<hi>"')] });
    expect(text).toContain('s0["say #quot;#lt;hi#gt;#quot;<br/>succeeded"]:::succeeded');
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

  it('renders a Graphviz digraph with the group as a cluster, filled by state, escaping quotes', () => {
    const text = renderDot(unwound);
    expect(text.split('\n')[0]).toBe('digraph "disk-create/data-1" {');
    expect(text).toMatch(/subgraph cluster_g0 \{\n {4}label="regions \(parallel\)";/);
    expect(text).toContain('s0 [label="create-disk\\nundone\\nundo ×1", fillcolor="#e9ecef"];');
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
    expect(text).toContain('unwind retry d/1 --wait-id 3 --reason "…" --as <you>');
  });
});
