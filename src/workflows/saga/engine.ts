/**
 * The saga engine: a compensation stack with parallel groups and a pivot, the failure
 * taxonomy's consequences, operator intervention, status, search attributes and fault
 * injection. Usage: see ./index.ts. Contract: DESIGN.md, "The saga contract".
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  condition,
  ContinueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OperatorActivities } from '../../activities/notify-operator';
import { causeChain, FailureType, isNeedsOperator, isUnknownState, SagaFailureType } from '../../schemas/failures';
import { FAULTS_MEMO_KEY, repeatCount, type ResolvedSagaFaults, SagaFaults } from '../../schemas/faults';
import {
  type CancelRequest,
  type ErrorSummary,
  idempotencyKey,
  type OperatorAction,
  OperatorDecisionInput,
  type OperatorNotification,
  OUTCOME_MEMO_KEY,
  SagaContinuation,
  type SagaDecision,
  type SagaState,
  type SagaStatus,
  type SagaUnwoundDetails,
  type SkippedUndo,
  type StepStatus,
  type WaitingFor,
} from '../../schemas/saga';
import { UnwindError, UnwindProgressAt, UnwindSaga, UnwindState, UnwindStep } from '../../schemas/search-attributes';
import { ApprovalDesk, LEAN_APPROVAL_PATCH, type ApprovalOptions, type ApprovalResult } from './approval';
import { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from './messages';
import { WaitBook } from './waits';

/** What an action and its undo are given. */
export interface StepContext {
  /** The step's name, unique within the saga. */
  readonly step: string;
  /**
   * `<workflowId>/<step>`: the idempotency key to pass to the activity. The undo gets the same
   * key, so it can find what the action did even when the action's output never arrived.
   */
  readonly key: string;
}

/** A step: an action (an activity call) and, optionally, its undo (an activity call). */
export interface StepDefinition<T> {
  /** Does the step's work; must be idempotent under `ctx.key`. Its result is the step's output. */
  readonly action: (ctx: StepContext) => Promise<T>;
  /**
   * Reverses the action; must be idempotent and succeed when the action never took effect.
   * Registered before the action is attempted, so a failed action is undone too. Not allowed
   * after {@link Saga.pivot}.
   */
  readonly undo?: (ctx: StepContext) => Promise<unknown>;
}

/** One member of a parallel group: it runs its steps on `group` (never on the saga itself). */
export type GroupMember<T> = (group: SagaScope) => Promise<T>;

/** The results of a parallel group, member by member. */
export type GroupResults<M extends readonly GroupMember<unknown>[]> = {
  -readonly [K in keyof M]: M[K] extends GroupMember<infer R> ? R : never;
};

/** Where steps run: the saga itself, or one member of a parallel group. */
export interface SagaScope {
  /**
   * Runs a step: registers its undo, then runs its action.
   *
   * A failed action is handled by its failure class (DESIGN.md, "Failure taxonomy"): refused,
   * transient-exhausted or unclassified failures unwind the saga (before the pivot);
   * `NeedsOperator` and `UnknownState` — and every failure after the pivot — pause the saga
   * until an operator sends `retry` (or `unwind`, before the pivot).
   * @returns the action's result.
   * @throws an `ApplicationFailure` of type `SagaStepFailed` (cause: the action's failure) when
   *   the saga must unwind; let it propagate, {@link runSaga} unwinds. `SagaStepNotStarted` when
   *   the saga will not go on (a sibling failed, it unwinds, a cancellation stops it): nothing
   *   was registered. `InvalidSaga` for a duplicate step name or an undo after the pivot.
   */
  step<T>(name: string, definition: StepDefinition<T>): Promise<T>;
  /**
   * Runs the members together. If one fails, the others start no new step; the steps they have
   * in flight settle (one waiting for an operator is released), then the failure propagates and
   * the saga unwinds; each member's steps are undone last-first, the members in parallel.
   * @param name the group's name, unique among the saga's step and group names.
   * @returns each member's result, in the order of `members`.
   */
  parallel<const M extends readonly GroupMember<unknown>[]>(name: string, members: M): Promise<GroupResults<M>>;
}

