/**
 * `proveSaga`: every path of a saga, proven in one call. From a plain run it learns the saga's
 * steps and its pivot, then for every step runs the saga with fresh params and one fault:
 *
 * | mode | at | the saga must |
 * |---|---|---|
 * | `fail-before` / `fail-after` | each step before the pivot | unwind from that step (the action never ran / ran, then failed) |
 * | `undo-twice` | each step before the pivot | unwind from it with every undo run twice |
 * | `needs-operator-unwind` / `unknown-state-unwind` | each step before the pivot | pause; an operator `unwind` unwinds it |
 * | `needs-operator-retry` / `unknown-state-retry` | each step before the pivot | pause; an operator `retry` completes it |
 * | `cancel` | each step before the pivot | unwind when cancelled with the step in flight (held, its effect applied), and end CANCELED |
 * | `fail-after-pivot` | each step after the pivot | pause, undo nothing; an operator `retry` completes it |
 *
 * plus `succeeds-idempotently` (every action twice, no extra effect). After every unwind it
 * checks the engine's own bookkeeping — the steps reported undone are exactly those that
 * registered an undo, in last-registered-first order within each branch — and, when the harness
 * has a `residue` source (the rack's ledger), that every effect applied under the keys of a step
 * before the pivot was reverted by an undo (a step without an undo that applies an effect is
 * caught too, unless listed in `keeps`). The caller's `verifyCleanSlate` runs on top; it is not what the proof rests on.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { approveUpdate, retryUpdate, sagaStatusQuery, unwindUpdate } from '../workflows/saga/messages';
import type { SagaFaults } from '../schemas/faults';
import { OUTCOME_MEMO_KEY, SagaUnwoundDetails, type SagaStatus } from '../schemas/saga';
import { executeDecision } from '../temporal/updates';
import { unwindBookkeepingViolation } from './bookkeeping';
import { renderProofTable } from './proof-table';
import type { SagaWorkflow } from './harness';
import { SagaContractViolation } from './violation';
import { whenQuiescent } from './quiescent';

/** One way of failing a step; see the table in the module's header. */
export type ProofMode =
  | 'succeeds-idempotently'
  | 'fail-before'
  | 'fail-after'
  | 'undo-twice'
  | 'needs-operator-unwind'
  | 'needs-operator-retry'
  | 'unknown-state-unwind'
  | 'unknown-state-retry'
  | 'cancel'
  | 'fail-after-pivot';

/** The modes run at each step before the pivot. */
export const BEFORE_PIVOT_MODES: readonly ProofMode[] = [
  'fail-before',
  'fail-after',
  'undo-twice',
  'needs-operator-unwind',
  'needs-operator-retry',
  'unknown-state-unwind',
  'unknown-state-retry',
  'cancel',
];

/** One run of the proof: a step, a mode, and what happened. */
export interface ProofRow {
  step: string;
  mode: ProofMode;
  /** `unwound`, `cancelled`, `completed`, … or `VIOLATION`. */
  outcome: string;
  /** What broke the contract, when something did. */
  problem?: string;
  workflowId: string;
  ms: number;
}

/** The proof of one saga: every row, the printed table and the wall time. */
export interface ProofReport {
  saga: string;
  steps: string[];
  rows: ProofRow[];
  /** Step × mode → outcome, one line per step. */
  table: string;
  wallMs: number;
}

/** Options of `proveSaga`. */
export interface ProveSagaOptions<P, R> {
  /** Checks a completed run's result. */
  verifyResult?: (result: R, params: P) => Promise<void>;
  /** The author's own clean-slate check after each unwind, on top of the harness's. */
  verifyCleanSlate?: (params: P, label: string) => Promise<void>;
  /**
   * Acts on a wait only the saga knows (e.g. a technician's signal). Called on every poll of an
   * open run; pending approvals are approved by the harness itself (the first approver listed).
   */
  onWaiting?: (handle: WorkflowHandle, status: SagaStatus, params: P) => Promise<void>;
  /**
   * Steps before the pivot whose effects the saga keeps by design even when it unwinds (e.g. a
   * sled replacement keeps the replicas it moved). Every other step's effects must be reverted.
   */
  keeps?: readonly string[];
  /** Runs at once (default 4). */
  concurrency?: number;
  /** Only these modes (default: all). */
  modes?: readonly ProofMode[];
  /** Where the table goes (default `console.log`); `null` prints nothing. */
  print?: ((table: string) => void) | null;
}

