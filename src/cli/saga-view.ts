/**
 * How the CLI shows sagas: the list table, the step tree of `unwind show`, why a saga did not
 * finish, what an operator should run next, and the step graph as Mermaid or Graphviz dot.
 * The text and both graphs draw one tree (`stepTree`), so they always agree on the structure.
 *
 * Pure functions of the data (status query, visibility rows) and a clock: no I/O, no SDK, so
 * every rendering is unit-tested and the module loads instantly.
 */
import type { SagaSummary } from '../client';
import type { LedgerEntry } from '../rack/schemas';
import { type CancelRequest, idempotencyKey, type SagaStatus, type SagaState, type StepState, type StepStatus, type WaitingFor } from '../schemas/saga';
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

/**
 * A node of the step tree: a step, a parallel group with its members, or the pivot (top level
 * only). Ids are safe node names for Mermaid and dot (`s0`, `g0`, `pivot`), numbered in the
 * order the tree is drawn.
 */
export type StepNode =
  | { kind: 'step'; id: string; step: StepStatus }
  | { kind: 'group'; id: string; name: string; members: TreeMember[] }
  | { kind: 'pivot'; id: 'pivot' };

/** What one member of a parallel group ran, in order; `index` is its place in the group. */
export interface TreeMember {
  index: number;
  nodes: StepNode[];
}

/**
 * The steps as they ran, from each step's `branch`: one member's steps in sequence, a group's
 * members side by side (by index), nested groups inside the member that ran them. With
 * `pivoted`, the pivot goes before the first top-level node that started after it, else last.
 * The text view and both graphs draw this one tree.
 */
export function stepTree(steps: readonly StepStatus[], pivoted: boolean): StepNode[] {
  const root: StepNode[] = [];
  for (const step of steps) {
    let nodes = root;
    for (const { group, member } of step.branch) nodes = memberOf(groupIn(nodes, group), member).nodes;
    nodes.push({ kind: 'step', id: '', step });
  }
  if (pivoted) {
    const after = root.findIndex((node) => firstStep(node)?.afterPivot === true);
    root.splice(after === -1 ? root.length : after, 0, { kind: 'pivot', id: 'pivot' });
  }
  numberNodes(root, { steps: 0, groups: 0 });
  return root;
}

/**
 * The group `name` that `nodes` is running. Steps are listed in the order they started, members
 * interleaved; but one member runs its steps in sequence, so its group is always its last node.
 */
function groupIn(nodes: StepNode[], name: string): Extract<StepNode, { kind: 'group' }> {
  const last = nodes.at(-1);
  if (last?.kind === 'group' && last.name === name) return last;
  const group: StepNode = { kind: 'group', id: '', name, members: [] };
  nodes.push(group);
  return group;
}

function memberOf(group: Extract<StepNode, { kind: 'group' }>, index: number): TreeMember {
  let member = group.members.find((m) => m.index === index);
  if (!member) {
    member = { index, nodes: [] };
    group.members.push(member);
    group.members.sort((a, b) => a.index - b.index);
  }
  return member;
}

function firstStep(node: StepNode | undefined): StepStatus | undefined {
  if (node?.kind === 'step') return node.step;
  if (node?.kind === 'group') return firstStep(node.members[0]?.nodes[0]);
  return undefined;
}

function numberNodes(nodes: readonly StepNode[], next: { steps: number; groups: number }): void {
  for (const node of nodes) {
    if (node.kind === 'step') node.id = `s${next.steps++}`;
    else if (node.kind === 'group') {
      node.id = `g${next.groups++}`;
      for (const member of node.members) numberNodes(member.nodes, next);
    }
  }
}

/** What a renderer does at each place of the tree; `depth` counts the boxes around it. */
interface TreeVisitor {
  step(step: StepStatus, id: string, depth: number): void;
  pivot(depth: number): void;
  /** A box: a parallel group, or a member that runs several steps in sequence. */
  open(id: string, label: string, depth: number): void;
  close(depth: number): void;
}

