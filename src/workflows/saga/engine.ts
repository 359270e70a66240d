/**
 * The saga engine's run: one saga execution's orchestration — its steps and parallel groups, the
 * pivot, cancellation, and how it ends (completed, unwound, stopped, failed) — and `runSaga`,
 * which every saga's workflow function calls. What the run leans on lives beside it, one concept
 * a module: the public types (./types.ts), the step stack and unwinding (./stack.ts), operator
 * waits (./operator-desk.ts) and approvals (./approval.ts), visibility (./visibility.ts), fault
 * injection (./faults.ts) and failure description (./failures.ts). Usage: see ./index.ts.
 * Contract: docs/design.md, "The saga contract".
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  isCancellation,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { isNeedsOperator, isUnknownState, SagaFailureType } from '../../schemas/failures';
import {
  type CancelRequest,
  type ErrorSummary,
  OUTCOME_MEMO_KEY,
  SagaContinuation,
  type SagaUnwoundDetails,
} from '../../schemas/saga';
import { formatIssues } from '../../schemas/validation';
import { ApprovalDesk, LEAN_APPROVAL_PATCH, type ApprovalOptions, type ApprovalResult } from './approval';
import { now } from './clock';
import { approvalRejected, describeFailure, invalidSaga, notStarted, stepFailed, stepOf } from './failures';
import { FaultInjection, readFaults } from './faults';
import { sagaStatusQuery } from './messages';
import { OperatorDesk } from './operator-desk';
import { newStepRecord, RootScope, Scope, type ScopeOwner, type StackEntry, type StepRecord, Unwinder } from './stack';
import { stepContext } from './step-context';
import type { GroupMember, RunSagaOptions, Saga, StepContext, StepDefinition } from './types';
import { type Phase, Visibility, type VisibleRun } from './visibility';
import { WaitBook } from './waits';

/**
 * One saga execution: its stack, records, waits and decisions. The workflow function only wires
 * it. Its public fields are what its scopes ({@link ScopeOwner}) and visibility
 * ({@link VisibleRun}) read; only the run writes them.
 */
class SagaRun implements ScopeOwner, VisibleRun {
  readonly workflowId = workflowInfo().workflowId;
  pivoted = false;
  private faults = new FaultInjection();
  private readonly root: RootScope;
  private readonly names = new Set<string>();
  readonly records: StepRecord[] = [];
  private readonly waitBook: WaitBook;
  /** Why the saga cannot run as asked (an invalid option), thrown when it starts: it ends `failed`. */
  private readonly setupError: ApplicationFailure | undefined;
  readonly operators: OperatorDesk;
  readonly approvals: ApprovalDesk;
  readonly unwinder: Unwinder;
  readonly visibility: Visibility = new Visibility(this);
  readonly reports: Record<string, unknown> = {};
  /** Steps started and not yet settled, whether or not the body awaits them. */
  private readonly inFlight = new Map<Promise<unknown>, string>();
  phase: Phase = 'running';
  /** Where the body runs: cancelled by a cancellation request only while the request may stop the saga. */
  private bodyScope: CancellationScope | undefined;
  cancelRequest: CancelRequest | undefined;
  /** The steps in flight when a cancellation request came: what it interrupted. */
  private inFlightAtCancel: string[] = [];
  /** The failure the saga unwound from, for `UnwindError`. */
  unwoundBy: string | undefined;

  constructor(
    readonly sagaType: string,
    private readonly options: RunSagaOptions,
  ) {
    if (typeof sagaType !== 'string' || sagaType.length === 0) throw invalidSaga('runSaga needs a saga type, e.g. "diskCreate".', null);
    this.root = new RootScope(this, [], null, [], null, null);
    const continues = SagaContinuation.safeParse(options.continues ?? { lastWaitId: 0 });
    this.waitBook = new WaitBook(continues.success ? continues.data.lastWaitId : 0);
    this.setupError = continues.success
      ? undefined
      : invalidSaga(
          `runSaga option "continues" is not a continuation: ${formatIssues(continues.error, { root: '(root)' })}; ` +
            'pass what saga.continuation() returned in the run that continued as new.',
          null,
        );
    const changed = (step: string) => this.visibility.publish(step);
    this.operators = new OperatorDesk(this, this.waitBook, changed, {
      state: () => this.visibility.state(),
      notifyOperator: options.notifyOperator,
    });
    this.unwinder = new Unwinder(this.operators, () => this.faults);
    this.approvals = new ApprovalDesk(this, this.waitBook, changed, { atEndOfTask: (fn) => this.visibility.atEndOfTask(fn) });
    setHandler(sagaStatusQuery, () => this.visibility.status());
    this.approvals.handleUpdates();
    this.operators.handleUpdates();
    // The workflow's own scope hears the request; the body's scope is cancelled only if the request may stop the saga.
    CancellationScope.current().cancelRequested.catch(() => this.onCancelRequest());
    this.visibility.publish(null);
  }

