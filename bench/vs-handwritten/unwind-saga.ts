/**
 * unwind's side of the vs-handwritten bench: the same 10 steps as `handwrittenVsSaga`, as an
 * unwind saga — `saga.step` ×8, then `saga.parallel` of 2 — with unwind's activity proxies
 * (`rack` / `rackUndo`: the `oneShot` and `undo` profiles). The parked variant asks
 * `saga.awaitApproval` first, decided through the client's `sagas.approve` (the `approve` update).
 *
 * Workflow code: no Node built-ins.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import { oneShot, undo } from '../../src/schemas/retry-profiles';
import { runSaga, type SagaScope } from '../../src/workflows/saga';
import type { TrivialActivities } from './activities';
import { makePlan, type PlannedStep, type VsSagaInput } from './plan';

const proxies = {
  action: proxyActivities<Activities & TrivialActivities>(oneShot),
  undo: proxyActivities<Activities & TrivialActivities>(undo),
};

/** Who may approve a parked bench saga. */
export const BENCH_APPROVER = 'bench';

const asStep = (step: PlannedStep) => ({ action: (ctx: { key: string }) => step.action(ctx.key), undo: (ctx: { key: string }) => step.undo(ctx.key) });

/** The unwind saga: the same 10 steps as the hand-written one. */
export async function unwindVsSaga(input: VsSagaInput): Promise<{ set: string; outputs: number }> {
  return runSaga('unwindVsSaga', async (saga) => {
    if (input.park) {
      await saga.awaitApproval('approve', {
        request: `run bench saga ${input.name}`,
        approvers: [BENCH_APPROVER],
        remindEvery: input.park.remindEvery,
        expireAfter: input.park.expireAfter,
      });
    }
    const plan = makePlan(input, proxies);
    for (const step of plan.sequence) await saga.step(step.name, asStep(step));
    await saga.parallel(
      plan.group,
      plan.parallel.map((step) => (group: SagaScope) => group.step(step.name, asStep(step))),
    );
    return plan.result();
  });
}
