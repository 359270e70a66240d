/**
 * The step stack and unwinding. Every step that declares an undo is pushed on the stack of the
 * scope it runs in (the saga, or one member of a parallel group) before its action is attempted;
 * a group pushes one entry holding a stack per member. Unwinding walks it last-registered-first,
 * a group's members side by side, each member last-first. An undo that fails permanently waits
 * for an operator (`stuck`: retry or skip); a skipped undo is residue, recorded with its key.
 */
import type { ReportDefinition } from '../../schemas/report';
import type { SagaContinuation, SagaDecision, SkippedUndo, StepStatus } from '../../schemas/saga';
import type { ApprovalOptions, ApprovalResult } from './approval';
import { type OperatorQuestion, operatorGate } from './ask-operator';
import { now } from './clock';
import { describeFailure } from './failures';
import type { FaultInjection } from './faults';
import type { OperatorDesk } from './operator-desk';
import type { GroupMember, GroupResults, Saga, SagaScope, StepContext, StepDefinition } from './types';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A step as the run records it (and the status shows it). */
export type StepRecord = Mutable<StepStatus>;
/** The parallel groups and members a step ran in, outermost first. */
export type Branch = StepStatus['branch'];

/** The record of step `name`, about to run in `scope`: pending, nothing attempted. */
export function newStepRecord(name: string, scope: Scope, undoable: boolean, afterPivot: boolean): StepRecord {
  return {
    name,
    group: scope.group,
    branch: scope.branch,
    undoable,
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
}

/** A registered undo, or a parallel group's members' stacks. */
export type StackEntry =
  | { readonly kind: 'step'; readonly record: StepRecord; readonly ctx: StepContext; readonly undo: (ctx: StepContext) => Promise<unknown> }
  | { readonly kind: 'group'; readonly name: string; readonly members: StackEntry[][] };

/** What a scope asks of the saga run it belongs to: the run does the work, a scope says where. */
export interface ScopeOwner {
  readonly sagaType: string;
  readonly workflowId: string;
  readonly pivoted: boolean;
  readonly reports: Record<string, unknown>;
  runStep<T>(scope: Scope, name: string, definition: StepDefinition<T>): Promise<T>;
  runParallel(scope: Scope, name: string, members: readonly GroupMember<unknown>[]): Promise<unknown[]>;
  pivot(): void;
  awaitApproval(name: string, options: ApprovalOptions): Promise<ApprovalResult>;
  continuation(): SagaContinuation;
}

/** Where steps run and their undos are registered: the saga itself, or one member of a parallel group. */
export class Scope implements SagaScope {
  constructor(
    protected readonly run: ScopeOwner,
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

  askOperator(name: string, question: OperatorQuestion): Promise<void> {
    return this.run.runStep(this, name, operatorGate(question));
  }
}

/** The saga's own scope: the `saga` its body is given. */
export class RootScope extends Scope implements Saga {
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
  report<Written>(report: ReportDefinition<unknown, Written>, value: Written): void {
    report.write(this.run.reports, value);
  }
  continuation(): SagaContinuation {
    return this.run.continuation();
  }
}

/** Runs the undos of a stack and keeps what became of them: undone in finishing order, skipped. */
export class Unwinder {
  readonly undone: string[] = [];
  readonly skipped: SkippedUndo[] = [];

  constructor(
    /** Where a permanently failed undo waits for `retry` or `skip`. */
    private readonly operators: Pick<OperatorDesk, 'wait'>,
    /** The run's faults, read when an undo runs (`repeatUndos`). */
    private readonly faults: () => FaultInjection,
  ) {}

  /** Undoes `stack` last-first; a group's members side by side. */
  async unwindStack(stack: readonly StackEntry[]): Promise<void> {
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
        const times = this.faults().undoRepeats(record.name);
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
        const decision: SagaDecision | undefined = await this.operators.wait(record.name, 'undo', ['retry', 'skip'], err, () => undefined);
        if (decision?.action === 'skip') {
          record.state = 'skipped';
          this.skipped.push({ step: record.name, key: ctx.key, reason: decision.reason, operator: decision.operator });
          return;
        }
      }
    }
  }
}
