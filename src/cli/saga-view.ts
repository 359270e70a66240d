/**
 * How the CLI shows sagas: the list table, the step tree of `unwind show`, what an operator
 * should run next, and the step graph as Mermaid or Graphviz dot.
 *
 * Pure functions of the data (status query, visibility rows) and a clock: no I/O, no SDK, so
 * every rendering is unit-tested and the module loads instantly.
 */
import type { SagaSummary } from '../client';
import type { SagaStatus, SagaState, StepState, StepStatus, WaitingFor } from '../schemas/saga';
import { EvacuationProgress } from '../schemas/sled';
import { type Styles, formatAgo, formatDuration, renderTable, styles, truncate } from './format';

/** Options shared by the renderers. */
export interface ViewOptions {
  /** The clock "3m ago" counts from; now unless told. */
  now?: Date;
  /** Colours (identities unless told). */
  style?: Styles;
  /** Bold table headers. */
  color?: boolean;
}

// ---------------------------------------------------------------------------------------
// The step tree

/** A step on its own, or a parallel group's members (in the order they appear). */
export type StepUnit = { kind: 'step'; step: StepStatus } | { kind: 'group'; name: string; steps: StepStatus[] };

/**
 * Groups steps into units in order of first appearance: consecutive or not, every member of a
 * parallel group is gathered under the group where its first member appears.
 */
export function stepUnits(steps: readonly StepStatus[]): StepUnit[] {
  const units: StepUnit[] = [];
  const groups = new Map<string, StepStatus[]>();
  for (const step of steps) {
    if (step.group === null) {
      units.push({ kind: 'step', step });
      continue;
    }
    const members = groups.get(step.group);
    if (members) members.push(step);
    else {
      const created = [step];
      groups.set(step.group, created);
      units.push({ kind: 'group', name: step.group, steps: created });
    }
  }
  return units;
}

const unitSteps = (unit: StepUnit): StepStatus[] => (unit.kind === 'step' ? [unit.step] : unit.steps);
/** True when the unit started after the pivot (a group counts by its first member). */
const afterPivot = (unit: StepUnit): boolean => unitSteps(unit)[0]?.afterPivot === true;

/** The colour a step state reads as: green done, red failed, yellow in flight, dim undone. */
export function styleStepState(state: StepState, style: Styles): string {
  switch (state) {
    case 'succeeded':
      return style.green(state);
    case 'failed':
    case 'undo-failed':
      return style.red(state);
    case 'running':
    case 'undoing':
      return style.yellow(state);
    case 'undone':
    case 'skipped':
    case 'pending':
      return style.dim(state);
  }
}

/** The colour a saga state reads as. */
export function styleSagaState(state: SagaState | null, style: Styles): string {
  if (state === null) return '-';
  switch (state) {
    case 'completed':
      return style.green(state);
    case 'needs-operator':
    case 'stuck':
      return style.bold(style.red(state));
    case 'unwound':
      return style.red(state);
    case 'running':
    case 'unwinding':
    case 'awaiting-approval':
      return style.yellow(state);
  }
}

/**
 * The commands that resume or end a paused saga, one per action the waiting step accepts,
 * e.g. `unwind retry disk-create/d1 --reason "…" --as <you>`. `--step` is added only when
 * several steps wait (the saga needs to be told which).
 */
export function operatorCommands(workflowId: string, waiting: readonly WaitingFor[]): string[] {
  const several = waiting.length > 1;
  return waiting.flatMap((w) =>
    w.actions.map((action) => `unwind ${action} ${shellWord(workflowId)}${several ? ` --step ${shellWord(w.step)}` : ''} --reason "…" --as <you>`),
  );
}

