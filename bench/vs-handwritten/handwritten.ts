/**
 * The baseline of the vs-handwritten bench: a hand-written Temporal saga in the
 * compensation-array style. After each activity that succeeds it pushes that activity's
 * compensation; on a failure it runs the compensations in reverse inside the catch, then
 * rethrows. Plain `proxyActivities`, with retry policies written out to match unwind's
 * `oneShot` (actions) and `undo` (compensations) profiles. The parked variant waits for an
 * `approve` signal, with a timer for the approval's expiry.
 *
 * Workflow code: no Node built-ins.
 */
import { ActivityCancellationType, ApplicationFailure, condition, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import type { TrivialActivities } from './activities';
import { makePlan, type VsSagaInput } from './plan';

/** Approves a parked hand-written saga. */
export const approveSignal = defineSignal<[{ approver: string; comment?: string }]>('approve');

const nonRetryableErrorTypes = ['Refused', 'NeedsOperator', 'UnknownState'];

/** Actions: 5 attempts within 2 minutes, as unwind's `oneShot`. */
const action = proxyActivities<Activities & TrivialActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

/** Compensations: retried without limit, as unwind's `undo`. */
const undo = proxyActivities<Activities & TrivialActivities>({
  startToCloseTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
});

/** The hand-written saga: the same 10 steps as `unwindVsSaga`, compensated from an array. */
export async function handwrittenVsSaga(input: VsSagaInput): Promise<{ set: string; outputs: number }> {
  const { workflowId } = workflowInfo();
  if (input.park) {
    let approval: { approver: string } | undefined;
    setHandler(approveSignal, (decision) => void (approval ??= decision));
    if (!(await condition(() => approval !== undefined, input.park.expireAfter))) {
      throw ApplicationFailure.create({ type: 'ApprovalExpired', nonRetryable: true, message: `approval of ${input.name} expired` });
    }
  }
  const plan = makePlan(input, { action, undo });
  const compensations: (() => Promise<unknown>)[] = [];
  try {
    for (const step of plan.sequence) {
      const key = `${workflowId}/${step.name}`;
      await step.action(key);
      compensations.push(() => step.undo(key));
    }
    const settled = await Promise.allSettled(
      plan.parallel.map(async (step) => {
        const key = `${workflowId}/${step.name}`;
        await step.action(key);
        compensations.push(() => step.undo(key));
      }),
    );
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return plan.result();
  } catch (err) {
    for (const compensate of compensations.reverse()) await compensate();
    throw err;
  }
}