/** The saga, as its body sees it. */
export interface Saga extends SagaScope {
  /** The saga's type, e.g. `diskCreate`. */
  readonly sagaType: string;
  /** The workflow id: the prefix of every idempotency key. */
  readonly workflowId: string;
  /** True once {@link Saga.pivot} was called. */
  readonly pivoted: boolean;
  /**
   * The point of no return: nothing registered before it is ever undone, steps after it may not
   * declare undos, a failure after it pauses the saga for an operator `retry` (never unwinds),
   * and a cancellation request no longer stops the saga (it finishes forward), unless the saga
   * is {@link RunSagaOptions.stoppable}.
   * @throws `InvalidSaga` when called twice or while steps are in flight; a cancellation when
   *   the saga was cancelled before it reached the pivot (it unwinds instead).
   */
  pivot(): void;
  /**
   * Asks people for approval, as a step named `name`: notifies the approvers, reminds them every
   * `remindEvery`, escalates after `escalateAfter`, expires after `expireAfter` into `onExpire`.
   * The saga's state is `awaiting-approval` meanwhile; `approveUpdate` / `rejectUpdate` decide.
   * @returns the approval (also when an expiry resolved to `approve`).
   * @throws `SagaStepFailed` (cause: `ApprovalRejected`) when rejected or expired into `reject`:
   *   the saga unwinds. Cancelling the saga while it waits unwinds it too.
   */
  awaitApproval(name: string, options: ApprovalOptions): Promise<ApprovalResult>;
  /**
   * Publishes progress under `name` in the status (`reports`), e.g. how many of a sled's
   * instances are migrated. JSON values only; the latest value per name is kept.
   */
  report(name: string, value: unknown): void;
  /**
   * What the next run needs to continue this saga when the workflow continues as new: carry it
   * in the continue-as-new input and pass it back as {@link RunSagaOptions.continues}. Read it
   * just before continuing (it names the last wait begun so far).
   *
   * Continue-as-new ends this run: its steps, waits and decisions stay in its history, and the
   * next run starts with none. A wait still open is dropped; to keep asking, the saga carries
   * what it waited on and asks again in the next run (the firmware rollout re-opens its
   * operator escalations so).
   */
  continuation(): SagaContinuation;
}

/** Options of {@link runSaga}. Activity retry profiles belong to the saga's activity proxies, not here. */
export interface RunSagaOptions {
  /**
   * Tells an operator the saga paused (`needs-operator` or `stuck`). Best effort: the saga waits
   * whether or not the notification got through. Default: the activity named `notifyOperator`
   * (src/activities/notify-operator.ts) on the workflow's task queue, 30 s per attempt, retried
   * for up to 10 minutes.
   */
  readonly notifyOperator?: (notification: OperatorNotification) => Promise<void>;
  /**
   * For long-running forward-only sagas (a firmware rollout): after the pivot, a cancellation
   * request stops the saga at a safe point — no new step starts, the steps in flight settle (one
   * waiting for an operator is released), and the workflow ends cancelled with its reports in
   * the outcome. Without it, a saga past its pivot finishes forward whatever is requested.
   */
  readonly stoppable?: boolean;
  /**
   * This run continues an earlier run of the saga's workflow (continue-as-new): what that run's
   * {@link Saga.continuation} returned. Its waits are numbered after the earlier run's last, so
   * a wait number stays unambiguous across runs: a decision naming a wait of an earlier run is
   * refused (saying so), never applied to a wait of this one.
   */
  readonly continues?: SagaContinuation;
}

/** Progress (UnwindStep, UnwindProgressAt) is upserted on a step start at most this often, besides state changes. */
const PROGRESS_UPSERT_INTERVAL_MS = 60_000;

const notifyProfile = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute' },
} as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type StepRecord = Mutable<StepStatus>;
type Branch = StepStatus['branch'];