/**
 * Visits the tree in drawing order. A member gets a box of its own only when it runs several
 * things in sequence: a one-step member is plain enough inside its group's box.
 */
function walkTree(nodes: readonly StepNode[], visit: TreeVisitor, depth = 0): void {
  for (const node of nodes) {
    if (node.kind === 'step') visit.step(node.step, node.id, depth);
    else if (node.kind === 'pivot') visit.pivot(depth);
    else {
      visit.open(node.id, `${node.name} (parallel)`, depth);
      for (const member of node.members) {
        if (member.nodes.length === 1) walkTree(member.nodes, visit, depth + 1);
        else {
          visit.open(`${node.id}m${member.index}`, `${node.name} ▸ member ${member.index}`, depth + 1);
          walkTree(member.nodes, visit, depth + 2);
          visit.close(depth + 1);
        }
      }
      visit.close(depth);
    }
  }
}

/**
 * The edges of the tree, in the order things ran: consecutive nodes of a sequence are joined
 * from every exit of one to every entry of the next, so a group forks to the first step of
 * each member and joins from the last.
 */
function treeEdges(nodes: readonly StepNode[]): [string, string][] {
  const out: [string, string][] = [];
  nodes.forEach((node, i) => {
    if (node.kind === 'group') for (const member of node.members) out.push(...treeEdges(member.nodes));
    for (const from of ends(node, 'exits')) for (const to of ends(nodes[i + 1], 'entries')) out.push([from, to]);
  });
  return out;
}

function ends(node: StepNode | undefined, side: 'entries' | 'exits'): string[] {
  if (node === undefined) return [];
  if (node.kind !== 'group') return [node.id];
  return node.members.flatMap((m) => ends(side === 'entries' ? m.nodes[0] : m.nodes.at(-1), side));
}

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
    // Unwound, but something it did stays in the rack: a person must clean it up.
    case 'unwound-with-residue':
      return style.bold(style.red(state));
    // Ended on an error without unwinding: whatever it did stays, and a person must look.
    case 'failed':
      return style.bold(style.red(state));
    // Ended as asked: neither a success nor a failure.
    case 'cancelled':
    case 'running':
    case 'unwinding':
    case 'awaiting-approval':
      return style.yellow(state);
  }
}

/**
 * The commands that resume or end a paused saga, one per action the waiting step accepts,
 * e.g. `unwind retry disk-create/d1 --wait-id 3 --reason "…" --as <you>`. The wait id pins the
 * decision to this wait: should the step fail again and wait anew, a late command is refused
 * rather than applied to a failure nobody looked at.
 */
export function operatorCommands(workflowId: string, waiting: readonly WaitingFor[]): string[] {
  return waiting.flatMap((w) => w.actions.map((action) => `unwind ${action} ${shellWord(workflowId)}${waitFlag(w.waitId)} --reason "…" --as <you>`));
}