/** What `proveSaga` needs of the harness. */
export interface ProofRunner {
  start<P, R>(saga: SagaWorkflow<P, R>, params: P, faults: SagaFaults, label: string): Promise<WorkflowHandle>;
  /** Effects applied under `workflowId`'s keys by these steps that no undo reverted. */
  residue?: (workflowId: string, steps: string[]) => Promise<string[]>;
  /** How many effects each `<step> <operation>` of one saga applied. */
  effectCounts?: (workflowId: string) => Promise<Map<string, number>>;
  timeoutMs: number;
}

/** One run broke the contract (collected into the proof's table, then thrown together). */
class Violation extends Error {}

type Outcome<R> =
  | { kind: 'completed'; value: R }
  | { kind: 'unwound'; details: SagaUnwoundDetails }
  | { kind: 'cancelled'; details: SagaUnwoundDetails }
  | { kind: 'other'; error: unknown };

const POLL_MS = 100;
/** A status query may wait for a workflow task that does not come (a failing task): the poll moves on. */
const QUERY_TIMEOUT_MS = 5_000;

async function queryStatus(handle: WorkflowHandle): Promise<SagaStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS)));
  try {
    return await Promise.race([handle.query(sagaStatusQuery).catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Proves every path of `saga` (see the module's header).
 * @throws SagaContractViolation listing every run that broke the contract, with the table.
 */
export async function proveSaga<P, R>(
  runner: ProofRunner,
  saga: SagaWorkflow<P, R>,
  makeParams: () => P | Promise<P>,
  options: ProveSagaOptions<P, R> = {},
): Promise<ProofReport> {
  const started = Date.now();
  const wanted = (mode: ProofMode) => options.modes === undefined || options.modes.includes(mode);

  /** Polls the open run: approves approvals, lets the caller act, until `done(status)` or it closes. */
  async function drive(handle: WorkflowHandle, params: P, done: (s: SagaStatus) => boolean = () => false): Promise<SagaStatus | undefined> {
    const deadline = Date.now() + runner.timeoutMs;
    const approved = new Set<number>();
    for (;;) {
      const { status: execution } = await handle.describe();
      if (execution.name !== 'RUNNING') return undefined;
      const status = await queryStatus(handle);
      if (status) {
        if (done(status)) return status;
        const pending = status.pendingApproval;
        if (pending && !approved.has(pending.waitId)) {
          approved.add(pending.waitId);
          await handle.executeUpdate(approveUpdate, { args: [{ approver: pending.approvers[0] ?? '', waitId: pending.waitId, comment: 'unwind harness' }] });
        }
        await options.onWaiting?.(handle, status, params);
      }
      if (Date.now() > deadline) {
        await handle.terminate('unwind harness: the saga did not get where it should').catch(() => undefined);
        throw new Violation(`did not finish within ${runner.timeoutMs} ms; last state ${status?.state ?? 'unknown'}${waitText(status)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function outcome(handle: WorkflowHandle, params: P): Promise<Outcome<R>> {
    const paused = await drive(handle, params, (s) => s.state === 'needs-operator' || s.state === 'stuck');
    if (paused) {
      await handle.terminate('unwind harness: the saga cannot finish on its own').catch(() => undefined);
      throw new Violation(`is ${paused.state}${waitText(paused)}`);
    }
    try {
      return { kind: 'completed', value: (await handle.result()) as R };
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'SagaUnwound') {
        return { kind: 'unwound', details: SagaUnwoundDetails.parse(cause.details?.[0]) };
      }
      if (cause instanceof CancelledFailure) {
        const memo = (await handle.describe()).memo?.[OUTCOME_MEMO_KEY];
        return { kind: 'cancelled', details: SagaUnwoundDetails.parse(memo) };
      }
      return { kind: 'other', error };
    }
  }

  /** Waits until the held step's action applied its effect and the rest of the saga waits on it. */
  async function quiescent(handle: WorkflowHandle): Promise<void> {
    await whenQuiescent(handle, runner.timeoutMs, POLL_MS).catch(() => {
      throw new Violation(`still busy after ${runner.timeoutMs} ms while step was held`);
    });
  }

  async function status(handle: WorkflowHandle): Promise<SagaStatus> {
    return handle.query(sagaStatusQuery);
  }

  /** The engine's bookkeeping and the ledger after an unwind; the caller's check last. */
  async function checkUnwound(handle: WorkflowHandle, details: SagaUnwoundDetails, params: P, label: string): Promise<void> {
    const steps = (await status(handle)).steps;
    const wrong = unwindBookkeepingViolation(steps, details);
    if (wrong) throw new Violation(wrong);
    if (runner.residue) {
      const checked = steps.filter((s) => !s.afterPivot && !options.keeps?.includes(s.name)).map((s) => s.name);
      const left = await runner.residue(handle.workflowId, checked);
      if (left.length > 0) throw new Violation(`effects not reverted by an undo: ${left.join('; ')}`);
    }
    await options.verifyCleanSlate?.(params, label);
  }

  async function expectUnwoundFrom(handle: WorkflowHandle, step: string | null, params: P, label: string): Promise<string> {
    const end = await outcome(handle, params);
    const expected = step === null ? 'cancelled' : 'unwound';
    if (end.kind !== expected) throw new Violation(`expected ${expected}, got ${describeOutcome(end)}`);
    const details = (end as { details: SagaUnwoundDetails }).details;
    if (details.failedStep !== step) throw new Violation(`unwound from ${details.failedStep ?? 'no step'}, not ${step ?? 'no step'}`);
    await checkUnwound(handle, details, params, label);
    return expected;
  }

  async function expectCompleted(handle: WorkflowHandle, params: P): Promise<string> {
    const end = await outcome(handle, params);
    if (end.kind !== 'completed') throw new Violation(`expected completed, got ${describeOutcome(end)}`);
    await options.verifyResult?.(end.value, params);
    return 'completed';
  }

  /** Waits for the pause at `step`, then decides it. */
  async function decideAt(handle: WorkflowHandle, params: P, step: string, action: 'retry' | 'unwind', afterPivot = false): Promise<void> {
    const paused = await drive(handle, params, (s) => s.state === 'needs-operator');
    if (!paused) throw new Violation(`ended instead of pausing at ${step}: ${describeOutcome(await outcome(handle, params))}`);
    const wait = paused.waitingFor;
    if (wait?.step !== step) throw new Violation(`paused at ${wait?.step ?? 'nothing'}, not ${step}`);
    if (afterPivot) {
      const undone = paused.steps.filter((s) => s.state === 'undoing' || s.state === 'undone').map((s) => s.name);
      if (undone.length > 0) throw new Violation(`undid ${undone.join(', ')} after the pivot`);
    }
    const update = action === 'retry' ? retryUpdate : unwindUpdate;
    const decision = { operator: 'unwind-harness', reason: `proving ${action} at ${step}`, waitId: wait.waitId };
    const recorded = async () => (await queryStatus(handle))?.decisions.find((d) => d.waitId === wait.waitId);
    await executeDecision(handle, update, [decision], recorded).catch((e: unknown) => {
      throw new Violation(`refused ${action} of wait ${wait.waitId} at ${step}: ${(e as { cause?: Error }).cause?.message ?? String(e)}`);
    });
  }

  async function runMode(step: string, mode: ProofMode): Promise<string> {
    const params = await makeParams();
    const label = `${mode}-${step}`;
    const begin = (faults: SagaFaults) => runner.start(saga, params, faults, label);
    switch (mode) {
      case 'fail-before':
      case 'fail-after':
        return expectUnwoundFrom(await begin({ failStep: step, failWhen: mode === 'fail-before' ? 'before' : 'after' }), step, params, label);
      case 'undo-twice':
        return expectUnwoundFrom(await begin({ failStep: step, repeatUndos: { '*': 2 } }), step, params, label);
      case 'needs-operator-unwind':
      case 'unknown-state-unwind':
      case 'needs-operator-retry':
      case 'unknown-state-retry': {
        const failAs = mode.startsWith('needs-operator') ? 'needs-operator' : 'unknown-state';
        const handle = await begin({ failStep: step, failAs });
        const action = mode.endsWith('retry') ? 'retry' : 'unwind';
        await decideAt(handle, params, step, action);
        return action === 'retry' ? expectCompleted(handle, params) : expectUnwoundFrom(handle, step, params, label);
      }
      case 'cancel': {
        const handle = await begin({ holdStep: step });
        const held = await drive(handle, params, (s) => s.steps.some((x) => x.name === step && x.state === 'running' && x.attempts > 0));
        if (!held) throw new Violation(`ended before step ${step} was in flight: ${describeOutcome(await outcome(handle, params))}`);
        await quiescent(handle);
        await handle.cancel();
        return expectUnwoundFrom(handle, null, params, label);
      }
      case 'fail-after-pivot': {
        const handle = await begin({ failStep: step });
        await decideAt(handle, params, step, 'retry', true);
        return expectCompleted(handle, params);
      }
      case 'succeeds-idempotently':
        return succeedsIdempotently(params, label);
    }
  }

  async function succeedsIdempotently(params: P, label: string): Promise<string> {
    const twice = await runner.start(saga, params, { repeatActions: { '*': 2 } }, label);
    await expectCompleted(twice, params);
    if (runner.effectCounts) {
      const onceParams = await makeParams();
      const once = await runner.start(saga, onceParams, {}, `${label}-once`);
      await expectCompleted(once, onceParams);
      const [expected, actual] = [await runner.effectCounts(once.workflowId), await runner.effectCounts(twice.workflowId)];
      const added = [...actual].filter(([effect, count]) => count > (expected.get(effect) ?? 0));
      if (added.length > 0) {
        throw new Violation(`applied more effects with every action twice: ${added.map(([e, n]) => `${e} ×${n} (once: ×${expected.get(e) ?? 0})`).join(', ')}`);
      }
    }
    return 'completed';
  }

  // Discover the steps from a plain run.
  const discoveryParams = await makeParams();
  const discovery = await runner.start(saga, discoveryParams, {}, 'discover');
  const first = await outcome(discovery, discoveryParams).catch((e: unknown) => ({ kind: 'other' as const, error: e }));
  if (first.kind !== 'completed') throw new Error(`${saga.name} did not complete without faults: ${describeOutcome(first)}`);
  await options.verifyResult?.(first.value, discoveryParams);
  const steps = (await status(discovery)).steps;

  const plan: Array<{ step: string; mode: ProofMode }> = [{ step: '(saga)', mode: 'succeeds-idempotently' }];
  for (const s of steps) {
    const modes = s.afterPivot ? (['fail-after-pivot'] as const) : BEFORE_PIVOT_MODES;
    for (const mode of modes) plan.push({ step: s.name, mode });
  }
  const rows: ProofRow[] = [];
  let next = 0;
  const worker = async () => {
    for (let job = plan[next++]; job !== undefined; job = plan[next++]) {
      if (!wanted(job.mode)) continue;
      const t0 = Date.now();
      const row: ProofRow = { step: job.step, mode: job.mode, outcome: '', workflowId: '', ms: 0 };
      try {
        row.outcome = await runMode(job.step, job.mode);
      } catch (error) {
        row.outcome = 'VIOLATION';
        row.problem = error instanceof Error ? error.message : String(error);
      }
      row.ms = Date.now() - t0;
      rows.push(row);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  rows.sort((a, b) => plan.findIndex((p) => p.step === a.step && p.mode === a.mode) - plan.findIndex((p) => p.step === b.step && p.mode === b.mode));

  const wallMs = Date.now() - started;
  const table = renderProofTable(saga.name, rows, wallMs);
  if (options.print !== null) (options.print ?? console.log)(table);
  const violations = rows.filter((r) => r.outcome === 'VIOLATION');
  if (violations.length > 0) {
    throw new SagaContractViolation(`${saga.name} broke the saga contract in ${violations.length} of ${rows.length} runs:\n` +
      violations.map((r) => `  ${r.step} × ${r.mode}: ${r.problem}`).join('\n') + `\n${table}`);
  }
  return { saga: saga.name, steps: steps.map((s) => s.name), rows, table, wallMs };
}

function waitText(status: SagaStatus | undefined): string {
  const w = status?.waitingFor;
  return w ? ` at ${w.step} (${w.error.type}: ${w.error.message})` : '';
}

function describeOutcome(end: Outcome<unknown>): string {
  switch (end.kind) {
    case 'completed':
      return 'completed';
    case 'unwound':
    case 'cancelled':
      return `${end.kind} from ${end.details.failedStep ?? 'no step'} (${end.details.cause.type}: ${end.details.cause.message})`;
    case 'other': {
      const e = end.error as { cause?: Error; message?: string };
      return `failed: ${e.cause ? `${e.cause.name}: ${e.cause.message}` : (e.message ?? String(end.error))}`;
    }
  }
}
