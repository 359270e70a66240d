/**
 * The unwind saga harness: proves a saga succeeds idempotently, unwinds cleanly from every
 * step, and unwinds idempotently — against whichever Temporal environment the caller runs a
 * worker on (time-skipping test server or dev server).
 *
 * ```ts
 * const harness = createSagaHarness({ client: env.client, taskQueue });
 * await harness.unwindsFromEveryStep(diskCreate, () => ({ name: `disk-${n++}`, sizeGiB: 10 }), assertRackClean);
 * ```
 *
 * Faults are injected through the start-time memo (see `SagaFaults`), so the engine fails or
 * repeats steps deterministically and the injection is recorded in history.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import { SAGA_UNWOUND, SagaUnwoundDetails, type SagaStatus } from '../schemas/saga';
import { FAULTS_MEMO_KEY, type SagaFaults } from '../schemas/faults';
import { sagaStatusQuery } from '../workflows/saga';
import { proveSaga, type ProofReport, type ProveSagaOptions } from './prove';
import { SagaContractViolation } from './violation';

/** A saga workflow taking one params object. */
export type SagaWorkflow<P, R> = (params: P) => Promise<R>;

/** Where the harness starts sagas: a worker serving them must poll `taskQueue`. */
export interface SagaHarnessOptions {
  client: Client;
  taskQueue: string;
  /**
   * Every effect the subsystems applied: the operation and its idempotency key
   * (`<workflowId>/<step>[/…]`). When given, `succeedsIdempotently` asserts that repeating
   * actions applies no more effects per step and operation — whatever keys the step used.
   */
  appliedEffects?: () => Promise<Array<{ operation: string; key: string }>>;
  /**
   * The effects applied under `workflowId`'s keys by `steps` that no undo reverted (e.g. read
   * from the rack's ledger). When given, every unwind `proveSaga` runs must leave none from the
   * steps before the pivot: the proof rests on it, not on the caller's clean-slate check.
   */
  residue?: (workflowId: string, steps: string[]) => Promise<string[]>;
  /** How long one saga may run before the harness inspects it as stuck; 60 s unless told. */
  sagaTimeoutMs?: number;
}

/** What one harness run did, for reports. */
export interface HarnessReport {
  saga: string;
  /** The steps exercised, in the order they started. */
  steps: string[];
  /** Wall time of the whole run. */
  wallMs: number;
}

export { SagaContractViolation };