/** Quotes a word for a POSIX shell only when it needs it (step names hold brackets). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What an operator sees first: the saga, its state, and who must act on what. */
function renderHeader(summary: SagaSummary | null, status: SagaStatus | null, o: Required<ViewOptions>): string[] {
  const s = o.style;
  const sagaType = status?.sagaType ?? summary?.saga ?? '?';
  const workflowId = status?.workflowId ?? summary?.workflowId ?? '?';
  const state = status?.state ?? summary?.state ?? null;
  const lines = [`${s.bold(sagaType)} ${workflowId}`];
  const field = (name: string, value: string) => lines.push(`  ${`${name}:`.padEnd(10)}${value}`);

  const execution = summary && summary.status !== 'running' && summary.status !== 'completed' && summary.status !== 'failed'
    ? ` (workflow ${summary.status})`
    : '';
  field('state', `${styleSagaState(state, s)}${execution}`);
  if (status) field('pivot', status.pivoted ? 'passed: steps after it go forward only' : 'not reached: a failure unwinds');
  if (summary) {
    const times = [`started ${formatAgo(summary.startTime, o.now)}`, `last progress ${formatAgo(summary.progressAt, o.now)}`];
    if (summary.closeTime) times.push(`closed ${formatAgo(summary.closeTime, o.now)}`);
    field('time', times.join(', '));
  }
  if (status && status.waiting.length > 0) {
    for (const w of status.waiting) {
      const what = w.phase === 'action' ? 'its action failed' : 'its undo failed';
      field('waiting', `${s.bold(w.step)}: ${what} ${formatAgo(w.since, o.now)}: ${w.error.type}: ${w.error.message}`);
    }
    const first = status.waiting[0];
    field('who', `an operator must act (since ${formatAgo(first?.since, o.now)}): ${[...new Set(status.waiting.flatMap((w) => w.actions))].join(' | ')}`);
    for (const command of operatorCommands(workflowId, status.waiting)) field('run', command);
  } else if (approvalsOf(status).pendingApproval) {
    const a = approvalsOf(status).pendingApproval;
    if (a) {
      field('waiting', `${s.bold(a.step)}: approval of "${a.request}" requested ${formatAgo(a.since, o.now)}`);
      const escalated = a.escalatedAt ? `; escalated ${formatAgo(a.escalatedAt, o.now)}` : '';
      field(
        'who',
        `${a.approvers.join(' or ')} must approve or reject (since ${formatAgo(a.since, o.now)}; expires ${formatAgo(a.expiresAt, o.now)}, then ${a.onExpire}s${escalated})`,
      );
      field('run', `unwind approve ${shellWord(workflowId)} --as <you> --comment "…"`);
      field('run', `unwind reject ${shellWord(workflowId)} --as <you> --comment "…"`);
    }
  } else if (state === 'awaiting-approval') {
    field('who', 'an approver must decide');
  } else if (status) {
    const hardware = hardwareWait(status);
    if (hardware) {
      field('waiting', `${s.bold(AWAIT_HARDWARE)}: the new hardware, since ${formatAgo(hardware.since, o.now)}`);
      field('who', `${hardware.waitingFor.join(' or ')} must swap the hardware and report its serial (since ${formatAgo(hardware.since, o.now)})`);
      field('run', `unwind sled hardware-replaced ${shellWord(workflowId)} --serial <serial> --as <technician>`);
    }
  }
  if (status) lines.push(...renderReports(status, o).map((line) => `  ${line}`));
  return lines;
}

/** The `sledReplace` step that waits for the technician. */
const AWAIT_HARDWARE = 'await-hardware';

/** The technician wait a `sledReplace` reports (`reports.hardware`) while its step runs, else `undefined`. */
function hardwareWait(status: SagaStatus): { waitingFor: string[]; since: string } | undefined {
  const report = status.reports.hardware as { waitingFor?: unknown; since?: unknown } | undefined;
  if (!report || !Array.isArray(report.waitingFor) || typeof report.since !== 'string') return undefined;
  if (!status.steps.some((x) => x.name === AWAIT_HARDWARE && x.state === 'running')) return undefined;
  return { waitingFor: report.waitingFor.map(String), since: report.since };
}

/**
 * What a saga reports of its own progress, as header fields: a `sledReplace`'s evacuation
 * (and rebalance) progress and who replaced the hardware.
 */
