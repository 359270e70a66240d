/**
 * What a person can do to a saga from its page, one entry per action: the form's fields (named
 * as the client's schemas name them, so a refusal of bad input points at the field), what will
 * happen (shown before it is confirmed), and the client call. The answer shown afterwards is the
 * saga's own: its recorded decision, or its refusal in the words `unwind` prints.
 */
import { renderApprovalRecord } from '../cli/approvals';
import type { SagaAction, UnwindClient } from '../client';
import type { OperatorAction } from '../schemas/saga';
import type { SagaView } from './saga-data';

/** A text field of an action's form. */
export interface ActionField {
  /** The field's name in the client's request (`operator`, `reason`, `approver`, …). */
  name: string;
  label: string;
  hint: string;
  multiline?: boolean;
  required: boolean;
  /** The person deciding: filled in with the name given last time. */
  person?: boolean;
}

/** Where an action is aimed: the wait it decides, when it decides one. */
export interface ActionTarget {
  step?: string;
  waitId?: number;
}

/** One action a person can take. */
export interface ActionSpec {
  action: SagaAction;
  title: string;
  submit: string;
  fields: readonly ActionField[];
  /** What will happen, in a sentence, from what the page read of the saga. */
  explain(view: SagaView | null, target: ActionTarget): string;
  /** Sends it; the line that says what the saga recorded. */
  send(client: UnwindClient, workflowId: string, values: Record<string, string>, target: ActionTarget): Promise<string>;
}

const operatorField: ActionField = { name: 'operator', label: 'Your name', hint: 'Recorded with the decision.', required: true, person: true };
const reasonField: ActionField = { name: 'reason', label: 'Reason', hint: 'Why: recorded with the decision, e.g. "sled-3 back online".', multiline: true, required: true };
const approverField: ActionField = { name: 'approver', label: 'Your name', hint: 'Must be one of the approvers the saga lists; recorded with the decision.', required: true, person: true };
const commentField: ActionField = { name: 'comment', label: 'Comment', hint: 'Why: recorded with the decision.', multiline: true, required: false };

const stepText = (target: ActionTarget) => (target.step ? `step "${target.step}"${target.waitId ? ` (wait ${target.waitId})` : ''}` : 'the waiting step');

/** The wait the action decides, as the page read it. */
function phaseOf(view: SagaView | null, target: ActionTarget): 'action' | 'undo' | undefined {
  return view?.status?.waiting.find((w) => w.step === target.step && (target.waitId === undefined || w.waitId === target.waitId))?.phase;
}

function operatorAction(action: OperatorAction, title: string, submit: string, explain: ActionSpec['explain']): ActionSpec {
  return {
    action,
    title,
    submit,
    fields: [operatorField, reasonField],
    explain,
    async send(client, workflowId, values, target) {
      const d = await client.sagas[action](workflowId, { operator: values.operator ?? '', reason: values.reason ?? '', step: target.step, waitId: target.waitId });
      // As `unwind retry|skip|unwind` prints it.
      return `${d.action} recorded on ${workflowId} at step ${d.step} (wait ${d.waitId}) by ${d.operator}: ${d.reason}`;
    },
  };
}

function approvalAction(action: 'approve' | 'reject', title: string, effect: string): ActionSpec {
  return {
    action,
    title,
    submit: title,
    fields: [approverField, commentField],
    explain: (view, target) => {
      const pending = view?.status?.pendingApproval;
      const what = pending ? `"${pending.request}" (${stepText(target)}), which ${pending.approvers.join(' or ')} may decide` : stepText(target);
      return `${title}s ${what}: ${effect}. The saga refuses anyone it does not list, and records nothing then.`;
    },
    async send(client, workflowId, values, target) {
      const record = await client.sagas[action](workflowId, { approver: values.approver ?? '', comment: values.comment || undefined, step: target.step, waitId: target.waitId });
      return renderApprovalRecord(workflowId, record);
    },
  };
}

/** Every action, by name. */
export const ACTIONS: Record<SagaAction, ActionSpec> = {
  retry: operatorAction('retry', 'Retry', 'Retry', (view, target) =>
    phaseOf(view, target) === 'undo'
      ? `Runs the undo of ${stepText(target)} again; if it succeeds, unwinding goes on.`
      : `Runs the action of ${stepText(target)} again; if it succeeds, the saga goes on.`,
  ),
  skip: operatorAction('skip', 'Skip the undo', 'Skip the undo', (_view, target) =>
    `Gives up on the undo of ${stepText(target)}: what its action did stays in the rack, recorded as residue with your name and reason; unwinding goes on and the saga ends unwound-with-residue.`,
  ),
  unwind: operatorAction('unwind', 'Unwind', 'Unwind the saga', (_view, target) =>
    `Gives up on ${stepText(target)} and undoes every step done so far, last first; the saga ends unwound.`,
  ),
  approve: approvalAction('approve', 'Approve', 'the saga goes on'),
  reject: approvalAction('reject', 'Reject', 'before its pivot the saga unwinds'),
  hardwareReplaced: {
    action: 'hardwareReplaced',
    title: 'Report replaced hardware',
    submit: 'Report replaced hardware',
    fields: [
      { name: 'technician', label: 'Your name', hint: 'Must be one of the technicians the replacement lists.', required: true, person: true },
      { name: 'serial', label: 'Serial of the new sled', hint: 'As printed on the hardware; the saga verifies it after powering on.', required: true },
    ],
    explain: () => 'Tells the replacement the new sled is in: the saga powers it on, verifies the serial and re-admits it.',
    async send(client, workflowId, values) {
      const r = await client.sleds.hardwareReplaced(workflowId, { serial: values.serial ?? '', technician: values.technician ?? '' });
      return `reported to ${workflowId}: new hardware serial ${r.serial}, replaced by ${r.technician} (report ${r.report})`;
    },
  },
};

/** True for a name of {@link ACTIONS}. */
export function isSagaAction(name: string): name is SagaAction {
  return Object.hasOwn(ACTIONS, name);
}

/** The path of an action's form for the saga `workflowId`, aimed at `target`. */
export function actionPath(workflowId: string, action: SagaAction, target: Record<string, string | number> = {}): string {
  const query = new URLSearchParams({ id: workflowId, action, ...Object.fromEntries(Object.entries(target).map(([k, v]) => [k, String(v)])) });
  return `/saga/act?${query}`;
}
