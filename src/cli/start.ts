/**
 * `unwind start <workflowType>`: starts any workflow the worker serves — a saga the CLI has no
 * command of its own for — with its input as JSON and, optionally, the fault memo
 * `unwindFaults` (src/schemas/faults.ts), which the saga engine reads at start.
 *
 * Everything is checked before connecting (exit 2, naming the flag): the type must be exported
 * from src/workflows/index.ts (what the worker registers), `--input` and `--fault` must be JSON,
 * and the fault must match `SagaFaults`. The saga's own input schema is the workflow's to apply:
 * bad input fails the workflow at once (`InvalidInput`). There is no request identity here, as
 * there is in `unwind instance create` and its kind: each run starts a new workflow, with id
 * `<type in kebab case>/<random>` unless `--workflow-id` names one (an id in use is refused, exit 5).
 */
import type { Command } from 'commander';
import { FAULTS_MEMO_KEY, SagaFaults } from '../schemas/faults';
import { fieldProblems } from '../schemas/validation';
import type { CliContext } from './context';
import { CliError, ExitCode, usageError } from './exit-codes';
import { renderOutcome, waitForSaga, withStartOptions } from './saga-start';

interface GenericStartOptions {
  input?: string;
  fault?: string;
  workflowId?: string;
  wait?: boolean;
  json?: boolean;
}

/** The workflow types the worker registers: every function src/workflows/index.ts exports. */
export function workflowTypes(): string[] {
  // Loaded on use: the workflows (and @temporalio/workflow) only when `start` runs.
  const workflows = require('../workflows') as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
  return Object.keys(workflows)
    .filter((name) => typeof workflows[name] === 'function')
    .sort();
}

/** `diskCreate` → `disk-create`: the prefix of a generated workflow id. */
export function kebabCase(type: string): string {
  return type.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/^-/, '');
}

/** Parses a flag's JSON, or throws the usage error naming the flag. */
function jsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(`${flag} is not JSON: ${(error as Error).message}`, `quote it for the shell, e.g. ${flag} '{"name":"data-1"}'; nothing was started`);
  }
}

/** Registers `unwind start` on `program`. */
export function register(program: Command, context: CliContext): void {
  withStartOptions(program.command('start'))
    .description('start any workflow the worker serves, with JSON input and an optional fault memo (for sagas without a command of their own)')
    .argument('<workflowType>', 'the workflow function as src/workflows/index.ts exports it, e.g. diskCreate')
    .option('--input <json>', "the workflow's one argument, as JSON (left out: no argument)")
    .option('--fault <json>', `the fault memo ${FAULTS_MEMO_KEY} as JSON: failStep, failWhen (before|after), failAs (refused|needs-operator|unknown-state), holdStep, repeatActions, repeatUndos`)
    .option('--workflow-id <id>', 'the workflow id (default: <type in kebab case>/<random>); an id in use is refused')
    .addHelpText(
      'after',
      `
The input is checked by the workflow itself when it starts: bad input fails it at once
(with --wait: exit 1 and the fields named). Each run starts a new workflow: there is no
request identity, unlike 'unwind instance create' and the other starting commands.

Examples:
  $ unwind start diskCreate --input '{"name":"data-1","sizeGiB":10}' --wait
  $ unwind start diskCreate --input '{"name":"data-2","sizeGiB":10}' --fault '{"failStep":"ensure-region[1]"}' --wait
  $ unwind start diskCreate --input '{"name":"data-3","sizeGiB":10}' --fault '{"failStep":"create-disk","failAs":"needs-operator"}'
  $ unwind start instanceCreate --input '{"name":"web-1","cpus":2,"memoryGiB":4,"diskGiB":20}' --fault '{"repeatActions":{"*":2}}'`,
    )
    .action(async (type: string, opts: GenericStartOptions) => {
      // Checked before connecting: bad flags are exit 2 whether or not Temporal is up.
      const types = workflowTypes();
      if (!types.includes(type)) {
        throw usageError(`unknown workflow type '${type}'`, `the worker serves: ${types.join(', ')} (export a new one from src/workflows/index.ts); nothing was started`);
      }
      const args = opts.input === undefined ? [] : [jsonFlag('--input', opts.input)];
      let memo: Record<string, unknown> | undefined;
      if (opts.fault !== undefined) {
        const parsed = SagaFaults.safeParse(jsonFlag('--fault', opts.fault));
        if (!parsed.success) {
          const problems = fieldProblems(parsed.error).map((p) => `${p.field}: ${p.message}`);
          throw usageError(`--fault is not a valid ${FAULTS_MEMO_KEY} memo: ${problems.join('; ')}`, "see 'unwind start --help'; nothing was started");
        }
        memo = { [FAULTS_MEMO_KEY]: parsed.data };
      }

      const client = await context.temporal();
      const { newRequestId } = require('../client') as typeof import('../client'); // eslint-disable-line @typescript-eslint/no-require-imports
      const { TASK_QUEUE } = require('../temporal/worker-config') as typeof import('../temporal/worker-config'); // eslint-disable-line @typescript-eslint/no-require-imports
      const { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } = require('@temporalio/common') as typeof import('@temporalio/common'); // eslint-disable-line @typescript-eslint/no-require-imports
      const workflowId = opts.workflowId ?? `${kebabCase(type)}/${newRequestId()}`;
      try {
        await client.temporal.workflow.start(type, {
          taskQueue: TASK_QUEUE,
          workflowId,
          args,
          ...(memo && { memo }),
          // A workflow id names one run: never reused, even after it closed.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        });
      } catch (error) {
        // By name: the SDK's error class is not loaded until a command connects.
        if (!(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')) throw error;
        throw new CliError(ExitCode.Refused, `workflow id ${workflowId} is in use: a workflow was started with it before; nothing was started`, `give another --workflow-id, or see it with 'unwind show ${workflowId}'`, { cause: error });
      }
      context.note(`started ${type} ${workflowId}${memo ? ` with faults ${JSON.stringify(memo[FAULTS_MEMO_KEY])}` : ''}`);
      if (!opts.wait) {
        context.emit(opts.json, { workflowId, workflowType: type }, () => workflowId);
        return;
      }
      const ended = await waitForSaga(context, client.sagas.handle(workflowId));
      context.exitCode = ended.outcome === 'completed' ? ExitCode.Ok : ended.outcome === 'paused' ? ExitCode.NeedsOperator : ExitCode.Failed;
      context.emit(opts.json, { workflowId, workflowType: type, ...ended }, () => renderOutcome(workflowId, ended));
    });
}
