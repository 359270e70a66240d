/**
 * The saga engine's public types: what a saga's body sees (`Saga`, `SagaScope`), what it
 * declares (`StepDefinition`, `GroupMember`), what its actions are given (`StepContext`) and how
 * it is run (`RunSagaOptions`). Kept apart from the engine's workings so that a saga author
 * reads the whole surface in one place; ./index.ts re-exports them.
 */
import type { ReportDefinition } from '../../schemas/report';
import type { OperatorNotification, SagaContinuation } from '../../schemas/saga';
import type { ApprovalOptions, ApprovalResult } from './approval';
import type { OperatorQuestion } from './ask-operator';

/** What an action and its undo are given. */
export interface StepContext {
  /** The step's name, unique within the saga. */
  readonly step: string;
  /**
   * `<workflowId>/<step>`: the idempotency key to pass to the activity. The undo gets the same
   * key, so it can find what the action did even when the action's output never arrived.
   */
  readonly key: string;
  /**
   * The arguments of an undo that finds the action's effect by its key (see {@link UndoByKey}):
   * `undo: (ctx) => rackUndo.disksDelete(...ctx.undoKey)`.
   */
  readonly undoKey: UndoByKey;
}

/**
 * An undo-by-key call's arguments: `[{ actionKey: <the action's key> }, '<the action's key>/undo']`,
 * the action's key as input and the undo call's own idempotency key.
 */
export type UndoByKey = readonly [input: { readonly actionKey: string }, key: string];

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
  /**
   * Pages an operator and waits, as a step named `name` whose action needs one: the saga is
   * `needs-operator`, the question is the wait's error, and an operator's `retry` answers it
   * (`unwind`, before the pivot, unwinds the saga). A string is asked once: `retry` goes on. A
   * check is run at once and on every `retry`; its question stands until it returns `undefined`.
   * @throws `SagaStepFailed` when the saga unwinds instead, as {@link SagaScope.step} does.
   */
  askOperator(name: string, question: OperatorQuestion): Promise<void>;
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
   * Publishes `value` as `report` in the status (`reports`, under the report's name), e.g. how
   * many of a sled's instances are migrated: typed by the report's schema, which readers parse
   * it with (`defineReport`, src/schemas/report.ts). JSON values only; the latest value per
   * report is kept.
   */
  report<Written>(report: ReportDefinition<unknown, Written>, value: NoInfer<Written>): void;
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
   * (the contract: ./notify.ts; implemented in src/activities/notify-operator.ts) on the
   * workflow's task queue, with `notifyProfile`: 30 s per attempt, retried for up to 10 minutes.
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
