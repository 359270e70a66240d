/**
 * What an activity may ask Temporal about another workflow, through the worker's own client:
 * whether it still runs, and where it is. For decisions that depend on another saga's life (an
 * update a wave abandoned, the migration that marked an instance).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { type SagaSummary, summarize } from '../client/visibility';
import { classifiedError } from './boundary';

/** A workflow that still runs, with the saga state and step it last reported. */
export type RunningWorkflow = Pick<SagaSummary, 'workflowId' | 'state' | 'step'>;

/** The workflow `workflowId` (its latest run) while it runs; undefined once it ended or if it never started. */
export async function runningWorkflow(workflowId: string, activity: string): Promise<RunningWorkflow | undefined> {
  const client = Context.current().client;
  if (client === undefined) {
    throw classifiedError('unknown-state', `${activity} needs the worker's Temporal client: create the worker with a connection`);
  }
  const description = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  if (description?.status.name !== 'RUNNING') return undefined;
  const { state, step } = summarize(description.raw.workflowExecutionInfo ?? {});
  return { workflowId, state, step };
}