export function renderReports(status: SagaStatus, options: ViewOptions = {}): string[] {
  const now = options.now ?? new Date();
  const lines: string[] = [];
  const field = (name: string, value: string) => lines.push(`${`${name}: `.padEnd(10)}${value}`);
  for (const name of ['evacuation', 'rebalance'] as const) {
    const parsed = EvacuationProgress.safeParse(status.reports[name]);
    if (!parsed.success) continue;
    const p = parsed.data;
    const parts = [`${p.migrated.length} of ${p.total} instance${p.total === 1 ? '' : 's'} moved`];
    if (p.inProgress.length > 0) parts.push(`${p.inProgress.length} moving (${truncate(p.inProgress.join(', '), 60)})`);
    if (p.failed.length > 0) {
      parts.push(`${p.failed.length} failed (${truncate(p.failed.map((f) => `${f.instanceId}: ${f.error}`).join('; '), 100)})`);
    }
    field(name === 'evacuation' ? 'evacuate' : 'rebalance', parts.join(', '));
  }
  const hardware = status.reports.hardware as { replacedBy?: unknown; serial?: unknown; at?: unknown } | undefined;
  if (hardware && typeof hardware.replacedBy === 'string') {
    field('hardware', `replaced by ${hardware.replacedBy}, serial ${String(hardware.serial)}, reported ${formatAgo(typeof hardware.at === 'string' ? hardware.at : null, now)}`);
  }
  return lines;
}

/**
 * The approval fields of a status, read structurally: sagas of every version answer the
 * query, and those without approvals leave them out.
 */
interface ApprovalView {
  pendingApproval?: {
    step: string;
    request: string;
    approvers: string[];
    since: string;
    escalatedAt: string | null;
    expiresAt: string;
    onExpire: string;
  } | null;
  approvals?: { step: string; request: string; outcome: string; by: string | null; comment: string | null; at: string }[];
}

function approvalsOf(status: SagaStatus | null): ApprovalView {
  return (status ?? {}) as ApprovalView;
}

/** The step table: parallel groups indented under their name, the pivot as a rule. */
function renderSteps(status: SagaStatus, o: Required<ViewOptions>): string[] {
  const units = stepUnits(status.steps);
  if (units.length === 0) return ['no steps yet'];
  type Row = { name: string; step?: StepStatus; rule?: boolean };
  const rows: Row[] = [];
  let pivotShown = false;
  for (const unit of units) {
    if (status.pivoted && !pivotShown && afterPivot(unit)) {
      rows.push({ name: '── pivot ──', rule: true });
      pivotShown = true;
    }
    if (unit.kind === 'step') rows.push({ name: unit.step.name, step: unit.step });
    else {
      rows.push({ name: `${unit.name} (parallel)` });
      for (const step of unit.steps) rows.push({ name: `  ${step.name}`, step });
    }
  }
  if (status.pivoted && !pivotShown) rows.push({ name: '── pivot ──', rule: true });

  const cells = rows.map((r) =>
    r.step
      ? [r.name, r.step.state, String(r.step.attempts), undoText(r.step), took(r.step), r.step.lastError ? `${r.step.lastError.type}: ${r.step.lastError.message}` : '-']
      : [r.name, '', '', '', '', ''],
  );
  const headers = ['STEP', 'STATE', 'TRIES', 'UNDO', 'TOOK', 'LAST ERROR'];
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => length(c[i] ?? ''))));
  // Padded by hand (not renderTable): the state is coloured after padding, so escapes never skew widths.
  const format = (values: readonly string[], state?: StepState) =>
    values
      .map((v, i) => {
        if (i === values.length - 1) return truncate(v, 80);
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - length(v)));
        return (i === 1 && state ? styleStepState(state, o.style) : v) + pad;
      })
      .join('  ')
      .trimEnd();
  return [
    o.style.bold(format(headers)),
    ...rows.map((row, r) => (row.rule ? o.style.dim(row.name) : format(cells[r] ?? [], row.step?.state))),
  ];
}

function undoText(step: StepStatus): string {
  const undoStates: readonly StepState[] = ['undoing', 'undone', 'undo-failed', 'skipped'];
  if (!undoStates.includes(step.state) && step.undoAttempts === 0) return '-';
  return `${undoStates.includes(step.state) ? step.state : 'ran'}${step.undoAttempts > 1 ? ` ×${step.undoAttempts}` : ''}`;
}