type StackEntry =
  | { readonly kind: 'step'; readonly record: StepRecord; readonly ctx: StepContext; readonly undo: (ctx: StepContext) => Promise<unknown> }
  | { readonly kind: 'group'; readonly name: string; readonly members: StackEntry[][] };

interface Wait extends Mutable<WaitingFor> {
  decision?: SagaDecision;
}

/** Where the run is; `stopping`: a stoppable saga past its pivot lets its steps in flight settle. */
type Phase = 'running' | 'unwinding' | 'stopping' | 'completed' | 'unwound' | 'cancelled' | 'failed';

const now = (): string => new Date().toISOString();

function invalidSaga(message: string, step: string | null): ApplicationFailure {
  return ApplicationFailure.create({ type: SagaFailureType.InvalidSaga, message, nonRetryable: true, details: [{ step }] });
}

function stepFailed(step: string, cause: unknown): ApplicationFailure {
  const summary = describeFailure(cause);
  return ApplicationFailure.create({
    type: SagaFailureType.StepFailed,
    message: `step "${step}" failed: ${summary.type}: ${summary.message}`,
    nonRetryable: true,
    details: [{ step }],
    cause: cause instanceof Error ? cause : undefined,
  });
}

function isWrapper(err: unknown): boolean {
  return (
    err instanceof ActivityFailure ||
    err instanceof ChildWorkflowFailure ||
    (err instanceof ApplicationFailure && err.type === SagaFailureType.StepFailed)
  );
}

/**
 * A failure as data: the first error of the cause chain that is not a wrapper
 * (`ActivityFailure`, `ChildWorkflowFailure`, `SagaStepFailed`). An `ApplicationFailure` gives its
 * `type`, a cancellation `Cancelled` (naming the child workflow or activity that was cancelled),
 * anything else its error name.
 */
export function describeFailure(err: unknown): ErrorSummary {
  const chain = causeChain(err);
  const essential = chain.find((e) => !isWrapper(e)) ?? chain.at(-1);
  if (isCancellation(essential)) return { type: 'Cancelled', message: `${cancelledWhat(chain)} was cancelled` };
  if (essential instanceof ApplicationFailure) return { type: essential.type ?? 'Error', message: essential.message };
  if (essential instanceof Error) return { type: essential.name, message: essential.message };
  return { type: 'Error', message: String(essential) };
}

function cancelledWhat(chain: unknown[]): string {
  for (const e of chain) {
    if (e instanceof ChildWorkflowFailure) return `child workflow ${e.execution.workflowId}`;
    if (e instanceof ActivityFailure) return `activity ${e.activityType}`;
  }
  return 'the step';
}

function stepOf(err: unknown): string | null {
  for (const e of causeChain(err)) {
    if (e instanceof ApplicationFailure && (e.type === SagaFailureType.StepFailed || e.type === SagaFailureType.InvalidSaga)) {
      const step = (e.details?.[0] as { step?: unknown } | undefined)?.step;
      return typeof step === 'string' ? step : null;
    }
  }
  return null;
}

function readFaults(): ResolvedSagaFaults {
  const raw = workflowInfo().memo?.[FAULTS_MEMO_KEY];
  const parsed = SagaFaults.safeParse(raw ?? {});
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: SagaFailureType.InvalidFaults,
      nonRetryable: true,
      message: `memo "${FAULTS_MEMO_KEY}" is not valid: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}. Fix the memo and start the saga again.`,
    });
  }
  return parsed.data;
}

const injectedType = { refused: FailureType.Refused, 'needs-operator': FailureType.NeedsOperator, 'unknown-state': FailureType.UnknownState } as const;

class Scope implements SagaScope {
  constructor(
    protected readonly run: SagaRun,
    readonly stack: StackEntry[],
    readonly group: string | null,
    readonly branch: Branch,
    private readonly groupState: { failed: boolean } | null,
    private readonly parent: Scope | null,
  ) {}

  /** True when a sibling in an enclosing parallel group failed: the saga will unwind. */
  doomed(): boolean {
    return (this.groupState?.failed ?? false) || (this.parent?.doomed() ?? false);
  }

