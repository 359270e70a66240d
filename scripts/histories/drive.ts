/**
 * Driving a recording: waiting for a saga's pause and deciding it, waiting for quiet, and finding
 * a workflow's runs and children, for the scenarios of `npm run histories`.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SagaStatus } from '../../src/schemas/saga';
import { whenQuiescent } from '../../src/testing/quiescent';
import { retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from '../../src/workflows';

export const REQUEST = 'histories';
export const operator = { operator: 'ops', reason: 'recorded for the replay corpus' };

/** Waits for the run to end, whichever way. */
export async function settled(handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
}

/** Polls the saga's status until `done` holds (60 s at most). */
export async function until(handle: WorkflowHandle, what: string, done: (s: SagaStatus) => boolean): Promise<SagaStatus> {
  const deadline = Date.now() + 60_000;
  let last: SagaStatus | undefined;
  for (;;) {
    last = await handle.query(sagaStatusQuery).catch(() => last);
    if (last && done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: never ${what}; last state ${last?.state ?? 'unknown'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a pause in `state`, then decides it (by its wait id). */
export async function decide(handle: WorkflowHandle, state: 'needs-operator' | 'stuck', action: 'retry' | 'skip' | 'unwind'): Promise<void> {
  const paused = await until(handle, state, (s) => s.state === state);
  const update = { retry: retryUpdate, skip: skipUpdate, unwind: unwindUpdate }[action];
  await handle.executeUpdate(update, { args: [{ ...operator, waitId: paused.waitingFor!.waitId }] });
}

/** Waits until nothing is pending (see whenQuiescent). */
export const quiescent = (handle: WorkflowHandle) => whenQuiescent(handle, 60_000);

/** Every run of a workflow, oldest first, following each run back to the one it continued. */
export async function runsOf(c: TestWorkflowEnvironment['client'], workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for (let next: string | undefined = (await c.workflow.getHandle(workflowId).describe()).runId; next; ) {
    runs.unshift(next);
    const history = await c.workflow.getHandle(workflowId, next).fetchHistory();
    next = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

/** The workflow ids of the children a run started, in the order it started them. */
export async function childrenOf(c: TestWorkflowEnvironment['client'], workflowId: string, runId?: string): Promise<string[]> {
  const history = await c.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const id = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    return id ? [id] : [];
  });
}