  async execute<T>(body: (saga: Saga) => Promise<T>): Promise<T> {
    try {
      return await this.executeBody(body);
    } finally {
      // Whatever ended the run (a result, a failure, continue-as-new): what was published is sent now, before the workflow's last command.
      this.visibility.end();
    }
  }

  private async executeBody<T>(body: (saga: Saga) => Promise<T>): Promise<T> {
    try {
      if (this.setupError) throw this.setupError;
      this.faults = new FaultInjection(readFaults());
      const result = await CancellationScope.nonCancellable(() => {
        this.bodyScope = new CancellationScope();
        return this.bodyScope.run(() => body(this.root));
      });
      // The last step may have completed in the activation that brought the request.
      if (this.cancelRequest?.effect === 'unwinds') throw new CancelledFailure('cancelled by request');
      this.phase = 'completed';
      this.visibility.publish(this.records.at(-1)?.name ?? null);
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      if (this.cancelRequest?.effect === 'stops') return this.stop();
      if (this.pivoted || err === this.setupError || (err instanceof ApplicationFailure && err.type === SagaFailureType.InvalidFaults)) {
        // Past the pivot nothing may be undone: an error that still gets here (a bug in the
        // saga's own code) ends the workflow as it is, and says so.
        this.phase = 'failed';
        this.unwoundBy = describeFailure(err).type;
        this.visibility.publish(this.records.at(-1)?.name ?? null);
        throw err;
      }
      return this.unwind(err);
    }
  }

  continuation(): SagaContinuation {
    return { lastWaitId: this.waitBook.lastId() };
  }

  async awaitApproval(name: string, options: ApprovalOptions): Promise<ApprovalResult> {
    // Asked before the step's first command, so a history without the marker replays the older path.
    this.visibility.lean ||= patched(LEAN_APPROVAL_PATCH);
    return this.runStep(this.root, name, {
      action: async () => {
        const result = await this.approvals.await(name, options, this.visibility.lean);
        if (result.approved) return result;
        throw approvalRejected(options.request, result);
      },
    });
  }

  pivot(): void {
    if (this.pivoted) throw invalidSaga('pivot() was called twice; a saga has one point of no return.', null);
    if (this.inFlight.size > 0) {
      throw invalidSaga('pivot() was called while steps are in flight; await every step before the pivot.', null);
    }
    // A request that came before the pivot unwinds the saga, even if the body has not noticed yet.
    if (this.cancelRequest?.effect === 'unwinds') throw new CancelledFailure('cancelled by request before the pivot');
    this.pivoted = true;
  }

  /** Why no new step may start now, or `undefined` when one may. */
  private whyNotStart(scope: Scope): string | undefined {
    if (this.phase === 'unwinding') return 'the saga is unwinding';
    if (this.phase === 'stopping') return 'a cancellation request stops the saga';
    if (this.cancelRequest?.effect === 'unwinds') return 'a cancellation request unwinds the saga';
    if (scope.doomed()) return 'a step of its parallel group failed';
    return undefined;
  }

  runStep<T>(scope: Scope, name: string, definition: StepDefinition<T>): Promise<T> {
    const refusal = this.whyNotStart(scope);
    if (refusal !== undefined) return Promise.reject(notStarted('step', name, refusal));
    const running = this.startStep(scope, name, definition);
    this.inFlight.set(running, name);
    const settled = () => void this.inFlight.delete(running);
    running.then(settled, settled);
    return running;
  }

  private async startStep<T>(scope: Scope, name: string, definition: StepDefinition<T>): Promise<T> {
    this.claim(name);
    if (typeof definition?.action !== 'function') throw invalidSaga(`step "${name}" has no action function.`, name);
    const afterPivot = this.pivoted;
    if (afterPivot && definition.undo) {
      throw invalidSaga(
        `step "${name}" declares an undo after pivot(); steps after the pivot are never compensated. ` +
          'Drop the undo, or move the step before the pivot.',
        name,
      );
    }
    const record = newStepRecord(name, scope, definition.undo !== undefined, afterPivot);
    this.records.push(record);
    const ctx = stepContext(this.workflowId, name);
    // Registered before the action runs: an action that fails, or times out after its effect
    // applied, is still undone.
    if (definition.undo) scope.stack.push({ kind: 'step', record, ctx, undo: definition.undo });
    this.visibility.noteProgress(name);
    return this.attemptStep(scope, record, ctx, definition.action, afterPivot);
  }