  step<T>(name: string, definition: StepDefinition<T>): Promise<T> {
    return this.run.runStep(this, name, definition);
  }

  parallel<const M extends readonly GroupMember<unknown>[]>(name: string, members: M): Promise<GroupResults<M>> {
    return this.run.runParallel(this, name, members) as Promise<GroupResults<M>>;
  }
}

class RootScope extends Scope implements Saga {
  get sagaType(): string {
    return this.run.sagaType;
  }
  get workflowId(): string {
    return this.run.workflowId;
  }
  get pivoted(): boolean {
    return this.run.pivoted;
  }
  pivot(): void {
    this.run.pivot();
  }
  awaitApproval(name: string, options: ApprovalOptions): Promise<ApprovalResult> {
    return this.run.awaitApproval(name, options);
  }
  report(name: string, value: unknown): void {
    this.run.reports[name] = value;
  }
  continuation(): SagaContinuation {
    return this.run.continuation();
  }
}

/** One saga execution: its stack, records, waits and decisions. The workflow function only wires it. */
class SagaRun {
  readonly workflowId = workflowInfo().workflowId;
  pivoted = false;
  private faults: ResolvedSagaFaults = SagaFaults.parse({});
  private readonly notify: (notification: OperatorNotification) => Promise<void>;
  private readonly root: RootScope;
  private readonly names = new Set<string>();
  private readonly records: StepRecord[] = [];
  private readonly waits: Wait[] = [];
  private readonly waitBook: WaitBook;
  /** Why the saga cannot run as asked (an invalid option), thrown when it starts: it ends `failed`. */
  private readonly setupError: ApplicationFailure | undefined;
  private readonly decisions: SagaDecision[] = [];
  private readonly approvals: ApprovalDesk;
  readonly reports: Record<string, unknown> = {};
  private readonly undone: string[] = [];
  private readonly skipped: SkippedUndo[] = [];
  /** Steps started and not yet settled, whether or not the body awaits them. */
  private readonly inFlight = new Map<Promise<unknown>, string>();
  private phase: Phase = 'running';
  /** Where the body runs: cancelled by a cancellation request only while the request may stop the saga. */
  private bodyScope: CancellationScope | undefined;
  private cancelRequest: CancelRequest | undefined;
  /** The steps in flight when a cancellation request came: what it interrupted. */
  private inFlightAtCancel: string[] = [];
  private published: { state: SagaState; step: string | null; at: number } | undefined;
  /** True once UnwindSaga was upserted (with the first state). */
  private sagaPublished = false;
  /** The search attributes published and not yet upserted (lean: one upsert per workflow task). */
  private unsent: { state: SagaState; step: string | null; at: Date; error: string | null } | undefined;
  /**
   * Set by the first approval of a new execution ({@link LEAN_APPROVAL_PATCH}): from then on the
   * search attributes are upserted once per workflow task, not once per state change. Executions
   * that began an approval before the patch never set it, and replay as they ran.
   */
  private lean = false;
  /** Calls due at the end of the current workflow task (see {@link atEndOfTask}). */
  private endOfTask: (() => void)[] = [];
  /** The saga returned or threw: calls due at the end of the task are dropped (they would follow the workflow's last command). */
  private ended = false;
  /** The failure the saga unwound from, for `UnwindError`. */
  private unwoundBy: string | undefined;

