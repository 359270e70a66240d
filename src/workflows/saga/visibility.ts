/**
 * Visibility: what the world sees of a running saga. The saga's state is computed from where
 * the run is (its phase), its waits and its residue; it is published as search attributes
 * (`UnwindSaga`, `UnwindState`, `UnwindStep`, `UnwindProgressAt`, `UnwindError`) on state
 * changes and progress at most once a minute, and the status query returns a snapshot of
 * everything. Publishing is part of the workflow's commands: when an upsert is sent is history,
 * so the rules below (one per state change; once lean, one per workflow task) are a versioning
 * matter, not a detail.
 */
import { CancellationScope, condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { CancelRequest, SagaState, SagaStatus, SkippedUndo } from '../../schemas/saga';
import { UnwindError, UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from '../../schemas/search-attributes';
import type { ApprovalDesk } from './approval';
import type { OperatorDesk } from './operator-desk';
import type { StepRecord } from './stack';

/** Where the run is; `stopping`: a stoppable saga past its pivot lets its steps in flight settle. */
export type Phase = 'running' | 'unwinding' | 'stopping' | 'completed' | 'unwound' | 'cancelled' | 'failed';

/** Progress (UnwindStep, UnwindProgressAt) is upserted on a step start at most this often, besides state changes. */
const PROGRESS_UPSERT_INTERVAL_MS = 60_000;

/** What visibility reads of the saga run: everything the status shows. */
export interface VisibleRun {
  readonly sagaType: string;
  readonly workflowId: string;
  readonly pivoted: boolean;
  readonly phase: Phase;
  /** The failure the saga unwound from (or failed with), for `UnwindError`. */
  readonly unwoundBy: string | undefined;
  readonly records: readonly StepRecord[];
  readonly reports: Record<string, unknown>;
  readonly cancelRequest: CancelRequest | undefined;
  readonly operators: Pick<OperatorDesk, 'waitingCount' | 'firstError' | 'waiting' | 'history'>;
  readonly approvals: Pick<ApprovalDesk, 'current' | 'history'>;
  readonly unwinder: { readonly skipped: readonly SkippedUndo[] };
}

/** The state, search attributes and status of one saga run. */
export class Visibility {
  /**
   * Set by the first approval of a new execution (`LEAN_APPROVAL_PATCH`, ./approval.ts): from
   * then on the search attributes are upserted once per workflow task, not once per state
   * change. Executions that began an approval before the patch never set it, and replay as they ran.
   */
  lean = false;
  private published: { state: SagaState; step: string | null; at: number } | undefined;
  /** True once UnwindSaga was upserted (with the first state). */
  private sagaPublished = false;
  /** The search attributes published and not yet upserted (lean: one upsert per workflow task). */
  private unsent: { state: SagaState; step: string | null; at: Date; error: string | null } | undefined;
  /** Calls due at the end of the current workflow task (see {@link atEndOfTask}). */
  private endOfTask: (() => void)[] = [];
  /** The saga returned or threw: calls due at the end of the task are dropped (they would follow the workflow's last command). */
  private ended = false;

  constructor(private readonly run: VisibleRun) {}

  state(): SagaState {
    const run = this.run;
    switch (run.phase) {
      case 'completed':
      case 'failed':
        return run.phase;
      // An unwind that skipped an undo is not clean, whatever unwound it: its residue is what a
      // person must clean up, so it wins over `cancelled` (the workflow still ends CANCELED).
      case 'unwound':
      case 'cancelled':
        return run.unwinder.skipped.length > 0 ? 'unwound-with-residue' : run.phase;
      case 'unwinding':
        return run.operators.waitingCount() > 0 ? 'stuck' : 'unwinding';
      case 'stopping':
      case 'running':
        if (run.operators.waitingCount() > 0) return 'needs-operator';
        return run.approvals.current() ? 'awaiting-approval' : 'running';
    }
  }

  /** The status query's answer: a copy, so that nothing the caller holds changes with the run. */
  status(): SagaStatus {
    const run = this.run;
    const waiting = run.operators.waiting();
    return {
      sagaType: run.sagaType,
      workflowId: run.workflowId,
      state: this.state(),
      pivoted: run.pivoted,
      waitingFor: waiting[0] ?? null,
      waiting,
      steps: run.records.map((r) => ({ ...r, branch: r.branch.map((b) => ({ ...b })), lastError: r.lastError ? { ...r.lastError } : null })),
      decisions: run.operators.history(),
      pendingApproval: run.approvals.current(),
      approvals: run.approvals.history(),
      reports: JSON.parse(JSON.stringify(run.reports)) as Record<string, unknown>,
      cancelRequested: run.cancelRequest ? { ...run.cancelRequest } : null,
    };
  }

  /**
   * Upserts UnwindState, UnwindStep and UnwindProgressAt when the state or its step changed
   * (or when `force`): history gets one event per state change, not one per step. Once lean
   * (an approval asked by a new execution), the upsert waits for the end of the workflow task
   * and carries its last state — one event per workflow task — except a final state, sent at
   * once, before the workflow's last command.
   */
  publish(step: string | null, force = false): void {
    const state = this.state();
    if (!force && this.published?.state === state && this.published.step === step) return;
    const at = new Date();
    this.published = { state, step, at: at.getTime() };
    // The error a person should know of: what the saga waits on, else what unwound it.
    const error = this.run.operators.firstError() ?? this.run.unwoundBy ?? null;
    this.unsent = { state, step, at, error };
    const phase = this.run.phase;
    const final = phase === 'completed' || phase === 'unwound' || phase === 'cancelled' || phase === 'failed';
    if (!this.lean || final) this.flushPublish();
    else this.atEndOfTask(() => this.flushPublish());
  }

  /**
   * The run ended (a result, a failure, continue-as-new): what was published is sent now, before
   * the workflow's last command, and calls still due at the end of the task are dropped.
   */
  end(): void {
    this.flushPublish();
    this.ended = true;
  }

  private flushPublish(): void {
    const unsent = this.unsent;
    if (unsent === undefined) return;
    this.unsent = undefined;
    const first = !this.sagaPublished;
    this.sagaPublished = true;
    upsertSearchAttributes([
      ...(first ? [{ key: UnwindSaga, value: this.run.sagaType }] : []),
      { key: UnwindState, value: unsent.state },
      { key: UnwindStep, value: unsent.step },
      { key: UnwindProgressAt, value: unsent.at },
      { key: UnwindError, value: unsent.error },
    ]);
  }

  /**
   * Calls `fn` at the end of the current workflow task: once the activation's microtasks have
   * run out, by a condition that holds from its second evaluation on (no command, no event).
   * Dropped when the saga has ended meanwhile. Only lean executions use it.
   */
  atEndOfTask(fn: () => void): void {
    this.endOfTask.push(fn);
    if (this.endOfTask.length > 1) return;
    let evaluations = 0;
    void CancellationScope.nonCancellable(() => condition(() => evaluations++ > 0)).then(() => {
      const due = this.endOfTask;
      this.endOfTask = [];
      if (!this.ended) for (const call of due) call();
    });
  }

  /** A long saga still shows progress (for `--stalled`), at most one upsert per interval. */
  noteProgress(step: string): void {
    const last = this.published?.at ?? 0;
    if (Date.now() - last >= PROGRESS_UPSERT_INTERVAL_MS) this.publish(step, true);
  }
}