  async runParallel(scope: Scope, name: string, members: readonly GroupMember<unknown>[]): Promise<unknown[]> {
    const refusal = this.whyNotStart(scope);
    if (refusal !== undefined) throw notStarted('parallel group', name, refusal);
    this.claim(name);
    if (!Array.isArray(members) || members.some((m) => typeof m !== 'function')) {
      throw invalidSaga(`parallel group "${name}" needs an array of functions (group) => Promise.`, name);
    }
    const groupState = { failed: false };
    const memberStacks = members.map((): StackEntry[] => []);
    if (!this.pivoted) scope.stack.push({ kind: 'group', name, members: memberStacks });
    const path = scope.group === null ? name : `${scope.group}/${name}`;
    let firstFailure: unknown;
    const settled = await Promise.allSettled(
      members.map(async (member, i) => {
        try {
          const branch = [...scope.branch, { group: name, member: i }];
          return await member(new Scope(this, memberStacks[i] ?? [], path, branch, groupState, scope));
        } catch (err) {
          if (!groupState.failed) {
            groupState.failed = true;
            firstFailure = err;
          }
          throw err;
        }
      }),
    );
    if (groupState.failed) throw firstFailure;
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  }

  private claim(name: string): void {
    if (typeof name !== 'string' || name.length === 0) throw invalidSaga('a step or group needs a non-empty name.', null);
    if (this.names.has(name)) {
      throw invalidSaga(
        `step name "${name}" is used twice in saga ${this.sagaType}; names are unique within a saga (add an index suffix: "${name}[1]").`,
        name,
      );
    }
    this.names.add(name);
  }

  /** True when the saga's own cancellation (not one of a child or activity) is under way. */
  private cancelling(): boolean {
    return this.cancelRequest?.effect === 'unwinds' || this.cancelRequest?.effect === 'stops';
  }

  private async attemptStep<T>(
    scope: Scope,
    record: StepRecord,
    ctx: StepContext,
    action: (ctx: StepContext) => Promise<T>,
    afterPivot: boolean,
  ): Promise<T> {
    let inject = this.faults.failsFirstAttempt(record.name);
    for (;;) {
      record.state = 'running';
      record.startedAt ??= now();
      try {
        const result = await this.faults.invokeAction(record, ctx, action, inject);
        record.state = 'succeeded';
        record.finishedAt = now();
        return result;
      } catch (err) {
        record.state = 'failed';
        record.finishedAt = now();
        record.lastError = describeFailure(err);
        // The saga's own cancellation ends the step; a cancellation from elsewhere (a child
        // workflow cancelled from outside) is a failure like any other.
        if (this.cancelling() && isCancellation(err)) throw err;
        const released = () => !afterPivot && (scope.doomed() || this.phase !== 'running' || this.cancelling());
        const pauses = afterPivot || isNeedsOperator(err) || isUnknownState(err);
        if (!pauses || released()) throw stepFailed(record.name, err);
        const decision = await this.operators.wait(record.name, 'action', afterPivot ? ['retry'] : ['retry', 'unwind'], err, () =>
          released() || this.phase === 'stopping' ? this.releaseReason(scope) : undefined,
        );
        if (decision?.action !== 'retry') throw stepFailed(record.name, err);
      }
      inject = false;
    }
  }

  private releaseReason(scope: Scope): string {
    if (this.phase === 'stopping') return 'a cancellation request stopped the saga';
    if (this.cancelling()) return 'a cancellation request unwound the saga';
    if (scope.doomed()) return 'a step of its parallel group failed and the saga unwound';
    return 'the saga began unwinding';
  }