  constructor(
    readonly sagaType: string,
    private readonly options: RunSagaOptions,
  ) {
    if (typeof sagaType !== 'string' || sagaType.length === 0) throw invalidSaga('runSaga needs a saga type, e.g. "diskCreate".', null);
    this.notify = options.notifyOperator ?? proxyActivities<OperatorActivities>(notifyProfile).notifyOperator;
    this.root = new RootScope(this, [], null, [], null, null);
    const continues = SagaContinuation.safeParse(options.continues ?? { lastWaitId: 0 });
    this.waitBook = new WaitBook(continues.success ? continues.data.lastWaitId : 0);
    this.setupError = continues.success
      ? undefined
      : invalidSaga(
          `runSaga option "continues" is not a continuation: ${continues.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}; ` +
            'pass what saga.continuation() returned in the run that continued as new.',
          null,
        );
    this.approvals = new ApprovalDesk(this, this.waitBook, (step: string) => this.publish(step), { atEndOfTask: (fn) => this.atEndOfTask(fn) });
    setHandler(sagaStatusQuery, () => this.status());
    for (const [definition, kind] of [[approveUpdate, 'approve'], [rejectUpdate, 'reject']] as const) {
      setHandler(definition, (input) => this.approvals.decide(kind, input), {
        validator: (input) => void this.approvals.validate(kind, input),
      });
    }
    const updates = [
      [retryUpdate, 'retry'],
      [skipUpdate, 'skip'],
      [unwindUpdate, 'unwind'],
    ] as const;
    for (const [definition, action] of updates) {
      setHandler(definition, (input) => this.decide(action, input), {
        validator: (input) => void this.target(action, input),
      });
    }
    // The workflow's own scope hears the request; the body's scope is cancelled only if the request may stop the saga.
    CancellationScope.current().cancelRequested.catch(() => this.onCancelRequest());
    this.publish(null);
  }

  async execute<T>(body: (saga: Saga) => Promise<T>): Promise<T> {
    try {
      return await this.executeBody(body);
    } finally {
      // Whatever ended the run (a result, a failure, continue-as-new): what was published is sent now, before the workflow's last command.
      this.flushPublish();
      this.ended = true;
    }
  }

  private async executeBody<T>(body: (saga: Saga) => Promise<T>): Promise<T> {
    try {
      if (this.setupError) throw this.setupError;
      this.faults = readFaults();
      const result = await CancellationScope.nonCancellable(() => {
        this.bodyScope = new CancellationScope();
        return this.bodyScope.run(() => body(this.root));
      });
      // The last step may have completed in the activation that brought the request.
      if (this.cancelRequest?.effect === 'unwinds') throw new CancelledFailure('cancelled by request');
      this.phase = 'completed';
      this.publish(this.records.at(-1)?.name ?? null);
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      if (this.cancelRequest?.effect === 'stops') return this.stop();
      if (this.pivoted || err === this.setupError || (err instanceof ApplicationFailure && err.type === SagaFailureType.InvalidFaults)) {
        // Past the pivot nothing may be undone: an error that still gets here (a bug in the
        // saga's own code) ends the workflow as it is, and says so.
        this.phase = 'failed';
        this.unwoundBy = describeFailure(err).type;
        this.publish(this.records.at(-1)?.name ?? null);
        throw err;
      }
      return this.unwind(err);
    }
  }

  status(): SagaStatus {
    const waiting = this.waits.map(({ decision: _decision, ...w }) => ({ ...w, actions: [...w.actions], error: { ...w.error } }));
    return {
      sagaType: this.sagaType,
      workflowId: this.workflowId,
      state: this.state(),
      pivoted: this.pivoted,
      waitingFor: waiting[0] ?? null,
      waiting,
      steps: this.records.map((r) => ({ ...r, branch: r.branch.map((b) => ({ ...b })), lastError: r.lastError ? { ...r.lastError } : null })),
      decisions: this.decisions.map((d) => ({ ...d })),
      pendingApproval: this.approvals.current(),
      approvals: this.approvals.history(),
      reports: JSON.parse(JSON.stringify(this.reports)) as Record<string, unknown>,
      cancelRequested: this.cancelRequest ? { ...this.cancelRequest } : null,
    };
  }

  continuation(): SagaContinuation {
    return { lastWaitId: this.waitBook.lastId() };
  }

