/**
 * Running unwind's workflows in tests: one bundle per test process, a worker on a given task
 * queue with whichever activities the test passes (real ones over a rack, or fakes).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowsPath } from '../temporal/worker-config';

/** A logger that drops everything: bundling logs a page per bundle at INFO. */
export const quietLogger = (() => {
  const drop = () => undefined;
  return { log: drop, trace: drop, debug: drop, info: drop, warn: drop, error: drop };
})();

let unwindBundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles src/workflows once per process (bundling takes seconds). */
export function bundleUnwindWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  unwindBundle ??= bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return unwindBundle;
}

/** A worker serving unwind's workflows on `taskQueue` with `activities`, on the env's server. */
export async function createUnwindTestWorker(
  env: TestWorkflowEnvironment,
  options: { taskQueue: string; activities: object; workflowBundle?: WorkflowBundleWithSourceMap },
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleUnwindWorkflows()),
    activities: options.activities,
  });
}