function took(step: StepStatus): string {
  if (!step.startedAt || !step.finishedAt) return step.startedAt && step.state === 'running' ? 'running' : '-';
  return formatDuration(Date.parse(step.finishedAt) - Date.parse(step.startedAt));
}

// Code points, as renderTable counts them.
function length(text: string): number {
  return Array.from(text).length;
}

/**
 * `unwind show` as text: the header (saga, state, pivot, who must act and since when, the
 * commands to run), the steps in order with parallel groups indented, then the decisions.
 *
 * @param summary visibility's row (times, execution status); `null` if unavailable
 * @param status the status query's answer; `null` when no worker answered (`statusError` says why)
 */
export function renderSagaView(
  summary: SagaSummary | null,
  status: SagaStatus | null,
  options: ViewOptions & { statusError?: string } = {},
): string {
  const o: Required<ViewOptions> = { now: options.now ?? new Date(), style: options.style ?? styles(false), color: options.color ?? false };
  const out = renderHeader(summary, status, o);
  out.push('');
  if (!status) {
    out.push(`steps unavailable: ${options.statusError ?? 'no worker answered the status query'}`);
    return out.join('\n');
  }
  out.push(...renderSteps(status, o));
  if (status.decisions.length > 0) {
    out.push('', o.style.bold('decisions:'));
    for (const d of status.decisions) out.push(`  ${formatAgo(d.at, o.now)}  ${d.action} ${d.step} by ${d.operator}: ${d.reason}`);
  }
  const approvals = approvalsOf(status).approvals ?? [];
  if (approvals.length > 0) {
    out.push('', o.style.bold('approvals:'));
    for (const a of approvals) {
      out.push(`  ${formatAgo(a.at, o.now)}  ${a.outcome} ${a.step} ("${a.request}")${a.by ? ` by ${a.by}` : ''}${a.comment ? `: ${a.comment}` : ''}`);
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------
// The list

/**
 * `unwind list` as a table: id, saga, state, step, when it started, when it last progressed.
 * A workflow that ended without the saga finishing (terminated, timed out) shows its
 * execution status beside the state.
 */
export function renderSagaList(rows: readonly SagaSummary[], options: ViewOptions & { filter?: string } = {}): string {
  if (rows.length === 0) return `no sagas${options.filter ? ` matching ${options.filter}` : ''}`;
  const now = options.now ?? new Date();
  return renderTable(
    ['ID', 'SAGA', 'STATE', 'STEP', 'STARTED', 'LAST PROGRESS'],
    rows.map((r) => [
      r.workflowId,
      r.saga,
      r.status === 'running' || r.status === 'completed' || r.status === 'failed' ? r.state : `${r.state ?? '-'} (${r.status})`,
      r.step,
      formatAgo(r.startTime, now),
      formatAgo(r.progressAt, now),
    ]),
    { color: options.color ?? false, maxCellWidth: 64 },
  );
}

// ---------------------------------------------------------------------------------------
// Graphs

/** The graph formats of `unwind show --graph`. */
export const GRAPH_FORMATS = ['mermaid', 'dot'] as const;
/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const FILL: Record<StepState, string> = {
  pending: '#f1f3f5',
  running: '#fff3bf',
  succeeded: '#d3f9d8',
  failed: '#ffc9c9',
  undoing: '#ffe8cc',
  undone: '#e9ecef',
  'undo-failed': '#ff8787',
  skipped: '#dee2e6',
};

/** The lines of a node's label: name, state (with attempts), undo. */
function nodeLabel(step: StepStatus): string[] {
  const lines = [step.name, `${step.state}${step.attempts > 1 ? ` ×${step.attempts}` : ''}`];
  if (step.undoAttempts > 0) lines.push(`undo ×${step.undoAttempts}`);
  return lines;
}

interface GraphModel {
  units: { unit: StepUnit; ids: string[] }[];
  pivotAfter: number | null;
}

/** Executed steps (not `pending`) as units with node ids, and where the pivot falls. */
function graphModel(status: SagaStatus): GraphModel {
  let n = 0;
  const executed = status.steps.filter((s) => s.state !== 'pending');
  const units = stepUnits(executed).map((unit) => ({ unit, ids: unitSteps(unit).map(() => `s${n++}`) }));
  let pivotAfter: number | null = null;
  if (status.pivoted) {
    const first = units.findIndex((u) => afterPivot(u.unit));
    pivotAfter = first === -1 ? units.length - 1 : first - 1;
  }
  return { units, pivotAfter };
}

/** Edges between consecutive units: every exit of one to every entry of the next (a group fans out and in). */
function edges(model: GraphModel, pivotId: string): [string, string][] {
  const chain: string[][] = [];
  model.units.forEach((u, i) => {
    if (model.pivotAfter === -1 && i === 0) chain.push([pivotId]);
    chain.push(u.ids);
    if (model.pivotAfter === i) chain.push([pivotId]);
  });
  if (model.units.length === 0 && model.pivotAfter !== null) chain.push([pivotId]);
  const out: [string, string][] = [];
  for (let i = 1; i < chain.length; i++) for (const from of chain[i - 1] ?? []) for (const to of chain[i] ?? []) out.push([from, to]);
  return out;
}

/**
 * The executed steps as a Mermaid flowchart: one node per step (name, state, attempts, undo),
 * parallel groups as subgraphs, the pivot as a hexagon, nodes filled by state.
 */
export function renderMermaid(status: SagaStatus): string {
  const model = graphModel(status);
  const esc = (text: string) => text.replace(/"/g, '#quot;');
  const label = (step: StepStatus) => `"${nodeLabel(step).map(esc).join('<br/>')}"`;
  const className = (state: StepState) => state.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const lines = ['flowchart TD'];
  model.units.forEach(({ unit, ids }, g) => {
    const steps = unitSteps(unit);
    if (unit.kind === 'group') {
      lines.push(`  subgraph g${g}["${esc(unit.name)} (parallel)"]`);
      steps.forEach((step, i) => lines.push(`    ${ids[i]}[${label(step)}]:::${className(step.state)}`));
      lines.push('  end');
    } else lines.push(`  ${ids[0]}[${label(unit.step)}]:::${className(unit.step.state)}`);
  });
  if (model.pivotAfter !== null) lines.push('  pivot{{"pivot"}}');
  for (const [from, to] of edges(model, 'pivot')) lines.push(`  ${from} --> ${to}`);
  const used = new Set(status.steps.filter((s) => s.state !== 'pending').map((s) => s.state));
  for (const state of used) lines.push(`  classDef ${className(state)} fill:${FILL[state]},stroke:#495057`);
  return lines.join('\n');
}

/**
 * The executed steps as a Graphviz digraph: one box per step (name, state, attempts, undo),
 * parallel groups as clusters, the pivot as a hexagon, boxes filled by state.
 */
export function renderDot(status: SagaStatus): string {
  const model = graphModel(status);
  const esc = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const node = (id: string, step: StepStatus, indent: string) =>
    `${indent}${id} [label="${nodeLabel(step).map(esc).join('\\n')}", fillcolor="${FILL[step.state]}"];`;
  const lines = [
    `digraph "${esc(status.workflowId)}" {`,
    `  label="${esc(`${status.sagaType} ${status.workflowId}: ${status.state}`)}";`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
  ];
  model.units.forEach(({ unit, ids }, g) => {
    if (unit.kind === 'group') {
      lines.push(`  subgraph cluster_${g} {`, `    label="${esc(unit.name)} (parallel)";`, '    style=dashed;');
      unit.steps.forEach((step, i) => lines.push(node(ids[i] ?? '', step, '    ')));
      lines.push('  }');
    } else lines.push(node(ids[0] ?? '', unit.step, '  '));
  });
  if (model.pivotAfter !== null) lines.push('  pivot [label="pivot", shape=hexagon, style=filled, fillcolor="#e7f5ff"];');
  for (const [from, to] of edges(model, 'pivot')) lines.push(`  ${from} -> ${to};`);
  lines.push('}');
  return lines.join('\n');
}