/** Creates a harness bound to a client and task queue. */
export function createSagaHarness(options: SagaHarnessOptions) {
  const timeoutMs = options.sagaTimeoutMs ?? 60_000;

  async function start<P, R>(saga: SagaWorkflow<P, R>, params: P, faults: SagaFaults, label: string) {
    return options.client.workflow.start(saga as Workflow, {
      taskQueue: options.taskQueue,
      workflowId: `harness-${saga.name}-${label}-${randomUUID().slice(0, 8)}`,
      args: [params],
      memo: { [FAULTS_MEMO_KEY]: faults },
    });
  }

  /**
   * Awaits a saga's end. A saga that turns `stuck` or `needs-operator` — or is still open after
   * the timeout — is terminated and reported with its status: it would otherwise wait forever.
   */
  async function settle<R>(handle: WorkflowHandle): Promise<{ ok: true; value: R } | { ok: false; error: unknown }> {
    const outcome = handle.result().then(
      (value) => ({ ok: true as const, value: value as R }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const settled = await Promise.race([outcome, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
      if (settled) return settled;
      const status: SagaStatus | undefined = await handle.query(sagaStatusQuery).catch(() => undefined);
      const waiting = status?.state === 'stuck' || status?.state === 'needs-operator';
      if (!waiting && Date.now() < deadline) continue;
      await handle.terminate('unwind harness: saga cannot finish on its own').catch(() => undefined);
      const why = waiting ? `is ${status.state}` : `did not finish within ${timeoutMs} ms (${status?.state ?? 'unknown state'})`;
      const at = status?.waitingFor ? ` waiting for ${status.waitingFor.actions.join('/')} on ${status.waitingFor.step}` : '';
      const error = status?.waitingFor?.error ? `: ${status.waitingFor.error.type}: ${status.waitingFor.error.message}` : '';
      throw new SagaContractViolation(`${handle.workflowId} ${why}${at}${error}`);
    }
  }

  /** How many effects each `<step> <operation>` of one saga applied. */
  async function effectCounts(workflowId: string): Promise<Map<string, number>> {
    const prefix = `${workflowId}/`;
    const counts = new Map<string, number>();
    for (const effect of (await options.appliedEffects?.()) ?? []) {
      if (!effect.key.startsWith(prefix)) continue;
      const name = `${effect.key.slice(prefix.length).split('/')[0]} ${effect.operation}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  /** The steps a successful run compensates: those before the pivot (after it, failures pause). */
  async function compensableSteps<P, R>(saga: SagaWorkflow<P, R>, params: P): Promise<string[]> {
    const handle = await start(saga, params, {}, 'discover');
    const outcome = await settle<R>(handle);
    if (!outcome.ok) throw new SagaContractViolation(`${saga.name} failed without injected faults: ${describeError(outcome.error)}`);
    const status: SagaStatus = await handle.query(sagaStatusQuery);
    return status.steps.filter((step) => !step.afterPivot).map((step) => step.name);
  }

  async function expectUnwoundAt<P, R>(saga: SagaWorkflow<P, R>, params: P, step: string, faults: SagaFaults) {
    const handle = await start(saga, params, faults, `fail-${step}`);
    const outcome = await settle<R>(handle);
    if (outcome.ok) throw new SagaContractViolation(`${saga.name} succeeded although step ${step} was made to fail`);
    const details = sagaUnwoundDetails(outcome.error);
    if (!details) throw new SagaContractViolation(`${saga.name} failed at ${step} but did not unwind: ${describeError(outcome.error)}`);
    if (details.failedStep !== step) {
      throw new SagaContractViolation(`${saga.name} was made to fail at ${step} but unwound from ${details.failedStep}`);
    }
    if (details.skipped.length > 0) {
      throw new SagaContractViolation(`${saga.name} skipped undos while unwinding from ${step}: ${JSON.stringify(details.skipped)}`);
    }
  }

  async function unwindsFrom<P, R>(
    saga: SagaWorkflow<P, R>,
    makeParams: () => P | Promise<P>,
    verifyCleanSlate: (params: P, step: string) => Promise<void>,
    undoRepeats: number,
  ): Promise<HarnessReport> {
    const started = Date.now();
    const steps = await compensableSteps(saga, await makeParams());
    if (steps.length === 0) throw new SagaContractViolation(`${saga.name} ran no steps`);
    for (const step of steps) {
      const params = await makeParams();
      const faults: SagaFaults = { failStep: step, ...(undoRepeats > 1 && { repeatUndos: { '*': undoRepeats } }) };
      await expectUnwoundAt(saga, params, step, faults);
      await verifyCleanSlate(params, step);
    }
    return { saga: saga.name, steps, wallMs: Date.now() - started };
  }

  const runner = { start, residue: options.residue, effectCounts: options.appliedEffects ? effectCounts : undefined, timeoutMs };

  return {
    /**
     * Every path of the saga in one call: fails before and after each step's effect, undos run
     * twice, operator pauses decided both ways, cancellation with each step in flight, failures
     * after the pivot retried — with the engine's bookkeeping and the residue checked after every
     * unwind. Prints a table of step × mode → outcome; see src/testing/prove.ts.
     * @throws SagaContractViolation listing every run that broke the contract.
     */
    proveSaga<P, R>(saga: SagaWorkflow<P, R>, makeParams: () => P | Promise<P>, proveOptions?: ProveSagaOptions<P, R>): Promise<ProofReport> {
      return proveSaga(runner, saga, makeParams, proveOptions);
    },

    /**
     * Runs the saga with every action executed twice; it must succeed and pass `verify`. When
     * `appliedEffects` is configured, it also runs the saga once plainly (fresh params) and
     * asserts that repeating the actions changed no step's count of applied effects: a step
     * may fan out to many keys, but running it twice must not add one.
     */
    async succeedsIdempotently<P, R>(
      saga: SagaWorkflow<P, R>,
      makeParams: () => P | Promise<P>,
      verify: (result: R, params: P) => Promise<void>,
    ): Promise<HarnessReport> {
      const started = Date.now();
      const run = async (faults: SagaFaults, label: string) => {
        const params = await makeParams();
        const handle = await start(saga, params, faults, label);
        const outcome = await settle<R>(handle);
        if (!outcome.ok) throw new SagaContractViolation(`${saga.name} failed (${label}): ${describeError(outcome.error)}`);
        return { handle, params, value: outcome.value };
      };
      const twice = await run({ repeatActions: { '*': 2 } }, 'twice');
      await verify(twice.value, twice.params);
      if (options.appliedEffects) {
        const once = await run({}, 'once');
        const [expected, actual] = [await effectCounts(once.handle.workflowId), await effectCounts(twice.handle.workflowId)];
        if (actual.size === 0) throw new SagaContractViolation(`${saga.name} applied no keyed effect under ${twice.handle.workflowId}`);
        const added = [...actual].filter(([effect, count]) => count > (expected.get(effect) ?? 0));
        if (added.length > 0) {
          const list = added.map(([effect, count]) => `${effect} ×${count} (once: ×${expected.get(effect) ?? 0})`).join(', ');
          throw new SagaContractViolation(`${saga.name} applied more effects when its actions ran twice (step operation): ${list}`);
        }
      }
      const status: SagaStatus = await twice.handle.query(sagaStatusQuery);
      return { saga: saga.name, steps: status.steps.map((s) => s.name), wallMs: Date.now() - started };
    },

    /**
     * For every step of a successful run: fresh params, an injected failure at that step; the
     * saga must unwind *from that step*, skip no undo, and leave `verifyCleanSlate` satisfied.
     */
    unwindsFromEveryStep<P, R>(
      saga: SagaWorkflow<P, R>,
      makeParams: () => P | Promise<P>,
      verifyCleanSlate: (params: P, step: string) => Promise<void>,
    ): Promise<HarnessReport> {
      return unwindsFrom(saga, makeParams, verifyCleanSlate, 1);
    },

    /** As {@link unwindsFromEveryStep}, with every undo run twice. */
    unwindsIdempotently<P, R>(
      saga: SagaWorkflow<P, R>,
      makeParams: () => P | Promise<P>,
      verifyCleanSlate: (params: P, step: string) => Promise<void>,
    ): Promise<HarnessReport> {
      return unwindsFrom(saga, makeParams, verifyCleanSlate, 2);
    },
  };
}

/** The harness bound to a client and task queue; see {@link createSagaHarness}. */
export type SagaHarness = ReturnType<typeof createSagaHarness>;

/** The `SagaUnwound` details of a failed saga's error, or `undefined` if it did not unwind. */
export function sagaUnwoundDetails(error: unknown): SagaUnwoundDetails | undefined {
  const cause = error instanceof WorkflowFailedError ? error.cause : error;
  if (!(cause instanceof ApplicationFailure) || cause.type !== SAGA_UNWOUND) return undefined;
  return SagaUnwoundDetails.parse(cause.details?.[0]);
}

function describeError(error: unknown): string {
  if (error instanceof WorkflowFailedError && error.cause) return `${error.cause.name}: ${error.cause.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