// Statuses are read structurally (see ApprovalView): a wait without an id prints without one.
const waitFlag = (waitId: number | undefined) => (waitId === undefined ? '' : ` --wait-id ${waitId}`);
const waitLabel = (waitId: number | undefined) => (waitId === undefined ? '' : ` (wait ${waitId})`);

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
      field('waiting', `${s.bold(w.step)}${waitLabel(w.waitId)}: ${what} ${formatAgo(w.since, o.now)}: ${w.error.type}: ${w.error.message}`);
    }
    const first = status.waiting[0];
    field('who', `an operator must act (since ${formatAgo(first?.since, o.now)}): ${[...new Set(status.waiting.flatMap((w) => w.actions))].join(' | ')}`);
    for (const command of operatorCommands(workflowId, status.waiting)) field('run', command);
  } else if (approvalsOf(status).pendingApproval) {
    const a = approvalsOf(status).pendingApproval;
    if (a) {
      field('waiting', `${s.bold(a.step)}${waitLabel(a.waitId)}: approval of "${a.request}" requested ${formatAgo(a.since, o.now)}`);
      const escalated = a.escalatedAt ? `; escalated ${formatAgo(a.escalatedAt, o.now)}` : '';
      field(
        'who',
        `${a.approvers.join(' or ')} must approve or reject (since ${formatAgo(a.since, o.now)}; expires ${formatAgo(a.expiresAt, o.now)}, then ${a.onExpire}s${escalated})`,
      );
      for (const verb of ['approve', 'reject']) field('run', `unwind ${verb} ${shellWord(workflowId)}${waitFlag(a.waitId)} --as <you> --comment "…"`);
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
  if (status?.cancelRequested) field('cancel', `requested at ${when(status.cancelRequested.at, o.now)}; ${cancelEffect(status.cancelRequested, status.state)}`);
  if (status) lines.push(...renderReports(status, o).map((line) => `  ${line}`));
  return lines;
}

/** A moment both ways: exact for the logs, relative for the reader. */
function when(time: string, now: Date): string {
  return `${time} (${formatAgo(time, now)})`;
}

/** What a cancellation request does to a saga in `state`. */
function cancelEffect(request: CancelRequest, state: SagaState): string {
  const ended = state === 'cancelled' || state === 'unwound-with-residue';
  switch (request.effect) {
    case 'goes-forward':
      return 'past the pivot, the saga goes forward';
    case 'already-unwinding':
      return state === 'stuck' ? 'already unwinding; waits for an operator' : 'already unwinding';
    case 'unwinds':
      return ended ? 'unwound' : 'unwinding';
    case 'stops':
      return ended ? 'stopped at a safe point' : 'stopping at a safe point';
  }
}

/** The states a failure (or a cancellation) can have brought about: unwinding, or ended without finishing. */
const UNFINISHED: readonly SagaState[] = ['unwinding', 'stuck', 'unwound', 'unwound-with-residue', 'failed', 'cancelled'];

/** Error types that pause a saga rather than unwind it (FailureType in src/schemas/failures.ts, not imported: it loads the SDK). */
const PAUSING_ERRORS: readonly string[] = ['NeedsOperator', 'UnknownState'];

/**
 * The step whose failure unwound (or ended) the saga, if one did. Visibility's `step` names it
 * once the saga unwound; without it, an operator's `unwind` decision does; else the first
 * failure, passing over errors that pause: such a step unwinds only by a decision or because a
 * sibling's failure released it, and then the sibling is the cause.
 */
function failedStep(status: SagaStatus, summary: SagaSummary | null = null): StepStatus | undefined {
  if (!UNFINISHED.includes(status.state) || cancelledByRequest(status)) return undefined;
  // A succeeded step got past its error; an undo's error is not why the saga unwound.
  const candidates = status.steps.filter(
    (s) => s.lastError !== null && s.lastError.type !== 'Cancelled' && !(['succeeded', 'undo-failed', 'skipped'] as StepState[]).includes(s.state),
  );
  const named = (name: string | null | undefined) => candidates.find((s) => s.name === name);
  const unwindDecision = status.decisions.filter((d) => d.action === 'unwind').at(-1);
  const unwinding = candidates.filter((s) => !PAUSING_ERRORS.includes(s.lastError?.type ?? ''));
  const finished = (s: StepStatus) => (s.finishedAt === null ? Number.POSITIVE_INFINITY : Date.parse(s.finishedAt));
  const first = [...(unwinding.length > 0 ? unwinding : candidates)].sort((a, b) => finished(a) - finished(b))[0];
  return named(summary?.step) ?? named(unwindDecision?.step) ?? first;
}

function cancelledByRequest(status: SagaStatus): boolean {
  const effect = status.cancelRequested?.effect;
  return effect === 'unwinds' || effect === 'stops';
}

/**
 * Why an unfinished saga did not finish, in full (the table cuts errors short): the failed step
 * and its error, or the cancellation request and the steps in flight when it came.
 */
function renderCause(summary: SagaSummary | null, status: SagaStatus, now: Date): string | undefined {
  if (!UNFINISHED.includes(status.state)) return undefined;
  const cancel = status.cancelRequested;
  if (cancel && cancelledByRequest(status)) {
    const at = Date.parse(cancel.at);
    const inFlight = status.steps.filter(
      (s) => s.startedAt !== null && Date.parse(s.startedAt) <= at && (s.finishedAt === null || Date.parse(s.finishedAt) >= at),
    );
    return `cancelled by request at ${when(cancel.at, now)}; in flight then: ${inFlight.map((s) => s.name).join(', ') || 'nothing'}`;
  }
  const failed = failedStep(status, summary);
  if (failed?.lastError) return `failed at ${failed.name}: ${failed.lastError.type}: ${failed.lastError.message}`;
  if (status.state === 'failed') return 'failed outside any step: the error is in the workflow history';
  if (status.state === 'cancelled') return 'cancelled by request';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Residue: what skipped undos left in the rack

/** The steps whose undo an operator skipped, in the order they were skipped, with the decision. */
function skippedSteps(status: SagaStatus): { step: StepStatus; key: string; decision: SagaStatus['decisions'][number] | undefined }[] {
  const decided = (name: string) => status.decisions.filter((d) => d.action === 'skip' && d.step === name).at(-1);
  const order = (name: string) => {
    const d = decided(name);
    return d === undefined ? Number.POSITIVE_INFINITY : status.decisions.indexOf(d);
  };
  return status.steps
    .filter((step) => step.state === 'skipped')
    .sort((a, b) => order(a.name) - order(b.name))
    .map((step) => ({ step, key: idempotencyKey(status.workflowId, step.name), decision: decided(step.name) }));
}

/**
 * The idempotency keys (`<workflowId>/<step>`) of the steps whose undo an operator skipped: what
 * their actions did is in the rack's ledger under these keys (and keys they prefix). `unwind
 * show` fetches those rows and passes them to {@link renderSagaView} as `ledger`.
 */
export function residueKeys(status: SagaStatus): string[] {
  return skippedSteps(status).map((s) => s.key);
}

/** True for a ledger key written by an undo: `<key>/undo`, or below it. */
const UNDO_KEY = /\/undo(\/|$)/;

/**
 * The residue section: each skipped undo with who skipped it, when and why, its key, and — with
 * the rack's ledger rows under the key — the resources its action touched, by type and id
 * (effects an undo got to before it failed marked "by its undo"). Empty for a clean saga.
 */
function renderResidue(status: SagaStatus, ledger: readonly LedgerEntry[] | undefined, o: Required<ViewOptions>): string[] {
  const skipped = skippedSteps(status);
  if (skipped.length === 0) return [];
  const lines = [
    o.style.bold(`residue: ${skipped.length} skipped undo${skipped.length === 1 ? '' : 's'} left what ${skipped.length === 1 ? 'its action' : 'their actions'} did in the rack`),
  ];
  for (const { step, key, decision } of skipped) {
    const who = decision ? ` by ${decision.operator} ${formatAgo(decision.at, o.now)}: ${decision.reason}` : '';
    lines.push(`  ${step.name}${waitLabel(decision?.waitId)}: undo skipped${who}`);
    if (ledger === undefined) {
      lines.push(`    key ${key}; its effects: unwind rack ledger --key ${shellWord(key)}`);
      continue;
    }
    lines.push(`    key ${key}`);
    const rows = ledger.filter((r) => r.key === key || r.key.startsWith(`${key}/`));
    if (rows.length === 0) {
      lines.push("    no effect under this key in the rack's ledger: its action never applied");
      continue;
    }
    const resources = new Map<string, string[]>();
    for (const r of [...rows].sort((a, b) => a.seq - b.seq)) {
      const name = `${r.resourceType} ${r.resourceId}`;
      const byUndo = UNDO_KEY.test(r.key.slice(key.length)) ? ' by its undo' : '';
      resources.set(name, [...(resources.get(name) ?? []), `${r.effect}${byUndo} (${r.operation})`]);
    }
    for (const [name, effects] of resources) lines.push(`    ${name}: ${effects.join('; ')}`);
  }
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
    waitId?: number;
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

/** The step table, drawn from the step tree: each box (group, member) indented under its label, the pivot as a rule. */
function renderSteps(status: SagaStatus, o: Required<ViewOptions>): string[] {
  if (status.steps.length === 0) return ['no steps yet'];
  type Row = { name: string; step?: StepStatus; rule?: boolean };
  const rows: Row[] = [];
  const indent = (depth: number) => '  '.repeat(depth);
  walkTree(stepTree(status.steps, status.pivoted), {
    step: (step, _id, depth) => rows.push({ name: `${indent(depth)}${step.name}`, step }),
    pivot: (depth) => rows.push({ name: `${indent(depth)}── pivot ──`, rule: true }),
    open: (_id, label, depth) => rows.push({ name: `${indent(depth)}${label}` }),
    close: () => {},
  });

  const empty = ['', '', '', '', ''];
  const cells = rows.map((r) =>
    r.step
      ? [
          r.name,
          styleStepState(r.step.state, o.style),
          String(r.step.attempts),
          undoText(r.step),
          took(r.step),
          r.step.lastError ? `${r.step.lastError.type}: ${r.step.lastError.message}` : '-',
        ]
      : [r.rule ? o.style.dim(r.name) : r.name, ...empty],
  );
  // The state is coloured inside its cell: renderTable measures what the terminal shows.
  const columns = ['STEP', 'STATE', 'TRIES', 'UNDO', 'TOOK', { header: 'LAST ERROR', maxWidth: 80 }];
  return renderTable(columns, cells, { color: o.color, maxCellWidth: Infinity }).split('\n');
}

function undoText(step: StepStatus): string {
  if (!step.undoable) return 'none';
  const undoStates: readonly StepState[] = ['undoing', 'undone', 'undo-failed', 'skipped'];
  if (!undoStates.includes(step.state) && step.undoAttempts === 0) return '-';
  return `${undoStates.includes(step.state) ? step.state : 'ran'}${step.undoAttempts > 1 ? ` ×${step.undoAttempts}` : ''}`;
}

function took(step: StepStatus): string {
  if (!step.startedAt || !step.finishedAt) return step.startedAt && step.state === 'running' ? 'running' : '-';
  return formatDuration(Date.parse(step.finishedAt) - Date.parse(step.startedAt));
}

/**
 * `unwind show` as text: the header (saga, state, pivot, who must act and since when, the
 * commands to run), why it did not finish, the residue of skipped undos, the steps in order
 * with parallel groups indented, then the decisions.
 *
 * @param summary visibility's row (times, execution status); `null` if unavailable
 * @param status the status query's answer; `null` when no worker answered (`statusError` says why)
 * @param options.ledger the rack's ledger rows under the keys of the skipped undos
 *   ({@link residueKeys}): the residue is then listed by resource; without it, by step and key
 */
export function renderSagaView(
  summary: SagaSummary | null,
  status: SagaStatus | null,
  options: ViewOptions & { statusError?: string; ledger?: readonly LedgerEntry[] } = {},
): string {
  const o: Required<ViewOptions> = { now: options.now ?? new Date(), style: options.style ?? styles(false), color: options.color ?? false };
  const out = renderHeader(summary, status, o);
  out.push('');
  if (!status) {
    out.push(`steps unavailable: ${options.statusError ?? 'no worker answered the status query'}`);
    return out.join('\n');
  }
  const cause = renderCause(summary, status, o.now);
  if (cause) out.push(cause, '');
  const residue = renderResidue(status, options.ledger, o);
  if (residue.length > 0) out.push(...residue, '');
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

/** The lines of a node's label: name, state (with attempts), undo, and whether its failure is why the saga unwound. */
function nodeLabel(step: StepStatus, cause: boolean): string[] {
  const lines = [step.name, `${step.state}${step.attempts > 1 ? ` ×${step.attempts}` : ''}`];
  if (step.undoAttempts > 0) lines.push(`undo ×${step.undoAttempts}`);
  if (!step.undoable) lines.push('no undo');
  if (cause) lines.push('failed here');
  return lines;
}

/** The colour of the step whose failure unwound the saga: its border. */
const CAUSE_COLOR = '#c92a2a';

/** How one graph language writes what the tree visitor meets, and the edges. */
interface GraphSyntax {
  step(step: StepStatus, id: string, cause: boolean): string;
  pivot: string;
  open(id: string, label: string): string[];
  close: string;
  edge(from: string, to: string): string;
}

/**
 * The executed steps (not `pending`) drawn with `syntax`: nodes in their boxes, then the edges.
 * `summary` helps name the failed step (see {@link failedStep}).
 */
function graphBody(status: SagaStatus, summary: SagaSummary | null, syntax: GraphSyntax): string[] {
  const tree = stepTree(status.steps.filter((s) => s.state !== 'pending'), status.pivoted);
  const cause = failedStep(status, summary)?.name;
  const lines: string[] = [];
  const indent = (depth: number) => '  '.repeat(depth + 1);
  walkTree(tree, {
    step: (step, id, depth) => lines.push(indent(depth) + syntax.step(step, id, step.name === cause)),
    pivot: (depth) => lines.push(indent(depth) + syntax.pivot),
    open: (id, label, depth) => lines.push(...syntax.open(id, label).map((line) => indent(depth) + line)),
    close: (depth) => lines.push(indent(depth) + syntax.close),
  });
  for (const [from, to] of treeEdges(tree)) lines.push(`  ${syntax.edge(from, to)}`);
  return lines;
}

/**
 * The executed steps as a Mermaid flowchart: one node per step (name, state, attempts, undo),
 * parallel groups as subgraphs with each member of several steps in its own, edges in the order
 * steps ran, the pivot as a hexagon, nodes classed (filled) by state, the failed step outlined.
 */
export function renderMermaid(status: SagaStatus, summary: SagaSummary | null = null): string {
  // Labels are quoted and hold `<br/>`: quotes and brackets of names become entities.
  const esc = (text: string) => text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
  const className = (state: StepState) => state.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  let causeId: string | undefined;
  const lines = [
    'flowchart TD',
    ...graphBody(status, summary, {
      step: (step, id, cause) => {
        if (cause) causeId = id;
        return `${id}["${nodeLabel(step, cause).map(esc).join('<br/>')}"]:::${className(step.state)}`;
      },
      pivot: 'pivot{{"pivot"}}',
      open: (id, label) => [`subgraph ${id}["${esc(label)}"]`],
      close: 'end',
      edge: (from, to) => `${from} --> ${to}`,
    }),
  ];
  const used = new Set(status.steps.filter((s) => s.state !== 'pending').map((s) => s.state));
  for (const state of used) lines.push(`  classDef ${className(state)} fill:${FILL[state]},stroke:#495057`);
  if (causeId) lines.push(`  style ${causeId} stroke:${CAUSE_COLOR},stroke-width:4px`);
  return lines.join('\n');
}

/**
 * The executed steps as a Graphviz digraph: one box per step (name, state, attempts, undo),
 * parallel groups as clusters with each member of several steps in its own, edges in the order
 * steps ran, the pivot as a hexagon, boxes filled by state, the failed step outlined.
 */
export function renderDot(status: SagaStatus, summary: SagaSummary | null = null): string {
  const esc = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [
    `digraph "${esc(status.workflowId)}" {`,
    `  label="${esc(`${status.sagaType} ${status.workflowId}: ${status.state}`)}";`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ...graphBody(status, summary, {
      step: (step, id, cause) =>
        `${id} [label="${nodeLabel(step, cause).map(esc).join('\\n')}", fillcolor="${FILL[step.state]}"${cause ? `, color="${CAUSE_COLOR}", penwidth=3` : ''}];`,
      pivot: 'pivot [label="pivot", shape=hexagon, style=filled, fillcolor="#e7f5ff"];',
      open: (id, label) => [`subgraph cluster_${id} {`, `  label="${esc(label)}";`, '  style=dashed;'],
      close: '}',
      edge: (from, to) => `${from} -> ${to};`,
    }),
    '}',
  ].join('\n');
}
