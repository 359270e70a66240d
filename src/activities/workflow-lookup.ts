/**
 * What an activity may ask Temporal about another workflow, through the worker's own client:
 * whether it still runs, and where it is. For decisions that depend on another saga's life (an
 * update a wave abandoned, the migration that marked an instance).
 */
import { Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type SagaSummary, summarize } from '../client/visibility';
import { classifiedError } from './boundary';

/** A workflow that still runs, with the saga state and step it last reported. */
export type RunningWorkflow = Pick<SagaSummary, 'workflowId' | 'state' | 'step'>;

/** The Temporal client of the worker running the current activity; refused (unknown-state) when it has none. */
export function workerClient(): Client {
  const { client, info } = Context.current();
  if (client === undefined) {
    throw classifiedError('unknown-state', `${info.activityType} needs the worker's Temporal client: create the worker with a connection`);
  }
  return client;
}

/** The workflow `workflowId` (its latest run) while it runs; undefined once it ended or if it never started. */
export async function runningWorkflow(workflowId: string): Promise<RunningWorkflow | undefined> {
  const description = await workerClient()
    .workflow.getHandle(workflowId)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  if (description?.status.name !== 'RUNNING') return undefined;
  const { state, step } = summarize(description.raw.workflowExecutionInfo ?? {});
  return { workflowId, state, step };
}
