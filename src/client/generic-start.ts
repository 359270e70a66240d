/**
 * Starting any workflow the worker serves by its type (`sagas.start`, `unwind start`): for a saga
 * without a family API of its own, or a run with injected faults. Unlike a family's start there is
 * no request identity: each call starts a new workflow.
 */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WORKFLOW_TYPES, isWorkflowType } from '../schemas/workflow-types';
import { InvalidRequestError } from './errors';
import { type StartOptions, faultsMemo } from './faults';
import { type SagaHandle, sagaHandle } from './handle';
import { newRequestId } from './request-identity';

/** Options of {@link SagaApi.start}. */
export interface GenericStartOptions extends StartOptions {
  /** The workflow's one argument; left out, it gets none. Its own schema checks it when it starts. */
  input?: unknown;
  /** The workflow id; `<type in kebab case>/<random>` (`disk-create/k3j9x2abqz1m`) unless given. */
  workflowId?: string;
}

/** `diskCreate` → `disk-create`: the prefix of a generated workflow id. */
export function kebabCase(type: string): string {
  return type.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/^-/, '');
}

/**
 * Starts `workflowType` on `taskQueue`: see {@link SagaApi.start}.
 * @throws InvalidRequestError for a type the worker does not serve or bad faults;
 *   WorkflowExecutionAlreadyStartedError for a workflow id in use. Nothing starts then.
 */
export async function startWorkflow<R>(temporal: Client, taskQueue: string, workflowType: string, options: GenericStartOptions = {}): Promise<SagaHandle<R>> {
  if (!isWorkflowType(workflowType)) {
    throw new InvalidRequestError('sagas.start', [{ field: 'workflowType', message: `unknown workflow type '${workflowType}': the worker serves ${WORKFLOW_TYPES.join(', ')}` }]);
  }
  const faults = faultsMemo(options.faults, 'sagas.start');
  const workflowId = options.workflowId ?? `${kebabCase(workflowType)}/${newRequestId()}`;
  await temporal.workflow.start(workflowType, {
    taskQueue,
    workflowId,
    args: options.input === undefined ? [] : [options.input],
    ...(Object.keys(faults).length > 0 && { memo: faults }),
    // A workflow id names one run: never reused, even after it closed.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
  return sagaHandle<R>(temporal, workflowId, false);
}
