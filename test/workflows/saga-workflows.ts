/**
 * Test-only sagas for the engine's tests: a saga built from a plan (steps, parallel groups,
 * a pivot), and a ten-step saga written the way a saga author would.
 */
import { condition, continueAsNew, defineSignal, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type { SagaContinuation } from '../../src/schemas/saga';
import type { LedgerActivities } from '../helpers/ledger';
import { oneShot, reliable, undo } from '../../src/schemas/retry-profiles';
import { runSaga, type ApprovalOptions, type SagaScope } from '../../src/workflows/saga';

export { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from '../../src/workflows/saga';
// Approvals remind their approvers in this child: a worker serving sagas with approvals serves it too.
export { remindPeople } from '../../src/workflows/remind-people';

const oneShotLedger = proxyActivities<LedgerActivities>(oneShot);
const reliableLedger = proxyActivities<LedgerActivities>(reliable);
const undoLedger = proxyActivities<LedgerActivities>(undo);

/**
 * A plan item: a step (with an undo unless `undo: false`), a step started and not awaited
 * (`float`), a step whose action runs a child workflow until it is released (`child`), a
 * parallel group (a member's item may be a nested group), the pivot, an approval, or — once
 * {@link continueSignal} comes — continue-as-new into the plan `next`, carrying the saga's
 * continuation (whatever waits is dropped).
 */
export type PlanItem =
  | { step: string; undo?: boolean }
  | { float: string }
  | { child: string }
  | { group: string; members: Array<Array<string | { group: string; members: string[][] }>> }
  | { pivot: true }
  | { approval: string; options: ApprovalOptions }
  | { continueAsNew: true };

/** Input of {@link plannedSaga}. */
export interface PlannedSagaInput {
  plan: PlanItem[];
  profile?: 'oneShot' | 'reliable';
  /** Run a step with this name twice (to prove the engine refuses duplicates). */
  duplicate?: string;
  /** Run the saga as {@link RunSagaOptions.stoppable}. */
  stoppable?: boolean;
  /** The plan of the run after a `continueAsNew` item. */
  next?: PlanItem[];
  /** Set by a `continueAsNew` item for the next run: {@link RunSagaOptions.continues}. */
  continues?: SagaContinuation;
}

/** Lets a plan's `continueAsNew` item continue as new. */
export const continueSignal = defineSignal('continue');

/** Releases a {@link heldChild}. */
export const releaseSignal = defineSignal('release');

/** A child workflow that runs until it is released (or cancelled). */
export async function heldChild(): Promise<string> {
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => released);
  return 'released';
}

/** Runs the plan; returns each step's output by step name. */
export async function plannedSaga(input: PlannedSagaInput): Promise<Record<string, string>> {
  const ledger = input.profile === 'reliable' ? reliableLedger : oneShotLedger;
  let continueNow = false;
  setHandler(continueSignal, () => void (continueNow = true));
  return runSaga('plannedSaga', async (saga) => {
    const outputs: Record<string, string> = {};
    const step = async (scope: SagaScope, name: string, withUndo = true) => {
      outputs[name] = await scope.step(name, {
        action: (ctx) => ledger.apply({ key: ctx.key }),
        ...(withUndo && { undo: (ctx) => undoLedger.revert({ key: ctx.key }) }),
      });
    };
    const group = (scope: SagaScope, item: { group: string; members: Array<Array<string | { group: string; members: string[][] }>> }) =>
      scope.parallel(
        item.group,
        item.members.map((items) => async (member: SagaScope) => {
          for (const x of items) await (typeof x === 'string' ? step(member, x) : group(member, x));
        }),
      );
    let children = 0;
    for (const item of input.plan) {
      if ('continueAsNew' in item) {
        await condition(() => continueNow);
        const { next, ...rest } = input;
        await continueAsNew<typeof plannedSaga>({ ...rest, plan: next ?? [], continues: saga.continuation() });
      } else if ('pivot' in item) saga.pivot();
      else if ('approval' in item) outputs[item.approval] = (await saga.awaitApproval(item.approval, item.options)).outcome;
      else if ('group' in item) await group(saga, item);
      else if ('float' in item) void step(saga, item.float).catch(() => undefined);
      else if ('child' in item) {
        outputs[item.child] = await saga.step(item.child, {
          action: (ctx) => executeChild(heldChild, { workflowId: `${ctx.key}/attempt-${++children}` }),
        });
      } else await step(saga, item.step, item.undo !== false);
      if (input.duplicate && 'step' in item && item.step === input.duplicate) await step(saga, input.duplicate);
    }
    return outputs;
  }, { stoppable: input.stoppable, continues: input.continues });
}

/** A ten-step saga with a parallel group of three and a pivot, as an author writes one. */
export async function diskCreate(p: { disk: string }): Promise<{ disk: string; regions: string[]; volume: string }> {
  const rack = oneShotLedger;
  const rackUndo = undoLedger;
  return runSaga('diskCreate', async (saga) => {
    const keyed = { action: (ctx: { key: string }) => rack.apply({ key: ctx.key }), undo: (ctx: { key: string }) => rackUndo.revert({ key: ctx.key }) };
    await saga.step('validate-request', { action: (ctx) => rack.apply({ key: ctx.key }) });
    await saga.step('allocate-ids', keyed);
    await saga.step('reserve-capacity', keyed);
    const regions = await saga.parallel(
      'regions',
      [0, 1, 2].map((i) => (group: SagaScope) => group.step(`ensure-region[${i}]`, keyed)),
    );
    await saga.step('create-volume', keyed);
    const volume = await saga.step('attach-volume', keyed);
    saga.pivot();
    await saga.step('publish-disk', { action: (ctx) => rack.apply({ key: ctx.key }) });
    await saga.step('notify-nexus', { action: (ctx) => rack.apply({ key: ctx.key }) });
    return { disk: p.disk, regions, volume };
  });
}