  async awaitApproval(name: string, options: ApprovalOptions): Promise<ApprovalResult> {
    // Asked before the step's first command, so a history without the marker replays the older path.
    this.lean ||= patched(LEAN_APPROVAL_PATCH);
    return this.runStep(this.root, name, {
      action: async () => {
        const result = await this.approvals.await(name, options, this.lean);
        if (result.approved) return result;
        const how = result.outcome === 'expired' ? 'expired without a decision' : `was rejected by ${result.by}`;
        throw ApplicationFailure.create({
          type: SagaFailureType.ApprovalRejected,
          nonRetryable: true,
          message: `approval "${options.request}" ${how}${result.comment ? `: ${result.comment}` : ''}`,
          details: [result],
        });
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
    if (refusal !== undefined) {
      return Promise.reject(
        ApplicationFailure.create({
          type: SagaFailureType.StepNotStarted,
          nonRetryable: true,
          message: `step "${name}" was not started: ${refusal}`,
          details: [{ step: name }],
        }),
      );
    }
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
    const record: StepRecord = {
      name,
      group: scope.group,
      branch: scope.branch,
      undoable: definition.undo !== undefined,
      afterPivot,
      state: 'pending',
      attempts: 0,
      undoAttempts: 0,
      lastError: null,
      startedAt: null,
      finishedAt: null,
      undoStartedAt: null,
      undoFinishedAt: null,
    };
    this.records.push(record);
    const ctx: StepContext = Object.freeze({ step: name, key: idempotencyKey(this.workflowId, name) });
    // Registered before the action runs: an action that fails, or times out after its effect
    // applied, is still undone.
    if (definition.undo) scope.stack.push({ kind: 'step', record, ctx, undo: definition.undo });
    this.noteProgress(name);
    return this.attemptStep(scope, record, ctx, definition.action, afterPivot);
  }

  async runParallel(scope: Scope, name: string, members: readonly GroupMember<unknown>[]): Promise<unknown[]> {
    const refusal = this.whyNotStart(scope);
    if (refusal !== undefined) {
      throw ApplicationFailure.create({
        type: SagaFailureType.StepNotStarted,
        nonRetryable: true,
        message: `parallel group "${name}" was not started: ${refusal}`,
        details: [{ step: name }],
      });
    }
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
    let inject = this.faults.failStep === record.name;
    for (;;) {
      record.state = 'running';
      record.startedAt ??= now();
      try {
        const result = await this.invokeAction(record, ctx, action, inject);
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
        const decision = await this.waitForOperator(record, 'action', afterPivot ? ['retry'] : ['retry', 'unwind'], err, () =>
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

  private async invokeAction<T>(record: StepRecord, ctx: StepContext, action: (ctx: StepContext) => Promise<T>, inject: boolean): Promise<T> {
    if (inject && this.faults.failWhen === 'before') throw this.injectedFailure(record.name);
    const times = repeatCount(this.faults.repeatActions, record.name);
    let result: T | undefined;
    for (let i = 0; i < times; i++) {
      record.attempts++;
      result = await action(ctx);
    }
    if (inject) throw this.injectedFailure(record.name);
    // Held in flight, its effect applied, until the saga is cancelled (the harness's cancellation mode).
    if (this.faults.holdStep === record.name) await condition(() => false);
    return result as T;
  }

  private injectedFailure(step: string): ApplicationFailure {
    return ApplicationFailure.create({
      type: injectedType[this.faults.failAs],
      nonRetryable: true,
      message: `fault injected by memo ${FAULTS_MEMO_KEY}: step "${step}" fails ${this.faults.failWhen} its action (${this.faults.failAs})`,
      details: [{ injected: true, failWhen: this.faults.failWhen, failAs: this.faults.failAs }],
    });
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
    this.publish(failedStep);
    // Cancelling a saga unwinds it; it never abandons the unwinding. Steps still in flight
    // settle first: an undo never runs while its own action may still apply.
    await CancellationScope.nonCancellable(async () => {
      await this.settleInFlight();
      await this.unwindStack(this.root.stack);
    });
    const details: SagaUnwoundDetails = { failedStep, cause, undone: [...this.undone], skipped: [...this.skipped] };
    const summary = `${details.undone.length} undone, ${details.skipped.length} skipped`;
    if (cancelled) {
      return this.endCancelled(details, `saga ${this.sagaType} ${this.workflowId} was cancelled and unwound: ${summary}`, failedStep);
    }
    this.phase = 'unwound';
    this.publish(failedStep);
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
    this.publish(step);
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

  private async unwindStack(stack: readonly StackEntry[]): Promise<void> {
    for (let i = stack.length - 1; i >= 0; i--) {
      const entry = stack[i];
      if (entry === undefined) continue;
      if (entry.kind === 'step') await this.undoStep(entry);
      else await Promise.all(entry.members.map((member) => this.unwindStack(member)));
    }
  }

  private async undoStep(entry: Extract<StackEntry, { kind: 'step' }>): Promise<void> {
    const { record, ctx, undo } = entry;
    record.undoStartedAt ??= now();
    for (;;) {
      record.state = 'undoing';
      try {
        const times = repeatCount(this.faults.repeatUndos, record.name);
        for (let i = 0; i < times; i++) {
          record.undoAttempts++;
          await undo(ctx);
        }
        record.state = 'undone';
        record.undoFinishedAt = now();
        this.undone.push(record.name);
        return;
      } catch (err) {
        // Transient failures never get here (the undo profile retries without limit): this one is
        // permanent, so a person decides. Nothing is dropped silently.
        record.state = 'undo-failed';
        record.undoFinishedAt = now();
        record.lastError = describeFailure(err);
        const decision = await this.waitForOperator(record, 'undo', ['retry', 'skip'], err, () => undefined);
        if (decision?.action === 'skip') {
          record.state = 'skipped';
          this.skipped.push({ step: record.name, key: ctx.key, reason: decision.reason, operator: decision.operator });
          return;
        }
      }
    }
  }

  /**
   * Waits for an operator's decision on `record`, or until `released()` says why the wait ends
   * without one. Either way the wait's identity is closed with how it ended.
   */
  private async waitForOperator(
    record: StepRecord,
    phase: WaitingFor['phase'],
    actions: OperatorAction[],
    err: unknown,
    released: () => string | undefined,
  ): Promise<SagaDecision | undefined> {
    const wait: Wait = { step: record.name, waitId: this.waitBook.open(record.name, 'operator'), phase, actions, since: now(), error: describeFailure(err) };
    this.waits.push(wait);
    this.publish(record.name);
    // Best effort, and concurrent with the wait: an operator may act before it is delivered.
    void this.notifySafely(wait);
    try {
      await condition(() => wait.decision !== undefined || released() !== undefined);
      return wait.decision;
    } finally {
      const d = wait.decision;
      const how = d ? `was already decided: ${d.action} by ${d.operator} at ${d.at}` : `ended without a decision: ${released() ?? 'the saga was cancelled'}`;
      this.waitBook.close(wait.waitId, how);
      this.waits.splice(this.waits.indexOf(wait), 1);
      this.publish(record.name);
    }
  }

  private async notifySafely(wait: Wait): Promise<void> {
    try {
      await this.notify({
        sagaType: this.sagaType,
        workflowId: this.workflowId,
        state: wait.phase === 'undo' ? 'stuck' : 'needs-operator',
        step: wait.step,
        actions: [...wait.actions],
        error: { ...wait.error },
        at: wait.since,
      });
    } catch (err) {
      if (isCancellation(err)) return;
      log.warn('could not notify an operator; the saga waits regardless', {
        workflowId: this.workflowId,
        step: wait.step,
        error: describeFailure(err),
      });
    }
  }

  /** The wait an operator action applies to. Throws (refusing the update) when there is none. */
  private target(action: OperatorAction, input: unknown): { wait: Wait; input: OperatorDecisionInput } {
    const refuse = (why: string) =>
      ApplicationFailure.create({
        type: SagaFailureType.InvalidOperatorAction,
        nonRetryable: true,
        message: `${action} refused for saga ${this.sagaType} ${this.workflowId}: ${why}`,
      });
    const parsed = OperatorDecisionInput.safeParse(input);
    if (!parsed.success) {
      throw refuse(`${parsed.error.issues.map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`).join('; ')}.`);
    }
    const { step: named, waitId } = parsed.data;
    const open = this.waits.filter((w) => w.decision === undefined);
    const list = open.map((w) => `"${w.step}" (wait ${w.waitId}: ${w.actions.join('/')})`).join(', ');
    let wait: Wait | undefined;
    if (waitId !== undefined) {
      const why = this.waitBook.refusal(waitId, 'operator');
      wait = open.find((w) => w.waitId === waitId);
      if (why !== undefined || wait === undefined) throw refuse(`${why ?? `wait ${waitId} is not open`}.`);
      if (named !== undefined && named !== wait.step) throw refuse(`wait ${waitId} is on step "${wait.step}", not "${named}".`);
    } else {
      if (open.length === 0) throw refuse(`the saga is ${this.state()} and no step waits for an operator.`);
      const candidates = named === undefined ? open : open.filter((w) => w.step === named);
      if (candidates.length === 0) throw refuse(`step "${named}" does not wait for an operator; waiting: ${list}.`);
      if (candidates.length > 1) throw refuse(`${open.length} steps wait: ${list}; name one with \`step\` or \`waitId\`.`);
      wait = candidates[0]!;
    }
    if (!wait.actions.includes(action)) {
      const why = this.pivoted && wait.phase === 'action' ? ': the saga passed its pivot and only goes forward' : '';
      throw refuse(`step "${wait.step}" waits for ${wait.actions.join(' or ')}, not ${action}${why}.`);
    }
    return { wait, input: parsed.data };
  }

  private decide(action: OperatorAction, raw: OperatorDecisionInput): SagaDecision {
    const { wait, input } = this.target(action, raw);
    const decision: SagaDecision = { action, operator: input.operator, reason: input.reason, step: wait.step, waitId: wait.waitId, at: now() };
    wait.decision = decision;
    this.decisions.push(decision);
    return { ...decision };
  }

  private state(): SagaState {
    switch (this.phase) {
      case 'completed':
      case 'failed':
        return this.phase;
      // An unwind that skipped an undo is not clean, whatever unwound it: its residue is what a
      // person must clean up, so it wins over `cancelled` (the workflow still ends CANCELED).
      case 'unwound':
      case 'cancelled':
        return this.skipped.length > 0 ? 'unwound-with-residue' : this.phase;
      case 'unwinding':
        return this.waits.length > 0 ? 'stuck' : 'unwinding';
      case 'stopping':
      case 'running':
        if (this.waits.length > 0) return 'needs-operator';
        return this.approvals.current() ? 'awaiting-approval' : 'running';
    }
  }

  /**
   * Upserts UnwindState, UnwindStep and UnwindProgressAt when the state or its step changed
   * (or when `force`): history gets one event per state change, not one per step. Once lean
   * (an approval asked by a new execution), the upsert waits for the end of the workflow task
   * and carries its last state — one event per workflow task — except a final state, sent at
   * once, before the workflow's last command.
   */
  private publish(step: string | null, force = false): void {
    const state = this.state();
    if (!force && this.published?.state === state && this.published.step === step) return;
    const at = new Date();
    this.published = { state, step, at: at.getTime() };
    // The error a person should know of: what the saga waits on, else what unwound it.
    const error = this.waits[0]?.error.type ?? this.unwoundBy ?? null;
    this.unsent = { state, step, at, error };
    const final = this.phase === 'completed' || this.phase === 'unwound' || this.phase === 'cancelled' || this.phase === 'failed';
    if (!this.lean || final) this.flushPublish();
    else this.atEndOfTask(() => this.flushPublish());
  }

  private flushPublish(): void {
    const unsent = this.unsent;
    if (unsent === undefined) return;
    this.unsent = undefined;
    const first = !this.sagaPublished;
    this.sagaPublished = true;
    upsertSearchAttributes([
      ...(first ? [{ key: UnwindSaga, value: this.sagaType }] : []),
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
  private atEndOfTask(fn: () => void): void {
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
  private noteProgress(step: string): void {
    const last = this.published?.at ?? 0;
    if (Date.now() - last >= PROGRESS_UPSERT_INTERVAL_MS) this.publish(step, true);
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
