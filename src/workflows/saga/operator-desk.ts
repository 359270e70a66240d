/**
 * Operator waits: a step whose action failed in a way a person must judge (`needs-operator`), or
 * whose undo failed permanently (`stuck`), waits here for an operator's `retry`, `skip` or
 * `unwind`. The desk opens the wait (numbered by the saga's WaitBook), tells an operator (best
 * effort, through the notify contract, ./notify.ts), validates each decision against the wait it
 * names — a decision for a wait that ended is refused with how it ended, never applied to a later
 * one — and records it. Owned by one saga run, like the approval desk (./approval.ts): the run
 * says what waits, the desk handles the updates that decide.
 */
import { condition, isCancellation, log, proxyActivities, setHandler } from '@temporalio/workflow';
import {
  type OperatorAction,
  OperatorDecisionInput,
  type OperatorNotification,
  type SagaDecision,
  type SagaState,
  type WaitingFor,
} from '../../schemas/saga';
import { formatIssues } from '../../schemas/validation';
import { now } from './clock';
import { decisionRefused, describeFailure } from './failures';
import { retryUpdate, skipUpdate, unwindUpdate } from './messages';
import { notifyProfile, type OperatorActivities } from './notify';
import type { Mutable } from './stack';
import type { WaitBook } from './waits';

interface Wait extends Mutable<WaitingFor> {
  decision?: SagaDecision;
}

/** What the run lends its operator desk. */
export interface OperatorDeskHooks {
  /** The saga's state, named when a decision comes and no step waits. */
  state(): SagaState;
  /** Tells an operator a wait began; default the `notifyOperator` activity ({@link notifyProfile}). */
  notifyOperator?: (notification: OperatorNotification) => Promise<void>;
}

/** The steps that wait for an operator, and the decisions taken. Owned by one saga run. */
export class OperatorDesk {
  /** Open waits, oldest first. */
  private readonly open: Wait[] = [];
  private readonly decisions: SagaDecision[] = [];
  private readonly notify: (notification: OperatorNotification) => Promise<void>;

  constructor(
    private readonly saga: { readonly sagaType: string; readonly workflowId: string; readonly pivoted: boolean },
    /** Numbers the saga's waits; an operator wait is one. */
    private readonly waits: WaitBook,
    /** Called when a step starts or stops waiting: the saga's state changes. */
    private readonly changed: (step: string) => void,
    private readonly hooks: OperatorDeskHooks,
  ) {
    this.notify = hooks.notifyOperator ?? proxyActivities<OperatorActivities>(notifyProfile).notifyOperator;
  }

  /** Installs the `retry`, `skip` and `unwind` updates: {@link target} validates, {@link decide} records. */
  handleUpdates(): void {
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
  }

  /** How many steps wait for an operator. */
  waitingCount(): number {
    return this.open.length;
  }

  /** The error of the oldest wait: what the saga waits on (`UnwindError`). */
  firstError(): string | undefined {
    return this.open[0]?.error.type;
  }

  /** The open waits as the status shows them, oldest first. */
  waiting(): WaitingFor[] {
    return this.open.map(({ decision: _decision, ...w }) => ({ ...w, actions: [...w.actions], error: { ...w.error } }));
  }

  /** The decisions taken, in order. */
  history(): SagaDecision[] {
    return this.decisions.map((d) => ({ ...d }));
  }

  /**
   * Waits for an operator's decision on `step`, or until `released()` says why the wait ends
   * without one. Either way the wait's identity is closed with how it ended.
   */
  async wait(
    step: string,
    phase: WaitingFor['phase'],
    actions: OperatorAction[],
    err: unknown,
    released: () => string | undefined,
  ): Promise<SagaDecision | undefined> {
    const wait: Wait = { step, waitId: this.waits.open(step, 'operator'), phase, actions, since: now(), error: describeFailure(err) };
    this.open.push(wait);
    this.changed(step);
    // Best effort, and concurrent with the wait: an operator may act before it is delivered.
    void this.notifySafely(wait);
    try {
      await condition(() => wait.decision !== undefined || released() !== undefined);
      return wait.decision;
    } finally {
      const d = wait.decision;
      const how = d ? `was already decided: ${d.action} by ${d.operator} at ${d.at}` : `ended without a decision: ${released() ?? 'the saga was cancelled'}`;
      this.waits.close(wait.waitId, how);
      this.open.splice(this.open.indexOf(wait), 1);
      this.changed(step);
    }
  }

  /** The wait an operator action applies to: the update's validator. Throws (refusing the update) when there is none. */
  target(action: OperatorAction, input: unknown): { wait: Wait; input: OperatorDecisionInput } {
    const refuse = (why: string) => decisionRefused(action, this.saga, why);
    const parsed = OperatorDecisionInput.safeParse(input);
    if (!parsed.success) throw refuse(`${formatIssues(parsed.error, { root: 'argument' })}.`);
    const { step: named, waitId } = parsed.data;
    const open = this.open.filter((w) => w.decision === undefined);
    const list = open.map((w) => `"${w.step}" (wait ${w.waitId}: ${w.actions.join('/')})`).join(', ');
    let wait: Wait | undefined;
    if (waitId !== undefined) {
      const why = this.waits.refusal(waitId, 'operator');
      wait = open.find((w) => w.waitId === waitId);
      if (why !== undefined || wait === undefined) throw refuse(`${why ?? `wait ${waitId} is not open`}.`);
      if (named !== undefined && named !== wait.step) throw refuse(`wait ${waitId} is on step "${wait.step}", not "${named}".`);
    } else {
      if (open.length === 0) throw refuse(`the saga is ${this.hooks.state()} and no step waits for an operator.`);
      const candidates = named === undefined ? open : open.filter((w) => w.step === named);
      if (candidates.length === 0) throw refuse(`step "${named}" does not wait for an operator; waiting: ${list}.`);
      if (candidates.length > 1) throw refuse(`${open.length} steps wait: ${list}; name one with \`step\` or \`waitId\`.`);
      wait = candidates[0]!;
    }
    if (!wait.actions.includes(action)) {
      const why = this.saga.pivoted && wait.phase === 'action' ? ': the saga passed its pivot and only goes forward' : '';
      throw refuse(`step "${wait.step}" waits for ${wait.actions.join(' or ')}, not ${action}${why}.`);
    }
    return { wait, input: parsed.data };
  }

  /** Records a validated decision: the update's handler. The waiting step resolves with it. */
  decide(action: OperatorAction, raw: OperatorDecisionInput): SagaDecision {
    const { wait, input } = this.target(action, raw);
    const decision: SagaDecision = { action, operator: input.operator, reason: input.reason, step: wait.step, waitId: wait.waitId, at: now() };
    wait.decision = decision;
    this.decisions.push(decision);
    return { ...decision };
  }

  private async notifySafely(wait: Wait): Promise<void> {
    try {
      await this.notify({
        sagaType: this.saga.sagaType,
        workflowId: this.saga.workflowId,
        state: wait.phase === 'undo' ? 'stuck' : 'needs-operator',
        step: wait.step,
        actions: [...wait.actions],
        error: { ...wait.error },
        at: wait.since,
      });
    } catch (err) {
      if (isCancellation(err)) return;
      log.warn('could not notify an operator; the saga waits regardless', {
        workflowId: this.saga.workflowId,
        step: wait.step,
        error: describeFailure(err),
      });
    }
  }
}