  /** Waits until every step in flight has settled, those still started meanwhile included. */
  private async settleInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.keys()]);
  }

  private async unwind(err: unknown): Promise<never> {
    const cancelled = this.cancelRequest?.effect === 'unwinds';
    const inFlight = this.inFlightAtCancel;
    const failedStep = cancelled ? null : stepOf(err);
    const cause: ErrorSummary = cancelled
      ? { type: 'Cancelled', message: `a cancellation request unwound the saga${inFlight.length ? ` (in flight: ${inFlight.join(', ')})` : ''}` }
      : describeFailure(err);
    this.unwoundBy = cause.type;
    this.phase = 'unwinding';
    this.visibility.publish(failedStep);
    // Cancelling a saga unwinds it; it never abandons the unwinding. Steps still in flight
    // settle first: an undo never runs while its own action may still apply.
    await CancellationScope.nonCancellable(async () => {
      await this.settleInFlight();
      await this.unwinder.unwindStack(this.root.stack);
    });
    const details: SagaUnwoundDetails = { failedStep, cause, undone: [...this.unwinder.undone], skipped: [...this.unwinder.skipped] };
    const summary = `${details.undone.length} undone, ${details.skipped.length} skipped`;
    if (cancelled) {
      return this.endCancelled(details, `saga ${this.sagaType} ${this.workflowId} was cancelled and unwound: ${summary}`, failedStep);
    }
    this.phase = 'unwound';
    this.visibility.publish(failedStep);
    throw ApplicationFailure.create({
      type: SagaFailureType.SagaUnwound,
      nonRetryable: true,
      message:
        `saga ${this.sagaType} ${this.workflowId} unwound: ` +
        `${failedStep === null ? 'it failed' : `step "${failedStep}" failed`} (${cause.type}: ${cause.message}); ${summary}`,
      details: [details],
    });
  }

  /** A stoppable saga past its pivot, cancelled: nothing new starts, what runs settles, nothing is undone. */
  private async stop(): Promise<never> {
    const inFlight = this.inFlightAtCancel;
    this.phase = 'stopping';
    await CancellationScope.nonCancellable(() => this.settleInFlight());
    const cause = { type: 'Cancelled', message: `a cancellation request stopped the saga${inFlight.length ? ` (in flight: ${inFlight.join(', ')})` : ''}` };
    const details: SagaUnwoundDetails = { failedStep: null, cause, undone: [], skipped: [], reports: JSON.parse(JSON.stringify(this.reports)) };
    return this.endCancelled(details, `saga ${this.sagaType} ${this.workflowId} was stopped by request past its pivot`, null);
  }

  /**
   * Ends the workflow cancelled. Temporal's cancellation carries no details, so the outcome
   * goes in the memo (`OUTCOME_MEMO_KEY`) where the client reads it.
   */
  private endCancelled(details: SagaUnwoundDetails, message: string, step: string | null): never {
    this.phase = 'cancelled';
    this.unwoundBy = 'Cancelled';
    upsertMemo({ [OUTCOME_MEMO_KEY]: details });
    this.visibility.publish(step);
    throw new CancelledFailure(message);
  }

  private onCancelRequest(): void {
    if (this.phase !== 'running' || this.cancelRequest) {
      this.cancelRequest ??= { at: now(), effect: this.phase === 'unwinding' ? 'already-unwinding' : 'goes-forward' };
      return;
    }
    const effect = !this.pivoted ? 'unwinds' : this.options.stoppable ? 'stops' : 'goes-forward';
    this.cancelRequest = { at: now(), effect };
    this.inFlightAtCancel = [...this.inFlight.values()];
    if (effect !== 'goes-forward') this.bodyScope?.cancel();
  }
}

/**
 * Runs `body` as a saga: the workflow function of every unwind saga calls it once, at its start
 * (it installs the status query and the operator updates).
 *
 * - Completes with the body's result (state `completed`).
 * - A step failure before the pivot, or an error the body throws, unwinds: steps in flight
 *   settle, then every registered undo runs, last-registered first (a parallel group's members in
 *   parallel), in a non-cancellable scope; the saga then fails with an `ApplicationFailure` of type
 *   `SagaUnwound`, non-retryable, whose first detail is a `SagaUnwoundDetails`.
 * - A cancellation request before the pivot unwinds the same way, and the workflow ends
 *   cancelled (state `cancelled`; the details in the memo `unwindOutcome`).
 * - After the pivot a failure never unwinds: the step waits for an operator `retry`. A
 *   cancellation request is recorded and changes nothing, unless the saga is
 *   {@link RunSagaOptions.stoppable}; an error escaping the body ends it `failed`.
 *
 * Faults are injected from the start-time memo `unwindFaults` (src/schemas/faults.ts).
 * Search attributes `UnwindSaga`, `UnwindState`, `UnwindStep`, `UnwindProgressAt` must be
 * registered on the namespace.
 *
 * @param sagaType the saga's name (`diskCreate`), shown in status and `UnwindSaga`.
 * @throws `ApplicationFailure` `SagaUnwound` when unwound; `CancelledFailure` when cancelled;
 *   `InvalidFaults` when the memo is invalid.
 */
export async function runSaga<T>(sagaType: string, body: (saga: Saga) => Promise<T>, options: RunSagaOptions = {}): Promise<T> {
  return new SagaRun(sagaType, options).execute(body);
}

