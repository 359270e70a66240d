/**
 * `unwind start <workflowType>`: starts any workflow the worker serves — a saga the CLI has no
 * command of its own for — with its input as JSON and, optionally, the fault memo
 * `unwindFaults` (src/schemas/faults.ts), which the saga engine reads at start.
 *
 * Everything is checked before connecting (exit 2, naming the flag): the type must be one the
 * worker serves (src/schemas/workflow-types.ts: no workflow code is loaded), `--input` and
 * `--fault` must be JSON, and the fault must pass the client's check of the memo. The start
 * itself is the client's `sagas.start`. The saga's own input schema is the workflow's to apply:
 * bad input fails the workflow at once (`InvalidInput`). There is no request identity here, as
 * there is in `unwind instance create` and its kind: each run starts a new workflow, with id
 * `<type in kebab case>/<random>` unless `--workflow-id` names one (an id in use is refused, exit 5).
 */
import type { Command } from 'commander';
import type { SagaHandle } from '../client';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../schemas/faults';
import { WORKFLOW_TYPES, isWorkflowType } from '../schemas/workflow-types';
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

/**
 * The fault memo of `--fault`, checked as the client checks it (`faultsMemo`) but before
 * connecting: a fault the schema refuses is exit 2, naming the flag.
 */
function checkedFaults(text: string): SagaFaults {
  const faults = jsonFlag('--fault', text);
  // The client's check: loaded here, as the command connects next anyway.
  const { faultsMemo } = require('../client/faults') as typeof import('../client/faults'); // eslint-disable-line @typescript-eslint/no-require-imports
  try {
    faultsMemo(faults, 'start');
  } catch (error) {
    if (!(error instanceof Error && error.name === 'InvalidRequestError')) throw error;
    const problems = (error as Error & { problems: readonly { field: string; message: string }[] }).problems;
    const text = problems.map((p) => `${p.field.replace(/^faults\.?/, '') || '(memo)'}: ${p.message}`).join('; ');
    throw usageError(`--fault is not a valid ${FAULTS_MEMO_KEY} memo: ${text}`, "see 'unwind start --help'; nothing was started");
  }
  return faults as SagaFaults;
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
      if (!isWorkflowType(type)) {
        throw usageError(`unknown workflow type '${type}'`, `the worker serves: ${WORKFLOW_TYPES.join(', ')} (export a new one from src/workflows/index.ts and list it in src/schemas/workflow-types.ts); nothing was started`);
      }
      const input = opts.input === undefined ? undefined : jsonFlag('--input', opts.input);
      const faults = opts.fault === undefined ? undefined : checkedFaults(opts.fault);

      const client = await context.temporal();
      let handle: SagaHandle;
      try {
        handle = await client.sagas.start(type, { input, faults, ...(opts.workflowId !== undefined && { workflowId: opts.workflowId }) });
      } catch (error) {
        // By name: the SDK's error class is not loaded until a command connects.
        if (!(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')) throw error;
        const { workflowId } = error as Error & { workflowId: string };
        throw new CliError(ExitCode.Refused, `workflow id ${workflowId} is in use: a workflow was started with it before; nothing was started`, `give another --workflow-id, or see it with 'unwind show ${workflowId}'`, { cause: error });
      }
      const { workflowId } = handle;
      context.note(`started ${type} ${workflowId}${faults ? ` with faults ${JSON.stringify(faults)}` : ''}`);
      if (!opts.wait) {
        context.emit(opts.json, { workflowId, workflowType: type }, () => workflowId);
        return;
      }
      const ended = await waitForSaga(context, handle);
      context.exitCode = ended.outcome === 'completed' ? ExitCode.Ok : ended.outcome === 'paused' ? ExitCode.NeedsOperator : ExitCode.Failed;
      context.emit(opts.json, { workflowId, workflowType: type, ...ended }, () => renderOutcome(workflowId, ended));
    });
}
